#!/usr/bin/env python3
"""README's example must be the file the build compiles and runs.

Usage: readme_sync.py README.md EXAMPLE_FILE
"""
import sys

readme, example = open(sys.argv[1], encoding="utf-8").read(), open(sys.argv[2], encoding="utf-8").read()
begin = readme.index("<!-- begin examples/host/readme_example.cpp -->")
block = readme[begin:readme.index("<!-- end examples/host/readme_example.cpp -->")]
code = block.split("```cpp\n", 1)[1].rsplit("```", 1)[0]
if code != example:
    print("README.md's example differs from examples/host/readme_example.cpp")
    sys.exit(1)
