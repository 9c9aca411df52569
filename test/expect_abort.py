#!/usr/bin/env python3
"""Passes only if PROGRAM dies by SIGABRT (not by another signal or exit code).

    expect_abort.py [--stderr-has TEXT] PROGRAM [ARGS...]

With --stderr-has, the program's standard error must also contain TEXT (the
message that says why it stopped).
"""
import signal
import subprocess
import sys

args = sys.argv[1:]
expected = None
if args[:1] == ["--stderr-has"]:
    expected, args = args[1], args[2:]
result = subprocess.run(args, stderr=subprocess.PIPE, text=True)
sys.stderr.write(result.stderr)
if result.returncode != -signal.SIGABRT:
    print(f"{args[0]}: expected death by SIGABRT, got status {result.returncode}")
    sys.exit(1)
if expected is not None and expected not in result.stderr:
    print(f"{args[0]}: died by SIGABRT, but its standard error lacks {expected!r}")
    sys.exit(1)
