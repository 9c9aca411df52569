// The QEMU `virt` machine as the riscv64 hypervisors use it: the NS16550
// UART (output, and input for the Linux VM through the host PLIC) and the
// SiFive test device (QEMU's exit status).
#pragma once

#include <cstdint>
#include <optional>

#include "examples/vmm/console.hpp"

// The hypervisors' entry: a 16 KiB stack per hart id (a0) below
// __stacks_top (hyp.ld), as assembler text for their _start.
#define EXAMPLE_RV_HART_STACK "la sp, __stacks_top\n    slli t0, a0, 14\n    sub sp, sp, t0\n"

namespace example {

inline constexpr std::uintptr_t uart_base = 0x10000000;
inline constexpr std::uintptr_t test_device = 0x100000;
inline constexpr std::uint64_t timebase_hz = 10'000'000;  // QEMU virt's timebase-frequency

inline volatile std::uint8_t& uart_reg(std::uintptr_t offset) {
    return *reinterpret_cast<volatile std::uint8_t*>(uart_base + offset);
}

struct Uart {
    static void putc(char c) {
        while ((uart_reg(5) & 0x20) == 0) {  // LSR.THRE
        }
        uart_reg(0) = static_cast<std::uint8_t>(c);
    }
    // A received byte, if one waits (LSR.DR).
    static std::optional<char> getc() {
        if ((uart_reg(5) & 0x01) == 0) return std::nullopt;
        return static_cast<char>(uart_reg(0));
    }
    // IER.ERBFI: a received byte raises the UART's interrupt (PLIC source 10).
    static void enable_receive_interrupt() { uart_reg(1) = 0x01; }
};

// The host PLIC (RISC-V PLIC specification v1.0.0), S-mode context of a hart
// (2 * hart + 1 on QEMU virt), for the host's own device interrupts.
inline constexpr std::uintptr_t plic_base = 0x0c00'0000;
inline constexpr std::uint32_t uart_irq = 10;
struct HostPlic {
    static volatile std::uint32_t& reg(std::uintptr_t offset) {
        return *reinterpret_cast<volatile std::uint32_t*>(plic_base + offset);
    }
    static std::uintptr_t context(std::uint64_t hart) { return 2 * hart + 1; }
    // Priority 1, enabled for this hart's S-mode context, threshold 0.
    static void route_to(std::uint32_t source, std::uint64_t hart) {
        reg(4 * source) = 1;
        volatile std::uint32_t& enable = reg(0x2000 + 0x80 * context(hart) + 4 * (source / 32));
        enable = enable | 1u << (source % 32);
        reg(0x20'0000 + 0x1000 * context(hart)) = 0;
    }
    static std::uint32_t claim(std::uint64_t hart) { return reg(0x20'0004 + 0x1000 * context(hart)); }
    static void complete(std::uint64_t hart, std::uint32_t source) { reg(0x20'0004 + 0x1000 * context(hart)) = source; }
};
using Out = vmm::Console<Uart>;

// QEMU exits with status 0 on 0x5555, with `code` on (code << 16) | 0x3333.
[[noreturn]] inline void qemu_exit(std::uint32_t code) {
    auto* const reg = reinterpret_cast<volatile std::uint32_t*>(test_device);
    *reg = code == 0 ? 0x5555u : ((code << 16) | 0x3333u);
    for (;;) asm volatile("wfi");
}

}  // namespace example
