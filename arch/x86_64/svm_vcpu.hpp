// axvcpu::x86_64::svm::VCpu<H>: the ArchVCpu policy for AMD SVM, running a
// guest with nested paging from a 64-bit host.
//
// Life cycle (driven by AxVCpu):
//   create(vm, vcpu, {entry_mode, page_table_root, boot_argument})
//       allocates the VMCB, a host save area for VMSAVE, and the I/O and
//       MSR permission maps (H::alloc_frame / alloc_contiguous_frames).
//   set_entry(gpa), set_ept_root(hpa) (the nested CR3), setup({}): the
//       VMCB's intercepts and the guest state for the entry mode
//       (vmcb.hpp): Long64 starts in 64-bit mode with CR3 = page_table_root
//       and RDI = boot_argument; Protected32 is Multiboot's machine state
//       (EAX = 0x2BADB002, EBX = boot_argument). ASID = VM id + 1 (ASID 0
//       is the host's).
//   bind(): refuses (BadState) on a CPU where svm::PerCpu did not turn
//       SVM on or another vCPU is bound (percpu.hpp's CpuRecord); loads
//       the guest's FPU/SSE state and has the next VMRUN flush
//       this ASID's TLB entries (the vCPU may come from another CPU, or
//       its VM's nested tables may have changed); unbind() saves the
//       FPU/SSE state. vCPUs can therefore take turns on one CPU. The host
//       must not use x87/SSE registers while a vCPU is bound (kernel code
//       built with -mgeneral-regs-only does not).
//   run(): enters the guest and handles what needs no VMM decision itself,
//       resuming the guest: CPUID (features.hpp), XSETBV (validated, the
//       guest's XCR0 loaded around each VMRUN), EFER and PAT accesses (the
//       VMCB's copies), the interrupt window (VINTR), the SVM and
//       MONITOR/MWAIT instructions (#UD, as on a CPU without them), the
//       host's NMIs and SMIs (taken by the host when the switch sets GIF),
//       INVD/WBINVD (skipped), string and REP I/O (#GP(0): never emulated
//       as one access; string_io_refused() counts them). Every other exit is decoded by
//       svm::decode_exit into an exit reason with RIP advanced past an
//       emulated instruction, or returns an error (Unsupported for an exit
//       this policy does not model; last_trap() and last_decode_error()
//       tell which).
//
// Interrupts: inject_interrupt(vector 32..255) queues the vector;
// interrupts.hpp decides at each entry whether to inject it (EVENTINJ) or
// to wait for the window. External interrupts of the host exit with INTR
// and come back as ExternalInterrupt; SVM does not say which vector is
// pending (APM 15.21.3), so the reason's vector is 0 and the host takes
// the interrupt itself once it enables interrupts (world_switch.hpp).
//
// Not thread-safe, like AxVCpu: a VMM kicks the owning CPU and injects
// from there.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "arch/x86_64/context.hpp"
#include "arch/x86_64/exit_decode.hpp"
#include "arch/x86_64/features.hpp"
#include "arch/x86_64/guest_paging.hpp"
#include "arch/x86_64/instructions.hpp"
#include "arch/x86_64/interrupts.hpp"
#include "arch/x86_64/percpu.hpp"
#include "arch/x86_64/stage2.hpp"
#include "arch/x86_64/svm.hpp"
#include "arch/x86_64/sysregs.hpp"
#include "arch/x86_64/vcpu_common.hpp"
#include "arch/x86_64/vmcb.hpp"
#include "arch/x86_64/world_switch.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/irq_queue.hpp"
#include "axvcpu/run_publisher.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64::svm {

// The back ends share their configurations (entry_state.hpp).
using x86_64::CreateConfig;
using x86_64::SetupConfig;

template <class H>
class VCpu : public detail::VCpuCommon<VCpu<H>, H> {
    using Base = detail::VCpuCommon<VCpu<H>, H>;
    friend Base;

public:
    // ASIDs are 32-bit and 0 is the host's.
    static AxResult<VCpu> create(VMId vm, VCpuId vcpu, CreateConfig config) {
        return Base::create_common(vm, vcpu, config, 0xFFFF'FFFF);
    }

    VCpu(VCpu&&) noexcept = default;
    VCpu& operator=(VCpu&&) = delete;
    VCpu(const VCpu&) = delete;
    VCpu& operator=(const VCpu&) = delete;
    ~VCpu() = default;

    AxResult<void> set_entry(GuestPhysAddr entry) {
        settle_exit_rip();
        entry_ = entry.value();
        vmcb_->rip = entry_;
        return ax_ok();
    }

    AxResult<void> set_ept_root(HostPhysAddr root) {
        if (!root.is_aligned(stage2::page_size)) return ax_err(AxError::InvalidInput);
        vmcb_->nested_cr3 = root.value();
        flush_pending_ = true;
        entry_flags_ |= entry_work;
        return ax_ok();
    }

    AxResult<void> setup(SetupConfig) {
        const std::uint32_t asid = static_cast<std::uint32_t>(vm_ + 1);
        // CPUID 8000_000A EBX: the number of ASIDs.
        if (asid >= insn::cpuid(cpuid_leaf::svm_features).ebx) return ax_err(AxError::Unsupported);
        set_controls(*vmcb_, pages_.iopm_pa(), pages_.msrpm_pa(), asid, vmcb_->nested_cr3);
        settle_exit_rip();  // RIP moves to the entry
        set_initial_state(*vmcb_, config_.entry_mode, entry_, config_.page_table_root.value());
        ctx_.gprs = Gprs{};
        vmcb_->rax = vmcb_->rsp = 0;
        if (config_.entry_mode == EntryMode::Long64) {
            ctx_.gprs[gpr::rdi] = config_.boot_argument;
        } else {
            vmcb_->rax = multiboot_magic;
            ctx_.gprs[gpr::rbx] = config_.boot_argument & 0xFFFF'FFFF;
        }
        xcr0_.guest = xcr0::x87;
        events_ = GuestEvents{};
        flush_pending_ = true;
        entry_flags_ = static_cast<std::uint16_t>(entry_work | (entry_flags_ & (entry_refused | entry_exit_rip_settled)));
        guest_fpu_ = insn::reset_fx_state();
        return ax_ok();
    }

    AxResult<void> bind() {
        if (this->is_bound()) return ax_err(AxError::BadState);
        // Not on a CPU svm::PerCpu turned SVM on, or another vCPU is bound
        // there: its FPU state is on the CPU, and would be lost.
        CpuRecord* record = this_cpu_record<H>();
        if (record == nullptr || record->bound_vcpu != nullptr) return ax_err(AxError::BadState);
        record->bound_vcpu = this;
        cpu_record_ = record;
        insn::fxrstor(guest_fpu_);
        xcr0_.record_host();
        update_swap_xcr0();
        // FlushByAsid (CPUID 8000_000A EDX[6]) limits the flush to this guest.
        flush_by_asid_ = (insn::cpuid(cpuid_leaf::svm_features).edx & (1u << 6)) != 0;
        flush_pending_ = true;
        entry_flags_ = static_cast<std::uint16_t>((entry_flags_ & ~entry_unbound) | entry_work);
        return ax_ok();
    }

    AxResult<void> unbind() {
        if (!this->is_bound()) return ax_err(AxError::BadState);
        insn::fxsave(guest_fpu_);
        cpu_record_->bound_vcpu = nullptr;
        cpu_record_ = nullptr;
        entry_flags_ |= entry_unbound;
        return ax_ok();
    }

    // The hottest exit, VMMCALL, is decided here, inline, with its reason
    // built straight into the caller's result; every other exit continues
    // out of line (exit_slow). The policy calls nothing of the host API
    // while it runs, so it never publishes the vCPU (RunPublisher).
    [[gnu::always_inline]] AxResult<AxVCpuExitReason> run(RunPublisher<VCpu, H>) {
        // In a local: the switch may write memory, and vmcb_ would be
        // loaded again after it.
        Vmcb* const vmcb = vmcb_;
        // One test of the flag word covers "not bound" and AxVCpu's gate too.
        if (!enter()) [[unlikely]] return ax_err(AxError::BadState);
        // VMMCALL is an instruction intercept, never taken while an event
        // is being delivered: EXITINTINFO is for exit_slow to check.
        if (vmcb->exit_code == exit_code::vmmcall) [[likely]] {
            // The exit's RIP is not kept: exit_rip() derives it.
            vmcb->rip += vmmcall_length;
            return AxResult<AxVCpuExitReason>(std::in_place_type<AxVCpuExitReason>, hypercall_from(vmcb->rax, ctx_.gprs));
        }
        if (exit_slow() == Handled::Fail) return ax_err(error_);
        return AxResult<AxVCpuExitReason>(std::in_place_type<AxVCpuExitReason>, exit_);
    }

    // --- x86_64-specific, for the VMM ------------------------------------------
    // The guest's GPRs (RAX and RSP from the VMCB, where they live).
    [[nodiscard]] Gprs gprs() const noexcept {
        Gprs all = ctx_.gprs;
        all[gpr::rax] = vmcb_->rax;
        all[gpr::rsp] = vmcb_->rsp;
        return all;
    }
    [[nodiscard]] const Vmcb& vmcb() const noexcept { return *vmcb_; }
    // The state the world switch and VMRUN use, writable: for a VMM's own
    // loop around axvcpu_x86_svm_run_guest (the benchmark's hand-written
    // twin) or a debugger. RAX and RSP are the VMCB's while the guest runs.
    // The exit's RIP is kept at each call, as RIP may change (exit_rip()):
    // a reference kept across run() is not tracked.
    [[nodiscard]] Vmcb& vmcb() noexcept {
        settle_exit_rip();
        return *vmcb_;
    }
    [[nodiscard]] SwitchContext& switch_context() noexcept { return ctx_; }
    // The guest's RIP (after an emulated instruction: past it).
    [[nodiscard]] std::uint64_t rip() const noexcept { return vmcb_->rip; }
    // The last exit as the VMCB reports it (valid until the next run()),
    // with the RIP the guest exited at.
    [[nodiscard]] TrapRecord last_trap() const noexcept {
        return TrapRecord{vmcb_->exit_code, vmcb_->exit_info1, vmcb_->exit_info2, vmcb_->exit_int_info, exit_rip(), 0};
    }
    [[nodiscard]] std::uint32_t asid() const noexcept { return vmcb_->asid; }

    // Moves RIP back over the instruction of the last exit, so that the
    // VMM can answer a decoded access with an exception instead.
    AxResult<void> rewind_instruction() {
        settle_exit_rip();
        vmcb_->rip = exit_rip_;
        return ax_ok();
    }

private:
    VCpu() = default;

    enum class Handled : std::uint8_t { Resume, Decode, Fail };

    // The pages the hardware reads (owned and moved with the vCPU:
    // OwnedFrames), filled as this back end needs them.
    class Pages {
    public:
        AxResult<void> allocate() {
            if (!frames_.allocate()) return ax_err(AxError::NoMemory);
            __builtin_memset(host_pointer(vmcb_pa()), 0, sizeof(Vmcb));
            fill_iopm(host_pointer(iopm_pa()));
            fill_msrpm(host_pointer(msrpm_pa()));
            return ax_ok();
        }

        [[nodiscard]] Vmcb* vmcb() const { return reinterpret_cast<Vmcb*>(host_pointer(vmcb_pa())); }
        [[nodiscard]] std::uint64_t vmcb_pa() const noexcept { return frames_.pa(vmcb_frame); }
        [[nodiscard]] std::uint64_t host_save_pa() const noexcept { return frames_.pa(host_save_frame); }
        [[nodiscard]] std::uint64_t iopm_pa() const noexcept { return frames_.pa(iopm_frame); }
        [[nodiscard]] std::uint64_t msrpm_pa() const noexcept { return frames_.pa(msrpm_frame); }

    private:
        enum : usize { vmcb_frame, host_save_frame, iopm_frame, msrpm_frame };
        detail::OwnedFrames<H, 1, 1, iopm_bytes / 4096, msrpm_bytes / 4096> frames_;
    };

    // For create_common.
    AxResult<void> allocate() {
        if (!pages_.allocate()) return ax_err(AxError::NoMemory);
        vmcb_ = pages_.vmcb();
        ctx_.vmcb_pa = pages_.vmcb_pa();
        ctx_.host_save_pa = pages_.host_save_pa();
        return ax_ok();
    }

    // One VMRUN, with prepare_entry's work and the guest's XCR0 if the flag
    // word says so; false, nothing entered, if it says refused.
    [[gnu::always_inline]] bool enter() {
        if (entry_flags_ != 0) [[unlikely]] return enter_with_work();
        axvcpu_x86_svm_run_guest(&ctx_);
        return true;
    }

    // What every exit but run()'s VMMCALL needs first: the RIP it left
    // (the rest of the exit stays in the VMCB until the next VMRUN, where
    // last_trap() reads it), and an event whose delivery the exit cut
    // short, to go again (its EXITINTINFO has EVENTINJ's layout, APM
    // 15.7.2).
    void note_exit() {
        exit_rip_ = vmcb_->rip;
        if ((vmcb_->exit_int_info & event::valid) != 0) {
            events_.reinject(vmcb_->exit_int_info);
            entry_flags_ |= entry_work;
        }
    }

    // The RIP of the last exit. run()'s VMMCALL exit does not store it (3
    // instructions a hypercall): while the VMCB says VMMCALL and RIP has
    // not been moved since, it is RIP less the instruction's length.
    // Whatever moves RIP settles it first, into exit_rip_, with a flag
    // the next entry clears (entry_exit_rip_settled: on the entry's slow
    // side, which the flag sends it to).
    [[nodiscard]] std::uint64_t exit_rip() const noexcept {
        const bool derived = vmcb_->exit_code == exit_code::vmmcall && (entry_flags_ & entry_exit_rip_settled) == 0;
        return derived ? vmcb_->rip - vmmcall_length : exit_rip_;
    }
    void settle_exit_rip() noexcept {
        exit_rip_ = exit_rip();
        entry_flags_ |= entry_exit_rip_settled;
    }

    // The entry with prepare_entry's work and, if the guest's XCR0 is not
    // the reset value, XCR0 switched around the VMRUN; none while not bound
    // or AxVCpu's gate is closed (false). It tests the refusal itself, so
    // that enter() tests the flag word in memory instead of keeping it in
    // a register for this side.
    [[gnu::noinline]] bool enter_with_work() {
        if ((entry_flags_ & entry_refused) != 0) return false;
        entry_flags_ &= static_cast<std::uint16_t>(~entry_exit_rip_settled);
        if ((entry_flags_ & entry_work) != 0) prepare_entry();
        if ((entry_flags_ & entry_xcr0) == 0) {
            axvcpu_x86_svm_run_guest(&ctx_);
            return true;
        }
        insn::xsetbv(0, xcr0_.guest);
        axvcpu_x86_svm_run_guest(&ctx_);
        insn::xsetbv(0, xcr0_.host);
        return true;
    }

    // What an entry needs beyond the switch: a TLB flush after bind or a
    // new nested root, an event to inject, an interrupt window to open or
    // close. entry_flags_' entry_work bit says there may be some; it stays set while an
    // interrupt waits or the window is open.
    void prepare_entry() {
        vmcb_->tlb_control = tlb_control::nothing;
        if (flush_pending_) {
            vmcb_->tlb_control = flush_by_asid_ ? tlb_control::flush_guest : tlb_control::flush_all;
            flush_pending_ = false;
        }
        plan_events();
        const bool more = vmcb_->tlb_control != tlb_control::nothing || vmcb_->event_inj != 0 || events_.any() ||
                          (vmcb_->int_ctl & int_ctl::v_irq) != 0;
        entry_flags_ = static_cast<std::uint16_t>((entry_flags_ & ~entry_work) | (more ? entry_work : 0));
    }

    // Register `index` (encoding order): RAX and RSP are the VMCB's.
    std::uint64_t& reg(usize index) noexcept {
        if (index == gpr::rax) return vmcb_->rax;
        if (index == gpr::rsp) return vmcb_->rsp;
        return ctx_.gprs[index];
    }
    [[nodiscard]] std::uint64_t get_reg(usize index) noexcept { return reg(index); }
    void put_reg(usize index, std::uint64_t value) noexcept { reg(index) = value; }

    // Past an instruction the policy or the VMM emulated: as after the
    // instruction itself, an STI / MOV SS interrupt shadow no longer holds
    // (an `sti; hlt` guest takes its interrupt right after the HLT).
    void advance_rip(std::uint64_t length) {
        vmcb_->rip += length;
        vmcb_->int_state &= ~int_state::shadow;
    }

    // The event of the next entry and whether it must ask for a window.
    void plan_events() {
        const Interruptibility guest{(vmcb_->rflags & rflags::if_) != 0, (vmcb_->int_state & int_state::shadow) != 0,
                                     static_cast<std::uint8_t>(vmcb_->int_ctl & int_ctl::v_tpr_mask)};
        const auto [event, window, blocked_priority] = events_.take(guest);
        vmcb_->event_inj = event;
        // The window is a virtual interrupt (V_IRQ) with VINTR intercepted:
        // the exit comes when the guest could take it. One that ignores the
        // virtual TPR waits for IF and the shadow only; one of the blocked
        // vector's priority, for the guest's TPR to drop below it (APM
        // 15.21.4), as the guest lowers CR8 without an exit.
        constexpr std::uint32_t window_bits = int_ctl::v_irq | int_ctl::v_ign_tpr | (0xFu << int_ctl::v_intr_prio_shift);
        vmcb_->int_ctl &= ~window_bits;
        if (window) {
            vmcb_->int_ctl |= window_bits;
        } else if (blocked_priority != 0) {
            vmcb_->int_ctl |= int_ctl::v_irq | (std::uint32_t{blocked_priority} << int_ctl::v_intr_prio_shift);
        }
        if ((vmcb_->int_ctl & int_ctl::v_irq) != 0) {
            vmcb_->intercept3 |= intercept3::vintr;
        } else {
            vmcb_->intercept3 &= ~intercept3::vintr;
        }
    }

    // Every exit but VMMCALL: the exits the policy answers itself resume
    // the guest here; the first other one is decoded into exit_, or an
    // error into error_.
    [[gnu::noinline]] Handled exit_slow() {
        for (;;) {
            note_exit();
            const TrapRecord trap = last_trap();
            const Handled handled = handle_in_policy(trap);
            if (handled == Handled::Decode) {
                const InstructionBytes insn =
                    trap.exit_code == exit_code::npf ? fetch_guest_instruction() : InstructionBytes{};
                const DecodeResult decoded = decode_exit(trap, gprs(), insn);
                if (!decoded) {
                    decode_error_ = decoded.error();
                    error_ = to_ax_error(decoded.error());
                    return Handled::Fail;
                }
                if (decoded.value().rip_advance != 0) advance_rip(decoded.value().rip_advance);
                exit_ = decoded.value().reason;
                return Handled::Decode;
            }
            if (!enter()) {  // nothing inside a run can close the gate or unbind
                error_ = AxError::BadState;
                return Handled::Fail;
            }
            if (vmcb_->exit_code == exit_code::vmmcall) {  // its RIP derived, as run()'s
                vmcb_->rip += vmmcall_length;
                exit_ = hypercall_from(vmcb_->rax, ctx_.gprs);
                return Handled::Decode;
            }
        }
    }

    // The exits the policy answers itself.
    Handled handle_in_policy(const TrapRecord& trap) {
        switch (trap.exit_code) {
            case exit_code::cpuid: {
                const auto leaf = static_cast<std::uint32_t>(vmcb_->rax);
                const auto subleaf = static_cast<std::uint32_t>(ctx_.gprs[gpr::rcx]);
                const CpuidResult r = guest_cpuid(leaf, subleaf, insn::cpuid(leaf, subleaf), static_cast<std::uint32_t>(vcpu_),
                                                  (vmcb_->cr4 & cr4::osxsave) != 0);
                vmcb_->rax = r.eax;
                ctx_.gprs[gpr::rbx] = r.ebx;
                ctx_.gprs[gpr::rcx] = r.ecx;
                ctx_.gprs[gpr::rdx] = r.edx;
                advance_rip(cpuid_length);
                return Handled::Resume;
            }
            case exit_code::xsetbv: return handle_xsetbv();
            case exit_code::ioio:
                // INS/OUTS and REP IN/OUT move several values through guest
                // memory: never emulated as one access. The guest gets
                // #GP(0) at the instruction (a port it may not use).
                if ((trap.exit_info1 & (ioio::str | ioio::rep)) == 0) return Handled::Decode;
                ++string_io_refused_;
                raise_gp();
                return Handled::Resume;
            case exit_code::vintr:
                // plan_events injects the interrupt now that IF allows it.
                vmcb_->int_ctl &= ~int_ctl::v_irq;
                vmcb_->intercept3 &= ~intercept3::vintr;
                entry_flags_ |= entry_work;
                return Handled::Resume;
            case exit_code::msr: return handle_own_msr(trap);
            case exit_code::nmi:
            case exit_code::smi:
                // The host's NMI or SMI: held pending while GIF is clear and
                // taken by the host when the switch sets GIF (APM 15.17);
                // the guest goes on.
                return Handled::Resume;
            case exit_code::vmrun:
            case exit_code::vmload:
            case exit_code::vmsave:
            case exit_code::stgi:
            case exit_code::clgi:
            case exit_code::skinit:
            case exit_code::invlpga:
            case exit_code::monitor:
            case exit_code::mwait:
            case exit_code::mwait_conditional: raise_ud(); return Handled::Resume;
            case exit_code::invd:
            case exit_code::wbinvd:
                // 0F 08 / 0F 09: the guest's caches are the host's; nothing to do.
                advance_rip(2);
                return Handled::Resume;
            default: return Handled::Decode;
        }
    }

    // XSETBV (0F 01 D1), by the rules of xsetbv_action.
    Handled handle_xsetbv() {
        const auto index = static_cast<std::uint32_t>(ctx_.gprs[gpr::rcx]);
        const std::uint64_t value = ((ctx_.gprs[gpr::rdx] & 0xFFFF'FFFF) << 32) | (vmcb_->rax & 0xFFFF'FFFF);
        switch (xcr0_.guest_xsetbv((vmcb_->cr4 & cr4::osxsave) != 0, vmcb_->cpl, index, value)) {
            case XsetbvAction::RaiseUd: raise_ud(); return Handled::Resume;
            case XsetbvAction::RaiseGp: raise_gp(); return Handled::Resume;
            case XsetbvAction::Accept: break;
        }
        update_swap_xcr0();
        advance_rip(xsetbv_length);
        return Handled::Resume;
    }

    // EFER and PAT live in the VMCB; every other MSR goes to the VMM.
    Handled handle_own_msr(const TrapRecord& trap) {
        const auto index = static_cast<std::uint32_t>(ctx_.gprs[gpr::rcx]);
        const bool write = trap.exit_info1 == 1;
        if (index != msr::ia32_efer && index != msr::ia32_pat) return Handled::Decode;
        const std::uint64_t value = ((ctx_.gprs[gpr::rdx] & 0xFFFF'FFFF) << 32) | (vmcb_->rax & 0xFFFF'FFFF);
        if (index == msr::ia32_pat) {
            if (!write) {
                this->complete_msr_read(vmcb_->g_pat);
            } else if (pat_valid(value)) {
                vmcb_->g_pat = value;
            } else {
                raise_gp();
                return Handled::Resume;
            }
        } else if (!write) {
            // SVME is set for VMRUN's sake, not the guest's.
            this->complete_msr_read(vmcb_->efer & ~msr::efer::svme);
        } else {
            const std::optional<std::uint64_t> efer =
                guest_efer_write(vmcb_->efer, value, (vmcb_->cr0 & cr0::pg) != 0);
            if (!efer) {
                raise_gp();
                return Handled::Resume;
            }
            // SVME stays set: VMRUN requires it of every guest.
            vmcb_->efer = *efer | msr::efer::svme;
        }
        advance_rip(msr_instruction_length);
        return Handled::Resume;
    }

    // The bytes at the guest's RIP, through its own paging and this VM's
    // nested tables.
    [[nodiscard]] InstructionBytes fetch_guest_instruction() const {
        const PagingState paging{vmcb_->cr0, vmcb_->cr3, vmcb_->cr4, vmcb_->efer};
        const CpuMode mode = code_mode((vmcb_->efer & msr::efer::lma) != 0, (vmcb_->cs.attrib & seg_attrib::l) != 0,
                                       (vmcb_->cs.attrib & seg_attrib::db) != 0);
        const std::uint64_t linear = mode == CpuMode::Bits64 ? vmcb_->rip : vmcb_->cs.base + vmcb_->rip;
        return Base::template guest_memory<stage2::Format>(vmcb_->nested_cr3).fetch_instruction(paging, linear, mode);
    }

    static constexpr std::uint64_t cpuid_length = 2;   // 0F A2
    static constexpr std::uint64_t xsetbv_length = 3;  // 0F 01 D1

    using Base::config_, Base::entry_, Base::exit_rip_, Base::decode_error_, Base::exit_, Base::error_, Base::events_,
        Base::xcr0_, Base::string_io_refused_, Base::guest_fpu_, Base::vm_, Base::vcpu_, Base::flush_pending_,
        Base::entry_flags_, Base::entry_work, Base::entry_xcr0, Base::entry_unbound, Base::entry_refused, Base::host_pointer,
        Base::raise_ud, Base::raise_gp, Base::update_swap_xcr0;

    static constexpr std::uint16_t entry_exit_rip_settled = Base::first_backend_flag;

    SwitchContext ctx_{};
    Pages pages_{};
    Vmcb* vmcb_ = nullptr;
    CpuRecord* cpu_record_ = nullptr;  // while bound: the CPU's, naming this vCPU
    bool flush_by_asid_ = false;
};

}  // namespace axvcpu::x86_64::svm
