// Benchmark guest (not a test): rdtsc ticks, one per instruction under QEMU
// -icount shift=0, for a VMMCALL round trip (the `sum` hypercall) answered
// by the VMM through AxVCpu::run (bench_begin .. bench_end) and by its
// hand-written twin loop (bench_raw .. bench_end), in the same run. The
// minimum over 32 rounds each, less an empty measurement.
#include "guest_rt.hpp"
#include "guest_abi.hpp"

using namespace guest;

namespace {
constexpr int rounds = 32;

inline u64 rdtsc() {
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64{hi} << 32) | lo;
}

template <class Body>
u64 measure(Body body) {
    u64 best = ~u64{0};
    for (int i = 0; i < rounds; ++i) {
        const u64 start = rdtsc();
        body();
        const u64 spent = rdtsc() - start;
        if (spent < best) best = spent;
    }
    return best;
}
}  // namespace

extern "C" [[noreturn]] void guest_main(u64) {
    const u64 empty = measure([] {});
    hypercall(vmm::hypercall::bench_begin);
    const u64 library = measure([] { GUEST_CHECK(hypercall(vmm::hypercall::sum, 1, 2) == 3, 0xB01, 0); });
    hypercall(vmm::hypercall::bench_end);
    hypercall(vmm::hypercall::bench_raw);
    const u64 raw = measure([] { GUEST_CHECK(hypercall(vmm::hypercall::sum, 1, 2) == 3, 0xB02, 0); });
    hypercall(vmm::hypercall::bench_end);
    print("bench: hypercall library ");
    print_dec(library - empty);
    print("\nbench: hypercall hand-written ");
    print_dec(raw - empty);
    print("\n");
    finish(0);
}
