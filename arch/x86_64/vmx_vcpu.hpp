// axvcpu::x86_64::vmx::VCpu<H>: the ArchVCpu policy for Intel VMX, running
// a guest with EPT and a VPID from a 64-bit host in VMX operation
// (vmx::PerCpu).
//
// Life cycle (driven by AxVCpu):
//   create(vm, vcpu, {entry_mode, page_table_root, boot_argument})
//       allocates the VMCS, the MSR bitmap and a page for the MSR switch
//       lists (H::alloc_frame).
//   set_entry(gpa), set_ept_root(hpa) (the EPT root), setup({}): reads the
//       CPU's capability MSRs, plans the controls (vmcs::plan_controls:
//       Unsupported when a required one is missing, last_setup_error()
//       says which) and writes the VMCS of vmcs::setup_plan: the entry
//       state of entry_state.hpp (Long64: 64-bit mode, CR3 =
//       page_table_root, RDI = boot_argument; Protected32: Multiboot's
//       machine state, which needs "unrestricted guest"), VPID = VM id + 1.
//       setup must run on a CPU in VMX operation (BadState otherwise, as
//       for bind); it leaves the VMCS clear and the CPU's current VMCS as
//       it found it.
//   bind(): refuses (BadState) while another vCPU's VMCS is current on
//       this CPU; makes the VMCS current on this CPU (VMPTRLD), writes the
//       host state VM exit loads (this CPU's CR0/CR3/CR4, selectors, TSS,
//       GDT/IDT bases, FS/GS bases, SYSENTER MSRs, EFER, PAT) and the
//       host's syscall MSRs into the exit-load list, loads the guest's
//       FPU/SSE state and flushes this guest's EPT and VPID TLB entries at
//       the next entry. unbind() saves the FPU/SSE state and VMCLEARs the
//       VMCS, so that the vCPU can be bound next on any CPU. The host must
//       not change the state bind() recorded while the vCPU is bound (its
//       page tables, FS/GS bases, syscall MSRs) and must not use x87/SSE.
//   run(): enters the guest and handles what needs no VMM decision itself,
//       resuming the guest: CPUID, XSETBV (the guest's XCR0 loaded around
//       each entry), EFER and PAT (the VMCS's fields, switched by VM entry
//       and exit), MOV to CR0/CR4 of the bits the policy owns
//       (vmcs::emulate_cr0_write / emulate_cr4_write), the interrupt
//       window, the VMX instructions, GETSEC and MONITOR/MWAIT (#UD, as on
//       a CPU without them), INVD/WBINVD (skipped), string and REP I/O
//       (#GP(0)), MOV to/from CR8 (the guest's own TPR, tpr()), the first
//       MOV DR (from then on DR0-DR3 and DR6 are switched around every
//       entry; DR7 and IA32_DEBUGCTL always are, by entry and exit), and
//       the host's NMIs (run through the host's IDT vector 2, whose IRET
//       ends the blocking the exit left). Every other exit is decoded by
//       vmx::decode_exit, with RIP advanced past an emulated instruction,
//       or returns an error (last_trap() and last_decode_error() tell
//       which).
//
// The guest's CR2 is loaded and saved by the world switch; its XCR0 is
// loaded around the entry whenever it differs from the host's; its x87/SSE
// state is switched at bind/unbind, and it is offered no other XSAVE
// component (features.hpp). After each exit the host's GDTR and IDTR
// limits, which VM exit sets to 0xFFFF (SDM vol. 3C, 28.5.2), are reloaded
// when they differ, and TR's limit is 0x67 until the host reloads TR
// (harmless unless the host's TSS has an I/O bitmap).
//
// Interrupts: inject_interrupt(vector 32..255) queues the vector;
// interrupts.hpp decides at each entry whether to inject it or to open the
// interrupt window. External interrupts of the host exit with their
// vector acknowledged ("acknowledge interrupt on exit") and come back as
// ExternalInterrupt{vector}: the interrupt controller has delivered it,
// so the VMM must run the host's handler for that vector itself (as KVM
// does), not wait for the CPU to take it.
//
// Not thread-safe, like AxVCpu.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "arch/x86_64/context.hpp"
#include "arch/x86_64/entry_state.hpp"
#include "arch/x86_64/exit_decode.hpp"
#include "arch/x86_64/features.hpp"
#include "arch/x86_64/guest_paging.hpp"
#include "arch/x86_64/instructions.hpp"
#include "arch/x86_64/interrupts.hpp"
#include "arch/x86_64/percpu.hpp"
#include "arch/x86_64/stage2.hpp"
#include "arch/x86_64/sysregs.hpp"
#include "arch/x86_64/vcpu_common.hpp"
#include "arch/x86_64/vmcs.hpp"
#include "arch/x86_64/vmx.hpp"
#include "arch/x86_64/world_switch.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/irq_queue.hpp"
#include "axvcpu/run_publisher.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64::vmx {

// The back ends share their configurations (entry_state.hpp).
using x86_64::CreateConfig;
using x86_64::SetupConfig;

template <class H>
class VCpu : public detail::VCpuCommon<VCpu<H>, H> {
    using Base = detail::VCpuCommon<VCpu<H>, H>;
    friend Base;

public:
    // VPIDs are 16-bit and 0 is the host's.
    static AxResult<VCpu> create(VMId vm, VCpuId vcpu, CreateConfig config) {
        return Base::create_common(vm, vcpu, config, 0xFFFF);
    }

    VCpu(VCpu&&) noexcept = default;
    VCpu& operator=(VCpu&&) = delete;
    VCpu(const VCpu&) = delete;
    VCpu& operator=(const VCpu&) = delete;
    ~VCpu() = default;

    // Before setup(): the entry setup() writes. After it: GUEST_RIP, now
    // if this vCPU's VMCS is current on this CPU, else at the next bind (a
    // VMWRITE reaches only the current VMCS, which on another CPU than the
    // one the vCPU is bound to is not this one's).
    AxResult<void> set_entry(GuestPhysAddr entry) {
        entry_ = entry.value();
        if (this->is_bound() && insn::vmptrst() == pages_.vmcs_pa()) {
            (void)insn::vmwrite(vmcs::field::guest_rip, entry_);
        } else {
            rip_pending_ = true;
        }
        return ax_ok();
    }

    AxResult<void> set_ept_root(HostPhysAddr root) {
        if (!root.is_aligned(stage2::page_size)) return ax_err(AxError::InvalidInput);
        eptp_ = stage2::ept::pointer(root.value());
        if (this->is_bound()) (void)insn::vmwrite(vmcs::field::ept_pointer, eptp_);
        flush_pending_ = true;
        entry_flags_ |= entry_work;
        return ax_ok();
    }

    AxResult<void> setup(SetupConfig) {
        // Outside VMX operation (no vmx::PerCpu enabled here) the capability
        // MSRs may not exist and VMPTRST raises #UD: refuse instead.
        if (this->is_bound() || (insn::read_cr4() & cr4::vmxe) == 0) return ax_err(AxError::BadState);
        caps_ = read_capabilities();
        controls_ = vmcs::plan_controls(caps_, config_.entry_mode);
        if (!controls_.ok()) return ax_err(AxError::Unsupported);
        const EntryState state = entry_state(config_.entry_mode, entry_, config_.page_table_root.value());
        cr0_mask_ = vmcs::cr0_owned(caps_);
        cr4_mask_ = vmcs::cr4_owned(caps_);
        const vmcs::VCpuPages pages{pages_.msr_bitmap_pa(), pages_.guest_msrs_pa(), pages_.host_msrs_pa(), eptp_,
                                    static_cast<std::uint16_t>(vm_ + 1)};
        // The VMCS is made current here only to be written: the CPU's
        // current VMCS (a bound vCPU's) is current again afterwards.
        const std::uint64_t previous = insn::vmptrst();
        *Base::template host_pointer<std::uint32_t>(pages_.vmcs_pa()) = msr::vmx_basic::revision_id(caps_.basic);
        if (!insn::vmclear(pages_.vmcs_pa()) || !insn::vmptrld(pages_.vmcs_pa())) return ax_err(AxError::BadState);
        for (const vmcs::FieldWrite& w : vmcs::setup_plan(caps_, controls_, state, pages)) (void)insn::vmwrite(w.field, w.value);
        (void)insn::vmclear(pages_.vmcs_pa());
        if (previous != ~std::uint64_t{0}) (void)insn::vmptrld(previous);
        ctx_ = SwitchContext{};
        if (config_.entry_mode == EntryMode::Long64) {
            ctx_.gprs[gpr::rdi] = config_.boot_argument;
        } else {
            ctx_.gprs[gpr::rax] = multiboot_magic;
            ctx_.gprs[gpr::rbx] = config_.boot_argument & 0xFFFF'FFFF;
        }
        xcr0_.guest = xcr0::x87;
        tpr_ = 0;
        guest_debug_ = DebugRegisters{};
        entry_flags_ = static_cast<std::uint16_t>(entry_work | (entry_flags_ & entry_refused));
        events_ = GuestEvents{};
        reinject_length_ = 0;
        guest_fpu_ = insn::reset_fx_state();
        flush_pending_ = true;
        rip_pending_ = false;  // the plan wrote entry_
        return ax_ok();
    }

    AxResult<void> bind() {
        if (this->is_bound() || controls_.error != vmcs::SetupError::None) return ax_err(AxError::BadState);
        if ((insn::read_cr4() & cr4::vmxe) == 0) return ax_err(AxError::BadState);  // VMPTRLD would be #UD
        // Another vCPU is bound on this CPU: its VMCS is current. VMXON
        // leaves no VMCS current and unbind's VMCLEAR of the current one
        // invalidates the pointer (SDM Vol. 3C, 30.3, VMCLEAR), so it is
        // all ones exactly when none is bound (setup() restores it).
        if (insn::vmptrst() != ~std::uint64_t{0}) return ax_err(AxError::BadState);
        if (!insn::vmptrld(pages_.vmcs_pa())) return ax_err(AxError::BadState);
        record_host_state();
        (void)insn::vmwrite(vmcs::field::guest_rsp, ctx_.gprs[gpr::rsp]);
        (void)insn::vmwrite(vmcs::field::ept_pointer, eptp_);
        if (rip_pending_) {
            (void)insn::vmwrite(vmcs::field::guest_rip, entry_);
            rip_pending_ = false;
        }
        insn::fxrstor(guest_fpu_);
        xcr0_.record_host();
        update_swap_xcr0();
        // VM exit leaves DR7 = 400H and IA32_DEBUGCTL = 0 (28.5.1): a host
        // that uses its own breakpoints or branch tracing gets them back
        // after every run.
        host_debug_.dr7 = insn::read_dr<7>();
        host_debugctl_ = insn::rdmsr(msr::ia32_debugctl);
        update_swap_debug();
        flush_pending_ = true;
        entry_flags_ = static_cast<std::uint16_t>((entry_flags_ & ~entry_unbound) | entry_work);
        return ax_ok();
    }

    AxResult<void> unbind() {
        if (!this->is_bound()) return ax_err(AxError::BadState);
        ctx_.gprs[gpr::rsp] = insn::vmread(vmcs::field::guest_rsp);
        insn::fxsave(guest_fpu_);
        (void)insn::vmclear(pages_.vmcs_pa());
        ctx_.launched = 0;
        entry_flags_ |= entry_unbound;
        return ax_ok();
    }

    // The hottest exit, VMCALL, is decided here, inline; every other exit
    // continues out of line (exit_slow). The policy calls nothing of the
    // host API while it runs, so it never publishes the vCPU.
    [[gnu::always_inline]] AxResult<AxVCpuExitReason> run(RunPublisher<VCpu, H>) {
        if ((entry_flags_ & entry_refused) != 0) [[unlikely]] return ax_err(AxError::BadState);
        if (enter_guest() == exit_reason::vmcall) [[likely]]
            return AxResult<AxVCpuExitReason>(std::in_place_type<AxVCpuExitReason>, vmcall_exit());
        if (exit_slow() == Handled::Fail) return ax_err(error_);
        return AxResult<AxVCpuExitReason>(std::in_place_type<AxVCpuExitReason>, exit_);
    }

    // --- x86_64-specific, for the VMM ------------------------------------------
    // The guest's GPRs (RSP from the VMCS while bound).
    [[nodiscard]] Gprs gprs() const {
        Gprs all = ctx_.gprs;
        all[gpr::rsp] = get_reg(gpr::rsp);
        return all;
    }
    // The state the world switch uses, writable: for a VMM's own loop
    // around axvcpu_x86_vmx_run_guest or a debugger.
    [[nodiscard]] SwitchContext& switch_context() noexcept { return ctx_; }
    [[nodiscard]] std::uint64_t vmcs_pa() const noexcept { return pages_.vmcs_pa(); }
    // The guest's RIP (after an emulated instruction: past it); bound only.
    [[nodiscard]] std::uint64_t rip() const { return insn::vmread(vmcs::field::guest_rip); }
    // The last exit as the VMCS reports it (bound, until the next run()),
    // with the RIP the guest exited at.
    [[nodiscard]] TrapRecord last_trap() const {
        using namespace vmcs::field;
        return TrapRecord{static_cast<std::uint32_t>(insn::vmread(vmcs::field::exit_reason)),
                          insn::vmread(exit_qualification),
                          insn::vmread(guest_physical_address),
                          static_cast<std::uint32_t>(insn::vmread(exit_instruction_length)),
                          static_cast<std::uint32_t>(insn::vmread(exit_interruption_info)),
                          exit_rip_};
    }
    // Why setup() returned Unsupported (None otherwise).
    [[nodiscard]] vmcs::SetupError last_setup_error() const noexcept { return controls_.error; }
    // The controls setup() chose for this CPU.
    [[nodiscard]] const vmcs::ControlPlan& controls() const noexcept { return controls_; }
    [[nodiscard]] std::uint16_t vpid() const noexcept { return static_cast<std::uint16_t>(vm_ + 1); }
    [[nodiscard]] std::uint64_t eptp() const noexcept { return eptp_; }
    // The guest's task priority (its CR8).
    [[nodiscard]] std::uint8_t tpr() const noexcept { return tpr_; }

    // Moves RIP back over the instruction of the last exit.
    AxResult<void> rewind_instruction() {
        if (!this->is_bound()) return ax_err(AxError::BadState);
        (void)insn::vmwrite(vmcs::field::guest_rip, exit_rip_);
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
            __builtin_memset(host_pointer(vmcs_pa()), 0, 4096);
            vmcs::fill_msr_bitmap(host_pointer(msr_bitmap_pa()));
            for (usize i = 0; i < vmcs::switched_msrs.size(); ++i) {
                guest_msrs()[i] = vmcs::MsrEntry{vmcs::switched_msrs[i], 0, 0};
                host_msrs()[i] = vmcs::MsrEntry{vmcs::switched_msrs[i], 0, 0};
            }
            return ax_ok();
        }

        [[nodiscard]] std::uint64_t vmcs_pa() const noexcept { return frames_.pa(vmcs_frame); }
        [[nodiscard]] std::uint64_t msr_bitmap_pa() const noexcept { return frames_.pa(msr_bitmap_frame); }
        [[nodiscard]] std::uint64_t guest_msrs_pa() const noexcept { return frames_.pa(msr_lists_frame); }
        [[nodiscard]] std::uint64_t host_msrs_pa() const noexcept { return guest_msrs_pa() + host_list_offset; }
        [[nodiscard]] vmcs::MsrEntry* guest_msrs() const { return Base::template host_pointer<vmcs::MsrEntry>(guest_msrs_pa()); }
        [[nodiscard]] vmcs::MsrEntry* host_msrs() const { return Base::template host_pointer<vmcs::MsrEntry>(host_msrs_pa()); }

    private:
        // The two lists share a page; each must be 16-byte aligned (25.7.2).
        static constexpr std::uint64_t host_list_offset = 2048;
        static_assert(vmcs::switched_msrs.size() * sizeof(vmcs::MsrEntry) <= host_list_offset);
        enum : usize { vmcs_frame, msr_bitmap_frame, msr_lists_frame };
        detail::OwnedFrames<H, 1, 1, 1> frames_;
    };

    // For create_common.
    AxResult<void> allocate() { return pages_.allocate(); }

    // This CPU's state for VM exit to load, and its syscall MSRs for the
    // exit-load list.
    void record_host_state() {
        const insn::Selectors sel = insn::read_selectors();
        host_gdtr_ = insn::read_gdtr();
        host_idtr_ = insn::read_idtr();
        vmcs::HostState h;
        h.cr0 = insn::read_cr0();
        h.cr3 = insn::read_cr3();
        h.cr4 = insn::read_cr4();
        h.cs = sel.cs;
        h.ss = sel.ss;
        h.ds = sel.ds;
        h.es = sel.es;
        h.fs = sel.fs;
        h.gs = sel.gs;
        h.tr = sel.tr;
        h.fs_base = insn::rdmsr(msr::fs_base);
        h.gs_base = insn::rdmsr(msr::gs_base);
        h.gdtr_base = host_gdtr_.base;
        h.idtr_base = host_idtr_.base;
        h.tr_base = vmcs::tss_base(reinterpret_cast<const std::uint8_t*>(host_gdtr_.base), sel.tr);
        h.sysenter_cs = insn::rdmsr(msr::ia32_sysenter_cs);
        h.sysenter_esp = insn::rdmsr(msr::ia32_sysenter_esp);
        h.sysenter_eip = insn::rdmsr(msr::ia32_sysenter_eip);
        h.efer = insn::rdmsr(msr::ia32_efer);
        h.pat = insn::rdmsr(msr::ia32_pat);
        h.rip = reinterpret_cast<std::uint64_t>(&axvcpu_x86_vmx_exit[0]);
        for (const vmcs::FieldWrite& w : vmcs::host_state_writes(h)) (void)insn::vmwrite(w.field, w.value);
        vmcs::MsrEntry* host = pages_.host_msrs();
        for (usize i = 0; i < vmcs::switched_msrs.size(); ++i) host[i].value = insn::rdmsr(vmcs::switched_msrs[i]);
        reload_tables_ = host_gdtr_.limit != 0xFFFF || host_idtr_.limit != 0xFFFF;
    }

    // One VM entry, with this entry's event, window and XCR0; returns the
    // basic exit reason, or no_exit when the entry failed as an instruction.
    // (Run while bound: entry_flags_' entry_unbound bit is clear.) Records
    // a failed entry in entry_status_ and returns no_exit for it.
    [[gnu::always_inline]] std::uint32_t enter_guest() {
        const unsigned status = entry_flags_ != 0 ? enter_with_work() : axvcpu_x86_vmx_run_guest(&ctx_);
        if (reload_tables_) [[unlikely]] {
            insn::load_gdtr(host_gdtr_);
            insn::load_idtr(host_idtr_);
        }
        if (status != 0) [[unlikely]] {
            entry_status_ = status;
            return no_exit;
        }
        return exit_reason::basic(static_cast<std::uint32_t>(insn::vmread(vmcs::field::exit_reason)));
    }

    // What every exit but VMCALL needs first (VMCALL is an instruction
    // exit, never taken while an event is being delivered): the RIP it left
    // and an event whose delivery the exit cut short, to go again (28.2.4,
    // 29.2.1): its word, its error code, and for software events the
    // instruction length.
    void note_exit() {
        exit_rip_ = insn::vmread(vmcs::field::guest_rip);
        const auto vectoring = static_cast<std::uint32_t>(insn::vmread(vmcs::field::idt_vectoring_info));
        if ((vectoring & event::valid) != 0) [[unlikely]] {
            std::uint64_t word = vectoring & ~vectoring_undefined_bits;
            if ((vectoring & event::error_code_valid) != 0)
                word |= insn::vmread(vmcs::field::idt_vectoring_error_code) << event::error_code_shift;
            events_.reinject(word);
            reinject_length_ = static_cast<std::uint32_t>(insn::vmread(vmcs::field::exit_instruction_length));
            entry_flags_ |= entry_work;
        }
    }

    // VMCALL: past it, with the hypercall's reason.
    [[gnu::always_inline]] AxVCpuExitReason vmcall_exit() {
        exit_rip_ = insn::vmread(vmcs::field::guest_rip);
        advance_rip_only(insn::vmread(vmcs::field::exit_instruction_length));
        return hypercall_from(ctx_.gprs);
    }

    [[gnu::noinline]] unsigned enter_with_work() {
        if ((entry_flags_ & entry_work) != 0) prepare_entry();
        if ((entry_flags_ & entry_debug) != 0) load_guest_debug();
        if ((entry_flags_ & entry_xcr0) != 0) insn::xsetbv(0, xcr0_.guest);
        const unsigned status = axvcpu_x86_vmx_run_guest(&ctx_);
        if ((entry_flags_ & entry_xcr0) != 0) insn::xsetbv(0, xcr0_.host);
        if ((entry_flags_ & entry_debug) != 0) restore_host_debug();
        return status;
    }

    // A TLB flush after bind, a new EPT root or an emulated CR write; the
    // event to inject; the interrupt window.
    void prepare_entry() {
        if (flush_pending_) {
            flush_tlb();
            flush_pending_ = false;
        }
        const auto rflags = insn::vmread(vmcs::field::guest_rflags);
        const auto blocking = insn::vmread(vmcs::field::guest_interruptibility_state);
        // A vector the guest's TPR masks waits without a window: its CR8
        // writes exit, and each one plans the entry again.
        const Interruptibility guest{(rflags & rflags::if_) != 0, (blocking & (blocking_by_sti | blocking_by_mov_ss)) != 0,
                                     tpr_};
        const bool reinjecting = events_.reinjecting();
        const auto [event, window, blocked_priority] = events_.take(guest);
        (void)blocked_priority;
        if (event != 0) {
            (void)insn::vmwrite(vmcs::field::entry_interruption_info, event & 0xFFFF'FFFF);
            if ((event & event::error_code_valid) != 0)
                (void)insn::vmwrite(vmcs::field::entry_exception_error_code, event >> event::error_code_shift);
            // Software interrupts and exceptions (types 4..6) restart from
            // their instruction's length (26.6.1.3).
            if (reinjecting && ((event & event::type_mask) >> event::type_shift) >= 4)
                (void)insn::vmwrite(vmcs::field::entry_instruction_length, reinject_length_);
        }
        const std::uint32_t primary = window ? (controls_.primary | vmcs::primary::interrupt_window_exiting)
                                             : (controls_.primary & ~vmcs::primary::interrupt_window_exiting);
        if (primary != controls_.primary) {
            controls_.primary = primary;
            (void)insn::vmwrite(vmcs::field::primary_processor_controls, primary);
        }
        const bool more = events_.any() || window;
        entry_flags_ = static_cast<std::uint16_t>((entry_flags_ & ~entry_work) | (more ? entry_work : 0));
    }

    // This guest's EPT-derived and VPID-tagged translations (29.4.3).
    void flush_tlb() {
        const bool ept_single = (caps_.ept_vpid & vmcs::ept_vpid_cap::invept_single_context) != 0;
        const bool vpid_single = (caps_.ept_vpid & vmcs::ept_vpid_cap::invvpid_single_context) != 0;
        (void)insn::invept(ept_single ? insn::InvalidationType::SingleContext : insn::InvalidationType::AllContexts, eptp_);
        (void)insn::invvpid(vpid_single ? insn::InvalidationType::SingleContext : insn::InvalidationType::AllContexts,
                            vpid());
    }

    // Register `index` (encoding order): RSP is the VMCS's while bound.
    [[nodiscard]] std::uint64_t get_reg(usize index) const {
        if (index == gpr::rsp && this->is_bound()) return insn::vmread(vmcs::field::guest_rsp);
        return ctx_.gprs[index];
    }
    void put_reg(usize index, std::uint64_t value) {
        if (index == gpr::rsp && this->is_bound()) (void)insn::vmwrite(vmcs::field::guest_rsp, value);
        ctx_.gprs[index] = value;
    }

    // Past an instruction the policy or the VMM emulated; as after the
    // instruction itself, an STI / MOV SS shadow no longer holds (an `sti;
    // hlt` guest takes its interrupt right after the HLT). VMCALL's fast
    // path skips the shadow (one instruction's delay at worst).
    void advance_rip(std::uint64_t length) {
        (void)insn::vmwrite(vmcs::field::guest_rip, exit_rip_ + length);
        const std::uint64_t blocking = insn::vmread(vmcs::field::guest_interruptibility_state);
        if ((blocking & (blocking_by_sti | blocking_by_mov_ss)) != 0)
            (void)insn::vmwrite(vmcs::field::guest_interruptibility_state,
                                blocking & ~(blocking_by_sti | blocking_by_mov_ss));
    }
    void advance_rip_only(std::uint64_t length) { (void)insn::vmwrite(vmcs::field::guest_rip, exit_rip_ + length); }

    // DR0-DR3 and DR6 are the guest's while it runs once it used them, and
    // the host's DR7 comes back after the exit if it is not the reset value.
    void update_swap_debug() {
        const bool swap = guest_debug_.live || host_debug_.dr7 != dr7_reset || host_debugctl_ != 0;
        entry_flags_ = static_cast<std::uint16_t>((entry_flags_ & ~entry_debug) | (swap ? entry_debug : 0));
    }
    void load_guest_debug() {
        if (!guest_debug_.live) return;
        host_debug_.dr = {insn::read_dr<0>(), insn::read_dr<1>(), insn::read_dr<2>(), insn::read_dr<3>()};
        host_debug_.dr6 = insn::read_dr<6>();
        insn::write_dr<0>(guest_debug_.dr[0]);
        insn::write_dr<1>(guest_debug_.dr[1]);
        insn::write_dr<2>(guest_debug_.dr[2]);
        insn::write_dr<3>(guest_debug_.dr[3]);
        insn::write_dr<6>(guest_debug_.dr6);
    }
    void restore_host_debug() {
        if (guest_debug_.live) {
            guest_debug_.dr = {insn::read_dr<0>(), insn::read_dr<1>(), insn::read_dr<2>(), insn::read_dr<3>()};
            guest_debug_.dr6 = insn::read_dr<6>();
            insn::write_dr<0>(host_debug_.dr[0]);
            insn::write_dr<1>(host_debug_.dr[1]);
            insn::write_dr<2>(host_debug_.dr[2]);
            insn::write_dr<3>(host_debug_.dr[3]);
            insn::write_dr<6>(host_debug_.dr6);
        }
        if (host_debug_.dr7 != dr7_reset) insn::write_dr<7>(host_debug_.dr7);
        if (host_debugctl_ != 0) insn::wrmsr(msr::ia32_debugctl, host_debugctl_);
    }


    // Every exit but VMCALL: the exits the policy answers itself resume
    // the guest here; the first other one is decoded into exit_, or an
    // error into error_.
    [[gnu::noinline]] Handled exit_slow() {
        for (;;) {
            if (entry_status_ != 0) {
                // VMLAUNCH/VMRESUME failed as an instruction: no exit to decode.
                const std::uint32_t error = entry_status_ == 2
                                                ? static_cast<std::uint32_t>(insn::vmread(vmcs::field::vm_instruction_error))
                                                : 0;
                exit_ = exit::FailEntry{entry_instruction_failure(error)};
                entry_status_ = 0;
                return Handled::Decode;
            }
            note_exit();
            const TrapRecord trap = last_trap();
            const Handled handled = handle_in_policy(trap);
            if (handled == Handled::Decode) {
                const InstructionBytes insn = exit_reason::basic(trap.exit_reason) == exit_reason::ept_violation
                                                  ? fetch_guest_instruction()
                                                  : InstructionBytes{};
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
            if (enter_guest() == exit_reason::vmcall) {
                exit_ = vmcall_exit();
                return Handled::Decode;
            }
        }
    }

    // The exits the policy answers itself.
    Handled handle_in_policy(const TrapRecord& trap) {
        switch (exit_reason::basic(trap.exit_reason)) {
            case exit_reason::cpuid: {
                const auto leaf = static_cast<std::uint32_t>(ctx_.gprs[gpr::rax]);
                const auto subleaf = static_cast<std::uint32_t>(ctx_.gprs[gpr::rcx]);
                const CpuidResult r = guest_cpuid(leaf, subleaf, insn::cpuid(leaf, subleaf),
                                                  static_cast<std::uint32_t>(vcpu_),
                                                  (guest_visible_cr4() & cr4::osxsave) != 0);
                ctx_.gprs[gpr::rax] = r.eax;
                ctx_.gprs[gpr::rbx] = r.ebx;
                ctx_.gprs[gpr::rcx] = r.ecx;
                ctx_.gprs[gpr::rdx] = r.edx;
                advance_rip(trap.instruction_length);
                return Handled::Resume;
            }
            case exit_reason::xsetbv: return handle_xsetbv(trap);
            case exit_reason::io_instruction:
                // As on SVM: never one access; #GP(0) at the instruction.
                if ((trap.qualification & (io_qualification::string | io_qualification::rep)) == 0)
                    return Handled::Decode;
                ++string_io_refused_;
                raise_gp();
                return Handled::Resume;
            case exit_reason::interrupt_window:
                // prepare_entry injects the interrupt now that IF allows it.
                entry_flags_ |= entry_work;
                return Handled::Resume;
            case exit_reason::rdmsr:
            case exit_reason::wrmsr: return handle_own_msr(trap);
            case exit_reason::cr_access: return handle_cr_access(trap);
            case exit_reason::exception_or_nmi:
                if ((trap.interruption_info & (event::valid | event::type_mask)) != (event::valid | event::type_nmi))
                    return Handled::Decode;
                insn::deliver_host_nmi();
                return Handled::Resume;
            case exit_reason::dr_access:
                // The guest's first MOV DR: from now on the policy switches
                // DR0-DR3 and DR6 around every entry, and the MOV runs again
                // without exiting.
                controls_.primary &= ~vmcs::primary::mov_dr_exiting;
                (void)insn::vmwrite(vmcs::field::primary_processor_controls, controls_.primary);
                guest_debug_.live = true;
                update_swap_debug();
                return Handled::Resume;
            case exit_reason::vmclear:
            case exit_reason::vmlaunch:
            case exit_reason::vmptrld:
            case exit_reason::vmptrst:
            case exit_reason::vmread:
            case exit_reason::vmresume:
            case exit_reason::vmwrite:
            case exit_reason::vmxoff:
            case exit_reason::vmxon:
            case exit_reason::invept:
            case exit_reason::invvpid:
            case exit_reason::vmfunc:
            case exit_reason::getsec:
            case exit_reason::monitor:
            case exit_reason::mwait: raise_ud(); return Handled::Resume;
            case exit_reason::invd:
            case exit_reason::wbinvd:
                // The guest's caches are the host's; nothing to do.
                advance_rip(trap.instruction_length);
                return Handled::Resume;
            default: return Handled::Decode;
        }
    }

    // The guest's view of CR0 / CR4: the bits the policy owns from the
    // read shadows, the rest from the registers (the guest changes those
    // without an exit).
    [[nodiscard]] std::uint64_t guest_visible_cr0() const {
        return vmcs::guest_visible(insn::vmread(vmcs::field::guest_cr0), insn::vmread(vmcs::field::cr0_read_shadow),
                                   cr0_mask_);
    }
    [[nodiscard]] std::uint64_t guest_visible_cr4() const {
        return vmcs::guest_visible(insn::vmread(vmcs::field::guest_cr4), insn::vmread(vmcs::field::cr4_read_shadow),
                                   cr4_mask_);
    }
    // CPL is SS.DPL (SDM vol. 3C, 26.3.1.2).
    [[nodiscard]] unsigned guest_cpl() const {
        return static_cast<unsigned>((insn::vmread(vmcs::field::guest_ss_access_rights) >> 5) & 3);
    }

    Handled handle_xsetbv(const TrapRecord& trap) {
        const auto index = static_cast<std::uint32_t>(ctx_.gprs[gpr::rcx]);
        const std::uint64_t value = ((ctx_.gprs[gpr::rdx] & 0xFFFF'FFFF) << 32) | (ctx_.gprs[gpr::rax] & 0xFFFF'FFFF);
        switch (xcr0_.guest_xsetbv((guest_visible_cr4() & cr4::osxsave) != 0, guest_cpl(), index, value)) {
            case XsetbvAction::RaiseUd: raise_ud(); return Handled::Resume;
            case XsetbvAction::RaiseGp: raise_gp(); return Handled::Resume;
            case XsetbvAction::Accept: break;
        }
        update_swap_xcr0();
        advance_rip(trap.instruction_length);
        return Handled::Resume;
    }

    // EFER and PAT live in the VMCS; every other MSR goes to the VMM.
    Handled handle_own_msr(const TrapRecord& trap) {
        const auto index = static_cast<std::uint32_t>(ctx_.gprs[gpr::rcx]);
        const bool write = exit_reason::basic(trap.exit_reason) == exit_reason::wrmsr;
        if (index != msr::ia32_efer && index != msr::ia32_pat) return Handled::Decode;
        const std::uint32_t field = index == msr::ia32_pat ? vmcs::field::guest_ia32_pat : vmcs::field::guest_ia32_efer;
        const std::uint64_t value = ((ctx_.gprs[gpr::rdx] & 0xFFFF'FFFF) << 32) | (ctx_.gprs[gpr::rax] & 0xFFFF'FFFF);
        if (!write) {
            this->complete_msr_read(insn::vmread(field));
        } else if (index == msr::ia32_pat) {
            if (!pat_valid(value)) {
                raise_gp();
                return Handled::Resume;
            }
            (void)insn::vmwrite(field, value);
        } else {
            const std::optional<std::uint64_t> efer =
                guest_efer_write(insn::vmread(field), value, (guest_visible_cr0() & cr0::pg) != 0);
            if (!efer) {
                raise_gp();
                return Handled::Resume;
            }
            (void)insn::vmwrite(field, *efer);
        }
        advance_rip(trap.instruction_length);
        return Handled::Resume;
    }

    // MOV to CR0/CR4 and LMSW changing a bit the policy owns.
    Handled handle_cr_access(const TrapRecord& trap) {
        const CrAccess access = decode_cr_qualification(trap.qualification);
        const vmcs::CrContext guest{guest_visible_cr0(), guest_visible_cr4(),
                                    insn::vmread(vmcs::field::guest_ia32_efer),
                                    (insn::vmread(vmcs::field::guest_cs_access_rights) & access_rights::l) != 0};
        if (access.cr == 8 && access.type == CrAccessType::MovToCr) {
            // The guest's TPR (CR8 bits 3:0; setting 63:4 is #GP(0)).
            const std::uint64_t tpr = get_reg(access.gpr);
            if ((tpr >> 4) != 0) {
                raise_gp();
                return Handled::Resume;
            }
            tpr_ = static_cast<std::uint8_t>(tpr);
            entry_flags_ |= entry_work;  // a masked vector may be deliverable now
            advance_rip(trap.instruction_length);
            return Handled::Resume;
        }
        if (access.cr == 8 && access.type == CrAccessType::MovFromCr) {
            put_reg(access.gpr, tpr_);
            advance_rip(trap.instruction_length);
            return Handled::Resume;
        }
        std::uint64_t value = 0;
        if (access.type == CrAccessType::MovToCr && (access.cr == 0 || access.cr == 4)) {
            // Outside 64-bit code the MOV takes the register's low 32 bits.
            const bool bits64 = (guest.efer & msr::efer::lma) != 0 && guest.cs_l;
            value = bits64 ? get_reg(access.gpr) : (get_reg(access.gpr) & 0xFFFF'FFFF);
        } else if (access.type == CrAccessType::Lmsw) {
            // LMSW writes CR0 bits 3:0 but cannot clear PE (SDM vol. 2A).
            value = (guest.cr0 & ~std::uint64_t{0xF}) | (access.lmsw_source & 0xF) | (guest.cr0 & cr0::pe);
        } else {
            return Handled::Decode;
        }
        const bool is_cr4 = access.type == CrAccessType::MovToCr && access.cr == 4;
        const vmcs::CrWrite result = is_cr4 ? vmcs::emulate_cr4_write(guest, value, caps_)
                                            : vmcs::emulate_cr0_write(guest, value, controls_.unrestricted_guest());
        if (result.fault) {
            raise_gp();
            return Handled::Resume;
        }
        if (result.load_pdptes && !load_pdptes()) {
            raise_gp();
            return Handled::Resume;
        }
        if (is_cr4) {
            (void)insn::vmwrite(vmcs::field::cr4_read_shadow, result.value);
            (void)insn::vmwrite(vmcs::field::guest_cr4, vmcs::real_cr4(caps_, result.value));
        } else {
            (void)insn::vmwrite(vmcs::field::cr0_read_shadow, result.value);
            (void)insn::vmwrite(vmcs::field::guest_cr0,
                                vmcs::real_cr0(caps_, controls_.unrestricted_guest(), result.value));
            (void)insn::vmwrite(vmcs::field::guest_ia32_efer, result.efer);
            controls_.entry = result.long_mode ? (controls_.entry | vmcs::entry_ctl::ia32e_mode_guest)
                                               : (controls_.entry & ~vmcs::entry_ctl::ia32e_mode_guest);
            (void)insn::vmwrite(vmcs::field::entry_controls, controls_.entry);
        }
        // The guest's translations depend on what changed.
        flush_pending_ = true;
        entry_flags_ |= entry_work;
        advance_rip(trap.instruction_length);
        return Handled::Resume;
    }

    // PAE paging's four PDPTEs from guest memory at CR3 (SDM vol. 3A,
    // 4.4.1), which VM entry loads from the VMCS under EPT (26.3.2.4); a
    // present one with reserved bits set is #GP, as the MOV would raise.
    bool load_pdptes() {
        const std::uint64_t cr3 = insn::vmread(vmcs::field::guest_cr3) & 0xFFFF'FFE0;
        // Bits MAXPHYADDR..63 are reserved too (CPUID 8000_0008 EAX[7:0]).
        const unsigned maxphyaddr = insn::cpuid(0x8000'0008).eax & 0xFF;
        const std::uint64_t reserved =
            pdpte_reserved | (maxphyaddr >= 64 ? 0 : ~((std::uint64_t{1} << maxphyaddr) - 1));
        const auto memory = guest_memory();
        for (unsigned i = 0; i < 4; ++i) {
            const std::optional<std::uint64_t> pdpte = memory.read(cr3 + std::uint64_t{8} * i, 8);
            if (!pdpte) return false;
            if ((*pdpte & paging_bits::present) != 0 && (*pdpte & reserved) != 0) return false;
            (void)insn::vmwrite(vmcs::field::guest_pdpte0 + 2 * i, *pdpte);
        }
        return true;
    }

    // Guest RAM through this VM's EPT.
    [[nodiscard]] auto guest_memory() const {
        return Base::template guest_memory<stage2::ept::Format>(stage2::ept::root_of(eptp_));
    }

    // The bytes at the guest's RIP, through its own paging and this VM's EPT.
    [[nodiscard]] InstructionBytes fetch_guest_instruction() const {
        using namespace vmcs::field;
        const PagingState paging{insn::vmread(guest_cr0), insn::vmread(guest_cr3), insn::vmread(guest_cr4),
                                 insn::vmread(guest_ia32_efer)};
        const std::uint64_t cs = insn::vmread(guest_cs_access_rights);
        const CpuMode mode =
            code_mode((paging.efer & msr::efer::lma) != 0, (cs & access_rights::l) != 0, (cs & access_rights::db) != 0);
        const std::uint64_t linear = mode == CpuMode::Bits64 ? exit_rip_ : insn::vmread(guest_cs_base) + exit_rip_;
        return guest_memory().fetch_instruction(paging, linear, mode);
    }

    // Guest interruptibility (25.4.2 table 25-3).
    static constexpr std::uint64_t blocking_by_sti = 1u << 0, blocking_by_mov_ss = 1u << 1;
    // IDT-vectoring bit 12 is undefined (25.9.3); the entry field's is reserved.
    static constexpr std::uint32_t vectoring_undefined_bits = 1u << 12;
    // PDPTE bits 2:1 and 8:5 are reserved (SDM vol. 3A, table 4-8).
    static constexpr std::uint64_t pdpte_reserved = 0x1E6;
    static constexpr std::uint32_t no_exit = 0xFFFF'FFFF;

    using Base::config_, Base::entry_, Base::exit_rip_, Base::decode_error_, Base::exit_, Base::error_, Base::events_,
        Base::xcr0_, Base::string_io_refused_, Base::guest_fpu_, Base::vm_, Base::vcpu_, Base::flush_pending_,
        Base::entry_flags_, Base::entry_work, Base::entry_xcr0, Base::entry_unbound, Base::entry_refused, Base::host_pointer,
        Base::raise_ud, Base::raise_gp, Base::update_swap_xcr0;
    // entry_flags_ for enter_guest: the debug registers around the entry.
    static constexpr std::uint16_t entry_debug = Base::first_backend_flag;

    SwitchContext ctx_{};
    Pages pages_{};
    vmcs::Capabilities caps_{};
    vmcs::ControlPlan controls_{};
    std::uint64_t eptp_ = 0;
    std::uint32_t reinject_length_ = 0;  // the interrupted event's instruction length (software events)
    bool rip_pending_ = false;           // set_entry while unbound after setup: GUEST_RIP at the next bind
    unsigned entry_status_ = 0;  // the switch's last non-zero return
    insn::DescriptorTable host_gdtr_{}, host_idtr_{};
    bool reload_tables_ = false;
    std::uint64_t cr0_mask_ = 0, cr4_mask_ = 0;  // the CR0/CR4 bits the policy owns
    std::uint8_t tpr_ = 0;                       // the guest's CR8
    struct DebugRegisters {
        std::array<std::uint64_t, 4> dr{};
        std::uint64_t dr6 = dr6_reset, dr7 = dr7_reset;
        bool live = false;  // guest: it used them, the policy switches them
    };
    DebugRegisters guest_debug_{}, host_debug_{};
    std::uint64_t host_debugctl_ = 0;  // the host's IA32_DEBUGCTL recorded at bind
};

}  // namespace axvcpu::x86_64::vmx
