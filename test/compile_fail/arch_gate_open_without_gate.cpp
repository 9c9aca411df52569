// gate_open reads the gate set_runnable keeps: a policy without that gate
// has nothing it could answer from.
// expect-first-error: ArchVCpu: `bool gate_open() const noexcept` needs `set_runnable`
#include <axvcpu/axvcpu.hpp>
#include <policies/recording_host.hpp>

using namespace axvcpu;

struct UngatedArch;
using Host = policies::RecordingHost<>;
struct UngatedArch {
    static constexpr bool plain_vcpu_updates = true;
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<UngatedArch> create(VMId, VCpuId, CreateConfig) { return UngatedArch{}; }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run(RunPublisher<UngatedArch, Host>) { return AxVCpuExitReason(exit::Nothing{}); }
    bool gate_open() const noexcept { return true; }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) {}
};

using VCpu = AxVCpu<UngatedArch, Host>;
auto vcpu = VCpu::create(0, 0, 0, std::nullopt, {});
