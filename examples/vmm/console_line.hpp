// A guest's console output collected into whole lines, for the emulated
// UARTs (pl011.hpp, uart16550.hpp): each line reaches the VMM's console in
// one println, so the VMM's own messages from other CPUs never split a
// guest's line.
#pragma once

#include <array>
#include <string_view>

#include <axvcpu/types.hpp>

namespace vmm {

// Out: `static void println(std::string_view)`, a Console (console.hpp).
// No lock of its own: the UART that owns it serialises put and flush.
template <class Out>
class ConsoleLine {
public:
    // A longer line is printed in pieces of this many characters: the guest
    // cannot make the VMM hold an unbounded line.
    static constexpr axvcpu::usize capacity = 160;

    // One byte the guest transmitted. '\r' is dropped (the console adds its
    // own before each newline); '\n' prints the line, even an empty one.
    void put(char c) {
        if (c == '\r') return;
        if (c == '\n') {
            Out::println(std::string_view(line_.data(), length_));
            length_ = 0;
            return;
        }
        line_[length_++] = c;
        if (length_ == line_.size()) flush();
    }

    // Prints what is held of a line, if anything (the VM powered off mid-line).
    void flush() {
        if (length_ == 0) return;
        Out::println(std::string_view(line_.data(), length_));
        length_ = 0;
    }

private:
    std::array<char, capacity> line_{};
    axvcpu::usize length_ = 0;
};

}  // namespace vmm
