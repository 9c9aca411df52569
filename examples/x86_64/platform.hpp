// The machine the x86_64 example runs on: QEMU's PC (`-machine pc`) with
// SVM and nested paging (`-cpu qemu64,+svm,+npt,+xsave,+xsaveopt`). Port I/O, the
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

// The legacy 8259 pair, remapped so that IRQ 0..15 are vectors 0x20..0x2F,
// every line masked (boot.S masked them; this keeps them so).
inline constexpr std::uint8_t pic_vector_base = 0x20;
inline void pic_remap() {
    outb(0x20, 0x11);  // ICW1: edge, cascade, ICW4 follows
    outb(0xA0, 0x11);
    outb(0x21, pic_vector_base);  // ICW2: vector bases
    outb(0xA1, pic_vector_base + 8);
    outb(0x21, 0x04);  // ICW3: the slave on IRQ 2
    outb(0xA1, 0x02);
    outb(0x21, 0x01);  // ICW4: 8086 mode
    outb(0xA1, 0x01);
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
}
inline void pic_unmask_irq0() { outb(0x21, 0xFE); }
// The master's interrupt request register (OCW3 "read IRR"), masked lines included.
inline std::uint8_t pic_requests() {
    outb(0x20, 0x0A);
    return inb(0x20);
}
inline void pic_end_of_interrupt() { outb(0x20, 0x20); }

// The 8254's channel 0 as a one-shot (mode 0): its output, IRQ 0, rises
// after `count` ticks of 1.193182 MHz.
inline void pit_one_shot(std::uint16_t count) {
    outb(0x43, 0x30);  // channel 0, lobyte/hibyte, mode 0
    outb(0x40, static_cast<std::uint8_t>(count));
    outb(0x40, static_cast<std::uint8_t>(count >> 8));
}

// Whether channel 0's output is high: the 8254's read-back command
// (status of counter 0 only), status bit 7.
inline bool pit_output_high() {
    outb(0x43, 0xE2);
    return (inb(0x40) & 0x80) != 0;
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
