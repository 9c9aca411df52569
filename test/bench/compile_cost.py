#!/usr/bin/env python3
"""Benchmark (not a test): how long the headers take to compile.

Compiles, N times each, an empty translation unit and compile_cost_vcpu.cpp
(<axvcpu/axvcpu.hpp>, the mock policies and one AxVCpu driven through its
life cycle) with the flags meson gives a host target: -std=c++20 -O2, the
two include directories, the configuration defines and the warning flags.
Prints the median wall and CPU (user + system) time of each and the
differences, then (with
--headers) the same for a TU holding nothing but one public header.

    test/bench/compile_cost.py [--runs N] [--headers] [--instructions] [--cxx g++] [-- EXTRA FLAGS]

Timings move with the machine's load: read the medians, and compare figures
taken on the same machine at the same time. --instructions also counts the
instructions the compiler proper executes (valgrind's cachegrind, one run
each): the same on every run, so it shows small changes the times hide.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# meson.build's defaults, as config_args passes them.
CONFIG = ["-DAXVCPU_MAX_VCPUS_PER_VM=64", "-DAXVCPU_INTERRUPT_QUEUE_DEPTH=32",
          "-DAXVCPU_GIC_VERSION=3", "-DAXVCPU_TRAP_WFI=1"]


def flags(extra):
    return (["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
             "-I" + str(ROOT / "include"), "-I" + str(ROOT)] + CONFIG + extra)


def time_compile(cxx, source, args, runs, out):
    """Median wall time and median CPU time (user + system) of RUNS compiles."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([cxx] + args + ["-c", str(source), "-o", out], check=True)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(wall), statistics.median(cpu)


def instructions(cxx, source, args, out):
    """Instructions the compiler proper (cc1plus) executes, in millions."""
    run = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
                          "--cachegrind-out-file=/dev/null", cxx] + args + ["-c", str(source), "-o", out],
                         check=True, capture_output=True, text=True)
    counts = [int(n.replace(",", "")) for n in re.findall(r"I\s+refs:\s+([\d,]+)", run.stderr)]
    return max(counts) / 1e6


def row(label, t, base):
    return (f"{label:<34} {t[0]:6.2f} s {t[1]:6.2f} s" if base is None else
            f"{label:<34} {t[0]:6.2f} s {t[1]:6.2f} s   +{t[0] - base[0]:.2f} s wall, +{t[1] - base[1]:.2f} s CPU")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="compiles per TU (median taken; default 7)")
    parser.add_argument("--headers", action="store_true", help="also time each public header alone")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (needs valgrind)")
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("extra", nargs="*", help="extra compiler flags (after --)")
    opts = parser.parse_args()
    args = flags(opts.extra)

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "tu.o")
        empty = Path(tmp) / "empty.cpp"
        empty.write_text("")
        base = time_compile(opts.cxx, empty, args, opts.runs, out)
        vcpu = time_compile(opts.cxx, HERE / "compile_cost_vcpu.cpp", args, opts.runs, out)
        print(f"compile time, median of {opts.runs} ({opts.cxx} {' '.join(args[:2])}), wall and CPU (user + sys)")
        print(row("empty TU", base, None))
        print(row("axvcpu.hpp + mock AxVCpu", vcpu, base))
        if opts.instructions:
            base_ir = instructions(opts.cxx, empty, args, out)
            vcpu_ir = instructions(opts.cxx, HERE / "compile_cost_vcpu.cpp", args, out)
            print(f"instructions: empty TU {base_ir:.0f} M, axvcpu.hpp + mock AxVCpu {vcpu_ir:.0f} M")
        if opts.headers:
            print("each public header alone, over the empty TU:")
            for header in sorted((ROOT / "include" / "axvcpu").glob("*.hpp")):
                tu = Path(tmp) / (header.stem + ".cpp")
                tu.write_text(f"#include <axvcpu/{header.name}>\n")
                t = time_compile(opts.cxx, tu, args, opts.runs, out)
                print(row("  axvcpu/" + header.name, t, base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
