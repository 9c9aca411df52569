// Pure decoding of an EL2 trap (ESR_EL2, FAR_EL2, HPFAR_EL2 and the guest's
// general-purpose registers) into an AxVCpuExitReason.
//
// No assembly and no system-register access here, so every decoder is
// tested on the host with recorded syndrome values.
//
// The contract, where it differs from upstream arm_vcpu:
// - A stage-2 data abort is an MMIO access only when it is a translation
//   fault with a valid instruction syndrome (ESR.ISV = 1), not a cache
//   maintenance operation and not a stage-1 table walk. Everything else the
//   guest did to memory (ldp/stp and other ISV = 0 accesses, permission and
//   access-flag faults, address-size faults, table walks into unmapped
//   memory, instruction fetches) becomes NestedPageFault with the GPA and the
//   access kind, with the PC left on the faulting instruction, and
//   classify_abort() names the reason. An access is never guessed.
// - MMIO loads carry SSE (sign extension) and SF (register width);
//   mmio_load_value() (and VCpu::complete_mmio_read) applies them, so a VMM
//   need not.
// - The PC is advanced exactly for what the VMM is expected to emulate
//   (MMIO, system registers, WFI/WFE, trapped SMC); an HVC has already moved
//   ELR_EL2 past itself; faults leave it on the instruction.
// - Exceptions this policy does not model are a DecodeError, never a resume.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/success_failure.hpp>

#include "arch/aarch64/psci.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/fmt.hpp"
#include "axvcpu/reflect.hpp"

namespace axvcpu::aarch64 {

// x0..x30 of the guest, as the world switch saved them.
using Gprs = std::array<std::uint64_t, 31>;

// Register number 31 in a load/store or MSR/MRS encoding is xzr/wzr.
inline constexpr usize zero_register = 31;

[[nodiscard]] constexpr std::uint64_t read_gpr(const Gprs& x, usize index) noexcept {
    return index < x.size() ? x[index] : 0;
}

namespace esr {
[[nodiscard]] constexpr std::uint32_t ec(std::uint64_t esr) noexcept { return static_cast<std::uint32_t>(esr >> 26) & 0x3F; }
[[nodiscard]] constexpr std::uint32_t iss(std::uint64_t esr) noexcept { return static_cast<std::uint32_t>(esr) & 0x1FF'FFFF; }

// Exception classes a lower EL can raise at EL2 that this policy handles.
inline constexpr std::uint32_t ec_unknown = 0x00;
inline constexpr std::uint32_t ec_wfx = 0x01;
inline constexpr std::uint32_t ec_hvc64 = 0x16;
inline constexpr std::uint32_t ec_smc64 = 0x17;
inline constexpr std::uint32_t ec_sysreg = 0x18;
inline constexpr std::uint32_t ec_iabt_lower = 0x20;
inline constexpr std::uint32_t ec_dabt_lower = 0x24;

// Data/instruction abort ISS fields.
inline constexpr std::uint32_t isv = 1u << 24;
inline constexpr std::uint32_t sse = 1u << 21;
inline constexpr std::uint32_t sf = 1u << 15;
inline constexpr std::uint32_t cm = 1u << 8;
inline constexpr std::uint32_t s1ptw = 1u << 7;
inline constexpr std::uint32_t wnr = 1u << 6;
[[nodiscard]] constexpr std::uint32_t sas(std::uint32_t iss) noexcept { return (iss >> 22) & 3; }
[[nodiscard]] constexpr usize srt(std::uint32_t iss) noexcept { return (iss >> 16) & 0x1F; }
[[nodiscard]] constexpr std::uint32_t fsc(std::uint32_t iss) noexcept { return iss & 0x3F; }
// The fault status code's type, without its level bits (ARM DDI 0487, ISS
// encoding for a Data Abort, DFSC).
inline constexpr std::uint32_t fsc_type = 0x3C;
inline constexpr std::uint32_t fsc_address_size = 0x00;
inline constexpr std::uint32_t fsc_translation = 0x04;
inline constexpr std::uint32_t fsc_access_flag = 0x08;
inline constexpr std::uint32_t fsc_permission = 0x0C;

// run()'s two inline exits are told from every other by one compare of
// the syndrome from bit 24 up (esr >> 24) with these: EC, IL and ISS bit
// 24, every bit above the EC clear. Bit 24 is ISV for a data abort, so the
// compare tests it as well (the EC alone would leave it to a test of its
// own); it is RES0 for an HVC. IL is 1 for both: ARM DDI 0487 (ESR_EL2.IL)
// gives 1 for a trapped 32-bit instruction, which every A64 instruction
// is. A syndrome with ISS2 (bits 55:32) or bit 63 (run_guest's
// non-synchronous exits) set matches neither and decodes out of line.
inline constexpr std::uint64_t il = std::uint64_t{1} << 25;  // a 32-bit instruction
// `bit24` is the ISS bit in place: 0 or 1 << 24.
[[nodiscard]] constexpr std::uint64_t syndrome_from_bit24(std::uint32_t ec, std::uint32_t bit24) noexcept {
    return (std::uint64_t{ec} << 26 | il | bit24) >> 24;
}
inline constexpr std::uint64_t hvc64_from_bit24 = syndrome_from_bit24(ec_hvc64, 0);
inline constexpr std::uint64_t dabt_isv_from_bit24 = syndrome_from_bit24(ec_dabt_lower, isv);
}  // namespace esr

// The EL2 trap registers of the last exit, for decoding and diagnostics.
struct TrapRecord {
    static constexpr std::string_view type_name = "TrapRecord";
    std::uint64_t esr = 0;
    std::uint64_t far = 0;    // faulting guest VA (aborts only)
    std::uint64_t hpfar = 0;  // faulting IPA page: FIPA, bits [43:4] = IPA[51:12]
    std::uint64_t elr = 0;    // ELR_EL2 as the exit left it (see trap_pc)
    constexpr bool operator==(const TrapRecord&) const noexcept = default;
};

// Prints as `TrapRecord { field: value, ... }` through its Hana member
// list (below), like every exit payload.
using axvcpu::print_to;

// The address of the instruction that trapped: ELR_EL2 holds the preferred
// return address, which for an exception-generating HVC is the instruction
// after it, and for every other trap the instruction itself.
[[nodiscard]] constexpr std::uint64_t trap_pc(const TrapRecord& trap) noexcept {
    return trap.elr - (esr::ec(trap.esr) == esr::ec_hvc64 ? 4 : 0);
}

// GPA = HPFAR_EL2.FIPA page | FAR_EL2's offset within the page. FIPA is
// bits [43:4] (IPA[51:12]); what lies above it (HPFAR_EL2.NS, bit 63, and
// RES0 bits) is shifted out: an extract and an insert.
[[nodiscard]] constexpr GuestPhysAddr fault_gpa(const TrapRecord& trap) noexcept {
    const std::uint64_t page = (trap.hpfar << 20) >> 24;  // FIPA, in bits [39:0]
    return GuestPhysAddr(static_cast<usize>(page << 12 | (trap.far & 0xFFF)));
}

// Why a stage-2 abort was, or was not, an emulatable MMIO access.
enum class AbortKind : std::uint8_t {
    Mmio,              // translation fault, ISV = 1: decoded into MmioRead/MmioWrite
    NoSyndrome,        // translation fault, ISV = 0 (ldp/stp, writeback, SIMD, exclusives...)
    CacheMaintenance,  // DC/IC on an unmapped address
    TableWalk,         // the guest's stage-1 walk touched an unmapped GPA
    AccessFlag,
    Permission,
    AddressSize,       // GPA beyond the stage-2 input range
    InstructionFetch,  // the guest executed from an unmapped GPA
    Unsupported,       // external abort, alignment, TLB conflict...: a DecodeError
};

[[nodiscard]] constexpr std::string_view name(AbortKind kind) noexcept {
    constexpr std::array<std::string_view, 9> names{"Mmio",       "NoSyndrome",  "CacheMaintenance",
                                                    "TableWalk",  "AccessFlag",  "Permission",
                                                    "AddressSize", "InstructionFetch", "Unsupported"};
    return names[static_cast<usize>(kind)];
}

template <fmt::Sink S>
constexpr void print_to(S& out, AbortKind kind) {
    out.write(name(kind));
}

// Classifies a lower-EL data or instruction abort syndrome.
[[nodiscard]] constexpr AbortKind classify_abort(std::uint64_t esr_value) noexcept {
    const std::uint32_t iss = esr::iss(esr_value);
    const std::uint32_t status = esr::fsc(iss) & esr::fsc_type;
    const bool data = esr::ec(esr_value) == esr::ec_dabt_lower;
    switch (status) {
        case esr::fsc_address_size: return AbortKind::AddressSize;
        case esr::fsc_translation: break;
        case esr::fsc_access_flag: return AbortKind::AccessFlag;
        case esr::fsc_permission: return AbortKind::Permission;
        default: return AbortKind::Unsupported;
    }
    if (!data) return AbortKind::InstructionFetch;
    if ((iss & esr::s1ptw) != 0) return AbortKind::TableWalk;
    if ((iss & esr::cm) != 0) return AbortKind::CacheMaintenance;
    if ((iss & esr::isv) == 0) return AbortKind::NoSyndrome;
    return AbortKind::Mmio;
}

// A syndrome that is a data abort classify_abort() calls Mmio, from a
// 32-bit instruction (IL), with WnR clear (a read): run()'s fast path, in
// two tests. EC, IL and ISV by one compare (dabt_isv_from_bit24), then a
// translation fault (any level), not on the stage-1 walk, not cache
// maintenance, a read, under a mask that is an AND immediate (with ISV in
// the mask, bits 2-8 and 24, it would need a constant of its own). Proven
// equal to classify_abort by test/aarch64/exit_decode_test.cpp.
[[nodiscard]] constexpr bool is_mmio_read_abort(std::uint64_t esr_value) noexcept {
    constexpr std::uint64_t mask = esr::s1ptw | esr::cm | esr::wnr | esr::fsc_type;
    return (esr_value >> 24) == esr::dabt_isv_from_bit24 && (esr_value & mask) == esr::fsc_translation;
}

// Whether HPFAR_EL2 holds the faulting IPA. For a stage-2 permission fault
// on an ordinary access the architecture leaves it UNKNOWN, and the policy
// must translate FAR_EL1 itself (AT S1E1R) before decoding.
[[nodiscard]] constexpr bool hpfar_valid(std::uint64_t esr_value) noexcept {
    const std::uint32_t iss = esr::iss(esr_value);
    return (esr::fsc(iss) & esr::fsc_type) != esr::fsc_permission || (iss & esr::s1ptw) != 0;
}

// What the policy does to the guest before returning the exit.
enum class PcAction : std::uint8_t { Keep, Advance };

struct Decoded {
    // From one alternative (or a whole reason), built in place: with
    // -mstrict-align a 64-byte exit-reason copy is a memcpy call.
    template <class Reason>
    constexpr Decoded(Reason r, PcAction action, std::optional<std::uint64_t> answer) noexcept
        : reason(std::move(r)), pc(action), x0(answer) {}

    // Answered in place (a PSCI query, a refused SMC): nothing for the VMM
    // to decide, so the policy writes x0 and resumes the guest without an
    // exit (psci_service.hpp states the rule).
    [[nodiscard]] constexpr bool answered() const noexcept { return reason.is<exit::Nothing>(); }

    AxVCpuExitReason reason;
    PcAction pc = PcAction::Keep;
    std::optional<std::uint64_t> x0;  // an answer the policy writes into x0 (PSCI, SMCCC)
};

// Why a trap could not be decoded. The policy reports it as an AxError
// (to_ax_error) and keeps the syndrome for the VMM to print.
enum class DecodeError : std::uint8_t {
    UnknownException,  // an exception class this policy does not model
    UnsupportedAbort,  // external abort, alignment fault, TLB conflict...
    AArch32Guest,      // the guest left AArch64: not supported
};

[[nodiscard]] constexpr std::string_view name(DecodeError error) noexcept {
    constexpr std::array<std::string_view, 3> names{"UnknownException", "UnsupportedAbort", "AArch32Guest"};
    return names[static_cast<usize>(error)];
}

template <fmt::Sink S>
constexpr void print_to(S& out, DecodeError error) {
    out.write(name(error));
}

[[nodiscard]] constexpr AxError to_ax_error(DecodeError) noexcept { return AxError::Unsupported; }

using DecodeResult = boost::outcome_v2::basic_result<Decoded, DecodeError, boost::outcome_v2::policy::terminate>;
// Builds the Decoded inside the result (no 88-byte temporary to copy): the
// MMIO exits, the most frequent after hypercalls, return this way.
inline constexpr auto in_result = boost::outcome_v2::in_place_type<Decoded>;

// --- Memory -------------------------------------------------------------------

// The value a VMM writes into the destination register of an MmioRead, from
// the `raw` bytes the device returned: truncated to the access width, sign-
// extended when SSE was set, and limited to 32 bits for a W register. A
// doubleword access is the raw value whatever reg_width says: no A64 load
// puts 8 bytes into a W register, so SF is 1 in every such syndrome the
// hardware reports (ARM ARM, ISS encoding for a Data Abort: SAS, SF).
[[nodiscard]] constexpr std::uint64_t mmio_load_value(const exit::MmioRead& read, std::uint64_t raw) noexcept {
    if (read.width == AccessWidth::Qword) return raw;
    const usize bits = size_in_bits(read.width);  // 8, 16 or 32
    std::uint64_t value = raw & width_mask(read.width);
    if (read.signed_ext && ((value >> (bits - 1)) & 1) != 0) value |= ~std::uint64_t{0} << bits;
    if (read.reg_width == AccessWidth::Dword) value &= 0xFFFF'FFFF;
    return value;
}

// The two halves of an AbortKind::Mmio decode (ISS with ISV = 1), shared by
// decode_abort and a policy's fast path.
[[nodiscard]] constexpr exit::MmioWrite mmio_write_from(std::uint32_t iss, GuestPhysAddr gpa, const Gprs& x) noexcept {
    const auto width = static_cast<AccessWidth>(esr::sas(iss));
    return exit::MmioWrite{gpa, width, read_gpr(x, esr::srt(iss)) & width_mask(width)};
}
[[nodiscard]] constexpr exit::MmioRead mmio_read_from(std::uint32_t iss, GuestPhysAddr gpa) noexcept {
    return exit::MmioRead{gpa, static_cast<AccessWidth>(esr::sas(iss)), esr::srt(iss),
                          (iss & esr::sf) != 0 ? AccessWidth::Qword : AccessWidth::Dword, (iss & esr::sse) != 0};
}

// EC 0x24 (data abort) and 0x20 (instruction abort) from a lower EL. `gpa` is
// fault_gpa(), or the AT-translated address when hpfar_valid() is false.
[[nodiscard]] constexpr DecodeResult decode_abort(std::uint64_t esr_value, GuestPhysAddr gpa, const Gprs& x) noexcept {
    const std::uint32_t iss = esr::iss(esr_value);
    const AbortKind kind = classify_abort(esr_value);
    if (kind == AbortKind::Unsupported) return boost::outcome_v2::failure(DecodeError::UnsupportedAbort);
    if (kind != AbortKind::Mmio) {
        MappingFlags flags{};
        if (kind == AbortKind::InstructionFetch || esr::ec(esr_value) == esr::ec_iabt_lower) {
            flags.bits = MappingFlags::EXECUTE;
        } else {
            flags.bits = (iss & esr::wnr) != 0 ? MappingFlags::WRITE : MappingFlags::READ;
        }
        return DecodeResult(in_result, exit::NestedPageFault{gpa, flags}, PcAction::Keep, std::nullopt);
    }
    if ((iss & esr::wnr) != 0) {
        return DecodeResult(in_result, mmio_write_from(iss, gpa, x), PcAction::Advance, std::nullopt);
    }
    return DecodeResult(in_result, mmio_read_from(iss, gpa), PcAction::Advance, std::nullopt);
}

// --- System registers ---------------------------------------------------------

// A system register number in the ESR_EL2 ISS layout of EC 0x18:
// Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], CRm [4:1].
[[nodiscard]] constexpr SysRegAddr sysreg_addr(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) noexcept {
    return SysRegAddr{(usize{op0} & 3) << 20 | (usize{op2} & 7) << 17 | (usize{op1} & 7) << 14 |
                      (usize{crn} & 15) << 10 | (usize{crm} & 15) << 1};
}
inline constexpr std::uint32_t sysreg_addr_mask = 0x3F'FC1E;

namespace sysregs {
inline constexpr SysRegAddr icc_sgi1r_el1 = sysreg_addr(3, 0, 12, 11, 5);
inline constexpr SysRegAddr icc_asgi1r_el1 = sysreg_addr(3, 0, 12, 11, 6);
inline constexpr SysRegAddr icc_sgi0r_el1 = sysreg_addr(3, 0, 12, 11, 7);
inline constexpr SysRegAddr id_aa64pfr0_el1 = sysreg_addr(3, 0, 0, 4, 0);
inline constexpr SysRegAddr id_aa64mmfr0_el1 = sysreg_addr(3, 0, 0, 7, 0);
}  // namespace sysregs

// ICC_SGI1R_EL1 as a SendIPI: target_cpu is the MPIDR (Aff3.Aff2.Aff1, and
// RS * 16 as Aff0) of the first CPU the 16-bit TargetList (target_cpu_aux)
// counts from; IRM = 1 (all but self) is send_to_all.
[[nodiscard]] constexpr exit::SendIPI decode_sgi1r(std::uint64_t value) noexcept {
    const std::uint64_t aff1 = (value >> 16) & 0xFF;
    const std::uint64_t aff2 = (value >> 32) & 0xFF;
    const std::uint64_t aff3 = (value >> 48) & 0xFF;
    const std::uint64_t range_selector = (value >> 44) & 0xF;
    return exit::SendIPI{aff3 << 32 | aff2 << 16 | aff1 << 8 | range_selector * 16, value & 0xFFFF,
                         ((value >> 40) & 1) != 0, false, (value >> 24) & 0xF};
}

// EC 0x18: MSR/MRS to a trapped register. Direction bit 0: 1 is a read.
[[nodiscard]] constexpr DecodeResult decode_sysreg(std::uint64_t esr_value, const Gprs& x) noexcept {
    const std::uint32_t iss = esr::iss(esr_value);
    const SysRegAddr addr{iss & sysreg_addr_mask};
    const usize rt = (iss >> 5) & 0x1F;
    if ((iss & 1) != 0) return Decoded{exit::SysRegRead{addr, rt}, PcAction::Advance, std::nullopt};
    const std::uint64_t value = read_gpr(x, rt);
    if (addr == sysregs::icc_sgi1r_el1) return Decoded{decode_sgi1r(value), PcAction::Advance, std::nullopt};
    return Decoded{exit::SysRegWrite{addr, value}, PcAction::Advance, std::nullopt};
}

// --- Calls: HVC and SMC ---------------------------------------------------------

// Argument `index` of an SMCCC call: an SMC32/HVC32 function (id bit 30
// clear) takes 32-bit arguments in W1..W7, and the upper halves of the X
// registers are ignored (SMCCC, ARM DEN 0028, "SMC32/HVC32 argument
// passing"; KVM narrows them the same way).
[[nodiscard]] constexpr std::uint64_t smccc_arg(const Gprs& x, usize index) noexcept {
    return (x[0] & 0x4000'0000) != 0 ? x[index] : x[index] & 0xFFFF'FFFF;
}

// `affinity_is_on(mpidr) -> std::optional<bool>` answers AFFINITY_INFO
// (no value: no such CPU). `pc` is what the instruction needs (HVC: Keep,
// trapped SMC: Advance). Queries come back answered() (exit::Nothing with
// x0); what the VMM must decide comes back as its exit.
template <class AffinityQuery>
[[nodiscard]] constexpr Decoded decode_psci(const Gprs& x, PcAction pc, AffinityQuery&& affinity_is_on) {
    auto answer = [&](std::uint64_t value) { return Decoded{exit::Nothing{}, pc, value}; };
    const std::optional<psci::Function> function = psci::decode(x[0]);
    const std::uint64_t a1 = smccc_arg(x, 1);
    const std::uint64_t a2 = smccc_arg(x, 2);
    const std::uint64_t a3 = smccc_arg(x, 3);
    if (!function) return answer(static_cast<std::uint64_t>(psci::not_supported));
    switch (*function) {
        case psci::Function::Version: return answer(psci::version_1_1);
        case psci::Function::CpuSuspend:
            // Standby: the guest waits for an interrupt, and then returns success.
            return Decoded{exit::Halt{}, pc, static_cast<std::uint64_t>(psci::success)};
        case psci::Function::CpuOff: return Decoded{exit::CpuDown{0}, pc, std::nullopt};
        case psci::Function::CpuOn:
            return Decoded{exit::CpuUp{a1, GuestPhysAddr(static_cast<usize>(a2)), a3}, pc, std::nullopt};
        case psci::Function::AffinityInfo: {
            // Only level 0 (one CPU) is meaningful for a flat vCPU set.
            if (a2 != 0) return answer(static_cast<std::uint64_t>(psci::invalid_parameters));
            const std::optional<bool> on = affinity_is_on(a1 & 0xFF'00FF'FFFF);
            if (!on) return answer(static_cast<std::uint64_t>(psci::invalid_parameters));
            return answer(*on ? psci::affinity_on : psci::affinity_off);
        }
        case psci::Function::MigrateInfoType: return answer(psci::migrate_info_no_trusted_os);
        case psci::Function::SystemOff:
        case psci::Function::SystemReset:
        case psci::Function::SystemReset2: return Decoded{exit::SystemDown{}, pc, std::nullopt};
        case psci::Function::Features: return answer(psci::features(a1));
    }
    return answer(static_cast<std::uint64_t>(psci::not_supported));
}

// A non-PSCI HVC: hypercall number x0, arguments x1..x6.
[[nodiscard]] constexpr exit::Hypercall hypercall_from(const Gprs& x) noexcept {
    return exit::Hypercall{x[0], {x[1], x[2], x[3], x[4], x[5], x[6]}};
}

// EC 0x16: PSCI, else a hypercall numbered by x0 with arguments x1..x6.
template <class AffinityQuery>
[[nodiscard]] constexpr Decoded decode_hvc(const Gprs& x, AffinityQuery&& affinity_is_on) {
    if (psci::in_psci_range(x[0])) return decode_psci(x, PcAction::Keep, affinity_is_on);
    return Decoded{hypercall_from(x), PcAction::Keep, std::nullopt};
}

// EC 0x17 (HCR_EL2.TSC): PSCI, else SMCCC's NOT_SUPPORTED: there is no
// secure firmware behind this hypervisor to forward to.
template <class AffinityQuery>
[[nodiscard]] constexpr Decoded decode_smc(const Gprs& x, AffinityQuery&& affinity_is_on) {
    if (psci::in_psci_range(x[0])) return decode_psci(x, PcAction::Advance, affinity_is_on);
    return Decoded{exit::Nothing{}, PcAction::Advance, static_cast<std::uint64_t>(psci::not_supported)};
}

// --- The whole synchronous exit -------------------------------------------------

// How far the policy moves ELR past the instruction of a synchronous exit
// once decoded (decode_sync's PcAction::Advance): over what the VMM emulates
// (MMIO, system registers, WFI/WFE) and a trapped SMC, never over an HVC
// (ELR_EL2 is already past it) or a fault. last_trap() undoes it.
[[nodiscard]] constexpr std::uint64_t elr_advance(std::uint64_t esr_value) noexcept {
    switch (esr::ec(esr_value)) {
        case esr::ec_wfx:
        case esr::ec_smc64:
        case esr::ec_sysreg: return 4;
        case esr::ec_dabt_lower: return classify_abort(esr_value) == AbortKind::Mmio ? 4 : 0;
        default: return 0;
    }
}

// A synchronous exception from AArch64 EL0/EL1. `gpa` is used for aborts only.
template <class AffinityQuery>
[[nodiscard]] constexpr DecodeResult decode_sync(const TrapRecord& trap, GuestPhysAddr gpa, const Gprs& x,
                                                 AffinityQuery&& affinity_is_on) {
    switch (esr::ec(trap.esr)) {
        case esr::ec_wfx: return Decoded{exit::Halt{}, PcAction::Advance, std::nullopt};  // WFI, WFE, WFIT, WFET
        case esr::ec_hvc64: return decode_hvc(x, affinity_is_on);
        case esr::ec_smc64: return decode_smc(x, affinity_is_on);
        case esr::ec_sysreg: return decode_sysreg(trap.esr, x);
        case esr::ec_iabt_lower:
        case esr::ec_dabt_lower: return decode_abort(trap.esr, gpa, x);
        default: return boost::outcome_v2::failure(DecodeError::UnknownException);
    }
}

}  // namespace axvcpu::aarch64

AXVCPU_ADAPT_STRUCT(axvcpu::aarch64::TrapRecord, esr, far, hpfar, elr);
