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
#include "axvcpu/config.hpp"
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

// The queue of injected interrupts, with IrqQueue's semantics (a vector
// already queued is not queued twice; more distinct vectors than
// config::interrupt_queue_depth are refused with ResourceBusy). Every
// vector maps to its own hvip bit and the whole queue is drained into hvip
// at once, so order carries no meaning and the queue is exactly a set of
// hvip bits: one word, empty() is a load and drain() an exchange.
class VirtualInterrupts {
public:
    // Unknown vectors are refused (InvalidInput), a full queue reports
    // ResourceBusy: nothing is dropped silently.
    AxResult<void> inject(usize vector) {
        const auto bit = hvip_bit(vector);
        if (!bit) return ax_err(AxError::InvalidInput);
        if constexpr (capacity < 3) {
            // Only 3 vectors exist: a deeper queue can never be full.
            if ((pending_ & *bit) == 0 && queued() == capacity) return ax_err(AxError::ResourceBusy);
        }
        pending_ |= *bit;
        return ax_ok();
    }

    // The hvip bits of everything queued, emptying the queue.
    [[nodiscard]] std::uint64_t drain() noexcept {
        const std::uint64_t bits = pending_;
        pending_ = 0;
        return bits;
    }

    [[nodiscard]] bool empty() const noexcept { return pending_ == 0; }

private:
    static constexpr usize capacity = config::interrupt_queue_depth;
    [[nodiscard]] usize queued() const noexcept {
        using namespace csr::hvip_bits;
        return ((pending_ & vssip) != 0) + ((pending_ & vstip) != 0) + ((pending_ & vseip) != 0);
    }

    std::uint64_t pending_ = 0;
};

}  // namespace axvcpu::riscv64
