// The per-CPU current vCPU: visible to arch code during every arch call,
// cleared afterwards (also after a failure), nesting refused, type-checked.
#include <doctest/doctest.h>

#include <axvcpu/axvcpu.hpp>
#include <axvcpu/ostream.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

#include <thread>

namespace current_vcpu_test {

using namespace axvcpu;
using policies::MockArchVCpu;
using policies::MockCall;

namespace {
struct CurrentTag {};
using Host = policies::RecordingHost<CurrentTag>;
using Arch = MockArchVCpu<Host>;
using VCpu = AxVCpu<Arch, Host>;

VCpu make(VCpuId id, Arch::CreateConfig config = {}) { return VCpu::create(0, id, 0, std::nullopt, config).value(); }

// An arch policy whose bind() tries to drive vCPUs from inside its own arch
// call: every such nested call must be refused.
struct NestingArch;
using NestingVCpu = AxVCpu<NestingArch, Host>;
struct NestingArch {
    struct CreateConfig {
        NestingVCpu* other = nullptr;
        bool from_other_thread = false;  // drive `other` from a second thread instead
    };
    struct SetupConfig {};
    static AxResult<NestingArch> create(VMId, VCpuId, CreateConfig c) { return NestingArch(c); }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() {
        ++arch_calls;
        seen_as_self = current_vcpu<NestingArch, Host>();
        seen_as_mock = current_vcpu<Arch, Host>();
        if (config.other == nullptr) return ax_ok();
        if (config.from_other_thread) {
            // Another physical CPU, while this one has a current vCPU.
            std::thread cpu1([this] { nested_bind = config.other->bind(); });
            cpu1.join();
            slot_after_other_cpu = Host::current_vcpu_slot();
            return ax_ok();
        }
        nested_bind = config.other->bind();
        nested_run = config.other->run().has_value() ? ax_ok() : AxResult<void>(ax_err(AxError::BadState));
        nested_inject = config.other->inject_interrupt(5);
        nested_self_gpr = seen_as_self->set_gpr(1, 2);
        return ax_ok();
    }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run() {
        ++arch_calls;
        return AxVCpuExitReason(exit::Nothing{});
    }
    AxResult<void> set_gpr(usize, usize) {
        ++arch_calls;
        return ax_ok();
    }
    AxResult<void> inject_interrupt(usize) {
        ++arch_calls;
        return ax_ok();
    }
    void set_return_value(usize) {}

    explicit NestingArch(CreateConfig c) : config(c) {}
    CreateConfig config;
    int arch_calls = 0;
    AxResult<void> nested_bind = ax_ok(), nested_run = ax_ok(), nested_inject = ax_ok(), nested_self_gpr = ax_ok();
    NestingVCpu* seen_as_self = nullptr;
    const void* seen_as_mock = nullptr;
    void* slot_after_other_cpu = nullptr;
};
}  // namespace

TEST_CASE("every arch call sees its own AxVCpu as current; the slot is empty afterwards") {
    Host::reset();
    static const AxVCpuExitReason script[] = {exit::Halt{}};
    VCpu vcpu = make(0, Arch::CreateConfig::scripted(script));
    CHECK(current_vcpu<Arch, Host>() == nullptr);
    REQUIRE(vcpu.setup(GuestPhysAddr(0x1000), HostPhysAddr(0x2000), {7}).has_value());
    REQUIRE(vcpu.set_gpr(0, 1).has_value());
    REQUIRE(vcpu.inject_interrupt(3).has_value());
    REQUIRE(vcpu.bind().has_value());
    REQUIRE(vcpu.set_return_value(9).has_value());
    REQUIRE(vcpu.run().has_value());
    REQUIRE(vcpu.unbind().has_value());
    REQUIRE(vcpu.set_entry(GuestPhysAddr(0x3000)).has_value());

    const auto& calls = vcpu.arch_vcpu().calls;
    REQUIRE(calls.size() == 10);
    for (const auto& call : calls) {
        CAPTURE(static_cast<int>(call.call));
        CHECK(call.current == &vcpu);
    }
    CHECK(current_vcpu<Arch, Host>() == nullptr);
    CHECK(Host::current_vcpu_slot() == nullptr);
}

TEST_CASE("the slot is cleared after a failing arch call too") {
    Host::reset();
    for (MockCall failing : {MockCall::SetEntry, MockCall::SetEptRoot, MockCall::Setup}) {
        VCpu vcpu = make(0, Arch::CreateConfig::failing(failing, AxError::NoMemory));
        const auto r = vcpu.setup(GuestPhysAddr(0x1000), HostPhysAddr(0x2000), {});
        CHECK(r.error() == AxError::NoMemory);
        CHECK(vcpu.arch_vcpu().calls.back().current == &vcpu);
        CHECK(Host::current_vcpu_slot() == nullptr);
    }
    VCpu runner = make(0, Arch::CreateConfig::failing(MockCall::Run, AxError::Io));
    REQUIRE(runner.setup(GuestPhysAddr(0x1000), HostPhysAddr(0x2000), {}).has_value());
    REQUIRE(runner.bind().has_value());
    CHECK(runner.run().error() == AxError::Io);
    CHECK(Host::current_vcpu_slot() == nullptr);
}

TEST_CASE("every nested call is refused and leaves the nested vCPU alone") {
    Host::reset();
    NestingVCpu target = NestingVCpu::create(0, 1, 0, std::nullopt, {}).value();
    REQUIRE(target.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());  // Free: bind would be valid
    NestingVCpu outer = NestingVCpu::create(0, 0, 0, std::nullopt, {&target, false}).value();
    REQUIRE(outer.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(outer.bind().has_value());
    const NestingArch& seen = outer.arch_vcpu();
    CHECK(seen.nested_bind.error() == AxError::BadState);   // a life-cycle transition
    CHECK(seen.nested_run.error() == AxError::BadState);    // run
    CHECK(seen.nested_inject.error() == AxError::BadState); // a state-keeping operation
    CHECK(seen.nested_self_gpr.error() == AxError::BadState);  // even on itself
    CHECK(target.state() == VCpuState::Free);
    CHECK(target.arch_vcpu().arch_calls == 0);  // the nested target's arch was never entered
    CHECK(outer.state() == VCpuState::Ready);
    CHECK(outer.arch_vcpu().arch_calls == 1);  // only the outer bind itself
    CHECK(Host::current_vcpu_slot() == nullptr);
}

namespace {
// A policy that promises plain vCPU updates: AxVCpu still checks the state
// for register writes and injection but leaves the current-vCPU slot alone.
struct PlainUpdatesArch;
using PlainUpdatesVCpu = AxVCpu<PlainUpdatesArch, Host>;
struct PlainUpdatesArch {
    static constexpr bool plain_vcpu_updates = true;
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<PlainUpdatesArch> create(VMId, VCpuId, CreateConfig) { return PlainUpdatesArch(); }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() {
        // From inside an arch call: a register write on itself is no nesting.
        nested_write = current_vcpu<PlainUpdatesArch, Host>()->set_return_value(5);
        return ax_ok();
    }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run() { return AxVCpuExitReason(exit::Nothing{}); }
    AxResult<void> set_gpr(usize index, usize value) {
        slot_seen = Host::current_vcpu_slot();
        if (index >= 2) return ax_err(AxError::InvalidInput);
        gpr[index] = value;
        return ax_ok();
    }
    AxResult<void> inject_interrupt(usize vector) {
        slot_seen = Host::current_vcpu_slot();
        injected = vector;
        return ax_ok();
    }
    void set_return_value(usize value) {
        slot_seen = Host::current_vcpu_slot();
        gpr[0] = value;
    }
    usize gpr[2] = {};
    usize injected = 0;
    void* slot_seen = &gpr;  // anything but null until a write runs
    AxResult<void> nested_write = ax_err(AxError::Unsupported);
};
static_assert(api::plain_vcpu_updates<PlainUpdatesArch>);
static_assert(!api::plain_vcpu_updates<Arch>);
}  // namespace

TEST_CASE("a policy with plain vCPU updates gets them without the slot, still state-checked") {
    Host::reset();
    PlainUpdatesVCpu vcpu = PlainUpdatesVCpu::create(0, 0, 0, std::nullopt, {}).value();
    REQUIRE(vcpu.set_gpr(1, 7).has_value());
    CHECK(vcpu.arch_vcpu().slot_seen == nullptr);
    CHECK(vcpu.arch_vcpu().gpr[1] == 7);
    CHECK(vcpu.set_gpr(2, 7).error() == AxError::InvalidInput);  // the arch's own error, reported
    CHECK(vcpu.state() == VCpuState::Created);
    vcpu.arch_vcpu().slot_seen = &vcpu;
    REQUIRE(vcpu.inject_interrupt(3).has_value());
    CHECK(vcpu.arch_vcpu().slot_seen == nullptr);
    CHECK(vcpu.arch_vcpu().injected == 3);
    REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(vcpu.bind().has_value());
    CHECK(vcpu.arch_vcpu().nested_write.has_value());
    CHECK(vcpu.arch_vcpu().gpr[0] == 5);
    vcpu.set_state_unchecked(VCpuState::Running);
    CHECK(vcpu.set_return_value(1).error() == AxError::BadState);  // the guest is executing
    CHECK(vcpu.state() == VCpuState::Invalid);
    CHECK(vcpu.arch_vcpu().gpr[0] == 5);
}

TEST_CASE("current_vcpu never hands out a vCPU of another instantiation") {
    Host::reset();
    NestingVCpu vcpu = NestingVCpu::create(0, 0, 0, std::nullopt, {}).value();
    REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(vcpu.bind().has_value());
    // During bind the slot held this NestingVCpu: asked as its own type it is
    // found, asked as the mock's AxVCpu type it is not.
    CHECK(vcpu.arch_vcpu().seen_as_self == &vcpu);
    CHECK(vcpu.arch_vcpu().seen_as_mock == nullptr);
}

TEST_CASE("each host thread (a physical CPU) has its own slot") {
    Host::reset();
    NestingVCpu target = NestingVCpu::create(0, 1, 0, std::nullopt, {}).value();
    REQUIRE(target.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    NestingVCpu outer = NestingVCpu::create(0, 0, 0, std::nullopt, {&target, true}).value();
    REQUIRE(outer.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(outer.bind().has_value());
    // While this CPU was inside outer's bind, the other CPU's slot was empty,
    // so its bind of `target` went through, and left this CPU's slot alone.
    CHECK(outer.arch_vcpu().nested_bind.has_value());
    CHECK(target.state() == VCpuState::Ready);
    CHECK(outer.arch_vcpu().slot_after_other_cpu != nullptr);
    CHECK(Host::current_vcpu_slot() == nullptr);
}

namespace {
// Counts the current-vCPU slot writes, to show what an unpublished exit costs.
template <class Tag>
struct SlotCountingHost : policies::RecordingHost<Tag> {
    static inline int slot_writes = 0;
    static void set_current_vcpu_slot(void* vcpu) noexcept {
        ++slot_writes;
        policies::RecordingHost<Tag>::set_current_vcpu_slot(vcpu);
    }
};
struct CountingTag {};
using CountingHost = SlotCountingHost<CountingTag>;

// A policy that publishes its vCPU itself (RunPublisher): its run() has a
// "fast" exit that reaches nothing and a "slow" one that publishes, asks for
// the current vCPU and tries nested calls, as a host callback might.
struct PublishingArch;
using PublishingVCpu = AxVCpu<PublishingArch, CountingHost>;
struct PublishingArch {
    struct CreateConfig {
        PublishingVCpu* other = nullptr;  // nested calls go to this vCPU
    };
    struct SetupConfig {};
    enum class Exit : std::uint8_t { Fast, Slow, SlowFailing, SlowBlocking };
    static AxResult<PublishingArch> create(VMId, VCpuId, CreateConfig c) { return PublishingArch(c); }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run(RunPublisher<PublishingArch, CountingHost> publisher) {
        ++runs;
        self = current_vcpu<PublishingArch, CountingHost>();  // unpublished: nothing
        if (next == Exit::Fast) return AxVCpuExitReason(exit::Nothing{});
        {
            const auto published = publisher.publish();
            self = current_vcpu<PublishingArch, CountingHost>();
            if (self == nullptr) return ax_err(AxError::NotFound);
            state_seen = self->state();
            if (config.other != nullptr) {
                nested_run = config.other->run().has_value() ? ax_ok() : AxResult<void>(ax_err(AxError::BadState));
                nested_inject = config.other->inject_interrupt(5);
            }
            {
                // A helper that publishes too, called from the stretch: no change, and
                // its end does not end the outer stretch.
                const auto inner = publisher.publish();
            }
            inner_left_current = current_vcpu<PublishingArch, CountingHost>() == self && self->state() == VCpuState::Running;
            if (next == Exit::SlowBlocking) self->set_state_unchecked(VCpuState::Blocked);
        }
        slot_after = CountingHost::current_vcpu_slot();
        state_after = self->state();
        if (next == Exit::SlowFailing) return ax_err(AxError::Io);
        return AxVCpuExitReason(exit::Halt{});
    }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) {}

    explicit PublishingArch(CreateConfig c) : config(c) {}
    CreateConfig config;
    Exit next = Exit::Fast;
    int runs = 0;
    PublishingVCpu* self = nullptr;
    VCpuState state_seen = VCpuState::Invalid, state_after = VCpuState::Invalid;
    bool inner_left_current = false;
    void* slot_after = &runs;  // anything but null until a slow exit ends
    AxResult<void> nested_run = ax_ok(), nested_inject = ax_ok();
};
static_assert(api::publishing_run<PublishingArch, CountingHost>);
static_assert(!api::publishing_run<Arch, CountingHost>);

PublishingVCpu make_ready(PublishingArch::CreateConfig config = {}) {
    PublishingVCpu vcpu = PublishingVCpu::create(0, 0, 0, std::nullopt, config).value();
    REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(vcpu.bind().has_value());
    return vcpu;
}
}  // namespace

TEST_CASE("a publishing policy's unpublished exit leaves no trace; its published stretch is seen") {
    CountingHost::reset();
    PublishingVCpu vcpu = make_ready();
    auto& arch = vcpu.arch_vcpu();
    arch.next = PublishingArch::Exit::Fast;
    CountingHost::slot_writes = 0;
    REQUIRE(vcpu.run().has_value());
    CHECK(CountingHost::slot_writes == 0);
    CHECK(arch.self == nullptr);
    CHECK(vcpu.state() == VCpuState::Ready);
    CHECK(CountingHost::current_vcpu_slot() == nullptr);

    arch.next = PublishingArch::Exit::Slow;
    CountingHost::slot_writes = 0;
    const auto slow = vcpu.run();
    CHECK(CountingHost::slot_writes == 2);  // set and clear, once: the nested guard wrote nothing
    REQUIRE(slow.has_value());
    CHECK(slow.value() == AxVCpuExitReason(exit::Halt{}));
    CHECK(arch.self == &vcpu);
    CHECK(arch.state_seen == VCpuState::Running);
    CHECK(arch.inner_left_current);
    CHECK(arch.slot_after == nullptr);  // the guard's end cleared it, inside run()
    CHECK(arch.state_after == VCpuState::Ready);
    CHECK(vcpu.state() == VCpuState::Ready);
    CHECK(CountingHost::current_vcpu_slot() == nullptr);
}

TEST_CASE("a publishing policy's failed run leaves the vCPU Invalid; a host that changed the state is overruled") {
    CountingHost::reset();
    PublishingVCpu failing = make_ready();
    failing.arch_vcpu().next = PublishingArch::Exit::SlowFailing;
    CHECK(failing.run().error() == AxError::Io);
    CHECK(failing.state() == VCpuState::Invalid);
    CHECK(CountingHost::current_vcpu_slot() == nullptr);
    CHECK(failing.run().error() == AxError::BadState);  // Invalid is terminal
    CHECK(failing.arch_vcpu().runs == 1);

    PublishingVCpu blocking = make_ready();
    blocking.arch_vcpu().next = PublishingArch::Exit::SlowBlocking;
    REQUIRE(blocking.run().has_value());
    CHECK(blocking.state() == VCpuState::Ready);  // run() ends Ready, like every successful step
}

TEST_CASE("a publishing policy gets no run while another vCPU is current, or in a wrong state") {
    CountingHost::reset();
    PublishingVCpu target = make_ready();
    PublishingVCpu outer = make_ready({&target});
    outer.arch_vcpu().next = PublishingArch::Exit::Slow;
    REQUIRE(outer.run().has_value());
    CHECK(outer.arch_vcpu().nested_run.error() == AxError::BadState);
    CHECK(outer.arch_vcpu().nested_inject.error() == AxError::BadState);
    CHECK(target.arch_vcpu().runs == 0);
    CHECK(target.state() == VCpuState::Ready);  // nesting is the caller's fault, not the target's

    PublishingVCpu unbound = PublishingVCpu::create(0, 1, 0, std::nullopt, {}).value();
    CHECK(unbound.run().error() == AxError::BadState);
    CHECK(unbound.state() == VCpuState::Invalid);
    CHECK(unbound.arch_vcpu().runs == 0);
}

namespace {
// Policies whose run() makes a wrong-state call on its own vCPU, as a buggy
// host callback might: a register write while the vCPU reads Running. With
// plain_vcpu_updates that write is only state-checked, so it is refused and
// invalidates the vCPU; the end of run() must not turn Invalid back into
// Ready (Invalid is terminal).
struct InvalidatingTag {};
using InvalidatingHost = policies::RecordingHost<InvalidatingTag>;

// Runs with the vCPU published for the whole call (no RunPublisher).
struct PlainRunArch;
using PlainRunVCpu = AxVCpu<PlainRunArch, InvalidatingHost>;
struct PlainRunArch {
    static constexpr bool plain_vcpu_updates = true;
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<PlainRunArch> create(VMId, VCpuId, CreateConfig) { return PlainRunArch(); }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run() {
        if (misbehave) wrong_state_write = current_vcpu<PlainRunArch, InvalidatingHost>()->set_return_value(1);
        return AxVCpuExitReason(exit::Nothing{});
    }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) { ++writes; }
    bool misbehave = false;
    int writes = 0;
    AxResult<void> wrong_state_write = ax_ok();
};

// Publishes its vCPU over one or two stretches (RunPublisher), and makes the
// wrong-state write in the first.
struct PublishingPlainArch;
using PublishingPlainVCpu = AxVCpu<PublishingPlainArch, InvalidatingHost>;
struct PublishingPlainArch {
    static constexpr bool plain_vcpu_updates = true;
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<PublishingPlainArch> create(VMId, VCpuId, CreateConfig) { return PublishingPlainArch(); }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run(RunPublisher<PublishingPlainArch, InvalidatingHost> publisher) {
        PublishingPlainVCpu* self = nullptr;
        {
            const auto published = publisher.publish();
            self = current_vcpu<PublishingPlainArch, InvalidatingHost>();
            wrong_state_write = self->set_return_value(1);
        }
        after_first_stretch = self->state();
        if (second_stretch) {
            const auto published = publisher.publish();
            in_second_stretch = self->state();
        }
        return AxVCpuExitReason(exit::Nothing{});
    }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) { ++writes; }
    bool second_stretch = false;
    int writes = 0;
    AxResult<void> wrong_state_write = ax_ok();
    VCpuState after_first_stretch = VCpuState::Ready, in_second_stretch = VCpuState::Ready;
};
static_assert(api::publishing_run<PublishingPlainArch, InvalidatingHost>);
}  // namespace

TEST_CASE("a wrong-state call inside run() leaves the vCPU Invalid after run() returns") {
    InvalidatingHost::reset();
    PlainRunVCpu vcpu = PlainRunVCpu::create(0, 0, 0, std::nullopt, {}).value();
    REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(vcpu.bind().has_value());
    REQUIRE(vcpu.run().has_value());  // a well-behaved run ends Ready
    CHECK(vcpu.state() == VCpuState::Ready);

    vcpu.arch_vcpu().misbehave = true;
    const auto exit = vcpu.run();
    CHECK(vcpu.arch_vcpu().wrong_state_write.error() == AxError::BadState);
    CHECK(vcpu.arch_vcpu().writes == 0);
    REQUIRE(exit.has_value());  // the guest did exit: the exit is still reported
    CHECK(exit.value() == AxVCpuExitReason(exit::Nothing{}));
    CHECK(vcpu.state() == VCpuState::Invalid);
    const auto again = vcpu.run();  // and it stays so
    REQUIRE(again.has_error());
    CHECK(again.error() == AxError::BadState);
    CHECK(vcpu.state() == VCpuState::Invalid);
    CHECK(InvalidatingHost::current_vcpu_slot() == nullptr);
}

TEST_CASE("a wrong-state call inside a published stretch leaves the vCPU Invalid, through later stretches too") {
    InvalidatingHost::reset();
    for (const bool second_stretch : {false, true}) {
        CAPTURE(second_stretch);
        PublishingPlainVCpu vcpu = PublishingPlainVCpu::create(0, 0, 0, std::nullopt, {}).value();
        REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
        REQUIRE(vcpu.bind().has_value());
        vcpu.arch_vcpu().second_stretch = second_stretch;
        const auto exit = vcpu.run();
        CHECK(vcpu.arch_vcpu().wrong_state_write.error() == AxError::BadState);
        CHECK(vcpu.arch_vcpu().writes == 0);
        CHECK(vcpu.arch_vcpu().after_first_stretch == VCpuState::Invalid);  // the guard's end keeps it
        if (second_stretch) CHECK(vcpu.arch_vcpu().in_second_stretch == VCpuState::Invalid);  // so does a new guard
        REQUIRE(exit.has_value());
        CHECK(vcpu.state() == VCpuState::Invalid);
        const auto again = vcpu.run();
        REQUIRE(again.has_error());
        CHECK(again.error() == AxError::BadState);
        CHECK(InvalidatingHost::current_vcpu_slot() == nullptr);
    }
}

namespace {
// A policy that gates run() itself (api::gated_run): AxVCpu tells it when
// the vCPU may run and tests neither the state nor the slot before run().
// Like every real policy, it refuses bind() while another vCPU is bound on
// this CPU (one host thread here), so a nested run() finds a vCPU that is
// not Ready. Its slow exit publishes and makes nested calls, as a host
// callback might.
struct GatedTag {};
using GatedHost = SlotCountingHost<GatedTag>;
struct GatedArch;
using GatedVCpu = AxVCpu<GatedArch, GatedHost>;
struct GatedArch {
    static constexpr bool plain_vcpu_updates = true;  // as the real policies
    struct CreateConfig {
        GatedVCpu* other = nullptr;  // nested calls go to this vCPU (null: to itself)
    };
    struct SetupConfig {};
    enum class Exit : std::uint8_t { Fast, Slow, SlowFailing, SlowInvalidating };
    static inline thread_local const GatedArch* bound_here = nullptr;
    static AxResult<GatedArch> create(VMId, VCpuId, CreateConfig c) { return GatedArch(c); }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() {
        if (bound_here != nullptr) return ax_err(AxError::BadState);
        bound_here = this;
        return ax_ok();
    }
    AxResult<void> unbind() {
        bound_here = nullptr;
        return ax_ok();
    }
    void set_runnable(bool r) noexcept { runnable = r; }
    AxResult<AxVCpuExitReason> run(RunPublisher<GatedArch, GatedHost> publisher) {
        if (!runnable) {
            ++refused;
            return ax_err(AxError::BadState);
        }
        ++entered;
        if (next == Exit::Fast) return AxVCpuExitReason(exit::Nothing{});
        {
            const auto published = publisher.publish();
            GatedVCpu* self = current_vcpu<GatedArch, GatedHost>();
            if (self == nullptr) return ax_err(AxError::NotFound);
            GatedVCpu* target = config.other != nullptr ? config.other : self;
            nested_run = target->run().has_value() ? ax_ok() : AxResult<void>(ax_err(AxError::BadState));
            state_seen = self->state();
            if (next == Exit::SlowInvalidating) (void)self->set_return_value(1);  // Running: refused, Invalid
        }
        if (next == Exit::SlowFailing) return ax_err(AxError::Io);
        return AxVCpuExitReason(exit::Halt{});
    }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    // The gate as AxVCpu's plain updates read it (api::gated_updates); it
    // may say closed while open (`busy`, as a real policy with entry work
    // pending), and `lying` makes it say open whatever set_runnable said,
    // to show that AxVCpu takes its word.
    bool gate_open() const noexcept {
        ++gate_reads;
        return lying || (runnable && !busy);
    }
    AxResult<void> inject_interrupt(usize) {
        ++injected;
        return ax_ok();
    }
    void set_return_value(usize) {}

    explicit GatedArch(CreateConfig c) : config(c) {}
    GatedArch(GatedArch&& other) noexcept = default;
    ~GatedArch() {
        if (bound_here == this) bound_here = nullptr;
    }
    CreateConfig config;
    Exit next = Exit::Fast;
    bool runnable = true;  // open until AxVCpu takes it
    int entered = 0, refused = 0, injected = 0;
    mutable int gate_reads = 0;
    bool busy = false, lying = false;
    VCpuState state_seen = VCpuState::Invalid;
    AxResult<void> nested_run = ax_ok();
};
static_assert(api::gated_run<GatedArch, GatedHost>);
static_assert(api::gated_updates<GatedArch, GatedHost>);
static_assert(!api::gated_run<PublishingArch, CountingHost>);

GatedVCpu make_gated(VCpuId id, bool bind, GatedArch::CreateConfig config = {}) {
    GatedVCpu vcpu = GatedVCpu::create(0, id, 0, std::nullopt, config).value();
    REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    if (bind) REQUIRE(vcpu.bind().has_value());
    return vcpu;
}
}  // namespace

TEST_CASE("a gating policy hears after every state change whether its vCPU may run") {
    GatedHost::reset();
    GatedVCpu vcpu = GatedVCpu::create(0, 0, 0, std::nullopt, {}).value();
    const GatedArch& arch = vcpu.arch_vcpu();
    CHECK_FALSE(arch.runnable);  // Created
    REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    CHECK_FALSE(arch.runnable);  // Free
    REQUIRE(vcpu.bind().has_value());
    CHECK(arch.runnable);  // Ready
    REQUIRE(vcpu.block().has_value());
    CHECK_FALSE(arch.runnable);
    REQUIRE(vcpu.unblock().has_value());
    CHECK(arch.runnable);
    REQUIRE(vcpu.run().has_value());
    CHECK(arch.runnable);  // the fast exit changed nothing
    vcpu.set_state_unchecked(VCpuState::Free);
    CHECK_FALSE(arch.runnable);
    vcpu.set_state_unchecked(VCpuState::Ready);
    CHECK(arch.runnable);
    REQUIRE(vcpu.unbind().has_value());
    CHECK_FALSE(arch.runnable);
}

TEST_CASE("a gating policy's run: no slot write on a fast exit, Running in a stretch, Ready after") {
    GatedHost::reset();
    GatedVCpu vcpu = make_gated(0, true);
    auto& arch = vcpu.arch_vcpu();
    GatedHost::slot_writes = 0;
    REQUIRE(vcpu.run().has_value());
    CHECK(GatedHost::slot_writes == 0);
    CHECK(arch.entered == 1);
    CHECK(vcpu.state() == VCpuState::Ready);
    CHECK(GatedHost::current_vcpu_slot() == nullptr);

    arch.next = GatedArch::Exit::Slow;
    const auto slow = vcpu.run();
    REQUIRE(slow.has_value());
    CHECK(slow.value() == AxVCpuExitReason(exit::Halt{}));
    CHECK(arch.state_seen == VCpuState::Running);
    CHECK(vcpu.state() == VCpuState::Ready);
    CHECK(arch.runnable);
    // Its own run() from inside the stretch: the gate (closed while
    // Running) refused it, and nesting changed nothing.
    CHECK(arch.nested_run.error() == AxError::BadState);
    CHECK(arch.entered == 2);
    CHECK(arch.refused == 1);
}

TEST_CASE("a gating policy refuses a vCPU that is not Ready: Invalid at the top level, unchanged when nested") {
    GatedHost::reset();
    // Top level, Free: refused by the gate, then Invalid (as may_start leaves it).
    GatedVCpu unbound = make_gated(1, false);
    CHECK(unbound.run().error() == AxError::BadState);
    CHECK(unbound.state() == VCpuState::Invalid);
    CHECK(unbound.arch_vcpu().entered == 0);
    CHECK(unbound.run().error() == AxError::BadState);  // Invalid is terminal
    CHECK(unbound.arch_vcpu().entered == 0);

    // Nested in another vCPU's stretch: the target cannot be Ready (this
    // CPU's only bound vCPU is the outer one), the gate refuses it and
    // AxVCpu leaves it as it was.
    GatedVCpu target = make_gated(2, false);
    GatedVCpu outer = make_gated(3, true, {&target});
    CHECK(target.bind().error() == AxError::BadState);  // one bound vCPU per CPU
    CHECK(target.state() == VCpuState::Invalid);
    GatedVCpu free_target = make_gated(4, false);
    outer.arch_vcpu().config.other = &free_target;
    outer.arch_vcpu().next = GatedArch::Exit::Slow;
    REQUIRE(outer.run().has_value());
    CHECK(outer.arch_vcpu().nested_run.error() == AxError::BadState);
    CHECK(free_target.state() == VCpuState::Free);
    CHECK(free_target.arch_vcpu().entered == 0);
    CHECK(outer.state() == VCpuState::Ready);
    CHECK(GatedHost::current_vcpu_slot() == nullptr);
}

TEST_CASE("a gating policy's failed run, or one invalidated inside, leaves the gate closed") {
    GatedHost::reset();
    GatedVCpu failing = make_gated(0, true);
    failing.arch_vcpu().next = GatedArch::Exit::SlowFailing;
    CHECK(failing.run().error() == AxError::Io);
    CHECK(failing.state() == VCpuState::Invalid);
    CHECK_FALSE(failing.arch_vcpu().runnable);
    CHECK(failing.run().error() == AxError::BadState);
    CHECK(failing.arch_vcpu().entered == 1);
    REQUIRE(failing.unbind().has_value() == false);  // Invalid: no unbind either
    failing.set_state_unchecked(VCpuState::Ready);   // the VMM's override: unbind it
    REQUIRE(failing.unbind().has_value());

    GatedVCpu invalidated = make_gated(1, true);
    invalidated.arch_vcpu().next = GatedArch::Exit::SlowInvalidating;
    const auto exit = invalidated.run();
    REQUIRE(exit.has_value());  // the guest did exit
    CHECK(invalidated.state() == VCpuState::Invalid);
    CHECK_FALSE(invalidated.arch_vcpu().runnable);
    CHECK(invalidated.run().error() == AxError::BadState);
    CHECK(invalidated.arch_vcpu().entered == 1);
    CHECK(invalidated.arch_vcpu().refused == 2);  // its own nested run, then this one
}

TEST_CASE("a gating policy's open gate stands for AxVCpu's state test on plain updates; closed, the state decides") {
    GatedHost::reset();
    GatedVCpu vcpu = make_gated(0, true);
    GatedArch& arch = vcpu.arch_vcpu();
    arch.gate_reads = 0;
    REQUIRE(vcpu.set_return_value(1).has_value());  // Ready, gate open
    REQUIRE(vcpu.set_gpr(2, 3).has_value());
    REQUIRE(vcpu.inject_interrupt(4).has_value());
    CHECK(arch.gate_reads == 3);
    CHECK(arch.injected == 1);
    arch.busy = true;  // open, but the policy says no: the state (Ready) decides
    REQUIRE(vcpu.inject_interrupt(4).has_value());
    CHECK(arch.injected == 2);
    arch.busy = false;
    REQUIRE(vcpu.block().has_value());  // closed: Blocked takes updates
    REQUIRE(vcpu.set_return_value(1).has_value());
    REQUIRE(vcpu.inject_interrupt(4).has_value());
    CHECK(arch.injected == 3);
    REQUIRE(vcpu.unblock().has_value());
    CHECK(GatedHost::current_vcpu_slot() == nullptr);

    // Running (as inside a run's stretch): the gate is closed and the state
    // test refuses, invalidating the vCPU as for any call made while it runs.
    vcpu.set_state_unchecked(VCpuState::Running);
    CHECK(vcpu.inject_interrupt(4).error() == AxError::BadState);
    CHECK(vcpu.state() == VCpuState::Invalid);
    CHECK(vcpu.set_return_value(1).error() == AxError::BadState);
    CHECK(arch.injected == 3);

    // AxVCpu takes the policy's word: a gate that says open whatever the
    // state (a broken policy) lets the update through.
    arch.lying = true;
    CHECK(vcpu.inject_interrupt(4).has_value());
    CHECK(arch.injected == 4);
}
}  // namespace current_vcpu_test
