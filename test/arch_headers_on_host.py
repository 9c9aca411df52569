#!/usr/bin/env python3
"""README says which arch headers a host translation unit can include: each
of those must compile alone, and every other arch header must stop with its
own #error naming its target (not an assembler or register-name error).

The list is read from README.md, between <!-- begin host-includable arch
headers --> and <!-- end host-includable arch headers -->.

Usage: arch_headers_on_host.py [--together] SOURCE_ROOT WORK_DIR -- COMPILER [ARGS...]
A listed header is compiled to an object in WORK_DIR through ccache when it
is installed, so that another clone of the same tree pays nothing for it
(ccache keeps no failures: the refused headers stop at their #error, with
-Wfatal-errors).

--together (the Clang build directory's run): the listed headers compile
in one translation unit instead, each unlisted one still alone. That each
listed header is self-contained is the GCC run's proof: both compilers
read the same headers, libstdc++'s included, and no header of the library
tests which compiler reads it (checked here: no __clang__ or __GNUC__ in
include/, arch/ or policies/), so which headers a header includes, and
what they declare, is the same for Clang. What Clang adds is its own
verdict on their code, which one translation unit gives whole. One
compile instead of one per header: about 30 s of CPU less.
"""
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys


def compiler_conditionals(root):
    """Library files that test which compiler reads them."""
    found = []
    for directory in ("include", "arch", "policies"):
        for path in sorted(glob.glob(os.path.join(root, directory, "**", "*.hpp"), recursive=True)):
            if re.search(r"__clang__|__GNUC__", open(path, encoding="utf-8").read()):
                found.append(os.path.relpath(path, root))
    return found


def main() -> int:
    sep = sys.argv.index("--")
    args = sys.argv[1:sep]
    together = "--together" in args
    args = [a for a in args if a != "--together"]
    root, work, compiler = args[0], args[1], sys.argv[sep + 1:]
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
    if together:
        conditional = compiler_conditionals(root)
        failures += [f"{name} tests which compiler reads it: a header-alone run per compiler is needed"
                     for name in conditional]
        names = sorted(present - listed)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(compile_alone, names))
    if together:
        tu = os.path.join(work, "listed_together.cpp")
        with open(tu, "w", encoding="utf-8") as out:
            out.write("".join(f"#include <{name}>\n" for name in sorted(listed & present)))
        joint = subprocess.run(ccache + compiler + ["-MD", "-c", tu, "-o", tu + ".o"], capture_output=True, text=True)
        if joint.returncode != 0:
            failures.append(f"the listed headers do not compile together:\n{joint.stdout}{joint.stderr}")
        print(f"{len(listed & present)} listed headers, in one translation unit: "
              f"{'compile' if joint.returncode == 0 else 'FAIL'}")
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
