// Exercises every exit kind the policy decodes, checking each answer here
// while the hypervisor checks the exits themselves (hyp_main.cpp).
#include "guest.hpp"

using namespace g;

namespace {
constexpr u64 dev = abi::testdev_base;

// Spins until `intid` has been taken `times`, or fails with `code`.
void wait_irq(u64 intid, u32 times, u64 code) {
    for (u64 spin = 0; spin < 10'000'000; ++spin) {
        if (irq_count[intid] >= times) return;
    }
    fail(code, irq_count[intid]);
}
}  // namespace

extern "C" void guest_main(u64, u64 x0_at_entry) {
    print("guest: exits test\n");
    // The entry state the policy promises (README: Loading and entry).
    u64 el;
    u64 daif;
    u64 sctlr;
    u64 mpidr;
    asm volatile("mrs %0, CurrentEL\n\tmrs %1, daif\n\tmrs %2, sctlr_el1\n\tmrs %3, mpidr_el1"
                 : "=r"(el), "=r"(daif), "=r"(sctlr), "=r"(mpidr));
    check(x0_at_entry == abi::dtb_gpa, 30, x0_at_entry);
    check(el == 1u << 2, 31, el);
    check(daif == 0x3C0, 32, daif);
    check(sctlr == 0x30D0'0800, 33, sctlr);
    check(mpidr == 0x8000'0000, 34, mpidr);
    check(hvc(abi::hc_hello, abi::test_exits) == 0, 1);
    check(hvc(abi::hc_sum, 1, 2, 3, 4, 5, 0x100) == 0x10F, 2);

    // MMIO stores of each width; the hypervisor sees only the low bytes.
    strb(dev + abi::dev_sink, 0x1234'56A5);
    strh(dev + abi::dev_sink, 0x1234'BEEF);
    strw(dev + abi::dev_sink, 0xFFFF'FFFF'DEAD'BEEF);
    strx(dev + abi::dev_sink, 0x0123'4567'89AB'CDEF);
    str_zero(dev + abi::dev_sink);
    strx(dev + abi::dev_scratch, 0x1122'3344'5566'7788);
    check(ldrx(dev + abi::dev_scratch) == 0x1122'3344'5566'7788, 3);

    // MMIO loads: widths, zero and sign extension to W and X registers.
    check(ldrb(dev + abi::dev_magic) == 0x78, 4);
    check(ldrh(dev + abi::dev_magic) == 0x5678, 5);
    check(ldrw(dev + abi::dev_magic) == 0x1234'5678, 6);
    check(ldrx(dev + abi::dev_magic) == abi::magic_value, 7);
    check(ldrsb_x(dev + abi::dev_negative) == 0xFFFF'FFFF'FFFF'FF80, 8, ldrsb_x(dev + abi::dev_negative));
    check(ldrsb_w(dev + abi::dev_negative) == 0xFFFF'FF80, 9);
    check(ldrsh_w(dev + abi::dev_negative) == 0xFFFF'8080, 10);
    check(ldrsw_x(dev + abi::dev_negative) == 0xFFFF'FFFF'8000'8080, 11);

    // A trapped system register read (HCR_EL2.TID3), answered by the hypervisor.
    u64 mmfr0;
    asm volatile("mrs %0, id_aa64mmfr0_el1" : "=r"(mmfr0));
    check(mmfr0 == abi::fake_mmfr0, 12, mmfr0);
    // A trapped write the hypervisor does not emulate: reported and ignored.
    asm volatile("msr S3_0_C12_C11_7, %0" : : "r"(u64{0}));  // ICC_SGI0R_EL1

    // WFI: a Halt exit. With nothing else pending the hypervisor waits, as
    // hardware would, until the virtual timer (20 ms ahead, unmasked; DAIF
    // still masks IRQs, which does not matter to WFI) asserts.
    const u64 deadline = virtual_count() + counter_frequency() / 50;
    arm_virtual_timer(deadline);
    asm volatile("wfi");
    const u64 woke = virtual_count();
    stop_virtual_timer();
    check(woke >= deadline, 35, deadline - woke);

    // PSCI answered inside the policy (no exit), through HVC and SMC.
    check(hvc(0x8400'0000) == 0x10001, 13);
    check(hvc(0x8400'000A, 0xC400'0003) == 0, 14);
    check(hvc(0x8400'000A, 0x8400'0005) == ~u64{0}, 15);
    check(hvc(0xC400'0004, 0, 0) == 0, 16);  // AFFINITY_INFO(vCPU 0): on
    check(smc(0x8400'0000) == 0x10001, 17);
    check(smc(0xC200'0000) == ~u64{0}, 18);  // not PSCI: NOT_SUPPORTED

    // Virtual interrupts: injected by hypercall, and an SGI to ourselves.
    gic_enable();
    check(hvc(abi::hc_inject, 5) == 0, 19);
    wait_irq(5, 1, 20);
    send_sgi(3, 1);  // INTID 3 to Aff0 = 0: this vCPU
    wait_irq(3, 1, 21);
    // More vectors than list registers: the rest wait for the maintenance
    // interrupt (ICH_HCR_EL2.UIE) and arrive without another exit of ours.
    check(hvc(abi::hc_inject, 40, 20) == 0, 23);
    for (u64 intid = 40; intid < 60; ++intid) wait_irq(intid, 1, 24);

    // A physical interrupt while the guest runs: the host timer fires. Wait
    // for the hypervisor to have seen it (QEMU's timer thread may lag under
    // load), for at most 10 s of counter time.
    check(hvc(abi::hc_timer, 2000) == 0, 22);
    u64 start;
    u64 frequency;
    asm volatile("isb\n\tmrs %0, cntvct_el0\n\tmrs %1, cntfrq_el0" : "=r"(start), "=r"(frequency));
    for (;;) {
        for (int spin = 0; spin < 10'000; ++spin) asm volatile("" ::: "memory");
        if (hvc(abi::hc_timer, 0) >= 1) break;
        u64 now;
        asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(now));
        check(now - start < 10 * frequency, 25);
    }
    pass();
}
