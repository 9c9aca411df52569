#!/usr/bin/env bash
# Line and branch coverage of the host tests (README, "Coverage"): builds the
# host doctest suites, the objdump references and the host examples with GCC
# and gcov instrumentation, unoptimised (-Db_coverage=true,
# -Dbuildtype=debug), in their own build directory; runs suites `host` and
# `examples` there from zero counts; and prints, with gcovr, each file's
# line and branch coverage for include/axvcpu/, arch/ (the headers the host
# tests compile), policies/, examples/vmm/ and examples/host/, then checks
# the targets (test/coverage_report.py). Exits non-zero if a test fails or
# a target is missed.
#
#   test/coverage.sh                  # build/coverage
#   test/coverage.sh --all-inline     # build/coverage-all-inline, see below
#
# --all-inline also emits every inline function of each translation unit
# (-fkeep-inline-functions), also those no test calls, so their lines count
# as missed instead of being absent from the report. It reports as missed
# too what runs only at compile time (constexpr functions used only in
# static_asserts) and the entry line of each [[gnu::always_inline]]
# function (its out-of-line copy is never called). Some emitted copies
# (std::optional constructors instantiated with reflect.hpp's AnyMember)
# call a function that is declared for unevaluated use only and never
# defined, so this build links with unresolved symbols allowed, as a
# position-dependent executable (a PIE's loader refuses them); nothing
# calls those copies. Its table marks the files under target, but a miss
# does not fail the command.
#
# Also written: BUILD_DIR/coverage-summary.json (gcovr's summary) and
# BUILD_DIR/coverage-html/index.html (every line, with its count).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

dir=build/coverage
extra=()
report=()
if [ "${1:-}" = "--all-inline" ]; then
  dir=build/coverage-all-inline
  report=(--no-check)
  extra=(-Dcpp_args=-fkeep-inline-functions
         "-Dcpp_link_args=['-no-pie','-Wl,--unresolved-symbols=ignore-in-object-files']")
  shift
fi
if [ $# -ne 0 ]; then
  echo "usage: $0 [--all-inline]" >&2
  exit 2
fi

bash .ci/install-deps.sh || { echo "could not install the build's packages"; exit 1; }

setup=(-Dexamples=host --native-file .ci/gcc.ini -Dbuildtype=debug -Db_coverage=true "${extra[@]}")
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure --wrap-mode=nodownload "$dir" "${setup[@]}" >"$dir.setup.log" 2>&1
else
  mkdir -p build && meson setup --wrap-mode=nodownload "$dir" "${setup[@]}" >"$dir.setup.log" 2>&1
fi || { cat "$dir.setup.log"; exit 1; }
ninja -C "$dir" >"$dir.build.log" 2>&1 || { tail -50 "$dir.build.log"; exit 1; }

# Counts from this run only.
find "$dir" -name '*.gcda' -delete
# gcovr reads every .gcno under the build directory: drop the notes of
# objects the build no longer makes (a source renamed or regrouped into
# other units leaves its old ones, whose line numbers disagree with today's
# sources and stop gcovr).
ninja -C "$dir" -t targets all | sed -n 's/\.o: [a-zA-Z_]*$/.gcno/p' >"$dir/current-notes"
find "$dir" -name '*.gcno' | while read -r notes; do
  grep -qxF "${notes#"$dir"/}" "$dir/current-notes" || rm -f "$notes"
done
meson test -C "$dir" --suite host --suite examples --print-errorlogs >"$dir.test.log" 2>&1 || {
  tail -30 "$dir.test.log"; echo "a test failed: no coverage report"; exit 1; }
grep -E '^(Ok|Fail):' "$dir.test.log"

# Branches only the compiler's exception paths or dead code could take are
# not counted (the library has no exceptions; the tests and doctest do).
mkdir -p "$dir/coverage-html"
gcovr --root . "$dir" \
  --filter 'include/axvcpu/' --filter 'arch/' --filter 'policies/' --filter 'examples/vmm/' --filter 'examples/host/' \
  --exclude-unreachable-branches --exclude-throw-branches \
  --json-summary "$dir/coverage-summary.json" --html-details "$dir/coverage-html/index.html" || exit 1
python3 test/coverage_report.py "${report[@]}" "$dir/coverage-summary.json"
