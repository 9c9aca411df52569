// id_registers::sanitise: what a guest reads from a trapped ID register is
// the host's value with exactly the features the policy does not virtualise
// cleared (arch/aarch64/id_registers.hpp), and nothing outside the ID space
// is taken for an ID register.
#include <doctest/doctest.h>

#include <arch/aarch64/id_registers.hpp>

namespace aarch64_id_registers_test {

using namespace axvcpu;
using namespace axvcpu::aarch64;

namespace {
constexpr std::uint64_t all_ones = ~std::uint64_t{0};
constexpr std::uint64_t field(unsigned shift) { return std::uint64_t{0xF} << shift; }
}  // namespace

TEST_CASE("the ID space is op0 3, op1 0, CRn 0, CRm 1..7") {
    CHECK(id_registers::is_id_register(sysregs::id_aa64pfr0_el1));
    CHECK(id_registers::is_id_register(sysregs::id_aa64mmfr0_el1));
    CHECK(id_registers::is_id_register(sysreg_addr(3, 0, 0, 1, 0)));  // ID_PFR0_EL1
    CHECK(id_registers::is_id_register(sysreg_addr(3, 0, 0, 7, 7)));
    CHECK_FALSE(id_registers::is_id_register(sysreg_addr(3, 0, 0, 0, 0)));  // MIDR_EL1
    CHECK_FALSE(id_registers::is_id_register(sysreg_addr(3, 0, 0, 0, 5)));  // MPIDR_EL1
    CHECK_FALSE(id_registers::is_id_register(sysreg_addr(3, 1, 0, 4, 0)));
    CHECK_FALSE(id_registers::is_id_register(sysregs::icc_sgi1r_el1));
}

TEST_CASE("SVE, SME, MTE, MPAM, AMU, RME, NMI, SPE, TRBE and BRBE are hidden; the rest is the host's") {
    const std::uint64_t pfr0 = id_registers::sanitise(sysregs::id_aa64pfr0_el1, all_ones);
    CHECK(pfr0 == (all_ones & ~(field(32) | field(40) | field(44) | field(52))));
    const std::uint64_t pfr1 = id_registers::sanitise(id_registers::id_aa64pfr1_el1, all_ones);
    CHECK(pfr1 == (all_ones & ~(field(8) | field(16) | field(24) | field(36))));
    CHECK(id_registers::sanitise(id_registers::id_aa64zfr0_el1, all_ones) == 0);
    CHECK(id_registers::sanitise(id_registers::id_aa64smfr0_el1, all_ones) == 0);
    const std::uint64_t dfr0 = id_registers::sanitise(id_registers::id_aa64dfr0_el1, all_ones);
    CHECK(dfr0 == (all_ones & ~(field(8) | field(32) | field(44) | field(52))));
    // Everything else passes through: the memory model, the ISA features
    // (pointer authentication is given to the guest: HCR_EL2.API/APK).
    CHECK(id_registers::sanitise(sysregs::id_aa64mmfr0_el1, 0x1234'5678'9ABC'DEF0) == 0x1234'5678'9ABC'DEF0);
    CHECK(id_registers::sanitise(sysreg_addr(3, 0, 0, 6, 1), all_ones) == all_ones);  // ID_AA64ISAR1_EL1
}

TEST_CASE("a host with SVE and the GIC system registers: the guest keeps FP, AdvSIMD, the GIC and the ELs") {
    // ID_AA64PFR0_EL1 fields: EL0..EL3 [15:0] = 2,2,1,1 (AArch64+32 at EL0/1),
    // FP [19:16] 1, AdvSIMD [23:20] 1, GIC [27:24] 1, SVE [35:32] 1.
    constexpr std::uint64_t host = 0x0000'0001'0111'1122;
    CHECK(id_registers::sanitise(sysregs::id_aa64pfr0_el1, host) == 0x0000'0000'0111'1122);
}
}  // namespace aarch64_id_registers_test
