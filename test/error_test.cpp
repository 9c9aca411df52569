// AxError and AxResult: names, propagation through the try macros.
#include <doctest/doctest.h>

#include <axvcpu/error.hpp>
#include <axvcpu/ostream.hpp>

#include <sstream>
#include <string>

using namespace axvcpu;

namespace {
AxResult<int> parse_digit(char c) {
    if (c < '0' || c > '9') return ax_err(AxError::InvalidInput);
    return c - '0';
}

AxResult<int> sum_of_two(char a, char b) {
    AXVCPU_TRY(x, parse_digit(a));
    AXVCPU_TRY(y, parse_digit(b));
    return x + y;
}

int steps_taken = 0;
AxResult<void> step(bool ok) {
    ++steps_taken;
    if (!ok) return ax_err(AxError::Io);
    return ax_ok();
}

AxResult<void> three_steps(bool first, bool second) {
    AXVCPU_TRYV(step(first));
    AXVCPU_TRYV(step(second));
    AXVCPU_TRYV(step(true));
    return ax_ok();
}
}  // namespace

TEST_CASE("AXVCPU_TRY returns the first error and binds values otherwise") {
    CHECK(sum_of_two('3', '4').value() == 7);
    const auto bad = sum_of_two('3', 'x');
    REQUIRE(bad.has_error());
    CHECK(bad.error() == AxError::InvalidInput);
}

TEST_CASE("AXVCPU_TRYV stops at the failing step") {
    steps_taken = 0;
    CHECK(three_steps(true, true).has_value());
    CHECK(steps_taken == 3);
    steps_taken = 0;
    const auto r = three_steps(true, false);
    CHECK(r.error() == AxError::Io);
    CHECK(steps_taken == 2);
}

TEST_CASE("every error kind has its axerrno name") {
    CHECK(name(AxError::BadState) == "BadState");
    CHECK(name(AxError::AddrInUse) == "AddrInUse");
    CHECK(name(AxError::WriteZero) == "WriteZero");
    CHECK(name(static_cast<AxError>(0)) == "UnknownError");
    CHECK(name(static_cast<AxError>(200)) == "UnknownError");
    for (int code = 1; code <= static_cast<int>(AxError::WriteZero); ++code)
        CHECK(name(static_cast<AxError>(code)) != "UnknownError");
    std::ostringstream os;
    os << AxError::NoMemory;
    CHECK(os.str() == "NoMemory");
}
