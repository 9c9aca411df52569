// What a guest reads from the ID registers when the VMM traps them
// (HCR_EL2.TID3, SetupConfig::trap_id_registers): the host's values with the
// features this policy does not give a guest hidden, so the guest sees a CPU
// it can use in full. Without this a kernel on a CPU with SVE (QEMU's
// `-cpu max`) finds SVE in ID_AA64PFR0_EL1, touches ZCR_EL1 and takes the
// trap CPTR_EL2.TZ sets.
//
// The ID register space is op0 3, op1 0, CRn 0, CRm 1..7, op2 0..7 (Arm ARM
// D19.2, "Identification registers"); its unallocated encodings read as
// zero. sanitise() is pure (host-tested); read_host() reads the register at
// EL2, which sees the hardware's values.
#pragma once

#include <cstdint>
#include <optional>

#include "arch/aarch64/exit_decode.hpp"
#include "axvcpu/exit_reason.hpp"

namespace axvcpu::aarch64::id_registers {

[[nodiscard]] constexpr bool is_id_register(SysRegAddr addr) noexcept {
    for (unsigned crm = 1; crm <= 7; ++crm)
        for (unsigned op2 = 0; op2 <= 7; ++op2)
            if (addr == sysreg_addr(3, 0, 0, crm, op2)) return true;
    return false;
}

namespace detail {
// Bits [shift + 3 : shift]: one 4-bit ID field.
[[nodiscard]] constexpr std::uint64_t field(unsigned shift) noexcept { return std::uint64_t{0xF} << shift; }
}  // namespace detail

// What the policy does not virtualise, by register (Arm ARM field names):
// - ID_AA64PFR0_EL1: SVE (CPTR_EL2.TZ traps it; its state is not switched),
//   MPAM and AMU (their registers are not switched), RME.
// - ID_AA64PFR1_EL1: SME (likewise), MTE (HCR_EL2.ATA is clear: tag
//   accesses would trap), MPAM_frac, NMI.
// - ID_AA64ZFR0_EL1, ID_AA64SMFR0_EL1: all zero with SVE and SME hidden.
// - ID_AA64DFR0_EL1: the PMU (PMUVer: its registers trap unless
//   SetupConfig::passthrough_pmu, and are not switched; a VMM that passes
//   it through answers this register itself), the statistical profiling
//   extension, the trace buffer and branch records (their controls are
//   EL2's and not switched).
inline constexpr SysRegAddr id_aa64pfr1_el1 = sysreg_addr(3, 0, 0, 4, 1);
inline constexpr SysRegAddr id_aa64zfr0_el1 = sysreg_addr(3, 0, 0, 4, 4);
inline constexpr SysRegAddr id_aa64smfr0_el1 = sysreg_addr(3, 0, 0, 4, 5);
inline constexpr SysRegAddr id_aa64dfr0_el1 = sysreg_addr(3, 0, 0, 5, 0);
inline constexpr SysRegAddr id_aa64isar1_el1 = sysreg_addr(3, 0, 0, 6, 1);
inline constexpr SysRegAddr id_aa64isar2_el1 = sysreg_addr(3, 0, 0, 6, 2);

[[nodiscard]] constexpr std::uint64_t sanitise(SysRegAddr addr, std::uint64_t host) noexcept {
    using detail::field;
    if (addr == sysregs::id_aa64pfr0_el1) return host & ~(field(32) | field(40) | field(44) | field(52));
    if (addr == id_aa64pfr1_el1) return host & ~(field(8) | field(16) | field(24) | field(36));
    if (addr == id_aa64zfr0_el1 || addr == id_aa64smfr0_el1) return 0;
    if (addr == id_aa64dfr0_el1) return host & ~(field(8) | field(32) | field(44) | field(52));
    return host;
}

#if defined(__aarch64__)
// The register `addr` names as EL2 reads it; 0 outside the ID space.
inline std::uint64_t read_host(SysRegAddr addr) noexcept {
    std::uint64_t value = 0;
#define AXVCPU_A64_ID_CASE(crm, op2)                                                      \
    if (addr == sysreg_addr(3, 0, 0, crm, op2)) {                                          \
        asm volatile("mrs %0, S3_0_C0_C" #crm "_" #op2 : "=r"(value));                     \
        return value;                                                                      \
    }
#define AXVCPU_A64_ID_ROW(crm)                                                                              \
    AXVCPU_A64_ID_CASE(crm, 0) AXVCPU_A64_ID_CASE(crm, 1) AXVCPU_A64_ID_CASE(crm, 2) AXVCPU_A64_ID_CASE(crm, 3) \
    AXVCPU_A64_ID_CASE(crm, 4) AXVCPU_A64_ID_CASE(crm, 5) AXVCPU_A64_ID_CASE(crm, 6) AXVCPU_A64_ID_CASE(crm, 7)
    AXVCPU_A64_ID_ROW(1)
    AXVCPU_A64_ID_ROW(2)
    AXVCPU_A64_ID_ROW(3)
    AXVCPU_A64_ID_ROW(4)
    AXVCPU_A64_ID_ROW(5)
    AXVCPU_A64_ID_ROW(6)
    AXVCPU_A64_ID_ROW(7)
#undef AXVCPU_A64_ID_ROW
#undef AXVCPU_A64_ID_CASE
    return value;
}

// What the guest reads from `addr`; nothing outside the ID space.
inline std::optional<std::uint64_t> guest_value(SysRegAddr addr) noexcept {
    if (!is_id_register(addr)) return std::nullopt;
    return sanitise(addr, read_host(addr));
}
#endif

}  // namespace axvcpu::aarch64::id_registers
