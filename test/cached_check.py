#!/usr/bin/env python3
"""A check whose verdict depends only on source files, run as a build
target (so ninja re-runs it only when one of them changed) and reported by
a test.

    cached_check.py run RESULT DEPFILE [--shared-cache ROOT] --watch PATH... -- COMMAND...
    cached_check.py report RESULT
    cached_check.py test --shared-cache ROOT --watch PATH... -- COMMAND...
    cached_check.py output OUTPUT... --shared-cache ROOT --watch PATH... -- COMMAND...

Meson makes `run` a custom target, which `meson test` builds before the
test that reports it. `run` runs COMMAND, stores its exit status and output
in RESULT, and writes a depfile naming every file under each watched PATH
(a directory is walked; the directories themselves are listed too, so
adding or removing a file re-runs the check). It succeeds whatever
COMMAND's status: a failing check is a failing test, not a broken build.
`report` prints the stored output and exits with the stored status.

What is not watched: the compilers and system headers. After upgrading
those, `ninja -C BUILD_DIR -t clean` (or a new build directory) re-runs
every check.

--shared-cache ROOT (ROOT: the source tree) also keeps a passing verdict
in a cache shared by every clone and build directory on the machine
($AXVCPU_CHECK_CACHE, default ~/.cache/axvcpu/checks; `off` disables it),
as ccache does for compiles: another clone whose watched files have the
same contents, running the same command (ROOT and the build directory
aside), on a system with the same Debian packages (dpkg-query's list,
compilers and headers included), the same PATH and the same BOOT_* and
QEMU_RUN_* environment variables (which the scripts read), reports that verdict
without running the check. Failing verdicts are never shared: they run
again. Without dpkg-query there is no shared cache. A verdict not used for
30 days is deleted when the next one is stored.

`test` is a test itself, for a check whose inputs are build products (a
QEMU test: the hypervisor and guest images; a Linux boot: also the kernel
and the initramfs): it prints a passing verdict from the shared cache when
the watched files and every file or directory of the tree or the build
directory that COMMAND names have the same contents, else runs COMMAND
and keeps its verdict if it passed. The key is taken again after a run
that passed, so files the command itself fetched (a kernel) count as what
they are. The working directory must be the build directory; of the
environment only PATH and BOOT_*/QEMU_RUN_* are in the key: pass anything
else that matters in COMMAND (`env NAME=VALUE ...`).

`output` is a build step whose OUTPUT files depend only on the watched
files and the packages (a table GNU objdump writes): when the same inputs
made them before, they are copied from the shared cache, else COMMAND makes
them and copies are kept. Every build directory of every clone shares one
copy.
"""
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

UNUSED_DAYS = 30
# The variables the example and boot scripts read (BOOT_VMM_CPU,
# QEMU_RUN_INPUT, ...): a test inherits them, so they are in the key.
KEY_ENV_PREFIXES = ("BOOT_", "QEMU_RUN_")


def watched_files(paths):
    found = set()
    for path in paths:
        if os.path.isdir(path):
            for directory, subdirs, files in os.walk(path):
                subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
                found.add(directory)
                found.update(os.path.join(directory, name) for name in files if not name.endswith(".pyc"))
        else:
            found.add(path)
    return sorted(os.path.abspath(p) for p in found)


def escape(path):
    return path.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")


@functools.cache
def installed_packages():
    """dpkg-query's list of packages and versions, once per process (a
    test's key is taken before and after its run); None without dpkg."""
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Package}=${Version}\n"], capture_output=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def run_captured(command):
    """COMMAND's exit status and its stdout and stderr, interleaved."""
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    return proc.returncode, proc.stdout


class SharedCache:
    """Passing verdicts by content: see --shared-cache above."""

    def __init__(self, root, command, files):
        self.directory = None
        location = os.environ.get("AXVCPU_CHECK_CACHE", os.path.expanduser("~/.cache/axvcpu/checks"))
        if location == "off":
            return
        packages = installed_packages()
        if packages is None:
            return
        # The build directory first: it usually lies inside the tree.
        self.places = [(os.getcwd(), "@BUILD@"), (os.path.abspath(root), "@ROOT@")]
        key = hashlib.sha256(b"axvcpu cached check 1\0")
        key.update(packages)
        key.update(os.environ.get("PATH", "").encode() + b"\0")
        for name in sorted(n for n in os.environ if n.startswith(KEY_ENV_PREFIXES)):
            key.update(f"{name}={os.environ[name]}".encode() + b"\0")
        for arg in command:
            key.update(self.neutral(arg).encode() + b"\0")
        for path in files:
            key.update(self.neutral(path).encode() + b"\0")
            if os.path.isfile(path):
                digest = hashlib.sha256()
                with open(path, "rb") as f:  # in chunks: a kernel is 30 MB
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        digest.update(chunk)
                key.update(digest.digest())
        self.directory = location
        self.entry = os.path.join(location, key.hexdigest() + ".json")

    def neutral(self, text):
        for place, name in self.places:
            text = text.replace(place, name)
        return text

    def local(self, text):
        for place, name in self.places:
            text = text.replace(name, place)
        return text

    def lookup(self, outputs=()):
        """The stored output, and each stored file copied to `outputs`; None
        if there is none (or a file of it is missing)."""
        if self.directory is None:
            return None
        try:
            with open(self.entry, encoding="utf-8") as f:
                output = self.local(json.load(f)["output"])
            for index, path in enumerate(outputs):
                temporary = f"{path}.{os.getpid()}.tmp"
                shutil.copyfile(f"{self.entry}.{index}", temporary)
                os.replace(temporary, path)
            for used in [self.entry] + [f"{self.entry}.{i}" for i in range(len(outputs))]:
                os.utime(used)  # used: kept by prune()
            return output
        except (OSError, ValueError, KeyError):
            return None

    def store(self, output, outputs=()):
        if self.directory is None:
            return
        try:  # a cache that cannot be written is only a cache missed
            os.makedirs(self.directory, exist_ok=True)
            temporary = f"{self.entry}.{os.getpid()}.tmp"
            for index, path in enumerate(outputs):
                shutil.copyfile(path, temporary)
                os.replace(temporary, f"{self.entry}.{index}")
            # The entry itself last: a lookup finds all of it or nothing.
            with open(temporary, "w", encoding="utf-8") as f:
                json.dump({"output": self.neutral(output)}, f)
            os.replace(temporary, self.entry)
            self.prune()
        except OSError:
            pass

    def prune(self):
        """Forgets the verdicts nobody has used for UNUSED_DAYS (every
        change of sources or images leaves its old entries behind)."""
        horizon = time.time() - UNUSED_DAYS * 86400
        with os.scandir(self.directory) as entries:
            for entry in entries:
                try:
                    if entry.stat().st_mtime < horizon:
                        os.remove(entry.path)
                except OSError:
                    pass  # another run removed it first


def run(argv):
    result, depfile = argv[0], argv[1]
    shared_root, watch, command = split_watch(argv[2:])
    files = watched_files(watch)
    cache = SharedCache(shared_root, command, files) if shared_root else None
    output = cache.lookup() if cache else None
    if output is not None:
        status = 0
        output += CACHED_NOTE.format("sources")
    else:
        status, output = run_captured(command)
        if cache and status == 0:
            cache.store(output)
    with open(depfile, "w", encoding="utf-8") as f:
        f.write(escape(result) + ": " + " \\\n  ".join(escape(p) for p in files) + "\n")
    # Written last and atomically: an interrupted check leaves no result,
    # so the next build runs it again.
    with open(result + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"status": status, "command": command, "output": output}, f)
    os.replace(result + ".tmp", result)
    return 0


def split_watch(rest):
    shared_root = None
    if rest[:1] == ["--shared-cache"]:
        shared_root, rest = rest[1], rest[2:]
    if rest[:1] != ["--watch"] or "--" not in rest:
        raise SystemExit(__doc__)
    sep = rest.index("--")
    return shared_root, rest[1:sep], rest[sep + 1:]


CACHED_NOTE = "(verdict from the shared check cache: the same {} passed this check before)\n"


def test_inputs(root, watch, command):
    """The watched paths, and every argument of the command that names a
    file or directory in the tree or the build directory (an image, a
    kernel directory, a script). Files elsewhere come from Debian packages,
    which the package list covers."""
    places = (os.path.abspath(root) + os.sep, os.getcwd() + os.sep)
    named = [arg for arg in command if os.path.abspath(arg).startswith(places) and os.path.exists(arg)]
    return watched_files(watch + named)


def test(argv):
    shared_root, watch, command = split_watch(argv)
    if shared_root is None:
        raise SystemExit(__doc__)
    output = SharedCache(shared_root, command, test_inputs(shared_root, watch, command)).lookup()
    if output is not None:
        sys.stdout.write(output + CACHED_NOTE.format("inputs"))
        return 0
    status, output = run_captured(command)
    sys.stdout.write(output)
    if status == 0:
        SharedCache(shared_root, command, test_inputs(shared_root, watch, command)).store(output)
    return status


def cached_outputs(argv):
    sep = argv.index("--shared-cache") if "--shared-cache" in argv else 0
    outputs, (shared_root, watch, command) = argv[:sep], split_watch(argv[sep:])
    if not outputs or shared_root is None:
        raise SystemExit(__doc__)
    cache = SharedCache(shared_root, command, watched_files(watch))
    if cache.lookup(outputs) is not None:
        print(f"{', '.join(os.path.basename(o) for o in outputs)}: from the shared check cache")
        return 0
    status = subprocess.run(command, check=False).returncode
    if status == 0:
        cache.store("", outputs)
    return status


def report(argv):
    try:
        with open(argv[0], encoding="utf-8") as f:
            stored = json.load(f)
    except FileNotFoundError:
        print(f"{argv[0]}: no result: the check has not run (meson test builds it, unless told --no-rebuild)")
        return 1
    sys.stdout.write(stored["output"])
    if stored["status"] != 0:
        print(f"(exit status {stored['status']} of: {' '.join(stored['command'])})")
    return 0 if stored["status"] == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "report":
        sys.exit(report(sys.argv[2:]))
    if len(sys.argv) >= 7 and sys.argv[1] == "output":
        sys.exit(cached_outputs(sys.argv[2:]))
    if len(sys.argv) >= 6 and sys.argv[1] == "test":
        sys.exit(test(sys.argv[2:]))
    if len(sys.argv) >= 6 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2:]))
    sys.exit(__doc__)
