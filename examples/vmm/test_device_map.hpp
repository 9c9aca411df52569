// The test device's register map (test_devices.hpp, TestDevice): what a
// guest needs to drive it, shared with the device model. A guest includes
// this rather than the model, which brings the library's exit reasons.
#pragma once

#include <cstdint>

namespace vmm {

struct TestDeviceMap {
    static constexpr std::uint64_t scratch = 0x00, magic = 0x08, negative = 0x10, sink = 0x18, size = 0x20;
    static constexpr std::uint64_t magic_value = 0x0A64'C0DE'1234'5678;
    static constexpr std::uint64_t negative_value = 0xFFFF'FFFF'8000'8080;
};

}  // namespace vmm
