// The Intel VMCS: field encodings as named constants, each group checked
// against the SDM's encoding rules at compile time; the VM-execution,
// VM-exit and VM-entry control bits the VMX policy sets; and the pure
// computations of control values from the capability MSRs and of CR0/CR4
// from their fixed bits (Intel SDM vol. 3C, 25.11.2 "VMREAD, VMWRITE, and
// Encodings of VMCS Fields", 25.6-25.8 for the controls; vol. 3D, appendix
// A "VMX Capability Reporting Facility", appendix B "Field Encoding in
// VMCS").
#pragma once

#include <cstdint>
#include <initializer_list>

#include "arch/x86_64/sysregs.hpp"

namespace axvcpu::x86_64::vmcs {

// --- Field encodings (SDM vol. 3C, 25.11.2 table 25-21) ---------------------------
// bit 0: access type (1: the high 32 bits of a 64-bit field), bits 9:1:
// index, bits 11:10: type, bit 12: 0, bits 14:13: width, bits 31:15: 0.
enum class FieldWidth : std::uint8_t { Bits16 = 0, Bits64 = 1, Bits32 = 2, Natural = 3 };
enum class FieldType : std::uint8_t { Control = 0, ExitInformation = 1, GuestState = 2, HostState = 3 };

[[nodiscard]] constexpr std::uint32_t encode(FieldWidth width, FieldType type, unsigned index, bool high = false) noexcept {
    return static_cast<std::uint32_t>(width) << 13 | static_cast<std::uint32_t>(type) << 10 | (index & 0x1FF) << 1 |
           (high ? 1u : 0u);
}
[[nodiscard]] constexpr FieldWidth width_of(std::uint32_t field) noexcept { return static_cast<FieldWidth>((field >> 13) & 3); }
[[nodiscard]] constexpr FieldType type_of(std::uint32_t field) noexcept { return static_cast<FieldType>((field >> 10) & 3); }
[[nodiscard]] constexpr unsigned index_of(std::uint32_t field) noexcept { return (field >> 1) & 0x1FF; }
[[nodiscard]] constexpr bool is_high_access(std::uint32_t field) noexcept { return (field & 1) != 0; }

// Whether an encoding obeys the rules: reserved bits 12 and 31:15 clear,
// and the high access type only on a 64-bit field.
[[nodiscard]] constexpr bool well_formed(std::uint32_t field) noexcept {
    if ((field & 0xFFFF'9000) != 0) return false;
    return !is_high_access(field) || width_of(field) == FieldWidth::Bits64;
}

// The high half of a 64-bit field (for 32-bit VMREAD/VMWRITE).
[[nodiscard]] constexpr std::uint32_t high_half(std::uint32_t field) noexcept { return field | 1; }

namespace detail {
// Every field of one appendix-B group: well formed, of that width and
// type, full access, and numbered by consecutive indices from `first` in
// the order given (the SDM's tables list them so).
template <class... F>
constexpr bool group(FieldWidth width, FieldType type, unsigned first, F... fields) {
    unsigned index = first;
    bool ok = true;
    for (std::uint32_t f : {static_cast<std::uint32_t>(fields)...}) {
        ok = ok && well_formed(f) && width_of(f) == width && type_of(f) == type && !is_high_access(f) &&
             index_of(f) == index && encode(width, type, index) == f;
        ++index;
    }
    return ok;
}
}  // namespace detail

namespace field {
// 16-bit control fields (SDM vol. 3D, B.1.1).
inline constexpr std::uint32_t vpid = 0x0000;
inline constexpr std::uint32_t posted_interrupt_vector = 0x0002;
inline constexpr std::uint32_t eptp_index = 0x0004;
// 16-bit guest-state fields (B.1.2): ES, CS, SS, DS, FS, GS, LDTR, TR selectors.
inline constexpr std::uint32_t guest_es_selector = 0x0800;
inline constexpr std::uint32_t guest_cs_selector = 0x0802;
inline constexpr std::uint32_t guest_ss_selector = 0x0804;
inline constexpr std::uint32_t guest_ds_selector = 0x0806;
inline constexpr std::uint32_t guest_fs_selector = 0x0808;
inline constexpr std::uint32_t guest_gs_selector = 0x080A;
inline constexpr std::uint32_t guest_ldtr_selector = 0x080C;
inline constexpr std::uint32_t guest_tr_selector = 0x080E;
inline constexpr std::uint32_t guest_interrupt_status = 0x0810;
inline constexpr std::uint32_t pml_index = 0x0812;
// 16-bit host-state fields (B.1.3).
inline constexpr std::uint32_t host_es_selector = 0x0C00;
inline constexpr std::uint32_t host_cs_selector = 0x0C02;
inline constexpr std::uint32_t host_ss_selector = 0x0C04;
inline constexpr std::uint32_t host_ds_selector = 0x0C06;
inline constexpr std::uint32_t host_fs_selector = 0x0C08;
inline constexpr std::uint32_t host_gs_selector = 0x0C0A;
inline constexpr std::uint32_t host_tr_selector = 0x0C0C;
// 64-bit control fields (B.2.1), full access.
inline constexpr std::uint32_t io_bitmap_a = 0x2000;
inline constexpr std::uint32_t io_bitmap_b = 0x2002;
inline constexpr std::uint32_t msr_bitmap = 0x2004;
inline constexpr std::uint32_t exit_msr_store_address = 0x2006;
inline constexpr std::uint32_t exit_msr_load_address = 0x2008;
inline constexpr std::uint32_t entry_msr_load_address = 0x200A;
inline constexpr std::uint32_t executive_vmcs_pointer = 0x200C;
inline constexpr std::uint32_t pml_address = 0x200E;
inline constexpr std::uint32_t tsc_offset = 0x2010;
inline constexpr std::uint32_t virtual_apic_address = 0x2012;
inline constexpr std::uint32_t apic_access_address = 0x2014;
inline constexpr std::uint32_t posted_interrupt_descriptor = 0x2016;
inline constexpr std::uint32_t vm_function_controls = 0x2018;
inline constexpr std::uint32_t ept_pointer = 0x201A;
inline constexpr std::uint32_t xss_exiting_bitmap = 0x202C;
// 64-bit read-only data field (B.2.2).
inline constexpr std::uint32_t guest_physical_address = 0x2400;
// 64-bit guest-state fields (B.2.3).
inline constexpr std::uint32_t vmcs_link_pointer = 0x2800;
inline constexpr std::uint32_t guest_ia32_debugctl = 0x2802;
inline constexpr std::uint32_t guest_ia32_pat = 0x2804;
inline constexpr std::uint32_t guest_ia32_efer = 0x2806;
inline constexpr std::uint32_t guest_ia32_perf_global_ctrl = 0x2808;
inline constexpr std::uint32_t guest_pdpte0 = 0x280A;
inline constexpr std::uint32_t guest_pdpte1 = 0x280C;
inline constexpr std::uint32_t guest_pdpte2 = 0x280E;
inline constexpr std::uint32_t guest_pdpte3 = 0x2810;
// 64-bit host-state fields (B.2.4).
inline constexpr std::uint32_t host_ia32_pat = 0x2C00;
inline constexpr std::uint32_t host_ia32_efer = 0x2C02;
inline constexpr std::uint32_t host_ia32_perf_global_ctrl = 0x2C04;
// 32-bit control fields (B.3.1).
inline constexpr std::uint32_t pin_based_controls = 0x4000;
inline constexpr std::uint32_t primary_processor_controls = 0x4002;
inline constexpr std::uint32_t exception_bitmap = 0x4004;
inline constexpr std::uint32_t page_fault_error_code_mask = 0x4006;
inline constexpr std::uint32_t page_fault_error_code_match = 0x4008;
inline constexpr std::uint32_t cr3_target_count = 0x400A;
inline constexpr std::uint32_t exit_controls = 0x400C;
inline constexpr std::uint32_t exit_msr_store_count = 0x400E;
inline constexpr std::uint32_t exit_msr_load_count = 0x4010;
inline constexpr std::uint32_t entry_controls = 0x4012;
inline constexpr std::uint32_t entry_msr_load_count = 0x4014;
inline constexpr std::uint32_t entry_interruption_info = 0x4016;
inline constexpr std::uint32_t entry_exception_error_code = 0x4018;
inline constexpr std::uint32_t entry_instruction_length = 0x401A;
inline constexpr std::uint32_t tpr_threshold = 0x401C;
inline constexpr std::uint32_t secondary_processor_controls = 0x401E;
inline constexpr std::uint32_t ple_gap = 0x4020;
inline constexpr std::uint32_t ple_window = 0x4022;
// 32-bit read-only data fields (B.3.2).
inline constexpr std::uint32_t vm_instruction_error = 0x4400;
inline constexpr std::uint32_t exit_reason = 0x4402;
inline constexpr std::uint32_t exit_interruption_info = 0x4404;
inline constexpr std::uint32_t exit_interruption_error_code = 0x4406;
inline constexpr std::uint32_t idt_vectoring_info = 0x4408;
inline constexpr std::uint32_t idt_vectoring_error_code = 0x440A;
inline constexpr std::uint32_t exit_instruction_length = 0x440C;
inline constexpr std::uint32_t exit_instruction_info = 0x440E;
// 32-bit guest-state fields (B.3.3).
inline constexpr std::uint32_t guest_es_limit = 0x4800;
inline constexpr std::uint32_t guest_cs_limit = 0x4802;
inline constexpr std::uint32_t guest_ss_limit = 0x4804;
inline constexpr std::uint32_t guest_ds_limit = 0x4806;
inline constexpr std::uint32_t guest_fs_limit = 0x4808;
inline constexpr std::uint32_t guest_gs_limit = 0x480A;
inline constexpr std::uint32_t guest_ldtr_limit = 0x480C;
inline constexpr std::uint32_t guest_tr_limit = 0x480E;
inline constexpr std::uint32_t guest_gdtr_limit = 0x4810;
inline constexpr std::uint32_t guest_idtr_limit = 0x4812;
inline constexpr std::uint32_t guest_es_access_rights = 0x4814;
inline constexpr std::uint32_t guest_cs_access_rights = 0x4816;
inline constexpr std::uint32_t guest_ss_access_rights = 0x4818;
inline constexpr std::uint32_t guest_ds_access_rights = 0x481A;
inline constexpr std::uint32_t guest_fs_access_rights = 0x481C;
inline constexpr std::uint32_t guest_gs_access_rights = 0x481E;
inline constexpr std::uint32_t guest_ldtr_access_rights = 0x4820;
inline constexpr std::uint32_t guest_tr_access_rights = 0x4822;
inline constexpr std::uint32_t guest_interruptibility_state = 0x4824;
inline constexpr std::uint32_t guest_activity_state = 0x4826;
inline constexpr std::uint32_t guest_smbase = 0x4828;
inline constexpr std::uint32_t guest_ia32_sysenter_cs = 0x482A;
inline constexpr std::uint32_t preemption_timer_value = 0x482E;
// 32-bit host-state field (B.3.4).
inline constexpr std::uint32_t host_ia32_sysenter_cs = 0x4C00;
// Natural-width control fields (B.4.1).
inline constexpr std::uint32_t cr0_guest_host_mask = 0x6000;
inline constexpr std::uint32_t cr4_guest_host_mask = 0x6002;
inline constexpr std::uint32_t cr0_read_shadow = 0x6004;
inline constexpr std::uint32_t cr4_read_shadow = 0x6006;
inline constexpr std::uint32_t cr3_target_value0 = 0x6008;
inline constexpr std::uint32_t cr3_target_value1 = 0x600A;
inline constexpr std::uint32_t cr3_target_value2 = 0x600C;
inline constexpr std::uint32_t cr3_target_value3 = 0x600E;
// Natural-width read-only data fields (B.4.2).
inline constexpr std::uint32_t exit_qualification = 0x6400;
inline constexpr std::uint32_t io_rcx = 0x6402;
inline constexpr std::uint32_t io_rsi = 0x6404;
inline constexpr std::uint32_t io_rdi = 0x6406;
inline constexpr std::uint32_t io_rip = 0x6408;
inline constexpr std::uint32_t guest_linear_address = 0x640A;
// Natural-width guest-state fields (B.4.3).
inline constexpr std::uint32_t guest_cr0 = 0x6800;
inline constexpr std::uint32_t guest_cr3 = 0x6802;
inline constexpr std::uint32_t guest_cr4 = 0x6804;
inline constexpr std::uint32_t guest_es_base = 0x6806;
inline constexpr std::uint32_t guest_cs_base = 0x6808;
inline constexpr std::uint32_t guest_ss_base = 0x680A;
inline constexpr std::uint32_t guest_ds_base = 0x680C;
inline constexpr std::uint32_t guest_fs_base = 0x680E;
inline constexpr std::uint32_t guest_gs_base = 0x6810;
inline constexpr std::uint32_t guest_ldtr_base = 0x6812;
inline constexpr std::uint32_t guest_tr_base = 0x6814;
inline constexpr std::uint32_t guest_gdtr_base = 0x6816;
inline constexpr std::uint32_t guest_idtr_base = 0x6818;
inline constexpr std::uint32_t guest_dr7 = 0x681A;
inline constexpr std::uint32_t guest_rsp = 0x681C;
inline constexpr std::uint32_t guest_rip = 0x681E;
inline constexpr std::uint32_t guest_rflags = 0x6820;
inline constexpr std::uint32_t guest_pending_debug_exceptions = 0x6822;
inline constexpr std::uint32_t guest_ia32_sysenter_esp = 0x6824;
inline constexpr std::uint32_t guest_ia32_sysenter_eip = 0x6826;
// Natural-width host-state fields (B.4.4).
inline constexpr std::uint32_t host_cr0 = 0x6C00;
inline constexpr std::uint32_t host_cr3 = 0x6C02;
inline constexpr std::uint32_t host_cr4 = 0x6C04;
inline constexpr std::uint32_t host_fs_base = 0x6C06;
inline constexpr std::uint32_t host_gs_base = 0x6C08;
inline constexpr std::uint32_t host_tr_base = 0x6C0A;
inline constexpr std::uint32_t host_gdtr_base = 0x6C0C;
inline constexpr std::uint32_t host_idtr_base = 0x6C0E;
inline constexpr std::uint32_t host_ia32_sysenter_esp = 0x6C10;
inline constexpr std::uint32_t host_ia32_sysenter_eip = 0x6C12;
inline constexpr std::uint32_t host_rsp = 0x6C14;
inline constexpr std::uint32_t host_rip = 0x6C16;
}  // namespace field


// Each appendix-B group, checked against the encoding rules.
namespace field {
static_assert(detail::group(FieldWidth::Bits16, FieldType::Control, 0, vpid, posted_interrupt_vector, eptp_index));
static_assert(detail::group(FieldWidth::Bits16, FieldType::GuestState, 0, guest_es_selector, guest_cs_selector,
                            guest_ss_selector, guest_ds_selector, guest_fs_selector, guest_gs_selector,
                            guest_ldtr_selector, guest_tr_selector, guest_interrupt_status, pml_index));
static_assert(detail::group(FieldWidth::Bits16, FieldType::HostState, 0, host_es_selector, host_cs_selector,
                            host_ss_selector, host_ds_selector, host_fs_selector, host_gs_selector, host_tr_selector));
// 64-bit fields: the full encodings; each one's high half is the odd encoding after it.
static_assert(detail::group(FieldWidth::Bits64, FieldType::Control, 0, io_bitmap_a, io_bitmap_b, msr_bitmap,
                            exit_msr_store_address, exit_msr_load_address, entry_msr_load_address,
                            executive_vmcs_pointer, pml_address, tsc_offset, virtual_apic_address, apic_access_address,
                            posted_interrupt_descriptor, vm_function_controls, ept_pointer));
static_assert(detail::group(FieldWidth::Bits64, FieldType::Control, 22, xss_exiting_bitmap));
static_assert(detail::group(FieldWidth::Bits64, FieldType::ExitInformation, 0, guest_physical_address));
static_assert(detail::group(FieldWidth::Bits64, FieldType::GuestState, 0, vmcs_link_pointer, guest_ia32_debugctl,
                            guest_ia32_pat, guest_ia32_efer, guest_ia32_perf_global_ctrl, guest_pdpte0, guest_pdpte1,
                            guest_pdpte2, guest_pdpte3));
static_assert(detail::group(FieldWidth::Bits64, FieldType::HostState, 0, host_ia32_pat, host_ia32_efer,
                            host_ia32_perf_global_ctrl));
static_assert(detail::group(FieldWidth::Bits32, FieldType::Control, 0, pin_based_controls, primary_processor_controls,
                            exception_bitmap, page_fault_error_code_mask, page_fault_error_code_match,
                            cr3_target_count, exit_controls, exit_msr_store_count, exit_msr_load_count, entry_controls,
                            entry_msr_load_count, entry_interruption_info, entry_exception_error_code,
                            entry_instruction_length, tpr_threshold, secondary_processor_controls, ple_gap,
                            ple_window));
static_assert(detail::group(FieldWidth::Bits32, FieldType::ExitInformation, 0, vm_instruction_error, exit_reason,
                            exit_interruption_info, exit_interruption_error_code, idt_vectoring_info,
                            idt_vectoring_error_code, exit_instruction_length, exit_instruction_info));
static_assert(detail::group(FieldWidth::Bits32, FieldType::GuestState, 0, guest_es_limit, guest_cs_limit,
                            guest_ss_limit, guest_ds_limit, guest_fs_limit, guest_gs_limit, guest_ldtr_limit,
                            guest_tr_limit, guest_gdtr_limit, guest_idtr_limit, guest_es_access_rights,
                            guest_cs_access_rights, guest_ss_access_rights, guest_ds_access_rights,
                            guest_fs_access_rights, guest_gs_access_rights, guest_ldtr_access_rights,
                            guest_tr_access_rights, guest_interruptibility_state, guest_activity_state, guest_smbase,
                            guest_ia32_sysenter_cs));
static_assert(detail::group(FieldWidth::Bits32, FieldType::GuestState, 23, preemption_timer_value));
static_assert(detail::group(FieldWidth::Bits32, FieldType::HostState, 0, host_ia32_sysenter_cs));
static_assert(detail::group(FieldWidth::Natural, FieldType::Control, 0, cr0_guest_host_mask, cr4_guest_host_mask,
                            cr0_read_shadow, cr4_read_shadow, cr3_target_value0, cr3_target_value1, cr3_target_value2,
                            cr3_target_value3));
static_assert(detail::group(FieldWidth::Natural, FieldType::ExitInformation, 0, exit_qualification, io_rcx, io_rsi,
                            io_rdi, io_rip, guest_linear_address));
static_assert(detail::group(FieldWidth::Natural, FieldType::GuestState, 0, guest_cr0, guest_cr3, guest_cr4,
                            guest_es_base, guest_cs_base, guest_ss_base, guest_ds_base, guest_fs_base, guest_gs_base,
                            guest_ldtr_base, guest_tr_base, guest_gdtr_base, guest_idtr_base, guest_dr7, guest_rsp,
                            guest_rip, guest_rflags, guest_pending_debug_exceptions, guest_ia32_sysenter_esp,
                            guest_ia32_sysenter_eip));
static_assert(detail::group(FieldWidth::Natural, FieldType::HostState, 0, host_cr0, host_cr3, host_cr4, host_fs_base,
                            host_gs_base, host_tr_base, host_gdtr_base, host_idtr_base, host_ia32_sysenter_esp,
                            host_ia32_sysenter_eip, host_rsp, host_rip));
}  // namespace field

// --- Control bits (SDM vol. 3C, 25.6.1, 25.6.2, 25.7.1, 25.8.1) ----------------------
namespace pin_based {
inline constexpr std::uint32_t external_interrupt_exiting = 1u << 0;
inline constexpr std::uint32_t nmi_exiting = 1u << 3;
inline constexpr std::uint32_t virtual_nmis = 1u << 5;
inline constexpr std::uint32_t preemption_timer = 1u << 6;
inline constexpr std::uint32_t posted_interrupts = 1u << 7;
}  // namespace pin_based
namespace primary {
inline constexpr std::uint32_t interrupt_window_exiting = 1u << 2;
inline constexpr std::uint32_t use_tsc_offsetting = 1u << 3;
inline constexpr std::uint32_t hlt_exiting = 1u << 7;
inline constexpr std::uint32_t invlpg_exiting = 1u << 9;
inline constexpr std::uint32_t mwait_exiting = 1u << 10;
inline constexpr std::uint32_t rdpmc_exiting = 1u << 11;
inline constexpr std::uint32_t rdtsc_exiting = 1u << 12;
inline constexpr std::uint32_t cr3_load_exiting = 1u << 15;
inline constexpr std::uint32_t cr3_store_exiting = 1u << 16;
inline constexpr std::uint32_t cr8_load_exiting = 1u << 19;
inline constexpr std::uint32_t cr8_store_exiting = 1u << 20;
inline constexpr std::uint32_t use_tpr_shadow = 1u << 21;
inline constexpr std::uint32_t nmi_window_exiting = 1u << 22;
inline constexpr std::uint32_t mov_dr_exiting = 1u << 23;
inline constexpr std::uint32_t unconditional_io_exiting = 1u << 24;
inline constexpr std::uint32_t use_io_bitmaps = 1u << 25;
inline constexpr std::uint32_t monitor_trap_flag = 1u << 27;
inline constexpr std::uint32_t use_msr_bitmaps = 1u << 28;
inline constexpr std::uint32_t monitor_exiting = 1u << 29;
inline constexpr std::uint32_t pause_exiting = 1u << 30;
inline constexpr std::uint32_t activate_secondary_controls = 1u << 31;
}  // namespace primary
namespace secondary {
inline constexpr std::uint32_t virtualize_apic_accesses = 1u << 0;
inline constexpr std::uint32_t enable_ept = 1u << 1;
inline constexpr std::uint32_t descriptor_table_exiting = 1u << 2;
inline constexpr std::uint32_t enable_rdtscp = 1u << 3;
inline constexpr std::uint32_t virtualize_x2apic = 1u << 4;
inline constexpr std::uint32_t enable_vpid = 1u << 5;
inline constexpr std::uint32_t wbinvd_exiting = 1u << 6;
inline constexpr std::uint32_t unrestricted_guest = 1u << 7;
inline constexpr std::uint32_t enable_invpcid = 1u << 12;
inline constexpr std::uint32_t enable_xsaves = 1u << 20;
}  // namespace secondary
namespace exit_ctl {
inline constexpr std::uint32_t save_debug_controls = 1u << 2;
inline constexpr std::uint32_t host_address_space_size = 1u << 9;  // a 64-bit host
inline constexpr std::uint32_t load_perf_global_ctrl = 1u << 12;
inline constexpr std::uint32_t acknowledge_interrupt_on_exit = 1u << 15;
inline constexpr std::uint32_t save_pat = 1u << 18;
inline constexpr std::uint32_t load_pat = 1u << 19;
inline constexpr std::uint32_t save_efer = 1u << 20;
inline constexpr std::uint32_t load_efer = 1u << 21;
inline constexpr std::uint32_t save_preemption_timer = 1u << 22;
}  // namespace exit_ctl
namespace entry_ctl {
inline constexpr std::uint32_t load_debug_controls = 1u << 2;
inline constexpr std::uint32_t ia32e_mode_guest = 1u << 9;
inline constexpr std::uint32_t entry_to_smm = 1u << 10;
inline constexpr std::uint32_t load_perf_global_ctrl = 1u << 13;
inline constexpr std::uint32_t load_pat = 1u << 14;
inline constexpr std::uint32_t load_efer = 1u << 15;
}  // namespace entry_ctl

// --- Controls from the capability MSRs (SDM vol. 3D, A.3-A.5) -----------------------

enum class ControlSet : std::uint8_t { PinBased, PrimaryProcessor, SecondaryProcessor, Exit, Entry };

// The MSR that reports which settings a control set allows: the TRUE one
// when IA32_VMX_BASIC bit 55 says it exists (it lets default-1 controls be
// 0, A.2); the secondary processor controls have only one.
[[nodiscard]] constexpr std::uint32_t capability_msr(ControlSet set, std::uint64_t vmx_basic) noexcept {
    const bool use_true = (vmx_basic & msr::vmx_basic::true_controls) != 0;
    switch (set) {
        case ControlSet::PinBased: return use_true ? msr::ia32_vmx_true_pinbased_ctls : msr::ia32_vmx_pinbased_ctls;
        case ControlSet::PrimaryProcessor:
            return use_true ? msr::ia32_vmx_true_procbased_ctls : msr::ia32_vmx_procbased_ctls;
        case ControlSet::SecondaryProcessor: return msr::ia32_vmx_procbased_ctls2;
        case ControlSet::Exit: return use_true ? msr::ia32_vmx_true_exit_ctls : msr::ia32_vmx_exit_ctls;
        case ControlSet::Entry: return use_true ? msr::ia32_vmx_true_entry_ctls : msr::ia32_vmx_entry_ctls;
    }
    return 0;
}

// A control value computed from a capability MSR: bits 31:0 are the
// allowed 0-settings (a set bit must be 1), bits 63:32 the allowed
// 1-settings (a clear bit must be 0). `refused` holds the required bits
// this CPU cannot set: a policy that gets any must not enter the guest.
struct ControlValue {
    std::uint32_t value = 0;
    std::uint32_t refused = 0;
    [[nodiscard]] constexpr bool ok() const noexcept { return refused == 0; }
    constexpr bool operator==(const ControlValue&) const noexcept = default;
};

// `required` bits must be set; `optional` ones are set where the CPU allows;
// the CPU's must-be-one bits are always set, everything else is clear.
[[nodiscard]] constexpr ControlValue adjust_controls(std::uint64_t capability, std::uint32_t required,
                                                     std::uint32_t optional = 0) noexcept {
    const auto must_be_one = static_cast<std::uint32_t>(capability);
    const auto may_be_one = static_cast<std::uint32_t>(capability >> 32);
    return ControlValue{((required | optional) & may_be_one) | must_be_one, required & ~may_be_one};
}

// CR0 and CR4 in VMX operation (SDM vol. 3D, A.7 and A.8): bits set in
// FIXED0 must be 1, bits clear in FIXED1 must be 0.
[[nodiscard]] constexpr std::uint64_t apply_fixed_bits(std::uint64_t value, std::uint64_t fixed0,
                                                       std::uint64_t fixed1) noexcept {
    return (value | fixed0) & fixed1;
}
[[nodiscard]] constexpr bool satisfies_fixed_bits(std::uint64_t value, std::uint64_t fixed0,
                                                  std::uint64_t fixed1) noexcept {
    return (value & fixed0) == fixed0 && (value & ~fixed1) == 0;
}

}  // namespace axvcpu::x86_64::vmcs
