// Test guest: every general-purpose register survives the world switch.
// 1000 rounds each load x1..x31 (sp, gp and tp included) with fresh
// patterns, cause one exit or trap (hypercall, MMIO store, MMIO load,
// compressed MMIO load, an SBI call answered inside the policy), spin in a
// window where the host's timer may interrupt the guest (ExternalInterrupt
// exits at arbitrary points), then store x1..x31 and compare them with
// what the instruction architecturally changed.
#include "guest_rt.hpp"

using namespace guest;

GUEST_RUNTIME_SUPPORT

extern "C" {
std::uint64_t reg_pattern[32];
std::uint64_t reg_after[32];
std::uint64_t reg_host_save[16];
void reg_round_hypercall();
void reg_round_store();
void reg_round_load();
void reg_round_cload();
void reg_round_probe();
}

// One round: save the C++ caller's registers (the guest stack pointer is
// about to be overwritten), load the pattern, run `exit_insn`, spin, store
// every register and restore. x31 is the base register for the loads and
// is stored last through sscratch.
#define REG_ROUND(name, exit_insn)                                                                 \
    asm(".pushsection .text." #name ", \"ax\", @progbits\n"                                       \
        ".globl " #name "\n" #name ":\n"                                                           \
        "la t0, reg_host_save\n sd ra, 0(t0)\n sd sp, 8(t0)\n sd gp, 16(t0)\n sd tp, 24(t0)\n"      \
        "sd s0, 32(t0)\n sd s1, 40(t0)\n sd s2, 48(t0)\n sd s3, 56(t0)\n sd s4, 64(t0)\n"          \
        "sd s5, 72(t0)\n sd s6, 80(t0)\n sd s7, 88(t0)\n sd s8, 96(t0)\n sd s9, 104(t0)\n"         \
        "sd s10, 112(t0)\n sd s11, 120(t0)\n"                                                       \
        "la x31, reg_pattern\n"                                                                     \
        ".irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n" \
        "ld x\\r, \\r*8(x31)\n.endr\n"                                                             \
        "ld x31, 248(x31)\n" exit_insn "\n"                                                         \
        ".rept 300\n nop\n.endr\n"                                                                  \
        "csrw sscratch, x31\n la x31, reg_after\n"                                                  \
        ".irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n" \
        "sd x\\r, \\r*8(x31)\n.endr\n"                                                             \
        "csrr x1, sscratch\n sd x1, 248(x31)\n"                                                     \
        "la t0, reg_host_save\n ld ra, 0(t0)\n ld sp, 8(t0)\n ld gp, 16(t0)\n ld tp, 24(t0)\n"      \
        "ld s0, 32(t0)\n ld s1, 40(t0)\n ld s2, 48(t0)\n ld s3, 56(t0)\n ld s4, 64(t0)\n"          \
        "ld s5, 72(t0)\n ld s6, 80(t0)\n ld s7, 88(t0)\n ld s8, 96(t0)\n ld s9, 104(t0)\n"         \
        "ld s10, 112(t0)\n ld s11, 120(t0)\n ret\n"                                                 \
        ".popsection\n")

REG_ROUND(reg_round_hypercall, "ecall");
REG_ROUND(reg_round_store, ".option push\n.option norvc\n sd x5, 0(x6)\n.option pop");
REG_ROUND(reg_round_load, ".option push\n.option norvc\n ld x7, 0(x6)\n.option pop");
REG_ROUND(reg_round_cload, ".option push\n.option rvc\n c.lw x9, 4(x8)\n.option pop");
REG_ROUND(reg_round_probe, "ecall");

namespace {
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void mmio_write64(std::uint64_t value) { *reinterpret_cast<volatile std::uint64_t*>(echo_device) = value; }
}  // namespace

extern "C" void guest_trap(TrapFrame& frame) {
    unexpected_trap(frame);
}

extern "C" void guest_main(std::uint64_t, std::uint64_t) {
    print("guest: register test, 1000 rounds\n");
    hypercall(hc::set_quiet, 1);
    hypercall(hc::interleave, 1);  // another VM's vCPU takes the hart between runs
    // scounteren and senvcfg have no VS copies: the hart's own registers,
    // which the hypervisor must switch with the vCPU (the other VM's vCPU
    // must find its own there, 0x7 and 0, and these must survive its turns).
    constexpr std::uint64_t scounteren_value = 0x5, senvcfg_value = 0x1;  // CY|IR; FIOM
    asm volatile("csrw scounteren, %0\n\tcsrw 0x10a, %1" ::"r"(scounteren_value), "r"(senvcfg_value));
    std::uint64_t bad_rounds = 0, timer_rounds = 0;
    for (std::uint64_t round = 0; round < 1000; ++round) {
        for (unsigned i = 1; i < 32; ++i) reg_pattern[i] = mix(round * 32 + i);
        std::uint64_t expected[32];
        const unsigned kind = round % 5;
        std::uint64_t echo_value = mix(~round);
        if (kind == 2 || kind == 3) mmio_write64(echo_value);
        if (round % 3 == 0) {
            // A host timer ~20 us out, likely to land inside the round.
            ecall(sbi::eid::time, sbi::fid::time_set_timer, rdtime() + 200);
            ++timer_rounds;
        }
        switch (kind) {
            case 0:
            case 4:
                reg_pattern[17] = kind == 0 ? sbi::eid::axvisor_hypercall : sbi::eid::base;
                reg_pattern[16] = kind == 0 ? hc::sum : sbi::fid::base_probe_extension;
                if (kind == 4) reg_pattern[10] = sbi::eid::hsm;
                break;
            case 1:
            case 2: reg_pattern[6] = echo_device; break;
            case 3: reg_pattern[8] = echo_device - 4; break;
        }
        for (unsigned i = 1; i < 32; ++i) expected[i] = reg_pattern[i];
        switch (kind) {
            case 0:
                reg_round_hypercall();
                expected[10] = reg_pattern[10] + reg_pattern[11] + reg_pattern[12] + reg_pattern[13] + reg_pattern[14] +
                               reg_pattern[15];
                expected[11] = 0;
                break;
            case 1:
                reg_round_store();
                break;
            case 2:
                reg_round_load();
                expected[7] = echo_value;
                break;
            case 3:
                reg_round_cload();
                expected[9] = static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(echo_value)));
                break;
            case 4:
                reg_round_probe();
                expected[10] = 0;
                expected[11] = 1;
                break;
        }
        bool ok = true;
        for (unsigned i = 1; i < 32; ++i) {
            if (reg_after[i] != expected[i]) {
                print("guest: round ", Dec{round}, " kind ", Dec{kind}, ": x", Dec{i}, " = ", Hex{reg_after[i]},
                      ", expected ", Hex{expected[i]}, "\n");
                ok = false;
            }
        }
        if (kind == 1) ok = ok && *reinterpret_cast<volatile std::uint64_t*>(echo_device) == reg_pattern[5];
        if (!ok) ++bad_rounds;
    }
    ecall(sbi::eid::time, sbi::fid::time_set_timer, ~0ull);
    hypercall(hc::set_quiet, 0);
    check(bad_rounds == 0, "registers preserved in every round", bad_rounds);
    std::uint64_t scounteren, senvcfg;
    asm volatile("csrr %0, scounteren\n\tcsrr %1, 0x10a" : "=r"(scounteren), "=r"(senvcfg));
    check(scounteren == scounteren_value, "scounteren kept across the other VM's turns", scounteren);
    check(senvcfg == senvcfg_value, "senvcfg kept across the other VM's turns", senvcfg);
    print("guest: 1000 rounds, ", Dec{bad_rounds}, " bad, ", Dec{timer_rounds}, " with a host timer armed\n");
    const std::uint64_t missing = hypercall(
        hc::check_exits, exit_bit::hypercall | exit_bit::mmio_read | exit_bit::mmio_write | exit_bit::external_interrupt);
    check(missing == 0, "VMM saw hypercall, MMIO and interrupt exits", missing);
    shutdown();
}
