// axvcpu::riscv64::PerCpu: the per-hart half of the policy. Virtualization
// is "on" when the hart delegates the guest's own exceptions and VS-level
// interrupts to VS-mode (hedeleg/hideleg) and lets it read the counters;
// "off" is the reset state with every one of those cleared, no virtual
// interrupt pending (hvip) and no stage-2 root (hgatp).
//
// is_enabled() reads the hart's CSRs, so it tells the truth about the hart
// it is called on; call it (like enable/disable) on the object's own hart.
#pragma once

#include <cstdint>

#include "arch/riscv64/sysregs.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

#if !(defined(__riscv) && __riscv_xlen == 64)
#error "arch/riscv64/percpu.hpp is for riscv64 targets only"
#endif

namespace axvcpu::riscv64 {

class PerCpu {
public:
    static AxResult<PerCpu> create(usize cpu_id) { return PerCpu(cpu_id); }

    [[nodiscard]] bool is_enabled() const {
        return csr::read<csr::hedeleg>() == csr::hedeleg_guest && csr::read<csr::hideleg>() == csr::hideleg_guest;
    }

    AxResult<void> hardware_enable() {
        csr::write<csr::hedeleg>(csr::hedeleg_guest);
        csr::write<csr::hideleg>(csr::hideleg_guest);
        csr::write<csr::hcounteren>(csr::hcounteren_guest);
        csr::write<csr::hvip>(0);
        csr::write<csr::hgatp>(0);
        csr::hfence_gvma_all();
        // WARL registers: a hart that cannot delegate these reads back less.
        if (!is_enabled()) {
            (void)hardware_disable();
            return ax_err(AxError::Unsupported);
        }
        return ax_ok();
    }

    AxResult<void> hardware_disable() {
        csr::write<csr::hedeleg>(0);
        csr::write<csr::hideleg>(0);
        csr::write<csr::hcounteren>(0);
        csr::write<csr::hvip>(0);
        csr::write<csr::hgatp>(0);
        csr::hfence_gvma_all();
        return ax_ok();
    }

    // Sv48x4 stage-2 tables are supported as well as Sv39x4 (CreateConfig
    // page_table_levels chooses).
    static constexpr usize max_guest_page_table_levels() { return 4; }

    [[nodiscard]] usize cpu_id() const noexcept { return cpu_id_; }

private:
    explicit PerCpu(usize cpu_id) : cpu_id_(cpu_id) {}
    usize cpu_id_;
};

}  // namespace axvcpu::riscv64
