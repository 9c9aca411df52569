#!/usr/bin/env python3
"""Passes only if PROGRAM dies by SIGABRT (not by another signal or exit code)."""
import signal
import subprocess
import sys

result = subprocess.run(sys.argv[1:])
if result.returncode != -signal.SIGABRT:
    print(f"{sys.argv[1]}: expected death by SIGABRT, got status {result.returncode}")
    sys.exit(1)
