// The example VMM's emulated NS16550A (examples/vmm/uart16550.hpp) on the
// host: registers and DLAB, the interrupt rules of the PC16550D datasheet,
// the receiver FIFO, loopback, refused accesses, the printed lines, and the
// register sequences Linux's 8250 driver (8250_port.c) runs at autoconfig,
// startup, set_termios and console write.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "console_lines.hpp"
#include "examples/vmm/devices.hpp"
#include "examples/vmm/uart16550.hpp"

namespace uart16550_test {

using namespace axvcpu;

namespace {

using test_console::Lines;

using Uart = vmm::Uart16550<Lines>;
static_assert(vmm::DeviceModel<Uart>);

constexpr auto byte = AccessWidth::Byte;

// Register offsets and bits as Linux's serial_reg.h names them.
constexpr std::uint64_t RX = 0, TX = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, EFR = 2, LCR = 3, MCR = 4,
                        LSR = 5, MSR = 6, SCR = 7;
constexpr std::uint8_t IIR_NO_INT = 0x01, IER_THRI = 0x02, IER_RDI = 0x01, IER_RLSI = 0x04, LSR_TEMT = 0x40,
                       LSR_DR = 0x01, FCR_ENABLE_FIFO = 0x01, FCR_CLEAR_RCVR = 0x02, FCR_CLEAR_XMIT = 0x04,
                       FCR_R_TRIG_10 = 0x80, FCR7_64BYTE = 0x20, MCR_LOOP = 0x10, MCR_OUT2 = 0x08, MCR_DTR = 0x01,
                       MCR_RTS = 0x02, LCR_DLAB = 0x80, LCR_WLEN8 = 0x03;

std::uint8_t in(Uart& uart, std::uint64_t offset) {
    const auto value = uart.read(offset, byte);
    REQUIRE(value.has_value());
    REQUIRE(*value <= 0xFF);
    return static_cast<std::uint8_t>(*value);
}
void out(Uart& uart, std::uint64_t offset, std::uint8_t value) { REQUIRE(uart.write(offset, byte, value)); }

struct Fresh {
    Fresh() { Lines::printed.clear(); }
};

}  // namespace

TEST_CASE_FIXTURE(Fresh, "reset values follow the datasheet's reset table") {
    Uart uart;
    CHECK(in(uart, IER) == 0);
    CHECK(in(uart, IIR) == 0x01);
    CHECK(in(uart, LCR) == 0);
    CHECK(in(uart, MCR) == 0);
    CHECK(in(uart, LSR) == 0x60);  // THRE | TEMT
    CHECK(in(uart, MSR) == 0xB0);  // DCD | DSR | CTS, no deltas
    CHECK(in(uart, SCR) == 0);
    CHECK(in(uart, RX) == 0);  // nothing received
    CHECK_FALSE(uart.irq_level());
    out(uart, LCR, LCR_DLAB);
    CHECK(in(uart, DLL) == 1);  // never 0: a driver may divide by it
    CHECK(in(uart, DLM) == 0);
}

TEST_CASE_FIXTURE(Fresh, "DLAB turns offsets 0 and 1 into the divisor latch, and only those") {
    Uart uart;
    out(uart, IER, 0x05);
    out(uart, LCR, LCR_DLAB | LCR_WLEN8);
    out(uart, DLL, 0x0C);
    out(uart, DLM, 0x01);
    CHECK(in(uart, DLL) == 0x0C);
    CHECK(in(uart, DLM) == 0x01);
    CHECK(Lines::printed.empty());  // a DLL write is not a THR write
    CHECK(in(uart, IIR) == 0x01);   // IIR, LCR, SCR... answer whatever DLAB says
    CHECK(in(uart, LCR) == (LCR_DLAB | LCR_WLEN8));
    out(uart, SCR, 0x42);
    CHECK(in(uart, SCR) == 0x42);

    out(uart, LCR, LCR_WLEN8);
    CHECK(in(uart, IER) == 0x05);  // IER kept its value under the latch
    CHECK(in(uart, LCR) == LCR_WLEN8);
    out(uart, TX, 'x');
    out(uart, TX, '\n');
    CHECK(Lines::printed == std::vector<std::string>{"x"});
    out(uart, LCR, LCR_DLAB);
    CHECK(in(uart, DLL) == 0x0C);  // the latch kept its value too
    CHECK(in(uart, DLM) == 0x01);
}

TEST_CASE_FIXTURE(Fresh, "the scratch register keeps what is written") {
    Uart uart;
    for (std::uint8_t value : {0xA5, 0x5A, 0x00, 0xFF}) {
        out(uart, SCR, value);
        CHECK(in(uart, SCR) == value);
    }
}

TEST_CASE_FIXTURE(Fresh, "IER keeps bits 3:0; MCR keeps bits 4:0; LSR and MSR ignore writes") {
    Uart uart;
    out(uart, IER, 0xFF);
    CHECK(in(uart, IER) == 0x0F);
    out(uart, IER, 0x40);  // Linux's XScale probe: UUE must not stick
    CHECK(in(uart, IER) == 0x00);
    out(uart, MCR, 0xE3);
    CHECK(in(uart, MCR) == 0x03);
    out(uart, LSR, 0xFF);
    out(uart, MSR, 0xFF);
    CHECK(in(uart, LSR) == 0x60);
    CHECK(in(uart, MSR) == 0xB0);
}

TEST_CASE_FIXTURE(Fresh, "IIR bits 7:6 say whether the FIFOs are on (FCR bit 0); bit 5 stays 0") {
    Uart uart;
    out(uart, FCR, FCR_ENABLE_FIFO);
    CHECK(in(uart, IIR) == 0xC1);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR7_64BYTE | FCR_R_TRIG_10);
    CHECK(in(uart, IIR) == 0xC1);
    out(uart, LCR, LCR_DLAB);  // a TI16750 would set bit 5 here
    out(uart, FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
    CHECK(in(uart, IIR) == 0xC1);
    out(uart, FCR, 0);
    CHECK(in(uart, IIR) == 0x01);
    out(uart, LCR, 0);
    out(uart, IER, IER_THRI);
    out(uart, FCR, FCR_ENABLE_FIFO);
    CHECK(in(uart, IIR) == 0xC2);  // the FIFO bits ride along with the interrupt id
}

TEST_CASE_FIXTURE(Fresh, "THRE interrupt: raised by setting ETBEI, cleared by the IIR read that reports it") {
    Uart uart;
    CHECK_FALSE(uart.irq_level());
    out(uart, IER, IER_THRI);
    CHECK(uart.irq_level());
    CHECK(uart.interrupt_id() == 0x02);
    CHECK(uart.interrupt_id() == 0x02);  // peeking does not clear it
    CHECK(in(uart, IIR) == 0x02);
    CHECK_FALSE(uart.irq_level());
    CHECK(in(uart, IIR) == 0x01);

    SUBCASE("writing IER again with ETBEI still set does not raise it again") {
        out(uart, IER, IER_THRI | IER_RLSI);
        CHECK_FALSE(uart.irq_level());
        CHECK(in(uart, IIR) == 0x01);
    }
    SUBCASE("clearing then setting ETBEI raises it again (Linux's startup THRE test)") {
        out(uart, IER, 0);
        CHECK_FALSE(uart.irq_level());
        out(uart, IER, IER_THRI);
        CHECK(uart.irq_level());
        CHECK(in(uart, IIR) == 0x02);
    }
    SUBCASE("a THR write raises it again: the byte leaves at once and THR is empty") {
        out(uart, TX, 'a');
        CHECK(uart.irq_level());
        CHECK(in(uart, LSR) == 0x60);
        CHECK(in(uart, IIR) == 0x02);
        CHECK(in(uart, IIR) == 0x01);
    }
    SUBCASE("reading LSR, MSR or RBR does not clear it") {
        out(uart, TX, 'a');
        (void)in(uart, LSR);
        (void)in(uart, MSR);
        (void)in(uart, RX);
        CHECK(uart.irq_level());
    }
}

TEST_CASE_FIXTURE(Fresh, "THRE interrupt: an IIR read that reports another source leaves it pending") {
    Uart uart;
    out(uart, IER, IER_THRI | IER_RDI);
    CHECK(uart.receive('k'));
    CHECK(in(uart, IIR) == 0x04);  // received data outranks THRE
    CHECK(in(uart, IIR) == 0x04);
    CHECK(in(uart, RX) == 'k');
    CHECK(uart.irq_level());
    CHECK(in(uart, IIR) == 0x02);  // THRE was not cleared by the reads above
    CHECK_FALSE(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "THRE interrupt: a THR write with ETBEI clear raises nothing") {
    Uart uart;
    out(uart, TX, 'a');
    CHECK_FALSE(uart.irq_level());
    CHECK(in(uart, IIR) == 0x01);
}

TEST_CASE_FIXTURE(Fresh, "IIR reports the highest priority: line status, data, THRE, modem status") {
    Uart uart;
    for (int i = 0; i < 17; ++i) (void)uart.receive(static_cast<char>('a' + i));  // the 17th overruns
    out(uart, MCR, MCR_LOOP);                                                     // CTS, DSR, DCD fall: deltas
    out(uart, MCR, 0);
    out(uart, IER, 0x0F);
    CHECK(uart.irq_level());
    CHECK(in(uart, IIR) == 0x06);
    CHECK(in(uart, IIR) == 0x06);  // stays until the LSR is read
    CHECK(in(uart, LSR) == 0x63);  // DR | OE | THRE | TEMT; reading clears OE
    CHECK(in(uart, IIR) == 0x04);
    for (int i = 0; i < 16; ++i) CHECK(in(uart, RX) == 'a' + i);
    CHECK(in(uart, IIR) == 0x02);  // reported, so cleared
    CHECK(in(uart, IIR) == 0x00);  // modem status
    CHECK(uart.irq_level());
    CHECK(in(uart, MSR) == (0xB0 | 0x0B));  // DCTS | DDSR | DDCD (RI never rose)
    CHECK(in(uart, IIR) == 0x01);
    CHECK_FALSE(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "each interrupt source needs its IER bit") {
    Uart uart;
    for (int i = 0; i < 17; ++i) (void)uart.receive('z');
    out(uart, MCR, MCR_LOOP);
    out(uart, MCR, 0);
    CHECK_FALSE(uart.irq_level());  // IER = 0: overrun, data, deltas all pending but masked
    out(uart, IER, 0x08);
    CHECK(uart.interrupt_id() == 0x00);
    out(uart, IER, 0x01);
    CHECK(uart.interrupt_id() == 0x04);
    out(uart, IER, 0x04);
    CHECK(uart.interrupt_id() == 0x06);
    out(uart, IER, 0x02);
    CHECK(uart.interrupt_id() == 0x02);
}

TEST_CASE_FIXTURE(Fresh, "the receiver FIFO holds 16 bytes; a 17th is lost and sets OE until LSR is read") {
    Uart uart;
    CHECK((in(uart, LSR) & LSR_DR) == 0);
    for (int i = 0; i < 16; ++i) CHECK(uart.receive(static_cast<char>(0x30 + i)));
    CHECK(in(uart, LSR) == 0x61);
    CHECK_FALSE(uart.receive('X'));
    CHECK(in(uart, LSR) == 0x63);
    CHECK(in(uart, LSR) == 0x61);  // OE was cleared by the read
    for (int i = 0; i < 16; ++i) {
        CHECK((in(uart, LSR) & LSR_DR) != 0);
        CHECK(in(uart, RX) == 0x30 + i);  // in order; the 17th byte is not there
    }
    CHECK(in(uart, LSR) == 0x60);
    CHECK(in(uart, RX) == 0);  // empty
    CHECK(uart.receive('\xFF'));
    CHECK(in(uart, RX) == 0xFF);
}

TEST_CASE_FIXTURE(Fresh, "received-data interrupt: while the FIFO holds a byte, whatever the trigger level") {
    Uart uart;
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_R_TRIG_10);  // trigger at 8 bytes on a 16550
    out(uart, IER, IER_RDI);
    CHECK_FALSE(uart.irq_level());
    CHECK(uart.receive('1'));
    CHECK(uart.receive('2'));
    CHECK(in(uart, IIR) == 0xC4);
    CHECK(in(uart, RX) == '1');
    CHECK(uart.irq_level());
    CHECK(in(uart, RX) == '2');
    CHECK_FALSE(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "overrun raises the line-status interrupt only with ELSI") {
    Uart uart;
    out(uart, IER, IER_RLSI);
    for (int i = 0; i < 16; ++i) CHECK(uart.receive('q'));
    CHECK_FALSE(uart.irq_level());
    CHECK_FALSE(uart.receive('q'));
    CHECK(uart.irq_level());
    CHECK(in(uart, IIR) == 0x06);
    (void)in(uart, LSR);
    CHECK_FALSE(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "FCR bit 1 empties the receiver FIFO, and so does turning the FIFOs on or off") {
    Uart uart;
    out(uart, FCR, FCR_ENABLE_FIFO);
    CHECK(uart.receive('a'));
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_R_TRIG_10);  // bit 0 unchanged: kept
    CHECK((in(uart, LSR) & LSR_DR) != 0);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_XMIT);  // the transmitter FIFO only
    CHECK((in(uart, LSR) & LSR_DR) != 0);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR);
    CHECK((in(uart, LSR) & LSR_DR) == 0);
    CHECK(uart.receive('b'));
    out(uart, FCR, 0);  // FIFOs off
    CHECK((in(uart, LSR) & LSR_DR) == 0);
    CHECK(uart.receive('c'));
    out(uart, FCR, FCR_ENABLE_FIFO);  // FIFOs on
    CHECK((in(uart, LSR) & LSR_DR) == 0);
    for (int i = 0; i < 17; ++i) (void)uart.receive('d');
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR);
    CHECK(in(uart, LSR) == 0x62);  // emptied, but the overrun stays reported
}

TEST_CASE_FIXTURE(Fresh, "loopback: MSR follows MCR (RTS-CTS, DTR-DSR, OUT1-RI, OUT2-DCD) with deltas") {
    Uart uart;
    out(uart, MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);  // Linux's autoconfig test
    CHECK((in(uart, MSR) & 0xF0) == 0x90);
    CHECK(in(uart, MSR) == 0x90);  // the first read cleared DDSR
    out(uart, MCR, MCR_LOOP | 0x0F);
    CHECK(in(uart, MSR) == (0xF0 | 0x02));  // DSR rose: DDSR; CTS, DCD unchanged; RI rose: no TERI
    out(uart, MCR, MCR_LOOP | MCR_DTR);
    CHECK(in(uart, MSR) == (0x20 | 0x0D));  // CTS, DCD fell: DCTS, DDCD; RI fell: TERI
    out(uart, MCR, MCR_DTR);                // out of loopback: the terminal's CTS, DSR, DCD
    CHECK(in(uart, MSR) == (0xB0 | 0x09));
    CHECK(in(uart, MCR) == MCR_DTR);
    // The deltas of several MCR writes add up until the MSR is read.
    out(uart, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);  // the same inputs: no delta
    out(uart, MCR, MCR_LOOP | MCR_DTR | MCR_OUT2);            // CTS falls
    out(uart, MCR, MCR_LOOP | MCR_OUT2);                      // DSR falls
    CHECK(in(uart, MSR) == (0x80 | 0x03));
    CHECK(in(uart, MSR) == 0x80);
}

TEST_CASE_FIXTURE(Fresh, "loopback: transmitted bytes are received, not printed; the serial input is cut") {
    Uart uart;
    out(uart, MCR, MCR_LOOP);
    out(uart, TX, 'h');
    out(uart, TX, '\n');
    CHECK_FALSE(uart.receive('x'));
    CHECK(in(uart, LSR) == 0x61);  // no overrun from the refused byte
    CHECK(in(uart, RX) == 'h');
    CHECK(in(uart, RX) == '\n');
    CHECK((in(uart, LSR) & LSR_DR) == 0);
    uart.flush();
    CHECK(Lines::printed.empty());
    out(uart, MCR, 0);
    CHECK(uart.receive('x'));
    out(uart, TX, 'o');
    uart.flush();
    CHECK(Lines::printed == std::vector<std::string>{"o"});
}

TEST_CASE_FIXTURE(Fresh, "modem-status interrupt from the loopback deltas, cleared by reading MSR") {
    Uart uart;
    out(uart, IER, 0x08);
    CHECK_FALSE(uart.irq_level());
    out(uart, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);  // DSR, CTS, DCD unchanged: no delta
    CHECK_FALSE(uart.irq_level());
    out(uart, MCR, MCR_LOOP | MCR_DTR | MCR_RTS);  // DCD falls
    CHECK(uart.irq_level());
    CHECK(in(uart, IIR) == 0x00);
    CHECK(uart.irq_level());  // an IIR read does not clear it
    CHECK(in(uart, MSR) == (0x30 | 0x08));
    CHECK_FALSE(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "refused: every width but a byte, and offsets past register 7") {
    Uart uart;
    out(uart, IER, IER_THRI);
    for (std::uint64_t offset = 0; offset < 8; ++offset) {
        for (auto width : {AccessWidth::Word, AccessWidth::Dword, AccessWidth::Qword}) {
            CHECK_FALSE(uart.read(offset, width).has_value());
            CHECK_FALSE(uart.write(offset, width, 'w'));
        }
    }
    for (std::uint64_t offset : {8ull, 9ull, 0x10ull, 0xFFull}) {
        CHECK_FALSE(uart.read(offset, byte).has_value());
        CHECK_FALSE(uart.write(offset, byte, 'w'));
    }
    // The refused accesses did nothing: no output, THRE still pending
    // (the refused IIR reads did not clear it), IER as it was.
    uart.flush();
    CHECK(Lines::printed.empty());
    CHECK(in(uart, IIR) == 0x02);
    CHECK(in(uart, IER) == IER_THRI);
    CHECK(Uart::size == 0x100);
}

TEST_CASE_FIXTURE(Fresh, "THR bytes are printed a whole line at a time") {
    Uart uart;
    for (char c : std::string_view("hello\r\nworld\n\nend")) out(uart, TX, static_cast<std::uint8_t>(c));
    CHECK(Lines::printed == std::vector<std::string>{"hello", "world", ""});
    uart.flush();
    CHECK(Lines::printed == std::vector<std::string>{"hello", "world", "", "end"});
    uart.flush();  // nothing left
    CHECK(Lines::printed.size() == 4);
    CHECK(uart.write(TX, byte, 0x141));  // only the low byte goes out
    uart.flush();
    CHECK(Lines::printed.back() == "A");
}

TEST_CASE_FIXTURE(Fresh, "a line longer than the console line is printed in pieces of 160") {
    Uart uart;
    for (int i = 0; i < 170; ++i) out(uart, TX, static_cast<std::uint8_t>('a' + i % 26));
    REQUIRE(Lines::printed.size() == 1);
    CHECK(Lines::printed[0].size() == 160);
    out(uart, TX, '\n');
    REQUIRE(Lines::printed.size() == 2);
    CHECK(Lines::printed[1].size() == 10);
}

TEST_CASE_FIXTURE(Fresh, "in a DeviceTable: claimed range, not traced, flushed") {
    vmm::DeviceTable<2, Uart> table;
    REQUIRE(table.add<Uart>(GuestPhysAddr(0x1000'0000), Uart::size));
    CHECK_FALSE(table.traced(GuestPhysAddr(0x1000'0005)));
    CHECK(table.write(GuestPhysAddr(0x1000'0000), byte, 'o'));
    CHECK(table.write(GuestPhysAddr(0x1000'0000), byte, 'k'));
    CHECK(table.read(GuestPhysAddr(0x1000'0005), byte) == 0x60);
    CHECK_FALSE(table.read(GuestPhysAddr(0x1000'0008), byte).has_value());  // claimed, refused by the model
    CHECK_FALSE(table.read(GuestPhysAddr(0x1000'0100), byte).has_value());  // not claimed
    Uart* uart = table.find_model<Uart>(GuestPhysAddr(0x1000'0000));
    REQUIRE(uart != nullptr);
    CHECK(uart->receive('i'));
    CHECK(table.read(GuestPhysAddr(0x1000'0000), byte) == 'i');
    table.flush();
    CHECK(Lines::printed == std::vector<std::string>{"ok"});
}

// The sequences below are Linux's (drivers/tty/serial/8250/8250_port.c),
// register for register.

TEST_CASE_FIXTURE(Fresh, "Linux autoconfig (x86 legacy ports) finds a 16550A and prints nothing") {
    Uart uart;
    // The IER test.
    const std::uint8_t ier_saved = in(uart, IER);
    out(uart, IER, 0);
    CHECK((in(uart, IER) & 0x0F) == 0);
    out(uart, IER, 0x0F);
    CHECK((in(uart, IER) & 0x0F) == 0x0F);
    out(uart, IER, ier_saved);
    const std::uint8_t save_mcr = in(uart, MCR);
    const std::uint8_t save_lcr = in(uart, LCR);
    // The loopback test.
    out(uart, MCR, MCR_LOOP | 0x0A);
    CHECK((in(uart, MSR) & 0xF0) == 0x90);
    out(uart, MCR, save_mcr);
    // EFR = 0 under LCR 0xBF (an FCR write here), then the FIFO bits.
    out(uart, LCR, 0xBF);
    out(uart, EFR, 0);
    out(uart, LCR, 0);
    out(uart, FCR, FCR_ENABLE_FIFO);
    REQUIRE((in(uart, IIR) >> 6) == 3);  // autoconfig_16550a
    // autoconfig_16550a: no EFR under DLAB or LCR 0xBF (offset 2 reads IIR, not 0).
    out(uart, LCR, 0x80);
    CHECK(in(uart, EFR) != 0);
    out(uart, LCR, 0xBF);
    CHECK(in(uart, EFR) != 0);
    // No NatSemi bank 2: EXCR1's LOOP bit does not follow MCR.
    out(uart, LCR, 0);
    const std::uint8_t status1 = in(uart, MCR);
    out(uart, LCR, 0xE0);
    std::uint8_t status2 = in(uart, 0x02);
    CHECK(((status2 ^ status1) & MCR_LOOP) == 0);
    out(uart, LCR, 0);
    out(uart, MCR, status1 ^ MCR_LOOP);
    out(uart, LCR, 0xE0);
    status2 = in(uart, 0x02);
    out(uart, LCR, 0);
    out(uart, MCR, status1);
    CHECK(((status2 ^ status1) & MCR_LOOP) == 0);
    // Not a TI16750.
    out(uart, LCR, 0);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
    const int iir1 = in(uart, IIR) >> 5;
    out(uart, FCR, FCR_ENABLE_FIFO);
    out(uart, LCR, 0x80);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR7_64BYTE);
    const int iir2 = in(uart, IIR) >> 5;
    out(uart, FCR, FCR_ENABLE_FIFO);
    out(uart, LCR, 0);
    CHECK_FALSE((iir1 == 6 && iir2 == 7));
    // Not an XScale.
    const std::uint8_t iersave = in(uart, IER);
    out(uart, IER, iersave & ~0x40);
    CHECK((in(uart, IER) & 0x40) == 0);
    out(uart, IER, iersave | 0x40);
    CHECK((in(uart, IER) & 0x40) == 0);
    out(uart, IER, iersave);
    // size_fifo: 256 bytes in loopback, count what comes back (64 would be a U6_16550A).
    {
        out(uart, LCR, 0);
        const std::uint8_t old_fcr = in(uart, FCR);  // reads IIR, as on the chip
        const std::uint8_t old_mcr = in(uart, MCR);
        out(uart, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
        out(uart, MCR, MCR_LOOP);
        out(uart, LCR, 0x80);
        out(uart, DLL, 1);
        out(uart, DLM, 0);
        out(uart, LCR, LCR_WLEN8);
        for (int count = 0; count < 256; ++count) out(uart, TX, static_cast<std::uint8_t>(count));
        int count = 0;
        while ((in(uart, LSR) & LSR_DR) != 0 && count < 256) {
            CHECK(in(uart, RX) == count);
            ++count;
        }
        CHECK(count == 16);
        out(uart, FCR, old_fcr);
        out(uart, MCR, old_mcr);
    }
    out(uart, LCR, save_lcr);
    // Reset the UART.
    out(uart, MCR, save_mcr);
    out(uart, FCR, FCR_ENABLE_FIFO);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
    out(uart, FCR, 0);
    (void)in(uart, RX);
    out(uart, IER, 0);
    uart.flush();
    CHECK(Lines::printed.empty());
    CHECK_FALSE(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "Linux startup, set_termios, console write and interrupt-driven output") {
    Uart uart;
    // serial8250_do_startup: clear the FIFOs and the interrupt registers.
    out(uart, FCR, FCR_ENABLE_FIFO);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
    out(uart, FCR, 0);
    (void)in(uart, LSR);
    (void)in(uart, RX);
    (void)in(uart, IIR);
    (void)in(uart, MSR);
    CHECK(in(uart, LSR) != 0xFF);  // the "LSR safety check"
    // The THRE test: no UART_BUG_THRE.
    CHECK((in(uart, LSR) & 0x20) != 0);
    out(uart, IER, IER_THRI);
    (void)in(uart, LCR);  // serial_port_out_sync
    const std::uint8_t iir1 = in(uart, IIR);
    out(uart, IER, 0);
    out(uart, IER, IER_THRI);
    (void)in(uart, LCR);
    std::uint8_t iir = in(uart, IIR);
    out(uart, IER, 0);
    CHECK((iir1 & IIR_NO_INT) == 0);
    CHECK((iir & IIR_NO_INT) == 0);
    out(uart, LCR, LCR_WLEN8);
    out(uart, MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
    // The TXEN test: no UART_BUG_TXEN.
    out(uart, IER, IER_THRI);
    const std::uint8_t lsr = in(uart, LSR);
    iir = in(uart, IIR);
    out(uart, IER, 0);
    CHECK_FALSE(((lsr & LSR_TEMT) != 0 && (iir & IIR_NO_INT) != 0));
    (void)in(uart, LSR);
    (void)in(uart, RX);
    (void)in(uart, IIR);
    (void)in(uart, MSR);
    // serial8250_do_set_termios: 115200 baud at 3.6864 MHz, FIFOs on, RX interrupts.
    out(uart, IER, IER_RLSI | IER_RDI);
    out(uart, LCR, LCR_WLEN8 | LCR_DLAB);
    out(uart, DLL, 2);
    out(uart, DLM, 0);
    out(uart, LCR, LCR_WLEN8);
    out(uart, FCR, FCR_ENABLE_FIFO);
    out(uart, FCR, FCR_ENABLE_FIFO | FCR_R_TRIG_10);
    out(uart, MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
    CHECK(in(uart, IIR) == 0xC1);
    CHECK_FALSE(uart.irq_level());

    // serial8250_console_write: IER saved and cleared, polled output, IER restored.
    auto console_write = [&](std::string_view text) {
        const std::uint8_t ier = in(uart, IER);
        out(uart, IER, 0);
        for (char c : text) {
            if (c == '\n') {
                while ((in(uart, LSR) & 0x20) == 0) {}
                out(uart, TX, '\r');
            }
            while ((in(uart, LSR) & 0x20) == 0) {}
            out(uart, TX, static_cast<std::uint8_t>(c));
        }
        while ((in(uart, LSR) & 0x60) != 0x60) {}
        out(uart, IER, ier);
    };
    console_write("Linux version 6.1\n");
    CHECK(Lines::printed == std::vector<std::string>{"Linux version 6.1"});
    CHECK_FALSE(uart.irq_level());

    // A tty write of 40 bytes: start_tx sets THRI, the handler sends 16 per
    // interrupt (tx_loadsz) and clears THRI when nothing is left.
    std::string pending = "0123456789abcdefghijklmnopqrstuvwxyzABC\n";
    std::uint8_t ier_shadow = IER_RLSI | IER_RDI;
    ier_shadow |= IER_THRI;
    out(uart, IER, ier_shadow);
    int interrupts = 0;
    while (uart.irq_level() && interrupts < 10) {
        ++interrupts;
        const std::uint8_t id = in(uart, IIR);
        REQUIRE((id & IIR_NO_INT) == 0);
        const std::uint8_t status = in(uart, LSR);
        if ((status & LSR_DR) != 0) (void)in(uart, RX);
        (void)in(uart, MSR);
        if ((status & 0x20) != 0 && (ier_shadow & IER_THRI) != 0) {
            if (pending.empty()) {
                ier_shadow &= static_cast<std::uint8_t>(~IER_THRI);
                out(uart, IER, ier_shadow);
                continue;
            }
            for (int count = 16; count > 0 && !pending.empty(); --count) {
                out(uart, TX, static_cast<std::uint8_t>(pending.front()));
                pending.erase(0, 1);
            }
            if (pending.empty()) {
                ier_shadow &= static_cast<std::uint8_t>(~IER_THRI);
                out(uart, IER, ier_shadow);
            }
        }
    }
    CHECK(interrupts == 3);  // 16 + 16 + 8 bytes
    CHECK_FALSE(uart.irq_level());
    CHECK(Lines::printed.back() == "0123456789abcdefghijklmnopqrstuvwxyzABC");

    // Input: the interrupt is raised, the handler drains the FIFO.
    for (char c : std::string_view("ls\r")) CHECK(uart.receive(c));
    CHECK(uart.irq_level());
    CHECK(in(uart, IIR) == 0xC4);
    std::string got;
    std::uint8_t status = in(uart, LSR);
    while ((status & LSR_DR) != 0) {
        got.push_back(static_cast<char>(in(uart, RX)));
        status = in(uart, LSR);
    }
    CHECK(got == "ls\r");
    CHECK_FALSE(uart.irq_level());
}
}  // namespace uart16550_test
