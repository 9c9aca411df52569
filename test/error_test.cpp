// AxError and AxResult: names, propagation through the try macros.
#include <doctest/doctest.h>

#include <axvcpu/error.hpp>
#include <axvcpu/ostream.hpp>

#include <sstream>
#include <string>
#include <type_traits>

namespace error_test {

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

namespace {
// Both orders of a conditional between ax_ok() and ax_err(): the two meet as
// AxResult<void>, the Ok(()) of upstream.
AxResult<void> positive(int x) { return x > 0 ? ax_ok() : ax_err(AxError::InvalidInput); }
AxResult<void> even(int x) { return x % 2 != 0 ? ax_err(AxError::InvalidData) : ax_ok(); }
}  // namespace

TEST_CASE("cond ? ax_err(e) : ax_ok() compiles, as AxResult<void>, and picks the right side") {
    static_assert(std::is_same_v<decltype(true ? ax_err(AxError::Io) : ax_ok()), AxResult<void>>);
    static_assert(std::is_same_v<decltype(true ? ax_ok() : ax_err(AxError::Io)), AxResult<void>>);
    CHECK(positive(3).has_value());
    REQUIRE(positive(0).has_error());
    CHECK(positive(0).error() == AxError::InvalidInput);
    CHECK(even(4).has_value());
    REQUIRE(even(5).has_error());
    CHECK(even(5).error() == AxError::InvalidData);
    // ax_err() still converts to a result of any value type.
    const AxResult<int> failed = ax_err(AxError::NotFound);
    CHECK(failed.error() == AxError::NotFound);
}

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
}  // namespace error_test
