#!/usr/bin/env python3
"""cached_check_test.py CACHED_CHECK: what test/cached_check.py promises,
checked in a scratch tree, build directory and shared cache: a passing
verdict comes back from the cache for the same inputs without running the
command (saying so), a changed input or command runs it again, a failing
verdict is never kept, a file the command fetched counts after its run,
AXVCPU_CHECK_CACHE=off runs every time, inherited BOOT_* variables and
watched directories are in the key, another clone at another path hits,
verdicts unused for 30 days are
pruned, `run` gets a deleted result back from the cache, and `output`
restores a generator's files."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

script = os.path.abspath(sys.argv[1])
failures = []


def check(what, condition):
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}")


with tempfile.TemporaryDirectory() as scratch:
    root, build, runs = (os.path.join(scratch, name) for name in ("tree", "tree/build", "runs"))
    os.makedirs(build)
    image = os.path.join(build, "image.bin")
    with open(image, "w", encoding="utf-8") as f:
        f.write("first image")
    env = dict(os.environ, AXVCPU_CHECK_CACHE=os.path.join(scratch, "cache"))

    def cached_test(*command, status=0, extra_env=None):
        """Runs `cached_check.py test` on a command that counts its runs in
        RUNS (outside the tree: not an input) and exits with `status`."""
        shell = f'echo run >> "{runs}"; echo "output of $0 $*"; exit {status}'
        proc = subprocess.run([sys.executable, script, "test", "--shared-cache", root, "--watch", script, "--",
                               "sh", "-c", shell] + list(command), cwd=build, capture_output=True, text=True,
                              env=dict(env, **(extra_env or {})), check=False)
        return proc.returncode, proc.stdout

    def run_count():
        with open(runs, encoding="utf-8") as f:
            return len(f.readlines())

    status, out = cached_test(image)
    check("a first run runs the command and passes", status == 0 and run_count() == 1 and "output of" in out)
    status, out = cached_test(image)
    check("the same inputs: the verdict from the cache, the command not run",
          status == 0 and run_count() == 1 and "output of" in out and "shared check cache" in out)
    with open(image, "w", encoding="utf-8") as f:
        f.write("second image")
    cached_test(image)
    check("a changed input named in the command runs it again", run_count() == 2)
    cached_test(image, "other-argument")
    check("a changed command runs it again", run_count() == 3)
    status, _ = cached_test(image, status=1)
    status_again, out = cached_test(image, status=1)
    check("a failing verdict is never kept", status == 1 and status_again == 1 and run_count() == 5 and
          "shared check cache" not in out)
    cached_test(image, extra_env={"AXVCPU_CHECK_CACHE": "off"})
    cached_test(image, extra_env={"AXVCPU_CHECK_CACHE": "off"})
    check("AXVCPU_CHECK_CACHE=off runs every time", run_count() == 7)
    cached_test(image, extra_env={"BOOT_VMM_CPU": "cortex-a57"})
    cached_test(image, extra_env={"BOOT_VMM_CPU": "cortex-a57"})
    check("an inherited BOOT_* variable is in the key", run_count() == 8)

    # A file of a watched directory (the scripts a test sources).
    scripts = os.path.join(root, "scripts")
    os.makedirs(scripts)
    with open(os.path.join(scripts, "verdict.sh"), "w", encoding="utf-8") as f:
        f.write("first")

    def sourcing_test():
        subprocess.run([sys.executable, script, "test", "--shared-cache", root, "--watch", scripts, "--",
                        "sh", "-c", f'echo run >> "{runs}"'], cwd=build, env=env, check=False, capture_output=True)
    before = run_count()
    sourcing_test()
    sourcing_test()
    with open(os.path.join(scripts, "verdict.sh"), "w", encoding="utf-8") as f:
        f.write("second")
    sourcing_test()
    check("a changed file in a watched directory runs it again", run_count() == before + 2)

    # Another clone of the same tree at another path hits (the tree's and
    # the build directory's paths are not in the key).
    clone = os.path.join(scratch, "clone")
    shutil.copytree(root, clone)
    before = run_count()
    subprocess.run([sys.executable, script, "test", "--shared-cache", clone, "--watch", os.path.join(clone, "scripts"),
                    "--", "sh", "-c", f'echo run >> "{runs}"'], cwd=os.path.join(clone, "build"), env=env,
                   check=False, capture_output=True)
    check("a clone at another path gets the verdict", run_count() == before)

    # A command that fetches an input it names (a kernel directory): the
    # key is taken again after the run, so the next run finds the verdict.
    fetched = os.path.join(build, "kernels")
    fetch = f'mkdir -p "{fetched}"; echo kernel > "{fetched}/Image"; echo run >> "{runs}"'
    before = run_count()
    for _ in range(2):
        subprocess.run([sys.executable, script, "test", "--shared-cache", root, "--watch", script, "--",
                        "sh", "-c", fetch, fetched], cwd=build, env=env, check=False, capture_output=True)
    check("a directory the command fetched counts as fetched", run_count() == before + 1)

    # A verdict unused for longer than the cache keeps one is deleted when
    # the next is stored; a used one is kept however old it was.
    cache = env["AXVCPU_CHECK_CACHE"]
    stale = os.path.join(cache, "stale.json")
    with open(stale, "w", encoding="utf-8") as f:
        f.write('{"output": ""}')
    entries = sorted(os.path.join(cache, name) for name in os.listdir(cache) if name != "stale.json")
    old = time.time() - 40 * 86400
    for path in entries + [stale]:
        os.utime(path, (old, old))
    cached_test(image)  # a hit: its entry is used again
    cached_test(image, "a new command")  # a store: prunes
    left = set(os.listdir(cache))
    check("a verdict unused for 30 days is pruned, a used one kept",
          "stale.json" not in left and sum(os.path.basename(p) in left for p in entries) == 1)

    # `output`: files made by a generator come back from the cache into
    # any build directory; a failed generator leaves nothing in it.
    table = os.path.join(build, "table.txt")
    generator = os.path.join(root, "generator.sh")
    with open(generator, "w", encoding="utf-8") as f:
        f.write(f'echo run >> "{runs}"; echo "table of $2" > "$1"\n')

    def generate(into, status=0):
        tail = [] if status == 0 else ["; exit 1"]
        return subprocess.run([sys.executable, script, "output", into, "--shared-cache", root, "--watch", generator,
                               "--", "sh", "-c", f'sh "{generator}" "$0" "$1"' + "".join(tail), into, "one"],
                              cwd=build, env=env, check=False, capture_output=True, text=True)
    before = run_count()
    first = generate(table)
    os.remove(table)
    second = generate(table)
    with open(table, encoding="utf-8") as f:
        restored = f.read()
    check("output: a deleted output comes back from the cache without running the generator",
          first.returncode == 0 and second.returncode == 0 and run_count() == before + 1 and
          restored == "table of one\n" and "from the shared check cache" in second.stdout)
    with open(generator, "a", encoding="utf-8") as f:
        f.write("# changed\n")
    generate(table)
    check("output: a changed generator runs again", run_count() == before + 2)
    failed = generate(table, status=1)
    failed_again = generate(table, status=1)
    check("output: a failing generator is not kept",
          failed.returncode == 1 and failed_again.returncode == 1 and run_count() == before + 4)

    # `run`: a deleted result comes back from the shared cache.
    result, depfile = os.path.join(build, "check.result"), os.path.join(build, "check.result.d")
    run_command = [sys.executable, script, "run", result, depfile, "--shared-cache", root, "--watch", image, "--",
                   "sh", "-c", f'echo run >> "{runs}"']
    before = run_count()
    subprocess.run(run_command, cwd=build, env=env, check=True)
    os.remove(result)
    subprocess.run(run_command, cwd=build, env=env, check=True)
    report = subprocess.run([sys.executable, script, "report", result], capture_output=True, text=True, check=False)
    check("run: a deleted result comes back from the cache",
          run_count() == before + 1 and report.returncode == 0 and "shared check cache" in report.stdout)

print(f"cached_check_test: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
