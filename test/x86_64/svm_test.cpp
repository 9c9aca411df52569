// Host tests of the SVM exit decoder (arch/x86_64/svm.hpp) with recorded
// VMCB values: the exit codes of AMD APM vol. 2 appendix C, and EXITINFO1/2
// as QEMU 7.2's TCG fills them for the exits PLATFORM.md lists (IOIO
// with EXITINFO2 = next RIP, NPF with EXITINFO2 = GPA).
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <utility>

#include "arch/x86_64/svm.hpp"

namespace x86_64_svm_test {

using namespace axvcpu;
using namespace axvcpu::x86_64;
using namespace axvcpu::x86_64::svm;

namespace {

Gprs patterned() {
    Gprs regs{};
    for (usize i = 0; i < regs.size(); ++i) regs[i] = 0x1111'1111'1111'1111 * (i % 15 + 1);
    return regs;
}

InstructionBytes bytes(std::initializer_list<std::uint8_t> list, CpuMode mode = CpuMode::Bits64) {
    InstructionBytes insn{};
    for (std::uint8_t b : list) insn.bytes[insn.count++] = b;
    insn.mode = mode;
    return insn;
}

constexpr std::uint64_t rip = 0x10'0040;

}  // namespace

TEST_CASE("exit codes are APM appendix C's") {
    static_assert(exit_code::intr == 0x60 && exit_code::vintr == 0x64 && exit_code::cpuid == 0x72);
    static_assert(exit_code::hlt == 0x78 && exit_code::ioio == 0x7B && exit_code::msr == 0x7C);
    static_assert(exit_code::shutdown == 0x7F && exit_code::vmrun == 0x80 && exit_code::vmmcall == 0x81);
    static_assert(exit_code::xsetbv == 0x8D && exit_code::npf == 0x400 && exit_code::vmgexit == 0x403);
    static_assert(exit_code::invalid == 0xFFFF'FFFF'FFFF'FFFF && exit_code::busy == 0xFFFF'FFFF'FFFF'FFFE);
    CHECK(exit_code_name(0x81) == "VMMCALL");
    CHECK(exit_code_name(0x4E) == "EXCEPTION");  // #PF intercept
    CHECK(exit_code_name(0x13) == "CR_WRITE");
    CHECK(exit_code_name(~std::uint64_t{0}) == "INVALID");
    CHECK(exit_code_name(0x300) == "");
}

TEST_CASE("exit_code_name: every named code by its APM number, the CR/DR/exception ranges at their edges") {
    // The numbers are APM vol. 2 table C-1's, written out rather than taken
    // from exit_code::, so a wrong constant fails here too.
    const std::pair<std::uint64_t, std::string_view> named[] = {
        {0x60, "INTR"},      {0x61, "NMI"},    {0x62, "SMI"},     {0x63, "INIT"},        {0x64, "VINTR"},
        {0x72, "CPUID"},     {0x74, "IRET"},   {0x77, "PAUSE"},   {0x78, "HLT"},         {0x79, "INVLPG"},
        {0x7B, "IOIO"},      {0x7C, "MSR"},    {0x7D, "TASK_SWITCH"}, {0x7F, "SHUTDOWN"}, {0x80, "VMRUN"},
        {0x81, "VMMCALL"},   {0x89, "WBINVD"}, {0x8D, "XSETBV"},  {0x400, "NPF"},
        {0xFFFF'FFFF'FFFF'FFFF, "INVALID"},    {0xFFFF'FFFF'FFFF'FFFE, "BUSY"},
    };
    for (const auto& entry : named) {  // not a structured binding: Clang 14's CAPTURE cannot take one
        CAPTURE(entry.first);
        CHECK(exit_code_name(entry.first) == entry.second);
    }
    // CR0..CR15 reads and writes, DR0..DR15, then the 32 exception vectors.
    const std::pair<std::uint64_t, std::string_view> ranges[] = {
        {0x00, "CR_READ"},  {0x0F, "CR_READ"},  {0x10, "CR_WRITE"},  {0x1F, "CR_WRITE"},
        {0x20, "DR_READ"},  {0x2F, "DR_READ"},  {0x30, "DR_WRITE"},  {0x3F, "DR_WRITE"},
        {0x40, "EXCEPTION"}, {0x5F, "EXCEPTION"},
    };
    for (const auto& entry : ranges) {  // not a structured binding: Clang 14's CAPTURE cannot take one
        CAPTURE(entry.first);
        CHECK(exit_code_name(entry.first) == entry.second);
    }
    // Codes of the table this one gives no name: RDTSC, RSM, VMLOAD, RDPRU,
    // the CR0 write trap, INVLPGB, AVIC, VMGEXIT; and -3, below BUSY.
    for (std::uint64_t code : {exit_code::rdtsc, exit_code::rsm, exit_code::vmload, exit_code::rdpru,
                               exit_code::cr0_write_trap, exit_code::invlpgb, exit_code::avic_incomplete_ipi,
                               exit_code::vmgexit, std::uint64_t{0xFFFF'FFFF'FFFF'FFFD}}) {
        CAPTURE(code);
        CHECK(exit_code_name(code).empty());
    }
}

TEST_CASE("VMMCALL: hypercall from RAX and RDI..R9, RIP + 3") {
    const Gprs regs = patterned();
    const DecodeResult got = decode_exit(TrapRecord{exit_code::vmmcall, 0, 0, 0, rip, 0}, regs, {});
    REQUIRE(got.has_value());
    const auto* call = got.value().reason.get_if<exit::Hypercall>();
    REQUIRE(call);
    CHECK(call->nr == regs[gpr::rax]);
    CHECK(call->args[0] == regs[gpr::rdi]);
    CHECK(call->args[5] == regs[gpr::r9]);
    CHECK(got.value().rip_advance == 3);
}

TEST_CASE("IOIO: EXITINFO1 decoded, RIP from EXITINFO2, string and REP forms refused") {
    // out dx,al with DX = 0x3f8: port 0x3f8, SZ8, A64 (QEMU sets the address size bit too).
    const std::uint64_t out_al = 0x03F8'0000 | ioio::sz8 | ioio::a64;
    CHECK(decode_ioio(out_al) == IoAccess{0x3F8, AccessWidth::Byte, false, false, false});
    Gprs regs = patterned();
    regs[gpr::rax] = 0xFFFF'FFFF'FFFF'FF41;
    DecodeResult got = decode_exit(TrapRecord{exit_code::ioio, out_al, rip + 1, 0, rip, 0}, regs, {});
    REQUIRE(got.has_value());
    const auto* w = got.value().reason.get_if<exit::IoWrite>();
    REQUIRE(w);
    CHECK(w->port == 0x3F8);
    CHECK(w->width == AccessWidth::Byte);
    CHECK(w->data == 0x41);
    CHECK(got.value().rip_advance == 1);

    // in eax,0x60 (E5 60): TYPE=1, SZ32; two bytes.
    const std::uint64_t in_eax = 0x0060'0000 | ioio::sz32 | ioio::a64 | ioio::type_in;
    got = decode_exit(TrapRecord{exit_code::ioio, in_eax, rip + 2, 0, rip, 0}, regs, {});
    REQUIRE(got.has_value());
    CHECK(got.value().reason.get_if<exit::IoRead>()->port == 0x60);
    CHECK(got.value().reason.get_if<exit::IoRead>()->width == AccessWidth::Dword);
    CHECK(got.value().rip_advance == 2);
    // in ax,dx with an operand-size prefix: 66 ED.
    got = decode_exit(TrapRecord{exit_code::ioio, 0x0CF8'0000 | ioio::sz16 | ioio::type_in, rip + 2, 0, rip, 0}, regs, {});
    CHECK(got.value().reason.get_if<exit::IoRead>()->width == AccessWidth::Word);

    // rep outsb / insw: a documented refusal, never an IoWrite/IoRead.
    const std::uint64_t rep_outsb = 0x03F8'0000 | ioio::sz8 | ioio::a64 | ioio::str | ioio::rep | (3u << 10);
    CHECK(decode_ioio(rep_outsb)->string);
    CHECK(ioio::segment(rep_outsb) == 3);
    CHECK(decode_exit(TrapRecord{exit_code::ioio, rep_outsb, rip + 2, 0, rip, 0}, regs, {}).error() == DecodeError::StringIo);
    CHECK(decode_exit(TrapRecord{exit_code::ioio, 0x0060'0000 | ioio::sz16 | ioio::str | ioio::type_in, rip + 2, 0, rip, 0},
                      regs, {}).error() == DecodeError::StringIo);
    CHECK(decode_exit(TrapRecord{exit_code::ioio, 0x0060'0000 | ioio::sz8 | ioio::rep, rip + 2, 0, rip, 0}, regs, {})
              .error() == DecodeError::StringIo);
    // No size bit, two size bits, or a next RIP that is not 1..15 bytes on.
    CHECK(!decode_ioio(0x0060'0000));
    CHECK(decode_exit(TrapRecord{exit_code::ioio, 0x0060'0000 | ioio::sz8 | ioio::sz16, rip + 1, 0, rip, 0}, regs, {})
              .error() == DecodeError::BadIoSize);
    CHECK(decode_exit(TrapRecord{exit_code::ioio, out_al, rip, 0, rip, 0}, regs, {}).error() == DecodeError::BadLength);
    CHECK(decode_exit(TrapRecord{exit_code::ioio, out_al, rip + 16, 0, rip, 0}, regs, {}).error() == DecodeError::BadLength);
}

TEST_CASE("NPF: MMIO from the instruction at RIP, else NestedPageFault with RIP kept") {
    const Gprs regs = patterned();
    const std::uint64_t gpa = 0xFEB0'0010;
    // A write to an unmapped page: final GPA, not present, RW=1 (QEMU: 0x1'0000'0006 for a user write).
    const std::uint64_t write_fault = npf::final_gpa | npf::write | npf::user;
    DecodeResult got = decode_exit(TrapRecord{exit_code::npf, write_fault, gpa, 0, rip, 0}, regs,
                                   bytes({0x89, 0x48, 0x10}));  // mov DWORD PTR [rax+0x10],ecx
    REQUIRE(got.has_value());
    const auto* w = got.value().reason.get_if<exit::MmioWrite>();
    REQUIRE(w);
    CHECK(w->addr == GuestPhysAddr(gpa));
    CHECK(w->width == AccessWidth::Dword);
    CHECK(w->data == (regs[gpr::rcx] & 0xFFFF'FFFF));
    CHECK(got.value().rip_advance == 3);

    // A read: movzx r10d, WORD PTR [rip+0x100] in 64-bit code.
    const std::uint64_t read_fault = npf::final_gpa;
    got = decode_exit(TrapRecord{exit_code::npf, read_fault, gpa, 0, rip, 0}, regs,
                      bytes({0x44, 0x0f, 0xb7, 0x15, 0x00, 0x01, 0x00, 0x00}));
    const auto* r = got.value().reason.get_if<exit::MmioRead>();
    REQUIRE(r);
    CHECK(r->reg == gpr::r10);
    CHECK(r->width == AccessWidth::Word);
    CHECK(r->reg_width == AccessWidth::Dword);
    CHECK(!r->signed_ext);
    CHECK(got.value().rip_advance == 8);

    // 32-bit guest code: mov BYTE PTR ds:0xfeb00010, 0x5a (C6 05 disp32 imm8).
    got = decode_exit(TrapRecord{exit_code::npf, write_fault, gpa, 0, rip, 0}, regs,
                      bytes({0xc6, 0x05, 0x10, 0x00, 0xb0, 0xfe, 0x5a}, CpuMode::Bits32));
    CHECK(got.value().reason.get_if<exit::MmioWrite>()->data == 0x5a);
    CHECK(got.value().rip_advance == 7);

    auto nested = [&](std::uint64_t info1, InstructionBytes insn, std::uint32_t flags) {
        const DecodeResult d = decode_exit(TrapRecord{exit_code::npf, info1, gpa, 0, rip, 0}, regs, insn);
        REQUIRE(d.has_value());
        const auto* f = d.value().reason.get_if<exit::NestedPageFault>();
        REQUIRE(f);
        CHECK(f->addr == GuestPhysAddr(gpa));
        CHECK(f->access_flags.bits == flags);
        CHECK(d.value().rip_advance == 0);
    };
    // The decoded direction contradicts the fault: not guessed.
    nested(read_fault, bytes({0x89, 0x48, 0x10}), MappingFlags::READ);
    // Undecodable: a locked RMW, a string store, truncated bytes, nothing read at all.
    nested(write_fault, bytes({0xf0, 0x01, 0x08}), MappingFlags::WRITE);
    nested(write_fault, bytes({0xf3, 0xab}), MappingFlags::WRITE);
    nested(write_fault, bytes({0x89, 0x48}), MappingFlags::WRITE);
    nested(write_fault, InstructionBytes{}, MappingFlags::WRITE);
    // Not MMIO whatever the instruction: a fetch, a permission fault, the guest's table walk, a reserved bit.
    nested(npf::final_gpa | npf::fetch | npf::user, bytes({0x89, 0x48, 0x10}), MappingFlags::EXECUTE);
    nested(npf::final_gpa | npf::present | npf::write, bytes({0x89, 0x48, 0x10}), MappingFlags::WRITE);
    nested(npf::table_walk | npf::write, bytes({0x89, 0x48, 0x10}), MappingFlags::WRITE);
    nested(npf::final_gpa | npf::reserved | npf::present, bytes({0x8b, 0x48, 0x10}), MappingFlags::READ);

    CHECK(classify_npf(npf::final_gpa) == NpfKind::Mmio);
    CHECK(classify_npf(npf::write) == NpfKind::Mmio);  // neither bit 32 nor 33: treated as the final access
    CHECK(classify_npf(npf::table_walk) == NpfKind::TableWalk);
    CHECK(classify_npf(npf::final_gpa | npf::fetch) == NpfKind::InstructionFetch);
    CHECK(classify_npf(npf::final_gpa | npf::present) == NpfKind::Permission);
    CHECK(classify_npf(npf::reserved | npf::table_walk) == NpfKind::Reserved);
    CHECK(name(NpfKind::TableWalk) == "TableWalk");
}

TEST_CASE("HLT, MSR, INTR, SHUTDOWN, VMEXIT_INVALID, and everything else") {
    Gprs regs = patterned();
    regs[gpr::rcx] = 0xC000'0082;  // LSTAR
    regs[gpr::rax] = 0xAAAA'AAAA'1234'5678;
    regs[gpr::rdx] = 0xBBBB'BBBB'FFFF'8000;

    DecodeResult got = decode_exit(TrapRecord{exit_code::hlt, 0, 0, 0, rip, 0}, regs, {});
    CHECK(got.value().reason.is<exit::Halt>());
    CHECK(got.value().rip_advance == 1);

    got = decode_exit(TrapRecord{exit_code::msr, 0, 0, 0, rip, 0}, regs, {});
    REQUIRE(got.value().reason.is<exit::SysRegRead>());
    CHECK(got.value().reason.get_if<exit::SysRegRead>()->addr == SysRegAddr{0xC000'0082});
    CHECK(got.value().reason.get_if<exit::SysRegRead>()->reg == gpr::rax);
    CHECK(got.value().rip_advance == 2);
    got = decode_exit(TrapRecord{exit_code::msr, 1, 0, 0, rip, 0}, regs, {});
    CHECK(got.value().reason.get_if<exit::SysRegWrite>()->value == 0xFFFF'8000'1234'5678);
    CHECK(got.value().rip_advance == 2);
    CHECK(decode_exit(TrapRecord{exit_code::msr, 2, 0, 0, rip, 0}, regs, {}).error() == DecodeError::BadMsrAccess);

    got = decode_exit(TrapRecord{exit_code::intr, 0, 0, 0, rip, 0x20}, regs, {});
    CHECK(got.value().reason.get_if<exit::ExternalInterrupt>()->vector == 0x20);
    CHECK(got.value().rip_advance == 0);
    got = decode_exit(TrapRecord{exit_code::shutdown, 0, 0, 0, rip, 0}, regs, {});
    CHECK(got.value().reason.is<exit::SystemDown>());
    got = decode_exit(TrapRecord{exit_code::invalid, 0, 0, 0, rip, 0}, regs, {});
    CHECK(got.value().reason.get_if<exit::FailEntry>()->hardware_entry_failure_reason == exit_code::invalid);
    CHECK(got.value().rip_advance == 0);
    got = decode_exit(TrapRecord{exit_code::busy, 0, 0, 0, rip, 0}, regs, {});
    CHECK(got.value().reason.is<exit::FailEntry>());

    for (std::uint64_t code : {exit_code::cpuid, exit_code::xsetbv, exit_code::vintr, exit_code::cr0_write,
                               exit_code::exception_base + 14, exit_code::nmi, exit_code::vmrun, std::uint64_t{0x500}}) {
        CAPTURE(code);
        CHECK(decode_exit(TrapRecord{code, 0, 0, 0, rip, 0}, regs, {}).error() == DecodeError::UnknownExit);
    }
}

TEST_CASE("TrapRecord prints its fields") {
    struct Sink {
        std::string text;
        void write(std::string_view s) { text.append(s); }
    } sink;
    print_to(sink, TrapRecord{exit_code::npf, 6, 0xFEB0'0000, 0, rip, 0});
    CHECK(sink.text.find("TrapRecord") == 0);
    CHECK(sink.text.find("exit_code: 0x400") != std::string::npos);
}
}  // namespace x86_64_svm_test
