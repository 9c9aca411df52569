#!/usr/bin/env bash
# boot-bare.sh ARCH KERNELDIR INITRAMFS [TIMEOUT_S] [CPUS]: boots Debian's
# stock kernel for ARCH (arm64 or riscv64) straight on QEMU's virt board, with
# no hypervisor, on CPUS CPUs (default 2) and 256 MiB of RAM (what the example
# hypervisor's Linux VM has), with INITRAMFS's /init (init.c). Passes (exit 0) only
# if the console shows the line "axvcpu-init: PASS" exactly as /init writes
# it through the tty; otherwise prints the last 40 console lines and fails.
#
# KERNELDIR is fetch-kernel.sh's OUTDIR: the kernel is fetched there first if
# it is missing (fetch-kernel.sh does nothing when it is present).
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 5 ]; then
  echo "usage: $0 arm64|riscv64 KERNELDIR INITRAMFS [TIMEOUT_S] [CPUS]" >&2
  exit 2
fi
arch=$1
kerneldir=$2
initramfs=$3
limit=${4:-120}
cpus=${5:-2}

# /init checks that as many CPUs come online as axvcpu.cpus= says.
# panic=-1 turns a panic into a reset, and -no-reboot turns the reset into
# QEMU's exit, so a kernel that dies ends the run at once.
append="panic=-1 axvcpu.cpus=$cpus"
case "$arch" in
  arm64)
    # pauth-impdef=on: QEMU's default pointer-authentication algorithm makes
    # this kernel boot about 4 times slower.
    qemu=(qemu-system-aarch64 -M "virt,gic-version=3" -cpu "max,pauth-impdef=on")
    append="console=ttyAMA0 $append" ;;
  riscv64)
    qemu=(qemu-system-riscv64 -M virt -bios default)
    append="console=ttyS0 earlycon=sbi $append" ;;
  *) echo "boot-bare: unknown ARCH '$arch' (arm64 or riscv64)" >&2; exit 2 ;;
esac

"$(dirname "$0")/fetch-kernel.sh" "$arch" "$kerneldir"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s%N)
status=0
timeout "$limit" "${qemu[@]}" -smp "$cpus" -m 256M -nographic -no-reboot \
  -kernel "$kerneldir/Image" -initrd "$initramfs" -append "$append" </dev/null >"$log" 2>&1 || status=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
seconds=$(printf '%d.%03d' $((elapsed / 1000)) $((elapsed % 1000)))

. "$(dirname "$0")/boot-verdict.sh"
boot_verdict boot-bare "$arch ($(cat "$kerneldir/Image.version"))" "$log" "$status" "$limit" "$seconds"
