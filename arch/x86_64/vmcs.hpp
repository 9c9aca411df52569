// The Intel VMCS: field encodings as named constants, each group checked
// against the SDM's encoding rules at compile time; the VM-execution,
// VM-exit and VM-entry control bits the VMX policy sets; and the pure
// computations of control values from the capability MSRs and of CR0/CR4
// from their fixed bits (Intel SDM vol. 3C, 25.11.2 "VMREAD, VMWRITE, and
// Encodings of VMCS Fields", 25.6-25.8 for the controls; vol. 3D, appendix
// A "VMX Capability Reporting Facility", appendix B "Field Encoding in
// VMCS"); and the VMCS a vCPU starts with, computed as a list of field
// writes from the capability MSRs, the entry state and the vCPU's pages,
// so that host tests check every value against the SDM's VM-entry checks
// (test/x86_64/vmx_setup_test.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include "arch/x86_64/entry_state.hpp"
#include "arch/x86_64/sysregs.hpp"
#include "axvcpu/types.hpp"

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

// --- The capability MSRs of one CPU (SDM vol. 3D, appendix A) -----------------------

// What vmx::PerCpu reads on its CPU: the control capabilities are the TRUE
// MSRs where IA32_VMX_BASIC bit 55 says they exist (capability_msr).
struct Capabilities {
    std::uint64_t basic = 0;
    std::uint64_t pin_based = 0, primary = 0, secondary = 0, exit = 0, entry = 0;
    std::uint64_t cr0_fixed0 = 0, cr0_fixed1 = 0, cr4_fixed0 = 0, cr4_fixed1 = 0;
    std::uint64_t ept_vpid = 0;  // IA32_VMX_EPT_VPID_CAP (A.10)
};

// IA32_VMX_EPT_VPID_CAP bits the policy needs (A.10).
namespace ept_vpid_cap {
inline constexpr std::uint64_t walk_length_4 = 1u << 6;
inline constexpr std::uint64_t memory_type_wb = 1u << 14;
inline constexpr std::uint64_t pages_2m = 1u << 16;
inline constexpr std::uint64_t invept = 1u << 20;
inline constexpr std::uint64_t invept_single_context = 1u << 25;
inline constexpr std::uint64_t invept_all_contexts = 1u << 26;
inline constexpr std::uint64_t invvpid = std::uint64_t{1} << 32;
inline constexpr std::uint64_t invvpid_single_context = std::uint64_t{1} << 41;
inline constexpr std::uint64_t invvpid_all_contexts = std::uint64_t{1} << 42;
}  // namespace ept_vpid_cap

// The EPT the policy builds (stage2::ept: 4 levels, write-back, 2 MiB
// pages) and the TLB invalidation it issues (INVEPT, INVVPID, one of the
// two scopes each) are all available.
[[nodiscard]] constexpr bool ept_vpid_usable(std::uint64_t cap) noexcept {
    using namespace ept_vpid_cap;
    constexpr std::uint64_t needed = walk_length_4 | memory_type_wb | pages_2m | invept | invvpid;
    return (cap & needed) == needed && (cap & (invept_single_context | invept_all_contexts)) != 0 &&
           (cap & (invvpid_single_context | invvpid_all_contexts)) != 0;
}

// --- The controls a vCPU runs with -------------------------------------------------

// Why no VMCS can be set up on this CPU (vmx::VCpu::setup returns
// Unsupported and last_setup_error() says which).
enum class SetupError : std::uint8_t {
    None,
    PinBased,            // a required pin-based control is not allowed
    PrimaryProcessor,    // ... or a primary processor-based one, or CR3 exiting cannot be turned off
    SecondaryProcessor,  // ... EPT, VPID, or unrestricted guest for a Protected32 entry
    Exit,
    Entry,
    EptVpid,  // the EPT/VPID capabilities ept_vpid_usable needs
};

// Physical interrupts and NMIs belong to the host, which learns an
// interrupt's vector at the exit (acknowledge interrupt on exit). HLT,
// every I/O port, MWAIT/MONITOR (raised as #UD, as CPUID shows none) exit;
// MSRs exit but for the ones the guest owns (msr_bitmap); INVD always
// exits. EPT with a VPID per VM; unrestricted guest when the entry mode
// needs paging off. EFER and PAT are switched by VM entry and exit. The
// interrupt-window control is the policy's to turn on at run time.
inline constexpr std::uint32_t required_pin_based = pin_based::external_interrupt_exiting | pin_based::nmi_exiting;
// MOV to/from CR8 exits so that the guest's TPR is its own, not the
// physical local APIC's; MOV DR exits until the guest first uses a debug
// register, from when the policy switches DR0-DR3 and DR6 on every entry.
inline constexpr std::uint32_t required_primary = primary::hlt_exiting | primary::unconditional_io_exiting |
                                                   primary::use_msr_bitmaps | primary::mwait_exiting |
                                                   primary::monitor_exiting | primary::cr8_load_exiting |
                                                   primary::cr8_store_exiting | primary::mov_dr_exiting |
                                                   primary::activate_secondary_controls;
// Exits the policy does not emulate: they must be off (the non-TRUE
// capability MSRs force CR3 exiting on; every CPU with EPT has TRUE ones).
inline constexpr std::uint32_t refused_primary = primary::cr3_load_exiting | primary::cr3_store_exiting |
                                                  primary::invlpg_exiting | primary::rdtsc_exiting;
inline constexpr std::uint32_t required_secondary = secondary::enable_ept | secondary::enable_vpid;
// Set where the CPU allows: without them the instructions the guest's
// CPUID may show (RDTSCP, INVPCID) raise #UD, and WBINVD would flush the
// host's caches. XSAVES stays off: the guest's CPUID does not show it
// (features.hpp), as IA32_XSS is not switched.
inline constexpr std::uint32_t optional_secondary = secondary::unrestricted_guest | secondary::enable_rdtscp |
                                                     secondary::enable_invpcid | secondary::wbinvd_exiting;
// Entry and exit switch DR7 and IA32_DEBUGCTL (else VM exit leaves DR7 =
// 400H and the guest's is lost, 28.5.1), EFER and PAT.
inline constexpr std::uint32_t required_exit = exit_ctl::host_address_space_size | exit_ctl::save_debug_controls |
                                                exit_ctl::acknowledge_interrupt_on_exit | exit_ctl::save_pat |
                                                exit_ctl::load_pat | exit_ctl::save_efer | exit_ctl::load_efer;
inline constexpr std::uint32_t required_entry = entry_ctl::load_debug_controls | entry_ctl::load_pat |
                                                 entry_ctl::load_efer;

struct ControlPlan {
    std::uint32_t pin_based = 0, primary = 0, secondary = 0, exit = 0, entry = 0;
    SetupError error = SetupError::None;
    [[nodiscard]] constexpr bool ok() const noexcept { return error == SetupError::None; }
    [[nodiscard]] constexpr bool unrestricted_guest() const noexcept {
        return (secondary & secondary::unrestricted_guest) != 0;
    }
};

[[nodiscard]] constexpr ControlPlan plan_controls(const Capabilities& caps, EntryMode mode) noexcept {
    ControlPlan plan;
    const ControlValue pin = adjust_controls(caps.pin_based, required_pin_based);
    const ControlValue prim = adjust_controls(caps.primary, required_primary);
    const std::uint32_t needed_secondary =
        required_secondary | (mode == EntryMode::Protected32 ? secondary::unrestricted_guest : 0u);
    const ControlValue sec = adjust_controls(caps.secondary, needed_secondary, optional_secondary);
    const ControlValue ex = adjust_controls(caps.exit, required_exit);
    const std::uint32_t needed_entry = required_entry | (mode == EntryMode::Long64 ? entry_ctl::ia32e_mode_guest : 0u);
    const ControlValue en = adjust_controls(caps.entry, needed_entry);
    plan.pin_based = pin.value;
    plan.primary = prim.value;
    plan.secondary = sec.value;
    plan.exit = ex.value;
    plan.entry = en.value;
    if (!pin.ok()) {
        plan.error = SetupError::PinBased;
    } else if (!prim.ok() || (prim.value & refused_primary) != 0) {
        plan.error = SetupError::PrimaryProcessor;
    } else if (!sec.ok()) {
        plan.error = SetupError::SecondaryProcessor;
    } else if (!ex.ok()) {
        plan.error = SetupError::Exit;
    } else if (!en.ok()) {
        plan.error = SetupError::Entry;
    } else if (!ept_vpid_usable(caps.ept_vpid)) {
        plan.error = SetupError::EptVpid;
    }
    return plan;
}

// --- CR0 and CR4 as the guest sees them --------------------------------------------
// The guest's view of a control register: its own bits from the register,
// the bits in the guest/host mask from the read shadow (25.6.6).
[[nodiscard]] constexpr std::uint64_t guest_visible(std::uint64_t real, std::uint64_t shadow,
                                                    std::uint64_t mask) noexcept {
    return (real & ~mask) | (shadow & mask);
}

// The real registers must keep the fixed bits of VMX operation (A.7, A.8;
// unrestricted guest exempts CR0.PE and PG, 26.3.1.1). The policy owns
// those bits (guest/host masks, 25.6.6): the guest reads its own values
// from the read shadows, and a MOV that would change an owned bit exits to
// be emulated. It also owns CR0.PE and PG, so that it sees paging turn on
// or off and keeps EFER.LMA, the "IA-32e mode guest" entry control and the
// PAE PDPTEs in step.

[[nodiscard]] constexpr std::uint64_t cr0_owned(const Capabilities& caps) noexcept {
    return ((caps.cr0_fixed0 | ~caps.cr0_fixed1) & 0xFFFF'FFFF) | cr0::pe | cr0::pg;
}
[[nodiscard]] constexpr std::uint64_t cr4_owned(const Capabilities& caps) noexcept {
    return (caps.cr4_fixed0 | ~caps.cr4_fixed1) & 0xFFFF'FFFF;
}
[[nodiscard]] constexpr std::uint64_t real_cr0(const Capabilities& caps, bool unrestricted, std::uint64_t guest) noexcept {
    const std::uint64_t fixed0 = caps.cr0_fixed0 & ~(unrestricted ? cr0::pe | cr0::pg : 0);
    return apply_fixed_bits(guest, fixed0, caps.cr0_fixed1);
}
[[nodiscard]] constexpr std::uint64_t real_cr4(const Capabilities& caps, std::uint64_t guest) noexcept {
    return apply_fixed_bits(guest, caps.cr4_fixed0, caps.cr4_fixed1);
}

// The outcome of a guest's MOV to CR0 or CR4 that exited: #GP, or the new
// guest-visible value with what follows from it.
struct CrWrite {
    bool fault = true;               // #GP(0), nothing changes
    std::uint64_t value = 0;         // the guest's new CR0 / CR4 (the read shadow)
    std::uint64_t efer = 0;          // the guest's EFER, LMA updated
    bool long_mode = false;          // "IA-32e mode guest" for the next entry
    bool load_pdptes = false;        // PAE paging is now on outside long mode: reload the PDPTEs
    constexpr bool operator==(const CrWrite&) const noexcept = default;
};

// The guest's state a control-register write is checked against.
struct CrContext {
    std::uint64_t cr0 = 0, cr4 = 0, efer = 0;
    bool cs_l = false;  // the code segment is 64-bit
};

// MOV to CR0 (SDM vol. 2B "MOV—Move to/from Control Registers", vol. 3A
// 2.5 and 10.8.5): #GP for bits 63:32, PG without PE, NW without CD,
// PG with EFER.LME but CR4.PAE clear, PG cleared in 64-bit code; on a CPU
// without unrestricted guest also for PE or PG cleared (not runnable).
// EFER.LMA follows PG and LME.
[[nodiscard]] constexpr CrWrite emulate_cr0_write(const CrContext& g, std::uint64_t value, bool unrestricted) noexcept {
    CrWrite out;
    const bool pg = (value & cr0::pg) != 0;
    const bool lme = (g.efer & msr::efer::lme) != 0;
    if ((value >> 32) != 0) return out;
    if (pg && (value & cr0::pe) == 0) return out;
    if ((value & cr0::nw) != 0 && (value & cr0::cd) == 0) return out;
    if (pg && lme && (g.cr4 & cr4::pae) == 0 && (g.cr0 & cr0::pg) == 0) return out;
    if (!pg && (g.cr0 & cr0::pg) != 0 && (g.efer & msr::efer::lma) != 0 && g.cs_l) return out;
    if (!unrestricted && (value & (cr0::pe | cr0::pg)) != (cr0::pe | cr0::pg)) return out;
    out.fault = false;
    out.value = value;
    out.long_mode = pg && lme;
    out.efer = out.long_mode ? (g.efer | msr::efer::lma) : (g.efer & ~msr::efer::lma);
    out.load_pdptes = pg && !out.long_mode && (g.cr4 & cr4::pae) != 0 && (g.cr0 & cr0::pg) == 0;
    return out;
}

// MOV to CR4 (same sections): #GP for a bit VMX operation does not allow
// (beyond VMXE, which the guest does not see) and for PAE cleared in long
// mode. Changing PAE under PAE paging reloads the PDPTEs.
[[nodiscard]] constexpr CrWrite emulate_cr4_write(const CrContext& g, std::uint64_t value,
                                                  const Capabilities& caps) noexcept {
    CrWrite out;
    const std::uint64_t allowed = (caps.cr4_fixed1 & 0xFFFF'FFFF) & ~cr4::vmxe;
    if ((value & ~allowed) != 0) return out;
    const bool long_mode = (g.efer & msr::efer::lma) != 0;
    if (long_mode && (value & cr4::pae) == 0) return out;
    out.fault = false;
    out.value = value;
    out.efer = g.efer;
    out.long_mode = long_mode;
    out.load_pdptes = !long_mode && (g.cr0 & cr0::pg) != 0 && (value & cr4::pae) != 0 &&
                      ((value ^ g.cr4) & (cr4::pae | cr4::pse)) != 0;
    return out;
}

// --- MSRs ---------------------------------------------------------------------------

// The MSR bitmap (25.6.9): 4 KiB, one bit per MSR: reads of 0..1FFFH, then
// reads of C0000000H..C0001FFFH, then the writes of each (1 KiB each). A
// set bit makes RDMSR/WRMSR exit; an MSR outside both ranges always exits.
inline constexpr usize msr_bitmap_bytes = 4096;

struct MsrBitmapSlot {
    usize byte = 0;
    unsigned bit = 0;
};
[[nodiscard]] constexpr std::optional<MsrBitmapSlot> msr_bitmap_slot(std::uint32_t index, bool write) noexcept {
    usize base = write ? 2048 : 0;
    std::uint32_t offset = index;
    if (index >= 0xC000'0000 && index <= 0xC000'1FFF) {
        base += 1024;
        offset = index - 0xC000'0000;
    } else if (index > 0x1FFF) {
        return std::nullopt;
    }
    return MsrBitmapSlot{base + offset / 8, offset % 8};
}


// An entry of the VM-entry / VM-exit MSR lists (25.7.2, table 25-15).
struct MsrEntry {
    std::uint32_t index = 0;
    std::uint32_t reserved = 0;
    std::uint64_t value = 0;
};
static_assert(sizeof(MsrEntry) == 16);

// The MSRs VM entry and exit do not switch but the guest owns: loaded from
// the guest list at entry and stored back to it at exit, and the host's
// loaded from the host list at exit: the syscall MSRs, and TSC_AUX, which
// the guest's RDTSCP reads.
inline constexpr std::array<std::uint32_t, 6> switched_msrs = {msr::kernel_gs_base, msr::star,  msr::lstar,
                                                               msr::cstar,          msr::sfmask, msr::tsc_aux};

// Writes the bitmap at `map`: every MSR exits but msr::guest_owned and
// switched_msrs, which the VMCS (FS/GS base, SYSENTER_*) or the switch
// lists hold for the guest.
constexpr void fill_msr_bitmap(std::uint8_t* map) noexcept {
    for (usize i = 0; i < msr_bitmap_bytes; ++i) map[i] = 0xFF;
    const auto pass = [map](std::uint32_t index) {
        for (const bool write : {false, true}) {
            if (const std::optional<MsrBitmapSlot> slot = msr_bitmap_slot(index, write))
                map[slot->byte] &= static_cast<std::uint8_t>(~(1u << slot->bit));
        }
    };
    for (const std::uint32_t index : msr::guest_owned) pass(index);
    for (const std::uint32_t index : switched_msrs) pass(index);
}

// --- The VMCS a vCPU starts with ---------------------------------------------------

struct FieldWrite {
    std::uint32_t field = 0;
    std::uint64_t value = 0;
};

// A list of VMWRITEs, applied in order.
template <usize N>
class FieldWrites {
public:
    constexpr void add(std::uint32_t field, std::uint64_t value) noexcept {
        if (count_ < N) writes_[count_++] = FieldWrite{field, value};
    }
    [[nodiscard]] constexpr const FieldWrite* begin() const noexcept { return writes_.data(); }
    [[nodiscard]] constexpr const FieldWrite* end() const noexcept { return writes_.data() + count_; }
    [[nodiscard]] constexpr usize size() const noexcept { return count_; }
    // The last value written to `field`, if any.
    [[nodiscard]] constexpr std::optional<std::uint64_t> find(std::uint32_t field) const noexcept {
        std::optional<std::uint64_t> value;
        for (const FieldWrite& w : *this)
            if (w.field == field) value = w.value;
        return value;
    }

private:
    std::array<FieldWrite, N> writes_{};
    usize count_ = 0;
};

// What the plan needs besides the capabilities and the entry state.
struct VCpuPages {
    std::uint64_t msr_bitmap = 0;  // msr_bitmap_bytes, filled by fill_msr_bitmap
    std::uint64_t guest_msrs = 0;  // switched_msrs.size() MsrEntry: the entry-load and exit-store list
    std::uint64_t host_msrs = 0;   // the same for the exit-load list
    std::uint64_t eptp = 0;        // stage2::ept::pointer
    std::uint16_t vpid = 0;        // >= 1
};

inline constexpr usize setup_writes = 96;

// Every control and guest-state field a vCPU starts with (host state is
// bind()'s, host_state_writes). Fields not written keep VMCLEAR's
// values and are not used by this configuration.
[[nodiscard]] constexpr FieldWrites<setup_writes> setup_plan(const Capabilities& caps, const ControlPlan& controls,
                                                             const EntryState& state, const VCpuPages& pages) noexcept {
    using namespace field;
    FieldWrites<setup_writes> w;
    w.add(pin_based_controls, controls.pin_based);
    w.add(primary_processor_controls, controls.primary);
    w.add(secondary_processor_controls, controls.secondary);
    w.add(exit_controls, controls.exit);
    w.add(entry_controls, controls.entry);
    w.add(exception_bitmap, 0);
    w.add(page_fault_error_code_mask, 0);
    w.add(page_fault_error_code_match, 0);
    w.add(cr3_target_count, 0);
    w.add(tsc_offset, 0);
    w.add(msr_bitmap, pages.msr_bitmap);
    w.add(ept_pointer, pages.eptp);
    w.add(vpid, pages.vpid);
    w.add(exit_msr_store_address, pages.guest_msrs);
    w.add(exit_msr_store_count, switched_msrs.size());
    w.add(entry_msr_load_address, pages.guest_msrs);
    w.add(entry_msr_load_count, switched_msrs.size());
    w.add(exit_msr_load_address, pages.host_msrs);
    w.add(exit_msr_load_count, switched_msrs.size());
    w.add(entry_interruption_info, 0);
    w.add(cr0_guest_host_mask, cr0_owned(caps));
    w.add(cr4_guest_host_mask, cr4_owned(caps));
    w.add(cr0_read_shadow, state.cr0);
    w.add(cr4_read_shadow, state.cr4);

    const auto segment = [&w](std::uint32_t selector_field, unsigned index, const SegmentState& seg) {
        // The limit, access-rights and base fields of ES..TR share an index
        // order (ES, CS, SS, DS, FS, GS, LDTR, TR).
        w.add(selector_field, seg.selector);
        w.add(guest_es_limit + 2 * index, seg.limit);
        w.add(guest_es_access_rights + 2 * index, seg.access_rights);
        w.add(guest_es_base + 2 * index, seg.base);
    };
    segment(guest_es_selector, 0, state.es);
    segment(guest_cs_selector, 1, state.cs);
    segment(guest_ss_selector, 2, state.ss);
    segment(guest_ds_selector, 3, state.ds);
    segment(guest_fs_selector, 4, state.fs);
    segment(guest_gs_selector, 5, state.gs);
    segment(guest_ldtr_selector, 6, state.ldtr);
    segment(guest_tr_selector, 7, state.tr);
    w.add(guest_gdtr_base, state.gdtr.base);
    w.add(guest_gdtr_limit, state.gdtr.limit);
    w.add(guest_idtr_base, state.idtr.base);
    w.add(guest_idtr_limit, state.idtr.limit);
    w.add(guest_cr0, real_cr0(caps, controls.unrestricted_guest(), state.cr0));
    w.add(guest_cr3, state.cr3);
    w.add(guest_cr4, real_cr4(caps, state.cr4));
    w.add(guest_dr7, state.dr7);
    w.add(guest_rsp, 0);
    w.add(guest_rip, state.rip);
    w.add(guest_rflags, state.rflags);
    w.add(guest_pending_debug_exceptions, 0);
    w.add(guest_ia32_debugctl, 0);
    w.add(guest_ia32_pat, state.pat);
    w.add(guest_ia32_efer, state.efer);
    w.add(guest_ia32_sysenter_cs, 0);
    w.add(guest_ia32_sysenter_esp, 0);
    w.add(guest_ia32_sysenter_eip, 0);
    w.add(guest_interruptibility_state, 0);
    w.add(guest_activity_state, 0);
    // No shadow VMCS: the link pointer must be all ones (26.3.1.5).
    w.add(vmcs_link_pointer, ~std::uint64_t{0});
    return w;
}

// The host's state that VM exit loads (26.2.2-26.2.4, 28.5): read on the
// CPU at bind(), with the exit's landing point and stack set by the world
// switch.
struct HostState {
    std::uint64_t cr0 = 0, cr3 = 0, cr4 = 0;
    std::uint16_t cs = 0, ss = 0, ds = 0, es = 0, fs = 0, gs = 0, tr = 0;
    std::uint64_t fs_base = 0, gs_base = 0, tr_base = 0, gdtr_base = 0, idtr_base = 0;
    std::uint64_t sysenter_cs = 0, sysenter_esp = 0, sysenter_eip = 0;
    std::uint64_t efer = 0, pat = 0;
    std::uint64_t rip = 0;  // the world switch's exit path
};

// A host data-segment selector VM exit can load: RPL and TI must be 0
// (26.2.3); any other is replaced by the null selector, which 64-bit code
// does not use for addressing (the FS and GS bases come from their fields).
[[nodiscard]] constexpr std::uint16_t host_selector(std::uint16_t selector) noexcept {
    return (selector & 7) == 0 ? selector : 0;
}

[[nodiscard]] constexpr FieldWrites<24> host_state_writes(const HostState& h) noexcept {
    using namespace field;
    FieldWrites<24> w;
    w.add(host_cr0, h.cr0);
    w.add(host_cr3, h.cr3);
    w.add(host_cr4, h.cr4);
    w.add(host_cs_selector, h.cs);
    w.add(host_ss_selector, host_selector(h.ss));
    w.add(host_ds_selector, host_selector(h.ds));
    w.add(host_es_selector, host_selector(h.es));
    w.add(host_fs_selector, host_selector(h.fs));
    w.add(host_gs_selector, host_selector(h.gs));
    w.add(host_tr_selector, h.tr);
    w.add(host_fs_base, h.fs_base);
    w.add(host_gs_base, h.gs_base);
    w.add(host_tr_base, h.tr_base);
    w.add(host_gdtr_base, h.gdtr_base);
    w.add(host_idtr_base, h.idtr_base);
    w.add(host_ia32_sysenter_cs, h.sysenter_cs);
    w.add(host_ia32_sysenter_esp, h.sysenter_esp);
    w.add(host_ia32_sysenter_eip, h.sysenter_eip);
    w.add(host_ia32_efer, h.efer);
    w.add(host_ia32_pat, h.pat);
    w.add(host_rip, h.rip);
    return w;
}

// The base address of the TSS whose selector is `tr`, from its 16-byte
// descriptor in the GDT at `gdt` (SDM vol. 3A, 8.2.3: base 15:0 in bytes
// 2-3, 23:16 in byte 4, 31:24 in byte 7, 63:32 in bytes 8-11).
[[nodiscard]] constexpr std::uint64_t tss_base(const std::uint8_t* gdt, std::uint16_t tr) noexcept {
    const std::uint8_t* d = gdt + (tr & ~7u);
    return std::uint64_t{d[2]} | std::uint64_t{d[3]} << 8 | std::uint64_t{d[4]} << 16 | std::uint64_t{d[7]} << 24 |
           std::uint64_t{d[8]} << 32 | std::uint64_t{d[9]} << 40 | std::uint64_t{d[10]} << 48 |
           std::uint64_t{d[11]} << 56;
}

}  // namespace axvcpu::x86_64::vmcs
