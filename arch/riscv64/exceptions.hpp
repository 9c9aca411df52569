// Making the guest take an exception at its own trap vector, as if the
// hardware had delegated it there: what a trap into VS-mode writes (RISC-V
// Privileged Architecture: the trap entry of sstatus.SPP/SPIE/SIE, sepc,
// scause and stval, and stvec, whose BASE every synchronous exception
// enters, in Direct and Vectored mode alike), computed from the guest's VS
// CSRs. Pure, so the values are tested on the host against what QEMU's hart
// writes for the same exceptions (test/riscv64/exceptions_test.cpp);
// VCpu::inject_exception and the redirected illegal instructions apply it.
#pragma once

#include <cstdint>
#include <optional>

#include "arch/riscv64/exit_decode.hpp"
#include "arch/riscv64/sysregs.hpp"

namespace axvcpu::riscv64 {

// The exceptions a VMM may make its guest take: the ones the guest handles
// itself anyway (hedeleg_guest), and the access faults and misaligned
// accesses with which it refuses an access it will not emulate. Others
// (ecalls, guest page faults) would confuse the guest.
[[nodiscard]] constexpr bool injectable(std::uint64_t cause) noexcept {
    constexpr std::uint64_t allowed = csr::hedeleg_guest | (std::uint64_t{1} << cause::instruction_access_fault) |
                                      (std::uint64_t{1} << cause::load_misaligned) |
                                      (std::uint64_t{1} << cause::load_access_fault) |
                                      (std::uint64_t{1} << cause::store_misaligned) |
                                      (std::uint64_t{1} << cause::store_access_fault);
    return cause < 64 && ((allowed >> cause) & 1) != 0;
}

// The guest when it took the exception, and the VS CSRs that decide where
// it goes.
struct ExceptionSource {
    std::uint64_t pc = 0;  // the instruction that takes it
    bool from_vs = false;  // the guest was in VS-mode (its S-mode), not VU
    std::uint64_t vsstatus = 0;
    std::uint64_t vstvec = 0;
};

// What taking the exception writes.
struct ExceptionEntry {
    std::uint64_t vsstatus = 0;
    std::uint64_t vscause = 0;
    std::uint64_t vstval = 0;
    std::uint64_t vsepc = 0;
    std::uint64_t pc = 0;  // vstvec's BASE
};

// The exception `cause` with `tval` taken by the guest at `from`. No value
// for a cause that is not injectable().
[[nodiscard]] constexpr std::optional<ExceptionEntry> exception_entry(std::uint64_t cause, std::uint64_t tval,
                                                                      const ExceptionSource& from) noexcept {
    using namespace csr::sstatus_bits;
    if (!injectable(cause)) return std::nullopt;
    ExceptionEntry entry{};
    // SPP records the privilege it came from; SPIE takes SIE, and the
    // handler starts with interrupts off.
    std::uint64_t status = from.from_vs ? (from.vsstatus | spp) : (from.vsstatus & ~spp);
    status = (status & sie) != 0 ? (status | spie) : (status & ~spie);
    entry.vsstatus = status & ~sie;
    entry.vscause = cause;
    entry.vstval = tval;
    entry.vsepc = from.pc;
    entry.pc = from.vstvec & ~std::uint64_t{3};
    return entry;
}

}  // namespace axvcpu::riscv64
