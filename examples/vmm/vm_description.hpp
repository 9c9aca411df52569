// A VM as data: what a board's VM table says about each VM, built from the
// axvm_types config structs. The VMM builds stage 2, the device table and
// the vCPUs from it (vmm.hpp); nothing about a VM is in code.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <axvcpu/addr.hpp>
#include <axvcpu/stage2_mapper.hpp>
#include <axvcpu/types.hpp>
#include <axvcpu/vm_config.hpp>

namespace vmm {

struct VmDescription {
    axvcpu::VMId id = 0;
    std::string_view name{};
    axvcpu::VMType type = axvcpu::VMType::VMTRTOS;
    axvcpu::usize vcpus = 1;
    // vCPU 0 starts at `entry`; the others when the guest starts them (PSCI
    // CPU_ON / SBI hart_start).
    axvcpu::GuestPhysAddr entry{};
    // Handed to vCPU 0 in the boot protocol's register (x0 / a1).
    axvcpu::GuestPhysAddr dtb{};
    // Guest RAM. MapIdentical regions are backed at GPA = HPA; MapReserved
    // ones by consecutive host memory from `reserved_base`. The example
    // allocates no RAM itself (MapAlloc is refused).
    std::span<const axvcpu::VmMemConfig> memory{};
    std::uint64_t reserved_base = 0;
    // Mapped into stage 2 as device memory.
    std::span<const axvcpu::PassThroughDeviceConfig> passthrough{};
    // Left unmapped: their MMIO exits go to the board's device models.
    std::span<const axvcpu::EmulatedDeviceConfig> emulated{};
    axvcpu::VMBootProtocol boot = axvcpu::VMBootProtocol::Direct;
    axvcpu::VMInterruptMode interrupts = axvcpu::VMInterruptMode::Emulated;
    // The physical CPU each vCPU runs on: `first_cpu + vcpu id`.
    axvcpu::usize first_cpu = 0;
    // The guest's own device tree is at `dtb`, placed there by the user
    // (QEMU's loader): the VMM checks it against this description before it
    // builds the VM (fdt.hpp, check_guest_dtb) and never writes it.
    bool user_dtb = false;
    // Runs one of the example's test guests (or a user's guest written to
    // their contract): the hypercall table (vmm/README.md) answers it, and
    // its `hello` turns that test's VMM-side checks on. Any other VM (a
    // Linux VM) gets -1 for every hypercall.
    bool test_guest = false;
};

// Where a RAM region's host memory is; nothing for MapAlloc.
struct RamBacking {
    std::uint64_t gpa;
    std::uint64_t hpa;
    std::uint64_t size;
};

// Calls `map(backing)` for each RAM region in order; false at the first
// region that cannot be backed or mapped.
template <class Map>
bool for_each_ram_region(const VmDescription& vm, Map&& map) {
    std::uint64_t reserved = vm.reserved_base;
    for (const axvcpu::VmMemConfig& region : vm.memory) {
        RamBacking backing{region.gpa, region.gpa, region.size};
        if (region.map_type == axvcpu::VmMemMappingType::MapReserved) {
            backing.hpa = reserved;
            reserved += region.size;
        } else if (region.map_type != axvcpu::VmMemMappingType::MapIdentical) {
            return false;
        }
        if (!map(backing)) return false;
    }
    return true;
}

// Maps a VM's RAM (normal memory) and pass-through devices (device memory)
// with an arch's stage-2 mapper; false at the first failure.
template <class Mapper>
bool map_guest_memory(Mapper& mapper, const VmDescription& vm) {
    const bool ram = for_each_ram_region(vm, [&](const RamBacking& region) {
        return mapper.map(region.gpa, region.hpa, region.size, axvcpu::stage2::MemType::Normal).has_value();
    });
    if (!ram) return false;
    for (const axvcpu::PassThroughDeviceConfig& device : vm.passthrough)
        if (!mapper.map(device.base_gpa, device.base_hpa, device.length, axvcpu::stage2::MemType::Device)) return false;
    return true;
}

}  // namespace vmm
