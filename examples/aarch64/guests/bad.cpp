// A misbehaving guest: accesses nothing answers (an unmapped load, a read
// past the test device's registers), accesses the policy must refuse to
// decode (ldp/stp to MMIO), a register the hypervisor does not emulate, an
// unknown SMC, and a call into unmapped memory. Each access comes back as
// the synchronous external abort a bus would give, at this guest's own
// VBAR_EL1, with ESR_EL1, FAR_EL1 and ELR_EL1 as the Arm ARM says; the
// hypervisor survives all of it.
#include "guest.hpp"

using namespace g;

namespace {
// What the last synchronous exception looked like.
volatile u64 aborts = 0, last_esr = 0, last_far = 0, last_elr = 0;

constexpr u64 ec(u64 esr) { return esr >> 26; }
constexpr u64 ec_dabt_same = 0x25, ec_iabt_same = 0x21;
constexpr u64 il = u64{1} << 25, wnr = u64{1} << 6, fsc_sync_external = 0x10;

// Checks the abort the last access took: data or instruction, at `pc`, for `addr`.
void expect_abort(u64 code, u64 count, u64 expected_ec, bool write, u64 addr, u64 pc) {
    check(aborts == count, code, aborts);
    check(ec(last_esr) == expected_ec, code | 1, last_esr);
    check((last_esr & il) != 0 && (last_esr & 0x3F) == fsc_sync_external, code | 2, last_esr);
    if (expected_ec == ec_dabt_same) check(((last_esr & wnr) != 0) == write, code | 3, last_esr);
    check(last_far == addr, code | 4, last_far);
    if (pc != 0) check(last_elr == pc, code | 5, last_elr);
}

// The address of the instruction a label names, for ELR checks.
#define LOAD_AT(label, insn, out, addr) \
    asm volatile(".globl " label "\n" label ":\n\t" insn : "+r"(out) : "r"(addr) : "memory")
extern "C" char bad_unmapped_load[], bad_past_registers[];
}  // namespace

// Data aborts resume after the access; an instruction abort returns to the
// caller (x30, saved at frame[1]).
extern "C" u64 guest_sync(u64* frame) {
    u64 esr, far, elr;
    asm volatile("mrs %0, esr_el1\n\tmrs %1, far_el1\n\tmrs %2, elr_el1" : "=r"(esr), "=r"(far), "=r"(elr));
    if (ec(esr) != ec_dabt_same && ec(esr) != ec_iabt_same) return 0;
    aborts = aborts + 1;
    last_esr = esr;
    last_far = far;
    last_elr = elr;
    const u64 resume = ec(esr) == ec_iabt_same ? frame[1] : elr + 4;
    asm volatile("msr elr_el1, %0" : : "r"(resume));
    return 1;
}

extern "C" void guest_main(u64, u64) {
    print("guest: misbehaving-guest test\n");
    check(hvc(abi::hc_hello, abi::test_bad) == 0, 1);

    // A load from nothing: it has a syndrome, so it exits as MmioRead, and
    // no device claims it. The register keeps its value.
    u64 value = 0x5A5A;
    LOAD_AT("bad_unmapped_load", "ldr %0, [%1]", value, abi::unmapped_base);
    expect_abort(0x10, 1, ec_dabt_same, false, abi::unmapped_base, reinterpret_cast<u64>(bad_unmapped_load));
    check(value == 0x5A5A, 0x16, value);

    // Past the test device's registers: the device refuses it.
    LOAD_AT("bad_past_registers", "ldr %w0, [%1]", value, abi::testdev_base + 0x20);
    expect_abort(0x20, 2, ec_dabt_same, false, abi::testdev_base + 0x20, reinterpret_cast<u64>(bad_past_registers));

    // ldp/stp have no instruction syndrome (ISV = 0): never a guessed MMIO access.
    u64 a = 0x1111;
    u64 b = 0x2222;
    asm volatile("ldp %0, %1, [%2]" : "+r"(a), "+r"(b) : "r"(abi::testdev_base) : "memory");
    expect_abort(0x30, 3, ec_dabt_same, false, abi::testdev_base, 0);
    check(a == 0x1111 && b == 0x2222, 0x36, a);
    asm volatile("stp %0, %1, [%2]" : : "r"(a), "r"(b), "r"(abi::testdev_base + 0x10) : "memory");
    expect_abort(0x40, 4, ec_dabt_same, true, abi::testdev_base + 0x10, 0);

    // Registers the hypervisor does not know: a write is ignored, a read is zero.
    asm volatile("msr S3_0_C12_C11_7, %0" : : "r"(u64{1}));  // ICC_SGI0R_EL1
    u64 pfr0 = 1;
    asm volatile("mrs %0, id_aa64pfr0_el1" : "=r"(pfr0));
    check(pfr0 == 0, 3, pfr0);

    // The debug registers trap (MDCR_EL2.TDA, TDOSA): a breakpoint address
    // written reads back as zero, as MDSCR_EL1 does, so no VM sees what
    // another left in them; the OS lock reads as implemented and unlocked.
    asm volatile("msr dbgbvr0_el1, %0\n\tmsr mdscr_el1, %1\n\tisb" : : "r"(u64{0x4801'0000}), "r"(u64{1} << 15));
    u64 bvr0 = 1, mdscr = 1, oslsr = 1;
    asm volatile("mrs %0, dbgbvr0_el1\n\tmrs %1, mdscr_el1\n\tmrs %2, oslsr_el1" : "=r"(bvr0), "=r"(mdscr), "=r"(oslsr));
    check(bvr0 == 0 && mdscr == 0 && oslsr == 0b1000, 6, bvr0 | mdscr | oslsr);

    // An SMC no firmware answers.
    check(smc(0xC200'1234, 1, 2, 3) == ~u64{0}, 4);

    // A call into memory that is not mapped: an instruction abort at the
    // target, and the handler returns to us.
    using Fn = void (*)();
    volatile u64 target = abi::unmapped_base;
    reinterpret_cast<Fn>(target)();
    expect_abort(0x50, 5, ec_iabt_same, false, abi::unmapped_base, abi::unmapped_base);
    print("guest: came back from the unmapped call\n");

    pass();
}
