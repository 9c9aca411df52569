// The runtime of the x86_64 test guests: the entry (a stack, the guest's
// own GDT and IDT), exception and interrupt handling, and the calls to the
// hypervisor. Included by exactly one translation unit per guest, which
// defines guest_main().
//
// The guest contract (README.md): the hypervisor starts the guest in 64-bit
// mode at guest-physical 0x200000 with paging on (CR3 = identity tables of
// the first 4 GiB built by the VMM), RDI = its VM id, interrupts off, and no
// IDT: the guest loads its own GDT and IDT before it takes any event. It
// reports through the VMM's `result` hypercall and powers off through ACPI.
#pragma once

#include <cstdint>

#include "../vmm/hypercalls.hpp"
#include "idt.hpp"

namespace guest {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

// --- Calls to the hypervisor ------------------------------------------------------
// VMMCALL: the number in RAX, arguments in RDI, RSI, RDX, RCX, R8, R9, the
// answer in RAX.
inline u64 hypercall(u64 nr, u64 a0 = 0, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0, u64 a4 = 0, u64 a5 = 0) {
    register u64 r8 asm("r8") = a4;
    register u64 r9 asm("r9") = a5;
    asm volatile("vmmcall" : "+a"(nr) : "D"(a0), "S"(a1), "d"(a2), "c"(a3), "r"(r8), "r"(r9) : "memory");
    return nr;
}

inline void outb(u16 port, u8 value) { asm volatile("outb %0, %1" ::"a"(value), "Nd"(port) : "memory"); }
inline void outw(u16 port, u16 value) { asm volatile("outw %0, %1" ::"a"(value), "Nd"(port) : "memory"); }
inline void outl(u16 port, u32 value) { asm volatile("outl %0, %1" ::"a"(value), "Nd"(port) : "memory"); }
inline u8 inb(u16 port) {
    u8 v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
inline u16 inw(u16 port) {
    u16 v;
    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
inline u32 inl(u16 port) {
    u32 v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

// The console: COM1's transmit register (the hypervisor prints each byte).
inline void print(const char* s) {
    for (; *s != '\0'; ++s) outb(0x3F8, static_cast<u8>(*s));
}
inline void print_dec(u64 v) {
    char buf[21];
    int i = 20;
    buf[i] = '\0';
    do {
        buf[--i] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    print(buf + i);
}

inline void print_hex(u64 v) {
    char digits[19] = "0x";
    for (unsigned i = 0; i < 16; ++i) digits[2 + i] = "0123456789ABCDEF"[(v >> (60 - 4 * i)) & 0xF];
    digits[18] = '\0';
    print(digits);
}

inline u64 rdmsr(u32 index) {
    u32 lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
    return (u64{hi} << 32) | lo;
}
inline void wrmsr(u32 index, u64 value) {
    asm volatile("wrmsr" ::"c"(index), "a"(static_cast<u32>(value)), "d"(static_cast<u32>(value >> 32)));
}

// Reports the verdict, then powers the VM off through ACPI (S5 on the PM1a
// control port, as on QEMU's PC).
[[noreturn]] inline void finish(u64 code, u64 detail = 0) {
    hypercall(vmm::hypercall::result, code, detail);
    outw(0x604, 0x2000);
    for (;;) asm volatile("cli; hlt");
}

// Waits for `vector`, which the VMM is asked to inject while interrupts
// are off: STI's shadow covers the HLT, so the interrupt cannot slip in
// before it; the HLT exits and the interrupt wakes the guest.
inline void halt_for(u64 vector) {
    asm volatile("cli");
    hypercall(vmm::hypercall::inject, vector);
    asm volatile("sti; hlt; cli");
}

// A failed check: reports `code` (nonzero) with `detail` and stops.
#define GUEST_CHECK(cond, code, detail)                 \
    do {                                                \
        if (!(cond)) ::guest::finish((code), (detail)); \
    } while (0)

// --- Events ---------------------------------------------------------------------
// What the handler found on its stack (the order isr_common pushes in).
struct Frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error_code, rip, cs, rflags, rsp, ss;
};

// One expected exception at a time: the handler counts it and resumes
// `skip` bytes past the faulting instruction.
inline volatile u64 expected_vector = ~u64{0};
inline volatile u64 expected_skip = 0;
inline volatile u64 exceptions_taken = 0;
inline volatile u64 last_error_code = 0;
inline volatile u64 interrupts_taken[256];

// A guest that resumes from its exceptions itself (the chaos guest) sets
// this: it returns true for an exception it handled, changing `frame`.
inline bool (*exception_hook)(Frame* frame) = nullptr;

inline void expect_exception(u64 vector, u64 skip) {
    expected_vector = vector;
    expected_skip = skip;
}

}  // namespace guest

extern "C" void guest_trap(guest::Frame* frame) {
    using namespace guest;
    if (frame->vector >= 32) {
        interrupts_taken[frame->vector] = interrupts_taken[frame->vector] + 1;
        return;
    }
    if (exception_hook != nullptr && exception_hook(frame)) return;
    if (frame->vector != expected_vector) finish(0xE000 + frame->vector, frame->rip);
    exceptions_taken = exceptions_taken + 1;
    last_error_code = frame->error_code;
    expected_vector = ~u64{0};
    frame->rip += expected_skip;
}

extern "C" [[noreturn]] void guest_main(guest::u64 vm_id);

namespace guest {

struct [[gnu::packed]] DescriptorPointer {
    u16 limit;
    u64 base;
};

inline example::idt::Gate idt[256];

}  // namespace guest

extern "C" char isr_stubs[];

// Called by _start with the VM id from RDI.
extern "C" [[noreturn]] void guest_start(guest::u64 vm_id) {
    using namespace guest;
    for (int v = 0; v < 256; ++v)
        idt[v] = example::idt::interrupt_gate(reinterpret_cast<u64>(isr_stubs) + 16 * static_cast<u64>(v));
    example::idt::load(idt, 256);
    guest_main(vm_id);
}

// _start: a stack, the GDT (code 0x08, data 0x10; CS reloaded by a far
// return), then guest_start. The stubs push a dummy error code where the
// CPU pushes none, then the vector; 16 bytes apart.
asm(R"(
.pushsection .text.entry, "ax"
.globl _start
_start:
    lea guest_stack_top(%rip), %rsp
    lgdt gdt_pointer(%rip)
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    pushq $0x08
    lea 1f(%rip), %rax
    push %rax
    lretq
1:  call guest_start
2:  hlt
    jmp 2b
.popsection

.pushsection .text
.balign 16
.globl isr_stubs
isr_stubs:
.set vec, 0
.rept 256
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
.endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call guest_trap
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
.popsection

.pushsection .rodata
.balign 8
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
gdt_pointer:
    .word 23
    .quad gdt
.popsection

.pushsection .bss
.balign 16
    .skip 16384
guest_stack_top:
.popsection
)");
