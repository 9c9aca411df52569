// A host policy without vcpu_num cannot build an AxVCpu.
// expect-first-error: VmmIf: host policy lacks `static std::optional<usize> vcpu_num(VMId)`
#include <axvcpu/axvcpu.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

struct HostWithoutVcpuNum : axvcpu::ThreadLocalCurrentVCpu {
    using Full = axvcpu::policies::RecordingHost<>;
    static axvcpu::VMId current_vm_id() { return 0; }
    static axvcpu::VCpuId current_vcpu_id() { return 0; }
    static std::optional<axvcpu::VCpuSet> active_vcpus(axvcpu::VMId) { return {}; }
    static void inject_interrupt(axvcpu::VMId, axvcpu::VCpuId, axvcpu::InterruptVector) {}
    static void inject_interrupt_to_cpus(axvcpu::VMId, axvcpu::VCpuSet, axvcpu::InterruptVector) {}
    static void notify_vcpu_timer_expired(axvcpu::VMId, axvcpu::VCpuId) {}
    static std::optional<axvcpu::HostPhysAddr> alloc_frame() { return Full::alloc_frame(); }
    static std::optional<axvcpu::HostPhysAddr> alloc_contiguous_frames(axvcpu::usize n, axvcpu::usize a) {
        return Full::alloc_contiguous_frames(n, a);
    }
    static void dealloc_frame(axvcpu::HostPhysAddr) {}
    static void dealloc_contiguous_frames(axvcpu::HostPhysAddr, axvcpu::usize) {}
    static axvcpu::HostVirtAddr phys_to_virt(axvcpu::HostPhysAddr pa) { return axvcpu::HostVirtAddr(pa.value()); }
    static axvcpu::HostPhysAddr virt_to_phys(axvcpu::HostVirtAddr va) { return axvcpu::HostPhysAddr(va.value()); }
    static std::uint64_t current_ticks() { return 0; }
    static std::uint64_t ticks_to_nanos(std::uint64_t t) { return t; }
    static std::uint64_t nanos_to_ticks(std::uint64_t n) { return n; }
    static axvcpu::CancelToken register_timer(std::uint64_t, axvcpu::TimerCallback, void*) { return 0; }
    static void cancel_timer(axvcpu::CancelToken) {}
    static axvcpu::usize get_host_cpu_num() { return 1; }
};

using VCpu = axvcpu::AxVCpu<axvcpu::policies::MockArchVCpu<HostWithoutVcpuNum>, HostWithoutVcpuNum>;
VCpu::CreateConfig config;
auto vcpu = VCpu::create(0, 0, 0, std::nullopt, config);
