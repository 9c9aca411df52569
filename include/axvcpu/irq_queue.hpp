// IrqQueue: the per-vCPU queue of interrupts injected while the vCPU could
// not take them (not running, or all list registers busy). Arch policies
// drain it at guest entry.
//
// Fixed capacity (config::interrupt_queue_depth by default), no heap. A
// vector already queued is not queued twice: a level-style "pending" bit is
// what guests expect from an interrupt controller, and it keeps a storm of
// identical IPIs from filling the queue. A full queue refuses with
// ResourceBusy instead of dropping silently.
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "axvcpu/config.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

template <usize Capacity = config::interrupt_queue_depth>
class IrqQueue {
    static_assert(Capacity >= 1, "IrqQueue needs room for at least one interrupt");

public:
    AxResult<void> push(usize vector) {
        if (contains(vector)) return ax_ok();
        if (size_ == Capacity) return ax_err(AxError::ResourceBusy);
        slots_[(head_ + size_) % Capacity] = vector;
        ++size_;
        return ax_ok();
    }

    // Oldest first.
    std::optional<usize> pop() noexcept {
        if (size_ == 0) return std::nullopt;
        const usize vector = slots_[head_];
        head_ = (head_ + 1) % Capacity;
        --size_;
        return vector;
    }

    [[nodiscard]] std::optional<usize> front() const noexcept {
        return size_ == 0 ? std::nullopt : std::optional<usize>(slots_[head_]);
    }
    [[nodiscard]] bool contains(usize vector) const noexcept {
        for (usize i = 0; i < size_; ++i)
            if (slots_[(head_ + i) % Capacity] == vector) return true;
        return false;
    }
    [[nodiscard]] usize size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    static constexpr usize capacity() noexcept { return Capacity; }

private:
    std::array<usize, Capacity> slots_{};
    usize head_ = 0;
    usize size_ = 0;
};

}  // namespace axvcpu
