// The SBI (RISC-V Supervisor Binary Interface) as a guest calls it:
// extension and function ids, error codes, the argument and return
// registers of an ecall, and the ecall itself on riscv64. The policy's
// decoder of a guest's calls is exit_decode.hpp's sbi::decode_call; this
// header is what a guest, or the hypervisor calling its own firmware,
// needs, and includes nothing of the library.
#pragma once

#include <array>
#include <cstdint>

namespace axvcpu::riscv64::sbi {

// --- Extension ids ----------------------------------------------------------
namespace eid {
inline constexpr std::uint64_t legacy_set_timer = 0x00;
inline constexpr std::uint64_t legacy_console_putchar = 0x01;
inline constexpr std::uint64_t legacy_console_getchar = 0x02;
inline constexpr std::uint64_t legacy_clear_ipi = 0x03;
inline constexpr std::uint64_t legacy_send_ipi = 0x04;
inline constexpr std::uint64_t legacy_remote_fence_i = 0x05;
inline constexpr std::uint64_t legacy_remote_sfence_vma = 0x06;
inline constexpr std::uint64_t legacy_remote_sfence_vma_asid = 0x07;
inline constexpr std::uint64_t legacy_shutdown = 0x08;
inline constexpr std::uint64_t base = 0x10;
inline constexpr std::uint64_t time = 0x54494D45;    // "TIME"
inline constexpr std::uint64_t ipi = 0x735049;       // "sPI"
inline constexpr std::uint64_t rfence = 0x52464E43;  // "RFNC"
inline constexpr std::uint64_t hsm = 0x48534D;       // "HSM"
inline constexpr std::uint64_t srst = 0x53525354;    // "SRST"
inline constexpr std::uint64_t pmu = 0x504D55;       // "PMU"
inline constexpr std::uint64_t dbcn = 0x4442434E;    // "DBCN"
// AxVisor's hypercall extension ("HVC"): a6 is the hypercall number, a0..a5
// its arguments, as upstream riscv_vcpu defines it.
inline constexpr std::uint64_t axvisor_hypercall = 0x485643;
}  // namespace eid

namespace fid {
inline constexpr std::uint64_t base_get_spec_version = 0;
inline constexpr std::uint64_t base_get_impl_id = 1;
inline constexpr std::uint64_t base_get_impl_version = 2;
inline constexpr std::uint64_t base_probe_extension = 3;
inline constexpr std::uint64_t base_get_mvendorid = 4;
inline constexpr std::uint64_t base_get_marchid = 5;
inline constexpr std::uint64_t base_get_mimpid = 6;
inline constexpr std::uint64_t time_set_timer = 0;
inline constexpr std::uint64_t ipi_send_ipi = 0;
inline constexpr std::uint64_t rfence_remote_fence_i = 0;
inline constexpr std::uint64_t rfence_remote_sfence_vma = 1;
inline constexpr std::uint64_t rfence_remote_sfence_vma_asid = 2;
inline constexpr std::uint64_t hsm_hart_start = 0;
inline constexpr std::uint64_t hsm_hart_stop = 1;
inline constexpr std::uint64_t hsm_hart_get_status = 2;
inline constexpr std::uint64_t hsm_hart_suspend = 3;
inline constexpr std::uint64_t srst_system_reset = 0;
inline constexpr std::uint64_t dbcn_write = 0;
inline constexpr std::uint64_t dbcn_read = 1;
inline constexpr std::uint64_t dbcn_write_byte = 2;
}  // namespace fid

// --- Return values ----------------------------------------------------------
namespace err {
inline constexpr std::int64_t success = 0;
inline constexpr std::int64_t failed = -1;
inline constexpr std::int64_t not_supported = -2;
inline constexpr std::int64_t invalid_param = -3;
inline constexpr std::int64_t denied = -4;
inline constexpr std::int64_t invalid_address = -5;
inline constexpr std::int64_t already_available = -6;
inline constexpr std::int64_t already_started = -7;
inline constexpr std::int64_t already_stopped = -8;
}  // namespace err

namespace hsm_state {
inline constexpr std::uint64_t started = 0;
inline constexpr std::uint64_t stopped = 1;
inline constexpr std::uint64_t suspended = 4;
}  // namespace hsm_state

namespace suspend_type {
inline constexpr std::uint64_t default_retentive = 0x00000000;
inline constexpr std::uint64_t default_non_retentive = 0x80000000;
}  // namespace suspend_type

namespace reset_type {
inline constexpr std::uint64_t shutdown = 0;
inline constexpr std::uint64_t cold_reboot = 1;
inline constexpr std::uint64_t warm_reboot = 2;
}  // namespace reset_type

// SRST's reset_reason; the rest of the range is reserved or platform
// specific (SBI 2.0, System Reset Extension).
namespace reset_reason {
inline constexpr std::uint64_t none = 0;
inline constexpr std::uint64_t system_failure = 1;
}  // namespace reset_reason

struct SbiRet {
    std::int64_t error = err::success;
    std::uint64_t value = 0;
    constexpr bool operator==(const SbiRet&) const noexcept = default;
};

// The argument registers of an ecall: a7 = extension, a6 = function.
struct SbiCall {
    std::uint64_t eid = 0;
    std::uint64_t fid = 0;
    std::array<std::uint64_t, 6> args{};  // a0..a5
};

#if defined(__riscv) && __riscv_xlen == 64
// An SBI call to the next more privileged level: from HS-mode to the
// firmware (OpenSBI), or from a VS-mode guest to its hypervisor.
inline SbiRet ecall(std::uint64_t eid, std::uint64_t fid, std::uint64_t arg0 = 0, std::uint64_t arg1 = 0,
                    std::uint64_t arg2 = 0, std::uint64_t arg3 = 0, std::uint64_t arg4 = 0,
                    std::uint64_t arg5 = 0) noexcept {
    register std::uint64_t a0 asm("a0") = arg0;
    register std::uint64_t a1 asm("a1") = arg1;
    register std::uint64_t a2 asm("a2") = arg2;
    register std::uint64_t a3 asm("a3") = arg3;
    register std::uint64_t a4 asm("a4") = arg4;
    register std::uint64_t a5 asm("a5") = arg5;
    register std::uint64_t a6 asm("a6") = fid;
    register std::uint64_t a7 asm("a7") = eid;
    asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a6), "r"(a7) : "memory");
    return SbiRet{static_cast<std::int64_t>(a0), a1};
}
#endif

}  // namespace axvcpu::riscv64::sbi
