#!/usr/bin/env python3
"""Freestanding checks for one target architecture.

Usage: check.py ARCH SOURCE_ROOT WORK_DIR [-D...]

Steps 2 and 3 run at -O2 and -Os, and at -O0 with -DNDEBUG (Boost.Outcome
keeps an assert(false) on a path it proves unreachable; optimised builds drop
the reference, an unoptimised kernel build must define NDEBUG or provide
__assert_fail). Independent compiler runs go in parallel, one per CPU.

1. Every public header, and every header of the target's own arch tree,
   compiles on its own with kernel flags
   (-ffreestanding -fno-exceptions -fno-rtti -nostdlib), checked once, at
   -O2: a header alone instantiates nothing whose code the optimisation
   level could change, and what generates code (the world switches'
   top-level asm, every member of each VCpu) is compiled in full by step 2
   at every level. Each is compiled to an object, not with -fsyntax-only,
   so that ccache keeps the result: another clone of the same tree then
   pays nothing for it.
2. instantiate.cpp (AxVCpu + AxPerCpu over trivial policies) compiles to an
   object whose undefined symbols are at most memcpy/memset/memmove/memcmp/abort,
   and links into a static image with the project's libc.cpp and a stub _start.
   instantiate_arch.cpp (every member of the arch's VCpu, explicitly
   instantiated: on x86_64 the SVM one, with the VMX exit decoder) needs no
   other symbol either.
3. No object contains a vtable, typeinfo or typeinfo-name symbol; on x86_64
   the same user is also built hosted (RTTI and exceptions on) and must not
   produce any for the library's types. A canary with a virtual function
   proves the scan sees such symbols at all.
"""
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess
import sys

COMMON = ["-std=c++20", "-ffreestanding", "-fno-exceptions", "-fno-rtti", "-nostdlib", "-static",
          "-fno-pie", "-no-pie", "-fno-stack-protector", "-fno-threadsafe-statics", "-fno-use-cxa-atexit",
          "-fno-asynchronous-unwind-tables", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
ARCHES = {
    "aarch64": ("aarch64-linux-gnu-g++", ["-mgeneral-regs-only", "-mstrict-align", "-mno-outline-atomics"], []),
    "riscv64": ("riscv64-linux-gnu-g++", ["-march=rv64imac_zicsr_zifencei", "-mabi=lp64", "-mcmodel=medany"],
                ["-Wl,--no-relax"]),
    "x86_64": ("g++", ["-m64", "-mno-red-zone", "-mgeneral-regs-only"], []),
}
ALLOWED_UNDEFINED = {"memcpy", "memset", "memmove", "memcmp", "abort"}
# Objects compile through ccache when it is installed (as the build's own
# compiles do).
CCACHE = [shutil.which("ccache")] if shutil.which("ccache") else []
# A dependency file beside each object, which nothing reads but ccache: with
# one it can run in depend mode (CCACHE_DEPEND, set by test/run.sh), where a
# cache miss costs no extra preprocessor run.
DEPFILE = ["-MD"]
HOSTED_ONLY = {"ostream.hpp"}  # iostream glue for hosted builds


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print("$ " + " ".join(cmd) + "\n" + proc.stdout + proc.stderr)
        raise SystemExit(1)
    return proc.stdout


def run_all(cmds):
    """Runs independent compiler commands in parallel; fails like run()."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        failures = [r for r in pool.map(lambda c: subprocess.run(c, capture_output=True, text=True), cmds)
                    if r.returncode != 0]
    if failures:
        r = failures[0]
        print("$ " + " ".join(r.args) + "\n" + r.stdout + r.stderr)
        raise SystemExit(1)


def main() -> int:
    arch, root = sys.argv[1], pathlib.Path(sys.argv[2])
    defines = sys.argv[4:]
    compiler = ARCHES[arch][0]
    if shutil.which(compiler) is None:
        # The README commands install the cross compilers; a missing one
        # means this guarantee is unchecked, which must not pass quietly.
        print(f"{compiler} not installed: cannot check {arch} (run .ci/install-deps.sh)")
        return 1
    work_root = pathlib.Path(sys.argv[3])
    status = check_headers(arch, root, work_root / f"freestanding-{arch}-headers", defines + ["-O2"])
    if status != 0:
        return status
    for opt in (["-O2"], ["-Os"], ["-O0", "-DNDEBUG"]):
        work = work_root / f"freestanding-{arch}{opt[0]}"
        print(f"--- {arch} {' '.join(opt)}")
        status = check(arch, root, work, defines + opt)
        if status != 0:
            return status
    return 0


def kernel_flags(arch, root, work, defines):
    work.mkdir(parents=True, exist_ok=True)
    # Debian's cross libc lacks the lp64 stubs header that <cstdint> wants
    # under -mabi=lp64; the kernel build provides an empty one.
    (work / "gnu").mkdir(exist_ok=True)
    (work / "gnu" / "stubs-lp64.h").write_text("")
    return COMMON + ARCHES[arch][1] + defines + [f"-I{root / 'include'}", f"-I{root}", f"-I{work}"]


def check_headers(arch, root, work, defines) -> int:
    compiler = ARCHES[arch][0]
    cflags = kernel_flags(arch, root, work, defines)
    tus = []
    headers = sorted(p for p in (root / "include" / "axvcpu").glob("*.hpp") if p.name not in HOSTED_ONLY)
    arch_headers = sorted((root / "arch" / arch).glob("*.hpp")) if (root / "arch" / arch).is_dir() else []
    for include in [f"axvcpu/{h.name}" for h in headers] + [f"arch/{arch}/{h.name}" for h in arch_headers]:
        tu = work / ("header_" + include.replace("/", "_").removesuffix(".hpp") + ".cpp")
        tu.write_text(f"#include <{include}>\n")
        tus.append(tu)
    run_all([CCACHE + [compiler] + cflags + DEPFILE + ["-c", str(tu), "-o", str(tu.with_suffix(".o"))] for tu in tus])
    print(f"{arch}: {len(headers)} public headers compile freestanding")
    if arch_headers:
        print(f"{arch}: {len(arch_headers)} arch/{arch} headers compile freestanding")
    # A header alone emits no vtable whatever it declares; the source says
    # it: no virtual function, typeid or dynamic_cast in any of them.
    for header in headers + arch_headers:
        code = strip_comments_and_strings(header.read_text())
        found = sorted(set(re.findall(r"\b(virtual|typeid|dynamic_cast)\b", code)))
        if found:
            print(f"{arch}: {header.relative_to(root)} uses {', '.join(found)}")
            return 1
    print(f"{arch}: no virtual, typeid or dynamic_cast in {len(headers) + len(arch_headers)} headers")
    return 0


def strip_comments_and_strings(code):
    """C++ source without comments and string or character literals (raw
    strings included), so prose about virtual timers does not count."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|R"([^(]*)\(.*?\)\1"|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                         re.DOTALL)
    return pattern.sub(" ", code)


def check(arch, root, work, defines) -> int:
    compiler, _, link_flags = ARCHES[arch]
    cflags = kernel_flags(arch, root, work, defines)
    nm = "nm"
    objects = []

    main_obj = work / "instantiate.o"
    arch_obj = work / "instantiate_arch.o"
    has_arch = (root / "arch" / arch).is_dir()
    runtime = [work / "libc.o", work / "start.o"]
    # Every object of this level, in parallel.
    cc = CCACHE + [compiler] + DEPFILE
    run_all([cc + cflags + ["-c", str(root / "test" / "freestanding" / "instantiate.cpp"), "-o", str(main_obj)]] +
            ([cc + cflags + ["-c", str(root / "test" / "freestanding" / "instantiate_arch.cpp"), "-o",
                             str(arch_obj)]] if has_arch else []) +
            [cc + cflags + ["-fno-tree-loop-distribute-patterns", "-c", str(src), "-o", str(obj)]
             for src, obj in zip((root / "examples" / "common" / "libc.cpp",
                                  root / "test" / "freestanding" / "start.cpp"), runtime)])
    objects.append(main_obj)
    undefined = set(run([nm, "-u", "--format=just-symbols", str(main_obj)]).split())
    extra = undefined - ALLOWED_UNDEFINED
    if extra:
        print(f"{arch}: instantiate.o needs symbols a kernel does not have: {sorted(extra)}")
        return 1
    print(f"{arch}: undefined symbols of an AxVCpu user: {sorted(undefined) or 'none'}")

    if has_arch:
        objects.append(arch_obj)
        extra = set(run([nm, "-u", "--format=just-symbols", str(arch_obj)]).split()) - ALLOWED_UNDEFINED
        if extra:
            print(f"{arch}: instantiate_arch.o needs symbols a kernel does not have: {sorted(extra)}")
            return 1
        what = "the exit decoders" if arch == "x86_64" else "every member of its VCpu"
        print(f"{arch}: {what} compile freestanding")
    image = work / "image.elf"
    run([compiler] + cflags + link_flags + ["-Wl,-e,_start", "-o", str(image)] +
        [str(o) for o in [main_obj] + runtime] + ["-lgcc"])
    print(f"{arch}: linked {image.name} with no C or C++ runtime")

    def rtti_symbols(obj):
        symbols = run([nm, "--format=just-symbols", str(obj)]).split()
        return [s for s in symbols if s.startswith(("_ZTV", "_ZTI", "_ZTS"))]

    canary_src = work / "canary.cpp"
    canary_src.write_text("struct Canary { virtual ~Canary(); virtual int f(); };\n"
                          "Canary::~Canary() {}\nint Canary::f() { return 1; }\n")
    canary = work / "canary.o"
    run(cc + [f for f in cflags if f != "-fno-rtti"] + ["-c", str(canary_src), "-o", str(canary)])
    if not rtti_symbols(canary):
        print(f"{arch}: the vtable scan found nothing in a class with virtual functions: it is blind")
        return 1

    for obj in objects + [image]:
        if rtti_symbols(obj):
            print(f"{arch}: {obj.name} has vtable/typeinfo symbols: {rtti_symbols(obj)}")
            return 1
    checked = len(objects) + 1

    if arch == "x86_64":
        hosted = work / "instantiate-hosted.o"
        run(CCACHE + ["g++"] + DEPFILE + ["-std=c++20", f"-I{root / 'include'}", f"-I{root}"] + defines +
            ["-c", str(root / "test" / "freestanding" / "instantiate.cpp"), "-o", str(hosted)])
        ours = [s for s in rtti_symbols(hosted) if "6axvcpu" in s]
        if ours:
            print(f"{arch}: hosted build emits vtable/typeinfo for library types: {ours}")
            return 1
        checked += 1
    print(f"{arch}: no vtable or typeinfo symbol in {checked} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
