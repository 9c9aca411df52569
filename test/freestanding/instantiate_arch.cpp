// Every member of the target's own arch policy, built as kernel code: an
// explicit instantiation of its VCpu over a static host policy compiles the
// members a VMM that calls only some of them (the examples) never builds.
// check.py compiles it for every arch and inspects its symbols. On x86_64
// that is the SVM policy; the VMX back end has no VCpu yet, so its exit
// decoder and control computations are built here as kernel code.
#include <axvcpu/axvcpu.hpp>

#include "kernel_host.hpp"

#if defined(__aarch64__)
#include <arch/aarch64/percpu.hpp>
#include <arch/aarch64/vcpu.hpp>
#include <arch/aarch64/vgic.hpp>
#elif defined(__riscv)
#include <arch/riscv64/percpu.hpp>
#include <arch/riscv64/vcpu.hpp>
#include <arch/riscv64/vplic.hpp>
#elif defined(__x86_64__)
#include <arch/x86_64/percpu.hpp>
#include <arch/x86_64/svm.hpp>
#include <arch/x86_64/vcpu.hpp>
#include <arch/x86_64/vmcs.hpp>
#include <arch/x86_64/vmx.hpp>
#endif

#if defined(__aarch64__)
template class axvcpu::aarch64::VCpu<axvcpu_test::KernelHost>;
template class axvcpu::AxPerCpu<axvcpu::aarch64::PerCpu>;
// The virtual GICv3 model a VMM would build for a Linux guest.
template class axvcpu::aarch64::vgic::VGic<8, 64>;
template class axvcpu::aarch64::vgic::VGic<8, 64>::FrameView<axvcpu::aarch64::vgic::NoLock,
                                                              &axvcpu::aarch64::vgic::VGic<8, 64>::read_distributor,
                                                              &axvcpu::aarch64::vgic::VGic<8, 64>::write_distributor>;
template class axvcpu::aarch64::vgic::VGic<8, 64>::FrameView<axvcpu::aarch64::vgic::NoLock,
                                                              &axvcpu::aarch64::vgic::VGic<8, 64>::read_redistributor,
                                                              &axvcpu::aarch64::vgic::VGic<8, 64>::write_redistributor>;
// The host's EL2 exception handler the world switch calls.
extern "C" void axvcpu_aarch64_host_exception(std::uint64_t, axvcpu::aarch64::HostTrapFrame*) {}
#elif defined(__riscv)
template class axvcpu::riscv64::VCpu<axvcpu_test::KernelHost>;
template class axvcpu::AxPerCpu<axvcpu::riscv64::PerCpu>;
// The virtual PLIC at its largest source count, for the most vCPUs a VM
// may have; update_lines is a member template, so one use instantiates it.
template class axvcpu::riscv64::VPlic<axvcpu::riscv64::plic::max_sources,
                                      axvcpu::riscv64::plic::contexts_for(axvcpu::config::max_vcpus_per_vm)>;
axvcpu::usize axvcpu_test_vplic_lines(
    axvcpu::riscv64::VPlic<axvcpu::riscv64::plic::max_sources,
                           axvcpu::riscv64::plic::contexts_for(axvcpu::config::max_vcpus_per_vm)>& plic,
    bool* lines) {
    return plic.update_lines([lines](axvcpu::usize context, bool asserted) { lines[context] = asserted; });
}
#elif defined(__x86_64__)
template class axvcpu::x86_64::svm::VCpu<axvcpu_test::KernelHost>;
template class axvcpu::AxPerCpu<axvcpu::x86_64::svm::PerCpu<axvcpu_test::KernelHost>>;
// The decoders as a policy's run() would call them, out of line.
axvcpu::x86_64::DecodeResult axvcpu_test_svm_decode(const axvcpu::x86_64::svm::TrapRecord& trap,
                                                    const axvcpu::x86_64::Gprs& regs,
                                                    const axvcpu::x86_64::InstructionBytes& insn) {
    return axvcpu::x86_64::svm::decode_exit(trap, regs, insn);
}
axvcpu::x86_64::DecodeResult axvcpu_test_vmx_decode(const axvcpu::x86_64::vmx::TrapRecord& trap,
                                                    const axvcpu::x86_64::Gprs& regs,
                                                    const axvcpu::x86_64::InstructionBytes& insn) {
    return axvcpu::x86_64::vmx::decode_exit(trap, regs, insn);
}
axvcpu::x86_64::vmcs::ControlValue axvcpu_test_adjust(std::uint64_t capability, std::uint32_t required) {
    return axvcpu::x86_64::vmcs::adjust_controls(capability, required);
}
#endif
