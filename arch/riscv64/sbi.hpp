// The SBI a guest sees: extension/function ids, error codes, and a pure
// decoder from the registers of a VS-mode ecall to what the policy must do.
//
// The decoder does no I/O: it says "answer now", "arm the guest timer",
// "print this byte", or "exit to the VMM with this reason". vcpu.hpp carries
// the actions out. Tested on the host (test/riscv64/sbi_test.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <variant>

#include "axvcpu/addr.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/types.hpp"

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

// SBI 2.0: the version that introduced DBCN, which Linux needs for
// earlycon=sbi. Major in bits 30:24, minor in 23:0.
inline constexpr std::uint64_t spec_version = (2u << 24) | 0;
// Not a registered implementation id: "AXVC" marks this implementation.
inline constexpr std::uint64_t impl_id = 0x41585643;
inline constexpr std::uint64_t impl_version = 1;

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

// --- What to do about a call ------------------------------------------------
namespace action {
// Return `ret` in a0/a1 and resume the guest after the ecall.
struct Answer {
    SbiRet ret;
};
// Arm the guest's timer at `stime` (in time-CSR ticks) and withdraw a pending
// timer interrupt, as SBI set_timer specifies. Answers success (legacy: 0).
struct SetTimer {
    std::uint64_t stime = 0;
};
// Legacy clear_ipi: withdraw the guest's pending software interrupt.
struct ClearIpi {};
struct ConsolePutchar {
    std::uint8_t ch = 0;
    bool legacy = false;  // legacy calls return 0 in a0 and leave a1 alone
};
struct ConsoleGetchar {};
// DBCN read/write of `length` bytes at guest-physical `addr`.
struct ConsoleWrite {
    GuestPhysAddr addr;
    std::uint64_t length = 0;
};
struct ConsoleRead {
    GuestPhysAddr addr;
    std::uint64_t length = 0;
};
// Legacy calls that take a hart mask by pointer (guest virtual address).
struct LegacyMask {
    std::uint64_t eid = 0;
    GuestVirtAddr mask_addr;
};
// Remote fences. The guest's harts are the VM's vCPUs; `hart_mask` and
// `hart_mask_base` as the SBI defines them.
enum class FenceKind : std::uint8_t { FenceI, SfenceVma, SfenceVmaAsid };
struct RemoteFence {
    FenceKind kind = FenceKind::FenceI;
    std::uint64_t hart_mask = 0;
    std::uint64_t hart_mask_base = 0;
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    std::uint64_t asid = 0;
};
struct HartGetStatus {
    std::uint64_t hartid = 0;
};
// hart_suspend. A retentive suspend resumes after the ecall; a non-retentive
// one resumes at `resume_addr` with a0 = hart id and a1 = `opaque`.
struct Suspend {
    bool retentive = true;
    GuestPhysAddr resume_addr;
    std::uint64_t opaque = 0;
};
// Leave run() with the exit reason the decoder wrote to its `exit`
// argument (in place: the reason is never copied on this hot path); sepc is
// past the ecall. For calls that return (`sets_return`), a0/a1 are preset
// to `ret` so the VMM only calls set_return_value to report something else;
// calls that do not return (reset, hart_stop) leave a0..a5 as the guest
// passed them, for the VMM to read (e.g. the SRST reset type and reason).
struct Exit {
    SbiRet ret;
    bool sets_return = true;
};
}  // namespace action

using Action = std::variant<action::Answer, action::SetTimer, action::ClearIpi, action::ConsolePutchar,
                            action::ConsoleGetchar, action::ConsoleWrite, action::ConsoleRead, action::LegacyMask,
                            action::RemoteFence, action::HartGetStatus, action::Suspend, action::Exit>;

[[nodiscard]] constexpr bool is_extension_available(std::uint64_t id) noexcept {
    switch (id) {
        case eid::legacy_set_timer:
        case eid::legacy_console_putchar:
        case eid::legacy_console_getchar:
        case eid::legacy_clear_ipi:
        case eid::legacy_send_ipi:
        case eid::legacy_remote_fence_i:
        case eid::legacy_remote_sfence_vma:
        case eid::legacy_remote_sfence_vma_asid:
        case eid::legacy_shutdown:
        case eid::base:
        case eid::time:
        case eid::ipi:
        case eid::rfence:
        case eid::hsm:
        case eid::srst:
        case eid::dbcn:
        case eid::axvisor_hypercall: return true;
        // PMU is reported absent: a Linux guest otherwise makes ~90 calls
        // probing counters that are not virtualized here.
        default: return false;
    }
}

// The AxVisor hypercall's exit (a6 = number, a0..a5 = arguments): what
// decode_call reports for it, and what VCpu::run builds on its fast path.
[[nodiscard]] constexpr exit::Hypercall hypercall(std::uint64_t nr, std::uint64_t a0, std::uint64_t a1,
                                                  std::uint64_t a2, std::uint64_t a3, std::uint64_t a4,
                                                  std::uint64_t a5) noexcept {
    return exit::Hypercall{nr, {a0, a1, a2, a3, a4, a5}};
}

namespace detail {
inline constexpr action::Answer not_supported{SbiRet{err::not_supported, 0}};
inline constexpr action::Answer ok(std::uint64_t value = 0) { return {SbiRet{err::success, value}}; }

constexpr Action decode_base(const SbiCall& call) {
    switch (call.fid) {
        case fid::base_get_spec_version: return ok(spec_version);
        case fid::base_get_impl_id: return ok(impl_id);
        case fid::base_get_impl_version: return ok(impl_version);
        case fid::base_probe_extension: return ok(is_extension_available(call.args[0]) ? 1 : 0);
        // Zero is a legal "not implemented" answer for the machine ids, and
        // hides the host's identity from the guest.
        case fid::base_get_mvendorid:
        case fid::base_get_marchid:
        case fid::base_get_mimpid: return ok(0);
        default: return not_supported;
    }
}

template <class Payload>
constexpr Action leave(AxVCpuExitReason& out, Payload&& payload, bool sets_return = true) {
    out = static_cast<Payload&&>(payload);
    return action::Exit{{}, sets_return};
}

constexpr Action decode_hsm(const SbiCall& call, AxVCpuExitReason& out) {
    switch (call.fid) {
        case fid::hsm_hart_start:
            return leave(out, exit::CpuUp{call.args[0], GuestPhysAddr(call.args[1]), call.args[2]});
        case fid::hsm_hart_stop: return leave(out, exit::CpuDown{hsm_state::stopped}, false);
        case fid::hsm_hart_get_status: return action::HartGetStatus{call.args[0]};
        case fid::hsm_hart_suspend: {
            const std::uint64_t type = call.args[0] & 0xffffffff;
            if (type == suspend_type::default_retentive)
                return action::Suspend{true, GuestPhysAddr(call.args[1]), call.args[2]};
            if (type == suspend_type::default_non_retentive)
                return action::Suspend{false, GuestPhysAddr(call.args[1]), call.args[2]};
            return action::Answer{SbiRet{err::invalid_param, 0}};
        }
        default: return not_supported;
    }
}

constexpr Action decode_rfence(const SbiCall& call) {
    const auto fence = [&](action::FenceKind kind) -> Action {
        return action::RemoteFence{kind, call.args[0], call.args[1], call.args[2], call.args[3], call.args[4]};
    };
    switch (call.fid) {
        case fid::rfence_remote_fence_i: return fence(action::FenceKind::FenceI);
        case fid::rfence_remote_sfence_vma: return fence(action::FenceKind::SfenceVma);
        case fid::rfence_remote_sfence_vma_asid: return fence(action::FenceKind::SfenceVmaAsid);
        // The hfence functions are for guests that are hypervisors; this
        // guest has no H extension.
        default: return not_supported;
    }
}

constexpr Action decode_dbcn(const SbiCall& call) {
    // The 64-bit address is split into a1 (low) and a2 (high); on RV64 the
    // high half must be zero.
    if (call.fid == fid::dbcn_write_byte) return action::ConsolePutchar{static_cast<std::uint8_t>(call.args[0]), false};
    if (call.fid != fid::dbcn_write && call.fid != fid::dbcn_read) return not_supported;
    if (call.args[2] != 0) return action::Answer{SbiRet{err::invalid_param, 0}};
    if (call.fid == fid::dbcn_write) return action::ConsoleWrite{GuestPhysAddr(call.args[1]), call.args[0]};
    return action::ConsoleRead{GuestPhysAddr(call.args[1]), call.args[0]};
}
}  // namespace detail

// The decision for one VS-mode ecall; for an action::Exit, `exit` holds
// the reason.
[[nodiscard]] constexpr Action decode_call(const SbiCall& call, AxVCpuExitReason& exit) {
    using namespace detail;
    const auto& a = call.args;
    switch (call.eid) {
        case eid::legacy_set_timer: return action::SetTimer{a[0]};
        case eid::legacy_console_putchar: return action::ConsolePutchar{static_cast<std::uint8_t>(a[0]), true};
        case eid::legacy_console_getchar: return action::ConsoleGetchar{};
        case eid::legacy_clear_ipi: return action::ClearIpi{};
        case eid::legacy_send_ipi:
        case eid::legacy_remote_fence_i:
        case eid::legacy_remote_sfence_vma:
        case eid::legacy_remote_sfence_vma_asid: return action::LegacyMask{call.eid, GuestVirtAddr(a[0])};
        case eid::legacy_shutdown: return leave(exit, exit::SystemDown{}, false);
        case eid::base: return decode_base(call);
        case eid::time: return call.fid == fid::time_set_timer ? Action(action::SetTimer{a[0]}) : Action(not_supported);
        case eid::ipi:
            if (call.fid != fid::ipi_send_ipi) return not_supported;
            // hart_mask_base = -1 names every hart, the caller's included,
            // and the mask is ignored (SBI v2.0, "Hart list parameter").
            return leave(exit, exit::SendIPI{a[1], a[0], a[1] == ~std::uint64_t{0}, a[1] == ~std::uint64_t{0}, 1});
        case eid::rfence: return decode_rfence(call);
        case eid::hsm: return decode_hsm(call, exit);
        case eid::srst:
            if (call.fid != fid::srst_system_reset) return not_supported;
            if (a[0] > reset_type::warm_reboot) return action::Answer{SbiRet{err::invalid_param, 0}};
            return leave(exit, exit::SystemDown{}, false);
        case eid::dbcn: return decode_dbcn(call);
        case eid::axvisor_hypercall:
            return leave(exit, hypercall(call.fid, a[0], a[1], a[2], a[3], a[4], a[5]));
        default: return not_supported;
    }
}

// For tests and logs: the action and, for action::Exit, the reason.
struct Decoded {
    Action action;
    AxVCpuExitReason exit;
};
[[nodiscard]] constexpr Decoded decode_call(const SbiCall& call) {
    Decoded decoded{action::Answer{}, exit::Nothing{}};
    decoded.action = decode_call(call, decoded.exit);
    return decoded;
}

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
