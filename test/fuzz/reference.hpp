// FUZZ_REFERENCE marks a harness's reference model and whole-state checks
// (and test/x86_64/vm_entry_checks.hpp, which a harness shares with a host
// test): kept out of libFuzzer's coverage instrumentation, whose comparison
// tracing otherwise takes most of the time (perf on riscv64_vplic: 70%) and
// steers the fuzzer toward the harness's branches rather than the
// library's. Other compilers build no harness and ignore it.
#pragma once

#ifdef __clang__
#define FUZZ_REFERENCE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_REFERENCE
#endif
