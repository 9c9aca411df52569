// libFuzzer harness: the example VMM's device models TestDevice, EchoDevice
// (examples/vmm/test_devices.hpp) and Pl011 (examples/vmm/pl011.hpp) under
// random accesses, each against a shadow of its documented registers:
// - refused iff the header says so (past the end, misaligned, a write to a
//   read-only register, a read of the write-only sink; Pl011: not a 32-bit
//   aligned register offset, or a 64-bit access);
// - a read returns at most the access width's bytes, and the bytes the
//   shadow holds; the Pl011 prints exactly the lines written to DR.
// Input: a sequence of (op, offset (2 bytes), width, value (8 bytes)).
#include <array>
#include <cstring>
#include <string>

#include "examples/vmm/pl011.hpp"
#include "examples/vmm/test_devices.hpp"
#include "fuzz.hpp"

using namespace axvcpu;

namespace {
// The Pl011's console: collects the lines it prints.
struct Lines {
    static inline std::string printed;
    static void println(std::string_view line) {
        printed.append(line);
        printed.push_back('\n');
    }
};


bool fits(std::uint64_t value, AccessWidth w) {
    return (value & ~fuzz::width_mask(static_cast<unsigned>(size_in_bytes(w)))) == 0;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    vmm::TestDevice test;
    vmm::EchoDevice echo;
    vmm::Pl011<Lines> uart;
    Lines::printed.clear();
    std::string expected_out, line;

    std::uint64_t scratch = 0;
    usize sinks = 0;
    std::array<std::uint8_t, 16> echo_bytes{};
    for (unsigned i = 8; i < 16; ++i) echo_bytes[i] = static_cast<std::uint8_t>(0x11 * (i - 7));
    std::array<std::uint32_t, 0x1000 / 4> uart_regs{};

    for (unsigned steps = 0; !in.empty() && steps < 256; ++steps) {
        const std::uint8_t op = in.u8();
        const std::uint64_t offset = in.u16() % 0x1100;
        const auto width = static_cast<AccessWidth>(in.u8() % 4);
        const std::uint64_t value = in.u64();
        const std::uint64_t n = size_in_bytes(width);
        const bool aligned = offset % n == 0;
        const bool write = (op & 1) != 0;
        switch ((op >> 1) % 3) {
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
            default: {  // Pl011
                const bool ok = offset < vmm::Pl011<Lines>::size && offset % 4 == 0 && width != AccessWidth::Qword;
                (void)aligned;
                if (write) {
                    FUZZ_CHECK(uart.write(offset, width, value) == ok);
                    if (ok && offset == vmm::Pl011<Lines>::dr) {
                        const char c = static_cast<char>(value & 0xFF);
                        if (c == '\n') {
                            expected_out += line + '\n';
                            line.clear();
                        } else if (c != '\r') {
                            line.push_back(c);
                            if (line.size() == 160) {
                                expected_out += line + '\n';
                                line.clear();
                            }
                        }
                    } else if (ok && offset >= 0x24 && offset <= 0x48 && offset != 0x3C && offset != 0x40) {
                        uart_regs[offset / 4] = static_cast<std::uint32_t>(value);
                    }
                } else {
                    const auto got = uart.read(offset, width);
                    FUZZ_CHECK(got.has_value() == ok);
                    if (got) {
                        FUZZ_CHECK(*got <= 0xFFFF'FFFF);
                        FUZZ_CHECK(fits(*got, width));
                        std::uint64_t want = 0;
                        if (offset == 0x18) want = 0x90;  // FR: TXFE | RXFE
                        else if (offset >= 0xFE0) {
                            constexpr std::array<std::uint32_t, 8> ids{0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1};
                            want = ids[(offset - 0xFE0) / 4];
                        } else if (offset >= 0x24 && offset <= 0x48 && offset != 0x3C && offset != 0x40 && offset != 0x44) {
                            want = uart_regs[offset / 4];
                        }
                        // A narrow read is the register's first bytes.
                        FUZZ_CHECK((*got & fuzz::width_mask(static_cast<unsigned>(n))) ==
                                   (want & fuzz::width_mask(static_cast<unsigned>(n))));
                        FUZZ_CHECK(*got == (want & fuzz::width_mask(static_cast<unsigned>(n))));
                    }
                }
                FUZZ_CHECK(Lines::printed == expected_out);
                break;
            }
        }
    }
    uart.flush();
    if (!line.empty()) expected_out += line + '\n';
    FUZZ_CHECK(Lines::printed == expected_out);
    return 0;
}
