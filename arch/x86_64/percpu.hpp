// axvcpu::x86_64::svm::PerCpu<H>: the per-CPU half of the SVM policy.
// Virtualization is "on" when EFER.SVME is set and VM_HSAVE_PA names this
// CPU's host save area, a page of the host's (H::alloc_frame) where VMRUN
// keeps the host state #VMEXIT restores (AMD APM vol. 2, 15.4 and 15.30.4).
// "Off" clears both and gives the page back.
//
// is_enabled() reads EFER, so it tells the truth about the CPU it is called
// on; call it (like enable/disable) on the object's own CPU.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "arch/x86_64/features.hpp"
#include "arch/x86_64/instructions.hpp"
#include "arch/x86_64/sysregs.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64::svm {

template <class H>
class PerCpu {
    static_assert(api::check_memory_if<H>());

public:
    static AxResult<PerCpu> create(usize cpu_id) { return PerCpu(cpu_id); }

    PerCpu(PerCpu&& other) noexcept : cpu_id_(other.cpu_id_), host_save_area_(std::exchange(other.host_save_area_, std::nullopt)) {}
    PerCpu& operator=(PerCpu&&) = delete;
    PerCpu(const PerCpu&) = delete;
    PerCpu& operator=(const PerCpu&) = delete;
    ~PerCpu() { release_area(); }

    [[nodiscard]] bool is_enabled() const { return (insn::rdmsr(msr::ia32_efer) & msr::efer::svme) != 0; }

    // Unsupported when the CPU has no SVM (CPUID 8000_0001 ECX[2]) or the
    // firmware disabled it (VM_CR.SVMDIS); NoMemory without a page for
    // the host save area.
    AxResult<void> hardware_enable() {
        if ((insn::cpuid(cpuid_leaf::ext_features).ecx & cpuid_bits::ext1_ecx_svm) == 0)
            return ax_err(AxError::Unsupported);
        if ((insn::rdmsr(msr::vm_cr) & msr::vm_cr_bits::svmdis) != 0) return ax_err(AxError::Unsupported);
        if (!host_save_area_) {
            host_save_area_ = H::alloc_frame();
            if (!host_save_area_) return ax_err(AxError::NoMemory);
        }
        insn::wrmsr(msr::ia32_efer, insn::rdmsr(msr::ia32_efer) | msr::efer::svme);
        insn::wrmsr(msr::vm_hsave_pa, host_save_area_->value());
        return ax_ok();
    }

    AxResult<void> hardware_disable() {
        insn::wrmsr(msr::vm_hsave_pa, 0);
        insn::wrmsr(msr::ia32_efer, insn::rdmsr(msr::ia32_efer) & ~msr::efer::svme);
        release_area();
        return ax_ok();
    }

    // Four-level nested page tables (stage2.hpp).
    static constexpr usize max_guest_page_table_levels() { return 4; }

    [[nodiscard]] usize cpu_id() const noexcept { return cpu_id_; }

private:
    explicit PerCpu(usize cpu_id) : cpu_id_(cpu_id) {}
    void release_area() {
        if (host_save_area_) H::dealloc_frame(*std::exchange(host_save_area_, std::nullopt));
    }

    usize cpu_id_;
    std::optional<HostPhysAddr> host_save_area_;
};

}  // namespace axvcpu::x86_64::svm
