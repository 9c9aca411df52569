// Two translation units that both include world_switch.hpp, linked
// together by test/world_switch_two_tu.sh: the COMDAT group must leave
// exactly one copy of the world switch and vectors in the final image.
#include <arch/aarch64/world_switch.hpp>

extern "C" std::uint64_t tu_b_entry();

extern "C" std::uint64_t tu_a_entry() {
    return reinterpret_cast<std::uint64_t>(&axvcpu_aarch64_enter_guest) + tu_b_entry();
}

extern "C" void axvcpu_aarch64_host_exception(std::uint64_t, axvcpu::aarch64::HostTrapFrame*) {}

extern "C" [[noreturn]] void _start() {
    (void)tu_a_entry();
    for (;;) asm volatile("wfe");
}
