// A stage-2 (guest-physical to host-physical) table builder shared by the
// arch policies: 4 KiB pages, 9 index bits per level, 2 MiB blocks where
// alignment allows. The arch supplies its entry format and geometry
// (aarch64 VTTBR_EL2 tables, riscv64 Sv39x4/Sv48x4); the walk, allocation and
// overlap rules are the same for every arch, so they live here once.
//
// Levels are counted by height above the 4 KiB leaf: height 0 maps 4 KiB,
// height 1 maps 2 MiB, the root is at Geometry::root_height.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>

#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::stage2 {

inline constexpr std::uint64_t page_size = 4096;
inline constexpr std::uint64_t block_size = std::uint64_t{1} << 21;

// What a mapping is.
enum class MemType : std::uint8_t {
    Normal,  // guest RAM: cacheable, executable
    Device,  // a passed-through device: uncached, never executable
};

struct Geometry {
    unsigned root_height = 3;    // levels above the 4 KiB leaf
    usize root_entries = 512;    // wider than 512 when root tables are concatenated
    std::uint64_t gpa_limit = 0;  // guest-physical addresses below this are mappable
};

// How an arch encodes table entries.
template <class F>
concept EntryFormat = requires(std::uint64_t entry, std::uint64_t pa, unsigned height, MemType type) {
    { F::is_valid(entry) } -> std::same_as<bool>;
    { F::is_leaf(entry, height) } -> std::same_as<bool>;  // a valid entry that maps memory itself
    { F::table_entry(pa) } -> std::same_as<std::uint64_t>;
    { F::leaf_entry(pa, height, type) } -> std::same_as<std::uint64_t>;
    { F::address(entry) } -> std::same_as<std::uint64_t>;
};

[[nodiscard]] constexpr unsigned index_shift(unsigned height) noexcept { return 12 + 9 * height; }

[[nodiscard]] constexpr usize table_index(const Geometry& geometry, std::uint64_t gpa, unsigned height) noexcept {
    const usize entries = height == geometry.root_height ? geometry.root_entries : 512;
    return static_cast<usize>(gpa >> index_shift(height)) & (entries - 1);
}

// The entry that maps `gpa` in the tables at `root`, and its height.
struct Leaf {
    std::uint64_t entry = 0;
    unsigned height = 0;
};

// Walks the tables at `root` (`table(pa)` gives the entries at `pa`).
template <EntryFormat Format, class TableAt>
[[nodiscard]] std::optional<Leaf> find_leaf(const Geometry& geometry, std::uint64_t root, TableAt table,
                                            std::uint64_t gpa) {
    if (gpa >= geometry.gpa_limit) return std::nullopt;
    const std::uint64_t* entries = table(root);
    for (unsigned height = geometry.root_height;; --height) {
        const std::uint64_t entry = entries[table_index(geometry, gpa, height)];
        if (!Format::is_valid(entry)) return std::nullopt;
        if (height == 0 || Format::is_leaf(entry, height)) return Leaf{entry, height};
        entries = table(Format::address(entry));
    }
}

// The host-physical address `gpa` maps to, or nothing.
template <EntryFormat Format, class TableAt>
[[nodiscard]] std::optional<std::uint64_t> translate(const Geometry& geometry, std::uint64_t root, TableAt table,
                                                     std::uint64_t gpa) {
    const std::optional<Leaf> leaf = find_leaf<Format>(geometry, root, table, gpa);
    if (!leaf) return std::nullopt;
    const std::uint64_t span = std::uint64_t{1} << index_shift(leaf->height);
    return Format::address(leaf->entry) + (gpa & (span - 1));
}

// Fills tables rooted at `root` (zeroed, aligned as the arch requires).
// `alloc()` returns the physical address of a zeroed page or nothing;
// `table(pa)` gives a pointer to the entries at `pa`.
template <EntryFormat Format, class Alloc, class TableAt>
class Mapper {
public:
    Mapper(Geometry geometry, std::uint64_t root, Alloc alloc, TableAt table)
        : geometry_(geometry), root_(root), alloc_(alloc), table_(table) {}

    // Maps [gpa, gpa + size) to [hpa, hpa + size). InvalidInput for unaligned
    // or out-of-range requests, AlreadyExists when a mapping is in the way,
    // NoMemory when a table page cannot be had; pages mapped before a
    // failure stay mapped.
    AxResult<void> map(std::uint64_t gpa, std::uint64_t hpa, std::uint64_t size, MemType type) {
        if ((gpa | hpa | size) % page_size != 0 || size == 0) return ax_err(AxError::InvalidInput);
        if (gpa + size > geometry_.gpa_limit || gpa + size < gpa) return ax_err(AxError::InvalidInput);
        while (size != 0) {
            const bool use_block = (gpa | hpa) % block_size == 0 && size >= block_size;
            AXVCPU_TRYV(map_one(gpa, hpa, use_block ? 1u : 0u, type));
            const std::uint64_t step = use_block ? block_size : page_size;
            gpa += step;
            hpa += step;
            size -= step;
        }
        return ax_ok();
    }

    // The leaf entry mapping `gpa`, if any (for tests and debugging).
    [[nodiscard]] std::optional<std::uint64_t> lookup(std::uint64_t gpa) const {
        const std::optional<Leaf> leaf = find_leaf<Format>(geometry_, root_, table_, gpa);
        if (!leaf) return std::nullopt;
        return leaf->entry;
    }

private:
    [[nodiscard]] usize index(std::uint64_t gpa, unsigned height) const noexcept {
        return table_index(geometry_, gpa, height);
    }

    AxResult<void> map_one(std::uint64_t gpa, std::uint64_t hpa, unsigned leaf_height, MemType type) {
        std::uint64_t* entries = table_(root_);
        for (unsigned height = geometry_.root_height; height > leaf_height; --height) {
            std::uint64_t& entry = entries[index(gpa, height)];
            if (!Format::is_valid(entry)) {
                const std::optional<std::uint64_t> page = alloc_();
                if (!page) return ax_err(AxError::NoMemory);
                entry = Format::table_entry(*page);
            } else if (Format::is_leaf(entry, height)) {
                return ax_err(AxError::AlreadyExists);  // a larger mapping covers this range
            }
            entries = table_(Format::address(entry));
        }
        std::uint64_t& leaf = entries[index(gpa, leaf_height)];
        if (Format::is_valid(leaf)) return ax_err(AxError::AlreadyExists);
        leaf = Format::leaf_entry(hpa, leaf_height, type);
        return ax_ok();
    }

    Geometry geometry_;
    std::uint64_t root_;
    Alloc alloc_;
    TableAt table_;
};

}  // namespace axvcpu::stage2
