// Typed addresses and address ranges.
//
// Host-physical, host-virtual, guest-physical and guest-virtual addresses are
// distinct types: passing a GPA where an HPA is expected is a compile error,
// not a silently wrong page-table entry. Each kind prints with its own prefix
// (`GPA:0x80200000`) so exit traces say which address space they mean.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

#include "axvcpu/fmt.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

template <class Kind>
class Address {
public:
    constexpr Address() noexcept = default;
    constexpr explicit Address(usize value) noexcept : value_(value) {}

    [[nodiscard]] constexpr usize value() const noexcept { return value_; }

    constexpr Address operator+(usize offset) const noexcept { return Address(value_ + offset); }
    constexpr Address operator-(usize offset) const noexcept { return Address(value_ - offset); }
    constexpr Address& operator+=(usize offset) noexcept {
        value_ += offset;
        return *this;
    }
    // Distance between two addresses of the same kind.
    constexpr usize operator-(Address other) const noexcept { return value_ - other.value_; }

    // `align` must be a power of two.
    [[nodiscard]] constexpr Address align_down(usize align) const noexcept { return Address(value_ & ~(align - 1)); }
    [[nodiscard]] constexpr Address align_up(usize align) const noexcept {
        return Address((value_ + align - 1) & ~(align - 1));
    }
    [[nodiscard]] constexpr bool is_aligned(usize align) const noexcept { return (value_ & (align - 1)) == 0; }
    [[nodiscard]] constexpr usize page_offset(usize page_size = 4096) const noexcept {
        return value_ & (page_size - 1);
    }

    constexpr auto operator<=>(const Address&) const noexcept = default;

private:
    usize value_ = 0;
};

struct HostPhysKind {
    static constexpr std::string_view prefix = "HPA:";
};
struct HostVirtKind {
    static constexpr std::string_view prefix = "HVA:";
};
struct GuestPhysKind {
    static constexpr std::string_view prefix = "GPA:";
};
struct GuestVirtKind {
    static constexpr std::string_view prefix = "GVA:";
};

using HostPhysAddr = Address<HostPhysKind>;
using HostVirtAddr = Address<HostVirtKind>;
using GuestPhysAddr = Address<GuestPhysKind>;
using GuestVirtAddr = Address<GuestVirtKind>;

template <fmt::Sink S, class Kind>
constexpr void print_to(S& out, Address<Kind> addr) {
    out.write(Kind::prefix);
    fmt::write_hex(out, addr.value());
}

// Half-open range [start, end). An inverted or address-space-wrapping range
// is unrepresentable: the factories refuse one (no value) rather than clamp
// it, since a clamped guest- or config-supplied range would silently cover
// something else than was asked.
template <class Addr>
class AddrRange {
public:
    constexpr AddrRange() noexcept = default;
    static constexpr std::optional<AddrRange> from_bounds(Addr start, Addr end) noexcept {
        if (end < start) return std::nullopt;
        return AddrRange(start, end);
    }
    static constexpr std::optional<AddrRange> from_start_size(Addr start, usize size) noexcept {
        if (size > ~usize{0} - start.value()) return std::nullopt;
        return AddrRange(start, start + size);
    }

    [[nodiscard]] constexpr Addr start() const noexcept { return start_; }
    [[nodiscard]] constexpr Addr end() const noexcept { return end_; }
    [[nodiscard]] constexpr usize size() const noexcept { return end_ - start_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return start_ == end_; }
    [[nodiscard]] constexpr bool contains(Addr addr) const noexcept { return start_ <= addr && addr < end_; }
    [[nodiscard]] constexpr bool contains(const AddrRange& other) const noexcept {
        return start_ <= other.start_ && other.end_ <= end_;
    }
    [[nodiscard]] constexpr bool overlaps(const AddrRange& other) const noexcept {
        return start_ < other.end_ && other.start_ < end_;
    }

    constexpr bool operator==(const AddrRange&) const noexcept = default;

private:
    constexpr AddrRange(Addr start, Addr end) noexcept : start_(start), end_(end) {}
    Addr start_{};
    Addr end_{};
};

using GuestPhysAddrRange = AddrRange<GuestPhysAddr>;
using GuestVirtAddrRange = AddrRange<GuestVirtAddr>;
using HostPhysAddrRange = AddrRange<HostPhysAddr>;

// Prints as `GPA:0x1000..GPA:0x2000`.
template <fmt::Sink S, class Addr>
constexpr void print_to(S& out, const AddrRange<Addr>& range) {
    print_to(out, range.start());
    out.write(".."sv);
    print_to(out, range.end());
}

}  // namespace axvcpu
