// PSCI (Arm DEN 0022) as seen by a hypervisor: the function ids a guest
// calls through HVC or SMC, the answers defined by the standard, and which of
// them this policy implements.
//
// A guest may use either calling convention (SMC32 ids 0x84..., SMC64 ids
// 0xC4...) for the functions that take addresses; both are recognised. Only
// x0's low 32 bits name the function (SMCCC: the upper half is ignored).
#pragma once

#include <cstdint>
#include <optional>

namespace axvcpu::aarch64::psci {

enum class Function : std::uint8_t {
    Version,
    CpuSuspend,
    CpuOff,
    CpuOn,
    AffinityInfo,
    MigrateInfoType,
    SystemOff,
    SystemReset,
    Features,
    SystemReset2,
};

// Function ids (SMCCC fast calls). `64` variants take 64-bit addresses.
inline constexpr std::uint32_t fn_version = 0x8400'0000;
inline constexpr std::uint32_t fn_cpu_suspend_32 = 0x8400'0001;
inline constexpr std::uint32_t fn_cpu_suspend_64 = 0xC400'0001;
inline constexpr std::uint32_t fn_cpu_off = 0x8400'0002;
inline constexpr std::uint32_t fn_cpu_on_32 = 0x8400'0003;
inline constexpr std::uint32_t fn_cpu_on_64 = 0xC400'0003;
inline constexpr std::uint32_t fn_affinity_info_32 = 0x8400'0004;
inline constexpr std::uint32_t fn_affinity_info_64 = 0xC400'0004;
inline constexpr std::uint32_t fn_migrate_info_type = 0x8400'0006;
inline constexpr std::uint32_t fn_system_off = 0x8400'0008;
inline constexpr std::uint32_t fn_system_reset = 0x8400'0009;
inline constexpr std::uint32_t fn_features = 0x8400'000A;
inline constexpr std::uint32_t fn_system_reset2_32 = 0x8400'0012;
inline constexpr std::uint32_t fn_system_reset2_64 = 0xC400'0012;

// Return codes, as the signed values the guest reads from x0.
inline constexpr std::int64_t success = 0;
inline constexpr std::int64_t not_supported = -1;
inline constexpr std::int64_t invalid_parameters = -2;
inline constexpr std::int64_t denied = -3;
inline constexpr std::int64_t already_on = -4;
inline constexpr std::int64_t internal_failure = -6;
inline constexpr std::int64_t invalid_address = -9;

// PSCI_VERSION's answer: 1.1 (major in bits 31:16).
inline constexpr std::uint64_t version_1_1 = 0x0001'0001;
// MIGRATE_INFO_TYPE's answer: no Trusted OS that would need migrating.
inline constexpr std::uint64_t migrate_info_no_trusted_os = 2;
// AFFINITY_INFO's answers.
inline constexpr std::uint64_t affinity_on = 0;
inline constexpr std::uint64_t affinity_off = 1;

// Set in every PSCI function id (SMCCC fast calls): a clear bit rules PSCI out.
inline constexpr std::uint64_t function_id_bit31 = std::uint64_t{1} << 31;

// Whether x0 names a PSCI function at all (the PSCI range of the standard
// secure service calls), implemented or not.
[[nodiscard]] constexpr bool in_psci_range(std::uint64_t x0) noexcept {
    const auto id = static_cast<std::uint32_t>(x0);
    const std::uint32_t number = id & 0xFFFF;
    // Bits 31..24 must read 0x84 or 0xC4 (bit 30 is the 32/64 convention);
    // forcing bit 30 makes that one compare (0xBF00'0000 is no A64 immediate).
    const std::uint32_t owner_and_type = (id | 0x4000'0000) >> 24;
    return owner_and_type == 0xC4 && (id & 0x00FF'0000) == 0 && number <= 0x1F;
}

// The function x0 names, if this policy implements it.
[[nodiscard]] constexpr std::optional<Function> decode(std::uint64_t x0) noexcept {
    switch (static_cast<std::uint32_t>(x0)) {
        case fn_version: return Function::Version;
        case fn_cpu_suspend_32:
        case fn_cpu_suspend_64: return Function::CpuSuspend;
        case fn_cpu_off: return Function::CpuOff;
        case fn_cpu_on_32:
        case fn_cpu_on_64: return Function::CpuOn;
        case fn_affinity_info_32:
        case fn_affinity_info_64: return Function::AffinityInfo;
        case fn_migrate_info_type: return Function::MigrateInfoType;
        case fn_system_off: return Function::SystemOff;
        case fn_system_reset: return Function::SystemReset;
        case fn_features: return Function::Features;
        case fn_system_reset2_32:
        case fn_system_reset2_64: return Function::SystemReset2;
        default: return std::nullopt;
    }
}

// PSCI_FEATURES(fid): 0 for an implemented function (CPU_SUSPEND: original
// power-state format, no OS-initiated mode), NOT_SUPPORTED otherwise.
[[nodiscard]] constexpr std::uint64_t features(std::uint64_t queried) noexcept {
    return decode(queried) ? static_cast<std::uint64_t>(success) : static_cast<std::uint64_t>(not_supported);
}

#if defined(__aarch64__)
// A PSCI call through SMC to the next more privileged level: from EL2 to
// the firmware (QEMU's PSCI), or from an EL1 guest to its hypervisor
// (trapped with HCR_EL2.TSC). Returns x0.
inline std::uint64_t smc_call(std::uint64_t fn, std::uint64_t a1 = 0, std::uint64_t a2 = 0,
                              std::uint64_t a3 = 0) noexcept {
    register std::uint64_t x0 asm("x0") = fn;
    register std::uint64_t x1 asm("x1") = a1;
    register std::uint64_t x2 asm("x2") = a2;
    register std::uint64_t x3 asm("x3") = a3;
    asm volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
    return x0;
}
#endif

}  // namespace axvcpu::aarch64::psci
