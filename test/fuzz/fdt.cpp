// libFuzzer harness: the example VMM's device tree reader
// (examples/vmm/fdt.hpp) on arbitrary bytes taken as a DTB.
// - validate never reads outside the input (libFuzzer's buffer is exactly
//   the input, so ASan stops any read past it), gives the same answer twice,
//   and Tree::open and check_guest_dtb agree with it;
// - an accepted blob is accepted cut to its totalsize and refused
//   (TotalSizeTooLarge) one byte shorter;
// - on an accepted blob, a walk over every node (first_child, next_sibling)
//   and every property (first_property, next_property) finds names and
//   values inside the blob, property(name) gives the first property of that
//   name, find(path) gives the node libfdt's rule picks (the first child
//   matching each component), and the value readers (string, available,
//   cells, reg, initrd, bootargs) either read the value or refuse it with a
//   value error, never a structural one, and agree with the raw bytes;
// - check_guest_dtb with all of the address space as RAM refuses only
//   memory ranges that wrap past 2^64; with no RAM it never accepts.
// Each input is tried as given and, when it is long enough, with its
// totalsize set to its length, so seeds that mutations grew or shrank
// still get past the header.
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "examples/vmm/fdt.hpp"
#include "fuzz.hpp"

namespace fdt = vmm::fdt;
using fdt::Error;

namespace {

bool is_value_error(Error e) {
    switch (e) {
        case Error::BadCellsProperty:
        case Error::UnsupportedCells:
        case Error::BadReg:
        case Error::UnterminatedString:
        case Error::BadInitrdValue:
        case Error::InitrdIncomplete:
        case Error::InitrdReversed:
            return true;
        default:
            return false;
    }
}

class Walk {
public:
    Walk(const fdt::Tree& tree, fdt::Bytes blob) : tree_(tree), blob_(blob) {}

    // Every node under `node` (which `path` finds iff `reachable`).
    void node(fdt::Node node, const std::string& path, bool reachable, unsigned depth) {
        FUZZ_CHECK(depth <= fdt::max_depth);
        FUZZ_CHECK(++nodes_ <= blob_.size() / 8);  // a node takes 8 bytes at least: the walk ends
        const std::string_view name = tree_.name(node);
        FUZZ_CHECK(inside(name));
        properties(node);
        node_values(node);
        for (auto child = tree_.first_child(node); child; child = tree_.next_sibling(*child)) {
            FUZZ_CHECK(child->parent == node.offset && child->offset > node.offset);
            const std::string_view child_name = tree_.name(*child);
            // A name find can look up: not empty (skipped like "//"), no '/'.
            const bool nameable = !child_name.empty() && child_name.find('/') == std::string_view::npos;
            const std::string child_path = path + "/" + std::string(child_name);
            bool child_reachable = false;
            if (reachable && nameable) {
                // libfdt's rule: the first child that matches the component.
                std::optional<fdt::Node> first = tree_.first_child(node);
                while (first && !fdt::Tree::matches(tree_.name(*first), child_name)) {
                    first = tree_.next_sibling(*first);
                }
                FUZZ_CHECK(first.has_value());
                FUZZ_CHECK(tree_.find(child_path) == first);
                child_reachable = *first == *child;
            }
            this->node(*child, child_path, child_reachable, depth + 1);
        }
    }

private:
    bool inside(std::string_view s) const {
        if (s.empty()) return true;
        const auto* p = static_cast<const void*>(s.data());
        return p >= blob_.data() && p < blob_.data() + blob_.size() && s.size() <= blob_.size();
    }
    bool inside(fdt::Bytes b) const {
        return b.empty() || (b.data() >= blob_.data() && b.data() + b.size() <= blob_.data() + blob_.size());
    }

    void properties(fdt::Node node) {
        std::vector<fdt::Property> seen;
        for (auto p = tree_.first_property(node); p; p = tree_.next_property(*p)) {
            FUZZ_CHECK(++properties_ <= blob_.size() / 12);
            FUZZ_CHECK(inside(p->name) && inside(p->value));
            FUZZ_CHECK(p->offset > node.offset);
            const fdt::Property* first = &*p;
            for (const fdt::Property& q : seen) {
                if (q.name == p->name) {
                    first = &q;
                    break;
                }
            }
            const auto value = tree_.property(node, p->name);
            FUZZ_CHECK(value && value->data() == first->value.data() && value->size() == first->value.size());
            // string(): the bytes up to the first NUL, or UnterminatedString.
            const auto s = tree_.string(node, p->name);
            const void* nul = first->value.empty() ? nullptr : std::memchr(first->value.data(), 0, first->value.size());
            if (nul == nullptr) {
                FUZZ_CHECK(!s && s.error() == Error::UnterminatedString);
            } else {
                FUZZ_CHECK(s && s->has_value());
                const auto* text = static_cast<const std::uint8_t*>(nul);
                FUZZ_CHECK((*s)->size() == static_cast<std::size_t>(text - first->value.data()));
                FUZZ_CHECK((*s)->empty() || static_cast<const void*>((*s)->data()) == first->value.data());
            }
            seen.push_back(*p);
        }
    }

    // The value readers on a node (the root's reg in the default cells).
    void node_values(fdt::Node node) {
        const auto available = tree_.available(node);
        FUZZ_CHECK(available || available.error() == Error::UnterminatedString);

        const auto cells = tree_.cells(node);
        if (cells) {
            const auto address = tree_.property(node, "#address-cells");
            FUZZ_CHECK(cells->address == (address ? *fdt::read_u32(*address) : 2u));
        } else {
            FUZZ_CHECK(cells.error() == Error::BadCellsProperty);
        }

        const auto reg = tree_.reg(node);
        const auto raw = tree_.property(node, "reg");
        if (reg) {
            const fdt::Cells c = reg->cells();
            const std::size_t entry = std::size_t{c.address + c.size} * 4;
            FUZZ_CHECK(raw ? reg->size() * entry == raw->size() : reg->size() == 0);
            for (std::size_t i = 0; i < reg->size(); ++i) {
                const fdt::Range r = (*reg)[i];
                FUZZ_CHECK(r.base == *fdt::read_cells(*raw, i * (c.address + c.size), c.address));
            }
            FUZZ_CHECK((*reg)[reg->size()] == fdt::Range{});
        } else {
            FUZZ_CHECK(raw.has_value());
            FUZZ_CHECK(reg.error() == Error::BadCellsProperty || reg.error() == Error::UnsupportedCells ||
                       reg.error() == Error::BadReg);
        }
    }

    const fdt::Tree& tree_;
    fdt::Bytes blob_;
    std::size_t nodes_ = 0;
    std::size_t properties_ = 0;
};

// Does any available device_type "memory" root child have a reg range that
// wraps past 2^64 (so no RAM can hold it)?
bool memory_wraps(const fdt::Tree& tree) {
    for (auto n = tree.first_child(tree.root()); n; n = tree.next_sibling(*n)) {
        const auto reg = tree.reg(*n);
        if (!reg) continue;
        for (std::size_t i = 0; i < reg->size(); ++i) {
            const fdt::Range r = (*reg)[i];
            if (r.size != 0 && r.size - 1 > ~std::uint64_t{0} - r.base) return true;
        }
    }
    return false;
}

void check(fdt::Bytes blob) {
    const std::optional<Error> verdict = fdt::validate(blob);
    FUZZ_CHECK(fdt::validate(blob) == verdict);
    const auto tree = fdt::Tree::open(blob);
    FUZZ_CHECK(tree.ok() == !verdict);
    constexpr std::array<fdt::Range, 2> everything{{{0, std::uint64_t{1} << 63}, {std::uint64_t{1} << 63, std::uint64_t{1} << 63}}};
    const auto guest = fdt::check_guest_dtb(blob, everything);
    if (verdict) {
        FUZZ_CHECK(tree.error() == *verdict);
        FUZZ_CHECK(!guest && guest.error() == *verdict);
        return;
    }

    const std::uint32_t totalsize = tree->header().totalsize;
    FUZZ_CHECK(totalsize <= blob.size());
    FUZZ_CHECK(!fdt::validate(blob.first(totalsize)));
    FUZZ_CHECK(fdt::validate(blob.first(totalsize - 1)) == Error::TotalSizeTooLarge);
    for (std::size_t i = 0; i < tree->reservation_count(); ++i) (void)tree->reservation(i);

    const fdt::Node root = tree->root();
    FUZZ_CHECK(tree->find("/") == root);
    Walk(*tree, blob).node(root, "", true, 1);

    const auto initrd = tree->initrd();
    FUZZ_CHECK(initrd || is_value_error(initrd.error()));
    const auto bootargs = tree->bootargs();
    FUZZ_CHECK(bootargs || bootargs.error() == Error::UnterminatedString);

    // With every address as RAM only wrapping memory is outside it; with
    // none, there is never memory inside it.
    if (!guest) {
        FUZZ_CHECK(is_value_error(guest.error()) || guest.error() == Error::NoMemory ||
                   (guest.error() == Error::MemoryOutsideRam && memory_wraps(*tree)));
    } else {
        FUZZ_CHECK(initrd && bootargs);
    }
    const auto no_ram = fdt::check_guest_dtb(blob, {});
    FUZZ_CHECK(!no_ram);
    FUZZ_CHECK(no_ram.error() != Error::InitrdOutsideRam);  // memory is looked at first, and fails
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check(fdt::Bytes(data, size));
    if (size >= 8 && size <= 0xFFFF'FFFF) {
        // The same bytes with totalsize = the length, in a buffer of exactly
        // that length (so ASan still sees a read past it).
        const std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[size]);
        std::memcpy(copy.get(), data, size);
        for (int i = 0; i < 4; ++i) copy[4 + i] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
        check(fdt::Bytes(copy.get(), size));
    }
    return 0;
}
