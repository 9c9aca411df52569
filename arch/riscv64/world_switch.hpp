// The world switch (top-level asm) and the guest-memory access helper (inline asm).
//
// The code sits in a COMDAT section group named after its symbols, so every
// translation unit that includes this header emits it and the linker keeps
// exactly one copy per final link (test/riscv64/two_tu_*.cpp prove it).
//
//   axvcpu_rv64_run_guest (a0 = ctx)
//     Saves the host's ra, sp, gp, tp, s0, trap vector and sscratch in
//     ctx->host, swaps the guest's HS-level sstatus in, sets hstatus.SPV,
//     loads all 31 guest GPRs and sret's into the guest. Any trap from the
//     guest lands at the exit label, which saves the 31 GPRs, sepc and the
//     guest's sstatus into ctx->guest, clears hstatus.SPV, restores the
//     host and returns the trap's scause in a0. The rest of hstatus is left
//     as the trap wrote it: it is the bound guest's (context.hpp,
//     HypervisorStatus).
//     It does not follow the C calling convention: it returns with every
//     register but s0, sp, gp and tp holding guest values. Its C++ caller,
//     enter_guest() below, says so in an asm clobber list, so the compiler
//     saves s1..s11 once per function, not once per guest entry, and
//     reloads a value it needs after the switch from its frame (one load,
//     where a register the switch kept would cost a store and a load on
//     every entry). s0 is kept because it may be the frame pointer, which
//     an asm statement cannot clobber.
//     Call with sstatus.SIE clear, on a hart whose hstatus, hgatp and VS
//     CSRs hold this guest.
//
//   axvcpu_rv64_refuse_entry: the same convention, returns ~0 (no scause
//     has that value) without touching the hart; VCpu points at it while
//     unbound.
//
//   std::uint64_t axvcpu_rv64_enter_guest(SwitchContext* ctx)
//     run_guest behind the C ABI.
//
// guest_access<Op>(addr, value), below, is the other half: one hypervisor
// load or store as the guest would see it.
#pragma once

#include <cstdint>

#include "arch/riscv64/context.hpp"

#if !(defined(__riscv) && __riscv_xlen == 64)
#error "arch/riscv64/world_switch.hpp is for riscv64 targets only"
#endif

#define AXVCPU_RV64_STR2(x) #x
#define AXVCPU_RV64_STR(x) AXVCPU_RV64_STR2(x)
#define AXVCPU_RV64_OFF(name) AXVCPU_RV64_STR(AXVCPU_RV64_##name)

static_assert(axvcpu::riscv64::offset::guest_x == 0, "the GPR save code below assumes x[] at offset 0");
// The one hstatus bit the switch sets on entry and clears on exit.
#define AXVCPU_RV64_HSTATUS_SPV 0x80
static_assert(axvcpu::riscv64::csr::hstatus_bits::spv == AXVCPU_RV64_HSTATUS_SPV);

asm(R"(
.pushsection .text.axvcpu_rv64_world_switch,"axG",@progbits,axvcpu_rv64_world_switch,comdat
# Uncompressed, so the exit path after the jal is 4-byte aligned.
.option push
.option norvc
.globl axvcpu_rv64_run_guest
.type axvcpu_rv64_run_guest, @function
.balign 4
axvcpu_rv64_run_guest:
    sd ra, )" AXVCPU_RV64_OFF(HOST_RA) R"((a0)
    sd sp, )" AXVCPU_RV64_OFF(HOST_SP) R"((a0)
    sd gp, )" AXVCPU_RV64_OFF(HOST_GP) R"((a0)
    sd tp, )" AXVCPU_RV64_OFF(HOST_TP) R"((a0)
    sd s0, )" AXVCPU_RV64_OFF(HOST_S0) R"((a0)
    # The guest's SPP/SPIE decide where sret goes.
    ld t0, )" AXVCPU_RV64_OFF(GUEST_SSTATUS) R"((a0)
    csrrw t0, sstatus, t0
    sd t0, )" AXVCPU_RV64_OFF(HOST_SSTATUS) R"((a0)
    # hstatus is the guest's already (bind) but for SPV, which sret needs
    # to enter V=1 and the exit clears again.
    li t0, )" AXVCPU_RV64_STR(AXVCPU_RV64_HSTATUS_SPV) R"(
    csrs hstatus, t0
    ld t0, )" AXVCPU_RV64_OFF(GUEST_SEPC) R"((a0)
    csrw sepc, t0
    # Guest traps must come back here, not to the host's handler: the exit
    # path follows the jal, which leaves its address in t0 (one
    # instruction where la takes two).
    jal t0, .Laxvcpu_rv64_entry_tail
    # stvec in direct mode needs 4-byte alignment, which norvc gives.
.Laxvcpu_rv64_guest_exit:
    # Swap: a0 = ctx, sscratch = the guest's a0.
    csrrw a0, sscratch, a0
    sd x1, 8(a0)
    sd x2, 16(a0)
    sd x3, 24(a0)
    sd x4, 32(a0)
    sd x5, 40(a0)
    sd x6, 48(a0)
    sd x7, 56(a0)
    sd x8, 64(a0)
    sd x9, 72(a0)
    sd x11, 88(a0)
    sd x12, 96(a0)
    sd x13, 104(a0)
    sd x14, 112(a0)
    sd x15, 120(a0)
    sd x16, 128(a0)
    sd x17, 136(a0)
    sd x18, 144(a0)
    sd x19, 152(a0)
    sd x20, 160(a0)
    sd x21, 168(a0)
    sd x22, 176(a0)
    sd x23, 184(a0)
    sd x24, 192(a0)
    sd x25, 200(a0)
    sd x26, 208(a0)
    sd x27, 216(a0)
    sd x28, 224(a0)
    sd x29, 232(a0)
    sd x30, 240(a0)
    sd x31, 248(a0)
    # The host's sscratch back, the guest's a0 out, in one swap.
    ld t1, )" AXVCPU_RV64_OFF(HOST_SSCRATCH) R"((a0)
    csrrw t0, sscratch, t1
    sd t0, 80(a0)
    ld t0, )" AXVCPU_RV64_OFF(HOST_STVEC) R"((a0)
    csrw stvec, t0
    csrr t0, sepc
    sd t0, )" AXVCPU_RV64_OFF(GUEST_SEPC) R"((a0)
    # The trap set SPV; left set, the host's next sret of its own would
    # enter the guest.
    li t0, )" AXVCPU_RV64_STR(AXVCPU_RV64_HSTATUS_SPV) R"(
    csrc hstatus, t0
    ld t0, )" AXVCPU_RV64_OFF(HOST_SSTATUS) R"((a0)
    csrrw t0, sstatus, t0
    sd t0, )" AXVCPU_RV64_OFF(GUEST_SSTATUS) R"((a0)
    ld ra, )" AXVCPU_RV64_OFF(HOST_RA) R"((a0)
    ld sp, )" AXVCPU_RV64_OFF(HOST_SP) R"((a0)
    ld gp, )" AXVCPU_RV64_OFF(HOST_GP) R"((a0)
    ld tp, )" AXVCPU_RV64_OFF(HOST_TP) R"((a0)
    ld s0, )" AXVCPU_RV64_OFF(HOST_S0) R"((a0)
    csrr a0, scause
    ret

.Laxvcpu_rv64_entry_tail:
    csrrw t0, stvec, t0
    sd t0, )" AXVCPU_RV64_OFF(HOST_STVEC) R"((a0)
    # sscratch carries ctx across the guest run to the exit path.
    csrrw t0, sscratch, a0
    sd t0, )" AXVCPU_RV64_OFF(HOST_SSCRATCH) R"((a0)
    ld x1, 8(a0)
    ld x2, 16(a0)
    ld x3, 24(a0)
    ld x4, 32(a0)
    ld x5, 40(a0)
    ld x6, 48(a0)
    ld x7, 56(a0)
    ld x8, 64(a0)
    ld x9, 72(a0)
    ld x11, 88(a0)
    ld x12, 96(a0)
    ld x13, 104(a0)
    ld x14, 112(a0)
    ld x15, 120(a0)
    ld x16, 128(a0)
    ld x17, 136(a0)
    ld x18, 144(a0)
    ld x19, 152(a0)
    ld x20, 160(a0)
    ld x21, 168(a0)
    ld x22, 176(a0)
    ld x23, 184(a0)
    ld x24, 192(a0)
    ld x25, 200(a0)
    ld x26, 208(a0)
    ld x27, 216(a0)
    ld x28, 224(a0)
    ld x29, 232(a0)
    ld x30, 240(a0)
    ld x31, 248(a0)
    ld x10, 80(a0)
    sret
.size axvcpu_rv64_run_guest, . - axvcpu_rv64_run_guest
.option pop

.globl axvcpu_rv64_refuse_entry
.type axvcpu_rv64_refuse_entry, @function
.balign 4
axvcpu_rv64_refuse_entry:
    li a0, -1
    ret
.size axvcpu_rv64_refuse_entry, . - axvcpu_rv64_refuse_entry

# The C ABI wrapper: keeps ra and s1..s11, which run_guest hands back
# clobbered, on the stack.
.globl axvcpu_rv64_enter_guest
.type axvcpu_rv64_enter_guest, @function
.balign 4
axvcpu_rv64_enter_guest:
    addi sp, sp, -96
    sd ra, 0(sp)
    sd s1, 8(sp)
    sd s2, 16(sp)
    sd s3, 24(sp)
    sd s4, 32(sp)
    sd s5, 40(sp)
    sd s6, 48(sp)
    sd s7, 56(sp)
    sd s8, 64(sp)
    sd s9, 72(sp)
    sd s10, 80(sp)
    sd s11, 88(sp)
    call axvcpu_rv64_run_guest
    ld ra, 0(sp)
    ld s1, 8(sp)
    ld s2, 16(sp)
    ld s3, 24(sp)
    ld s4, 32(sp)
    ld s5, 40(sp)
    ld s6, 48(sp)
    ld s7, 56(sp)
    ld s8, 64(sp)
    ld s9, 72(sp)
    ld s10, 80(sp)
    ld s11, 88(sp)
    addi sp, sp, 96
    ret
.size axvcpu_rv64_enter_guest, . - axvcpu_rv64_enter_guest

.popsection
)");

extern "C" {
// Runs the guest until its next trap to HS-mode and returns scause. The C
// ABI entry; library code uses axvcpu::riscv64::enter_guest().
std::uint64_t axvcpu_rv64_enter_guest(axvcpu::riscv64::SwitchContext* ctx);
// The two entries with run_guest's convention, for enter_guest() only.
void axvcpu_rv64_run_guest();
void axvcpu_rv64_refuse_entry();
}

namespace axvcpu::riscv64 {

// Which switch enter_guest() calls: the world switch, or the refusal an
// unbound vCPU gets.
using GuestEntry = void (*)();

// Calls `entry` (axvcpu_rv64_run_guest or axvcpu_rv64_refuse_entry) on
// `ctx` and returns its a0. The call clobbers every register but s0, sp,
// gp and tp (see the header comment), so the compiler saves only
// values live across it.
[[gnu::always_inline]] inline std::uint64_t enter_guest(GuestEntry entry, SwitchContext* ctx) noexcept {
    register std::uint64_t a0 asm("a0") = reinterpret_cast<std::uint64_t>(ctx);
    // In a register the call clobbers anyway, so the kept ones stay free
    // for the caller's values.
    register GuestEntry t0 asm("t0") = entry;
    asm volatile("jalr ra, 0(t0)"
                 : "+r"(a0), "+r"(t0)
                 :
                 : "ra", "t1", "t2", "t3", "t4", "t5", "t6", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
                   "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "memory");
    return a0;
}

// The hypervisor load/store instructions guest_access performs.
enum class GuestAccessOp : std::uint8_t { hlvx_hu, hlv_bu, hlv_d, hsv_b };

struct GuestAccess {
    std::uint64_t value = 0;  // what a load read (zero-extended); 0 after a fault
    std::uint64_t fault = 0;  // nonzero: the access faulted (a word, not a bool,
                              // so it stays in a register)
};

// One hypervisor load or store as the guest would see it: hlvx.hu (an
// instruction parcel, with execute permission), hlv.bu, hlv.d, or hsv.b of
// `store_value`, made with the bound guest's hstatus (its SPVP, which the
// guest's last trap wrote, is the guest's privilege) under the current
// vsatp and hgatp. A fault does not reach the host's trap handler: stvec
// points at the access's own recovery label meanwhile, and the result says
// `fault`. The fault trap overwrites sepc, scause, stval, htval, htinst,
// sstatus.SPP/SPIE/SIE and hstatus.GVA, so read those first.
//
// Inline asm rather than a call, with the stvec swap inside, so the caller
// saves no registers and the value and fault flag stay in registers: every
// MMIO exit reads the faulting instruction with it.
template <GuestAccessOp Op>
[[gnu::always_inline]] inline GuestAccess guest_access(std::uint64_t addr, std::uint64_t store_value = 0) noexcept {
    std::uint64_t value, fault, saved_stvec;
    asm volatile(
        ".option push\n.option arch, +h\n"
        "lla %[stvec], 1f\n"
        "csrrw %[stvec], stvec, %[stvec]\n"
        "li %[fault], 0\n"
        ".if %[op] == 0\n hlvx.hu %[value], (%[addr])\n"
        ".elseif %[op] == 1\n hlv.bu %[value], (%[addr])\n"
        ".elseif %[op] == 2\n hlv.d %[value], (%[addr])\n"
        ".else\n hsv.b %[store], (%[addr])\n li %[value], 0\n.endif\n"
        "j 2f\n"
        // stvec in direct mode needs 4-byte alignment; the padding is
        // never executed.
        ".balign 4\n"
        "1: li %[fault], 1\n"
        "li %[value], 0\n"
        "2: csrw stvec, %[stvec]\n"
        ".option pop"
        : [value] "=&r"(value), [fault] "=&r"(fault), [stvec] "=&r"(saved_stvec)
        : [addr] "r"(addr), [store] "r"(store_value), [op] "i"(static_cast<unsigned>(Op))
        : "memory");
    // The loads zero-extend: saying so lets the compiler drop its own
    // masking of a read instruction parcel.
    if constexpr (Op == GuestAccessOp::hlvx_hu) {
        if (value > 0xffff) __builtin_unreachable();
    } else if constexpr (Op == GuestAccessOp::hlv_bu) {
        if (value > 0xff) __builtin_unreachable();
    }
    return GuestAccess{value, fault};
}

}  // namespace axvcpu::riscv64
