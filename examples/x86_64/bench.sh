#!/bin/sh
# Benchmark (not a test): rdtsc ticks for a VMMCALL round trip, exact and
# repeatable under QEMU -icount shift=0 (one tick per instruction), through
# AxVCpu::run and through the hypervisor's hand-written twin loop, measured
# by guest_bench in the same run, and their ratio.
#   bench.sh BUILD_DIR
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
out=$1/examples/x86_64
qemu=${QEMU:-qemu-system-x86_64}
lines=$(timeout 60 "$qemu" -machine pc -cpu qemu64,+svm,+npt,+xsave,+xsaveopt -m 256M -display none -monitor none -serial stdio \
    -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -icount shift=0 -kernel "$out/hyp.bin" \
    -device loader,file="$out/guest_bench.bin",addr=0x4200000,force-raw=on 2>&1 | tr -d '\r' | grep '^bench: ') ||
    { echo "bench.sh: no numbers from the benchmark guest" >&2; exit 1; }
lib=$(echo "$lines" | awk '$3 == "library" {print $4}')
raw=$(echo "$lines" | awk '$3 == "hand-written" {print $4}')
echo "rdtsc ticks (instructions) per VMMCALL round trip (QEMU -icount shift=0)"
printf '%-12s %10s %12s %8s\n' "round trip" "library" "hand-written" "ratio"
awk -v l="$lib" -v r="$raw" 'BEGIN { printf "%-12s %10d %12d %7.3fx\n", "hypercall", l, r, l / r }'
