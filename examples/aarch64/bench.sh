#!/bin/sh
# The aarch64 benchmark (not a test): instruction counts under QEMU
# -icount shift=0, where the PMU cycle counter the guest reads advances
# once per instruction at EL1 and EL2, so the numbers repeat exactly.
# One run of guest_bench.bin measures three round trips (a hypercall, an
# MMIO read, inject_interrupt to the guest's vector) through AxVCpu::run,
# then through the hypervisor's hand-written twin of that loop
# (run_raw_loop in hyp.cpp); printed as a table with their ratio, per CPU.
# Builds nothing.
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
    echo "=== -cpu $cpu: instructions per round trip (QEMU -icount shift=0, PMCCNTR_EL0 in the guest) ==="
    out=$(timeout --signal=KILL 60 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu "$cpu" -m 256M \
        -nographic -monitor none -serial stdio -semihosting -icount shift=0 \
        -kernel "$dir/hyp.elf" -device loader,file="$dir/guest_bench.bin",addr=0x48000000,force-raw=on 2>&1)
    rc=$?
    out=$(printf '%s\n' "$out" | tr -d '\r')
    if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -q '^RESULT: PASS'; then
        printf '%s\n' "$out" | tail -5
        echo "bench: run failed (status $rc)"
        status=1
        continue
    fi
    printf '%-12s %10s %12s %8s\n' "round trip" "library" "hand-written" "ratio"
    for what in hypercall mmio_read irq; do
        l=$(printf '%s\n' "$out" | awk -v w="$what" '$1 == "bench:" && $2 == "library" && $3 == w {print $4}')
        r=$(printf '%s\n' "$out" | awk -v w="$what" '$1 == "bench:" && $2 == "hand-written" && $3 == w {print $4}')
        if [ -z "$l" ] || [ -z "$r" ]; then
            echo "bench: no figure for $what"
            status=1
            continue
        fi
        awk -v w="$what" -v l="$l" -v r="$r" 'BEGIN { printf "%-12s %10d %12d %7.3fx\n", w, l, r, l / r }'
    done
done
exit $status
