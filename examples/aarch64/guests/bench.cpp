// Benchmark guest (run with QEMU -icount shift=0, where the PMU cycle
// counter advances once per instruction, at EL1 and EL2 alike): the cost in
// instructions of a hypercall round trip, an MMIO read round trip and an
// injected interrupt reaching the guest's vector, measured twice the same
// way: through AxVCpu::run (the VMM's benchmark loop), then through the
// hypervisor's hand-written twin of that loop.
#include "guest.hpp"

using namespace g;

namespace {
constexpr u64 rounds = 100;

inline u64 cycles() {
    u64 v;
    asm volatile("isb\n\tmrs %0, pmccntr_el0\n\tisb" : "=r"(v) : : "memory");
    return v;
}

// Cycle count at the IRQ vector, set by the handler hook below.
volatile u64 irq_at = 0;

struct RoundTrips {
    u64 hypercall, mmio, irq;
};

// The three round trips, each warmed up first; `sink` sums the MMIO reads.
RoundTrips measure(u64& sink) {
    RoundTrips r{};
    for (int i = 0; i < 10; ++i) hvc(abi::hc_nop);
    u64 start = cycles();
    for (u64 i = 0; i < rounds; ++i) hvc(abi::hc_nop);
    r.hypercall = (cycles() - start) / rounds;

    for (int i = 0; i < 10; ++i) sink += ldrx(abi::testdev_base + abi::dev_magic);
    start = cycles();
    for (u64 i = 0; i < rounds; ++i) sink += ldrx(abi::testdev_base + abi::dev_magic);
    r.mmio = (cycles() - start) / rounds;

    u64 total = 0;
    for (u64 i = 0; i < 10; ++i) {
        irq_at = 0;
        start = cycles();
        hvc(abi::hc_inject, 7);
        while (irq_at == 0) {}
        total += irq_at - start;
    }
    r.irq = total / 10;
    return r;
}
}  // namespace

extern "C" void bench_irq_hook() { irq_at = cycles(); }

extern "C" void guest_main(u64, u64) {
    print("guest: benchmark\n");
    check(hvc(abi::hc_hello, abi::test_bench) == 0, 1);
    hvc(abi::hc_set_quiet, 1);
    gic_enable();
    u64 sink = 0;

    // Until hc_bench_end the VMM answers from its lean benchmark loop
    // through AxVCpu::run...
    hvc(abi::hc_bench_begin);
    const RoundTrips library = measure(sink);
    hvc(abi::hc_bench_end);
    // ...and here from its hand-written twin of that loop.
    hvc(abi::hc_bench_raw);
    const RoundTrips raw = measure(sink);
    hvc(abi::hc_bench_end);

    check(sink == abi::magic_value * 2 * (rounds + 10), 2);
    check(g::irq_count[7] == 20, 3);
    hvc(abi::hc_bench, 1, library.hypercall);
    hvc(abi::hc_bench, 2, library.mmio);
    hvc(abi::hc_bench, 3, library.irq);
    hvc(abi::hc_bench, 4, raw.hypercall);
    hvc(abi::hc_bench, 5, raw.mmio);
    hvc(abi::hc_bench, 6, raw.irq);
    pass();
}
