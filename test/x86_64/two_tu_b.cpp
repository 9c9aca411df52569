#include "arch/x86_64/world_switch.hpp"

void enter_from_a(axvcpu::x86_64::svm::SwitchContext* svm, axvcpu::x86_64::vmx::SwitchContext* vmx);

void enter_from_b(axvcpu::x86_64::svm::SwitchContext* svm, axvcpu::x86_64::vmx::SwitchContext* vmx) {
    axvcpu_x86_svm_run_guest(svm);
    (void)axvcpu_x86_vmx_run_guest(vmx);
    enter_from_a(svm, vmx);
}

extern "C" void _start() { enter_from_b(nullptr, nullptr); }
