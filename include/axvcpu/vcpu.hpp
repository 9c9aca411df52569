// AxVCpu<ArchPolicy, HostApiPolicy>: the architecture-independent vCPU.
//
// It owns the arch vCPU, enforces the life cycle and makes itself the
// per-CPU "current vCPU" around every arch call, so arch code can reach its
// wrapper (current_vcpu<A, H>()) and through it the host API. (Register
// writes and injection skip that when the policy promises
// plain_vcpu_updates, see arch_contract.hpp: they never look. And a
// policy whose run takes a RunPublisher publishes the vCPU itself, only
// where something could look, see run_publisher.hpp.)
//
//   create ──> Created ──setup──> Free ──bind──> Ready ──run──> Running ──> Ready
//                                  ^               │  └──block──> Blocked ──unblock──┘
//                                  └────unbind─────┘
//
// Any operation attempted in a state that does not allow it returns BadState
// and leaves the vCPU Invalid; a life-cycle step (setup, bind, run, unbind)
// whose arch call fails leaves it Invalid and returns that call's error. An
// operation that keeps the state (set_gpr, inject_interrupt, ...) reports an
// arch error without invalidating: nothing was half-done. Invalid is
// terminal: nothing in the library stores another state over it, not the
// end of a step nor a RunPublisher stretch, even when the call that found
// the state wrong was made inside that step (a host callback in run()
// writing a register of its Running vCPU). A call made while another
// vCPU (or this one) is already current on this CPU is refused with BadState
// and changes nothing: it is the caller's nesting that is wrong, not this
// vCPU's state. (The exception, with a policy that gates run(), see
// arch_contract.hpp: a nested run() of a Ready vCPU is not refused.)
//
// Like upstream, an AxVCpu is not thread-safe: one CPU drives it at a time,
// and the caller keeps preemption and migration off around each call (the
// current-vCPU slot is set and cleared on the same CPU).
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "axvcpu/addr.hpp"
#include "axvcpu/arch_contract.hpp"
#include "axvcpu/config.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/fmt.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/run_publisher.hpp"
#include "axvcpu/types.hpp"
#include "axvcpu/vcpu_state.hpp"

namespace axvcpu {

// The states an operation is allowed in, as a bit set over VCpuState.
class VCpuStates {
public:
    template <class... States>
    constexpr explicit VCpuStates(States... states) noexcept : bits_((0u | ... | bit(states))) {}
    [[nodiscard]] constexpr bool contains(VCpuState state) const noexcept { return (bits_ & bit(state)) != 0; }

private:
    // No bit for a value that is not a state (set_state_unchecked takes any).
    static constexpr unsigned bit(VCpuState state) noexcept {
        const usize index = detail::state_index(state);
        return index < detail::vcpu_states.size() && detail::vcpu_states[index] == state ? 1u << index : 0u;
    }
    unsigned bits_;
};

namespace detail {
// The states in which the guest is not executing: register writes and
// injection are accepted. update_stopped tests it as takes_updates, one
// sign test; the two must agree.
inline constexpr VCpuStates guest_stopped{VCpuState::Created, VCpuState::Free, VCpuState::Ready, VCpuState::Blocked};
consteval bool guest_stopped_is_takes_updates() {
    for (VCpuState state : vcpu_states)
        if (guest_stopped.contains(state) != takes_updates(state)) return false;
    return true;
}
static_assert(guest_stopped_is_takes_updates());

// The current-vCPU slot holds a pointer to this header, which names the
// AxVCpu instantiation it belongs to; current_vcpu<A, H>() hands out the
// pointer only to that instantiation, never a wrongly typed one.
struct CurrentVCpuHeader {
    const void* type_tag;
};
template <class A, class H>
inline constexpr char vcpu_type_tag = 0;

// The arch vCPU, as AxVCpu's first base: at offset 0, the arch policy's
// `this` is the AxVCpu's own, so the hot path keeps one pointer live across
// the world switch instead of two.
template <class A>
struct ArchVCpuHolder {
    A arch_;
};
}  // namespace detail

template <class A, class H>
class AxVCpu : private detail::ArchVCpuHolder<A>, private detail::CurrentVCpuHeader {
    using detail::ArchVCpuHolder<A>::arch_;

    static_assert(api::check_arch_vcpu<A, H>());
    static_assert(api::check_host_api<H>());

public:
    using Arch = A;
    using Host = H;
    using CreateConfig = typename A::CreateConfig;
    using SetupConfig = typename A::SetupConfig;

    // `phys_cpu_set`: the physical CPUs allowed to run this vCPU (none: any).
    // A vCPU id at or above config::max_vcpus_per_vm is InvalidInput.
    static AxResult<AxVCpu> create(VMId vm_id, VCpuId vcpu_id, usize favor_phys_cpu,
                                   std::optional<VCpuSet> phys_cpu_set, CreateConfig arch_config) {
        if (vcpu_id >= config::max_vcpus_per_vm) return ax_err(AxError::InvalidInput);
        AXVCPU_TRY(arch, A::create(vm_id, vcpu_id, std::move(arch_config)));
        return AxVCpu(vm_id, vcpu_id, favor_phys_cpu, phys_cpu_set, std::move(arch));
    }

    // Movable only so create() can return it: place it where it will live
    // before setup, and never move it after (arch code and the current-vCPU
    // slot refer to it by address).
    AxVCpu(AxVCpu&&) noexcept = default;
    AxVCpu(const AxVCpu&) = delete;
    AxVCpu& operator=(const AxVCpu&) = delete;
    AxVCpu& operator=(AxVCpu&&) = delete;
    ~AxVCpu() = default;

    [[nodiscard]] VMId vm_id() const noexcept { return vm_id_; }
    [[nodiscard]] VCpuId id() const noexcept { return vcpu_id_; }
    [[nodiscard]] usize favor_phys_cpu() const noexcept { return favor_phys_cpu_; }
    [[nodiscard]] std::optional<VCpuSet> phys_cpu_set() const noexcept { return phys_cpu_set_; }
    // The bootstrap processor is, by convention, vCPU 0.
    [[nodiscard]] bool is_bsp() const noexcept { return vcpu_id_ == 0; }
    [[nodiscard]] VCpuState state() const noexcept { return state_; }

    // Created -> Free: set_entry, set_ept_root, then the arch setup.
    AxResult<void> setup(GuestPhysAddr entry, HostPhysAddr ept_root, SetupConfig arch_config) {
        return transition(VCpuState::Created, VCpuState::Free, [&](A& arch) -> AxResult<void> {
            AXVCPU_TRYV(arch.set_entry(entry));
            AXVCPU_TRYV(arch.set_ept_root(ept_root));
            return arch.setup(std::move(arch_config));
        });
    }

    // Free -> Ready on the calling physical CPU.
    AxResult<void> bind() {
        return transition(VCpuState::Free, VCpuState::Ready, [](A& arch) { return arch.bind(); });
    }

    // Ready -> Free.
    AxResult<void> unbind() {
        return transition(VCpuState::Ready, VCpuState::Free, [](A& arch) { return arch.unbind(); });
    }

    // Ready -> Running until the guest exits -> Ready. The state reads
    // Running while the arch code runs the guest (with a publishing policy:
    // wherever anything could see it). A call made inside the run that
    // found the state wrong leaves the vCPU Invalid; the exit is still
    // returned, as the guest did exit. With a gating policy
    // (api::gated_run) the policy's own entry test refuses a vCPU that is
    // not Ready, and nesting is told apart only once refused (see
    // after_failed_run). Always inlined, down to the arch
    // call: a policy's inline exit fast paths pay off only where they meet
    // the VMM's own tests, and the compiler's inliner gives up on this chain
    // once the policy's run() is large.
    [[gnu::always_inline]] AxResult<AxVCpuExitReason> run() {
        if constexpr (api::gated_run<A, H>) {
            return run_gated();
        } else if constexpr (api::publishing_run<A, H>) {
            if (!may_start(VCpuState::Ready)) return ax_err(AxError::BadState);
            return run_publishing();
        } else {
            return transition(VCpuState::Ready, VCpuState::Ready, [this](A& arch) __attribute__((always_inline)) {
                store_state(VCpuState::Running);
                return arch.run();
            });
        }
    }

    // Ready <-> Blocked: the VMM parks a vCPU (e.g. after Halt) and wakes it.
    AxResult<void> block() { return transition(VCpuState::Ready, VCpuState::Blocked); }
    AxResult<void> unblock() { return transition(VCpuState::Blocked, VCpuState::Ready); }

    // The entry point may change until the vCPU is bound (a secondary vCPU
    // gets its entry from the guest's CpuUp request).
    AxResult<void> set_entry(GuestPhysAddr entry) {
        return stay_in(VCpuStates(VCpuState::Created, VCpuState::Free),
                       [&](A& arch) { return arch.set_entry(entry); });
    }

    // Guest registers can be written whenever the guest is not executing.
    [[gnu::always_inline]] AxResult<void> set_gpr(usize index, usize value) {
        return update_stopped([&](A& arch) __attribute__((always_inline)) { return arch.set_gpr(index, value); });
    }
    [[gnu::always_inline]] AxResult<void> set_return_value(usize value) {
        return update_stopped([&](A& arch) __attribute__((always_inline)) -> AxResult<void> {
            arch.set_return_value(value);
            return ax_ok();
        });
    }

    // Interrupts may be queued whenever the guest is not executing; the arch
    // policy delivers them at the next entry. Only the owning CPU may call
    // this (as every AxVCpu call): Running is refused, and it is visible
    // only inside run(), where nesting is refused anyway. A VMM reaches a
    // vCPU running on another CPU through VmmIf::inject_interrupt (an IPI to
    // the owning CPU), as upstream does.
    [[gnu::always_inline]] AxResult<void> inject_interrupt(usize vector) {
        return update_stopped([&](A& arch) __attribute__((always_inline)) { return arch.inject_interrupt(vector); });
    }

    // Direct access to the arch vCPU for arch-specific set-up by the VMM.
    // It bypasses the state machine and the current-vCPU slot. A gating
    // policy's set_runnable is AxVCpu's alone: AxVCpu takes the gate's word
    // (api::gated_run, api::gated_updates). (A policy
    // whose run takes a RunPublisher can only be run through run() above:
    // only AxVCpu makes publishers.)
    [[nodiscard]] A& arch_vcpu() noexcept { return arch_; }
    [[nodiscard]] const A& arch_vcpu() const noexcept { return arch_; }

    // Overrides the state machine (upstream's unsafe set_state), for a VMM
    // that recovers a vCPU by means the state machine does not model.
    void set_state_unchecked(VCpuState state) noexcept { store_state(state); }

    // The vCPU whose arch call is in progress on this CPU, if it is of this
    // type; null outside arch calls, and inside a publishing policy's run()
    // outside the stretches it publishes.
    [[nodiscard]] static AxVCpu* current() noexcept {
        auto* header = static_cast<detail::CurrentVCpuHeader*>(H::current_vcpu_slot());
        if (header == nullptr || header->type_tag != &detail::vcpu_type_tag<A, H>) return nullptr;
        return static_cast<AxVCpu*>(header);
    }

private:
    friend class RunPublisher<A, H>;

    // What the current-vCPU slot holds while this vCPU is current.
    [[nodiscard]] detail::CurrentVCpuHeader* current_header() noexcept { return this; }

    AxVCpu(VMId vm_id, VCpuId vcpu_id, usize favor_phys_cpu, std::optional<VCpuSet> phys_cpu_set, A&& arch)
        : detail::ArchVCpuHolder<A>{std::move(arch)},
          detail::CurrentVCpuHeader{&detail::vcpu_type_tag<A, H>},
          vm_id_(vm_id),
          vcpu_id_(vcpu_id),
          favor_phys_cpu_(favor_phys_cpu),
          phys_cpu_set_(phys_cpu_set) {
        // Created: a gating policy starts open (for users without AxVCpu).
        if constexpr (api::gated_run<A, H>) arch_.set_runnable(false);
    }

    // Makes this vCPU current on this CPU for its lifetime; the slot is
    // cleared on every way out (a hosted mock may even throw). Callers have
    // already refused nesting (the slot is empty).
    class CurrentScope {
    public:
        explicit CurrentScope(AxVCpu* vcpu) noexcept {
            H::set_current_vcpu_slot(vcpu->current_header());
        }
        ~CurrentScope() {
            if (armed_) H::set_current_vcpu_slot(nullptr);
        }
        // Clears the slot now rather than at the end of the scope.
        void leave() noexcept {
            H::set_current_vcpu_slot(nullptr);
            armed_ = false;
        }
        CurrentScope(const CurrentScope&) = delete;
        CurrentScope& operator=(const CurrentScope&) = delete;

    private:
        bool armed_ = true;
    };

    template <class Step>
    [[gnu::always_inline]] auto with_current(Step&& step) -> std::invoke_result_t<Step&, A&> {
        const CurrentScope scope(this);
        return step(arch_);
    }

    // Whether a life-cycle step from `from` may start: no vCPU is current
    // on this CPU (nesting changes nothing), and this one is in `from` (if
    // not, it is now Invalid).
    [[gnu::always_inline]] bool may_start(VCpuState from) noexcept {
        if (H::current_vcpu_slot() != nullptr) return false;
        if (state_ != from) {
            store_state(VCpuState::Invalid);
            return false;
        }
        return true;
    }

    template <class Step>
    [[gnu::always_inline]] auto transition(VCpuState from, VCpuState to, Step&& step) -> std::invoke_result_t<Step&, A&> {
        if (!may_start(from)) return ax_err(AxError::BadState);
        return step_then_enter(to, step);
    }

    // A single named result and a single return, so the compiler builds the
    // (large) exit reason in the caller's slot instead of copying it out.
    // The slot is cleared in each branch, not after them: a host's slot
    // write may be a volatile asm, which the compiler will not copy to
    // thread a path through, so a branch after it could not be resolved for
    // the arch call's inlined fast path (whose success is a constant).
    template <class Step>
    [[gnu::always_inline]] auto step_then_enter(VCpuState to, Step& step) -> std::invoke_result_t<Step&, A&> {
        CurrentScope scope(this);
        auto result = step(arch_);
        if (result) [[likely]] {
            scope.leave();
            settle(to);
        } else {
            scope.leave();
            store_state(VCpuState::Invalid);
        }
        return result;
    }

    // The arch run of a publishing policy; like step_then_enter, one named
    // result and one return. A successful run stores nothing: the vCPU is
    // already Ready (may_start found it so, and every published stretch
    // ends Ready), or Invalid if a call inside a stretch found it in a
    // wrong state, which a Ready store here would undo. Without a store the
    // compiler cannot fold the state test of the VMM's reply, so that test
    // is one sign test (VCpuState's values; the cost is measured in the
    // benchmark READMEs).
    [[gnu::always_inline]] AxResult<AxVCpuExitReason> run_publishing() {
        auto result = arch_.run(RunPublisher<A, H>(*this));
        if (!result) [[unlikely]] store_state(VCpuState::Invalid);
        return result;
    }

    // A plain update of a vCPU that takes none: out of line, so that the
    // policy's gate word a fast path tested need not be kept for it.
    [[gnu::noinline, gnu::cold]] void invalidate() noexcept { store_state(VCpuState::Invalid); }

    // The arch run of a gating policy (api::gated_run): the policy refuses
    // the entry unless the vCPU is Ready, so the fast path tests nothing
    // here. Only a failed run costs a look, out of line.
    [[gnu::always_inline]] AxResult<AxVCpuExitReason> run_gated() {
        auto result = arch_.run(RunPublisher<A, H>(*this));
        if (!result) [[unlikely]] after_failed_run();
        return result;
    }
    // The gate refused a vCPU that is not Ready: from inside another arch
    // call on this CPU (the slot is set) it is the caller's nesting, which
    // changes nothing; otherwise the vCPU is now Invalid, as may_start
    // leaves it. A run that failed after the gate leaves it Invalid too.
    [[gnu::noinline]] void after_failed_run() noexcept {
        if (state_ != VCpuState::Ready && H::current_vcpu_slot() != nullptr) return;
        store_state(VCpuState::Invalid);
    }

    // Every state store: a gating policy hears whether the vCPU may run.
    void store_state(VCpuState state) noexcept {
        state_ = state;
        if constexpr (api::gated_run<A, H>) arch_.set_runnable(state == VCpuState::Ready);
    }

    // A step's end state, unless something inside the step left the vCPU
    // Invalid: a wrong-state call, or set_state_unchecked. Invalid is
    // terminal, so no step's end may revive it.
    [[gnu::always_inline]] void settle(VCpuState to) noexcept {
        if (state_ != VCpuState::Invalid) store_state(to);
    }
    // A RunPublisher stretch: Running while it lasts, Ready after it (a host
    // that changed the state inside it is overruled, as at the end of any
    // step), Invalid throughout once invalidated. Only exits that reach the
    // host publish, so these loads are off the fast paths.
    void enter_running() noexcept { settle(VCpuState::Running); }
    void leave_running() noexcept { settle(VCpuState::Ready); }

    AxResult<void> transition(VCpuState from, VCpuState to) {
        return transition(from, to, [](A&) -> AxResult<void> { return ax_ok(); });
    }

    // For operations that keep the state: a wrong state invalidates the vCPU,
    // but an arch error (a full interrupt queue, a bad register index) is
    // only reported, since nothing was half-done.
    template <class Step>
    auto stay_in(VCpuStates allowed, Step&& step) -> std::invoke_result_t<Step&, A&> {
        if (H::current_vcpu_slot() != nullptr) return ax_err(AxError::BadState);
        if (!still_in(allowed)) return ax_err(AxError::BadState);
        return with_current(step);
    }

    // Whether the state is one of `allowed`; if not, the vCPU is now Invalid.
    bool still_in(VCpuStates allowed) noexcept {
        if (allowed.contains(state_)) return true;
        store_state(VCpuState::Invalid);
        return false;
    }

    // A register write or injection: stay_in(guest_stopped), minus the
    // current-vCPU slot when the arch policy promises these calls never look
    // at it (api::plain_vcpu_updates). That is the VMM's reply to nearly
    // every exit, so its test is a gating policy's gate_open() if that says
    // open (api::gated_updates), else takes_updates, one sign test.
    template <class Step>
    [[gnu::always_inline]] auto update_stopped(Step&& step) -> std::invoke_result_t<Step&, A&> {
        if constexpr (api::plain_vcpu_updates<A>) {
            // An open gate means Ready (api::gated_updates).
            if constexpr (api::gated_updates<A, H>) {
                if (arch_.gate_open()) return step(arch_);
            }
            if (!detail::takes_updates(state_)) [[unlikely]] {
                invalidate();
                return ax_err(AxError::BadState);
            }
            return step(arch_);
        } else {
            return stay_in(detail::guest_stopped, step);
        }
    }

    VMId vm_id_;
    VCpuId vcpu_id_;
    usize favor_phys_cpu_;
    std::optional<VCpuSet> phys_cpu_set_;
    VCpuState state_ = VCpuState::Created;
};

// The AxVCpu whose arch call is in progress on this CPU (null if none, or if
// it is of another instantiation; see AxVCpu::current()). Arch code calls
// this to reach its wrapper.
template <class A, class H>
[[nodiscard]] AxVCpu<A, H>* current_vcpu() noexcept {
    return AxVCpu<A, H>::current();
}

}  // namespace axvcpu
