// Test guest: arms its timer with SBI set_timer and waits for it in `wfi`
// with nothing else pending, as an idle kernel does. On the default build
// the deadline arms a host timer; on hyp-sstc.elf it lands in vstimecmp,
// which the VMM must watch while the vCPU is halted.
#include "guest_rt.hpp"

using namespace guest;

GUEST_RUNTIME_SUPPORT

namespace {
volatile std::uint64_t timer_irqs = 0;
constexpr std::uint64_t sie_stie = 1 << 5;
constexpr std::uint64_t ticks_10ms = 100'000;  // QEMU virt's timebase is 10 MHz
}  // namespace

extern "C" void guest_trap(TrapFrame& frame) {
    if (frame.scause == ((1ull << 63) | 5)) {
        timer_irqs = timer_irqs + 1;
        ecall(sbi::eid::time, sbi::fid::time_set_timer, ~0ull);  // acknowledge, no new deadline
        return;
    }
    unexpected_trap(frame);
}

extern "C" void guest_main(std::uint64_t, std::uint64_t) {
    print("guest: timer + wfi test\n");
    asm volatile("csrs sie, %0" ::"r"(sie_stie));
    asm volatile("csrsi sstatus, 2");
    for (int round = 0; round < 3; ++round) {
        const std::uint64_t deadline = rdtime() + ticks_10ms;
        const std::uint64_t before = timer_irqs;
        ecall(sbi::eid::time, sbi::fid::time_set_timer, deadline);
        while (timer_irqs == before) asm volatile("wfi");
        const std::uint64_t woke = rdtime();
        check(woke >= deadline, "woke before the deadline", woke);
        check(woke - deadline < 50 * ticks_10ms, "woke long after the deadline", woke - deadline);
        print("guest: round ", Dec{static_cast<std::uint64_t>(round)}, ": timer woke the vCPU ",
              Dec{(woke - deadline) / 10}, " us after its deadline\n");
    }
    asm volatile("csrci sstatus, 2");
    check(timer_irqs == 3, "one timer interrupt per round", timer_irqs);
    shutdown();
}
