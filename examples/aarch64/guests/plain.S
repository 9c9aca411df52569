// A guest written from README.md alone, as a user's would be: it never says
// hello or which test it is. It prints a line on the PL011, reports status 0
// with the `result` hypercall and powers off with PSCI SYSTEM_OFF. The VMM
// judges it on that alone (no VMM-side test checks).
    .section .text.boot, "ax"
    .globl _start
_start:
    adr     x1, message
    mov     x2, #0x09000000         // PL011 data register
1:  ldrb    w3, [x1], #1
    cbz     w3, 3f
2:  ldr     w4, [x2, #0x18]         // FR: wait while TXFF
    tbnz    w4, #5, 2b
    str     w3, [x2]
    b       1b
3:  movz    x0, #0x0001             // result(0)
    movk    x0, #0x4856, lsl #16
    mov     x1, #0
    hvc     #0
    movz    x0, #0x0008             // PSCI SYSTEM_OFF
    movk    x0, #0x8400, lsl #16
    hvc     #0
4:  wfi
    b       4b

message:
    .asciz  "plain guest: hello from a guest that never names a test\r\n"
