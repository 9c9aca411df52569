#!/usr/bin/env bash
# Replays a recorded crash of a known, reported deviation (test/fuzz/crashes/)
# with the harness's known checks on (AXVCPU_FUZZ_KNOWN=1), and passes only
# while it still fails with the expected invariant: HARNESS INPUT MESSAGE.
# Once the library is fixed this test fails, asking for the input to move to
# the seed corpus and the check to be made unconditional.
set -u
harness=$1 input=$2 message=$3
out=$(AXVCPU_FUZZ_KNOWN=1 "$harness" "$input" 2>&1) && status=0 || status=$?
if [ "$status" -ne 0 ] && grep -qF "invariant violated: $message" <<<"$out"; then
  echo "known deviation still reproduces: $message"
  exit 0
fi
echo "$out" | tail -20
echo "the known deviation ($input) no longer reproduces as expected (exit $status):"
echo "if the library was fixed, make the check unconditional and move the input to the seed corpus"
exit 1
