// EmulatedDeviceType: the device kinds a VM config can ask the VMM to emulate.
//
// One Hana table holds each type's code, log name and removability; all(),
// name(), removable() and from_code() are generated from it, and its codes
// are checked for uniqueness at compile time, so adding a type is one line.
//
// Code allocation (as upstream): 0x00-0x1f special/abstract devices,
// 0x20-0x2f interrupt-controller devices, 0x30-0x3f PLIC partial passthrough,
// 0xe0-0xef virtio devices; everything else is reserved.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include <boost/hana/integral_constant.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>

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

template <EmulatedDeviceType Type>
using device_c = boost::hana::integral_constant<EmulatedDeviceType, Type>;

template <EmulatedDeviceType Type>
constexpr auto device_entry(std::string_view name, bool removable) {
    return boost::hana::make_tuple(device_c<Type>{}, DeviceTypeEntry{Type, name, removable});
}

inline constexpr auto device_type_table = boost::hana::make_tuple(
    device_entry<EmulatedDeviceType::Dummy>("meta device", false),
    device_entry<EmulatedDeviceType::InterruptController>("interrupt controller", true),
    device_entry<EmulatedDeviceType::Console>("console", false),
    device_entry<EmulatedDeviceType::IVCChannel>("ivc channel", false),
    device_entry<EmulatedDeviceType::GPPTRedistributor>("gic partial passthrough redistributor", true),
    device_entry<EmulatedDeviceType::GPPTDistributor>("gic partial passthrough distributor", false),
    device_entry<EmulatedDeviceType::GPPTITS>("gic partial passthrough its", false),
    device_entry<EmulatedDeviceType::X86IoApic>("x86 io apic", true),
    device_entry<EmulatedDeviceType::X86Pit>("x86 pit", true),
    device_entry<EmulatedDeviceType::PPPTGlobal>("plic partial passthrough global", false),
    device_entry<EmulatedDeviceType::VirtioBlk>("virtio block", true),
    device_entry<EmulatedDeviceType::VirtioNet>("virtio net", true),
    device_entry<EmulatedDeviceType::VirtioConsole>("virtio console", true));

// The runtime view of the table, in table order.
inline constexpr auto device_type_entries = boost::hana::unpack(device_type_table, [](auto... row) {
    return std::array<DeviceTypeEntry, sizeof...(row)>{row[boost::hana::size_c<1>]...};
});

// Codes must be unique, or from_code would be ambiguous; checked on the
// compile-time keys so a duplicate fails the build.
inline constexpr bool device_codes_unique = boost::hana::unpack(device_type_table, [](auto... row) {
    constexpr std::array codes{std::remove_cvref_t<decltype(row[boost::hana::size_c<0>])>::value...};
    for (std::size_t i = 0; i < codes.size(); ++i)
        for (std::size_t j = i + 1; j < codes.size(); ++j)
            if (codes[i] == codes[j]) return false;
    return true;
});
static_assert(device_codes_unique, "EmulatedDeviceType table: two entries share a code");

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
