// The chaos guest: random exits from a seeded PRNG until it has made the
// number asked for (README.md, "The chaos guest"): hypercalls with random
// numbers and arguments, PSCI calls with random function ids and
// arguments through HVC and SMC, MMIO of every width at random addresses
// (the test device's registers and its page edges, unmapped memory,
// misaligned), pairs, writeback and exclusive forms, trapped system
// registers, SGIs, WFI, interrupt injection and a call into unmapped
// memory. Every op runs through chaos_trap (chaos_trap.S), which loads
// x0..x30 and NZCV with random values first and stores them after, so
// every register is compared with what the op may change after every exit;
// SP_EL0 too. Each op's answer is checked against this guest's own reading
// of the contract, and every few thousand ops the exits it made, by kind,
// are compared with the VMM's (count_exits). A failure prints the seed and
// the op's number: the same seed replays the same ops.
#include "../../common/chaos.hpp"
#include "../../common/rng.hpp"
#include "guest.hpp"

using namespace g;

namespace {

struct ChaosFrame {
    u64 in[31];
    u64 nzcv_in;
    u64 out[31];
    u64 nzcv_out;
};

extern "C" void chaos_trap(ChaosFrame* frame);
extern "C" char chaos_stubs[];

// The stubs of chaos_trap.S, in their order.
enum Stub : unsigned {
    s_hvc, s_smc, s_wfi,
    s_ldr_x5, s_ldr_w6, s_ldrh_w7, s_ldrb_w8, s_ldrsb_x9, s_ldrsh_w10, s_ldrsw_x11, s_ldrsh_x12,
    s_str_x13, s_str_w14, s_strh_w15, s_strb_w16, s_str_xzr,
    s_ldp, s_stp, s_ldr_pre, s_ldr_regoff,
    s_sgi1r, s_sgi0r, s_asgi1r,
    s_cntp_ctl_read, s_cntp_ctl_write, s_cntp_cval_read, s_cntp_tval_write,
    s_blr, s_ldrsb_w0, s_str_x28, s_ldxr,
    s_id_first,  // + (CRm - 1) * 8 + op2
};

// --- The parameters: QEMU's loader may write them (README.md) ---
constexpr u64 params_gpa = abi::chaos_params;
constexpr u64 default_seed = 0x00C0'FFEE'2024'0013;
constexpr u64 default_exits = 100'000;

using example::Rng;  // splitmix64 (examples/common/rng.hpp)

// Exit kinds, as AxVCpuExitReason's alternatives are numbered (the VMM's
// count_exits compares these words).
constexpr unsigned exit_kinds = 19;
enum Kind : unsigned {
    k_hypercall = 0, k_mmio_read = 1, k_mmio_write = 2, k_sysreg_read = 3, k_sysreg_write = 4,
    k_nested_page_fault = 8, k_halt = 9, k_cpu_up = 10, k_send_ipi = 15,
};
constexpr u64 compared_kinds = 1u << k_hypercall | 1u << k_mmio_read | 1u << k_mmio_write | 1u << k_sysreg_read |
                               1u << k_sysreg_write | 1u << k_nested_page_fault | 1u << k_halt | 1u << k_cpu_up |
                               1u << k_send_ipi;
alignas(8) u64 counts[exit_kinds];  // read by the VMM at count_exits (hvc clobbers memory)
u64 total_exits = 0;
u64 kind_totals[exit_kinds];

// What the last exceptions taken here looked like.
volatile u64 aborts = 0, iaborts = 0, undefs = 0, last_esr = 0, last_far = 0;

constexpr u64 ec(u64 esr) { return esr >> 26; }
constexpr u64 ec_unknown = 0x00, ec_iabt_same = 0x21, ec_dabt_same = 0x25;
constexpr u64 wnr = u64{1} << 6;
constexpr u64 fsc_sync_external = 0x10, fsc_alignment = 0x21;

u64 seed = 0, op = 0;

void print_dec(u64 value) {
    char digits[20];
    unsigned n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n != 0) putc(digits[--n]);
}

[[noreturn]] void chaos_fail(u64 what, u64 value) {
    print("guest: chaos FAILED at op ");
    print_hex(op);
    print(" with seed ");
    print_hex(seed);
    print("\n");
    fail(what, value);
}
void expect(bool ok, u64 what, u64 value = 0) {
    if (!ok) chaos_fail(what, value);
}

// --- The test device, as this guest wrote it ---
u64 scratch = 0;
u64 device_bytes(u64 offset, unsigned size) {  // offset naturally aligned, inside one register
    const u64 reg = offset & ~u64{7};
    const u64 value = reg == abi::dev_scratch ? scratch : reg == abi::dev_magic ? abi::magic_value : abi::negative_value;
    const u64 shifted = value >> (8 * (offset & 7));
    return size == 8 ? shifted : shifted & ((u64{1} << (8 * size)) - 1);
}

// Interrupts this guest has been sent, by INTID, and taken (irq_count).
u32 irqs_expected[64];

// --- One op: what it does to the registers and what it must cause ---
enum class Outcome { Returns, Abort, AlignOrAbort, InstructionAbort, UndefOrExit };
struct Op {
    ChaosFrame frame{};
    Outcome outcome = Outcome::Returns;
    int reg = -1;    // the register the op writes (-1: none)
    u64 value = 0;   // what it writes there
    u64 far = 0;
    int write = -1;   // the abort's WnR, -1: not checked
    int exit_kind = -1;  // the exit the VMM must see (-1: none)
    bool wait_timer = false;
    u64 deadline = 0;
};

u64 stub_address(unsigned stub) { return reinterpret_cast<u64>(chaos_stubs) + 8 * stub; }

// An address of `size` bytes: the test device's registers, the rest of its
// page and its edges, unmapped memory (never RAM or the UART's page), or
// any of these misaligned.
u64 random_address(Rng& rng, unsigned size, bool& misaligned) {
    u64 addr;
    const u64 pick = rng.below(100);
    if (pick < 45) {
        addr = abi::testdev_base + (rng.below(0x20) & ~u64{size - 1});
    } else if (pick < 60) {
        addr = abi::testdev_base + ((0x20 + rng.below(0x1000 - 0x20)) & ~u64{size - 1});
    } else if (pick < 70) {
        const u64 edges[] = {abi::testdev_base - size, abi::testdev_base + 0x1000 - size, abi::testdev_base + 0x1000};
        addr = edges[rng.below(3)];
    } else {
        do {
            addr = rng.next() & 0xFFFF'FFFF & ~u64{size - 1};
        } while ((addr >= abi::guest_ram_base && addr < abi::guest_ram_base + abi::guest_ram_size) ||
                 (addr >> 12) == (abi::uart_base >> 12) || (addr >> 12) == (abi::testdev_base >> 12));
    }
    misaligned = size > 1 && rng.chance(10);
    if (misaligned) addr += 1 + rng.below(size - 1);
    return addr;
}

struct Access {
    Stub stub;
    unsigned rt, rn, size;
    bool load, sign, x;
};
constexpr Access single_forms[] = {
    {s_ldr_x5, 5, 1, 8, true, false, true},      {s_ldr_w6, 6, 2, 4, true, false, false},
    {s_ldrh_w7, 7, 3, 2, true, false, false},    {s_ldrb_w8, 8, 4, 1, true, false, false},
    {s_ldrsb_x9, 9, 1, 1, true, true, true},     {s_ldrsh_w10, 10, 2, 2, true, true, false},
    {s_ldrsw_x11, 11, 3, 4, true, true, true},   {s_ldrsh_x12, 12, 4, 2, true, true, true},
    {s_ldrsb_w0, 0, 4, 1, true, true, false},    {s_ldr_regoff, 22, 1, 8, true, false, true},
    {s_str_x13, 13, 1, 8, false, false, true},   {s_str_w14, 14, 2, 4, false, false, false},
    {s_strh_w15, 15, 3, 2, false, false, false}, {s_strb_w16, 16, 4, 1, false, false, false},
    {s_str_xzr, 31, 1, 8, false, false, true},   {s_str_x28, 28, 4, 8, false, false, true},
};

void mmio_op(Rng& rng, Op& o) {
    if (rng.chance(20)) {  // forms without a syndrome: always refused
        constexpr Stub forms[] = {s_ldp, s_stp, s_ldr_pre, s_ldxr};
        const Stub stub = forms[rng.below(4)];
        bool misaligned = false;
        const u64 addr = random_address(rng, 8, misaligned);
        o.frame.in[30] = stub_address(stub);
        const unsigned base = stub == s_ldp ? 1 : stub == s_stp ? 2 : 3;
        o.frame.in[base] = stub == s_ldr_pre ? addr - 8 : addr;
        o.far = addr;
        o.write = stub == s_stp ? 1 : 0;
        o.outcome = misaligned ? Outcome::AlignOrAbort : Outcome::Abort;
        o.exit_kind = k_nested_page_fault;
        return;
    }
    const Access& a = single_forms[rng.below(sizeof(single_forms) / sizeof(single_forms[0]))];
    bool misaligned = false;
    const u64 addr = random_address(rng, a.size, misaligned);
    o.frame.in[30] = stub_address(a.stub);
    if (a.stub == s_ldr_regoff) {
        o.frame.in[2] = addr - o.frame.in[1];  // x1 random, x1 + x2 = the address
    } else {
        o.frame.in[a.rn] = addr;
    }
    o.far = addr;
    o.write = a.load ? 0 : 1;
    o.exit_kind = a.load ? k_mmio_read : k_mmio_write;
    if (misaligned) {
        o.outcome = Outcome::AlignOrAbort;
        return;
    }
    const u64 offset = addr - abi::testdev_base;
    const bool answered = a.load ? offset < 0x18 : (offset < 0x08 || (offset >= 0x18 && offset < 0x20));
    if (!answered) {
        o.outcome = Outcome::Abort;
        return;
    }
    if (a.load) {
        u64 value = device_bytes(offset, a.size);
        if (a.sign && a.size < 8 && (value >> (8 * a.size - 1)) != 0) value |= ~u64{0} << (8 * a.size);
        if (!a.x) value &= 0xFFFF'FFFF;
        o.reg = static_cast<int>(a.rt);
        o.value = value;
    } else if (offset < 8) {
        const u64 data = a.rt == 31 ? 0 : o.frame.in[a.rt];
        const u64 mask = (a.size == 8 ? ~u64{0} : (u64{1} << (8 * a.size)) - 1) << (8 * offset);
        scratch = (scratch & ~mask) | ((data << (8 * offset)) & mask);
    }
}

// --- Hypercalls ---
bool known_number(u64 nr) { return nr >= vmm::hypercall::base && nr <= vmm::hypercall::base + 0x3F; }
bool psci_range(u64 x0) {
    const u64 id = x0 & 0xFFFF'FFFF;
    return ((id >> 24) == 0x84 || (id >> 24) == 0xC4) && (id & 0x00FF'0000) == 0 && (id & 0xFFFF) <= 0x1F;
}

void hypercall_op(Rng& rng, Op& o) {
    o.frame.in[30] = stub_address(s_hvc);
    o.exit_kind = k_hypercall;
    u64* x = o.frame.in;
    o.reg = 0;  // the answer
    const u64 pick = rng.below(100);
    if (pick < 15) {
        x[0] = vmm::hypercall::sum;
        o.value = x[1] + x[2] + x[3] + x[4] + x[5] + x[6];
    } else if (pick < 25) {
        x[0] = vmm::hypercall::nop;
        o.value = 0;
    } else if (pick < 30) {
        x[0] = vmm::hypercall::timer_fires;
        o.value = ~u64{0};  // aarch64: guest timers never go through host timers
    } else if (pick < 35) {
        x[0] = vmm::hypercall::set_quiet;
        x[1] |= 1;  // stays quiet
        o.value = 0;
    } else if (pick < 60) {
        x[0] = vmm::hypercall::inject;
        if (rng.chance(70)) {  // vectors this guest takes: each once
            x[1] = rng.below(60);
            x[2] = rng.below(5);
            for (u64 v = x[1]; v < x[1] + (x[2] == 0 ? 1 : x[2]); ++v) ++irqs_expected[v];
            o.value = 0;
        } else {  // beyond the largest INTID (1019): each refused
            x[1] = 1020 + (rng.next() >> 24);
            x[2] = rng.below(4);
            o.value = x[2] == 0 ? 1 : x[2];
        }
    } else {  // a number nobody answers: -1
        do {
            x[0] = rng.chance(50) ? rng.next() : vmm::hypercall::base + 0x16 + rng.below(0x100);
        } while (psci_range(x[0]) || (known_number(x[0]) && x[0] < vmm::hypercall::base + 0x16));
        o.value = ~u64{0};
    }
}

// --- PSCI, as README.md and the PSCI spec (ARM DEN 0022) say ---
constexpr u64 psci_not_supported = ~u64{0}, psci_invalid = ~u64{1}, psci_already_on = ~u64{3};
bool implemented(u64 fid) {
    switch (fid & 0xFFFF'FFFF) {
        case 0x8400'0000: case 0x8400'0001: case 0xC400'0001: case 0x8400'0002: case 0x8400'0003:
        case 0xC400'0003: case 0x8400'0004: case 0xC400'0004: case 0x8400'0006: case 0x8400'0008:
        case 0x8400'0009: case 0x8400'000A: case 0x8400'0012: case 0xC400'0012: return true;
        default: return false;
    }
}

void psci_op(Rng& rng, Op& o) {
    const bool smc = rng.chance(50);
    o.frame.in[30] = stub_address(smc ? s_smc : s_hvc);
    u64* x = o.frame.in;
    if (smc && rng.chance(10)) {  // not PSCI at all: SMCCC's NOT_SUPPORTED, no exit
        do {
            x[0] = rng.next();
        } while (psci_range(x[0]));
        o.reg = 0;
        o.value = psci_not_supported;
        return;
    }
    u64 fid;
    do {
        fid = (rng.chance(50) ? 0xC400'0000 : 0x8400'0000) | rng.below(0x20);
        // CPU_OFF, SYSTEM_OFF, SYSTEM_RESET and SYSTEM_RESET2 would end the test.
    } while (fid == 0x8400'0002 || fid == 0x8400'0008 || fid == 0x8400'0009 || fid == 0x8400'0012 ||
             fid == 0xC400'0012);
    x[0] = fid | (rng.chance(50) ? rng.next() << 32 : 0);  // SMCCC: the function id is W0
    if (rng.chance(50)) x[1] = rng.below(3) | (rng.chance(30) ? rng.next() << 32 : 0);
    if (rng.chance(50)) x[2] = rng.chance(70) ? rng.next() << 32 : rng.below(3);
    if (fid == 0x8400'000A && rng.chance(60)) x[1] = (rng.chance(50) ? 0xC400'0000 : 0x8400'0000) | rng.below(0x14);
    // SMC32/HVC32 (bit 30 clear): only the low 32 bits of the arguments count (SMCCC, ARM DEN 0028).
    const u64 narrow = (fid & 0x4000'0000) != 0 ? ~u64{0} : 0xFFFF'FFFF;
    const u64 a1 = x[1] & narrow, a2 = x[2] & narrow;
    o.reg = 0;
    switch (fid) {
        case 0x8400'0000: o.value = 0x1'0001; break;  // PSCI 1.1
        case 0x8400'0001:
        case 0xC400'0001:  // a standby: Halt, then success
            o.value = 0;
            o.exit_kind = k_halt;
            o.wait_timer = true;
            break;
        case 0x8400'0003:
        case 0xC400'0003:  // the only vCPU is on: ALREADY_ON for itself, else no such CPU
            o.value = a1 == 0 ? psci_already_on : psci_invalid;
            o.exit_kind = k_cpu_up;
            break;
        case 0x8400'0004:
        case 0xC400'0004:  // level 0 only; vCPU 0 is on, nothing else exists
            o.value = a2 != 0 ? psci_invalid : (a1 & 0xFF'00FF'FFFF) == 0 ? 0 : psci_invalid;
            break;
        case 0x8400'0006: o.value = 2; break;  // no trusted OS
        case 0x8400'000A: o.value = implemented(a1 & 0xFFFF'FFFF) ? 0 : psci_not_supported; break;
        default: o.value = psci_not_supported;
    }
}

// --- System registers and SGIs ---
// ID_AA64ISAR1_EL1 and ID_AA64ISAR2_EL1 read the host's values, which
// guest_main records once.
u64 host_isar1 = 0, host_isar2 = 0;

void sysreg_op(Rng& rng, Op& o) {
    const u64 pick = rng.below(100);
    u64* x = o.frame.in;
    if (pick < 40) {  // an ID register: 0x1122 for ID_AA64MMFR0_EL1, the host's ISAR1/ISAR2, else zero
        const unsigned crm = 1 + static_cast<unsigned>(rng.below(7)), op2 = static_cast<unsigned>(rng.below(8));
        o.frame.in[30] = stub_address(s_id_first + (crm - 1) * 8 + op2);
        o.reg = 26;
        o.value = crm == 7 && op2 == 0   ? abi::fake_mmfr0
                  : crm == 6 && op2 == 1 ? host_isar1
                  : crm == 6 && op2 == 2 ? host_isar2
                                         : 0;
        o.exit_kind = k_sysreg_read;
        o.outcome = Outcome::UndefOrExit;
    } else if (pick < 70) {  // ICC_SGI1R_EL1: an SGI to this vCPU if it names it
        u64 value = rng.next();
        if (rng.chance(70)) value &= (u64{0xF} << 24) | (u64{1} << 40) | 0xFFFF;  // Aff1..3 and RS zero
        o.frame.in[30] = stub_address(s_sgi1r);
        x[23] = value;
        const bool all_others = ((value >> 40) & 1) != 0;
        const bool names_me = !all_others && ((value >> 16) & 0xFF) == 0 && ((value >> 32) & 0xFF) == 0 &&
                              ((value >> 48) & 0xFF) == 0 && ((value >> 44) & 0xF) == 0 && (value & 1) != 0;
        if (names_me) ++irqs_expected[(value >> 24) & 0xF];
        o.exit_kind = k_send_ipi;
    } else if (pick < 80) {  // SGI0R, ASGI1R: not emulated, ignored
        o.frame.in[30] = stub_address(rng.chance(50) ? s_sgi0r : s_asgi1r);
        o.exit_kind = k_sysreg_write;
    } else {  // the EL1 physical timer: trapped, not emulated (reads 0, writes ignored)
        const Stub stubs[] = {s_cntp_ctl_read, s_cntp_ctl_write, s_cntp_cval_read, s_cntp_tval_write};
        const Stub stub = stubs[rng.below(4)];
        o.frame.in[30] = stub_address(stub);
        const bool read = stub == s_cntp_ctl_read || stub == s_cntp_cval_read;
        if (read) o.reg = 27;
        o.exit_kind = read ? k_sysreg_read : k_sysreg_write;
    }
}

void make_op(Rng& rng, Op& o) {
    for (u64& reg : o.frame.in) reg = rng.next();
    o.frame.nzcv_in = rng.next() & 0xF000'0000;
    switch (rng.choose({20, 15, 35, 18, 7, 5})) {
        case 0: hypercall_op(rng, o); break;
        case 1: psci_op(rng, o); break;
        case 2: mmio_op(rng, o); break;
        case 3: sysreg_op(rng, o); break;
        case 4:
            // WFI, not WFE: WFE may complete without waiting, so without a
            // trap (the event register; QEMU never traps it), and this guest
            // could not tell whether it exited.
            o.frame.in[30] = stub_address(s_wfi);
            o.exit_kind = k_halt;
            o.wait_timer = true;
            break;
        default: {  // a call into memory that is not there
            bool misaligned = false;
            u64 target = random_address(rng, 4, misaligned) & ~u64{3};
            if ((target >> 12) == (abi::testdev_base >> 12)) target += 0x10'0000;  // an unmapped page either way
            o.frame.in[30] = stub_address(s_blr);
            o.frame.in[29] = target;
            o.far = target;
            o.outcome = Outcome::InstructionAbort;
            o.exit_kind = k_nested_page_fault;
        }
    }
}

void run_op(Rng& rng) {
    Op o;
    make_op(rng, o);
    // Expected registers: as loaded, but for what the op writes.
    u64 want[31];
    for (unsigned i = 0; i < 31; ++i) want[i] = o.frame.in[i];
    const unsigned stub = static_cast<unsigned>((o.frame.in[30] - reinterpret_cast<u64>(chaos_stubs)) / 8);
    if (o.reg >= 0) want[o.reg] = o.value;
    if (stub == s_blr) want[30] = o.frame.in[30] + 4;  // the link; the abort handler returns there
    for (u64& reg : o.frame.out) reg = 0x0BAD'0BAD'0BAD'0BAD;

    const u64 sp_el0 = rng.next();
    asm volatile("msr sp_el0, %0" : : "r"(sp_el0));
    if (o.wait_timer) {
        o.deadline = virtual_count() + 1 + rng.below(counter_frequency() / 20'000);  // up to 50 us
        arm_virtual_timer(o.deadline);
    }
    const u64 aborts_before = aborts, iaborts_before = iaborts, undefs_before = undefs;
    chaos_trap(&o.frame);
    if (o.wait_timer) {
        const u64 woke = virtual_count();
        stop_virtual_timer();
        expect(woke >= o.deadline, 0x10, o.deadline - woke);
    }
    u64 sp_el0_after;
    asm volatile("mrs %0, sp_el0" : "=r"(sp_el0_after));
    expect(sp_el0_after == sp_el0, 0x11, sp_el0_after);

    // The exceptions this op took, and so whether it exited.
    bool exited = o.exit_kind >= 0;
    const u64 new_aborts = aborts - aborts_before, new_iaborts = iaborts - iaborts_before, new_undefs = undefs - undefs_before;
    switch (o.outcome) {
        case Outcome::Returns:
            expect(new_aborts == 0 && new_iaborts == 0 && new_undefs == 0, 0x20, last_esr);
            break;
        case Outcome::Abort:
        case Outcome::AlignOrAbort: {
            expect(new_aborts == 1 && new_iaborts == 0 && new_undefs == 0, 0x21, aborts - aborts_before);
            const u64 fsc = last_esr & 0x3F;
            const bool aligned_fault = o.outcome == Outcome::AlignOrAbort && fsc == fsc_alignment;
            expect(fsc == fsc_sync_external || aligned_fault, 0x22, last_esr);
            expect(last_far == o.far, 0x23, last_far);
            if (o.write >= 0 && !aligned_fault) expect(((last_esr & wnr) != 0) == (o.write != 0), 0x24, last_esr);
            if (aligned_fault) exited = false;  // the guest's own alignment fault: never reached EL2
            for (unsigned i = 0; i < 31; ++i) want[i] = o.frame.in[i];  // nothing loaded, nothing written back
            break;
        }
        case Outcome::InstructionAbort:
            expect(new_iaborts == 1 && new_aborts == 0, 0x25, last_esr);
            expect((last_esr & 0x3F) == fsc_sync_external && last_far == o.far, 0x26, last_far);
            break;
        case Outcome::UndefOrExit:
            expect(new_aborts == 0 && new_iaborts == 0 && new_undefs <= 1, 0x27, last_esr);
            if (new_undefs == 1) {
                exited = false;
                want[26] = o.frame.in[26];  // an encoding this CPU does not have: no trap
            }
            break;
    }
    for (unsigned i = 0; i < 31; ++i) {
        if (o.frame.out[i] != want[i]) {
            print("guest: x");
            print_hex(i);
            print(" after the op is ");
            print_hex(o.frame.out[i]);
            print(", expected ");
            print_hex(want[i]);
            print(" (stub ");
            print_hex(stub);
            print("; x0..x3 were ");
            for (unsigned r = 0; r < 4; ++r) {
                print_hex(o.frame.in[r]);
                print(r < 3 ? " " : ")\n");
            }
            chaos_fail(0x30 + i, o.frame.out[i]);
        }
    }
    expect(o.frame.nzcv_out == o.frame.nzcv_in, 0x50, o.frame.nzcv_out);
    if (exited) {
        ++counts[o.exit_kind];
        ++kind_totals[o.exit_kind];
        ++total_exits;
    }
    // Every interrupt sent is taken once, soon (the list registers are
    // filled at the next entry; more than fit follow a maintenance IRQ).
    for (unsigned v = 0; v < 64; ++v) {
        for (u64 spin = 0; irq_count[v] < irqs_expected[v] && spin < 1'000'000; ++spin) asm volatile("isb");
        expect(irq_count[v] == irqs_expected[v], 0x60 + v, irq_count[v]);
    }
}

// The console, as example::chaos prints to it.
struct Out {
    static void print(const char* text) { g::print(text); }
    static void print_dec(u64 value) { ::print_dec(value); }
    static void print_hex(u64 value) { g::print_hex(value); }
};

void count_exits_reset() {
    hvc(vmm::hypercall::count_exits, 0, 0);
    for (unsigned k = 0; k < exit_kinds; ++k) counts[k] = 0;
}
void count_exits_compare() {
    ++counts[k_hypercall];  // this call
    const u64 differ = hvc(vmm::hypercall::count_exits, reinterpret_cast<u64>(counts), compared_kinds);
    expect(differ == 0, 0x70, differ);
}

}  // namespace

// Data aborts resume after the access; an instruction abort returns to the
// caller (x30, saved at frame[1]); an UNDEFINED MRS resumes after it.
extern "C" u64 guest_sync(u64* frame) {
    u64 esr, far, elr;
    asm volatile("mrs %0, esr_el1\n\tmrs %1, far_el1\n\tmrs %2, elr_el1" : "=r"(esr), "=r"(far), "=r"(elr));
    u64 resume = elr + 4;
    if (ec(esr) == ec_dabt_same) {
        aborts = aborts + 1;
    } else if (ec(esr) == ec_iabt_same) {
        iaborts = iaborts + 1;
        resume = frame[1];
    } else if (ec(esr) == ec_unknown) {
        undefs = undefs + 1;
    } else {
        return 0;
    }
    last_esr = esr;
    last_far = far;
    asm volatile("msr elr_el1, %0" : : "r"(resume));
    return 1;
}

extern "C" void guest_main(u64, u64) {
    const volatile u64* params = reinterpret_cast<const volatile u64*>(params_gpa);
    seed = params[0] != 0 ? params[0] : default_seed;
    const u64 target = params[1] != 0 ? params[1] : default_exits;
    print("guest: chaos test, seed ");
    print_hex(seed);
    print(", exits ");
    print_dec(target);
    print("\n");
    check(hvc(abi::hc_hello, abi::test_chaos) == 0, 1);
    hvc(abi::hc_set_quiet, 1);
    asm volatile("mrs %0, S3_0_C0_C6_1\n\tmrs %1, S3_0_C0_C6_2" : "=r"(host_isar1), "=r"(host_isar2));
    gic_enable();  // IRQs unmasked: injected interrupts and SGIs are taken at once
    Rng rng{seed};
    example::chaos::run<Out>(target, total_exits, op, [&] { run_op(rng); }, count_exits_reset, count_exits_compare);
    constexpr example::chaos::Kind summary[] = {
        {k_hypercall, "hypercall"},       {k_mmio_read, "mmio read"},     {k_mmio_write, "mmio write"},
        {k_nested_page_fault, "nested page fault"}, {k_sysreg_read, "sysreg read"}, {k_sysreg_write, "sysreg write"},
        {k_send_ipi, "send ipi"},         {k_halt, "halt"},               {k_cpu_up, "cpu up"},
    };
    example::chaos::print_summary<Out>(seed, op, total_exits, kind_totals, summary);
    print(", aborts ");
    print_dec(aborts);
    print(", undefined ");
    print_dec(undefs);
    print("\n");
    pass();
}
