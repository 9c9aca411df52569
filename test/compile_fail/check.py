#!/usr/bin/env python3
"""Compile a source that must NOT compile, and check the diagnostic.

Usage: check.py SOURCE -- COMPILER [ARGS...]

SOURCE names what it expects in `// expect-first-error: TEXT` lines: the first
diagnostic line containing "error" must contain every such TEXT. This proves
that a policy missing a function is reported by name on the first error line,
not buried in a template backtrace.
"""
import subprocess
import sys


def main() -> int:
    sep = sys.argv.index("--")
    source, compiler = sys.argv[1], sys.argv[sep + 1:]
    expected = [line.split("expect-first-error:", 1)[1].strip()
                for line in open(source, encoding="utf-8") if "expect-first-error:" in line]
    if not expected:
        print(f"{source}: no expect-first-error line")
        return 1
    proc = subprocess.run(compiler + ["-fsyntax-only", "-fdiagnostics-color=never", source],
                          capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    if proc.returncode == 0:
        print(f"{source}: compiled, but it must not")
        return 1
    first = next((line for line in output.splitlines() if "error" in line), "")
    missing = [text for text in expected if text not in first]
    print(f"first error line: {first}")
    if missing:
        print(f"{source}: first error line lacks {missing}\n--- full output ---\n{output}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
