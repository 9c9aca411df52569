// AxError and AxResult<T>: every fallible operation in the library returns an
// AxResult, built on Boost.Outcome's basic_result so it works without
// exceptions. Reading the wrong side of a result (value of an error, error of
// a value) aborts deterministically instead of being undefined behaviour.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/success_failure.hpp>
#include <boost/outcome/try.hpp>

#include "axvcpu/fmt.hpp"

namespace axvcpu {

// The error kinds of AxVisor's axerrno, with the same numbering (0 is success
// there, so the first kind is 1).
enum class AxError : std::uint8_t {
    AddrInUse = 1,
    AlreadyExists,
    BadAddress,
    BadState,
    ConnectionRefused,
    ConnectionReset,
    DirectoryNotEmpty,
    InvalidData,
    InvalidInput,
    Io,
    IsADirectory,
    NoMemory,
    NotADirectory,
    NotConnected,
    NotFound,
    PermissionDenied,
    ResourceBusy,
    StorageFull,
    Timeout,
    UnexpectedEof,
    Unsupported,
    WouldBlock,
    WriteZero,
};

namespace detail {
inline constexpr std::array<std::string_view, 23> ax_error_names = {
    "AddrInUse",    "AlreadyExists", "BadAddress",       "BadState",       "ConnectionRefused", "ConnectionReset",
    "DirectoryNotEmpty", "InvalidData", "InvalidInput",  "Io",             "IsADirectory",      "NoMemory",
    "NotADirectory", "NotConnected", "NotFound",         "PermissionDenied", "ResourceBusy",    "StorageFull",
    "Timeout",      "UnexpectedEof", "Unsupported",      "WouldBlock",     "WriteZero",
};
static_assert(ax_error_names.size() == static_cast<std::size_t>(AxError::WriteZero),
              "every AxError kind needs a name");
}  // namespace detail

[[nodiscard]] constexpr std::string_view name(AxError error) noexcept {
    const auto index = static_cast<std::size_t>(error) - 1;
    return index < detail::ax_error_names.size() ? detail::ax_error_names[index] : "UnknownError"sv;
}

template <fmt::Sink S>
constexpr void print_to(S& out, AxError error) {
    out.write(name(error));
}

template <class T = void>
using AxResult = boost::outcome_v2::basic_result<T, AxError, boost::outcome_v2::policy::terminate>;

// `return ax_err(AxError::BadState);` from any function returning AxResult<T>.
[[nodiscard]] constexpr auto ax_err(AxError error) noexcept { return boost::outcome_v2::failure(error); }
// Upstream's Ok(()): an AxResult<void> itself, not Outcome's success_type,
// so that `cond ? ax_err(e) : ax_ok()` has a type (ax_err's failure_type
// converts to AxResult<void>; two unrelated tag types would not meet).
[[nodiscard]] constexpr AxResult<void> ax_ok() noexcept { return boost::outcome_v2::success(); }

}  // namespace axvcpu

// AXVCPU_TRY(value, expr): declares `auto&& value`, bound to the value of `expr` or returns its error
// from the enclosing function. AXVCPU_TRYV(expr) does the same for AxResult<void>.
#define AXVCPU_TRY(...) BOOST_OUTCOME_TRY(__VA_ARGS__)
#define AXVCPU_TRYV(...) BOOST_OUTCOME_TRYV(__VA_ARGS__)
