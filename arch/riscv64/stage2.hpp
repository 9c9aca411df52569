// Stage-2 (G-stage) translation: the Sv39x4/Sv48x4 layouts hgatp selects
// and a small mapper that fills such tables, 4 KiB pages and 2 MiB
// megapages.
//
// Pure code (no CSRs): a VMM builds the table with it and passes the root
// to AxVCpu::setup; CreateConfig::page_table_levels picks the same layout
// for hgatp. Host-tested (test/riscv64/stage2_test.cpp).
#pragma once

#include <cstdint>
#include <optional>

#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64::stage2 {

inline constexpr std::uint64_t page_size = 4096;

// The x4 variants widen the root table to 2048 entries (four pages, 16 KiB
// aligned), adding two guest-physical address bits.
struct Layout {
    unsigned levels = 3;  // 3: Sv39x4 (41-bit GPA), 4: Sv48x4 (50-bit GPA)

    [[nodiscard]] constexpr unsigned gpa_bits() const noexcept { return 12 + 9 * levels + 2; }
    [[nodiscard]] constexpr std::uint64_t gpa_limit() const noexcept { return std::uint64_t{1} << gpa_bits(); }
    static constexpr unsigned root_pages = 4;
    static constexpr unsigned root_align_log2 = 14;
    [[nodiscard]] constexpr std::uint64_t hgatp_mode() const noexcept {
        return std::uint64_t{levels == 4 ? 9u : 8u} << 60;
    }
};

[[nodiscard]] constexpr std::optional<Layout> layout_for_levels(usize levels) noexcept {
    if (levels != 3 && levels != 4) return std::nullopt;
    return Layout{static_cast<unsigned>(levels)};
}

enum class MemType : std::uint8_t {
    Normal,  // guest RAM: read, write, execute
    Device,  // passed-through device: read, write, never executable
};

namespace pte {
inline constexpr std::uint64_t v = 1, r = 2, w = 4, x = 8, u = 0x10, a = 0x40, d = 0x80;
inline constexpr unsigned ppn_shift = 10;
inline constexpr std::uint64_t ppn_mask = ((std::uint64_t{1} << 44) - 1) << ppn_shift;
}  // namespace pte

// G-stage leaves must have U set (guest accesses are checked as user
// accesses); A and D are preset so the hardware never has to update them.
[[nodiscard]] constexpr std::uint64_t leaf_bits(MemType type) noexcept {
    const std::uint64_t perms = type == MemType::Normal ? (pte::r | pte::w | pte::x) : (pte::r | pte::w);
    return perms | pte::v | pte::u | pte::a | pte::d;
}
[[nodiscard]] constexpr std::uint64_t make_pte(std::uint64_t pa, std::uint64_t bits) noexcept {
    return (((pa >> 12) << pte::ppn_shift) & pte::ppn_mask) | bits;
}
[[nodiscard]] constexpr std::uint64_t pte_address(std::uint64_t entry) noexcept {
    return ((entry & pte::ppn_mask) >> pte::ppn_shift) << 12;
}
[[nodiscard]] constexpr bool is_leaf(std::uint64_t entry) noexcept { return (entry & (pte::r | pte::w | pte::x)) != 0; }
[[nodiscard]] constexpr unsigned level_shift(unsigned level) noexcept { return 12 + 9 * level; }

// Fills tables rooted at `root` (16 KiB of zeroed, 16 KiB-aligned memory).
// `alloc()` returns the physical address of a zeroed page or nothing;
// `table(pa)` gives a pointer to the entries at `pa`.
template <class Alloc, class TableAt>
class Mapper {
public:
    Mapper(Layout layout, std::uint64_t root, Alloc alloc, TableAt table)
        : layout_(layout), root_(root), alloc_(alloc), table_(table) {}

    // Maps [gpa, gpa + size) to [hpa, hpa + size): 2 MiB megapages where
    // both sides allow, 4 KiB pages elsewhere. InvalidInput for unaligned
    // or out-of-range requests, AlreadyExists when a mapping is in the way,
    // NoMemory when a table page cannot be had; pages mapped before a
    // failure stay mapped.
    AxResult<void> map(std::uint64_t gpa, std::uint64_t hpa, std::uint64_t size, MemType type) {
        if ((gpa | hpa | size) % page_size != 0 || size == 0) return ax_err(AxError::InvalidInput);
        if (gpa + size > layout_.gpa_limit() || gpa + size < gpa) return ax_err(AxError::InvalidInput);
        constexpr std::uint64_t mega = std::uint64_t{1} << 21;
        while (size != 0) {
            const bool use_mega = (gpa | hpa) % mega == 0 && size >= mega;
            AXVCPU_TRYV(map_one(gpa, hpa, use_mega ? 1u : 0u, type));
            const std::uint64_t step = use_mega ? mega : page_size;
            gpa += step;
            hpa += step;
            size -= step;
        }
        return ax_ok();
    }

    // The leaf entry mapping `gpa`, if any.
    [[nodiscard]] std::optional<std::uint64_t> lookup(std::uint64_t gpa) const {
        if (gpa >= layout_.gpa_limit()) return std::nullopt;
        std::uint64_t* entries = table_(root_);
        for (unsigned level = layout_.levels - 1;; --level) {
            const std::uint64_t entry = entries[index(gpa, level)];
            if ((entry & pte::v) == 0) return std::nullopt;
            if (is_leaf(entry) || level == 0) return entry;
            entries = table_(pte_address(entry));
        }
    }

private:
    // The root index has two more bits than the others (the "x4").
    [[nodiscard]] usize index(std::uint64_t gpa, unsigned level) const noexcept {
        const std::uint64_t raw = gpa >> level_shift(level);
        return static_cast<usize>(level == layout_.levels - 1 ? raw & 2047 : raw & 511);
    }

    AxResult<void> map_one(std::uint64_t gpa, std::uint64_t hpa, unsigned leaf_level, MemType type) {
        std::uint64_t* entries = table_(root_);
        for (unsigned level = layout_.levels - 1; level > leaf_level; --level) {
            std::uint64_t& entry = entries[index(gpa, level)];
            if ((entry & pte::v) == 0) {
                const std::optional<std::uint64_t> page = alloc_();
                if (!page) return ax_err(AxError::NoMemory);
                entry = make_pte(*page, pte::v);
            } else if (is_leaf(entry)) {
                return ax_err(AxError::AlreadyExists);  // a larger page covers this range
            }
            entries = table_(pte_address(entry));
        }
        std::uint64_t& leaf = entries[index(gpa, leaf_level)];
        if ((leaf & pte::v) != 0) return ax_err(AxError::AlreadyExists);
        leaf = make_pte(hpa, leaf_bits(type));
        return ax_ok();
    }

    Layout layout_;
    std::uint64_t root_;
    Alloc alloc_;
    TableAt table_;
};

}  // namespace axvcpu::riscv64::stage2
