// Ready-made homes for the per-CPU current-vCPU pointer (the CurrentVCpuSlot
// part of a host policy). A host policy inherits one, or defines its own
// `current_vcpu_slot()` / `set_current_vcpu_slot(void*)` over a per-CPU area.
#pragma once

namespace axvcpu {

// One slot per host thread: for hosted tests, where each test thread plays a
// physical CPU.
struct ThreadLocalCurrentVCpu {
    static void* current_vcpu_slot() noexcept { return slot(); }
    static void set_current_vcpu_slot(void* vcpu) noexcept { slot() = vcpu; }

private:
    static void*& slot() noexcept {
        thread_local void* current = nullptr;
        return current;
    }
};

// One slot for the whole system: for a uniprocessor kernel or early boot,
// where no per-CPU area exists yet. Each distinct Tag gets its own slot.
template <class Tag = void>
struct GlobalCurrentVCpu {
    static void* current_vcpu_slot() noexcept { return current; }
    static void set_current_vcpu_slot(void* vcpu) noexcept { current = vcpu; }

private:
    static inline void* current = nullptr;
};

}  // namespace axvcpu
