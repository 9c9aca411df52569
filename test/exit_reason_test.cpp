// AxVCpuExitReason: every kind, its name, its log text and equality.
#include <doctest/doctest.h>

#include <axvcpu/exit_reason.hpp>
#include <axvcpu/ostream.hpp>

#include <boost/hana/accessors.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/equal.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/keys.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/size.hpp>
#include <boost/hana/type.hpp>

#include <set>
#include <sstream>
#include <string>
#include <type_traits>

namespace exit_reason_test {

using namespace axvcpu;

namespace {
std::string text(const AxVCpuExitReason& reason) { return std::string(fmt::to_text<512>(reason).view()); }
}  // namespace

static_assert(std::variant_size_v<detail::ExitReasonVariant> == 19, "16 upstream reasons + Idle, PreemptionTimer, InterruptEnd");
static_assert(exit::reason_names.size() == 19);
static_assert(boost::hana::size(exit::reason_types) == boost::hana::size_c<19>);
static_assert(boost::hana::at_c<18>(exit::reason_types) == boost::hana::type_c<exit::InterruptEnd>);

// AXVCPU_ADAPT_STRUCT makes the payloads Hana Structs as BOOST_HANA_ADAPT_STRUCT
// would: names as hana::strings, accessors in member order.
static_assert(boost::hana::keys(exit::MmioWrite{}) ==
              boost::hana::make_tuple(BOOST_HANA_STRING("addr"), BOOST_HANA_STRING("width"), BOOST_HANA_STRING("data")));
static_assert(boost::hana::length(boost::hana::accessors<exit::Halt>()) == boost::hana::size_c<0>);
static_assert(boost::hana::second(boost::hana::at_c<1>(boost::hana::accessors<exit::Hypercall>()))(
                  exit::Hypercall{1, {2, 3}})[1] == 3);

TEST_CASE("every exit reason prints as its name and fields") {
    const std::pair<AxVCpuExitReason, const char*> cases[] = {
        {exit::Hypercall{0x84000008, {1, 2, 3, 4, 5, 6}},
         "Hypercall { nr: 0x84000008, args: [0x1, 0x2, 0x3, 0x4, 0x5, 0x6] }"},
        {exit::MmioRead{GuestPhysAddr(0x9000018), AccessWidth::Word, 3, AccessWidth::Dword, true},
         "MmioRead { addr: GPA:0x9000018, width: Word, reg: 0x3, reg_width: Dword, signed_ext: true }"},
        {exit::MmioWrite{GuestPhysAddr(0x9000000), AccessWidth::Byte, 0x41},
         "MmioWrite { addr: GPA:0x9000000, width: Byte, data: 0x41 }"},
        {exit::SysRegRead{SysRegAddr{0x3a0003}, 2}, "SysRegRead { addr: SysReg:0x3a0003, reg: 0x2 }"},
        {exit::SysRegWrite{SysRegAddr{0x3a0003}, 7}, "SysRegWrite { addr: SysReg:0x3a0003, value: 0x7 }"},
        {exit::IoRead{0x3f8, AccessWidth::Byte}, "IoRead { port: 0x3f8, width: Byte }"},
        {exit::IoWrite{0x604, AccessWidth::Word, 0x2000}, "IoWrite { port: 0x604, width: Word, data: 0x2000 }"},
        {exit::ExternalInterrupt{27}, "ExternalInterrupt { vector: 0x1b }"},
        {exit::NestedPageFault{GuestPhysAddr(0x1000), MappingFlags{MappingFlags::READ | MappingFlags::EXECUTE}},
         "NestedPageFault { addr: GPA:0x1000, access_flags: READ | EXECUTE }"},
        {exit::Halt{}, "Halt"},
        {exit::CpuUp{1, GuestPhysAddr(0x40080000), 0xabc},
         "CpuUp { target_cpu: 0x1, entry_point: GPA:0x40080000, arg: 0xabc }"},
        {exit::CpuDown{0}, "CpuDown { state: 0x0 }"},
        {exit::SystemDown{}, "SystemDown"},
        {exit::Nothing{}, "Nothing"},
        {exit::FailEntry{0x21}, "FailEntry { hardware_entry_failure_reason: 0x21 }"},
        {exit::SendIPI{1, 0, false, false, 3},
         "SendIPI { target_cpu: 0x1, target_cpu_aux: 0x0, send_to_all: false, send_to_self: false, vector: 0x3 }"},
        {exit::Idle{}, "Idle"},
        {exit::PreemptionTimer{}, "PreemptionTimer"},
        {exit::InterruptEnd{27}, "InterruptEnd { vector: 0x1b }"},
    };
    std::set<std::string_view> names;
    for (const auto& [reason, expected] : cases) {
        CHECK(text(reason) == expected);
        CHECK(std::string(expected).rfind(std::string(reason.name()), 0) == 0);
        names.insert(reason.name());
    }
    CHECK(names.size() == 19);  // every alternative covered once
    CHECK(text(exit::InterruptEnd{}) == "InterruptEnd { vector: none }");
    CHECK(text(exit::NestedPageFault{GuestPhysAddr(0), MappingFlags{}}) ==
          "NestedPageFault { addr: GPA:0x0, access_flags: NONE }");
}

TEST_CASE("exit reasons compare by kind and by every field") {
    const AxVCpuExitReason a = exit::MmioWrite{GuestPhysAddr(0x10), AccessWidth::Dword, 5};
    CHECK(a == AxVCpuExitReason(exit::MmioWrite{GuestPhysAddr(0x10), AccessWidth::Dword, 5}));
    CHECK(a != AxVCpuExitReason(exit::MmioWrite{GuestPhysAddr(0x10), AccessWidth::Dword, 6}));
    CHECK(a != AxVCpuExitReason(exit::MmioWrite{GuestPhysAddr(0x10), AccessWidth::Word, 5}));
    CHECK(a != AxVCpuExitReason(exit::Halt{}));
    CHECK(a.is<exit::MmioWrite>());
    REQUIRE(a.get_if<exit::MmioWrite>() != nullptr);
    CHECK(a.get_if<exit::MmioWrite>()->data == 5);
    CHECK(a.get_if<exit::MmioRead>() == nullptr);
}

namespace {
// A different value of the same member type.
template <class T>
void change(T& value) {
    if constexpr (std::is_same_v<T, WideBool> || std::is_same_v<T, bool>) {
        value = !value;
    } else if constexpr (std::is_same_v<T, AccessWidth>) {
        value = value == AccessWidth::Byte ? AccessWidth::Word : AccessWidth::Byte;
    } else if constexpr (std::is_same_v<T, GuestPhysAddr>) {
        value = GuestPhysAddr(value.value() + 1);
    } else if constexpr (std::is_same_v<T, SysRegAddr>) {
        ++value.value;
    } else if constexpr (std::is_same_v<T, MappingFlags>) {
        value.bits ^= MappingFlags::WRITE;
    } else if constexpr (std::is_same_v<T, std::optional<std::uint64_t>>) {
        value = value ? std::nullopt : std::optional<std::uint64_t>(1);
    } else if constexpr (std::is_same_v<T, std::array<std::uint64_t, 6>>) {
        ++value.back();  // the last element: the whole array is compared
    } else {
        static_assert(std::is_unsigned_v<T>, "change(): add this member type");
        ++value;
    }
}
}  // namespace

TEST_CASE("every payload compares member by member: equal to a copy, unequal once any member changes") {
    boost::hana::for_each(exit::reason_types, [&](auto type) {
        using Payload = typename decltype(type)::type;
        CAPTURE(Payload::type_name);
        const Payload original{};
        CHECK(original == Payload{});
        CHECK(AxVCpuExitReason(original) == AxVCpuExitReason(Payload{}));
        usize members = 0;
        boost::hana::for_each(boost::hana::accessors<Payload>(), [&](auto field) {
            Payload changed{};
            change(boost::hana::second(field)(changed));
            CHECK_FALSE(original == changed);
            CHECK(AxVCpuExitReason(original) != AxVCpuExitReason(changed));
            ++members;
        });
        CHECK(members == reflect::aggregate_arity<Payload>());  // every member was changed once
    });
}

TEST_CASE("access widths convert from byte counts, refusing others") {
    CHECK(access_width_from_bytes(1) == AccessWidth::Byte);
    CHECK(access_width_from_bytes(2) == AccessWidth::Word);
    CHECK(access_width_from_bytes(4) == AccessWidth::Dword);
    CHECK(access_width_from_bytes(8) == AccessWidth::Qword);
    CHECK_FALSE(access_width_from_bytes(3).has_value());
    CHECK_FALSE(access_width_from_bytes(16).has_value());
    CHECK(size_in_bytes(AccessWidth::Qword) == 8);
    CHECK(size_in_bits(AccessWidth::Word) == 16);
    CHECK(width_mask(AccessWidth::Byte) == 0xFF);
    CHECK(width_mask(AccessWidth::Word) == 0xFFFF);
    CHECK(width_mask(AccessWidth::Dword) == 0xFFFF'FFFF);
    CHECK(width_mask(AccessWidth::Qword) == ~std::uint64_t{0});
}

TEST_CASE("exit reasons stream for hosted logs") {
    std::ostringstream os;
    os << AxVCpuExitReason(exit::Halt{}) << " / " << exit::CpuDown{1};
    CHECK(os.str() == "Halt / CpuDown { state: 0x1 }");
}

// MmioRead::signed_ext is eight bytes wide (see WideBool) but behaves as a
// bool; nothing else converts to it, so nothing else prints as a flag.
static_assert(sizeof(WideBool) == 8);
static_assert(std::is_convertible_v<bool, WideBool> && std::is_convertible_v<WideBool, bool>);
static_assert(!std::is_convertible_v<int, WideBool> && !std::is_convertible_v<const exit::MmioRead*, WideBool>);
static_assert(!fmt::Printable<const exit::MmioRead*>);

TEST_CASE("signed_ext reads, compares and prints like a bool") {
    exit::MmioRead read{GuestPhysAddr(0x10), AccessWidth::Byte, 1, AccessWidth::Qword, true};
    CHECK(read.signed_ext);
    CHECK(read.signed_ext == true);
    CHECK_FALSE(!read.signed_ext);
    read.signed_ext = false;
    CHECK(read.signed_ext == false);
    CHECK(read == exit::MmioRead{GuestPhysAddr(0x10), AccessWidth::Byte, 1, AccessWidth::Qword, false});
    CHECK(read != exit::MmioRead{GuestPhysAddr(0x10), AccessWidth::Byte, 1, AccessWidth::Qword, true});
    CHECK(std::string(fmt::to_text(WideBool(true)).view()) == "true");
    std::ostringstream pointer;
    pointer << &read;  // an address, not a flag
    CHECK(pointer.str().rfind("0x", 0) == 0);
}
}  // namespace exit_reason_test
