#!/usr/bin/env python3
"""Freestanding checks for one target architecture.

Usage: check.py ARCH SOURCE_ROOT WORK_DIR [-D...]

Each step runs at -O2 and -Os, and at -O0 with -DNDEBUG (Boost.Outcome keeps
an assert(false) on a path it proves unreachable; optimised builds drop the
reference, an unoptimised kernel build must define NDEBUG or provide
__assert_fail).

1. Every public header compiles on its own with kernel flags
   (-ffreestanding -fno-exceptions -fno-rtti -nostdlib).
2. instantiate.cpp (AxVCpu + AxPerCpu over trivial policies) compiles to an
   object whose undefined symbols are at most memcpy/memset/memmove/memcmp/abort,
   and links into a static image with the project's libc.cpp and a stub _start.
   Every header of the target's own arch tree compiles on its own, and
   instantiate_arch.cpp (aarch64, riscv64: every member of its VCpu,
   explicitly instantiated; x86_64: the SVM and VMX exit decoders) needs no
   other symbol either.
3. No object contains a vtable, typeinfo or typeinfo-name symbol; on x86_64
   the same user is also built hosted (RTTI and exceptions on) and must not
   produce any for the library's types. A canary with a virtual function
   proves the scan sees such symbols at all.
"""
import pathlib
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
HOSTED_ONLY = {"ostream.hpp"}  # iostream glue for hosted builds


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print("$ " + " ".join(cmd) + "\n" + proc.stdout + proc.stderr)
        raise SystemExit(1)
    return proc.stdout


def main() -> int:
    arch, root = sys.argv[1], pathlib.Path(sys.argv[2])
    defines = sys.argv[4:]
    compiler = ARCHES[arch][0]
    if shutil.which(compiler) is None:
        # The README commands install the cross compilers; a missing one
        # means this guarantee is unchecked, which must not pass quietly.
        print(f"{compiler} not installed: cannot check {arch} (run .ci/install-deps.sh)")
        return 1
    for opt in (["-O2"], ["-Os"], ["-O0", "-DNDEBUG"]):
        work = pathlib.Path(sys.argv[3]) / f"freestanding-{arch}{opt[0]}"
        print(f"--- {arch} {' '.join(opt)}")
        status = check(arch, root, work, defines + opt)
        if status != 0:
            return status
    return 0


def check(arch, root, work, defines) -> int:
    compiler, arch_flags, link_flags = ARCHES[arch]
    work.mkdir(parents=True, exist_ok=True)
    # Debian's cross libc lacks the lp64 stubs header that <cstdint> wants
    # under -mabi=lp64; the kernel build provides an empty one.
    (work / "gnu").mkdir(exist_ok=True)
    (work / "gnu" / "stubs-lp64.h").write_text("")
    cflags = COMMON + arch_flags + defines + [f"-I{root / 'include'}", f"-I{root}", f"-I{work}"]
    nm = "nm"

    objects = []
    headers = sorted(p for p in (root / "include" / "axvcpu").glob("*.hpp") if p.name not in HOSTED_ONLY)
    for header in headers:
        tu = work / f"header_{header.stem}.cpp"
        tu.write_text(f"#include <axvcpu/{header.name}>\n")
        obj = work / f"header_{header.stem}.o"
        run([compiler] + cflags + ["-c", str(tu), "-o", str(obj)])
        objects.append(obj)
    print(f"{arch}: {len(headers)} public headers compile freestanding")

    main_obj = work / "instantiate.o"
    run([compiler] + cflags + ["-c", str(root / "test" / "freestanding" / "instantiate.cpp"), "-o", str(main_obj)])
    objects.append(main_obj)
    undefined = set(run([nm, "-u", "--format=just-symbols", str(main_obj)]).split())
    extra = undefined - ALLOWED_UNDEFINED
    if extra:
        print(f"{arch}: instantiate.o needs symbols a kernel does not have: {sorted(extra)}")
        return 1
    print(f"{arch}: undefined symbols of an AxVCpu user: {sorted(undefined) or 'none'}")

    if (root / "arch" / arch).is_dir():
        arch_headers = sorted((root / "arch" / arch).glob("*.hpp"))
        for header in arch_headers:
            tu = work / f"arch_{header.stem}.cpp"
            tu.write_text(f"#include <arch/{arch}/{header.name}>\n")
            run([compiler] + cflags + ["-c", str(tu), "-o", str(work / f"arch_{header.stem}.o")])
        arch_obj = work / "instantiate_arch.o"
        run([compiler] + cflags + ["-c", str(root / "test" / "freestanding" / "instantiate_arch.cpp"),
                                   "-o", str(arch_obj)])
        objects.append(arch_obj)
        extra = set(run([nm, "-u", "--format=just-symbols", str(arch_obj)]).split()) - ALLOWED_UNDEFINED
        if extra:
            print(f"{arch}: instantiate_arch.o needs symbols a kernel does not have: {sorted(extra)}")
            return 1
        what = "the exit decoders" if arch == "x86_64" else "every member of its VCpu"
        print(f"{arch}: {len(arch_headers)} arch/{arch} headers and {what} compile freestanding")

    runtime = []
    for name, src in (("libc", root / "examples" / "common" / "libc.cpp"),
                      ("start", root / "test" / "freestanding" / "start.cpp")):
        obj = work / f"{name}.o"
        run([compiler] + cflags + ["-fno-tree-loop-distribute-patterns", "-c", str(src), "-o", str(obj)])
        runtime.append(obj)
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
    run([compiler] + [f for f in cflags if f != "-fno-rtti"] + ["-c", str(canary_src), "-o", str(canary)])
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
        run(["g++", "-std=c++20", f"-I{root / 'include'}", f"-I{root}"] + defines +
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
