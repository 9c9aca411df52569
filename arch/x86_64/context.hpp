// The guest state the x86 world switches move on every entry and exit,
// with the byte offsets their assembly uses, each checked against the
// struct here so the two cannot drift. The rest of the guest's register
// state lives in the VMCB / VMCS (RSP, RIP, RFLAGS, segments, control
// registers; RAX too on SVM), in the MSR switch lists (VMX: the syscall
// MSRs), or is switched at bind/unbind (the FPU/SSE state).
#pragma once

#include <cstddef>
#include <cstdint>

#include "arch/x86_64/exit_decode.hpp"

#if !defined(__x86_64__)
#error "arch/x86_64/context.hpp is for x86_64 targets only"
#endif

namespace axvcpu::x86_64 {

static_assert(sizeof(Gprs) == 16 * sizeof(std::uint64_t), "the switches store register i at 8 * i");

namespace svm {
// What axvcpu_x86_svm_run_guest reads and writes.
struct SwitchContext {
    // RAX..R15 in encoding order (Gprs). The switch loads and stores all
    // but RAX and RSP, which VMRUN and #VMEXIT take from and leave in the
    // VMCB: those two live there, and their slots here are unused.
    Gprs gprs{};
    std::uint64_t vmcb_pa = 0;       // the guest's VMCB
    std::uint64_t host_save_pa = 0;  // where VMSAVE keeps the host's FS/GS/TR/LDTR and syscall MSRs meanwhile
};
}  // namespace svm

namespace vmx {
// What axvcpu_x86_vmx_run_guest reads and writes.
struct SwitchContext {
    // RAX..R15 in encoding order (Gprs). The switch loads and stores all
    // but RSP, which VM entry and exit take from and leave in the VMCS.
    Gprs gprs{};
    // The host RSP the current VMCS holds: the switch rewrites the field
    // only when its stack pointer differs (0: never written).
    std::uint64_t host_rsp = 0;
    // 0: the VMCS is clear, enter with VMLAUNCH; 1: launched, VMRESUME.
    std::uint8_t launched = 0;
    // The guest's CR2, which the VMCS does not hold: loaded before entry
    // (when the CPU's differs), stored after the exit.
    std::uint64_t cr2 = 0;
};
}  // namespace vmx

// Offsets for the top-level assembly, which takes no operands.
#define AXVCPU_X86_GPRS 0
#define AXVCPU_X86_SVM_VMCB_PA 128
#define AXVCPU_X86_SVM_HOST_SAVE_PA 136
#define AXVCPU_X86_VMX_HOST_RSP 128
#define AXVCPU_X86_VMX_LAUNCHED 136
#define AXVCPU_X86_VMX_CR2 144

namespace offset {
inline constexpr std::size_t gprs = AXVCPU_X86_GPRS;
inline constexpr std::size_t svm_vmcb_pa = AXVCPU_X86_SVM_VMCB_PA;
inline constexpr std::size_t svm_host_save_pa = AXVCPU_X86_SVM_HOST_SAVE_PA;
inline constexpr std::size_t vmx_host_rsp = AXVCPU_X86_VMX_HOST_RSP;
inline constexpr std::size_t vmx_launched = AXVCPU_X86_VMX_LAUNCHED;
inline constexpr std::size_t vmx_cr2 = AXVCPU_X86_VMX_CR2;
}  // namespace offset

static_assert(offsetof(svm::SwitchContext, gprs) == offset::gprs);
static_assert(offsetof(svm::SwitchContext, vmcb_pa) == offset::svm_vmcb_pa);
static_assert(offsetof(svm::SwitchContext, host_save_pa) == offset::svm_host_save_pa);
static_assert(offsetof(vmx::SwitchContext, gprs) == offset::gprs);
static_assert(offsetof(vmx::SwitchContext, host_rsp) == offset::vmx_host_rsp);
static_assert(offsetof(vmx::SwitchContext, launched) == offset::vmx_launched);
static_assert(offsetof(vmx::SwitchContext, cr2) == offset::vmx_cr2);

}  // namespace axvcpu::x86_64
