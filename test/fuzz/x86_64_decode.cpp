// libFuzzer harness: the x86 MMIO instruction decoder
// (decode_mmio_instruction, mmio_load_value, mmio_exit) and the SVM and VMX
// exit decoders (svm::decode_exit, vmx::decode_exit). The decoder's answer
// is checked against a reference written from the SDM's opcode map (which
// prefixes and opcodes may succeed, with which direction and width), and
// against itself: its answer depends only on the bytes it consumed, it never
// reads past the count it is given (ASan: the bytes sit in a buffer of
// exactly that size), and every shorter count is Truncated. Input: mode,
// count, 15 instruction bytes, exit selector, EXITINFO1/qualification,
// EXITINFO2/GPA, RIP, length, raw value (8 bytes each), then GPRs.
#include <arch/x86_64/svm.hpp>
#include <arch/x86_64/vmx.hpp>

#include <vector>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::x86_64;

namespace {

InsnResult decode_exact(const std::uint8_t* bytes, usize count, CpuMode mode) {
    // A buffer of exactly `count` bytes: a read past it is an ASan report.
    std::vector<std::uint8_t> copy(bytes, bytes + count);
    return decode_mmio_instruction(copy.data(), count, mode);
}

bool same(const InsnResult& a, const InsnResult& b) {
    if (a.has_value() != b.has_value()) return false;
    return a.has_value() ? a.value() == b.value() : a.error() == b.error();
}

// The SDM's one-byte map as far as the decoder's contract goes: skip legacy
// prefixes and (64-bit mode) REX, and report the opcode and what it implies.
struct Reference {
    bool lock = false, rep = false, rex_w = false, opsize = false;
    usize opcode_at = 0;
    bool found = false;
};

Reference scan(const std::uint8_t* b, usize count, CpuMode mode) {
    Reference r;
    for (usize i = 0; i < count && i < max_instruction_length; ++i) {
        const std::uint8_t x = b[i];
        if (mode == CpuMode::Bits64 && (x & 0xF0) == 0x40) {
            r.rex_w = (x & 8) != 0;
            continue;
        }
        if (x == 0xF0 || x == 0xF2 || x == 0xF3 || x == 0x26 || x == 0x2E || x == 0x36 || x == 0x3E || x == 0x64 ||
            x == 0x65 || x == 0x66 || x == 0x67) {
            r.lock |= x == 0xF0;
            r.rep |= x == 0xF2 || x == 0xF3;
            r.opsize |= x == 0x66;
            r.rex_w = false;  // a REX before a legacy prefix is ignored
            continue;
        }
        r.opcode_at = i;
        r.found = true;
        break;
    }
    return r;
}

AccessWidth operand_size(const Reference& r, CpuMode mode) {
    if (mode == CpuMode::Bits64 && r.rex_w) return AccessWidth::Qword;
    return (mode == CpuMode::Bits16) != r.opsize ? AccessWidth::Word : AccessWidth::Dword;
}

void check_against_reference(const std::uint8_t* b, usize count, CpuMode mode, const InsnResult& got) {
    const Reference r = scan(b, count, mode);
    if (!got.has_value()) {
        if (got.error() == InsnError::StringOperation) {
            FUZZ_CHECK(r.found);
            const std::uint8_t op = b[r.opcode_at];
            FUZZ_CHECK((op >= 0x6C && op <= 0x6F) || (op >= 0xA4 && op <= 0xA7) || (op >= 0xAA && op <= 0xAF));
        }
        if (got.error() == InsnError::Locked) FUZZ_CHECK(r.lock);
        if (got.error() == InsnError::RepPrefix) FUZZ_CHECK(r.rep);
        return;
    }
    const MemoryAccess& a = got.value();
    FUZZ_CHECK(r.found && !r.lock && !r.rep);
    const std::uint8_t op = b[r.opcode_at];
    const AccessWidth osz = operand_size(r, mode);
    switch (op) {
        case 0x88: FUZZ_CHECK(a.is_write && a.width == AccessWidth::Byte && !a.has_immediate); break;
        case 0x8A: FUZZ_CHECK(!a.is_write && a.width == AccessWidth::Byte && a.reg_width == AccessWidth::Byte); break;
        case 0x89: FUZZ_CHECK(a.is_write && a.width == osz && !a.has_immediate); break;
        case 0x8B: FUZZ_CHECK(!a.is_write && a.width == osz && a.reg_width == osz); break;
        case 0xC6: FUZZ_CHECK(a.is_write && a.has_immediate && a.width == AccessWidth::Byte); break;
        case 0xC7: FUZZ_CHECK(a.is_write && a.has_immediate && a.width == osz); break;
        case 0xA0: FUZZ_CHECK(!a.is_write && a.width == AccessWidth::Byte && a.reg == gpr::rax); break;
        case 0xA1: FUZZ_CHECK(!a.is_write && a.width == osz && a.reg == gpr::rax); break;
        case 0xA2: FUZZ_CHECK(a.is_write && a.width == AccessWidth::Byte && a.reg == gpr::rax); break;
        case 0xA3: FUZZ_CHECK(a.is_write && a.width == osz && a.reg == gpr::rax); break;
        case 0x63:
            FUZZ_CHECK(mode == CpuMode::Bits64 && !a.is_write && a.reg_width == osz);
            FUZZ_CHECK(a.signed_ext == (osz == AccessWidth::Qword));
            break;
        case 0x0F: {
            FUZZ_CHECK(r.opcode_at + 1 < count);
            const std::uint8_t op2 = b[r.opcode_at + 1];
            FUZZ_CHECK(op2 == 0xB6 || op2 == 0xB7 || op2 == 0xBE || op2 == 0xBF);
            FUZZ_CHECK(!a.is_write && a.reg_width == osz);
            FUZZ_CHECK(a.width == ((op2 & 1) != 0 ? AccessWidth::Word : AccessWidth::Byte));
            FUZZ_CHECK(a.signed_ext == (op2 >= 0xBE && a.width < osz));
            break;
        }
        default: FUZZ_CHECK(false);  // no other opcode may decode
    }
    // ModRM forms: mod = 3 never decodes, C6/C7 need /0.
    if (op != 0xA0 && op != 0xA1 && op != 0xA2 && op != 0xA3) {
        const std::uint8_t modrm = b[r.opcode_at + (op == 0x0F ? 2 : 1)];
        FUZZ_CHECK((modrm >> 6) != 3);
        if (op == 0xC6 || op == 0xC7) FUZZ_CHECK(((modrm >> 3) & 7) == 0);
    }
}

void check_access(const MemoryAccess& a, usize count, CpuMode mode) {
    FUZZ_CHECK(a.length >= 1 && a.length <= count && a.length <= max_instruction_length);
    FUZZ_CHECK(a.reg <= gpr::bh);
    if (mode != CpuMode::Bits64) FUZZ_CHECK(a.reg <= 7 || is_high_byte(a.reg));
    if (is_high_byte(a.reg)) FUZZ_CHECK(a.width == AccessWidth::Byte && a.reg_width == AccessWidth::Byte);
    if (a.signed_ext) FUZZ_CHECK(!a.is_write && a.width < a.reg_width);
    if (a.has_immediate) FUZZ_CHECK(a.is_write && a.reg == 0 && (a.immediate & ~fuzz::width_mask(a.width)) == 0);
    if (a.is_write) FUZZ_CHECK(a.reg_width == a.width);
    else FUZZ_CHECK(a.reg_width >= a.width && !a.has_immediate);
}

void check_load_value(const exit::MmioRead& read, std::uint64_t raw, std::uint64_t old) {
    const std::uint64_t v = mmio_load_value(read, raw, old);
    const unsigned bits = static_cast<unsigned>(size_in_bits(read.width));
    const bool sign = read.signed_ext && bits < 64 && ((raw >> (bits - 1)) & 1) != 0;
    if (is_high_byte(read.reg)) {
        FUZZ_CHECK((v & ~std::uint64_t{0xFF00}) == (old & ~std::uint64_t{0xFF00}));
        FUZZ_CHECK(((v >> 8) & 0xFF) == (raw & 0xFF));
        return;
    }
    const unsigned reg_bits = static_cast<unsigned>(size_in_bits(read.reg_width));
    for (unsigned i = 0; i < 64; ++i) {
        bool want;
        if (i < bits && i < reg_bits) want = ((raw >> i) & 1) != 0;
        else if (i < reg_bits) want = sign;
        else if (read.reg_width == AccessWidth::Dword) want = false;  // a 32-bit write clears 63:32
        else want = ((old >> i) & 1) != 0;                             // 8/16-bit writes merge
        FUZZ_CHECK((((v >> i) & 1) != 0) == want);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    const auto mode = static_cast<CpuMode>(in.u8() % 3);
    const usize count = in.u8() % 16;
    InstructionBytes insn{};
    for (auto& b : insn.bytes) b = in.u8();
    insn.count = count;
    insn.mode = mode;
    const std::uint8_t selector = in.u8();
    const std::uint64_t info1 = in.u64(), info2 = in.u64(), rip = in.u64(), length = in.u64(), raw = in.u64();
    Gprs regs{};
    for (auto& r : regs) r = in.u64();

    // --- The instruction decoder ---
    const InsnResult got = decode_exact(insn.bytes.data(), count, mode);
    FUZZ_CHECK(same(got, decode_mmio_instruction(insn)));
    check_against_reference(insn.bytes.data(), count, mode, got);
    if (got.has_value()) {
        const MemoryAccess& a = got.value();
        check_access(a, count, mode);
        // Exactly `length` bytes are needed: fewer are Truncated, more change nothing.
        FUZZ_CHECK(same(got, decode_exact(insn.bytes.data(), a.length, mode)));
        for (usize k = 0; k < a.length; ++k) {
            const InsnResult shorter = decode_exact(insn.bytes.data(), k, mode);
            FUZZ_CHECK(!shorter.has_value() && shorter.error() == InsnError::Truncated);
        }
        FUZZ_CHECK(same(got, decode_mmio_instruction(insn.bytes.data(), insn.bytes.size(), mode)));
        // The exit it reports.
        const GuestPhysAddr gpa(static_cast<usize>(info2));
        const AxVCpuExitReason reason = mmio_exit(gpa, a, regs);
        if (a.is_write) {
            const auto* w = reason.get_if<exit::MmioWrite>();
            FUZZ_CHECK(w && w->addr == gpa && w->width == a.width);
            FUZZ_CHECK(w->data == ((a.has_immediate ? a.immediate : read_operand(regs, a.reg)) & fuzz::width_mask(a.width)));
        } else {
            const auto* r = reason.get_if<exit::MmioRead>();
            FUZZ_CHECK(r && r->addr == gpa && r->width == a.width && r->reg == a.reg && r->reg_width == a.reg_width);
            check_load_value(*r, raw, regs[containing_gpr(a.reg)]);
        }
    } else if (got.error() == InsnError::Truncated) {
        for (usize k = 0; k < count; ++k) {
            const InsnResult shorter = decode_exact(insn.bytes.data(), k, mode);
            FUZZ_CHECK(!shorter.has_value() && shorter.error() == InsnError::Truncated);
        }
    } else {
        // Any other refusal is final: more bytes do not change it.
        FUZZ_CHECK(same(got, decode_mmio_instruction(insn.bytes.data(), insn.bytes.size(), mode)));
    }
    // mmio_load_value on arbitrary fields.
    check_load_value(exit::MmioRead{GuestPhysAddr{}, static_cast<AccessWidth>(selector & 3),
                                    static_cast<usize>(selector >> 3) % 20, static_cast<AccessWidth>((selector >> 2) & 3),
                                    (selector & 0x80) != 0},
                     raw, regs[0]);

    // --- SVM ---
    constexpr std::uint64_t codes[] = {svm::exit_code::vmmcall, svm::exit_code::ioio,     svm::exit_code::npf,
                                       svm::exit_code::hlt,     svm::exit_code::msr,      svm::exit_code::intr,
                                       svm::exit_code::shutdown, svm::exit_code::invalid, svm::exit_code::busy,
                                       svm::exit_code::cpuid,   svm::exit_code::xsetbv};
    const std::uint64_t code = (selector & 0xF) < 11 ? codes[selector & 0xF] : info1 >> 48;
    // For IOIO, make the next RIP plausible half of the time.
    const std::uint64_t next = (selector & 0x10) != 0 ? rip + (length & 0xF) : info2;
    const svm::TrapRecord trap{code, info1, code == svm::exit_code::ioio ? next : info2, 0, rip, raw & 0xFF};
    const DecodeResult s = svm::decode_exit(trap, regs, insn);
    if (s.has_value()) {
        const Decoded& d = s.value();
        FUZZ_CHECK(d.rip_advance <= max_instruction_length);
        if (d.reason.is<exit::IoRead>() || d.reason.is<exit::IoWrite>()) {
            FUZZ_CHECK(code == svm::exit_code::ioio);
            FUZZ_CHECK((info1 & (svm::ioio::str | svm::ioio::rep)) == 0);  // never a misdecoded string/REP form
            FUZZ_CHECK(d.rip_advance == trap.exit_info2 - rip && d.rip_advance >= 1);
            const Port port = static_cast<Port>(info1 >> 16);
            if (const auto* w = d.reason.get_if<exit::IoWrite>()) {
                FUZZ_CHECK(w->port == port && (info1 & 1) == 0);
                FUZZ_CHECK(w->data == (regs[gpr::rax] & fuzz::width_mask(w->width)) && w->width <= AccessWidth::Dword);
            } else {
                FUZZ_CHECK(d.reason.get_if<exit::IoRead>()->port == port && (info1 & 1) == 1);
            }
        }
        if (code == svm::exit_code::npf) {
            if (d.reason.is<exit::NestedPageFault>()) {
                FUZZ_CHECK(d.rip_advance == 0 && d.reason.get_if<exit::NestedPageFault>()->addr.value() == info2);
            } else {
                FUZZ_CHECK(svm::classify_npf(info1) == svm::NpfKind::Mmio);
                const InsnResult again = decode_mmio_instruction(insn);
                FUZZ_CHECK(again.has_value() && again.value().is_write == ((info1 & svm::npf::write) != 0));
                FUZZ_CHECK(d.rip_advance == again.value().length);
                FUZZ_CHECK(d.reason.is<exit::MmioRead>() == !again.value().is_write);
            }
        }
        if (code == svm::exit_code::msr) FUZZ_CHECK(info1 <= 1 && d.rip_advance == 2);
        if (code == svm::exit_code::invalid || code == svm::exit_code::busy)
            FUZZ_CHECK(d.reason.get_if<exit::FailEntry>()->hardware_entry_failure_reason == code);
    } else {
        FUZZ_CHECK(code != svm::exit_code::vmmcall && code != svm::exit_code::npf && code != svm::exit_code::hlt);
        if (s.error() == DecodeError::StringIo) FUZZ_CHECK((info1 & (svm::ioio::str | svm::ioio::rep)) != 0);
    }

    // --- VMX ---
    constexpr std::uint32_t reasons[] = {vmx::exit_reason::vmcall,        vmx::exit_reason::io_instruction,
                                         vmx::exit_reason::ept_violation, vmx::exit_reason::hlt,
                                         vmx::exit_reason::rdmsr,         vmx::exit_reason::wrmsr,
                                         vmx::exit_reason::external_interrupt, vmx::exit_reason::triple_fault};
    std::uint32_t reason = (selector >> 4) < 8 ? reasons[selector >> 4] : static_cast<std::uint32_t>(info1 >> 32);
    if ((selector & 0x40) != 0 && (selector & 0x20) != 0) reason |= vmx::exit_reason::entry_failure;
    const vmx::TrapRecord vtrap{reason, info1, info2, static_cast<std::uint32_t>(length & 0x1F),
                                static_cast<std::uint32_t>(raw), rip};
    const DecodeResult v = vmx::decode_exit(vtrap, regs, insn);
    if ((reason & vmx::exit_reason::entry_failure) != 0) {
        FUZZ_CHECK(v.has_value() && v.value().reason.get_if<exit::FailEntry>()->hardware_entry_failure_reason ==
                                        vmx::exit_reason::basic(reason));
    } else if (v.has_value()) {
        const Decoded& d = v.value();
        FUZZ_CHECK(d.rip_advance <= max_instruction_length);
        if (d.reason.is<exit::IoRead>() || d.reason.is<exit::IoWrite>()) {
            FUZZ_CHECK(vmx::exit_reason::basic(reason) == vmx::exit_reason::io_instruction);
            FUZZ_CHECK((info1 & (3 << 4)) == 0 && d.rip_advance == vtrap.instruction_length);
        }
        if (d.reason.is<exit::MmioRead>() || d.reason.is<exit::MmioWrite>())
            FUZZ_CHECK(vmx::classify_ept_violation(info1) == vmx::EptKind::Mmio);
        if (d.reason.is<exit::NestedPageFault>()) FUZZ_CHECK(d.rip_advance == 0);
    }
    return 0;
}
