// A guest-physical address cannot be passed where a host-physical one is
// expected (here: as the stage-2 root).
// expect-first-error: GuestPhysKind
// expect-first-error: HostPhysKind
#include <axvcpu/axvcpu.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

using Host = axvcpu::policies::RecordingHost<>;
using VCpu = axvcpu::AxVCpu<axvcpu::policies::MockArchVCpu<Host>, Host>;

void wrong(VCpu& vcpu) {
    const axvcpu::GuestPhysAddr guest_root(0x1000);
    (void)vcpu.setup(axvcpu::GuestPhysAddr(0), guest_root, {});
}
