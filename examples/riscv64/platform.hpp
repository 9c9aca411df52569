// The QEMU `virt` machine as the example hypervisor uses it: the NS16550
// UART, the SiFive test device (QEMU's exit status) and a spin lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "arch/riscv64/sbi.hpp"
#include "axvcpu/fmt.hpp"

// The hypervisors' entry: a 16 KiB stack per hart id (a0) below
// __stacks_top (hyp.ld), as assembler text for their _start.
#define EXAMPLE_RV_HART_STACK "la sp, __stacks_top\n    slli t0, a0, 14\n    sub sp, sp, t0\n"

namespace example {

inline constexpr std::uintptr_t uart_base = 0x10000000;
inline constexpr std::uintptr_t test_device = 0x100000;
inline constexpr std::uint64_t timebase_hz = 10'000'000;  // QEMU virt's timebase-frequency

inline void uart_putc(char c) {
    auto* const thr = reinterpret_cast<volatile std::uint8_t*>(uart_base);
    auto* const lsr = reinterpret_cast<volatile std::uint8_t*>(uart_base + 5);
    while ((*lsr & 0x20) == 0) {
    }
    *thr = static_cast<std::uint8_t>(c);
}

class SpinLock {
public:
    void lock() noexcept {
        while (flag_.exchange(1, std::memory_order_acquire) != 0) {
        }
    }
    void unlock() noexcept { flag_.store(0, std::memory_order_release); }

private:
    // Word-sized: RV64A has no byte-wide atomic swap.
    std::atomic<std::uint32_t> flag_{0};
};

// One console for all harts; lines from different harts do not interleave
// inside a single print() call.
inline SpinLock console_lock;

struct UartSink {
    void write(std::string_view text) {
        for (char c : text) {
            if (c == '\n') uart_putc('\r');
            uart_putc(c);
        }
    }
};

template <class... Parts>
void print(const Parts&... parts) {
    UartSink sink;
    console_lock.lock();
    (print_part(sink, parts), ...);
    console_lock.unlock();
}

inline void print_part(UartSink& sink, std::string_view text) { sink.write(text); }
inline void print_part(UartSink& sink, const char* text) { sink.write(text); }
template <class T>
    requires axvcpu::fmt::Printable<T, UartSink>
void print_part(UartSink& sink, const T& value) {
    print_to(sink, value);
}

struct Hex {
    std::uint64_t value;
};
struct Dec {
    std::uint64_t value;
};
inline void print_part(UartSink& sink, Hex hex) { axvcpu::fmt::write_hex(sink, hex.value); }
inline void print_part(UartSink& sink, Dec dec) { axvcpu::fmt::write_dec(sink, dec.value); }

// QEMU exits with status 0 on 0x5555, with `code` on (code << 16) | 0x3333.
[[noreturn]] inline void qemu_exit(std::uint32_t code) {
    auto* const reg = reinterpret_cast<volatile std::uint32_t*>(test_device);
    *reg = code == 0 ? 0x5555u : ((code << 16) | 0x3333u);
    for (;;) asm volatile("wfi");
}

}  // namespace example
