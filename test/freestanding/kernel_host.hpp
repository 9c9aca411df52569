// A static host policy for the freestanding checks: every host API a
// kernel would give, answering nothing interesting (ArchIf included, for
// the aarch64 policy). Shared by instantiate.cpp and instantiate_arch.cpp.
#pragma once

#include <axvcpu/current_vcpu_slots.hpp>
#include <axvcpu/host_api.hpp>

namespace axvcpu_test {
using namespace axvcpu;

struct KernelHost : GlobalCurrentVCpu<> {
    static VMId current_vm_id() { return 0; }
    static VCpuId current_vcpu_id() { return 0; }
    static std::optional<usize> vcpu_num(VMId) { return 1; }
    static std::optional<VCpuSet> active_vcpus(VMId) { return VCpuSet::only(0); }
    static void inject_interrupt(VMId, VCpuId, InterruptVector) {}
    static void inject_interrupt_to_cpus(VMId, VCpuSet, InterruptVector) {}
    static void notify_vcpu_timer_expired(VMId, VCpuId) {}
    static std::optional<HostPhysAddr> alloc_frame() { return std::nullopt; }
    static std::optional<HostPhysAddr> alloc_contiguous_frames(usize, usize) { return std::nullopt; }
    static void dealloc_frame(HostPhysAddr) {}
    static void dealloc_contiguous_frames(HostPhysAddr, usize) {}
    static HostVirtAddr phys_to_virt(HostPhysAddr pa) { return HostVirtAddr(pa.value()); }
    static HostPhysAddr virt_to_phys(HostVirtAddr va) { return HostPhysAddr(va.value()); }
    static std::uint64_t current_ticks() { return 0; }
    static std::uint64_t ticks_to_nanos(std::uint64_t t) { return t; }
    static std::uint64_t nanos_to_ticks(std::uint64_t n) { return n; }
    static CancelToken register_timer(std::uint64_t, TimerCallback, void*) { return 0; }
    static void cancel_timer(CancelToken) {}
    static usize get_host_cpu_num() { return 1; }
    // ArchIf (aarch64).
    static void hardware_inject_virtual_interrupt(InterruptVector) {}
    static std::uint32_t read_vgicd_typer() { return 0; }
    static std::uint32_t read_vgicd_iidr() { return 0; }
    static HostPhysAddr get_host_gicd_base() { return HostPhysAddr(0); }
    static HostPhysAddr get_host_gicr_base() { return HostPhysAddr(0); }
    static std::uint64_t fetch_irq() { return 0; }
    static void handle_irq() {}
};

}  // namespace axvcpu_test
