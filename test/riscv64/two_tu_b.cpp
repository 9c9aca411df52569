#include "arch/riscv64/world_switch.hpp"

void enter_from_a(axvcpu::riscv64::SwitchContext* context);

void enter_from_b(axvcpu::riscv64::SwitchContext* context) {
    std::uint64_t fault = 0;
    (void)axvcpu_rv64_guest_access(0, 0, 0, &fault);
    axvcpu_rv64_enter_guest(context);
    enter_from_a(context);
}

extern "C" void _start() { enter_from_b(nullptr); }
