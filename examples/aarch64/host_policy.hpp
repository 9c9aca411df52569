// The example's HostApiPolicy: VM 0, whose vCPU n runs on physical CPU n,
// and, for the CPU-sharing test, a one-vCPU VM 1 time-sliced with it on
// CPU 0. Everything resolves statically; the per-CPU current-vCPU
// slot is TPIDR_EL2, which nothing else in this hypervisor uses.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include <axvcpu/addr.hpp>
#include <axvcpu/host_api.hpp>
#include <axvcpu/irq_queue.hpp>
#include <axvcpu/types.hpp>

#include "runtime.hpp"

namespace hyp {

inline constexpr axvcpu::usize max_cpus = 4;

// Interrupts other CPUs want injected into the vCPU running on a CPU. The
// vCPU itself is only touched by its own CPU (AxVCpu is not thread-safe);
// a sender posts here and kicks the owner with an SGI.
struct Mailbox {
    SpinLock lock;
    axvcpu::IrqQueue<32> pending;
};

struct HostState {
    axvcpu::usize cpu_count = 1;
    axvcpu::usize vcpu_count = 1;
    std::atomic<std::uint64_t> active_vcpus{0};
    // VM 1 (CPU-sharing test): one vCPU, on while it runs.
    bool second_vm = false;
    std::atomic<std::uint64_t> second_vm_active{0};
    // The VM whose vCPU this CPU is running.
    axvcpu::VMId running_vm[max_cpus] = {};
    Mailbox mailbox[max_cpus];
};
inline HostState host_state;

// Bump allocator over a static pool, for stage-2 tables.
inline constexpr axvcpu::usize frame_pool_frames = 64;
alignas(65536) inline unsigned char frame_pool[frame_pool_frames * 4096];
inline axvcpu::usize frames_used = 0;

inline axvcpu::usize cpu_index() { return static_cast<axvcpu::usize>(current_mpidr() & 0xFF); }

// The policy calls the host from inside its run(), in the stretches it
// publishes (RunPublisher): there the vCPU must be this CPU's current vCPU
// and read Running, as a kernel's host API would find it (hyp_main.cpp
// checks, and fails the test otherwise).
void expect_published(const char* where);

struct Host {
    // --- VmmIf ---
    static axvcpu::VMId current_vm_id() { return host_state.running_vm[cpu_index()]; }
    static axvcpu::VCpuId current_vcpu_id() { return cpu_index(); }
    static std::optional<axvcpu::usize> vcpu_num(axvcpu::VMId vm) {
        expect_published("vcpu_num");
        if (vm == 1 && host_state.second_vm) return 1;
        if (vm != 0) return std::nullopt;
        return host_state.vcpu_count;
    }
    static std::optional<axvcpu::VCpuSet> active_vcpus(axvcpu::VMId vm) {
        expect_published("active_vcpus");
        if (vm == 1 && host_state.second_vm) {
            return axvcpu::VCpuSet::from_bits(host_state.second_vm_active.load(std::memory_order_acquire));
        }
        if (vm != 0) return std::nullopt;
        return axvcpu::VCpuSet::from_bits(host_state.active_vcpus.load(std::memory_order_acquire));
    }
    static void inject_interrupt(axvcpu::VMId vm, axvcpu::VCpuId vcpu, axvcpu::InterruptVector vector) {
        if (vm != 0 || vcpu >= host_state.vcpu_count) return;
        Mailbox& box = host_state.mailbox[vcpu];
        box.lock.lock();
        const bool queued = box.pending.push(vector).has_value();
        box.lock.unlock();
        if (!queued) println("host: mailbox of vCPU ", vcpu, " full, vector ", vector, " dropped");
        if (vcpu != cpu_index()) gic_send_sgi(kick_sgi, vcpu);
    }
    static void inject_interrupt_to_cpus(axvcpu::VMId vm, axvcpu::VCpuSet vcpus, axvcpu::InterruptVector vector) {
        for (axvcpu::VCpuId id : vcpus) inject_interrupt(vm, id, vector);
    }
    static void notify_vcpu_timer_expired(axvcpu::VMId, axvcpu::VCpuId) {}

    // --- MemoryIf (identity-mapped, MMU off) ---
    static std::optional<axvcpu::HostPhysAddr> alloc_frame() { return alloc_contiguous_frames(1, 12); }
    static std::optional<axvcpu::HostPhysAddr> alloc_contiguous_frames(axvcpu::usize count, axvcpu::usize align_log2) {
        const axvcpu::usize align_frames = align_log2 > 12 ? axvcpu::usize{1} << (align_log2 - 12) : 1;
        const axvcpu::usize first = (frames_used + align_frames - 1) / align_frames * align_frames;
        if (first + count > frame_pool_frames) return std::nullopt;
        frames_used = first + count;
        unsigned char* start = frame_pool + first * 4096;
        for (axvcpu::usize i = 0; i < count * 4096; ++i) start[i] = 0;
        return axvcpu::HostPhysAddr(reinterpret_cast<axvcpu::usize>(start));
    }
    static void dealloc_frame(axvcpu::HostPhysAddr) {}  // the pool lives as long as the VM
    static void dealloc_contiguous_frames(axvcpu::HostPhysAddr, axvcpu::usize) {}
    static axvcpu::HostVirtAddr phys_to_virt(axvcpu::HostPhysAddr pa) { return axvcpu::HostVirtAddr(pa.value()); }
    static axvcpu::HostPhysAddr virt_to_phys(axvcpu::HostVirtAddr va) { return axvcpu::HostPhysAddr(va.value()); }

    // --- TimeIf (the generic counter; no software timers in this example) ---
    static std::uint64_t current_ticks() {
        std::uint64_t v;
        asm volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
        return v;
    }
    static std::uint64_t frequency() {
        std::uint64_t v;
        asm volatile("mrs %0, cntfrq_el0" : "=r"(v));
        return v;
    }
    static std::uint64_t ticks_to_nanos(std::uint64_t ticks) { return ticks * 1'000'000'000 / frequency(); }
    static std::uint64_t nanos_to_ticks(std::uint64_t nanos) { return nanos * frequency() / 1'000'000'000; }
    static axvcpu::CancelToken register_timer(std::uint64_t, axvcpu::TimerCallback, void*) { return 0; }
    static void cancel_timer(axvcpu::CancelToken) {}

    // --- HostIf ---
    static axvcpu::usize get_host_cpu_num() { return host_state.cpu_count; }

    // --- CurrentVCpuSlot: TPIDR_EL2 ---
    static void* current_vcpu_slot() {
        std::uint64_t v;
        asm volatile("mrs %0, tpidr_el2" : "=r"(v));
        return reinterpret_cast<void*>(v);
    }
    static void set_current_vcpu_slot(void* vcpu) {
        // "rZ": clearing the slot writes xzr instead of materialising a zero.
        asm volatile("msr tpidr_el2, %x0" : : "rZ"(reinterpret_cast<std::uint64_t>(vcpu)));
    }

    // --- ArchIf (aarch64) ---
    static void hardware_inject_virtual_interrupt(axvcpu::InterruptVector vector) {
        inject_interrupt(0, cpu_index(), vector);
    }
    static std::uint32_t read_vgicd_typer() { return mmio32(gicd_base + 0x4); }
    static std::uint32_t read_vgicd_iidr() { return mmio32(gicd_base + 0x8); }
    static axvcpu::HostPhysAddr get_host_gicd_base() { return axvcpu::HostPhysAddr(gicd_base); }
    static axvcpu::HostPhysAddr get_host_gicr_base() { return axvcpu::HostPhysAddr(gicr_base); }
    static std::uint64_t fetch_irq() {
        expect_published("fetch_irq");
        return gic_ack_irq();
    }
    static void handle_irq() {}
};

static_assert(axvcpu::api::check_host_api<Host>());
static_assert(axvcpu::api::check_arch_if<Host>());

}  // namespace hyp
