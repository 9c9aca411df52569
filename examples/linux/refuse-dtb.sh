#!/usr/bin/env bash
# refuse-dtb.sh riscv64|arm64 HYP: the Linux-VM hypervisor HYP must refuse to start
# a guest whose device tree is missing, or does not describe the VM (its
# memory outside the VM's RAM), with the reason on the console and a failing
# QEMU status, before any guest code runs (no kernel is loaded).
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 riscv64|arm64 HYP" >&2
  exit 2
fi
arch=$1 hyp=$2
. "$(dirname "$0")/vm-layout.sh"
vm_layout "$arch" || { echo "refuse-dtb: unknown ARCH '$arch' (riscv64 or arm64)" >&2; exit 2; }
qemu+=(-smp 1 -nographic -monitor none)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$(dirname "$0")/guest-dtb.py" "$arch" "$work/elsewhere.dtb" --ram 0x80000000:0x40000000

failed=0
expect_refusal() {  # name, reason the console must show, extra QEMU args...
  local name=$1 reason=$2
  shift 2
  local status=0
  timeout 30 "${qemu[@]}" -kernel "$hyp" "$@" </dev/null >"$work/log" 2>&1 || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 124 ] && grep -qF "$reason" "$work/log" && grep -q '^RESULT: FAIL' "$work/log"; then
    echo "refuse-dtb: $name: refused ($reason), QEMU status $status"
  else
    echo "refuse-dtb: $name: NOT refused as expected (QEMU status $status); console:"
    tail -n 10 "$work/log"
    failed=1
  fi
}
expect_refusal "no device tree" "bad magic: not a device tree blob"
expect_refusal "memory outside the VM" "a memory node's reg range is outside the VM's RAM" \
  -device "loader,file=$work/elsewhere.dtb,addr=$dtb_at,force-raw=on"
exit $failed
