// Two VMs time-sliced on one CPU: each copy of this guest fills its EL1
// system registers, SP_EL0, FP/SIMD registers, pointer authentication keys
// (where the CPU has them) and a RAM marker with values unique to its VM, then idles (WFI: the hypervisor switches to the other
// VM) 60 times, checking after each switch that nothing of the other VM
// leaked in. The same GPA holds each VM's marker: a VMID or TLB mix-up
// would show the other VM's memory.
#include "guest.hpp"

using namespace g;

namespace {

volatile u64 marker = 0;

#define SHARE_SYSREG(name)                                                   \
    inline u64 read_##name() {                                               \
        u64 v;                                                               \
        asm volatile("mrs %0, " #name : "=r"(v));                            \
        return v;                                                            \
    }                                                                        \
    inline void write_##name(u64 v) { asm volatile("msr " #name ", %0" : : "r"(v)); }
SHARE_SYSREG(tpidr_el1)
SHARE_SYSREG(tpidr_el0)
SHARE_SYSREG(tpidrro_el0)
SHARE_SYSREG(contextidr_el1)
SHARE_SYSREG(mair_el1)
SHARE_SYSREG(tcr_el1)
SHARE_SYSREG(ttbr0_el1)
SHARE_SYSREG(ttbr1_el1)
SHARE_SYSREG(far_el1)
SHARE_SYSREG(par_el1)
SHARE_SYSREG(elr_el1)
SHARE_SYSREG(cntkctl_el1)
SHARE_SYSREG(cntv_cval_el0)
SHARE_SYSREG(sp_el0)
SHARE_SYSREG(fpcr)
SHARE_SYSREG(dbgbvr1_el1)
SHARE_SYSREG(dbgbcr1_el1)
SHARE_SYSREG(dbgwvr1_el1)
SHARE_SYSREG(dbgwcr1_el1)
#undef SHARE_SYSREG

// The ten pointer authentication key registers (APIA, APIB, APDA, APDB,
// APGA; Lo then Hi), by encoding: their names need an Armv8.3 target.
constexpr u64 key_value(u64 vm, unsigned i) { return 0x4B45'5900'0000'0000 | (vm + 1) << 8 | i; }
#define PAUTH_KEYS(X)                                                                               \
    X(0, "S3_0_C2_C1_0") X(1, "S3_0_C2_C1_1") X(2, "S3_0_C2_C1_2") X(3, "S3_0_C2_C1_3") X(4, "S3_0_C2_C2_0") \
        X(5, "S3_0_C2_C2_1") X(6, "S3_0_C2_C2_2") X(7, "S3_0_C2_C2_3") X(8, "S3_0_C2_C3_0") X(9, "S3_0_C2_C3_1")
void write_keys(u64 vm) {
#define WRITE_KEY(i, reg) asm volatile("msr " reg ", %0" : : "r"(key_value(vm, i)));
    PAUTH_KEYS(WRITE_KEY)
#undef WRITE_KEY
}
// Which key registers do not hold this VM's values, as a bit mask.
u64 wrong_keys(u64 vm) {
    u64 wrong = 0;
#define CHECK_KEY(i, reg)                                 \
    {                                                     \
        u64 v;                                            \
        asm volatile("mrs %0, " reg : "=r"(v));           \
        if (v != key_value(vm, i)) wrong |= u64{1} << i;  \
    }
    PAUTH_KEYS(CHECK_KEY)
#undef CHECK_KEY
    return wrong;
}
// FEAT_PAuth: ID_AA64ISAR1_EL1.{APA, API, GPA, GPI} or ID_AA64ISAR2_EL1.{APA3, GPA3}.
bool has_pointer_auth() {
    u64 isar1, isar2;
    asm volatile("mrs %0, S3_0_C0_C6_1\n\tmrs %1, S3_0_C0_C6_2" : "=r"(isar1), "=r"(isar2));
    return (isar1 & 0xFF00'0FF0) != 0 || (isar2 & 0xFF00) != 0;
}
bool pointer_auth = false;  // set first thing in guest_main (no static constructors here)

struct Expected {
    u64 tpidr_el1, tpidr_el0, tpidrro_el0, contextidr, mair, tcr, ttbr0, ttbr1, far, par, elr, cntkctl, cval, sp_el0,
        fpcr, d0, d17, d31, marker, vm;
};

Expected values_for(u64 vm) {
    const u64 k = vm + 1;
    return Expected{0x1111'0000 * k, 0x2222'0000 * k, 0x3333'0000 * k, 0x44 * k, 0x0044'ff04 * k,
                    16 + k,          0x10'0000 * k,  0x20'0000 * k,  0x5555'0000 * k, 0x7000 * k,
                    0x8888'0000 * k, k,              0x9999'0000 * k, 0xAAAA'0000 * k, k << 22,
                    0xD000 + k,      0xD170 + k,     0xD310 + k,      0x4D41'524B'0000 + k,
                    vm};
}

void load(const Expected& e) {
    write_tpidr_el1(e.tpidr_el1);
    write_tpidr_el0(e.tpidr_el0);
    write_tpidrro_el0(e.tpidrro_el0);
    write_contextidr_el1(e.contextidr);
    write_mair_el1(e.mair);
    write_tcr_el1(e.tcr);
    write_ttbr0_el1(e.ttbr0);
    write_ttbr1_el1(e.ttbr1);
    write_far_el1(e.far);
    write_par_el1(e.par);
    write_elr_el1(e.elr);
    write_cntkctl_el1(e.cntkctl);
    write_cntv_cval_el0(e.cval);
    write_sp_el0(e.sp_el0);
    write_fpcr(e.fpcr);
    asm volatile("fmov d0, %0\n\tfmov d17, %1\n\tfmov d31, %2" : : "r"(e.d0), "r"(e.d17), "r"(e.d31));
    if (pointer_auth) write_keys(e.vm);
    marker = e.marker;
}

void verify(const Expected& e, u64 round) {
    u64 d0;
    u64 d17;
    u64 d31;
    asm volatile("fmov %0, d0\n\tfmov %1, d17\n\tfmov %2, d31" : "=r"(d0), "=r"(d17), "=r"(d31));
    const u64 base = round << 8;
    check(read_tpidr_el1() == e.tpidr_el1, base | 1, read_tpidr_el1());
    check(read_tpidr_el0() == e.tpidr_el0, base | 2);
    check(read_tpidrro_el0() == e.tpidrro_el0, base | 3);
    check(read_contextidr_el1() == e.contextidr, base | 4);
    check(read_mair_el1() == e.mair, base | 5);
    check(read_tcr_el1() == e.tcr, base | 6, read_tcr_el1());
    check(read_ttbr0_el1() == e.ttbr0, base | 7);
    check(read_ttbr1_el1() == e.ttbr1, base | 8);
    check(read_far_el1() == e.far, base | 9);
    check(read_par_el1() == e.par, base | 10, read_par_el1());
    check(read_elr_el1() == e.elr, base | 11);
    check(read_cntkctl_el1() == e.cntkctl, base | 12);
    check(read_cntv_cval_el0() == e.cval, base | 13);
    check(read_sp_el0() == e.sp_el0, base | 14);
    check(read_fpcr() == e.fpcr, base | 15, read_fpcr());
    check(d0 == e.d0 && d17 == e.d17 && d31 == e.d31, base | 16, d17);
    check(marker == e.marker, base | 17, marker);
    if (pointer_auth) check(wrong_keys(e.vm) == 0, base | 18, wrong_keys(e.vm));
}

// VM 1's breakpoints and watchpoints are its own (switch_debug): a value
// it writes survives every switch, and a breakpoint it sets fires.
constexpr u64 own_breakpoint_value = 0x0000'1234'5678'9ABCull & ~u64{3};
constexpr u64 own_watchpoint_value = 0x0000'0000'0BAD'CAF8ull;
volatile u64 breakpoints_taken = 0;
u64 last_breakpoint = 0, last_watchpoint = 0;
constexpr u64 ec_breakpoint_same = 0x31;

// The last breakpoint's and watchpoint's value registers, by number
// (ID_AA64DFR0_EL1, which the hypervisor answers): each kept across the
// switches like number 1's.
template <unsigned Op2>
u64 access_last(u64 n, bool write, u64 value) {
    // MRS/MSR need the register in the instruction: one case per number.
    u64 read = 0;
#define SHARE_DBG_CASE(i)                                                                      \
    case i:                                                                                    \
        if (write) asm volatile("msr S2_0_C0_C" #i "_%c0, %1" : : "i"(Op2), "r"(value));       \
        else asm volatile("mrs %0, S2_0_C0_C" #i "_%c1" : "=r"(read) : "i"(Op2));             \
        break;
    switch (n) {
        SHARE_DBG_CASE(2) SHARE_DBG_CASE(3) SHARE_DBG_CASE(4) SHARE_DBG_CASE(5) SHARE_DBG_CASE(6) SHARE_DBG_CASE(7)
        SHARE_DBG_CASE(8) SHARE_DBG_CASE(9) SHARE_DBG_CASE(10) SHARE_DBG_CASE(11) SHARE_DBG_CASE(12)
        SHARE_DBG_CASE(13) SHARE_DBG_CASE(14) SHARE_DBG_CASE(15)
        default: break;
    }
#undef SHARE_DBG_CASE
    return read;
}
constexpr u64 own_last_bvr = 0x0000'0000'5555'0000ull;
constexpr u64 own_last_wvr = 0x0000'0000'6666'0000ull;

// Disabled (E = 0), and unlike the host's (hyp.cpp, host_debug_value).
constexpr u64 own_bcr = 0x1E2;  // BAS 0xF (AArch64 breakpoints use all four), PMC 1
constexpr u64 own_wcr = 0x1EA;  // BAS 0x0F, LSC 1, PAC 1

[[gnu::noinline]] void breakpoint_target() { asm volatile("nop"); }

// A hardware breakpoint on breakpoint_target at EL1 (DBGBCR0: E, PMC = EL1,
// BAS = all four bytes), with MDSCR_EL1.MDE and KDE and PSTATE.D clear:
// calling it must take one breakpoint exception (guest_sync), which turns
// the breakpoint off so the call then runs.
void check_own_breakpoint() {
    asm volatile("msr dbgbvr0_el1, %0\n\tmsr dbgbcr0_el1, %1" : : "r"(reinterpret_cast<u64>(&breakpoint_target)),
                 "r"(u64{1} | u64{1} << 1 | u64{0xF} << 5));
    u64 mdscr;
    asm volatile("mrs %0, mdscr_el1" : "=r"(mdscr));
    asm volatile("msr mdscr_el1, %0\n\tisb\n\tmsr daifclr, #8\n\tisb" : : "r"(mdscr | u64{1} << 15 | u64{1} << 13));
    breakpoint_target();
    asm volatile("msr daifset, #8\n\tmsr mdscr_el1, %0\n\tisb" : : "r"(mdscr));
    check(breakpoints_taken == 1, 0x7010, breakpoints_taken);
}

}  // namespace

extern "C" u64 guest_sync(u64*) {
    u64 esr;
    asm volatile("mrs %0, esr_el1" : "=r"(esr));
    if ((esr >> 26) != ec_breakpoint_same) return 0;
    breakpoints_taken = breakpoints_taken + 1;
    asm volatile("msr dbgbcr0_el1, xzr\n\tisb");
    return 1;  // ELR_EL1 is the breakpointed instruction: it runs now
}

extern "C" void guest_main(u64, u64) {
    pointer_auth = has_pointer_auth();
    const u64 vm = hvc(abi::hc_hello, abi::test_share);
    print(vm == 0 ? "guest: CPU-sharing test in VM 0\n" : "guest: CPU-sharing test in VM 1\n");
    print(pointer_auth ? "guest: pointer authentication keys checked too\n" : "guest: no pointer authentication\n");
    const Expected mine = values_for(vm);
    // VM 0 has the PMU to itself (its benchmark's cycle counter); VM 1's
    // PMU registers trap: it reads zero where VM 0 wrote, and its write
    // reaches neither the PMU nor VM 0.
    if (vm == 0) {
        asm volatile("msr pmselr_el0, %0\n\tisb" : : "r"(u64{5}));
    } else {
        u64 pmselr = 1, again = 1;
        asm volatile("mrs %0, pmselr_el0" : "=r"(pmselr));
        asm volatile("msr pmselr_el0, %0" : : "r"(u64{7}));
        asm volatile("mrs %0, pmselr_el0" : "=r"(again));
        check(pmselr == 0 && again == 0, 0x7001, pmselr << 8 | again);
    }
    if (vm == 1) {
        asm volatile("msr dbgbvr1_el1, %0\n\tmsr dbgwvr1_el1, %1\n\tmsr dbgbcr1_el1, %2\n\tmsr dbgwcr1_el1, %3\n\tisb"
                     : : "r"(own_breakpoint_value), "r"(own_watchpoint_value), "r"(own_bcr), "r"(own_wcr));
        check(read_dbgbvr1_el1() == own_breakpoint_value && read_dbgwvr1_el1() == own_watchpoint_value, 0x7002);
        check(read_dbgbcr1_el1() == own_bcr && read_dbgwcr1_el1() == own_wcr, 0x7003, read_dbgbcr1_el1() << 16 | read_dbgwcr1_el1());
        u64 dfr0;
        asm volatile("mrs %0, id_aa64dfr0_el1" : "=r"(dfr0));
        last_breakpoint = (dfr0 >> 12) & 0xF;
        last_watchpoint = (dfr0 >> 20) & 0xF;
        check(last_breakpoint >= 2 && last_watchpoint >= 2, 0x7004, dfr0);
        access_last<4>(last_breakpoint, true, own_last_bvr);
        access_last<6>(last_watchpoint, true, own_last_wvr);
    }
    // FP/SIMD is off at EL1 after reset (CPACR_EL1.FPEN = 0), as on hardware.
    asm volatile("msr cpacr_el1, %0\n\tisb" : : "r"(u64{3} << 20));
    load(mine);
    for (u64 round = 0; round < 60; ++round) {
        asm volatile("wfi");  // the other VM runs now
        verify(mine, round);
        if (vm == 0) {
            u64 pmselr;
            asm volatile("mrs %0, pmselr_el0" : "=r"(pmselr));
            check(pmselr == 5, round << 8 | 19, pmselr);
            // Trapped here (RAZ); the hypervisor checks the CPU has the
            // host's value back, not VM 1's.
            const u64 bvr1 = read_dbgbvr1_el1();
            check(bvr1 == 0, round << 8 | 20, bvr1);
        } else {
            const u64 bvr1 = read_dbgbvr1_el1(), wvr1 = read_dbgwvr1_el1(), bcr1 = read_dbgbcr1_el1(), wcr1 = read_dbgwcr1_el1();
            check(bvr1 == own_breakpoint_value, round << 8 | 21, bvr1);
            check(wvr1 == own_watchpoint_value, round << 8 | 22, wvr1);
            check(bcr1 == own_bcr && wcr1 == own_wcr, round << 8 | 23, bcr1 << 16 | wcr1);
            const u64 last_bvr = access_last<4>(last_breakpoint, false, 0);
            const u64 last_wvr = access_last<6>(last_watchpoint, false, 0);
            check(last_bvr == own_last_bvr && last_wvr == own_last_wvr, round << 8 | 24, last_bvr);
        }
    }
    if (vm == 1) check_own_breakpoint();
    pass();
}
