#!/usr/bin/env python3
"""Builds one freestanding image the way a single compiler call would, but
one object per source and through ccache when it is installed, so a clean
build of sources this machine has compiled before takes the objects from
ccache's cache.

    cross_build.py CXX ARGS...

ARGS are what `CXX ARGS...` would take: flags, sources (.cpp, .c, .S) and
link options. Each source is compiled with the flags alone (`-c`, without
`-o`, `-T`, `-Wl,` and `-l` options), in parallel, into a temporary
directory; then CXX links the objects with ARGS, the sources replaced by
their objects. A `-c` call is passed on (through ccache), and a call with
no source (a link of objects) as it is.
"""
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE_SUFFIXES = (".cpp", ".cc", ".c", ".S")
TAKES_VALUE = {"-o", "-T", "-include", "-MF", "-MT", "-MQ", "-x"}
# A dependency file beside each object, which nothing reads but ccache: with
# one it can run in depend mode (CCACHE_DEPEND, set by test/run.sh), where a
# cache miss costs no extra preprocessor run.
DEPFILE = ["-MD"]


def split(args):
    """(indices of the sources, the flags for compiling them)."""
    sources, flags = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in TAKES_VALUE:
            if arg not in ("-o", "-T"):
                flags += args[i:i + 2]
            i += 2
            continue
        if arg.endswith(SOURCE_SUFFIXES) and not arg.startswith("-") and os.path.isfile(arg):
            sources.append(i)
        elif not arg.startswith(("-Wl,", "-l")):
            flags.append(arg)
        i += 1
    return sources, flags


def run(command):
    proc = subprocess.run(command, check=False)
    return proc.returncode


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cxx, args = sys.argv[1], sys.argv[2:]
    ccache = [shutil.which("ccache")] if shutil.which("ccache") else []
    sources, flags = split(args)
    if "-c" in args:
        return run(ccache + [cxx] + args + DEPFILE)
    if not sources:
        return run([cxx] + args)
    with tempfile.TemporaryDirectory(prefix="cross_build.") as work:
        # One directory per source: two sources may share a base name.
        objects = {i: os.path.join(work, str(n), os.path.basename(args[i]) + ".o") for n, i in enumerate(sources)}
        for path in objects.values():
            os.mkdir(os.path.dirname(path))
        compiles = [ccache + [cxx] + flags + DEPFILE + ["-c", args[i], "-o", objects[i]] for i in sources]
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            statuses = list(pool.map(run, compiles))
        failed = next((s for s in statuses if s != 0), 0)
        if failed:
            return failed
        return run([cxx] + [objects.get(i, arg) for i, arg in enumerate(args)])


if __name__ == "__main__":
    sys.exit(main())
