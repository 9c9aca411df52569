// A flattened device tree (DTB) reader for the VMM. The user places a Linux
// guest's DTB in guest RAM and the VMM hands vCPU 0 its address; before it
// does, it checks the blob with `check_guest_dtb`: a missing or malformed
// DTB, or one whose memory or initrd lies outside the VM's RAM, is refused
// with a message (`describe`) instead of letting the kernel boot on garbage.
//
// Format: Devicetree Specification v0.4, chapter 5 ("Flattened Devicetree
// (DTB) Format"); section numbers below are that document's.
//
// Pure and freestanding (no heap, no exceptions, no virtual functions, no
// library calls): every read is bounds-checked against the span it is given,
// so no input, however corrupt, makes it read outside the blob. `validate`
// walks the blob once (O(size)); a `Tree` exists only for a blob that passed.
//
//   auto dtb = vmm::fdt::check_guest_dtb(blob, ram);   // Result<Tree>
//   if (!dtb) print(vmm::fdt::describe(dtb.error()));
//   auto args = dtb->bootargs();                        // Result<optional<string_view>>
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vmm::fdt {

// Literal names as "..."sv: their length is known at compile time, where a
// plain "..." converted to string_view may call strlen, even at -O0.
using namespace std::string_view_literals;

using Bytes = std::span<const std::uint8_t>;

enum class Error : std::uint8_t {
    // Header (5.2).
    TooSmall,
    BadMagic,
    TotalSizeTooLarge,
    TotalSizeTooSmall,
    VersionTooOld,
    VersionTooNew,
    // Block placement (5.3 - 5.6).
    ReservationMisaligned,
    ReservationOutOfBounds,
    ReservationUnterminated,
    StructMisaligned,
    StructOutOfBounds,
    StringsOutOfBounds,
    // The structure block's tokens (5.4).
    NoRootNode,
    SecondRootNode,
    UnterminatedNodeName,
    PropertyPastStruct,
    PropertyOutsideNode,
    PropertyAfterChild,
    NameOffsetOutOfBounds,
    UnterminatedPropertyName,
    UnbalancedNodes,
    MissingEnd,
    TokensAfterEnd,
    TooDeep,
    UnknownToken,
    // Property values (chapter 2 and 3); the blob itself is well formed.
    BadCellsProperty,
    UnsupportedCells,
    BadReg,
    UnterminatedString,
    BadInitrdValue,
    InitrdIncomplete,
    InitrdReversed,
    // The blob against the VM (check_guest_dtb).
    NoMemory,
    MemoryOutsideRam,
    InitrdOutsideRam,
};

constexpr const char* describe(Error error) noexcept {
    switch (error) {
        case Error::TooSmall: return "blob shorter than a device tree header";
        case Error::BadMagic: return "bad magic: not a device tree blob";
        case Error::TotalSizeTooLarge: return "totalsize larger than the space given";
        case Error::TotalSizeTooSmall: return "totalsize smaller than the header";
        case Error::VersionTooOld: return "version older than 16";
        case Error::VersionTooNew: return "last_comp_version newer than 17: an incompatible format";
        case Error::ReservationMisaligned: return "memory reservation block not 8-byte aligned";
        case Error::ReservationOutOfBounds: return "memory reservation block out of bounds";
        case Error::ReservationUnterminated: return "memory reservation block has no (0, 0) entry before totalsize";
        case Error::StructMisaligned: return "structure block not 4-byte aligned";
        case Error::StructOutOfBounds: return "structure block out of bounds";
        case Error::StringsOutOfBounds: return "strings block out of bounds";
        case Error::NoRootNode: return "no root node";
        case Error::SecondRootNode: return "more than one root node";
        case Error::UnterminatedNodeName: return "unterminated node name";
        case Error::PropertyPastStruct: return "property past the structure block";
        case Error::PropertyOutsideNode: return "property outside any node";
        case Error::PropertyAfterChild: return "property after a child node";
        case Error::NameOffsetOutOfBounds: return "property name offset outside the strings block";
        case Error::UnterminatedPropertyName: return "property name not NUL-terminated in the strings block";
        case Error::UnbalancedNodes: return "unbalanced nodes";
        case Error::MissingEnd: return "missing FDT_END";
        case Error::TokensAfterEnd: return "FDT_END is not the last token of the structure block";
        case Error::TooDeep: return "too deeply nested (more than 64 levels)";
        case Error::UnknownToken: return "unknown token in the structure block";
        case Error::BadCellsProperty: return "#address-cells or #size-cells is not one 32-bit cell";
        case Error::UnsupportedCells: return "#address-cells not 1 or 2, or #size-cells above 2";
        case Error::BadReg: return "reg is not a whole number of (address, size) entries";
        case Error::UnterminatedString: return "string property not NUL-terminated";
        case Error::BadInitrdValue: return "linux,initrd-start or linux,initrd-end is not a 32- or 64-bit value";
        case Error::InitrdIncomplete: return "only one of linux,initrd-start and linux,initrd-end";
        case Error::InitrdReversed: return "linux,initrd-start after linux,initrd-end";
        case Error::NoMemory: return "no memory node (device_type \"memory\") with a non-empty reg";
        case Error::MemoryOutsideRam: return "a memory node's reg range is outside the VM's RAM";
        case Error::InitrdOutsideRam: return "the initrd (linux,initrd-start .. end) is outside the VM's RAM";
    }
    return "unknown device tree error";
}

// A value or the Error that prevented it (the header stays light: no
// Boost.Outcome). value() / operator* only when ok.
template <class T>
class [[nodiscard]] Result {
public:
    constexpr Result(T value) noexcept : value_(value), ok_(true) {}
    constexpr Result(Error error) noexcept : error_(error) {}
    constexpr explicit operator bool() const noexcept { return ok_; }
    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    [[nodiscard]] constexpr Error error() const noexcept { return error_; }
    [[nodiscard]] constexpr const T& value() const noexcept { return value_; }
    constexpr const T& operator*() const noexcept { return value_; }
    constexpr const T* operator->() const noexcept { return &value_; }

private:
    T value_{};
    Error error_{};
    bool ok_ = false;
};

// A guest-physical range: a VM's RAM region, a reg entry, an initrd, a
// memory reservation.
struct Range {
    std::uint64_t base = 0;
    std::uint64_t size = 0;
    friend constexpr bool operator==(const Range&, const Range&) = default;
};

// Big-endian reads (5.2: header fields; 2.2.4: cells), bounds-checked:
// nothing when the value does not fit in `bytes` from `at`.
constexpr std::optional<std::uint32_t> read_u32(Bytes bytes, std::size_t at = 0) noexcept {
    if (at > bytes.size() || bytes.size() - at < 4) return std::nullopt;
    return static_cast<std::uint32_t>(bytes[at]) << 24 | static_cast<std::uint32_t>(bytes[at + 1]) << 16 |
           static_cast<std::uint32_t>(bytes[at + 2]) << 8 | static_cast<std::uint32_t>(bytes[at + 3]);
}
constexpr std::optional<std::uint64_t> read_u64(Bytes bytes, std::size_t at = 0) noexcept {
    const auto high = read_u32(bytes, at);
    const auto low = high ? read_u32(bytes, at + 4) : std::nullopt;
    if (!low) return std::nullopt;
    return std::uint64_t{*high} << 32 | *low;
}
// `count` (0, 1 or 2) 32-bit cells from cell `first` on, as one number (a
// reg address or size, 2.3.6); nothing when they do not fit or count > 2.
constexpr std::optional<std::uint64_t> read_cells(Bytes bytes, std::size_t first, std::uint32_t count) noexcept {
    if (first > bytes.size() / 4) return std::nullopt;
    if (count == 0) return std::uint64_t{0};
    if (count == 1) return read_u32(bytes, first * 4);
    if (count == 2) return read_u64(bytes, first * 4);
    return std::nullopt;
}

// Does `ram` (possibly several adjacent regions) hold all of `r`? An empty
// range trivially is; a range that wraps past 2^64 never is.
constexpr bool inside(std::span<const Range> ram, Range r) noexcept {
    constexpr std::uint64_t top = ~std::uint64_t{0};
    if (r.size == 0) return true;
    if (r.size - 1 > top - r.base) return false;
    const std::uint64_t last = r.base + (r.size - 1);
    std::uint64_t at = r.base;
    // Each round moves `at` past the end of a region it has not used yet.
    for (std::size_t round = 0; round < ram.size(); ++round) {
        const Range* holder = nullptr;
        for (const Range& region : ram) {
            if (region.size != 0 && region.base <= at && at - region.base <= region.size - 1) holder = &region;
        }
        if (holder == nullptr) return false;
        const std::uint64_t holder_last =
            holder->size - 1 > top - holder->base ? top : holder->base + (holder->size - 1);
        if (holder_last >= last) return true;
        at = holder_last + 1;
    }
    return false;
}

// The header (5.2), as read. For a version 16 blob, which has no
// size_dt_struct field, size_dt_struct is the structure block's length up
// to and including FDT_END.
struct Header {
    std::uint32_t magic = 0;
    std::uint32_t totalsize = 0;
    std::uint32_t off_dt_struct = 0;
    std::uint32_t off_dt_strings = 0;
    std::uint32_t off_mem_rsvmap = 0;
    std::uint32_t version = 0;
    std::uint32_t last_comp_version = 0;
    std::uint32_t boot_cpuid_phys = 0;
    std::uint32_t size_dt_strings = 0;
    std::uint32_t size_dt_struct = 0;
};

inline constexpr std::uint32_t magic = 0xd00dfeed;
// Structure block tokens (5.4.1, "Lexical structure").
inline constexpr std::uint32_t token_begin_node = 1;
inline constexpr std::uint32_t token_end_node = 2;
inline constexpr std::uint32_t token_prop = 3;
inline constexpr std::uint32_t token_nop = 4;
inline constexpr std::uint32_t token_end = 9;
// Nesting bound (the root is level 1): keeps every walk's depth counter,
// and any recursive user, bounded. Linux's unflattener stops at 64 too.
inline constexpr std::uint32_t max_depth = 64;

// #address-cells / #size-cells of a node's children (2.3.5).
struct Cells {
    std::uint32_t address = 2;
    std::uint32_t size = 1;
};

// A node's reg (2.3.6): (address, size) entries, each `cells.address` +
// `cells.size` cells.
class Reg {
public:
    constexpr Reg() noexcept = default;
    constexpr Reg(Bytes bytes, Cells cells) noexcept : bytes_(bytes), cells_(cells) {}
    [[nodiscard]] constexpr std::size_t size() const noexcept {
        const std::size_t entry = std::size_t{cells_.address + cells_.size} * 4;
        return entry == 0 ? 0 : bytes_.size() / entry;
    }
    // Entry `i`; an empty range past the end.
    [[nodiscard]] constexpr Range operator[](std::size_t i) const noexcept {
        if (i >= size()) return {};
        const std::size_t first = i * (cells_.address + cells_.size);
        return {read_cells(bytes_, first, cells_.address).value_or(0),
                read_cells(bytes_, first + cells_.address, cells_.size).value_or(0)};
    }
    [[nodiscard]] constexpr Cells cells() const noexcept { return cells_; }

private:
    Bytes bytes_;
    Cells cells_{};
};

// A node: where its FDT_BEGIN_NODE token is in the structure block, and its
// parent's (so reg can find the parent's #address-cells / #size-cells).
// Made by Tree's lookups; one made up by hand is read safely but means
// nothing.
struct Node {
    static constexpr std::uint32_t no_parent = ~std::uint32_t{0};
    std::uint32_t offset = 0;
    std::uint32_t parent = no_parent;
    friend constexpr bool operator==(const Node&, const Node&) = default;
};

// A property (5.4.1 FDT_PROP): its name (from the strings block), its value,
// and where its token is (for next_property).
struct Property {
    std::string_view name;
    Bytes value;
    std::uint32_t offset = 0;
};

namespace detail {

constexpr std::uint32_t be32(Bytes bytes, std::size_t at) noexcept { return read_u32(bytes, at).value_or(0); }
constexpr std::uint64_t be64(Bytes bytes, std::size_t at) noexcept { return read_u64(bytes, at).value_or(0); }
constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

// Is [base, base + size) inside [header_size, totalsize)? (libfdt's
// check_block_: no block overlaps the header, none runs past totalsize.)
constexpr bool block_inside(std::uint64_t header_size, std::uint64_t totalsize, std::uint64_t base,
                            std::uint64_t size) noexcept {
    return base >= header_size && base <= totalsize && size <= totalsize - base;
}

// What validate found: the blob up to totalsize and its blocks.
struct Layout {
    Header header;
    Bytes structure;     // up to and including FDT_END
    Bytes strings;
    Bytes reservations;  // the entries, without the (0, 0) one
};

// One pass over the structure block (5.4): every token inside it, names
// NUL-terminated inside it, property names inside the strings block (5.4.1),
// one root node, balanced, properties before children (5.4.2: a node's
// properties precede its subnodes; libfdt, and so Linux, cannot see a
// property after a child), at most max_depth deep, and FDT_END the only and
// last token after the root (5.4.1).
// `exact_end`: the block's size is known (version 17), so FDT_END must end
// it exactly. Returns the length through FDT_END.
constexpr Result<std::size_t> walk_structure(Bytes s, Bytes strings, bool exact_end) noexcept {
    // A name at offset n is NUL-terminated inside the strings block iff a
    // NUL lies at or after n: finding the last NUL once keeps the walk O(size).
    std::size_t strings_end = 0;  // one past the last NUL; 0: none
    for (std::size_t i = strings.size(); i > 0; --i) {
        if (strings[i - 1] == 0) {
            strings_end = i;
            break;
        }
    }
    std::size_t at = 0;
    std::uint32_t depth = 0;
    bool root_seen = false;
    bool had_child = false;  // the open node has had a child: no more properties
    for (;;) {
        if (at > s.size() || s.size() - at < 4) return Error::MissingEnd;
        switch (be32(s, at)) {
            case token_begin_node: {
                if (depth == 0 && root_seen) return Error::SecondRootNode;
                if (depth == max_depth) return Error::TooDeep;
                std::size_t i = at + 4;
                while (i < s.size() && s[i] != 0) ++i;
                if (i >= s.size()) return Error::UnterminatedNodeName;
                at = align4(i + 1);
                ++depth;
                root_seen = true;
                had_child = false;
                break;
            }
            case token_end_node:
                if (depth == 0) return Error::UnbalancedNodes;
                --depth;
                had_child = true;
                at += 4;
                break;
            case token_prop: {
                if (depth == 0) return Error::PropertyOutsideNode;
                if (had_child) return Error::PropertyAfterChild;
                if (s.size() - at < 12) return Error::PropertyPastStruct;
                const std::uint32_t len = be32(s, at + 4);
                const std::uint32_t nameoff = be32(s, at + 8);
                if (len > s.size() - at - 12) return Error::PropertyPastStruct;
                if (nameoff >= strings.size()) return Error::NameOffsetOutOfBounds;
                if (nameoff >= strings_end) return Error::UnterminatedPropertyName;
                at = align4(at + 12 + len);
                break;
            }
            case token_nop:
                at += 4;
                break;
            case token_end:
                if (depth != 0) return Error::UnbalancedNodes;
                if (!root_seen) return Error::NoRootNode;
                at += 4;
                if (exact_end && at != s.size()) return Error::TokensAfterEnd;
                return at;
            default:
                return Error::UnknownToken;
        }
    }
}

// The header against the buffer and the blocks against totalsize (5.2 -
// 5.5), then the structure walk.
constexpr Result<Layout> parse(Bytes blob) noexcept {
    if (blob.size() < 4) return Error::TooSmall;
    if (be32(blob, 0) != magic) return Error::BadMagic;
    if (blob.size() < 40) return Error::TooSmall;
    Header h{be32(blob, 0),  be32(blob, 4),  be32(blob, 8),  be32(blob, 12), be32(blob, 16),
             be32(blob, 20), be32(blob, 24), be32(blob, 28), be32(blob, 32), be32(blob, 36)};
    // 5.1, 5.2: a reader of version 17 accepts any blob backwards
    // compatible with 17 (last_comp_version <= 17); this one also reads
    // version 16 (same layout without size_dt_struct). Before 16, node
    // names were full paths.
    if (h.version < 16) return Error::VersionTooOld;
    if (h.last_comp_version > 17) return Error::VersionTooNew;
    // Version 16's header ends before size_dt_struct.
    const std::uint32_t header_size = h.version >= 17 ? 40 : 36;
    if (h.totalsize > blob.size()) return Error::TotalSizeTooLarge;
    if (h.totalsize < header_size) return Error::TotalSizeTooSmall;
    const Bytes whole = blob.first(h.totalsize);

    // 5.3: 8-byte aligned (relative to the blob, which must itself be
    // 8-byte aligned in guest memory), (address, size) pairs up to (0, 0).
    if (h.off_mem_rsvmap % 8 != 0) return Error::ReservationMisaligned;
    if (!block_inside(header_size, h.totalsize, h.off_mem_rsvmap, 0)) return Error::ReservationOutOfBounds;
    std::size_t entries = 0;
    for (std::size_t at = h.off_mem_rsvmap;; at += 16) {
        if (h.totalsize - at < 16) return Error::ReservationUnterminated;
        if (be64(whole, at) == 0 && be64(whole, at + 8) == 0) break;
        ++entries;
    }

    // 5.4: 4-byte aligned; version 16 gives no size, so the block may run
    // to totalsize and ends at FDT_END.
    if (h.off_dt_struct % 4 != 0) return Error::StructMisaligned;
    if (h.version < 17) {
        if (!block_inside(header_size, h.totalsize, h.off_dt_struct, 0)) return Error::StructOutOfBounds;
        h.size_dt_struct = h.totalsize - h.off_dt_struct;
    } else if (!block_inside(header_size, h.totalsize, h.off_dt_struct, h.size_dt_struct)) {
        return Error::StructOutOfBounds;
    }
    // 5.5: no alignment requirement; placement after the header as libfdt's
    // fdt_check_header asks of every block.
    if (!block_inside(header_size, h.totalsize, h.off_dt_strings, h.size_dt_strings)) {
        return Error::StringsOutOfBounds;
    }
    const Bytes strings = whole.subspan(h.off_dt_strings, h.size_dt_strings);
    const Result<std::size_t> used =
        walk_structure(whole.subspan(h.off_dt_struct, h.size_dt_struct), strings, h.version >= 17);
    if (!used) return used.error();
    h.size_dt_struct = static_cast<std::uint32_t>(*used);
    return Layout{h, whole.subspan(h.off_dt_struct, *used), strings,
                  whole.subspan(h.off_mem_rsvmap, entries * 16)};
}

}  // namespace detail

// Nothing if `blob` is a well-formed device tree blob (header, blocks and
// the whole structure block checked, see detail::parse and
// detail::walk_structure), else the first thing wrong with it. `blob` may
// be longer than the DTB's totalsize (the rest of guest RAM, say).
[[nodiscard]] constexpr std::optional<Error> validate(Bytes blob) noexcept {
    const Result<detail::Layout> layout = detail::parse(blob);
    if (!layout) return layout.error();
    return std::nullopt;
}

// Lookups over a validated blob. Every walk still reads through bounds
// checks, so even a hand-made Node cannot make it read outside the blob.
// The blob must stay alive and unchanged while the Tree is used.
class Tree {
public:
    // An empty tree (no root); Tree::open makes real ones.
    constexpr Tree() noexcept = default;

    [[nodiscard]] static constexpr Result<Tree> open(Bytes blob) noexcept {
        const Result<detail::Layout> layout = detail::parse(blob);
        if (!layout) return layout.error();
        return Tree(*layout);
    }

    [[nodiscard]] constexpr const Header& header() const noexcept { return layout_.header; }

    // The memory reservation block (5.3): entries other than the final (0, 0).
    [[nodiscard]] constexpr std::size_t reservation_count() const noexcept {
        return layout_.reservations.size() / 16;
    }
    [[nodiscard]] constexpr Range reservation(std::size_t i) const noexcept {
        if (i >= reservation_count()) return {};
        return {detail::be64(layout_.reservations, i * 16), detail::be64(layout_.reservations, i * 16 + 8)};
    }

    // The root node: the structure block's first node (NOPs may precede it).
    [[nodiscard]] constexpr Node root() const noexcept { return Node{static_cast<std::uint32_t>(skip_nops(0)), Node::no_parent}; }

    // The node's name as stored, unit address included ("memory@80000000");
    // the root's is empty.
    [[nodiscard]] constexpr std::string_view name(Node node) const noexcept {
        if (token(node.offset) != token_begin_node) return {};
        const std::size_t first = std::size_t{node.offset} + 4;
        std::size_t i = first;
        while (i < s().size() && s()[i] != 0) ++i;
        return chars(s().subspan(first, i - first));
    }

    [[nodiscard]] constexpr std::optional<Node> first_child(Node node) const noexcept {
        if (token(node.offset) != token_begin_node) return std::nullopt;
        std::size_t at = after(node.offset);
        while (token(at) == token_nop || token(at) == token_prop) at = after(at);
        if (token(at) != token_begin_node) return std::nullopt;
        return Node{static_cast<std::uint32_t>(at), node.offset};
    }
    [[nodiscard]] constexpr std::optional<Node> next_sibling(Node node) const noexcept {
        if (token(node.offset) != token_begin_node) return std::nullopt;
        const std::size_t at = skip_nops(past_node(node.offset));
        // The root has no siblings: after it only FDT_END follows (validated).
        if (node.parent == Node::no_parent || token(at) != token_begin_node) return std::nullopt;
        return Node{static_cast<std::uint32_t>(at), node.parent};
    }

    // The node at an absolute path ("/", "/chosen"sv, "/soc/uart@10000000"),
    // the way libfdt's fdt_path_offset finds it: repeated and trailing '/'
    // are ignored; each component is compared with the children's names in
    // blob order and the first that matches wins, where a component matches
    // a name equal to it, or, if the component has no '@', a name that is
    // the component followed by '@' and a unit address ("/memory" finds
    // "memory@80000000", or "memory"sv if that comes first). Nothing for a
    // relative path (aliases are not looked up) or no match.
    [[nodiscard]] constexpr std::optional<Node> find(std::string_view path) const noexcept {
        if (path.empty() || path.front() != '/') return std::nullopt;
        Node node = root();
        if (token(node.offset) != token_begin_node) return std::nullopt;
        std::size_t i = 0;
        for (;;) {
            while (i < path.size() && path[i] == '/') ++i;
            if (i == path.size()) return node;
            std::size_t j = i;
            while (j < path.size() && path[j] != '/') ++j;
            const std::string_view component(path.data() + i, j - i);
            std::optional<Node> child = first_child(node);
            while (child && !matches(name(*child), component)) child = next_sibling(*child);
            if (!child) return std::nullopt;
            node = *child;
            i = j;
        }
    }

    // Does a node named `name` match the path component `component` (find's rule)?
    // (Plain loops and no substr: string_view's find and substr may call
    // memchr or throw, which a kernel does not link.)
    static constexpr bool matches(std::string_view name, std::string_view component) noexcept {
        if (name == component) return true;
        for (const char c : component) {
            if (c == '@') return false;
        }
        return name.size() > component.size() && name[component.size()] == '@' &&
               std::string_view(name.data(), component.size()) == component;
    }

    // Properties in blob order.
    [[nodiscard]] constexpr std::optional<Property> first_property(Node node) const noexcept {
        if (token(node.offset) != token_begin_node) return std::nullopt;
        return property_at(skip_nops(after(node.offset)));
    }
    [[nodiscard]] constexpr std::optional<Property> next_property(const Property& property) const noexcept {
        if (token(property.offset) != token_prop) return std::nullopt;
        return property_at(skip_nops(after(property.offset)));
    }

    // The value of the node's first property called `name` (names are
    // unique in a node, 2.2.4, but nothing here relies on it).
    [[nodiscard]] constexpr std::optional<Bytes> property(Node node, std::string_view name) const noexcept {
        for (std::optional<Property> p = first_property(node); p; p = next_property(*p)) {
            if (p->name == name) return p->value;
        }
        return std::nullopt;
    }

    // A <string> property (2.2.4.1), up to its first NUL (the first string
    // of a <stringlist>); nothing if absent, UnterminatedString if the value
    // holds no NUL.
    [[nodiscard]] constexpr Result<std::optional<std::string_view>> string(Node node,
                                                                           std::string_view name) const noexcept {
        const std::optional<Bytes> value = property(node, name);
        if (!value) return std::optional<std::string_view>{};
        for (std::size_t i = 0; i < value->size(); ++i) {
            if ((*value)[i] == 0) return std::optional<std::string_view>{chars(value->first(i))};
        }
        return Error::UnterminatedString;
    }

    // status (2.3.4) absent, "okay"sv or (as Linux also accepts) "ok".
    [[nodiscard]] constexpr Result<bool> available(Node node) const noexcept {
        const auto status = string(node, "status"sv);
        if (!status) return status.error();
        return !*status || **status == "okay"sv || **status == "ok"sv;
    }

    // The #address-cells / #size-cells `node` gives its children (2.3.5):
    // 2 and 1 when absent; each, when present, exactly one cell.
    [[nodiscard]] constexpr Result<Cells> cells(Node node) const noexcept {
        Cells cells;
        if (const auto address = property(node, "#address-cells"sv)) {
            if (address->size() != 4) return Error::BadCellsProperty;
            cells.address = detail::be32(*address, 0);
        }
        if (const auto size = property(node, "#size-cells"sv)) {
            if (size->size() != 4) return Error::BadCellsProperty;
            cells.size = detail::be32(*size, 0);
        }
        return cells;
    }

    // The node's reg (2.3.6) in its parent's cells; empty if absent. Only
    // 1 or 2 address cells and 0 to 2 size cells are read (64-bit values).
    [[nodiscard]] constexpr Result<Reg> reg(Node node) const noexcept {
        const std::optional<Bytes> value = property(node, "reg"sv);
        if (!value) return Reg{};
        const Result<Cells> c = node.parent == Node::no_parent ? Result<Cells>{Cells{}}
                                                               : cells(Node{node.parent, Node::no_parent});
        if (!c) return c.error();
        if (c->address < 1 || c->address > 2 || c->size > 2) return Error::UnsupportedCells;
        if (value->size() % (std::size_t{c->address + c->size} * 4) != 0) return Error::BadReg;
        return Reg{*value, *c};
    }

    // /chosen's linux,initrd-start and linux,initrd-end (the end exclusive),
    // as Range{start, end - start}; each a 32- or 64-bit value, as Linux
    // reads them. Nothing if neither is there.
    [[nodiscard]] constexpr Result<std::optional<Range>> initrd() const noexcept {
        const std::optional<Node> chosen = find("/chosen"sv);
        if (!chosen) return std::optional<Range>{};
        const std::optional<Bytes> start = property(*chosen, "linux,initrd-start"sv);
        const std::optional<Bytes> end = property(*chosen, "linux,initrd-end"sv);
        if (!start && !end) return std::optional<Range>{};
        if (!start || !end) return Error::InitrdIncomplete;
        const std::optional<std::uint64_t> first = number(*start);
        const std::optional<std::uint64_t> past = number(*end);
        if (!first || !past) return Error::BadInitrdValue;
        if (*first > *past) return Error::InitrdReversed;
        return std::optional<Range>{Range{*first, *past - *first}};
    }

    // /chosen's bootargs (the kernel command line); nothing if absent.
    [[nodiscard]] constexpr Result<std::optional<std::string_view>> bootargs() const noexcept {
        const std::optional<Node> chosen = find("/chosen"sv);
        if (!chosen) return std::optional<std::string_view>{};
        return string(*chosen, "bootargs"sv);
    }

private:
    constexpr explicit Tree(const detail::Layout& layout) noexcept : layout_(layout) {}

    [[nodiscard]] constexpr Bytes s() const noexcept { return layout_.structure; }
    [[nodiscard]] constexpr std::uint32_t token(std::size_t at) const noexcept { return detail::be32(s(), at); }

    // Bytes of the blob as characters (names and strings are bytes, 2.2.4.1).
    static constexpr std::string_view chars(Bytes bytes) noexcept {
        if (bytes.empty()) return {};
        return {static_cast<const char*>(static_cast<const void*>(bytes.data())), bytes.size()};
    }

    // Where the token after the one at `at` starts; s().size() at most, so
    // walks always advance and stop at the end (token() there reads 0).
    [[nodiscard]] constexpr std::size_t after(std::size_t at) const noexcept {
        const std::size_t size = s().size();
        if (at >= size) return size;
        std::size_t next = size;
        switch (token(at)) {
            case token_begin_node: {
                std::size_t i = at + 4;
                while (i < size && s()[i] != 0) ++i;
                next = detail::align4(i + 1);
                break;
            }
            case token_prop: {
                const std::uint64_t len = token(at + 4);
                if (len <= size && at + 12 <= size - len) next = detail::align4(at + 12 + len);
                break;
            }
            case token_end_node:
            case token_nop:
            case token_end:
                next = at + 4;
                break;
            default:
                break;
        }
        return next < size ? next : size;
    }
    [[nodiscard]] constexpr std::size_t skip_nops(std::size_t at) const noexcept {
        while (token(at) == token_nop) at += 4;
        return at;
    }
    // Just past the FDT_END_NODE that closes the node at `at`.
    [[nodiscard]] constexpr std::size_t past_node(std::size_t at) const noexcept {
        std::size_t depth = 0;
        while (at < s().size()) {
            const std::uint32_t t = token(at);
            if (t == token_begin_node) {
                ++depth;
            } else if (t == token_end_node) {
                if (depth == 0) break;
                if (--depth == 0) return at + 4;
            } else if (t == token_end || depth == 0) {
                break;  // not inside a node: only a hand-made Node gets here
            }
            at = after(at);
        }
        return s().size();
    }
    [[nodiscard]] constexpr std::optional<Property> property_at(std::size_t at) const noexcept {
        if (token(at) != token_prop || s().size() - at < 12) return std::nullopt;
        const std::uint32_t len = token(at + 4);
        const std::uint32_t nameoff = token(at + 8);
        if (len > s().size() - at - 12) return std::nullopt;
        const Bytes strings = layout_.strings;
        if (nameoff >= strings.size()) return std::nullopt;
        std::size_t end = nameoff;
        while (end < strings.size() && strings[end] != 0) ++end;
        return Property{chars(strings.subspan(nameoff, end - nameoff)), s().subspan(at + 12, len),
                        static_cast<std::uint32_t>(at)};
    }
    static constexpr std::optional<std::uint64_t> number(Bytes value) noexcept {
        if (value.size() == 4) return read_u32(value);
        if (value.size() == 8) return read_u64(value);
        return std::nullopt;
    }

    detail::Layout layout_{};
};

// Is the DTB the user placed in guest RAM fit to boot Linux in this VM?
// `blob`: the guest memory from the DTB's address to the end of its RAM
// region; `ram`: the VM's RAM regions (guest-physical). Checks, in order:
// - the blob is well formed (validate);
// - each root child with device_type "memory"sv (Linux goes by device_type,
//   not the name, 3.4) that is available (status) has a reg in the root's
//   cells, and each non-empty range in it lies inside `ram`; at least one
//   such range exists;
// - /chosen's initrd, if any: both ends present, 32- or 64-bit, start <=
//   end, and inside `ram`;
// - /chosen's bootargs, if any, is NUL-terminated.
// The Tree on success, to read bootargs and the rest from.
[[nodiscard]] constexpr Result<Tree> check_guest_dtb(Bytes blob, std::span<const Range> ram) noexcept {
    const Result<Tree> tree = Tree::open(blob);
    if (!tree) return tree;
    bool memory = false;
    for (std::optional<Node> node = tree->first_child(tree->root()); node; node = tree->next_sibling(*node)) {
        const auto type = tree->string(*node, "device_type"sv);
        if (!type) return type.error();
        if (!*type || **type != "memory"sv) continue;
        const Result<bool> available = tree->available(*node);
        if (!available) return available.error();
        if (!*available) continue;
        const Result<Reg> reg = tree->reg(*node);
        if (!reg) return reg.error();
        for (std::size_t i = 0; i < reg->size(); ++i) {
            const Range range = (*reg)[i];
            if (range.size == 0) continue;  // Linux skips these
            if (!inside(ram, range)) return Error::MemoryOutsideRam;
            memory = true;
        }
    }
    if (!memory) return Error::NoMemory;
    const Result<std::optional<Range>> initrd = tree->initrd();
    if (!initrd) return initrd.error();
    if (*initrd && !inside(ram, **initrd)) return Error::InitrdOutsideRam;
    const auto bootargs = tree->bootargs();
    if (!bootargs) return bootargs.error();
    return tree;
}

}  // namespace vmm::fdt
