// The per-CPU current vCPU: visible to arch code during every arch call,
// cleared afterwards (also after a failure), nesting refused, type-checked.
#include <doctest/doctest.h>

#include <axvcpu/axvcpu.hpp>
#include <axvcpu/ostream.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

#include <thread>

using namespace axvcpu;
using policies::MockArchVCpu;
using policies::MockCall;

namespace {
struct CurrentTag {};
using Host = policies::RecordingHost<CurrentTag>;
using Arch = MockArchVCpu<Host>;
using VCpu = AxVCpu<Arch, Host>;

VCpu make(VCpuId id, Arch::CreateConfig config = {}) { return VCpu::create(0, id, 0, std::nullopt, config).value(); }

// An arch policy that tries to drive another vCPU from inside its own call.
struct NestingArch;
using NestingVCpu = AxVCpu<NestingArch, Host>;
struct NestingArch {
    struct CreateConfig {
        NestingVCpu* other = nullptr;
    };
    struct SetupConfig {};
    static AxResult<NestingArch> create(VMId, VCpuId, CreateConfig c) { return NestingArch{c.other, ax_ok()}; }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() {
        seen_as_self = current_vcpu<NestingArch, Host>();
        seen_as_mock = current_vcpu<Arch, Host>();
        if (other != nullptr) nested_result = other->inject_interrupt(5);
        return ax_ok();
    }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run() { return AxVCpuExitReason(exit::Nothing{}); }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) {}
    NestingVCpu* other;
    AxResult<void> nested_result;
    const void* seen_as_self = nullptr;
    const void* seen_as_mock = nullptr;
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
    CHECK(Host::current_vcpu() == nullptr);
}

TEST_CASE("the slot is cleared after a failing arch call too") {
    Host::reset();
    for (MockCall failing : {MockCall::SetEntry, MockCall::SetEptRoot, MockCall::Setup}) {
        VCpu vcpu = make(0, Arch::CreateConfig::failing(failing, AxError::NoMemory));
        const auto r = vcpu.setup(GuestPhysAddr(0x1000), HostPhysAddr(0x2000), {});
        CHECK(r.error() == AxError::NoMemory);
        CHECK(vcpu.arch_vcpu().calls.back().current == &vcpu);
        CHECK(Host::current_vcpu() == nullptr);
    }
    VCpu runner = make(0, Arch::CreateConfig::failing(MockCall::Run, AxError::Io));
    REQUIRE(runner.setup(GuestPhysAddr(0x1000), HostPhysAddr(0x2000), {}).has_value());
    REQUIRE(runner.bind().has_value());
    CHECK(runner.run().error() == AxError::Io);
    CHECK(Host::current_vcpu() == nullptr);
}

TEST_CASE("a nested arch call is refused and leaves the nested vCPU's state alone") {
    Host::reset();
    NestingVCpu target = NestingVCpu::create(0, 1, 0, std::nullopt, {}).value();
    NestingVCpu outer = NestingVCpu::create(0, 0, 0, std::nullopt, {&target}).value();
    REQUIRE(outer.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(outer.bind().has_value());
    CHECK(outer.arch_vcpu().nested_result.error() == AxError::BadState);
    CHECK(target.state() == VCpuState::Created);
    CHECK(outer.state() == VCpuState::Ready);
    CHECK(Host::current_vcpu() == nullptr);
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
    VCpu a = make(0);
    VCpu b = make(1);
    REQUIRE(a.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    REQUIRE(b.setup(GuestPhysAddr(0), HostPhysAddr(0), {}).has_value());
    AxResult<void> from_thread = ax_err(AxError::Io);
    std::thread other([&] { from_thread = b.bind(); });
    other.join();
    CHECK(from_thread.has_value());
    CHECK(b.arch_vcpu().calls.back().current == &b);
    CHECK(a.bind().has_value());
}
