// Making the guest take a synchronous exception at its own vector, as if the
// hardware had raised it there: what exception entry writes, computed from
// the trap the VMM answers and the guest's EL1 registers (Arm ARM DDI 0487,
// the AArch64.TakeException pseudocode and "Exception entry"). Pure, so the
// values are tested on the host against what QEMU's CPU writes for the
// same exceptions (test/aarch64/exceptions_test.cpp); VCpu::inject_exception
// applies them.
#pragma once

#include <cstdint>
#include <optional>

#include "arch/aarch64/exit_decode.hpp"

namespace axvcpu::aarch64 {

// The exceptions a VMM can make its guest take: for an access it refuses
// to emulate (an MMIO address with no device, a NestedPageFault it will not
// fix), a synchronous external abort, as the bus would report it; for an
// instruction it will not emulate (an unknown system register), UNDEFINED.
enum class GuestException : std::uint8_t {
    DataAbort,         // EC 0x25 from EL1, 0x24 from EL0
    InstructionAbort,  // EC 0x21 from EL1, 0x20 from EL0
    Undefined,         // EC 0x00
};

namespace esr {
inline constexpr std::uint32_t ec_iabt_same = 0x21;
inline constexpr std::uint32_t ec_dabt_same = 0x25;
inline constexpr std::uint32_t fnv = 1u << 10;  // FAR not valid
// DFSC/IFSC: synchronous external abort, not on a translation table walk.
inline constexpr std::uint32_t fsc_sync_external = 0x10;
}  // namespace esr

namespace pstate {
inline constexpr std::uint64_t mode_mask = 0x1F;  // M[4:0]; M[4] = 1 is AArch32
inline constexpr std::uint64_t mode_el0t = 0x0;
inline constexpr std::uint64_t mode_el1t = 0x4;
inline constexpr std::uint64_t mode_el1h = 0x5;
inline constexpr std::uint64_t daif = 0xFu << 6;
inline constexpr std::uint64_t ssbs = 1u << 12;
inline constexpr std::uint64_t pan = 1u << 22;
inline constexpr std::uint64_t dit = 1u << 24;
inline constexpr std::uint64_t nzcv = 0xFu << 28;
}  // namespace pstate

namespace sctlr {
inline constexpr std::uint64_t span = 1u << 23;                      // 0: exception entry sets PAN
inline constexpr std::uint64_t dssbs = std::uint64_t{1} << 44;       // SSBS on exception entry
}  // namespace sctlr

// Offsets in the vector table (VBAR_EL1) of the synchronous vectors.
namespace vector {
inline constexpr std::uint64_t current_el_sp0 = 0x000;
inline constexpr std::uint64_t current_el_spx = 0x200;
inline constexpr std::uint64_t lower_el_aarch64 = 0x400;
}  // namespace vector

// The guest when it took the exception, and the EL1 registers that decide
// where it goes.
struct ExceptionSource {
    std::uint64_t pc = 0;         // the instruction that takes it
    std::uint64_t pstate = 0;     // its PSTATE, as SPSR_EL2 holds it
    std::uint64_t vbar_el1 = 0;
    std::uint64_t sctlr_el1 = 0;
};

// What taking the exception writes.
struct ExceptionEntry {
    std::uint64_t esr_el1 = 0;
    std::optional<std::uint64_t> far_el1;  // no value: left alone (UNKNOWN for this exception)
    std::uint64_t elr_el1 = 0;
    std::uint64_t spsr_el1 = 0;
    std::uint64_t pc = 0;      // VBAR_EL1 + the vector's offset
    std::uint64_t pstate = 0;  // the guest's new PSTATE, for SPSR_EL2
};

// The exception `kind` taken by the guest at `from`, reported with the
// syndrome of `trap` (the exit the VMM answers): a data abort's FAR and
// WnR are the trapped access's (FAR_EL2 holds its VA); an instruction
// abort's FAR is the fetch address. No value for a guest state the policy
// does not run (AArch32, or an EL it cannot be at).
[[nodiscard]] constexpr std::optional<ExceptionEntry> exception_entry(GuestException kind, const TrapRecord& trap,
                                                                      const ExceptionSource& from) noexcept {
    std::uint64_t offset = 0;
    bool from_el0 = false;
    switch (from.pstate & pstate::mode_mask) {
        case pstate::mode_el0t:
            offset = vector::lower_el_aarch64;
            from_el0 = true;
            break;
        case pstate::mode_el1t: offset = vector::current_el_sp0; break;
        case pstate::mode_el1h: offset = vector::current_el_spx; break;
        default: return std::nullopt;
    }
    ExceptionEntry entry{};
    const std::uint32_t trap_ec = esr::ec(trap.esr);
    std::uint64_t ec = esr::ec_unknown;
    std::uint32_t iss = 0;
    switch (kind) {
        case GuestException::DataAbort:
            ec = from_el0 ? esr::ec_dabt_lower : esr::ec_dabt_same;
            iss = esr::fsc_sync_external;
            if (trap_ec == esr::ec_dabt_lower) {
                iss |= esr::iss(trap.esr) & esr::wnr;
                entry.far_el1 = trap.far;
            } else {
                iss |= esr::fnv;  // no data address to report
            }
            break;
        case GuestException::InstructionAbort:
            ec = from_el0 ? esr::ec_iabt_lower : esr::ec_iabt_same;
            iss = esr::fsc_sync_external;
            entry.far_el1 = trap_ec == esr::ec_iabt_lower ? trap.far : from.pc;
            break;
        case GuestException::Undefined: break;
    }
    // IL: every A64 instruction is 32 bits (the Arm ARM sets IL for aborts
    // without a valid ISS and for UNDEFINED A64 instructions).
    entry.esr_el1 = ec << 26 | esr::il | iss;
    entry.elr_el1 = from.pc;
    entry.spsr_el1 = from.pstate;
    // VBAR_EL1[10:0] are RES0.
    entry.pc = (from.vbar_el1 & ~std::uint64_t{0x7FF}) + offset;
    // EL1h with D, A, I and F masked; NZCV and DIT are kept, PAN is set
    // unless SCTLR_EL1.SPAN says to keep it, SSBS follows SCTLR_EL1.DSSBS,
    // and everything else (SS, IL, BTYPE, UAO, ...) is cleared.
    std::uint64_t next = pstate::mode_el1h | pstate::daif | (from.pstate & (pstate::nzcv | pstate::dit));
    next |= (from.sctlr_el1 & sctlr::span) == 0 ? pstate::pan : (from.pstate & pstate::pan);
    if ((from.sctlr_el1 & sctlr::dssbs) != 0) next |= pstate::ssbs;
    entry.pstate = next;
    return entry;
}

}  // namespace axvcpu::aarch64
