// inject_if_runnable lets AxVCpu skip its state test on an injection, and
// with it the current-vCPU slot that plain_vcpu_updates lets it skip; a
// policy without that promise has its injections checked the long way.
// expect-first-error: ArchVCpu: `bool inject_if_runnable(usize) noexcept` needs `set_runnable`
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
    bool inject_if_runnable(usize) noexcept { return false; }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize) {}
};

using VCpu = AxVCpu<GatedArchWithoutPlainUpdates, Host>;
auto vcpu = VCpu::create(0, 0, 0, std::nullopt, {});
