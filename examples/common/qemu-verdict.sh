# Sourced by each arch's QEMU runner (examples/*/qemu_test.sh,
# examples/riscv64/qemu-run.sh): one run's verdict from QEMU's exit status
# and what it printed. A run passes only if QEMU exited 0 (the hypervisor's
# own power-off) and the hypervisor printed its success line.
#   qemu_verdict RUNNER STATUS LIMIT_SECONDS OUTPUT_FILE
qemu_verdict() {
    if [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then
        echo "$1: TIMEOUT after $3 s" >&2
        return 1
    fi
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
