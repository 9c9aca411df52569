// axvm_types: ids, VCpuSet, typed addresses and ranges, device types, configs.
#include <doctest/doctest.h>

#include <axvcpu/addr.hpp>
#include <axvcpu/device_type.hpp>
#include <axvcpu/ostream.hpp>
#include <axvcpu/types.hpp>
#include <axvcpu/vm_config.hpp>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

namespace types_test {

using namespace axvcpu;

namespace {
template <class T>
std::string text(const T& value) {
    return std::string(fmt::to_text<512>(value).view());
}
}  // namespace

TEST_CASE("VCpuSet holds exactly ids 0..63") {
    VCpuSet set;
    CHECK(set.empty());
    CHECK(set.insert(0));
    CHECK(set.insert(63));
    CHECK_FALSE(set.insert(64));  // refused, not wrapped onto bit 0
    CHECK(set.contains(0));
    CHECK(set.contains(63));
    CHECK_FALSE(set.contains(64));
    CHECK_FALSE(set.contains(1));
    CHECK(set.count() == 2);
    CHECK(set.bits() == 0x8000000000000001ull);
    CHECK(text(set) == "{0, 63}");
    CHECK(set.remove(0));
    CHECK_FALSE(set.remove(100));
    CHECK(std::vector<VCpuId>(set.begin(), set.end()) == std::vector<VCpuId>{63});
    CHECK(VCpuSet::first_n(64).count() == 64);
    CHECK(VCpuSet::first_n(3).bits() == 0b111);
    CHECK(VCpuSet::first_n(0).empty());
    CHECK((VCpuSet::first_n(4) - VCpuSet::only(1)).bits() == 0b1101);
    CHECK((VCpuSet::only(2) | VCpuSet::only(5)).bits() == 0b100100);
    CHECK((VCpuSet::first_n(4) & VCpuSet::only(3)) == VCpuSet::only(3));
    CHECK(VCpuSet::only(64).empty());
    CHECK(text(VCpuSet{}) == "{}");
}

TEST_CASE("address kinds cannot be mixed up and print with their prefix") {
    static_assert(!std::is_convertible_v<GuestPhysAddr, HostPhysAddr>);
    static_assert(!std::is_convertible_v<HostPhysAddr, GuestPhysAddr>);
    static_assert(!std::is_convertible_v<GuestVirtAddr, GuestPhysAddr>);
    static_assert(!std::is_convertible_v<usize, GuestPhysAddr>, "construction from an integer is explicit");
    CHECK(text(GuestPhysAddr(0x80200000)) == "GPA:0x80200000");
    CHECK(text(GuestVirtAddr(0xffff000000001000)) == "GVA:0xffff000000001000");
    CHECK(text(HostPhysAddr(0)) == "HPA:0x0");
    CHECK(text(HostVirtAddr(0x10)) == "HVA:0x10");

    const GuestPhysAddr a(0x1234);
    CHECK(a.align_down(0x1000) == GuestPhysAddr(0x1000));
    CHECK(a.align_up(0x1000) == GuestPhysAddr(0x2000));
    CHECK_FALSE(a.is_aligned(0x1000));
    CHECK(a.page_offset() == 0x234);
    CHECK((a + 0x10) - a == 0x10);
    CHECK(GuestPhysAddr(0x1000) < GuestPhysAddr(0x2000));
}

TEST_CASE("address ranges are half-open; inverted or wrapping ones are refused") {
    const auto r = GuestPhysAddrRange::from_start_size(GuestPhysAddr(0x1000), 0x1000).value();
    CHECK(r.size() == 0x1000);
    CHECK(r.contains(GuestPhysAddr(0x1000)));
    CHECK(r.contains(GuestPhysAddr(0x1fff)));
    CHECK_FALSE(r.contains(GuestPhysAddr(0x2000)));
    CHECK(text(r) == "GPA:0x1000..GPA:0x2000");
    CHECK(r.overlaps(GuestPhysAddrRange::from_bounds(GuestPhysAddr(0x1fff), GuestPhysAddr(0x3000)).value()));
    CHECK_FALSE(r.overlaps(GuestPhysAddrRange::from_bounds(GuestPhysAddr(0x2000), GuestPhysAddr(0x3000)).value()));
    CHECK(r.contains(GuestPhysAddrRange::from_start_size(GuestPhysAddr(0x1800), 0x100).value()));
    CHECK_FALSE(GuestPhysAddrRange::from_bounds(GuestPhysAddr(0x3000), GuestPhysAddr(0x1000)).has_value());
    CHECK(GuestPhysAddrRange::from_bounds(GuestPhysAddr(0x3000), GuestPhysAddr(0x3000)).value().empty());
    // Would wrap past the top of the address space onto page 0.
    CHECK_FALSE(GuestPhysAddrRange::from_start_size(GuestPhysAddr(~usize{0} - 0xfff), 0x2000).has_value());
    CHECK(GuestPhysAddrRange::from_start_size(GuestPhysAddr(~usize{0} - 0xf), 0xf).has_value());
}

TEST_CASE("every EmulatedDeviceType code round-trips; unknown codes give no value") {
    const auto all = all_emulated_device_types();
    CHECK(all.size() == 13);
    for (EmulatedDeviceType type : all) {
        CAPTURE(type);
        const auto back = emulated_device_type_from_code(code(type));
        REQUIRE(back.has_value());
        CHECK(*back == type);
        CHECK(name(type) != "unknown device");
    }
    std::size_t known = 0;
    for (unsigned value = 0; value < 0x200; ++value)
        if (emulated_device_type_from_code(value)) ++known;
    CHECK(known == all.size());
    CHECK_FALSE(emulated_device_type_from_code(0x6).has_value());  // IOMMU: retired upstream
    CHECK_FALSE(emulated_device_type_from_code(0x1e1).has_value());  // not truncated to 0xe1
    CHECK(emulated_device_type_from_code(0xe3) == EmulatedDeviceType::VirtioConsole);
}

TEST_CASE("device names and removability match upstream") {
    CHECK(text(EmulatedDeviceType::Dummy) == "meta device");
    CHECK(text(EmulatedDeviceType::GPPTITS) == "gic partial passthrough its");
    CHECK(text(EmulatedDeviceType::PPPTGlobal) == "plic partial passthrough global");
    const std::vector<EmulatedDeviceType> removable_types{
        EmulatedDeviceType::InterruptController, EmulatedDeviceType::GPPTRedistributor,
        EmulatedDeviceType::X86IoApic,           EmulatedDeviceType::X86Pit,
        EmulatedDeviceType::VirtioBlk,           EmulatedDeviceType::VirtioNet,
        EmulatedDeviceType::VirtioConsole};
    for (EmulatedDeviceType type : all_emulated_device_types()) {
        CAPTURE(type);
        const bool expected =
            std::find(removable_types.begin(), removable_types.end(), type) != removable_types.end();
        CHECK(removable(type) == expected);
    }
}

TEST_CASE("config structs print and compare through their reflected members") {
    static constexpr usize params_a[] = {1, 2, 3};
    static constexpr usize params_b[] = {1, 2, 4};
    const EmulatedDeviceConfig uart{"uart", 0x9000000, 0x1000, 33, EmulatedDeviceType::Console, params_a};
    CHECK(text(uart) ==
          "EmulatedDeviceConfig { name: \"uart\", base_gpa: 0x9000000, length: 0x1000, irq_id: 0x21, "
          "emu_type: console, cfg_list: [0x1, 0x2, 0x3] }");
    EmulatedDeviceConfig same = uart;
    CHECK(same == uart);
    same.cfg_list = params_b;  // differs only inside the span
    CHECK_FALSE(same == uart);

    const VmMemConfig mem{0x40000000, 0x8000000, 0x7, VmMemMappingType::MapIdentical};
    CHECK(text(mem) == "VmMemConfig { gpa: 0x40000000, size: 0x8000000, flags: 0x7, map_type: MapIdentical }");
    CHECK(mem == VmMemConfig{0x40000000, 0x8000000, 0x7, VmMemMappingType::MapIdentical});
    CHECK(mem != VmMemConfig{0x40000000, 0x8000000, 0x3, VmMemMappingType::MapIdentical});

    const PassThroughDeviceConfig pl011{"pl011", 0x9000000, 0x9000000, 0x1000, 33};
    CHECK(text(pl011) == "PassThroughDeviceConfig { name: \"pl011\", base_gpa: 0x9000000, base_hpa: 0x9000000, "
                         "length: 0x1000, irq_id: 0x21 }");
    CHECK(text(PassThroughAddressConfig{0x8000000, 0x10000}) ==
          "PassThroughAddressConfig { base_gpa: 0x8000000, length: 0x10000 }");
}

TEST_CASE("config enums print by name; VM types convert only from known codes") {
    CHECK(text(VMType::VMTLinux) == "VMTLinux");
    CHECK(text(VMBootProtocol::Uefi) == "Uefi");
    CHECK(text(VMInterruptMode::Passthrough) == "Passthrough");
    CHECK(vm_type_from_code(0) == VMType::VMTHostVM);
    CHECK(vm_type_from_code(2) == VMType::VMTLinux);
    CHECK_FALSE(vm_type_from_code(3).has_value());
}

TEST_CASE("the fixed buffer truncates instead of overrunning") {
    fmt::Buffer<8> small;
    print_to(small, GuestPhysAddr(0x80200000));
    CHECK(small.view() == "GPA:0x80");
    CHECK(small.truncated());
}
}  // namespace types_test
