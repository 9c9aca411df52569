// chaos_trap(frame): one exit with every general-purpose register chosen by
// the caller. Loads x0..x29 from frame->in[0..29] and NZCV from
// frame->nzcv_in, jumps to frame->in[30] (one of the stubs below, so x30
// holds the stub's address while it runs), and once the stub's single
// instruction has trapped and come back stores x0..x30 and NZCV into
// frame->out and frame->nzcv_out for the caller to compare. The guest's
// exception handlers (start.S) restore every register they use, so an
// access the hypervisor refuses comes back here too, at the stub's branch.
//
// struct ChaosFrame { u64 in[31]; u64 nzcv_in; u64 out[31]; u64 nzcv_out; };

    .text
    .balign 4
    .globl chaos_trap
chaos_trap:
    stp     x29, x30, [sp, #-112]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    str     x0, [sp, #96]           // the frame, for chaos_after
    mov     x30, x0
    ldr     x0, [x30, #248]
    msr     nzcv, x0
    ldp     x0, x1, [x30, #0]
    ldp     x2, x3, [x30, #16]
    ldp     x4, x5, [x30, #32]
    ldp     x6, x7, [x30, #48]
    ldp     x8, x9, [x30, #64]
    ldp     x10, x11, [x30, #80]
    ldp     x12, x13, [x30, #96]
    ldp     x14, x15, [x30, #112]
    ldp     x16, x17, [x30, #128]
    ldp     x18, x19, [x30, #144]
    ldp     x20, x21, [x30, #160]
    ldp     x22, x23, [x30, #176]
    ldp     x24, x25, [x30, #192]
    ldp     x26, x27, [x30, #208]
    ldp     x28, x29, [x30, #224]
    ldr     x30, [x30, #240]
    br      x30

chaos_after:
    str     x30, [sp, #104]
    ldr     x30, [sp, #96]
    stp     x0, x1, [x30, #256]
    stp     x2, x3, [x30, #272]
    stp     x4, x5, [x30, #288]
    stp     x6, x7, [x30, #304]
    stp     x8, x9, [x30, #320]
    stp     x10, x11, [x30, #336]
    stp     x12, x13, [x30, #352]
    stp     x14, x15, [x30, #368]
    stp     x16, x17, [x30, #384]
    stp     x18, x19, [x30, #400]
    stp     x20, x21, [x30, #416]
    stp     x22, x23, [x30, #432]
    stp     x24, x25, [x30, #448]
    stp     x26, x27, [x30, #464]
    stp     x28, x29, [x30, #480]
    mrs     x0, nzcv
    str     x0, [x30, #504]
    ldr     x0, [sp, #104]
    str     x0, [x30, #496]
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #112
    ret

// The stubs, 8 bytes each: chaos.cpp's Stub enum names them in this order.
.macro stub insn:vararg
    .balign 8
    \insn
    b       chaos_after
.endm
    .balign 8
    .globl chaos_stubs
chaos_stubs:
    stub hvc #0                          // 0
    stub smc #0
    stub wfi
    stub ldr x5, [x1]                    // 3
    stub ldr w6, [x2]
    stub ldrh w7, [x3]
    stub ldrb w8, [x4]
    stub ldrsb x9, [x1]                  // 7
    stub ldrsh w10, [x2]
    stub ldrsw x11, [x3]
    stub ldrsh x12, [x4]
    stub str x13, [x1]                   // 11
    stub str w14, [x2]
    stub strh w15, [x3]
    stub strb w16, [x4]
    stub str xzr, [x1]                   // 15
    stub ldp x17, x18, [x1]
    stub stp x19, x20, [x2]
    stub ldr x21, [x3, #8]!
    stub ldr x22, [x1, x2]               // 19
    stub msr S3_0_C12_C11_5, x23         // ICC_SGI1R_EL1
    stub msr S3_0_C12_C11_7, x24         // ICC_SGI0R_EL1
    stub msr S3_0_C12_C11_6, x25         // ICC_ASGI1R_EL1
    stub mrs x27, cntp_ctl_el0           // 23
    stub msr cntp_ctl_el0, x27
    stub mrs x27, cntp_cval_el0
    stub msr cntp_tval_el0, x27
    stub blr x29                         // 27
    stub ldrsb w0, [x4]
    stub str x28, [x4]
    stub ldxr x21, [x3]
// 31..86: MRS of every ID register encoding HCR_EL2.TID3 traps (op0 3,
// op1 0, CRn 0, CRm 1..7, op2 0..7; ARM DDI 0487 J.a D19.2.48).
.irp crm, 1, 2, 3, 4, 5, 6, 7
.irp op2, 0, 1, 2, 3, 4, 5, 6, 7
    stub mrs x26, S3_0_C0_C\crm\()_\op2
.endr
.endr
    .globl chaos_stubs_end
chaos_stubs_end:
