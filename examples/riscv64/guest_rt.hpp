// A tiny runtime for the test guests (VS-mode, bare: no paging, so virtual
// = guest-physical). Each guest defines guest_main(hartid, a1) and may
// define guest_interrupt/guest_exception handlers; guest_rt.hpp provides
// the entry, the trap vector, SBI calls, printing and the hypercall
// protocol of the example hypervisor (README.md).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "arch/riscv64/sbi.hpp"
#include "axvcpu/fmt.hpp"
#include "examples/vmm/hypercalls.hpp"

namespace guest {

namespace sbi = axvcpu::riscv64::sbi;

inline constexpr std::uint64_t echo_device = 0x0a000000;

namespace hc = vmm::hypercall;

// Exit kinds, as bits of the VMM's exit tally (AxVCpuExitReason's order).
namespace exit_bit {
inline constexpr std::uint64_t hypercall = 1 << 0, mmio_read = 1 << 1, mmio_write = 1 << 2,
                               external_interrupt = 1 << 7, nested_page_fault = 1 << 8, halt = 1 << 9,
                               cpu_up = 1 << 10, cpu_down = 1 << 11, send_ipi = 1 << 15;
}

// Guests call their hypervisor with the same SBI calling convention.
using sbi::ecall;

inline std::uint64_t hypercall(std::uint64_t nr, std::uint64_t arg0 = 0, std::uint64_t arg1 = 0) {
    // The hypervisor's answer is in a0 (set_return_value).
    return static_cast<std::uint64_t>(ecall(sbi::eid::axvisor_hypercall, nr, arg0, arg1).error);
}

struct Console {
    void write(std::string_view text) {
        // DBCN write takes a guest-physical address: with paging off it is
        // the pointer itself. It may write part of the text (the count is
        // in a1): the rest is written again.
        while (!text.empty()) {
            const auto written =
                ecall(sbi::eid::dbcn, sbi::fid::dbcn_write, text.size(), reinterpret_cast<std::uint64_t>(text.data()), 0);
            if (written.error != 0 || written.value == 0 || written.value > text.size()) return;
            text.remove_prefix(written.value);
        }
    }
};

struct Hex {
    std::uint64_t value;
};
struct Dec {
    std::uint64_t value;
};
inline void put(Console& c, std::string_view text) { c.write(text); }
inline void put(Console& c, Hex h) { axvcpu::fmt::write_hex(c, h.value); }
inline void put(Console& c, Dec d) { axvcpu::fmt::write_dec(c, d.value); }

template <class... Parts>
void print(const Parts&... parts) {
    Console console;
    (put(console, parts), ...);
}

inline std::uint64_t failures = 0;

// Checks on the guest side: a failure is printed and reported to the VMM.
inline void check(bool ok, std::string_view what, std::uint64_t detail = 0) {
    if (ok) return;
    ++failures;
    print("guest: CHECK FAILED: ", what, " (", Hex{detail}, ")\n");
    hypercall(hc::result, failures, detail);
}

[[noreturn]] inline void shutdown() {
    print("guest: done, ", Dec{failures}, " failure(s)\n");
    ecall(sbi::eid::srst, sbi::fid::srst_system_reset, sbi::reset_type::shutdown, failures == 0 ? 0 : 1);
    for (;;) {
    }
}

inline std::uint64_t rdtime() {
    std::uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

struct TrapFrame {
    std::array<std::uint64_t, 32> x;  // x[0] unused
    std::uint64_t sepc, scause, stval;
};

// A trap the test did not expect: report it and fail the run.
[[noreturn]] inline void unexpected_trap(const TrapFrame& frame) {
    print("guest: unexpected trap scause=", Hex{frame.scause}, " sepc=", Hex{frame.sepc}, " stval=",
          Hex{frame.stval}, "\n");
    check(false, "unexpected trap", frame.scause);
    shutdown();
}

}  // namespace guest

extern "C" {
void guest_main(std::uint64_t hartid, std::uint64_t a1);
void guest_trap(guest::TrapFrame& frame);
void guest_trap_vector();
void guest_trap_vector_sscratch();
extern char __bss_start[], __bss_end[];
}

// Entry (hart 0 from the hypervisor, others from SBI hart_start): a
// 16 KiB stack per hart id, the trap vector, then guest_main.
asm(R"(
.pushsection .text.entry, "ax", @progbits
.globl _start
_start:
    la sp, __stacks_top
    slli t0, a0, 14
    sub sp, sp, t0
    la t0, guest_trap_vector
    csrw stvec, t0
    bnez a0, 2f
    # Hart 0 clears .bss before anything reads it.
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call guest_main
3:  j 3b

.balign 4
# Both vectors keep x1, x3..x31, sp as it was, sepc, scause and stval in a
# TrapFrame below sp, call guest_trap(frame) and return to its sepc.
.macro trap_frame_save
.irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\r, \r*8(sp)
.endr
.endm
.macro trap_frame_call
    csrr t0, sepc
    sd t0, 256(sp)
    csrr t0, scause
    sd t0, 264(sp)
    csrr t0, stval
    sd t0, 272(sp)
    mv a0, sp
    call guest_trap
    ld t0, 256(sp)
    csrw sepc, t0
.irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\r, \r*8(sp)
.endr
.endm
.globl guest_trap_vector
guest_trap_vector:
    addi sp, sp, -288
    trap_frame_save
    addi t0, sp, 288
    sd t0, 16(sp)
    trap_frame_call
    addi sp, sp, 288
    sret

# For a guest whose sp may hold anything when it traps (the chaos guest's
# random registers): its stack's top is in sscratch, swapped with sp on
# entry and back before sret.
.balign 4
.globl guest_trap_vector_sscratch
guest_trap_vector_sscratch:
    csrrw sp, sscratch, sp
    addi sp, sp, -288
    trap_frame_save
    csrr t0, sscratch
    sd t0, 16(sp)
    trap_frame_call
    addi sp, sp, 288
    csrrw sp, sscratch, sp
    sret
.popsection
)");

// In exactly one guest TU: what Boost.Outcome's terminate policy would call.
#define GUEST_RUNTIME_SUPPORT                                      \
    extern "C" [[noreturn]] void abort() {                         \
        guest::check(false, "abort");                              \
        guest::shutdown();                                         \
    }
