// The x86 MMIO instruction decoder against GNU objdump (README, "The x86
// decoder against objdump"). objdump_reference.py disassembles a sweep of
// MOV encodings and refused instructions in 64-, 32- and 16-bit code at
// build time and writes its verdicts as a table (build directory only);
// this driver decodes the same bytes objdump saw and checks every line:
// an accepted MOV must decode with objdump's length, direction, widths,
// register and immediate; everything else must be refused, and not as
// Truncated (the 15 bytes hold the whole instruction).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "arch/x86_64/exit_decode.hpp"

using namespace axvcpu;
using namespace axvcpu::x86_64;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: objdump_reference TABLE\n";
        return 2;
    }
    std::ifstream table(argv[1]);
    if (!table) {
        std::cerr << "cannot read " << argv[1] << "\n";
        return 2;
    }
    std::map<char, long> expected, seen;
    long failures = 0;
    std::string line;
    while (std::getline(table, line)) {
        if (line.empty()) continue;
        if (line[0] == '#') {
            char kind = 0;
            long n = 0;
            if (std::sscanf(line.c_str(), "# count %c %ld", &kind, &n) == 2) expected[kind] = n;
            continue;
        }
        std::istringstream in(line.substr(0, line.find(" | ")));
        int mode_bits = 0;
        std::string hex;
        unsigned length = 0, width = 0, reg = 0, reg_width = 0, sign = 0;
        char kind = 0;
        std::string imm_hex;
        in >> mode_bits >> hex >> length >> kind >> width >> reg >> reg_width >> sign >> imm_hex;
        std::array<std::uint8_t, max_instruction_length> bytes{};
        bytes.fill(0x90);  // the NOPs objdump saw after the encoding
        for (usize i = 0; i * 2 < hex.size() && i < bytes.size(); ++i)
            bytes[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(i * 2, 2), nullptr, 16));
        const CpuMode mode = mode_bits == 64 ? CpuMode::Bits64 : mode_bits == 32 ? CpuMode::Bits32 : CpuMode::Bits16;
        const InsnResult got = decode_mmio_instruction(bytes.data(), bytes.size(), mode);
        ++seen[kind];
        std::string problem;
        if (kind == 'R' || kind == 'W' || kind == 'I') {
            if (!got.has_value()) {
                problem = "refused: " + std::string(name(got.error()));
            } else {
                const MemoryAccess& a = got.value();
                const std::uint64_t imm = std::stoull(imm_hex, nullptr, 16);
                const bool ok = a.length == length && a.is_write == (kind != 'R') && a.has_immediate == (kind == 'I') &&
                                size_in_bytes(a.width) == width && size_in_bytes(a.reg_width) == reg_width &&
                                (kind == 'I' ? a.immediate == imm : a.reg == reg) && a.signed_ext == (sign != 0);
                if (!ok) {
                    std::ostringstream o;
                    o << "decoded length " << a.length << (a.is_write ? " write" : " read") << " width "
                      << size_in_bytes(a.width) << " reg " << a.reg << " reg_width " << size_in_bytes(a.reg_width)
                      << " signed " << a.signed_ext << " imm " << std::hex << a.immediate;
                    problem = o.str();
                }
            }
        } else if (got.has_value()) {
            problem = "accepted (length " + std::to_string(got.value().length) + "), objdump: not a plain MOV";
        } else if (got.error() == InsnError::Truncated || got.error() == InsnError::TooLong) {
            problem = "refused as " + std::string(name(got.error()));
        }
        if (!problem.empty()) {
            if (++failures <= 30) std::cout << "MISMATCH " << line << "\n  " << problem << "\n";
        }
    }
    long total = 0;
    for (const auto& [kind, n] : seen) {
        total += n;
        if (expected[kind] != n) {
            std::cout << "table says " << expected[kind] << " lines of kind " << kind << ", read " << n << "\n";
            ++failures;
        }
    }
    std::cout << total << " encodings: " << seen['R'] << " loads, " << seen['W'] << " register stores, " << seen['I']
              << " immediate stores, " << seen['-'] + seen['?'] << " refused; " << failures << " mismatches\n";
    return failures == 0 && total > 0 ? 0 : 1;
}
