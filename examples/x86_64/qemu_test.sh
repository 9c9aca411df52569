#!/bin/sh
# Boots the x86_64 example hypervisor with one or two guest images under
# QEMU (SVM with nested paging) and passes only if QEMU exits 0 (the
# hypervisor's ACPI power-off) and the hypervisor printed its success line.
# usage: qemu_test.sh QEMU HYP_BIN GUEST_BIN [GUEST2_BIN] [-- TIMEOUT_SECONDS [QEMU_ARG...]]
# With a second guest the hypervisor runs two VMs on its one CPU (vms=2).
# QEMU_ARGs go to QEMU as they are (the chaos test's parameters, written by
# QEMU's loader).
set -u
. "$(dirname "$0")/../common/qemu-verdict.sh"
qemu=$1 hyp=$2 guest=$3
shift 3
second= limit=30
if [ $# -gt 0 ] && [ "$1" != "--" ]; then second=$1; shift; fi
if [ $# -gt 1 ] && [ "$1" = "--" ]; then limit=$2; shift 2; else set --; fi
set -- "$@" -device loader,file="$guest",addr=0x4200000,force-raw=on
[ -n "$second" ] && set -- "$@" -append vms=2 -device loader,file="$second",addr=0x5200000,force-raw=on
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout --signal=KILL "$limit" "$qemu" -machine pc -cpu qemu64,+svm,+npt,+xsave,+xsaveopt -m 256M \
    -display none -monitor none -serial stdio -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$hyp" "$@" >"$log" 2>&1
status=$?
head -c 200000 "$log"
qemu_verdict qemu_test "$status" "$limit" "$log"
