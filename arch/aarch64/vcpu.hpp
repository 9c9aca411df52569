// The aarch64 vCPU policy (ArchVCpu) for a guest at EL1 under an EL2 host:
// axvcpu::AxVCpu<axvcpu::aarch64::VCpu<H>, H>.
//
// - create: EL1h entry with interrupts masked, SCTLR_EL1 at its reset value,
//   the guest's MPIDR (VMPIDR_EL2) and x0 = the DTB address (Linux's boot
//   protocol) from CreateConfig; VMID = VM id + 1 (8-bit VMIDs).
// - bind: loads the guest's state groups (context.hpp: EL1 system
//   registers, FP/SIMD, timers, GICv3 virtual interface), HCR_EL2 and
//   VTTBR_EL2; TLB maintenance by VMID only when this vCPU's stage-2 root or
//   VMID is new to it (tlbi vmalls12e1is) or it moved to another CPU (local
//   stage-1 flush). unbind saves that state back and clears VTTBR_EL2;
//   bind refuses (BadState) while another vCPU is bound on the CPU.
// - run (called with IRQs masked at EL2): drains queued interrupts into list
//   registers (or HCR_EL2.VI), runs the guest through the world switch, and
//   decodes the exit (exit_decode.hpp). What needs no VMM decision (the
//   PSCI calls psci_service.hpp answers) resumes the guest inside run().
//   A physical IRQ becomes ExternalInterrupt with H::fetch_irq(). Unmodelled
//   exceptions, FIQ, SError and AArch32 guests are errors; last_trap() keeps
//   the syndrome for the VMM's report.
// - inject_interrupt: into a free list register at once when the vCPU is
//   bound and Ready with nothing queued and no usable list register busy;
//   otherwise queued, and delivered at the next entry.
// - set_runnable: AxVCpu's gate (api::gated_run); run refuses (BadState)
//   while its AxVCpu is not Ready.
// - gate_open: entry_work_ clear, so AxVCpu's plain updates test that
//   instead of the state, and the next entry's test of it folds
//   (api::gated_updates).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <variant>

#include "arch/aarch64/context.hpp"
#include "arch/aarch64/debug_traps.hpp"
#include "arch/aarch64/exceptions.hpp"
#include "arch/aarch64/exit_decode.hpp"
#include "arch/aarch64/interrupts.hpp"
#include "arch/aarch64/percpu.hpp"
#include "arch/aarch64/psci_service.hpp"
#include "arch/aarch64/sysregs.hpp"
#include "arch/aarch64/world_switch.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/config.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/irq_queue.hpp"
#include "axvcpu/run_publisher.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64 {

struct CreateConfig {
    // The guest's MPIDR_EL1 affinity (Aff3.Aff2.Aff1.Aff0); by this
    // policy's convention Aff1:Aff0 is the vCPU id (see AFFINITY_INFO).
    std::uint64_t mpidr_el1 = 0;
    // Passed in x0 at entry: where the VMM put the guest's device tree.
    GuestPhysAddr dtb_addr{};
};

struct SetupConfig {
    // The guest owns the physical GIC CPU interface: IRQs are not routed
    // to EL2 and inject_interrupt is Unsupported.
    bool passthrough_interrupt = false;
    // The guest may use the EL1 physical timer directly; otherwise its
    // accesses trap as SysRegRead/SysRegWrite (the virtual timer is always the guest's).
    bool passthrough_timer = false;
    // Trap ID register reads (HCR_EL2.TID3) so the VMM can hide features.
    bool trap_id_registers = false;
    // The guest may use the debug registers (breakpoints, watchpoints, the
    // OS lock, MDSCR_EL1: MDCR_EL2.TDA, TDOSA and TDRA clear) and the PMU
    // (TPM and TPMCR clear; with FEAT_SPE, the profiling controls too:
    // debug_traps.hpp) directly. Neither is switched with the vCPU (but
    // see switch_debug), so another VM on the same CPU, and the host, see
    // what it leaves there (a PMCR_EL0 write resets the host's counters).
    // Otherwise its accesses trap as SysRegRead/SysRegWrite
    // (is_debug_register, is_pmu_register):
    // the VMM emulates them or answers RAZ/WI (then the guest cannot debug
    // itself: single-step and breakpoints do nothing; OSLSR_EL1 should
    // still read OSLM = 0b10, the OS lock AArch64 requires).
    bool passthrough_debug = false;
    bool passthrough_pmu = false;
    // The guest has breakpoints and watchpoints of its own: bind loads its
    // DBGBVR/DBGBCR/DBGWVR/DBGWCR<n>_EL1 (the host's saved, back at
    // unbind) and leaves their accesses and MDSCR_EL1's (switched anyway)
    // untrapped (MDCR_EL2.TDA clear), so guests sharing a CPU each debug
    // themselves. The OS lock and power-down registers and MDRAR_EL1 still
    // trap (TDOSA, TDRA) for the VMM to emulate (OSLSR_EL1 reading
    // unlocked, OSLAR_EL1 writes ignored: the vCPU's OS lock stays open,
    // the host's back at unbind). Not switched: the claim tags, MDCCINT_EL1
    // and the debug comms channel. InvalidInput together with
    // passthrough_debug.
    bool switch_debug = false;
};

template <class H>
class VCpu {
    static_assert(api::check_arch_if<H>());
    static_assert(api::check_vmm_if<H>());

public:
    // set_gpr and set_return_value only write ctx_, inject_interrupt only
    // the queue (see arch_contract.hpp).
    static constexpr bool plain_vcpu_updates = true;

    using CreateConfig = aarch64::CreateConfig;
    using SetupConfig = aarch64::SetupConfig;
    static AxResult<VCpu> create(VMId vm, VCpuId vcpu, CreateConfig config) {
        if (vm >= 255) return ax_err(AxError::InvalidInput);  // VMIDs 1..255
        VCpu cpu(vm, vcpu, config);
        return cpu;
    }

    VCpu(VCpu&&) noexcept = default;
    VCpu& operator=(VCpu&&) noexcept = default;

    // A misaligned entry is refused (InvalidInput): started there, the
    // guest's first fetch takes a PC alignment fault (Arm ARM D1.3.5) at a
    // vector table it has not set up, and again there, for ever.
    AxResult<void> set_entry(GuestPhysAddr entry) {
        if (entry.value() % 4 != 0) return ax_err(AxError::InvalidInput);
        settle_trap();
        ctx_.elr = entry.value();
        return ax_ok();
    }

    AxResult<void> set_ept_root(HostPhysAddr root) {
        if (!root.is_aligned(stage2::page_size) || root.value() >> 48 != 0) return ax_err(AxError::InvalidInput);
        root_ = root.value();
        if (is_bound()) load_stage2();
        return ax_ok();
    }

    AxResult<void> setup(SetupConfig config) {
        if (config.passthrough_debug && config.switch_debug) return ax_err(AxError::InvalidInput);
        setup_ = config;
        hcr_ = hcr::vm | hcr::rw | hcr::swio | hcr::fb | hcr::bsu_inner | hcr::tsc | hcr::amo | hcr::api | hcr::apk;
        if (!config.passthrough_interrupt) hcr_ |= hcr::imo | hcr::fmo;
        if (config::trap_wfi) hcr_ |= hcr::twi | hcr::twe;
        if (config.trap_id_registers) hcr_ |= hcr::tid3;
        const std::uint64_t debug_traps =
            config.passthrough_debug ? 0 : config.switch_debug ? mdcr::os_lock_traps : mdcr::debug_traps;
        mdcr_traps_ = debug_traps | (config.passthrough_pmu ? 0 : mdcr::pmu_traps);
        timer_.cnthctl = config.passthrough_timer ? 3 : 1;
        reset_el1_state();
        interrupts_.hcr = use_list_registers() ? vgic::ich_hcr_en : 0;
        return ax_ok();
    }

    AxResult<void> bind() {
        if (is_bound()) return ax_err(AxError::BadState);
        // Another vCPU is bound on this CPU: its state there would be
        // overwritten and later saved as this one's. VTTBR_EL2 is 0 exactly
        // when none is (PerCpu::hardware_enable and unbind write 0; a bound
        // vCPU's holds its stage-2 root).
        if (reg::read_vttbr_el2() != 0) return ax_err(AxError::BadState);
        lr_count_ = use_list_registers() ? vgic::list_register_count() : 0;
        queue_lrs_ = vgic::present_lrs(lr_count_) & ~fed_;
        // The host's MDCR_EL2 with this vCPU's traps (mdcr::while_bound),
        // before the guest's MDSCR_EL1 is on the CPU (a host TDE would
        // make it the host's own debug control).
        const std::uint64_t id_aa64dfr0 = reg::read_id_aa64dfr0_el1();
        host_mdcr_ = reg::read_mdcr_el2();
        reg::write_mdcr_el2(mdcr::while_bound(host_mdcr_, mdcr_traps_, id_aa64dfr0));
        if (setup_.switch_debug) {
            // The OS lock opens before MDSCR_EL1 is written (while it is
            // set, an MDSCR_EL1 write also writes external debug state).
            host_mdscr_ = reg::read_mdscr_el1();
            host_debug_.save(id_aa64dfr0);
            guest_debug_.load(id_aa64dfr0);
        }
        sysregs_.load();
        fp_.load();
        pointer_auth_ = PointerAuthKeys::present();
        if (pointer_auth_) pauth_keys_.load();
        timer_.load();
        if (use_list_registers()) interrupts_.load(lr_count_);
        reg::write_vmpidr_el2(mpidr_ | (std::uint64_t{1} << 31));
        reg::write_vpidr_el2(reg::read_midr_el1());
        reg::write_hcr_el2(hcr_);
        load_stage2();
        entry_work_ &= ~not_bound;
        return ax_ok();
    }

    AxResult<void> unbind() {
        if (!is_bound()) return ax_err(AxError::BadState);
        sysregs_.save();
        fp_.save();
        if (pointer_auth_) pauth_keys_.save();
        timer_.save();
        if (use_list_registers()) interrupts_.save(lr_count_);
        if (setup_.switch_debug) {
            const std::uint64_t id_aa64dfr0 = reg::read_id_aa64dfr0_el1();  // this CPU's, as at bind
            guest_debug_.save(id_aa64dfr0);
            reg::write_mdscr_el1(host_mdscr_);  // before the host's OS lock
            host_debug_.load(id_aa64dfr0);
        }
        reg::write_mdcr_el2(host_mdcr_);
        // No stage-2 root left for the next bind to find (above).
        reg::write_vttbr_el2(0);
        // The host runs on at EL2 with no exception return: make the
        // restored debug controls take effect now.
        reg::isb();
        entry_work_ |= not_bound;
        return ax_ok();
    }

    // The two hottest exits, the AxVisor hypercall and an MMIO read (a data
    // abort with a valid syndrome on an unmapped address), are decided here,
    // inline, and their reasons built straight into the result; everything
    // else continues out of line (handle_sync, handle_async), as on riscv64.
    // Once AxVCpu::run is inlined into the VMM's loop (it is always_inline)
    // the compiler keeps the fast exits' fields in registers.
    //
    // Publishes the vCPU (RunPublisher) for a physical IRQ (fetch_irq) and
    // every synchronous exit but the two fast paths (PSCI asks the host,
    // psci_service.hpp); those decode and return unpublished.
    // Call it with IRQs masked at EL2 (PSTATE.I), as the example does: a
    // host IRQ handler taken inside run() would not find the vCPU current.
    [[gnu::always_inline]] AxResult<AxVCpuExitReason> run(RunPublisher<VCpu, H> publisher) {
        // One word tests every rare case: not bound, AxVCpu's gate closed,
        // interrupts to deliver. Nothing queued and nothing left to
        // retract: the list registers (or HCR_EL2.VI) already say what the
        // guest should see.
        if (entry_work_ != 0) [[unlikely]] {
            if ((entry_work_ & (not_bound | not_runnable)) != 0) return ax_err(AxError::BadState);
            deliver_interrupts();
        }
        const std::uint64_t exit = enter_guest(&ctx_);
        // last_exit_ is the syndrome; the fast paths store only what
        // last_trap() cannot derive from it.
        last_exit_ = exit;
        // The syndrome from bit 24 up (EC, IL, ISS bit 24) against the
        // inline exits' (esr::hvc64_from_bit24): a non-synchronous exit has
        // bit 63 set, so the same compare also tells that it is not one. A
        // syndrome with ISS2 (ESR_EL2[55:32]) set matches nothing either
        // and is decoded by handle_sync instead.
        // Every PSCI function id has bit 31 set: one bit test keeps the
        // common hypercall off the full range check (handle_sync does it).
        if ((exit >> 24) == esr::hvc64_from_bit24 && (ctx_.x[0] & psci::function_id_bit31) == 0) [[likely]] {
            // What decode_hvc would return.
            return AxResult<AxVCpuExitReason>(boost::outcome_v2::in_place_type<AxVCpuExitReason>,
                                              std::in_place_type<exit::Hypercall>, hypercall_from(ctx_.x));
        }
        // classify_abort's Mmio with WnR clear, in two tests.
        if (is_mmio_read_abort(exit)) [[likely]] {
            // What decode_abort would return.
            const GuestPhysAddr gpa = record_fault_address();
            ctx_.elr += 4;
            return AxResult<AxVCpuExitReason>(boost::outcome_v2::in_place_type<AxVCpuExitReason>,
                                              std::in_place_type<exit::MmioRead>, mmio_read_from(esr::iss(exit), gpa));
        }
        if (is_sync_exit(exit)) return handle_sync(publisher);
        return handle_async(exit_kind(exit), publisher);
    }

    // AxVCpu's gate (api::gated_run): run() refuses the entry while it is
    // closed, in the test of entry_work_ it makes anyway.
    void set_runnable(bool runnable) noexcept {
        entry_work_ = static_cast<std::uint16_t>(runnable ? entry_work_ & ~not_runnable : entry_work_ | not_runnable);
    }
    // Open, and no entry work: what run() tests at entry, so after a reply
    // that tested it here the compiler drops that test (api::gated_updates).
    [[nodiscard]] bool gate_open() const noexcept { return entry_work_ == 0; }

    AxResult<void> set_gpr(usize index, usize value) {
        if (index == zero_register) return ax_ok();  // xzr: writes vanish, as in hardware
        if (index >= ctx_.x.size()) return ax_err(AxError::InvalidInput);
        ctx_.x[index] = value;
        return ax_ok();
    }

    // Inline for the common case below, which then costs the VMM no call
    // and no AxResult built in memory; queue_interrupt has the rest.
    [[gnu::always_inline]] AxResult<void> inject_interrupt(usize vector) {
        // Bound, nothing queued and no UIE armed (entry_work_ clear): the
        // list registers are this vCPU's and live in the CPU. With none of
        // the usable ones busy there is nothing to merge with, so the vector
        // goes into the lowest free one now, as flush_queue would at the
        // next entry, and that entry has no work. (No passthrough test: such
        // a vCPU has no list registers for the queue, queue_lrs_ is 0, and
        // queue_interrupt refuses it.)
        if (config::gic_version == 3 && entry_work_ == 0 && vector <= vgic::max_intid) {
            const std::uint64_t usable = queue_lrs_;
            if ((usable & ~reg::read_ich_elrsr_el2()) == 0) {
                // All free: the lowest usable one is list register 0 unless
                // the VMM feeds that one itself.
                if ((usable & 1) != 0) {
                    reg::write_ich_lr0(vgic::pending_lr(vector));
                    return ax_ok();
                }
                if (usable != 0) {
                    reg::write_ich_lr(static_cast<unsigned>(std::countr_zero(usable)), vgic::pending_lr(vector));
                    return ax_ok();
                }
            }
        }
        return queue_interrupt(vector);
    }

    void set_return_value(usize value) { ctx_.x[0] = value; }

    // --- aarch64-specific, for the VMM ----------------------------------------
    // For a vCPU started again by the guest's PSCI CPU_ON (a CpuUp exit)
    // after CPU_OFF: the state a fresh vCPU has, which CPU_ON promises (Arm
    // DEN 0022, CPU_ON: EL1 with DAIF masked, MMU and caches off; KVM
    // resets the whole vCPU the same way), instead of what the vCPU left
    // (its MMU on, say): every GPR 0, PSTATE EL1h with DAIF masked, the EL1
    // system registers, pointer authentication keys, FP/SIMD registers and
    // (switch_debug) breakpoints and watchpoints at their reset values, and
    // the PE's own parts of the timer and the
    // GIC CPU interface as a PE's reset leaves them (CNTKCTL_EL1 and
    // CNTV_CTL_EL0 0; ICC_PMR_EL1, ICC_IGRPEN1_EL1, BPRs and active
    // priorities 0). Keeps ELR (set_entry), what setup chose, and the
    // pending interrupts in the list registers and the queue, which the GIC
    // holds for the PE rather than the PE itself. An interrupt of the queue
    // (inject_interrupt) that the guest had acknowledged is over: its
    // active state has no distributor to live in that the guest could
    // deactivate it through, and left in a list register it would block
    // that INTID on this vCPU for good. The VMM then sets x0. Unbound only:
    // BadState while its state is on a CPU, or while list registers fed by
    // the VMM were not given back (give_back_list_registers, at CPU_OFF).
    AxResult<void> reset_for_cpu_up() {
        if (is_bound() || fed_ != 0) return ax_err(AxError::BadState);
        const std::uint64_t elr = ctx_.elr;
        ctx_ = GuestContext{};
        ctx_.elr = elr;
        reset_el1_state();
        timer_.cntkctl = 0;
        timer_.cntv_ctl = 0;
        interrupts_.vmcr = 0;
        interrupts_.ap0r0 = interrupts_.ap1r0 = 0;
        for (std::uint64_t& lr : interrupts_.lr) {
            lr = (lr & vgic::lr_state_pending) != 0 ? lr & ~vgic::lr_state_active : 0;
        }
        return ax_ok();
    }
    [[nodiscard]] std::uint64_t gpr(usize index) const noexcept { return read_gpr(ctx_.x, index); }
    // Writable, as on bare hardware a debugger could: the trap record is
    // made whole first, so last_trap() still names the instruction that
    // trapped if the VMM moves ELR.
    [[nodiscard]] GuestContext& guest_context() noexcept {
        settle_trap();
        return ctx_;
    }
    [[nodiscard]] const GuestContext& guest_context() const noexcept { return ctx_; }
    // The guest's stack pointers: live in the CPU while the vCPU is bound
    // (call these on its CPU then), saved in SysRegState while it is not.
    [[nodiscard]] std::uint64_t sp_el0() const noexcept { return is_bound() ? reg::read_sp_el0() : sysregs_.sp_el0; }
    [[nodiscard]] std::uint64_t sp_el1() const noexcept { return is_bound() ? reg::read_sp_el1() : sysregs_.sp_el1; }
    void set_sp_el0(std::uint64_t value) noexcept {
        if (is_bound()) {
            reg::write_sp_el0(value);
        } else {
            sysregs_.sp_el0 = value;
        }
    }
    void set_sp_el1(std::uint64_t value) noexcept {
        if (is_bound()) {
            reg::write_sp_el1(value);
        } else {
            sysregs_.sp_el1 = value;
        }
    }
    [[nodiscard]] VCpuId vcpu_id() const noexcept { return vcpu_; }
    [[nodiscard]] std::uint64_t vmid() const noexcept { return vmid_; }
    [[nodiscard]] std::uint64_t mpidr() const noexcept { return mpidr_; }
    [[nodiscard]] bool is_bound() const noexcept { return (entry_work_ & not_bound) == 0; }
    // The EL2 trap registers of the last synchronous exit (or failed exit).
    // FAR and HPFAR read 0 unless it was an abort, the only exits that set
    // them. run() stores only what it cannot derive: the ESR is what the
    // world switch returned and ELR is the guest's, less what the policy
    // advanced it by (elr_advance).
    [[nodiscard]] TrapRecord last_trap() const noexcept {
        if (last_exit_ == trap_settled) return last_trap_;
        TrapRecord trap = last_trap_;
        const bool sync = is_sync_exit(last_exit_);
        if (sync) trap.esr = last_exit_;
        const std::uint32_t ec = esr::ec(trap.esr);
        if (ec != esr::ec_dabt_lower && ec != esr::ec_iabt_lower) trap.far = trap.hpfar = 0;
        trap.elr = ctx_.elr - (sync ? elr_advance(trap.esr) : 0);
        return trap;
    }
    [[nodiscard]] ExitKind last_exit_kind() const noexcept {
        return last_exit_ == trap_settled ? settled_kind_ : exit_kind(last_exit_);
    }
    // Injected vectors still queued (not yet in a list register).
    [[nodiscard]] usize pending_interrupts() const noexcept { return irqs_.size(); }
    // Whether the guest's virtual timer asserts its interrupt (TimerState::
    // asserted). Reads the CPU while the vCPU is bound (call it on its CPU then).
    [[nodiscard]] bool virtual_timer_asserted() const noexcept { return timer_.asserted(is_bound()); }
    // What would end a WFI on hardware (Arm ARM D1.6.2, "wait for
    // interrupt"): an interrupt queued for delivery, pending in a list
    // register or signalled through HCR_EL2.VI, or the virtual timer
    // asserted, whatever PSTATE's masks. A VMM waits for this on a Halt exit.
    // Reads the CPU while bound, as virtual_timer_asserted.
    [[nodiscard]] bool interrupt_pending() const noexcept {
        if (!irqs_.empty() || virtual_timer_asserted()) return true;
        if (use_list_registers()) return interrupts_.lr_pending(lr_count_, is_bound());
        return (hcr_ & hcr::vi) != 0;
    }
    // GIC-less delivery (HCR_EL2.VI): the guest has no interrupt controller
    // to acknowledge through, so the VMM answers its acknowledge hypercall
    // with this; VI drops at the next entry when nothing is left.
    std::optional<usize> acknowledge_virtual_irq() noexcept { return irqs_.pop(); }

    // Makes the guest take `kind` at its own VBAR_EL1, as if the hardware
    // had raised it at the instruction that caused the last exit (even if
    // an MMIO exit already moved ELR past it), with that exit's syndrome
    // (exceptions.hpp): DataAbort for an access the VMM refuses to emulate
    // (NestedPageFault, MMIO to no device), Undefined for an instruction it
    // will not emulate. Once per exit, between run() calls, bound or not:
    // the EL1 registers it writes live in the CPU while the vCPU is bound
    // (call it on the vCPU's CPU then) and in SysRegState otherwise.
    AxResult<void> inject_exception(GuestException kind) {
        settle_trap();
        const bool bound = is_bound();
        const ExceptionSource from{trap_pc(last_trap_), ctx_.spsr, bound ? reg::read_vbar_el1() : sysregs_.vbar,
                                   bound ? reg::read_sctlr_el1() : sysregs_.sctlr};
        const std::optional<ExceptionEntry> entry = exception_entry(kind, last_trap_, from);
        if (!entry) return ax_err(AxError::BadState);
        if (bound) {
            reg::write_esr_el1(entry->esr_el1);
            if (entry->far_el1) reg::write_far_el1(*entry->far_el1);
            reg::write_elr_el1(entry->elr_el1);
            reg::write_spsr_el1(entry->spsr_el1);
        } else {
            sysregs_.esr = entry->esr_el1;
            if (entry->far_el1) sysregs_.far = *entry->far_el1;
            sysregs_.elr_el1 = entry->elr_el1;
            sysregs_.spsr_el1 = entry->spsr_el1;
        }
        ctx_.elr = entry->pc;
        ctx_.spsr = entry->pstate;
        return ax_ok();
    }

    // --- List registers fed by a VMM's interrupt controller model ----------------
    // For a VMM that emulates the distributor and redistributors itself
    // (vgic.hpp): it gives the interrupts its model hands out
    // (VGic::next_for) to free list registers, learns which ones the guest
    // has finished with (VGic::on_eoi), and asks for a maintenance
    // interrupt while its model holds more than the list registers take.
    // Level-triggered interrupts carry the LR's EOI bit, so their
    // deactivation raises the maintenance interrupt (ICH_MISR_EL2.EOI) and
    // the VMM can re-sample the line at once. These live alongside
    // inject_interrupt, whose queue never takes a list register fed here.
    // Call them on the vCPU's CPU while it is bound, between run() calls.

    // Empty list registers that may be fed (after collect_finished).
    [[nodiscard]] unsigned free_list_registers() const noexcept {
        if (!use_list_registers() || !is_bound()) return 0;
        // Counted by clearing bits: std::popcount would call libgcc's
        // __popcountdi2 under -mgeneral-regs-only, which a kernel lacks.
        unsigned count = 0;
        for (std::uint64_t free = reg::read_ich_elrsr_el2() & vgic::present_lrs(lr_count_) & ~fed_; free != 0;
             free &= free - 1)
            ++count;
        return count;
    }
    // Puts `lr` (an ICH_LR<n>_EL2 value with HW = 0, such as
    // vgic::Pending::list_register()) in a free list register. BadState when
    // unbound or without list registers, ResourceBusy when none is free.
    AxResult<void> deliver_list_register(std::uint64_t lr) {
        if (!use_list_registers() || !is_bound()) return ax_err(AxError::BadState);
        const std::uint64_t free = reg::read_ich_elrsr_el2() & vgic::present_lrs(lr_count_) & ~fed_;
        if (free == 0) return ax_err(AxError::ResourceBusy);
        const auto index = static_cast<unsigned>(std::countr_zero(free));
        reg::access_ich_lr(index, true, lr);
        fed_ |= std::uint64_t{1} << index;
        queue_lrs_ &= ~(std::uint64_t{1} << index);
        fed_intid_[index] = static_cast<std::uint32_t>(lr & vgic::lr_intid_mask);
        return ax_ok();
    }
    // Calls finished(intid) for each fed list register the guest has done
    // with, clears it and frees it; returns how many. Done is State 0b00:
    // ICH_ELRSR_EL2 for an LR without the EOI bit, ICH_EISR_EL2 for one with
    // it (GICv3 spec: ELRSR counts an invalid LR with EOI = 1 as not empty
    // until software clears it); clearing also ends the EOI maintenance
    // interrupt.
    template <class Finished>
    unsigned collect_finished(Finished&& finished) {
        if (fed_ == 0 || !is_bound()) return 0;
        unsigned count = 0;
        const std::uint64_t done_lrs = (reg::read_ich_elrsr_el2() | reg::read_ich_eisr_el2()) & fed_;
        for (std::uint64_t done = done_lrs; done != 0; done &= done - 1) {
            const auto index = static_cast<unsigned>(std::countr_zero(done));
            reg::access_ich_lr(index, true, 0);
            fed_ &= ~(std::uint64_t{1} << index);
            queue_lrs_ |= std::uint64_t{1} << index;
            finished(fed_intid_[index]);
            ++count;
        }
        return count;
    }
    // The vCPU goes off (PSCI CPU_OFF, a CpuDown exit): its CPU interface's
    // view of the interrupts the VMM fed goes back to the VMM's model, where
    // a GIC keeps pending and active state (GICv3 spec, "Interrupt
    // handling state machine": the states belong to the interrupt, not to
    // the PE). Calls returned(intid, pending, active) for each fed list
    // register with the state it held (VGic::take_back takes those), and
    // empties it. Bound or unbound; reset_for_cpu_up refuses a vCPU that
    // still has fed list registers.
    template <class Returned>
    void give_back_list_registers(Returned&& returned) {
        const bool bound = is_bound();
        for (std::uint64_t fed = fed_; fed != 0; fed &= fed - 1) {
            const auto index = static_cast<unsigned>(std::countr_zero(fed));
            const std::uint64_t lr = bound ? reg::access_ich_lr(index, false) : interrupts_.lr[index];
            if (bound) {
                reg::access_ich_lr(index, true, 0);
                queue_lrs_ |= std::uint64_t{1} << index;
            }
            interrupts_.lr[index] = 0;
            returned(fed_intid_[index], (lr & vgic::lr_state_pending) != 0, (lr & vgic::lr_state_active) != 0);
        }
        fed_ = 0;
    }
    // While on, ICH_HCR_EL2.UIE asks for a maintenance interrupt when at
    // most one list register holds an interrupt: the VMM's model has more
    // to hand out than fit.
    void request_refill(bool on) noexcept {
        if (refill_ == on || !use_list_registers()) return;
        refill_ = on;
        const std::uint64_t hcr = on ? (interrupts_.hcr | vgic::ich_hcr_uie)
                                     : irqs_.empty() ? (interrupts_.hcr & ~vgic::ich_hcr_uie) : interrupts_.hcr;
        if (hcr == interrupts_.hcr) return;
        interrupts_.hcr = hcr;
        if (is_bound()) reg::write_ich_hcr_el2(hcr);
    }

    // Completes an MmioRead exit: writes the loaded value to the destination
    // register as the load instruction specifies (ELR is already past it).
    AxResult<void> complete_mmio_read(const exit::MmioRead& read, std::uint64_t raw) {
        return set_gpr(read.reg, mmio_load_value(read, raw));
    }

private:
    VCpu(VMId vm, VCpuId vcpu, const CreateConfig& config)
        : vm_(vm), vcpu_(vcpu), vmid_(vm + 1), mpidr_(config.mpidr_el1 & 0xFF'00FF'FFFF) {
        ctx_.x[0] = config.dtb_addr.value();
        ctx_.spsr = spsr_el1h_masked;
    }

    // The guest's EL1 state at its start, as setup leaves it: EL1h with
    // DAIF masked, the EL1 system registers at their reset values (MMU and
    // caches off), pointer authentication keys, FP/SIMD registers and
    // (switch_debug) breakpoints and watchpoints 0.
    void reset_el1_state() noexcept {
        ctx_.spsr = spsr_el1h_masked;
        sysregs_ = SysRegState{};
        guest_debug_ = DebugState{};
        pauth_keys_ = PointerAuthKeys{};
        fp_ = FpState{};
    }

    [[nodiscard]] bool use_list_registers() const noexcept {
        return config::gic_version == 3 && !setup_.passthrough_interrupt;
    }

    [[gnu::noinline]] AxResult<AxVCpuExitReason> handle_async(ExitKind kind, RunPublisher<VCpu, H> publisher) {
        if (kind == ExitKind::Irq) {
            const auto published = publisher.publish();
            return AxVCpuExitReason{exit::ExternalInterrupt{H::fetch_irq()}};
        }
        last_trap_ = TrapRecord{reg::read_esr_el2(), reg::read_far_el2(), reg::read_hpfar_el2()};
        return ax_err(AxError::Unsupported);
    }

    // Makes last_trap_ the whole record before ELR moves outside run() (the
    // VMM's guest_context(), set_entry, inject_exception), as last_trap()
    // would derive it from the moved ELR.
    void settle_trap() noexcept {
        if (last_exit_ == trap_settled) return;
        settled_kind_ = exit_kind(last_exit_);
        last_trap_ = last_trap();
        last_exit_ = trap_settled;
    }

    // Whether the last delivery left a request that an empty queue must
    // undo: ICH_HCR_EL2.UIE with list registers, HCR_EL2.VI without.
    [[nodiscard]] bool irq_delivery_armed() const noexcept {
        if constexpr (config::gic_version == 3) return (interrupts_.hcr & vgic::ich_hcr_uie) != 0;
        return (hcr_ & hcr::vi) != 0;
    }

    // inject_interrupt's general case: checked, then queued for
    // deliver_interrupts at the next entry.
    [[gnu::noinline]] AxResult<void> queue_interrupt(usize vector) {
        if (setup_.passthrough_interrupt) return ax_err(AxError::Unsupported);
        if (vector > vgic::max_intid) return ax_err(AxError::InvalidInput);
        entry_work_ |= irq_work;
        return irqs_.push(vector);
    }

    [[gnu::noinline]] void deliver_interrupts() {
        if (use_list_registers()) {
            vgic::flush_queue(irqs_, queue_lrs_, interrupts_.hcr, refill_);
        } else if (!setup_.passthrough_interrupt) {
            const std::uint64_t wanted = irqs_.empty() ? (hcr_ & ~hcr::vi) : (hcr_ | hcr::vi);
            if (wanted != hcr_) {
                hcr_ = wanted;
                reg::write_hcr_el2(hcr_);
            }
        }
        if (irqs_.empty() && !irq_delivery_armed()) entry_work_ &= ~irq_work;
    }

    // The synchronous exits run() does not decide: out of line, so run()'s
    // fast paths keep a small frame. MMIO is decided here (a write, or a read
    // whose syndrome has ISS2 bits); the rest goes on to exit_slow.
    // Takes the syndrome from last_exit_ rather than as an argument, which
    // would cost run()'s fast path a register move.
    [[gnu::noinline]] AxResult<AxVCpuExitReason> handle_sync(RunPublisher<VCpu, H> publisher) {
        const std::uint64_t esr = last_exit_;
        last_trap_.esr = esr;
        const std::uint32_t ec = esr::ec(esr);
        if (ec == esr::ec_dabt_lower && classify_abort(esr) == AbortKind::Mmio) [[likely]] {
            // Built straight into the result (what decode_abort would
            // return).
            const GuestPhysAddr gpa = record_fault_address();
            const std::uint32_t iss = esr::iss(esr);
            ctx_.elr += 4;
            if ((iss & esr::wnr) != 0) {
                return AxResult<AxVCpuExitReason>(boost::outcome_v2::in_place_type<AxVCpuExitReason>,
                                                  std::in_place_type<exit::MmioWrite>, mmio_write_from(iss, gpa, ctx_.x));
            }
            return AxResult<AxVCpuExitReason>(boost::outcome_v2::in_place_type<AxVCpuExitReason>,
                                              std::in_place_type<exit::MmioRead>, mmio_read_from(iss, gpa));
        }
        return exit_slow(publisher);
    }

    // An MMIO abort's address registers, into the trap record for
    // last_trap(), and the IPA they give: a translation fault, so HPFAR
    // holds it.
    [[gnu::always_inline]] GuestPhysAddr record_fault_address() noexcept {
        last_trap_.far = reg::read_far_el2();
        last_trap_.hpfar = reg::read_hpfar_el2();
        return fault_gpa(last_trap_);
    }

    // Every other synchronous exit, published throughout: PSCI reaches the
    // host API (AFFINITY_INFO, psci_service.hpp). What needs no VMM decision
    // (Decoded::answered, or an abort whose address the guest's own tables
    // no longer map) resumes the guest here, as riscv64's exit_slow does,
    // until an exit the VMM must see.
    [[gnu::noinline]] AxResult<AxVCpuExitReason> exit_slow(RunPublisher<VCpu, H> publisher) {
        const auto published = publisher.publish();
        for (;;) {
            const std::uint64_t esr = last_exit_;
            last_trap_.esr = esr;
            const std::uint32_t ec = esr::ec(esr);
            const bool abort = ec == esr::ec_dabt_lower || ec == esr::ec_iabt_lower;
            // FAR and HPFAR mean something for aborts only; other exits skip the reads.
            last_trap_.far = abort ? reg::read_far_el2() : 0;
            last_trap_.hpfar = abort ? reg::read_hpfar_el2() : 0;
            GuestPhysAddr gpa = fault_gpa(last_trap_);
            bool retry = false;
            if (abort && !hpfar_valid(esr)) {
                const std::uint64_t par = reg::translate_el1_read(last_trap_.far);
                // The guest changed its page tables under us: let it retry.
                retry = (par & 1) != 0;
                gpa = GuestPhysAddr(static_cast<usize>((par & stage2::addr_mask) | (last_trap_.far & 0xFFF)));
            }
            if (!retry) {
                DecodeResult decoded = decode_sync(last_trap_, gpa, ctx_.x, PsciService<H>::affinity_query(vm_));
                if (!decoded) return ax_err(to_ax_error(decoded.error()));
                Decoded& d = decoded.value();
                if (d.x0) ctx_.x[0] = *d.x0;
                if (d.pc == PcAction::Advance) ctx_.elr += 4;
                if (!d.answered()) {
                    // Copies the active alternative only, into the caller's
                    // result: a whole-variant copy is a 64-byte memcpy call
                    // under -mstrict-align.
                    return std::visit(
                        [](auto& alt) {
                            return AxResult<AxVCpuExitReason>(boost::outcome_v2::in_place_type<AxVCpuExitReason>,
                                                              std::in_place_type<std::remove_reference_t<decltype(alt)>>,
                                                              alt);
                        },
                        static_cast<axvcpu::detail::ExitReasonVariant&>(d.reason));
                }
            }
            last_exit_ = enter_guest(&ctx_);
            if (!is_sync_exit(last_exit_)) return handle_async(exit_kind(last_exit_), publisher);
        }
    }

    void load_stage2() {
        const std::uint64_t vttbr = vmid_ << 48 | root_;
        reg::write_vttbr_el2(vttbr);
        reg::isb();
        const std::uint64_t pcpu = reg::read_mpidr_el1() & 0xFF'00FF'FFFF;
        if (vttbr != flushed_vttbr_) {
            // New root or VMID for this vCPU: drop whatever an older user of
            // the VMID left, on every CPU.
            reg::tlbi_vmid_all_is();
            flushed_vttbr_ = vttbr;
        } else if (last_pcpu_ && *last_pcpu_ != pcpu) {
            // Moved here: local (non-broadcast) guest TLB invalidations made
            // elsewhere did not reach this CPU.
            reg::tlbi_vmid_stage1_local();
        }
        last_pcpu_ = pcpu;
    }

    GuestContext ctx_{};
    VMId vm_;
    VCpuId vcpu_;
    std::uint64_t vmid_;
    std::uint64_t mpidr_;
    std::uint64_t root_ = 0;
    std::uint64_t hcr_ = hcr::vm | hcr::rw;
    std::uint64_t mdcr_traps_ = mdcr::debug_traps | mdcr::pmu_traps;  // setup()'s choice
    // SetupConfig::switch_debug: the guest's breakpoints and watchpoints
    // and, while bound, the host's.
    DebugState guest_debug_{}, host_debug_{};
    std::uint64_t host_mdscr_ = 0;  // the guest's is SysRegState's
    std::uint64_t host_mdcr_ = 0;                                      // MDCR_EL2 before bind, back at unbind
    std::uint64_t flushed_vttbr_ = 0;
    std::optional<std::uint64_t> last_pcpu_;
    SetupConfig setup_{};
    unsigned lr_count_ = 0;
    // The list registers the queue may take: present (present_lrs(lr_count_),
    // from bind) and not fed by the VMM (fed_). Kept rather than rebuilt:
    // inject_interrupt and deliver_interrupts need it on every injection.
    std::uint64_t queue_lrs_ = 0;
    std::uint64_t last_exit_ = 0;  // what enter_guest returned (ESR_EL2 or ~ExitKind), or trap_settled
    TrapRecord last_trap_{};
    // last_exit_ after settle_trap(): last_trap_ is whole and settled_kind_
    // holds the exit's kind. Bit 63 clear, yet no exit: ESR_EL2[63:56] are RES0.
    static constexpr std::uint64_t trap_settled = std::uint64_t{1} << 62;
    ExitKind settled_kind_ = ExitKind::Sync;
    SysRegState sysregs_{};
    TimerState timer_{};
    InterruptState interrupts_{};
    IrqQueue<> irqs_{};
    // List registers fed by the VMM (deliver_list_register) and not yet
    // collected, with the vINTID each was given; refill_: UIE on its behalf.
    std::uint64_t fed_ = 0;
    std::array<std::uint32_t, 16> fed_intid_{};
    bool refill_ = false;
    // What run() must look at before entering the guest, tested as one
    // word, 16 bits rather than a byte: a character type may alias any
    // store, so the VMM's reply (a store to a guest register) would make
    // GCC load it again for the next entry instead of knowing it from
    // gate_open(). not_bound: bind has not run (or unbind has). not_runnable: the
    // AxVCpu around it is not Ready (set_runnable). irq_work: the next
    // entry must run deliver_interrupts(); set by every injection, cleared
    // by a delivery that leaves the queue empty and no UIE/VI request armed
    // (acknowledge_virtual_irq only shrinks the queue, so it may stay set).
    static constexpr std::uint16_t not_bound = 1;
    static constexpr std::uint16_t irq_work = 2;
    static constexpr std::uint16_t not_runnable = 4;
    std::uint16_t entry_work_ = not_bound;
    // Whether the CPU bound to has pointer authentication keys to switch.
    bool pointer_auth_ = false;
    FpState fp_{};
    PointerAuthKeys pauth_keys_{};
};

}  // namespace axvcpu::aarch64
