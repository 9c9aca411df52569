// Shared by the libFuzzer harnesses (test/fuzz/README in the top README):
// a reader over the fuzzed bytes (zeros once they run out, so every input is
// a complete case) and FUZZ_CHECK, which aborts with the failed invariant so
// libFuzzer records the input as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "axvcpu/exit_reason.hpp"
#include "reference.hpp"

#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                        \
        }                                                                                        \
    } while (0)

namespace fuzz {

class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
    [[nodiscard]] bool empty() const noexcept { return at_ >= size_; }
    std::uint8_t u8() noexcept { return at_ < size_ ? data_[at_++] : 0; }
    // Little-endian, so a seed file reads like the recorded values.
    std::uint64_t le(unsigned bytes) noexcept {
        std::uint64_t value = 0;
        for (unsigned i = 0; i < bytes; ++i) value |= std::uint64_t{u8()} << (8 * i);
        return value;
    }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(le(2)); }
    std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(le(4)); }
    std::uint64_t u64() noexcept { return le(8); }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

[[nodiscard]] constexpr std::uint64_t width_mask(unsigned bytes) noexcept {
    return bytes >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * bytes)) - 1;
}
// The same for an access width, from its byte count (not the library's
// axvcpu::width_mask, which the harnesses check).
[[nodiscard]] constexpr std::uint64_t width_mask(axvcpu::AccessWidth width) noexcept {
    return width_mask(static_cast<unsigned>(axvcpu::size_in_bytes(width)));
}

}  // namespace fuzz
