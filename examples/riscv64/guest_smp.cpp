// Test guest, two vCPUs: vCPU 0 starts vCPU 1 through SBI HSM hart_start
// (CpuUp), the two exchange IPIs through SBI IPI and legacy send_ipi
// (SendIPI, injected as supervisor software interrupts; one waits in WFI,
// the other in HSM retentive suspend), vCPU 1 stops itself (hart_stop:
// CpuDown) with its interrupts enabled, vCPU 0 sees it stopped through
// hart_get_status and starts it again, which must find sstatus.SIE and sie
// clear as on its first start, and powers the system off through SRST
// (SystemDown).
#include "guest_rt.hpp"

using namespace guest;

GUEST_RUNTIME_SUPPORT

namespace {
std::atomic<std::uint64_t> soft_irqs[2];
std::atomic<std::uint64_t> secondary_alive{0};
std::atomic<std::uint64_t> secondary_done{0};
constexpr std::uint64_t opaque = 0x5a5a, opaque_again = 0xa5a5;
constexpr std::uint64_t sie_ssie = 1 << 1;

std::uint64_t hart_status(std::uint64_t hart) {
    const auto ret = ecall(sbi::eid::hsm, sbi::fid::hsm_hart_get_status, hart);
    return ret.error == 0 ? ret.value : ~0ull;
}

// Hart 0 waits with WFI, hart 1 with SBI HSM retentive suspend: both exit
// as Halt and are resumed once the IPI is pending for them.
void wait_for_ipi(std::uint64_t hart) {
    asm volatile("csrs sie, %0" ::"r"(sie_ssie));
    while (soft_irqs[hart].load() == 0) {
        if (hart == 0) {
            asm volatile("wfi");
        } else {
            const auto ret = ecall(sbi::eid::hsm, sbi::fid::hsm_hart_suspend, sbi::suspend_type::default_retentive);
            check(ret.error == 0, "retentive suspend returns success", static_cast<std::uint64_t>(ret.error));
        }
        asm volatile("csrsi sstatus, 2\n nop\n csrci sstatus, 2");
    }
}

[[noreturn]] void stop_this_hart() {
    ecall(sbi::eid::hsm, sbi::fid::hsm_hart_stop);
    check(false, "hart_stop returned");
    for (;;) {
    }
}

[[noreturn]] void secondary(std::uint64_t hartid, std::uint64_t arg) {
    print("guest: hart ", Dec{hartid}, " up, opaque ", Hex{arg}, "\n");
    check(hartid == 1, "a0 = hart id on hart_start", hartid);
    if (arg == opaque_again) {
        // SBI hart_start: sstatus.SIE = 0, whatever the hart had when it
        // stopped; sie as on a fresh hart.
        std::uint64_t sstatus, sie;
        asm volatile("csrr %0, sstatus\n\tcsrr %1, sie" : "=r"(sstatus), "=r"(sie));
        check((sstatus & 2) == 0, "sstatus.SIE clear on a second hart_start", sstatus);
        check(sie == 0, "sie clear on a second hart_start", sie);
        secondary_alive.store(arg);
        stop_this_hart();
    }
    check(arg == opaque, "a1 = opaque on hart_start", arg);
    secondary_alive.store(arg);
    check(ecall(sbi::eid::ipi, sbi::fid::ipi_send_ipi, 0b01, 0).error == 0, "send_ipi to hart 0");
    wait_for_ipi(1);
    print("guest: hart 1 got its IPI, stopping with interrupts enabled\n");
    secondary_done.store(1);
    asm volatile("csrsi sstatus, 2");
    stop_this_hart();
}
}  // namespace

extern "C" void guest_trap(TrapFrame& frame) {
    std::uint64_t hart;
    asm volatile("csrr %0, sscratch" : "=r"(hart));
    if (frame.scause == ((1ull << 63) | 1)) {
        soft_irqs[hart & 1].fetch_add(1);
        asm volatile("csrc sip, %0" ::"r"(sie_ssie));
        return;
    }
    unexpected_trap(frame);
}

extern "C" void guest_main(std::uint64_t hartid, std::uint64_t a1) {
    asm volatile("csrw sscratch, %0" ::"r"(hartid));
    if (hartid != 0) secondary(hartid, a1);

    print("guest: SMP test on hart 0\n");
    check(hart_status(1) == sbi::hsm_state::stopped, "hart 1 stopped before start", hart_status(1));
    check(ecall(sbi::eid::hsm, sbi::fid::hsm_hart_get_status, 7).error == sbi::err::invalid_param,
          "status of a hart that does not exist");
    const auto start = ecall(sbi::eid::hsm, sbi::fid::hsm_hart_start, 1, 0x88000000, opaque);
    check(start.error == 0, "hart_start", static_cast<std::uint64_t>(start.error));
    const auto again = ecall(sbi::eid::hsm, sbi::fid::hsm_hart_start, 1, 0x88000000, opaque);
    check(again.error == sbi::err::already_available, "second hart_start refused", static_cast<std::uint64_t>(again.error));
    while (secondary_alive.load() != opaque) {
    }
    check(hart_status(1) == sbi::hsm_state::started, "hart 1 started", hart_status(1));

    wait_for_ipi(0);
    print("guest: hart 0 got its IPI\n");
    // The legacy call takes the hart mask by address.
    static std::uint64_t hart1_mask = 0b10;
    check(ecall(sbi::eid::legacy_send_ipi, 0, reinterpret_cast<std::uint64_t>(&hart1_mask)).error == 0,
          "legacy send_ipi to hart 1");
    while (secondary_done.load() == 0) {
    }
    std::uint64_t spins = 0;
    while (hart_status(1) != sbi::hsm_state::stopped && ++spins < 1000000) {
    }
    check(hart_status(1) == sbi::hsm_state::stopped, "hart 1 stopped after hart_stop", hart_status(1));
    check(soft_irqs[0].load() == 1 && soft_irqs[1].load() == 1, "one IPI each",
          soft_irqs[0].load() << 32 | soft_irqs[1].load());

    const auto restart = ecall(sbi::eid::hsm, sbi::fid::hsm_hart_start, 1, 0x88000000, opaque_again);
    check(restart.error == 0, "hart_start after hart_stop", static_cast<std::uint64_t>(restart.error));
    while (secondary_alive.load() != opaque_again) {
    }
    spins = 0;
    while (hart_status(1) != sbi::hsm_state::stopped && ++spins < 1000000) {
    }
    check(hart_status(1) == sbi::hsm_state::stopped, "hart 1 stopped again", hart_status(1));

    const std::uint64_t missing = hypercall(hc::check_exits, exit_bit::cpu_up | exit_bit::cpu_down |
                                                                  exit_bit::send_ipi | exit_bit::halt);
    check(missing == 0, "VMM saw CpuUp, CpuDown, SendIPI and Halt", missing);
    shutdown();
}
