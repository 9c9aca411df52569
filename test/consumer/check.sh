#!/usr/bin/env bash
# Consumption paths a downstream user has:
#   1. as a meson subproject (dependency('axvcpu') with fallback), options passed down, from a
#      project() that sets no cpp_std (the dependency carries -std=c++20);
#   2. installed with `meson install`, found through pkg-config.
# Usage: check.sh SOURCE_ROOT BUILD_DIR WORK_DIR
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work" && mkdir -p "$work"

cp -r "$src/test/consumer" "$work/consumer"
mkdir -p "$work/consumer/subprojects"
ln -s "$src" "$work/consumer/subprojects/axvcpu"
meson setup "$work/consumer/build" "$work/consumer" --wrap-mode=nodownload >"$work/setup.log" 2>&1 ||
  { cat "$work/setup.log"; exit 1; }
ninja -C "$work/consumer/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
out=$("$work/consumer/build/consumer")
echo "subproject: $out"
[ "$out" = "max_vcpus_per_vm=8 consumer ok" ]

meson install -C "$build" --destdir "$work/root" --no-rebuild >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; exit 1; }
# README: the .pc lands in <destdir><prefix>/<libdir>/pkgconfig.
where=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(options["prefix"] + "/" + options["libdir"] + "/pkgconfig")')
pc="$work/root$where/axvcpu.pc"
[ -f "$pc" ] || { echo "no axvcpu.pc at $pc; installed: $(find "$work/root" -name '*.pc')"; exit 1; }
echo "installed .pc: ${pc#"$work/root"}"
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$work/root" pkg-config --cflags axvcpu)
echo "pkg-config --cflags axvcpu: $cflags"
# shellcheck disable=SC2086
c++ $cflags -Wall -Wextra -Wpedantic -Werror "$src/test/consumer/main.cpp" -o "$work/installed-consumer"
out=$("$work/installed-consumer")
echo "installed: $out"
case "$out" in *"consumer ok") ;; *) exit 1 ;; esac
