#!/bin/sh
# Boots the example hypervisor with a guest image under QEMU and decides
# pass/fail: QEMU's exit status (the test device, 0 only for PASS) and the
# success line must both say so. Every run is bounded by a timeout.
#   qemu-run.sh QEMU HYP_ELF GUEST_BIN SMP [TIMEOUT_SECONDS] [extra QEMU args...]
set -u
qemu=$1 hyp=$2 guest=$3 smp=$4
limit=${5:-60}
[ $# -ge 5 ] && shift 5 || shift 4
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout "$limit" "$qemu" -M virt -cpu rv64,h=true -smp "$smp" -m 256M -nographic -monitor none \
    -bios default -kernel "$hyp" \
    -device loader,file="$guest",addr=0x88000000,force-raw=on "$@" >"$log" 2>&1
status=$?
cat "$log"
if [ "$status" -eq 124 ]; then
    echo "qemu-run: TIMEOUT after ${limit}s" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "qemu-run: QEMU exit status $status" >&2
    exit 1
fi
if ! grep -q '^axvcpu-riscv64: PASS' "$log"; then
    echo "qemu-run: no success line" >&2
    exit 1
fi
exit 0
