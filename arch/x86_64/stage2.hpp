// Stage-2 translation for x86 guests: AMD's nested page tables, which use
// the long-mode 4-level page-table format (AMD64 APM vol. 2, 15.25 and
// 5.3), and Intel's extended page tables (SDM vol. 3C, 29.3), each an
// entry format for the shared mapper (axvcpu/stage2_mapper.hpp) with 4 KiB
// and 2 MiB pages, and walked by the policies to read guest memory.
//
// Pure code: a VMM builds the tables with Mapper (SVM) or ept::Mapper
// (VMX) and passes the root to AxVCpu::set_ept_root. Host-tested
// (test/x86_64/svm_setup_test.cpp, test/x86_64/vmx_setup_test.cpp).
#pragma once

#include <cstdint>
#include <optional>

#include "axvcpu/error.hpp"
#include "axvcpu/stage2_mapper.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64::stage2 {

using axvcpu::stage2::MemType;
using axvcpu::stage2::page_size;

namespace pte {
inline constexpr std::uint64_t present = 1u << 0, writable = 1u << 1, user = 1u << 2;
inline constexpr std::uint64_t pwt = 1u << 3, pcd = 1u << 4, accessed = 1u << 5, dirty = 1u << 6;
inline constexpr std::uint64_t large = 1u << 7;  // PS: a 2 MiB (PD) or 1 GiB (PDPT) page
inline constexpr std::uint64_t address_mask = 0x000F'FFFF'FFFF'F000;
// A large page's PAT bit is bit 12, inside address_mask: this format never
// sets it, and large-page addresses are 2 MiB aligned, so the mask still
// gives the address.
}  // namespace pte

// Nested walks are user accesses (APM 15.25.5), so every level needs U=1.
// Guest RAM is write-back (PAT entry 0), a passed-through device uncached
// (PCD|PWT: PAT entry 3, UC in the reset PAT). NX is left clear: it is
// reserved unless the host's EFER.NXE is set.
struct Format {
    static constexpr bool is_valid(std::uint64_t entry) noexcept { return (entry & pte::present) != 0; }
    static constexpr bool is_leaf(std::uint64_t entry, unsigned height) noexcept {
        return height == 0 || (entry & pte::large) != 0;
    }
    static constexpr std::uint64_t table_entry(std::uint64_t pa) noexcept {
        return (pa & pte::address_mask) | pte::present | pte::writable | pte::user;
    }
    static constexpr std::uint64_t leaf_entry(std::uint64_t pa, unsigned height, MemType type) noexcept {
        const std::uint64_t cache = type == MemType::Device ? (pte::pcd | pte::pwt) : 0;
        return (pa & pte::address_mask) | pte::present | pte::writable | pte::user | pte::accessed | pte::dirty |
               cache | (height != 0 ? pte::large : 0);
    }
    static constexpr std::uint64_t address(std::uint64_t entry) noexcept { return entry & pte::address_mask; }
};

// Four levels below a 512-entry root, 48-bit guest-physical addresses.
inline constexpr axvcpu::stage2::Geometry geometry{3, 512, std::uint64_t{1} << 48};

// Fills tables rooted at `root` (one zeroed, 4 KiB-aligned page); see
// axvcpu::stage2::Mapper.
template <class Alloc, class TableAt>
class Mapper : public axvcpu::stage2::Mapper<Format, Alloc, TableAt> {
public:
    Mapper(std::uint64_t root, Alloc alloc, TableAt table)
        : axvcpu::stage2::Mapper<Format, Alloc, TableAt>(geometry, root, alloc, table) {}
};

// The host-physical address of `gpa` under the tables at `root`.
template <class TableAt>
[[nodiscard]] std::optional<std::uint64_t> translate(std::uint64_t root, TableAt table, std::uint64_t gpa) {
    return axvcpu::stage2::translate<Format>(geometry, root, table, gpa);
}

// --- Intel EPT (SDM vol. 3C, 29.3.2 tables 29-1 to 29-6) ---------------------------
namespace ept {

namespace entry {
inline constexpr std::uint64_t read = 1u << 0, write = 1u << 1, execute = 1u << 2;
inline constexpr unsigned memory_type_shift = 3;  // leaves: bits 5:3
inline constexpr std::uint64_t ignore_pat = 1u << 6;  // leaves: the memory type alone decides
inline constexpr std::uint64_t large = 1u << 7;       // a 2 MiB (PDE) or 1 GiB (PDPTE) page
inline constexpr std::uint64_t address_mask = pte::address_mask;
}  // namespace entry

// EPT memory types (SDM vol. 3C, 29.3.7).
inline constexpr std::uint64_t memory_type_uc = 0, memory_type_wb = 6;

// An entry is present when it allows any access (bits 2:0 not 0). Guest
// RAM is write-back, combined with the guest's PAT as on bare metal; a
// passed-through device is uncached whatever the guest's PAT says.
struct Format {
    static constexpr bool is_valid(std::uint64_t e) noexcept {
        return (e & (entry::read | entry::write | entry::execute)) != 0;
    }
    static constexpr bool is_leaf(std::uint64_t e, unsigned height) noexcept {
        return height == 0 || (e & entry::large) != 0;
    }
    static constexpr std::uint64_t table_entry(std::uint64_t pa) noexcept {
        return (pa & entry::address_mask) | entry::read | entry::write | entry::execute;
    }
    static constexpr std::uint64_t leaf_entry(std::uint64_t pa, unsigned height, MemType type) noexcept {
        const std::uint64_t cache = type == MemType::Device
                                        ? (memory_type_uc << entry::memory_type_shift) | entry::ignore_pat
                                        : memory_type_wb << entry::memory_type_shift;
        return (pa & entry::address_mask) | entry::read | entry::write | entry::execute | cache |
               (height != 0 ? entry::large : 0);
    }
    static constexpr std::uint64_t address(std::uint64_t e) noexcept { return e & entry::address_mask; }
};

template <class Alloc, class TableAt>
class Mapper : public axvcpu::stage2::Mapper<Format, Alloc, TableAt> {
public:
    Mapper(std::uint64_t root, Alloc alloc, TableAt table)
        : axvcpu::stage2::Mapper<Format, Alloc, TableAt>(geometry, root, alloc, table) {}
};

template <class TableAt>
[[nodiscard]] std::optional<std::uint64_t> translate(std::uint64_t root, TableAt table, std::uint64_t gpa) {
    return axvcpu::stage2::translate<Format>(geometry, root, table, gpa);
}

// The EPT pointer of a 4-level table at `root` (SDM vol. 3C, 25.6.11):
// write-back paging structures (bits 2:0 = 6), walk length 4 (bits 5:3 =
// 3), no accessed/dirty flags.
[[nodiscard]] constexpr std::uint64_t pointer(std::uint64_t root) noexcept {
    return (root & entry::address_mask) | (std::uint64_t{3} << 3) | memory_type_wb;
}
[[nodiscard]] constexpr std::uint64_t root_of(std::uint64_t eptp) noexcept { return eptp & entry::address_mask; }

}  // namespace ept

}  // namespace axvcpu::x86_64::stage2
