// EL2 and EL1 system register access for the aarch64 policy.
//
// One read_/write_ pair per register, each a single mrs/msr the compiler
// can schedule; nothing here is virtual or out of line. Registers without an
// assembler name in older binutils (the GICv3 ones) use the S3_... encoding.
#pragma once

#if !defined(__aarch64__)
#error "arch/aarch64/sysregs.hpp is for aarch64 targets; host tests include exit_decode.hpp, psci.hpp or stage2.hpp only"
#endif

#include <cstdint>

namespace axvcpu::aarch64::reg {

#define AXVCPU_A64_SYSREG(fn, spelling)                                                  \
    [[nodiscard]] inline std::uint64_t read_##fn() noexcept {                            \
        std::uint64_t value;                                                             \
        asm volatile("mrs %0, " spelling : "=r"(value));                                 \
        return value;                                                                    \
    }                                                                                    \
    inline void write_##fn(std::uint64_t value) noexcept {                               \
        asm volatile("msr " spelling ", %0" : : "r"(value) : "memory");                  \
    }

// EL2 control.
AXVCPU_A64_SYSREG(hcr_el2, "hcr_el2")
AXVCPU_A64_SYSREG(vbar_el2, "vbar_el2")
AXVCPU_A64_SYSREG(vtcr_el2, "vtcr_el2")
AXVCPU_A64_SYSREG(vttbr_el2, "vttbr_el2")
AXVCPU_A64_SYSREG(cptr_el2, "cptr_el2")
AXVCPU_A64_SYSREG(mdcr_el2, "mdcr_el2")
AXVCPU_A64_SYSREG(cnthctl_el2, "cnthctl_el2")
AXVCPU_A64_SYSREG(cntvoff_el2, "cntvoff_el2")
AXVCPU_A64_SYSREG(vmpidr_el2, "vmpidr_el2")
AXVCPU_A64_SYSREG(vpidr_el2, "vpidr_el2")
AXVCPU_A64_SYSREG(esr_el2, "esr_el2")
AXVCPU_A64_SYSREG(far_el2, "far_el2")
AXVCPU_A64_SYSREG(hpfar_el2, "hpfar_el2")
AXVCPU_A64_SYSREG(elr_el2, "elr_el2")
AXVCPU_A64_SYSREG(spsr_el2, "spsr_el2")

// Identification.
AXVCPU_A64_SYSREG(mpidr_el1, "mpidr_el1")
AXVCPU_A64_SYSREG(midr_el1, "midr_el1")
AXVCPU_A64_SYSREG(id_aa64mmfr0_el1, "id_aa64mmfr0_el1")
AXVCPU_A64_SYSREG(id_aa64pfr0_el1, "id_aa64pfr0_el1")
AXVCPU_A64_SYSREG(id_aa64dfr0_el1, "id_aa64dfr0_el1")
AXVCPU_A64_SYSREG(id_aa64isar1_el1, "S3_0_C0_C6_1")
AXVCPU_A64_SYSREG(id_aa64isar2_el1, "S3_0_C0_C6_2")  // Armv8.7; RAZ before (an unallocated ID register)

// The guest's EL1/EL0 state, switched by bind/unbind.
AXVCPU_A64_SYSREG(sctlr_el1, "sctlr_el1")
AXVCPU_A64_SYSREG(cpacr_el1, "cpacr_el1")
AXVCPU_A64_SYSREG(ttbr0_el1, "ttbr0_el1")
AXVCPU_A64_SYSREG(ttbr1_el1, "ttbr1_el1")
AXVCPU_A64_SYSREG(tcr_el1, "tcr_el1")
AXVCPU_A64_SYSREG(esr_el1, "esr_el1")
AXVCPU_A64_SYSREG(far_el1, "far_el1")
AXVCPU_A64_SYSREG(afsr0_el1, "afsr0_el1")
AXVCPU_A64_SYSREG(afsr1_el1, "afsr1_el1")
AXVCPU_A64_SYSREG(mair_el1, "mair_el1")
AXVCPU_A64_SYSREG(amair_el1, "amair_el1")
AXVCPU_A64_SYSREG(vbar_el1, "vbar_el1")
AXVCPU_A64_SYSREG(contextidr_el1, "contextidr_el1")
AXVCPU_A64_SYSREG(tpidr_el1, "tpidr_el1")
AXVCPU_A64_SYSREG(tpidr_el0, "tpidr_el0")
AXVCPU_A64_SYSREG(tpidrro_el0, "tpidrro_el0")
AXVCPU_A64_SYSREG(par_el1, "par_el1")
AXVCPU_A64_SYSREG(elr_el1, "elr_el1")
AXVCPU_A64_SYSREG(spsr_el1, "spsr_el1")
AXVCPU_A64_SYSREG(sp_el0, "sp_el0")
// Pointer authentication keys (FEAT_PAuth), by encoding: GCC accepts their
// names only for Armv8.3 targets.
AXVCPU_A64_SYSREG(apiakeylo_el1, "S3_0_C2_C1_0")
AXVCPU_A64_SYSREG(apiakeyhi_el1, "S3_0_C2_C1_1")
AXVCPU_A64_SYSREG(apibkeylo_el1, "S3_0_C2_C1_2")
AXVCPU_A64_SYSREG(apibkeyhi_el1, "S3_0_C2_C1_3")
AXVCPU_A64_SYSREG(apdakeylo_el1, "S3_0_C2_C2_0")
AXVCPU_A64_SYSREG(apdakeyhi_el1, "S3_0_C2_C2_1")
AXVCPU_A64_SYSREG(apdbkeylo_el1, "S3_0_C2_C2_2")
AXVCPU_A64_SYSREG(apdbkeyhi_el1, "S3_0_C2_C2_3")
AXVCPU_A64_SYSREG(apgakeylo_el1, "S3_0_C2_C3_0")
AXVCPU_A64_SYSREG(apgakeyhi_el1, "S3_0_C2_C3_1")
AXVCPU_A64_SYSREG(sp_el1, "sp_el1")
AXVCPU_A64_SYSREG(cntkctl_el1, "cntkctl_el1")
AXVCPU_A64_SYSREG(csselr_el1, "csselr_el1")
AXVCPU_A64_SYSREG(mdscr_el1, "mdscr_el1")
AXVCPU_A64_SYSREG(cntv_ctl_el0, "cntv_ctl_el0")
AXVCPU_A64_SYSREG(cntv_cval_el0, "cntv_cval_el0")

// The OS lock (D2.5 of the Arm ARM: while OSLSR_EL1.OSLK is set, no
// breakpoint, watchpoint or single-step exception is taken).
AXVCPU_A64_SYSREG(oslsr_el1, "oslsr_el1")
AXVCPU_A64_SYSREG(oslar_el1, "oslar_el1")

// The breakpoint and watchpoint registers by number n (0..15): DBGBVR<n>,
// DBGBCR<n>, DBGWVR<n>, DBGWCR<n>_EL1 are op0 2, op1 0, CRn 0, CRm n, op2
// 4, 5, 6, 7 (Op2 below). A switch of sixteen MRS/MSR: bind and unbind of a
// vCPU that switches them are their only users.
#define AXVCPU_A64_DBG_CASES(insn, ...)                                                                    \
    switch (n & 15) {                                                                                     \
        case 0: asm volatile(insn "S2_0_C0_C0_%c[op2]" __VA_ARGS__); break;                              \
        case 1: asm volatile(insn "S2_0_C0_C1_%c[op2]" __VA_ARGS__); break;                              \
        case 2: asm volatile(insn "S2_0_C0_C2_%c[op2]" __VA_ARGS__); break;                              \
        case 3: asm volatile(insn "S2_0_C0_C3_%c[op2]" __VA_ARGS__); break;                              \
        case 4: asm volatile(insn "S2_0_C0_C4_%c[op2]" __VA_ARGS__); break;                              \
        case 5: asm volatile(insn "S2_0_C0_C5_%c[op2]" __VA_ARGS__); break;                              \
        case 6: asm volatile(insn "S2_0_C0_C6_%c[op2]" __VA_ARGS__); break;                              \
        case 7: asm volatile(insn "S2_0_C0_C7_%c[op2]" __VA_ARGS__); break;                              \
        case 8: asm volatile(insn "S2_0_C0_C8_%c[op2]" __VA_ARGS__); break;                              \
        case 9: asm volatile(insn "S2_0_C0_C9_%c[op2]" __VA_ARGS__); break;                              \
        case 10: asm volatile(insn "S2_0_C0_C10_%c[op2]" __VA_ARGS__); break;                            \
        case 11: asm volatile(insn "S2_0_C0_C11_%c[op2]" __VA_ARGS__); break;                            \
        case 12: asm volatile(insn "S2_0_C0_C12_%c[op2]" __VA_ARGS__); break;                            \
        case 13: asm volatile(insn "S2_0_C0_C13_%c[op2]" __VA_ARGS__); break;                            \
        case 14: asm volatile(insn "S2_0_C0_C14_%c[op2]" __VA_ARGS__); break;                            \
        default: asm volatile(insn "S2_0_C0_C15_%c[op2]" __VA_ARGS__); break;                            \
    }
template <unsigned Op2>
[[nodiscard]] inline std::uint64_t read_debug_register(unsigned n) noexcept {
    static_assert(Op2 >= 4 && Op2 <= 7);
    std::uint64_t value = 0;
    AXVCPU_A64_DBG_CASES("mrs %[v], ", : [v] "=r"(value) : [op2] "i"(Op2))
    return value;
}
template <unsigned Op2>
inline void write_debug_register(unsigned n, std::uint64_t value) noexcept {
    static_assert(Op2 >= 4 && Op2 <= 7);
    AXVCPU_A64_DBG_CASES("msr ", ", %[v]" : : [v] "r"(value), [op2] "i"(Op2))
}
#undef AXVCPU_A64_DBG_CASES

// Timers and counters the example host uses.
AXVCPU_A64_SYSREG(cntpct_el0, "cntpct_el0")
AXVCPU_A64_SYSREG(cntfrq_el0, "cntfrq_el0")
AXVCPU_A64_SYSREG(cnthp_ctl_el2, "cnthp_ctl_el2")
AXVCPU_A64_SYSREG(cnthp_tval_el2, "cnthp_tval_el2")

// GICv3 physical CPU interface (at EL2) and hypervisor control.
AXVCPU_A64_SYSREG(icc_sre_el2, "S3_4_C12_C9_5")
AXVCPU_A64_SYSREG(icc_pmr_el1, "S3_0_C4_C6_0")
AXVCPU_A64_SYSREG(icc_iar1_el1, "S3_0_C12_C12_0")
AXVCPU_A64_SYSREG(icc_eoir1_el1, "S3_0_C12_C12_1")
AXVCPU_A64_SYSREG(icc_igrpen1_el1, "S3_0_C12_C12_7")
AXVCPU_A64_SYSREG(icc_ctlr_el1, "S3_0_C12_C12_4")
AXVCPU_A64_SYSREG(icc_sgi1r_el1, "S3_0_C12_C11_5")
AXVCPU_A64_SYSREG(ich_hcr_el2, "S3_4_C12_C11_0")
AXVCPU_A64_SYSREG(ich_vtr_el2, "S3_4_C12_C11_1")
AXVCPU_A64_SYSREG(ich_misr_el2, "S3_4_C12_C11_2")
AXVCPU_A64_SYSREG(ich_eisr_el2, "S3_4_C12_C11_3")
AXVCPU_A64_SYSREG(ich_elrsr_el2, "S3_4_C12_C11_5")
AXVCPU_A64_SYSREG(ich_vmcr_el2, "S3_4_C12_C11_7")
AXVCPU_A64_SYSREG(ich_ap0r0_el2, "S3_4_C12_C8_0")
AXVCPU_A64_SYSREG(ich_ap1r0_el2, "S3_4_C12_C9_0")

#undef AXVCPU_A64_SYSREG

// ICH_LR<n>_EL2: n is encoded in the instruction, so list register `index`
// (0..15, taken modulo 16) is reached through a computed branch into a
// table of one MRS or MSR each: a switch's jump table costs a bounds test,
// a table load and the table's address on every use. With BTI code
// (-mbranch-protection) each slot starts with its landing pad.
#if defined(__ARM_FEATURE_BTI_DEFAULT)
#define AXVCPU_A64_LR_SLOT(insn) "bti j\n\t" insn "\n\tb 2f\n\tnop\n\t"
#define AXVCPU_A64_LR_SLOT_SHIFT "4"
#else
#define AXVCPU_A64_LR_SLOT(insn) insn "\n\tb 2f\n\t"
#define AXVCPU_A64_LR_SLOT_SHIFT "3"
#endif
#define AXVCPU_A64_LR_TABLE(insn, operand)                                                         \
    "adr %[t], 1f\n\t"                                                                             \
    "add %[t], %[t], %[i], lsl #" AXVCPU_A64_LR_SLOT_SHIFT "\n\t"                                  \
    "br %[t]\n"                                                                                    \
    "1:\n\t" AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_0" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_1" operand) \
        AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_2" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_3" operand)     \
        AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_4" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_5" operand)     \
        AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_6" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C12_7" operand)     \
        AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_0" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_1" operand)     \
        AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_2" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_3" operand)     \
        AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_4" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_5" operand)     \
        AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_6" operand) AXVCPU_A64_LR_SLOT(insn "S3_4_C12_C13_7" operand)     \
    "2:"

// No "memory" clobber: nothing in memory depends on a list register, which
// the hardware reads at the guest's entry, behind the world switch's own
// clobber; so the compiler may keep the vCPU's fields in registers across
// an injection (the VMM's reply then needs no reload of the vCPU's state).
[[gnu::always_inline]] inline void write_ich_lr(unsigned index, std::uint64_t value) noexcept {
    std::uint64_t target;
    asm volatile(AXVCPU_A64_LR_TABLE("msr ", ", %[v]")
                 : [t] "=&r"(target)
                 : [i] "r"(std::uint64_t{index & 15}), [v] "r"(value));
}

// List register 0 alone: one MSR, no computed branch (an injection's
// usual target).
[[gnu::always_inline]] inline void write_ich_lr0(std::uint64_t value) noexcept {
    asm volatile("msr S3_4_C12_C12_0, %0" : : "r"(value));
}

[[gnu::always_inline]] inline std::uint64_t read_ich_lr(unsigned index) noexcept {
    std::uint64_t target;
    std::uint64_t value;
    asm volatile(AXVCPU_A64_LR_TABLE("mrs %[v], ", "") : [t] "=&r"(target), [v] "=r"(value) : [i] "r"(std::uint64_t{index & 15}));
    return value;
}
#undef AXVCPU_A64_LR_TABLE
#undef AXVCPU_A64_LR_SLOT
#undef AXVCPU_A64_LR_SLOT_SHIFT

// Reads (write = false) or writes list register `index` (0..15; others read 0
// and ignore writes).
[[gnu::always_inline]] inline std::uint64_t access_ich_lr(unsigned index, bool write, std::uint64_t value = 0) noexcept {
    if (index >= 16) return 0;
    if (write) {
        write_ich_lr(index, value);
        return value;
    }
    return read_ich_lr(index);
}

inline void isb() noexcept { asm volatile("isb" ::: "memory"); }
inline void dsb_ish() noexcept { asm volatile("dsb ish" ::: "memory"); }
inline void dsb_nsh() noexcept { asm volatile("dsb nsh" ::: "memory"); }

// Stage-1 translation of a guest virtual address in the current EL1 regime
// (AT S1E1R); PAR_EL1 then holds the IPA or the fault.
[[nodiscard]] inline std::uint64_t translate_el1_read(std::uint64_t va) noexcept {
    asm volatile("at s1e1r, %0\n\tisb" : : "r"(va) : "memory");
    return read_par_el1();
}

// Invalidate every stage-1 and stage-2 TLB entry of the VMID in VTTBR_EL2,
// in the inner-shareable domain.
inline void tlbi_vmid_all_is() noexcept {
    asm volatile("dsb ishst\n\ttlbi vmalls12e1is\n\tdsb ish\n\tisb" ::: "memory");
}
// Invalidate this CPU's stage-1 entries of the VMID in VTTBR_EL2.
inline void tlbi_vmid_stage1_local() noexcept {
    asm volatile("dsb nshst\n\ttlbi vmalle1\n\tdsb nsh\n\tisb" ::: "memory");
}

}  // namespace axvcpu::aarch64::reg
