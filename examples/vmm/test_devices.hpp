// The two emulated devices the test guests exercise MMIO with. Both are
// DeviceModels (devices.hpp); a VM description names the one it wants. The
// device table's lock serialises their accesses.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <axvcpu/exit_reason.hpp>
#include <axvcpu/types.hpp>

#include "devices.hpp"
#include "test_device_map.hpp"

namespace vmm {

// Four 64-bit registers (aarch64 guests; README "Test device"):
//   0x00 scratch   RW: reads return what was written
//   0x08 magic     RO: magic_value
//   0x10 negative  RO: negative_value (sign-extension tests)
//   0x18 sink      WO: every write is logged (the exits test checks the log)
// Any width, naturally aligned, inside one register: a read returns those
// bytes of the register, a write to scratch replaces those bytes. A write to
// a read-only register, a read of the sink and anything past 0x20 are refused.
class TestDevice : public TestDeviceMap {
public:
    struct SinkWrite {
        axvcpu::AccessWidth width = axvcpu::AccessWidth::Byte;
        std::uint64_t value = 0;
    };
    static constexpr axvcpu::usize sink_log_size = 8;

    std::optional<std::uint64_t> read(std::uint64_t offset, axvcpu::AccessWidth width) {
        if (offset >= size || !naturally_aligned(offset, width)) return std::nullopt;
        const std::uint64_t reg = offset & ~std::uint64_t{7};
        std::uint64_t value = 0;
        if (reg == scratch) {
            value = scratch_;
        } else if (reg == magic) {
            value = magic_value;
        } else if (reg == negative) {
            value = negative_value;
        } else {
            return std::nullopt;
        }
        return register_bytes(value, offset & 7, axvcpu::size_in_bytes(width));
    }

    bool write(std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
        if (offset >= size || !naturally_aligned(offset, width)) return false;
        const std::uint64_t reg = offset & ~std::uint64_t{7};
        if (reg == scratch) {
            scratch_ = merge_bytes(scratch_, offset & 7, axvcpu::size_in_bytes(width), value);
            return true;
        }
        if (reg != sink) return false;
        if (sink_writes_ < sink_log_size) sink_log_[sink_writes_] = SinkWrite{width, value};
        ++sink_writes_;
        return true;
    }

    [[nodiscard]] axvcpu::usize sink_writes() const noexcept { return sink_writes_; }
    [[nodiscard]] const std::array<SinkWrite, sink_log_size>& sink_log() const noexcept { return sink_log_; }

private:
    std::uint64_t scratch_ = 0;
    axvcpu::usize sink_writes_ = 0;
    std::array<SinkWrite, sink_log_size> sink_log_{};
};

// Sixteen bytes (riscv64 guests; README "Devices"): bytes 0..7 read back
// what was written at any width, bytes 8..15 read 0x8877665544332211 and
// refuse writes. Naturally aligned accesses only.
class EchoDevice {
public:
    static constexpr std::uint64_t size = 16;

    EchoDevice() noexcept {
        for (std::uint64_t i = 8; i < size; ++i) bytes_[i] = static_cast<std::uint8_t>(0x11 * (i - 7));
    }

    std::optional<std::uint64_t> read(std::uint64_t offset, axvcpu::AccessWidth width) {
        if (offset >= size || !naturally_aligned(offset, width)) return std::nullopt;
        std::uint64_t value = 0;
        for (std::uint64_t i = 0; i < axvcpu::size_in_bytes(width); ++i) value |= std::uint64_t{bytes_[offset + i]} << (8 * i);
        return value;
    }

    bool write(std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
        if (offset >= 8 || !naturally_aligned(offset, width)) return false;
        for (std::uint64_t i = 0; i < axvcpu::size_in_bytes(width); ++i) bytes_[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
        return true;
    }

    // The raw bytes, for the benchmark loop, which reads the device the way
    // the hand-written baseline does (one vCPU runs then).
    [[nodiscard]] const std::array<std::uint8_t, size>& bytes() const noexcept { return bytes_; }

private:
    std::array<std::uint8_t, size> bytes_{};
};

}  // namespace vmm
