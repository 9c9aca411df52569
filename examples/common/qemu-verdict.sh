# Sourced by each arch's QEMU runner (examples/*/qemu_test.sh,
# examples/riscv64/qemu-run.sh): one run's verdict from QEMU's exit status
# and what it printed. A run passes only if QEMU exited 0 (the hypervisor's
# own power-off) and the hypervisor printed its success line.
#   qemu_verdict RUNNER STATUS LIMIT_SECONDS OUTPUT_FILE
# A run that must fail passes only if the hypervisor failed it for the
# reason given: a failing status that is not a timeout, the reason and the
# failure line on the console (a hang, a crash or an image QEMU cannot
# load prints neither).
#   qemu_expected_failure RUNNER STATUS LIMIT_SECONDS OUTPUT_FILE REASON
# True, saying so, when STATUS is timeout's (124, or 137 after its KILL).
qemu_timed_out() {  # RUNNER STATUS LIMIT_SECONDS
    [ "$2" -eq 124 ] || [ "$2" -eq 137 ] || return 1
    echo "$1: TIMEOUT after $3 s" >&2
}

qemu_verdict() {
    qemu_timed_out "$1" "$2" "$3" && return 1
    if [ "$2" -ne 0 ]; then
        echo "$1: QEMU exited with status $2" >&2
        return 1
    fi
    if ! grep -q '^RESULT: PASS' "$4"; then
        echo "$1: no success line" >&2
        return 1
    fi
    return 0
}

qemu_expected_failure() {
    qemu_timed_out "$1" "$2" "$3" && return 1
    if [ "$2" -eq 0 ]; then
        echo "$1: QEMU exited with status 0: the run did not fail" >&2
        return 1
    fi
    if ! grep -qF "$5" "$4" || ! grep -q '^RESULT: FAIL' "$4"; then
        echo "$1: QEMU exited with status $2, but not with the failure expected ($5, then RESULT: FAIL)" >&2
        return 1
    fi
    echo "$1: failed as expected ($5), QEMU status $2"
    return 0
}
