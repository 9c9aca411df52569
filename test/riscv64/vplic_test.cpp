// Host tests of the virtual PLIC (arch/riscv64/vplic.hpp) against the
// register layout of the RISC-V PLIC specification v1.0.0 and the sequence
// Linux's sifive,plic-1.0.0 driver performs.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "arch/riscv64/vplic.hpp"
#include "examples/vmm/devices.hpp"

namespace riscv64_vplic_test {

using namespace axvcpu;
using namespace axvcpu::riscv64;

namespace {
// 95 sources, 2 vCPUs numbered as QEMU virt numbers its harts' contexts.
using Plic = VPlic<95, plic::contexts_for(2)>;
constexpr usize ctx0 = plic::supervisor_context(0);  // vCPU 0's S-mode context, 1
constexpr usize ctx1 = plic::supervisor_context(1);  // vCPU 1's, 3

std::optional<std::uint64_t> rd(Plic& p, std::uint64_t offset) { return p.read(offset, AccessWidth::Dword); }
bool wr(Plic& p, std::uint64_t offset, std::uint64_t value) { return p.write(offset, AccessWidth::Dword, value); }

// Every update_lines notification, in order.
using Changes = std::vector<std::pair<usize, bool>>;
Changes changes(Plic& p) {
    Changes seen;
    const usize count = p.update_lines([&](usize context, bool asserted) { seen.emplace_back(context, asserted); });
    CHECK(count == seen.size());
    return seen;
}

// What Linux's plic_toggle does: a read-modify-write of one enable word.
void toggle(Plic& p, usize context, usize source, bool on) {
    const std::uint64_t at = plic::enable_offset(context, source);
    const std::uint64_t word = rd(p, at).value();
    const std::uint64_t bit = std::uint64_t{1} << (source % 32);
    CHECK(wr(p, at, on ? (word | bit) : (word & ~bit)));
}
}  // namespace

// The example VMM's device table takes it as it is.
static_assert(vmm::DeviceModel<Plic>);

TEST_CASE("register offsets are the spec's memory map") {
    CHECK(plic::priority_offset(1) == 0x000004);
    CHECK(plic::priority_offset(1023) == 0x000ffc);
    CHECK(plic::pending_offset(0) == 0x001000);
    CHECK(plic::pending_offset(1023) == 0x00107c);
    CHECK(plic::enable_offset(0, 0) == 0x002000);
    CHECK(plic::enable_offset(0, 1023) == 0x00207c);
    CHECK(plic::enable_offset(1, 32) == 0x002084);
    CHECK(plic::enable_offset(2, 0) == 0x002100);
    CHECK(plic::enable_offset(15871, 992) == 0x1f1ffc);
    CHECK(plic::threshold_offset(0) == 0x200000);
    CHECK(plic::claim_offset(0) == 0x200004);
    CHECK(plic::threshold_offset(1) == 0x201000);
    CHECK(plic::claim_offset(1) == 0x201004);
    CHECK(plic::threshold_offset(15871) == 0x3fff000);
    CHECK(plic::claim_offset(15871) == 0x3fff004);
    CHECK(plic::map_size == 0x4000000);
    // QEMU virt's PLIC size for 2 harts x 2 contexts.
    CHECK(plic::mmio_size(4) == 0x204000);
    CHECK(Plic::mmio_size == 0x204000);
    CHECK(Plic::max_priority == 7);
}

TEST_CASE("contexts are numbered as QEMU virt numbers them") {
    CHECK(plic::contexts_for(2) == 4);
    CHECK(plic::supervisor_context(0) == 1);
    CHECK(plic::supervisor_context(1) == 3);
    CHECK(plic::vcpu_of_context(1) == 0u);
    CHECK(plic::vcpu_of_context(3) == 1u);
    CHECK(plic::vcpu_of_context(0) == std::nullopt);  // M-mode contexts belong to no vCPU
    CHECK(plic::vcpu_of_context(2) == std::nullopt);
}

TEST_CASE("priority is WARL over 3 bits; source 0 and absent sources read 0") {
    Plic p;
    CHECK(rd(p, 0x4) == 0u);  // power-on
    CHECK(wr(p, 0x4, 5));
    CHECK(rd(p, 0x4) == 5u);
    CHECK(wr(p, 0x4, 0xffffffff));
    CHECK(rd(p, 0x4) == 7u);
    CHECK(wr(p, 0x4, 8));
    CHECK(rd(p, 0x4) == 0u);
    CHECK(wr(p, 0x17c, 0x1'0000'0003));  // source 95: only the low 32 bits are the store's
    CHECK(rd(p, 0x17c) == 3u);
    CHECK(p.priority(95) == 3);
    // Source 0 is reserved, 96..1023 do not exist: accepted, ignored, read 0.
    CHECK(wr(p, 0x0, 7));
    CHECK(rd(p, 0x0) == 0u);
    CHECK(wr(p, 0x180, 7));
    CHECK(rd(p, 0x180) == 0u);
    CHECK(rd(p, 0xffc) == 0u);
    CHECK(p.priority(0) == 0);
    CHECK(p.priority(96) == 0);
}

TEST_CASE("pending bits are read-only and packed 32 per word") {
    Plic p;
    CHECK(p.set_pending(1));
    CHECK(p.set_pending(33));
    CHECK(p.set_pending(95));
    CHECK(rd(p, 0x1000) == 0x2u);
    CHECK(rd(p, 0x1004) == 0x2u);
    CHECK(rd(p, 0x1008) == 0x80000000u);
    CHECK(rd(p, 0x100c) == 0u);  // sources 96..127 do not exist
    CHECK(rd(p, 0x107c) == 0u);
    CHECK(rd(p, 0x1080) == 0u);  // reserved
    // A store is accepted and changes nothing, either way.
    CHECK(wr(p, 0x1000, 0));
    CHECK(wr(p, 0x1004, 0xffffffff));
    CHECK(rd(p, 0x1000) == 0x2u);
    CHECK(rd(p, 0x1004) == 0x2u);
    CHECK(p.pending(1));
    CHECK_FALSE(p.pending(2));
}

TEST_CASE("enable bits keep only sources that exist; threshold is WARL over 3 bits") {
    Plic p;
    CHECK(wr(p, plic::enable_offset(ctx0, 0), 0xffffffff));
    CHECK(rd(p, 0x2080) == 0xfffffffeu);  // bit 0, source 0, hardwired to zero
    CHECK(wr(p, 0x2088, 0xffffffff));     // sources 64..95
    CHECK(rd(p, 0x2088) == 0xffffffffu);
    CHECK(wr(p, 0x208c, 0xffffffff));  // sources 96..127: absent
    CHECK(rd(p, 0x208c) == 0u);
    CHECK(rd(p, 0x2000) == 0u);  // context 0 untouched
    CHECK(p.enabled(ctx0, 1));
    CHECK(p.enabled(ctx0, 95));
    CHECK_FALSE(p.enabled(ctx0, 0));
    CHECK_FALSE(p.enabled(ctx1, 1));
    // Context 4 does not exist: its enables and page read 0, ignore writes.
    CHECK(wr(p, plic::enable_offset(4, 1), 0x2));
    CHECK(rd(p, plic::enable_offset(4, 1)) == 0u);
    CHECK(wr(p, plic::threshold_offset(4), 3));
    CHECK(rd(p, plic::threshold_offset(4)) == 0u);
    CHECK(rd(p, plic::claim_offset(4)) == 0u);
    CHECK_FALSE(p.enabled(4, 1));

    CHECK(wr(p, 0x201000, 0xff));
    CHECK(rd(p, 0x201000) == 7u);
    CHECK(wr(p, 0x201000, 9));
    CHECK(rd(p, 0x201000) == 1u);
    CHECK(p.threshold(ctx0) == 1);
    CHECK(p.threshold(4) == 0);
    CHECK(rd(p, 0x201008) == 0u);  // reserved words of a context page
    CHECK(wr(p, 0x201ffc, 1));
}

TEST_CASE("claim takes the highest priority, ties to the lowest id, and clears pending") {
    Plic p;
    const std::pair<usize, std::uint32_t> prio[] = {{3, 2}, {5, 5}, {7, 5}, {9, 1}, {40, 6}, {41, 0}};
    for (auto [source, priority] : prio) {
        CHECK(wr(p, plic::priority_offset(source), priority));
        CHECK(p.set_pending(source));
        toggle(p, ctx0, source, true);
    }
    CHECK(p.set_pending(11));  // pending, but not enabled here
    CHECK(wr(p, plic::priority_offset(11), 7));
    CHECK(rd(p, 0x1000) == ((1u << 3) | (1u << 5) | (1u << 7) | (1u << 9) | (1u << 11)));
    CHECK(rd(p, 0x1004) == ((1u << 8) | (1u << 9)));

    CHECK(rd(p, plic::claim_offset(ctx0)) == 40u);
    CHECK_FALSE(p.pending(40));
    CHECK(p.in_service(40));
    CHECK(rd(p, 0x1004) == (1u << 9));  // 41 stays pending: priority 0 never interrupts
    CHECK(rd(p, plic::claim_offset(ctx0)) == 5u);
    CHECK(rd(p, plic::claim_offset(ctx0)) == 7u);
    // The claim is "not affected by the setting of the priority threshold".
    CHECK(wr(p, plic::threshold_offset(ctx0), 7));
    CHECK(rd(p, plic::claim_offset(ctx0)) == 3u);
    CHECK(rd(p, plic::claim_offset(ctx0)) == 9u);
    CHECK(rd(p, plic::claim_offset(ctx0)) == 0u);
    CHECK(rd(p, 0x1000) == (1u << 11));
    CHECK(rd(p, 0x1004) == (1u << 9));
    CHECK(p.pending(41));
    CHECK_FALSE(p.in_service(41));
    // Another context sees only what it enabled.
    CHECK(rd(p, plic::claim_offset(ctx1)) == 0u);
    toggle(p, ctx1, 11, true);
    CHECK(rd(p, plic::claim_offset(ctx1)) == 11u);
    CHECK(p.claim(ctx1) == 0);
}

TEST_CASE("complete ends service only for an in-service source enabled for the writer") {
    Plic p;
    CHECK(wr(p, plic::priority_offset(10), 1));
    toggle(p, ctx0, 10, true);
    CHECK(p.set_pending(10));
    CHECK(rd(p, plic::claim_offset(ctx0)) == 10u);
    CHECK(p.in_service(10));

    SUBCASE("from a context that has it disabled: ignored") {
        CHECK(wr(p, plic::claim_offset(ctx1), 10));  // accepted as a store, ignored
        CHECK(p.in_service(10));
        CHECK_FALSE(p.complete(ctx1, 10));
    }
    SUBCASE("disabled in the claiming context: ignored, until enabled around it as Linux does") {
        toggle(p, ctx0, 10, false);
        CHECK(wr(p, plic::claim_offset(ctx0), 10));
        CHECK(p.in_service(10));
        toggle(p, ctx0, 10, true);
        CHECK(wr(p, plic::claim_offset(ctx0), 10));
        toggle(p, ctx0, 10, false);
        CHECK_FALSE(p.in_service(10));
    }
    SUBCASE("from another context that has it enabled: ends it (the PLIC keeps no claimer)") {
        toggle(p, ctx1, 10, true);
        CHECK(p.complete(ctx1, 10));
        CHECK_FALSE(p.in_service(10));
    }
    SUBCASE("by the claimer: ends it, and a second completion is ignored") {
        CHECK(p.complete(ctx0, 10));
        CHECK_FALSE(p.in_service(10));
        CHECK_FALSE(p.pending(10));
        CHECK_FALSE(p.complete(ctx0, 10));
    }
    SUBCASE("ids 0, absent or not in service: ignored") {
        CHECK(wr(p, plic::claim_offset(ctx0), 0));
        CHECK(wr(p, plic::claim_offset(ctx0), 96));
        CHECK(wr(p, plic::claim_offset(ctx0), 0xffffffff));
        toggle(p, ctx0, 12, true);
        CHECK_FALSE(p.complete(ctx0, 12));  // enabled, never claimed
        CHECK_FALSE(p.complete(4, 10));     // no such context
        CHECK(p.in_service(10));
    }
}

TEST_CASE("an edge while in service is held until the completion, once") {
    Plic p;
    CHECK(wr(p, plic::priority_offset(8), 1));
    toggle(p, ctx0, 8, true);
    CHECK(p.set_pending(8));
    CHECK(p.set_pending(8));  // merges: at most one request is pending
    CHECK(p.claim(ctx0) == 8);
    CHECK(p.claim(ctx0) == 0);
    CHECK(p.set_pending(8));
    CHECK(p.set_pending(8));
    CHECK_FALSE(p.pending(8));  // the gateway holds it while 8 is in service
    CHECK(p.complete(ctx0, 8));
    CHECK(p.pending(8));
    CHECK(p.claim(ctx0) == 8);
    CHECK(p.complete(ctx0, 8));
    CHECK_FALSE(p.pending(8));
    CHECK(p.claim(ctx0) == 0);
}

TEST_CASE("a level source re-pends at completion while high, and is not withdrawn when lowered") {
    Plic p;
    CHECK(wr(p, plic::priority_offset(10), 1));
    toggle(p, ctx0, 10, true);
    CHECK(p.set_level(10, true));
    CHECK(p.level(10));
    CHECK(p.pending(10));
    CHECK(p.claim(ctx0) == 10);
    CHECK(p.set_level(10, true));  // still high: no new request while in service
    CHECK_FALSE(p.pending(10));
    CHECK(p.complete(ctx0, 10));
    CHECK(p.pending(10));  // still asserted: forwarded again
    CHECK(p.claim(ctx0) == 10);
    CHECK(p.set_level(10, false));
    CHECK(p.complete(ctx0, 10));
    CHECK_FALSE(p.pending(10));
    CHECK(p.claim(ctx0) == 0);
    // Raised and lowered before the guest claims: the request stays in IP.
    CHECK(p.set_level(10, true));
    CHECK(p.set_level(10, false));
    CHECK(p.pending(10));
    CHECK(p.claim(ctx0) == 10);
    CHECK(p.complete(ctx0, 10));
    CHECK_FALSE(p.pending(10));
}

TEST_CASE("irq_line follows pending, enable, priority against threshold, and claims") {
    Plic p;
    CHECK(changes(p).empty());
    CHECK(p.set_pending(4));
    CHECK(changes(p).empty());  // priority 0, not enabled
    toggle(p, ctx1, 4, true);
    CHECK(changes(p).empty());  // priority 0 never interrupts
    CHECK(wr(p, plic::priority_offset(4), 2));
    CHECK(p.irq_line(ctx1));
    CHECK_FALSE(p.irq_line(ctx0));
    CHECK(changes(p) == Changes{{ctx1, true}});
    CHECK(changes(p).empty());  // reported once
    CHECK(wr(p, plic::threshold_offset(ctx1), 2));  // priority must exceed the threshold
    CHECK(changes(p) == Changes{{ctx1, false}});
    CHECK(wr(p, plic::threshold_offset(ctx1), 1));
    CHECK(changes(p) == Changes{{ctx1, true}});
    // Multicast: enabled in both contexts, both lines rise; one claim drops both.
    toggle(p, ctx0, 4, true);
    CHECK(changes(p) == Changes{{ctx0, true}});
    CHECK(rd(p, plic::claim_offset(ctx1)) == 4u);
    CHECK(changes(p) == Changes{{ctx0, false}, {ctx1, false}});
    // In service: a new edge does not raise the line until the completion.
    CHECK(p.set_pending(4));
    CHECK(changes(p).empty());
    CHECK(wr(p, plic::claim_offset(ctx1), 4));
    CHECK(changes(p) == Changes{{ctx0, true}, {ctx1, true}});
    toggle(p, ctx0, 4, false);
    CHECK(changes(p) == Changes{{ctx0, false}});
    CHECK(wr(p, plic::priority_offset(4), 0));  // Linux's mask
    CHECK(changes(p) == Changes{{ctx1, false}});
    CHECK(p.pending(4));
    CHECK_FALSE(p.irq_line(4));  // no such context
    CHECK_FALSE(p.irq_line(~usize{0}));
}

TEST_CASE("bad widths, misaligned and out-of-map accesses are refused; bad inputs too") {
    Plic p;
    CHECK(wr(p, 0x4, 3));
    for (AccessWidth width : {AccessWidth::Byte, AccessWidth::Word, AccessWidth::Qword}) {
        CHECK(p.read(0x4, width) == std::nullopt);
        CHECK_FALSE(p.write(0x4, width, 1));
        CHECK(p.read(plic::claim_offset(ctx0), width) == std::nullopt);
    }
    CHECK(p.priority(1) == 3);
    for (std::uint64_t offset : {0x1ull, 0x2ull, 0x6ull, 0x1002ull, 0x2081ull, 0x200002ull, 0x201006ull}) {
        CHECK(rd(p, offset) == std::nullopt);
        CHECK_FALSE(wr(p, offset, 0));
    }
    CHECK(rd(p, plic::map_size) == std::nullopt);
    CHECK_FALSE(wr(p, plic::map_size, 0));
    CHECK(rd(p, ~std::uint64_t{3}) == std::nullopt);
    CHECK(rd(p, plic::map_size - 4) == 0u);  // reserved word of context 15871's page
    CHECK(rd(p, plic::claim_offset(15871)) == 0u);

    CHECK_FALSE(p.set_pending(0));
    CHECK_FALSE(p.set_pending(96));
    CHECK_FALSE(p.set_level(0, true));
    CHECK_FALSE(p.set_level(1024, true));
    CHECK_FALSE(p.level(0));
    CHECK(p.claim(4) == 0);
    CHECK(rd(p, 0x1000) == 0u);
}

// What Linux 6.x's drivers/irqchip/irq-sifive-plic.c does, in order, with
// the 16550 UART on source 10 (level-triggered) on a 2-vCPU guest.
TEST_CASE("Linux's plic driver at boot and in its handler") {
    Plic p;
    bool vseip[2] = {false, false};  // each vCPU's hvip.VSEIP, as a VMM keeps it
    auto sync = [&] {
        p.update_lines([&](usize context, bool asserted) {
            const std::optional<usize> vcpu = plic::vcpu_of_context(context);
            REQUIRE(vcpu.has_value());  // nothing ever raises an M-mode context's line
            vseip[*vcpu] = asserted;    // inject_interrupt(9) / clear_interrupt(9)
        });
    };

    // plic_probe, per S-mode context: threshold to PLIC_DISABLE_THRESHOLD
    // (7), then for every source: disable, priority 1.
    for (usize context : {ctx0, ctx1}) {
        CHECK(wr(p, plic::threshold_offset(context), 7));
        for (usize source = 1; source <= Plic::sources; ++source) {
            toggle(p, context, source, false);
            CHECK(wr(p, plic::priority_offset(source), 1));
        }
    }
    sync();
    CHECK(rd(p, 0x4) == 1u);
    CHECK(rd(p, 0x17c) == 1u);

    // Before the driver enables it, the UART is already asserting: it
    // pends, but no line rises (nothing enabled, threshold 7).
    CHECK(p.set_level(10, true));
    sync();
    CHECK_FALSE(vseip[0]);
    CHECK_FALSE(vseip[1]);

    // plic_starting_cpu: threshold 0 (PLIC_ENABLE_THRESHOLD) on each hart.
    for (usize context : {ctx0, ctx1}) CHECK(wr(p, plic::threshold_offset(context), 0));
    sync();
    CHECK_FALSE(vseip[0]);

    // request_irq -> plic_irq_enable on CPU 0: enable bit, then unmask
    // (priority 1).
    toggle(p, ctx0, 10, true);
    CHECK(wr(p, plic::priority_offset(10), 1));
    sync();
    CHECK(vseip[0]);
    CHECK_FALSE(vseip[1]);

    // plic_handle_irq: claim until 0; the 8250 handler quiets the UART,
    // then handle_fasteoi_irq's eoi completes.
    CHECK(rd(p, plic::claim_offset(ctx0)) == 10u);
    sync();
    CHECK_FALSE(vseip[0]);
    CHECK(p.set_level(10, false));
    CHECK(wr(p, plic::claim_offset(ctx0), 10));
    sync();
    CHECK(rd(p, plic::claim_offset(ctx0)) == 0u);
    CHECK_FALSE(vseip[0]);

    // Next interrupt: the UART is still asserting at the completion (more
    // bytes came), so it interrupts again at once.
    CHECK(p.set_level(10, true));
    sync();
    CHECK(vseip[0]);
    CHECK(rd(p, plic::claim_offset(ctx0)) == 10u);
    sync();
    CHECK_FALSE(vseip[0]);
    CHECK(wr(p, plic::claim_offset(ctx0), 10));
    sync();
    CHECK(vseip[0]);
    CHECK(rd(p, plic::claim_offset(ctx0)) == 10u);
    CHECK(p.set_level(10, false));
    // disable_irq while in service (plic_irq_disable clears the enable
    // bit); plic_irq_eoi then enables it around the completion.
    toggle(p, ctx0, 10, false);
    toggle(p, ctx0, 10, true);
    CHECK(wr(p, plic::claim_offset(ctx0), 10));
    toggle(p, ctx0, 10, false);
    sync();
    CHECK_FALSE(p.in_service(10));
    CHECK_FALSE(vseip[0]);

    // irq_set_affinity to CPU 1: disable on context 1, enable on context 3.
    CHECK(p.set_level(10, true));
    toggle(p, ctx1, 10, true);
    sync();
    CHECK_FALSE(vseip[0]);
    CHECK(vseip[1]);
    CHECK(rd(p, plic::claim_offset(ctx0)) == 0u);
    CHECK(rd(p, plic::claim_offset(ctx1)) == 10u);
    CHECK(p.set_level(10, false));
    CHECK(wr(p, plic::claim_offset(ctx1), 10));
    sync();
    CHECK_FALSE(vseip[1]);
    CHECK(rd(p, 0x1000) == 0u);
}

// The model is constexpr: a claim works at compile time.
static_assert([] {
    VPlic<31, 2> p;
    p.write(plic::priority_offset(3), AccessWidth::Dword, 1);
    p.write(plic::enable_offset(1, 3), AccessWidth::Dword, 1u << 3);
    p.set_pending(3);
    return p.irq_line(1) && p.claim(1) == 3 && !p.irq_line(1) && p.complete(1, 3);
}());
}  // namespace riscv64_vplic_test
