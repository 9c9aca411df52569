// AxVCpu's life cycle: every (state, operation) pair, valid and invalid.
#include <doctest/doctest.h>

#include <axvcpu/axvcpu.hpp>
#include <axvcpu/ostream.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

#include <array>
#include <functional>
#include <string>

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

constexpr std::size_t idx(VCpuState s) { return static_cast<std::size_t>(s); }

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
    {"inject_interrupt", [](VCpu& v) { return v.inject_interrupt(27); }, {false, true, true, true, true, true},
     VCpuState::Invalid},
}};

constexpr std::array<VCpuState, 6> all_states{VCpuState::Invalid, VCpuState::Created, VCpuState::Free,
                                              VCpuState::Ready,   VCpuState::Running, VCpuState::Blocked};
}  // namespace

TEST_CASE("every (state, operation) pair: valid ones move on, invalid ones are BadState and Invalid") {
    Host::reset();
    for (const auto& op : operations) {
        for (VCpuState from : all_states) {
            CAPTURE(op.name);
            CAPTURE(from);
            VCpu vcpu = vcpu_in(from);
            const AxResult<void> result = op.call(vcpu);
            if (op.allowed[idx(from)]) {
                CHECK(result.has_value());
                const VCpuState expected = op.next_if_same == VCpuState::Invalid ? from : op.next_if_same;
                CHECK(vcpu.state() == expected);
            } else {
                REQUIRE(result.has_error());
                CHECK(result.error() == AxError::BadState);
                CHECK(vcpu.state() == VCpuState::Invalid);
            }
            CHECK(Host::current_vcpu() == nullptr);
        }
    }
}
