// The example VMM's emulated PL011 (examples/vmm/pl011.hpp) on the host:
// reset values, the registers that keep what is written, refused accesses,
// the printed lines, the interrupt rules of the PL011 TRM (ARM DDI 0183G) as
// the header documents them (TX, RX at the IFLS trigger level, the receive
// timeout, overrun; RIS, IMSC, MIS, ICR), the receive FIFO in FIFO and
// character mode, the line routed through a DeviceTable, and the register
// sequences Linux's amba-pl011 driver (6.1) runs at probe, startup, console
// write, interrupt-driven transmit and receive, and shutdown.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console_lines.hpp"
#include "examples/vmm/devices.hpp"
#include "examples/vmm/pl011.hpp"

namespace pl011_test {

using namespace axvcpu;

namespace {

using test_console::Lines;

using Uart = vmm::Pl011<Lines>;
static_assert(vmm::DeviceModel<Uart>);
static_assert(vmm::DrivesInterrupt<Uart>);

// Offsets and bits as Linux's include/linux/amba/serial.h names them.
constexpr std::uint64_t DR = 0x000, RSR = 0x004, ECR = 0x004, FR = 0x018, IBRD = 0x024, FBRD = 0x028, LCRH = 0x02C,
                        CR = 0x030, IFLS = 0x034, IMSC = 0x038, RIS = 0x03C, MIS = 0x040, ICR = 0x044, DMACR = 0x048;
constexpr std::uint32_t FR_BUSY = 0x08, FR_RXFE = 0x10, FR_TXFF = 0x20, FR_RXFF = 0x40, FR_TXFE = 0x80,
                        FR_MODEM_ANY = 0x07;
constexpr std::uint32_t RXIM = 1u << 4, TXIM = 1u << 5, RTIM = 1u << 6, FEIM = 1u << 7, PEIM = 1u << 8,
                        BEIM = 1u << 9, OEIM = 1u << 10;
constexpr std::uint32_t RXIS = RXIM, TXIS = TXIM, RTIS = RTIM, FEIS = FEIM, PEIS = PEIM, BEIS = BEIM, OEIS = OEIM;
constexpr std::uint32_t DR_OE = 1u << 11, RSR_OE = 1u << 3;
constexpr std::uint32_t CR_UARTEN = 0x0001, CR_TXE = 0x0100, CR_RXE = 0x0200, CR_DTR = 0x0400, CR_RTS = 0x0800,
                        CR_CTSEN = 0x8000;
constexpr std::uint32_t LCRH_FEN = 0x10, LCRH_WLEN_8 = 0x60;
constexpr std::uint32_t IFLS_RX4_8 = 2u << 3, IFLS_TX4_8 = 2u;

// Linux's vendor_arm accesses are 16-bit (UPIO_MEM: readw/writew).
std::uint32_t rd(Uart& uart, std::uint64_t offset, AccessWidth width = AccessWidth::Word) {
    const auto value = uart.read(offset, width);
    REQUIRE(value.has_value());
    return static_cast<std::uint32_t>(*value);
}
void wr(Uart& uart, std::uint64_t offset, std::uint32_t value, AccessWidth width = AccessWidth::Word) {
    REQUIRE(uart.write(offset, width, value));
}
void send(Uart& uart, std::string_view text) {
    for (char c : text) wr(uart, DR, static_cast<std::uint8_t>(c));
}

struct Fresh {
    Fresh() { Lines::printed.clear(); }
};

}  // namespace

TEST_CASE_FIXTURE(Fresh, "reset values: empty FIFOs, CR = TXE | RXE, IFLS = 1/2, nothing pending") {
    Uart uart;
    CHECK(rd(uart, FR) == (FR_TXFE | FR_RXFE));
    CHECK(rd(uart, CR) == 0x0300);
    CHECK(rd(uart, IFLS) == 0x12);
    for (std::uint64_t offset : {RSR, IBRD, FBRD, LCRH, IMSC, RIS, MIS, ICR, DMACR}) CHECK(rd(uart, offset) == 0);
    CHECK(rd(uart, DR) == 0);  // nothing received
    CHECK_FALSE(uart.irq_level());
    CHECK(uart.rx_count() == 0);
}

TEST_CASE_FIXTURE(Fresh, "the PrimeCell IDs say PL011 r1p5: Linux's amba bus reads them 32 bits at a time") {
    Uart uart;
    std::uint32_t periphid = 0, cellid = 0;
    for (unsigned i = 0; i < 4; ++i) {
        periphid |= (rd(uart, 0xFE0 + 4 * i, AccessWidth::Dword) & 0xFF) << (8 * i);
        cellid |= (rd(uart, 0xFF0 + 4 * i, AccessWidth::Dword) & 0xFF) << (8 * i);
    }
    CHECK(cellid == 0xB105F00D);               // AMBA_CID
    CHECK((periphid & 0x000FFFFF) == 0x41011);  // pl011_ids[0]: vendor_arm
    CHECK(((periphid >> 20) & 0xF) == 3);       // amba_rev 3: Linux's fifosize 32
}

TEST_CASE_FIXTURE(Fresh, "IBRD, FBRD, LCR_H, CR, IFLS and DMACR keep what is written; IMSC bits 10:0") {
    Uart uart;
    const std::uint64_t offsets[] = {IBRD, FBRD, LCRH, CR, IFLS, DMACR};
    std::uint32_t value = 0x1234'5601;
    for (std::uint64_t offset : offsets) {
        wr(uart, offset, value, AccessWidth::Dword);
        value += 0x1111'1111;
    }
    value = 0x1234'5601;
    for (std::uint64_t offset : offsets) {
        CHECK(rd(uart, offset, AccessWidth::Dword) == value);
        CHECK(rd(uart, offset, AccessWidth::Byte) == (value & 0xFF));  // a narrow read: the first bytes
        value += 0x1111'1111;
    }
    wr(uart, IMSC, 0xFFFF'FFFF, AccessWidth::Dword);
    CHECK(rd(uart, IMSC, AccessWidth::Dword) == 0x7FF);
}

TEST_CASE_FIXTURE(Fresh, "FR, RIS, MIS and the IDs ignore writes; ICR reads 0; empty offsets read 0") {
    Uart uart;
    send(uart, "x");  // TX raised
    wr(uart, IMSC, TXIM);
    for (std::uint64_t offset : {FR, RIS, MIS, std::uint64_t{0xFE0}, std::uint64_t{0x020}, std::uint64_t{0x100}})
        wr(uart, offset, 0xFFFF);
    CHECK(rd(uart, FR) == (FR_TXFE | FR_RXFE));
    CHECK(rd(uart, RIS) == TXIS);
    CHECK(rd(uart, MIS) == TXIS);
    CHECK(rd(uart, 0xFE0) == 0x11);
    CHECK(rd(uart, ICR) == 0);
    CHECK(rd(uart, 0x020) == 0);
    CHECK(rd(uart, 0x100) == 0);
    CHECK(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "refused: 64-bit accesses, unaligned offsets, offsets past the IDs") {
    Uart uart;
    wr(uart, IMSC, RXIM);
    CHECK(uart.receive('k'));
    for (std::uint64_t offset : {DR, FR, IMSC, RIS, std::uint64_t{0xFFC}}) {
        CHECK_FALSE(uart.read(offset, AccessWidth::Qword).has_value());
        CHECK_FALSE(uart.write(offset, AccessWidth::Qword, 'w'));
    }
    for (std::uint64_t offset : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{0x3A}, std::uint64_t{0xFFE}}) {
        CHECK_FALSE(uart.read(offset, AccessWidth::Byte).has_value());
        CHECK_FALSE(uart.write(offset, AccessWidth::Byte, 'w'));
    }
    for (std::uint64_t offset : {std::uint64_t{0x1000}, std::uint64_t{0x1004}}) {
        CHECK_FALSE(uart.read(offset, AccessWidth::Dword).has_value());
        CHECK_FALSE(uart.write(offset, AccessWidth::Dword, 'w'));
    }
    // Nothing happened: no output, the byte still there, the mask unchanged.
    uart.flush();
    CHECK(Lines::printed.empty());
    CHECK(uart.rx_count() == 1);
    CHECK(rd(uart, IMSC) == RXIM);
    CHECK(rd(uart, DR) == 'k');
}

TEST_CASE_FIXTURE(Fresh, "DR bytes are printed a whole line at a time, any access width") {
    Uart uart;
    send(uart, "hello\r\nworld\n\nend");
    CHECK(Lines::printed == std::vector<std::string>{"hello", "world", ""});
    uart.flush();
    CHECK(Lines::printed == std::vector<std::string>{"hello", "world", "", "end"});
    wr(uart, DR, 0x141, AccessWidth::Dword);  // only the low byte goes out
    wr(uart, DR, 'B', AccessWidth::Byte);
    uart.flush();
    CHECK(Lines::printed.back() == "AB");
    for (int i = 0; i < 170; ++i) wr(uart, DR, static_cast<std::uint32_t>('a' + i % 26));
    CHECK(Lines::printed.back().size() == 160);  // a long line in pieces of 160
}

TEST_CASE_FIXTURE(Fresh, "TX interrupt: raised by each DR write in FIFO and character mode, cleared by ICR") {
    Uart uart;
    wr(uart, IMSC, TXIM);
    CHECK_FALSE(uart.irq_level());  // unmasking alone raises nothing: no byte left the FIFO
    CHECK(rd(uart, RIS) == 0);
    for (std::uint32_t lcr_h : {0u, LCRH_FEN | LCRH_WLEN_8}) {
        for (std::uint32_t ifls : {0u, 1u, 2u, 3u, 4u}) {
            CAPTURE(lcr_h);
            CAPTURE(ifls);
            wr(uart, LCRH, lcr_h);
            wr(uart, IFLS, ifls);
            wr(uart, DR, 'a');
            CHECK(rd(uart, RIS) == TXIS);
            CHECK(rd(uart, MIS) == TXIS);
            CHECK(uart.irq_level());
            wr(uart, ICR, TXIS);
            CHECK(rd(uart, RIS) == 0);
            CHECK_FALSE(uart.irq_level());
        }
    }
    SUBCASE("masking TXIM drops the line and keeps the raw status") {
        wr(uart, DR, 'b');
        wr(uart, IMSC, 0);
        CHECK_FALSE(uart.irq_level());
        CHECK(rd(uart, RIS) == TXIS);
        CHECK(rd(uart, MIS) == 0);
        wr(uart, IMSC, TXIM);  // raised by the earlier write: at once
        CHECK(uart.irq_level());
    }
    SUBCASE("ICR bits other than TXIC leave it") {
        wr(uart, DR, 'b');
        wr(uart, ICR, 0x7FF & ~TXIS);
        CHECK(uart.irq_level());
    }
}

TEST_CASE_FIXTURE(Fresh, "FR: TXFE, never TXFF or BUSY; RXFE and RXFF follow the receive FIFO") {
    Uart uart;
    wr(uart, LCRH, LCRH_FEN);
    for (int i = 0; i < 32; ++i) {
        const std::uint32_t fr = rd(uart, FR);
        CHECK((fr & (FR_TXFF | FR_BUSY | FR_MODEM_ANY)) == 0);
        CHECK((fr & FR_TXFE) != 0);
        CHECK((fr & FR_RXFE) == (i == 0 ? FR_RXFE : 0));
        CHECK((fr & FR_RXFF) == 0);
        CHECK(uart.receive(static_cast<char>('A' + i)));
    }
    CHECK(rd(uart, FR) == (FR_TXFE | FR_RXFF));
    CHECK(rd(uart, DR) == 'A');
    CHECK(rd(uart, FR) == FR_TXFE);
}

TEST_CASE_FIXTURE(Fresh, "RX interrupt at each IFLS trigger level of the 32-byte FIFO") {
    struct Level {
        std::uint32_t rxiflsel;
        unsigned bytes;
    };
    // 1/8, 1/4, 1/2, 3/4, 7/8; the reserved encodings act as 1/2.
    const Level levels[] = {{0, 4}, {1, 8}, {2, 16}, {3, 24}, {4, 28}, {5, 16}, {6, 16}, {7, 16}};
    for (const Level& level : levels) {
        CAPTURE(level.rxiflsel);
        Uart uart;
        wr(uart, LCRH, LCRH_FEN | LCRH_WLEN_8);
        wr(uart, IFLS, level.rxiflsel << 3 | 7);  // the TX bits do not matter
        wr(uart, IMSC, RXIM);
        for (unsigned i = 1; i <= 32; ++i) {
            REQUIRE(uart.receive(static_cast<char>(i)));
            CHECK(((rd(uart, RIS) & RXIS) != 0) == (i >= level.bytes));
        }
        CHECK(uart.irq_level());
        // Reads keep it until fewer bytes than the level are left.
        for (int left = 31; left >= 0; --left) {
            CHECK(rd(uart, DR) == static_cast<std::uint32_t>(32 - left));
            CHECK(((rd(uart, RIS) & RXIS) != 0) == (left >= static_cast<int>(level.bytes)));
            CHECK(uart.irq_level() == (left >= static_cast<int>(level.bytes)));
        }
        CHECK(rd(uart, RIS) == 0);
    }
}

TEST_CASE_FIXTURE(Fresh, "RX is raised on reaching the level, not by a FIFO already above a lowered level") {
    Uart uart;
    wr(uart, LCRH, LCRH_FEN);
    wr(uart, IMSC, RXIM);
    for (int i = 0; i < 10; ++i) CHECK(uart.receive('a'));  // level 1/2 = 16: not reached
    CHECK_FALSE(uart.irq_level());
    wr(uart, IFLS, 0);  // 1/8 = 4: already past it
    CHECK_FALSE(uart.irq_level());
    CHECK(uart.receive('b'));
    CHECK_FALSE(uart.irq_level());  // 11 bytes: no transition through 4
    // Linux's pl011_enable_interrupts drains the FIFO for exactly this reason.
    while ((rd(uart, FR) & FR_RXFE) == 0) (void)rd(uart, DR);
    for (int i = 0; i < 3; ++i) CHECK(uart.receive('c'));
    CHECK_FALSE(uart.irq_level());
    CHECK(uart.receive('d'));
    CHECK(uart.irq_level());
}

TEST_CASE_FIXTURE(Fresh, "receive timeout: raised by every byte, cleared when the FIFO is empty or by ICR") {
    Uart uart;
    wr(uart, LCRH, LCRH_FEN);
    wr(uart, IMSC, RTIM);
    CHECK(uart.receive('1'));
    CHECK(rd(uart, RIS) == RTIS);  // one byte, below the level: only the timeout reports it
    CHECK(uart.irq_level());
    CHECK(uart.receive('2'));
    CHECK(rd(uart, DR) == '1');
    CHECK(uart.irq_level());  // a byte is still waiting
    CHECK(rd(uart, DR) == '2');
    CHECK_FALSE(uart.irq_level());
    CHECK(rd(uart, RIS) == 0);

    SUBCASE("ICR clears it with bytes left; the next byte raises it again") {
        CHECK(uart.receive('3'));
        wr(uart, ICR, RTIS);
        CHECK_FALSE(uart.irq_level());
        CHECK(uart.rx_count() == 1);
        CHECK(uart.receive('4'));
        CHECK(uart.irq_level());
    }
    SUBCASE("RX cleared by ICR above the level: the timeout still reports the next byte") {
        wr(uart, IMSC, RTIM | RXIM);
        for (int i = 0; i < 16; ++i) CHECK(uart.receive('x'));
        CHECK(rd(uart, RIS) == (RXIS | RTIS));
        wr(uart, ICR, RXIS | RTIS);
        CHECK_FALSE(uart.irq_level());
        CHECK(uart.receive('y'));
        CHECK(rd(uart, RIS) == RTIS);  // 17 bytes: RX is not raised again, RT is
        CHECK(uart.irq_level());
    }
}

TEST_CASE_FIXTURE(Fresh, "character mode (FEN = 0): one byte, RX when it arrives, the next one overruns") {
    Uart uart;
    wr(uart, IMSC, RXIM | OEIM);
    CHECK(uart.receive('a'));
    CHECK(rd(uart, FR) == (FR_TXFE | FR_RXFF));
    CHECK(rd(uart, RIS) == (RXIS | RTIS));
    CHECK_FALSE(uart.receive('b'));
    CHECK(rd(uart, RIS) == (RXIS | RTIS | OEIS));
    CHECK(rd(uart, RSR) == RSR_OE);
    CHECK(rd(uart, DR) == 'a');  // the byte held; 'b' is lost
    CHECK(rd(uart, RIS) == OEIS);
    CHECK(rd(uart, FR) == (FR_TXFE | FR_RXFE));
    CHECK(uart.irq_level());  // the overrun
    wr(uart, ICR, OEIS);
    CHECK_FALSE(uart.irq_level());
    CHECK(uart.receive('c'));
    CHECK(rd(uart, DR) == (DR_OE | 'c'));  // the byte after the loss carries OE
    CHECK(rd(uart, RSR) == RSR_OE);        // until ECR is written
    wr(uart, ECR, 0);
    CHECK(rd(uart, RSR) == 0);
}

TEST_CASE_FIXTURE(Fresh, "overrun in FIFO mode: the 33rd byte is lost, the FIFO keeps its 32") {
    Uart uart;
    wr(uart, LCRH, LCRH_FEN);
    for (int i = 0; i < 32; ++i) CHECK(uart.receive(static_cast<char>(0x40 + i)));
    CHECK_FALSE(uart.irq_level());  // nothing unmasked
    CHECK_FALSE(uart.receive('!'));
    CHECK_FALSE(uart.receive('?'));
    CHECK((rd(uart, RIS) & OEIS) != 0);
    CHECK(rd(uart, RSR) == RSR_OE);
    wr(uart, IMSC, OEIM);
    CHECK(uart.irq_level());
    CHECK(rd(uart, DR) == 0x40);  // no OE on the bytes the FIFO already held
    CHECK(uart.receive('n'));     // room again: this one carries the overrun
    for (int i = 1; i < 32; ++i) CHECK(rd(uart, DR) == static_cast<std::uint32_t>(0x40 + i));
    CHECK(rd(uart, DR) == (DR_OE | 'n'));
    CHECK((rd(uart, FR) & FR_RXFE) != 0);
    CHECK(rd(uart, DR) == 0);  // an empty FIFO reads 0
    CHECK(uart.receive('m'));
    CHECK(rd(uart, DR) == 'm');  // the overrun was reported once
    wr(uart, ICR, 0x7FF);
    CHECK_FALSE(uart.irq_level());
    CHECK(rd(uart, RIS) == 0);
}

TEST_CASE_FIXTURE(Fresh, "a byte read of DR returns the data without the error bits") {
    Uart uart;
    CHECK(uart.receive('a'));
    CHECK_FALSE(uart.receive('b'));
    CHECK(rd(uart, DR) == 'a');
    CHECK(uart.receive('c'));
    CHECK(rd(uart, DR, AccessWidth::Byte) == 'c');
}

TEST_CASE_FIXTURE(Fresh, "turning the FIFOs on or off empties the receive FIFO and drops RX and RT") {
    Uart uart;
    wr(uart, IMSC, RXIM | RTIM);
    CHECK(uart.receive('a'));
    CHECK(uart.irq_level());
    wr(uart, LCRH, LCRH_WLEN_8);  // FEN unchanged: kept
    CHECK(uart.rx_count() == 1);
    wr(uart, LCRH, LCRH_FEN | LCRH_WLEN_8);
    CHECK(uart.rx_count() == 0);
    CHECK((rd(uart, FR) & FR_RXFE) != 0);
    CHECK_FALSE(uart.irq_level());
    for (int i = 0; i < 20; ++i) CHECK(uart.receive('b'));
    CHECK(uart.irq_level());
    wr(uart, LCRH, LCRH_WLEN_8);
    CHECK(uart.rx_count() == 0);
    CHECK_FALSE(uart.irq_level());
    CHECK(rd(uart, RIS) == 0);
}

TEST_CASE_FIXTURE(Fresh, "MIS is RIS & IMSC and the line is MIS != 0, for every mask") {
    Uart uart;
    wr(uart, LCRH, LCRH_FEN);
    wr(uart, IFLS, 0);
    send(uart, "t");                                       // TX
    for (int i = 0; i < 32; ++i) (void)uart.receive('r');  // RX, RT
    (void)uart.receive('o');                               // OE
    const std::uint32_t ris = rd(uart, RIS);
    CHECK(ris == (TXIS | RXIS | RTIS | OEIS));
    for (std::uint32_t mask = 0; mask <= 0x7FF; ++mask) {
        wr(uart, IMSC, mask);
        CHECK(rd(uart, MIS) == (ris & mask));
        CHECK(uart.irq_level() == ((ris & mask) != 0));
    }
}

namespace {
// An interrupt controller with one line per source, for the table.
struct Controller {
    std::uint32_t levels = 0, lines = 0;
    int changes = 0;
    std::optional<std::uint64_t> read(std::uint64_t, AccessWidth) { return levels; }
    bool write(std::uint64_t, AccessWidth, std::uint64_t) { return false; }
    void set_level(usize source, bool high) {
        levels = high ? levels | (1u << source) : levels & ~(1u << source);
    }
    template <class Notify>
    void update_lines(Notify&& notify) {
        if (levels == lines) return;
        for (usize source = 0; source < 32; ++source) {
            if (((levels ^ lines) >> source & 1) != 0) notify(source, (levels >> source & 1) != 0);
        }
        lines = levels;
        ++changes;
    }
};
static_assert(vmm::InterruptController<Controller>);
}  // namespace

TEST_CASE_FIXTURE(Fresh, "in a DeviceTable: claimed range, not traced, its line routed to the controller") {
    vmm::DeviceTable<2, Controller, Uart> table;
    const GuestPhysAddr base(0x0900'0000);
    REQUIRE(table.add<Controller>(GuestPhysAddr(0x0800'0000), 0x1000));
    REQUIRE(table.add<Uart>(base, Uart::size));
    REQUIRE(table.route_irq(base, 1));
    CHECK_FALSE(table.traced(GuestPhysAddr(0x0900'0018)));
    Controller* controller = table.find_model<Controller>(GuestPhysAddr(0x0800'0000));
    REQUIRE(controller != nullptr);
    std::vector<std::pair<usize, bool>> seen;
    auto on_line = [&](usize output, bool high) { seen.emplace_back(output, high); };

    CHECK(table.write(base, AccessWidth::Word, 'o', on_line));
    CHECK(table.write(base, AccessWidth::Word, 'k', on_line));
    CHECK(seen.empty());  // TX raised, masked
    CHECK(table.write(GuestPhysAddr(0x0900'0038), AccessWidth::Word, RXIM | RTIM, on_line));
    CHECK(seen.empty());
    // Host input: the line rises with the byte, and falls when it is read.
    CHECK(table.with_model<Uart>(base, [](Uart& uart) { CHECK(uart.receive('i')); }, on_line));
    CHECK(seen == std::vector<std::pair<usize, bool>>{{1, true}});
    CHECK(table.read(GuestPhysAddr(0x0900'0040), AccessWidth::Word, on_line) == (RXIS | RTIS));  // FEN = 0
    CHECK(table.read(base, AccessWidth::Word, on_line) == 'i');
    CHECK(seen == std::vector<std::pair<usize, bool>>{{1, true}, {1, false}});
    CHECK_FALSE(table.read(GuestPhysAddr(0x0900'1000), AccessWidth::Word).has_value());  // not claimed
    table.flush();
    CHECK(Lines::printed == std::vector<std::string>{"ok"});
    CHECK(controller->changes == 2);
}

// The sequences below are Linux's (drivers/tty/serial/amba-pl011.c, 6.1),
// register for register, with 16-bit accesses (vendor_arm: UPIO_MEM).
namespace {

// Linux's view of one port: its IMSC shadow (uap->im) and the tty's
// transmit buffer.
struct LinuxPort {
    explicit LinuxPort(Uart& u) : uart(u) {}
    Uart& uart;
    std::uint32_t im = 0;
    std::string xmit;             // bytes the tty layer has queued
    std::string received;         // bytes pl011_fifo_to_tty passed on
    unsigned overruns = 0;
    static constexpr unsigned fifosize = 32;  // amba_rev 3

    void hwinit() {
        wr(uart, ICR, OEIS | BEIS | PEIS | FEIS | RTIS | RXIS);
        im = rd(uart, IMSC);
        wr(uart, IMSC, RTIM | RXIM);
    }
    void allocate_irq() { wr(uart, IMSC, im); }
    void enable_interrupts() {
        wr(uart, ICR, RTIS | RXIS);
        for (unsigned i = 0; i < fifosize * 2; ++i) {
            if ((rd(uart, FR) & FR_RXFE) != 0) break;
            (void)rd(uart, DR);
        }
        im = RTIM | RXIM;
        wr(uart, IMSC, im);
    }
    void startup() {
        hwinit();
        allocate_irq();
        wr(uart, IFLS, IFLS_RX4_8 | IFLS_TX4_8);
        std::uint32_t cr = rd(uart, CR);
        cr &= CR_RTS | CR_DTR;
        cr |= CR_UARTEN | CR_RXE | CR_TXE;
        wr(uart, CR, cr);
        (void)(rd(uart, FR) & FR_MODEM_ANY);  // old_status
        enable_interrupts();
    }
    // 8n1 at a 24 MHz uartclk; uap->fifosize > 1: FEN.
    void set_termios(std::uint32_t baud) {
        std::uint32_t old_cr = rd(uart, CR);
        old_cr &= ~0xC000u;  // no CRTSCTS: CTSEN, RTSEN off
        const std::uint32_t quot = (24'000'000u * 4 + baud / 2) / baud;
        wr(uart, FBRD, quot & 0x3F);
        wr(uart, IBRD, quot >> 6);
        wr(uart, LCRH, LCRH_WLEN_8 | LCRH_FEN);
        wr(uart, CR, old_cr);
    }
    void stop_tx() {
        im &= ~TXIM;
        wr(uart, IMSC, im);
    }
    bool tx_char(char c, bool from_irq) {
        if (!from_irq && (rd(uart, FR) & FR_TXFF) != 0) return false;
        wr(uart, DR, static_cast<std::uint8_t>(c));
        return true;
    }
    // Returns whether TX interrupts stay enabled.
    bool tx_chars(bool from_irq) {
        int count = fifosize >> 1;
        if (xmit.empty()) {
            stop_tx();
            return false;
        }
        do {
            if (from_irq && count-- == 0) break;
            if (!tx_char(xmit.front(), from_irq)) break;
            xmit.erase(0, 1);
        } while (!xmit.empty());
        if (xmit.empty()) {
            stop_tx();
            return false;
        }
        return true;
    }
    void start_tx() {
        if (tx_chars(false)) {
            im |= TXIM;
            wr(uart, IMSC, im);
        }
    }
    void rx_chars() {
        for (unsigned taken = 0; taken != 256; ++taken) {
            if ((rd(uart, FR) & FR_RXFE) != 0) break;
            const std::uint32_t ch = rd(uart, DR);
            if ((ch & DR_OE) != 0) ++overruns;
            received.push_back(static_cast<char>(ch & 0xFF));
        }
    }
    // pl011_int; returns how many passes it made (0: IRQ_NONE).
    int interrupt() {
        int passes = 0;
        std::uint32_t status = rd(uart, RIS) & im;
        while (status != 0 && passes < 256) {
            ++passes;
            wr(uart, ICR, status & ~(TXIS | RTIS | RXIS));
            if ((status & (RTIS | RXIS)) != 0) rx_chars();
            if ((status & TXIS) != 0) (void)tx_chars(true);
            status = rd(uart, RIS) & im;
        }
        return passes;
    }
    // pl011_console_write through uart_console_write ('\n' as "\r\n").
    void console_write(std::string_view text) {
        const std::uint32_t old_cr = rd(uart, CR);
        std::uint32_t new_cr = old_cr & ~CR_CTSEN;
        new_cr |= CR_UARTEN | CR_TXE;
        wr(uart, CR, new_cr);
        auto putchar = [&](char c) {
            while ((rd(uart, FR) & FR_TXFF) != 0) {}
            wr(uart, DR, static_cast<std::uint8_t>(c));
        };
        for (char c : text) {
            if (c == '\n') putchar('\r');
            putchar(c);
        }
        int polls = 0;
        while ((rd(uart, FR) & FR_BUSY) != 0 && polls < 1000) ++polls;
        CHECK(polls == 0);
        wr(uart, CR, old_cr);
    }
    void shutdown() {
        im = 0;  // pl011_disable_interrupts
        wr(uart, IMSC, im);
        wr(uart, ICR, 0xFFFF);
        std::uint32_t cr = rd(uart, CR);  // pl011_disable_uart
        cr &= CR_RTS | CR_DTR;
        cr |= CR_UARTEN | CR_TXE;
        wr(uart, CR, cr);
        wr(uart, LCRH, rd(uart, LCRH) & ~(0x01u | LCRH_FEN));  // no BRK, no FIFOs
    }
};

}  // namespace

TEST_CASE_FIXTURE(Fresh, "Linux probe, console, startup, tty output, input, interrupt-driven TX, shutdown") {
    Uart uart;
    LinuxPort port(uart);
    // pl011_register_port: masked and cleared.
    wr(uart, IMSC, 0);
    wr(uart, ICR, 0xFFFF);
    CHECK_FALSE(uart.irq_level());
    // pl011_console_setup without options: UARTEN is clear at reset, so the
    // defaults (38400 8n1) go to set_termios, not a division by IBRD = 0.
    CHECK((rd(uart, CR) & CR_UARTEN) == 0);
    port.set_termios(38400);
    port.console_write("[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x000f0510]\n");
    CHECK(Lines::printed == std::vector<std::string>{
                                "[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x000f0510]"});
    CHECK_FALSE(uart.irq_level());  // TX raised, masked

    // A byte typed before anyone opened the port waits in the FIFO.
    CHECK(uart.receive('z'));
    CHECK_FALSE(uart.irq_level());

    // The tty is opened: pl011_startup.
    port.hwinit();
    CHECK_FALSE(uart.irq_level());  // its ICR cleared the waiting byte's timeout
    port.allocate_irq();
    CHECK_FALSE(uart.irq_level());
    wr(uart, IFLS, IFLS_RX4_8 | IFLS_TX4_8);
    std::uint32_t cr = rd(uart, CR);
    cr &= CR_RTS | CR_DTR;
    cr |= CR_UARTEN | CR_RXE | CR_TXE;
    wr(uart, CR, cr);
    port.enable_interrupts();  // drains the 'z'
    CHECK(uart.rx_count() == 0);
    CHECK(rd(uart, IMSC) == (RTIM | RXIM));
    CHECK_FALSE(uart.irq_level());
    port.set_termios(115200);
    CHECK_FALSE(uart.irq_level());

    // A tty write: start_tx sends everything at once (TXFF never set) and
    // masks TXIM; no interrupt follows.
    port.xmit = "root@axvcpu:~# ";
    port.start_tx();
    CHECK(port.xmit.empty());
    CHECK((port.im & TXIM) == 0);
    CHECK_FALSE(uart.irq_level());
    CHECK(port.interrupt() == 0);

    // Console output with the port open: CR saved and restored around it.
    port.console_write("hello\n");
    CHECK(Lines::printed.back() == "root@axvcpu:~# hello");
    CHECK(rd(uart, CR) == (CR_UARTEN | CR_TXE | CR_RXE));
    CHECK_FALSE(uart.irq_level());

    // Input: one byte raises RT at once (below the 1/2 level); the handler
    // drains the FIFO and the line drops.
    CHECK(uart.receive('l'));
    CHECK(uart.irq_level());
    CHECK(port.interrupt() == 1);
    CHECK_FALSE(uart.irq_level());
    // A burst past the level: RX and RT, one pass.
    const std::string burst = "ls -l /sys/class/tty/ttyAMA0\n";
    for (char c : burst) CHECK(uart.receive(c));
    CHECK(rd(uart, RIS) == (TXIS | RXIS | RTIS));
    CHECK(port.interrupt() == 1);
    CHECK_FALSE(uart.irq_level());
    CHECK(port.received == "l" + burst);
    // More than the FIFO holds before the handler runs: an overrun, seen
    // by Linux through DR's OE bit on the next byte the FIFO takes.
    for (int i = 0; i < 40; ++i) (void)uart.receive(static_cast<char>('0' + i % 10));
    CHECK(port.interrupt() == 1);
    CHECK(port.overruns == 0);
    CHECK(port.received.size() == 1 + burst.size() + 32);
    CHECK(uart.receive('q'));
    CHECK(port.interrupt() == 1);
    CHECK(port.overruns == 1);
    CHECK(rd(uart, RSR) == RSR_OE);
    wr(uart, ECR, 0);
    CHECK_FALSE(uart.irq_level());

    // Interrupt-driven TX: a driver that unmasks TXIM with bytes queued
    // (Linux does when pl011_tx_chars stops at TXFF: never here) gets the
    // interrupt raised by its earlier DR writes, sends fifosize / 2 = 16
    // bytes per pass, and masks TXIM once nothing is left.
    const std::string long_line = "0123456789abcdefghijklmnopqrstuvwxyzABC\n";
    port.xmit = long_line;
    port.im |= TXIM;
    wr(uart, IMSC, port.im);
    CHECK(uart.irq_level());
    CHECK(port.interrupt() == 3);  // 16 + 16 + 8
    CHECK(port.xmit.empty());
    CHECK((port.im & TXIM) == 0);
    CHECK_FALSE(uart.irq_level());
    CHECK(Lines::printed.back() == "0123456789abcdefghijklmnopqrstuvwxyzABC");
    // RX during TX: both handled in the same passes.
    port.xmit = "abc";
    port.im |= TXIM;
    wr(uart, IMSC, port.im);
    CHECK(uart.receive('w'));
    CHECK(port.interrupt() == 1);
    CHECK(port.received.back() == 'w');
    CHECK_FALSE(uart.irq_level());

    // pl011_shutdown: masked and cleared, FIFOs off.
    CHECK(uart.receive('s'));
    port.shutdown();
    CHECK_FALSE(uart.irq_level());
    CHECK(rd(uart, RIS) == 0);
    CHECK(uart.rx_count() == 0);  // FEN turned off
    CHECK(rd(uart, CR) == (CR_UARTEN | CR_TXE));
    // Reopened: the same startup, the line low until input.
    port.startup();
    port.set_termios(115200);
    CHECK_FALSE(uart.irq_level());
    CHECK(uart.receive('!'));
    CHECK(uart.irq_level());
    CHECK(port.interrupt() == 1);
    CHECK(port.received.back() == '!');
    uart.flush();
    CHECK(Lines::printed.back() == "abc");
}
}  // namespace pl011_test
