// The host API (AxVisor's axvisor_api) as compile-time policy contracts.
//
// A HostApiPolicy is a type with static member functions; AxVCpu and the arch
// policies call them as `H::vcpu_num(vm)`, so every call resolves statically
// and inlines. Each group is a named concept. Where a policy is used, the
// `check_*` functions static_assert each member separately, so a policy that
// lacks one fails with a first error line such as
//   static assertion failed: VmmIf: host policy lacks `static std::optional<usize> vcpu_num(VMId)`
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

// Called from the host's timer context when a deadline registered through
// TimeIf::register_timer passes; `now_nanos` is the time it fired.
using TimerCallback = void (*)(void* context, std::uint64_t now_nanos);
using CancelToken = usize;

namespace api {

// --- VmmIf: the VMM's view of VMs and vCPUs --------------------------------
template <class H>
concept has_current_vm_id = requires {
    { H::current_vm_id() } -> std::convertible_to<VMId>;
};
template <class H>
concept has_current_vcpu_id = requires {
    { H::current_vcpu_id() } -> std::convertible_to<VCpuId>;
};
template <class H>
concept has_vcpu_num = requires(VMId vm) {
    { H::vcpu_num(vm) } -> std::same_as<std::optional<usize>>;  // none: no such VM
};
template <class H>
concept has_active_vcpus = requires(VMId vm) {
    { H::active_vcpus(vm) } -> std::same_as<std::optional<VCpuSet>>;
};
template <class H>
concept has_inject_interrupt = requires(VMId vm, VCpuId vcpu, InterruptVector vector) {
    H::inject_interrupt(vm, vcpu, vector);
};
template <class H>
concept has_inject_interrupt_to_cpus = requires(VMId vm, VCpuSet set, InterruptVector vector) {
    H::inject_interrupt_to_cpus(vm, set, vector);
};
template <class H>
concept has_notify_vcpu_timer_expired = requires(VMId vm, VCpuId vcpu) { H::notify_vcpu_timer_expired(vm, vcpu); };

template <class H>
concept VmmIf = has_current_vm_id<H> && has_current_vcpu_id<H> && has_vcpu_num<H> && has_active_vcpus<H> &&
                has_inject_interrupt<H> && has_inject_interrupt_to_cpus<H> && has_notify_vcpu_timer_expired<H>;

template <class H>
consteval bool check_vmm_if() {
    static_assert(has_current_vm_id<H>, "VmmIf: host policy lacks `static VMId current_vm_id()`");
    static_assert(has_current_vcpu_id<H>, "VmmIf: host policy lacks `static VCpuId current_vcpu_id()`");
    static_assert(has_vcpu_num<H>, "VmmIf: host policy lacks `static std::optional<usize> vcpu_num(VMId)`");
    static_assert(has_active_vcpus<H>, "VmmIf: host policy lacks `static std::optional<VCpuSet> active_vcpus(VMId)`");
    static_assert(has_inject_interrupt<H>,
                  "VmmIf: host policy lacks `static void inject_interrupt(VMId, VCpuId, InterruptVector)`");
    static_assert(has_inject_interrupt_to_cpus<H>,
                  "VmmIf: host policy lacks `static void inject_interrupt_to_cpus(VMId, VCpuSet, InterruptVector)`");
    static_assert(has_notify_vcpu_timer_expired<H>,
                  "VmmIf: host policy lacks `static void notify_vcpu_timer_expired(VMId, VCpuId)`");
    static_assert(VmmIf<H>, "VmmIf: the concept and the per-member checks above disagree (library bug)");
    return true;
}

// --- MemoryIf: frames for page tables and guest memory ---------------------
template <class H>
concept has_alloc_frame = requires {
    { H::alloc_frame() } -> std::same_as<std::optional<HostPhysAddr>>;  // none: out of memory
};
template <class H>
concept has_alloc_contiguous_frames = requires(usize count, usize align_log2) {
    { H::alloc_contiguous_frames(count, align_log2) } -> std::same_as<std::optional<HostPhysAddr>>;
};
template <class H>
concept has_dealloc_frame = requires(HostPhysAddr frame) { H::dealloc_frame(frame); };
template <class H>
concept has_dealloc_contiguous_frames = requires(HostPhysAddr first, usize count) {
    H::dealloc_contiguous_frames(first, count);
};
template <class H>
concept has_phys_to_virt = requires(HostPhysAddr pa) {
    { H::phys_to_virt(pa) } -> std::convertible_to<HostVirtAddr>;
};
template <class H>
concept has_virt_to_phys = requires(HostVirtAddr va) {
    { H::virt_to_phys(va) } -> std::convertible_to<HostPhysAddr>;
};

template <class H>
concept MemoryIf = has_alloc_frame<H> && has_alloc_contiguous_frames<H> && has_dealloc_frame<H> &&
                   has_dealloc_contiguous_frames<H> && has_phys_to_virt<H> && has_virt_to_phys<H>;

template <class H>
consteval bool check_memory_if() {
    static_assert(has_alloc_frame<H>, "MemoryIf: host policy lacks `static std::optional<HostPhysAddr> alloc_frame()`");
    static_assert(has_alloc_contiguous_frames<H>,
                  "MemoryIf: host policy lacks `static std::optional<HostPhysAddr> alloc_contiguous_frames(usize count, "
                  "usize align_log2)`");
    static_assert(has_dealloc_frame<H>, "MemoryIf: host policy lacks `static void dealloc_frame(HostPhysAddr)`");
    static_assert(has_dealloc_contiguous_frames<H>,
                  "MemoryIf: host policy lacks `static void dealloc_contiguous_frames(HostPhysAddr, usize count)`");
    static_assert(has_phys_to_virt<H>, "MemoryIf: host policy lacks `static HostVirtAddr phys_to_virt(HostPhysAddr)`");
    static_assert(has_virt_to_phys<H>, "MemoryIf: host policy lacks `static HostPhysAddr virt_to_phys(HostVirtAddr)`");
    static_assert(MemoryIf<H>, "MemoryIf: the concept and the per-member checks above disagree (library bug)");
    return true;
}

// --- TimeIf: the host clock and one-shot timers -----------------------------
template <class H>
concept has_current_ticks = requires {
    { H::current_ticks() } -> std::convertible_to<std::uint64_t>;
};
template <class H>
concept has_ticks_to_nanos = requires(std::uint64_t ticks) {
    { H::ticks_to_nanos(ticks) } -> std::convertible_to<std::uint64_t>;
};
template <class H>
concept has_nanos_to_ticks = requires(std::uint64_t nanos) {
    { H::nanos_to_ticks(nanos) } -> std::convertible_to<std::uint64_t>;
};
template <class H>
concept has_register_timer = requires(std::uint64_t deadline_nanos, TimerCallback callback, void* context) {
    { H::register_timer(deadline_nanos, callback, context) } -> std::convertible_to<CancelToken>;
};
template <class H>
concept has_cancel_timer = requires(CancelToken token) { H::cancel_timer(token); };

template <class H>
concept TimeIf = has_current_ticks<H> && has_ticks_to_nanos<H> && has_nanos_to_ticks<H> && has_register_timer<H> &&
                 has_cancel_timer<H>;

template <class H>
consteval bool check_time_if() {
    static_assert(has_current_ticks<H>, "TimeIf: host policy lacks `static std::uint64_t current_ticks()`");
    static_assert(has_ticks_to_nanos<H>, "TimeIf: host policy lacks `static std::uint64_t ticks_to_nanos(std::uint64_t)`");
    static_assert(has_nanos_to_ticks<H>, "TimeIf: host policy lacks `static std::uint64_t nanos_to_ticks(std::uint64_t)`");
    static_assert(has_register_timer<H>,
                  "TimeIf: host policy lacks `static CancelToken register_timer(std::uint64_t deadline_nanos, "
                  "TimerCallback, void* context)`");
    static_assert(has_cancel_timer<H>, "TimeIf: host policy lacks `static void cancel_timer(CancelToken)`");
    static_assert(TimeIf<H>, "TimeIf: the concept and the per-member checks above disagree (library bug)");
    return true;
}

// --- HostIf: facts about the host machine -----------------------------------
template <class H>
concept has_get_host_cpu_num = requires {
    { H::get_host_cpu_num() } -> std::convertible_to<usize>;
};

template <class H>
concept HostIf = has_get_host_cpu_num<H>;

template <class H>
consteval bool check_host_if() {
    static_assert(has_get_host_cpu_num<H>, "HostIf: host policy lacks `static usize get_host_cpu_num()`");
    static_assert(HostIf<H>, "HostIf: the concept and the per-member checks above disagree (library bug)");
    return true;
}

// --- CurrentVCpuSlot: where this CPU's current-vCPU pointer lives ----------
// thread_local on a hosted test, a per-CPU area or a spare system register
// (TPIDR_EL2, sscratch) in a kernel; see current_vcpu_slots.hpp. The slot
// changes around every AxVCpu call, so each current_vcpu_slot() must read
// it afresh: an ordinary load or a volatile asm, never a non-volatile asm
// (GCC may move one out of a loop, even a loop that writes the slot).
template <class H>
concept has_current_vcpu_slot = requires {
    { H::current_vcpu_slot() } -> std::convertible_to<void*>;
};
template <class H>
concept has_set_current_vcpu_slot = requires(void* vcpu) { H::set_current_vcpu_slot(vcpu); };

template <class H>
concept CurrentVCpuSlot = has_current_vcpu_slot<H> && has_set_current_vcpu_slot<H>;

template <class H>
consteval bool check_current_vcpu_slot() {
    static_assert(has_current_vcpu_slot<H>, "CurrentVCpuSlot: host policy lacks `static void* current_vcpu_slot()`");
    static_assert(has_set_current_vcpu_slot<H>, "CurrentVCpuSlot: host policy lacks `static void set_current_vcpu_slot(void*)`");
    static_assert(CurrentVCpuSlot<H>, "CurrentVCpuSlot: the concept and the per-member checks above disagree (library bug)");
    return true;
}

// --- ArchIf (aarch64): the host's GIC, for the aarch64 policy --------------
template <class H>
concept has_hardware_inject_virtual_interrupt = requires(InterruptVector vector) {
    H::hardware_inject_virtual_interrupt(vector);
};
template <class H>
concept has_read_vgicd_typer = requires {
    { H::read_vgicd_typer() } -> std::convertible_to<std::uint32_t>;
};
template <class H>
concept has_read_vgicd_iidr = requires {
    { H::read_vgicd_iidr() } -> std::convertible_to<std::uint32_t>;
};
template <class H>
concept has_get_host_gicd_base = requires {
    { H::get_host_gicd_base() } -> std::convertible_to<HostPhysAddr>;
};
template <class H>
concept has_get_host_gicr_base = requires {
    { H::get_host_gicr_base() } -> std::convertible_to<HostPhysAddr>;
};
template <class H>
concept has_fetch_irq = requires {
    { H::fetch_irq() } -> std::convertible_to<std::uint64_t>;
};
template <class H>
concept has_handle_irq = requires { H::handle_irq(); };

template <class H>
concept ArchIf = has_hardware_inject_virtual_interrupt<H> && has_read_vgicd_typer<H> && has_read_vgicd_iidr<H> &&
                 has_get_host_gicd_base<H> && has_get_host_gicr_base<H> && has_fetch_irq<H> && has_handle_irq<H>;

template <class H>
consteval bool check_arch_if() {
    static_assert(has_hardware_inject_virtual_interrupt<H>,
                  "ArchIf: host policy lacks `static void hardware_inject_virtual_interrupt(InterruptVector)`");
    static_assert(has_read_vgicd_typer<H>, "ArchIf: host policy lacks `static std::uint32_t read_vgicd_typer()`");
    static_assert(has_read_vgicd_iidr<H>, "ArchIf: host policy lacks `static std::uint32_t read_vgicd_iidr()`");
    static_assert(has_get_host_gicd_base<H>, "ArchIf: host policy lacks `static HostPhysAddr get_host_gicd_base()`");
    static_assert(has_get_host_gicr_base<H>, "ArchIf: host policy lacks `static HostPhysAddr get_host_gicr_base()`");
    static_assert(has_fetch_irq<H>, "ArchIf: host policy lacks `static std::uint64_t fetch_irq()`");
    static_assert(has_handle_irq<H>, "ArchIf: host policy lacks `static void handle_irq()`");
    static_assert(ArchIf<H>, "ArchIf: the concept and the per-member checks above disagree (library bug)");
    return true;
}

// --- The whole generic host API ---------------------------------------------
template <class H>
concept HostApi = VmmIf<H> && MemoryIf<H> && TimeIf<H> && HostIf<H> && CurrentVCpuSlot<H>;

template <class H>
consteval bool check_host_api() {
    return check_vmm_if<H>() && check_memory_if<H>() && check_time_if<H>() && check_host_if<H>() &&
           check_current_vcpu_slot<H>();
}

// --- Helpers built on VmmIf --------------------------------------------------
// Upstream panics when the current VM id is unknown; here it is an error.
template <VmmIf H>
AxResult<usize> current_vm_vcpu_num() {
    const std::optional<usize> count = H::vcpu_num(H::current_vm_id());
    if (!count) return ax_err(AxError::NotFound);
    return *count;
}

template <VmmIf H>
AxResult<VCpuSet> current_vm_active_vcpus() {
    const std::optional<VCpuSet> active = H::active_vcpus(H::current_vm_id());
    if (!active) return ax_err(AxError::NotFound);
    return *active;
}

}  // namespace api
}  // namespace axvcpu
