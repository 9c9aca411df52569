// The guest state the policy switches: GuestContext, which the world switch
// saves and restores on every exit, and the groups bind/unbind move between
// the CPU and memory, each a type that loads and saves itself (SysRegState,
// DebugState, FpState, TimerState, InterruptState). Offsets used by the assembly are
// macros (the assembler needs literals) checked against the struct layout
// here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "arch/aarch64/interrupts.hpp"
#include "arch/aarch64/sysregs.hpp"

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
// touches SP_EL0 or SP_EL1, so they live in SysRegState, switched by
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
struct SysRegState {
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
    std::uint64_t csselr = 0;
    std::uint64_t mdscr = 0;

    void load() const noexcept {
        namespace r = reg;
        r::write_sp_el0(sp_el0);
        r::write_sp_el1(sp_el1);
        r::write_sctlr_el1(sctlr);
        r::write_cpacr_el1(cpacr);
        r::write_ttbr0_el1(ttbr0);
        r::write_ttbr1_el1(ttbr1);
        r::write_tcr_el1(tcr);
        r::write_esr_el1(esr);
        r::write_far_el1(far);
        r::write_afsr0_el1(afsr0);
        r::write_afsr1_el1(afsr1);
        r::write_mair_el1(mair);
        r::write_amair_el1(amair);
        r::write_vbar_el1(vbar);
        r::write_contextidr_el1(contextidr);
        r::write_tpidr_el1(tpidr_el1);
        r::write_tpidr_el0(tpidr_el0);
        r::write_tpidrro_el0(tpidrro_el0);
        r::write_par_el1(par);
        r::write_elr_el1(elr_el1);
        r::write_spsr_el1(spsr_el1);
        r::write_csselr_el1(csselr);
        r::write_mdscr_el1(mdscr);
    }

    void save() noexcept {
        namespace r = reg;
        sp_el0 = r::read_sp_el0();
        sp_el1 = r::read_sp_el1();
        sctlr = r::read_sctlr_el1();
        cpacr = r::read_cpacr_el1();
        ttbr0 = r::read_ttbr0_el1();
        ttbr1 = r::read_ttbr1_el1();
        tcr = r::read_tcr_el1();
        esr = r::read_esr_el1();
        far = r::read_far_el1();
        afsr0 = r::read_afsr0_el1();
        afsr1 = r::read_afsr1_el1();
        mair = r::read_mair_el1();
        amair = r::read_amair_el1();
        vbar = r::read_vbar_el1();
        contextidr = r::read_contextidr_el1();
        tpidr_el1 = r::read_tpidr_el1();
        tpidr_el0 = r::read_tpidr_el0();
        tpidrro_el0 = r::read_tpidrro_el0();
        par = r::read_par_el1();
        elr_el1 = r::read_elr_el1();
        spsr_el1 = r::read_spsr_el1();
        csselr = r::read_csselr_el1();
        mdscr = r::read_mdscr_el1();
    }
};

// The breakpoint and watchpoint registers (Arm ARM D2.8, D2.9), for a
// vCPU whose SetupConfig::switch_debug gives it its own: as many of
// DBGBVR/DBGBCR<n>_EL1 and DBGWVR/DBGWCR<n>_EL1 as the CPU implements
// (ID_AA64DFR0_EL1.BRPs and WRPs, each the number less one), and the OS
// lock (OSLSR_EL1.OSLK, set with OSLAR_EL1), which disables them all while
// set. MDSCR_EL1 is SysRegState's.
struct DebugState {
    std::array<std::uint64_t, 16> bvr{}, bcr{}, wvr{}, wcr{};
    bool os_locked = false;

    void load(std::uint64_t id_aa64dfr0) const noexcept {
        const unsigned breakpoints = implemented_breakpoints(id_aa64dfr0);
        const unsigned watchpoints = implemented_watchpoints(id_aa64dfr0);
        for (unsigned n = 0; n < breakpoints; ++n) {
            reg::write_debug_register<4>(n, bvr[n]);
            reg::write_debug_register<5>(n, bcr[n]);
        }
        for (unsigned n = 0; n < watchpoints; ++n) {
            reg::write_debug_register<6>(n, wvr[n]);
            reg::write_debug_register<7>(n, wcr[n]);
        }
        reg::write_oslar_el1(os_locked ? 1 : 0);
    }

    void save(std::uint64_t id_aa64dfr0) noexcept {
        const unsigned breakpoints = implemented_breakpoints(id_aa64dfr0);
        const unsigned watchpoints = implemented_watchpoints(id_aa64dfr0);
        for (unsigned n = 0; n < breakpoints; ++n) {
            bvr[n] = reg::read_debug_register<4>(n);
            bcr[n] = reg::read_debug_register<5>(n);
        }
        for (unsigned n = 0; n < watchpoints; ++n) {
            wvr[n] = reg::read_debug_register<6>(n);
            wcr[n] = reg::read_debug_register<7>(n);
        }
        os_locked = (reg::read_oslsr_el1() & 2) != 0;  // OSLK
    }

private:
    static unsigned implemented_breakpoints(std::uint64_t id_aa64dfr0) noexcept {
        return static_cast<unsigned>((id_aa64dfr0 >> 12) & 0xF) + 1;
    }
    static unsigned implemented_watchpoints(std::uint64_t id_aa64dfr0) noexcept {
        return static_cast<unsigned>((id_aa64dfr0 >> 20) & 0xF) + 1;
    }
};

// FP/SIMD registers: the host's EL2 code is built without them
// (-mgeneral-regs-only), so they too are switched only by bind/unbind.
struct alignas(16) FpState {
    std::array<std::uint64_t, 64> v{};  // q0..q31
    std::uint64_t fpcr = 0;
    std::uint64_t fpsr = 0;

    void load() const noexcept {
        asm volatile(
            "ldp q0, q1, [%0, #0]\n\tldp q2, q3, [%0, #32]\n\tldp q4, q5, [%0, #64]\n\tldp q6, q7, [%0, #96]\n\t"
            "ldp q8, q9, [%0, #128]\n\tldp q10, q11, [%0, #160]\n\tldp q12, q13, [%0, #192]\n\t"
            "ldp q14, q15, [%0, #224]\n\tldp q16, q17, [%0, #256]\n\tldp q18, q19, [%0, #288]\n\t"
            "ldp q20, q21, [%0, #320]\n\tldp q22, q23, [%0, #352]\n\tldp q24, q25, [%0, #384]\n\t"
            "ldp q26, q27, [%0, #416]\n\tldp q28, q29, [%0, #448]\n\tldp q30, q31, [%0, #480]\n\t"
            "ldr x9, [%0, #512]\n\tldr x10, [%0, #520]\n\tmsr fpcr, x9\n\tmsr fpsr, x10"
            :
            : "r"(this)
            : "x9", "x10", "memory");
    }

    void save() noexcept {
        asm volatile(
            "stp q0, q1, [%0, #0]\n\tstp q2, q3, [%0, #32]\n\tstp q4, q5, [%0, #64]\n\tstp q6, q7, [%0, #96]\n\t"
            "stp q8, q9, [%0, #128]\n\tstp q10, q11, [%0, #160]\n\tstp q12, q13, [%0, #192]\n\t"
            "stp q14, q15, [%0, #224]\n\tstp q16, q17, [%0, #256]\n\tstp q18, q19, [%0, #288]\n\t"
            "stp q20, q21, [%0, #320]\n\tstp q22, q23, [%0, #352]\n\tstp q24, q25, [%0, #384]\n\t"
            "stp q26, q27, [%0, #416]\n\tstp q28, q29, [%0, #448]\n\tstp q30, q31, [%0, #480]\n\t"
            "mrs x9, fpcr\n\tmrs x10, fpsr\n\tstr x9, [%0, #512]\n\tstr x10, [%0, #520]"
            :
            : "r"(this)
            : "x9", "x10", "memory");
    }
};
// The asm above addresses the registers from the object's start.
static_assert(offsetof(FpState, v) == 0 && offsetof(FpState, fpcr) == 512 && offsetof(FpState, fpsr) == 520);

// The guest's pointer authentication keys (FEAT_PAuth). HCR_EL2.API/APK let
// the guest use them without a trap, so they are its own state: without
// the switch, two VMs sharing a CPU would run with whichever set the other
// wrote last, and each fail to authenticate its own pointers. Switched by
// bind/unbind, like SysRegState, on a CPU that has them (present()).
struct PointerAuthKeys {
    // APIA, APIB, APDA, APDB, APGA: Lo then Hi each.
    std::array<std::uint64_t, 10> keys{};

    // ID_AA64ISAR1_EL1.{APA, API, GPA, GPI} or ID_AA64ISAR2_EL1.{APA3, GPA3}
    // non-zero (Arm ARM D19.2.62, D19.2.63): some algorithm is there, so
    // the key registers are.
    [[nodiscard]] static bool present() noexcept {
        constexpr std::uint64_t isar1_fields = 0xFF00'0FF0;  // GPI, GPA; API, APA
        constexpr std::uint64_t isar2_fields = 0xFF00;       // APA3, GPA3
        return (reg::read_id_aa64isar1_el1() & isar1_fields) != 0 || (reg::read_id_aa64isar2_el1() & isar2_fields) != 0;
    }

    void load() const noexcept {
        namespace r = reg;
        r::write_apiakeylo_el1(keys[0]);
        r::write_apiakeyhi_el1(keys[1]);
        r::write_apibkeylo_el1(keys[2]);
        r::write_apibkeyhi_el1(keys[3]);
        r::write_apdakeylo_el1(keys[4]);
        r::write_apdakeyhi_el1(keys[5]);
        r::write_apdbkeylo_el1(keys[6]);
        r::write_apdbkeyhi_el1(keys[7]);
        r::write_apgakeylo_el1(keys[8]);
        r::write_apgakeyhi_el1(keys[9]);
    }

    void save() noexcept {
        namespace r = reg;
        keys = {r::read_apiakeylo_el1(), r::read_apiakeyhi_el1(), r::read_apibkeylo_el1(), r::read_apibkeyhi_el1(),
                r::read_apdakeylo_el1(), r::read_apdakeyhi_el1(), r::read_apdbkeylo_el1(), r::read_apdbkeyhi_el1(),
                r::read_apgakeylo_el1(), r::read_apgakeyhi_el1()};
    }
};

// The guest's timers: its own virtual timer and EL1 timer control, and the
// EL2 controls bind installs for it (CNTHCTL_EL2, CNTVOFF_EL2).
struct TimerState {
    // EL1PCTEN: the physical counter is always readable; EL1PCEN (the EL1
    // physical timer) only when SetupConfig::passthrough_timer.
    std::uint64_t cnthctl = 1;
    std::uint64_t cntkctl = 0;
    std::uint64_t cntv_ctl = 0;
    std::uint64_t cntv_cval = 0;

    static constexpr std::uint64_t ctl_enable = 1;
    static constexpr std::uint64_t ctl_imask = 2;
    static constexpr std::uint64_t ctl_istatus = 4;

    void load() const noexcept {
        reg::write_cnthctl_el2(cnthctl);
        // The virtual counter is the physical one: no offset to keep per VM.
        reg::write_cntvoff_el2(0);
        reg::write_cntkctl_el1(cntkctl);
        reg::write_cntv_cval_el0(cntv_cval);
        reg::write_cntv_ctl_el0(cntv_ctl);
    }

    // Whether the virtual timer drives its interrupt output: ENABLE set,
    // IMASK clear and the condition met (Arm ARM D11.2.4, CNTV_CTL_EL0.
    // ISTATUS). `bound`: the registers are live in the CPU, which computes
    // ISTATUS; otherwise the saved compare value is checked against the
    // counter (CNTVOFF_EL2 is 0, so the virtual count is the physical one).
    [[nodiscard]] bool asserted(bool bound) const noexcept {
        const std::uint64_t ctl = bound ? reg::read_cntv_ctl_el0() : cntv_ctl;
        if ((ctl & (ctl_enable | ctl_imask)) != ctl_enable) return false;
        if (bound) return (ctl & ctl_istatus) != 0;
        return reg::read_cntpct_el0() >= cntv_cval;
    }

    void save() noexcept {
        cntkctl = reg::read_cntkctl_el1();
        cntv_ctl = reg::read_cntv_ctl_el0();
        cntv_cval = reg::read_cntv_cval_el0();
        // Stop the guest's virtual timer from firing into whatever runs next.
        reg::write_cntv_ctl_el0(0);
    }
};

// The guest's GICv3 virtual CPU interface state (ICH_*_EL2): what it has
// pending and active in the list registers, its priority mask and groups.
struct InterruptState {
    std::uint64_t hcr = 0;
    std::uint64_t vmcr = 0;
    std::uint64_t ap0r0 = 0;
    std::uint64_t ap1r0 = 0;
    std::array<std::uint64_t, 16> lr{};

    // `lr_count`: the list registers this CPU has (vgic::list_register_count).
    void load(unsigned lr_count) const noexcept {
        reg::write_ich_vmcr_el2(vmcr);
        reg::write_ich_ap0r0_el2(ap0r0);
        reg::write_ich_ap1r0_el2(ap1r0);
        for (unsigned i = 0; i < lr_count; ++i) reg::access_ich_lr(i, true, lr[i]);
        reg::write_ich_hcr_el2(hcr);
    }

    // Whether a list register holds a pending interrupt (state pending, or
    // pending and active). `bound`: the list registers are live in the CPU.
    [[nodiscard]] bool lr_pending(unsigned lr_count, bool bound) const noexcept {
        for (unsigned i = 0; i < lr_count; ++i) {
            const std::uint64_t value = bound ? reg::access_ich_lr(i, false) : lr[i];
            if ((value & vgic::lr_state_pending) != 0) return true;
        }
        return false;
    }

    void save(unsigned lr_count) noexcept {
        vmcr = reg::read_ich_vmcr_el2();
        ap0r0 = reg::read_ich_ap0r0_el2();
        ap1r0 = reg::read_ich_ap1r0_el2();
        for (unsigned i = 0; i < lr_count; ++i) {
            lr[i] = reg::access_ich_lr(i, false);
            reg::access_ich_lr(i, true, 0);
        }
        // The interface is off until the next vCPU binds.
        reg::write_ich_hcr_el2(0);
    }
};

}  // namespace axvcpu::aarch64
