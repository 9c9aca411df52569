// VCpuState: where a vCPU is in its life cycle (see vcpu.hpp for the
// transitions).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "axvcpu/fmt.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

// Ready is 0: run() tests for it and stores it on every exit, and a zero is
// the cheapest value to test and store. The values are not part of the API.
enum class VCpuState : std::uint8_t { Ready, Running, Invalid, Created, Free, Blocked };

[[nodiscard]] constexpr std::string_view name(VCpuState state) noexcept {
    constexpr std::array<std::string_view, 6> names{"Ready", "Running", "Invalid", "Created", "Free", "Blocked"};
    const auto index = static_cast<usize>(state);
    return index < names.size() ? names[index] : "?"sv;
}

template <fmt::Sink S>
constexpr void print_to(S& out, VCpuState state) {
    out.write(name(state));
}

}  // namespace axvcpu
