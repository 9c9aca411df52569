#include "arch/x86_64/world_switch.hpp"

void enter_from_a(axvcpu::x86_64::SwitchContext* context);

void enter_from_b(axvcpu::x86_64::SwitchContext* context) {
    axvcpu_x86_svm_run_guest(context);
    enter_from_a(context);
}

extern "C" void _start() { enter_from_b(nullptr); }
