// Hosted builds only: `std::ostream << value` for every printable library
// type, so doctest and host logs show exit reasons, addresses and configs.
// Kernels never include this header.
#pragma once

#include <ostream>

#include "axvcpu/fmt.hpp"

namespace axvcpu::fmt {

struct OstreamSink {
    std::ostream& os;
    void write(std::string_view text) { os << text; }
};

}  // namespace axvcpu::fmt

namespace axvcpu {

template <class T>
    requires fmt::Printable<T, fmt::OstreamSink>
std::ostream& operator<<(std::ostream& os, const T& value) {
    fmt::OstreamSink sink{os};
    print_to(sink, value);
    return os;
}

}  // namespace axvcpu

namespace axvcpu::exit {
using axvcpu::operator<<;  // the exit payloads live here; ADL looks here
}  // namespace axvcpu::exit
