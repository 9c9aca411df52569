// The EL2 world switch and exception vectors.
//
// axvcpu_aarch64_run_guest (x0 = ctx) pushes x29, x30 and `ctx` on SP_EL2,
// loads the guest's x0..x30, ELR_EL2 and SPSR_EL2 from `ctx` and erets
// (the guest's SP_EL0 and SP_EL1 are switched by bind/unbind, see
// SysRegState). The next exception from the guest lands in the lower-EL
// half of axvcpu_aarch64_vectors, which saves the guest state back into
// `ctx` (found in the host frame on SP_EL2, which the guest cannot touch)
// and returns from run_guest with the exit in x0 (see is_sync_exit). No
// other register is touched, so the host's view of a guest is exactly its
// GuestContext.
//
// run_guest does not follow the C calling convention: it returns with
// x1..x18, x22..x28 and x30 holding guest values, and keeps only x19..x21,
// x29 and SP. Its C++ caller, enter_guest() below, says so in an asm
// clobber list, so the compiler saves the other callee-saved registers
// once per function, not once per guest entry, and keeps three values (a
// VMM loop's vCPU, result slot and exit kind) in registers across the
// switch; x21 costs one load, as it pairs with the context pointer on entry.
// axvcpu_aarch64_enter_guest is the same switch behind the C ABI.
//
// Exceptions taken at EL2 itself (current-EL half) are the host's: they are
// saved in a HostTrapFrame and passed to axvcpu_aarch64_host_exception(),
// which the host defines; if it returns, the host context is restored.
//
// The code is a top-level asm block in a COMDAT section group: every TU that
// includes this header emits it, and the linker keeps exactly one copy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/aarch64/context.hpp"

// EL2 code and A64 asm: on another target it would fail in the assembler.
#if !defined(__aarch64__)
#error "arch/aarch64/world_switch.hpp is for aarch64 targets only"
#endif

namespace axvcpu::aarch64 {

// Which lower-EL vector an exit took, (group << 2) | type.
enum class ExitKind : std::uint64_t {
    Sync = 8,
    Irq = 9,
    Fiq = 10,
    SError = 11,
    Aarch32Sync = 12,  // 12..15: anything from an AArch32 guest
};

// What enter_guest returns: after a synchronous exception from an AArch64
// guest, ESR_EL2 itself (bit 63 clear: ESR_EL2[63:56] are RES0), so the
// common exit needs no second look at the syndrome; after any other, the
// bitwise NOT of its ExitKind (bit 63 set).
[[nodiscard]] constexpr bool is_sync_exit(std::uint64_t exit) noexcept { return (exit >> 63) == 0; }
[[nodiscard]] constexpr ExitKind exit_kind(std::uint64_t exit) noexcept {
    return is_sync_exit(exit) ? ExitKind::Sync : static_cast<ExitKind>(~exit);
}

// The host's registers when it took an exception at EL2.
struct HostTrapFrame {
    std::uint64_t x[31];
    std::uint64_t elr;
    std::uint64_t spsr;
    std::uint64_t pad;
};
static_assert(sizeof(HostTrapFrame) == 272);
static_assert(offsetof(HostTrapFrame, x) == 0, "the asm saves x2..x30 into both frames alike");

}  // namespace axvcpu::aarch64

extern "C" {
// Runs the guest until its next exception to EL2; returns ESR_EL2 or an
// inverted ExitKind (see is_sync_exit). The C ABI entry; library code uses
// axvcpu::aarch64::enter_guest().
std::uint64_t axvcpu_aarch64_enter_guest(axvcpu::aarch64::GuestContext* ctx);
// The EL2 vector table (2 KiB aligned), for VBAR_EL2.
extern const char axvcpu_aarch64_vectors[];
// Defined by the host: an exception taken at EL2 (kind 0..7: SP_EL0 sync,
// irq, fiq, serror, then SP_EL2 sync, irq, fiq, serror).
void axvcpu_aarch64_host_exception(std::uint64_t kind, axvcpu::aarch64::HostTrapFrame* frame);
}

namespace axvcpu::aarch64 {

// Runs the guest until its next exception to EL2; returns ESR_EL2 or an
// inverted ExitKind (see is_sync_exit). The call clobbers every register
// but x19..x21, x29 and SP (see the header comment), so the compiler saves
// only values live across it.
inline std::uint64_t enter_guest(GuestContext* ctx) noexcept {
    register std::uint64_t x0 asm("x0") = reinterpret_cast<std::uint64_t>(ctx);
    asm volatile("bl axvcpu_aarch64_run_guest"
                 : "+r"(x0)
                 :
                 : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                   "x16", "x17", "x18", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x30",
                   "cc", "memory");
    return x0;
}

}  // namespace axvcpu::aarch64

#define AXVCPU_A64_STR2(x) #x
#define AXVCPU_A64_STR(x) AXVCPU_A64_STR2(x)

// clang-format off
asm(R"(
.pushsection .text.axvcpu_aarch64_world_switch,"axG",%progbits,axvcpu_aarch64_world_switch,comdat

// x2..x30 to (stp, str) or from (ldp, ldr) a 31-register frame at \base
// (GuestContext::x and HostTrapFrame::x share that layout); x0 and x1 are
// the callers' to move.
.macro axvcpu_a64_move_x2_x30 pair_op, op, base
    \pair_op x2, x3, [\base, #16]
    \pair_op x4, x5, [\base, #32]
    \pair_op x6, x7, [\base, #48]
    \pair_op x8, x9, [\base, #64]
    \pair_op x10, x11, [\base, #80]
    \pair_op x12, x13, [\base, #96]
    \pair_op x14, x15, [\base, #112]
    \pair_op x16, x17, [\base, #128]
    \pair_op x18, x19, [\base, #144]
    \pair_op x20, x21, [\base, #160]
    \pair_op x22, x23, [\base, #176]
    \pair_op x24, x25, [\base, #192]
    \pair_op x26, x27, [\base, #208]
    \pair_op x28, x29, [\base, #224]
    \op x30, [\base, #240]
.endm

.macro axvcpu_a64_host_vector kind
    .balign 0x80
    sub     sp, sp, #272
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       axvcpu_aarch64_host_trap
.endm

// Free two registers on SP_EL2 (the host's stack, out of the guest's
// reach); the result goes straight into the return register.
.macro axvcpu_a64_guest_vector kind
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mov     x0, #~\kind
    b       axvcpu_aarch64_guest_exit
.endm

    .balign 2048
    .globl  axvcpu_aarch64_vectors
    .type   axvcpu_aarch64_vectors, %object
axvcpu_aarch64_vectors:
    axvcpu_a64_host_vector 0
    axvcpu_a64_host_vector 1
    axvcpu_a64_host_vector 2
    axvcpu_a64_host_vector 3
    axvcpu_a64_host_vector 4
    axvcpu_a64_host_vector 5
    axvcpu_a64_host_vector 6
    axvcpu_a64_host_vector 7
    // The synchronous vector falls straight into the exit path, the one
    // guest exit that saves a branch (the path fits in the 0x80 bytes).
    .balign 0x80
axvcpu_a64_sync_vector:
    stp     x0, x1, [sp, #-16]!
    mrs     x0, esr_el2
axvcpu_aarch64_guest_exit:
    // [sp] = guest x0, x1; the host frame is just above it. x0 = result.
    ldr     x1, [sp, #16 + )" AXVCPU_A64_STR(AXVCPU_A64_HOST_FRAME_CTX) R"(]
    axvcpu_a64_move_x2_x30 stp, str, x1
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x1, #0]
    mrs     x2, elr_el2
    mrs     x3, spsr_el2
    stp     x2, x3, [x1, #)" AXVCPU_A64_STR(AXVCPU_A64_CTX_ELR) R"(]
    ldp     x19, x20, [sp, #)" AXVCPU_A64_STR(AXVCPU_A64_HOST_FRAME_X19) R"(]
    ldr     x21, [sp, #)" AXVCPU_A64_STR(AXVCPU_A64_HOST_FRAME_X21) R"(]
    ldp     x29, x30, [sp], #)" AXVCPU_A64_STR(AXVCPU_A64_HOST_FRAME_SIZE) R"(
    // Returns from axvcpu_aarch64_run_guest.
    ret
.if . - axvcpu_a64_sync_vector > 0x80
    .error "the guest exit path overflows the synchronous vector"
.endif
    axvcpu_a64_guest_vector 9
    axvcpu_a64_guest_vector 10
    axvcpu_a64_guest_vector 11
    axvcpu_a64_guest_vector 12
    axvcpu_a64_guest_vector 13
    axvcpu_a64_guest_vector 14
    axvcpu_a64_guest_vector 15
    .size   axvcpu_aarch64_vectors, . - axvcpu_aarch64_vectors

.purgem axvcpu_a64_host_vector
.purgem axvcpu_a64_guest_vector

    .balign 16
    .globl  axvcpu_aarch64_run_guest
    .type   axvcpu_aarch64_run_guest, %function
axvcpu_aarch64_run_guest:
    // Host frame: x29, x30, x19, x20, x21, then ctx (for the exit path).
    stp     x29, x30, [sp, #-)" AXVCPU_A64_STR(AXVCPU_A64_HOST_FRAME_SIZE) R"(]!
    stp     x19, x20, [sp, #)" AXVCPU_A64_STR(AXVCPU_A64_HOST_FRAME_X19) R"(]
    stp     x21, x0, [sp, #)" AXVCPU_A64_STR(AXVCPU_A64_HOST_FRAME_X21) R"(]
    ldp     x1, x2, [x0, #)" AXVCPU_A64_STR(AXVCPU_A64_CTX_ELR) R"(]
    msr     elr_el2, x1
    msr     spsr_el2, x2
    axvcpu_a64_move_x2_x30 ldp, ldr, x0
    // x0 last: it held the context pointer.
    ldp     x0, x1, [x0, #0]
    eret
    .size   axvcpu_aarch64_run_guest, . - axvcpu_aarch64_run_guest


    .balign 16
    .globl  axvcpu_aarch64_enter_guest
    .type   axvcpu_aarch64_enter_guest, %function
axvcpu_aarch64_enter_guest:
    // The C ABI wrapper: keep x22..x28 and x30, which run_guest hands back
    // clobbered (x21 rides along in the first pair).
    stp     x29, x30, [sp, #-80]!
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    bl      axvcpu_aarch64_run_guest
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp], #80
    ret
    .size   axvcpu_aarch64_enter_guest, . - axvcpu_aarch64_enter_guest

    .type   axvcpu_aarch64_host_trap, %function
axvcpu_aarch64_host_trap:
    // x0 = kind; the vector saved x0, x1 in the 272-byte HostTrapFrame.
    axvcpu_a64_move_x2_x30 stp, str, sp
    mrs     x1, elr_el2
    mrs     x2, spsr_el2
    stp     x1, x2, [sp, #248]
    mov     x1, sp
    bl      axvcpu_aarch64_host_exception
    ldp     x1, x2, [sp, #248]
    msr     elr_el2, x1
    msr     spsr_el2, x2
    axvcpu_a64_move_x2_x30 ldp, ldr, sp
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #272
    eret
    .size   axvcpu_aarch64_host_trap, . - axvcpu_aarch64_host_trap

.purgem axvcpu_a64_move_x2_x30
.popsection
)");
// clang-format on
