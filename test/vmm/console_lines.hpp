// The console the UART models' host tests give them: it keeps the lines a
// model printed (ConsoleLine calls println once per line).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace test_console {

struct Lines {
    static inline std::vector<std::string> printed;
    static void println(std::string_view line) { printed.emplace_back(line); }
};

}  // namespace test_console
