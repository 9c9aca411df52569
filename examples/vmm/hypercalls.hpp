// The example VMM's hypercalls: one numbering on every arch, shared by the
// VMM and the test guests (this header needs nothing but <cstdint>, so a
// guest can include it as it is).
//
// How a guest makes one is the arch's calling convention (aarch64: `hvc #0`,
// number in x0, arguments x1..x6, answer in x0; riscv64: SBI ecall to the
// AxVisor extension, number in a6, arguments a0..a5, answer in a0). The
// numbers below are what the VMM sees as `exit::Hypercall::nr`.
//
// A user's guest needs none of these: it is judged by its power-off alone
// (see the per-arch README). The test guests use them to report results
// and to ask the VMM for checks only the VMM can make.
#pragma once

#include <cstdint>

namespace vmm::hypercall {

inline constexpr std::uint64_t base = 0x4856'0000;  // "HV"

// The test guests' ABI: answered only in a VM whose description sets
// test_guest (any other gets -1 for every number).
// Answered by the VMM core on every arch.
inline constexpr std::uint64_t hello = base + 0x00;        // arg0 = test id: turns on that test's VMM-side checks; returns the VM id
inline constexpr std::uint64_t result = base + 0x01;       // arg0 = 0: pass, else a failure code (arg1: detail, printed)
inline constexpr std::uint64_t sum = base + 0x02;          // returns arg0 + ... + arg5
inline constexpr std::uint64_t inject = base + 0x04;       // injects vectors arg0 .. arg0 + arg1 - 1 (arg1 = 0: one); returns how many were refused (past inject_limit, all)
inline constexpr std::uint64_t nop = base + 0x06;          // returns 0
inline constexpr std::uint64_t check_exits = base + 0x0a;  // arg0 = exit kinds the guest caused (bit i: AxVCpuExitReason alternative i); returns those the VMM never saw from the caller's VM
inline constexpr std::uint64_t set_quiet = base + 0x0b;    // arg0 != 0: stop tracing each exit; 0: trace again
inline constexpr std::uint64_t timer_fires = base + 0x0c;  // returns how many guest timers fired through host timers (~0: none go that way)
inline constexpr std::uint64_t count_exits = base + 0x15;  // arg0 = GPA of the guest's exit counts by kind since its last count_exits (this call included), arg1 = the kinds to compare; returns those that differ from the VMM's count of the caller's VM's exits, and fails the run if any

// Answered by one arch's board (the per-arch README says which).
inline constexpr std::uint64_t check_regs = base + 0x03;     // aarch64: register-integrity round
inline constexpr std::uint64_t host_timer = base + 0x05;     // aarch64 (EL2 timer), x86_64 (PIT): arg0 != 0 fires the host timer in arg0 ticks; returns how many fired
inline constexpr std::uint64_t bench = base + 0x07;          // aarch64: arg0 = measurement id, arg1 = instructions (printed)
inline constexpr std::uint64_t bench_raw = base + 0x08;      // aarch64, x86_64: the VMM answers from its hand-written benchmark loop until bench_end
inline constexpr std::uint64_t ack_vi = base + 0x09;         // aarch64 HCR_EL2.VI builds: returns the vector being delivered (1023: none)
inline constexpr std::uint64_t ack_external = base + 0x0d;   // riscv64: withdraws the external interrupt, as a PLIC claim would
inline constexpr std::uint64_t interleave = base + 0x0e;     // riscv64: arg0 != 0: another VM's vCPU takes the hart between two runs
inline constexpr std::uint64_t bench_begin = base + 0x0f;    // all arches: the VMM answers from its benchmark loop until bench_end
inline constexpr std::uint64_t bench_end = base + 0x10;
inline constexpr std::uint64_t console_bytes = base + 0x11;  // riscv64: arg0 = console bytes the guest read; returns 0 if the policy counted as many
inline constexpr std::uint64_t expect_resume = base + 0x12;  // riscv64: arg0 = resume address, arg1 = opaque of the next non-retentive suspend
inline constexpr std::uint64_t resumes_seen = base + 0x13;   // riscv64: such suspends verified so far
inline constexpr std::uint64_t ldst_counts = base + 0x14;    // aarch64: arg0..arg2 = loads, stores, refused accesses the guest made, arg3 = atomics run; returns 0 if the VMM checked as many
inline constexpr std::uint64_t feed_list_register = base + 0x16;  // aarch64: puts INTID arg0 pending, priority arg1, Group 1, in a free list register of the caller as a VMM's GIC model would (deliver_list_register); returns 0, or 1 if none was free or arg0 is past 1019
inline constexpr std::uint64_t given_back = base + 0x17;     // aarch64: what the caller's list registers fed that way held at its last CPU_OFF: INTID | pending << 32 | active << 33 of the last given back, ~0 if none

// The most vectors one inject tries (more than any arch's interrupt IDs or
// queue hold); the rest of a larger count are refused without a try.
inline constexpr std::uint64_t inject_limit = 1024;

// The answer to a number nobody knows.
inline constexpr std::uint64_t unknown = ~std::uint64_t{0};

}  // namespace vmm::hypercall
