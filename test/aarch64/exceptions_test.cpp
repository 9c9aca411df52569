// exception_entry against what QEMU 7.2's CPU (-cpu max, no EL2, a guest
// stand-in running at EL1) wrote when it took the same exceptions for real:
// a store, loads and a fetch to unassigned physical memory (QEMU reports a
// synchronous external abort) and a udf, from EL1h, EL1t and EL0, with
// SCTLR_EL1.SPAN/DSSBS and PSTATE.NZCV/DIT/PAN varied. `trap` is what the
// VMM would have had from the same access as a stage-2 exit. QEMU clears
// NZCV and DIT on exception entry; the Arm ARM (AArch64.TakeException)
// leaves them unchanged, and so does exception_entry.
#include <doctest/doctest.h>

#include <arch/aarch64/exceptions.hpp>
#include <arch/aarch64/exit_decode.hpp>

namespace aarch64_exceptions_test {

using namespace axvcpu;
using namespace axvcpu::aarch64;

namespace {

constexpr std::uint64_t vbar = 0x4020'2000;
constexpr std::uint64_t sctlr_at_reset = 0x00C5'0838;  // QEMU's, SPAN set

struct Recorded {
    const char* what;
    GuestException kind;
    TrapRecord trap;
    ExceptionSource from;
    // What the CPU wrote.
    std::uint64_t esr_el1;
    std::optional<std::uint64_t> far_el1;
    std::uint64_t vector_offset;
    std::uint64_t pstate;  // as the Arm ARM has it (QEMU: NZCV, DIT cleared)
};

const Recorded recorded[] = {
    {"str x2 at EL1h, SPAN=1, DSSBS=0, NZCV=0b1010, DIT=1, DAIF clear", GuestException::DataAbort,
     TrapRecord{0x93C2'8046, 0x5000'0010, 0, 0}, ExceptionSource{0x4020'19E0, 0xA100'0005, vbar, sctlr_at_reset},
     0x9600'0050, 0x5000'0010, 0x200, 0xA100'03C5},
    {"ldr x2 at EL1t, SPAN=0 (PAN set), DSSBS=1 (SSBS set), NZCV=0b0101", GuestException::DataAbort,
     TrapRecord{0x93C2'0006, 0x5000'0020, 0, 0},
     ExceptionSource{0x4020'1A24, 0x5000'03C4, vbar, (sctlr_at_reset & ~sctlr::span) | sctlr::dssbs}, 0x9600'0010,
     0x5000'0020, 0x000, 0x5040'13C5},
    {"ldr x2 at EL1h with PAN=1, SPAN=1 (PAN kept)", GuestException::DataAbort,
     TrapRecord{0x93C2'0006, 0x5000'0028, 0, 0}, ExceptionSource{0x4020'1A60, 0x6040'03C5, vbar, sctlr_at_reset},
     0x9600'0010, 0x5000'0028, 0x200, 0x6040'03C5},
    {"str at EL0", GuestException::DataAbort, TrapRecord{0x93C2'8046, 0x5000'0008, 0, 0},
     ExceptionSource{0x4020'1870, 0x0, vbar, sctlr_at_reset}, 0x9200'0050, 0x5000'0008, 0x400, 0x3C5},
    {"blr to unassigned memory at EL1h (BTYPE=01 cleared)", GuestException::InstructionAbort,
     TrapRecord{0x8200'0006, 0x5000'0100, 0, 0}, ExceptionSource{0x5000'0100, 0x6000'0BC5, vbar, sctlr_at_reset},
     0x8600'0010, 0x5000'0100, 0x200, 0x6000'03C5},
    {"udf #0 at EL1h", GuestException::Undefined, TrapRecord{0x6230'002F, 0, 0, 0},
     ExceptionSource{0x4020'1AD8, 0x6000'03C5, vbar, sctlr_at_reset}, 0x0200'0000, std::nullopt, 0x200, 0x6000'03C5},
};

}  // namespace

TEST_CASE("exception entry matches what the CPU writes") {
    for (const Recorded& r : recorded) {
        CAPTURE(r.what);
        const std::optional<ExceptionEntry> entry = exception_entry(r.kind, r.trap, r.from);
        REQUIRE(entry.has_value());
        CHECK(entry->esr_el1 == r.esr_el1);
        CHECK(entry->far_el1 == r.far_el1);
        CHECK(entry->elr_el1 == r.from.pc);
        CHECK(entry->spsr_el1 == r.from.pstate);
        CHECK(entry->pc == vbar + r.vector_offset);
        CHECK(entry->pstate == r.pstate);
    }
}

TEST_CASE("a data abort after an exit that was no data abort has no address to report") {
    // After a trapped system register access: FnV set, FAR_EL1 left alone.
    const auto entry = exception_entry(GuestException::DataAbort, TrapRecord{0x6230'002F, 0, 0, 0},
                                       ExceptionSource{0x4000, 0x3C5, vbar, sctlr_at_reset});
    REQUIRE(entry.has_value());
    CHECK(entry->esr_el1 == 0x9600'0410);
    CHECK_FALSE(entry->far_el1.has_value());
    // An instruction abort always knows its address: the fetch's.
    const auto fetch = exception_entry(GuestException::InstructionAbort, TrapRecord{0x6230'002F, 0, 0, 0},
                                       ExceptionSource{0x4000, 0x0, vbar, sctlr_at_reset});
    REQUIRE(fetch.has_value());
    CHECK(fetch->esr_el1 == 0x8200'0010);
    CHECK(fetch->far_el1 == 0x4000u);
    CHECK(fetch->pc == vbar + 0x400);
}

TEST_CASE("a load's WnR stays clear, VBAR_EL1's RES0 bits are ignored") {
    const auto entry = exception_entry(GuestException::DataAbort, TrapRecord{0x93C2'0006, 0x1234, 0, 0},
                                       ExceptionSource{0x4000, 0x5, vbar | 0x7FF, sctlr_at_reset});
    REQUIRE(entry.has_value());
    CHECK((entry->esr_el1 & esr::wnr) == 0);
    CHECK(entry->pc == vbar + 0x200);
}

TEST_CASE("guest states the policy never runs have no exception entry") {
    for (std::uint64_t pstate : {0x10ull /* AArch32 User */, 0x13ull /* AArch32 Supervisor */, 0x9ull /* EL2h */,
                                 0x8ull /* EL2t */}) {
        CAPTURE(pstate);
        CHECK_FALSE(exception_entry(GuestException::Undefined, TrapRecord{}, ExceptionSource{0, pstate, vbar, 0})
                        .has_value());
    }
}

TEST_CASE("the instruction that trapped: ELR, except an HVC's, which is past it") {
    CHECK(trap_pc(TrapRecord{0x5A00'0000, 0, 0, 0x4000'1004}) == 0x4000'1000);  // hvc #0
    CHECK(trap_pc(TrapRecord{0x93C2'0006, 0, 0, 0x4000'1000}) == 0x4000'1000);  // ldr
    CHECK(trap_pc(TrapRecord{0x5E00'0000, 0, 0, 0x4000'1000}) == 0x4000'1000);  // smc: trapped before it
}
}  // namespace aarch64_exceptions_test
