// The chaos guest: random exits from a seeded PRNG until it has made the
// number asked for (README.md, "The chaos guest"): AxVisor hypercalls with
// random numbers and arguments; SBI calls with random extension and
// function ids and arguments (bad pointers, hart masks and ids, entry
// points, suspend and reset types); MMIO of every width and form,
// compressed included, at the echo device, its page's edges, unmapped and
// misaligned addresses, and the forms the policy refuses (AMO, LR, FP);
// what VS-mode may not do (hypervisor, VS and M-mode CSRs, counters,
// hypervisor loads and fences); WFI and suspends woken by the SBI timer;
// interrupts requested by hypercall, IPI and timer; a call into unmapped
// memory; a second vCPU started and stopped. Every op runs through
// chaos_trap (guest_chaos_trap.S), which loads x1..x31 with random values
// first and stores them after, so every register is compared with what the
// op may change after every exit. Each answer is checked against this
// guest's own reading of README.md, and every 1,000 ops the exits it made,
// by kind, are compared with the VMM's (count_exits). A failure prints the
// seed and the op's number: the same seed replays the same ops.
#include "examples/common/chaos.hpp"
#include "examples/common/rng.hpp"
#include "guest_rt.hpp"

using namespace guest;

GUEST_RUNTIME_SUPPORT

using u64 = std::uint64_t;

extern "C" {
extern u64 chaos_in[32];
extern u64 chaos_out[32];
extern char chaos_stubs[];
void chaos_trap();
}

namespace {

// The stubs of guest_chaos_trap.S, in their order.
enum Stub : unsigned {
    s_ecall, s_wfi, s_jalr,
    s_ld, s_lw, s_lwu, s_lh, s_lhu, s_lb, s_lbu, s_ld_ra_sp, s_lw_gp_tp, s_c_lw, s_c_ld, s_c_lwsp, s_c_ldsp, s_lb_x0,
    s_sd, s_sw, s_sh, s_sb, s_sd_x0, s_c_sw, s_c_sd, s_c_swsp, s_c_sdsp,
    s_amoadd_w, s_amoswap_d, s_lr_w, s_amoor_d, s_fld, s_fsd,
    s_privileged_first, s_ebreak = s_privileged_first + 11,
};

// --- The parameters: QEMU's loader may write them (README.md) ---
constexpr u64 params_gpa = 0x8BE0'0000;
constexpr u64 default_seed = 0x00C0'FFEE'2024'0013;
constexpr u64 default_exits = 100'000;

// The VM (README.md, "What the guest sees").
constexpr u64 ram_base = 0x8800'0000, ram_end = 0x8C00'0000;
constexpr u64 uart_page = 0x1000'0000;
constexpr u64 echo_magic = 0x8877'6655'4433'2211;

// Exit kinds, as AxVCpuExitReason's alternatives are numbered (the VMM's
// count_exits compares these words).
constexpr unsigned exit_kinds = 19;
enum Kind : int {
    k_none = -1, k_hypercall = 0, k_mmio_read = 1, k_mmio_write = 2, k_nested_page_fault = 8, k_halt = 9,
    k_cpu_up = 10, k_cpu_down = 11, k_send_ipi = 15,
};
constexpr u64 compared_kinds = exit_bit::hypercall | exit_bit::mmio_read | exit_bit::mmio_write |
                               exit_bit::nested_page_fault | exit_bit::halt | exit_bit::cpu_up | exit_bit::cpu_down |
                               exit_bit::send_ipi;
alignas(8) u64 counts[exit_kinds];  // read by the VMM at count_exits
u64 total_exits = 0;
u64 kind_totals[exit_kinds];
void count(int kind) {
    ++counts[kind];
    ++kind_totals[kind];
    ++total_exits;
}

// SBI error codes and ids, as README.md gives them.
constexpr u64 ok = 0, not_supported = static_cast<u64>(-2), invalid_param = static_cast<u64>(-3),
              invalid_address = static_cast<u64>(-5), already_available = static_cast<u64>(-6);
constexpr u64 eid_legacy_set_timer = 0, eid_legacy_getchar = 2, eid_legacy_clear_ipi = 3, eid_legacy_send_ipi = 4,
              eid_legacy_fence_i = 5, eid_legacy_sfence_vma_asid = 7, eid_base = 0x10, eid_time = 0x54494D45,
              eid_ipi = 0x735049, eid_rfence = 0x52464E43, eid_hsm = 0x48534D, eid_srst = 0x53525354,
              eid_pmu = 0x504D55, eid_dbcn = 0x4442434E, eid_hvc = 0x485643;
bool sbi_extension_known(u64 eid) {
    return eid <= 8 || eid == eid_base || eid == eid_time || eid == eid_ipi || eid == eid_rfence || eid == eid_hsm ||
           eid == eid_srst || eid == eid_dbcn || eid == eid_hvc;
}

u64 seed = 0, op = 0;
u64 vcpus = 1;  // this VM's vCPUs: hart_start's valid targets

unsigned current_stub = 0;
[[noreturn]] void chaos_fail(const char* what, u64 value) {
    print("guest: chaos FAILED at op ", Dec{op}, " with seed ", Hex{seed}, ": ", what, " (", Hex{value}, "); stub ",
          Dec{current_stub}, ", a0..a7 were");
    for (unsigned r = 10; r < 18; ++r) print(" ", Hex{chaos_in[r]});
    print("\n");
    check(false, what, value);
    shutdown();
}
void expect(bool ok_, const char* what, u64 value = 0) {
    if (!ok_) chaos_fail(what, value);
}

// --- Interrupts and exceptions this guest takes (guest_trap) ---
constexpr unsigned irq_software = 1, irq_timer = 5, irq_external = 9;
volatile u64 irqs_taken[10];
u64 irqs_expected[10];
volatile u64 timer_taken_at = 0;
volatile bool in_op = false;
volatile u64 exceptions = 0, last_cause = 0, last_tval = 0, last_epc = 0;
u64 sbi_timer_irqs = 0;  // timer interrupts that came from an SBI set_timer (timer_fires counts them)

// --- The echo device, as this guest wrote it ---
u64 echo_scratch = 0;
u64 echo_bytes(u64 offset, unsigned size) {  // offset naturally aligned, inside the device
    const u64 reg = offset < 8 ? echo_scratch : echo_magic;
    const u64 shifted = reg >> (8 * (offset & 7));
    return size == 8 ? shifted : shifted & ((u64{1} << (8 * size)) - 1);
}

// --- One op: what it does to the registers and what it must cause ---
struct Op {
    Stub stub = s_ecall;
    int exit_kind = k_none;       // the exit the VMM must see
    int changes[2] = {-1, -1};    // registers the op writes
    u64 values[2] = {0, 0};       // what it writes there
    bool exception = false;       // it must raise one (cause and tval below)
    u64 cause = 0, tval = 0, tval_span = 1;  // tval in [tval, tval + span)
    u64 alt_cause = ~u64{0};      // another cause the exception may have
    bool halts = false;           // waits for the timer armed at `deadline`
    u64 deadline = 0;
    bool sbi_timer = false;       // it arms the SBI timer (timer_fires counts what fires)
    bool secondary = false;       // a good hart_start: vCPU 1 runs and stops
    u64 opaque = 0;               // hart_start's; for WFI and suspends, the timer's stime
};
void writes(Op& o, unsigned reg, u64 value) {
    const int slot = o.changes[0] < 0 ? 0 : 1;
    o.changes[slot] = static_cast<int>(reg);
    o.values[slot] = value;
}
void answers(Op& o, u64 a0, u64 a1) {
    writes(o, 10, a0);
    writes(o, 11, a1);
}
u64 stub_address(unsigned stub) { return reinterpret_cast<u64>(chaos_stubs) + 8 * stub; }

bool unmapped(u64 addr, u64 size) {
    const auto overlaps = [&](u64 base, u64 end) { return addr < end && addr + size > base; };
    return !overlaps(ram_base, ram_end) && !overlaps(uart_page, uart_page + 0x1000) && addr + size > addr;
}

// An address of `size` bytes: the echo device's bytes, the rest of its
// page, the edges of the device, its page, RAM and the UART's page, or
// unmapped memory anywhere in the 64-bit space (never RAM or the UART);
// any of these misaligned.
u64 random_address(example::Rng& rng, unsigned size, bool& misaligned) {
    u64 addr;
    const u64 pick = rng.below(100);
    if (pick < 45) {
        addr = echo_device + (rng.below(16) & ~u64{size - 1});
    } else if (pick < 60) {
        addr = echo_device + ((16 + rng.below(0x1000 - 16)) & ~u64{size - 1});
    } else if (pick < 72) {
        const u64 edges[] = {echo_device - size, echo_device + 16, echo_device + 0x1000 - size, echo_device + 0x1000,
                             ram_base - size, ram_end, uart_page - size, uart_page + 0x1000};
        addr = edges[rng.below(sizeof(edges) / sizeof(edges[0]))];
    } else {
        do {
            addr = (rng.chance(50) ? rng.next() & 0xFFFF'FFFF : rng.next()) & ~u64{size - 1};
        } while (!unmapped(addr, size) || (addr >> 12) == (echo_device >> 12));
    }
    misaligned = size > 1 && rng.chance(10);
    if (misaligned) addr += 1 + rng.below(size - 1);
    return addr;
}

// --- MMIO ---
struct Access {
    Stub stub;
    unsigned reg, base;  // data register (0: x0), base register
    int imm;
    unsigned size;
    bool load, sign;
};
constexpr Access accesses[] = {
    {s_ld, 7, 6, -8, 8, true, true},        {s_lw, 9, 8, 4, 4, true, true},
    {s_lwu, 11, 10, 2044, 4, true, false},  {s_lh, 13, 12, -2048, 2, true, true},
    {s_lhu, 15, 14, 6, 2, true, false},     {s_lb, 17, 16, 1, 1, true, true},
    {s_lbu, 19, 18, -1, 1, true, false},    {s_ld_ra_sp, 1, 2, 16, 8, true, true},
    {s_lw_gp_tp, 3, 4, 0, 4, true, true},   {s_c_lw, 12, 13, 124, 4, true, true},
    {s_c_ld, 14, 15, 248, 8, true, true},   {s_c_lwsp, 20, 2, 252, 4, true, true},
    {s_c_ldsp, 21, 2, 504, 8, true, true},  {s_lb_x0, 0, 22, 0, 1, true, true},
    {s_sd, 23, 24, 0, 8, false, false},     {s_sw, 25, 26, -4, 4, false, false},
    {s_sh, 27, 28, 2, 2, false, false},     {s_sb, 29, 30, 3, 1, false, false},
    {s_sd_x0, 0, 5, 8, 8, false, false},    {s_c_sw, 8, 9, 4, 4, false, false},
    {s_c_sd, 10, 11, 8, 8, false, false},   {s_c_swsp, 12, 2, 60, 4, false, false},
    {s_c_sdsp, 13, 2, 120, 8, false, false},
};
// The forms the policy does not emulate: a NestedPageFault, refused.
struct Refused {
    Stub stub;
    unsigned base, size;
    bool store_fault;
};
constexpr Refused refused_forms[] = {
    {s_amoadd_w, 7, 4, true}, {s_amoswap_d, 10, 8, true}, {s_lr_w, 12, 4, true},
    {s_amoor_d, 15, 8, true},   {s_fld, 16, 8, false},      {s_fsd, 17, 8, true},
};
constexpr u64 cause_misaligned_fetch = 0, cause_fetch_access = 1, cause_illegal = 2, cause_breakpoint = 3,
              cause_load_misaligned = 4, cause_load_access = 5, cause_store_misaligned = 6, cause_store_access = 7;

void mmio_op(example::Rng& rng, Op& o) {
    u64* x = chaos_in;
    if (rng.chance(15)) {
        const Refused& r = refused_forms[rng.below(sizeof(refused_forms) / sizeof(refused_forms[0]))];
        bool misaligned = false;
        const u64 addr = random_address(rng, r.size, misaligned);
        o.stub = r.stub;
        x[r.base] = addr - (r.stub == s_fsd ? 8 : 0);
        o.exception = true;
        o.tval = addr;
        const bool atomic = r.stub != s_fld && r.stub != s_fsd;
        if (misaligned && atomic) {
            // QEMU checks an atomic's alignment first: the guest's own
            // misaligned exception, which never reaches the VMM as an exit.
            o.cause = cause_store_misaligned;
            o.alt_cause = cause_load_misaligned;
            return;
        }
        o.cause = r.store_fault ? cause_store_access : cause_load_access;
        o.exit_kind = k_nested_page_fault;
        return;
    }
    const Access& a = accesses[rng.below(sizeof(accesses) / sizeof(accesses[0]))];
    bool misaligned = false;
    const u64 addr = random_address(rng, a.size, misaligned);
    o.stub = a.stub;
    x[a.base] = addr - static_cast<u64>(static_cast<std::int64_t>(a.imm));
    o.exit_kind = a.load ? k_mmio_read : k_mmio_write;
    const u64 offset = addr - echo_device;
    const bool answered = !misaligned && offset < 16 && (a.load || offset < 8);
    if (!answered) {
        o.exception = true;
        o.cause = a.load ? cause_load_access : cause_store_access;
        o.tval = addr;
        // A misaligned access across a page boundary may fault on its
        // second page (the spec lets stval name either).
        if (misaligned) o.tval_span = a.size;
        return;
    }
    if (a.load) {
        u64 value = echo_bytes(offset, a.size);
        if (a.sign && a.size < 8 && (value >> (8 * a.size - 1)) != 0) value |= ~u64{0} << (8 * a.size);
        if (a.reg != 0) writes(o, a.reg, value);
    } else {
        const u64 data = a.reg == 0 ? 0 : x[a.reg];
        const u64 mask = (a.size == 8 ? ~u64{0} : (u64{1} << (8 * a.size)) - 1) << (8 * offset);
        echo_scratch = (echo_scratch & ~mask) | ((data << (8 * offset)) & mask);
    }
}

// --- The SBI timer: when it is armed to fire, the op waits for it ---
void arm_timer_deadline(example::Rng& rng, Op& o, u64& stime) {
    const u64 pick = rng.below(100);
    if (pick < 30) {  // already passed
        stime = rng.chance(50) ? rng.below(rdtime()) : 0;
        o.deadline = 0;
        o.halts = true;
    } else if (pick < 70) {  // up to 50 us ahead (10 MHz)
        stime = rdtime() + 1 + rng.below(500);
        o.deadline = stime;
        o.halts = true;
    } else if (pick < 85) {  // never
        stime = ~u64{0};
    } else {  // after the test (a later set_timer replaces it)
        stime = rdtime() + (u64{1} << 40) + rng.below(u64{1} << 40);
    }
}

// --- Hypercalls (README.md and examples/vmm/README.md) ---
u64 timer_fires_base = 0;
bool interleaving = false;
bool hypercall_known(u64 nr) { return nr >= hc::base && nr <= hc::base + 0x3F; }

void hypercall_op(example::Rng& rng, Op& o) {
    u64* x = chaos_in;
    x[17] = eid_hvc;
    o.exit_kind = k_hypercall;
    const u64 pick = rng.below(100);
    u64 answer = 0;
    if (pick < 20) {
        x[16] = hc::sum;
        answer = x[10] + x[11] + x[12] + x[13] + x[14] + x[15];
    } else if (pick < 28) {
        x[16] = hc::nop;
    } else if (pick < 33) {
        x[16] = hc::timer_fires;
        answer = timer_fires_base == ~u64{0} ? ~u64{0} : timer_fires_base + sbi_timer_irqs;
    } else if (pick < 37) {
        x[16] = hc::set_quiet;
        x[10] |= 1;  // stays quiet
    } else if (pick < 40) {
        // Another VM's vCPU takes the hart between two runs, or stops.
        x[16] = hc::interleave;
        x[10] = rng.chance(50) ? 0 : x[10] | 1;
        interleaving = x[10] != 0;
    } else if (pick < 43) {
        x[16] = hc::ack_external;  // nothing pending: withdraws nothing
    } else if (pick < 45) {
        x[16] = hc::resumes_seen;  // no expect_resume: none
    } else if (pick < 70) {
        x[16] = hc::inject;
        x[10] = rng.chance(85) ? rng.below(12) : rng.next();
        x[11] = rng.below(4);
        const u64 n = x[11] == 0 ? 1 : x[11];
        for (u64 i = 0; i < n; ++i) {
            const u64 v = x[10] + i;
            if (v == irq_software || v == irq_timer || v == irq_external) {
                ++irqs_expected[v];
            } else {
                ++answer;
            }
        }
    } else {  // a number nobody answers: -1
        do {
            x[16] = rng.chance(50) ? rng.next() : hc::base + 0x16 + rng.below(0x100);
        } while (hypercall_known(x[16]) && x[16] < hc::base + 0x16);
        answer = ~u64{0};
    }
    answers(o, answer, 0);
}

// --- SBI calls (README.md, "SBI") ---
alignas(8) u64 mask_words[2];  // hart masks for the legacy calls, read by pointer
alignas(8) char console_buffer[64];

// A pointer the policy must refuse: unmapped, the emulated device, or
// across the end of RAM.
u64 bad_pointer(example::Rng& rng, u64 size) {
    bool misaligned = false;
    if (rng.chance(20)) return ram_end - 1 - rng.below(size > 1 ? size - 1 : 1);
    u64 addr = random_address(rng, 8, misaligned);
    if (!unmapped(addr, size)) addr = echo_device;
    return addr;
}

void ipi_target(Op& o, bool self) {
    o.exit_kind = k_send_ipi;
    if (self) ++irqs_expected[irq_software];
}

void sbi_op(example::Rng& rng, Op& o) {
    u64* x = chaos_in;
    const u64 pick = rng.below(100);
    // fids past the defined ones get NOT_SUPPORTED
    const auto fid = [&](u64 defined) { return rng.chance(85) ? rng.below(defined) : defined + rng.below(1000); };
    if (pick < 8) {  // Base
        x[17] = eid_base;
        x[16] = fid(7);
        if (x[16] == 3 && rng.chance(60)) {
            const u64 known[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, eid_base, eid_time, eid_ipi, eid_rfence, eid_hsm, eid_srst,
                                 eid_pmu, eid_dbcn, eid_hvc};
            x[10] = known[rng.below(sizeof(known) / sizeof(known[0]))];
        }
        const u64 answer[] = {2u << 24, 0x41585643, 1, sbi_extension_known(x[10]) ? 1u : 0u, 0, 0, 0};
        if (x[16] < 7) {
            answers(o, ok, answer[x[16]]);
        } else {
            answers(o, not_supported, 0);
        }
    } else if (pick < 20) {  // TIME, legacy set_timer
        const bool legacy = rng.chance(30);
        x[17] = legacy ? eid_legacy_set_timer : eid_time;
        x[16] = legacy ? x[16] : fid(1);
        if (!legacy && x[16] != 0) {
            answers(o, not_supported, 0);
            return;
        }
        arm_timer_deadline(rng, o, x[10]);
        o.sbi_timer = true;
        if (o.halts) ++irqs_expected[irq_timer];
        o.halts = false;  // nothing waits in the call: the interrupt follows
        answers(o, ok, 0);
    } else if (pick < 30) {  // IPI
        x[17] = eid_ipi;
        x[16] = fid(1);
        if (x[16] != 0) {
            answers(o, not_supported, 0);
            return;
        }
        const u64 pick_mask = rng.below(4);
        if (pick_mask == 0) x[11] = ~u64{0};  // every hart, the caller too
        if (pick_mask == 1) x[11] = 0;
        if (pick_mask == 2) x[11] = rng.below(3);
        ipi_target(o, x[11] == ~u64{0} || (x[11] == 0 && (x[10] & 1) != 0));
        answers(o, ok, 0);
    } else if (pick < 37) {  // RFENCE: every hart flushed, whatever the mask
        x[17] = eid_rfence;
        x[16] = fid(3);
        answers(o, x[16] < 3 ? ok : not_supported, 0);
    } else if (pick < 55) {  // HSM
        x[17] = eid_hsm;
        x[16] = fid(4);
        if (x[16] == 1) x[16] = 2;  // hart_stop would stop this test
        if (x[16] == 0) {  // hart_start
            o.exit_kind = k_cpu_up;
            x[10] = rng.chance(80) ? rng.below(vcpus + 1) : rng.next();
            if (x[10] == 0) {
                answers(o, already_available, 0);
            } else if (x[10] >= vcpus) {
                answers(o, invalid_param, 0);
            } else if (rng.chance(40)) {
                // A good entry: vCPU 1 runs guest_main and stops itself.
                x[11] = ram_base;
                o.secondary = true;
                o.opaque = x[12];
                answers(o, ok, 0);
            } else {
                // No RAM there, or not 2-byte aligned: refused (SBI v2.0,
                // hart_start: INVALID_ADDRESS for an address the G-stage
                // does not allow).
                bool misaligned = false;
                x[11] = random_address(rng, 4, misaligned);
                if (!unmapped(x[11], 4)) x[11] = echo_device;
                if (rng.chance(20)) x[11] = ram_base + 1;
                answers(o, invalid_address, 0);
            }
        } else if (x[16] == 2) {  // hart_get_status
            x[10] = rng.chance(80) ? rng.below(vcpus + 1) : rng.next();
            if (x[10] >= vcpus) {
                answers(o, invalid_param, 0);
            } else {
                answers(o, ok, x[10] == 0 ? 0 : 1);  // vCPU 1 is always stopped between ops
            }
        } else if (x[16] == 3) {  // hart_suspend
            const u64 type = rng.below(3);
            x[10] = (rng.chance(30) ? rng.next() << 32 : 0) |
                    (type == 0 ? 0 : type == 1 ? 0x8000'0000 : 1 + rng.below(0x7FFF'FFFF) + (rng.chance(50) ? 0x8000'0000 : 0));
            if (type == 2) {
                answers(o, invalid_param, 0);
                return;
            }
            // A timer that fires wakes it: run_op arms it before the call.
            u64 stime = 0;
            do {
                arm_timer_deadline(rng, o, stime);
            } while (!o.halts);
            o.exit_kind = k_halt;
            ++irqs_expected[irq_timer];
            if (type == 0) {
                answers(o, ok, 0);
            } else {
                // Non-retentive: resumes at resume_addr (the stub's jump
                // back) with a0 = hart id, a1 = opaque; this hypervisor
                // keeps every other register.
                x[11] = stub_address(s_ecall) + 4;
                answers(o, 0, x[12]);
            }
            o.opaque = stime;
        } else {
            answers(o, not_supported, 0);
        }
    } else if (pick < 60) {  // SRST with reset types that do not exist
        x[17] = eid_srst;
        x[16] = fid(1);
        x[10] = 3 + rng.below(0xFFFF'FFFC);
        answers(o, x[16] == 0 ? invalid_param : not_supported, 0);
    } else if (pick < 72) {  // DBCN read and write (never write_byte: it prints)
        x[17] = eid_dbcn;
        x[16] = rng.chance(90) ? rng.below(2) : 3 + rng.below(100);
        if (x[16] > 1) {
            answers(o, not_supported, 0);
            return;
        }
        const u64 kind = rng.below(4);
        x[12] = 0;
        if (kind == 0) {  // the high half of the address must be zero
            x[12] = rng.next() | 1;
            answers(o, invalid_param, 0);
        } else if (kind == 1) {  // nothing to do
            x[10] = 0;
            answers(o, ok, 0);
        } else if (kind == 2 || x[16] == 0) {  // not RAM: refused before any byte
            x[10] = 1 + rng.below(1000);
            x[11] = bad_pointer(rng, x[10]);
            if (x[11] >= ram_base && x[11] < ram_end) x[11] = echo_device;  // the partial write would print
            answers(o, invalid_param, 0);
        } else {  // a read into RAM: nothing typed, nothing read
            x[10] = 1 + rng.below(sizeof(console_buffer));
            x[11] = reinterpret_cast<u64>(console_buffer) + rng.below(sizeof(console_buffer) - x[10] + 1);
            answers(o, ok, 0);
        }
    } else if (pick < 85) {  // legacy calls (never putchar or shutdown)
        const u64 which = rng.below(4);
        if (which == 0) {
            x[17] = eid_legacy_getchar;
            writes(o, 10, ~u64{0});  // nothing typed; a1 is left alone
        } else if (which == 1) {
            x[17] = eid_legacy_clear_ipi;
            writes(o, 10, 0);
        } else {
            // send_ipi and the remote fences take the hart mask by pointer.
            x[17] = which == 2 ? eid_legacy_send_ipi : eid_legacy_fence_i + rng.below(3);
            if (rng.chance(30)) {
                x[10] = bad_pointer(rng, 8);
                writes(o, 10, invalid_address);
                return;
            }
            mask_words[0] = rng.next();
            mask_words[1] = rng.next();
            x[10] = reinterpret_cast<u64>(mask_words) + rng.below(9);  // misaligned too
            u64 mask = 0;
            for (unsigned i = 0; i < 8; ++i)
                mask |= u64{reinterpret_cast<const unsigned char*>(mask_words)[x[10] - reinterpret_cast<u64>(mask_words) + i]} << (8 * i);
            writes(o, 10, 0);
            if (x[17] == eid_legacy_send_ipi) ipi_target(o, (mask & 1) != 0);
        }
    } else {  // PMU and extensions nobody implements
        do {
            x[17] = rng.chance(20) ? eid_pmu : rng.chance(50) ? rng.below(0x100) : rng.next();
        } while (sbi_extension_known(x[17]));
        answers(o, not_supported, 0);
    }
}

// --- What VS-mode may not do: an illegal instruction with its bits ---
void privileged_op(example::Rng& rng, Op& o) {
    o.stub = static_cast<Stub>(s_privileged_first + rng.below(s_ebreak - s_privileged_first + 1));
    o.exception = true;
    if (o.stub == s_ebreak) {
        o.cause = cause_breakpoint;
        o.tval = stub_address(o.stub);
        return;
    }
    o.cause = cause_illegal;
    o.tval = *reinterpret_cast<const std::uint32_t*>(stub_address(o.stub));
}

void make_op(example::Rng& rng, Op& o) {
    for (unsigned i = 1; i < 32; ++i) chaos_in[i] = rng.next();
    switch (rng.choose({20, 25, 35, 8, 7, 5})) {
        case 0: hypercall_op(rng, o); break;
        case 1: sbi_op(rng, o); break;
        case 2: mmio_op(rng, o); break;
        case 3: privileged_op(rng, o); break;
        case 4:
            // WFI waits until the timer armed before it fires: a Halt.
            o.stub = s_wfi;
            o.exit_kind = k_halt;
            do {
                arm_timer_deadline(rng, o, o.opaque);
            } while (!o.halts);
            ++irqs_expected[irq_timer];
            break;
        default: {  // a call into memory that is not there
            bool misaligned = false;
            u64 target = random_address(rng, 4, misaligned) & ~u64{1};
            if (!unmapped(target, 4)) target = echo_device;
            o.stub = s_jalr;
            chaos_in[5] = target;
            writes(o, 1, stub_address(s_jalr) + 4);  // the link; the handler returns there
            o.exception = true;
            o.cause = cause_fetch_access;
            o.tval = target;
            o.exit_kind = k_nested_page_fault;
        }
    }
}

u64 time_limit() { return rdtime() + 10'000'000; }  // 1 s at 10 MHz

// vCPU 1, started by hart_start with a good entry.
volatile u64 secondary_starts = 0, secondary_opaque = 0;

void run_op(example::Rng& rng) {
    Op o;
    make_op(rng, o);
    chaos_in[31] = stub_address(o.stub);
    current_stub = o.stub;
    u64 want[32];
    for (unsigned i = 1; i < 32; ++i) want[i] = chaos_in[i];
    for (unsigned s = 0; s < 2; ++s)
        if (o.changes[s] > 0) want[o.changes[s]] = o.values[s];
    for (unsigned i = 0; i < 32; ++i) chaos_out[i] = 0x0BAD'0BAD'0BAD'0BAD;

    // Suspends and WFI keep their deadline in `opaque`: armed here, with
    // no exit (the policy answers set_timer).
    // With interrupts off (chaos_trap turns them on after the op): a
    // deadline already passed must not be taken before the op waits.
    const bool waits = o.stub == s_wfi || (o.exit_kind == k_halt && o.stub == s_ecall);
    asm volatile("csrci sstatus, 2");
    if (waits) ecall(sbi::eid::time, sbi::fid::time_set_timer, o.opaque);
    const bool sbi_timer = waits || o.sbi_timer;
    const u64 timer_irqs_before = irqs_taken[irq_timer];
    const u64 starts_before = secondary_starts;
    const u64 exceptions_before = exceptions;
    in_op = true;
    chaos_trap();
    in_op = false;
    const u64 returned_at = rdtime();

    // The exception it raised, if it must.
    const u64 new_exceptions = exceptions - exceptions_before;
    if (o.exception) {
        expect(new_exceptions == 1, "one exception", new_exceptions);
        expect(last_cause == o.cause || last_cause == o.alt_cause, "exception cause", last_cause);
        if (o.cause == cause_breakpoint) {
            expect(last_tval == o.tval || last_tval == 0, "ebreak tval", last_tval);
        } else {
            expect(last_tval - o.tval < o.tval_span, "exception tval", last_tval);
        }
        if (o.cause != cause_fetch_access) expect(last_epc == stub_address(o.stub), "exception epc", last_epc);
    } else {
        expect(new_exceptions == 0, "no exception", last_cause);
    }
    for (unsigned i = 1; i < 32; ++i) {
        if (chaos_out[i] == want[i]) continue;
        print("guest: x", Dec{i}, " after the op is ", Hex{chaos_out[i]}, ", expected ", Hex{want[i]}, "\n");
        chaos_fail("register", i);
    }
    expect((chaos_out[0] & 2) == 0, "sstatus.SIE during the op", chaos_out[0]);
    if (o.exit_kind != k_none) count(o.exit_kind);

    // Every interrupt asked for is taken once, soon; a timer not before
    // its deadline.
    for (unsigned v : {irq_software, irq_timer, irq_external}) {
        for (const u64 limit = time_limit(); irqs_taken[v] < irqs_expected[v] && rdtime() < limit;) {
        }
        if (irqs_taken[v] != irqs_expected[v])
            print("guest: vector ", Dec{v}, ": ", Dec{irqs_taken[v]}, " taken, ", Dec{irqs_expected[v]},
                  " expected; deadline ", Dec{o.deadline}, ", op returned at ", Dec{returned_at}, "\n");
        expect(irqs_taken[v] == irqs_expected[v], "interrupts taken", u64{v} << 32 | irqs_taken[v]);
    }
    if (sbi_timer && irqs_taken[irq_timer] != timer_irqs_before) {
        ++sbi_timer_irqs;
        expect(timer_taken_at >= o.deadline, "timer before its deadline", o.deadline - timer_taken_at);
        if (waits) expect(returned_at >= o.deadline, "woke before the deadline", o.deadline - returned_at);
    }
    if (o.secondary) {
        // It stops itself (CpuDown): wait until HSM says so.
        for (const u64 limit = time_limit(); rdtime() < limit;)
            if (ecall(sbi::eid::hsm, sbi::fid::hsm_hart_get_status, 1).value == 1 && secondary_starts != starts_before) break;
        expect(secondary_starts == starts_before + 1, "vCPU 1 started once", secondary_starts - starts_before);
        expect(secondary_opaque == o.opaque, "vCPU 1's a1 = opaque", secondary_opaque);
        expect(ecall(sbi::eid::hsm, sbi::fid::hsm_hart_get_status, 1).value == 1, "vCPU 1 stopped");
        count(k_cpu_down);
    } else {
        expect(secondary_starts == starts_before, "vCPU 1 not started", secondary_starts);
    }
}

// The print interface example::chaos writes its lines through.
struct Out {
    static void print(const char* text) { guest::print(text); }
    static void print_dec(u64 value) { guest::print(Dec{value}); }
    static void print_hex(u64 value) { guest::print(Hex{value}); }
};

void count_exits_reset() {
    hypercall(hc::count_exits, 0, 0);
    for (unsigned k = 0; k < exit_kinds; ++k) counts[k] = 0;
}
void count_exits_compare() {
    ++counts[k_hypercall];  // this call
    const u64 differ = hypercall(hc::count_exits, reinterpret_cast<u64>(counts), compared_kinds);
    expect(differ == 0, "exit counts differ from the VMM's", differ);
}

}  // namespace

// Interrupts: acknowledged at their source. Exceptions (only inside an
// op): recorded, and resumed after the instruction, or for a call into
// unmapped memory at its link.
extern "C" void guest_trap(TrapFrame& frame) {
    const u64 cause = frame.scause;
    if ((cause >> 63) != 0) {
        const u64 code = cause & 63;
        if (code == irq_software) {
            asm volatile("csrc sip, %0" ::"r"(u64{1} << irq_software));
        } else if (code == irq_timer) {
            timer_taken_at = rdtime();
            ecall(sbi::eid::time, sbi::fid::time_set_timer, ~u64{0});
        } else if (code == irq_external) {
            hypercall(hc::ack_external);
            count(k_hypercall);
        } else {
            unexpected_trap(frame);
        }
        irqs_taken[code] = irqs_taken[code] + 1;
        return;
    }
    if (!in_op) unexpected_trap(frame);
    exceptions = exceptions + 1;
    last_cause = cause;
    last_tval = frame.stval;
    last_epc = frame.sepc;
    if (cause == cause_fetch_access) {
        frame.sepc = frame.x[1];
    } else {
        const bool compressed = (*reinterpret_cast<const volatile std::uint16_t*>(frame.sepc) & 3) != 3;
        frame.sepc += compressed ? 2 : 4;
    }
}

extern "C" void guest_main(std::uint64_t hartid, std::uint64_t a1) {
    if (hartid != 0) {
        secondary_opaque = a1;
        secondary_starts = secondary_starts + 1;
        ecall(sbi::eid::hsm, sbi::fid::hsm_hart_stop);
        for (;;) {
        }
    }
    const volatile u64* params = reinterpret_cast<const volatile u64*>(params_gpa);
    seed = params[0] != 0 ? params[0] : default_seed;
    const u64 target = params[1] != 0 ? params[1] : default_exits;
    // The vCPUs this VM has: HSM answers for them.
    while (vcpus < 8 && ecall(sbi::eid::hsm, sbi::fid::hsm_hart_get_status, vcpus).error == 0) ++vcpus;
    print("guest: chaos test, seed ", Hex{seed}, ", exits ", Dec{target}, ", vCPUs ", Dec{vcpus}, "\n");
    hypercall(hc::set_quiet, 1);
    timer_fires_base = hypercall(hc::timer_fires);
    *reinterpret_cast<volatile u64*>(echo_device) = 0;  // echo_scratch's value
    // Its own trap vector, whose stack is in sscratch; FP on for fld/fsd;
    // software, timer and external interrupts on.
    asm volatile("csrw stvec, %0" ::"r"(&guest_trap_vector_sscratch));
    asm volatile("csrw sscratch, %0" ::"r"(chaos_out));
    asm volatile("csrs sstatus, %0" ::"r"(u64{1} << 13));
    asm volatile("csrs sie, %0" ::"r"(u64{1} << irq_software | u64{1} << irq_timer | u64{1} << irq_external));
    asm volatile("csrsi sstatus, 2");
    example::Rng rng{seed};
    example::chaos::run<Out>(target, total_exits, op, [&] { run_op(rng); }, count_exits_reset, count_exits_compare);
    if (interleaving) hypercall(hc::interleave, 0);
    constexpr example::chaos::Kind summary[] = {
        {k_hypercall, "hypercall"}, {k_mmio_read, "mmio read"}, {k_mmio_write, "mmio write"},
        {k_nested_page_fault, "nested page fault"}, {k_halt, "halt"}, {k_cpu_up, "cpu up"},
        {k_cpu_down, "cpu down"}, {k_send_ipi, "send ipi"},
    };
    example::chaos::print_summary<Out>(seed, op, total_exits, kind_totals, summary);
    print(", exceptions ", Dec{exceptions}, ", interrupts ",
          Dec{irqs_taken[irq_software] + irqs_taken[irq_timer] + irqs_taken[irq_external]}, "\n");
    shutdown();
}
