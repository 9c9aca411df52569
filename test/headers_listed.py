#!/usr/bin/env python3
"""meson.build's axvcpu_headers must name every public header: the
freestanding examples rebuild only when a listed file changes, so a missing
one lets a stale hypervisor pass its tests.

Usage: headers_listed.py SOURCE_ROOT
"""
import os
import re
import sys

root = sys.argv[1]
build = open(os.path.join(root, "meson.build"), encoding="utf-8").read()
block = build[build.index("axvcpu_headers = files("):]
block = block[: block.index(")")]
listed = set(re.findall(r"'include/axvcpu/([^']+)'", block))
present = {name for name in os.listdir(os.path.join(root, "include", "axvcpu")) if name.endswith(".hpp")}
missing, stale = sorted(present - listed), sorted(listed - present)
for name in missing:
    print(f"meson.build: axvcpu_headers lacks include/axvcpu/{name}")
for name in stale:
    print(f"meson.build: axvcpu_headers names include/axvcpu/{name}, which does not exist")
sys.exit(1 if missing or stale else 0)
