// Compile-time configuration, read by AxVCpu and the arch policies.
//
// The meson options of the same names set these macros on every consumer's
// command line (and pkg-config's Cflags); a build without meson may define
// them itself. Bad values fail here, at compile time, never at run time.
#pragma once

#include "axvcpu/types.hpp"

#ifndef AXVCPU_MAX_VCPUS_PER_VM
#define AXVCPU_MAX_VCPUS_PER_VM 64
#endif
#ifndef AXVCPU_INTERRUPT_QUEUE_DEPTH
#define AXVCPU_INTERRUPT_QUEUE_DEPTH 32
#endif
#ifndef AXVCPU_GIC_VERSION
#define AXVCPU_GIC_VERSION 3
#endif
#ifndef AXVCPU_TRAP_WFI
#define AXVCPU_TRAP_WFI 1
#endif

namespace axvcpu::config {

// The most vCPUs one VM may have (vCPU ids are below this).
inline constexpr usize max_vcpus_per_vm = AXVCPU_MAX_VCPUS_PER_VM;
// How many injected interrupts a vCPU holds while it cannot take them.
inline constexpr usize interrupt_queue_depth = AXVCPU_INTERRUPT_QUEUE_DEPTH;
// aarch64: the GIC the host has; 3 injects through list registers, 2 falls
// back to HCR_EL2.VI.
inline constexpr unsigned gic_version = AXVCPU_GIC_VERSION;
// Whether a guest's WFI/WFE traps to the hypervisor (Halt exit) or idles the
// physical CPU in place.
inline constexpr bool trap_wfi = AXVCPU_TRAP_WFI != 0;

static_assert(max_vcpus_per_vm >= 1 && max_vcpus_per_vm <= MAX_VCPU_NUM,
              "AXVCPU_MAX_VCPUS_PER_VM must be between 1 and MAX_VCPU_NUM (64): VCpuSet has 64 bits");
static_assert(interrupt_queue_depth >= 1 && interrupt_queue_depth <= 1024,
              "AXVCPU_INTERRUPT_QUEUE_DEPTH must be between 1 and 1024");
static_assert(gic_version == 2 || gic_version == 3, "AXVCPU_GIC_VERSION must be 2 or 3");

}  // namespace axvcpu::config
