// Stage-2 translation: the layout VTCR_EL2 describes, sized from the CPU's
// physical address range, and a small mapper that fills stage-2 tables in
// that layout (4 KiB granule).
//
// Pure code (no system registers): the per-CPU policy feeds it
// ID_AA64MMFR0_EL1.PARange, and a VMM uses the same layout to build the table
// whose root it passes to AxVCpu::setup. Host-tested.
#pragma once

#include <cstdint>
#include <optional>

#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64::stage2 {

inline constexpr std::uint64_t page_size = 4096;

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

// What a mapping is, as stage-2 memory attributes.
enum class MemType : std::uint8_t {
    Normal,  // guest RAM: normal write-back, inner shareable
    Device,  // passed-through device: Device-nGnRE, never executable
};

inline constexpr std::uint64_t desc_valid = 1;
inline constexpr std::uint64_t desc_table = 3;  // also a level-3 page
inline constexpr std::uint64_t desc_block = 1;
inline constexpr std::uint64_t addr_mask = 0x0000'FFFF'FFFF'F000ull;

[[nodiscard]] constexpr std::uint64_t leaf_attrs(MemType type) noexcept {
    constexpr std::uint64_t s2ap_rw = 3u << 6;
    constexpr std::uint64_t af = 1u << 10;
    if (type == MemType::Normal) return 0xFu << 2 | s2ap_rw | 3u << 8 | af;
    constexpr std::uint64_t xn = std::uint64_t{1} << 54;
    return 0x1u << 2 | s2ap_rw | af | xn;
}

[[nodiscard]] constexpr unsigned level_shift(unsigned level) noexcept { return 39 - 9 * level; }

// Fills stage-2 tables rooted at `root` (root_bytes() of zeroed, suitably
// aligned memory). `alloc()` returns the physical address of a zeroed page
// or nothing; `table(pa)` gives a pointer to the 512 descriptors at `pa`.
template <class Alloc, class TableAt>
class Mapper {
public:
    Mapper(Layout layout, std::uint64_t root, Alloc alloc, TableAt table)
        : layout_(layout), root_(root), alloc_(alloc), table_(table) {}

    // Maps [gpa, gpa + size) to [hpa, hpa + size), 2 MiB blocks where both
    // sides allow, 4 KiB pages elsewhere. Fails with InvalidInput for
    // unaligned or out-of-range requests and AlreadyExists when a mapping is
    // in the way; pages mapped before a failure stay mapped.
    AxResult<void> map(std::uint64_t gpa, std::uint64_t hpa, std::uint64_t size, MemType type) {
        if ((gpa | hpa | size) % page_size != 0 || size == 0) return ax_err(AxError::InvalidInput);
        if (gpa + size > layout_.ipa_limit() || gpa + size < gpa) return ax_err(AxError::InvalidInput);
        constexpr std::uint64_t block = std::uint64_t{1} << 21;
        while (size != 0) {
            const bool use_block = (gpa | hpa) % block == 0 && size >= block;
            AXVCPU_TRYV(map_one(gpa, hpa, use_block ? 2u : 3u, type));
            const std::uint64_t step = use_block ? block : page_size;
            gpa += step;
            hpa += step;
            size -= step;
        }
        return ax_ok();
    }

    // The leaf descriptor mapping `gpa`, if any (for tests and debugging).
    [[nodiscard]] std::optional<std::uint64_t> lookup(std::uint64_t gpa) const {
        std::uint64_t* entries = table_(root_);
        for (unsigned level = layout_.start_level;; ++level) {
            const std::uint64_t entry = entries[index(gpa, level)];
            if ((entry & desc_valid) == 0) return std::nullopt;
            if (level == 3 || (entry & 3) == desc_block) return entry;
            entries = table_(entry & addr_mask);
        }
    }

private:
    // The root's index spans all concatenated root tables.
    [[nodiscard]] usize index(std::uint64_t gpa, unsigned level) const noexcept {
        const std::uint64_t raw = gpa >> level_shift(level);
        return static_cast<usize>(level == layout_.start_level ? raw : raw & 511);
    }

    AxResult<void> map_one(std::uint64_t gpa, std::uint64_t hpa, unsigned leaf_level, MemType type) {
        std::uint64_t* entries = table_(root_);
        for (unsigned level = layout_.start_level; level < leaf_level; ++level) {
            std::uint64_t& entry = entries[index(gpa, level)];
            if ((entry & desc_valid) == 0) {
                const std::optional<std::uint64_t> page = alloc_();
                if (!page) return ax_err(AxError::NoMemory);
                entry = (*page & addr_mask) | desc_table;
            } else if ((entry & 3) != desc_table) {
                return ax_err(AxError::AlreadyExists);  // a block covers this range
            }
            entries = table_(entry & addr_mask);
        }
        std::uint64_t& leaf = entries[index(gpa, leaf_level)];
        if ((leaf & desc_valid) != 0) return ax_err(AxError::AlreadyExists);
        leaf = (hpa & addr_mask) | leaf_attrs(type) | (leaf_level == 3 ? desc_table : desc_block);
        return ax_ok();
    }

    Layout layout_;
    std::uint64_t root_;
    Alloc alloc_;
    TableAt table_;
};

}  // namespace axvcpu::aarch64::stage2
