// The machine the x86_64 example runs on: QEMU's PC (`-machine pc`) with
// SVM and nested paging (`-cpu qemu64,+svm,+npt,+xsave`). Port I/O, the
// COM1 console, and the two ways out of QEMU: ACPI power-off for a pass
// (QEMU exits 0) and the isa-debug-exit device for a failure (QEMU exits
// (code << 1) | 1, never 0; PLATFORM.md).
#pragma once

#include <cstdint>

namespace example {

inline void outb(std::uint16_t port, std::uint8_t value) { asm volatile("outb %0, %1" ::"a"(value), "Nd"(port)); }
inline void outw(std::uint16_t port, std::uint16_t value) { asm volatile("outw %0, %1" ::"a"(value), "Nd"(port)); }
inline std::uint8_t inb(std::uint16_t port) {
    std::uint8_t value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

inline constexpr std::uint16_t com1 = 0x3F8;
inline constexpr std::uint16_t com1_lsr = com1 + 5;
inline constexpr std::uint8_t lsr_thr_empty = 0x20;

inline void putc(char c) {
    while ((inb(com1_lsr) & lsr_thr_empty) == 0) {
    }
    outb(com1, static_cast<std::uint8_t>(c));
}

inline constexpr std::uint16_t debug_exit_port = 0xF4;  // -device isa-debug-exit,iobase=0xf4,iosize=0x04
inline constexpr std::uint16_t acpi_pm1a_control = 0x604;  // PIIX4 on -machine pc, where SeaBIOS puts PMBASE (0x600)
inline constexpr std::uint16_t acpi_sleep_s5 = 0x2000;      // SLP_EN with SLP_TYP 0

[[noreturn]] inline void qemu_exit(std::uint32_t code) {
    if (code == 0) {
        outw(acpi_pm1a_control, acpi_sleep_s5);
    } else {
        asm volatile("outl %0, %1" ::"a"(code), "Nd"(debug_exit_port));
    }
    for (;;) asm volatile("cli; hlt");
}

}  // namespace example
