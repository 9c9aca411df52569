#!/bin/sh
# Boots the example hypervisor with one guest image under QEMU and passes
# only if QEMU exits 0 (semihosting SYS_EXIT from the hypervisor) and the
# hypervisor printed its success line.
# usage: qemu_test.sh HYP_ELF GUEST_BIN CPU SMP [TIMEOUT_SECONDS [extra QEMU args...]]
set -u
hyp=$1 guest=$2 cpu=$3 smp=$4 limit=${5:-30}
[ $# -ge 5 ] && shift 5 || shift 4
out=$(timeout --signal=KILL "$limit" qemu-system-aarch64 \
    -M virt,virtualization=on,gic-version=3 -cpu "$cpu" -smp "$smp" -m 256M \
    -nographic -monitor none -serial stdio -semihosting \
    -kernel "$hyp" \
    -device loader,file="$guest",addr=0x48000000,force-raw=on "$@" 2>&1)
status=$?
printf '%s\n' "$out" | head -c 200000
if [ $status -ne 0 ]; then
    echo "qemu_test: QEMU exited with status $status (137: timeout after ${limit}s)"
    exit 1
fi
if ! printf '%s\n' "$out" | grep -q '^RESULT: PASS'; then
    echo "qemu_test: no success line"
    exit 1
fi
exit 0
