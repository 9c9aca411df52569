// Freestanding text output: a sink concept, a fixed-capacity buffer and the
// number formatters every printable type in the library builds on.
//
// Kernels have no iostreams and often no heap, so everything prints into a
// caller-supplied `Sink` (anything with `write(std::string_view)`). Types opt
// in by providing an ADL-visible `print_to(Sink&, const T&)`.
#pragma once

// Every header but current_vcpu_slots.hpp includes this one, so this is
// where a translation unit built for an older standard learns why, instead
// of meeting "'concept' does not name a type" further down.
#if __cplusplus < 202002L
#error "axvcpu needs C++20: compile with -std=c++20 (meson: cpp_std=c++20, or the axvcpu dependency; pkg-config --cflags axvcpu)"
#endif

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace axvcpu {
// String literals in the library are written "..."sv: the literal operator
// carries the length, where string_view(const char*) may become a strlen
// call (GCC outlines it at -Os), a symbol a kernel need not have.
using namespace std::string_view_literals;
}  // namespace axvcpu

namespace axvcpu::fmt {

template <class S>
concept Sink = requires(S& sink, std::string_view text) { sink.write(text); };

// Bounded text buffer. Output beyond the capacity is dropped and remembered,
// so a log line can never overrun the stack it lives on.
template <std::size_t Capacity>
class Buffer {
public:
    constexpr void write(std::string_view text) noexcept {
        for (char c : text) {
            if (length_ == Capacity) {
                truncated_ = true;
                return;
            }
            data_[length_++] = c;
        }
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {data_, length_}; }
    [[nodiscard]] constexpr bool truncated() const noexcept { return truncated_; }
    constexpr void clear() noexcept {
        length_ = 0;
        truncated_ = false;
    }

private:
    char data_[Capacity]{};
    std::size_t length_ = 0;
    bool truncated_ = false;
};

template <Sink S>
constexpr void write_hex(S& out, std::uint64_t value) {
    char digits[2 + 16];
    std::size_t pos = sizeof digits;
    do {
        digits[--pos] = "0123456789abcdef"[value & 0xf];
        value >>= 4;
    } while (value != 0);
    digits[--pos] = 'x';
    digits[--pos] = '0';
    out.write(std::string_view(digits + pos, sizeof digits - pos));
}

template <Sink S>
constexpr void write_dec(S& out, std::uint64_t value) {
    char digits[20];
    std::size_t pos = sizeof digits;
    do {
        digits[--pos] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    out.write(std::string_view(digits + pos, sizeof digits - pos));
}

template <Sink S>
constexpr void write_bool(S& out, bool value) {
    out.write(value ? "true"sv : "false"sv);
}

// Found by ADL for every type with a `print_to` overload in its namespace.
template <class T, class S = Buffer<1>>
concept Printable = requires(S& sink, const T& value) { print_to(sink, value); };

// Renders any printable value into a stack buffer, e.g. for a log line.
template <std::size_t Capacity = 256, class T>
    requires Printable<T>
constexpr Buffer<Capacity> to_text(const T& value) {
    Buffer<Capacity> buffer;
    print_to(buffer, value);
    return buffer;
}

}  // namespace axvcpu::fmt
