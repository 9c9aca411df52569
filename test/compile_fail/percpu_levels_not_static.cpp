// max_guest_page_table_levels in the wrong form must not silently become
// the default of 4 levels.
// expect-first-error: ArchPerCpu: max_guest_page_table_levels must be `static usize max_guest_page_table_levels()`
#include <axvcpu/percpu.hpp>

using namespace axvcpu;

struct PerCpuWithLevelsAsVariable {
    static constexpr usize max_guest_page_table_levels = 3;
    static AxResult<PerCpuWithLevelsAsVariable> create(usize) { return PerCpuWithLevelsAsVariable{}; }
    bool is_enabled() const { return false; }
    AxResult<void> hardware_enable() { return ax_ok(); }
    AxResult<void> hardware_disable() { return ax_ok(); }
};

AxPerCpu<PerCpuWithLevelsAsVariable> percpu;
