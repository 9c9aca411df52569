// gate_open lets AxVCpu skip the state test of a plain update, which only
// plain_vcpu_updates makes the whole check (without it AxVCpu also sets
// the current-vCPU slot and refuses nesting): a policy without that
// promise is told so.
// expect-first-error: ArchVCpu: `bool gate_open() const noexcept` needs `set_runnable`
#include <axvcpu/axvcpu.hpp>
#include <policies/recording_host.hpp>

using namespace axvcpu;

struct GatedArchWithoutPlainUpdates;
using Host = policies::RecordingHost<>;
struct GatedArchWithoutPlainUpdates {
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<GatedArchWithoutPlainUpdates> create(VMId, VCpuId, CreateConfig) {
        return GatedArchWithoutPlainUpdates{};
    }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run(RunPublisher<GatedArchWithoutPlainUpdates, Host>) {
        return AxVCpuExitReason(exit::Nothing{});
    }
    void set_runnable(bool) noexcept {}
    bool gate_open() const noexcept { return false; }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) {}
};

using VCpu = AxVCpu<GatedArchWithoutPlainUpdates, Host>;
auto vcpu = VCpu::create(0, 0, 0, std::nullopt, {});
