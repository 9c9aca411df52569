// The QEMU `virt` machine as the riscv64 hypervisors use it: the NS16550
// UART and the SiFive test device (QEMU's exit status).
#pragma once

#include <cstdint>

#include "examples/vmm/console.hpp"

// The hypervisors' entry: a 16 KiB stack per hart id (a0) below
// __stacks_top (hyp.ld), as assembler text for their _start.
#define EXAMPLE_RV_HART_STACK "la sp, __stacks_top\n    slli t0, a0, 14\n    sub sp, sp, t0\n"

namespace example {

inline constexpr std::uintptr_t uart_base = 0x10000000;
inline constexpr std::uintptr_t test_device = 0x100000;
inline constexpr std::uint64_t timebase_hz = 10'000'000;  // QEMU virt's timebase-frequency

struct Uart {
    static void putc(char c) {
        auto* const thr = reinterpret_cast<volatile std::uint8_t*>(uart_base);
        auto* const lsr = reinterpret_cast<volatile std::uint8_t*>(uart_base + 5);
        while ((*lsr & 0x20) == 0) {  // THR empty
        }
        *thr = static_cast<std::uint8_t>(c);
    }
};
using Out = vmm::Console<Uart>;

// QEMU exits with status 0 on 0x5555, with `code` on (code << 16) | 0x3333.
[[noreturn]] inline void qemu_exit(std::uint32_t code) {
    auto* const reg = reinterpret_cast<volatile std::uint32_t*>(test_device);
    *reg = code == 0 ? 0x5555u : ((code << 16) | 0x3333u);
    for (;;) asm volatile("wfi");
}

}  // namespace example
