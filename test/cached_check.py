#!/usr/bin/env python3
"""A check whose verdict depends only on source files, run as a build
target (so ninja re-runs it only when one of them changed) and reported by
a test.

    cached_check.py run RESULT DEPFILE --watch PATH... -- COMMAND...
    cached_check.py report RESULT

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
"""
import json
import os
import subprocess
import sys


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


def run(argv):
    result, depfile = argv[0], argv[1]
    if argv[2] != "--watch" or "--" not in argv:
        raise SystemExit(__doc__)
    sep = argv.index("--")
    watch, command = argv[3:sep], argv[sep + 1:]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    with open(depfile, "w", encoding="utf-8") as f:
        f.write(escape(result) + ": " + " \\\n  ".join(escape(p) for p in watched_files(watch)) + "\n")
    # Written last and atomically: an interrupted check leaves no result,
    # so the next build runs it again.
    with open(result + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"status": proc.returncode, "command": command, "output": proc.stdout}, f)
    os.replace(result + ".tmp", result)
    return 0


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
    if len(sys.argv) >= 6 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2:]))
    sys.exit(__doc__)
