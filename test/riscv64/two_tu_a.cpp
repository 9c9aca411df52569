// Two translation units that both include the world switch: the final
// link must contain exactly one copy (COMDAT group), checked by
// test/world_switch_two_tu.sh.
#include "arch/riscv64/world_switch.hpp"

void enter_from_a(axvcpu::riscv64::SwitchContext* context) { axvcpu_rv64_enter_guest(context); }
