// The guests' exception handlers: virtual IRQs are acknowledged through the
// virtual CPU interface and counted; anything else is a failed test.
#include "guest.hpp"

// A guest that expects synchronous exceptions (the bad guest's reflected
// aborts) handles them here; the default handles none.
extern "C" [[gnu::weak]] g::u64 guest_sync(g::u64*) { return 0; }

// The benchmark guest timestamps interrupt delivery; others need not care.
extern "C" [[gnu::weak]] void bench_irq_hook() {}

extern "C" void guest_irq() {
    bench_irq_hook();
    if (g::vi_mode) {
        const g::u64 vector = g::hvc(abi::hc_ack);
        if (vector < 64) g::irq_count[vector] = g::irq_count[vector] + 1;
        g::last_irq = vector;
        return;
    }
    g::u64 intid;
    asm volatile("mrs %0, S3_0_C12_C12_0" : "=r"(intid));  // ICC_IAR1_EL1
    if (intid >= 1020) return;                            // spurious
    if (intid < 64) g::irq_count[intid] = g::irq_count[intid] + 1;
    g::last_irq = intid;
    asm volatile("msr S3_0_C12_C12_1, %0\n\tisb" : : "r"(intid));  // ICC_EOIR1_EL1
}

extern "C" [[noreturn]] void guest_unexpected_exception(g::u64 kind) {
    g::u64 esr;
    g::u64 elr;
    asm volatile("mrs %0, esr_el1\n\tmrs %1, elr_el1" : "=r"(esr), "=r"(elr));
    g::print("guest: unexpected exception, vector ");
    g::print_hex(kind);
    g::print(" ESR_EL1 ");
    g::print_hex(esr);
    g::print(" ELR_EL1 ");
    g::print_hex(elr);
    g::print("\n");
    g::fail(0xE0 + kind, esr);
}
