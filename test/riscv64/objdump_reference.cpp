// The riscv64 load/store decoder against GNU objdump: reads the table
// objdump_reference.py wrote (one line per encoding, objdump's verdict) and
// checks arch/riscv64/exit_decode.hpp agrees on every one:
//  - decode_load_store: accepted exactly for objdump's integer loads/stores,
//    with its width, signedness, data register and length; a parcel's
//    decode ignores the parcel after it;
//  - decode_load_low_half: a 32-bit load from its low parcel alone (also
//    with the high bits of the 64-bit register set), nothing else;
//  - instruction_length: 2 and 4 as objdump reads them, 0 for the 48-bit and
//    longer prefixes;
//  - decode_guest_page_fault (htinst = 0): MMIO only for a load at scause 21
//    or a store at 23; anything else a NestedPageFault at the GPA, read and
//    write for objdump's AMOs and LR/SC, the scause's access for every other
//    instruction it knows.
// Prints every mismatch with the word, objdump's text and the decoder's
// answer. Usage: riscv64_objdump_reference TABLE
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "arch/riscv64/exit_decode.hpp"

using namespace axvcpu;
using namespace axvcpu::riscv64;

namespace {

std::string describe(const LoadStore& access) {
    char text[96];
    std::snprintf(text, sizeof text, "%s %zu bytes %s x%zu, length %u", access.is_store ? "store" : "load",
                  static_cast<std::size_t>(size_in_bytes(access.width)),
                  access.is_store ? "from" : (access.signed_ext ? "sign-extended to" : "zero-extended to"),
                  static_cast<std::size_t>(access.reg), access.length);
    return text;
}

std::string describe(const std::optional<LoadStore>& access) {
    if (!access) return "refused";
    return describe(*access);
}

std::string describe(const GuestPageFault& fault) {
    if (const auto* mmio = std::get_if<MmioAccess>(&fault)) return "MMIO " + describe(mmio->access);
    const auto& nested = std::get<exit::NestedPageFault>(fault);
    char text[64];
    std::snprintf(text, sizeof text, "NestedPageFault at %#zx, flags %#zx", static_cast<std::size_t>(nested.addr.value()),
                  static_cast<std::size_t>(nested.access_flags.bits));
    return text;
}

AccessWidth width_of(unsigned bytes) {
    switch (bytes) {
        case 1: return AccessWidth::Byte;
        case 2: return AccessWidth::Word;
        case 4: return AccessWidth::Dword;
        default: return AccessWidth::Qword;
    }
}

// Whether the decoder's answer is the expected one: `want` when `accepted`,
// nothing otherwise. (A plain LoadStore rather than an optional: GCC 12
// warns that an optional built by ?: may be used uninitialized.)
bool agrees(const std::optional<LoadStore>& got, bool accepted, const LoadStore& want) {
    return got.has_value() == accepted && (!got || *got == want);
}

// What objdump's line means for the decoder.
std::string verdict(char kind, bool accepted, const LoadStore& want) {
    if (accepted) return describe(want);
    switch (kind) {
        case 'A': return "refused (AMO/LR/SC: read and write)";
        case '?': return "refused (objdump does not know it)";
        default: return "refused";
    }
}

// Counts mismatches and prints each: the word, objdump's text and what it
// means, the check, and the decoder's answer.
struct Checker {
    unsigned long mismatches = 0;
    std::uint32_t word = 0;
    std::string objdump, expected;

    template <class Got>
    void expect(bool ok, const char* what, const Got& got) {
        if (ok) return;
        ++mismatches;
        std::printf("MISMATCH %08x objdump \"%s\" = %s; %s: decoder says %s\n", word, objdump.c_str(), expected.c_str(),
                    what, describe(got).c_str());
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s TABLE (written by objdump_reference.py)\n", argv[0]);
        return 2;
    }
    std::ifstream table(argv[1]);
    if (!table) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }

    // The guest page fault every word is replayed as: GPA 0x10000004.
    constexpr std::uint64_t stval = 0x10000004, htval = 0x10000004 >> 2;
    const GuestPhysAddr gpa = guest_fault_address(stval, htval);
    constexpr MappingFlags read{MappingFlags::READ}, write{MappingFlags::WRITE};
    constexpr MappingFlags read_write{MappingFlags::READ | MappingFlags::WRITE};

    Checker check;
    std::map<std::string, unsigned long> declared, seen;
    std::string line;
    while (std::getline(table, line)) {
        if (line.rfind("# count ", 0) == 0) {
            char name[32];
            unsigned long n = 0;
            if (std::sscanf(line.c_str(), "# count %31s %lu", name, &n) == 2) declared[name] = n;
            continue;
        }
        if (line.empty() || line[0] == '#') continue;
        unsigned word = 0, objdump_bytes = 0, width = 0, sign = 0, reg = 0;
        char kind = 0;
        int text_at = 0;
        if (std::sscanf(line.c_str(), "%x %u %c %u %u %u %n", &word, &objdump_bytes, &kind, &width, &sign, &reg,
                        &text_at) != 6) {
            std::fprintf(stderr, "bad table line: %s\n", line.c_str());
            return 2;
        }
        check.word = word;
        check.objdump = line.substr(static_cast<std::size_t>(text_at));
        const bool parcel = (word & 3) != 3;
        const unsigned length = parcel ? 2 : 4;
        ++seen[parcel ? "parcels" : "words"];
        ++seen[kind == 'L' ? "loads" : kind == 'S' ? "stores" : "refused"];
        if (kind == 'A') ++seen["amo"];
        if (check.objdump.find("[exception:") != std::string::npos) ++seen["exceptions"];

        const bool accepted = kind == 'L' || kind == 'S';
        const LoadStore want{kind == 'S', width_of(width), reg, sign != 0, length};
        check.expected = verdict(kind, accepted, want);
        if (accepted && objdump_bytes != length) {
            ++check.mismatches;
            std::printf("MISMATCH %08x objdump \"%s\": objdump read %u bytes\n", word, check.objdump.c_str(),
                        objdump_bytes);
        }

        const auto got = decode_load_store(word);
        check.expect(agrees(got, accepted, want), "decode_load_store", got);
        if (parcel) {
            const auto with_next = decode_load_store(0xa5a50000u | word);
            check.expect(agrees(with_next, accepted, want), "decode_load_store with the next parcel 0xa5a5", with_next);
        }

        // The fast path is given the low parcel in a 64-bit register, whose
        // bits above 15 the header says it ignores: clear and set.
        const bool load32 = kind == 'L' && !parcel;
        const auto low = decode_load_low_half(word & 0xffff);
        check.expect(agrees(low, load32, want), "decode_load_low_half (refuses all but 32-bit loads)", low);
        const auto low_high_set = decode_load_low_half(0xffffffffffff0000ull | (word & 0xffff));
        check.expect(agrees(low_high_set, load32, want), "decode_load_low_half, bits 63:16 set", low_high_set);

        // instruction_length: 2 or 4 as objdump read it; 0 where objdump read
        // a 48-bit or longer encoding (or a .2byte for the reserved >= 192-bit
        // prefix, whose low bits 11 still say "not compressed").
        const unsigned want_length = parcel ? 2 : (objdump_bytes == 4 ? 4 : 0);
        const unsigned got_length = instruction_length(word & 0xffff);
        if (got_length != want_length) {
            ++check.mismatches;
            std::printf("MISMATCH %08x objdump \"%s\" (%u bytes): instruction_length says %u\n", word,
                        check.objdump.c_str(), objdump_bytes, got_length);
        }

        for (const std::uint64_t scause : {cause::load_guest_page_fault, cause::store_guest_page_fault}) {
            const bool is_load_fault = scause == cause::load_guest_page_fault;
            const GuestPageFault fault = decode_guest_page_fault({scause, stval, htval, 0, word});
            const char* what = is_load_fault ? "decode_guest_page_fault, scause 21" : "decode_guest_page_fault, scause 23";
            if ((kind == 'L' && is_load_fault) || (kind == 'S' && !is_load_fault)) {
                const auto* mmio = std::get_if<MmioAccess>(&fault);
                check.expect(mmio != nullptr && *mmio == MmioAccess{gpa, want}, what, fault);
                continue;
            }
            const auto* nested = std::get_if<exit::NestedPageFault>(&fault);
            const MappingFlags own = is_load_fault ? read : write;
            bool ok = nested != nullptr && nested->addr == gpa;
            // objdump's AMOs and LR/SC read and write; every other instruction
            // it knows faults as scause says. A word it does not know may sit
            // in the AMO opcode (reserved funct5, RV128's .q widths), which the
            // header treats as read and write as a whole: either is right.
            if (ok && kind == 'A') ok = nested->access_flags == read_write;
            if (ok && kind == '-') ok = nested->access_flags == own;
            if (ok && kind == '?') ok = nested->access_flags == own || nested->access_flags == read_write;
            check.expect(ok, what, fault);
        }
    }

    bool counts_ok = seen["parcels"] == 49152 && seen["loads"] > 0 && seen["stores"] > 0;
    for (const auto& [name, n] : declared) counts_ok = counts_ok && seen[name] == n;
    counts_ok = counts_ok && declared.size() == 6;
    std::printf("riscv64 decoder against objdump: %lu encodings (%lu 16-bit parcels, %lu 32-bit words); objdump says "
                "%lu loads, %lu stores and %lu others (%lu of them AMO/LR/SC); %lu taken from the script's exceptions; "
                "%lu mismatches\n",
                seen["parcels"] + seen["words"], seen["parcels"], seen["words"], seen["loads"], seen["stores"],
                seen["refused"], seen["amo"], seen["exceptions"], check.mismatches);
    if (!counts_ok) std::printf("the table's counts disagree with its lines (or it is not the whole sweep)\n");
    return check.mismatches == 0 && counts_ok ? 0 : 1;
}
