// Two translation units that both include the x86 world switches: the
// final link must contain exactly one copy of each (COMDAT groups), checked
// by test/world_switch_two_tu.sh.
#include "arch/x86_64/world_switch.hpp"

void enter_from_a(axvcpu::x86_64::svm::SwitchContext* svm, axvcpu::x86_64::vmx::SwitchContext* vmx) {
    axvcpu_x86_svm_run_guest(svm);
    (void)axvcpu_x86_vmx_run_guest(vmx);
}
