// AxVCpu's life cycle: every (state, operation) pair, valid and invalid.
#include <doctest/doctest.h>

#include <algorithm>

#include <axvcpu/axvcpu.hpp>
#include <axvcpu/ostream.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

#include <array>
#include <functional>
#include <string>

namespace vcpu_state_test {

using namespace axvcpu;
using policies::MockArchVCpu;
using policies::MockCall;

namespace {
struct StateTag {};
using Host = policies::RecordingHost<StateTag>;
using Arch = MockArchVCpu<Host>;
using VCpu = AxVCpu<Arch, Host>;

VCpu make_vcpu(Arch::CreateConfig config = {}) {
    auto result = VCpu::create(1, 0, 0, std::nullopt, config);
    REQUIRE(result.has_value());
    return std::move(result).value();
}

// Drives a fresh vCPU into `state` through valid operations only.
VCpu vcpu_in(VCpuState state) {
    VCpu vcpu = make_vcpu();
    auto step = [&](AxResult<void> r) { REQUIRE(r.has_value()); };
    switch (state) {
        case VCpuState::Created: break;
        case VCpuState::Free: step(vcpu.setup(GuestPhysAddr(0x8000), HostPhysAddr(0x1000), {})); break;
        case VCpuState::Ready:
            step(vcpu.setup(GuestPhysAddr(0x8000), HostPhysAddr(0x1000), {}));
            step(vcpu.bind());
            break;
        case VCpuState::Blocked:
            step(vcpu.setup(GuestPhysAddr(0x8000), HostPhysAddr(0x1000), {}));
            step(vcpu.bind());
            step(vcpu.block());
            break;
        case VCpuState::Invalid:
            (void)vcpu.bind();  // bind from Created is invalid
            break;
        case VCpuState::Running: vcpu.set_state_unchecked(VCpuState::Running); break;
    }
    REQUIRE(vcpu.state() == state);
    return vcpu;
}

struct Operation {
    const char* name;
    std::function<AxResult<void>(VCpu&)> call;
    std::array<bool, 6> allowed;  // indexed by VCpuState
    VCpuState next_if_same;       // the state after success; Invalid means "unchanged"
};

AxResult<void> as_void(AxResult<AxVCpuExitReason> r) {
    if (r) return ax_ok();
    return ax_err(r.error());
}

// The columns below, in this order (not the enum's numeric order).
constexpr std::array<VCpuState, 6> all_states{VCpuState::Invalid, VCpuState::Created, VCpuState::Free,
                                              VCpuState::Ready,   VCpuState::Running, VCpuState::Blocked};
constexpr std::size_t idx(VCpuState s) {
    return static_cast<std::size_t>(std::find(all_states.begin(), all_states.end(), s) - all_states.begin());
}

//                                   Invalid Created Free  Ready  Running Blocked
const std::array<Operation, 10> operations{{
    {"setup", [](VCpu& v) { return v.setup(GuestPhysAddr(0x8000), HostPhysAddr(0x1000), {}); },
     {false, true, false, false, false, false}, VCpuState::Free},
    {"bind", [](VCpu& v) { return v.bind(); }, {false, false, true, false, false, false}, VCpuState::Ready},
    {"unbind", [](VCpu& v) { return v.unbind(); }, {false, false, false, true, false, false}, VCpuState::Free},
    {"run", [](VCpu& v) { return as_void(v.run()); }, {false, false, false, true, false, false}, VCpuState::Ready},
    {"block", [](VCpu& v) { return v.block(); }, {false, false, false, true, false, false}, VCpuState::Blocked},
    {"unblock", [](VCpu& v) { return v.unblock(); }, {false, false, false, false, false, true}, VCpuState::Ready},
    {"set_entry", [](VCpu& v) { return v.set_entry(GuestPhysAddr(0x9000)); },
     {false, true, true, false, false, false}, VCpuState::Invalid},
    {"set_gpr", [](VCpu& v) { return v.set_gpr(1, 42); }, {false, true, true, true, false, true},
     VCpuState::Invalid},
    {"set_return_value", [](VCpu& v) { return v.set_return_value(7); }, {false, true, true, true, false, true},
     VCpuState::Invalid},
    {"inject_interrupt", [](VCpu& v) { return v.inject_interrupt(27); }, {false, true, true, true, false, true},
     VCpuState::Invalid},
}};
}  // namespace

TEST_CASE("every (state, operation) pair: valid ones move on, invalid ones are BadState and Invalid") {
    Host::reset();
    for (const auto& op : operations) {
        for (VCpuState from : all_states) {
            CAPTURE(op.name);
            CAPTURE(from);
            VCpu vcpu = vcpu_in(from);
            const std::size_t arch_calls_before = vcpu.arch_vcpu().calls.size();
            const AxResult<void> result = op.call(vcpu);
            if (op.allowed[idx(from)]) {
                CHECK(result.has_value());
                const VCpuState expected = op.next_if_same == VCpuState::Invalid ? from : op.next_if_same;
                CHECK(vcpu.state() == expected);
            } else {
                REQUIRE(result.has_error());
                CHECK(result.error() == AxError::BadState);
                CHECK(vcpu.state() == VCpuState::Invalid);
                CHECK(vcpu.arch_vcpu().calls.size() == arch_calls_before);  // the arch was never asked
            }
            CHECK(Host::current_vcpu_slot() == nullptr);
        }
    }
}

TEST_CASE("every state prints its name; a value that is no state prints ?") {
    CHECK(name(VCpuState::Ready) == "Ready");
    CHECK(name(VCpuState::Created) == "Created");
    CHECK(name(VCpuState::Free) == "Free");
    CHECK(name(VCpuState::Blocked) == "Blocked");
    CHECK(name(VCpuState::Running) == "Running");
    CHECK(name(VCpuState::Invalid) == "Invalid");
    // The encoding keeps an index in the low bits; neither an index without
    // its state's top bit nor one past the end is a state.
    for (unsigned raw : {0x04u, 0x05u, 0x06u, 0x80u, 0x86u, 0xffu}) {
        CAPTURE(raw);
        CHECK(name(static_cast<VCpuState>(raw)) == "?");
    }
}

TEST_CASE("setup calls set_entry, set_ept_root, setup in that order with the given values") {
    Host::reset();
    VCpu vcpu = make_vcpu();
    REQUIRE(vcpu.setup(GuestPhysAddr(0x80200000), HostPhysAddr(0x4000), {42}).has_value());
    const Arch& arch = vcpu.arch_vcpu();
    CHECK(arch.call_kinds() == std::vector<MockCall>{MockCall::SetEntry, MockCall::SetEptRoot, MockCall::Setup});
    CHECK(arch.entry == GuestPhysAddr(0x80200000));
    CHECK(arch.ept_root == HostPhysAddr(0x4000));
    CHECK(arch.setup_tag == 42);
}

TEST_CASE("a failing life-cycle step leaves Invalid and returns that step's error") {
    Host::reset();
    struct Case {
        MockCall failing;
        VCpuState before;
    };
    for (const Case c : {Case{MockCall::SetEntry, VCpuState::Created}, Case{MockCall::SetEptRoot, VCpuState::Created},
                         Case{MockCall::Setup, VCpuState::Created}, Case{MockCall::Bind, VCpuState::Free},
                         Case{MockCall::Run, VCpuState::Ready}, Case{MockCall::Unbind, VCpuState::Ready}}) {
        CAPTURE(static_cast<int>(c.failing));
        VCpu vcpu = make_vcpu(Arch::CreateConfig::failing(c.failing, AxError::NoMemory));
        if (c.before != VCpuState::Created) REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
        if (c.before == VCpuState::Ready) REQUIRE(vcpu.bind().has_value());
        AxResult<void> r = ax_ok();
        switch (c.failing) {
            case MockCall::Bind: r = vcpu.bind(); break;
            case MockCall::Unbind: r = vcpu.unbind(); break;
            case MockCall::Run: r = as_void(vcpu.run()); break;
            default: r = vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}); break;
        }
        REQUIRE(r.has_error());
        CHECK(r.error() == AxError::NoMemory);
        CHECK(vcpu.state() == VCpuState::Invalid);
        CHECK(vcpu.arch_vcpu().call_kinds().back() == c.failing);  // nothing ran after the failure
        CHECK(vcpu.bind().error() == AxError::BadState);  // Invalid is terminal
    }
}

TEST_CASE("an arch error in a state-keeping operation is reported without invalidating") {
    Host::reset();
    VCpu vcpu = vcpu_in(VCpuState::Ready);
    CHECK(vcpu.set_gpr(Arch::gpr_count, 1).error() == AxError::InvalidInput);
    CHECK(vcpu.state() == VCpuState::Ready);
    VCpu failing_inject = make_vcpu(Arch::CreateConfig::failing(MockCall::InjectInterrupt, AxError::ResourceBusy));
    CHECK(failing_inject.inject_interrupt(1).error() == AxError::ResourceBusy);
    CHECK(failing_inject.state() == VCpuState::Created);
}

TEST_CASE("create failing in the arch policy yields no vCPU") {
    Host::reset();
    auto r = VCpu::create(1, 0, 0, std::nullopt, Arch::CreateConfig::failing_create(AxError::NoMemory));
    REQUIRE(r.has_error());
    CHECK(r.error() == AxError::NoMemory);
}

TEST_CASE("a vCPU id beyond the configured maximum is refused before the arch policy runs") {
    Host::reset();
    CHECK(VCpu::create(1, config::max_vcpus_per_vm, 0, std::nullopt, {}).error() == AxError::InvalidInput);
    CHECK(VCpu::create(1, config::max_vcpus_per_vm - 1, 0, std::nullopt, {}).has_value());
}

TEST_CASE("identity, affinity and the bootstrap processor") {
    Host::reset();
    auto v0 = VCpu::create(7, 0, 2, VCpuSet::first_n(4), {}).value();
    auto v1 = VCpu::create(7, 1, 3, std::nullopt, {}).value();
    CHECK(v0.vm_id() == 7);
    CHECK(v0.id() == 0);
    CHECK(v1.id() == 1);
    CHECK(v0.favor_phys_cpu() == 2);
    CHECK(v0.phys_cpu_set() == VCpuSet::first_n(4));
    CHECK_FALSE(v1.phys_cpu_set().has_value());
    CHECK(v0.is_bsp());
    CHECK_FALSE(v1.is_bsp());
    CHECK(v0.state() == VCpuState::Created);
    CHECK(v0.arch_vcpu().vm_id == 7);
    CHECK(v1.arch_vcpu().vcpu_id == 1);
}

TEST_CASE("run returns the guest's exits in order and reads Running while the guest runs") {
    Host::reset();
    static const AxVCpuExitReason script[] = {
        exit::Hypercall{1, {2, 3, 4, 5, 6, 7}},
        exit::MmioRead{GuestPhysAddr(0x9000000), AccessWidth::Dword, 5, AccessWidth::Qword, false},
    };
    VCpu vcpu = make_vcpu(Arch::CreateConfig::scripted(script));
    REQUIRE(vcpu.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(vcpu.bind().has_value());
    REQUIRE(vcpu.inject_interrupt(30).has_value());
    const auto first = vcpu.run();
    REQUIRE(first.has_value());
    CHECK(first.value() == script[0]);
    CHECK(vcpu.arch_vcpu().delivered == std::vector<usize>{30});
    CHECK(vcpu.run().value() == script[1]);
    CHECK(vcpu.run().value().is<exit::SystemDown>());  // the script is over
    CHECK(vcpu.state() == VCpuState::Ready);
}
}  // namespace vcpu_state_test
