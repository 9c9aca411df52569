#!/usr/bin/env python3
"""README's policy signatures must be what the concepts accept: the block
between <!-- begin policy signatures --> and <!-- end policy signatures -->
is compiled, and each of its structs checked against its concepts with the
library's own per-member static_asserts.

Usage: readme_signatures.py README.md -- COMPILER [ARGS...]
"""
import os
import subprocess
import sys
import tempfile

PROLOGUE = """#include <axvcpu/axvcpu.hpp>
using namespace axvcpu;
"""
CHECKS = """
static_assert(api::check_host_api<MyHost>());
static_assert(api::check_arch_if<MyHost>());
static_assert(api::check_arch_vcpu<MyArch, MyHost>());
static_assert(api::plain_vcpu_updates<MyArch>);
static_assert(api::gated_run<MyArch, MyHost>);
static_assert(api::check_arch_percpu<MyPerCpu>());
static_assert(api::max_guest_page_table_levels<MyPerCpu>() == 4);
"""


def main() -> int:
    sep = sys.argv.index("--")
    readme, compiler = open(sys.argv[1], encoding="utf-8").read(), sys.argv[sep + 1:]
    begin = readme.index("<!-- begin policy signatures -->")
    block = readme[begin:readme.index("<!-- end policy signatures -->")]
    code = block.split("```cpp\n", 1)[1].rsplit("```", 1)[0]
    with tempfile.NamedTemporaryFile("w", suffix=".cpp", delete=False) as source:
        source.write(PROLOGUE + code + CHECKS)
    try:
        proc = subprocess.run(compiler + ["-fsyntax-only", source.name], capture_output=True, text=True)
    finally:
        os.unlink(source.name)
    if proc.returncode != 0:
        print("README.md's policy signatures do not satisfy the concepts:\n" + proc.stdout + proc.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
