// The VM configuration value types of axvm_types: what a VMM reads from its
// config to build a VM's memory map, devices and boot path.
//
// Configs are usually static data in a kernel image, so strings and lists are
// non-owning views (std::string_view, std::span) rather than heap containers.
// All structs are Hana-reflected, so they print as `Name { field: value }`,
// and compare member by member (spans element-wise).
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "axvcpu/device_type.hpp"
#include "axvcpu/fmt.hpp"
#include "axvcpu/reflect.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

enum class VMType : std::uint8_t {
    VMTHostVM = 0,  // the host itself as a VM ("type 1.5", as Jailhouse boots)
    VMTRTOS = 1,    // a simple guest, mostly passthrough
    VMTLinux = 2,   // a full guest with device emulation
};

enum class VmMemMappingType : std::uint8_t {
    MapAlloc = 0,      // memory allocated by the VMM
    MapIdentical = 1,  // GPA == HPA
    MapReserved = 2,   // host memory reserved for this guest
};

enum class VMBootProtocol : std::uint8_t {
    Direct,     // jump straight to the kernel entry
    Multiboot,  // x86 axvm-bios/multiboot trampoline
    Uefi,       // external UEFI firmware image
};

enum class VMInterruptMode : std::uint8_t {
    NoIrq,        // the guest uses no interrupts
    Emulated,     // an emulated interrupt controller
    Passthrough,  // the physical controller (including partial passthrough)
};

namespace detail {
template <class Enum, std::size_t N>
constexpr std::string_view enum_name(Enum value, const std::array<std::string_view, N>& names) noexcept {
    const auto index = static_cast<std::size_t>(value);
    return index < N ? names[index] : "?"sv;
}
}  // namespace detail

constexpr std::string_view name(VMType v) noexcept {
    return detail::enum_name(v, std::array<std::string_view, 3>{"VMTHostVM"sv, "VMTRTOS"sv, "VMTLinux"sv});
}
constexpr std::string_view name(VmMemMappingType v) noexcept {
    return detail::enum_name(v, std::array<std::string_view, 3>{"MapAlloc"sv, "MapIdentical"sv, "MapReserved"sv});
}
constexpr std::string_view name(VMBootProtocol v) noexcept {
    return detail::enum_name(v, std::array<std::string_view, 3>{"Direct"sv, "Multiboot"sv, "Uefi"sv});
}
constexpr std::string_view name(VMInterruptMode v) noexcept {
    return detail::enum_name(v, std::array<std::string_view, 3>{"NoIrq"sv, "Emulated"sv, "Passthrough"sv});
}

template <class Enum>
concept ConfigEnum = std::is_same_v<Enum, VMType> || std::is_same_v<Enum, VmMemMappingType> ||
                     std::is_same_v<Enum, VMBootProtocol> || std::is_same_v<Enum, VMInterruptMode>;

template <fmt::Sink S, ConfigEnum Enum>
constexpr void print_to(S& out, Enum value) {
    out.write(name(value));
}

// Unknown codes yield no value; upstream silently maps them to VMTRTOS.
constexpr std::optional<VMType> vm_type_from_code(std::uint64_t code) noexcept {
    if (code > static_cast<std::uint64_t>(VMType::VMTLinux)) return std::nullopt;
    return static_cast<VMType>(code);
}

struct VmMemConfig {
    static constexpr std::string_view type_name = "VmMemConfig";
    usize gpa = 0;
    usize size = 0;
    usize flags = 0;  // mapping flags (see MappingFlags)
    VmMemMappingType map_type = VmMemMappingType::MapAlloc;
    constexpr bool operator==(const VmMemConfig&) const noexcept = default;
};

struct EmulatedDeviceConfig {
    static constexpr std::string_view type_name = "EmulatedDeviceConfig";
    std::string_view name;
    usize base_gpa = 0;
    usize length = 0;
    usize irq_id = 0;
    EmulatedDeviceType emu_type = EmulatedDeviceType::Dummy;
    std::span<const usize> cfg_list;  // device-specific parameters
};

struct PassThroughDeviceConfig {
    static constexpr std::string_view type_name = "PassThroughDeviceConfig";
    std::string_view name;
    usize base_gpa = 0;
    usize base_hpa = 0;
    usize length = 0;
    usize irq_id = 0;
    constexpr bool operator==(const PassThroughDeviceConfig&) const noexcept = default;
};

struct PassThroughAddressConfig {
    static constexpr std::string_view type_name = "PassThroughAddressConfig";
    usize base_gpa = 0;
    usize length = 0;
    constexpr bool operator==(const PassThroughAddressConfig&) const noexcept = default;
};

}  // namespace axvcpu

AXVCPU_ADAPT_STRUCT(axvcpu::VmMemConfig, gpa, size, flags, map_type);
AXVCPU_ADAPT_STRUCT(axvcpu::EmulatedDeviceConfig, name, base_gpa, length, irq_id, emu_type, cfg_list);
AXVCPU_ADAPT_STRUCT(axvcpu::PassThroughDeviceConfig, name, base_gpa, base_hpa, length, irq_id);
AXVCPU_ADAPT_STRUCT(axvcpu::PassThroughAddressConfig, base_gpa, length);

namespace axvcpu {
// Through its member list, cfg_list element by element (a span has no ==;
// upstream's Vec compares its elements). After the list, which it needs; a
// template, so the list is built only where two configs are compared.
template <std::same_as<EmulatedDeviceConfig> T>
constexpr bool operator==(const T& a, const T& b) {
    return reflect::struct_equal(a, b);
}
}  // namespace axvcpu
