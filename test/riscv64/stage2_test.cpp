// Host tests of the Sv39x4/Sv48x4 stage-2 mapper over a page arena.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "arch/riscv64/stage2.hpp"

namespace riscv64_stage2_test {

using namespace axvcpu;
using namespace axvcpu::riscv64::stage2;

namespace {
// Pages from an aligned arena; "physical addresses" are host pointers.
struct Arena {
    explicit Arena(std::size_t pages) : base(static_cast<std::uint64_t*>(std::aligned_alloc(16384, pages * 4096))), count(pages) {
        for (std::size_t i = 0; i < pages * 512; ++i) base[i] = 0;
    }
    ~Arena() { std::free(base); }
    std::uint64_t root() { return take(4); }
    std::uint64_t take(std::size_t pages) {
        if (used + pages > count) return 0;
        const auto pa = reinterpret_cast<std::uint64_t>(base + used * 512);
        used += pages;
        return pa;
    }
    std::uint64_t* base;
    std::size_t count;
    std::size_t used = 0;
};

auto make_mapper(Arena& arena, Layout layout, std::uint64_t root) {
    auto alloc = [&arena]() -> std::optional<std::uint64_t> {
        const std::uint64_t page = arena.take(1);
        if (page == 0) return std::nullopt;
        return page;
    };
    auto table = [](std::uint64_t pa) { return reinterpret_cast<std::uint64_t*>(pa); };
    return Mapper(layout, root, alloc, table);
}
}  // namespace

TEST_CASE("layouts") {
    CHECK(layout_for_levels(3)->gpa_bits() == 41);
    CHECK(layout_for_levels(4)->gpa_bits() == 50);
    CHECK(layout_for_levels(3)->hgatp_mode() == std::uint64_t{8} << 60);
    CHECK(layout_for_levels(4)->hgatp_mode() == std::uint64_t{9} << 60);
    CHECK_FALSE(layout_for_levels(5).has_value());
}

TEST_CASE("guest RAM in megapages, a device page in 4 KiB, both levels") {
    for (unsigned levels : {3u, 4u}) {
        CAPTURE(levels);
        Arena arena(16);
        const std::uint64_t root = arena.root();
        auto mapper = make_mapper(arena, Layout{levels}, root);
        REQUIRE(mapper.map(0x88000000, 0x88000000, 4 << 20, MemType::Normal));
        REQUIRE(mapper.map(0x10000000, 0x10000000, 0x1000, MemType::Device));
        const auto ram = mapper.lookup(0x88212345);
        REQUIRE(ram.has_value());
        CHECK(pte_address(*ram) == 0x88200000);  // the 2 MiB megapage's base
        CHECK((*ram & leaf_bits(MemType::Normal)) == leaf_bits(MemType::Normal));
        const auto uart = mapper.lookup(0x10000004);
        REQUIRE(uart.has_value());
        CHECK(pte_address(*uart) == 0x10000000);
        CHECK((*uart & pte::x) == 0);
        CHECK((*uart & pte::u) != 0);
        CHECK_FALSE(mapper.lookup(0x10001000).has_value());
        CHECK_FALSE(mapper.lookup(0x0a000000).has_value());
        // Two level-1 tables (GiB 0 and 2) and one level-0 table for the
        // UART page; Sv48x4 adds one level-2 table above them.
        CHECK(arena.used == 4 + (levels == 3 ? 3 : 4));
    }
}

TEST_CASE("the x4 root spans 2048 entries: a GPA above 512 GiB (Sv39x4 top range)") {
    Arena arena(8);
    const std::uint64_t root = arena.root();
    auto mapper = make_mapper(arena, Layout{3}, root);
    const std::uint64_t high = (std::uint64_t{1} << 40) + 0x200000;  // root index >= 1024
    REQUIRE(mapper.map(high, 0x80000000, 0x200000, MemType::Normal));
    CHECK(pte_address(*mapper.lookup(high)) == 0x80000000);
    CHECK(reinterpret_cast<std::uint64_t*>(root)[high >> 30] != 0);
}

TEST_CASE("bad requests are refused") {
    Arena arena(8);
    const std::uint64_t root = arena.root();
    auto mapper = make_mapper(arena, Layout{3}, root);
    CHECK(mapper.map(0x1001, 0x1000, 0x1000, MemType::Normal).error() == AxError::InvalidInput);
    CHECK(mapper.map(0x1000, 0x1000, 0, MemType::Normal).error() == AxError::InvalidInput);
    CHECK(mapper.map(std::uint64_t{1} << 41, 0, 0x1000, MemType::Normal).error() == AxError::InvalidInput);
    REQUIRE(mapper.map(0x80000000, 0x80000000, 0x200000, MemType::Normal));
    CHECK(mapper.map(0x80001000, 0x1000, 0x1000, MemType::Normal).error() == AxError::AlreadyExists);
    CHECK(mapper.map(0x80000000, 0x80000000, 0x200000, MemType::Normal).error() == AxError::AlreadyExists);
}

TEST_CASE("running out of table pages is NoMemory") {
    Arena arena(4);  // the root only
    const std::uint64_t root = arena.root();
    auto mapper = make_mapper(arena, Layout{3}, root);
    CHECK(mapper.map(0x80000000, 0x80000000, 0x1000, MemType::Normal).error() == AxError::NoMemory);
}
}  // namespace riscv64_stage2_test
