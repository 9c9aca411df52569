// The host's handler for exceptions taken at EL2 itself (a hypervisor bug,
// never a guest action): report and fail. A separate translation unit that
// also includes world_switch.hpp, so every link of the example proves the
// world switch is emitted once however many TUs include it.
#include <arch/aarch64/world_switch.hpp>

#include "platform.hpp"

extern "C" void axvcpu_aarch64_host_exception(std::uint64_t kind, axvcpu::aarch64::HostTrapFrame* frame) {
    std::uint64_t esr;
    std::uint64_t far;
    asm volatile("mrs %0, esr_el2\n\tmrs %1, far_el2" : "=r"(esr), "=r"(far));
    hyp::Out::println("vmm: unexpected EL2 exception kind ", kind, " ESR_EL2 ", esr, " ELR_EL2 ", frame->elr,
                      " FAR_EL2 ", far);
    hyp::semihost_exit(3);
}
