#!/usr/bin/env bash
# Runs libFuzzer harnesses of a Clang build directory one after another,
# each for SECONDS (default 10) or for N executions (--runs N), with inputs
# of at most L bytes if --max-len L is given (libFuzzer's -max_len; by
# default it picks 4096 or the longest seed), and prints
# the executions per target from libFuzzer's final stats. TARGETs name the
# harnesses to run (default: all). New inputs go to
# BUILD_DIR/fuzz-run/<target>/corpus (kept between runs, so a longer
# campaign continues where the last stopped), crashes to
# BUILD_DIR/fuzz-run/<target>/crash-*. Exits non-zero if any harness found
# a crash or a violated invariant.
#   test/fuzz/run.sh build/clang 60
#   test/fuzz/run.sh build/clang --runs 10000000 aarch64_decode devices
#   test/fuzz/run.sh build/clang --runs 10000000 --max-len 128 riscv64_vplic
set -uo pipefail
usage="usage: $0 BUILD_DIR [SECONDS | --runs N] [--max-len L] [TARGET...]"
if [ $# -lt 1 ]; then
  echo "$usage" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
shift
limit=(-max_total_time=10)
if [ $# -ge 2 ] && [ "$1" = --runs ]; then
  limit=(-runs="$2")
  shift 2
elif [ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  limit=(-max_total_time="$1")
  shift
fi
if [ $# -ge 2 ] && [ "$1" = --max-len ]; then
  limit+=(-max_len="$2")
  shift 2
fi
here=$(cd "$(dirname "$0")" && pwd)
targets=(aarch64_decode riscv64_decode riscv64_sbi riscv64_vplic aarch64_vgic devices fdt x86_64_decode x86_64_paging
  x86_64_features x86_64_vmcs)
if [ $# -gt 0 ]; then targets=("$@"); fi
failed=0
printf '%-16s %12s %10s %8s %s\n' target executions exec/s seconds result
for t in "${targets[@]}"; do
  exe=$build/test/fuzz/fuzz_$t
  if [ ! -x "$exe" ]; then
    echo "$exe is missing: configure BUILD_DIR with Clang (see README) and run ninja" >&2
    exit 2
  fi
  work=$build/fuzz-run/$t
  mkdir -p "$work/corpus"
  log=$work/last.log
  start=$(date +%s)
  "$exe" "${limit[@]}" -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" "$here/corpus/$t" >"$log" 2>&1
  status=$?
  runs=$(awk -F: '/stat::number_of_executed_units/{gsub(/ /,"",$NF); print $NF}' "$log")
  rate=$(awk -F: '/stat::average_exec_per_sec/{gsub(/ /,"",$NF); print $NF}' "$log")
  result=ok
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status, log $log)"
    grep -m1 -E 'invariant violated|ERROR: ' "$log" >&2
    failed=1
  fi
  printf '%-16s %12s %10s %8s %s\n' "$t" "${runs:-?}" "${rate:-?}" "$(($(date +%s) - start))" "$result"
done
exit "$failed"
