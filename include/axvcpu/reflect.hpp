// Generic printing and comparison of Hana-adapted structs.
//
// Config structs and exit-reason payloads are adapted with
// AXVCPU_ADAPT_STRUCT (below; the library's own structs) or
// BOOST_HANA_ADAPT_STRUCT (anyone's, after including
// <boost/hana/adapt_struct.hpp>); this header turns that member list into
// `Name { field: value, ... }` log text, and offers struct_equal: field-wise
// equality that also compares span members element by element, something a
// defaulted operator== cannot do.
//
// Equality is not a generic operator== here: one in namespace axvcpu is a
// candidate for every == on every type associated with the namespace, its
// constraint checked for each, and comparing two exit reasons through it
// cost more compile time than the whole of <axvcpu/axvcpu.hpp>. Each struct
// declares its own (defaulted where its members allow).
#pragma once

#include <array>
#include <concepts>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/hana/accessors.hpp>
#include <boost/hana/all_of.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

#include "axvcpu/fmt.hpp"

namespace axvcpu::reflect {

// A struct whose members Hana can enumerate, and which names itself for logs.
template <class T>
concept Reflected = boost::hana::Struct<T>::value && requires {
    { T::type_name } -> std::convertible_to<std::string_view>;
};

namespace detail {
template <class T>
struct is_span : std::false_type {};
template <class T, std::size_t N>
struct is_span<std::span<T, N>> : std::true_type {};
template <class T, std::size_t N>
struct is_span<std::array<T, N>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// The accessor AXVCPU_ADAPT_STRUCT pairs with each member name: the member of
// the object it is called with (Hana's own macro makes the same).
template <class Member, Member member>
struct MemberAccessor {
    template <class T>
    constexpr decltype(auto) operator()(T&& object) const {
        return static_cast<T&&>(object).*member;
    }
};
}  // namespace detail

// How many members brace-initialising T takes: the largest N for which
// T{any, ..., any} (N of them) compiles. Used to check that a Hana member
// list names every member, so a field added to a struct but not to its
// BOOST_HANA_ADAPT_STRUCT line fails the build instead of silently
// vanishing from logs and comparisons.
struct AnyMember {
    template <class U>
    operator U() const noexcept;  // never defined: used only unevaluated
};

template <class T, std::size_t... I>
constexpr bool brace_constructible(std::index_sequence<I...>) {
    return requires { T{(static_cast<void>(I), AnyMember{})...}; };
}

template <class T, std::size_t N = 0>
constexpr std::size_t aggregate_arity() {
    if constexpr (N > 32 || !brace_constructible<T>(std::make_index_sequence<N + 1>{})) {
        return N;
    } else {
        return aggregate_arity<T, N + 1>();
    }
}

template <class T>
constexpr bool adapts_every_member() {
    return aggregate_arity<T>() == decltype(boost::hana::length(boost::hana::accessors<T>()))::value;
}

template <fmt::Sink S, class T>
constexpr void print_value(S& out, const T& value);

template <fmt::Sink S, Reflected T>
constexpr void print_struct(S& out, const T& value) {
    static_assert(adapts_every_member<T>(), "reflect: BOOST_HANA_ADAPT_STRUCT does not list every member of this struct");
    out.write(T::type_name);
    bool first = true;
    boost::hana::for_each(boost::hana::accessors<T>(), [&](auto field) {
        out.write(first ? " { "sv : ", "sv);
        first = false;
        // Sized from the compile-time string, so no strlen call is emitted.
        constexpr auto field_name = std::remove_cvref_t<decltype(boost::hana::first(field))>{};
        constexpr std::size_t field_name_length = decltype(boost::hana::length(field_name))::value;
        out.write(std::string_view(boost::hana::to<const char*>(field_name), field_name_length));
        out.write(": "sv);
        print_value(out, boost::hana::second(field)(value));
    });
    if (!first) out.write(" }"sv);  // a struct with no members prints as its bare name
}

// One member's value: library types print themselves; plain numbers are hex,
// the radix every hypervisor log uses for registers and addresses.
template <fmt::Sink S, class T>
constexpr void print_value(S& out, const T& value) {
    if constexpr (fmt::Printable<T, S>) {
        print_to(out, value);
    } else if constexpr (Reflected<T>) {
        print_struct(out, value);
    } else if constexpr (std::is_same_v<T, bool>) {
        fmt::write_bool(out, value);
    } else if constexpr (std::is_unsigned_v<T>) {
        fmt::write_hex(out, value);
    } else if constexpr (std::is_integral_v<T>) {
        if (value < 0) out.write("-"sv);
        fmt::write_dec(out, value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value));
    } else if constexpr (std::is_convertible_v<T, std::string_view>) {
        out.write("\""sv);
        out.write(std::string_view(value));
        out.write("\""sv);
    } else if constexpr (detail::is_optional<T>::value) {
        if (value) {
            print_value(out, *value);
        } else {
            out.write("none"sv);
        }
    } else if constexpr (detail::is_span<T>::value) {
        out.write("["sv);
        bool first = true;
        for (const auto& element : value) {
            if (!first) out.write(", "sv);
            first = false;
            print_value(out, element);
        }
        out.write("]"sv);
    } else {
        static_assert(sizeof(T) == 0, "reflect::print_value: this member type has no printer");
    }
}

template <class T>
constexpr bool values_equal(const T& a, const T& b);

template <Reflected T>
constexpr bool struct_equal(const T& a, const T& b) {
    static_assert(adapts_every_member<T>(), "reflect: BOOST_HANA_ADAPT_STRUCT does not list every member of this struct");
    return boost::hana::all_of(boost::hana::accessors<T>(), [&](auto field) {
        auto get = boost::hana::second(field);
        return values_equal(get(a), get(b));
    });
}

template <class T>
constexpr bool values_equal(const T& a, const T& b) {
    if constexpr (Reflected<T>) {
        return struct_equal(a, b);
    } else if constexpr (detail::is_span<T>::value) {
        // std::equal's four-iterator form, without <algorithm>'s parse cost.
        if (a.size() != b.size()) return false;
        auto other = b.begin();
        for (const auto& element : a) {
            if (!values_equal(element, *other)) return false;
            ++other;
        }
        return true;
    } else {
        return a == b;
    }
}

}  // namespace axvcpu::reflect

namespace axvcpu {

// Every reflected type in namespace axvcpu prints through its member list;
// ADL finds this for all of them.
template <fmt::Sink S, reflect::Reflected T>
constexpr void print_to(S& out, const T& value) {
    reflect::print_struct(out, value);
}


}  // namespace axvcpu

// AXVCPU_ADAPT_STRUCT(Type, member...): makes Type a hana::Struct exactly as
// BOOST_HANA_ADAPT_STRUCT(Type, member...) does (hana::accessors<Type>() is
// a tuple of (hana::string name, accessor) pairs in member order), for at
// most eight members. The difference is cost: Hana's macro builds the whole
// member list (a tuple of pairs, a compile-time string per member) in every
// translation unit that includes the struct, where this one builds it only in
// those that print, compare or otherwise reflect the struct; about 35 ms of
// GCC per struct otherwise. Use it at global scope, like Hana's.
#define AXVCPU_ADAPT_STRUCT(...)                                                                            \
    AXVCPU_ADAPT_STRUCT_I(AXVCPU_REFLECT_PP_CAT(AXVCPU_REFLECT_PAIRS_, AXVCPU_REFLECT_PP_MEMBERS(__VA_ARGS__)), \
                          __VA_ARGS__)
#define AXVCPU_ADAPT_STRUCT_I(PAIRS, TYPE, ...)                                 \
    namespace boost::hana {                                                     \
    template <>                                                                 \
    struct accessors_impl<TYPE> {                                               \
        template <class S = TYPE>                                               \
        static constexpr auto apply() {                                         \
            return ::boost::hana::make_tuple(PAIRS(S __VA_OPT__(, ) __VA_ARGS__)); \
        }                                                                       \
    };                                                                          \
    }
#define AXVCPU_REFLECT_PP_CAT(a, b) AXVCPU_REFLECT_PP_CAT_I(a, b)
#define AXVCPU_REFLECT_PP_CAT_I(a, b) a##b
// The member count: AXVCPU_REFLECT_PP_MEMBERS(T, a, b) is 2.
#define AXVCPU_REFLECT_PP_MEMBERS(...) AXVCPU_REFLECT_PP_NTH(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0, _)
#define AXVCPU_REFLECT_PP_NTH(t, m1, m2, m3, m4, m5, m6, m7, m8, n, ...) n
#define AXVCPU_REFLECT_PAIR(S, m)                                 \
    ::boost::hana::make_pair(BOOST_HANA_STRING(#m),              \
                             ::axvcpu::reflect::detail::MemberAccessor<decltype(&S::m), &S::m>{})
#define AXVCPU_REFLECT_PAIRS_0(S)
#define AXVCPU_REFLECT_PAIRS_1(S, m) AXVCPU_REFLECT_PAIR(S, m)
#define AXVCPU_REFLECT_PAIRS_2(S, m, ...) AXVCPU_REFLECT_PAIR(S, m), AXVCPU_REFLECT_PAIRS_1(S, __VA_ARGS__)
#define AXVCPU_REFLECT_PAIRS_3(S, m, ...) AXVCPU_REFLECT_PAIR(S, m), AXVCPU_REFLECT_PAIRS_2(S, __VA_ARGS__)
#define AXVCPU_REFLECT_PAIRS_4(S, m, ...) AXVCPU_REFLECT_PAIR(S, m), AXVCPU_REFLECT_PAIRS_3(S, __VA_ARGS__)
#define AXVCPU_REFLECT_PAIRS_5(S, m, ...) AXVCPU_REFLECT_PAIR(S, m), AXVCPU_REFLECT_PAIRS_4(S, __VA_ARGS__)
#define AXVCPU_REFLECT_PAIRS_6(S, m, ...) AXVCPU_REFLECT_PAIR(S, m), AXVCPU_REFLECT_PAIRS_5(S, __VA_ARGS__)
#define AXVCPU_REFLECT_PAIRS_7(S, m, ...) AXVCPU_REFLECT_PAIR(S, m), AXVCPU_REFLECT_PAIRS_6(S, __VA_ARGS__)
#define AXVCPU_REFLECT_PAIRS_8(S, m, ...) AXVCPU_REFLECT_PAIR(S, m), AXVCPU_REFLECT_PAIRS_7(S, __VA_ARGS__)
