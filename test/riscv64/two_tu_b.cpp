#include "arch/riscv64/world_switch.hpp"

void enter_from_a(axvcpu::riscv64::SwitchContext* context);

void enter_from_b(axvcpu::riscv64::SwitchContext* context) {
    (void)axvcpu::riscv64::guest_access<axvcpu::riscv64::GuestAccessOp::hlvx_hu>(0, 0);
    axvcpu_rv64_enter_guest(context);
    enter_from_a(context);
}

extern "C" void _start() { enter_from_b(nullptr); }
