#!/usr/bin/env bash
# The main job: installs what is missing, builds the example hypervisors and
# boots their guests, printing each exit trace.
#   host      a mini-VMM driving AxVCpu over the mock arch policy
#   aarch64   EL2 hypervisor under qemu-system-aarch64 (when present)
#   riscv64   HS-mode hypervisor under qemu-system-riscv64 (when present)
#   x86_64    SVM hypervisor under qemu-system-x86_64 (when present)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash .ci/install-deps.sh || { echo "could not install the build's packages"; exit 1; }

examples=host
arches=()
for arch in aarch64 riscv64 x86_64; do
  if [ -f "examples/$arch/meson.build" ]; then
    examples+=",$arch"
    arches+=("$arch")
  fi
done

dir=build/gcc
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure --wrap-mode=nodownload "$dir" -Dexamples="$examples" --native-file .ci/gcc.ini >/dev/null
else
  meson setup --wrap-mode=nodownload "$dir" -Dexamples="$examples" --native-file .ci/gcc.ini >/dev/null
fi
ninja -C "$dir" >/dev/null

status=0
echo "=== host: AxVCpu over the mock arch policy"
"$dir/examples/host/host_example" || status=1
for arch in "${arches[@]}"; do
  if [ -x "examples/$arch/run.sh" ]; then
    echo "=== $arch: example hypervisor under QEMU"
    "examples/$arch/run.sh" "$dir" || status=1
  fi
done
exit $status
