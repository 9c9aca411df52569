// Two vCPUs: PSCI CPU_ON / AFFINITY_INFO / CPU_OFF and an SGI exchange
// routed by the hypervisor between physical CPUs; then vCPU 1, which went
// off with IRQs unmasked, the data cache on, TPIDR_EL1 set and SGI 3
// acknowledged but never deactivated, is started again: it must find the
// first three as on its first start and take SGI 3 when it comes again.
// It also went off with SGI 4 acknowledged from a list register the VMM
// fed as a GIC model would: CPU_OFF must have given that one back, active.
// Last, vCPU 0 has a vector injected while the VMM feeds list register 0.
#include "guest.hpp"

using namespace g;

namespace {
volatile u64 secondary_up = 0;
volatile u64 secondary_arg = 0;
volatile u64 secondary_waits_sgi3 = 0;

// Acknowledges the highest-priority pending interrupt (ICC_IAR1_EL1),
// which makes it active, without deactivating it.
u64 acknowledge() {
    u64 intid;
    asm volatile("mrs %0, S3_0_C12_C12_0" : "=r"(intid)::"memory");
    return intid;
}

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

constexpr u64 context_again = 0xA5;
constexpr u64 sctlr_el1_c = 1 << 2;

extern "C" void guest_main(u64 cpu, u64 arg) {
    if (cpu == 1 && arg == context_again) {
        u64 daif, sctlr, tpidr;
        asm volatile("mrs %0, daif\n\tmrs %1, sctlr_el1\n\tmrs %2, tpidr_el1" : "=r"(daif), "=r"(sctlr), "=r"(tpidr));
        check(daif == 0x3C0, 0x110, daif);
        check(sctlr == 0x30D0'0800, 0x111, sctlr);
        check(tpidr == 0, 0x112, tpidr);
        // The PE's parts of the GIC CPU interface and the timer reset too:
        // ICC_PMR_EL1, ICC_IGRPEN1_EL1 (gic_enable set them), CNTKCTL_EL1.
        u64 pmr, igrpen1, cntkctl;
        asm volatile("mrs %0, S3_0_C4_C6_0\n\tmrs %1, S3_0_C12_C12_7\n\tmrs %2, cntkctl_el1"
                     : "=r"(pmr), "=r"(igrpen1), "=r"(cntkctl));
        check(pmr == 0 && igrpen1 == 0, 0x114, pmr << 8 | igrpen1);
        check(cntkctl == 0, 0x115, cntkctl);
        const u64 given_back = hvc(abi::hc_given_back);
        check(given_back == (4 | u64{1} << 33), 0x117, given_back);  // SGI 4, active, not pending
        // SGI 3, active at the last CPU_OFF, is over: sent again, it comes.
        gic_enable();
        secondary_waits_sgi3 = 2;
        wait_irq(3, 0x116);
        secondary_arg = arg;
        hvc(psci_cpu_off);
        fail(0x113);
    }
    if (cpu == 1) {
        secondary_arg = arg;
        gic_enable();
        secondary_up = 1;
        wait_irq(1, 0x100);
        print("guest: vCPU 1 got SGI 1, answering with SGI 2\n");
        send_sgi(2, 1);  // to vCPU 0
        // State a second CPU_ON must not find.
        u64 sctlr;
        asm volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
        asm volatile("msr sctlr_el1, %0\n\tmsr tpidr_el1, %1\n\tmsr cntkctl_el1, %2\n\tisb" ::"r"(sctlr | sctlr_el1_c),
                     "r"(u64{0x5EED}), "r"(u64{3}));
        // SGI 3 acknowledged with IRQs masked and never deactivated.
        asm volatile("msr daifset, #2" ::: "memory");
        secondary_waits_sgi3 = 1;
        u64 intid = 1023;
        for (u64 spin = 0; intid == 1023; ++spin) {
            check(spin < 50'000'000, 0x102);
            intid = acknowledge();
        }
        check(intid == 3, 0x103, intid);
        // Priority 0x80, above SGI 3's (0xA0), which is active: else it
        // could not be taken before SGI 3 is deactivated.
        check(hvc(abi::hc_feed_list_register, 4, 0x80) == 0, 0x104);
        intid = acknowledge();
        check(intid == 4, 0x105, intid);
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
    // A misaligned entry: INVALID_ADDRESS too.
    check(static_cast<std::int64_t>(hvc(psci_cpu_on, 1, abi::guest_ram_base + 2, 0)) == -9, 17);
    check(hvc(psci_affinity_info, 1, 0) == 1, 18);
    check(hvc(psci_cpu_on, 1, abi::guest_ram_base, 0x5A) == 0, 3);
    for (u64 spin = 0; secondary_up == 0; ++spin) check(spin < 50'000'000, 4);
    check(secondary_arg == 0x5A, 5, secondary_arg);
    check(static_cast<std::int64_t>(hvc(psci_cpu_on, 1, abi::guest_ram_base, 0)) == -4, 6);  // ALREADY_ON
    check(hvc(psci_affinity_info, 1, 0) == 0, 7);
    send_sgi(1, 1u << 1);  // SGI 1 to vCPU 1
    wait_irq(2, 8);
    print("guest: vCPU 0 got SGI 2\n");
    for (u64 spin = 0; secondary_waits_sgi3 != 1; ++spin) check(spin < 50'000'000, 15);
    send_sgi(3, 1u << 1);
    for (u64 spin = 0; hvc(psci_affinity_info, 1, 0) != 1; ++spin) check(spin < 1'000'000, 9);
    check(hvc(psci_cpu_on, 1, abi::guest_ram_base, context_again) == 0, 12);
    for (u64 spin = 0; secondary_waits_sgi3 != 2; ++spin) check(spin < 50'000'000, 16);
    send_sgi(3, 1u << 1);
    for (u64 spin = 0; secondary_arg != context_again; ++spin) check(spin < 50'000'000, 13);
    for (u64 spin = 0; hvc(psci_affinity_info, 1, 0) != 1; ++spin) check(spin < 1'000'000, 14);
    // A vector injected while the VMM feeds list register 0 itself must go
    // to another one (inject_interrupt's fast path writes LR0 only when the
    // queue may use it): both come, the fed one (priority 0x80) first.
    asm volatile("msr daifset, #2" ::: "memory");
    check(hvc(abi::hc_feed_list_register, 5, 0x80) == 0, 19);
    check(hvc(abi::hc_inject, 6) == 0, 20);
    for (const u64 expected : {u64{5}, u64{6}}) {
        const u64 intid = acknowledge();
        check(intid == expected, 21, intid);
        asm volatile("msr S3_0_C12_C12_1, %0\n\tisb" : : "r"(intid));  // ICC_EOIR1_EL1
    }
    pass();
}
