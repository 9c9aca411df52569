#!/bin/sh
# The aarch64 benchmark (not a test): instruction counts under QEMU
# -icount shift=0, where the PMU cycle counter the guest reads advances
# once per instruction at EL1 and EL2, so the numbers repeat exactly.
# Measures, through AxVCpu::run: a hypercall round trip, an MMIO read round
# trip, inject_interrupt to the guest's vector; and the same hypercall
# round trip through a minimal hand-written world switch (bench_switch.S),
# with the ratio of the two. Builds nothing.
# usage: examples/aarch64/bench.sh BUILD_DIR [CPU...]   (default: max cortex-a57 cortex-a72)
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [CPU...]" >&2
    exit 2
fi
dir=$1/examples/aarch64
shift
[ $# -eq 0 ] && set -- max cortex-a57 cortex-a72
for f in hyp.elf guest_bench.bin; do
    [ -f "$dir/$f" ] || { echo "$0: $dir/$f is missing: build with -Dexamples=host,aarch64 first" >&2; exit 2; }
done
status=0
for cpu in "$@"; do
    echo "=== -cpu $cpu ==="
    out=$(timeout --signal=KILL 60 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu "$cpu" -m 256M \
        -nographic -monitor none -serial stdio -semihosting -icount shift=0 \
        -kernel "$dir/hyp.elf" -device loader,file="$dir/guest_bench.bin",addr=0x48000000,force-raw=on 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep '^bench:'
    if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -q '^RESULT: PASS'; then
        printf '%s\n' "$out" | tail -5
        echo "bench: run failed (status $rc)"
        status=1
    fi
done
exit $status
