// The debug, PMU and statistical profiling registers, which the aarch64
// policy does not switch with the vCPU: the MDCR_EL2 value that traps a
// guest's accesses to them while it is bound (SetupConfig's
// passthrough_debug and passthrough_pmu leave them to the guest), and
// which trapped registers a SysRegRead/SysRegWrite exit names. Pure, and
// host-tested.
#pragma once

#include <cstdint>

#include "axvcpu/exit_reason.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64 {

// MDCR_EL2: which debug and PMU accesses from EL1 and EL0 trap to EL2.
namespace mdcr {
inline constexpr std::uint64_t tpmcr = 1u << 5;  // PMCR_EL0
inline constexpr std::uint64_t tpm = 1u << 6;    // every other PMU register
inline constexpr std::uint64_t tde = 1u << 8;    // debug exceptions to EL2: never while a guest runs
inline constexpr std::uint64_t tda = 1u << 9;    // the debug registers but the three below
inline constexpr std::uint64_t tdosa = 1u << 10; // the OS lock and power-down registers (OSLAR, OSLSR, OSDLR, DBGPRCR)
inline constexpr std::uint64_t tdra = 1u << 11;  // the debug ROM address (MDRAR_EL1)
inline constexpr std::uint64_t debug_traps = tda | tdosa | tdra;
// What a vCPU with its own breakpoints and watchpoints (switch_debug) still traps.
inline constexpr std::uint64_t os_lock_traps = tdosa | tdra;
inline constexpr std::uint64_t pmu_traps = tpm | tpmcr;
// FEAT_SPE: TPMS traps the sampling controls (PMS*); E2PB, bits 13:12,
// with bit 12 clear traps the profiling buffer's (PMB*) whichever
// regime owns the buffer (0b00: EL2's, 0b10: EL1&0's).
inline constexpr std::uint64_t tpms = 1u << 14;
inline constexpr std::uint64_t e2pb_untrapped = 1u << 12;
// FEAT_Debugv8p9: breakpoint and watchpoint banks beyond the first
// (MDSELR_EL1), which no vCPU's state holds: never the guest's.
inline constexpr std::uint64_t ebwe = std::uint64_t{1} << 43;

// MDCR_EL2 while a vCPU is bound: the host's value (HPMN, its own trap
// choices) with the vCPU's `traps` (debug_traps, pmu_traps or both) and
// TDE and EBWE clear, so the guest's own debug exceptions go to its EL1
// and it has only the first bank of breakpoints and watchpoints. With the
// PMU traps, a CPU with the statistical profiling extension (ID_AA64DFR0_EL1
// PMSVer, `id_aa64dfr0`) has its controls trapped too: the guest is told
// it has none (id_registers.hpp), and the host's profiler is not its.
[[nodiscard]] constexpr std::uint64_t while_bound(std::uint64_t host, std::uint64_t traps,
                                                  std::uint64_t id_aa64dfr0) noexcept {
    std::uint64_t value = (host & ~(debug_traps | pmu_traps | tde | ebwe)) | traps;
    const bool spe = ((id_aa64dfr0 >> 32) & 0xF) != 0;
    if (spe && (traps & pmu_traps) != 0) value = (value | tpms) & ~e2pb_untrapped;
    return value;
}
}  // namespace mdcr

// The registers MDCR_EL2's debug and PMU traps cover (SetupConfig's
// passthrough_debug, passthrough_pmu), by encoding (Arm ARM, "System
// instruction class encoding overview"): every debug register is Op0 = 2;
// the PMU's are Op0 = 3 with CRn = 9, Op1 = 3, CRm = 12..14 (PMCR_EL0 ..
// PMOVSSET_EL0) or Op1 = 0, CRm = 14 (PMINTENSET_EL1, PMINTENCLR_EL1,
// PMMIR_EL1), or CRn = 14, Op1 = 3, CRm = 8..15 (PMEVCNTR<n>_EL0,
// PMEVTYPER<n>_EL0, PMCCFILTR_EL0); the statistical profiling
// extension's, which the PMU traps cover too where the CPU has it
// (mdcr::while_bound), Op0 = 3, CRn = 9, Op1 = 0, CRm = 9 (PMS*) or 10
// (PMB*; PMBIDR_EL1, read-only, traps with neither and never exits).
[[nodiscard]] constexpr bool is_debug_register(SysRegAddr addr) noexcept { return (addr.value >> 20 & 3) == 2; }
[[nodiscard]] constexpr bool is_pmu_register(SysRegAddr addr) noexcept {
    if ((addr.value >> 20 & 3) != 3) return false;  // Op0
    const usize op2 = addr.value >> 17 & 7;
    const usize op1 = addr.value >> 14 & 7;
    const usize crn = addr.value >> 10 & 15;
    const usize crm = addr.value >> 1 & 15;
    if (crn == 9) {
        return (op1 == 3 && crm >= 12 && crm <= 14) || (op1 == 0 && crm == 14 && (op2 == 1 || op2 == 2 || op2 == 6)) ||
               (op1 == 0 && (crm == 9 || crm == 10));  // SPE: PMS* (CRm 9), PMB* (CRm 10)
    }
    return crn == 14 && op1 == 3 && crm >= 8;
}

}  // namespace axvcpu::aarch64
