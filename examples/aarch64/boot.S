// EL2 entry for the example hypervisor (QEMU virt, -kernel hyp.elf).
// CPU 0 enters at _start; secondaries are started by CPU 0 through QEMU's
// PSCI CPU_ON at _secondary_start with x0 = their index.

    .section .text.boot, "ax"
    .globl _start
_start:
    // Any CPU other than Aff0 = 0 that enters here (no PSCI firmware) parks.
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cbz     x1, 1f
0:  wfe
    b       0b
1:  // Exceptions at EL2 must not use SP_EL0.
    msr     spsel, #1
    ldr     x1, =__stack_top
    mov     sp, x1
    // Zero .bss (the linker script keeps it 16-byte aligned and sized).
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
2:  cmp     x1, x2
    b.hs    3f
    stp     xzr, xzr, [x1], #16
    b       2b
3:  mov     x0, #0
    bl      hyp_main
4:  wfe
    b       4b

    .globl _secondary_start
_secondary_start:
    msr     spsel, #1
    // Each CPU's stack: __stack_top - index * stack size.
    ldr     x1, =__stack_top
    mov     x2, #0x10000
    msub    x1, x0, x2, x1
    mov     sp, x1
    bl      hyp_secondary
5:  wfe
    b       5b
