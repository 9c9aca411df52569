// Every member of the target's own arch policy, built as kernel code: an
// explicit instantiation of its VCpu over a static host policy compiles the
// members a VMM that calls only some of them (the examples) never builds.
// check.py compiles it for every arch and inspects its symbols. On x86_64
// both back ends: the SVM and the VMX policy, each with its PerCpu.
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
#include <arch/x86_64/vcpu.hpp>
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
template class axvcpu::x86_64::vmx::VCpu<axvcpu_test::KernelHost>;
// An explicit instantiation of a class does not reach its base's members:
// the ones both policies inherit, for each back end's register accessors.
template class axvcpu::x86_64::detail::VCpuCommon<axvcpu::x86_64::svm::VCpu<axvcpu_test::KernelHost>,
                                                  axvcpu_test::KernelHost>;
template class axvcpu::x86_64::detail::VCpuCommon<axvcpu::x86_64::vmx::VCpu<axvcpu_test::KernelHost>,
                                                  axvcpu_test::KernelHost>;
template class axvcpu::AxPerCpu<axvcpu::x86_64::vmx::PerCpu<axvcpu_test::KernelHost>>;
#endif
