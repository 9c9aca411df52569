// What an architecture's vCPU policy must provide (AxVisor's AxArchVCpu), as
// a concept with one named requirement per member.
//
// ArchVCpu: the per-vCPU policy. AxVCpu owns one by value and forwards its
// life-cycle calls to it:
//   static AxResult<A> create(VMId, VCpuId, A::CreateConfig)
//   AxResult<void> set_entry(GuestPhysAddr), set_ept_root(HostPhysAddr),
//                  setup(A::SetupConfig), bind(), unbind(),
//                  set_gpr(usize index, usize value), inject_interrupt(usize vector)
//   AxResult<AxVCpuExitReason> run()  or  run(RunPublisher<A, H>)
//   void set_return_value(usize)
// inject_interrupt may be called while the vCPU is not running: the policy
// queues the vector until the next entry.
// A policy must honour set_entry again while the vCPU is Free (after setup,
// before bind): a secondary vCPU learns its entry from the guest's CpuUp.
//
// Optional: `static constexpr bool plain_vcpu_updates = true;` promises that
// set_gpr, set_return_value and inject_interrupt only update this vCPU (its
// saved context, its interrupt queue, or while it is bound this CPU's
// virtual-interrupt registers) and never call current_vcpu(). AxVCpu then
// still checks the state but skips the current-vCPU slot for them: a VMM
// answers nearly every exit with one of them, so that is a slot set, clear
// and nesting check saved per exit.
//
// Optional: run(RunPublisher<A, H>) instead of run() lets the policy publish its
// vCPU as current and Running only where its run() reaches code that could
// look (run_publisher.hpp): an exit decided without such code then costs no
// slot or state stores.
//
// Optional, with run(RunPublisher<A, H>): `void set_runnable(bool) noexcept`
// makes the policy the gate of AxVCpu::run. AxVCpu calls it whenever the
// vCPU's state changes (true exactly in Ready; false when it takes the
// policy object) and then tests neither the state nor the current-vCPU
// slot before run: the policy's run() must return BadState, without
// entering the guest, publishing or changing anything, while the last call
// said false. A policy already tests a word before every entry (work to do
// before it, "not bound"); one more bit there makes AxVCpu's two tests free.
// It must also refuse bind() while another vCPU is bound on the CPU, as
// every real one does (its state is on the hardware): then a run() nested
// in a published stretch finds its vCPU not Ready, which the gate refuses
// and AxVCpu reports as BadState without invalidating, as it does for any
// nested call, or Ready because it is bound on another CPU, which runs,
// as the same call outside any arch call would (driving a vCPU from a CPU
// it is not bound to is the caller's error, which AxVCpu does not detect).
// A run() nested in another arch call (setup, set_entry, bind, a vCPU's
// own unbind) of the Ready vCPU bound on this CPU runs too: host code
// those calls reach (the memory functions, here) must not call run().
// The refusal comes at run()'s entry, before anything is published; the
// gate is closed inside the policy's own run() (the vCPU reads Running
// in a stretch), so resuming the guest there must not test it.
//
// Optional, with set_runnable and plain_vcpu_updates: `bool gate_open()
// const noexcept` says true only while the gate is open (the last
// set_runnable said true, so the vCPU is Ready); it may say false even
// then. AxVCpu's plain updates (set_gpr, set_return_value,
// inject_interrupt) skip their state test when it says true. A policy
// that answers from the word its run() tests at entry (false while any
// entry work is pending) lets the compiler fold that entry test after a
// reply: the reply and the next entry then cost one test together.
//
// The per-CPU half (ArchPerCpu) is in percpu_contract.hpp.
#pragma once

#include <concepts>

#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/run_publisher.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::api {

template <class A>
concept has_create_config = requires { typename A::CreateConfig; };
template <class A>
concept has_setup_config = requires { typename A::SetupConfig; };
template <class A>
concept has_create = has_create_config<A> && requires(VMId vm, VCpuId vcpu, typename A::CreateConfig config) {
    { A::create(vm, vcpu, config) } -> std::same_as<AxResult<A>>;
};
template <class A>
concept has_set_entry = requires(A& a, GuestPhysAddr entry) {
    { a.set_entry(entry) } -> std::same_as<AxResult<void>>;
};
template <class A>
concept has_set_ept_root = requires(A& a, HostPhysAddr root) {
    { a.set_ept_root(root) } -> std::same_as<AxResult<void>>;
};
template <class A>
concept has_setup = has_setup_config<A> && requires(A& a, typename A::SetupConfig config) {
    { a.setup(config) } -> std::same_as<AxResult<void>>;
};
// run() or, publishing lazily, run(RunPublisher<A, H>).
template <class A, class H>
concept publishing_run = requires(A& a, RunPublisher<A, H> publisher) {
    { a.run(publisher) } -> std::same_as<AxResult<AxVCpuExitReason>>;
};
template <class A, class H>
concept has_run = publishing_run<A, H> || requires(A& a) {
    { a.run() } -> std::same_as<AxResult<AxVCpuExitReason>>;
};
template <class A>
concept has_bind = requires(A& a) {
    { a.bind() } -> std::same_as<AxResult<void>>;
};
template <class A>
concept has_unbind = requires(A& a) {
    { a.unbind() } -> std::same_as<AxResult<void>>;
};
template <class A>
concept has_set_gpr = requires(A& a, usize index, usize value) {
    { a.set_gpr(index, value) } -> std::same_as<AxResult<void>>;
};
template <class A>
concept has_arch_inject_interrupt = requires(A& a, usize vector) {
    { a.inject_interrupt(vector) } -> std::same_as<AxResult<void>>;
};
template <class A>
concept has_set_return_value = requires(A& a, usize value) { a.set_return_value(value); };

// The optional gate above; absent means AxVCpu tests the state and the slot.
template <class A, class H>
concept gated_run = publishing_run<A, H> && requires(A& a, bool runnable) {
    { a.set_runnable(runnable) } noexcept -> std::same_as<void>;
};

// The optional promise above; absent means false.
template <class A>
concept plain_vcpu_updates = requires {
    { A::plain_vcpu_updates } -> std::convertible_to<bool>;
    requires A::plain_vcpu_updates;
};

// The optional gate reading above; absent means AxVCpu tests the state
// before every plain update.
template <class A>
concept has_gate_open = requires(const A& a) {
    { a.gate_open() } noexcept -> std::same_as<bool>;
};
template <class A, class H>
concept gated_updates = gated_run<A, H> && plain_vcpu_updates<A> && has_gate_open<A>;

// H: the host API policy the AxVCpu around it uses.
template <class A, class H>
concept ArchVCpu = std::move_constructible<A> && has_create_config<A> && has_setup_config<A> && has_create<A> &&
                   has_set_entry<A> && has_set_ept_root<A> && has_setup<A> && has_run<A, H> && has_bind<A> &&
                   has_unbind<A> && has_set_gpr<A> && has_arch_inject_interrupt<A> && has_set_return_value<A>;

template <class A, class H>
consteval bool check_arch_vcpu() {
    static_assert(has_create_config<A>, "ArchVCpu: arch policy lacks the type `CreateConfig`");
    static_assert(has_setup_config<A>, "ArchVCpu: arch policy lacks the type `SetupConfig`");
    static_assert(has_create<A>, "ArchVCpu: arch policy lacks `static AxResult<A> create(VMId, VCpuId, CreateConfig)`");
    static_assert(has_set_entry<A>, "ArchVCpu: arch policy lacks `AxResult<void> set_entry(GuestPhysAddr)`");
    static_assert(has_set_ept_root<A>, "ArchVCpu: arch policy lacks `AxResult<void> set_ept_root(HostPhysAddr)`");
    static_assert(has_setup<A>, "ArchVCpu: arch policy lacks `AxResult<void> setup(SetupConfig)`");
    static_assert(has_run<A, H>, "ArchVCpu: arch policy lacks `AxResult<AxVCpuExitReason> run()` (or run(RunPublisher<A, H>))");
    static_assert(has_bind<A>, "ArchVCpu: arch policy lacks `AxResult<void> bind()`");
    static_assert(has_unbind<A>, "ArchVCpu: arch policy lacks `AxResult<void> unbind()`");
    static_assert(has_set_gpr<A>, "ArchVCpu: arch policy lacks `AxResult<void> set_gpr(usize index, usize value)`");
    static_assert(has_arch_inject_interrupt<A>, "ArchVCpu: arch policy lacks `AxResult<void> inject_interrupt(usize)`");
    static_assert(has_set_return_value<A>, "ArchVCpu: arch policy lacks `void set_return_value(usize)`");
    static_assert(publishing_run<A, H> || !requires(A& a) { a.set_runnable(true); },
                  "ArchVCpu: `set_runnable(bool)` gates run(RunPublisher<A, H>) only; this policy has run()");
    static_assert(gated_run<A, H> || !requires(A& a) { a.set_runnable(true); },
                  "ArchVCpu: arch policy's `set_runnable` must be `void set_runnable(bool) noexcept`");
    static_assert(has_gate_open<A> || !requires(A& a) { a.gate_open(); },
                  "ArchVCpu: arch policy's `gate_open` must be `bool gate_open() const noexcept`");
    static_assert(gated_updates<A, H> || !requires(const A& a) { a.gate_open(); },
                  "ArchVCpu: `bool gate_open() const noexcept` needs `set_runnable` (the gate it reads) "
                  "and `plain_vcpu_updates`");
    static_assert(std::move_constructible<A>, "ArchVCpu: arch policy must be move-constructible (create returns it)");
    static_assert(ArchVCpu<A, H>, "ArchVCpu: the concept and the per-member checks above disagree (library bug)");
    return true;
}

}  // namespace axvcpu::api
