#!/usr/bin/env python3
"""README says which arch headers a host translation unit can include: each
of those must compile alone, and every other arch header must stop with its
own #error naming its target (not an assembler or register-name error).

The list is read from README.md, between <!-- begin host-includable arch
headers --> and <!-- end host-includable arch headers -->.

Usage: arch_headers_on_host.py [--together GCC] SOURCE_ROOT WORK_DIR -- COMPILER [ARGS...]
A listed header is compiled to an object in WORK_DIR through ccache when it
is installed, so that another clone of the same tree pays nothing for it
(ccache keeps no failures: the refused headers stop at their #error, with
-Wfatal-errors).

--together GCC (the Clang build directory's run, GCC naming the g++ of
the GCC build directory, whose own run proves each listed header
self-contained): the listed headers compile in one translation unit
instead, each unlisted one still alone, and for each listed header this
run checks what makes GCC's proof hold for Clang:
- every file GCC's preprocessor reads for the header alone, Clang's reads
  too (`-M`, both realpath'ed), apart from each compiler's own headers
  (GCC's `-print-file-name=include`) and Boost.Config's per-compiler file
  (boost/config/compiler/), which the other compiler has its own of;
- no header under include/, arch/ or policies/ tests which compiler or
  which compiler features it meets (__clang*, __GNUC*, __GNUG__,
  __llvm__, __has_feature/builtin/extension/attribute, BOOST_CLANG/GCC).
What is left is code inside a shared file (libstdc++, Boost) that a
compiler test changes; the one translation unit is Clang's verdict on the
headers' own code.
"""
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys


COMPILER_TEST = re.compile(r"__clang|__GNU[CG]|__llvm__|__has_(?:feature|builtin|extension|attribute)|BOOST_(?:CLANG|GCC)")


def compiler_conditionals(root):
    """Library files that test which compiler reads them."""
    found = []
    for directory in ("include", "arch", "policies"):
        for path in sorted(glob.glob(os.path.join(root, directory, "**", "*.hpp"), recursive=True)):
            if COMPILER_TEST.search(open(path, encoding="utf-8").read()):
                found.append(os.path.relpath(path, root))
    return found


def files_read(command, tu):
    """The files the preprocessor reads for `tu` (realpath'ed), or None."""
    proc = subprocess.run(command + ["-M", tu], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    words = proc.stdout.replace("\\\n", " ").split()[1:]  # after "target.o:"
    return {os.path.realpath(w) for w in words}


def header_tu(work, name):
    """A translation unit in `work` that includes header `name` alone."""
    tu = os.path.join(work, name.replace("/", "_").removesuffix(".hpp") + ".cpp")
    with open(tu, "w", encoding="utf-8") as out:
        out.write(f"#include <{name}>\n")
    return tu


def clang_proof(gcc, clang, root, work, headers, ccache, pool):
    """The --together checks (module docstring) for `headers`; their
    failures. `clang` is the whole compiler command; GCC gets the same
    arguments."""
    failures = [f"{name} tests which compiler reads it: a header-alone run per compiler is needed"
                for name in compiler_conditionals(root)]
    own = os.path.realpath(subprocess.run([gcc, "-print-file-name=include"], capture_output=True,
                                          text=True).stdout.strip()) + os.sep

    def missed_by_clang(name):
        """What GCC's preprocessor reads for the header alone and Clang's
        does not, GCC's own headers and Boost.Config's per-compiler file
        aside."""
        tu = header_tu(work, name)
        by_gcc, by_clang = files_read([gcc] + clang[1:], tu), files_read(clang, tu)
        if by_gcc is None or by_clang is None:
            return ["(a -M run failed)"]
        return sorted(f for f in by_gcc - by_clang if not f.startswith(own) and "/boost/config/compiler/" not in f)

    missed = list(pool.map(missed_by_clang, headers))
    for name, files in zip(headers, missed):
        if files:
            failures.append(f"{name}: alone, Clang's preprocessor does not read what GCC's does, so GCC's "
                            f"header-alone run proves nothing for Clang:\n  " + "\n  ".join(files))
    print(f"{len(headers)} listed headers: alone, Clang's preprocessor reads every file GCC's does "
          f"(compilers' own headers aside): {'yes' if not any(missed) else 'NO'}")
    tu = os.path.join(work, "listed_together.cpp")
    with open(tu, "w", encoding="utf-8") as out:
        out.write("".join(f"#include <{name}>\n" for name in headers))
    joint = subprocess.run(ccache + clang + ["-MD", "-c", tu, "-o", tu + ".o"], capture_output=True, text=True)
    if joint.returncode != 0:
        failures.append(f"the listed headers do not compile together:\n{joint.stdout}{joint.stderr}")
    print(f"{len(headers)} listed headers, in one translation unit: {'compile' if joint.returncode == 0 else 'FAIL'}")
    return failures


def main() -> int:
    if "--" not in sys.argv or len(sys.argv[1:sys.argv.index("--")]) not in (2, 4):
        print("usage: arch_headers_on_host.py [--together GCC] SOURCE_ROOT WORK_DIR -- COMPILER [ARGS...]", file=sys.stderr)
        return 2
    sep = sys.argv.index("--")
    args = sys.argv[1:sep]
    gcc = None
    if "--together" in args:
        i = args.index("--together")
        gcc = args[i + 1]
        del args[i:i + 2]
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
        tu = header_tu(work, name)
        # A header to be refused stops at its #error (-Wfatal-errors): GCC
        # would otherwise go on through the rest of the header.
        # (-MD: a dependency file, so that ccache can run in depend mode,
        # CCACHE_DEPEND in test/run.sh, without a preprocessor run on a miss.)
        command = ccache + compiler + ["-MD"] if name in listed else compiler + ["-Wfatal-errors"]
        return subprocess.run(command + ["-c", tu, "-o", tu + ".o"], capture_output=True, text=True)
    # With --together only the unlisted headers are compiled alone.
    names = sorted(present - listed if gcc else present)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(compile_alone, names))
        if gcc:
            failures += clang_proof(gcc, compiler, root, work, sorted(listed & present), ccache, pool)
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
