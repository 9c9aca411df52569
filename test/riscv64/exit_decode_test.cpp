// Host tests of the riscv64 trap decoders. Instruction words were produced by
// riscv64-linux-gnu-as (objdump -M no-aliases); trap register values follow
// what QEMU 7.2 records for such faults (htinst always 0, GPA = htval << 2 |
// stval & 3), as the QEMU suite's guests exercise for real.
#include <doctest/doctest.h>

#include "arch/riscv64/exit_decode.hpp"

namespace riscv64_exit_decode_test {

using namespace axvcpu;
using namespace axvcpu::riscv64;

namespace {
struct Form {
    const char* text;
    std::uint32_t word;
    LoadStore expected;
};

// Every RV64 integer load/store form and width, compressed and not.
constexpr Form forms[] = {
    {"lb a0,0(a1)", 0x00058503, {false, AccessWidth::Byte, 10, true, 4}},
    {"lh t2,4(s0)", 0x00441383, {false, AccessWidth::Word, 7, true, 4}},
    {"lw s11,-8(sp)", 0xff812d83, {false, AccessWidth::Dword, 27, true, 4}},
    {"ld t6,16(a5)", 0x0107bf83, {false, AccessWidth::Qword, 31, false, 4}},
    {"lbu ra,0(t0)", 0x0002c083, {false, AccessWidth::Byte, 1, false, 4}},
    {"lhu a7,2(a0)", 0x00255883, {false, AccessWidth::Word, 17, false, 4}},
    {"lwu t0,12(s1)", 0x00c4e283, {false, AccessWidth::Dword, 5, false, 4}},
    {"sb a2,0(a0)", 0x00c50023, {true, AccessWidth::Byte, 12, false, 4}},
    {"sh s3,6(t1)", 0x01331323, {true, AccessWidth::Word, 19, false, 4}},
    {"sw t6,-4(sp)", 0xfff12e23, {true, AccessWidth::Dword, 31, false, 4}},
    {"sd ra,8(a4)", 0x00173423, {true, AccessWidth::Qword, 1, false, 4}},
    {"c.lw a0,4(a1)", 0x41c8, {false, AccessWidth::Dword, 10, true, 2}},
    {"c.ld s1,8(a5)", 0x6784, {false, AccessWidth::Qword, 9, false, 2}},
    {"c.sw a5,0(s0)", 0xc01c, {true, AccessWidth::Dword, 15, false, 2}},
    {"c.sd a2,16(a3)", 0xea90, {true, AccessWidth::Qword, 12, false, 2}},
    {"c.lwsp t6,12(sp)", 0x4fb2, {false, AccessWidth::Dword, 31, true, 2}},
    {"c.ldsp ra,24(sp)", 0x60e2, {false, AccessWidth::Qword, 1, false, 2}},
    {"c.swsp s2,4(sp)", 0xc24a, {true, AccessWidth::Dword, 18, false, 2}},
    {"c.sdsp t6,8(sp)", 0xe47e, {true, AccessWidth::Qword, 31, false, 2}},
};

// Not plain integer loads/stores: these must never decode as MMIO.
constexpr std::uint32_t not_load_store[] = {
    0x00b6252f,  // amoadd.w a0,a1,(a2)
    0x1005b52f,  // lr.d a0,(a1)
    0x0005a507,  // flw fa0,0(a1)
    0xa60c,      // c.fsd fa1,8(a2)
    0x2588,      // c.fld fa0,8(a1)
    0x10500073,  // wfi
    0x10002573,  // csrrs a0,sstatus,zero
    0x4002,      // c.lwsp x0,0(sp): reserved
    0x6002,      // c.ldsp x0,0(sp): reserved
    0x0000,      // all-zero parcel: defined illegal
    0x0000701f,  // 48-bit encoding prefix
};

// The transformed instruction QEMU/hardware would put in htinst: rs1 and the
// offset zeroed, bit 1 cleared when the original was compressed.
constexpr std::uint64_t transformed(std::uint32_t word, unsigned length) {
    std::uint32_t standard = word;
    if (length == 2) {
        const auto ls = decode_load_store(word).value();
        const unsigned f3 = ls.width == AccessWidth::Dword ? 2 : 3;
        standard = ls.is_store ? (ls.reg << 20 | f3 << 12 | 0x23) : (ls.reg << 7 | f3 << 12 | 0x03);
        return standard & ~2u;
    }
    if ((word & 0x7f) == 0x03) return standard & 0x000fffffu;  // keep funct3, rd, opcode
    return standard & 0x01f0707fu;                             // keep rs2, funct3, opcode
}
}  // namespace

TEST_CASE("every load/store form decodes with width, register, sign and length") {
    for (const Form& form : forms) {
        CAPTURE(form.text);
        const auto decoded = decode_load_store(form.word);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == form.expected);
    }
}

TEST_CASE("a 32-bit load/store followed by garbage in the next parcel still decodes") {
    // hlvx reads the second parcel only for 32-bit instructions; a compressed
    // one must ignore whatever follows it.
    CHECK(decode_load_store(0xdead0000u | 0x41c8) == LoadStore{false, AccessWidth::Dword, 10, true, 2});
}

TEST_CASE("instructions that are not plain loads/stores do not decode") {
    for (std::uint32_t word : not_load_store) {
        CAPTURE(word);
        CHECK_FALSE(decode_load_store(word).has_value());
    }
}

TEST_CASE("instruction length from the first parcel") {
    CHECK(instruction_length(0x41c8) == 2);
    CHECK(instruction_length(0x8503) == 4);
    CHECK(instruction_length(0x701f) == 0);
}

TEST_CASE("htinst transformed instructions decode like the original") {
    for (const Form& form : forms) {
        CAPTURE(form.text);
        const std::uint64_t htinst = transformed(form.word, form.expected.length);
        CHECK(classify_htinst(htinst) == HtinstKind::Transformed);
        const auto decoded = decode_htinst(htinst);
        REQUIRE(decoded.has_value());
        CHECK(*decoded == form.expected);
    }
    CHECK(classify_htinst(0) == HtinstKind::NotProvided);
    CHECK(classify_htinst(0x00002000) == HtinstKind::Pseudo);  // implicit 32-bit PTE read
    CHECK(classify_htinst(0x00003020) == HtinstKind::Pseudo);  // implicit 64-bit PTE write
}

TEST_CASE("scause classification and the guest fault address") {
    CHECK(classify_scause(0x8000000000000005ull).interrupt);
    CHECK(classify_scause(0x8000000000000005ull).code == irq::supervisor_timer);
    CHECK_FALSE(classify_scause(21).interrupt);
    // lw from GPA 0x10000005: htval = GPA >> 2, stval = the guest VA (bare).
    CHECK(guest_fault_address(0x10000005, 0x4000001) == GuestPhysAddr(0x10000005));
    // With guest paging on, stval is a VA whose low bits still match the GPA.
    CHECK(guest_fault_address(0xffffffc000001003ull, 0x4000000) == GuestPhysAddr(0x10000003));
}

TEST_CASE("guest load page fault with htinst = 0 decodes from the fetched instruction") {
    // lw a0,4(a1) with a1 = 0x10000000.
    GuestPageFaultInfo info{21, 0x10000004, 0x4000001, 0, 0x0045a503};
    const auto fault = decode_guest_page_fault(info);
    REQUIRE(std::holds_alternative<MmioAccess>(fault));
    const auto& mmio = std::get<MmioAccess>(fault);
    CHECK(mmio.addr == GuestPhysAddr(0x10000004));
    CHECK(mmio.access == LoadStore{false, AccessWidth::Dword, 10, true, 4});
    const AxVCpuExitReason reason = mmio_exit(mmio, 0);
    REQUIRE(reason.is<exit::MmioRead>());
    const auto& read = *reason.get_if<exit::MmioRead>();
    CHECK(read.addr == GuestPhysAddr(0x10000004));
    CHECK(read.width == AccessWidth::Dword);
    CHECK(read.reg == 10);
    CHECK(read.reg_width == AccessWidth::Qword);
    CHECK(read.signed_ext);
}

TEST_CASE("guest store page fault: compressed store, data truncated to the width") {
    GuestPageFaultInfo info{23, 0x10000000, 0x4000000, 0, 0xc01c};  // c.sw a5,0(s0)
    const auto fault = decode_guest_page_fault(info);
    REQUIRE(std::holds_alternative<MmioAccess>(fault));
    const AxVCpuExitReason reason = mmio_exit(std::get<MmioAccess>(fault), 0x1122334455667788ull);
    REQUIRE(reason.is<exit::MmioWrite>());
    CHECK(reason.get_if<exit::MmioWrite>()->width == AccessWidth::Dword);
    CHECK(reason.get_if<exit::MmioWrite>()->data == 0x55667788ull);
    CHECK(std::get<MmioAccess>(fault).access.length == 2);

    // sb from x0 writes zero whatever the "register value" says.
    GuestPageFaultInfo sb_zero{23, 0x10000000, 0x4000000, 0, 0x00050023};  // sb zero,0(a0)
    const AxVCpuExitReason zero = mmio_exit(std::get<MmioAccess>(decode_guest_page_fault(sb_zero)), 0xff);
    CHECK(zero.get_if<exit::MmioWrite>()->data == 0);
    CHECK(zero.get_if<exit::MmioWrite>()->width == AccessWidth::Byte);
}

TEST_CASE("guest page fault prefers htinst when the hardware provides it") {
    // htinst says lhu a7 (compressed? no: bit 1 set, 32-bit); insn is ignored.
    GuestPageFaultInfo info{21, 0x10000002, 0x4000000, 0x00005883, 0x0};
    const auto fault = decode_guest_page_fault(info);
    REQUIRE(std::holds_alternative<MmioAccess>(fault));
    CHECK(std::get<MmioAccess>(fault).access == LoadStore{false, AccessWidth::Word, 17, false, 4});
    CHECK(std::get<MmioAccess>(fault).addr == GuestPhysAddr(0x10000002));
}

TEST_CASE("faults that are not plain MMIO become NestedPageFault with the access kind") {
    const auto nested = [](const GuestPageFaultInfo& info) {
        const auto fault = decode_guest_page_fault(info);
        REQUIRE(std::holds_alternative<exit::NestedPageFault>(fault));
        return std::get<exit::NestedPageFault>(fault);
    };
    // AMO on an unmapped page: QEMU 7.2 reports it as a store or as a load
    // guest page fault; either way it is a read-modify-write.
    constexpr MappingFlags read_write{MappingFlags::READ | MappingFlags::WRITE};
    auto amo = nested({23, 0x90000000, 0x24000000, 0, 0x00b6252f});
    CHECK(amo.addr == GuestPhysAddr(0x90000000));
    CHECK(amo.access_flags == read_write);
    CHECK(nested({21, 0x90000000, 0x24000000, 0, 0x00b6252f}).access_flags == read_write);
    CHECK(nested({21, 0x90000000, 0x24000000, 0, 0x1005b52f}).access_flags == read_write);  // lr.d
    // FP load.
    CHECK(nested({21, 0x90000000, 0x24000000, 0, 0x0005a507}).access_flags == MappingFlags{MappingFlags::READ});
    // Instruction fetch from unmapped guest memory.
    auto fetch = nested({20, 0x90000000, 0x24000000, 0, std::nullopt});
    CHECK(fetch.access_flags == MappingFlags{MappingFlags::EXECUTE});
    // Instruction could not be read back.
    CHECK(nested({21, 0x90000000, 0x24000000, 0, std::nullopt}).addr == GuestPhysAddr(0x90000000));
    // Implicit VS-stage page-table access.
    CHECK(nested({21, 0x90000000, 0x24000000, 0x00003000, std::nullopt}).addr == GuestPhysAddr(0x90000000));
    // A store instruction reported as a load fault is inconsistent.
    nested({21, 0x90000000, 0x24000000, 0, 0x00c50023});
    nested({23, 0x90000000, 0x24000000, 0, 0x00058503});
}

TEST_CASE("mmio_load_value extends the loaded bytes as the instruction would") {
    const auto load = [](AccessWidth width, bool signed_ext, std::uint64_t raw) {
        return mmio_load_value(exit::MmioRead{GuestPhysAddr(0x0a000000), width, 10, AccessWidth::Qword, signed_ext}, raw);
    };
    CHECK(load(AccessWidth::Byte, true, 0xff) == ~0ull);
    CHECK(load(AccessWidth::Byte, false, 0x1ff) == 0xff);
    CHECK(load(AccessWidth::Word, true, 0x8000) == 0xffffffffffff8000ull);
    CHECK(load(AccessWidth::Dword, true, 0x80000000) == 0xffffffff80000000ull);
    CHECK(load(AccessWidth::Dword, false, 0x80000000) == 0x80000000ull);
    CHECK(load(AccessWidth::Qword, false, 0x8000000000000000ull) == 0x8000000000000000ull);
}

TEST_CASE("wfi is recognised exactly") {
    CHECK(is_wfi(0x10500073));
    CHECK_FALSE(is_wfi(0x10200073));  // sret
}

TEST_CASE("a 32-bit load is fully decoded from its low half (the policy skips reading the high one)") {
    for (const Form& form : forms) {
        if (form.expected.is_store || form.expected.length != 4) continue;
        CAPTURE(form.text);
        CHECK(decode_load_store(form.word & 0xffff) == form.expected);
    }
}

TEST_CASE("decode_load_low_half (the MMIO-read fast path) agrees with decode_load_store on every low parcel") {
    // Every 16-bit low parcel, each with a few high halves: a 32-bit load
    // decodes the same from its low half alone; nothing else decodes.
    for (std::uint32_t low = 0; low <= 0xffff; ++low) {
        const auto fast = decode_load_low_half(low);
        for (const std::uint32_t high : {0x0000u, 0x1234u, 0xffffu}) {
            const auto full = decode_load_store(high << 16 | low);
            const bool is_32bit_load = full && !full->is_store && full->length == 4;
            CAPTURE(low);
            CHECK(fast.has_value() == is_32bit_load);
            if (fast && full) CHECK(*fast == *full);
        }
    }
}
}  // namespace riscv64_exit_decode_test
