// Interrupts other CPUs want injected into one vCPU. AxVCpu is not
// thread-safe, so only the CPU that runs a vCPU touches it: a sender posts
// the vector here and kicks that CPU, which drains the mailbox into the
// vCPU before its next entry.
#pragma once

#include <optional>

#include <axvcpu/irq_queue.hpp>
#include <axvcpu/types.hpp>

#include "spinlock.hpp"

namespace vmm {

template <axvcpu::usize Depth>
class Mailbox {
public:
    // False when full (the vector is dropped); posting a vector that is
    // already waiting changes nothing.
    bool post(axvcpu::usize vector) noexcept {
        LockGuard guard(lock_);
        return queue_.push(vector).has_value();
    }

    // Hands every waiting vector to `deliver`, oldest first.
    template <class Deliver>
    void drain(Deliver&& deliver) {
        LockGuard guard(lock_);
        while (std::optional<axvcpu::usize> vector = queue_.pop()) deliver(*vector);
    }

    [[nodiscard]] bool empty() noexcept {
        LockGuard guard(lock_);
        return queue_.empty();
    }

private:
    SpinLock lock_;
    axvcpu::IrqQueue<Depth> queue_;
};

}  // namespace vmm
