#!/bin/sh
# Boots the example hypervisor with one guest image under QEMU and passes
# only if QEMU exits 0 (semihosting SYS_EXIT from the hypervisor) and the
# hypervisor printed its success line.
# usage: qemu_test.sh HYP_ELF GUEST_BIN CPU SMP [TIMEOUT_SECONDS [extra QEMU args...]]
set -u
. "$(dirname "$0")/../common/qemu-verdict.sh"
hyp=$1 guest=$2 cpu=$3 smp=$4 limit=${5:-30}
[ $# -ge 5 ] && shift 5 || shift 4
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout --signal=KILL "$limit" qemu-system-aarch64 \
    -M virt,virtualization=on,gic-version=3 -cpu "$cpu" -smp "$smp" -m 256M \
    -nographic -monitor none -serial stdio -semihosting \
    -kernel "$hyp" \
    -device loader,file="$guest",addr=0x48000000,force-raw=on "$@" >"$log" 2>&1
status=$?
head -c 200000 "$log"
qemu_verdict qemu_test "$status" "$limit" "$log"
