// An emulated Arm PL011 UART for a VM's console (a DeviceModel, see
// devices.hpp), for a guest whose driver is Linux's amba-pl011 (device
// tree compatible "arm,pl011", "arm,primecell"; QEMU `virt` puts one at
// 0x09000000 on SPI 1, INTID 33). The guest's output is collected into
// lines and printed through the VMM's console one whole line at a time, so
// the VMM's own messages from other CPUs never split a guest's line.
//
// Registers and their behaviour follow the PL011 TRM (ARM DDI 0183G, r1p5):
// DR 0x000, RSR/ECR 0x004, FR 0x018, IBRD 0x024, FBRD 0x028, LCR_H 0x02C,
// CR 0x030, IFLS 0x034, IMSC 0x038, RIS 0x03C, MIS 0x040, ICR 0x044,
// DMACR 0x048, and the peripheral and PrimeCell IDs at 0xFE0..0xFFC, which
// identify a PL011 r1p5 (Linux's driver matches them, and reads revision 3
// as 32-entry FIFOs, as the r1p5 TRM has: so does the model).
//
// Interrupts: RIS holds the raw interrupt status, IMSC the mask, MIS reads
// RIS & IMSC, and a 1 written to an ICR bit clears that RIS bit. The
// interrupt output irq_level() is the combined UARTINTR, MIS != 0; the VMM
// forwards it to the interrupt controller after every call that may change
// it. The sources the model raises:
// - TX (RIS bit 5). The TRM asserts it when the transmitter, taking a byte
//   from the FIFO, leaves it at or below the IFLS transmit trigger level
//   (FIFO mode, LCR_H.FEN = 1), or leaves the one-byte holding register
//   empty (FEN = 0); a write that fills the FIFO above the level, a write
//   to the holding register, or ICR clears it. Transmission here is
//   instant: a DR write hands the byte to the console at once, the FIFO is
//   empty again, so in either mode every DR write leaves TX raised, and
//   only ICR clears it. Reset leaves it clear, and unmasking TXIM raises
//   nothing by itself (no byte left the FIFO): as on the chip, which is why
//   Linux's start_tx writes to DR directly rather than wait for an
//   interrupt. QEMU's pl011.c does the same (TX set by each DR write).
// - RX (bit 4). Set when a received byte brings the receive FIFO up to the
//   IFLS receive trigger level (FEN = 1: 1/8, 1/4, 1/2, 3/4 or 7/8 of 32
//   bytes; the reserved encodings 5..7 act as 1/2, the reset value;
//   FEN = 0: the one byte), as the TRM's "becomes >= level" says and
//   Linux's pl011_enable_interrupts expects (it drains the FIFO because a
//   FIFO already at the level would raise nothing). Cleared by a DR read
//   that leaves fewer bytes than the level, or by ICR.
// - RT, receive timeout (bit 6). The chip raises it when the FIFO holds
//   data and no byte has arrived for 32 bit periods. The model has no
//   time: the line is idle as soon as a byte has arrived, so every byte
//   received (kept or lost) raises RT at once. Cleared when DR reads empty
//   the FIFO, or by ICR. So bytes below the trigger level are reported at
//   once, and a driver that clears RX by ICR with bytes left still gets RT
//   for the next byte, as it would from the chip's timer.
// - OE, overrun (bit 10). Set when a byte arrives to a full FIFO (the byte
//   is lost, the FIFO keeps its contents); cleared by ICR.
// - FE, PE, BE (bits 7..9): nothing arrives with a framing, parity or
//   break error, so they stay 0. The modem status sources (bits 0..3) stay
//   0: there are no modem lines (FR's CTS, DSR, DCD and RI read 0).
//
// Receive: receive(c) puts a byte in the FIFO (32 entries with FEN = 1,
// one with FEN = 0); false when it is lost to an overrun. A DR read takes
// the oldest byte: bits 7:0 the data, bit 11 OE when bytes were lost just
// before this one arrived (the TRM keeps the overrun until there is room
// and the next byte is written, and marks it; Linux inserts TTY_OVERRUN),
// bits 10:8 (BE, PE, FE) 0. A read of an empty FIFO returns 0. RSR.OE is set
// by an overrun and cleared by any write to ECR (0x004). Turning the FIFOs
// on or off (a change of LCR_H.FEN) empties the receive FIFO (the TRM does
// not say what it holds then; QEMU empties it too). The receiver is not
// gated by CR.UARTEN / CR.RXE, nor the transmitter by UARTEN / TXE: output
// written before the driver enables the UART (an early console) is printed.
//
// FR: TXFE = 1, TXFF = 0, BUSY = 0 (the transmitter is always idle), RXFE
// and RXFF from the receive FIFO. IBRD, FBRD, LCR_H, CR, IFLS and DMACR
// keep what is written (CR resets to 0x0300, TXE | RXE, and IFLS to 0x12,
// both trigger levels 1/2, as in the TRM); IMSC keeps bits 10:0. No line,
// no loopback (CR.LBE is kept but output is still printed), no DMA.
//
// What Linux's amba-pl011 driver (6.1) does with it:
// - startup (pl011_hwinit, pl011_allocate_irq, pl011_startup,
//   pl011_enable_interrupts): ICR clears the receive and error sources,
//   IMSC is set to RTIM | RXIM and back, IFLS = 0x12, CR = UARTEN | TXE |
//   RXE, the receive FIFO is drained through FR.RXFE and DR, IMSC = RTIM |
//   RXIM: the line stays low until a byte arrives.
// - the interrupt handler (pl011_int) reads RIS & its mask, clears the
//   other sources by ICR, drains the FIFO on RX or RT (both drop: the FIFO
//   is empty), and loops while RIS & mask is non-zero.
// - transmit (pl011_start_tx, pl011_tx_chars): bytes go to DR while FR.TXFF
//   is clear; it never is, so the driver sends everything at once, masks
//   TXIM (pl011_stop_tx) and never waits for a TX interrupt. A driver that
//   does unmask TXIM with bytes to send gets the interrupt (raised by its
//   earlier DR writes), sends up to half a FIFO per interrupt, and once it
//   has nothing left masks TXIM: the line drops, no storm.
// - console write (pl011_console_write): CR |= UARTEN | TXE, DR writes
//   after FR.TXFF checks, FR.BUSY polled until clear (at once), CR restored.
//
// Accesses: 8-, 16- and 32-bit at a register's offset (a multiple of 4),
// reading or writing that register's first bytes; a 64-bit access, an
// unaligned one, or one past the ID registers is refused. Offsets without
// a register read 0 and ignore writes, as do writes to FR, RIS, MIS and
// the IDs.
//
// No lock: the VMM's device table serialises every call (reads, writes,
// receive, irq_level, flush) on one VM's devices.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <axvcpu/exit_reason.hpp>
#include <axvcpu/types.hpp>

#include "console_line.hpp"
#include "devices.hpp"

namespace vmm {

// Out: a Console (console.hpp), `static void println(std::string_view)`.
template <class Out>
class Pl011 {
public:
    static constexpr std::uint64_t size = 0x1000;
    static constexpr axvcpu::usize fifo_depth = 32;  // FEN = 1; 1 with FEN = 0
    // Its accesses are the guest's console output: they are not traced one
    // by one (the summary still counts them).
    static constexpr bool traced = false;

    static constexpr std::uint64_t dr = 0x000, rsr = 0x004, ecr = 0x004, fr = 0x018, ibrd = 0x024, fbrd = 0x028,
                                   lcr_h = 0x02C, cr = 0x030, ifls = 0x034, imsc = 0x038, ris = 0x03C, mis = 0x040,
                                   icr = 0x044, dmacr = 0x048, periph_id0 = 0xFE0;
    static constexpr std::uint32_t fr_busy = 1u << 3, fr_rxfe = 1u << 4, fr_txff = 1u << 5, fr_rxff = 1u << 6,
                                   fr_txfe = 1u << 7;
    // RIS, MIS, IMSC and ICR bits.
    static constexpr std::uint32_t int_rx = 1u << 4, int_tx = 1u << 5, int_rt = 1u << 6, int_fe = 1u << 7,
                                   int_pe = 1u << 8, int_be = 1u << 9, int_oe = 1u << 10, int_all = 0x7FF;
    static constexpr std::uint32_t dr_oe = 1u << 11, rsr_oe = 1u << 3;
    static constexpr std::uint32_t lcr_h_fen = 1u << 4;
    static constexpr std::uint32_t cr_reset = 0x0300, ifls_reset = 0x12;

    // A byte or halfword read returns the register's first bytes.
    std::optional<std::uint64_t> read(std::uint64_t offset, axvcpu::AccessWidth width) {
        if (!word_access(offset, width)) return std::nullopt;
        return register_bytes(register_value(offset), 0, axvcpu::size_in_bytes(width));
    }

    bool write(std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
        if (!word_access(offset, width)) return false;
        const auto v = static_cast<std::uint32_t>(value);
        switch (offset) {
            case dr: transmit(static_cast<char>(v & 0xFF)); break;
            case ecr: rsr_ = 0; break;  // any value clears the errors
            case ibrd: ibrd_ = v; break;
            case fbrd: fbrd_ = v; break;
            case lcr_h:
                if (((lcr_h_ ^ v) & lcr_h_fen) != 0) empty_rx();
                lcr_h_ = v;
                break;
            case cr: cr_ = v; break;
            case ifls: ifls_ = v; break;
            case imsc: imsc_ = v & int_all; break;
            case icr: ris_ &= ~(v & int_all); break;
            case dmacr: dmacr_ = v; break;
            default: break;  // FR, RIS, MIS, the IDs and the offsets without a register
        }
        return true;
    }

    // A byte from the console to the guest. False when it is lost: the
    // receive FIFO is full (an overrun).
    bool receive(char c) {
        ris_ |= int_rt;  // the line is idle at once: the timeout runs out
        if (rx_count_ == depth()) {
            ris_ |= int_oe;
            rsr_ |= rsr_oe;
            overrun_ = true;
            return false;
        }
        const auto data = static_cast<std::uint16_t>(static_cast<std::uint8_t>(c) | (overrun_ ? dr_oe : 0));
        overrun_ = false;
        rx_[(rx_head_ + rx_count_) % fifo_depth] = data;
        ++rx_count_;
        if (rx_count_ == rx_trigger()) ris_ |= int_rx;
        return true;
    }

    // The combined interrupt output, UARTINTR: MIS != 0.
    [[nodiscard]] bool irq_level() const noexcept { return (ris_ & imsc_) != 0; }

    // Bytes waiting in the receive FIFO (for the VMM's checks and the tests).
    [[nodiscard]] axvcpu::usize rx_count() const noexcept { return rx_count_; }

    // Prints what is left of a line (the VM powered off mid-line).
    void flush() { line_.flush(); }

private:
    static constexpr std::array<std::uint32_t, 8> ids{0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1};

    [[nodiscard]] bool fifo_enabled() const noexcept { return (lcr_h_ & lcr_h_fen) != 0; }
    [[nodiscard]] axvcpu::usize depth() const noexcept { return fifo_enabled() ? fifo_depth : 1; }

    // The receive FIFO level that raises RX: IFLS bits 5:3 in eighths of
    // the FIFO (1, 2, 4, 6, 7 eighths); the one byte with the FIFO off.
    [[nodiscard]] axvcpu::usize rx_trigger() const noexcept {
        if (!fifo_enabled()) return 1;
        constexpr std::array<axvcpu::usize, 8> eighths{1, 2, 4, 6, 7, 4, 4, 4};
        return fifo_depth * eighths[(ifls_ >> 3) & 7] / 8;
    }

    std::uint32_t register_value(std::uint64_t offset) {
        switch (offset) {
            case dr: return pop();
            case rsr: return rsr_;
            case fr:
                return fr_txfe | (rx_count_ == 0 ? fr_rxfe : 0) | (rx_count_ == depth() ? fr_rxff : 0);
            case ibrd: return ibrd_;
            case fbrd: return fbrd_;
            case lcr_h: return lcr_h_;
            case cr: return cr_;
            case ifls: return ifls_;
            case imsc: return imsc_;
            case ris: return ris_;
            case mis: return ris_ & imsc_;
            case dmacr: return dmacr_;
            default: break;
        }
        if (offset >= periph_id0) return ids[(offset - periph_id0) / 4];
        return 0;  // ICR is write-only; the other offsets hold no register
    }

    void transmit(char c) {
        line_.put(c);
        // The byte leaves at once: the FIFO (or holding register) is empty
        // again, at or below any trigger level.
        ris_ |= int_tx;
    }

    std::uint32_t pop() {
        if (rx_count_ == 0) return 0;
        const std::uint32_t data = rx_[rx_head_];
        rx_head_ = (rx_head_ + 1) % fifo_depth;
        --rx_count_;
        if (rx_count_ < rx_trigger()) ris_ &= ~int_rx;
        if (rx_count_ == 0) ris_ &= ~int_rt;
        return data;
    }

    void empty_rx() {
        rx_head_ = rx_count_ = 0;
        overrun_ = false;
        ris_ &= ~(int_rx | int_rt);
    }

    // 8-, 16- and 32-bit accesses to a register's first bytes, as the bus
    // allows; anything past the ID registers is refused.
    static bool word_access(std::uint64_t offset, axvcpu::AccessWidth width) noexcept {
        return offset < size && offset % 4 == 0 && width != axvcpu::AccessWidth::Qword;
    }

    ConsoleLine<Out> line_;
    std::uint32_t ibrd_ = 0, fbrd_ = 0, lcr_h_ = 0, cr_ = cr_reset, ifls_ = ifls_reset, imsc_ = 0, dmacr_ = 0;
    std::uint32_t ris_ = 0, rsr_ = 0;
    bool overrun_ = false;  // bytes were lost since the last one the FIFO took
    std::array<std::uint16_t, fifo_depth> rx_{};
    axvcpu::usize rx_head_ = 0, rx_count_ = 0;
};

}  // namespace vmm
