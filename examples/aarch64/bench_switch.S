// The benchmark's baseline: a minimal hand-written world switch with
// nothing but what a hypercall round trip needs (x0-x30, ELR_EL2,
// SPSR_EL2), its own vector table, no decoding. Offsets: GuestContext
// (arch/aarch64/context.hpp), checked by a static_assert in hyp.cpp. hyp.cpp drives it in
// run_raw_hypercalls() and compares its cost with AxVCpu::run.
//
// u64 bench_enter_guest(GuestContext*): 0 = synchronous exit, 1 = IRQ.

    .section .text.bench_switch, "ax"
    .balign 2048
    .globl bench_vectors
bench_vectors:
    .rept 8
    .balign 0x80
    b       .                   // EL2's own exceptions: not expected here
    .endr
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mov     x1, #0
    b       bench_exit
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mov     x1, #1
    b       bench_exit
    .rept 6
    .balign 0x80
    b       .
    .endr

    .globl bench_enter_guest
bench_enter_guest:
    sub     sp, sp, #112
    str     x0, [sp]
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    stp     x29, x30, [sp, #96]
    ldp     x1, x2, [x0, #248]
    msr     elr_el2, x1
    msr     spsr_el2, x2
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0]
    eret

bench_exit:
    ldr     x0, [sp, #16]
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [x0, #248]
    mov     x0, x1
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp, #96]
    add     sp, sp, #112
    ret
