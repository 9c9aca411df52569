// Benchmark guest (not a test): instructions retired (rdinstret, exact
// under QEMU -icount shift=0) for three round trips through the
// hypervisor, measured the same way under the library-based hypervisor
// (hyp.elf) and the hand-written one (bench_raw.elf):
//   hypercall  ecall to the AxVisor hypercall extension and back;
//   mmio_read  one ld from the emulated echo device;
//   irq        a hypercall asking for a software interrupt, taken and
//              acknowledged by the guest's handler on the way back.
#include "guest_rt.hpp"

using namespace guest;

GUEST_RUNTIME_SUPPORT

namespace {
constexpr int rounds = 32;
volatile std::uint64_t soft_irqs = 0;

inline std::uint64_t rdinstret() {
    std::uint64_t n;
    asm volatile("rdinstret %0" : "=r"(n));
    return n;
}

template <class Body>
std::uint64_t measure(Body body) {
    std::uint64_t best = ~0ull;
    for (int i = 0; i < rounds; ++i) {
        const std::uint64_t start = rdinstret();
        body();
        const std::uint64_t spent = rdinstret() - start;
        if (spent < best) best = spent;
    }
    return best;
}
}  // namespace

extern "C" void guest_trap(TrapFrame& frame) {
    if (frame.scause == ((1ull << 63) | 1)) {
        soft_irqs = soft_irqs + 1;
        asm volatile("csrc sip, %0" ::"r"(2));
        return;
    }
    unexpected_trap(frame);
}

extern "C" void guest_main(std::uint64_t, std::uint64_t) {
    hypercall(hc::bench_begin);
    const std::uint64_t empty = measure([] {});
    const std::uint64_t hcall = measure([] { hypercall(hc::sum, 1, 2); });
    // A 32-bit `ld`, the one form the hand-written baseline decodes.
    const std::uint64_t mmio = measure([] {
        std::uint64_t value;
        asm volatile(".option push\n.option norvc\nld %0, 8(%1)\n.option pop" : "=r"(value) : "r"(echo_device) : "memory");
    });
    asm volatile("csrs sie, %0\n csrsi sstatus, 2" ::"r"(2));
    const std::uint64_t irq = measure([] { hypercall(hc::inject, 1); });
    asm volatile("csrci sstatus, 2");
    hypercall(hc::bench_end);
    check(soft_irqs == rounds, "one interrupt per round", soft_irqs);
    print("bench: hypercall ", Dec{hcall - empty}, "\nbench: mmio_read ", Dec{mmio - empty}, "\nbench: irq ",
          Dec{irq - empty}, "\n");
    shutdown();
}
