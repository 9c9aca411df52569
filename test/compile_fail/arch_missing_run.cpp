// An arch policy without run cannot build an AxVCpu.
// expect-first-error: ArchVCpu: arch policy lacks `AxResult<AxVCpuExitReason> run()`
#include <axvcpu/axvcpu.hpp>
#include <policies/recording_host.hpp>

using namespace axvcpu;

struct ArchWithoutRun {
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<ArchWithoutRun> create(VMId, VCpuId, CreateConfig) { return ArchWithoutRun{}; }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) {}
};

using VCpu = AxVCpu<ArchWithoutRun, policies::RecordingHost<>>;
auto vcpu = VCpu::create(0, 0, 0, std::nullopt, {});
