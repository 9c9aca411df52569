// A 64-bit interrupt descriptor table, for the hypervisor's own (hyp.cpp)
// and the test guests' (guest_rt.hpp): 16-byte interrupt gates (Intel SDM
// vol. 3A, 6.14.1) through code selector 0x08, loaded with LIDT. Needs
// only <cstdint>.
#pragma once

#include <cstdint>

namespace example::idt {

struct Gate {
    std::uint16_t offset_low = 0, selector = 0;
    std::uint8_t ist = 0, type_attr = 0;
    std::uint16_t offset_mid = 0;
    std::uint32_t offset_high = 0, zero = 0;
};
static_assert(sizeof(Gate) == 16);

// Present, DPL 0, 64-bit interrupt gate (type 0xE: IF cleared on entry).
constexpr Gate interrupt_gate(std::uint64_t handler) {
    return Gate{static_cast<std::uint16_t>(handler), 0x08, 0, 0x8E, static_cast<std::uint16_t>(handler >> 16),
                static_cast<std::uint32_t>(handler >> 32), 0};
}

inline void load(const Gate* table, std::uint16_t entries) {
    struct [[gnu::packed]] {
        std::uint16_t limit;
        std::uint64_t base;
    } const pointer{static_cast<std::uint16_t>(entries * sizeof(Gate) - 1), reinterpret_cast<std::uint64_t>(table)};
    asm volatile("lidt %0" ::"m"(pointer));
}

}  // namespace example::idt
