// The guest register context the world switch saves and restores, and the
// EL1 state bind/unbind switch. Offsets used by the assembly are macros (the
// assembler needs literals) checked against the struct layout here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#define AXVCPU_A64_CTX_X0 0
#define AXVCPU_A64_CTX_ELR 248
#define AXVCPU_A64_CTX_SPSR 256
#define AXVCPU_A64_CTX_SIZE 264

// The host frame the world switch pushes on SP_EL2 while a guest runs:
// x29, x30 (the return address), x19, x20, x21, then the context pointer. The
// exit vector finds the context there. Other host registers are the
// caller's to keep (see axvcpu_aarch64_run_guest in world_switch.hpp).
#define AXVCPU_A64_HOST_FRAME_SIZE 48
#define AXVCPU_A64_HOST_FRAME_FP 0
#define AXVCPU_A64_HOST_FRAME_X19 16
#define AXVCPU_A64_HOST_FRAME_X21 32
#define AXVCPU_A64_HOST_FRAME_CTX 40

namespace axvcpu::aarch64 {

// Everything a guest can change without trapping that the host's EL2 code
// would clobber: x0..x30 and the state an exception to EL2 overwrites. The
// guest's stack pointers are not here: EL2 code runs on SP_EL2 and never
// touches SP_EL0 or SP_EL1, so they live in El1State, switched by
// bind/unbind instead of on every exit.
struct GuestContext {
    std::array<std::uint64_t, 31> x{};
    std::uint64_t elr = 0;   // the guest PC
    std::uint64_t spsr = 0;  // the guest PSTATE
};

static_assert(offsetof(GuestContext, x) == AXVCPU_A64_CTX_X0);
static_assert(offsetof(GuestContext, elr) == AXVCPU_A64_CTX_ELR);
static_assert(offsetof(GuestContext, spsr) == AXVCPU_A64_CTX_SPSR);
static_assert(sizeof(GuestContext) == AXVCPU_A64_CTX_SIZE);
static_assert(AXVCPU_A64_HOST_FRAME_SIZE % 16 == 0, "SP_EL2 must stay 16-byte aligned");
static_assert(AXVCPU_A64_HOST_FRAME_FP + 16 <= AXVCPU_A64_HOST_FRAME_X19 &&
              AXVCPU_A64_HOST_FRAME_X19 + 16 <= AXVCPU_A64_HOST_FRAME_CTX &&
              AXVCPU_A64_HOST_FRAME_CTX + 8 <= AXVCPU_A64_HOST_FRAME_SIZE, "host frame fields overlap");

// SPSR for the first entry: EL1h with D, A, I and F masked, as on reset.
inline constexpr std::uint64_t spsr_el1h_masked = 0x3C5;
// SCTLR_EL1's reset value: RES1 bits only, MMU and caches off, little endian.
inline constexpr std::uint64_t sctlr_el1_reset = 0x30D0'0800;

// The guest's EL1 (and EL0) system registers. They stay live in hardware
// while the vCPU is bound, since EL2 code never uses them (a host running
// at EL2 with SPSel = 0, on SP_EL0, would break this); bind loads them and
// unbind saves them, so vCPUs of different VMs can share a CPU.
struct El1State {
    std::uint64_t sp_el0 = 0;
    std::uint64_t sp_el1 = 0;
    std::uint64_t sctlr = sctlr_el1_reset;
    std::uint64_t cpacr = 0;
    std::uint64_t ttbr0 = 0;
    std::uint64_t ttbr1 = 0;
    std::uint64_t tcr = 0;
    std::uint64_t esr = 0;
    std::uint64_t far = 0;
    std::uint64_t afsr0 = 0;
    std::uint64_t afsr1 = 0;
    std::uint64_t mair = 0;
    std::uint64_t amair = 0;
    std::uint64_t vbar = 0;
    std::uint64_t contextidr = 0;
    std::uint64_t tpidr_el1 = 0;
    std::uint64_t tpidr_el0 = 0;
    std::uint64_t tpidrro_el0 = 0;
    std::uint64_t par = 0;
    std::uint64_t elr_el1 = 0;
    std::uint64_t spsr_el1 = 0;
    std::uint64_t cntkctl = 0;
    std::uint64_t csselr = 0;
    std::uint64_t mdscr = 0;
    std::uint64_t cntv_ctl = 0;
    std::uint64_t cntv_cval = 0;
};

// FP/SIMD registers: the host's EL2 code is built without them
// (-mgeneral-regs-only), so they too are switched only by bind/unbind.
struct alignas(16) FpState {
    std::array<std::uint64_t, 64> v{};  // q0..q31
    std::uint64_t fpcr = 0;
    std::uint64_t fpsr = 0;
};

// The guest's GICv3 virtual CPU interface state.
struct VGicState {
    std::uint64_t hcr = 0;
    std::uint64_t vmcr = 0;
    std::uint64_t ap0r0 = 0;
    std::uint64_t ap1r0 = 0;
    std::array<std::uint64_t, 16> lr{};
};

}  // namespace axvcpu::aarch64
