// The example VMM's device tree reader (examples/vmm/fdt.hpp): blobs dtc
// builds from test/vmm/fdt/*.dts (read from the directory the environment
// variable FDT_TEST_DIR names, where the build puts them; not a compile-time
// path, so the object is the same in every clone and ccache shares it), and
// blobs written here token by token, each corrupted in one
// way and expected to fail with that way's Error.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "examples/vmm/fdt.hpp"

namespace fdt_test {

namespace fdt = vmm::fdt;
using fdt::Error;
using fdt::Range;
using Blob = std::vector<std::uint8_t>;

namespace {

Blob read_dtb(const std::string& name) {
    const char* dir = std::getenv("FDT_TEST_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "FDT_TEST_DIR is not set (meson test sets it to the build's test directory)");
    std::ifstream file(std::string(dir) + "/fdt-" + name + ".dtb", std::ios::binary);
    REQUIRE_MESSAGE(file.good(), "cannot open ", name, ".dtb in ", dir);
    return Blob(std::istreambuf_iterator<char>(file), {});
}

void put32(Blob& blob, std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) blob[at + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}
std::uint32_t get32(const Blob& blob, std::size_t at) { return *fdt::read_u32(blob, at); }

// Header field offsets (spec 5.2).
constexpr std::size_t h_magic = 0, h_totalsize = 4, h_off_struct = 8, h_off_strings = 12, h_off_rsvmap = 16,
                      h_version = 20, h_last_comp = 24, h_size_strings = 32, h_size_struct = 36;

Blob cells(std::initializer_list<std::uint32_t> values) {
    Blob out;
    for (std::uint32_t v : values) {
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (24 - 8 * i)));
    }
    return out;
}
Blob str(std::string_view s, bool nul = true) {
    Blob out(s.begin(), s.end());
    if (nul) out.push_back(0);
    return out;
}

// A DTB written token by token: header, reservation block (at 40), then
// the structure block, then the strings block, laid out as dtc does.
struct Writer {
    Blob structure, strings;
    std::vector<Range> reservations;

    Writer& word(std::uint32_t w) {
        const Blob b = cells({w});
        structure.insert(structure.end(), b.begin(), b.end());
        return *this;
    }
    void pad() {
        while (structure.size() % 4 != 0) structure.push_back(0);
    }
    Writer& begin(std::string_view name) {
        word(fdt::token_begin_node);
        structure.insert(structure.end(), name.begin(), name.end());
        structure.push_back(0);
        pad();
        return *this;
    }
    Writer& end_node() { return word(fdt::token_end_node); }
    Writer& nop() { return word(fdt::token_nop); }
    Writer& end() { return word(fdt::token_end); }
    std::uint32_t name_offset(std::string_view name) {
        const std::string all(strings.begin(), strings.end());
        for (std::size_t at = 0; at < all.size(); at += std::char_traits<char>::length(all.c_str() + at) + 1) {
            if (all.c_str() + at == name) return static_cast<std::uint32_t>(at);
        }
        const auto at = static_cast<std::uint32_t>(strings.size());
        strings.insert(strings.end(), name.begin(), name.end());
        strings.push_back(0);
        return at;
    }
    Writer& prop_at(std::uint32_t nameoff, const Blob& value) {
        word(fdt::token_prop).word(static_cast<std::uint32_t>(value.size())).word(nameoff);
        structure.insert(structure.end(), value.begin(), value.end());
        pad();
        return *this;
    }
    Writer& prop(std::string_view name, const Blob& value) { return prop_at(name_offset(name), value); }

    Blob build() const {
        Blob out(40, 0);
        for (const Range& r : reservations) {
            const Blob b = cells({static_cast<std::uint32_t>(r.base >> 32), static_cast<std::uint32_t>(r.base),
                                  static_cast<std::uint32_t>(r.size >> 32), static_cast<std::uint32_t>(r.size)});
            out.insert(out.end(), b.begin(), b.end());
        }
        out.resize(out.size() + 16, 0);
        const std::size_t off_struct = out.size();
        out.insert(out.end(), structure.begin(), structure.end());
        const std::size_t off_strings = out.size();
        out.insert(out.end(), strings.begin(), strings.end());
        put32(out, h_magic, fdt::magic);
        put32(out, h_totalsize, static_cast<std::uint32_t>(out.size()));
        put32(out, h_off_struct, static_cast<std::uint32_t>(off_struct));
        put32(out, h_off_strings, static_cast<std::uint32_t>(off_strings));
        put32(out, h_off_rsvmap, 40);
        put32(out, h_version, 17);
        put32(out, h_last_comp, 16);
        put32(out, h_size_strings, static_cast<std::uint32_t>(strings.size()));
        put32(out, h_size_struct, static_cast<std::uint32_t>(structure.size()));
        return out;
    }
};

// What a test guest's tree holds; each test changes one thing.
struct Guest {
    bool root_cells = true;                                   // #address-cells = #size-cells = 2 in /
    Blob memory_reg = cells({0, 0x8000'0000, 0, 0x0800'0000});  // 128 MiB at 2 GiB
    std::string memory_type = "memory";
    std::string memory_status;                                // empty: none
    std::optional<Blob> initrd_start = cells({0, 0x8400'0000});
    std::optional<Blob> initrd_end = cells({0, 0x8420'0000});
    std::optional<Blob> bootargs = str("console=ttyS0");

    Blob build() const {
        Writer w;
        w.begin("");
        if (root_cells) w.prop("#address-cells", cells({2})).prop("#size-cells", cells({2}));
        w.begin("chosen");
        if (bootargs) w.prop("bootargs", *bootargs);
        if (initrd_start) w.prop("linux,initrd-start", *initrd_start);
        if (initrd_end) w.prop("linux,initrd-end", *initrd_end);
        w.end_node();
        w.begin("memory@80000000").prop("device_type", str(memory_type)).prop("reg", memory_reg);
        if (!memory_status.empty()) w.prop("status", str(memory_status));
        w.end_node();
        return w.end_node().end().build();
    }
};

constexpr std::array<Range, 1> guest_ram{{{0x8000'0000, 0x0800'0000}}};

Error check_error(const Blob& blob, std::span<const Range> ram = guest_ram) {
    const auto result = fdt::check_guest_dtb(blob, ram);
    REQUIRE_FALSE(result.ok());
    return result.error();
}
Error validate_error(const Blob& blob) {
    const auto error = fdt::validate(blob);
    REQUIRE(error.has_value());
    return *error;
}

// Names in order: a node's properties, a node's children.
std::vector<std::string> property_names(const fdt::Tree& tree, fdt::Node node) {
    std::vector<std::string> names;
    for (auto p = tree.first_property(node); p; p = tree.next_property(*p)) names.emplace_back(p->name);
    return names;
}
std::vector<std::string> child_names(const fdt::Tree& tree, fdt::Node node) {
    std::vector<std::string> names;
    for (auto c = tree.first_child(node); c; c = tree.next_sibling(*c)) names.emplace_back(tree.name(*c));
    return names;
}

// The smallest valid blob, checked at compile time: validate is constexpr.
constexpr std::array<std::uint8_t, 72> minimal{
    0xd0, 0x0d, 0xfe, 0xed, 0, 0, 0, 72, 0, 0, 0, 56, 0, 0, 0, 72, 0, 0, 0, 40, 0, 0, 0, 17, 0, 0, 0, 16,
    0,    0,    0,    0,    0, 0, 0, 0,  0, 0, 0, 16,  // header: struct at 56 (16 bytes), strings at 72 (empty)
    0,    0,    0,    0,    0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,   // reservation block: (0, 0)
    0,    0,    0,    1,    0, 0, 0, 0,  0, 0, 0, 2,  0, 0, 0, 9};  // BEGIN_NODE "", END_NODE, END
static_assert(!fdt::validate(minimal).has_value());
static_assert(fdt::validate(std::span(minimal).first(71)) == Error::TotalSizeTooLarge);

}  // namespace

TEST_CASE("fdt: every error has its own message") {
    std::vector<std::string> seen;
    for (int e = 0; e <= static_cast<int>(Error::InitrdOutsideRam); ++e) {
        const std::string message = fdt::describe(static_cast<Error>(e));
        CHECK(message != "unknown device tree error");
        CHECK(std::find(seen.begin(), seen.end(), message) == seen.end());
        seen.push_back(message);
    }
    CHECK(std::string(fdt::describe(Error::BadMagic)) == "bad magic: not a device tree blob");
}

TEST_CASE("fdt: a riscv64 QEMU-virt-like tree from dtc") {
    const Blob blob = read_dtb("riscv64_virt");
    REQUIRE_FALSE(fdt::validate(blob).has_value());
    const auto opened = fdt::Tree::open(blob);
    REQUIRE(opened.ok());
    const fdt::Tree& tree = *opened;

    CHECK(tree.header().version == 17);
    CHECK(tree.header().totalsize == blob.size());
    REQUIRE(tree.reservation_count() == 1);
    CHECK(tree.reservation(0) == Range{0x8000'0000, 0x20'0000});
    CHECK(tree.reservation(1) == Range{});

    const fdt::Node root = tree.root();
    CHECK(tree.name(root).empty());
    CHECK(child_names(tree, root) == std::vector<std::string>{"chosen", "memory@80000000", "cpus", "soc"});
    CHECK(property_names(tree, root) ==
          std::vector<std::string>{"#address-cells", "#size-cells", "compatible", "model"});

    // Paths: exact, unit address omitted, repeated and trailing '/', none.
    CHECK(tree.find("/") == root);
    REQUIRE(tree.find("/memory"));
    CHECK(tree.name(*tree.find("/memory")) == "memory@80000000");
    CHECK(tree.find("/memory@80000000") == tree.find("/memory"));
    CHECK_FALSE(tree.find("/memory@90000000"));
    CHECK_FALSE(tree.find("/mem"));
    CHECK(tree.name(*tree.find("/cpus/cpu")) == "cpu@0");  // the first that matches
    CHECK(tree.name(*tree.find("//soc//serial/")) == "serial@10000000");
    CHECK(tree.name(*tree.find("/cpus/cpu@1/interrupt-controller")) == "interrupt-controller");
    CHECK_FALSE(tree.find("chosen"));  // relative: aliases are not looked up
    CHECK_FALSE(tree.find(""));
    CHECK_FALSE(tree.find("/cpus/cpu@2"));

    // Properties and cells.
    const fdt::Node plic = *tree.find("/soc/plic");
    CHECK(*tree.string(plic, "compatible").value() == "sifive,plic-1.0.0");  // first of the list
    CHECK(tree.property(plic, "interrupt-controller")->empty());
    CHECK_FALSE(tree.property(plic, "no-such-property"));
    CHECK(fdt::read_u32(*tree.property(plic, "riscv,ndev")) == 96u);
    const auto plic_reg = tree.reg(plic);
    REQUIRE(plic_reg.ok());
    REQUIRE(plic_reg->size() == 1);
    CHECK((*plic_reg)[0] == Range{0xc00'0000, 0x60'0000});
    const auto cpus_cells = tree.cells(*tree.find("/cpus"));
    REQUIRE(cpus_cells.ok());
    CHECK(cpus_cells->address == 1);
    CHECK(cpus_cells->size == 0);
    const auto cpu1 = tree.reg(*tree.find("/cpus/cpu@1"));
    REQUIRE(cpu1.ok());
    CHECK((*cpu1)[0] == Range{1, 0});
    CHECK(tree.available(*tree.find("/cpus/cpu@1")).value());

    // What the VMM checks.
    CHECK(*tree.bootargs().value() == "console=ttyS0 earlycon rdinit=/init");
    CHECK(*tree.initrd().value() == Range{0x8400'0000, 0x20'0000});
    const auto memory = tree.reg(*tree.find("/memory"));
    REQUIRE(memory.ok());
    REQUIRE(memory->size() == 1);
    CHECK((*memory)[0] == Range{0x8000'0000, 0x800'0000});

    CHECK(fdt::check_guest_dtb(blob, guest_ram).ok());
    // Two adjacent regions hold it as well as one.
    constexpr std::array<Range, 2> halves{{{0x8400'0000, 0x400'0000}, {0x8000'0000, 0x400'0000}}};
    CHECK(fdt::check_guest_dtb(blob, halves).ok());
    constexpr std::array<Range, 1> smaller{{{0x8000'0000, 0x400'0000}}};
    CHECK(check_error(blob, smaller) == Error::MemoryOutsideRam);
    CHECK(check_error(blob, {}) == Error::MemoryOutsideRam);

    // The blob may sit at the start of a larger buffer (the rest of RAM).
    Blob longer = blob;
    longer.resize(blob.size() + 4096, 0xAA);
    CHECK(fdt::check_guest_dtb(longer, guest_ram).ok());
}

TEST_CASE("fdt: an arm64 QEMU-virt-like tree from dtc, initrd in 32-bit cells") {
    const Blob blob = read_dtb("arm64_virt");
    constexpr std::array<Range, 1> ram{{{0x4800'0000, 64 << 20}}};
    const auto tree = fdt::check_guest_dtb(blob, ram);
    REQUIRE(tree.ok());
    CHECK(tree->reservation_count() == 0);
    CHECK(*tree->bootargs().value() == "console=ttyAMA0 earlycon");
    CHECK(*tree->initrd().value() == Range{0x4a00'0000, 0x40'0000});
    const auto gic = tree->reg(*tree->find("/intc"));
    REQUIRE(gic.ok());
    REQUIRE(gic->size() == 2);
    CHECK((*gic)[1] == Range{0x80a'0000, 0xf6'0000});
    CHECK(tree->name(*tree->find("/pl011")) == "pl011@9000000");

    constexpr std::array<Range, 1> elsewhere{{{0x4000'0000, 64 << 20}}};
    CHECK(check_error(blob, elsewhere) == Error::MemoryOutsideRam);
}

TEST_CASE("fdt: a version 16 blob (no size_dt_struct) reads the same") {
    const Blob v16 = read_dtb("riscv64_virt_v16");
    const Blob v17 = read_dtb("riscv64_virt");
    CHECK(get32(v16, h_version) == 16);
    const auto tree = fdt::check_guest_dtb(v16, guest_ram);
    REQUIRE(tree.ok());
    CHECK(tree->header().size_dt_struct == get32(v17, h_size_struct));
    CHECK(*tree->bootargs().value() == "console=ttyS0 earlycon rdinit=/init");
    CHECK(*tree->initrd().value() == Range{0x8400'0000, 0x20'0000});
}

TEST_CASE("fdt: the header against the buffer") {
    const Blob good = read_dtb("riscv64_virt");
    for (std::size_t n = 0; n < 4; ++n) CHECK(validate_error(Blob(good.begin(), good.begin() + n)) == Error::TooSmall);
    for (std::size_t n = 4; n < 40; ++n) {
        CHECK(validate_error(Blob(good.begin(), good.begin() + n)) == Error::TooSmall);
    }
    CHECK(validate_error(Blob(good.begin(), good.end() - 1)) == Error::TotalSizeTooLarge);
    CHECK(validate_error(Blob(good.begin(), good.begin() + 100)) == Error::TotalSizeTooLarge);
    CHECK(validate_error(Blob(4096, 0)) == Error::BadMagic);

    auto with = [&](std::size_t field, std::uint32_t value) {
        Blob b = good;
        put32(b, field, value);
        return b;
    };
    CHECK(validate_error(with(h_magic, 0xedfe0dd0)) == Error::BadMagic);  // little-endian magic
    CHECK(validate_error(with(h_totalsize, 39)) == Error::TotalSizeTooSmall);
    CHECK(validate_error(with(h_version, 15)) == Error::VersionTooOld);
    CHECK(validate_error(with(h_last_comp, 18)) == Error::VersionTooNew);
    CHECK(fdt::Tree::open(with(h_version, 18)).ok());  // newer, but readable as 17

    // Reservation block.
    CHECK(validate_error(with(h_off_rsvmap, 44)) == Error::ReservationMisaligned);
    CHECK(validate_error(with(h_off_rsvmap, 32)) == Error::ReservationOutOfBounds);  // inside the header
    CHECK(validate_error(with(h_off_rsvmap, 0x10000)) == Error::ReservationOutOfBounds);
    // Pointed at the strings block's tail, it runs to totalsize without (0, 0).
    CHECK(validate_error(with(h_off_rsvmap, (static_cast<std::uint32_t>(good.size()) - 8) & ~7u)) ==
          Error::ReservationUnterminated);

    // Structure and strings blocks.
    const std::uint32_t off_struct = get32(good, h_off_struct);
    CHECK(validate_error(with(h_off_struct, off_struct + 2)) == Error::StructMisaligned);
    CHECK(validate_error(with(h_off_struct, 0x10000)) == Error::StructOutOfBounds);
    CHECK(validate_error(with(h_off_struct, 36)) == Error::StructOutOfBounds);  // inside the header
    CHECK(validate_error(with(h_size_struct, 0x10000)) == Error::StructOutOfBounds);
    CHECK(validate_error(with(h_size_struct, 0xFFFF'FFF0)) == Error::StructOutOfBounds);  // no wrap-around
    CHECK(validate_error(with(h_off_strings, 0x10000)) == Error::StringsOutOfBounds);
    CHECK(validate_error(with(h_size_strings, get32(good, h_size_strings) + 1)) == Error::StringsOutOfBounds);
    // A shorter size_dt_struct cuts the walk before FDT_END.
    CHECK(validate_error(with(h_size_struct, get32(good, h_size_struct) - 4)) == Error::MissingEnd);
    CHECK(validate_error(with(h_size_struct, get32(good, h_size_struct) + 4)) == Error::TokensAfterEnd);
}

TEST_CASE("fdt: the structure block's tokens") {
    auto root_only = [] { return Writer{}.begin("").end_node(); };
    CHECK_FALSE(fdt::validate(root_only().end().build()).has_value());

    // NOPs may appear anywhere between tokens.
    Writer nops;
    nops.nop().begin("").nop().prop("a", cells({1})).nop().begin("child").nop().end_node().nop().end_node().nop().end();
    const Blob with_nops = nops.build();
    const auto tree = fdt::Tree::open(with_nops);
    REQUIRE(tree.ok());
    CHECK(property_names(*tree, tree->root()) == std::vector<std::string>{"a"});
    CHECK(child_names(*tree, tree->root()) == std::vector<std::string>{"child"});
    CHECK(tree->find("/child"));

    CHECK(validate_error(Writer{}.nop().end().build()) == Error::NoRootNode);
    CHECK(validate_error(root_only().begin("").end_node().end().build()) == Error::SecondRootNode);
    CHECK(validate_error(root_only().prop("a", {}).end().build()) == Error::PropertyOutsideNode);
    CHECK(validate_error(Writer{}.prop("a", {}).begin("").end_node().end().build()) == Error::PropertyOutsideNode);
    CHECK(validate_error(Writer{}.begin("").end().build()) == Error::UnbalancedNodes);
    CHECK(validate_error(root_only().end_node().end().build()) == Error::UnbalancedNodes);
    CHECK(validate_error(root_only().build()) == Error::MissingEnd);
    CHECK(validate_error(root_only().end().nop().build()) == Error::TokensAfterEnd);
    CHECK(validate_error(root_only().end().end().build()) == Error::TokensAfterEnd);
    CHECK(validate_error(Writer{}.begin("").word(5).end_node().end().build()) == Error::UnknownToken);
    CHECK(validate_error(Writer{}.begin("").word(0).end_node().end().build()) == Error::UnknownToken);
    CHECK(validate_error(
              Writer{}.begin("").begin("child").end_node().prop("late", cells({1})).end_node().end().build()) ==
          Error::PropertyAfterChild);

    // A node name that runs to the end of the structure block.
    Writer unterminated;
    unterminated.begin("").word(fdt::token_begin_node);
    for (char c : std::string_view("abcdefgh")) unterminated.structure.push_back(static_cast<std::uint8_t>(c));
    CHECK(validate_error(unterminated.build()) == Error::UnterminatedNodeName);

    // A property whose value, or whose own header, runs past the block.
    Writer long_value = Writer{}.begin("");
    long_value.word(fdt::token_prop).word(64).word(long_value.name_offset("a")).word(0).end_node().end();
    CHECK(validate_error(long_value.build()) == Error::PropertyPastStruct);
    Writer short_header = Writer{}.begin("");
    short_header.word(fdt::token_prop).word(0);
    CHECK(validate_error(short_header.build()) == Error::PropertyPastStruct);
    Writer huge_value = Writer{}.begin("");
    huge_value.word(fdt::token_prop).word(0xFFFF'FFFC).word(huge_value.name_offset("a")).end_node().end();
    CHECK(validate_error(huge_value.build()) == Error::PropertyPastStruct);

    // Property names in the strings block.
    Writer bad_nameoff = Writer{}.begin("").prop("a", {});
    bad_nameoff.prop_at(static_cast<std::uint32_t>(bad_nameoff.strings.size()), {}).end_node().end();
    CHECK(validate_error(bad_nameoff.build()) == Error::NameOffsetOutOfBounds);
    Writer unterminated_name = Writer{}.begin("").prop("a", {}).prop_at(2, {}).end_node().end();
    unterminated_name.strings.push_back('b');  // "a\0b": no NUL after offset 2
    CHECK(validate_error(unterminated_name.build()) == Error::UnterminatedPropertyName);
}

TEST_CASE("fdt: nesting is bounded at 64 levels") {
    auto nested = [](int levels) {
        Writer w;
        for (int i = 0; i < levels; ++i) w.begin(i == 0 ? "" : "n");
        for (int i = 0; i < levels; ++i) w.end_node();
        return w.end().build();
    };
    const Blob deepest = nested(64);
    const auto tree = fdt::Tree::open(deepest);
    REQUIRE(tree.ok());
    std::string path;
    for (int i = 1; i < 64; ++i) path += "/n";
    CHECK(tree->find(path));
    CHECK(validate_error(nested(65)) == Error::TooDeep);
    CHECK(validate_error(nested(10000)) == Error::TooDeep);
}

TEST_CASE("fdt: property values") {
    CHECK(fdt::check_guest_dtb(Guest{}.build(), guest_ram).ok());

    // bootargs must be a NUL-terminated string; an empty one is fine.
    Guest unterminated;
    unterminated.bootargs = str("console=ttyS0", false);
    CHECK(check_error(unterminated.build()) == Error::UnterminatedString);
    CHECK(fdt::Tree::open(unterminated.build())->bootargs().error() == Error::UnterminatedString);
    Guest empty_args;
    empty_args.bootargs = str("");
    CHECK(*fdt::check_guest_dtb(empty_args.build(), guest_ram)->bootargs().value() == "");
    Guest no_args;
    no_args.bootargs.reset();
    CHECK_FALSE(fdt::check_guest_dtb(no_args.build(), guest_ram)->bootargs().value());

    // initrd: both or neither, 32- or 64-bit each (mixed is fine), start <= end.
    Guest mixed;
    mixed.initrd_start = cells({0x8400'0000});
    CHECK(*fdt::check_guest_dtb(mixed.build(), guest_ram)->initrd().value() == Range{0x8400'0000, 0x20'0000});
    Guest none;
    none.initrd_start.reset();
    none.initrd_end.reset();
    CHECK_FALSE(fdt::check_guest_dtb(none.build(), guest_ram)->initrd().value());
    Guest start_only;
    start_only.initrd_end.reset();
    CHECK(check_error(start_only.build()) == Error::InitrdIncomplete);
    Guest odd_size;
    odd_size.initrd_end = Blob{0, 0, 0x84};
    CHECK(check_error(odd_size.build()) == Error::BadInitrdValue);
    Guest three_cells;
    three_cells.initrd_end = cells({0, 0, 0x8420'0000});
    CHECK(check_error(three_cells.build()) == Error::BadInitrdValue);
    Guest reversed;
    reversed.initrd_start = cells({0, 0x8420'0001});
    CHECK(check_error(reversed.build()) == Error::InitrdReversed);
    Guest empty_initrd;
    empty_initrd.initrd_end = empty_initrd.initrd_start;
    CHECK(*fdt::check_guest_dtb(empty_initrd.build(), guest_ram)->initrd().value() == Range{0x8400'0000, 0});

    // reg in the root's cells: absent cells mean 2 and 1 (spec 2.3.5).
    Guest default_cells;
    default_cells.root_cells = false;
    default_cells.memory_reg = cells({0, 0x8000'0000, 0x0800'0000});
    CHECK(fdt::check_guest_dtb(default_cells.build(), guest_ram).ok());
    Guest bad_reg;
    bad_reg.memory_reg = cells({0, 0x8000'0000, 0x0800'0000});  // 3 cells in 2 + 2 ones
    CHECK(check_error(bad_reg.build()) == Error::BadReg);

    Writer cells_bytes = Writer{}.begin("").prop("#address-cells", Blob{0, 2}).begin("memory");
    cells_bytes.prop("device_type", str("memory")).prop("reg", cells({0, 0x8000'0000, 0x1000}));
    const Blob bad_cells = cells_bytes.end_node().end_node().end().build();
    CHECK(check_error(bad_cells) == Error::BadCellsProperty);
    Writer three = Writer{}.begin("").prop("#address-cells", cells({3})).begin("memory");
    three.prop("device_type", str("memory")).prop("reg", cells({0, 0, 0x8000'0000, 0x1000}));
    CHECK(check_error(three.end_node().end_node().end().build()) == Error::UnsupportedCells);
}

TEST_CASE("fdt: the tree against the VM's RAM") {
    // Memory: found by device_type, wherever it is named, and inside RAM.
    Guest outside;
    outside.memory_reg = cells({0, 0x8000'0000, 0, 0x0800'1000});  // 4 KiB too many
    CHECK(check_error(outside.build()) == Error::MemoryOutsideRam);
    Guest wraps;
    wraps.memory_reg = cells({0xFFFF'FFFF, 0xFFFF'F000, 0, 0x2000});
    CHECK(check_error(wraps.build()) == Error::MemoryOutsideRam);
    Guest second_range;
    second_range.memory_reg = cells({0, 0x8000'0000, 0, 0x1000, 0, 0x9000'0000, 0, 0x1000});
    CHECK(check_error(second_range.build()) == Error::MemoryOutsideRam);
    Guest not_memory;
    not_memory.memory_type = "ram";
    CHECK(check_error(not_memory.build()) == Error::NoMemory);
    Guest empty;
    empty.memory_reg = cells({0, 0x9000'0000, 0, 0});  // size 0: skipped, as Linux does
    CHECK(check_error(empty.build()) == Error::NoMemory);
    Guest disabled;
    disabled.memory_reg = outside.memory_reg;
    disabled.memory_status = "disabled";
    CHECK(check_error(disabled.build()) == Error::NoMemory);
    Guest okay;
    okay.memory_status = "okay";
    CHECK(fdt::check_guest_dtb(okay.build(), guest_ram).ok());

    Writer renamed = Writer{}.begin("").prop("#address-cells", cells({1})).prop("#size-cells", cells({1}));
    renamed.begin("dram").prop("device_type", str("memory")).prop("reg", cells({0x9000'0000, 0x1000})).end_node();
    const Blob renamed_blob = renamed.end_node().end().build();
    CHECK(check_error(renamed_blob) == Error::MemoryOutsideRam);
    constexpr std::array<Range, 1> high{{{0x9000'0000, 0x1000}}};
    CHECK(fdt::check_guest_dtb(renamed_blob, high).ok());

    // The initrd inside RAM too.
    Guest initrd_out;
    initrd_out.initrd_start = cells({0, 0x87ff'f000});
    initrd_out.initrd_end = cells({0, 0x8800'1000});
    CHECK(check_error(initrd_out.build()) == Error::InitrdOutsideRam);
    Guest initrd_last_byte;
    initrd_last_byte.initrd_start = cells({0, 0x87ff'f000});
    initrd_last_byte.initrd_end = cells({0, 0x8800'0000});
    CHECK(fdt::check_guest_dtb(initrd_last_byte.build(), guest_ram).ok());

    // A malformed blob is refused before anything else.
    Blob bad = Guest{}.build();
    bad[0] ^= 0xFF;
    CHECK(check_error(bad) == Error::BadMagic);
    CHECK(check_error({}) == Error::TooSmall);
}

TEST_CASE("fdt: inside() and the cell readers") {
    constexpr std::array<Range, 3> ram{{{0x1000, 0x1000}, {0x2000, 0x1000}, {0xFFFF'FFFF'FFFF'F000, 0x1000}}};
    CHECK(fdt::inside(ram, {0x1000, 0x2000}));  // across two adjacent regions
    CHECK(fdt::inside(ram, {0x2FFF, 1}));
    CHECK_FALSE(fdt::inside(ram, {0x2FFF, 2}));
    CHECK_FALSE(fdt::inside(ram, {0xFFF, 2}));
    CHECK(fdt::inside(ram, {0xFFFF'FFFF'FFFF'F000, 0x1000}));  // up to the top of the address space
    CHECK_FALSE(fdt::inside(ram, {0xFFFF'FFFF'FFFF'F000, 0x1001}));  // wraps
    CHECK(fdt::inside(ram, {0x9999, 0}));
    CHECK_FALSE(fdt::inside({}, {0x1000, 1}));

    const Blob b = cells({0x1122'3344, 0x5566'7788, 0x99aa'bbcc});
    CHECK(fdt::read_u32(b, 8) == 0x99aa'bbccu);
    CHECK_FALSE(fdt::read_u32(b, 9));
    CHECK_FALSE(fdt::read_u32(b, 100));
    CHECK(fdt::read_u64(b, 4) == 0x5566'7788'99aa'bbccull);
    CHECK_FALSE(fdt::read_u64(b, 8));
    CHECK(fdt::read_cells(b, 1, 1) == 0x5566'7788u);
    CHECK(fdt::read_cells(b, 0, 2) == 0x1122'3344'5566'7788ull);
    CHECK(fdt::read_cells(b, 3, 0) == 0u);
    CHECK_FALSE(fdt::read_cells(b, 2, 2));
    CHECK_FALSE(fdt::read_cells(b, 0, 3));
}

TEST_CASE("fdt: lookups on a made-up node stay inside the blob") {
    const Blob blob = read_dtb("riscv64_virt");
    const auto tree = fdt::Tree::open(blob);
    REQUIRE(tree.ok());
    for (std::uint32_t offset : {1u, 2u, 3u, 5u, 0x100u, 0x101u, 0xFFFF'FFF0u}) {
        const fdt::Node node{offset, 0};
        (void)tree->name(node);
        (void)tree->first_child(node);
        (void)tree->next_sibling(node);
        (void)tree->first_property(node);
        (void)tree->property(node, "reg");
        (void)tree->reg(node);
    }
    const fdt::Tree empty;
    CHECK_FALSE(empty.find("/"));
    CHECK_FALSE(empty.first_child(empty.root()));
    CHECK_FALSE(empty.bootargs().value());
}
}  // namespace fdt_test
