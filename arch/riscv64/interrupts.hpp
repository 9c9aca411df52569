// Virtual interrupt injection through hvip.
//
// A vector is the interrupt cause the guest sees in its scause: 1
// (supervisor software), 5 (supervisor timer) or 9 (supervisor external).
// inject() only queues (it may run while the vCPU is not on a hart, or
// before it was ever bound); the vCPU drains the queue into hvip right
// before each guest entry. Once in hvip the interrupt stays pending until
// the guest acknowledges it:
//   software: the guest clears sip.SSIP (an alias of hvip.VSSIP), or
//             calls legacy SBI clear_ipi;
//   timer:    the guest programs a new deadline through SBI set_timer;
//   external: the VMM's interrupt-controller model calls
//             VCpu::clear_interrupt(9) when the guest claims it.
// This file is pure (no CSR access) and builds on any host.
#pragma once

#include <cstdint>
#include <optional>

#include "arch/riscv64/exit_decode.hpp"
#include "arch/riscv64/sysregs.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/irq_queue.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64 {

// The hvip bit that raises guest-visible interrupt `vector`, if any.
[[nodiscard]] constexpr std::optional<std::uint64_t> hvip_bit(usize vector) noexcept {
    switch (vector) {
        case irq::supervisor_software: return csr::hvip_bits::vssip;
        case irq::supervisor_timer: return csr::hvip_bits::vstip;
        case irq::supervisor_external: return csr::hvip_bits::vseip;
        default: return std::nullopt;
    }
}

class VirtualInterrupts {
public:
    // Unknown vectors are refused (InvalidInput), a full queue reports
    // ResourceBusy: nothing is dropped silently.
    AxResult<void> inject(usize vector) {
        if (!hvip_bit(vector)) return ax_err(AxError::InvalidInput);
        return queue_.push(vector);
    }

    // The hvip bits of everything queued, emptying the queue.
    [[nodiscard]] std::uint64_t drain() noexcept {
        std::uint64_t bits = 0;
        while (const auto vector = queue_.pop()) bits |= *hvip_bit(*vector);
        return bits;
    }

    [[nodiscard]] bool empty() const noexcept { return queue_.empty(); }

private:
    IrqQueue<> queue_;
};

}  // namespace axvcpu::riscv64
