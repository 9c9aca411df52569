// AxVCpuExitReason: why AxVCpu::run returned, decoded by the arch policy into
// an architecture-neutral value the VMM can act on.
//
// One type list (exit::Reasons) defines both the std::variant alternatives and
// their log names, so the two cannot drift apart. Every payload prints as
// `Name { field: value }` through its Hana member list.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/type.hpp>

#include "axvcpu/addr.hpp"
#include "axvcpu/fmt.hpp"
#include "axvcpu/reflect.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

// Width of a guest memory, port or register access. Eight bytes wide on
// purpose: in the exit-reason variant a width shares its offset with a
// Hypercall argument, and the compiler keeps a variant's fields in
// registers only where the alternatives agree on the size at each offset.
enum class AccessWidth : std::uint64_t { Byte, Word, Dword, Qword };

[[nodiscard]] constexpr usize size_in_bytes(AccessWidth width) noexcept { return usize{1} << static_cast<unsigned>(width); }
[[nodiscard]] constexpr usize size_in_bits(AccessWidth width) noexcept { return size_in_bytes(width) * 8; }
// The bits an access of `width` carries, in the low bits of a word.
[[nodiscard]] constexpr std::uint64_t width_mask(AccessWidth width) noexcept {
    return ~std::uint64_t{0} >> (64 - size_in_bits(width));
}

// 1, 2, 4 or 8 bytes; any other size yields no value.
[[nodiscard]] constexpr std::optional<AccessWidth> access_width_from_bytes(usize bytes) noexcept {
    switch (bytes) {
        case 1: return AccessWidth::Byte;
        case 2: return AccessWidth::Word;
        case 4: return AccessWidth::Dword;
        case 8: return AccessWidth::Qword;
        default: return std::nullopt;
    }
}

template <fmt::Sink S>
constexpr void print_to(S& out, AccessWidth width) {
    constexpr std::array<std::string_view, 4> names{"Byte", "Word", "Dword", "Qword"};
    out.write(names[static_cast<usize>(width) & 3]);
}

// A bool that is eight bytes wide, for flags in exit reasons, for the same
// reason as AccessWidth. It converts to
// and from bool, so it reads and compares like one.
// Made from a bool only: a pointer or an integer is not silently a flag.
class WideBool {
public:
    constexpr WideBool() noexcept = default;
    template <std::same_as<bool> B>
    constexpr WideBool(B value) noexcept : bits_(value ? 1 : 0) {}
    constexpr operator bool() const noexcept { return bits_ != 0; }

private:
    std::uint64_t bits_ = 0;
};
static_assert(sizeof(WideBool) == sizeof(std::uint64_t));

// A template, so that nothing converts to WideBool to be printed by it.
template <fmt::Sink S, std::same_as<WideBool> T>
constexpr void print_to(S& out, T value) {
    fmt::write_bool(out, value);
}

// The access that faulted in a nested page fault (axaddrspace's MappingFlags).
struct MappingFlags {
    static constexpr std::uint32_t READ = 1 << 0;
    static constexpr std::uint32_t WRITE = 1 << 1;
    static constexpr std::uint32_t EXECUTE = 1 << 2;
    static constexpr std::uint32_t USER = 1 << 3;
    static constexpr std::uint32_t DEVICE = 1 << 4;
    static constexpr std::uint32_t UNCACHED = 1 << 5;

    std::uint32_t bits = 0;

    [[nodiscard]] constexpr bool contains(std::uint32_t flags) const noexcept { return (bits & flags) == flags; }
    constexpr bool operator==(const MappingFlags&) const noexcept = default;
};

// Prints as `READ | WRITE`.
template <fmt::Sink S>
constexpr void print_to(S& out, MappingFlags flags) {
    constexpr std::array<std::string_view, 6> names{"READ", "WRITE", "EXECUTE", "USER", "DEVICE", "UNCACHED"};
    bool first = true;
    for (usize bit = 0; bit < names.size(); ++bit) {
        if ((flags.bits >> bit & 1) == 0) continue;
        if (!first) out.write(" | "sv);
        first = false;
        out.write(names[bit]);
    }
    if (first) out.write("NONE"sv);
}

// A system register number. On aarch64 it is laid out as in ESR_EL2's ISS for
// MSR/MRS traps (op0, op2, op1, CRn, CRm); on x86 it is the MSR index.
struct SysRegAddr {
    usize value = 0;
    constexpr bool operator==(const SysRegAddr&) const noexcept = default;
};

template <fmt::Sink S>
constexpr void print_to(S& out, SysRegAddr addr) {
    out.write("SysReg:"sv);
    fmt::write_hex(out, addr.value);
}

using Port = std::uint16_t;

namespace exit {

// The generic printer (reflect.hpp) lives in namespace axvcpu; this makes
// ADL find it for the payloads declared here. Each payload compares member
// by member (a defaulted operator==).
using axvcpu::print_to;

struct Hypercall {
    static constexpr std::string_view type_name = "Hypercall";
    std::uint64_t nr = 0;
    std::array<std::uint64_t, 6> args{};
    constexpr bool operator==(const Hypercall&) const noexcept = default;
};
struct MmioRead {
    static constexpr std::string_view type_name = "MmioRead";
    GuestPhysAddr addr;
    AccessWidth width = AccessWidth::Byte;
    usize reg = 0;                              // destination general-purpose register
    AccessWidth reg_width = AccessWidth::Qword;  // width of that register as the instruction uses it
    WideBool signed_ext = false;                // sign-extend the loaded value to reg_width
    constexpr bool operator==(const MmioRead&) const noexcept = default;
};
struct MmioWrite {
    static constexpr std::string_view type_name = "MmioWrite";
    GuestPhysAddr addr;
    AccessWidth width = AccessWidth::Byte;
    std::uint64_t data = 0;
    constexpr bool operator==(const MmioWrite&) const noexcept = default;
};
struct SysRegRead {
    static constexpr std::string_view type_name = "SysRegRead";
    SysRegAddr addr;
    usize reg = 0;  // destination general-purpose register
    constexpr bool operator==(const SysRegRead&) const noexcept = default;
};
struct SysRegWrite {
    static constexpr std::string_view type_name = "SysRegWrite";
    SysRegAddr addr;
    std::uint64_t value = 0;
    constexpr bool operator==(const SysRegWrite&) const noexcept = default;
};
struct IoRead {
    static constexpr std::string_view type_name = "IoRead";
    Port port = 0;
    AccessWidth width = AccessWidth::Byte;
    constexpr bool operator==(const IoRead&) const noexcept = default;
};
struct IoWrite {
    static constexpr std::string_view type_name = "IoWrite";
    Port port = 0;
    AccessWidth width = AccessWidth::Byte;
    std::uint64_t data = 0;
    constexpr bool operator==(const IoWrite&) const noexcept = default;
};
struct ExternalInterrupt {
    static constexpr std::string_view type_name = "ExternalInterrupt";
    std::uint64_t vector = 0;
    constexpr bool operator==(const ExternalInterrupt&) const noexcept = default;
};
// A stage-2 fault that is not an emulatable MMIO access.
struct NestedPageFault {
    static constexpr std::string_view type_name = "NestedPageFault";
    GuestPhysAddr addr;
    MappingFlags access_flags;
    constexpr bool operator==(const NestedPageFault&) const noexcept = default;
};
struct Halt {
    static constexpr std::string_view type_name = "Halt";
    constexpr bool operator==(const Halt&) const noexcept = default;
};
struct CpuUp {
    static constexpr std::string_view type_name = "CpuUp";
    std::uint64_t target_cpu = 0;  // MPIDR on aarch64, hart id on riscv64, APIC id on x86
    GuestPhysAddr entry_point;
    std::uint64_t arg = 0;
    constexpr bool operator==(const CpuUp&) const noexcept = default;
};
struct CpuDown {
    static constexpr std::string_view type_name = "CpuDown";
    std::uint64_t state = 0;  // arch-specific power state
    constexpr bool operator==(const CpuDown&) const noexcept = default;
};
struct SystemDown {
    static constexpr std::string_view type_name = "SystemDown";
    constexpr bool operator==(const SystemDown&) const noexcept = default;
};
// The exit needed no VMM action (already handled inside the arch policy).
struct Nothing {
    static constexpr std::string_view type_name = "Nothing";
    constexpr bool operator==(const Nothing&) const noexcept = default;
};
struct FailEntry {
    static constexpr std::string_view type_name = "FailEntry";
    std::uint64_t hardware_entry_failure_reason = 0;
    constexpr bool operator==(const FailEntry&) const noexcept = default;
};
struct SendIPI {
    static constexpr std::string_view type_name = "SendIPI";
    std::uint64_t target_cpu = 0;
    std::uint64_t target_cpu_aux = 0;  // arch-specific, e.g. the target list of ICC_SGI1R_EL1
    bool send_to_all = false;
    bool send_to_self = false;
    std::uint64_t vector = 0;
    constexpr bool operator==(const SendIPI&) const noexcept = default;
};
struct Idle {
    static constexpr std::string_view type_name = "Idle";
    constexpr bool operator==(const Idle&) const noexcept = default;
};
struct PreemptionTimer {
    static constexpr std::string_view type_name = "PreemptionTimer";
    constexpr bool operator==(const PreemptionTimer&) const noexcept = default;
};
struct InterruptEnd {
    static constexpr std::string_view type_name = "InterruptEnd";
    std::optional<std::uint64_t> vector;  // none when the hardware does not say which
    constexpr bool operator==(const InterruptEnd&) const noexcept = default;
};

// The table: alternative order here is the variant's index order. A plain
// parameter pack, from which the variant, its names and the Hana type list
// below all come: no Hana algorithm runs to build the variant.
template <class... Reason>
struct ReasonList {
    using Variant = std::variant<Reason...>;
    static constexpr std::array<std::string_view, sizeof...(Reason)> names{Reason::type_name...};
    static constexpr auto hana_types() { return boost::hana::make_basic_tuple(boost::hana::type_c<Reason>...); }
};
using Reasons = ReasonList<Hypercall, MmioRead, MmioWrite, SysRegRead, SysRegWrite, IoRead, IoWrite, ExternalInterrupt,
                           NestedPageFault, Halt, CpuUp, CpuDown, SystemDown, Nothing, FailEntry, SendIPI, Idle,
                           PreemptionTimer, InterruptEnd>;

// The same list as Hana types (hana::basic_tuple of hana::type_c), for code
// that walks the kinds with Hana.
inline constexpr auto reason_types = Reasons::hana_types();

inline constexpr auto reason_names = Reasons::names;

}  // namespace exit

namespace detail {
using ExitReasonVariant = exit::Reasons::Variant;
}  // namespace detail

// A std::variant of the payloads above (usable with std::visit), plus the
// name of the alternative it holds.
class AxVCpuExitReason : public detail::ExitReasonVariant {
public:
    using detail::ExitReasonVariant::ExitReasonVariant;

    [[nodiscard]] constexpr std::string_view name() const noexcept { return exit::reason_names[index()]; }

    template <class Payload>
    [[nodiscard]] constexpr bool is() const noexcept {
        return std::holds_alternative<Payload>(*this);
    }
    // The payload if this exit is of that kind, else nullptr.
    template <class Payload>
    [[nodiscard]] constexpr const Payload* get_if() const noexcept {
        return std::get_if<Payload>(this);
    }
};

template <fmt::Sink S>
constexpr void print_to(S& out, const AxVCpuExitReason& reason) {
    std::visit([&](const auto& payload) { print_to(out, payload); }, reason);
}

}  // namespace axvcpu

AXVCPU_ADAPT_STRUCT(axvcpu::exit::Hypercall, nr, args);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::MmioRead, addr, width, reg, reg_width, signed_ext);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::MmioWrite, addr, width, data);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::SysRegRead, addr, reg);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::SysRegWrite, addr, value);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::IoRead, port, width);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::IoWrite, port, width, data);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::ExternalInterrupt, vector);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::NestedPageFault, addr, access_flags);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::Halt);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::CpuUp, target_cpu, entry_point, arg);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::CpuDown, state);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::SystemDown);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::Nothing);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::FailEntry, hardware_entry_failure_reason);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::SendIPI, target_cpu, target_cpu_aux, send_to_all, send_to_self, vector);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::Idle);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::PreemptionTimer);
AXVCPU_ADAPT_STRUCT(axvcpu::exit::InterruptEnd, vector);
