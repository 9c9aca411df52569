// Two vCPUs: PSCI CPU_ON / AFFINITY_INFO / CPU_OFF and an SGI exchange
// routed by the hypervisor between physical CPUs.
#include "guest.hpp"

using namespace g;

namespace {
volatile u64 secondary_up = 0;
volatile u64 secondary_arg = 0;

constexpr u64 psci_cpu_on = 0xC400'0003;
constexpr u64 psci_cpu_off = 0x8400'0002;
constexpr u64 psci_affinity_info = 0xC400'0004;

void wait_irq(u64 intid, u64 code) {
    for (u64 spin = 0; spin < 50'000'000; ++spin) {
        if (irq_count[intid] != 0) return;
    }
    fail(code);
}
}  // namespace

extern "C" void guest_main(u64 cpu, u64 arg) {
    if (cpu == 1) {
        secondary_arg = arg;
        gic_enable();
        secondary_up = 1;
        wait_irq(1, 0x100);
        print("guest: vCPU 1 got SGI 1, answering with SGI 2\n");
        send_sgi(2, 1);  // to vCPU 0
        hvc(psci_cpu_off);
        fail(0x101);  // CPU_OFF does not return
    }
    print("guest: SMP test on vCPU 0\n");
    check(hvc(abi::hc_hello, abi::test_smp) == 0, 1);
    gic_enable();
    check(hvc(psci_affinity_info, 1, 0) == 1, 2);  // off before CPU_ON
    // An entry outside RAM: INVALID_ADDRESS, and vCPU 1 stays off.
    check(static_cast<std::int64_t>(hvc(psci_cpu_on, 1, abi::guest_ram_base + abi::guest_ram_size, 0)) == -9, 10);
    check(hvc(psci_affinity_info, 1, 0) == 1, 11);
    check(hvc(psci_cpu_on, 1, abi::guest_ram_base, 0x5A) == 0, 3);
    for (u64 spin = 0; secondary_up == 0; ++spin) check(spin < 50'000'000, 4);
    check(secondary_arg == 0x5A, 5, secondary_arg);
    check(static_cast<std::int64_t>(hvc(psci_cpu_on, 1, abi::guest_ram_base, 0)) == -4, 6);  // ALREADY_ON
    check(hvc(psci_affinity_info, 1, 0) == 0, 7);
    send_sgi(1, 1u << 1);  // SGI 1 to vCPU 1
    wait_irq(2, 8);
    print("guest: vCPU 0 got SGI 2\n");
    for (u64 spin = 0; hvc(psci_affinity_info, 1, 0) != 1; ++spin) check(spin < 1'000'000, 9);
    pass();
}
