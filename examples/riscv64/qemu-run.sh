#!/bin/sh
# Boots the example hypervisor with a guest image under QEMU and decides
# pass/fail: QEMU's exit status (the test device, 0 only for PASS) and the
# success line must both say so. Every run is bounded by a timeout.
#   qemu-run.sh QEMU HYP_ELF GUEST_BIN SMP [TIMEOUT_SECONDS] [extra QEMU args...]
# With QEMU_RUN_INPUT set (and non-empty), its bytes are typed on the serial
# console once the guest prints a line starting "guest: waiting for console
# input". Not earlier: the firmware's UART set-up discards received bytes,
# and the guest tests reads with nothing typed first.
# With QEMU_RUN_EXPECT_FAILURE set, the run must instead fail with that text
# on the console (qemu_expected_failure).
set -u
qemu=$1 hyp=$2 guest=$3 smp=$4
limit=${5:-60}
[ $# -ge 5 ] && shift 5 || shift 4
input=${QEMU_RUN_INPUT:-}
log=$(mktemp)
. "$(dirname "$0")/../common/console-input.sh"
. "$(dirname "$0")/../common/qemu-verdict.sh"
trap 'console_input_stop; rm -f "$log"' EXIT
console_input_start "$log" "guest: waiting for console input" "$input" "$limit" || exit 1
timeout "$limit" "$qemu" -M virt -cpu rv64,h=true -smp "$smp" -m 256M -nographic -monitor none \
    -bios default -kernel "$hyp" \
    -device loader,file="$guest",addr=0x88000000,force-raw=on "$@" <&3 >"$log" 2>&1
status=$?
console_input_stop
cat "$log"
if [ -n "${QEMU_RUN_EXPECT_FAILURE:-}" ]; then
    qemu_expected_failure qemu-run "$status" "$limit" "$log" "$QEMU_RUN_EXPECT_FAILURE"
else
    qemu_verdict qemu-run "$status" "$limit" "$log"
fi
