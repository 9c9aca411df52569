// The SBI calls the riscv64 policy carries out for its guest: what
// sbi::decode_call (exit_decode.hpp) decided, done on the hart and through the host
// API while run() is inside the guest's ecall.
//
// The rule, the same as aarch64's PSCI service (psci_service.hpp): a call
// whose answer needs no decision of the VMM is answered here and the guest
// resumes without an exit: base, TIME (a host timer, or vstimecmp with
// Sstc), RFENCE, HSM hart_get_status, DBCN and the legacy console, legacy
// clear_ipi, and NOT_SUPPORTED for anything the policy does not implement.
// run() returns only for what the VMM must decide: hart_start (CpuUp),
// hart_stop (CpuDown), hart_suspend (Halt), SRST and legacy shutdown
// (SystemDown), IPIs (SendIPI) and the AxVisor hypercall (Hypercall).
//
// handle() reaches the host API (TimeIf, VmmIf) and the firmware: call it
// with the vCPU published (RunPublisher).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "arch/riscv64/context.hpp"
#include "arch/riscv64/exit_decode.hpp"
#include "arch/riscv64/sbi.hpp"
#include "arch/riscv64/sysregs.hpp"
#include "arch/riscv64/world_switch.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64 {

template <class H>
class SbiService {
    static_assert(api::check_time_if<H>());
    static_assert(api::check_vmm_if<H>());

public:
    // Who is calling: the timer callback and HSM status need the ids, the
    // timer call needs to know whether the guest owns vstimecmp (Sstc).
    struct Caller {
        VMId vm = 0;
        VCpuId vcpu = 0;
        bool passthrough_timer = false;
    };

    // One VS-mode ecall, with sepc still on it: moves sepc past it, then
    // either answers in a0/a1 (Resume) or leaves the reason in `out` (Leave;
    // a0/a1 preset as sbi::action::Exit says).
    TrapOutcome handle(GuestContext& guest, const Caller& caller, AxVCpuExitReason& out) {
        auto& x = guest.x;
        const sbi::SbiCall call{x[17], x[16], {x[10], x[11], x[12], x[13], x[14], x[15]}};
        // ecall has no compressed form.
        guest.sepc += 4;
        return std::visit([&](auto&& action) { return perform(action, guest, caller, out); },
                          sbi::decode_call(call, out));
    }

    // Bytes the guest has received through SBI console input (legacy
    // getchar, DBCN read). Those calls are answered without an exit, so
    // this is how a VMM can account for or audit the guest's input.
    [[nodiscard]] std::uint64_t console_bytes_read() const noexcept { return console_bytes_read_; }

private:
    static void set_return(GuestContext& guest, const sbi::SbiRet& ret) {
        guest.x[10] = static_cast<std::uint64_t>(ret.error);
        guest.x[11] = ret.value;
    }

    TrapOutcome perform(const sbi::action::Answer& answer, GuestContext& guest, const Caller&, AxVCpuExitReason&) {
        set_return(guest, answer.ret);
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::Exit& request, GuestContext& guest, const Caller&, AxVCpuExitReason&) {
        if (request.sets_return) set_return(guest, request.ret);
        return TrapOutcome::Leave;
    }

    TrapOutcome perform(const sbi::action::SetTimer& timer, GuestContext& guest, const Caller& caller,
                        AxVCpuExitReason&) {
        csr::clear<csr::hvip>(csr::hvip_bits::vstip);
        if (caller.passthrough_timer) {
            csr::write<csr::vstimecmp>(timer.stime);
        } else {
            if (timer_token_) H::cancel_timer(*timer_token_);
            timer_token_.reset();
            if (timer.stime != ~std::uint64_t{0})
                timer_token_ = H::register_timer(H::ticks_to_nanos(timer.stime), &timer_expired, timer_context(caller));
        }
        set_return(guest, {});
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::ClearIpi&, GuestContext& guest, const Caller&, AxVCpuExitReason&) {
        csr::clear<csr::hvip>(csr::hvip_bits::vssip);
        guest.x[10] = 0;
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::ConsolePutchar& put, GuestContext& guest, const Caller&,
                        AxVCpuExitReason&) {
        sbi::ecall(sbi::eid::legacy_console_putchar, 0, put.ch);
        if (put.legacy) {
            guest.x[10] = 0;
        } else {
            set_return(guest, {});
        }
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::ConsoleGetchar&, GuestContext& guest, const Caller&, AxVCpuExitReason&) {
        const std::int64_t got = sbi::ecall(sbi::eid::legacy_console_getchar, 0).error;
        if (got >= 0) ++console_bytes_read_;
        guest.x[10] = static_cast<std::uint64_t>(got);
        return TrapOutcome::Resume;
    }

    // At most this many bytes per DBCN write: each is a firmware call made
    // inside run(), so a guest's huge length would hold the hart for good.
    // SBI v2.0, 12.1: the write may be partial, the count written returned
    // (Linux's earlycon and hvc drivers write the rest again).
    static constexpr std::uint64_t console_write_limit = 256;

    TrapOutcome perform(const sbi::action::ConsoleWrite& write, GuestContext& guest, const Caller&,
                        AxVCpuExitReason&) {
        const std::uint64_t length = write.length < console_write_limit ? write.length : console_write_limit;
        std::uint64_t done = 0;
        for (; done < length; ++done) {
            const GuestAccess byte = guest_phys_access<GuestAccessOp::hlv_bu>(write.addr.value() + done);
            if (byte.fault) {
                set_return(guest, {done == 0 ? sbi::err::invalid_param : sbi::err::success, done});
                return TrapOutcome::Resume;
            }
            sbi::ecall(sbi::eid::legacy_console_putchar, 0, byte.value);
        }
        set_return(guest, {sbi::err::success, done});
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::ConsoleRead& read, GuestContext& guest, const Caller&, AxVCpuExitReason&) {
        std::uint64_t done = 0;
        for (; done < read.length; ++done) {
            // Check the byte can be stored before taking it from the
            // firmware: a byte read and then refused would be lost to the
            // guest, and a bad buffer would pass unnoticed while no input
            // is waiting. The probe writes back what is already there.
            const std::uint64_t gpa = read.addr.value() + done;
            const GuestAccess old = guest_phys_access<GuestAccessOp::hlv_bu>(gpa);
            if (old.fault || guest_phys_access<GuestAccessOp::hsv_b>(gpa, old.value).fault) {
                set_return(guest, {done == 0 ? sbi::err::invalid_param : sbi::err::success, done});
                return TrapOutcome::Resume;
            }
            const auto got = sbi::ecall(sbi::eid::legacy_console_getchar, 0).error;
            if (got < 0) break;
            (void)guest_phys_access<GuestAccessOp::hsv_b>(gpa, static_cast<std::uint64_t>(got));
            ++console_bytes_read_;
        }
        set_return(guest, {sbi::err::success, done});
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::LegacyMask& call, GuestContext& guest, const Caller&,
                        AxVCpuExitReason& out) {
        // The mask pointer is a guest virtual address: read through the
        // guest's own translation.
        const GuestAccess mask = guest_access<GuestAccessOp::hlv_d>(call.mask_addr.value());
        if (mask.fault) {
            guest.x[10] = static_cast<std::uint64_t>(sbi::err::invalid_address);
            return TrapOutcome::Resume;
        }
        guest.x[10] = 0;
        if (call.eid == sbi::eid::legacy_send_ipi) {
            out = exit::SendIPI{0, mask.value, false, false, irq::supervisor_software};
            return TrapOutcome::Leave;
        }
        const auto kind =
            call.eid == sbi::eid::legacy_remote_fence_i ? sbi::action::FenceKind::FenceI : sbi::action::FenceKind::SfenceVma;
        guest.x[10] = static_cast<std::uint64_t>(fence(kind));
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::RemoteFence& request, GuestContext& guest, const Caller&,
                        AxVCpuExitReason&) {
        set_return(guest, {fence(request.kind), 0});
        return TrapOutcome::Resume;
    }

    // Remote fences are widened to every hart: which harts run this VM's
    // other vCPUs is the VMM's knowledge, and an extra flush of another
    // guest's VS-stage TLB is harmless. hfence.vvma on each hart applies
    // to the VMID live there; a vCPU of this VM that was not on its hart
    // then flushes its VMID when it binds again (VCpu::load_hgatp).
    // Returns the firmware's error, which the guest gets back.
    static std::int64_t fence(sbi::action::FenceKind kind) {
        constexpr std::uint64_t all_harts = ~std::uint64_t{0};
        if (kind == sbi::action::FenceKind::FenceI) {
            csr::fence_i();
            return sbi::ecall(sbi::eid::rfence, sbi::fid::rfence_remote_fence_i, 0, all_harts).error;
        }
        csr::hfence_vvma_all();
        // remote_hfence_vvma over the whole address space.
        constexpr std::uint64_t remote_hfence_vvma = 6;
        return sbi::ecall(sbi::eid::rfence, remote_hfence_vvma, 0, all_harts, 0, 0).error;
    }

    TrapOutcome perform(const sbi::action::HartGetStatus& query, GuestContext& guest, const Caller& caller,
                        AxVCpuExitReason&) {
        const std::optional<usize> count = H::vcpu_num(caller.vm);
        const std::optional<VCpuSet> active = H::active_vcpus(caller.vm);
        if (!count || !active) {
            set_return(guest, {sbi::err::failed, 0});
        } else if (query.hartid >= *count) {
            set_return(guest, {sbi::err::invalid_param, 0});
        } else {
            set_return(guest, {sbi::err::success,
                               active->contains(query.hartid) ? sbi::hsm_state::started : sbi::hsm_state::stopped});
        }
        return TrapOutcome::Resume;
    }

    TrapOutcome perform(const sbi::action::Suspend& suspend, GuestContext& guest, const Caller& caller,
                        AxVCpuExitReason& out) {
        if (!suspend.retentive &&
            guest_phys_access<GuestAccessOp::hlvx_hu>(suspend.resume_addr.value()).fault) {
            // G-stage forbids executing there (SBI v2.0, HSM hart_suspend:
            // INVALID_ADDRESS): resumed there, the hart would fault at its
            // entry and then at its unset trap vector for ever.
            set_return(guest, {sbi::err::invalid_address, 0});
            return TrapOutcome::Resume;
        }
        set_return(guest, {});
        if (!suspend.retentive) {
            // Resumes like a fresh start: a0 = hart id, a1 = opaque, paging
            // and interrupts off (SBI HSM non-retentive suspend).
            guest.sepc = suspend.resume_addr.value();
            guest.x[10] = caller.vcpu;
            guest.x[11] = suspend.opaque;
            csr::write<csr::vsatp>(0);
            csr::clear<csr::vsstatus>(csr::sstatus_bits::sie);
        }
        out = exit::Halt{};
        return TrapOutcome::Leave;
    }

    // Guest-physical access (SBI passes physical addresses): the guest's
    // own paging is switched off for the access.
    template <GuestAccessOp Op>
    static GuestAccess guest_phys_access(std::uint64_t gpa, std::uint64_t value = 0) {
        const std::uint64_t vsatp = csr::swap<csr::vsatp>(0);
        auto result = guest_access<Op>(gpa, value);
        csr::write<csr::vsatp>(vsatp);
        return result;
    }

    static void* timer_context(const Caller& caller) noexcept {
        // The timer outlives no VM id/vCPU id pair, but may outlive the
        // vCPU's address (AxVCpu can be moved): carry ids, not `this`.
        return reinterpret_cast<void*>((static_cast<std::uintptr_t>(caller.vm) << 32) | (caller.vcpu & 0xffffffff));
    }

    // The host timer's callback: the VMM passes the vector on to
    // AxVCpu::inject_interrupt.
    static void timer_expired(void* context, std::uint64_t) {
        const auto packed = reinterpret_cast<std::uintptr_t>(context);
        const VMId vm = packed >> 32;
        const VCpuId vcpu = packed & 0xffffffff;
        H::inject_interrupt(vm, vcpu, static_cast<InterruptVector>(irq::supervisor_timer));
        H::notify_vcpu_timer_expired(vm, vcpu);
    }

    std::optional<CancelToken> timer_token_;
    std::uint64_t console_bytes_read_ = 0;
};

}  // namespace axvcpu::riscv64
