#!/bin/sh
# Boots the riscv64 example hypervisor with its demo guests from an existing
# build directory (meson setup BUILD_DIR -Dexamples=...,riscv64 && ninja -C
# BUILD_DIR) under qemu-system-riscv64 + OpenSBI, printing the exit trace.
# Exits 0 only if every guest passed.
#   run.sh BUILD_DIR
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$1/examples/riscv64
qemu=${QEMU:-qemu-system-riscv64}
for file in hyp.elf guest_plain.bin guest_exits.bin guest_smp.bin guest_sbi.bin guest_timer_wfi.bin; do
    if [ ! -f "$out/$file" ]; then
        echo "run.sh: $out/$file missing: configure with -Dexamples=...,riscv64 and build first" >&2
        exit 2
    fi
done
status=0
echo "=== riscv64: a guest written from the README alone (1 hart) ==="
"$here/qemu-run.sh" "$qemu" "$out/hyp.elf" "$out/guest_plain.bin" 1 60 || status=1
echo "=== riscv64: exits guest (1 hart) ==="
"$here/qemu-run.sh" "$qemu" "$out/hyp.elf" "$out/guest_exits.bin" 1 60 || status=1
echo "=== riscv64: SMP guest (2 harts) ==="
"$here/qemu-run.sh" "$qemu" "$out/hyp.elf" "$out/guest_smp.bin" 2 60 || status=1
echo "=== riscv64: SBI console input and non-retentive suspend (1 hart) ==="
QEMU_RUN_INPUT=Gaxvcpu-dbcn "$here/qemu-run.sh" "$qemu" "$out/hyp.elf" "$out/guest_sbi.bin" 1 60 || status=1
echo "=== riscv64: timer and wfi on the Sstc build (1 hart) ==="
"$here/qemu-run.sh" "$qemu" "$out/hyp-sstc.elf" "$out/guest_timer_wfi.bin" 1 60 || status=1
# Debian's kernel (fetched on first use) with the project's /init, shown
# whole: the hypervisor's lines, the kernel's log and /init's verdict.
initramfs=$1/examples/linux/initramfs-riscv64.cpio
if [ -f "$initramfs" ] && [ -f "$out/hyp-linux.elf" ]; then
    echo "=== riscv64: Debian's stock Linux kernel in the Linux VM (2 harts) ==="
    BOOT_VMM_SHOW=1 "$here/../linux/boot-vmm.sh" riscv64 "$out/hyp-linux.elf" "$1/examples/linux/kernels/riscv64" \
        "$initramfs" 2 240 || status=1
else
    echo "=== riscv64: Linux guest skipped: $initramfs or $out/hyp-linux.elf not built" >&2
    status=1
fi
if [ "$status" -eq 0 ]; then echo "run.sh: all riscv64 demo guests passed"; else echo "run.sh: FAILED" >&2; fi
exit "$status"
