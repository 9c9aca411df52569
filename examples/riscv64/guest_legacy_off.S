# The legacy SBI shutdown (EID 0x08) carries no status, so the VM's is its
# last `result` hypercall (README, "Powering off"). Built twice: with
# REPORT=1 the guest reports success first and the run passes; with
# REPORT=0 it reports nothing and the run must fail (test
# riscv64_legacy_shutdown_without_result, should_fail).
    .section .text.entry, "ax", @progbits
    .globl _start
_start:
#if REPORT
    li      a7, 0x485643            # the AxVisor hypercall extension
    li      a6, 0x48560001          # result
    li      a0, 0                   # pass
    li      a1, 0
    ecall
#endif
    li      a7, 0x08                # legacy shutdown: a0/a1 are not a status
    li      a0, 5
    li      a1, 7
    ecall
1:  wfi
    j       1b
