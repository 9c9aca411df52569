// EmulatedDeviceType: the device kinds a VM config can ask the VMM to emulate.
//
// One constexpr table holds each type's code, log name and removability;
// all(), name(), removable() and from_code() read it, and its codes are
// checked for uniqueness at compile time, so adding a type is one line.
//
// Code allocation (as upstream): 0x00-0x1f special/abstract devices,
// 0x20-0x2f interrupt-controller devices, 0x30-0x3f PLIC partial passthrough,
// 0xe0-0xef virtio devices; everything else is reserved.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "axvcpu/fmt.hpp"

namespace axvcpu {

enum class EmulatedDeviceType : std::uint8_t {
    Dummy = 0x00,
    InterruptController = 0x01,  // vGIC on aarch64, vLAPIC on x86
    Console = 0x02,
    IVCChannel = 0x0a,  // inter-VM communication; its memory must be reserved in the guest's DT/ACPI
    GPPTRedistributor = 0x20,  // GIC partial passthrough
    GPPTDistributor = 0x21,
    GPPTITS = 0x22,
    X86IoApic = 0x23,
    X86Pit = 0x24,
    PPPTGlobal = 0x30,  // PLIC partial passthrough
    VirtioBlk = 0xe1,
    VirtioNet = 0xe2,
    VirtioConsole = 0xe3,
};

namespace detail {

struct DeviceTypeEntry {
    EmulatedDeviceType type;
    std::string_view name;
    bool removable;
};

inline constexpr std::array<DeviceTypeEntry, 13> device_type_entries{{
    {EmulatedDeviceType::Dummy, "meta device"sv, false},
    {EmulatedDeviceType::InterruptController, "interrupt controller"sv, true},
    {EmulatedDeviceType::Console, "console"sv, false},
    {EmulatedDeviceType::IVCChannel, "ivc channel"sv, false},
    {EmulatedDeviceType::GPPTRedistributor, "gic partial passthrough redistributor"sv, true},
    {EmulatedDeviceType::GPPTDistributor, "gic partial passthrough distributor"sv, false},
    {EmulatedDeviceType::GPPTITS, "gic partial passthrough its"sv, false},
    {EmulatedDeviceType::X86IoApic, "x86 io apic"sv, true},
    {EmulatedDeviceType::X86Pit, "x86 pit"sv, true},
    {EmulatedDeviceType::PPPTGlobal, "plic partial passthrough global"sv, false},
    {EmulatedDeviceType::VirtioBlk, "virtio block"sv, true},
    {EmulatedDeviceType::VirtioNet, "virtio net"sv, true},
    {EmulatedDeviceType::VirtioConsole, "virtio console"sv, true},
}};

// Codes must be unique, or from_code would be ambiguous.
constexpr bool device_codes_unique() {
    for (std::size_t i = 0; i < device_type_entries.size(); ++i)
        for (std::size_t j = i + 1; j < device_type_entries.size(); ++j)
            if (device_type_entries[i].type == device_type_entries[j].type) return false;
    return true;
}
static_assert(device_codes_unique(), "EmulatedDeviceType table: two entries share a code");

constexpr const DeviceTypeEntry* find_device_entry(EmulatedDeviceType type) noexcept {
    for (const auto& entry : device_type_entries)
        if (entry.type == type) return &entry;
    return nullptr;
}

}  // namespace detail

// Every known device type, in allocation order.
[[nodiscard]] constexpr auto all_emulated_device_types() noexcept {
    std::array<EmulatedDeviceType, detail::device_type_entries.size()> types{};
    for (std::size_t i = 0; i < types.size(); ++i) types[i] = detail::device_type_entries[i].type;
    return types;
}

[[nodiscard]] constexpr std::uint8_t code(EmulatedDeviceType type) noexcept { return static_cast<std::uint8_t>(type); }

// A code that names no known device yields no value (never a bogus enum).
[[nodiscard]] constexpr std::optional<EmulatedDeviceType> emulated_device_type_from_code(std::uint64_t value) noexcept {
    for (const auto& entry : detail::device_type_entries)
        if (static_cast<std::uint64_t>(entry.type) == value) return entry.type;
    return std::nullopt;
}

// Whether the VMM may remove the device from a running VM's device list.
[[nodiscard]] constexpr bool removable(EmulatedDeviceType type) noexcept {
    const auto* entry = detail::find_device_entry(type);
    return entry != nullptr && entry->removable;
}

[[nodiscard]] constexpr std::string_view name(EmulatedDeviceType type) noexcept {
    const auto* entry = detail::find_device_entry(type);
    return entry != nullptr ? entry->name : "unknown device"sv;
}

template <fmt::Sink S>
constexpr void print_to(S& out, EmulatedDeviceType type) {
    out.write(name(type));
}

}  // namespace axvcpu
