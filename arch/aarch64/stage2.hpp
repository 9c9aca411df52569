// Stage-2 translation: the layout VTCR_EL2 describes, sized from the CPU's
// physical address range, and the descriptor format the shared mapper
// (axvcpu/stage2_mapper.hpp) fills tables with (4 KiB granule).
//
// Pure code (no system registers): the per-CPU policy feeds it
// ID_AA64MMFR0_EL1.PARange, and a VMM uses the same layout to build the table
// whose root it passes to AxVCpu::setup. Host-tested.
#pragma once

#include <cstdint>
#include <optional>

#include "axvcpu/error.hpp"
#include "axvcpu/stage2_mapper.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64::stage2 {

using axvcpu::stage2::page_size;

// Where the stage-2 walk starts and how big its root is. With a 4 KiB
// granule the walk may only start at level 0 when the PA range exceeds 42
// bits; 40- and 42-bit CPUs start at level 1 with 2 or 8 concatenated root
// tables (the root must then be aligned to its whole size).
struct Layout {
    unsigned pa_range = 0;     // ID_AA64MMFR0_EL1.PARange, capped at 48 bits
    unsigned ipa_bits = 0;     // the guest-physical address space size
    unsigned start_level = 0;  // 0 or 1
    unsigned root_pages = 1;   // concatenated root tables

    [[nodiscard]] constexpr std::uint64_t ipa_limit() const noexcept { return std::uint64_t{1} << ipa_bits; }
    [[nodiscard]] constexpr std::uint64_t root_bytes() const noexcept { return root_pages * page_size; }

    // T0SZ, SL0, inner-shareable write-back walks, 4 KiB granule, PS; VMID 8 bits.
    [[nodiscard]] constexpr std::uint64_t vtcr() const noexcept {
        const std::uint64_t t0sz = 64 - ipa_bits;
        const std::uint64_t sl0 = start_level == 0 ? 2 : 1;
        return t0sz | sl0 << 6 | 1u << 8 | 1u << 10 | 3u << 12 | std::uint64_t{pa_range} << 16 | 1u << 31;
    }
};

[[nodiscard]] constexpr unsigned pa_bits_of(unsigned pa_range) noexcept {
    constexpr unsigned bits[] = {32, 36, 40, 42, 44, 48, 52};
    return pa_range < 7 ? bits[pa_range] : 48;
}

// The layout for a CPU whose ID_AA64MMFR0_EL1 is `mmfr0`. 52-bit ranges are
// used as 48 (a 4 KiB-granule stage 2 without FEAT_LPA2 stops there).
[[nodiscard]] constexpr Layout layout_for(std::uint64_t mmfr0) noexcept {
    unsigned pa_range = static_cast<unsigned>(mmfr0 & 0xF);
    if (pa_range > 5) pa_range = 5;
    Layout layout;
    layout.pa_range = pa_range;
    layout.ipa_bits = pa_bits_of(pa_range);
    if (layout.ipa_bits > 42) {
        layout.start_level = 0;
    } else {
        layout.start_level = 1;
        layout.root_pages = layout.ipa_bits > 39 ? 1u << (layout.ipa_bits - 39) : 1;
    }
    return layout;
}

using axvcpu::stage2::MemType;

inline constexpr std::uint64_t desc_valid = 1;
inline constexpr std::uint64_t desc_table = 3;  // also a level-3 page
inline constexpr std::uint64_t desc_block = 1;
inline constexpr std::uint64_t addr_mask = 0x0000'FFFF'FFFF'F000ull;

[[nodiscard]] constexpr std::uint64_t leaf_attrs(MemType type) noexcept {
    constexpr std::uint64_t s2ap_rw = 3u << 6;
    constexpr std::uint64_t af = 1u << 10;
    if (type == MemType::Normal) return 0xFu << 2 | s2ap_rw | 3u << 8 | af;  // write-back, inner shareable
    constexpr std::uint64_t xn = std::uint64_t{1} << 54;
    return 0x1u << 2 | s2ap_rw | af | xn;  // Device-nGnRE
}

// VMSAv8-64 stage-2 descriptors. Height 0 is level 3, where the page
// descriptor has the table encoding.
struct Format {
    static constexpr bool is_valid(std::uint64_t entry) noexcept { return (entry & desc_valid) != 0; }
    static constexpr bool is_leaf(std::uint64_t entry, unsigned height) noexcept {
        return height == 0 || (entry & 3) == desc_block;
    }
    static constexpr std::uint64_t table_entry(std::uint64_t pa) noexcept { return (pa & addr_mask) | desc_table; }
    static constexpr std::uint64_t leaf_entry(std::uint64_t pa, unsigned height, MemType type) noexcept {
        return (pa & addr_mask) | leaf_attrs(type) | (height == 0 ? desc_table : desc_block);
    }
    static constexpr std::uint64_t address(std::uint64_t entry) noexcept { return entry & addr_mask; }
};

[[nodiscard]] constexpr axvcpu::stage2::Geometry geometry(const Layout& layout) noexcept {
    return {3 - layout.start_level, usize{512} * layout.root_pages, layout.ipa_limit()};
}

// Fills stage-2 tables rooted at `root` (root_bytes() of zeroed, suitably
// aligned memory); see axvcpu::stage2::Mapper.
template <class Alloc, class TableAt>
class Mapper : public axvcpu::stage2::Mapper<Format, Alloc, TableAt> {
public:
    Mapper(Layout layout, std::uint64_t root, Alloc alloc, TableAt table)
        : axvcpu::stage2::Mapper<Format, Alloc, TableAt>(geometry(layout), root, alloc, table) {}
};

}  // namespace axvcpu::aarch64::stage2
