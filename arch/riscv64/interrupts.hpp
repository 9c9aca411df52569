// Virtual interrupt injection through hvip.
//
// A vector is the interrupt cause the guest sees in its scause: 1
// (supervisor software), 5 (supervisor timer) or 9 (supervisor external).
// Each has its own hvip bit, so a vCPU's set of pending virtual interrupts
// is exactly its hvip: the CSR while the vCPU is bound (inject() sets the
// bit there, and the guest sees it on its next entry), the value saved at
// unbind otherwise (bind loads it). Once in hvip an interrupt stays
// pending until the guest acknowledges it:
//   software: the guest clears sip.SSIP (an alias of hvip.VSSIP), or
//             calls legacy SBI clear_ipi;
//   timer:    the guest programs a new deadline through SBI set_timer;
//   external: the VMM's interrupt-controller model calls
//             VCpu::clear_interrupt(9) when the guest claims it.
// This file is pure (no CSR access) and builds on any host.
#pragma once

#include <cstdint>

#include "arch/riscv64/exit_decode.hpp"
#include "arch/riscv64/sysregs.hpp"
#include "axvcpu/config.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64 {

// The hvip bit that raises guest-visible interrupt `vector`, 0 if there is
// none: each supervisor cause's VS bit sits one above it (1 -> VSSIP,
// 5 -> VSTIP, 9 -> VSEIP), and no other vector below 16 lands on one of
// those bits. Branch-free and a plain word, not an optional, so it stays in
// a register: every injection goes through it.
[[nodiscard]] constexpr std::uint64_t hvip_bit(usize vector) noexcept {
    if (vector >= 16) return 0;
    return (std::uint64_t{2} << vector) & csr::hvip_bits::all;
}
// Exactly the three vectors have a bit, each its own.
static_assert([] {
    for (usize vector = 0; vector < 130; ++vector) {
        const bool known = vector == irq::supervisor_software || vector == irq::supervisor_timer ||
                           vector == irq::supervisor_external;
        if ((hvip_bit(vector) != 0) != known) return false;
    }
    return hvip_bit(irq::supervisor_software) == csr::hvip_bits::vssip &&
           hvip_bit(irq::supervisor_timer) == csr::hvip_bits::vstip &&
           hvip_bit(irq::supervisor_external) == csr::hvip_bits::vseip;
}());

// IrqQueue's rules over a pending set of hvip bits: a vector already
// pending is not counted twice, and more distinct pending vectors than
// `capacity` (config::interrupt_queue_depth) are refused, so nothing is
// dropped silently. With hvip as the queue, a vector counts until the
// guest acknowledges it. Only 3 vectors exist, so a capacity of 3 or more
// never refuses.
[[nodiscard]] constexpr bool interrupt_fits(std::uint64_t pending, std::uint64_t bit,
                                            usize capacity = config::interrupt_queue_depth) noexcept {
    using namespace csr::hvip_bits;
    if ((pending & bit) != 0) return true;
    const usize queued = static_cast<usize>((pending & vssip) != 0) + static_cast<usize>((pending & vstip) != 0) +
                         static_cast<usize>((pending & vseip) != 0);
    return queued < capacity;
}

}  // namespace axvcpu::riscv64
