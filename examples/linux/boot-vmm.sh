#!/usr/bin/env bash
# boot-vmm.sh ARCH HYP KERNELDIR INITRAMFS CPUS [TIMEOUT_S] [--sstc] [--input WORD]: boots
# Debian's stock kernel for ARCH (riscv64 or arm64) as a guest of the example
# hypervisor HYP (the Linux-VM build: examples/riscv64/hyp-linux.elf,
# examples/aarch64/hyp-linux.elf) on QEMU's virt board with CPUS CPUs, one
# vCPU each (arm64: on QEMU's CPU $BOOT_VMM_CPU, default cortex-a72), with INITRAMFS's /init (init.c) and a
# device tree for that VM from guest-dtb.py (--sstc: its ISA names Sstc, for
# the hypervisor's -sstc build). The kernel, the tree and the initramfs are
# placed with QEMU's loader at the VM's addresses (the ARCH README's
# "Booting Linux"). Passes (exit 0) only if the console shows /init's line
# "axvcpu-init: PASS" exactly as written through the tty and the hypervisor's
# "RESULT: PASS" (and with CPUS > 1, /init's hotplug line for each
# secondary vCPU); otherwise prints the last 40 console lines and fails.
# --input WORD: /init also checks console input (axvcpu.input=WORD): WORD
# and a carriage return are typed once it says it is waiting for them.
#
# KERNELDIR is fetch-kernel.sh's OUTDIR: the kernel is fetched there first if
# it is missing. With BOOT_VMM_SHOW=1 the whole console is printed too.
set -euo pipefail

usage() {
  echo "usage: $0 riscv64|arm64 HYP KERNELDIR INITRAMFS CPUS [TIMEOUT_S] [--sstc] [--input WORD]" >&2
  exit 2
}
[ $# -lt 5 ] && usage
arch=$1 hyp=$2 kerneldir=$3 initramfs=$4 cpus=$5
shift 5
limit=120
if [ $# -gt 0 ] && [[ $1 != --* ]]; then limit=$1; shift; fi
dtb_args=() input=
while [ $# -gt 0 ]; do
  case "$1" in
    --sstc) dtb_args+=(--sstc); shift ;;
    --input) [ $# -ge 2 ] || usage; input=$2; shift 2 ;;
    *) usage ;;
  esac
done
here=$(dirname "$0")

. "$here/vm-layout.sh"
vm_layout "$arch" || { echo "boot-vmm: unknown ARCH '$arch' (riscv64 or arm64)" >&2; exit 2; }
# panic=-1: a panic resets, which the hypervisor reports as a failure.
bootargs="$console panic=-1 axvcpu.cpus=$cpus${input:+ axvcpu.input=$input}"

"$here/fetch-kernel.sh" "$arch" "$kerneldir"

work=$(mktemp -d)
. "$here/../common/console-input.sh"
trap 'console_input_stop; rm -rf "$work"' EXIT
"$here/guest-dtb.py" "$arch" "$work/guest.dtb" --cpus "$cpus" --initrd "$initrd_at:$initramfs" \
  --bootargs "$bootargs" "${dtb_args[@]}"

log=$work/console.log
: >"$log"
typed=
[ -n "$input" ] && typed=$input$'\r'
console_input_start "$log" "axvcpu-init: waiting for console input" "$typed" "$limit"
start=$(date +%s%N)
status=0
timeout "$limit" "${qemu[@]}" -smp "$cpus" -nographic -monitor none -kernel "$hyp" \
  -device "loader,file=$kerneldir/Image,addr=$kernel_at,force-raw=on" \
  -device "loader,file=$initramfs,addr=$initrd_at,force-raw=on" \
  -device "loader,file=$work/guest.dtb,addr=$dtb_at,force-raw=on" <&3 >"$log" 2>&1 || status=$?
console_input_stop
elapsed=$((($(date +%s%N) - start) / 1000000))
seconds=$(printf '%d.%03d' $((elapsed / 1000)) $((elapsed % 1000)))

if [ "${BOOT_VMM_SHOW:-0}" = 1 ]; then sed 's/\r//g' "$log"; fi
. "$here/boot-verdict.sh"
# With --input, /init's line saying it read the word typed must be there
# too: /init skips the check when the command line lost axvcpu.input. So
# must its hotplug line for each secondary vCPU: it skips them if it finds
# too few CPUs on its command line.
required=('RESULT: PASS')
[ -n "$input" ] && required+=("axvcpu-init: input: read '$input', expected '$input': ok")
for ((cpu = 1; cpu < cpus; ++cpu)); do
  required+=("axvcpu-init: hotplug: cpu$cpu off and on twice, /init ran on it after each: ok")
done
boot_verdict boot-vmm "$arch ($(cat "$kerneldir/Image.version")), $cpus vCPU(s)" "$log" "$status" "$limit" "$seconds" \
  "${required[@]}"
