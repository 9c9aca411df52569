// Two translation units that both include the SVM world switch: the final
// link must contain exactly one copy (COMDAT group), checked by
// test/world_switch_two_tu.sh.
#include "arch/x86_64/world_switch.hpp"

void enter_from_a(axvcpu::x86_64::SwitchContext* context) { axvcpu_x86_svm_run_guest(context); }
