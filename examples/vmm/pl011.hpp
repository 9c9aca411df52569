// An emulated Arm PL011 UART for a VM's console (a DeviceModel, see
// devices.hpp). The guest's output is collected into lines and printed
// through the VMM's console one whole line at a time, so the VMM's own
// messages from other CPUs never split a guest's line. Transmission is
// instant: FR always says the FIFO is empty. There is no input yet (the
// receive FIFO reads empty) and no interrupt is ever raised.
//
// Registers from the PL011 TRM (ARM DDI 0183): DR 0x000, FR 0x018, the
// configuration registers 0x024..0x048 keep what is written, and the
// peripheral and PrimeCell IDs at 0xFE0..0xFFC identify a PL011 r1p5, as
// the Linux amba-pl011 driver checks. No lock: the device table serialises
// every call.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <axvcpu/exit_reason.hpp>
#include <axvcpu/types.hpp>

#include "console_line.hpp"
#include "devices.hpp"

namespace vmm {

// Out: a Console (console.hpp).
template <class Out>
class Pl011 {
public:
    static constexpr std::uint64_t size = 0x1000;
    // Its accesses are the guest's console output: they are not traced one
    // by one (the summary still counts them).
    static constexpr bool traced = false;

    static constexpr std::uint64_t dr = 0x000, rsr = 0x004, fr = 0x018, ibrd = 0x024, lcr_h = 0x02C, cr = 0x030,
                                   imsc = 0x038, ris = 0x03C, mis = 0x040, icr = 0x044, dmacr = 0x048,
                                   periph_id0 = 0xFE0;
    static constexpr std::uint32_t fr_txfe = 1u << 7, fr_rxfe = 1u << 4;

    // A byte or halfword read returns the register's first bytes.
    std::optional<std::uint64_t> read(std::uint64_t offset, axvcpu::AccessWidth width) {
        if (!word_access(offset, width)) return std::nullopt;
        return register_bytes(register_value(offset), 0, axvcpu::size_in_bytes(width));
    }

    bool write(std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
        if (!word_access(offset, width)) return false;
        if (offset == dr) {
            line_.put(static_cast<char>(value & 0xFF));
        } else if (offset >= ibrd && offset <= dmacr && offset != ris && offset != mis) {
            config_[(offset - ibrd) / 4] = static_cast<std::uint32_t>(value);
        }
        return true;  // RSR/ECR, ICR and the read-only registers ignore writes
    }

    // Prints what is left of a line (the VM powered off mid-line).
    void flush() {
        line_.flush();
    }

private:
    static constexpr std::array<std::uint32_t, 8> ids{0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1};

    std::uint32_t register_value(std::uint64_t offset) {
        if (offset == fr) return fr_txfe | fr_rxfe;
        if (offset >= periph_id0) return ids[(offset - periph_id0) / 4];
        if (offset >= ibrd && offset <= dmacr && offset != ris && offset != mis && offset != icr) {
            return config_[(offset - ibrd) / 4];
        }
        return 0;  // DR (nothing received), RSR, RIS, MIS: nothing pending
    }

    // 8-, 16- and 32-bit accesses to a register's first bytes, as the bus
    // allows; anything past the ID registers is refused.
    static bool word_access(std::uint64_t offset, axvcpu::AccessWidth width) noexcept {
        return offset < size && offset % 4 == 0 && width != axvcpu::AccessWidth::Qword;
    }

    ConsoleLine<Out> line_;
    std::array<std::uint32_t, 10> config_{};  // IBRD .. DMACR
};

}  // namespace vmm
