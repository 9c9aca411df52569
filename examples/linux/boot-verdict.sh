# Sourced by boot-bare.sh and boot-vmm.sh: the verdict of one boot.
#
# boot_verdict TAG LABEL LOG STATUS LIMIT SECONDS [LINE...] passes (returns
# 0) when QEMU's STATUS is 0 and LOG has the line "axvcpu-init: PASS" and
# every LINE, each exactly (the tty writes CR LF; the kernel-log copy of a
# line of /init carries a time stamp, so an exact match is the line that
# came through the tty). It then prints the kernel's "Run /init" line,
# /init's lines and the hypervisor's exit summary, if any, and "TAG: LABEL:
# PASS, QEMU ran SECONDS s ..."; otherwise the last 40 console lines and
# "TAG: LABEL: FAIL (why) ...". LIMIT is the time-out, for the reason.
boot_verdict() {
    local tag=$1 label=$2 log=$3 status=$4 limit=$5 seconds=$6
    shift 6
    sed -i 's/\r//g' "$log"
    local missing= line
    for line in 'axvcpu-init: PASS' "$@"; do
        grep -qxF "$line" "$log" || missing="${missing:+$missing or }'$line'"
    done
    if [ "$status" -eq 0 ] && [ -z "$missing" ]; then
        grep -E '^axvcpu-init:|Run /init as init process|^vmm: [0-9]+ exits' "$log"
        echo "$tag: $label: PASS, QEMU ran ${seconds} s from start to power-off"
        return 0
    fi
    local why
    case "$status" in
        0) why="no $missing line on the console" ;;
        124) why="timed out after $limit s" ;;
        *) why="QEMU exited with status $status" ;;
    esac
    echo "$tag: last 40 console lines:"
    tail -n 40 "$log"
    echo "$tag: $label: FAIL ($why) after ${seconds} s"
    return 1
}
