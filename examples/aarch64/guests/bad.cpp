// A misbehaving guest: accesses the policy must refuse to decode (ldp/stp
// to MMIO), a register the hypervisor does not emulate, an unknown SMC, and
// a call into unmapped memory. The hypervisor reports each and survives.
#include "guest.hpp"

using namespace g;

extern "C" void guest_main(u64, u64) {
    print("guest: misbehaving-guest test\n");
    check(hvc(abi::hc_hello, abi::test_bad) == 0, 1);

    // ldp/stp have no instruction syndrome (ISV = 0): never a guessed MMIO access.
    u64 a = 0x1111;
    u64 b = 0x2222;
    asm volatile("ldp %0, %1, [%2]" : "+r"(a), "+r"(b) : "r"(abi::testdev_base) : "memory");
    check(a == 0x1111 && b == 0x2222, 2, a);  // skipped by the hypervisor: unchanged
    asm volatile("stp %0, %1, [%2]" : : "r"(a), "r"(b), "r"(abi::testdev_base + 0x10) : "memory");

    // Registers the hypervisor does not know: a write is ignored, a read is zero.
    asm volatile("msr S3_0_C12_C11_7, %0" : : "r"(u64{1}));  // ICC_SGI0R_EL1
    u64 pfr0 = 1;
    asm volatile("mrs %0, id_aa64pfr0_el1" : "=r"(pfr0));
    check(pfr0 == 0, 3, pfr0);

    // An SMC no firmware answers.
    check(smc(0xC200'1234, 1, 2, 3) == ~u64{0}, 4);

    // A call into memory that is not mapped: the hypervisor returns to us.
    using Fn = void (*)();
    volatile u64 target = abi::unmapped_base;
    reinterpret_cast<Fn>(target)();
    print("guest: came back from the unmapped call\n");

    pass();
}
