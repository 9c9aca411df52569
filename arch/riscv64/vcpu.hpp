// axvcpu::riscv64::VCpu<H>: the ArchVCpu policy for the RISC-V H extension,
// running a guest in VS-mode from an HS-mode host.
//
// Life cycle (driven by AxVCpu):
//   create(vm, vcpu, {hart_id, dtb_addr, page_table_levels})
//       a0 = hart id, a1 = DTB address at guest entry, as on real firmware.
//   set_entry(gpa), set_ept_root(hpa), setup({passthrough_interrupt,
//       passthrough_timer}): guest sstatus.SPP = VS, hstatus SPVP/VSXL
//       (and VTW when WFI traps); hgatp = Sv39x4 or Sv48x4 | VMID | root.
//   bind(): loads the guest's state groups (context.hpp, hstatus among
//       them) and hgatp on this hart and flushes this VMID's stage-2 TLB
//       entries; unbind() saves them back and leaves nothing of the guest
//       live on the hart (the host's hstatus back, hvip and hgatp cleared,
//       an Sstc vstimecmp parked at all ones). vCPUs of
//       different VMs can therefore take turns on one hart; bind refuses
//       (BadState) while another vCPU is bound there.
//   run(): enters the guest and handles what needs no VMM decision itself
//       (the SBI calls sbi_service.hpp answers, redirected illegal
//       instructions), resuming the guest; returns every other trap as an
//       exit reason, or an error for a trap this policy cannot interpret
//       (last_trap() tells which).
//   set_runnable(bool): AxVCpu's gate (api::gated_run); run() refuses
//       (BadState) while its AxVCpu is not Ready.
//
// The host policy H supplies time and the VmmIf queries the SBI service
// uses (see sbi_service.hpp).
//
// Not thread-safe, like AxVCpu: inject_interrupt must not race run() from
// another hart. A VMM kicks the owning hart (IPI) and injects from there.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "arch/riscv64/context.hpp"
#include "arch/riscv64/exceptions.hpp"
#include "arch/riscv64/exit_decode.hpp"
#include "arch/riscv64/interrupts.hpp"
#include "arch/riscv64/sbi.hpp"
#include "arch/riscv64/sbi_service.hpp"
#include "arch/riscv64/stage2.hpp"
#include "arch/riscv64/sysregs.hpp"
#include "arch/riscv64/world_switch.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/config.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/run_publisher.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64 {

struct CreateConfig {
    usize hart_id = 0;          // the guest's a0 at entry (its own hart id)
    GuestPhysAddr dtb_addr;     // the guest's a1 at entry
    usize page_table_levels = 3;  // stage-2 format: 3 = Sv39x4, 4 = Sv48x4
};

struct SetupConfig {
    // Route host external interrupts straight to the guest (AIA guest
    // files). Not supported yet: setup refuses it rather than ignore it.
    bool passthrough_interrupt = false;
    // Let the guest program its timer itself through Sstc (henvcfg.STCE,
    // vstimecmp): SBI set_timer then writes vstimecmp instead of arming a
    // host timer.
    bool passthrough_timer = false;
};

template <class H>
class VCpu {
    static_assert(api::check_time_if<H>());
    static_assert(api::check_vmm_if<H>());

public:
    using CreateConfig = riscv64::CreateConfig;
    using SetupConfig = riscv64::SetupConfig;
    // set_gpr and set_return_value only write the saved context and
    // inject_interrupt only hvip or its saved copy: AxVCpu need not make
    // this vCPU current around them (arch_contract.hpp).
    static constexpr bool plain_vcpu_updates = true;

    static AxResult<VCpu> create(VMId vm, VCpuId vcpu, CreateConfig config) {
        if (!stage2::layout_for_levels(config.page_table_levels)) return ax_err(AxError::InvalidInput);
        VCpu arch;
        arch.vm_ = vm;
        arch.vcpu_ = vcpu;
        arch.levels_ = config.page_table_levels;
        arch.ctx_.guest.x[10] = config.hart_id;
        arch.ctx_.guest.x[11] = config.dtb_addr.value();
        return arch;
    }

    AxResult<void> set_entry(GuestPhysAddr entry) {
        if (!entry.is_aligned(2)) return ax_err(AxError::InvalidInput);
        settle_trap();
        ctx_.guest.sepc = entry.value();
        return ax_ok();
    }

    // The x4 root tables are four pages and need 16 KiB alignment
    // (stage2.hpp builds them).
    AxResult<void> set_ept_root(HostPhysAddr root) {
        if (!root.is_aligned(usize{1} << stage2::Layout::root_align_log2)) return ax_err(AxError::InvalidInput);
        const std::uint64_t mode = stage2::layout_for_levels(levels_)->hgatp_mode();
        hgatp_ = mode | (vmid() << csr::hgatp_bits::vmid_shift) | ((root.value() >> 12) & csr::hgatp_bits::ppn_mask);
        if (bound_) load_hgatp();
        return ax_ok();
    }

    AxResult<void> setup(SetupConfig config) {
        if (config.passthrough_interrupt) return ax_err(AxError::Unsupported);
        passthrough_timer_ = config.passthrough_timer;
        // Hypervisor loads act as VS (SPVP); sret enters VS-mode (SPP, and
        // SPV, which the world switch sets for each run).
        hstatus_.guest = csr::hstatus_bits::spvp | csr::hstatus_bits::vsxl_64 |
                         (config::trap_wfi ? csr::hstatus_bits::vtw : 0);
        reset_supervisor_state();
        timer_ = TimerState{};
        interrupts_ = InterruptState{};
        return ax_ok();
    }

    AxResult<void> bind() {
        if (bound_) return ax_err(AxError::BadState);
        // Another vCPU is bound on this hart: its state there would be
        // overwritten and later saved as this one's. hgatp is 0 exactly
        // when none is (PerCpu::hardware_enable and unbind write 0; a bound
        // vCPU's has a mode).
        if (csr::read<csr::hgatp>() != 0) return ax_err(AxError::BadState);
        hstatus_.load();
        shared_csrs_.load();
        sysregs_.load();
        timer_.load(passthrough_timer_);
        interrupts_.load();
        // Whatever FP state the hart holds belongs to the vCPU bound before.
        fp_.load();
        bound_ = true;
        select_entry();
        load_hgatp();
        return ax_ok();
    }

    AxResult<void> unbind() {
        if (!bound_) return ax_err(AxError::BadState);
        hstatus_.save();
        shared_csrs_.save();
        sysregs_.save();
        // hvip before vstimecmp: QEMU 7.2 clears hvip.VSTIP along with the
        // timer's own VSTIP when vstimecmp is written (bind loads them in
        // the opposite order for the same reason).
        interrupts_.save();
        timer_.save(passthrough_timer_);
        // The hardware marks FS Dirty when the guest wrote FP registers;
        // only then do they need saving.
        if ((ctx_.guest.sstatus & csr::sstatus_bits::fs) == csr::sstatus_bits::fs_dirty) {
            fp_.save();
            ctx_.guest.sstatus = (ctx_.guest.sstatus & ~csr::sstatus_bits::fs) | csr::sstatus_bits::fs_clean;
        }
        // Nothing of this guest stays live on the hart.
        csr::write<csr::hgatp>(0);
        bound_ = false;
        select_entry();
        return ax_ok();
    }

    // The two hottest exits, the AxVisor hypercall and an MMIO read by a
    // 32-bit load, are decided here, inline, and their reasons built
    // straight into the result; everything else continues out of line
    // (exit_slow, page_fault_slow), which leaves its reason in exit_ for
    // run() to copy. The caller's result therefore never escapes to another
    // function, so once AxVCpu::run is inlined into the VMM's loop (it is
    // always_inline) the compiler can keep most of the reason in registers.
    //
    // It publishes the vCPU (RunPublisher) only in exit_slow, the one path
    // that reaches the host API: the fast paths and page_fault_slow decode
    // and return, and host interrupts stay off throughout (enter_guest).
    [[gnu::always_inline]] AxResult<AxVCpuExitReason> run(RunPublisher<VCpu, H> publisher) {
        // No bound_ test here: an unbound vCPU's enter_ refuses the entry
        // (so does one whose AxVCpu is not Ready, set_runnable), which the
        // slow side below turns into BadState.
        const std::uint64_t scause = enter_guest(enter_);
        if (scause == cause::ecall_from_vs) [[likely]] {
            // Set before the EID test while the cause is still in a
            // register (exit_slow's record_trap resets it for other ecalls).
            fast_exit_ = cause::ecall_from_vs;
            if (ctx_.guest.x[17] == sbi::eid::axvisor_hypercall) [[likely]] return hypercall_exit();
        }
        TrapOutcome outcome;
        if (scause == cause::load_guest_page_fault) {
            // Set early, like the hypercall's; reset below if the fast
            // path does not decide the exit.
            fast_exit_ = cause::load_guest_page_fault;
            // In locals: the guest access below may overwrite the CSRs.
            const std::uint64_t stval = csr::read<csr::stval>();
            const std::uint64_t htval = csr::read<csr::htval>();
            const std::uint64_t htinst = csr::read<csr::htinst>();
            // With htinst 0 (QEMU's), a 32-bit load is told completely by
            // one parcel read from guest memory (decode_load_low_half).
            // Anything else takes the general decoder.
            if (htinst == 0) {
                // In a local: the access's asm may write memory, and the
                // compiler would load sepc again after it.
                const std::uint64_t pc = ctx_.guest.sepc;
                const GuestAccess low = guest_access<GuestAccessOp::hlvx_hu>(pc);
                if (!low.fault) {
                    if (const auto load = decode_load_low_half(low.value)) {
                        static_assert(fast_exit_length == 4);  // decode_load_low_half: 32-bit loads only
                        ctx_.guest.sepc = pc + fast_exit_length;
                        trap_.stval = stval;
                        trap_.htval = htval;
                        return AxResult<AxVCpuExitReason>(std::in_place_type<AxVCpuExitReason>,
                                                          load_exit(MmioAccess{guest_fault_address(stval, htval), *load}));
                    }
                }
            }
            fast_exit_ = 0;
            trap_ = TrapRecord{cause::load_guest_page_fault, stval, htval, htinst, ctx_.guest.sepc};
            outcome = page_fault_slow();
        } else if (scause == not_entered) {
            return ax_err(AxError::BadState);
        } else {
            // Not passed: the CSR still holds it, and as an argument it
            // cost a register copy on every exit.
            outcome = exit_slow(publisher);
        }
        if (outcome == TrapOutcome::Fail) return ax_err(error_);
        return AxResult<AxVCpuExitReason>(std::in_place_type<AxVCpuExitReason>, exit_);
    }

    // AxVCpu's gate (api::gated_run): closed, run() refuses the entry
    // through enter_, which it loads anyway.
    void set_runnable(bool runnable) noexcept {
        runnable_ = runnable;
        select_entry();
    }

    AxResult<void> set_gpr(usize index, usize value) {
        if (index >= 32) return ax_err(AxError::InvalidInput);
        if (index != 0) ctx_.guest.x[index] = value;  // writes to x0 are discarded, as in hardware
        return ax_ok();
    }

    // Sets the vector's hvip bit at once (interrupts.hpp): in the CSR while
    // bound (the caller is on this vCPU's hart, as required above), in the
    // state bind loads otherwise. run() then has no queue to drain.
    AxResult<void> inject_interrupt(usize vector) {
        const std::uint64_t bit = hvip_bit(vector);
        if (bit == 0) return ax_err(AxError::InvalidInput);
        if constexpr (config::interrupt_queue_depth < 3) {
            if (!interrupt_fits(bound_ ? csr::read<csr::hvip>() : interrupts_.hvip, bit)) return ax_err(AxError::ResourceBusy);
        }
        if (bound_) {
            csr::set<csr::hvip>(bit);
        } else {
            interrupts_.hvip |= bit;
        }
        return ax_ok();
    }

    void set_return_value(usize value) { ctx_.guest.x[10] = value; }

    // --- riscv64-specific, for the VMM -----------------------------------
    // For a vCPU started again by the guest's SBI hart_start (a CpuUp exit)
    // after it stopped: the hart state a fresh vCPU has, which the call
    // promises (SBI v2.0, 9.1: S-mode, satp = 0, sstatus.SIE = 0), instead
    // of what the vCPU left when it stopped (its translation on, say): every
    // GPR 0, the VS CSRs and FP registers at their reset values. Keeps sepc
    // (set_entry) and what setup chose, and the interrupt and timer state,
    // which belong to the interrupt controller and the timer rather than
    // the hart. The VMM then sets a0 and a1. Unbound only: BadState while
    // the vCPU's state is on a hart.
    AxResult<void> reset_for_cpu_up() {
        if (bound_) return ax_err(AxError::BadState);
        const std::uint64_t sepc = ctx_.guest.sepc;
        ctx_.guest = GuestContext{};
        ctx_.guest.sepc = sepc;
        reset_supervisor_state();
        return ax_ok();
    }

    [[nodiscard]] std::uint64_t gpr(usize index) const noexcept { return index < 32 ? ctx_.guest.x[index] : 0; }
    // Writable, as on bare hardware a debugger could: the trap record is
    // made whole first, so last_trap() still names the instruction that
    // trapped if the VMM moves sepc.
    [[nodiscard]] GuestContext& guest_context() noexcept {
        settle_trap();
        return ctx_.guest;
    }
    [[nodiscard]] const GuestContext& guest_context() const noexcept { return ctx_.guest; }
    [[nodiscard]] TrapRecord last_trap() const noexcept {
        TrapRecord trap = trap_;
        if (fast_exit_ != 0) {
            // run()'s fast paths record only what cannot be derived: the
            // instruction was 4 bytes (ecall; a 32-bit load) and sepc has
            // not moved since but past it, and htinst was 0 for the load.
            trap.scause = fast_exit_;
            trap.sepc = ctx_.guest.sepc - fast_exit_length;
            trap.htinst = 0;
        }
        // The privileged spec has an ecall write zero to stval, htval and
        // htinst, so run() does not read them back for the hypercall.
        if (trap.scause == cause::ecall_from_vs) trap.stval = trap.htval = trap.htinst = 0;
        return trap;
    }
    [[nodiscard]] std::uint64_t hgatp() const noexcept { return hgatp_; }
    [[nodiscard]] VCpuId vcpu_id() const noexcept { return vcpu_; }
    [[nodiscard]] std::uint64_t vmid() const noexcept { return vm_ & 0x3fff; }
    [[nodiscard]] bool is_bound() const noexcept { return bound_; }
    // Bytes the guest has received through SBI console input (legacy
    // getchar, DBCN read). Those calls are answered without an exit, so
    // this is how a VMM can account for or audit the guest's input.
    [[nodiscard]] std::uint64_t console_bytes_read() const noexcept { return sbi_.console_bytes_read(); }

    // Completes an MmioRead exit: writes the loaded value to rd extended as
    // the load instruction specifies (sepc is already past the load).
    AxResult<void> complete_mmio_read(const exit::MmioRead& read, std::uint64_t raw) {
        return set_gpr(read.reg, mmio_load_value(read, raw));
    }

    // Withdraws a pending virtual interrupt: for the VMM's interrupt
    // controller model when the guest claims an external interrupt.
    AxResult<void> clear_interrupt(usize vector) {
        const std::uint64_t bit = hvip_bit(vector);
        if (bit == 0) return ax_err(AxError::InvalidInput);
        if (bound_) {
            csr::clear<csr::hvip>(bit);
        } else {
            interrupts_.hvip &= ~bit;
        }
        return ax_ok();
    }

    // Makes the guest take an exception at its own trap vector, as if the
    // hardware had delegated it, at the instruction that caused the last
    // exit (even if an MMIO exit already moved sepc past it): for accesses
    // the VMM refuses to emulate (NestedPageFault, MMIO to no device ->
    // load/store access fault). Only injectable() causes (exceptions.hpp).
    // Once per exit, between run() calls, bound or not: the VS CSRs it
    // writes live on the hart while the vCPU is bound (call it on the
    // vCPU's hart then) and in SysRegState otherwise.
    AxResult<void> inject_exception(std::uint64_t cause, std::uint64_t tval) {
        if (!injectable(cause)) return ax_err(AxError::InvalidInput);
        settle_trap();
        redirect_to_guest(cause, tval, trap_.sepc);
        return ax_ok();
    }

private:
    VCpu() = default;

    // The guest's supervisor-level state at its start, as setup leaves it:
    // sret enters VS-mode (SPP); FP on (Initial) at the HS level, so the
    // guest's own vsstatus.FS decides whether it uses FP, as on bare
    // hardware; the VS CSRs and FP registers 0 (translation and interrupts
    // off); henvcfg.STCE with Sstc.
    void reset_supervisor_state() noexcept {
        ctx_.guest.sstatus = csr::sstatus_bits::spp | csr::sstatus_bits::fs_initial;
        shared_csrs_ = SharedSupervisorCsrs{};  // the host's halves are recorded at bind
        sysregs_ = SysRegState{};
        if (passthrough_timer_) sysregs_.henvcfg |= csr::henvcfg_bits::stce;
        fp_ = FpState{};
    }

    // One guest run through `entry` (enter_ at run()'s entry): switches
    // and returns scause, or not_entered. Recording the trap for
    // last_trap() is left to each path (record_trap, or a fast path's
    // fast_exit_).
    std::uint64_t enter_guest(GuestEntry entry) {
        // Host interrupts are taken as exits while the guest runs; the
        // host must not take them itself in the middle of the switch.
        csr::clear<csr::sstatus>(csr::sstatus_bits::sie);
        return riscv64::enter_guest(entry, &ctx_);
    }

    // What decode_call and perform(action::Exit) do for the AxVisor
    // hypercall, without the Action detour.
    AxResult<AxVCpuExitReason> hypercall_exit() {
        auto& x = ctx_.guest.x;
        ctx_.guest.sepc += 4;  // ecall has no compressed form
        AxResult<AxVCpuExitReason> result(std::in_place_type<AxVCpuExitReason>,
                                          sbi::hypercall(x[16], x[10], x[11], x[12], x[13], x[14], x[15]));
        // a0/a1 preset to success (action::Exit's sets_return).
        x[10] = 0;
        x[11] = 0;
        return result;
    }

    // A trap handler's TrapOutcome; the exit reason or error is left in
    // `out` (exit_) or error_.
    static TrapOutcome resume() { return TrapOutcome::Resume; }
    template <class Reason>
    static TrapOutcome leave(AxVCpuExitReason& out, Reason&& reason) {
        out = std::forward<Reason>(reason);
        return TrapOutcome::Leave;
    }
    TrapOutcome fail(AxError error) {
        error_ = error;
        return TrapOutcome::Fail;
    }

    // The whole trap, for the slow paths (before they move sepc).
    void record_trap(std::uint64_t scause) {
        fast_exit_ = 0;
        trap_ = TrapRecord{scause, csr::read<csr::stval>(), csr::read<csr::htval>(), csr::read<csr::htinst>(),
                           ctx_.guest.sepc};
    }

    // Makes trap_ the whole record again before sepc moves outside run().
    void settle_trap() noexcept {
        if (fast_exit_ == 0) return;
        trap_ = last_trap();
        fast_exit_ = 0;
    }

    // A load guest page fault the fast path in run() did not decode; its
    // trap values are already recorded (its guest access may have
    // overwritten the CSRs).
    [[gnu::noinline]] TrapOutcome page_fault_slow() { return handle_guest_page_fault(exit_); }

    // Every other exit, resuming the guest as long as the policy handles
    // the traps itself. Published throughout: SBI calls reach the host API
    // (timers, console, VmmIf), which may ask for the current vCPU.
    [[gnu::noinline]] TrapOutcome exit_slow(RunPublisher<VCpu, H> publisher) {
        const auto published = publisher.publish();
        std::uint64_t scause = csr::read<csr::scause>();
        for (;;) {
            record_trap(scause);
            if (const TrapOutcome outcome = handle_trap(exit_); outcome != TrapOutcome::Resume) return outcome;
            // Resumed inside run(), where the vCPU reads Running and the
            // gate is closed (a run() nested in a host call must not pass
            // it): only bound_ decides here. A vCPU a host call made
            // Invalid resumes too, up to the exit this run() returns (as
            // on aarch64); the next run() is refused.
            scause = enter_guest(bound_entry());
            if (scause == not_entered) return fail(AxError::BadState);
        }
    }

    void load_hgatp() {
        csr::write<csr::hgatp>(hgatp_);
        // The root or the VMID on this hart may have changed: drop stale
        // translations tagged with this VMID. hfence.vvma too: a remote
        // fence the guest asked for while this vCPU was not on this hart
        // (sbi_service.hpp widens it to every hart) flushed the VMID live
        // here then, not this one.
        csr::hfence_gvma_vmid(vmid());
        csr::hfence_vvma_all();
    }

    // The trapping instruction, read through the guest's own translation
    // with execute permission (hlvx, world_switch.hpp's guest_access, whose
    // plain-struct result the MMIO-read path keeps in registers). A 32-bit
    // load or AMO is fully classified by its low half (opcode, funct3, rd);
    // only stores and other instructions need the high half (rs2, funct5),
    // which saves a second guest access on every MMIO read.
    std::optional<std::uint32_t> fetch_guest_instruction(std::uint64_t pc) {
        const GuestAccess low = guest_access<GuestAccessOp::hlvx_hu>(pc);
        if (low.fault) return std::nullopt;
        const auto low_half = static_cast<std::uint32_t>(low.value);
        if (instruction_length(low_half) != 4 || (low_half & 0x7f) == 0x03) return low_half;
        const GuestAccess high = guest_access<GuestAccessOp::hlvx_hu>(pc + 2);
        if (high.fault) return std::nullopt;
        return static_cast<std::uint32_t>(low.value | (high.value << 16));
    }

    // Enters the guest's trap vector for an injectable() `cause` taken at
    // `epc` (exceptions.hpp). hstatus.SPVP says which privilege the guest
    // trapped from; it then runs its handler in VS-mode.
    void redirect_to_guest(std::uint64_t cause, std::uint64_t tval, std::uint64_t epc) {
        const std::uint64_t hstatus = bound_ ? csr::read<csr::hstatus>() : hstatus_.guest;
        const ExceptionSource from{epc, (hstatus & csr::hstatus_bits::spvp) != 0,
                                   bound_ ? csr::read<csr::vsstatus>() : sysregs_.vsstatus,
                                   bound_ ? csr::read<csr::vstvec>() : sysregs_.vstvec};
        const std::optional<ExceptionEntry> entry = exception_entry(cause, tval, from);
        if (!entry) return;  // callers pass injectable causes only
        if (bound_) {
            csr::write<csr::vsstatus>(entry->vsstatus);
            csr::write<csr::vscause>(entry->vscause);
            csr::write<csr::vstval>(entry->vstval);
            csr::write<csr::vsepc>(entry->vsepc);
        } else {
            sysregs_.vsstatus = entry->vsstatus;
            sysregs_.vscause = entry->vscause;
            sysregs_.vstval = entry->vstval;
            sysregs_.vsepc = entry->vsepc;
        }
        ctx_.guest.sepc = entry->pc;
        ctx_.guest.sstatus |= csr::sstatus_bits::spp;
        if (bound_) {
            csr::set<csr::hstatus>(csr::hstatus_bits::spvp);
        } else {
            hstatus_.guest |= csr::hstatus_bits::spvp;
        }
    }

    // The exits run() does not handle inline; the reason goes to `out`.
    [[gnu::noinline]] TrapOutcome handle_trap(AxVCpuExitReason& out) {
        const Trap trap = classify_scause(trap_.scause);
        if (trap.interrupt) return leave(out, exit::ExternalInterrupt{trap.code});
        switch (trap.code) {
            case cause::ecall_from_vs: return sbi_.handle(ctx_.guest, {vm_, vcpu_, passthrough_timer_}, out);
            case cause::load_guest_page_fault:
            case cause::store_guest_page_fault:
            case cause::instruction_guest_page_fault: return handle_guest_page_fault(out);
            case cause::virtual_instruction: return handle_virtual_instruction(out);
            // A misaligned AMO or LR/SC (QEMU emulates other misaligned
            // accesses; hardware may not): not delegated (hedeleg_guest),
            // so the firmware hands it here. The guest's own exception.
            case cause::load_misaligned:
            case cause::store_misaligned: redirect_to_guest(trap.code, trap_.stval, trap_.sepc); return resume();
            // PMP faults: stage 2 maps memory the firmware protects, a VMM
            // bug that must surface, not loop.
            case cause::instruction_access_fault:
            case cause::load_access_fault:
            case cause::store_access_fault: return fail(AxError::BadAddress);
            default: return fail(AxError::Unsupported);
        }
    }

    // The last trap (a guest page fault) decoded; the instruction is read
    // from guest memory only when htinst does not describe it.
    GuestPageFault decode_page_fault() {
        GuestPageFaultInfo info{trap_.scause, trap_.stval, trap_.htval, trap_.htinst, std::nullopt};
        if (classify_htinst(trap_.htinst) == HtinstKind::NotProvided &&
            classify_scause(trap_.scause).code != cause::instruction_guest_page_fault)
            info.insn = fetch_guest_instruction(ctx_.guest.sepc);
        return decode_guest_page_fault(info);
    }

    TrapOutcome handle_guest_page_fault(AxVCpuExitReason& out) {
        const GuestPageFault fault = decode_page_fault();
        if (const auto* nested = std::get_if<exit::NestedPageFault>(&fault)) return leave(out, *nested);
        const auto& mmio = std::get<MmioAccess>(fault);
        // Emulated by the VMM: resume after the instruction.
        ctx_.guest.sepc += mmio.access.length;
        return leave(out, mmio_exit(mmio, ctx_.guest.x[mmio.access.reg]));
    }

    TrapOutcome handle_virtual_instruction(AxVCpuExitReason& out) {
        // The instruction as guest memory holds it; stval only if it cannot
        // be read. stval may be 0 (the spec allows it), and QEMU 7.2 leaves
        // an earlier instruction's bits there for the ones it refuses while
        // translating (hlv, hsv, hfence): after a wfi, an hlv.d judged by
        // stval was a Halt that skipped it.
        std::optional<std::uint32_t> insn = fetch_guest_instruction(ctx_.guest.sepc);
        if (!insn && trap_.stval != 0) insn = static_cast<std::uint32_t>(trap_.stval);
        if (insn && is_wfi(*insn)) {
            ctx_.guest.sepc += 4;
            return leave(out, exit::Halt{});
        }
        // Anything else that VS-mode may not do (touching H CSRs, sfence.vma
        // under VTVM, ...) is an illegal instruction from the guest's view.
        redirect_to_guest(cause::illegal_instruction, insn.value_or(0), ctx_.guest.sepc);
        return resume();
    }

    // The world switch while bound and runnable; otherwise
    // axvcpu_rv64_refuse_entry, which returns not_entered without touching
    // the hart. run() thus needs no bound_ or runnable_ test before the
    // switch on any exit: the pointer is loaded instead of the call's
    // address being formed.
    static constexpr std::uint64_t not_entered = ~std::uint64_t{0};  // no real scause
    GuestEntry enter_ = &axvcpu_rv64_refuse_entry;
    [[nodiscard]] GuestEntry bound_entry() const noexcept {
        return bound_ ? &axvcpu_rv64_run_guest : &axvcpu_rv64_refuse_entry;
    }
    void select_entry() noexcept { enter_ = runnable_ ? bound_entry() : &axvcpu_rv64_refuse_entry; }

    SwitchContext ctx_{};
    HypervisorStatus hstatus_{};
    SharedSupervisorCsrs shared_csrs_{};
    AxError error_ = AxError::Unsupported;
    AxVCpuExitReason exit_{};  // handle_trap's exit reason, returned by run()
    SysRegState sysregs_{};
    FpState fp_{};
    TimerState timer_{};
    InterruptState interrupts_{};
    TrapRecord trap_{};  // the last trap, but see fast_exit_
    // Nonzero: the last exit was decided by a fast path in run(), this is
    // its scause, and trap_ holds only its stval and htval (last_trap()
    // derives the rest). Saves the stores of what is derivable per exit.
    std::uint64_t fast_exit_ = 0;
    static constexpr std::uint64_t fast_exit_length = 4;
    SbiService<H> sbi_{};
    std::uint64_t hgatp_ = 0;
    VMId vm_ = 0;
    VCpuId vcpu_ = 0;
    usize levels_ = 3;
    bool passthrough_timer_ = false;
    bool bound_ = false;
    bool runnable_ = true;  // set_runnable; open for a user without AxVCpu
};

}  // namespace axvcpu::riscv64
