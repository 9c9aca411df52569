// libFuzzer harness: the guest page walk and instruction fetch of
// arch/x86_64/guest_paging.hpp (linear_to_guest_physical,
// fetch_instruction) over a guest memory the input builds: up to eight
// 4 KiB pages at input-chosen guest-physical frames, filled with table
// entries (a target frame and flag bits, so that walks go somewhere) and raw
// words. The header's answers are compared with a reference walk written
// here from the SDM's tables (vol. 3A, 4.3-4.5: 32-bit with PSE and PSE-36,
// PAE, 4-level; 5-level refused, non-canonical addresses refused), which
// also records the entries it reads: the header must read exactly those,
// in that order, and nothing outside the pages (the reader refuses and
// counts any other address). fetch_instruction must return the longest
// prefix of up to 15 bytes whose pages translate, each the byte at its
// reference translation, reading no byte elsewhere.
//
// Input: CR0.PG, CR4 (PSE, PAE, LA57), EFER.LMA, CR3, the linear address,
// the CPU mode, the pages' frames, then records (page, slot, kind, value).
#include <arch/x86_64/guest_paging.hpp>

#include <array>
#include <cstring>
#include <vector>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::x86_64;

namespace {

constexpr unsigned page_count = 8;

struct Memory {
    std::array<std::uint64_t, page_count> frame{};  // guest-physical page numbers
    std::array<std::array<std::uint8_t, 4096>, page_count> bytes{};
    unsigned pages = 0;

    [[nodiscard]] int page_of(std::uint64_t gpa) const {
        for (unsigned p = 0; p < pages; ++p)
            if (frame[p] == gpa >> 12) return static_cast<int>(p);
        return -1;
    }
    // `n` bytes at `gpa` inside one page, or nothing.
    [[nodiscard]] std::optional<std::uint64_t> get(std::uint64_t gpa, unsigned n) const {
        const int p = page_of(gpa);
        if (p < 0 || (gpa & 0xFFF) + n > 4096) return std::nullopt;
        std::uint64_t value = 0;
        for (unsigned i = 0; i < n; ++i) value |= std::uint64_t{bytes[static_cast<unsigned>(p)][(gpa & 0xFFF) + i]} << (8 * i);
        return value;
    }
};

struct Read {
    std::uint64_t gpa;
    unsigned bytes;
    bool operator==(const Read&) const = default;
};

// The SDM's walk, one table per level: where the entry is, how big, and
// whether it maps a page here.
struct Reference {
    const Memory& mem;
    std::vector<Read> reads;

    std::optional<std::uint64_t> entry(std::uint64_t gpa, unsigned size) {
        reads.push_back({gpa, size});
        return mem.get(gpa, size);
    }

    std::optional<std::uint64_t> translate(const PagingState& s, std::uint64_t linear) {
        const bool pg = (s.cr0 >> 31 & 1) != 0, pse = (s.cr4 >> 4 & 1) != 0, pae = (s.cr4 >> 5 & 1) != 0;
        const bool la57 = (s.cr4 >> 12 & 1) != 0, lma = (s.efer >> 10 & 1) != 0;
        if (!pg) return linear % (std::uint64_t{1} << 32);
        constexpr std::uint64_t frame_bits = 0x000F'FFFF'FFFF'F000;
        if (lma) {
            if (la57) return std::nullopt;
            // Canonical: bits 63:48 copy bit 47.
            const std::uint64_t top = linear >> 47;
            if (top != 0 && top != (std::uint64_t{1} << 17) - 1) return std::nullopt;
            // PML4, PDPT (1 GiB pages), PD (2 MiB pages), PT.
            constexpr unsigned shifts[] = {39, 30, 21, 12};
            std::uint64_t table = s.cr3 & frame_bits;
            for (unsigned level = 0; level < 4; ++level) {
                const auto e = entry(table + 8 * ((linear >> shifts[level]) % 512), 8);
                if (!e || *e % 2 == 0) return std::nullopt;
                const bool page = level == 3 || ((level == 1 || level == 2) && (*e >> 7 & 1) != 0);
                const std::uint64_t size = std::uint64_t{1} << shifts[level];
                if (page) return (*e & frame_bits & ~(size - 1)) + linear % size;
                table = *e & frame_bits;
            }
            return std::nullopt;
        }
        const std::uint64_t lin = linear % (std::uint64_t{1} << 32);
        if (pae) {
            // Four PDPTEs at CR3[31:5] (no page size bit), then PD, PT.
            const auto pdpte = entry((s.cr3 & 0xFFFF'FFE0) + 8 * (lin >> 30), 8);
            if (!pdpte || *pdpte % 2 == 0) return std::nullopt;
            const auto pde = entry((*pdpte & frame_bits) + 8 * ((lin >> 21) % 512), 8);
            if (!pde || *pde % 2 == 0) return std::nullopt;
            if ((*pde >> 7 & 1) != 0) return (*pde & frame_bits & ~std::uint64_t{0x1F'FFFF}) + lin % 0x20'0000;
            const auto pte = entry((*pde & frame_bits) + 8 * ((lin >> 12) % 512), 8);
            if (!pte || *pte % 2 == 0) return std::nullopt;
            return (*pte & frame_bits) + lin % 0x1000;
        }
        // 32-bit: 1024 4-byte PDEs; with CR4.PSE a PS PDE maps 4 MiB,
        // address bits 39:32 from PDE bits 20:13.
        const auto pde = entry((s.cr3 & 0xFFFF'F000) + 4 * (lin >> 22), 4);
        if (!pde || *pde % 2 == 0) return std::nullopt;
        if (pse && (*pde >> 7 & 1) != 0)
            return (*pde >> 22 << 22) + (((*pde >> 13) & 0xFF) << 32) + lin % 0x40'0000;
        const auto pte = entry((*pde >> 12 << 12) + 4 * ((lin >> 12) % 1024), 4);
        if (!pte || *pte % 2 == 0) return std::nullopt;
        return (*pte >> 12 << 12) + lin % 0x1000;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    const std::uint8_t control = in.u8();
    PagingState state;
    state.cr0 = (control & 1) != 0 ? 0x8000'0011 : 0x11;
    state.cr4 = ((control & 2) != 0 ? paging_bits::cr4_pse : 0) | ((control & 4) != 0 ? paging_bits::cr4_pae : 0) |
                ((control & 8) != 0 ? paging_bits::cr4_la57 : 0);
    state.efer = (control & 16) != 0 ? paging_bits::efer_lma | 0x100 : 0;
    const CpuMode mode = (control >> 5) % 3 == 0 ? CpuMode::Bits16 : (control >> 5) % 3 == 1 ? CpuMode::Bits32 : CpuMode::Bits64;
    // CR3 and the frames come from a small space of page numbers (with
    // rare high bits), so that entries name pages that exist.
    const std::uint64_t cr3_low = in.u16();
    state.cr3 = ((cr3_low & 0x3F) << 12) | (cr3_low & 0xFE0 & (in.u8() % 4 == 0 ? 0xFE0 : 0));
    const std::uint64_t linear = in.u64();

    Memory mem;
    mem.pages = 1 + in.u8() % page_count;
    for (unsigned p = 0; p < mem.pages; ++p) {
        const std::uint8_t f = in.u8();
        mem.frame[p] = (f & 0x3F) | (f >= 0xF0 ? static_cast<std::uint64_t>(f & 0xF) << 20 : 0);
    }
    // Records: page, 9-bit slot (8-byte) or 10-bit slot (4-byte), kind.
    //   kind 0: an 8-byte entry to frame t with flags; 1: a 4-byte entry;
    //   2: a raw 8-byte word; 3: 4 raw bytes at a byte offset (code).
    while (!in.empty()) {
        const unsigned page = in.u8() % mem.pages;
        const unsigned slot = in.u16();
        const unsigned kind = slot >> 14;
        std::uint8_t* base = mem.bytes[page].data();
        if (kind == 0 || kind == 1) {
            const std::uint8_t target = in.u8();
            const std::uint8_t flags = in.u8();
            const std::uint64_t high = (flags & 0x40) != 0 ? in.u16() : 0;  // PSE-36 bits, junk in 51:12's upper part
            std::uint64_t e = (static_cast<std::uint64_t>(target & 0x3F) << 12) | (flags & 0x81) | (high << 13) |
                              ((flags & 0x20) != 0 ? std::uint64_t{0x7FF} << 52 : 0);
            if ((flags & 0x10) != 0) e |= static_cast<std::uint64_t>(target >> 6) << 21;  // large-page alignment bits
            if (kind == 0) {
                const unsigned at = (slot % 512) * 8;
                std::memcpy(base + at, &e, 8);
            } else {
                const std::uint32_t e32 = static_cast<std::uint32_t>(e);
                const unsigned at = (slot % 1024) * 4;
                std::memcpy(base + at, &e32, 4);
            }
        } else if (kind == 2) {
            const std::uint64_t raw = in.u64();
            std::memcpy(base + (slot % 512) * 8, &raw, 8);
        } else {
            const std::uint32_t raw = in.u32();
            std::memcpy(base + (slot % 4093), &raw, 3);
        }
    }

    // The header's walk, with every read recorded and held to the pages.
    std::vector<Read> reads;
    const auto read = [&](std::uint64_t gpa, unsigned bytes) -> std::optional<std::uint64_t> {
        FUZZ_CHECK(bytes == 4 || bytes == 8);
        reads.push_back({gpa, bytes});
        return mem.get(gpa, bytes);
    };
    Reference ref{mem, {}};
    const std::optional<std::uint64_t> got = linear_to_guest_physical(state, linear, read);
    const std::optional<std::uint64_t> want = ref.translate(state, linear);
    FUZZ_CHECK(got == want);
    FUZZ_CHECK(reads == ref.reads);

    // The fetch: page by page, every byte through the reference's translation.
    std::vector<std::uint64_t> byte_reads;
    const auto read_byte = [&](std::uint64_t gpa) -> std::optional<std::uint8_t> {
        byte_reads.push_back(gpa);
        const auto v = mem.get(gpa, 1);
        return v ? std::optional<std::uint8_t>(static_cast<std::uint8_t>(*v)) : std::nullopt;
    };
    reads.clear();
    const InstructionBytes insn = fetch_instruction(state, linear, mode, read, read_byte);
    FUZZ_CHECK(insn.mode == mode);
    FUZZ_CHECK(insn.count <= max_instruction_length);
    usize expected = 0;
    std::vector<std::uint64_t> expected_reads;
    for (; expected < max_instruction_length; ++expected) {
        const std::uint64_t address = mode == CpuMode::Bits64 ? linear + expected : (linear + expected) % (std::uint64_t{1} << 32);
        Reference page_walk{mem, {}};
        const auto page = page_walk.translate(state, address & ~std::uint64_t{0xFFF});
        if (!page) break;
        const std::uint64_t gpa = *page + (address & 0xFFF);
        expected_reads.push_back(gpa);
        const auto byte = mem.get(gpa, 1);
        if (!byte) break;
        FUZZ_CHECK(expected < insn.count && insn.bytes[expected] == static_cast<std::uint8_t>(*byte));
    }
    FUZZ_CHECK(insn.count == expected);
    FUZZ_CHECK(byte_reads == expected_reads);
    return 0;
}
