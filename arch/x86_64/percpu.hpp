// The per-CPU halves of the x86 policies: svm::PerCpu<H> and
// vmx::PerCpu<H>.
//
// svm::PerCpu<H>: the per-CPU half of the SVM policy.
// Virtualization is "on" when EFER.SVME is set and VM_HSAVE_PA names this
// CPU's host save area, a page of the host's where VMRUN keeps the host
// state #VMEXIT restores (AMD APM vol. 2, 15.4 and 15.30.4). "Off" clears
// both and gives the page back. The page after it, allocated with it
// (H::alloc_contiguous_frames), is this CPU's record (CpuRecord) of the
// vCPU bound here, which svm::VCpu's bind and unbind keep: SVM has no
// register that tells, as VTTBR_EL2, hgatp and the current VMCS do on the
// other policies. "On" is refused (BadState) where VM_HSAVE_PA names
// another area, "off" while a vCPU is bound (a destructor then leaves the
// pages to the CPU).
//
// is_enabled() reads EFER, so it tells the truth about the CPU it is called
// on; call it (like enable/disable) on the object's own CPU.
//
// vmx::PerCpu<H>: the per-CPU half of the VMX policy. "On" is VMX
// operation: IA32_FEATURE_CONTROL allows VMXON outside SMX (set and
// locked here if the firmware left it unlocked), CR0 and CR4 hold the
// fixed bits of VMX operation (CR4.VMXE among them), and VMXON has entered
// VMX operation with this CPU's VMXON region, a page of the host's with
// the VMCS revision identifier (Intel SDM vol. 3C, 24.7 and 25.11.5).
// "Off" is VMXOFF, CR0 and CR4 as they were, the page given back.
// is_enabled() is true between the two on the object's CPU (VMX operation
// cannot be read from a register: CR4.VMXE alone does not prove it).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "arch/x86_64/features.hpp"
#include "arch/x86_64/instructions.hpp"
#include "arch/x86_64/sysregs.hpp"
#include "arch/x86_64/vmcs.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64::svm {

// The page after a CPU's host save area (VM_HSAVE_PA + 4 KiB), while
// svm::PerCpu has virtualization on there. The magic tells bind that the
// page is one; svm::VCpu requires svm::PerCpu on its CPU (a host that
// set VM_HSAVE_PA itself has no such page: bind reads the word after its
// area, which must then be mapped, and refuses).
struct CpuRecord {
    static constexpr std::uint64_t valid = 0x4350'4d56'5356'5841;  // "AXVSVMPC"
    std::uint64_t magic = valid;
    const void* bound_vcpu = nullptr;
};
inline constexpr std::uint64_t cpu_record_offset = 4096;

// The record beside the host save area at `host_save_area`.
template <class H>
[[nodiscard]] CpuRecord* record_beside(std::uint64_t host_save_area) {
    return reinterpret_cast<CpuRecord*>(H::phys_to_virt(HostPhysAddr(host_save_area + cpu_record_offset)).value());
}

// This CPU's record, or null if svm::PerCpu did not turn SVM on here.
template <class H>
[[nodiscard]] CpuRecord* this_cpu_record() {
    const std::uint64_t host_save_area = insn::rdmsr(msr::vm_hsave_pa);
    if (host_save_area == 0) return nullptr;
    CpuRecord* record = record_beside<H>(host_save_area);
    return record->magic == CpuRecord::valid ? record : nullptr;
}

template <class H>
class PerCpu {
    static_assert(api::check_memory_if<H>());

public:
    static AxResult<PerCpu> create(usize cpu_id) { return PerCpu(cpu_id); }

    PerCpu(PerCpu&& other) noexcept : cpu_id_(other.cpu_id_), host_save_area_(other.host_save_area_) {
        other.host_save_area_.reset();
    }
    PerCpu& operator=(PerCpu&&) = delete;
    PerCpu(const PerCpu&) = delete;
    PerCpu& operator=(const PerCpu&) = delete;
    ~PerCpu() { release_area(); }

    [[nodiscard]] bool is_enabled() const { return (insn::rdmsr(msr::ia32_efer) & msr::efer::svme) != 0; }

    // Unsupported when the CPU has no SVM (CPUID 8000_0001 ECX[2]) or the
    // firmware disabled it (VM_CR.SVMDIS); NoMemory without the two pages
    // (host save area, CpuRecord); BadState when VM_HSAVE_PA already names
    // another area (another PerCpu, or other code, has SVM here: its bound
    // vCPU's record would be lost).
    AxResult<void> hardware_enable() {
        if ((insn::cpuid(cpuid_leaf::ext_features).ecx & cpuid_bits::ext1_ecx_svm) == 0)
            return ax_err(AxError::Unsupported);
        if ((insn::rdmsr(msr::vm_cr) & msr::vm_cr_bits::svmdis) != 0) return ax_err(AxError::Unsupported);
        const std::uint64_t current = insn::rdmsr(msr::vm_hsave_pa);
        if (current != 0 && (!host_save_area_ || current != host_save_area_->value())) return ax_err(AxError::BadState);
        if (!host_save_area_) {
            host_save_area_ = H::alloc_contiguous_frames(2, 12);
            if (!host_save_area_) return ax_err(AxError::NoMemory);
            *record() = CpuRecord{};
        }
        insn::wrmsr(msr::ia32_efer, insn::rdmsr(msr::ia32_efer) | msr::efer::svme);
        insn::wrmsr(msr::vm_hsave_pa, host_save_area_->value());
        return ax_ok();
    }

    // BadState while a vCPU is bound (its unbind writes the record, its
    // VMRUN uses the area). A PerCpu that did not turn SVM on here (or
    // whose enable was refused) turns nothing off.
    AxResult<void> hardware_disable() {
        if (!host_save_area_) return ax_ok();
        if (record()->bound_vcpu != nullptr) return ax_err(AxError::BadState);
        if (insn::rdmsr(msr::vm_hsave_pa) == host_save_area_->value()) {
            insn::wrmsr(msr::vm_hsave_pa, 0);
            insn::wrmsr(msr::ia32_efer, insn::rdmsr(msr::ia32_efer) & ~msr::efer::svme);
        }
        release_area();
        return ax_ok();
    }

    // Four-level nested page tables (stage2.hpp).
    static constexpr usize max_guest_page_table_levels() { return 4; }

    [[nodiscard]] usize cpu_id() const noexcept { return cpu_id_; }

private:
    explicit PerCpu(usize cpu_id) : cpu_id_(cpu_id) {}
    [[nodiscard]] CpuRecord* record() const { return record_beside<H>(host_save_area_->value()); }
    void release_area() {
        // Still in use (a destructor after a refused hardware_disable): the
        // pages stay the CPU's, leaked rather than freed under VMRUN.
        if (!host_save_area_ || record()->bound_vcpu != nullptr) return;
        record()->magic = 0;  // a stale VM_HSAVE_PA elsewhere finds no record
        H::dealloc_contiguous_frames(*std::exchange(host_save_area_, std::nullopt), 2);
    }

    usize cpu_id_;
    std::optional<HostPhysAddr> host_save_area_;
};

}  // namespace axvcpu::x86_64::svm

namespace axvcpu::x86_64::vmx {

// What VMXON needs of IA32_FEATURE_CONTROL (SDM vol. 3C, 24.7): locked
// with "VMXON outside SMX" set. Unlocked, the kernel sets both; locked
// without it, the firmware disabled VMX and only a reset changes that.
enum class FeatureControl : std::uint8_t { Ready, WriteAndLock, Disabled };

struct FeatureControlPlan {
    FeatureControl action = FeatureControl::Disabled;
    std::uint64_t value = 0;  // WriteAndLock: the value to write
    constexpr bool operator==(const FeatureControlPlan&) const noexcept = default;
};

[[nodiscard]] constexpr FeatureControlPlan plan_feature_control(std::uint64_t current) noexcept {
    using namespace msr::feature_control;
    if ((current & lock) != 0)
        return FeatureControlPlan{(current & vmxon_outside_smx) != 0 ? FeatureControl::Ready : FeatureControl::Disabled, 0};
    return FeatureControlPlan{FeatureControl::WriteAndLock, current | vmxon_outside_smx | lock};
}

// IA32_VMX_BASIC's promises the policy relies on (A.1): a VMCS fits a
// page, write-back memory for the VMCS and VMXON region (bits 53:50 = 6),
// and no 32-bit limit on their addresses (bit 48).
[[nodiscard]] constexpr bool basic_usable(std::uint64_t basic) noexcept {
    const bool fits = msr::vmx_basic::vmcs_size(basic) <= 4096;
    const bool write_back = ((basic >> 50) & 0xF) == 6;
    const bool full_addresses = (basic & (std::uint64_t{1} << 48)) == 0;
    return fits && write_back && full_addresses;
}

// This CPU's capability MSRs (the TRUE ones where they exist).
inline vmcs::Capabilities read_capabilities() {
    using vmcs::ControlSet;
    vmcs::Capabilities caps;
    caps.basic = insn::rdmsr(msr::ia32_vmx_basic);
    caps.pin_based = insn::rdmsr(vmcs::capability_msr(ControlSet::PinBased, caps.basic));
    caps.primary = insn::rdmsr(vmcs::capability_msr(ControlSet::PrimaryProcessor, caps.basic));
    caps.exit = insn::rdmsr(vmcs::capability_msr(ControlSet::Exit, caps.basic));
    caps.entry = insn::rdmsr(vmcs::capability_msr(ControlSet::Entry, caps.basic));
    // The secondary controls' MSR exists only when the primary ones can activate them.
    if (((caps.primary >> 32) & vmcs::primary::activate_secondary_controls) != 0)
        caps.secondary = insn::rdmsr(vmcs::capability_msr(ControlSet::SecondaryProcessor, caps.basic));
    caps.cr0_fixed0 = insn::rdmsr(msr::ia32_vmx_cr0_fixed0);
    caps.cr0_fixed1 = insn::rdmsr(msr::ia32_vmx_cr0_fixed1);
    caps.cr4_fixed0 = insn::rdmsr(msr::ia32_vmx_cr4_fixed0);
    caps.cr4_fixed1 = insn::rdmsr(msr::ia32_vmx_cr4_fixed1);
    // EPT/VPID capabilities exist with either secondary control (A.10).
    constexpr std::uint64_t ept_or_vpid =
        std::uint64_t{vmcs::secondary::enable_ept | vmcs::secondary::enable_vpid} << 32;
    if ((caps.secondary & ept_or_vpid) != 0) caps.ept_vpid = insn::rdmsr(msr::ia32_vmx_ept_vpid_cap);
    return caps;
}

template <class H>
class PerCpu {
    static_assert(api::check_memory_if<H>());

public:
    static AxResult<PerCpu> create(usize cpu_id) { return PerCpu(cpu_id); }

    PerCpu(PerCpu&& other) noexcept
        : cpu_id_(other.cpu_id_), region_(std::exchange(other.region_, std::nullopt)), saved_cr0_(other.saved_cr0_),
          saved_cr4_(other.saved_cr4_), enabled_(std::exchange(other.enabled_, false)) {}
    PerCpu& operator=(PerCpu&&) = delete;
    PerCpu(const PerCpu&) = delete;
    PerCpu& operator=(const PerCpu&) = delete;
    ~PerCpu() { release_region(); }

    [[nodiscard]] bool is_enabled() const { return enabled_ && (insn::read_cr4() & cr4::vmxe) != 0; }

    // Unsupported when the CPU has no VMX (CPUID.1:ECX[5]), the firmware
    // locked it off, or IA32_VMX_BASIC breaks basic_usable; NoMemory
    // without a page for the VMXON region; BadState when VMXON fails
    // (something else already entered VMX operation here).
    AxResult<void> hardware_enable() {
        if (enabled_) return ax_ok();
        if ((insn::cpuid(cpuid_leaf::features).ecx & cpuid_bits::leaf1_ecx_vmx) == 0) return ax_err(AxError::Unsupported);
        const FeatureControlPlan plan = plan_feature_control(insn::rdmsr(msr::ia32_feature_control));
        if (plan.action == FeatureControl::Disabled) return ax_err(AxError::Unsupported);
        if (plan.action == FeatureControl::WriteAndLock) insn::wrmsr(msr::ia32_feature_control, plan.value);
        const std::uint64_t basic = insn::rdmsr(msr::ia32_vmx_basic);
        if (!basic_usable(basic)) return ax_err(AxError::Unsupported);
        if (!region_) {
            region_ = H::alloc_frame();
            if (!region_) return ax_err(AxError::NoMemory);
        }
        auto* region = reinterpret_cast<std::uint32_t*>(H::phys_to_virt(*region_).value());
        region[0] = msr::vmx_basic::revision_id(basic);
        saved_cr0_ = insn::read_cr0();
        saved_cr4_ = insn::read_cr4();
        insn::write_cr0(vmcs::apply_fixed_bits(saved_cr0_, insn::rdmsr(msr::ia32_vmx_cr0_fixed0),
                                               insn::rdmsr(msr::ia32_vmx_cr0_fixed1)));
        insn::write_cr4(vmcs::apply_fixed_bits(saved_cr4_ | cr4::vmxe, insn::rdmsr(msr::ia32_vmx_cr4_fixed0),
                                               insn::rdmsr(msr::ia32_vmx_cr4_fixed1)));
        if (!insn::vmxon(region_->value())) {
            insn::write_cr4(saved_cr4_);
            insn::write_cr0(saved_cr0_);
            return ax_err(AxError::BadState);
        }
        enabled_ = true;
        return ax_ok();
    }

    // Every vCPU that ran here must be unbound first (its VMCS cleared).
    AxResult<void> hardware_disable() {
        if (!enabled_) return ax_ok();
        (void)insn::vmxoff();
        insn::write_cr4(saved_cr4_);
        insn::write_cr0(saved_cr0_);
        enabled_ = false;
        release_region();
        return ax_ok();
    }

    // Four-level EPT (stage2::ept).
    static constexpr usize max_guest_page_table_levels() { return 4; }

    [[nodiscard]] usize cpu_id() const noexcept { return cpu_id_; }

private:
    explicit PerCpu(usize cpu_id) : cpu_id_(cpu_id) {}
    void release_region() {
        if (enabled_) return;  // still VMX operation's: kept until hardware_disable
        if (region_) H::dealloc_frame(*std::exchange(region_, std::nullopt));
    }

    usize cpu_id_;
    std::optional<HostPhysAddr> region_;
    std::uint64_t saved_cr0_ = 0;
    std::uint64_t saved_cr4_ = 0;
    bool enabled_ = false;
};

}  // namespace axvcpu::x86_64::vmx
