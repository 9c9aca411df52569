// Emulated devices: each model claims a guest-physical range and answers
// the MMIO exits that land in it. Models are plain classes (no virtual
// functions): a VM's table holds a std::variant of the models its board
// offers, and dispatch is std::visit.
//
// A model answers an access at an offset inside its range:
//   std::optional<std::uint64_t> read(std::uint64_t offset, AccessWidth width);
//   bool write(std::uint64_t offset, AccessWidth width, std::uint64_t value);
// returning nothing / false to refuse it (the VMM then reflects a fault to
// the guest, as a bus would). The table only passes accesses that lie whole
// inside the range.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <variant>

#include <axvcpu/addr.hpp>
#include <axvcpu/exit_reason.hpp>
#include <axvcpu/types.hpp>

namespace vmm {

// Helpers for models whose registers are wider than some accesses.
// The `bytes` bytes of `reg` from byte `at` on (little-endian, as both arches).
constexpr std::uint64_t register_bytes(std::uint64_t reg, std::uint64_t at, std::uint64_t bytes) noexcept {
    const std::uint64_t value = reg >> (8 * at);
    return bytes == 8 ? value : value & ((std::uint64_t{1} << (8 * bytes)) - 1);
}
constexpr std::uint64_t merge_bytes(std::uint64_t reg, std::uint64_t at, std::uint64_t bytes, std::uint64_t value) noexcept {
    const std::uint64_t mask = (bytes == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * bytes)) - 1) << (8 * at);
    return (reg & ~mask) | ((value << (8 * at)) & mask);
}
constexpr bool naturally_aligned(std::uint64_t offset, axvcpu::AccessWidth width) noexcept {
    return offset % axvcpu::size_in_bytes(width) == 0;
}

template <class D>
concept DeviceModel = requires(D& device, std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
    { device.read(offset, width) } -> std::same_as<std::optional<std::uint64_t>>;
    { device.write(offset, width, value) } -> std::same_as<bool>;
};

template <axvcpu::usize Capacity, DeviceModel... Models>
class DeviceTable {
public:
    using Model = std::variant<Models...>;

    // Builds a model of type M in place (models hold locks: they do not
    // move). False when the range overlaps a device already there, is
    // empty, or the table is full.
    template <class M, class... Args>
    bool add(axvcpu::GuestPhysAddr base, std::uint64_t size, Args&&... args) {
        if (size == 0 || base.value() + size < base.value() || count_ == Capacity) return false;
        for (axvcpu::usize i = 0; i < count_; ++i) {
            const Entry& other = entries_[i];
            if (base.value() < other.base + other.size && other.base < base.value() + size) return false;
        }
        Entry& entry = entries_[count_++];
        entry.base = base.value();
        entry.size = size;
        entry.model.template emplace<M>(static_cast<Args&&>(args)...);
        return true;
    }

    // Nothing when no device claims the whole access or the device refuses.
    std::optional<std::uint64_t> read(axvcpu::GuestPhysAddr addr, axvcpu::AccessWidth width) {
        Entry* entry = find(addr, width);
        if (entry == nullptr) return std::nullopt;
        const std::uint64_t offset = addr.value() - entry->base;
        return std::visit([&](auto& model) { return model.read(offset, width); }, entry->model);
    }
    bool write(axvcpu::GuestPhysAddr addr, axvcpu::AccessWidth width, std::uint64_t value) {
        Entry* entry = find(addr, width);
        if (entry == nullptr) return false;
        const std::uint64_t offset = addr.value() - entry->base;
        return std::visit([&](auto& model) { return model.write(offset, width, value); }, entry->model);
    }

    // The model of type M claiming `addr`, if any (for checks and tests).
    template <class M>
    M* find_model(axvcpu::GuestPhysAddr addr) {
        Entry* entry = find(addr, axvcpu::AccessWidth::Byte);
        return entry != nullptr ? std::get_if<M>(&entry->model) : nullptr;
    }
    [[nodiscard]] axvcpu::usize size() const noexcept { return count_; }

    // Whether the VMM traces each access to `addr` (a model that declares
    // `static constexpr bool traced = false`, a console, is left out).
    bool traced(axvcpu::GuestPhysAddr addr) {
        Entry* entry = find(addr, axvcpu::AccessWidth::Byte);
        if (entry == nullptr) return true;
        return std::visit(
            [](auto& model) {
                if constexpr (requires { std::remove_reference_t<decltype(model)>::traced; }) {
                    return std::remove_reference_t<decltype(model)>::traced;
                } else {
                    return true;
                }
            },
            entry->model);
    }

    // Lets every model that buffers (a console line) hand out what it holds.
    void flush() {
        for (axvcpu::usize i = 0; i < count_; ++i) {
            std::visit(
                [](auto& model) {
                    if constexpr (requires { model.flush(); }) model.flush();
                },
                entries_[i].model);
        }
    }

private:
    struct Entry {
        std::uint64_t base = 0;
        std::uint64_t size = 0;
        Model model;
    };

    Entry* find(axvcpu::GuestPhysAddr addr, axvcpu::AccessWidth width) {
        const std::uint64_t bytes = axvcpu::size_in_bytes(width);
        for (axvcpu::usize i = 0; i < count_; ++i) {
            Entry& entry = entries_[i];
            const std::uint64_t offset = addr.value() - entry.base;
            if (addr.value() >= entry.base && offset < entry.size && bytes <= entry.size - offset) return &entry;
        }
        return nullptr;
    }

    std::array<Entry, Capacity> entries_{};
    axvcpu::usize count_ = 0;
};

}  // namespace vmm
