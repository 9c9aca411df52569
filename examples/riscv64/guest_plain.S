# A guest written from README.md alone, as a user's would be: no hypercall
# at all. It prints a line through the SBI debug console and powers off with
# SBI system_reset(shutdown, no reason), which the VMM takes as its status.
    .section .text.entry, "ax", @progbits
    .globl _start
_start:
    li      a7, 0x4442434E          # DBCN
    li      a6, 0                   # console_write
    la      a1, message             # paging is off: GPA = address
    la      a0, message_end
    sub     a0, a0, a1              # byte count
    li      a2, 0
    ecall
    li      a7, 0x53525354          # SRST
    li      a6, 0                   # system_reset
    li      a0, 0                   # shutdown
    li      a1, 0                   # no reason
    ecall
1:  wfi
    j       1b

message:
    .ascii  "plain guest: hello from a guest that makes no hypercall\n"
message_end:
