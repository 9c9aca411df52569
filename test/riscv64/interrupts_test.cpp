// Host tests of the injection rules: which vectors have an hvip bit, and
// IrqQueue's capacity rule applied to a set of pending hvip bits.
#include <doctest/doctest.h>

#include "arch/riscv64/interrupts.hpp"

namespace riscv64_interrupts_test {

using namespace axvcpu;
using namespace axvcpu::riscv64;
using namespace axvcpu::riscv64::csr::hvip_bits;

TEST_CASE("each supervisor vector has its own hvip bit, nothing else has one") {
    CHECK(hvip_bit(irq::supervisor_software) == vssip);
    CHECK(hvip_bit(irq::supervisor_timer) == vstip);
    CHECK(hvip_bit(irq::supervisor_external) == vseip);
    for (usize vector : {usize{0}, usize{2}, usize{3}, usize{6}, usize{10}, usize{15}, usize{16}, usize{63},
                         usize{64}, usize{65}, ~usize{0}})
        CHECK(hvip_bit(vector) == 0);
}

TEST_CASE("a pending vector is accepted again, a new one only below capacity") {
    CHECK(interrupt_fits(0, vssip, 1));
    CHECK(interrupt_fits(vssip, vssip, 1));
    CHECK_FALSE(interrupt_fits(vssip, vstip, 1));
    CHECK(interrupt_fits(vssip, vstip, 2));
    CHECK_FALSE(interrupt_fits(vssip | vstip, vseip, 2));
    CHECK(interrupt_fits(vssip | vstip, vstip, 2));
    CHECK(interrupt_fits(vssip | vstip, vseip, 3));
    // Bits that are not virtual interrupts do not count.
    CHECK(interrupt_fits(std::uint64_t{1} << 40, vssip, 1));
}
}  // namespace riscv64_interrupts_test
