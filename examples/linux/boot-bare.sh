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
run=(timeout "$limit" "${qemu[@]}" -smp "$cpus" -m 256M -nographic -no-reboot
  -kernel "$kerneldir/Image" -initrd "$initramfs" -append "$append")
# QEMU 7.2's riscv64 virt board has twice (in a day of parallel suite runs)
# hung after OpenSBI's banner, before the kernel's first line, which
# earlycon=sbi prints within a second of the jump: nothing the kernel or
# /init does. A boot that shows no "Linux version" line in first_line_s is
# stopped and started once more, and says so; a kernel that has started is
# never restarted.
first_line_s=${BOOT_BARE_FIRST_LINE_S:-60}
start=$(date +%s%N)
status=0
if [ "$arch" = riscv64 ]; then
  # $! is timeout itself, which passes a kill on to QEMU.
  "${run[@]}" </dev/null >"$log" 2>&1 & pid=$!
  waited=0
  while kill -0 "$pid" 2>/dev/null && ! grep -q "Linux version" "$log" && [ "$waited" -lt "$first_line_s" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null && ! grep -q "Linux version" "$log"; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "boot-bare: $arch: no kernel line ${first_line_s} s after QEMU started (hung after OpenSBI): starting it again, once"
    start=$(date +%s%N)
    "${run[@]}" </dev/null >"$log" 2>&1 || status=$?
  else
    wait "$pid" || status=$?
  fi
else
  "${run[@]}" </dev/null >"$log" 2>&1 || status=$?
fi
elapsed=$((($(date +%s%N) - start) / 1000000))
seconds=$(printf '%d.%03d' $((elapsed / 1000)) $((elapsed % 1000)))

. "$(dirname "$0")/boot-verdict.sh"
boot_verdict boot-bare "$arch ($(cat "$kerneldir/Image.version"))" "$log" "$status" "$limit" "$seconds"
