#!/usr/bin/env bash
# bench.sh ARCH HYP KERNELDIR INITRAMFS [RUNS] [CPUS] [--sstc]: what running
# Linux as a guest of the example hypervisor costs in wall time. Boots the
# same kernel and initramfs RUNS times (default 5) each way, alternating:
# straight on QEMU (boot-bare.sh: firmware, same RAM, same CPUs) and in the
# hypervisor's Linux VM (boot-vmm.sh), takes QEMU's time from start to
# power-off of every run, and prints both medians and their ratio, then the
# exits by kind of the last hypervisor run. Every run must pass.
# Run it on an otherwise idle machine: QEMU's wall time follows the load.
set -euo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 riscv64|arm64 HYP KERNELDIR INITRAMFS [RUNS] [CPUS] [--sstc]" >&2
  exit 2
fi
arch=$1 hyp=$2 kerneldir=$3 initramfs=$4
runs=${5:-5}
cpus=${6:-1}
sstc=${7:-}
# Positional: a misplaced --sstc would otherwise be read as RUNS (no boots
# at all) or CPUS.
if ! [[ $runs =~ ^[1-9][0-9]*$ && $cpus =~ ^[1-9][0-9]*$ ]] || { [ -n "$sstc" ] && [ "$sstc" != --sstc ]; }; then
  echo "$0: RUNS and CPUS must be positive integers, and --sstc comes seventh (after both): got '$runs' '$cpus' '$sstc'" >&2
  exit 2
fi
here=$(dirname "$0")
# The same CPU both ways: boot-bare.sh runs arm64 on max,pauth-impdef=on.
[ "$arch" = arm64 ] && export BOOT_VMM_CPU=max,pauth-impdef=on

seconds_of() {  # the "QEMU ran X s" figure of a boot script's output
  sed -n 's/.*QEMU ran \([0-9.]*\) s.*/\1/p' <<<"$1" | tail -n 1
}
median() {
  printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

bare=() vmm=() exits=
for ((run = 1; run <= runs; run++)); do
  out=$("$here/boot-bare.sh" "$arch" "$kerneldir" "$initramfs" 240 "$cpus") || { echo "$out"; exit 1; }
  bare+=("$(seconds_of "$out")")
  out=$("$here/boot-vmm.sh" "$arch" "$hyp" "$kerneldir" "$initramfs" "$cpus" 240 $sstc) || { echo "$out"; exit 1; }
  vmm+=("$(seconds_of "$out")")
  exits=$(grep -E '^vmm: [0-9]+ exits' <<<"$out" || true)
  echo "run $run: bare ${bare[-1]} s, hypervisor ${vmm[-1]} s"
done
b=$(median "${bare[@]}") v=$(median "${vmm[@]}")
echo "bench: $arch, $cpus CPU(s)${sstc:+ (Sstc)}, $runs runs each: median bare $b s, in the hypervisor $v s, ratio $(awk -v b="$b" -v v="$v" 'BEGIN {printf "%.2f", v / b}')"
echo "bench: exits in the last hypervisor run: ${exits#vmm: }"
