// Every A64 load/store form that can reach an emulated device, executed on
// the test device. Single-register forms without writeback (the Arm ARM
// fills the data abort's instruction syndrome for them, ARM DDI 0487 J.a
// D17.2.40, ISV) must come back as MMIO: this guest checks the value each
// load leaves in its register (width, zero or sign extension, W or X) and
// reads back what each store wrote, the hypervisor checks each exit against
// the instruction word (hyp.cpp, check_ldst_exit). The forms without a
// syndrome (pre/post-index writeback, pairs, exclusives, atomics, SIMD&FP)
// must be refused, never guessed: each takes the synchronous external abort
// README.md describes, with FAR_EL1 the address the encoding gives, and
// leaves every register it names unchanged (the base too: no writeback).
#include "guest.hpp"

using namespace g;

namespace {
constexpr u64 dev = abi::testdev_base;
constexpr u64 garbage = 0xDEAD'BEEF'CAFE'F00D;

// What the last synchronous exception looked like.
volatile u64 aborts = 0, undefs = 0, last_esr = 0, last_far = 0, last_elr = 0;
volatile bool probing = false;

// Accesses this guest made, by outcome; the hypervisor counts its own.
u64 loads = 0, stores = 0, refused = 0;

constexpr u64 ec(u64 esr) { return esr >> 26; }
constexpr u64 ec_unknown = 0x00, ec_dabt_same = 0x25;
constexpr u64 il = u64{1} << 25, wnr = u64{1} << 6, fsc_sync_external = 0x10;

// The registers one access names: data register(s), a status or compare
// register (STXR's Ws, an atomic's Rs), the base and the index.
struct Operands {
    u64 rt = garbage, rt2 = garbage ^ 1, st = garbage ^ 2, bs = dev, ix = 0;
};

// The address of the access instruction comes from a label in the same asm
// (the abort handler resumes at the ADR after it).
#define ACCESS(insn, r, insn_at)                                                                                       \
    asm volatile("1: " insn "\n\tadr %[pc], 1b"                                                                     \
                 : [rt] "+r"(r.rt), [rt2] "+r"(r.rt2), [st] "+r"(r.st), [bs] "+r"(r.bs), [pc] "=r"(insn_at)             \
                 : [ix] "r"(r.ix)                                                                                 \
                 : "memory")

u64 code(int line, u64 what) { return 0x10000 + (static_cast<u64>(line) << 4) + what; }

// A form with a syndrome: no abort, the data register holds `expect_rt`
// (a store's stays as it was), nothing else changed.
void expect_mmio(int line, bool load, const Operands& before, const Operands& after, u64 expect_rt, u64 aborts_before) {
    check(aborts == aborts_before, code(line, 1), last_esr);
    check(after.rt == expect_rt, code(line, 2), after.rt);
    check(after.bs == before.bs && after.rt2 == before.rt2 && after.st == before.st, code(line, 3), after.bs);
    if (load) {
        ++loads;
    } else {
        ++stores;
    }
}

// A form without one: the external abort at the instruction, for `far`;
// no register changed. write: -1 when the direction is not checked.
void expect_refused(int line, const Operands& before, const Operands& after, u64 far, int write, u64 pc, u64 aborts_before) {
    check(aborts == aborts_before + 1, code(line, 4), aborts);
    check(ec(last_esr) == ec_dabt_same && (last_esr & il) != 0 && (last_esr & 0x3F) == fsc_sync_external, code(line, 5),
          last_esr);
    if (write >= 0) check(((last_esr & wnr) != 0) == (write != 0), code(line, 6), last_esr);
    check(last_far == far, code(line, 7), last_far);
    check(last_elr == pc, code(line, 8), last_elr);
    check(after.rt == before.rt && after.rt2 == before.rt2 && after.st == before.st && after.bs == before.bs,
          code(line, 9), after.bs);
    ++refused;
}

#define LOAD(insn, base, index, expect)                             \
    do {                                                            \
        Operands r_;                                                    \
        r_.bs = (base);                                             \
        r_.ix = (index);                                            \
        const Operands before_ = r_;                                    \
        const u64 n_ = aborts;                                      \
        u64 pc_;                                                    \
        ACCESS(insn, r_, pc_);                                      \
        (void)pc_;                                                  \
        expect_mmio(__LINE__, true, before_, r_, (expect), n_);     \
    } while (0)

// Scratch as this guest wrote it; every store to it is read back.
u64 scratch = 0;
void expect_scratch(int line);

#define STORE(insn, base, index, value, offset, bytes)                                                      \
    do {                                                                                                   \
        Operands r_;                                                                                           \
        r_.bs = (base);                                                                                    \
        r_.ix = (index);                                                                                   \
        r_.rt = (value);                                                                                   \
        const Operands before_ = r_;                                                                           \
        const u64 n_ = aborts;                                                                             \
        u64 pc_;                                                                                           \
        ACCESS(insn, r_, pc_);                                                                             \
        (void)pc_;                                                                                         \
        expect_mmio(__LINE__, false, before_, r_, before_.rt, n_);                                         \
        const u64 mask_ = (bytes) == 8 ? ~u64{0} : ((u64{1} << (8 * (bytes))) - 1) << (8 * (offset));     \
        scratch = (scratch & ~mask_) | ((static_cast<u64>(value) << (8 * (offset))) & mask_);                              \
        expect_scratch(__LINE__);                                                                          \
    } while (0)

// Assembled with FEAT_LSE whatever the build's -march; run only where the CPU has it.
#define LSE ".arch_extension lse\n\t"

#define REFUSED(insn, base, index, far, write)                                        \
    do {                                                                              \
        Operands r_;                                                                      \
        r_.bs = (base);                                                               \
        r_.ix = (index);                                                              \
        const Operands before_ = r_;                                                      \
        const u64 n_ = aborts;                                                        \
        u64 pc_;                                                                      \
        ACCESS(insn, r_, pc_);                                                        \
        expect_refused(__LINE__, before_, r_, (far), (write), pc_, n_);               \
    } while (0)

void expect_scratch(int line) {
    u64 value = garbage;
    asm volatile("ldr %0, [%1]" : "+r"(value) : "r"(dev + abi::dev_scratch) : "memory");
    check(value == scratch, code(line, 0xA), value);
    ++loads;
}

// FEAT_LSE: the guest's ID registers trap and read 0 in this VM, so it
// tries one atomic on its own RAM and sees whether it is UNDEFINED.
bool have_lse() {
    static volatile u64 word = 0;
    const u64 before = undefs;
    probing = true;
    u64 old = 0;
    asm volatile(".arch_extension lse\n\tldadd %1, %0, [%2]" : "=&r"(old) : "r"(u64{1}), "r"(&word) : "memory");
    probing = false;
    return undefs == before;
}
}  // namespace

// Data aborts resume after the access; so does the UNDEFINED probe.
extern "C" u64 guest_sync(u64*) {
    u64 esr, far, elr;
    asm volatile("mrs %0, esr_el1\n\tmrs %1, far_el1\n\tmrs %2, elr_el1" : "=r"(esr), "=r"(far), "=r"(elr));
    if (ec(esr) == ec_unknown && probing) {
        undefs = undefs + 1;
    } else if (ec(esr) == ec_dabt_same) {
        aborts = aborts + 1;
        last_esr = esr;
        last_far = far;
        last_elr = elr;
    } else {
        return 0;
    }
    asm volatile("msr elr_el1, %0" : : "r"(elr + 4));
    return 1;
}

extern "C" void guest_main(u64, u64) {
    print("guest: load/store forms test\n");
    check(hvc(abi::hc_hello, abi::test_ldst) == 0, 1);
    constexpr u64 top = dev + 0x20;  // a base above the registers, for negative offsets
    constexpr u64 neg = dev + abi::dev_negative;

    // Unsigned immediate (scaled), every width and extension, into W and X.
    // magic = 0x0A64C0DE12345678 at 0x08, negative = 0xFFFFFFFF80008080 at 0x10.
    LOAD("ldrb %w[rt], [%[bs], #0x08]", dev, 0, 0x78);
    LOAD("ldrb %w[rt], [%[bs], #0x0B]", dev, 0, 0x12);
    LOAD("ldrh %w[rt], [%[bs], #0x0A]", dev, 0, 0x1234);
    LOAD("ldr %w[rt], [%[bs], #0x0C]", dev, 0, 0x0A64'C0DE);
    LOAD("ldr %x[rt], [%[bs], #0x08]", dev, 0, abi::magic_value);
    LOAD("ldr %w[rt], [%[bs], #0x14]", dev, 0, 0xFFFF'FFFF);
    LOAD("ldrsb %w[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'FF80);
    LOAD("ldrsb %x[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'FFFF'FFFF'FF80);
    LOAD("ldrsb %x[rt], [%[bs], #0x12]", dev, 0, 0);
    LOAD("ldrsb %w[rt], [%[bs], #0x08]", dev, 0, 0x78);
    LOAD("ldrsh %w[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'8080);
    LOAD("ldrsh %x[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'FFFF'FFFF'8080);
    LOAD("ldrsh %x[rt], [%[bs], #0x0A]", dev, 0, 0x1234);
    LOAD("ldrsh %w[rt], [%[bs], #0x16]", dev, 0, 0xFFFF'FFFF);
    LOAD("ldrsw %x[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'FFFF'8000'8080);
    LOAD("ldrsw %x[rt], [%[bs], #0x0C]", dev, 0, 0x0A64'C0DE);
    LOAD("ldrb %w[rt], [%[bs]]", neg + 1, 0, 0x80);

    // Unscaled signed 9-bit offset (LDUR*), negative and positive.
    LOAD("ldurb %w[rt], [%[bs], #-0x10]", top, 0, 0x80);
    LOAD("ldurb %w[rt], [%[bs], #0x9]", dev, 0, 0x56);
    LOAD("ldurh %w[rt], [%[bs], #-0x14]", top, 0, 0xC0DE);
    LOAD("ldur %w[rt], [%[bs], #-0x18]", top, 0, 0x1234'5678);
    LOAD("ldur %x[rt], [%[bs], #-0x10]", top, 0, abi::negative_value);
    LOAD("ldursb %x[rt], [%[bs], #-0x0F]", top, 0, 0xFFFF'FFFF'FFFF'FF80);
    LOAD("ldursb %w[rt], [%[bs], #-0x0F]", top, 0, 0xFFFF'FF80);
    LOAD("ldursh %x[rt], [%[bs], #-0x0E]", top, 0, 0xFFFF'FFFF'FFFF'8000);
    LOAD("ldursh %w[rt], [%[bs], #-0x0E]", top, 0, 0xFFFF'8000);
    LOAD("ldursw %x[rt], [%[bs], #-0x14]", top, 0, 0x0A64'C0DE);
    LOAD("ldursw %x[rt], [%[bs], #-0x0C]", top, 0, 0xFFFF'FFFF'FFFF'FFFF);

    // Register offset: LSL/UXTX, UXTW, SXTW, SXTX, scaled and not.
    LOAD("ldr %x[rt], [%[bs], %x[ix], lsl #3]", dev, 1, abi::magic_value);
    LOAD("ldr %w[rt], [%[bs], %w[ix], uxtw #2]", dev, 0xFFFF'FFFF'0000'0005, 0xFFFF'FFFF);
    LOAD("ldrh %w[rt], [%[bs], %x[ix], lsl #1]", dev, 4, 0x5678);
    LOAD("ldrb %w[rt], [%[bs], %x[ix]]", dev, 0x0E, 0x64);
    LOAD("ldrb %w[rt], [%[bs], %x[ix], lsl #0]", dev, 0x0D, 0xC0);
    LOAD("ldrsb %x[rt], [%[bs], %w[ix], sxtw]", top, 0xFFFF'FFF1, 0xFFFF'FFFF'FFFF'FF80);
    LOAD("ldrsh %w[rt], [%[bs], %x[ix], sxtx #1]", top, ~u64{7}, 0xFFFF'8080);
    LOAD("ldrsh %x[rt], [%[bs], %w[ix], uxtw]", dev, 0x12, 0xFFFF'FFFF'FFFF'8000);
    LOAD("ldrsw %x[rt], [%[bs], %x[ix], sxtx #2]", top, ~u64{2}, 0xFFFF'FFFF'FFFF'FFFF);
    LOAD("ldr %x[rt], [%[bs], %w[ix], sxtw #3]", top, 0xFFFF'FFFE, abi::negative_value);
    LOAD("ldr %x[rt], [%[bs], %x[ix], sxtx]", top, ~u64{0x17}, abi::magic_value);

    // Ordered (load-acquire) and unprivileged forms: one register, syndrome valid.
    LOAD("ldar %x[rt], [%[bs]]", dev + 8, 0, abi::magic_value);
    LOAD("ldar %w[rt], [%[bs]]", dev + 0xC, 0, 0x0A64'C0DE);
    LOAD("ldarh %w[rt], [%[bs]]", neg + 2, 0, 0x8000);
    LOAD("ldarb %w[rt], [%[bs]]", neg, 0, 0x80);
    LOAD("ldtr %x[rt], [%[bs], #8]", dev, 0, abi::magic_value);
    LOAD("ldtr %w[rt], [%[bs], #-0xC]", top, 0, 0xFFFF'FFFF);
    LOAD("ldtrh %w[rt], [%[bs], #0x10]", dev, 0, 0x8080);
    LOAD("ldtrb %w[rt], [%[bs], #0x0F]", dev, 0, 0x0A);
    LOAD("ldtrsb %x[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'FFFF'FFFF'FF80);
    LOAD("ldtrsb %w[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'FF80);
    LOAD("ldtrsh %x[rt], [%[bs], #0x12]", dev, 0, 0xFFFF'FFFF'FFFF'8000);
    LOAD("ldtrsh %w[rt], [%[bs], #0x12]", dev, 0, 0xFFFF'8000);
    LOAD("ldtrsw %x[rt], [%[bs], #0x10]", dev, 0, 0xFFFF'FFFF'8000'8080);

    // Stores to scratch, every width and form; each is read back (an
    // 8-byte load, itself checked). Data registers carry bits above the
    // access width, which must not reach the device.
    STORE("str %x[rt], [%[bs]]", dev, 0, 0x1122'3344'5566'7788, 0, 8);
    STORE("strb %w[rt], [%[bs], #3]", dev, 0, 0xAAAA'AAAA'AAAA'AA99, 3, 1);
    STORE("strh %w[rt], [%[bs], #6]", dev, 0, 0xAAAA'AAAA'AAAA'BEEF, 6, 2);
    STORE("str %w[rt], [%[bs], #0]", dev, 0, 0xAAAA'AAAA'CAFE'D00D, 0, 4);
    STORE("stur %x[rt], [%[bs], #-0x20]", top, 0, 0x0102'0304'0506'0708, 0, 8);
    STORE("sturb %w[rt], [%[bs], #-0x1B]", top, 0, 0xFFFF'FFFF'FFFF'FFE5, 5, 1);
    STORE("sturh %w[rt], [%[bs], #-0x1E]", top, 0, 0xFFFF'FFFF'FFFF'F00F, 2, 2);
    STORE("stur %w[rt], [%[bs], #-0x1C]", top, 0, 0x8765'4321'ABCD'EF01, 4, 4);
    STORE("str %x[rt], [%[bs], %x[ix], lsl #3]", dev, 0, 0x7766'5544'3322'1100, 0, 8);
    STORE("strb %w[rt], [%[bs], %x[ix]]", dev, 5, 0x1234'5678'9ABC'DEF0, 5, 1);
    STORE("strh %w[rt], [%[bs], %w[ix], sxtw #1]", top, 0xFFFF'FFF1, 0x5555'5555'5555'A1A2, 2, 2);
    STORE("str %w[rt], [%[bs], %w[ix], uxtw #2]", dev, 0xFFFF'FFFF'0000'0001, 0x3333'3333'B1B2'B3B4, 4, 4);
    STORE("stlr %x[rt], [%[bs]]", dev, 0, 0xFEDC'BA98'7654'3210, 0, 8);
    STORE("stlr %w[rt], [%[bs]]", dev + 4, 0, 0x1111'1111'C1C2'C3C4, 4, 4);
    STORE("stlrh %w[rt], [%[bs]]", dev + 2, 0, 0x2222'2222'2222'D1D2, 2, 2);
    STORE("stlrb %w[rt], [%[bs]]", dev + 1, 0, 0x3333'3333'3333'33E1, 1, 1);
    STORE("sttr %x[rt], [%[bs], #0]", dev, 0, 0x0F1E'2D3C'4B5A'6978, 0, 8);
    STORE("sttr %w[rt], [%[bs], #-0x1C]", top, 0, 0x4444'4444'F1F2'F3F4, 4, 4);
    STORE("sttrh %w[rt], [%[bs], #6]", dev, 0, 0x5555'5555'5555'0A0B, 6, 2);
    STORE("sttrb %w[rt], [%[bs], #0]", dev, 0, 0x6666'6666'6666'66C7, 0, 1);
    // The zero register as data: the device sees 0 whatever Rt's number holds.
    STORE("str xzr, [%[bs]]", dev, 0, 0, 0, 8);
    STORE("strb wzr, [%[bs], #7]", dev, 0, 0, 7, 1);
    STORE("stur wzr, [%[bs], #-0x1C]", top, 0, 0, 4, 4);

    // Writeback (pre- and post-index): no syndrome. FAR is the address the
    // access goes to (pre: base + offset; post: the base); the base is not
    // written back.
    REFUSED("ldr %x[rt], [%[bs], #8]!", dev, 0, dev + 8, 0);
    REFUSED("ldr %x[rt], [%[bs]], #8", dev, 0, dev, 0);
    REFUSED("ldr %w[rt], [%[bs], #-4]!", top, 0, top - 4, 0);
    REFUSED("ldrb %w[rt], [%[bs], #1]!", neg, 0, neg + 1, 0);
    REFUSED("ldrh %w[rt], [%[bs]], #2", neg, 0, neg, 0);
    REFUSED("ldrsb %x[rt], [%[bs]], #-1", neg, 0, neg, 0);
    REFUSED("ldrsh %w[rt], [%[bs], #2]!", neg, 0, neg + 2, 0);
    REFUSED("ldrsw %x[rt], [%[bs], #4]!", dev + 8, 0, dev + 12, 0);
    REFUSED("str %x[rt], [%[bs], #-8]!", top, 0, top - 8, 1);
    REFUSED("str %w[rt], [%[bs]], #4", dev, 0, dev, 1);
    REFUSED("strh %w[rt], [%[bs]], #2", dev, 0, dev, 1);
    REFUSED("strb %w[rt], [%[bs], #1]!", dev, 0, dev + 1, 1);

    // Pairs, every addressing mode: no syndrome.
    REFUSED("ldp %x[rt], %x[rt2], [%[bs]]", dev, 0, dev, 0);
    REFUSED("ldp %w[rt], %w[rt2], [%[bs], #8]", dev, 0, dev + 8, 0);
    REFUSED("ldp %x[rt], %x[rt2], [%[bs], #16]!", dev, 0, dev + 16, 0);
    REFUSED("ldp %x[rt], %x[rt2], [%[bs]], #16", dev, 0, dev, 0);
    REFUSED("ldpsw %x[rt], %x[rt2], [%[bs], #8]", dev, 0, dev + 8, 0);
    REFUSED("ldnp %x[rt], %x[rt2], [%[bs]]", dev, 0, dev, 0);
    REFUSED("stp %x[rt], %x[rt2], [%[bs]]", dev, 0, dev, 1);
    REFUSED("stp %w[rt], %w[rt2], [%[bs], #-0x18]", top, 0, dev + 8, 1);
    REFUSED("stp %x[rt], %x[rt2], [%[bs], #-16]!", top, 0, dev + 16, 1);
    REFUSED("stp %x[rt], %x[rt2], [%[bs]], #16", dev, 0, dev, 1);
    REFUSED("stnp %w[rt], %w[rt2], [%[bs]]", dev, 0, dev, 1);

    // Exclusives: no syndrome. A store-exclusive with no reservation may
    // fail without an access (status 1) instead of faulting (ARM DDI 0487
    // B2.9.5: whether it aborts is IMPLEMENTATION DEFINED), so the stores
    // accept either.
    REFUSED("ldxr %x[rt], [%[bs]]", dev, 0, dev, 0);
    REFUSED("ldxr %w[rt], [%[bs]]", dev + 8, 0, dev + 8, 0);
    REFUSED("ldxrh %w[rt], [%[bs]]", neg, 0, neg, 0);
    REFUSED("ldxrb %w[rt], [%[bs]]", neg, 0, neg, 0);
    REFUSED("ldaxr %x[rt], [%[bs]]", dev + 8, 0, dev + 8, 0);
    REFUSED("ldxp %x[rt], %x[rt2], [%[bs]]", dev, 0, dev, 0);
    REFUSED("ldaxp %w[rt], %w[rt2], [%[bs]]", dev + 8, 0, dev + 8, 0);
    for (int form = 0; form < 3; ++form) {
        Operands r;
        const Operands before = r;
        const u64 n = aborts;
        u64 pc;
        if (form == 0) ACCESS("stxr %w[st], %x[rt], [%[bs]]", r, pc);
        if (form == 1) ACCESS("stlxrb %w[st], %w[rt], [%[bs]]", r, pc);
        if (form == 2) ACCESS("stxp %w[st], %x[rt], %x[rt2], [%[bs]]", r, pc);
        if (aborts == n) {
            check(r.st == 1 && r.rt == before.rt && r.rt2 == before.rt2 && r.bs == before.bs, code(__LINE__, form), r.st);
        } else {
            expect_refused(__LINE__, before, r, dev, 1, pc, n);
        }
    }

    // Atomics and compare-and-swap (FEAT_LSE, where the CPU has it): no
    // syndrome. Their direction (a read and a write) is not checked.
    const bool lse = have_lse();
    if (lse) {
        REFUSED(LSE "ldadd %x[st], %x[rt], [%[bs]]", dev, 0, dev, -1);
        REFUSED(LSE "ldaddal %w[st], %w[rt], [%[bs]]", dev + 8, 0, dev + 8, -1);
        REFUSED(LSE "ldclrh %w[st], %w[rt], [%[bs]]", neg, 0, neg, -1);
        REFUSED(LSE "ldsetb %w[st], %w[rt], [%[bs]]", neg + 1, 0, neg + 1, -1);
        REFUSED(LSE "ldeor %x[st], %x[rt], [%[bs]]", dev, 0, dev, -1);
        REFUSED(LSE "ldsmax %x[st], %x[rt], [%[bs]]", dev, 0, dev, -1);
        REFUSED(LSE "swp %x[st], %x[rt], [%[bs]]", dev, 0, dev, -1);
        REFUSED(LSE "swpal %w[st], %w[rt], [%[bs]]", dev + 4, 0, dev + 4, -1);
        REFUSED(LSE "stadd %x[st], [%[bs]]", dev, 0, dev, -1);
        REFUSED(LSE "cas %x[st], %x[rt], [%[bs]]", dev, 0, dev, -1);
        REFUSED(LSE "casal %w[st], %w[rt], [%[bs]]", dev + 8, 0, dev + 8, -1);
        REFUSED(LSE "casb %w[st], %w[rt], [%[bs]]", neg, 0, neg, -1);
    }

    // SIMD&FP registers: no syndrome (FP enabled for them, CPACR_EL1.FPEN).
    asm volatile("msr cpacr_el1, %0\n\tisb" : : "r"(u64{3} << 20));
    REFUSED("ldr d0, [%[bs]]", dev + 8, 0, dev + 8, 0);
    REFUSED("str q0, [%[bs]]", dev, 0, dev, 1);
    REFUSED("ldp s0, s1, [%[bs], #8]", dev, 0, dev + 8, 0);
    REFUSED("stur h0, [%[bs], #-2]", top, 0, top - 2, 1);
    asm volatile("msr cpacr_el1, xzr\n\tisb");

    print("guest: ");
    print_hex(loads);
    print(" loads, ");
    print_hex(stores);
    print(" stores decoded; ");
    print_hex(refused);
    print(lse ? " refused (atomics included)\n" : " refused (no FEAT_LSE: atomics not run)\n");
    // The hypervisor's own count of each, checked against the instruction
    // words: 0 when they agree.
    check(hvc(abi::hc_ldst_counts, loads, stores, refused, lse ? 1 : 0) == 0, 2);
    pass();
}
