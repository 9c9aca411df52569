// Test guest: every general-purpose register holds a known pattern across
// 1,000 exits of four kinds (a hypercall the VMM answers after checking the
// argument registers, an OUT, an MMIO store, an MMIO load), and is checked
// after each: the world switch must give every register back exactly, and
// change only the register an emulated instruction writes. Every 100
// rounds it halts, so that a second VM on the same CPU gets a turn.
#include "guest_rt.hpp"
#include "guest_abi.hpp"

using namespace guest;

// Set by each round for check_round: what RAX must hold after its exit.
extern "C" {
u64 expected_rax;

// `saved`: RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8..R15 as the round left
// them (RSP is the stack). Returns how many differ from the pattern.
u64 check_round(const u64* saved) {
    u64 wrong = 0;
    for (unsigned k = 0; k < 15; ++k) {
        const unsigned reg = k < 4 ? k : k + 1;  // encoding order, RSP skipped
        const u64 expected = reg == 0 ? expected_rax : guest_abi::regs_pattern(reg);
        if (saved[k] != expected) ++wrong;
    }
    return wrong;
}
u64 round_hypercall();
u64 round_out();
u64 round_mmio_store();
u64 round_mmio_load();
}

// Each round: keep the callee-saved registers, load the pattern into all
// fifteen, make one exit, push them for check_round.
asm(R"(
.macro ROUND name, exit_insn
.globl \name
\name:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    movabs $(0x0101010101010101 * 2) ^ 0xa5a500005a5a0000, %rcx
    movabs $(0x0101010101010101 * 3) ^ 0xa5a500005a5a0000, %rdx
    movabs $(0x0101010101010101 * 4) ^ 0xa5a500005a5a0000, %rbx
    movabs $(0x0101010101010101 * 6) ^ 0xa5a500005a5a0000, %rbp
    movabs $(0x0101010101010101 * 7) ^ 0xa5a500005a5a0000, %rsi
    movabs $(0x0101010101010101 * 8) ^ 0xa5a500005a5a0000, %rdi
    movabs $(0x0101010101010101 * 9) ^ 0xa5a500005a5a0000, %r8
    movabs $(0x0101010101010101 * 10) ^ 0xa5a500005a5a0000, %r9
    movabs $(0x0101010101010101 * 11) ^ 0xa5a500005a5a0000, %r10
    movabs $(0x0101010101010101 * 12) ^ 0xa5a500005a5a0000, %r11
    movabs $(0x0101010101010101 * 13) ^ 0xa5a500005a5a0000, %r12
    movabs $(0x0101010101010101 * 14) ^ 0xa5a500005a5a0000, %r13
    movabs $(0x0101010101010101 * 15) ^ 0xa5a500005a5a0000, %r14
    movabs $(0x0101010101010101 * 16) ^ 0xa5a500005a5a0000, %r15
    movabs $(0x0101010101010101 * 1) ^ 0xa5a500005a5a0000, %rax
    \exit_insn
    push %r15
    push %r14
    push %r13
    push %r12
    push %r11
    push %r10
    push %r9
    push %r8
    push %rdi
    push %rsi
    push %rbp
    push %rbx
    push %rdx
    push %rcx
    push %rax
    mov %rsp, %rdi
    call check_round
    add $120, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
.endm
.pushsection .text
ROUND round_hypercall, "movl $0x48561000, %eax; vmmcall"
ROUND round_out, "outb %al, $0x80"
ROUND round_mmio_store, "movabs %rax, 0xf0000018"
ROUND round_mmio_load, "movabs 0xf0000008, %rax"
.popsection
)");

extern "C" [[noreturn]] void guest_main(u64) {
    hypercall(vmm::hypercall::hello, guest_abi::test_regs);
    u64 wrong = 0;
    for (u64 i = 0; i < 1000; ++i) {
        switch (i % 4) {
            case 0: expected_rax = 0; wrong += round_hypercall(); break;
            case 1: expected_rax = guest_abi::regs_pattern(0); wrong += round_out(); break;
            case 2: expected_rax = guest_abi::regs_pattern(0); wrong += round_mmio_store(); break;
            default: expected_rax = 0x0A64'C0DE'1234'5678; wrong += round_mmio_load(); break;
        }
        GUEST_CHECK(wrong == 0, 0x801, i);
        // Every 100 rounds a halt: with two VMs on the CPU, the other runs.
        if (i % 100 == 99) halt_for(0x43);
    }
    GUEST_CHECK(interrupts_taken[0x43] == 10, 0x802, interrupts_taken[0x43]);
    print("guest_regs: 1000 exits, every register intact\n");
    finish(0);
}
