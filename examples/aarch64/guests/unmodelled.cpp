// An exception the policy does not model (an SVE instruction, trapped to EL2
// by CPTR_EL2.TZ since SVE state is not switched): run() must fail with a
// clear error and the vCPU must not be resumed. Needs a CPU with SVE
// (-cpu max).
#include "guest.hpp"

using namespace g;

extern "C" void guest_main(u64, u64) {
    print("guest: unmodelled-exception test\n");
    check(hvc(abi::hc_hello, abi::test_unmodelled) == 0, 1);
    // Let EL1 use FP and SVE, so the trap is EL2's (CPTR_EL2.TZ), not ours.
    asm volatile("msr cpacr_el1, %0\n\tisb" : : "r"((u64{3} << 20) | (u64{3} << 16)));
    u64 lanes;
    asm volatile(".arch_extension sve\n\tcntd %0" : "=r"(lanes));
    // Never reached: the hypervisor must not resume this vCPU.
    print("guest: resumed after an unmodelled exception\n");
    fail(2, lanes);
}
