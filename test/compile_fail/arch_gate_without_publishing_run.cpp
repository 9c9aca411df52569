// set_runnable gates run(RunPublisher<A, H>); a policy with a plain run()
// that declares it would be told the gate is open and never be asked.
// expect-first-error: ArchVCpu: `set_runnable(bool)` gates run(RunPublisher<A, H>) only; this policy has run()
#include <axvcpu/axvcpu.hpp>
#include <policies/recording_host.hpp>

using namespace axvcpu;

struct ArchWithPlainRunAndGate {
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<ArchWithPlainRunAndGate> create(VMId, VCpuId, CreateConfig) { return ArchWithPlainRunAndGate{}; }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run() { return AxVCpuExitReason(exit::Nothing{}); }
    void set_runnable(bool) noexcept {}
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) {}
};

using VCpu = AxVCpu<ArchWithPlainRunAndGate, policies::RecordingHost<>>;
auto vcpu = VCpu::create(0, 0, 0, std::nullopt, {});
