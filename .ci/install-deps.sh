#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the QEMU examples
# need, if any is missing. Run by examples/run.sh and test/run.sh.
set -euo pipefail

# libc6-dev-*-cross link the Linux guests' static /init (examples/linux);
# device-tree-compiler builds those guests' device trees. cmake builds the
# consumer of the installed CMake package (test/consumer/cmake).
# binutils-riscv64-linux-gnu (riscv64-linux-gnu-objdump, also pulled in by
# g++-riscv64-linux-gnu) is the reference of test/riscv64/objdump_reference.
# gcovr prints test/coverage.sh's figures; clang-tidy runs test clang_tidy.
# ccache: the native files (.ci/*.ini) compile through it. pkgconf
# (pkg-config) reads the installed axvcpu.pc in the install check.
axvcpu_packages=(meson ninja-build ccache pkgconf g++ clang lld libclang-rt-14-dev clang-tidy python3 libboost-dev doctest-dev cmake gcovr
  g++-aarch64-linux-gnu g++-riscv64-linux-gnu binutils-riscv64-linux-gnu
  qemu-system-arm qemu-system-misc qemu-system-x86
  libc6-dev-arm64-cross libc6-dev-riscv64-cross device-tree-compiler)

axvcpu_missing=()
for pkg in "${axvcpu_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || axvcpu_missing+=("$pkg")
done
if ((${#axvcpu_missing[@]})); then
  echo "installing: ${axvcpu_missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${axvcpu_missing[@]}" >/dev/null
fi
