// Builds against axvcpu as a user would (subproject or installed headers)
// and checks that the configured options arrive as constexpr configuration.
#include <axvcpu/axvcpu.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

#include <cstdio>

using Host = axvcpu::policies::RecordingHost<>;
using VCpu = axvcpu::AxVCpu<axvcpu::policies::MockArchVCpu<Host>, Host>;

int main() {
    auto vcpu = VCpu::create(0, 0, 0, std::nullopt, {});
    const bool beyond_max_refused = !VCpu::create(0, axvcpu::config::max_vcpus_per_vm, 0, std::nullopt, {});
    const bool ok = vcpu && beyond_max_refused && vcpu.value().setup(axvcpu::GuestPhysAddr(0), axvcpu::HostPhysAddr(0), {}) &&
                    vcpu.value().bind() && vcpu.value().run();
    std::printf("max_vcpus_per_vm=%zu consumer %s\n", axvcpu::config::max_vcpus_per_vm, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
