// The machine state an x86 guest starts in, as both back ends need it: the
// entry modes a VMM can ask for, the control-register, RFLAGS and reset
// values they are made of, and one EntryState value that vmcb.hpp writes
// into a VMCB and vmcs.hpp into a VMCS. Pure, host-tested
// (test/x86_64/svm_setup_test.cpp, test/x86_64/vmx_setup_test.cpp).
#pragma once

#include <cstdint>

#include "arch/x86_64/sysregs.hpp"
#include "axvcpu/addr.hpp"

namespace axvcpu::x86_64 {

// How a vCPU starts (the back ends' CreateConfig::entry_mode):
//   Long64: 64-bit mode, paging on with the guest's CR3 = the page-table
//     root the VMM built in guest memory, RDI = the boot argument. What a
//     64-bit kernel image with its own entry expects.
//   Protected32: flat 32-bit protected mode, paging off, EAX = 0x2BADB002
//     and EBX = the boot argument (the Multiboot information's address):
//     the Multiboot 1 machine state (Multiboot spec 0.6.96, 3.2).
enum class EntryMode : std::uint8_t { Long64, Protected32 };

inline constexpr std::uint32_t multiboot_magic = 0x2BAD'B002;

// How a vCPU of either back end starts (svm::VCpu / vmx::VCpu create).
struct CreateConfig {
    EntryMode entry_mode = EntryMode::Long64;
    // Long64: the guest's CR3, page tables the VMM built in guest memory
    // that map at least the code at the entry point.
    GuestPhysAddr page_table_root;
    std::uint64_t boot_argument = 0;  // Long64: RDI; Protected32: EBX
};

// Nothing to choose yet: every guest gets the intercepts / controls of
// vmcb.hpp / vmcs.hpp.
struct SetupConfig {};

namespace cr0 {
inline constexpr std::uint64_t pe = 1u << 0, mp = 1u << 1, em = 1u << 2, ts = 1u << 3, et = 1u << 4, ne = 1u << 5;
inline constexpr std::uint64_t wp = 1u << 16, am = 1u << 18;
inline constexpr std::uint64_t nw = 1u << 29, cd = 1u << 30, pg = 1u << 31;
}  // namespace cr0
namespace cr4 {
inline constexpr std::uint64_t pse = 1u << 4, pae = 1u << 5, osfxsr = 1u << 9, osxmmexcpt = 1u << 10;
inline constexpr std::uint64_t vmxe = 1u << 13, osxsave = 1u << 18;
}  // namespace cr4
namespace rflags {
inline constexpr std::uint64_t reserved1 = 1u << 1;  // always 1
inline constexpr std::uint64_t if_ = 1u << 9;
}  // namespace rflags

// Reset values the SDM and APM give for the debug registers and the PAT.
inline constexpr std::uint64_t dr6_reset = 0xFFFF'0FF0;
inline constexpr std::uint64_t dr7_reset = 0x400;
inline constexpr std::uint64_t pat_reset = 0x0007'0406'0007'0406;

// A segment descriptor's attributes in the VMCS's access-rights layout
// (Intel SDM vol. 3C, 25.4.1 table 25-2): type 3:0, S 4, DPL 6:5, P 7,
// AVL 12, L 13, D/B 14, G 15, "unusable" 16. The VMCB keeps bits 7:0 and
// 15:12 of it, packed into 12 bits (svm_attributes).
namespace access_rights {
inline constexpr std::uint32_t accessed = 1u << 0;
inline constexpr std::uint32_t readable = 1u << 1;  // code: readable; data: writable
inline constexpr std::uint32_t code = 1u << 3;
inline constexpr std::uint32_t s = 1u << 4;  // code or data (not system)
inline constexpr std::uint32_t present = 1u << 7;
inline constexpr std::uint32_t l = 1u << 13;   // 64-bit code
inline constexpr std::uint32_t db = 1u << 14;  // 32-bit default size
inline constexpr std::uint32_t g = 1u << 15;   // limit in 4 KiB units
inline constexpr std::uint32_t unusable = 1u << 16;
// Flat ring-0 segments: execute/read code, read/write data.
inline constexpr std::uint32_t code_flat = present | s | code | readable | accessed;
inline constexpr std::uint32_t data_flat = present | s | readable | accessed;
// A busy 32/64-bit TSS and an LDT (system types 0xB and 0x2).
inline constexpr std::uint32_t tss_busy = present | 0xB;
inline constexpr std::uint32_t ldt = present | 0x2;
}  // namespace access_rights

// The VMCB's 12-bit attribute field of access rights `ar` (AMD APM vol. 2,
// 15.5.1: descriptor bits 47:40 and 55:52).
[[nodiscard]] constexpr std::uint16_t svm_attributes(std::uint32_t ar) noexcept {
    return static_cast<std::uint16_t>((ar & 0xFF) | ((ar >> 4) & 0xF00));
}

struct SegmentState {
    std::uint16_t selector = 0;
    std::uint32_t access_rights = 0;
    std::uint32_t limit = 0;  // in bytes
    std::uint64_t base = 0;
};

struct TableRegister {
    std::uint64_t base = 0;
    std::uint32_t limit = 0;
};

// Everything the entry mode decides; general-purpose registers aside
// (RDI / EAX and EBX, set by the policies).
struct EntryState {
    SegmentState cs, ds, es, ss, fs, gs, ldtr, tr;
    TableRegister gdtr, idtr;
    std::uint64_t cr0 = 0, cr3 = 0, cr4 = 0, efer = 0;
    std::uint64_t rip = 0, rflags = rflags::reserved1;
    std::uint64_t dr6 = dr6_reset, dr7 = dr7_reset, pat = pat_reset;
};

// The state for `mode` at `entry`, CR3 = `cr3` in Long64. Selectors follow
// a GDT with code at 0x08 and data at 0x10, which the guest loads its own
// over before it reloads a segment register; GDTR and IDTR are empty until
// the guest loads its own. No back-end bits (SVM's EFER.SVME, VMX's fixed
// CR0/CR4 bits): vmcb.hpp and vmcs.hpp add them.
[[nodiscard]] constexpr EntryState entry_state(EntryMode mode, std::uint64_t entry, std::uint64_t cr3) noexcept {
    namespace ar = access_rights;
    const bool long64 = mode == EntryMode::Long64;
    EntryState s;
    s.cs = SegmentState{0x08, ar::code_flat | ar::g | (long64 ? ar::l : ar::db), 0xFFFF'FFFF, 0};
    s.ds = s.es = s.ss = s.fs = s.gs = SegmentState{0x10, ar::data_flat | ar::db | ar::g, 0xFFFF'FFFF, 0};
    s.ldtr = SegmentState{0, ar::ldt, 0xFFFF, 0};
    s.tr = SegmentState{0, ar::tss_busy, 0xFFFF, 0};
    s.gdtr = s.idtr = TableRegister{0, 0xFFFF};
    s.rip = entry;
    if (long64) {
        s.cr0 = cr0::pe | cr0::mp | cr0::et | cr0::ne | cr0::wp | cr0::pg;
        s.cr4 = cr4::pae | cr4::osfxsr | cr4::osxmmexcpt;
        s.cr3 = cr3;
        s.efer = msr::efer::lme | msr::efer::lma | msr::efer::nxe;
    } else {
        s.cr0 = cr0::pe | cr0::et;
    }
    return s;
}

}  // namespace axvcpu::x86_64
