#!/usr/bin/env python3
"""Every header is listed where the freestanding builds look for it: the
examples and their QEMU suites are custom targets, which rebuild only when a
listed file changes, so a missing one lets a stale hypervisor pass its tests.

- meson.build's axvcpu_headers names every include/axvcpu header;
- examples/<arch>/meson.build names every arch/<arch> header;
- README.md's layout table names every arch/<arch> header, so a reader finds
  each file and its job there.

Usage: headers_listed.py SOURCE_ROOT
"""
import os
import re
import sys

root = sys.argv[1]
problems = []


def check(where, listed, present, what):
    for name in sorted(present - listed):
        problems.append(f"{where}: does not name {what}/{name}")
    for name in sorted(listed - present):
        problems.append(f"{where}: names {what}/{name}, which does not exist")


def headers(directory):
    return {name for name in os.listdir(os.path.join(root, directory)) if name.endswith(".hpp")}


def read(path):
    return open(os.path.join(root, path), encoding="utf-8").read()


build = read("meson.build")
block = build[build.index("axvcpu_headers = files("):]
block = block[: block.index(")")]
check("meson.build axvcpu_headers", set(re.findall(r"'include/axvcpu/([^']+)'", block)), headers("include/axvcpu"),
      "include/axvcpu")

readme = read("README.md")
for arch in ("aarch64", "riscv64", "x86_64"):
    present = headers(f"arch/{arch}")
    example = os.path.join("examples", arch, "meson.build")
    if os.path.exists(os.path.join(root, example)):
        listed = set(re.findall(rf"'\.\./\.\./arch/{arch}/([^']+\.hpp)'", read(example)))
        check(example, listed, present, f"arch/{arch}")
    row = next((line for line in readme.splitlines() if line.startswith(f"| `arch/{arch}/`")), "")
    check("README.md layout table", set(re.findall(r"`([a-z0-9_]+\.hpp)`", row)), present, f"arch/{arch}")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
