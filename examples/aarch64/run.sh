#!/bin/sh
# Boots the example hypervisor under QEMU with the demo guests from an
# existing build directory and shows the exit trace. Builds nothing.
# usage: examples/aarch64/run.sh BUILD_DIR [CPU]   (CPU: max, cortex-a57, cortex-a72; default max)
# Exit status 0 when every demo guest passed.
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [CPU]" >&2
    exit 2
fi
build=$1
dir=$build/examples/aarch64
cpu=${2:-max}
here=$(cd "$(dirname "$0")" && pwd)
for f in hyp.elf guest_plain.bin guest_exits.bin guest_smp.bin; do
    if [ ! -f "$dir/$f" ]; then
        echo "$0: $dir/$f is missing: configure with -Dexamples=host,aarch64 and build first" >&2
        exit 2
    fi
done
status=0
for demo in "plain 1" "exits 1" "smp 2"; do
    set -- $demo
    echo "=== aarch64 demo: guest '$1' on $2 vCPU(s), -cpu $cpu ==="
    if ! "$here/qemu_test.sh" "$dir/hyp.elf" "$dir/guest_$1.bin" "$cpu" "$2" 60; then
        status=1
    fi
done
# Debian's kernel (fetched on first use) with the project's /init, shown
# whole: the hypervisor's lines, the kernel's log and /init's verdict.
initramfs=$build/examples/linux/initramfs-arm64.cpio
if [ -f "$initramfs" ] && [ -f "$dir/hyp-linux.elf" ]; then
    echo "=== aarch64: Debian's stock Linux kernel in the Linux VM (2 vCPUs, -cpu $cpu) ==="
    [ "$cpu" = max ] && linux_cpu=max,pauth-impdef=on || linux_cpu=$cpu
    BOOT_VMM_SHOW=1 BOOT_VMM_CPU=$linux_cpu "$here/../linux/boot-vmm.sh" arm64 "$dir/hyp-linux.elf" \
        "$build/examples/linux/kernels/arm64" "$initramfs" 2 240 || status=1
else
    echo "=== aarch64: Linux guest skipped: $initramfs or $dir/hyp-linux.elf not built" >&2
    status=1
fi
exit $status
