// The guest's own address translation, done in software: the policy needs
// the bytes at the guest's RIP to decode an MMIO access (no decode assists
// under QEMU, and VMX never provides them), and RIP is a linear address
// under the guest's paging.
//
// The walks follow the Intel SDM vol. 3A, chapter 4 (and AMD APM vol. 2,
// 5.2-5.3): no paging; 32-bit paging (4 MiB pages with CR4.PSE); PAE
// paging (CR3 names four PDPTEs); 4-level paging in long mode (1 GiB and
// 2 MiB pages). 5-level paging (CR4.LA57) is refused. Only presence is
// checked: the walk reads what the guest just executed, which its own
// permissions allowed. Pure over a reader of guest-physical memory,
// host-tested (test/x86_64/guest_paging_test.cpp).
#pragma once

#include <cstdint>
#include <optional>

#include "arch/x86_64/exit_decode.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64 {

// The control-register state that selects the guest's paging mode.
struct PagingState {
    std::uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
};

namespace paging_bits {
inline constexpr std::uint64_t cr0_pg = 1u << 31;
inline constexpr std::uint64_t cr4_pse = 1u << 4, cr4_pae = 1u << 5, cr4_la57 = 1u << 12;
inline constexpr std::uint64_t efer_lma = 1u << 10;
inline constexpr std::uint64_t present = 1u << 0, large = 1u << 7;
inline constexpr std::uint64_t address_mask = 0x000F'FFFF'FFFF'F000;
}  // namespace paging_bits

// `read(gpa, bytes)` returns the little-endian value of `bytes` (4 or 8)
// bytes of guest-physical memory, or nothing when the address is not RAM.
template <class Read>
[[nodiscard]] constexpr std::optional<std::uint64_t> linear_to_guest_physical(const PagingState& state,
                                                                              std::uint64_t linear, Read read) {
    using namespace paging_bits;
    if ((state.cr0 & cr0_pg) == 0) return linear & 0xFFFF'FFFF;
    if ((state.efer & efer_lma) != 0) {
        if ((state.cr4 & cr4_la57) != 0) return std::nullopt;
        // Bits 63:47 all equal, or the CPU raises #GP before any access:
        // no walk may turn such an address into one it never reaches.
        const std::uint64_t high = linear >> 47;
        if (high != 0 && high != 0x1'FFFF) return std::nullopt;
        std::uint64_t table = state.cr3 & address_mask;
        for (unsigned level = 4; level >= 1; --level) {
            const unsigned shift = 12 + 9 * (level - 1);
            const std::optional<std::uint64_t> entry = read(table + ((linear >> shift) & 511) * 8, 8);
            if (!entry || (*entry & present) == 0) return std::nullopt;
            if (level == 1 || ((level == 2 || level == 3) && (*entry & large) != 0)) {
                const std::uint64_t span = std::uint64_t{1} << shift;
                return ((*entry & address_mask) & ~(span - 1)) | (linear & (span - 1));
            }
            table = *entry & address_mask;
        }
        return std::nullopt;
    }
    linear &= 0xFFFF'FFFF;
    if ((state.cr4 & cr4_pae) != 0) {
        // CR3[31:5] points at four 8-byte PDPTEs.
        const std::optional<std::uint64_t> pdpte = read((state.cr3 & 0xFFFF'FFE0) + (linear >> 30) * 8, 8);
        if (!pdpte || (*pdpte & present) == 0) return std::nullopt;
        const std::optional<std::uint64_t> pde = read((*pdpte & address_mask) + ((linear >> 21) & 511) * 8, 8);
        if (!pde || (*pde & present) == 0) return std::nullopt;
        if ((*pde & large) != 0) return ((*pde & address_mask) & ~std::uint64_t{0x1F'FFFF}) | (linear & 0x1F'FFFF);
        const std::optional<std::uint64_t> pte = read((*pde & address_mask) + ((linear >> 12) & 511) * 8, 8);
        if (!pte || (*pte & present) == 0) return std::nullopt;
        return (*pte & address_mask) | (linear & 0xFFF);
    }
    // 32-bit paging: 4-byte entries, 4 MiB pages when CR4.PSE, whose PDE's
    // bits 20:13 are bits 39:32 of the address (PSE-36, SDM vol. 3A 4.3).
    const std::optional<std::uint64_t> pde = read((state.cr3 & 0xFFFF'F000) + (linear >> 22) * 4, 4);
    if (!pde || (*pde & present) == 0) return std::nullopt;
    if ((state.cr4 & cr4_pse) != 0 && (*pde & large) != 0)
        return (((*pde >> 13) & 0xFF) << 32) | (*pde & 0xFFC0'0000) | (linear & 0x3F'FFFF);
    const std::optional<std::uint64_t> pte = read((*pde & 0xFFFF'F000) + ((linear >> 12) & 1023) * 4, 4);
    if (!pte || (*pte & present) == 0) return std::nullopt;
    return (*pte & 0xFFFF'F000) | (linear & 0xFFF);
}

// Up to 15 bytes of the instruction at `linear`, translated page by page
// (an instruction may cross into a page that is not mapped: the bytes
// before it are still returned, and the decoder reports Truncated if it
// needed more). Outside 64-bit code linear addresses are 32 bits wide, so
// an instruction at the top of the space continues at 0. `read_byte(gpa)`
// reads one byte of guest RAM.
template <class Read, class ReadByte>
[[nodiscard]] constexpr InstructionBytes fetch_instruction(const PagingState& state, std::uint64_t linear,
                                                           CpuMode mode, Read read, ReadByte read_byte) {
    InstructionBytes insn;
    insn.mode = mode;
    std::optional<std::uint64_t> page_gpa;
    for (usize i = 0; i < max_instruction_length; ++i) {
        const std::uint64_t address = mode == CpuMode::Bits64 ? linear + i : (linear + i) & 0xFFFF'FFFF;
        if (i == 0 || (address & 0xFFF) == 0) {
            page_gpa = linear_to_guest_physical(state, address & ~std::uint64_t{0xFFF}, read);
            if (!page_gpa) break;
        }
        const std::optional<std::uint8_t> byte = read_byte(*page_gpa + (address & 0xFFF));
        if (!byte) break;
        insn.bytes[i] = *byte;
        insn.count = i + 1;
    }
    return insn;
}

// The mode the guest's code segment runs in: 64-bit with EFER.LMA and
// CS.L, else 32- or 16-bit by CS.D/B.
[[nodiscard]] constexpr CpuMode code_mode(bool long_mode_active, bool cs_l, bool cs_db) noexcept {
    if (long_mode_active && cs_l) return CpuMode::Bits64;
    return cs_db ? CpuMode::Bits32 : CpuMode::Bits16;
}

// Guest RAM as a back end reaches it: `translate(gpa)` gives the
// host-physical address through the VM's stage-2 tables (nested or EPT)
// or nothing, `host_bytes(hpa)` the host's pointer to that byte. A read
// (a page-table entry, a PDPTE, an instruction byte) stays inside one
// page, so it needs one stage-2 walk.
template <class Translate, class HostBytes>
class GuestMemory {
public:
    constexpr GuestMemory(Translate translate, HostBytes host_bytes) : translate_(translate), host_bytes_(host_bytes) {}

    // The little-endian value of `bytes` (1..8) bytes at `gpa`, or nothing
    // when they cross a page or are not RAM.
    [[nodiscard]] std::optional<std::uint64_t> read(std::uint64_t gpa, unsigned bytes) const {
        if ((gpa & 0xFFF) + bytes > 0x1000) return std::nullopt;
        const std::optional<std::uint64_t> hpa = translate_(gpa);
        if (!hpa) return std::nullopt;
        const volatile std::uint8_t* host = host_bytes_(*hpa);
        std::uint64_t value = 0;
        for (unsigned i = 0; i < bytes; ++i) value |= std::uint64_t{host[i]} << (8 * i);
        return value;
    }

    // The bytes of the instruction at `linear` (fetch_instruction).
    [[nodiscard]] InstructionBytes fetch_instruction(const PagingState& state, std::uint64_t linear,
                                                     CpuMode mode) const {
        const auto read = [this](std::uint64_t gpa, unsigned bytes) { return this->read(gpa, bytes); };
        const auto read_byte = [this](std::uint64_t gpa) -> std::optional<std::uint8_t> {
            const std::optional<std::uint64_t> byte = this->read(gpa, 1);
            if (!byte) return std::nullopt;
            return static_cast<std::uint8_t>(*byte);
        };
        return x86_64::fetch_instruction(state, linear, mode, read, read_byte);
    }

private:
    Translate translate_;
    HostBytes host_bytes_;
};

}  // namespace axvcpu::x86_64
