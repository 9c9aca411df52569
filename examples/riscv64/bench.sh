#!/bin/sh
# Benchmark (not a test): instructions retired for three hypervisor round
# trips, exact and repeatable under QEMU -icount shift=0, for the library
# hypervisor (hyp.elf) and the hand-written baseline (bench_raw.elf) running
# the same guest (guest_bench.bin), and their ratio.
#   bench.sh BUILD_DIR
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
out=$1/examples/riscv64
qemu=${QEMU:-qemu-system-riscv64}
run() {
    timeout 60 "$qemu" -M virt -cpu rv64,h=true -smp 1 -m 256M -nographic -monitor none -bios default \
        -icount shift=0 -kernel "$1" -device loader,file="$out/guest_bench.bin",addr=0x88000000,force-raw=on 2>&1 |
        tr -d '\r' | grep '^bench: ' || { echo "bench.sh: $1 produced no numbers" >&2; exit 1; }
}
lib=$(run "$out/hyp.elf")
raw=$(run "$out/bench_raw.elf")
echo "instructions per round trip (QEMU -icount shift=0, rdinstret in the guest)"
printf '%-12s %10s %12s %8s\n' "round trip" "library" "hand-written" "ratio"
for what in hypercall mmio_read irq; do
    l=$(echo "$lib" | awk -v w="$what" '$2 == w {print $3}')
    r=$(echo "$raw" | awk -v w="$what" '$2 == w {print $3}')
    awk -v w="$what" -v l="$l" -v r="$r" 'BEGIN { printf "%-12s %10d %12d %7.3fx\n", w, l, r, l / r }'
done
