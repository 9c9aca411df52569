// A test-and-set spin lock for the VMM's shared state (interrupts are off
// wherever the VMM takes one, so a holder is never preempted).
#pragma once

#include <atomic>
#include <cstdint>

namespace vmm {

class SpinLock {
public:
    void lock() noexcept {
        while (held_.exchange(1, std::memory_order_acquire) != 0) {
        }
    }
    void unlock() noexcept { held_.store(0, std::memory_order_release); }

private:
    // Word-sized: RV64A has no byte-wide atomic swap.
    std::atomic<std::uint32_t> held_{0};
};

class LockGuard {
public:
    explicit LockGuard(SpinLock& lock) noexcept : lock_(lock) { lock_.lock(); }
    ~LockGuard() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    SpinLock& lock_;
};

}  // namespace vmm
