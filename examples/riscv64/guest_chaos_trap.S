// The chaos guest's register harness and its stubs (guest_chaos.cpp).
//
// chaos_trap(): one op with every general-purpose register chosen by the
// caller. Saves the C caller's registers, loads x1..x30 from chaos_in[1..30]
// and x31 from chaos_in[31], which is the address of one of the stubs
// below, and jumps there. Once the stub's single instruction has trapped
// and come back (or raised an exception that the trap vector resumed past) it
// stores x1..x31 into chaos_out[1..31] and sstatus into chaos_out[0], and
// returns. The op runs with sstatus.SIE clear: sscratch is borrowed for a
// moment at chaos_after (below), and an interrupt there would find it
// holding a guest register. Interrupts requested by the op are taken as
// soon as chaos_trap turns SIE back on before it returns.
//
// While an op runs sp holds a random pattern: the guest's trap vector is
// guest_rt.hpp's guest_trap_vector_sscratch, whose stack is in sscratch
// (the top of chaos_trap_stack, which is chaos_out), and which saves and
// restores every register, so an exception leaves the op's registers as
// they were.

    .option norvc

    .text
    .balign 4
    .globl chaos_trap
chaos_trap:
    la      t0, chaos_host_save
    sd      ra, 0(t0)
    sd      sp, 8(t0)
    sd      gp, 16(t0)
    sd      tp, 24(t0)
    sd      s0, 32(t0)
    sd      s1, 40(t0)
    sd      s2, 48(t0)
    sd      s3, 56(t0)
    sd      s4, 64(t0)
    sd      s5, 72(t0)
    sd      s6, 80(t0)
    sd      s7, 88(t0)
    sd      s8, 96(t0)
    sd      s9, 104(t0)
    sd      s10, 112(t0)
    sd      s11, 120(t0)
    csrci   sstatus, 2
    la      x31, chaos_in
.irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    ld      x\r, \r*8(x31)
.endr
    ld      x31, 248(x31)
    jr      x31

chaos_after:
    // SIE is clear, so nothing else uses sscratch until it is put back.
    csrrw   x31, sscratch, x31          // x31 = chaos_out; sscratch = the op's x31
.irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    sd      x\r, \r*8(x31)
.endr
    csrrw   x1, sscratch, x31           // x1 = the op's x31; sscratch = chaos_out again
    sd      x1, 248(x31)
    csrr    x1, sstatus
    sd      x1, 0(x31)
    la      t0, chaos_host_save
    ld      ra, 0(t0)
    ld      sp, 8(t0)
    ld      gp, 16(t0)
    ld      tp, 24(t0)
    ld      s0, 32(t0)
    ld      s1, 40(t0)
    ld      s2, 48(t0)
    ld      s3, 56(t0)
    ld      s4, 64(t0)
    ld      s5, 72(t0)
    ld      s6, 80(t0)
    ld      s7, 88(t0)
    ld      s8, 96(t0)
    ld      s9, 104(t0)
    ld      s10, 112(t0)
    ld      s11, 120(t0)
    csrsi   sstatus, 2
    ret

// The stubs, 8 bytes each: guest_chaos.cpp's Stub enum names them in this
// order. Each is one instruction (compressed ones marked) and a jump to
// chaos_after; an exception the instruction raises resumes at that jump.
.macro stub insn:vararg
    .balign 8
    \insn
    .option push
    .option norvc
    j       chaos_after
    .option pop
.endm
.macro cstub insn:vararg
    .option push
    .option rvc
    stub \insn
    .option pop
.endm
    .balign 8
    .globl chaos_stubs
chaos_stubs:
    stub ecall                              // 0
    stub wfi
    stub jalr ra, 0(t0)
    // MMIO loads
    stub ld x7, -8(x6)                      // 3
    stub lw x9, 4(x8)
    stub lwu x11, 2044(x10)
    stub lh x13, -2048(x12)
    stub lhu x15, 6(x14)
    stub lb x17, 1(x16)
    stub lbu x19, -1(x18)
    stub ld ra, 16(sp)                      // 10
    stub lw gp, 0(tp)
    cstub c.lw x12, 124(x13)
    cstub c.ld x14, 248(x15)
    cstub c.lwsp x20, 252(sp)
    cstub c.ldsp x21, 504(sp)               // 15
    stub lb x0, 0(x22)
    // MMIO stores
    stub sd x23, 0(x24)                     // 17
    stub sw x25, -4(x26)
    stub sh x27, 2(x28)
    stub sb x29, 3(x30)                     // 20
    stub sd x0, 8(x5)
    cstub c.sw x8, 4(x9)
    cstub c.sd x10, 8(x11)
    cstub c.swsp x12, 60(sp)
    cstub c.sdsp x13, 120(sp)               // 25
    // Forms the policy does not emulate (NestedPageFault). No SC: without
    // a reservation QEMU fails it before any access.
    stub amoadd.w x5, x6, (x7)              // 26
    stub amoswap.d x8, x9, (x10)
    stub lr.w x11, (x12)
    stub amoor.d x13, x14, (x15)
    .option push
    .option arch, +d
    stub fld f0, 0(x16)                     // 30
    stub fsd f1, 8(x17)
    .option pop
    // What VS-mode may not do: hypervisor and VS CSRs, counters the
    // hypervisor does not enable, hypervisor loads/stores and fences
    // (virtual-instruction traps the policy turns into illegal
    // instructions), M-mode and custom CSRs, and ebreak.
    .option push
    .option arch, +h
    stub csrr x20, hstatus                  // 32
    stub csrw hgatp, x21
    stub csrr x22, hpmcounter3
    stub csrr x23, mstatus                  // 35
    stub hlv.d x24, (x25)
    stub hfence.gvma x0, x0
    stub csrr x26, 0x5c0
    stub csrr x27, vsstatus
    stub csrr x28, hvip                     // 40
    stub hsv.w x29, (x30)
    stub csrr x29, hpmcounter31
    stub ebreak
    .option pop
    .globl chaos_stubs_end
chaos_stubs_end:

    .bss
    .balign 16
chaos_host_save:
    .space 128
    .globl chaos_in
chaos_in:
    .space 256
    .balign 16
chaos_trap_stack:
    .space 8192
    // The trap stack's top, and the registers after an op.
    .globl chaos_out
chaos_out:
    .space 256
