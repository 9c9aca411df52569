// Register integrity: see regs_loop.S.
#include "guest.hpp"

extern "C" g::u64 run_register_test(g::u64 iterations);

extern "C" void guest_main(g::u64, g::u64) {
    g::print("guest: register-integrity test, 1000 mixed exits\n");
    g::check(g::hvc(abi::hc_hello, abi::test_regs) == 0, 1);
    g::hvc(abi::hc_set_quiet, 1);  // 1,000 exits: no trace
    // A timer that has already fired: every WFI of the loop ends at once.
    g::arm_virtual_timer(0);
    const g::u64 result = run_register_test(1000);
    g::check(result == 0, 2, result);
    g::pass();
}
