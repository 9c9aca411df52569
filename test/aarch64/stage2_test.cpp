// Stage-2 layout from ID_AA64MMFR0_EL1.PARange and the table mapper, on
// host memory.
#include <doctest/doctest.h>

#include <arch/aarch64/stage2.hpp>

#include <array>
#include <cstdint>
#include <optional>

namespace aarch64_stage2_test {

using namespace axvcpu::aarch64::stage2;

TEST_CASE("layout and VTCR_EL2 follow the PA range") {
    // cortex-a53 (40 bits): level 1 start, two concatenated roots.
    Layout l = layout_for(0x1122);
    CHECK(l.ipa_bits == 40);
    CHECK(l.start_level == 1);
    CHECK(l.root_pages == 2);
    CHECK((l.vtcr() & 0x3F) == 24);         // T0SZ
    CHECK(((l.vtcr() >> 6) & 3) == 1);      // SL0: level 1
    CHECK(((l.vtcr() >> 16) & 7) == 2);     // PS
    CHECK((l.vtcr() >> 31 & 1) == 1);       // RES1
    // cortex-a57/a72 (44 bits): level 0 start, one root.
    l = layout_for(0x1124);
    CHECK(l.ipa_bits == 44);
    CHECK(l.start_level == 0);
    CHECK(l.root_pages == 1);
    CHECK((l.vtcr() & 0x3F) == 20);
    CHECK(((l.vtcr() >> 6) & 3) == 2);
    // max (52 bits) is used as 48.
    l = layout_for(0x6);
    CHECK(l.ipa_bits == 48);
    CHECK(l.pa_range == 5);
    CHECK((l.vtcr() & 0x3F) == 16);
    // 42 bits: eight concatenated level-1 roots; 36 and 32 bits: one.
    CHECK(layout_for(3).root_pages == 8);
    CHECK(layout_for(1).root_pages == 1);
    CHECK(layout_for(1).start_level == 1);
    CHECK(layout_for(0).ipa_bits == 32);
}

namespace {
struct Pool {
    alignas(4096) std::array<std::uint64_t, 512 * 16> words{};
    unsigned used = 2;  // the first two pages are the root
    std::uint64_t base() const { return reinterpret_cast<std::uint64_t>(words.data()); }
};
}  // namespace

TEST_CASE("mapper: blocks, pages, attributes, refusals") {
    for (std::uint64_t mmfr0 : {0x1122ull, 0x1124ull, 0x6ull}) {
        CAPTURE(mmfr0);
        static Pool pool;
        pool = Pool{};
        const Layout layout = layout_for(mmfr0);
        auto alloc = [&]() -> std::optional<std::uint64_t> {
            if (pool.used == 16) return std::nullopt;
            return pool.base() + 4096 * pool.used++;
        };
        auto table = [](std::uint64_t pa) { return reinterpret_cast<std::uint64_t*>(pa); };
        Mapper mapper(layout, pool.base(), alloc, table);
        // 4 MiB of RAM at 0x4800'0000: two 2 MiB blocks.
        REQUIRE(mapper.map(0x4800'0000, 0x4800'0000, 0x40'0000, MemType::Normal));
        auto ram = mapper.lookup(0x4820'1234);
        REQUIRE(ram);
        CHECK((*ram & 3) == desc_block);
        CHECK((*ram & addr_mask) == 0x4820'0000);
        CHECK((*ram >> 2 & 0xF) == 0xF);   // normal write-back
        CHECK((*ram >> 6 & 3) == 3);       // read/write
        CHECK((*ram >> 10 & 1) == 1);      // AF
        // One page of device: a level-3 page, never executable.
        REQUIRE(mapper.map(0x0900'0000, 0x0900'0000, 0x1000, MemType::Device));
        auto uart = mapper.lookup(0x0900'0018);
        REQUIRE(uart);
        CHECK((*uart & 3) == desc_table);
        CHECK((*uart >> 2 & 0xF) == 0x1);  // Device-nGnRE
        CHECK((*uart >> 54 & 1) == 1);     // XN
        CHECK_FALSE(mapper.lookup(0x0900'1000));
        CHECK_FALSE(mapper.lookup(0x0B00'0000));
        // Refusals: overlap, misalignment, beyond the IPA range.
        CHECK(mapper.map(0x4800'0000, 0x4800'0000, 0x1000, MemType::Normal).error() == axvcpu::AxError::AlreadyExists);
        CHECK(mapper.map(0x0900'0000, 0x0900'0000, 0x1000, MemType::Device).error() == axvcpu::AxError::AlreadyExists);
        CHECK(mapper.map(0x1001, 0x1000, 0x1000, MemType::Normal).error() == axvcpu::AxError::InvalidInput);
        CHECK(mapper.map(layout.ipa_limit(), 0, 0x1000, MemType::Normal).error() == axvcpu::AxError::InvalidInput);
        // The last GPA of the range is mappable (uses the last root entry).
        CHECK(mapper.map(layout.ipa_limit() - 0x1000, 0x1000, 0x1000, MemType::Normal));
        CHECK(mapper.lookup(layout.ipa_limit() - 0x800));
    }
}
}  // namespace aarch64_stage2_test
