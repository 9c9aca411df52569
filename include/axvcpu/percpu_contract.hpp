// What an architecture's per-physical-CPU policy must provide (AxVisor's
// AxArchPerCpu): switching virtualization on and off on one CPU.
//   static AxResult<P> create(usize cpu_id)
//   bool is_enabled() const; AxResult<void> hardware_enable(), hardware_disable()
//   optional: static usize max_guest_page_table_levels() (default 4)
//
// Kept apart from the vCPU contract so per-CPU code does not pull in the
// exit-reason machinery.
#pragma once

#include <concepts>
#include <type_traits>

#include <boost/hana/type.hpp>

#include "axvcpu/error.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::api {

template <class P>
concept has_percpu_create = requires(usize cpu_id) {
    { P::create(cpu_id) } -> std::same_as<AxResult<P>>;
};
template <class P>
concept has_is_enabled = requires(const P& p) {
    { p.is_enabled() } -> std::same_as<bool>;
};
template <class P>
concept has_hardware_enable = requires(P& p) {
    { p.hardware_enable() } -> std::same_as<AxResult<void>>;
};
template <class P>
concept has_hardware_disable = requires(P& p) {
    { p.hardware_disable() } -> std::same_as<AxResult<void>>;
};

template <class P>
concept ArchPerCpu = std::move_constructible<P> && has_percpu_create<P> && has_is_enabled<P> &&
                     has_hardware_enable<P> && has_hardware_disable<P>;

template <class P>
consteval bool check_arch_percpu() {
    static_assert(has_percpu_create<P>, "ArchPerCpu: arch policy lacks `static AxResult<P> create(usize cpu_id)`");
    static_assert(has_is_enabled<P>, "ArchPerCpu: arch policy lacks `bool is_enabled() const`");
    static_assert(has_hardware_enable<P>, "ArchPerCpu: arch policy lacks `AxResult<void> hardware_enable()`");
    static_assert(has_hardware_disable<P>, "ArchPerCpu: arch policy lacks `AxResult<void> hardware_disable()`");
    static_assert(std::move_constructible<P>, "ArchPerCpu: arch policy must be move-constructible (create returns it)");
    static_assert(ArchPerCpu<P>, "ArchPerCpu: the concept and the per-member checks above disagree (library bug)");
    return true;
}

inline constexpr usize default_max_guest_page_table_levels = 4;

// The optional member, detected at compile time; absent means 4 levels. A
// member of that name in another form (non-static, a variable) is a
// mistake that would silently select the default, so it fails the build.
template <class P>
constexpr usize max_guest_page_table_levels() {
    constexpr auto has_levels = boost::hana::is_valid(
        [](auto type) -> decltype(decltype(type)::type::max_guest_page_table_levels()) {});
    if constexpr (has_levels(boost::hana::type_c<P>)) {
        static_assert(std::is_convertible_v<decltype(P::max_guest_page_table_levels()), usize>,
                      "ArchPerCpu: max_guest_page_table_levels() must return a number of levels");
        return P::max_guest_page_table_levels();
    } else {
        static_assert(!requires { &P::max_guest_page_table_levels; },
                      "ArchPerCpu: max_guest_page_table_levels must be `static usize max_guest_page_table_levels()`");
        return default_max_guest_page_table_levels;
    }
}
}  // namespace axvcpu::api
