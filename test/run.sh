#!/usr/bin/env bash
# Every test: installs what is missing, then builds and runs
#   build/gcc    GCC 12, -O2: host suites, compile-fail, freestanding, install check,
#                examples and QEMU suites
#   build/clang  Clang 14 with AddressSanitizer + UBSan, unoptimised (every load and
#                store stays instrumented; Clang builds it in two thirds of GCC's time):
#                host suites and the host example, compile-fail checks, fuzz runs,
#                clang-tidy
# and prints one summary line: "N passed, N failed". No test skips on
# purpose, so a skipped one counts as failed: meson reads exit status 77 as
# a skip, and 77 is what libFuzzer exits with by default when it finds a
# crash (test/fuzz/ci.sh asks for 1).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash .ci/install-deps.sh || { echo "could not install the build's packages"; exit 1; }

examples=host
for arch in aarch64 riscv64 x86_64; do
  [ -f "examples/$arch/meson.build" ] && examples+=",$arch"
done

# ccache (the native files compile through it) rewrites paths under the
# tree as relative ones, so another clone of the same tree hits its cache.
# The sanitizer build has debug information, whose compilation directory
# ccache would otherwise hash: such a hit names the first clone's build
# directory there (the source paths in it are relative).
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
# Depend mode: ccache takes the headers a compile read from its dependency
# file (every compile here writes one) instead of running the preprocessor
# first; on a first run every compile is a miss, and those preprocessor runs
# were 6% of its CPU time (README, "Tests").
export CCACHE_DEPEND=true

passed=0 failed=0
run_suite() {  # name, meson setup args..., then "--" and meson test args
  local name=$1; shift
  local setup=() testargs=()
  while (($#)) && [ "$1" != "--" ]; do setup+=("$1"); shift; done
  (($#)) && shift
  testargs=("$@")
  local dir="build/$name"
  echo "=== $name: meson setup ${setup[*]}"
  # A directory this script configured with the same arguments is left to
  # ninja, which regenerates it when a meson.build changed; a reconfigure
  # would rewrite the build options file the install check watches. One
  # configured otherwise is made again from nothing (Meson 1.0's
  # --reconfigure ignores a changed b_sanitize or b_lundef), keeping the
  # inputs and crashes a longer fuzz run left there (test/fuzz/run.sh).
  local stamp="$dir/run-sh-setup-args"
  if [ -f "$dir/build.ninja" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${setup[*]}" ]; then
    echo "(configured with these arguments: ninja regenerates it if needed)" >"$dir.setup.log"
  else
    # (kept outside until a set-up succeeds: a failed one leaves them there
    # for the next try)
    local kept="build/.$name-fuzz-run"
    { [ ! -d "$dir/fuzz-run" ] || { rm -rf "$kept" && mv "$dir/fuzz-run" "$kept"; }; } && rm -rf "$dir" &&
      mkdir -p build && meson setup --wrap-mode=nodownload "$dir" "${setup[@]}" >"$dir.setup.log" 2>&1 &&
      { [ ! -d "$kept" ] || mv "$kept" "$dir/fuzz-run"; }
  fi || { cat "$dir.setup.log"; failed=$((failed + 1)); return; }
  echo "${setup[*]}" >"$stamp"
  if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
    tail -50 "$dir.build.log"; failed=$((failed + 1)); return
  fi
  local log="$dir.test.log"
  meson test -C "$dir" --print-errorlogs "${testargs[@]}" 2>&1 | tee "$log" | grep -E '^ *[0-9]+/[0-9]+ ' || true
  local ok xfail fail xpass skip timeout
  ok=$(awk '/^Ok:/{print $2}' "$log"); xfail=$(awk '/^Expected Fail:/{print $3}' "$log")
  fail=$(awk '/^Fail:/{print $2}' "$log"); xpass=$(awk '/^Unexpected Pass:/{print $3}' "$log")
  skip=$(awk '/^Skipped:/{print $2}' "$log"); timeout=$(awk '/^Timeout:/{print $2}' "$log")
  if [ -z "$ok" ]; then
    tail -30 "$log"; failed=$((failed + 1)); return
  fi
  passed=$((passed + ok + xfail)); failed=$((failed + fail + xpass + timeout + skip))
  if [ "${skip:-0}" -ne 0 ]; then
    echo "$dir: skipped, counted as failed (exit status 77):"
    grep -E '^ *[0-9]+/[0-9]+ .* SKIP ' "$log"
  fi
}

# A test whose tools are missing (a cross compiler, QEMU, clang-tidy,
# libFuzzer, a libc for the Linux /init) is left out by meson with a
# warning at most. One test of each suite that needs such a tool must be
# there, or the run fails saying which.
expect_tests() {  # name, tests...
  local dir="build/$1"; shift
  [ -f "$dir/build.ninja" ] || return  # its set-up failed, and was counted
  local listed test
  listed=$(meson test -C "$dir" --no-rebuild --list 2>/dev/null | sed -n 's/^[^ ]* \/ //p')
  for test in "$@"; do
    if ! grep -qxF "$test" <<<"$listed"; then
      echo "$dir: no test '$test': what it needs is not installed (.ci/install-deps.sh installs it)"
      failed=$((failed + 1))
    fi
  done
}

# -Ddebug=false: no debug information in the GCC build (a third of its
# compile time; `meson configure -Ddebug=true build/gcc` brings it back for
# a debugger). The sanitizer build keeps it for its reports.
run_suite gcc "-Dexamples=$examples" --native-file .ci/gcc.ini -Ddebug=false --
# One Clang build, with the sanitizers: Clang's diagnostics do not depend on
# the optimisation level, so a second, optimised Clang build (there was one
# until the sanitized build took its checks) ran no check this one lacks;
# dropping it saved about 95 s of CPU (the three-directory tree's clean
# run took 730 s of CPU).
run_suite clang -Dexamples=host --native-file .ci/clang.ini -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false --
expect_tests gcc freestanding_aarch64 freestanding_riscv64 freestanding_x86_64 consume_as_subproject_and_installed \
  aarch64_exits_max riscv64_exits x86_64_exits linux_vmm_arm64_max_2cpu linux_vmm_riscv64_sbi_2cpu
expect_tests clang fuzz_fdt clang_tidy ubsan_report_is_fatal host_example

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
