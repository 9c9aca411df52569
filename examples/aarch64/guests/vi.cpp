// Interrupt injection without list registers: the hypervisor built with
// AXVCPU_GIC_VERSION=2 delivers through HCR_EL2.VI, and this guest, having
// no virtual GIC interface to acknowledge through, asks the hypervisor
// which vector it got (hypercall `ack`). Three injected vectors must arrive
// once each, in order, and VI must drop when none is left.
#include "guest.hpp"

using namespace g;

extern "C" void guest_main(u64, u64) {
    print("guest: HCR_EL2.VI injection test\n");
    check(hvc(abi::hc_hello, abi::test_vi) == 0, 1);
    vi_mode = true;
    asm volatile("msr daifclr, #2" ::: "memory");
    check(hvc(abi::hc_inject, 9, 3) == 0, 2);
    for (u64 spin = 0; irq_count[11] == 0; ++spin) check(spin < 10'000'000, 3);
    check(irq_count[9] == 1 && irq_count[10] == 1 && irq_count[11] == 1, 4);
    // Nothing pending any more: no further interrupt may arrive.
    for (u64 spin = 0; spin < 100'000; ++spin) {}
    check(irq_count[9] + irq_count[10] + irq_count[11] == 3, 5, last_irq);
    pass();
}
