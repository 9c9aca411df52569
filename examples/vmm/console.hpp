// The VMM's console: whole lines, one CPU at a time, printed through the
// board's character output. Strings print as text, Dec and Hex as numbers,
// anything else through its axvcpu print_to (exit reasons, addresses,
// errors, trap records).
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include <axvcpu/fmt.hpp>

#include "spinlock.hpp"

namespace vmm {

struct Dec {
    std::uint64_t value;
};
struct Hex {
    std::uint64_t value;
};

// Out: `static void putc(char)`, one byte to the console device.
template <class Out>
class Console {
public:
    // Everything printed between two newlines of one call stays together.
    template <class... Parts>
    static void print(const Parts&... parts) {
        LockGuard guard(lock_);
        Sink sink;
        (put(sink, parts), ...);
    }
    template <class... Parts>
    static void println(const Parts&... parts) {
        print(parts..., "\n");
    }

private:
    struct Sink {
        void write(std::string_view text) {
            for (char c : text) {
                if (c == '\n') Out::putc('\r');
                Out::putc(c);
            }
        }
    };

    template <class T>
    static void put(Sink& sink, const T& value) {
        if constexpr (std::is_convertible_v<const T&, std::string_view>) {
            sink.write(std::string_view(value));
        } else if constexpr (std::is_same_v<T, Dec>) {
            axvcpu::fmt::write_dec(sink, value.value);
        } else if constexpr (std::is_same_v<T, Hex>) {
            axvcpu::fmt::write_hex(sink, value.value);
        } else if constexpr (std::is_same_v<T, bool>) {
            axvcpu::fmt::write_bool(sink, value);
        } else if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
            axvcpu::fmt::write_hex(sink, static_cast<std::uint64_t>(value));
        } else {
            print_to(sink, value);
        }
    }

    static inline SpinLock lock_;
};

}  // namespace vmm
