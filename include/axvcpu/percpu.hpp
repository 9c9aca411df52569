// AxPerCpu<P>: the per-physical-CPU virtualization state, wrapping an
// ArchPerCpu policy with the life-cycle rules upstream leaves to the caller.
//
// - init(cpu_id) creates the arch state once; a second init is BadState.
// - hardware_enable/disable before init are BadState.
// - Destruction turns virtualization off only if it is on, so a CPU that
//   never enabled it is never touched.
#pragma once

#include <optional>
#include <utility>

#include "axvcpu/percpu_contract.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

template <class P>
class AxPerCpu {
    static_assert(api::check_arch_percpu<P>());

    static constexpr usize guest_page_table_levels = api::max_guest_page_table_levels<P>();
    static_assert(guest_page_table_levels >= 2 && guest_page_table_levels <= 5,
                  "ArchPerCpu: max_guest_page_table_levels() must be between 2 and 5");

public:
    AxPerCpu() = default;
    AxPerCpu(const AxPerCpu&) = delete;
    AxPerCpu& operator=(const AxPerCpu&) = delete;
    ~AxPerCpu() {
        if (arch_ && arch_->is_enabled()) {
            // Nothing can report an error from a destructor; the arch policy
            // leaves the CPU in its disabled state or reports nothing better.
            (void)arch_->hardware_disable();
        }
    }

    AxResult<void> init(usize cpu_id) {
        if (arch_) return ax_err(AxError::BadState);
        AXVCPU_TRY(arch, P::create(cpu_id));
        arch_.emplace(std::move(arch));
        cpu_id_ = cpu_id;
        return ax_ok();
    }

    [[nodiscard]] bool is_initialized() const noexcept { return arch_.has_value(); }
    [[nodiscard]] bool is_enabled() const { return arch_ && arch_->is_enabled(); }
    [[nodiscard]] usize cpu_id() const noexcept { return cpu_id_; }

    AxResult<void> hardware_enable() {
        if (!arch_) return ax_err(AxError::BadState);
        return arch_->hardware_enable();
    }
    AxResult<void> hardware_disable() {
        if (!arch_) return ax_err(AxError::BadState);
        return arch_->hardware_disable();
    }

    static constexpr usize max_guest_page_table_levels() { return guest_page_table_levels; }

    // The arch state, for arch-specific queries; null before init.
    [[nodiscard]] P* arch() noexcept { return arch_ ? &*arch_ : nullptr; }

private:
    std::optional<P> arch_;
    usize cpu_id_ = 0;
};

}  // namespace axvcpu
