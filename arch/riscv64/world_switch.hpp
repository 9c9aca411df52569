// The world switch (top-level asm) and the guest-memory access helper (inline asm).
//
// The code sits in a COMDAT section group named after its symbols, so every
// translation unit that includes this header emits it and the linker keeps
// exactly one copy per final link (test/riscv64/two_tu_*.cpp prove it).
//
//   std::uint64_t axvcpu_rv64_enter_guest(SwitchContext* ctx)
//     Saves the host's callee-saved registers, trap vector and sscratch in
//     ctx->host, swaps the guest's HS-level sstatus/hstatus in, loads all 31
//     guest GPRs and sret's into the guest. Any trap from the guest lands at
//     the exit label, which saves the 31 GPRs, sepc and the guest's
//     sstatus/hstatus into ctx->guest, restores the host and returns the
//     trap's scause (VCpu calls it through a pointer that, while unbound,
//     points at a stub returning a cause no trap has).
//     Call with sstatus.SIE clear, on a hart whose hgatp/VS CSRs hold this
//     guest.
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
static_assert(axvcpu::riscv64::offset::host_s + 88 < axvcpu::riscv64::offset::host_sstatus);

asm(R"(
.pushsection .text.axvcpu_rv64_world_switch,"axG",@progbits,axvcpu_rv64_world_switch,comdat
.globl axvcpu_rv64_enter_guest
.type axvcpu_rv64_enter_guest, @function
.balign 4
axvcpu_rv64_enter_guest:
    sd ra, )" AXVCPU_RV64_OFF(HOST_RA) R"((a0)
    sd sp, )" AXVCPU_RV64_OFF(HOST_SP) R"((a0)
    sd gp, )" AXVCPU_RV64_OFF(HOST_GP) R"((a0)
    sd tp, )" AXVCPU_RV64_OFF(HOST_TP) R"((a0)
    addi t0, a0, )" AXVCPU_RV64_OFF(HOST_S) R"(
    sd s0, 0(t0)
    sd s1, 8(t0)
    sd s2, 16(t0)
    sd s3, 24(t0)
    sd s4, 32(t0)
    sd s5, 40(t0)
    sd s6, 48(t0)
    sd s7, 56(t0)
    sd s8, 64(t0)
    sd s9, 72(t0)
    sd s10, 80(t0)
    sd s11, 88(t0)
    # The guest's SPP/SPIE and SPV/SPVP decide where sret goes.
    ld t0, )" AXVCPU_RV64_OFF(GUEST_SSTATUS) R"((a0)
    csrrw t0, sstatus, t0
    sd t0, )" AXVCPU_RV64_OFF(HOST_SSTATUS) R"((a0)
    ld t0, )" AXVCPU_RV64_OFF(GUEST_HSTATUS) R"((a0)
    csrrw t0, hstatus, t0
    sd t0, )" AXVCPU_RV64_OFF(HOST_HSTATUS) R"((a0)
    ld t0, )" AXVCPU_RV64_OFF(GUEST_SEPC) R"((a0)
    csrw sepc, t0
    # Guest traps must come back here, not to the host's handler.
    la t0, .Laxvcpu_rv64_guest_exit
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

    # stvec in direct mode needs 4-byte alignment.
.balign 4
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
    csrr t0, sscratch
    sd t0, 80(a0)
    ld t0, )" AXVCPU_RV64_OFF(HOST_SSCRATCH) R"((a0)
    csrw sscratch, t0
    ld t0, )" AXVCPU_RV64_OFF(HOST_STVEC) R"((a0)
    csrw stvec, t0
    csrr t0, sepc
    sd t0, )" AXVCPU_RV64_OFF(GUEST_SEPC) R"((a0)
    ld t0, )" AXVCPU_RV64_OFF(HOST_SSTATUS) R"((a0)
    csrrw t0, sstatus, t0
    sd t0, )" AXVCPU_RV64_OFF(GUEST_SSTATUS) R"((a0)
    ld t0, )" AXVCPU_RV64_OFF(HOST_HSTATUS) R"((a0)
    csrrw t0, hstatus, t0
    sd t0, )" AXVCPU_RV64_OFF(GUEST_HSTATUS) R"((a0)
    ld ra, )" AXVCPU_RV64_OFF(HOST_RA) R"((a0)
    ld sp, )" AXVCPU_RV64_OFF(HOST_SP) R"((a0)
    ld gp, )" AXVCPU_RV64_OFF(HOST_GP) R"((a0)
    ld tp, )" AXVCPU_RV64_OFF(HOST_TP) R"((a0)
    addi t0, a0, )" AXVCPU_RV64_OFF(HOST_S) R"(
    ld s0, 0(t0)
    ld s1, 8(t0)
    ld s2, 16(t0)
    ld s3, 24(t0)
    ld s4, 32(t0)
    ld s5, 40(t0)
    ld s6, 48(t0)
    ld s7, 56(t0)
    ld s8, 64(t0)
    ld s9, 72(t0)
    ld s10, 80(t0)
    ld s11, 88(t0)
    csrr a0, scause
    ret
.size axvcpu_rv64_enter_guest, . - axvcpu_rv64_enter_guest

.popsection
)");

extern "C" {
std::uint64_t axvcpu_rv64_enter_guest(axvcpu::riscv64::SwitchContext* ctx);
}

namespace axvcpu::riscv64 {

// The hypervisor load/store instructions guest_access performs.
enum class GuestAccessOp : std::uint8_t { hlvx_hu, hlv_bu, hlv_d, hsv_b };

struct GuestAccess {
    std::uint64_t value = 0;  // what a load read (zero-extended); 0 after a fault
    std::uint64_t fault = 0;  // nonzero: the access faulted (a word, not a bool,
                              // so it stays in a register)
};

// One hypervisor load or store as the guest would see it: hlvx.hu (an
// instruction parcel, with execute permission), hlv.bu, hlv.d, or hsv.b of
// `store_value`, made with hstatus = `guest_hstatus` (its SPVP is the
// guest's privilege) under the current vsatp and hgatp; the host's hstatus
// is back when it returns. A fault does not reach the host's trap handler:
// stvec points at the access's own recovery label meanwhile, and the result
// says `fault`. The fault trap overwrites sepc, scause, stval, htval,
// htinst and sstatus.SPP/SPIE/SIE, so read those first.
//
// Inline asm rather than a call, with both CSR swaps inside, so the caller
// saves no registers and the value and fault flag stay in registers: every
// MMIO exit reads the faulting instruction with it.
template <GuestAccessOp Op>
[[gnu::always_inline]] inline GuestAccess guest_access(std::uint64_t guest_hstatus, std::uint64_t addr, std::uint64_t store_value = 0) noexcept {
    std::uint64_t value, fault, saved_stvec;
    asm volatile(
        ".option push\n.option arch, +h\n"
        "lla %[stvec], 1f\n"
        "csrrw %[stvec], stvec, %[stvec]\n"
        "csrrw %[hstatus], hstatus, %[hstatus]\n"
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
        "2: csrw hstatus, %[hstatus]\n"
        "csrw stvec, %[stvec]\n"
        ".option pop"
        : [value] "=&r"(value), [fault] "=&r"(fault), [stvec] "=&r"(saved_stvec), [hstatus] "+&r"(guest_hstatus)
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
