/* The hypervisor's entry from QEMU's Multiboot loader (-kernel hyp.bin):
   32-bit protected mode, paging off (Multiboot 0.6.96, 3.2). Identity-maps
   the first 4 GiB with 2 MiB pages, enters long mode (AMD APM vol. 2,
   14.6), masks the legacy PIC (nothing interrupts the host) and calls
   hyp_main(multiboot_info). */
    .set MB_MAGIC, 0x1BADB002
    /* bit 1: memory map; bit 16: the address fields below are valid, so
       QEMU loads this flat binary as it is */
    .set MB_FLAGS, (1 << 1) | (1 << 16)

    .section .text.entry, "ax"
    .code32
    .globl _start
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long multiboot_header   /* header_addr */
    .long multiboot_header   /* load_addr: the file starts with this header */
    .long __load_end         /* load_end_addr */
    .long __bss_end          /* bss_end_addr: QEMU zeroes up to here */
    .long _start             /* entry_addr */

_start:
    cli
    mov $__stack_top, %esp
    mov %ebx, %edi                 /* the Multiboot information, for hyp_main */
    /* PML4[0] -> PDPT, PDPT[0..3] -> four PDs of 512 2 MiB pages each. */
    mov $boot_pdpt, %eax
    or $3, %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $3, %eax
    xor %ecx, %ecx
1:  mov %eax, boot_pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 1b
    mov $0x83, %eax                /* present, writable, 2 MiB */
    xor %ecx, %ecx
2:  mov %eax, boot_pd(,%ecx,8)
    movl $0, boot_pd+4(,%ecx,8)
    add $0x200000, %eax
    inc %ecx
    cmp $2048, %ecx
    jne 2b
    mov $boot_pml4, %eax
    mov %eax, %cr3
    /* CR4: PAE, OSFXSR, OSXMMEXCPT (FXSAVE/FXRSTOR of guests' SSE state),
       and OSXSAVE where CPUID.1:ECX[26] offers XSAVE, so that the policy
       can load a guest's XCR0 around VMRUN. */
    mov $1, %eax
    cpuid
    mov $0x620, %eax
    bt $26, %ecx
    jnc 3f
    or $0x40000, %eax
3:  mov %eax, %cr4
    mov $0xC0000080, %ecx          /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov $0x80010033, %eax          /* PG, WP, NE, ET, MP, PE */
    mov %eax, %cr0
    lgdt gdt_pointer
    ljmp $0x08, $long_mode

    .code64
long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    /* Mask both 8259s: the firmware left the timer's IRQ 0 on. */
    mov $0xFF, %al
    out %al, $0x21
    out %al, $0xA1
    mov $__stack_top, %rsp
    call hyp_main
4:  hlt
    jmp 4b

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF       /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF       /* 0x10: data */
gdt_pointer:
    .word gdt_pointer - gdt - 1
    .quad gdt

    .section .bss
    .balign 4096
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd: .skip 4096 * 4

    /* No executable stack. */
    .section .note.GNU-stack, "", @progbits
