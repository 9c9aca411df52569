// The AMD SVM virtual machine control block: its layout, the intercept and
// interrupt-control bits the SVM policy uses, and the guest states a vCPU
// starts in (AMD64 APM vol. 2, rev. 3.4x: appendix B for the layout,
// chapter 15 for the fields).
//
// Pure data and value computations: `Vmcb` is the 4 KiB page VMRUN reads,
// as a struct whose member offsets are checked against appendix B by
// static_assert, and the set-up functions only write its fields, so the
// host tests (test/x86_64/vmcb_test.cpp) check every value a vCPU enters
// with.
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/x86_64/entry_state.hpp"
#include "arch/x86_64/interrupts.hpp"
#include "arch/x86_64/sysregs.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64::svm {

// --- Intercept vectors (APM vol. 2, table B-1) ----------------------------------
// Word 3 (offset 0x0C): one bit per instruction or event.
namespace intercept3 {
inline constexpr std::uint32_t intr = 1u << 0;
inline constexpr std::uint32_t nmi = 1u << 1;
inline constexpr std::uint32_t smi = 1u << 2;
inline constexpr std::uint32_t init = 1u << 3;
inline constexpr std::uint32_t vintr = 1u << 4;
inline constexpr std::uint32_t cpuid = 1u << 18;
inline constexpr std::uint32_t invd = 1u << 22;
inline constexpr std::uint32_t hlt = 1u << 24;
inline constexpr std::uint32_t invlpga = 1u << 26;
inline constexpr std::uint32_t ioio_prot = 1u << 27;  // consult the I/O permission map
inline constexpr std::uint32_t msr_prot = 1u << 28;   // consult the MSR permission map
inline constexpr std::uint32_t task_switch = 1u << 29;
inline constexpr std::uint32_t shutdown = 1u << 31;
}  // namespace intercept3

// Word 4 (offset 0x10).
namespace intercept4 {
inline constexpr std::uint32_t vmrun = 1u << 0;  // must be set, or VMRUN fails (APM 15.5.1)
inline constexpr std::uint32_t vmmcall = 1u << 1;
inline constexpr std::uint32_t vmload = 1u << 2;
inline constexpr std::uint32_t vmsave = 1u << 3;
inline constexpr std::uint32_t stgi = 1u << 4;
inline constexpr std::uint32_t clgi = 1u << 5;
inline constexpr std::uint32_t skinit = 1u << 6;
inline constexpr std::uint32_t rdtscp = 1u << 7;
inline constexpr std::uint32_t wbinvd = 1u << 9;
inline constexpr std::uint32_t monitor = 1u << 10;
inline constexpr std::uint32_t mwait = 1u << 11;
inline constexpr std::uint32_t xsetbv = 1u << 13;
}  // namespace intercept4

// --- Interrupt control (offset 0x60, APM 15.21.1) -------------------------------
namespace int_ctl {
// V_TPR, bits 3:0: the guest's task priority (its CR8, with V_INTR_MASKING).
inline constexpr std::uint32_t v_tpr_mask = 0xF;
// V_IRQ: an interrupt is pending for the guest (APM calls it virtual).
inline constexpr std::uint32_t v_irq = 1u << 8;
inline constexpr unsigned v_intr_prio_shift = 16;
// V_IGN_TPR: that pending interrupt ignores the guest's task priority (V_TPR).
inline constexpr std::uint32_t v_ign_tpr = 1u << 20;
// The guest's RFLAGS.IF masks only virtual interrupts; physical ones stay
// the host's (they exit through the INTR intercept).
inline constexpr std::uint32_t v_intr_masking = 1u << 24;
}  // namespace int_ctl

// Offset 0x68: the guest is in an interrupt shadow (after STI or MOV SS).
namespace int_state {
inline constexpr std::uint32_t shadow = 1u << 0;
}

// Offset 0x90.
namespace nested_ctl {
inline constexpr std::uint64_t np_enable = 1u << 0;
}

// Offset 0x5C (APM 15.16.1): what VMRUN flushes from the TLB.
namespace tlb_control {
inline constexpr std::uint8_t nothing = 0;
inline constexpr std::uint8_t flush_all = 1;    // every ASID (the only choice without FlushByAsid)
inline constexpr std::uint8_t flush_guest = 3;  // this guest's ASID (CPUID 8000_000A EDX[6])
}  // namespace tlb_control

// --- The VMCB -----------------------------------------------------------------

// A segment register as the save area holds it: the selector, the
// descriptor's attribute bits compressed to 12 (type, S, DPL, P in 7:0;
// AVL, L, D/B, G in 11:8), the limit expanded to bytes, the base.
struct VmcbSegment {
    std::uint16_t selector = 0;
    std::uint16_t attrib = 0;
    std::uint32_t limit = 0;
    std::uint64_t base = 0;
};
static_assert(sizeof(VmcbSegment) == 16);

// The attribute bits the policy tests (the code segment's L and D/B).
namespace seg_attrib {
inline constexpr std::uint16_t l = svm_attributes(access_rights::l);
inline constexpr std::uint16_t db = svm_attributes(access_rights::db);
}  // namespace seg_attrib

// The control area (offsets 0x000..0x3FF) and the state-save area
// (0x400..), as far as this policy uses them; gaps are reserved bytes.
struct alignas(4096) Vmcb {
    // Control area.
    std::uint16_t intercept_cr_read = 0;   // 0x000
    std::uint16_t intercept_cr_write = 0;  // 0x002
    std::uint16_t intercept_dr_read = 0;   // 0x004
    std::uint16_t intercept_dr_write = 0;  // 0x006
    std::uint32_t intercept_exceptions = 0;  // 0x008
    std::uint32_t intercept3 = 0;            // 0x00C
    std::uint32_t intercept4 = 0;            // 0x010
    std::uint8_t reserved_014[0x03C - 0x014]{};
    std::uint16_t pause_filter_threshold = 0;  // 0x03C
    std::uint16_t pause_filter_count = 0;      // 0x03E
    std::uint64_t iopm_base_pa = 0;            // 0x040
    std::uint64_t msrpm_base_pa = 0;           // 0x048
    std::uint64_t tsc_offset = 0;              // 0x050
    std::uint32_t asid = 0;                    // 0x058
    std::uint8_t tlb_control = 0;              // 0x05C
    std::uint8_t reserved_05d[3]{};
    std::uint32_t int_ctl = 0;     // 0x060
    std::uint32_t int_vector = 0;  // 0x064
    std::uint32_t int_state = 0;   // 0x068
    std::uint8_t reserved_06c[4]{};
    std::uint64_t exit_code = 0;      // 0x070
    std::uint64_t exit_info1 = 0;     // 0x078
    std::uint64_t exit_info2 = 0;     // 0x080
    std::uint64_t exit_int_info = 0;  // 0x088
    std::uint64_t nested_ctl = 0;     // 0x090
    std::uint8_t reserved_098[0x0A8 - 0x098]{};
    std::uint64_t event_inj = 0;   // 0x0A8
    std::uint64_t nested_cr3 = 0;  // 0x0B0
    // 0x0B8: LBR virtualization, VMLOAD/VMSAVE virtualization.
    std::uint64_t virt_ext = 0;
    std::uint32_t clean_bits = 0;  // 0x0C0
    std::uint8_t reserved_0c4[4]{};
    std::uint64_t next_rip = 0;             // 0x0C8 (NRIP save; QEMU does not provide it)
    std::uint8_t insn_bytes_fetched = 0;    // 0x0D0 (decode assists; not under QEMU)
    std::uint8_t insn_bytes[15]{};          // 0x0D1
    std::uint8_t reserved_0e0[0x400 - 0x0E0]{};
    // State-save area.
    VmcbSegment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;  // 0x400..0x49F
    std::uint8_t reserved_4a0[0x4CB - 0x4A0]{};
    std::uint8_t cpl = 0;  // 0x4CB
    std::uint8_t reserved_4cc[4]{};
    std::uint64_t efer = 0;  // 0x4D0
    std::uint8_t reserved_4d8[0x548 - 0x4D8]{};
    std::uint64_t cr4 = 0;     // 0x548
    std::uint64_t cr3 = 0;     // 0x550
    std::uint64_t cr0 = 0;     // 0x558
    std::uint64_t dr7 = 0;     // 0x560
    std::uint64_t dr6 = 0;     // 0x568
    std::uint64_t rflags = 0;  // 0x570
    std::uint64_t rip = 0;     // 0x578
    std::uint8_t reserved_580[0x5D8 - 0x580]{};
    std::uint64_t rsp = 0;  // 0x5D8
    std::uint8_t reserved_5e0[0x5F8 - 0x5E0]{};
    std::uint64_t rax = 0;             // 0x5F8
    std::uint64_t star = 0;            // 0x600
    std::uint64_t lstar = 0;           // 0x608
    std::uint64_t cstar = 0;           // 0x610
    std::uint64_t sfmask = 0;          // 0x618
    std::uint64_t kernel_gs_base = 0;  // 0x620
    std::uint64_t sysenter_cs = 0;     // 0x628
    std::uint64_t sysenter_esp = 0;    // 0x630
    std::uint64_t sysenter_eip = 0;    // 0x638
    std::uint64_t cr2 = 0;             // 0x640
    std::uint8_t reserved_648[0x668 - 0x648]{};
    std::uint64_t g_pat = 0;  // 0x668: the guest's PAT under nested paging
    std::uint8_t reserved_670[0x1000 - 0x670]{};
};
static_assert(sizeof(Vmcb) == 4096);
static_assert(offsetof(Vmcb, intercept3) == 0x00C && offsetof(Vmcb, intercept4) == 0x010);
static_assert(offsetof(Vmcb, iopm_base_pa) == 0x040 && offsetof(Vmcb, msrpm_base_pa) == 0x048);
static_assert(offsetof(Vmcb, asid) == 0x058 && offsetof(Vmcb, tlb_control) == 0x05C);
static_assert(offsetof(Vmcb, int_ctl) == 0x060 && offsetof(Vmcb, int_state) == 0x068);
static_assert(offsetof(Vmcb, exit_code) == 0x070 && offsetof(Vmcb, exit_info1) == 0x078);
static_assert(offsetof(Vmcb, exit_info2) == 0x080 && offsetof(Vmcb, exit_int_info) == 0x088);
static_assert(offsetof(Vmcb, nested_ctl) == 0x090 && offsetof(Vmcb, event_inj) == 0x0A8);
static_assert(offsetof(Vmcb, nested_cr3) == 0x0B0 && offsetof(Vmcb, clean_bits) == 0x0C0);
static_assert(offsetof(Vmcb, insn_bytes) == 0x0D1);
static_assert(offsetof(Vmcb, es) == 0x400 && offsetof(Vmcb, cs) == 0x410 && offsetof(Vmcb, tr) == 0x490);
static_assert(offsetof(Vmcb, cpl) == 0x4CB && offsetof(Vmcb, efer) == 0x4D0);
static_assert(offsetof(Vmcb, cr4) == 0x548 && offsetof(Vmcb, cr0) == 0x558 && offsetof(Vmcb, rflags) == 0x570);
static_assert(offsetof(Vmcb, rip) == 0x578 && offsetof(Vmcb, rsp) == 0x5D8 && offsetof(Vmcb, rax) == 0x5F8);
static_assert(offsetof(Vmcb, star) == 0x600 && offsetof(Vmcb, kernel_gs_base) == 0x620);
static_assert(offsetof(Vmcb, cr2) == 0x640 && offsetof(Vmcb, g_pat) == 0x668);

// --- The I/O and MSR permission maps (APM 15.10.1, 15.11) -----------------------
// 12 KiB: one bit per port (65536) plus a page for accesses that wrap.
inline constexpr usize iopm_bytes = usize{3} * 4096;
// 8 KiB: two bits (read, write) per MSR of three 8K-MSR ranges.
inline constexpr usize msrpm_bytes = usize{2} * 4096;

// The byte and bit pair of `index` in the MSR permission map, or nothing
// for an MSR outside the three ranges (always intercepted).
struct MsrpmSlot {
    usize byte = 0;
    unsigned read_bit = 0;  // the write bit is read_bit + 1
};
[[nodiscard]] constexpr bool msrpm_slot(std::uint32_t index, MsrpmSlot& slot) noexcept {
    constexpr std::uint32_t bases[3] = {0x0000'0000, 0xC000'0000, 0xC001'0000};
    for (usize range = 0; range < 3; ++range) {
        if (index - bases[range] < 0x2000) {
            const usize bit = range * 0x4000 + usize{index - bases[range]} * 2;
            slot = MsrpmSlot{bit / 8, static_cast<unsigned>(bit % 8)};
            return true;
        }
    }
    return false;
}

// Writes the MSR permission map at `map` (msrpm_bytes): intercept all but
// msr::guest_owned, which the VMCB holds and VMLOAD/VMSAVE switch.
constexpr void fill_msrpm(std::uint8_t* map) noexcept {
    for (usize i = 0; i < msrpm_bytes; ++i) map[i] = 0xFF;
    for (const std::uint32_t index : msr::guest_owned) {
        MsrpmSlot slot;
        if (msrpm_slot(index, slot)) map[slot.byte] &= static_cast<std::uint8_t>(~(3u << slot.read_bit));
    }
}

// Writes the I/O permission map at `map` (iopm_bytes): every port exits.
constexpr void fill_iopm(std::uint8_t* map) noexcept {
    for (usize i = 0; i < iopm_bytes; ++i) map[i] = 0xFF;
}

// What every guest exits on. Physical interrupts (INTR, NMI, SMI, INIT)
// belong to the host. The SVM instructions exit so that the policy can
// raise #UD, as a CPU without SVM would (the guest's CPUID shows none).
// CPUID and XSETBV are emulated by the policy, HLT, I/O, MSRs and VMMCALL
// go to the VMM, SHUTDOWN (a triple fault) stops the vCPU. INVD and
// WBINVD would act on the host's caches. No exception is intercepted: the
// guest handles its own.
inline constexpr std::uint32_t default_intercept3 = intercept3::intr | intercept3::nmi | intercept3::smi |
                                                    intercept3::init | intercept3::cpuid | intercept3::invd |
                                                    intercept3::hlt | intercept3::invlpga | intercept3::ioio_prot |
                                                    intercept3::msr_prot | intercept3::task_switch |
                                                    intercept3::shutdown;
inline constexpr std::uint32_t default_intercept4 = intercept4::vmrun | intercept4::vmmcall | intercept4::vmload |
                                                    intercept4::vmsave | intercept4::stgi | intercept4::clgi |
                                                    intercept4::skinit | intercept4::wbinvd | intercept4::monitor |
                                                    intercept4::mwait | intercept4::xsetbv;

// Fills the control area: intercepts, the permission maps, the ASID,
// nested paging with `nested_cr3`, virtual interrupt masking.
constexpr void set_controls(Vmcb& vmcb, std::uint64_t iopm_pa, std::uint64_t msrpm_pa, std::uint32_t asid,
                            std::uint64_t nested_cr3) noexcept {
    vmcb.intercept_cr_read = vmcb.intercept_cr_write = 0;
    vmcb.intercept_dr_read = vmcb.intercept_dr_write = 0;
    vmcb.intercept_exceptions = 0;
    vmcb.intercept3 = default_intercept3;
    vmcb.intercept4 = default_intercept4;
    vmcb.iopm_base_pa = iopm_pa;
    vmcb.msrpm_base_pa = msrpm_pa;
    vmcb.tsc_offset = 0;
    vmcb.asid = asid;
    vmcb.tlb_control = tlb_control::nothing;
    vmcb.int_ctl = int_ctl::v_intr_masking;
    vmcb.int_vector = 0;
    vmcb.int_state = 0;
    vmcb.nested_ctl = nested_ctl::np_enable;
    vmcb.nested_cr3 = nested_cr3;
    vmcb.event_inj = 0;
    // Every field reloaded on each VMRUN: the policy does not track which
    // it changed (APM 15.15; QEMU ignores the bits).
    vmcb.clean_bits = 0;
}

// --- Initial guest states -------------------------------------------------------

[[nodiscard]] constexpr VmcbSegment vmcb_segment(const SegmentState& seg) noexcept {
    return VmcbSegment{seg.selector, svm_attributes(seg.access_rights), seg.limit, seg.base};
}

// Fills the state-save area for `mode` at `entry` (entry_state.hpp); the
// guest's EFER keeps SVME set, which VMRUN requires of every guest (APM
// 15.5.1, "Canonicalization and Consistency Checks").
constexpr void set_initial_state(Vmcb& vmcb, EntryMode mode, std::uint64_t entry, std::uint64_t cr3) noexcept {
    const EntryState s = entry_state(mode, entry, cr3);
    vmcb.cs = vmcb_segment(s.cs);
    vmcb.ds = vmcb_segment(s.ds);
    vmcb.es = vmcb_segment(s.es);
    vmcb.ss = vmcb_segment(s.ss);
    vmcb.fs = vmcb_segment(s.fs);
    vmcb.gs = vmcb_segment(s.gs);
    vmcb.ldtr = vmcb_segment(s.ldtr);
    vmcb.tr = vmcb_segment(s.tr);
    vmcb.gdtr = VmcbSegment{0, 0, s.gdtr.limit, s.gdtr.base};
    vmcb.idtr = VmcbSegment{0, 0, s.idtr.limit, s.idtr.base};
    vmcb.cpl = 0;
    vmcb.rip = s.rip;
    vmcb.rflags = s.rflags;
    vmcb.dr6 = s.dr6;
    vmcb.dr7 = s.dr7;
    vmcb.g_pat = s.pat;
    vmcb.cr2 = 0;
    vmcb.cr0 = s.cr0;
    vmcb.cr3 = s.cr3;
    vmcb.cr4 = s.cr4;
    vmcb.efer = s.efer | msr::efer::svme;
}

}  // namespace axvcpu::x86_64::svm
