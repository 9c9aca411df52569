// Register integrity across 1000 mixed exits. Before each exit x1 holds a
// seed, x2..x29 (and x30 unless it is the load destination) hold
// seed + i + (i << 12), SP_EL0 holds seed ^ 0x5555555555555555 and NZCV has Z and C set.
// After the exit every one of them is checked; x0 is the only scratch.
// Exit kinds rotate: hc_check (the hypervisor verifies the pattern and
// installs seed * 3 + 1), MMIO store, MMIO load into x30, trapped MRS into
// x30, WFI.
//
// u64 run_register_test(u64 iterations): 0, or (iteration << 8) | check id.

#define TESTDEV 0x0B000000
#define HC_CHECK 0x48560003

    .text
    .balign 8
state_iterations: .quad 0
state_sp:         .quad 0
state_index:      .quad 0
state_seed:       .quad 0
state_kind:       .quad 0

.macro fill n
    add     x\n, x1, #\n
    add     x\n, x\n, #\n, lsl #12
.endm
.macro fill_all
    fill 2
    fill 3
    fill 4
    fill 5
    fill 6
    fill 7
    fill 8
    fill 9
    fill 10
    fill 11
    fill 12
    fill 13
    fill 14
    fill 15
    fill 16
    fill 17
    fill 18
    fill 19
    fill 20
    fill 21
    fill 22
    fill 23
    fill 24
    fill 25
    fill 26
    fill 27
    fill 28
    fill 29
    fill 30
.endm
.macro expect n, code
    add     x0, x1, #\n
    add     x0, x0, #\n, lsl #12
    cmp     x0, x\n
    mov     x0, #\code
    b.ne    fail
.endm
// Checks the flags, x2..x29, SP_EL0 and SP against x1's seed.
.macro expect_common
    b.ne    fail_flags
    b.cc    fail_flags
    expect 2, 2
    expect 3, 3
    expect 4, 4
    expect 5, 5
    expect 6, 6
    expect 7, 7
    expect 8, 8
    expect 9, 9
    expect 10, 10
    expect 11, 11
    expect 12, 12
    expect 13, 13
    expect 14, 14
    expect 15, 15
    expect 16, 16
    expect 17, 17
    expect 18, 18
    expect 19, 19
    expect 20, 20
    expect 21, 21
    expect 22, 22
    expect 23, 23
    expect 24, 24
    expect 25, 25
    expect 26, 26
    expect 27, 27
    expect 28, 28
    expect 29, 29
    mrs     x0, sp_el0
    eor     x0, x0, #0x5555555555555555
    cmp     x0, x1
    mov     x0, #40
    b.ne    fail
    ldr     x0, state_sp
    cmp     sp, x0
    mov     x0, #41
    b.ne    fail
.endm

    .globl run_register_test
run_register_test:
    stp     x29, x30, [sp, #-96]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    adr     x1, state_iterations
    str     x0, [x1]
    mov     x2, sp
    adr     x1, state_sp
    str     x2, [x1]
    adr     x1, state_index
    str     xzr, [x1]

next:
    // seed = index * golden + 1; kind = index % 5
    ldr     x1, state_index
    ldr     x2, =0x9E3779B97F4A7C15
    mul     x3, x1, x2
    add     x3, x3, #1
    adr     x4, state_seed
    str     x3, [x4]
    mov     x5, #5
    udiv    x6, x1, x5
    msub    x6, x6, x5, x1
    adr     x4, state_kind
    str     x6, [x4]
    mov     x1, x3
    eor     x0, x1, #0x5555555555555555
    msr     sp_el0, x0
    fill_all
    ldr     x0, state_kind
    cmp     x0, #1
    b.eq    kind_store
    cmp     x0, #2
    b.eq    kind_load
    cmp     x0, #3
    b.eq    kind_mrs
    cmp     x0, #4
    b.eq    kind_wfi

kind_hvc:
    ldr     x0, =HC_CHECK
    cmp     x1, x1
    hvc     #0
    // The hypervisor answered 0 and moved everything to seed * 3 + 1.
    cbnz    x0, fail_hypervisor
    expect_common
    expect 30, 30
    ldr     x0, state_seed
    add     x0, x0, x0, lsl #1
    add     x0, x0, #1
    cmp     x0, x1
    mov     x0, #42
    b.ne    fail
    b       done

kind_store:
    ldr     x0, =TESTDEV
    cmp     x1, x1
    str     x7, [x0]
    expect_common
    expect 30, 30
    b       check_seed

kind_load:
    ldr     x0, =TESTDEV + 8
    cmp     x1, x1
    ldr     x30, [x0]
    expect_common
    ldr     x0, =0x0A64C0DE12345678
    cmp     x0, x30
    mov     x0, #43
    b.ne    fail
    b       check_seed

kind_mrs:
    cmp     x1, x1
    mrs     x30, id_aa64mmfr0_el1
    expect_common
    mov     x0, #0x1122
    cmp     x0, x30
    mov     x0, #44
    b.ne    fail
    b       check_seed

kind_wfi:
    cmp     x1, x1
    wfi
    expect_common
    expect 30, 30

check_seed:
    ldr     x0, state_seed
    cmp     x0, x1
    mov     x0, #45
    b.ne    fail

done:
    ldr     x0, state_index
    add     x0, x0, #1
    adr     x1, state_index
    str     x0, [x1]
    ldr     x1, state_iterations
    cmp     x0, x1
    b.lo    next
    mov     x0, #0
    b       out

fail_flags:
    mov     x0, #46
    b       fail
fail_hypervisor:
    mov     x0, #47
fail:
    ldr     x1, state_index
    orr     x0, x0, x1, lsl #8
out:
    ldr     x1, state_sp
    mov     sp, x1
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret
    .ltorg
