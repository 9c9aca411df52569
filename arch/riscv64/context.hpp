// The guest state the policy switches: GuestContext, which the world switch
// saves and restores on every exit (with the byte offsets its assembly uses,
// each checked against the struct layout here, so the two cannot drift), and
// the groups bind/unbind move between the hart and memory, each a type that
// loads and saves itself (HypervisorStatus, SharedSupervisorCsrs,
// SysRegState, FpState, TimerState, InterruptState).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "arch/riscv64/sysregs.hpp"

#if !(defined(__riscv) && __riscv_xlen == 64)
#error "arch/riscv64/context.hpp is for riscv64 targets only"
#endif

namespace axvcpu::riscv64 {

// Host state the world switch gives back to its caller: the registers it
// keeps (ra, sp, gp and tp, which a kernel may use for globals and per-CPU
// data, and s0; the compiler saves s1..s11 itself, see world_switch.hpp)
// and the trap set-up the guest run borrows.
struct HostContext {
    std::uint64_t ra = 0, sp = 0, gp = 0, tp = 0, s0 = 0;
    std::uint64_t sstatus = 0, stvec = 0, sscratch = 0;
};

// Guest state switched on every entry and exit. x[0] is never loaded or
// stored (x0 is hard-wired) but keeps x[i] indexed by register number.
struct GuestContext {
    std::array<std::uint64_t, 32> x{};
    std::uint64_t sepc = 0;
    // HS-level sstatus as it was when the guest trapped: SPP and SPIE
    // describe the guest, and FS carries the hardware's Dirty mark when the
    // guest wrote FP registers, so it is swapped with the host's on every
    // switch. (hstatus stays on the hart while bound: HypervisorStatus.)
    std::uint64_t sstatus = 0;
};

struct SwitchContext {
    GuestContext guest;
    HostContext host;
};

// The assembly is top-level asm, which takes no operands, so the offsets
// are macros it can paste in; the constants below are the C++ names.
#define AXVCPU_RV64_GUEST_X 0
#define AXVCPU_RV64_GUEST_SEPC 256
#define AXVCPU_RV64_GUEST_SSTATUS 264
#define AXVCPU_RV64_HOST_RA 272
#define AXVCPU_RV64_HOST_SP 280
#define AXVCPU_RV64_HOST_GP 288
#define AXVCPU_RV64_HOST_TP 296
#define AXVCPU_RV64_HOST_S0 304
#define AXVCPU_RV64_HOST_SSTATUS 312
#define AXVCPU_RV64_HOST_STVEC 320
#define AXVCPU_RV64_HOST_SSCRATCH 328
#define AXVCPU_RV64_CONTEXT_SIZE 336

namespace offset {
inline constexpr std::size_t guest_x = AXVCPU_RV64_GUEST_X;
inline constexpr std::size_t guest_sepc = AXVCPU_RV64_GUEST_SEPC;
inline constexpr std::size_t guest_sstatus = AXVCPU_RV64_GUEST_SSTATUS;
inline constexpr std::size_t host = AXVCPU_RV64_HOST_RA;
inline constexpr std::size_t host_ra = AXVCPU_RV64_HOST_RA;
inline constexpr std::size_t host_sp = AXVCPU_RV64_HOST_SP;
inline constexpr std::size_t host_gp = AXVCPU_RV64_HOST_GP;
inline constexpr std::size_t host_tp = AXVCPU_RV64_HOST_TP;
inline constexpr std::size_t host_s0 = AXVCPU_RV64_HOST_S0;
inline constexpr std::size_t host_sstatus = AXVCPU_RV64_HOST_SSTATUS;
inline constexpr std::size_t host_stvec = AXVCPU_RV64_HOST_STVEC;
inline constexpr std::size_t host_sscratch = AXVCPU_RV64_HOST_SSCRATCH;
inline constexpr std::size_t size = AXVCPU_RV64_CONTEXT_SIZE;
}  // namespace offset

static_assert(offsetof(SwitchContext, guest) + offsetof(GuestContext, x) == offset::guest_x);
static_assert(offsetof(SwitchContext, guest) + offsetof(GuestContext, sepc) == offset::guest_sepc);
static_assert(offsetof(SwitchContext, guest) + offsetof(GuestContext, sstatus) == offset::guest_sstatus);
static_assert(offsetof(SwitchContext, host) == offset::host);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, ra) == offset::host_ra);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, sp) == offset::host_sp);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, gp) == offset::host_gp);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, tp) == offset::host_tp);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, s0) == offset::host_s0);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, sstatus) == offset::host_sstatus);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, stvec) == offset::host_stvec);
static_assert(offsetof(SwitchContext, host) + offsetof(HostContext, sscratch) == offset::host_sscratch);
static_assert(sizeof(SwitchContext) == offset::size);

// A CSR the guest and the host share, one register for both: the guest's
// value on the hart while the vCPU is bound, the host's there otherwise.
template <unsigned Csr>
struct SwappedCsr {
    std::uint64_t guest = 0;
    std::uint64_t host = 0;

    void load() noexcept { host = csr::swap<Csr>(guest); }
    void save() noexcept { guest = csr::swap<Csr>(host); }
};

// The guest's hstatus, on the hart while the vCPU is bound (one bound vCPU
// per hart, as for the VS CSRs), and the host's meanwhile. Only the
// hardware changes it during a run, and only in the fields that describe
// the last trap (SPV, SPVP, GVA), which is why the world switch need not
// save it: the guest's SPVP, which guest_access and an injected exception
// need, is in the CSR after an exit. SPV is the exception: the switch sets
// it for the run and clears it at the exit, so the host never sees 1 there
// (an sret of its own, say returning from a trap it took before the run,
// would otherwise enter the guest's VS-mode). `guest` therefore never has
// SPV set. While bound, the host's HU, SPVP and VGEIN are not in effect.
using HypervisorStatus = SwappedCsr<csr::hstatus>;

// The supervisor CSRs VS-mode uses themselves, not through a VS copy: the
// H extension substitutes only sstatus, sie, sip, stvec, sscratch, sepc,
// scause, stval and satp (privileged spec, "Hypervisor and Virtual
// Supervisor CSRs"). scounteren and senvcfg, which the guest writes to
// govern its own U-mode, are therefore the host's too: the guest's while
// bound, the host's back at unbind (as HypervisorStatus), or a guest would
// leave its settings to the host's user mode and to the next VM.
struct SharedSupervisorCsrs {
    SwappedCsr<csr::scounteren> scounteren{csr::scounteren_guest_reset};
    SwappedCsr<csr::senvcfg> senvcfg;

    void load() noexcept {
        scounteren.load();
        senvcfg.load();
    }
    void save() noexcept {
        scounteren.save();
        senvcfg.save();
    }
};

// The guest's own supervisor CSRs (the VS-level copies the hart uses while
// it runs) and its henvcfg. They stay on the hart while the vCPU is bound,
// since the host never uses them; bind loads them and unbind saves them, so
// vCPUs of different VMs can take turns on one hart.
struct SysRegState {
    std::uint64_t vsstatus = 0, vsie = 0, vstvec = 0, vsscratch = 0, vsepc = 0, vscause = 0, vstval = 0, vsatp = 0;
    std::uint64_t henvcfg = 0;

    void load() const noexcept {
        csr::write<csr::vsstatus>(vsstatus);
        csr::write<csr::vsie>(vsie);
        csr::write<csr::vstvec>(vstvec);
        csr::write<csr::vsscratch>(vsscratch);
        csr::write<csr::vsepc>(vsepc);
        csr::write<csr::vscause>(vscause);
        csr::write<csr::vstval>(vstval);
        csr::write<csr::vsatp>(vsatp);
        csr::write<csr::henvcfg>(henvcfg);
    }

    void save() noexcept {
        vsstatus = csr::read<csr::vsstatus>();
        vsie = csr::read<csr::vsie>();
        vstvec = csr::read<csr::vstvec>();
        vsscratch = csr::read<csr::vsscratch>();
        vsepc = csr::read<csr::vsepc>();
        vscause = csr::read<csr::vscause>();
        vstval = csr::read<csr::vstval>();
        vsatp = csr::read<csr::vsatp>();
        henvcfg = csr::read<csr::henvcfg>();
    }
};

// The host is built without F/D, so D is enabled for this asm only.
#define AXVCPU_RV64_EACH_FP_REG(insn)                                                                           \
    ".option push\n.option arch, +d\n"                                                                         \
    ".irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n" insn \
    " f\\r, \\r*8(%0)\n.endr\n.option pop"
// The guest's floating-point registers, kept on the hart while the vCPU is
// bound (the host never touches FP).
struct FpState {
    std::array<std::uint64_t, 32> f{};
    std::uint64_t fcsr = 0;

    void load() const noexcept {
        csr::with_fp_on([&] {
            asm volatile(AXVCPU_RV64_EACH_FP_REG("fld")::"r"(f.data()) : "memory");
            csr::write<csr::fcsr>(fcsr);
        });
    }
    void save() noexcept {
        csr::with_fp_on([&] {
            asm volatile(AXVCPU_RV64_EACH_FP_REG("fsd")::"r"(f.data()) : "memory");
            fcsr = csr::read<csr::fcsr>();
        });
    }
#undef AXVCPU_RV64_EACH_FP_REG
};

// The guest's time base and, with Sstc, its own timer compare register.
// Without Sstc the guest's timer is a host timer the SBI service arms, and
// vstimecmp is not the guest's to keep.
struct TimerState {
    std::uint64_t htimedelta = 0;
    std::uint64_t vstimecmp = ~std::uint64_t{0};

    // `sstc`: SetupConfig::passthrough_timer (henvcfg.STCE is set).
    void load(bool sstc) const noexcept {
        csr::write<csr::htimedelta>(htimedelta);
        if (sstc) csr::write<csr::vstimecmp>(vstimecmp);
    }

    void save(bool sstc) noexcept {
        htimedelta = csr::read<csr::htimedelta>();
        if (sstc) {
            vstimecmp = csr::read<csr::vstimecmp>();
            // Left armed, the deadline would raise VSTIP on a hart that no
            // longer runs this guest (and wake its idle loop for nothing).
            csr::write<csr::vstimecmp>(~std::uint64_t{0});
        }
    }
};

// The guest's pending virtual interrupts: exactly its hvip bits
// (interrupts.hpp), in the CSR while bound, here otherwise.
struct InterruptState {
    std::uint64_t hvip = 0;

    void load() const noexcept { csr::write<csr::hvip>(hvip); }

    void save() noexcept {
        hvip = csr::read<csr::hvip>();
        // None of them may reach whatever runs on the hart next.
        csr::write<csr::hvip>(0);
    }
};

}  // namespace axvcpu::riscv64
