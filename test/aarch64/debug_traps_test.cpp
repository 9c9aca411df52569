// The debug, PMU and profiling traps (arch/aarch64/debug_traps.hpp): which
// register encodings they cover, by the Arm ARM's encodings of each
// register named, and the MDCR_EL2 value a bound vCPU runs with.
#include <doctest/doctest.h>

#include <arch/aarch64/debug_traps.hpp>
#include <arch/aarch64/exit_decode.hpp>

namespace aarch64_debug_traps_test {

using namespace axvcpu;
using namespace axvcpu::aarch64;

TEST_CASE("is_debug_register / is_pmu_register: what MDCR_EL2's traps cover") {
    CHECK(is_debug_register(sysreg_addr(2, 0, 0, 2, 2)));   // MDSCR_EL1
    CHECK(is_debug_register(sysreg_addr(2, 0, 0, 0, 4)));   // DBGBVR0_EL1
    CHECK(is_debug_register(sysreg_addr(2, 0, 1, 0, 4)));   // OSLAR_EL1
    CHECK(is_debug_register(sysreg_addr(2, 3, 0, 5, 0)));   // DBGDTR_EL0
    CHECK_FALSE(is_debug_register(sysreg_addr(3, 0, 0, 5, 0)));  // ID_AA64DFR0_EL1
    for (const SysRegAddr pmu : {sysreg_addr(3, 3, 9, 12, 0), sysreg_addr(3, 3, 9, 13, 0), sysreg_addr(3, 3, 9, 14, 0),
                                 sysreg_addr(3, 3, 9, 14, 3), sysreg_addr(3, 0, 9, 14, 1), sysreg_addr(3, 0, 9, 14, 2),
                                 sysreg_addr(3, 0, 9, 14, 6), sysreg_addr(3, 3, 14, 8, 0), sysreg_addr(3, 3, 14, 15, 7)}) {
        // PMCR, PMCCNTR, PMUSERENR, PMOVSSET, PMINTENSET, PMINTENCLR, PMMIR, PMEVCNTR0, PMCCFILTR
        CHECK(is_pmu_register(pmu));
        CHECK_FALSE(is_debug_register(pmu));
    }
    for (const SysRegAddr spe : {sysreg_addr(3, 0, 9, 9, 0), sysreg_addr(3, 0, 9, 9, 7), sysreg_addr(3, 0, 9, 10, 0),
                                 sysreg_addr(3, 0, 9, 10, 3)}) {
        // PMSCR_EL1, PMSIDR_EL1, PMBLIMITR_EL1, PMBSR_EL1: SPE, trapped with the PMU
        CHECK(is_pmu_register(spe));
    }
    CHECK_FALSE(is_pmu_register(sysreg_addr(3, 0, 9, 11, 0)));   // TRBLIMITR_EL1: the trace buffer's
    CHECK_FALSE(is_pmu_register(sysreg_addr(3, 3, 14, 3, 1)));   // CNTV_CTL_EL0
    CHECK_FALSE(is_pmu_register(sysreg_addr(3, 0, 12, 11, 5)));  // ICC_SGI1R_EL1
    CHECK_FALSE(is_pmu_register(sysreg_addr(3, 0, 9, 14, 0)));   // unallocated
    CHECK_FALSE(is_pmu_register(sysreg_addr(2, 3, 9, 12, 0)));
}

TEST_CASE("mdcr::while_bound: the host's MDCR_EL2 with the vCPU's traps, TDE clear, SPE trapped with the PMU") {
    using namespace mdcr;
    constexpr std::uint64_t hpmn = 6;                      // the host's HPMN field
    constexpr std::uint64_t no_spe = 0x0000'0000'1010'6306;  // PMSVer 0
    constexpr std::uint64_t spe = no_spe | std::uint64_t{1} << 32;  // PMSVer 1: FEAT_SPE
    // Every trap the host set goes, TDE too; the vCPU's come in.
    const std::uint64_t host = hpmn | debug_traps | pmu_traps | tde;
    CHECK(while_bound(host, 0, no_spe) == hpmn);
    CHECK(while_bound(hpmn, debug_traps, no_spe) == (hpmn | debug_traps));
    CHECK(while_bound(hpmn, pmu_traps, no_spe) == (hpmn | pmu_traps));
    CHECK(while_bound(hpmn, debug_traps | pmu_traps, no_spe) == (hpmn | debug_traps | pmu_traps));
    // FEAT_SPE: with the PMU traps, TPMS set and E2PB's bit 12 clear (the
    // host's EL1&0-owned buffer 0b11 becomes the trapping 0b10); without
    // them, the host's profiling controls as they were.
    const std::uint64_t host_spe = hpmn | std::uint64_t{3} << 12;
    CHECK(while_bound(host_spe, pmu_traps, spe) == (hpmn | pmu_traps | tpms | std::uint64_t{2} << 12));
    CHECK(while_bound(host_spe, debug_traps, spe) == (host_spe | debug_traps));
    CHECK(while_bound(host_spe, pmu_traps, no_spe) == (host_spe | pmu_traps));  // no SPE: bits 14:12 RES0, untouched
    CHECK(while_bound(hpmn | tpms, 0, spe) == (hpmn | tpms));  // the host's own TPMS stays
    CHECK(while_bound(hpmn | ebwe, 0, no_spe) == hpmn);        // the banks past the first: never the guest's
}
}  // namespace aarch64_debug_traps_test
