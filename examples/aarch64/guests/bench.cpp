// Benchmark guest (run with QEMU -icount shift=0, where the PMU cycle
// counter advances once per instruction, at EL1 and EL2 alike): the cost in
// instructions of a hypercall round trip, an MMIO read round trip and an
// injected interrupt reaching the guest's vector through AxVCpu::run, and of
// the same hypercall round trip through a minimal hand-written world switch.
#include "guest.hpp"

using namespace g;

namespace {
constexpr u64 rounds = 100;

inline u64 cycles() {
    u64 v;
    asm volatile("isb\n\tmrs %0, pmccntr_el0\n\tisb" : "=r"(v) : : "memory");
    return v;
}

u64 hypercall_rtt() {
    for (int i = 0; i < 10; ++i) hvc(abi::hc_nop);  // warm up
    const u64 start = cycles();
    for (u64 i = 0; i < rounds; ++i) hvc(abi::hc_nop);
    return (cycles() - start) / rounds;
}

// Cycle count at the IRQ vector, set by the handler hook below.
volatile u64 irq_at = 0;
}  // namespace

extern "C" void bench_irq_hook() { irq_at = cycles(); }

extern "C" void guest_main(u64, u64) {
    print("guest: benchmark\n");
    check(hvc(abi::hc_hello, abi::test_bench) == 0, 1);
    hvc(abi::hc_set_quiet, 1);

    // Until hc_bench_end the VMM answers from its lean benchmark loop.
    hvc(abi::hc_bench_begin);
    const u64 hypercall = hypercall_rtt();

    u64 sink = 0;
    for (int i = 0; i < 10; ++i) sink += ldrx(abi::testdev_base + abi::dev_magic);
    u64 start = cycles();
    for (u64 i = 0; i < rounds; ++i) sink += ldrx(abi::testdev_base + abi::dev_magic);
    const u64 mmio = (cycles() - start) / rounds;

    gic_enable();
    u64 total = 0;
    for (u64 i = 0; i < 10; ++i) {
        irq_at = 0;
        start = cycles();
        hvc(abi::hc_inject, 7);
        while (irq_at == 0) {}
        total += irq_at - start;
    }
    hvc(abi::hc_bench_end);
    hvc(abi::hc_bench, 1, hypercall);
    hvc(abi::hc_bench, 2, mmio);
    check(sink == abi::magic_value * (rounds + 10), 2);
    hvc(abi::hc_bench, 3, total / 10);

    // From here until the next hypercall other than hc_nop, the hypervisor
    // runs this vCPU through its minimal hand-written world switch.
    hvc(abi::hc_bench_raw);
    const u64 raw = hypercall_rtt();
    hvc(abi::hc_bench, 4, raw);
    pass();
}
