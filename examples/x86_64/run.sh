#!/bin/sh
# Boots the x86_64 example hypervisor with its guests from an existing build
# directory (meson setup BUILD_DIR -Dexamples=...,x86_64 && ninja -C
# BUILD_DIR) under qemu-system-x86_64 (SVM, nested paging), printing what
# the hypervisor and the guests say. Exits 0 only if every run passed.
#   run.sh BUILD_DIR
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
out=$1/examples/x86_64
qemu=${QEMU:-qemu-system-x86_64}
for file in hyp.bin guest_exits.bin guest_regs.bin guest_bad.bin; do
    if [ ! -f "$out/$file" ]; then
        echo "run.sh: $out/$file missing: configure with -Dexamples=...,x86_64 and build first" >&2
        exit 2
    fi
done
status=0
echo "=== x86_64: exits guest ==="
"$here/qemu_test.sh" "$qemu" "$out/hyp.bin" "$out/guest_exits.bin" -- 60 || status=1
echo "=== x86_64: misbehaving guest ==="
"$here/qemu_test.sh" "$qemu" "$out/hyp.bin" "$out/guest_bad.bin" -- 60 || status=1
echo "=== x86_64: two VMs taking turns on one CPU ==="
"$here/qemu_test.sh" "$qemu" "$out/hyp.bin" "$out/guest_exits.bin" "$out/guest_regs.bin" -- 60 || status=1
exit $status
