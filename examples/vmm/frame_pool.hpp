// Page frames for stage-2 tables: a bump allocator over one physical range
// the board sets aside. The example's VMs live as long as the machine, so
// frames are never returned.
#pragma once

#include <cstdint>
#include <optional>

#include <axvcpu/addr.hpp>
#include <axvcpu/types.hpp>

#include "spinlock.hpp"

namespace vmm {

inline constexpr std::uint64_t frame_size = 4096;

class FramePool {
public:
    // [base, base + bytes): memory nothing else uses, identity-mapped.
    void init(std::uintptr_t base, std::uint64_t bytes) noexcept {
        next_ = base;
        end_ = base + bytes;
    }

    // `count` zeroed frames aligned to 2^align_log2 bytes (at least a frame).
    std::optional<axvcpu::HostPhysAddr> alloc(axvcpu::usize count, axvcpu::usize align_log2) noexcept {
        const std::uintptr_t align = std::uintptr_t{1} << (align_log2 < 12 ? 12 : align_log2);
        LockGuard guard(lock_);
        const std::uintptr_t start = (next_ + align - 1) & ~(align - 1);
        if (start < next_ || count > (end_ - start) / frame_size) return std::nullopt;
        next_ = start + count * frame_size;
        for (std::uintptr_t p = start; p < next_; p += sizeof(std::uint64_t)) *reinterpret_cast<std::uint64_t*>(p) = 0;
        return axvcpu::HostPhysAddr(start);
    }

    [[nodiscard]] std::uint64_t bytes_left() const noexcept { return end_ - next_; }

private:
    SpinLock lock_;
    std::uintptr_t next_ = 0;
    std::uintptr_t end_ = 0;
};

}  // namespace vmm
