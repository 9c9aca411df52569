# Sourced by the QEMU runners (POSIX sh): typing into a guest's console.
#
# console_input_start LOG PATTERN TEXT LIMIT makes file descriptor 3 the
# console's input for QEMU (run it with <&3). With TEXT empty that is
# /dev/null. Otherwise TEXT is typed once, as soon as a line of LOG starts
# with PATTERN, for at most LIMIT seconds; not earlier, since firmware and
# drivers discard what arrives before they are ready. console_input_stop
# closes fd 3 and ends the typist.
console_input_start() {
    _ci_log=$1 _ci_pattern=$2 _ci_text=$3 _ci_limit=$4
    console_input_fifo= console_input_typist=
    if [ -z "$_ci_text" ]; then
        exec 3</dev/null
        return 0
    fi
    console_input_fifo=$(mktemp -u) && mkfifo "$console_input_fifo" || return 1
    # Read-write: opening does not block, and QEMU never sees end of file.
    exec 3<>"$console_input_fifo"
    (
        tries=$((_ci_limit * 10))
        while [ "$tries" -gt 0 ] && ! grep -q "^$_ci_pattern" "$_ci_log"; do
            sleep 0.1
            tries=$((tries - 1))
        done
        printf '%s' "$_ci_text" >&3
    ) &
    console_input_typist=$!
}

# Never fails, so a caller under `set -e` goes on.
console_input_stop() {
    exec 3<&-
    if [ -n "${console_input_typist:-}" ]; then kill "$console_input_typist" 2>/dev/null || true; fi
    if [ -n "${console_input_fifo:-}" ]; then rm -f "$console_input_fifo"; fi
    console_input_typist= console_input_fifo=
}
