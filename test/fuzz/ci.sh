#!/usr/bin/env bash
# One harness's CI run (suite fuzz): HARNESS SEEDS WORKDIR SECONDS RUNS.
# New inputs and any crash go to WORKDIR (in the build directory), never to
# the committed seed directory. Exits 1 on a crash or a violated invariant
# (the harness aborts), which fails the test: libFuzzer's own status for
# that, 77, would read as a skip to meson.
set -eu
harness=$1 seeds=$2 work=$3 seconds=$4 runs=$5
mkdir -p "$work/corpus"
exec "$harness" -max_total_time="$seconds" -runs="$runs" -error_exitcode=1 -artifact_prefix="$work/" -print_final_stats=1 \
  "$work/corpus" "$seeds"
