// Stage-2 (G-stage) translation: the Sv39x4/Sv48x4 layouts hgatp selects
// and the entry format the shared mapper (axvcpu/stage2_mapper.hpp) fills
// such tables with, 4 KiB pages and 2 MiB megapages.
//
// Pure code (no CSRs): a VMM builds the table with it and passes the root
// to AxVCpu::setup; CreateConfig::page_table_levels picks the same layout
// for hgatp. Host-tested (test/riscv64/stage2_test.cpp).
#pragma once

#include <cstdint>
#include <optional>

#include "axvcpu/error.hpp"
#include "axvcpu/stage2_mapper.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64::stage2 {

using axvcpu::stage2::page_size;

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

using axvcpu::stage2::MemType;

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

// Sv39x4/Sv48x4 entries: a valid entry with any of R/W/X set is a leaf.
struct Format {
    static constexpr bool is_valid(std::uint64_t entry) noexcept { return (entry & pte::v) != 0; }
    static constexpr bool is_leaf(std::uint64_t entry, unsigned) noexcept { return riscv64::stage2::is_leaf(entry); }
    static constexpr std::uint64_t table_entry(std::uint64_t pa) noexcept { return make_pte(pa, pte::v); }
    static constexpr std::uint64_t leaf_entry(std::uint64_t pa, unsigned, MemType type) noexcept {
        return make_pte(pa, leaf_bits(type));
    }
    static constexpr std::uint64_t address(std::uint64_t entry) noexcept { return pte_address(entry); }
};

// The x4 root has 2048 entries, two more index bits than the other levels.
[[nodiscard]] constexpr axvcpu::stage2::Geometry geometry(const Layout& layout) noexcept {
    return {layout.levels - 1, 2048, layout.gpa_limit()};
}

// Fills tables rooted at `root` (16 KiB of zeroed, 16 KiB-aligned memory);
// see axvcpu::stage2::Mapper.
template <class Alloc, class TableAt>
class Mapper : public axvcpu::stage2::Mapper<Format, Alloc, TableAt> {
public:
    Mapper(Layout layout, std::uint64_t root, Alloc alloc, TableAt table)
        : axvcpu::stage2::Mapper<Format, Alloc, TableAt>(geometry(layout), root, alloc, table) {}
};

}  // namespace axvcpu::riscv64::stage2
