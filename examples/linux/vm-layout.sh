# Sourced by boot-vmm.sh and refuse-dtb.sh: where the example hypervisors'
# Linux VMs want their files and how QEMU runs them, per Debian arch.
#
# vm_layout ARCH sets kernel_at, initrd_at, dtb_at (guest-physical, the same
# as host-physical: the VMs' RAM is identity-mapped), console (the kernel's
# console= and earlycon) and qemu (an array: the machine, without -smp,
# -nographic or -kernel); it fails for an unknown ARCH.
vm_layout() {
  case "$1" in
    riscv64)
      # examples/riscv64/README.md: RAM 0x90000000 + 256 MiB, kernel at
      # RAM + 2 MiB, initramfs at 0x9c000000, tree at 0x9fe00000.
      kernel_at=0x90200000 initrd_at=0x9c000000 dtb_at=0x9fe00000
      console="console=ttyS0 earlycon=sbi"
      qemu=(qemu-system-riscv64 -M virt -cpu rv64,h=true -m 1G -bios default) ;;
    arm64)
      # examples/aarch64/README.md: RAM 0x50000000 + 256 MiB, kernel at its
      # start, initramfs at 0x5c000000, tree at 0x5fe00000.
      kernel_at=0x50000000 initrd_at=0x5c000000 dtb_at=0x5fe00000
      console="console=ttyAMA0 earlycon=pl011,mmio32,0x09000000"
      qemu=(qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu "${BOOT_VMM_CPU:-cortex-a72}" -m 1G
            -semihosting) ;;
    *) return 1 ;;
  esac
}
