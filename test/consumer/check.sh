#!/usr/bin/env bash
# Consumption paths a downstream user has:
#   1. as a meson subproject (dependency('axvcpu') with fallback), options passed down, from a
#      project() that sets no cpp_std (the dependency carries -std=c++20);
#   2. installed with `meson install`, found through pkg-config;
#   3. the same install, found by CMake's find_package(axvcpu CONFIG) (needs cmake).
# Each consumer is built with COMPILER (the build directory's C++ compiler,
# words of a command; default c++), so a Clang build directory checks that
# the installed flags work with Clang.
# Usage: check.sh SOURCE_ROOT BUILD_DIR WORK_DIR [COMPILER...]
set -euo pipefail
src=$(realpath "$1") build=$(realpath "$2") work=$(realpath -m "$3")
shift 3
cxx=("$@")
[ ${#cxx[@]} -gt 0 ] || cxx=(c++)
echo "consumers built with: ${cxx[*]}"
rm -rf "$work" && mkdir -p "$work"
# From the work directory: run from BUILD_DIR (as ninja and meson test run
# it), the consumer's `meson setup` rewrites BUILD_DIR's .ninja_log (it runs
# ninja tools in its working directory), so the next ninja there rebuilt
# targets whose log entries it had lost.
cd "$work"

cp -r "$src/test/consumer" "$work/consumer"
mkdir -p "$work/consumer/subprojects"
ln -s "$src" "$work/consumer/subprojects/axvcpu"
CXX="${cxx[*]}" meson setup "$work/consumer/build" "$work/consumer" --wrap-mode=nodownload >"$work/setup.log" 2>&1 ||
  { cat "$work/setup.log"; exit 1; }
ninja -C "$work/consumer/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
out=$("$work/consumer/build/consumer")
echo "subproject: $out"
[ "$out" = "max_vcpus_per_vm=8 consumer ok" ]

meson install -C "$build" --destdir "$work/root" --no-rebuild >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; exit 1; }
# README: the .pc lands in <destdir><prefix>/<libdir>/pkgconfig.
options=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(options["prefix"]); print(options["libdir"]); print(options["max_vcpus_per_vm"])')
{ read -r prefix; read -r libdir; read -r max_vcpus; } <<<"$options"
pc="$work/root$prefix/$libdir/pkgconfig/axvcpu.pc"
[ -f "$pc" ] || { echo "no axvcpu.pc at $pc; installed: $(find "$work/root" -name '*.pc')"; exit 1; }
echo "installed .pc: ${pc#"$work/root"}"
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$work/root" pkg-config --cflags axvcpu)
echo "pkg-config --cflags axvcpu: $cflags"
# shellcheck disable=SC2086
"${cxx[@]}" $cflags -Wall -Wextra -Wpedantic -Werror "$src/test/consumer/main.cpp" -o "$work/installed-consumer"
out=$("$work/installed-consumer")
echo "installed: $out"
case "$out" in *"consumer ok") ;; *) exit 1 ;; esac

# README: the CMake package lands in <destdir><prefix>/<libdir>/cmake/axvcpu; CMake
# finds it from CMAKE_PREFIX_PATH=<destdir><prefix>, and the target carries the
# include directories, C++20 and the defines (cmake/main.cpp checks each).
command -v cmake >/dev/null ||
  { echo "cmake not found: the CMake package cannot be checked (.ci/install-deps.sh installs cmake)"; exit 1; }
# CMake takes the compiler's first word as the compiler, the rest as flags.
cmake_cxx=(-DCMAKE_CXX_COMPILER="$(command -v "${cxx[0]}")" -DCMAKE_CXX_FLAGS="${cxx[*]:1}")
# wanted: the project's major.minor; newer: the next minor, which the version file
# (axvcpuConfigVersion.cmake) must refuse.
{ read -r wanted; read -r newer; } <<<"$(meson introspect "$build" --projectinfo | python3 -c '
import json, sys
major, minor = json.load(sys.stdin)["version"].split(".")[:2]
print(f"{major}.{minor}"); print(f"{major}.{int(minor) + 1}")')"
cmake -S "$work/consumer/cmake" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/root$prefix" "${cmake_cxx[@]}" \
  -Daxvcpu_wanted="$wanted" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
found=$(sed -n 's/^axvcpu_DIR:PATH=//p' "$work/cmake-build/CMakeCache.txt")
echo "find_package(axvcpu $wanted CONFIG REQUIRED): ${found#"$work/root"}"
[ "$found" = "$work/root$prefix/$libdir/cmake/axvcpu" ] || { echo "not the staged package"; exit 1; }
cmake --build "$work/cmake-build" >"$work/cmake-build.log" 2>&1 || { cat "$work/cmake-build.log"; exit 1; }
out=$("$work/cmake-build/consumer")
echo "cmake: $out"
[ "$out" = "max_vcpus_per_vm=$max_vcpus consumer ok" ]
if cmake -S "$work/consumer/cmake" -B "$work/cmake-newer" -DCMAKE_PREFIX_PATH="$work/root$prefix" "${cmake_cxx[@]}" \
  -Daxvcpu_wanted="$newer" >"$work/cmake-newer.log" 2>&1; then
  echo "find_package(axvcpu $newer CONFIG REQUIRED) accepted the installed $wanted"; exit 1
fi
grep -q "requested version \"$newer\"" "$work/cmake-newer.log" ||
  { cat "$work/cmake-newer.log"; exit 1; }
echo "find_package(axvcpu $newer CONFIG REQUIRED): refused"
