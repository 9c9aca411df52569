// VCpuState: where a vCPU is in its life cycle (see vcpu.hpp for the
// transitions).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "axvcpu/fmt.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu {

// The values are not part of the API; they serve run()'s hot path.
// - Ready is 0: run() tests for it on every entry, and a zero is the
//   cheapest value to test and to store.
// - Running and Invalid, the two states that refuse register writes and
//   injection, are the only ones with the top bit set. A VMM answers nearly
//   every exit with such a write, and run() does not store Ready after an
//   exit (the store would undo an Invalid left by a call made inside run()),
//   so the compiler cannot know the state there: its test is one sign test
//   of one byte.
// - The low seven bits number the states 0..5, for their names and for
//   VCpuStates (vcpu.hpp).
enum class VCpuState : std::uint8_t { Ready = 0, Created = 1, Free = 2, Blocked = 3, Running = 0x84, Invalid = 0x85 };

namespace detail {
// The states, indexed by the low seven bits of their values.
inline constexpr std::array<VCpuState, 6> vcpu_states{VCpuState::Ready,   VCpuState::Created, VCpuState::Free,
                                                       VCpuState::Blocked, VCpuState::Running, VCpuState::Invalid};
[[nodiscard]] constexpr usize state_index(VCpuState state) noexcept { return static_cast<usize>(state) & 0x7f; }

// Whether a vCPU in `state` takes register writes and injections: its guest
// is not executing and it is not Invalid.
[[nodiscard]] constexpr bool takes_updates(VCpuState state) noexcept { return static_cast<std::int8_t>(state) >= 0; }

consteval bool state_encoding_holds() {
    for (usize i = 0; i < vcpu_states.size(); ++i) {
        const VCpuState state = vcpu_states[i];
        if (state_index(state) != i) return false;
        if (takes_updates(state) == (state == VCpuState::Running || state == VCpuState::Invalid)) return false;
    }
    return true;
}
static_assert(state_encoding_holds(), "VCpuState: indices 0..5 in the low bits, top bit exactly for Running and Invalid");
}  // namespace detail

[[nodiscard]] constexpr std::string_view name(VCpuState state) noexcept {
    constexpr std::array<std::string_view, 6> names{"Ready", "Created", "Free", "Blocked", "Running", "Invalid"};
    const usize index = detail::state_index(state);
    return index < names.size() && detail::vcpu_states[index] == state ? names[index] : "?"sv;
}

template <fmt::Sink S>
constexpr void print_to(S& out, VCpuState state) {
    out.write(name(state));
}

}  // namespace axvcpu
