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
//
// Interrupts: a model that drives an interrupt line has
//   bool irq_level() const;
// and route_irq() names the source it drives on the VM's interrupt
// controller: the table's one model with
//   set_level(usize source, bool high);  update_lines(notify);
// (riscv64::VPlic). After every access the table hands each routed level to
// the controller, then lets the controller report its outputs that changed
// (notify(output, asserted), an output being e.g. a PLIC context), which
// the caller maps to vCPUs.
//
// The table is the VM's bus: one lock serialises every access to its
// models, so a model needs no lock of its own and sees the accesses of all
// the VM's vCPUs in one order.
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

#include "spinlock.hpp"

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

// What the table lets a controller report by default: nothing.
struct IgnoreLines {
    void operator()(axvcpu::usize, bool) const noexcept {}
};

template <class D>
concept DeviceModel = requires(D& device, std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
    { device.read(offset, width) } -> std::same_as<std::optional<std::uint64_t>>;
    { device.write(offset, width, value) } -> std::same_as<bool>;
};

template <class D>
concept DrivesInterrupt = requires(const D& device) {
    { device.irq_level() } -> std::same_as<bool>;
};

template <class D>
concept InterruptController = requires(D& controller, axvcpu::usize source, bool high) {
    controller.set_level(source, high);
    controller.update_lines(IgnoreLines{});
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
        if constexpr (InterruptController<M>) {
            if (controller_ == no_controller) controller_ = count_ - 1;
        }
        return true;
    }

    // The model at `base` drives `source` of the interrupt controller. False
    // when no model starts at `base`, it drives no line, or source is 0.
    bool route_irq(axvcpu::GuestPhysAddr base, std::uint32_t source) {
        for (axvcpu::usize i = 0; i < count_; ++i) {
            Entry& entry = entries_[i];
            if (entry.base != base.value()) continue;
            const bool drives = std::visit([](auto& model) { return DrivesInterrupt<std::remove_cvref_t<decltype(model)>>; },
                                           entry.model);
            if (!drives || source == 0) return false;
            entry.irq = source;
            return true;
        }
        return false;
    }

    // Nothing when no device claims the whole access or the device refuses.
    template <class OnLine = IgnoreLines>
    std::optional<std::uint64_t> read(axvcpu::GuestPhysAddr addr, axvcpu::AccessWidth width, OnLine&& on_line = {}) {
        LockGuard guard(lock_);
        Entry* entry = find(addr, width);
        if (entry == nullptr) return std::nullopt;
        const std::uint64_t offset = addr.value() - entry->base;
        const auto value = std::visit([&](auto& model) { return model.read(offset, width); }, entry->model);
        route_lines(on_line);
        return value;
    }
    template <class OnLine = IgnoreLines>
    bool write(axvcpu::GuestPhysAddr addr, axvcpu::AccessWidth width, std::uint64_t value, OnLine&& on_line = {}) {
        LockGuard guard(lock_);
        Entry* entry = find(addr, width);
        if (entry == nullptr) return false;
        const std::uint64_t offset = addr.value() - entry->base;
        const bool done = std::visit([&](auto& model) { return model.write(offset, width, value); }, entry->model);
        route_lines(on_line);
        return done;
    }

    // Runs `f(model)` on the model of type M at `addr` under the bus lock
    // (input from the host: a console's received bytes), then routes the
    // lines as an access does. False when there is no such model.
    template <class M, class F, class OnLine = IgnoreLines>
    bool with_model(axvcpu::GuestPhysAddr addr, F&& f, OnLine&& on_line = {}) {
        LockGuard guard(lock_);
        Entry* entry = find(addr, axvcpu::AccessWidth::Byte);
        M* model = entry != nullptr ? std::get_if<M>(&entry->model) : nullptr;
        if (model == nullptr) return false;
        f(*model);
        route_lines(on_line);
        return true;
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
        LockGuard guard(lock_);
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
        std::uint32_t irq = 0;  // the controller source it drives, 0: none
        Model model;
    };

    template <class OnLine>
    void route_lines(OnLine& on_line) {
        if (controller_ == no_controller) return;
        std::visit(
            [&](auto& controller) {
                if constexpr (InterruptController<std::remove_cvref_t<decltype(controller)>>) {
                    for (axvcpu::usize i = 0; i < count_; ++i) {
                        if (entries_[i].irq == 0) continue;
                        std::visit(
                            [&](const auto& model) {
                                if constexpr (DrivesInterrupt<std::remove_cvref_t<decltype(model)>>)
                                    controller.set_level(entries_[i].irq, model.irq_level());
                            },
                            entries_[i].model);
                    }
                    controller.update_lines(on_line);
                }
            },
            entries_[controller_].model);
    }

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
    static constexpr axvcpu::usize no_controller = Capacity;
    axvcpu::usize controller_ = no_controller;  // the first InterruptController added
    SpinLock lock_;
};

}  // namespace vmm
