// exception_entry against what QEMU 7.2's hart (rv64, M-mode delegating the
// causes to S-mode, so the hardware takes them, not firmware) wrote when an
// S-mode or U-mode program took the same exceptions for real: loads and a
// store to unassigned physical memory (access faults) and an illegal CSR
// read, with stvec in Vectored mode and sstatus.SIE varied. A trap into
// VS-mode writes the VS copies of these CSRs by the same rules.
#include <doctest/doctest.h>

#include "arch/riscv64/exceptions.hpp"

namespace riscv64_exceptions_test {

using namespace axvcpu;
using namespace axvcpu::riscv64;

namespace {

constexpr std::uint64_t uxl64 = std::uint64_t{2} << 32;
constexpr std::uint64_t handler = 0x8000'0040;

struct Recorded {
    const char* what;
    std::uint64_t cause;
    std::uint64_t tval;
    ExceptionSource from;
    std::uint64_t status;  // sstatus in the handler
};

const Recorded recorded[] = {
    {"ld from S-mode, SIE=1", cause::load_access_fault, 0x0380'0008,
     ExceptionSource{0x8000'024A, true, uxl64 | 0x2, handler | 1}, uxl64 | 0x120},
    {"sd from S-mode, SIE=0, SPIE=1", cause::store_access_fault, 0x0380'0018,
     ExceptionSource{0x8000'0278, true, uxl64 | 0x20, handler | 1}, uxl64 | 0x100},
    {"ld from U-mode, SIE=1", cause::load_access_fault, 0x0380'0010,
     ExceptionSource{0x8000'0100, false, uxl64 | 0x22, handler | 1}, uxl64 | 0x20},
    {"csrr mstatus from S-mode", cause::illegal_instruction, 0x3000'23F3,
     ExceptionSource{0x8000'02D6, true, uxl64 | 0x22, handler | 1}, uxl64 | 0x120},
};

}  // namespace

TEST_CASE("exception entry matches what the hart writes") {
    for (const Recorded& r : recorded) {
        CAPTURE(r.what);
        const std::optional<ExceptionEntry> entry = exception_entry(r.cause, r.tval, r.from);
        REQUIRE(entry.has_value());
        CHECK(entry->vsstatus == r.status);
        CHECK(entry->vscause == r.cause);
        CHECK(entry->vstval == r.tval);
        CHECK(entry->vsepc == r.from.pc);
        CHECK(entry->pc == handler);  // BASE, in Vectored mode too
    }
}

TEST_CASE("only causes a guest can make sense of are injectable") {
    for (std::uint64_t c : {cause::instruction_misaligned, cause::instruction_access_fault, cause::illegal_instruction,
                            cause::breakpoint, cause::load_misaligned, cause::load_access_fault,
                            cause::store_misaligned, cause::store_access_fault, cause::ecall_from_u_or_vu,
                            cause::instruction_page_fault, cause::load_page_fault, cause::store_page_fault}) {
        CAPTURE(c);
        CHECK(injectable(c));
    }
    for (std::uint64_t c : {cause::ecall_from_hs, cause::ecall_from_vs, cause::instruction_guest_page_fault,
                            cause::load_guest_page_fault, cause::virtual_instruction, cause::store_guest_page_fault,
                            std::uint64_t{64}, ~std::uint64_t{0}}) {
        CAPTURE(c);
        CHECK_FALSE(injectable(c));
        CHECK_FALSE(exception_entry(c, 0, ExceptionSource{}).has_value());
    }
}
}  // namespace riscv64_exceptions_test
