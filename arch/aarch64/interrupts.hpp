// Virtual interrupt delivery: GICv3 list registers, or HCR_EL2.VI on a
// GIC-less (or GICv2, config::gic_version == 2) host.
//
// The vCPU's IrqQueue holds vectors injected while they could not be
// delivered. At each guest entry the queue is drained into free list
// registers (ICH_ELRSR_EL2 says which); a vector already in a list register
// is merged into it (pending added to an active interrupt) instead of being
// written twice, which the architecture leaves UNPREDICTABLE. What does not
// fit stays queued, and ICH_HCR_EL2.UIE asks for a maintenance interrupt
// when the list registers run empty, so it is delivered without waiting for
// an unrelated exit.
#pragma once

#include <bit>
#include <cstdint>

#include "arch/aarch64/sysregs.hpp"
#include "axvcpu/irq_queue.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64::vgic {

inline constexpr std::uint64_t lr_state_pending = std::uint64_t{1} << 62;
inline constexpr std::uint64_t lr_state_active = std::uint64_t{1} << 63;
inline constexpr std::uint64_t lr_group1 = std::uint64_t{1} << 60;
inline constexpr std::uint64_t lr_default_priority = std::uint64_t{0xA0} << 48;
inline constexpr std::uint64_t lr_intid_mask = 0xFFFF'FFFF;
inline constexpr std::uint64_t ich_hcr_en = 1;
inline constexpr std::uint64_t ich_hcr_uie = 1u << 1;
// The GIC's maintenance interrupt (a PPI), which UIE raises.
inline constexpr std::uint64_t maintenance_intid = 25;
// Largest INTID a list register can carry for an SGI, PPI or SPI.
inline constexpr usize max_intid = 1019;

[[nodiscard]] constexpr std::uint64_t pending_lr(usize intid) noexcept {
    return lr_state_pending | lr_group1 | lr_default_priority | (intid & lr_intid_mask);
}

// How many list registers this CPU has (ICH_VTR_EL2.ListRegs + 1).
[[nodiscard]] inline unsigned list_register_count() noexcept {
    return static_cast<unsigned>(reg::read_ich_vtr_el2() & 0x1F) + 1;
}

// The list registers this CPU has, as a bit mask.
[[nodiscard]] constexpr std::uint64_t present_lrs(unsigned lr_count) noexcept {
    return lr_count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << lr_count) - 1;
}

// Moves queued vectors into list registers; returns how many it placed.
// `hcr` is the vCPU's ICH_HCR_EL2 value, updated (UIE) and written only if
// it changed. `usable`: the list registers the queue may take, present
// (present_lrs(), which the caller keeps rather than rebuilding it on every
// entry) and not fed by a VMM's model until their completion is collected;
// `refill`: keep UIE on for the VMM even when the queue is empty.
template <usize N>
unsigned flush_queue(IrqQueue<N>& queue, std::uint64_t usable, std::uint64_t& hcr, bool refill = false) noexcept {
    unsigned placed = 0;
    if (!queue.empty()) {
        // Walk only the list registers in use (for merging) and take free
        // ones lowest first: an idle interface costs no LR reads at all.
        std::uint64_t empty = reg::read_ich_elrsr_el2() & usable;
        // Tested with empty(), not through front()'s optional: GCC then
        // keeps the loop in registers.
        while (!queue.empty()) {
            const usize vector = queue.front().value_or(0);
            bool merged = false;
            for (std::uint64_t busy = ~empty & usable; busy != 0; busy &= busy - 1) {
                const auto i = static_cast<unsigned>(std::countr_zero(busy));
                const std::uint64_t lr = reg::access_ich_lr(i, false);
                if ((lr & lr_intid_mask) == vector) {
                    // Already pending: nothing to add. Active: make it active and pending.
                    reg::access_ich_lr(i, true, lr | lr_state_pending);
                    merged = true;
                    break;
                }
            }
            if (!merged) {
                if (empty == 0) break;  // all busy: wait for the maintenance interrupt
                reg::write_ich_lr(static_cast<unsigned>(std::countr_zero(empty)), pending_lr(vector));
                empty &= empty - 1;
                ++placed;
            }
            (void)queue.pop();
        }
    }
    const std::uint64_t wanted = queue.empty() && !refill ? (hcr & ~ich_hcr_uie) : (hcr | ich_hcr_uie);
    if (wanted != hcr) {
        hcr = wanted;
        reg::write_ich_hcr_el2(hcr);
    }
    return placed;
}

}  // namespace axvcpu::aarch64::vgic
