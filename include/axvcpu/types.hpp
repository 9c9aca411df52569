// Identifier types shared by the VMM, the host API and the arch policies.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
// For std::forward_iterator_tag alone, <iterator> would parse the stream
// iterators, <streambuf> and the locale machinery: over a hundred headers,
// more than the rest of the library's std includes. libstdc++ (the standard
// library of every compiler the project builds with, GCC's and Clang's alike)
// keeps the iterator tags in a header of their own.
#if defined(__GLIBCXX__) && __has_include(<bits/stl_iterator_base_types.h>)
#include <bits/stl_iterator_base_types.h>
#else
#include <iterator>
#endif

#include "axvcpu/fmt.hpp"

namespace axvcpu {

using usize = std::size_t;
using VMId = usize;
using VCpuId = usize;
using InterruptVector = std::uint8_t;

inline constexpr usize MAX_VCPU_NUM = 64;

// A set of vCPU ids below MAX_VCPU_NUM, one bit each. Ids outside the range
// are never members: inserting one is refused (returns false), testing one
// answers false, so a bad id coming from a guest cannot corrupt the mask.
class VCpuSet {
public:
    using Bits = std::uint64_t;
    static_assert(sizeof(Bits) * 8 == MAX_VCPU_NUM, "VCpuSet holds exactly MAX_VCPU_NUM bits");

    constexpr VCpuSet() noexcept = default;
    static constexpr VCpuSet from_bits(Bits bits) noexcept { return VCpuSet(bits); }
    // The first `count` vCPUs (all of them when count >= MAX_VCPU_NUM).
    static constexpr VCpuSet first_n(usize count) noexcept {
        return VCpuSet(count >= MAX_VCPU_NUM ? ~Bits{0} : (Bits{1} << count) - 1);
    }
    static constexpr VCpuSet only(VCpuId id) noexcept {
        VCpuSet set;
        set.insert(id);
        return set;
    }

    static constexpr bool in_range(VCpuId id) noexcept { return id < MAX_VCPU_NUM; }

    constexpr bool insert(VCpuId id) noexcept {
        if (!in_range(id)) return false;
        bits_ |= Bits{1} << id;
        return true;
    }
    constexpr bool remove(VCpuId id) noexcept {
        if (!in_range(id)) return false;
        bits_ &= ~(Bits{1} << id);
        return true;
    }
    [[nodiscard]] constexpr bool contains(VCpuId id) const noexcept {
        return in_range(id) && ((bits_ >> id) & 1) != 0;
    }
    [[nodiscard]] constexpr usize count() const noexcept { return static_cast<usize>(std::popcount(bits_)); }
    [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
    [[nodiscard]] constexpr Bits bits() const noexcept { return bits_; }

    // Iterates member ids in ascending order.
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = VCpuId;
        using difference_type = std::ptrdiff_t;
        using pointer = const VCpuId*;
        using reference = VCpuId;

        constexpr iterator() noexcept = default;
        constexpr explicit iterator(Bits rest) noexcept : rest_(rest) {}
        constexpr VCpuId operator*() const noexcept { return static_cast<VCpuId>(std::countr_zero(rest_)); }
        constexpr iterator& operator++() noexcept {
            rest_ &= rest_ - 1;  // clear the lowest member
            return *this;
        }
        constexpr iterator operator++(int) noexcept {
            iterator before = *this;
            ++*this;
            return before;
        }
        constexpr bool operator==(const iterator&) const noexcept = default;

    private:
        Bits rest_ = 0;
    };
    [[nodiscard]] constexpr iterator begin() const noexcept { return iterator(bits_); }
    [[nodiscard]] constexpr iterator end() const noexcept { return iterator(0); }

    constexpr VCpuSet operator|(VCpuSet other) const noexcept { return VCpuSet(bits_ | other.bits_); }
    constexpr VCpuSet operator&(VCpuSet other) const noexcept { return VCpuSet(bits_ & other.bits_); }
    constexpr VCpuSet operator-(VCpuSet other) const noexcept { return VCpuSet(bits_ & ~other.bits_); }
    constexpr bool operator==(const VCpuSet&) const noexcept = default;

private:
    constexpr explicit VCpuSet(Bits bits) noexcept : bits_(bits) {}
    Bits bits_ = 0;
};

// Prints as `{0, 3, 63}`.
template <fmt::Sink S>
constexpr void print_to(S& out, const VCpuSet& set) {
    out.write("{"sv);
    bool first = true;
    for (VCpuId id : set) {
        if (!first) out.write(", "sv);
        first = false;
        fmt::write_dec(out, id);
    }
    out.write("}"sv);
}

}  // namespace axvcpu
