// x86 model-specific registers the SVM and VMX policies use: their
// numbers and bit fields, as named constants (Intel SDM vol. 4, "Model-
// Specific Registers"; AMD APM vol. 2, appendix A). Pure constants: no
// RDMSR/WRMSR here, so the header is host-includable and freestanding-clean.
#pragma once

#include <cstdint>

namespace axvcpu::x86_64::msr {

// Architectural and long-mode MSRs.
inline constexpr std::uint32_t ia32_tsc = 0x10;
inline constexpr std::uint32_t ia32_apic_base = 0x1B;
inline constexpr std::uint32_t ia32_feature_control = 0x3A;
inline constexpr std::uint32_t ia32_sysenter_cs = 0x174;
inline constexpr std::uint32_t ia32_sysenter_esp = 0x175;
inline constexpr std::uint32_t ia32_sysenter_eip = 0x176;
inline constexpr std::uint32_t ia32_debugctl = 0x1D9;
inline constexpr std::uint32_t ia32_pat = 0x277;
inline constexpr std::uint32_t ia32_efer = 0xC000'0080;
// The syscall MSRs a world switch must swap (the STAR, LSTAR,
// CSTAR, SFMASK, KERNEL_GS_BASE): neither VMRUN nor VM entry does it.
inline constexpr std::uint32_t star = 0xC000'0081;
inline constexpr std::uint32_t lstar = 0xC000'0082;
inline constexpr std::uint32_t cstar = 0xC000'0083;
inline constexpr std::uint32_t sfmask = 0xC000'0084;
inline constexpr std::uint32_t fs_base = 0xC000'0100;
inline constexpr std::uint32_t gs_base = 0xC000'0101;
inline constexpr std::uint32_t kernel_gs_base = 0xC000'0102;
inline constexpr std::uint32_t tsc_aux = 0xC000'0103;

// The MSRs a guest reads and writes without an exit under either back end:
// its FS/GS bases, SYSENTER MSRs (VMCB and VMCS fields) and syscall MSRs
// (VMLOAD/VMSAVE, or the VMX switch lists), which the world switches give
// the guest's values while it runs. The policies emulate EFER and PAT
// themselves; every other MSR exits to the VMM.
inline constexpr std::uint32_t guest_owned[] = {
    fs_base, gs_base, kernel_gs_base, star, lstar, cstar, sfmask, ia32_sysenter_cs, ia32_sysenter_esp,
    ia32_sysenter_eip,
};

// EFER bits (APM vol. 2, 3.1.7).
namespace efer {
inline constexpr std::uint64_t sce = 1 << 0;
inline constexpr std::uint64_t lme = 1 << 8;
inline constexpr std::uint64_t lma = 1 << 10;
inline constexpr std::uint64_t nxe = 1 << 11;
inline constexpr std::uint64_t svme = 1 << 12;  // SVM enable (APM 15.4)
}  // namespace efer

// AMD SVM (APM vol. 2, 15.30).
inline constexpr std::uint32_t vm_cr = 0xC001'0114;
inline constexpr std::uint32_t vm_hsave_pa = 0xC001'0117;
namespace vm_cr_bits {
inline constexpr std::uint64_t lock = 1 << 3;
inline constexpr std::uint64_t svmdis = 1 << 4;  // SVME cannot be set (BIOS disabled SVM)
}  // namespace vm_cr_bits

// Intel VMX capability MSRs (SDM vol. 3D, appendix A).
inline constexpr std::uint32_t ia32_vmx_basic = 0x480;
inline constexpr std::uint32_t ia32_vmx_pinbased_ctls = 0x481;
inline constexpr std::uint32_t ia32_vmx_procbased_ctls = 0x482;
inline constexpr std::uint32_t ia32_vmx_exit_ctls = 0x483;
inline constexpr std::uint32_t ia32_vmx_entry_ctls = 0x484;
inline constexpr std::uint32_t ia32_vmx_misc = 0x485;
inline constexpr std::uint32_t ia32_vmx_cr0_fixed0 = 0x486;
inline constexpr std::uint32_t ia32_vmx_cr0_fixed1 = 0x487;
inline constexpr std::uint32_t ia32_vmx_cr4_fixed0 = 0x488;
inline constexpr std::uint32_t ia32_vmx_cr4_fixed1 = 0x489;
inline constexpr std::uint32_t ia32_vmx_vmcs_enum = 0x48A;
inline constexpr std::uint32_t ia32_vmx_procbased_ctls2 = 0x48B;
inline constexpr std::uint32_t ia32_vmx_ept_vpid_cap = 0x48C;
inline constexpr std::uint32_t ia32_vmx_true_pinbased_ctls = 0x48D;
inline constexpr std::uint32_t ia32_vmx_true_procbased_ctls = 0x48E;
inline constexpr std::uint32_t ia32_vmx_true_exit_ctls = 0x48F;
inline constexpr std::uint32_t ia32_vmx_true_entry_ctls = 0x490;
inline constexpr std::uint32_t ia32_vmx_vmfunc = 0x491;

// IA32_FEATURE_CONTROL (SDM vol. 3C, 24.7): VMXON outside SMX needs lock
// and bit 2 set; a locked MSR without bit 2 means the firmware disabled VMX.
namespace feature_control {
inline constexpr std::uint64_t lock = 1 << 0;
inline constexpr std::uint64_t vmxon_in_smx = 1 << 1;
inline constexpr std::uint64_t vmxon_outside_smx = 1 << 2;
}  // namespace feature_control

// IA32_VMX_BASIC (SDM vol. 3D, A.1).
namespace vmx_basic {
[[nodiscard]] constexpr std::uint32_t revision_id(std::uint64_t basic) noexcept {
    return static_cast<std::uint32_t>(basic & 0x7FFF'FFFF);
}
[[nodiscard]] constexpr std::uint32_t vmcs_size(std::uint64_t basic) noexcept {
    return static_cast<std::uint32_t>((basic >> 32) & 0x1FFF);
}
// Bit 55: the TRUE capability MSRs exist and say which default-1 controls may be 0.
inline constexpr std::uint64_t true_controls = std::uint64_t{1} << 55;
}  // namespace vmx_basic

}  // namespace axvcpu::x86_64::msr
