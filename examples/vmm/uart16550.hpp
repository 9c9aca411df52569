// An emulated NS16550A UART for a VM's console (a DeviceModel, see
// devices.hpp), for a guest whose driver is Linux's 8250 (device tree
// compatible "ns16550a", reg-shift 0, reg-io-width 1: riscv64 QEMU `virt`
// puts one at 0x10000000 on PLIC source 10) or, later, the PC's COM1.
//
// Registers and their behaviour follow the PC16550D datasheet (National
// Semiconductor, June 1995; TI SNLS378): its register descriptions, its
// Interrupt Control Functions table and its UART Reset Configuration table.
// What the model leaves out, and why a guest cannot tell:
// - Transmission is instant. A THR write hands the byte to the console at
//   once (collected into whole lines by ConsoleLine, as Pl011 does), so
//   LSR.THRE and LSR.TEMT always read 1 and the transmitter FIFO is never
//   seen holding anything.
// - Nothing arrives with a parity, framing or break error, so LSR.PE, FE,
//   BI and bit 7 (error in the receiver FIFO) read 0; LSR.OE is the one
//   line status, set when a byte arrives to a full receiver FIFO.
// - The receiver FIFO is 16 bytes deep in 16450 mode too (FCR bit 0 clear):
//   a 16450 would lose the bytes a 16550's FIFO keeps, and no driver relies
//   on losing them. The received-data interrupt is pending whenever the FIFO holds a
//   byte, whatever FCR's trigger level: the character-timeout interrupt a
//   16550 would raise for bytes below the trigger level (four character
//   times later) is here the received-data one, at once. Linux treats both
//   alike (it reads LSR.DR, not the IIR code).
// - The divisor latch and LCR are kept but set no speed: there is no line.
// - The modem inputs are those of a connected terminal: CTS, DSR and DCD
//   asserted, RI not (DCD lets a getty open the port without CLOCAL). They
//   never change, so MSR's delta bits are set only in loopback mode, where
//   the inputs follow MCR as the datasheet says.
// - The interrupt output is not gated by MCR.OUT2: the 16550's INTR pin is
//   not (a PC gates it on the motherboard; a board that wants that gate can
//   apply it). Linux sets OUT2 anyway whenever the port has an IRQ.
//
// The range a board claims is `size` (0x100, the reg size QEMU's device tree
// gives); only its first 8 bytes are registers. Accesses past them, and any
// access that is not a single byte, are refused (the guest sees a bus fault;
// QEMU's `virt` too backs only the 8 registers of its 0x100): a driver
// that uses another reg-shift or reg-io-width is misconfigured, and a fault
// shows it at once where silent zeros would leave it polling for ever.
//
// No lock: the VMM's device table serialises every call (reads, writes,
// receive, irq_level, flush) on one VM's devices.
//
// The Linux 8250 driver's expectations this meets (8250_port.c, 8250_of.c):
// - "ns16550a" sets UPF_FIXED_TYPE, so the autoconfig probes do not run for
//   a device-tree port; they would pass anyway (x86's legacy COM ports run
//   most of them): IER reads back 0x0F and bits 7:4 never stick, loopback MCR =
//   LOOP|OUT2|RTS reads MSR & 0xF0 = DCD|CTS, IIR bits 7:6 = 11 once FIFOs
//   are on, IIR bit 5 stays 0 (no 64-byte FIFO), offset 2 under LCR 0xBF or
//   0xE0 still reads IIR (no EFR, no NatSemi banks), and the FIFO-size probe
//   (256 bytes sent in loopback) counts 16 and prints nothing.
// - startup's THRE test: setting IER.ETBEI raises the THRE interrupt, an
//   IIR read that reports it clears it, and clearing then setting ETBEI
//   raises it again (else Linux sets UART_BUG_THRE and polls on a timer).
// - the transmit interrupt handler writes up to 16 bytes per THRE
//   interrupt; each THR write leaves THR empty again, so the THRE interrupt
//   stays pending until the driver clears IER.ETBEI with nothing left to
//   send. That is the level the VMM forwards to the interrupt controller.
// - startup's "LSR safety check": LSR never reads 0xFF.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <axvcpu/exit_reason.hpp>
#include <axvcpu/types.hpp>

#include "console_line.hpp"

namespace vmm {

// Out: a Console (console.hpp), `static void println(std::string_view)`.
template <class Out>
class Uart16550 {
public:
    static constexpr std::uint64_t size = 0x100;    // the range a board claims
    static constexpr std::uint64_t registers = 8;   // offsets 0..7; the rest is refused
    static constexpr axvcpu::usize fifo_depth = 16;
    // Its accesses are the guest's console output: they are not traced one
    // by one (the summary still counts them).
    static constexpr bool traced = false;

    // Register offsets; DLL and DLM replace RBR/THR and IER while LCR.DLAB is set.
    static constexpr std::uint64_t rbr = 0, thr = 0, dll = 0, ier = 1, dlm = 1, iir = 2, fcr = 2, lcr = 3, mcr = 4,
                                   lsr = 5, msr = 6, scr = 7;

    static constexpr std::uint8_t ier_erbfi = 0x01, ier_etbei = 0x02, ier_elsi = 0x04, ier_edssi = 0x08,
                                  ier_mask = 0x0F;  // bits 7:4 are always 0
    // IIR bits 3:0: the pending interrupt of highest priority; 7:6 = FIFOs enabled.
    static constexpr std::uint8_t iir_none = 0x01, iir_line_status = 0x06, iir_rx_data = 0x04, iir_thre = 0x02,
                                  iir_modem_status = 0x00, iir_fifos = 0xC0;
    static constexpr std::uint8_t fcr_enable = 0x01, fcr_rx_reset = 0x02;
    static constexpr std::uint8_t lcr_dlab = 0x80;
    static constexpr std::uint8_t mcr_dtr = 0x01, mcr_rts = 0x02, mcr_out1 = 0x04, mcr_out2 = 0x08, mcr_loop = 0x10,
                                  mcr_mask = 0x1F;  // bits 7:5 are always 0
    static constexpr std::uint8_t lsr_dr = 0x01, lsr_oe = 0x02, lsr_thre = 0x20, lsr_temt = 0x40;
    static constexpr std::uint8_t msr_dcts = 0x01, msr_ddsr = 0x02, msr_teri = 0x04, msr_ddcd = 0x08, msr_cts = 0x10,
                                  msr_dsr = 0x20, msr_ri = 0x40, msr_dcd = 0x80;

    std::optional<std::uint64_t> read(std::uint64_t offset, axvcpu::AccessWidth width) {
        if (!register_access(offset, width)) return std::nullopt;
        const bool dlab = (lcr_ & lcr_dlab) != 0;
        switch (offset) {
            case rbr: return dlab ? dll_ : pop();
            case ier: return dlab ? dlm_ : ier_;
            case iir: {
                const std::uint8_t id = interrupt_id();
                // Reading the IIR clears the THRE interrupt only when it is
                // the one the IIR reports (the Interrupt Control Functions
                // table); the others stay until their own cause goes.
                if (id == iir_thre) thre_pending_ = false;
                return id | (fifos_enabled_ ? iir_fifos : 0);
            }
            case lcr: return lcr_;
            case mcr: return mcr_;
            case lsr: {
                const std::uint8_t value = line_status();
                overrun_ = false;  // OE is cleared by reading the LSR
                return value;
            }
            case msr: {
                const std::uint8_t value = modem_inputs() | msr_deltas_;
                msr_deltas_ = 0;  // the deltas are cleared by reading the MSR
                return value;
            }
            default: return scr_;
        }
    }

    bool write(std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
        if (!register_access(offset, width)) return false;
        const auto byte = static_cast<std::uint8_t>(value & 0xFF);
        const bool dlab = (lcr_ & lcr_dlab) != 0;
        switch (offset) {
            case thr:
                if (dlab) {
                    dll_ = byte;
                } else {
                    transmit(byte);
                }
                break;
            case ier:
                if (dlab) {
                    dlm_ = byte;
                } else {
                    // Setting ETBEI while THR is empty (it always is) raises
                    // the THRE interrupt even if an IIR read had cleared it:
                    // Linux's startup test expects a 16550 to, and QEMU and
                    // Bochs do it on the rising edge of ETBEI, as here.
                    if ((byte & ier_etbei) != 0 && (ier_ & ier_etbei) == 0) thre_pending_ = true;
                    ier_ = byte & ier_mask;
                }
                break;
            case fcr: {
                // FCR bit 1 empties the receiver FIFO; so does turning the
                // FIFOs on or off (bit 0). Bit 2 would empty the transmitter
                // FIFO, which is always empty; the trigger level (bits 7:6)
                // does not matter (see the top); FCR itself reads as IIR.
                const bool enable = (byte & fcr_enable) != 0;
                if ((byte & fcr_rx_reset) != 0 || enable != fifos_enabled_) rx_count_ = 0;
                fifos_enabled_ = enable;
                break;
            }
            case lcr: lcr_ = byte; break;
            case mcr: set_mcr(byte & mcr_mask); break;
            case scr: scr_ = byte; break;
            default: break;  // LSR and MSR are read-only: a write is ignored, as by the chip
        }
        return true;
    }

    // A byte from the console to the guest. False when it is lost: the
    // receiver FIFO is full (LSR.OE is then set until the LSR is read) or
    // the UART is in loopback mode, where the serial input is disconnected.
    bool receive(char c) {
        if ((mcr_ & mcr_loop) != 0) return false;
        return push(static_cast<std::uint8_t>(c));
    }

    // The level of the UART's interrupt output (INTR): some enabled
    // interrupt is pending. The VMM forwards it to the interrupt controller
    // after every call that may change it.
    [[nodiscard]] bool irq_level() const noexcept { return interrupt_id() != iir_none; }

    // What the IIR's bits 3:0 would read, without reading it (for the VMM's
    // checks and the tests: an IIR read may clear the THRE interrupt).
    [[nodiscard]] std::uint8_t interrupt_id() const noexcept {
        if ((ier_ & ier_elsi) != 0 && overrun_) return iir_line_status;
        if ((ier_ & ier_erbfi) != 0 && rx_count_ != 0) return iir_rx_data;
        if ((ier_ & ier_etbei) != 0 && thre_pending_) return iir_thre;
        if ((ier_ & ier_edssi) != 0 && msr_deltas_ != 0) return iir_modem_status;
        return iir_none;
    }

    // Prints what is left of a line (the VM powered off mid-line).
    void flush() { line_.flush(); }

private:
    // One byte at one of the 8 registers: reg-io-width 1, reg-shift 0.
    static bool register_access(std::uint64_t offset, axvcpu::AccessWidth width) noexcept {
        return offset < registers && width == axvcpu::AccessWidth::Byte;
    }

    void transmit(std::uint8_t byte) {
        // In loopback mode the transmitter feeds the receiver and the
        // serial output stays idle (the MCR description): Linux's FIFO-size
        // probe relies on it, and its 256 test bytes are not printed.
        if ((mcr_ & mcr_loop) != 0) {
            push(byte);
        } else {
            line_.put(static_cast<char>(byte));
        }
        // Writing THR clears the THRE interrupt; the byte leaves at once, so
        // THR is empty again and the interrupt is pending again.
        thre_pending_ = true;
    }

    bool push(std::uint8_t byte) {
        if (rx_count_ == fifo_depth) {
            overrun_ = true;  // the FIFO keeps its bytes; the new one is lost
            return false;
        }
        rx_[(rx_head_ + rx_count_) % fifo_depth] = byte;
        ++rx_count_;
        return true;
    }

    // An empty FIFO reads 0 (a chip returns whatever it last held; no
    // driver reads RBR without LSR.DR).
    std::uint8_t pop() {
        if (rx_count_ == 0) return 0;
        const std::uint8_t byte = rx_[rx_head_];
        rx_head_ = (rx_head_ + 1) % fifo_depth;
        --rx_count_;
        return byte;
    }

    [[nodiscard]] std::uint8_t line_status() const noexcept {
        return static_cast<std::uint8_t>((rx_count_ != 0 ? lsr_dr : 0) | (overrun_ ? lsr_oe : 0) | lsr_thre |
                                         lsr_temt);
    }

    // MSR bits 7:4. In loopback mode the outputs drive the inputs inside the
    // chip: RTS to CTS, DTR to DSR, OUT1 to RI, OUT2 to DCD.
    [[nodiscard]] std::uint8_t modem_inputs() const noexcept {
        if ((mcr_ & mcr_loop) == 0) return msr_cts | msr_dsr | msr_dcd;
        return static_cast<std::uint8_t>(
            ((mcr_ & mcr_rts) != 0 ? msr_cts : 0) | ((mcr_ & mcr_dtr) != 0 ? msr_dsr : 0) |
            ((mcr_ & mcr_out1) != 0 ? msr_ri : 0) | ((mcr_ & mcr_out2) != 0 ? msr_dcd : 0));
    }

    // A change of an input sets its delta bit (DCTS, DDSR, DDCD); RI sets
    // TERI only on its trailing edge, 1 to 0.
    void set_mcr(std::uint8_t value) {
        const std::uint8_t before = modem_inputs();
        mcr_ = value;
        const std::uint8_t after = modem_inputs();
        const std::uint8_t changed = before ^ after;
        if ((changed & msr_cts) != 0) msr_deltas_ |= msr_dcts;
        if ((changed & msr_dsr) != 0) msr_deltas_ |= msr_ddsr;
        if ((changed & msr_dcd) != 0) msr_deltas_ |= msr_ddcd;
        if ((before & msr_ri) != 0 && (after & msr_ri) == 0) msr_deltas_ |= msr_teri;
    }

    // Reset values from the UART Reset Configuration table. The divisor
    // latch and SCR are undefined there; DLL is 1 so that a driver reading
    // the divisor back to work out the speed (Linux's probe_baud, for
    // console=uart8250,mmio,ADDR without options) does not divide by zero.
    std::uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 1, dlm_ = 0;
    std::uint8_t msr_deltas_ = 0;
    bool fifos_enabled_ = false;
    bool overrun_ = false;
    // THR is empty from reset on; whether the interrupt is pending then
    // cannot be seen, since IER is 0 and setting ETBEI raises it anyway.
    bool thre_pending_ = false;
    std::array<std::uint8_t, fifo_depth> rx_{};
    axvcpu::usize rx_head_ = 0, rx_count_ = 0;
    ConsoleLine<Out> line_;
};

}  // namespace vmm
