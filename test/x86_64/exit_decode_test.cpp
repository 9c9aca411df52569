// Host tests of the x86 MMIO instruction decoder and the exit helpers both
// back ends share (arch/x86_64/exit_decode.hpp). Every encoding below was
// disassembled with binutils 2.40 (objdump -D -b binary -mi386:x86-64
// -M intel); its text is the comment. objdump_reference.cpp checks a sweep
// of some thousands more against objdump at build time.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "arch/x86_64/exit_decode.hpp"

namespace doctest {
template <>
struct StringMaker<axvcpu::x86_64::MemoryAccess> {
    static String convert(const axvcpu::x86_64::MemoryAccess& a) {
        using axvcpu::size_in_bytes;
        const std::string text = std::string(a.is_write ? "write" : "read") + " width " +
                                 std::to_string(size_in_bytes(a.width)) + " reg " + std::to_string(a.reg) +
                                 " reg_width " + std::to_string(size_in_bytes(a.reg_width)) +
                                 (a.signed_ext ? " signed" : "") +
                                 (a.has_immediate ? " imm " + std::to_string(a.immediate) : "") + " length " +
                                 std::to_string(a.length);
        return String(text.c_str());
    }
};
}  // namespace doctest

namespace x86_64_exit_decode_test {

using namespace axvcpu;
using namespace axvcpu::x86_64;

namespace {

InsnResult decode(std::initializer_list<std::uint8_t> bytes, CpuMode mode = CpuMode::Bits64) {
    const std::vector<std::uint8_t> v(bytes);
    return decode_mmio_instruction(v.data(), v.size(), mode);
}

constexpr AccessWidth B = AccessWidth::Byte, W = AccessWidth::Word, D = AccessWidth::Dword, Q = AccessWidth::Qword;

MemoryAccess read(AccessWidth width, usize reg, AccessWidth reg_width, bool sign, unsigned length) {
    return MemoryAccess{false, width, reg, reg_width, sign, false, 0, length};
}
MemoryAccess write(AccessWidth width, usize reg, unsigned length) {
    return MemoryAccess{true, width, reg, width, false, false, 0, length};
}
MemoryAccess write_imm(AccessWidth width, std::uint64_t imm, unsigned length) {
    return MemoryAccess{true, width, 0, width, false, true, imm, length};
}

struct Form {
    const char* text;
    std::initializer_list<std::uint8_t> bytes;
    MemoryAccess expected;
};

}  // namespace

TEST_CASE("MOV forms in every width, with REX, SIB, RIP-relative and high-byte registers") {
    const Form forms[] = {
        {"mov eax,DWORD PTR [rip+0x10]", {0x8b, 0x05, 0x10, 0, 0, 0}, read(D, gpr::rax, D, false, 6)},
        {"mov r15d,DWORD PTR [rsp+0x8]", {0x44, 0x8b, 0x7c, 0x24, 0x08}, read(D, gpr::r15, D, false, 5)},
        {"mov DWORD PTR [r8+rcx*4+0x100],eax", {0x41, 0x89, 0x84, 0x88, 0x00, 0x01, 0, 0}, write(D, gpr::rax, 8)},
        {"mov WORD PTR [rax],bx", {0x66, 0x89, 0x18}, write(W, gpr::rbx, 3)},
        {"mov BYTE PTR [rax+0x1],bh", {0x88, 0x78, 0x01}, write(B, gpr::bh, 3)},
        {"mov bh,BYTE PTR [rax]", {0x8a, 0x38}, read(B, gpr::bh, B, false, 2)},
        {"mov r15b,BYTE PTR [r8]", {0x45, 0x8a, 0x38}, read(B, gpr::r15, B, false, 3)},
        {"mov spl,BYTE PTR [r8]", {0x41, 0x8a, 0x20}, read(B, gpr::rsp, B, false, 3)},
        {"mov BYTE PTR [rax],spl", {0x40, 0x88, 0x20}, write(B, gpr::rsp, 3)},
        {"mov BYTE PTR [rax],ah", {0x88, 0x20}, write(B, gpr::ah, 2)},
        {"mov QWORD PTR [rsp+0x8],rcx", {0x48, 0x89, 0x4c, 0x24, 0x08}, write(Q, gpr::rcx, 5)},
        {"mov rax,QWORD PTR gs:0x28", {0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, read(Q, gpr::rax, Q, false, 9)},
        {"mov DWORD PTR [eax],ecx", {0x67, 0x89, 0x08}, write(D, gpr::rcx, 3)},
        {"mov BYTE PTR ds:0x1000,al", {0x88, 0x04, 0x25, 0x00, 0x10, 0, 0}, write(B, gpr::rax, 7)},
        {"mov WORD PTR [r8],ax (66 before REX)", {0x66, 0x41, 0x89, 0x00}, write(W, gpr::rax, 4)},
    };
    for (const Form& form : forms) {
        CAPTURE(std::string(form.text));
        const InsnResult got = decode(form.bytes);
        REQUIRE(got.has_value());
        CHECK(got.value() == form.expected);
    }
}

TEST_CASE("MOV with an immediate, the moffs forms, MOVZX, MOVSX and MOVSXD") {
    const Form forms[] = {
        {"mov BYTE PTR [rax],0x80", {0xc6, 0x00, 0x80}, write_imm(B, 0x80, 3)},
        {"mov WORD PTR [rax],0x1234", {0x66, 0xc7, 0x00, 0x34, 0x12}, write_imm(W, 0x1234, 5)},
        {"mov DWORD PTR [rax+0x1000],0x12345678",
         {0xc7, 0x80, 0x00, 0x10, 0, 0, 0x78, 0x56, 0x34, 0x12},
         write_imm(D, 0x12345678, 10)},
        {"mov QWORD PTR [rax],0xffffffff80000000", {0x48, 0xc7, 0x00, 0, 0, 0, 0x80},
         write_imm(Q, 0xffff'ffff'8000'0000, 7)},
        {"movabs al,ds:0xfe000000", {0xa0, 0, 0, 0, 0xfe, 0, 0, 0, 0}, read(B, gpr::rax, B, false, 9)},
        {"movabs ds:0xfe001000,eax", {0xa3, 0, 0x10, 0, 0xfe, 0, 0, 0, 0}, write(D, gpr::rax, 9)},
        {"movabs rax,ds:0x1122334455667788", {0x48, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11},
         read(Q, gpr::rax, Q, false, 10)},
        {"addr32 mov eax,ds:0x11223344", {0x67, 0xa1, 0x44, 0x33, 0x22, 0x11}, read(D, gpr::rax, D, false, 6)},
        {"movzx eax,BYTE PTR [rbx]", {0x0f, 0xb6, 0x03}, read(B, gpr::rax, D, false, 3)},
        {"movzx ax,BYTE PTR [rax]", {0x66, 0x0f, 0xb6, 0x00}, read(B, gpr::rax, W, false, 4)},
        {"movzx rax,WORD PTR [rbx+0x2]", {0x48, 0x0f, 0xb7, 0x43, 0x02}, read(W, gpr::rax, Q, false, 5)},
        {"movsx eax,BYTE PTR [rdi]", {0x0f, 0xbe, 0x07}, read(B, gpr::rax, D, true, 3)},
        {"movsx r9,WORD PTR [rsi]", {0x4c, 0x0f, 0xbf, 0x0e}, read(W, gpr::r9, Q, true, 4)},
        {"movsxd rcx,DWORD PTR [rdx]", {0x48, 0x63, 0x0a}, read(D, gpr::rcx, Q, true, 3)},
        {"movsxd eax,DWORD PTR [rax]", {0x63, 0x00}, read(D, gpr::rax, D, false, 2)},
    };
    for (const Form& form : forms) {
        CAPTURE(std::string(form.text));
        const InsnResult got = decode(form.bytes);
        REQUIRE(got.has_value());
        CHECK(got.value() == form.expected);
    }
}

TEST_CASE("32- and 16-bit code: no REX, other default sizes, 16-bit ModRM") {
    // objdump -mi386: 40 is "inc eax", so 40 88 00 is not a MOV.
    CHECK(decode({0x40, 0x88, 0x00}, CpuMode::Bits32).error() == InsnError::Unsupported);
    CHECK(decode({0x89, 0x08}, CpuMode::Bits32).value() == write(D, gpr::rcx, 2));           // mov DWORD PTR [eax],ecx
    CHECK(decode({0xa1, 0x00, 0x10, 0x00, 0xfe}, CpuMode::Bits32).value() == read(D, gpr::rax, D, false, 5));
    CHECK(decode({0x67, 0x8b, 0x47, 0x10}, CpuMode::Bits32).value() == read(D, gpr::rax, D, false, 4));  // [bx+0x10]
    CHECK(decode({0x63, 0x00}, CpuMode::Bits32).error() == InsnError::Unsupported);          // arpl
    // objdump -mi8086: mov WORD PTR ds:0x1234,ax / mov eax,DWORD PTR [bx+si] / mov BYTE PTR [bp+0x1234],0x5
    CHECK(decode({0x89, 0x06, 0x34, 0x12}, CpuMode::Bits16).value() == write(W, gpr::rax, 4));
    CHECK(decode({0x66, 0x8b, 0x00}, CpuMode::Bits16).value() == read(D, gpr::rax, D, false, 3));
    CHECK(decode({0xc6, 0x86, 0x34, 0x12, 0x05}, CpuMode::Bits16).value() == write_imm(B, 5, 5));
    CHECK(decode({0xa2, 0x00, 0x80}, CpuMode::Bits16).value() == write(B, gpr::rax, 3));
}

TEST_CASE("prefix rules: a REX before a legacy prefix is ignored, segment overrides are") {
    // objdump: "rex.B" then "mov WORD PTR [rax],ax": the 41 is ignored (SDM 2.2.1).
    CHECK(decode({0x41, 0x66, 0x89, 0x00}).value() == write(W, gpr::rax, 4));
    // Two REX prefixes: only the last counts.
    CHECK(decode({0x48, 0x41, 0x89, 0x00}).value() == write(D, gpr::rax, 4));
    CHECK(decode({0x2e, 0x3e, 0x26, 0x64, 0x89, 0x00}).value() == write(D, gpr::rax, 6));
}

TEST_CASE("refusals: every instruction that is not one plain access is named, never guessed") {
    CHECK(decode({0xf0, 0x01, 0x08}).error() == InsnError::Locked);              // lock add
    CHECK(decode({0xf0, 0x89, 0x08}).error() == InsnError::Locked);              // #UD on a real CPU
    CHECK(decode({0xf3, 0xa4}).error() == InsnError::StringOperation);           // rep movs
    CHECK(decode({0xaa}).error() == InsnError::StringOperation);                 // stos
    CHECK(decode({0xac}).error() == InsnError::StringOperation);                 // lods
    CHECK(decode({0x6e}).error() == InsnError::StringOperation);                 // outs
    CHECK(decode({0xf3, 0x88, 0x00}).error() == InsnError::RepPrefix);           // xrelease mov
    CHECK(decode({0xf2, 0x89, 0x00}).error() == InsnError::RepPrefix);           // xacquire mov
    CHECK(decode({0x87, 0x08}).error() == InsnError::Unsupported);               // xchg
    CHECK(decode({0x01, 0x08}).error() == InsnError::Unsupported);               // add
    CHECK(decode({0x0f, 0x10, 0x00}).error() == InsnError::Unsupported);         // movups
    CHECK(decode({0x0f, 0xb1, 0x08}).error() == InsnError::Unsupported);         // cmpxchg
    CHECK(decode({0xc5, 0xf8, 0x10, 0x00}).error() == InsnError::Unsupported);   // vmovups (VEX)
    CHECK(decode({0x66, 0x63, 0x00}).error() == InsnError::Unsupported);        // movsxd ax,DWORD PTR [rax]?
    CHECK(decode({0x89, 0xc8}).error() == InsnError::RegisterOperand);           // mov eax,ecx
    CHECK(decode({0xc6, 0xc0, 0x12}).error() == InsnError::RegisterOperand);     // mov al,0x12
    CHECK(decode({0xc7, 0x08, 0, 0, 0, 0}).error() == InsnError::Invalid);       // (bad): C7 /1
    CHECK(decode({0xc6, 0x48, 0x10, 0x12}).error() == InsnError::Invalid);       // (bad): C6 /1
}

TEST_CASE("bounds: truncated bytes are reported, never read past, and 15 bytes is the limit") {
    const std::uint8_t mov[] = {0xc7, 0x80, 0x00, 0x10, 0, 0, 0x78, 0x56, 0x34, 0x12};
    for (usize count = 0; count < sizeof mov; ++count) {
        CAPTURE(count);
        CHECK(decode_mmio_instruction(mov, count, CpuMode::Bits64).error() == InsnError::Truncated);
    }
    CHECK(decode_mmio_instruction(mov, sizeof mov, CpuMode::Bits64).value().length == 10);
    CHECK(decode({0x48, 0x89, 0x4c, 0x24}).error() == InsnError::Truncated);  // the disp8 is missing

    // 11 segment prefixes and a 4-byte MOV are 15 bytes: fine. One more is #GP.
    std::array<std::uint8_t, 16> bytes{};
    bytes.fill(0x3e);
    const std::uint8_t mov_rsp[] = {0x89, 0x44, 0x24, 0x08};  // mov DWORD PTR [rsp+0x8],eax
    for (usize i = 0; i < 4; ++i) bytes[11 + i] = mov_rsp[i];
    CHECK(decode_mmio_instruction(bytes.data(), 15, CpuMode::Bits64).value().length == 15);
    for (usize i = 0; i < 4; ++i) bytes[12 + i] = mov_rsp[i];
    bytes[11] = 0x3e;
    CHECK(decode_mmio_instruction(bytes.data(), 16, CpuMode::Bits64).error() == InsnError::TooLong);
    // 15 prefixes and nothing else: too long, whatever follows.
    const std::vector<std::uint8_t> prefixes(15, 0x66);
    CHECK(decode_mmio_instruction(prefixes.data(), prefixes.size(), CpuMode::Bits64).error() == InsnError::TooLong);
    // InstructionBytes clamps its count to the array.
    InstructionBytes insn{{0x88, 0x20}, 200, CpuMode::Bits64};
    CHECK(decode_mmio_instruction(insn).value() == write(B, gpr::ah, 2));
}

TEST_CASE("mmio_load_value writes a register as x86 does") {
    const std::uint64_t old = 0x1111'2222'3333'4444;
    const GuestPhysAddr gpa(0xfe00'0000);
    // 32-bit destination: zero-extends into bits 63:32.
    CHECK(mmio_load_value(exit::MmioRead{gpa, D, gpr::rax, D, false}, 0xAAAA'BBBB'CCCC'DDDD, old) == 0xCCCC'DDDD);
    // 16- and 8-bit destinations merge.
    CHECK(mmio_load_value(exit::MmioRead{gpa, W, gpr::rbx, W, false}, 0xBEEF, old) == 0x1111'2222'3333'BEEF);
    CHECK(mmio_load_value(exit::MmioRead{gpa, B, gpr::rcx, B, false}, 0x1EF, old) == 0x1111'2222'3333'44EF);
    // AH..BH: bits 15:8.
    CHECK(mmio_load_value(exit::MmioRead{gpa, B, gpr::bh, B, false}, 0x5A, old) == 0x1111'2222'3333'5A44);
    // MOVZX/MOVSX into 32 and 64 bits; MOVSX into 16 bits merges.
    CHECK(mmio_load_value(exit::MmioRead{gpa, B, gpr::rax, D, false}, 0x80, old) == 0x80);
    CHECK(mmio_load_value(exit::MmioRead{gpa, B, gpr::rax, D, true}, 0x80, old) == 0xFFFF'FF80);
    CHECK(mmio_load_value(exit::MmioRead{gpa, W, gpr::rax, Q, true}, 0x8000, old) == 0xFFFF'FFFF'FFFF'8000);
    CHECK(mmio_load_value(exit::MmioRead{gpa, D, gpr::rax, Q, true}, 0x8000'0000, old) == 0xFFFF'FFFF'8000'0000);
    CHECK(mmio_load_value(exit::MmioRead{gpa, B, gpr::rax, W, true}, 0xF0, old) == 0x1111'2222'3333'FFF0);
    CHECK(mmio_load_value(exit::MmioRead{gpa, Q, gpr::rax, Q, false}, 0x0123'4567'89AB'CDEF, old) == 0x0123'4567'89AB'CDEF);
    CHECK(containing_gpr(gpr::bh) == gpr::rbx);
    CHECK(containing_gpr(gpr::r15) == gpr::r15);
}

TEST_CASE("mmio_exit: a write carries the register or immediate truncated; a read names the register") {
    Gprs regs{};
    for (usize i = 0; i < regs.size(); ++i) regs[i] = 0x0102'0304'0506'0708 * (i + 1);
    const GuestPhysAddr gpa(0x1000'0004);
    const auto bh = mmio_exit(gpa, decode({0x88, 0x78, 0x01}).value(), regs);  // mov [rax+1],bh
    REQUIRE(bh.is<exit::MmioWrite>());
    CHECK(bh.get_if<exit::MmioWrite>()->data == ((regs[gpr::rbx] >> 8) & 0xFF));
    const auto word = mmio_exit(gpa, decode({0x66, 0x89, 0x18}).value(), regs);  // mov [rax],bx
    CHECK(word.get_if<exit::MmioWrite>()->data == (regs[gpr::rbx] & 0xFFFF));
    CHECK(word.get_if<exit::MmioWrite>()->addr == gpa);
    const auto imm = mmio_exit(gpa, decode({0x48, 0xc7, 0x00, 0, 0, 0, 0x80}).value(), regs);
    CHECK(imm.get_if<exit::MmioWrite>()->data == 0xffff'ffff'8000'0000);
    CHECK(imm.get_if<exit::MmioWrite>()->width == Q);
    const auto load = mmio_exit(gpa, decode({0x4c, 0x0f, 0xbf, 0x0e}).value(), regs);  // movsx r9,WORD PTR [rsi]
    REQUIRE(load.is<exit::MmioRead>());
    const exit::MmioRead& r = *load.get_if<exit::MmioRead>();
    CHECK(r.reg == gpr::r9);
    CHECK(r.width == W);
    CHECK(r.reg_width == Q);
    CHECK(static_cast<bool>(r.signed_ext));
}

TEST_CASE("shared exit helpers: hypercall registers, IN/OUT, RDMSR/WRMSR") {
    Gprs regs{};
    regs[gpr::rax] = 0xFFFF'FFFF'DEAD'BEEF;
    regs[gpr::rdi] = 1, regs[gpr::rsi] = 2, regs[gpr::rdx] = 0x1234'5678'9ABC'DEF0, regs[gpr::rcx] = 0xABCD'0000'C000'0080;
    regs[gpr::r8] = 5, regs[gpr::r9] = 6;
    const exit::Hypercall call = hypercall_from(regs);
    CHECK(call.nr == 0xFFFF'FFFF'DEAD'BEEF);
    CHECK(call.args == std::array<std::uint64_t, 6>{1, 2, 0x1234'5678'9ABC'DEF0, 0xABCD'0000'C000'0080, 5, 6});

    const DecodeResult out = io_exit(IoAccess{0x3F8, B, false, false, false}, regs, 1);
    REQUIRE(out.has_value());
    CHECK(out.value().reason.get_if<exit::IoWrite>()->data == 0xEF);
    CHECK(out.value().rip_advance == 1);
    const DecodeResult in = io_exit(IoAccess{0x60, W, true, false, false}, regs, 2);
    CHECK(in.value().reason.get_if<exit::IoRead>()->port == 0x60);
    CHECK(io_exit(IoAccess{0x3F8, B, false, true, false}, regs, 1).error() == DecodeError::StringIo);
    CHECK(io_exit(IoAccess{0x3F8, B, true, false, true}, regs, 2).error() == DecodeError::StringIo);
    CHECK(io_load_value(exit::IoRead{0x60, W}, 0x12345, 0xFFFF'FFFF'FFFF'FFFF) == 0xFFFF'FFFF'FFFF'2345);
    CHECK(io_load_value(exit::IoRead{0x60, D}, 0x12345, 0xFFFF'FFFF'FFFF'FFFF) == 0x12345);

    const exit::SysRegRead rd = msr_read_exit(regs);
    CHECK(rd.addr == SysRegAddr{0xC000'0080});
    CHECK(rd.reg == gpr::rax);
    const exit::SysRegWrite wr = msr_write_exit(regs);
    CHECK(wr.addr == SysRegAddr{0xC000'0080});
    CHECK(wr.value == 0x9ABC'DEF0'DEAD'BEEF);
    CHECK(msr_load_values(0x1122'3344'5566'7788) == MsrLoad{0x5566'7788, 0x1122'3344});
}

TEST_CASE("names for logs") {
    CHECK(name(InsnError::StringOperation) == "StringOperation");
    CHECK(name(InsnError::Unsupported) == "Unsupported");
    CHECK(name(DecodeError::StringIo) == "StringIo");
    CHECK(name(DecodeError::EptMisconfig) == "EptMisconfig");
    CHECK(to_ax_error(DecodeError::UnknownExit) == AxError::Unsupported);
}
}  // namespace x86_64_exit_decode_test
