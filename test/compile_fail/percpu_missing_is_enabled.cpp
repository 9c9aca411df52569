// A per-CPU policy without is_enabled cannot build an AxPerCpu.
// expect-first-error: ArchPerCpu: arch policy lacks `bool is_enabled() const`
#include <axvcpu/percpu.hpp>

using namespace axvcpu;

struct PerCpuWithoutIsEnabled {
    static AxResult<PerCpuWithoutIsEnabled> create(usize) { return PerCpuWithoutIsEnabled{}; }
    AxResult<void> hardware_enable() { return ax_ok(); }
    AxResult<void> hardware_disable() { return ax_ok(); }
};

AxPerCpu<PerCpuWithoutIsEnabled> percpu;
