// libFuzzer harness: the example VMM's device models TestDevice, EchoDevice
// (examples/vmm/test_devices.hpp), Pl011 (examples/vmm/pl011.hpp) and
// Uart16550 (examples/vmm/uart16550.hpp) under random accesses, each against
// a shadow of its documented registers:
// - refused iff the header says so (past the end, misaligned, a write to a
//   read-only register, a read of the write-only sink; Pl011: not a 32-bit
//   aligned register offset, or a 64-bit access; Uart16550: not a byte, or
//   past register 7);
// - a read returns at most the access width's bytes, and the bytes the
//   shadow holds; the UARTs print exactly the lines written to DR / THR
//   (the 16550: with DLAB and loopback off), assembled as ConsoleLine does;
// - Uart16550: irq_level() and interrupt_id() are the header's formula over
//   the shadow after every step, and receive() takes a byte iff the shadow
//   FIFO has room and loopback is off.
// - Pl011: the shadow follows the header's interrupt rules (TX set by DR
//   writes; RX on reaching the IFLS level, cleared below it; RT set by
//   every byte received, cleared when the FIFO empties; OE on a lost byte,
//   marked on the next byte taken; ICR clears), its 32- or 1-entry FIFO,
//   RSR and FR; after every step RIS equals the shadow's, irq_level() is
//   RIS & IMSC != 0, only TX, RX, RT and OE are ever raised, RX and RT
//   only with bytes waiting, and receive() takes a byte iff there is room.
// Input: a sequence of (op, offset (2 bytes), width, value (8 bytes)); op
// bit 0: write, (op >> 1) % 4: the device, bit 7 on either UART: receive
// the value's low byte instead of an access.
#include <array>
#include <cstring>
#include <string>

#include "examples/vmm/pl011.hpp"
#include "examples/vmm/test_devices.hpp"
#include "examples/vmm/uart16550.hpp"
#include "fuzz.hpp"

using namespace axvcpu;

namespace {
// A UART's console: collects the lines it prints (one type per UART).
template <int>
struct Lines {
    static inline std::string printed;
    static void println(std::string_view line) {
        printed.append(line);
        printed.push_back('\n');
    }
};
using Pl011Lines = Lines<0>;
using UartLines = Lines<1>;

// What ConsoleLine prints for one byte written.
void expect_put(std::string& expected, std::string& line, char c) {
    if (c == '\n') {
        expected += line + '\n';
        line.clear();
    } else if (c != '\r') {
        line.push_back(c);
        if (line.size() == 160) {
            expected += line + '\n';
            line.clear();
        }
    }
}

// The 16550 as its header documents it, written from the datasheet's rules.
struct Shadow16550 {
    std::uint8_t ier = 0, lcr = 0, mcr = 0, scr = 0, dll = 1, dlm = 0, deltas = 0;
    bool fifos = false, oe = false, thre = false;
    std::string rx;  // oldest first
    std::string expected, line;

    [[nodiscard]] std::uint8_t inputs() const {
        if ((mcr & 0x10) == 0) return 0xB0;  // CTS, DSR, DCD
        return static_cast<std::uint8_t>(((mcr & 0x02) ? 0x10 : 0) | ((mcr & 0x01) ? 0x20 : 0) |
                                         ((mcr & 0x04) ? 0x40 : 0) | ((mcr & 0x08) ? 0x80 : 0));
    }
    [[nodiscard]] std::uint8_t id() const {
        if ((ier & 4) && oe) return 0x06;
        if ((ier & 1) && !rx.empty()) return 0x04;
        if ((ier & 2) && thre) return 0x02;
        if ((ier & 8) && deltas != 0) return 0x00;
        return 0x01;
    }
    bool push(std::uint8_t b) {
        if (rx.size() == 16) {
            oe = true;
            return false;
        }
        rx.push_back(static_cast<char>(b));
        return true;
    }
    std::uint8_t read(std::uint64_t o) {
        const bool dlab = (lcr & 0x80) != 0;
        switch (o) {
            case 0: {
                if (dlab) return dll;
                if (rx.empty()) return 0;
                const auto b = static_cast<std::uint8_t>(rx.front());
                rx.erase(0, 1);
                return b;
            }
            case 1: return dlab ? dlm : ier;
            case 2: {
                const std::uint8_t v = id();
                if (v == 0x02) thre = false;
                return static_cast<std::uint8_t>(v | (fifos ? 0xC0 : 0));
            }
            case 3: return lcr;
            case 4: return mcr;
            case 5: {
                const auto v = static_cast<std::uint8_t>((rx.empty() ? 0 : 1) | (oe ? 2 : 0) | 0x60);
                oe = false;
                return v;
            }
            case 6: {
                const auto v = static_cast<std::uint8_t>(inputs() | deltas);
                deltas = 0;
                return v;
            }
            default: return scr;
        }
    }
    void write(std::uint64_t o, std::uint8_t v) {
        const bool dlab = (lcr & 0x80) != 0;
        switch (o) {
            case 0:
                if (dlab) {
                    dll = v;
                    break;
                }
                if (mcr & 0x10) {
                    (void)push(v);
                } else {
                    expect_put(expected, line, static_cast<char>(v));
                }
                thre = true;
                break;
            case 1:
                if (dlab) {
                    dlm = v;
                    break;
                }
                if ((v & 2) && !(ier & 2)) thre = true;
                ier = v & 0x0F;
                break;
            case 2:
                if ((v & 2) || ((v & 1) != 0) != fifos) rx.clear();
                fifos = (v & 1) != 0;
                break;
            case 3: lcr = v; break;
            case 4: {
                const std::uint8_t before = inputs();
                mcr = v & 0x1F;
                const std::uint8_t after = inputs();
                if ((before ^ after) & 0x10) deltas |= 0x01;
                if ((before ^ after) & 0x20) deltas |= 0x02;
                if ((before & 0x40) && !(after & 0x40)) deltas |= 0x04;
                if ((before ^ after) & 0x80) deltas |= 0x08;
                break;
            }
            case 7: scr = v; break;
            default: break;  // LSR, MSR
        }
    }
};

// The PL011 as its header documents it, written from the TRM's rules.
struct ShadowPl011 {
    std::uint32_t ibrd = 0, fbrd = 0, lcr_h = 0, cr = 0x300, ifls = 0x12, imsc = 0, dmacr = 0, ris = 0, rsr = 0;
    bool lost = false;       // bytes lost since the FIFO last took one
    std::u16string rx;       // oldest first: data | error bits
    std::string expected, line;

    [[nodiscard]] std::size_t depth() const { return (lcr_h & 0x10) != 0 ? 32 : 1; }
    [[nodiscard]] std::size_t level() const {
        if ((lcr_h & 0x10) == 0) return 1;
        switch ((ifls >> 3) & 7) {
            case 0: return 4;   // 1/8
            case 1: return 8;   // 1/4
            case 3: return 24;  // 3/4
            case 4: return 28;  // 7/8
            default: return 16; // 1/2, and the reserved 5..7
        }
    }
    bool receive(std::uint8_t b) {
        ris |= 0x40;  // RT
        if (rx.size() == depth()) {
            ris |= 0x400;  // OE
            rsr |= 0x8;
            lost = true;
            return false;
        }
        rx.push_back(static_cast<char16_t>(b | (lost ? 0x800 : 0)));
        lost = false;
        if (rx.size() == level()) ris |= 0x10;  // RX
        return true;
    }
    std::uint32_t read(std::uint64_t o) {
        switch (o) {
            case 0x00: {
                if (rx.empty()) return 0;
                const std::uint32_t v = rx.front();
                rx.erase(0, 1);
                if (rx.size() < level()) ris &= ~0x10u;
                if (rx.empty()) ris &= ~0x40u;
                return v;
            }
            case 0x04: return rsr;
            case 0x18: return 0x80u | (rx.empty() ? 0x10u : 0u) | (rx.size() == depth() ? 0x40u : 0u);
            case 0x24: return ibrd;
            case 0x28: return fbrd;
            case 0x2C: return lcr_h;
            case 0x30: return cr;
            case 0x34: return ifls;
            case 0x38: return imsc;
            case 0x3C: return ris;
            case 0x40: return ris & imsc;
            case 0x48: return dmacr;
            default: break;
        }
        if (o >= 0xFE0) {
            constexpr std::array<std::uint32_t, 8> ids{0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1};
            return ids[(o - 0xFE0) / 4];
        }
        return 0;
    }
    void write(std::uint64_t o, std::uint32_t v) {
        switch (o) {
            case 0x00:
                expect_put(expected, line, static_cast<char>(v & 0xFF));
                ris |= 0x20;  // TX
                break;
            case 0x04: rsr = 0; break;
            case 0x24: ibrd = v; break;
            case 0x28: fbrd = v; break;
            case 0x2C:
                if (((lcr_h ^ v) & 0x10) != 0) {
                    rx.clear();
                    lost = false;
                    ris &= ~0x50u;
                }
                lcr_h = v;
                break;
            case 0x30: cr = v; break;
            case 0x34: ifls = v; break;
            case 0x38: imsc = v & 0x7FF; break;
            case 0x44: ris &= ~(v & 0x7FF); break;
            case 0x48: dmacr = v; break;
            default: break;
        }
    }
};

bool fits(std::uint64_t value, AccessWidth w) {
    return (value & ~fuzz::width_mask(w)) == 0;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    vmm::TestDevice test;
    vmm::EchoDevice echo;
    vmm::Pl011<Pl011Lines> uart;
    Pl011Lines::printed.clear();
    ShadowPl011 pl011;
    vmm::Uart16550<UartLines> uart16550;
    UartLines::printed.clear();
    Shadow16550 shadow;

    std::uint64_t scratch = 0;
    usize sinks = 0;
    std::array<std::uint8_t, 16> echo_bytes{};
    for (unsigned i = 8; i < 16; ++i) echo_bytes[i] = static_cast<std::uint8_t>(0x11 * (i - 7));

    for (unsigned steps = 0; !in.empty() && steps < 256; ++steps) {
        const std::uint8_t op = in.u8();
        const std::uint64_t offset = in.u16() % 0x1100;
        const auto width = static_cast<AccessWidth>(in.u8() % 4);
        const std::uint64_t value = in.u64();
        const std::uint64_t n = size_in_bytes(width);
        const bool aligned = offset % n == 0;
        const bool write = (op & 1) != 0;
        switch ((op >> 1) % 4) {
            case 0: {  // TestDevice: 0x00 scratch RW, 0x08 magic RO, 0x10 negative RO, 0x18 sink WO
                const std::uint64_t o = offset % 0x28;
                const std::uint64_t reg = o & ~std::uint64_t{7};
                const bool ok_base = o < vmm::TestDevice::size && o % n == 0;
                if (write) {
                    const bool ok = ok_base && (reg == vmm::TestDevice::scratch || reg == vmm::TestDevice::sink);
                    FUZZ_CHECK(test.write(o, width, value) == ok);
                    if (ok && reg == vmm::TestDevice::scratch) {
                        const std::uint64_t mask = fuzz::width_mask(static_cast<unsigned>(n)) << (8 * (o & 7));
                        scratch = (scratch & ~mask) | ((value << (8 * (o & 7))) & mask);
                    }
                    if (ok && reg == vmm::TestDevice::sink) {
                        if (sinks < vmm::TestDevice::sink_log_size) {
                            FUZZ_CHECK(test.sink_log()[sinks].value == value && test.sink_log()[sinks].width == width);
                        }
                        ++sinks;
                    }
                    FUZZ_CHECK(test.sink_writes() == sinks);
                } else {
                    const bool ok = ok_base && reg != vmm::TestDevice::sink;
                    const auto got = test.read(o, width);
                    FUZZ_CHECK(got.has_value() == ok);
                    if (got) {
                        FUZZ_CHECK(fits(*got, width));
                        const std::uint64_t whole = reg == vmm::TestDevice::scratch ? scratch
                                                    : reg == vmm::TestDevice::magic ? vmm::TestDevice::magic_value
                                                                                    : vmm::TestDevice::negative_value;
                        FUZZ_CHECK(*got == ((whole >> (8 * (o & 7))) & fuzz::width_mask(static_cast<unsigned>(n))));
                    }
                }
                break;
            }
            case 1: {  // EchoDevice: bytes 0..7 RW, 8..15 RO
                const std::uint64_t o = offset % 20;
                if (write) {
                    const bool ok = o < 8 && o % n == 0;
                    FUZZ_CHECK(echo.write(o, width, value) == ok);
                    if (ok)
                        for (std::uint64_t i = 0; i < n; ++i) echo_bytes[o + i] = static_cast<std::uint8_t>(value >> (8 * i));
                } else {
                    const bool ok = o < 16 && o % n == 0;
                    const auto got = echo.read(o, width);
                    FUZZ_CHECK(got.has_value() == ok);
                    if (got) {
                        FUZZ_CHECK(fits(*got, width));
                        std::uint64_t want = 0;
                        for (std::uint64_t i = 0; i < n; ++i) want |= std::uint64_t{echo_bytes[o + i]} << (8 * i);
                        FUZZ_CHECK(*got == want);
                    }
                }
                FUZZ_CHECK(std::memcmp(echo.bytes().data(), echo_bytes.data(), 16) == 0);
                break;
            }
            case 2: {  // Pl011
                const bool ok = offset < vmm::Pl011<Pl011Lines>::size && offset % 4 == 0 && width != AccessWidth::Qword;
                (void)aligned;
                if ((op & 0x80) != 0) {
                    const auto b = static_cast<std::uint8_t>(value & 0xFF);
                    const bool taken = pl011.receive(b);
                    FUZZ_CHECK(uart.receive(static_cast<char>(b)) == taken);
                } else if (write) {
                    FUZZ_CHECK(uart.write(offset, width, value) == ok);
                    if (ok) pl011.write(offset, static_cast<std::uint32_t>(value));
                } else {
                    const auto got = uart.read(offset, width);
                    FUZZ_CHECK(got.has_value() == ok);
                    if (got) {
                        FUZZ_CHECK(*got <= 0xFFFF'FFFF);
                        FUZZ_CHECK(fits(*got, width));
                        // A narrow read is the register's first bytes (a DR
                        // read takes the byte whatever the width).
                        FUZZ_CHECK(*got == (pl011.read(offset) & fuzz::width_mask(static_cast<unsigned>(n))));
                    }
                }
                const auto ris = uart.read(vmm::Pl011<Pl011Lines>::ris, AccessWidth::Dword);
                FUZZ_CHECK(ris.has_value() && *ris == pl011.ris);
                FUZZ_CHECK((pl011.ris & ~0x470u) == 0);  // only RX, TX, RT and OE are ever raised
                FUZZ_CHECK((pl011.ris & 0x50u) == 0 || !pl011.rx.empty());
                FUZZ_CHECK(pl011.rx.size() <= pl011.depth());
                FUZZ_CHECK(uart.rx_count() == pl011.rx.size());
                FUZZ_CHECK(uart.irq_level() == ((pl011.ris & pl011.imsc) != 0));
                FUZZ_CHECK(Pl011Lines::printed == pl011.expected);
                break;
            }
            default: {  // Uart16550
                const std::uint64_t o = offset % 0x110;  // past the claimed 0x100 too
                const bool ok = o < 8 && width == AccessWidth::Byte;
                if ((op & 0x80) != 0) {
                    const auto b = static_cast<std::uint8_t>(value & 0xFF);
                    const bool taken = (shadow.mcr & 0x10) == 0 && shadow.push(b);
                    FUZZ_CHECK(uart16550.receive(static_cast<char>(b)) == taken);
                } else if (write) {
                    FUZZ_CHECK(uart16550.write(o, width, value) == ok);
                    if (ok) shadow.write(o, static_cast<std::uint8_t>(value & 0xFF));
                } else {
                    const auto got = uart16550.read(o, width);
                    FUZZ_CHECK(got.has_value() == ok);
                    if (got) FUZZ_CHECK(*got == shadow.read(o));
                }
                FUZZ_CHECK(uart16550.interrupt_id() == shadow.id());
                FUZZ_CHECK(uart16550.irq_level() == (shadow.id() != 0x01));
                FUZZ_CHECK(UartLines::printed == shadow.expected);
                break;
            }
        }
    }
    uart.flush();
    if (!pl011.line.empty()) pl011.expected += pl011.line + '\n';
    FUZZ_CHECK(Pl011Lines::printed == pl011.expected);
    uart16550.flush();
    if (!shadow.line.empty()) shadow.expected += shadow.line + '\n';
    FUZZ_CHECK(UartLines::printed == shadow.expected);
    return 0;
}
