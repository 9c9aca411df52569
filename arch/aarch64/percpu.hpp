// The aarch64 per-CPU policy (ArchPerCpu): turns EL2 virtualization support
// on and off on one physical CPU.
//
// hardware_enable installs the policy's EL2 vectors, sets HCR_EL2.VM|RW,
// sizes VTCR_EL2 from ID_AA64MMFR0_EL1 (stage2::layout_for), keeps FP/SIMD
// untrapped (guests use it; SVE traps, since its state is not switched), and
// turns on the GICv3 system register interface for EL1 when configured.
// hardware_disable restores what it found. is_enabled reads the hardware.
#pragma once

#include <cstdint>

#include "arch/aarch64/stage2.hpp"
#include "arch/aarch64/sysregs.hpp"
#include "arch/aarch64/world_switch.hpp"
#include "axvcpu/config.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64 {

namespace hcr {
inline constexpr std::uint64_t vm = 1u << 0;
inline constexpr std::uint64_t swio = 1u << 1;
inline constexpr std::uint64_t fmo = 1u << 3;
inline constexpr std::uint64_t imo = 1u << 4;
inline constexpr std::uint64_t amo = 1u << 5;
inline constexpr std::uint64_t vi = 1u << 7;
inline constexpr std::uint64_t fb = 1u << 9;
inline constexpr std::uint64_t bsu_inner = 1u << 10;
inline constexpr std::uint64_t twi = 1u << 13;
inline constexpr std::uint64_t twe = 1u << 14;
inline constexpr std::uint64_t tid3 = 1u << 18;
inline constexpr std::uint64_t tsc = 1u << 19;
inline constexpr std::uint64_t rw = 1u << 31;
inline constexpr std::uint64_t apk = std::uint64_t{1} << 40;
inline constexpr std::uint64_t api = std::uint64_t{1} << 41;
}  // namespace hcr

// CPTR_EL2 (E2H = 0): RES1 bits, FP/SIMD untrapped, SVE trapped (TZ).
inline constexpr std::uint64_t cptr_el2_guest = 0x33FF;
// ICC_SRE_EL2: SRE (EL2 uses system registers) and Enable (EL1 may too).
inline constexpr std::uint64_t icc_sre_el2_sre_enable = 0x9;

class PerCpu {
public:
    static AxResult<PerCpu> create(usize cpu_id) { return PerCpu(cpu_id); }

    PerCpu(PerCpu&&) noexcept = default;
    PerCpu& operator=(PerCpu&&) noexcept = default;

    [[nodiscard]] bool is_enabled() const noexcept {
        return reg::read_vbar_el2() == reinterpret_cast<std::uint64_t>(axvcpu_aarch64_vectors) &&
               (reg::read_hcr_el2() & hcr::vm) != 0;
    }

    AxResult<void> hardware_enable() {
        if (is_enabled()) return ax_err(AxError::BadState);
        saved_vbar_ = reg::read_vbar_el2();
        saved_hcr_ = reg::read_hcr_el2();
        saved_cptr_ = reg::read_cptr_el2();
        saved_vtcr_ = reg::read_vtcr_el2();
        reg::write_vtcr_el2(stage2_layout().vtcr());
        // No vCPU bound yet (VCpu::bind tests it; its reset value is UNKNOWN).
        reg::write_vttbr_el2(0);
        reg::write_cptr_el2(cptr_el2_guest);
        if constexpr (config::gic_version == 3) {
            reg::write_icc_sre_el2(reg::read_icc_sre_el2() | icc_sre_el2_sre_enable);
        }
        reg::write_vbar_el2(reinterpret_cast<std::uint64_t>(axvcpu_aarch64_vectors));
        reg::write_hcr_el2(hcr::vm | hcr::rw);
        reg::isb();
        return ax_ok();
    }

    AxResult<void> hardware_disable() {
        if (!is_enabled()) return ax_err(AxError::BadState);
        reg::write_hcr_el2(saved_hcr_);
        reg::write_vbar_el2(saved_vbar_);
        reg::write_cptr_el2(saved_cptr_);
        reg::write_vtcr_el2(saved_vtcr_);
        reg::write_vttbr_el2(0);
        reg::isb();
        return ax_ok();
    }

    [[nodiscard]] usize cpu_id() const noexcept { return cpu_id_; }

    // The stage-2 layout this CPU's VTCR_EL2 uses; a VMM builds its tables
    // to match it.
    [[nodiscard]] static stage2::Layout stage2_layout() noexcept {
        return stage2::layout_for(reg::read_id_aa64mmfr0_el1());
    }

    static constexpr usize max_guest_page_table_levels() noexcept { return 4; }

private:
    explicit PerCpu(usize cpu_id) noexcept : cpu_id_(cpu_id) {}

    usize cpu_id_;
    std::uint64_t saved_vbar_ = 0;
    std::uint64_t saved_hcr_ = 0;
    std::uint64_t saved_cptr_ = 0;
    std::uint64_t saved_vtcr_ = 0;
};

}  // namespace axvcpu::aarch64
