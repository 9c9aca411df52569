#!/usr/bin/env python3
"""README says which arch headers a host translation unit can include: each
of those must compile alone, and every other arch header must stop with its
own #error naming its target (not an assembler or register-name error).

The list is read from README.md, between <!-- begin host-includable arch
headers --> and <!-- end host-includable arch headers -->.

Usage: arch_headers_on_host.py SOURCE_ROOT WORK_DIR -- COMPILER [ARGS...]
A listed header is compiled to an object in WORK_DIR through ccache when it
is installed, so that another clone of the same tree pays nothing for it
(ccache keeps no failures: the refused headers stop at their #error, with
-Wfatal-errors).
"""
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys


def main() -> int:
    sep = sys.argv.index("--")
    root, work, compiler = sys.argv[1], sys.argv[2], sys.argv[sep + 1:]
    os.makedirs(work, exist_ok=True)
    ccache = [shutil.which("ccache")] if shutil.which("ccache") else []
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    begin = readme.index("<!-- begin host-includable arch headers -->")
    block = readme[begin:readme.index("<!-- end host-includable arch headers -->")]
    listed = set(re.findall(r"arch/(?:aarch64|riscv64|x86_64)/[a-z0-9_]+\.hpp", block))
    present = {os.path.relpath(path, root) for path in glob.glob(os.path.join(root, "arch", "*", "*.hpp"))}
    failures = [f"README lists {name}, which does not exist" for name in sorted(listed - present)]
    # One run per CPU.
    def compile_alone(name):
        tu = os.path.join(work, name.replace("/", "_").removesuffix(".hpp") + ".cpp")
        with open(tu, "w", encoding="utf-8") as out:
            out.write(f"#include <{name}>\n")
        # A header to be refused stops at its #error (-Wfatal-errors): GCC
        # would otherwise go on through the rest of the header.
        # (-MD: a dependency file, so that ccache can run in depend mode,
        # CCACHE_DEPEND in test/run.sh, without a preprocessor run on a miss.)
        command = ccache + compiler + ["-MD"] if name in listed else compiler + ["-Wfatal-errors"]
        return subprocess.run(command + ["-c", tu, "-o", tu + ".o"], capture_output=True, text=True)
    names = sorted(present)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(compile_alone, names))
    for name, proc in zip(names, results):
        output = proc.stdout + proc.stderr
        first = next((line for line in output.splitlines() if "rror" in line), "")
        if name in listed:
            verdict = "compiles" if proc.returncode == 0 else f"FAILS: {first}"
            if proc.returncode != 0:
                failures.append(f"{name} is listed as host-includable but does not compile:\n{output}")
        else:
            own_error = proc.returncode != 0 and "is for" in first and "targets" in first
            verdict = f"refused: {first}" if own_error else f"NOT REFUSED BY ITS OWN #error: {first or 'compiled'}"
            if not own_error:
                failures.append(f"{name} is not listed, but it does not stop with its own #error:\n{output}")
        print(f"{name}: {verdict}")
    for failure in failures:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
