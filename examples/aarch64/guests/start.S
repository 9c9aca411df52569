// Guest entry at GPA 0x48000000, EL1h, MMU and interrupts off.
// vCPU 0 arrives with x0 = the DTB address (0 here); a vCPU started by PSCI
// CPU_ON arrives with x0 = its context id. Each vCPU takes a 16 KiB stack
// by its MPIDR Aff0, and only vCPU 0 clears .bss.

    .section .text.boot, "ax"
    .globl _start
_start:
    mov     x20, x0
    mrs     x19, mpidr_el1
    and     x19, x19, #0xff
    ldr     x1, =__stack_top
    mov     x2, #0x4000
    msub    x1, x19, x2, x1
    mov     sp, x1
    ldr     x1, =guest_vectors
    msr     vbar_el1, x1
    isb
    cbnz    x19, 2f
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    str     xzr, [x1], #8
    b       1b
2:  mov     x0, x19
    mov     x1, x20
    bl      guest_main
3:  wfi
    b       3b

// Saves the registers a C function may clobber, calls `handler(kind)`.
.macro guest_vector kind, handler
    .balign 0x80
    stp     x29, x30, [sp, #-176]!
    stp     x0, x1, [sp, #16]
    stp     x2, x3, [sp, #32]
    stp     x4, x5, [sp, #48]
    stp     x6, x7, [sp, #64]
    stp     x8, x9, [sp, #80]
    stp     x10, x11, [sp, #96]
    stp     x12, x13, [sp, #112]
    stp     x14, x15, [sp, #128]
    stp     x16, x17, [sp, #144]
    str     x18, [sp, #160]
    mov     x0, #\kind
    b       \handler
.endm

    .balign 2048
    .globl guest_vectors
guest_vectors:
    guest_vector 0, guest_trap
    guest_vector 1, guest_trap
    guest_vector 2, guest_trap
    guest_vector 3, guest_trap
    guest_vector 4, guest_sync_entry
    guest_vector 5, guest_irq_entry
    guest_vector 6, guest_trap
    guest_vector 7, guest_trap
    guest_vector 8, guest_trap
    guest_vector 9, guest_trap
    guest_vector 10, guest_trap
    guest_vector 11, guest_trap
    guest_vector 12, guest_trap
    guest_vector 13, guest_trap
    guest_vector 14, guest_trap
    guest_vector 15, guest_trap

guest_trap:
    bl      guest_unexpected_exception
    b       .

// A synchronous exception at EL1 goes to guest_sync(frame), which returns
// non-zero when it handled it (and set ELR_EL1 where to resume).
guest_sync_entry:
    mov     x0, sp
    bl      guest_sync
    cbnz    x0, guest_return
    mov     x0, #4
    b       guest_trap

guest_irq_entry:
    bl      guest_irq
guest_return:
    ldp     x0, x1, [sp, #16]
    ldp     x2, x3, [sp, #32]
    ldp     x4, x5, [sp, #48]
    ldp     x6, x7, [sp, #64]
    ldp     x8, x9, [sp, #80]
    ldp     x10, x11, [sp, #96]
    ldp     x12, x13, [sp, #112]
    ldp     x14, x15, [sp, #128]
    ldp     x16, x17, [sp, #144]
    ldr     x18, [sp, #160]
    ldp     x29, x30, [sp], #176
    eret
