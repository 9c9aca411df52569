// The CMake consumer: linking axvcpu::axvcpu alone must give this translation
// unit the include directories, C++20 and the configuration defines.
// config.hpp falls back to defaults for a missing define, so their presence
// is checked here; check.sh compares the printed max_vcpus_per_vm with the
// installing build's option.
#if !defined(AXVCPU_MAX_VCPUS_PER_VM) || !defined(AXVCPU_INTERRUPT_QUEUE_DEPTH) || \
    !defined(AXVCPU_GIC_VERSION) || !defined(AXVCPU_TRAP_WFI)
#error "axvcpu::axvcpu did not carry the configuration defines"
#endif
static_assert(__cplusplus >= 202002L, "axvcpu::axvcpu did not carry C++20");

#include "../main.cpp"
