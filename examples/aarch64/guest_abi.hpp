// The contract between the example hypervisor and its guests (see README.md):
// memory map, the emulated test device, and the hypercalls it answers.
#pragma once

#include <cstdint>

#include "examples/vmm/hypercalls.hpp"
#include "examples/vmm/test_device_map.hpp"

namespace abi {

// Guest RAM, identity-mapped (GPA == HPA); the image is loaded at its start
// and entered at its first byte, at EL1h with MMU and interrupts off.
inline constexpr std::uint64_t guest_ram_base = 0x4800'0000;
inline constexpr std::uint64_t guest_ram_size = 0x0400'0000;  // 64 MiB
// The CPU-sharing test's second VM: the same GPAs, backed from here.
inline constexpr std::uint64_t second_vm_ram_base = 0x4C00'0000;  // to 0x50000000 (QEMU -m 256M)
// Passed through: the PL011 UART (one page).
inline constexpr std::uint64_t uart_base = 0x0900'0000;
// What vCPU 0 finds in x0 at entry (CreateConfig::dtb_addr). The test
// guests take no device tree; the exits guest checks the value arrived.
inline constexpr std::uint64_t dtb_gpa = 0x4BF0'0000;
// The chaos guest's parameters (README.md, "The chaos guest"): its PRNG seed
// and how many exits to make, little-endian u64s, 0 for the defaults. QEMU's
// loader writes them (-device loader,addr=0x4BE00000,data=SEED,data-len=8).
inline constexpr std::uint64_t chaos_params = 0x4BE0'0000;
// Emulated by the hypervisor, one page: see README.md for the registers.
inline constexpr std::uint64_t testdev_base = 0x0B00'0000;
// Never mapped: touching it is a stage-2 fault the hypervisor reports.
inline constexpr std::uint64_t unmapped_base = 0x3000'0000;

// Test device registers (offsets): vmm::TestDevice (examples/vmm/test_devices.hpp).
inline constexpr std::uint64_t dev_scratch = vmm::TestDeviceMap::scratch;    // RW: reads return what was written
inline constexpr std::uint64_t dev_magic = vmm::TestDeviceMap::magic;        // RO: magic_value
inline constexpr std::uint64_t dev_negative = vmm::TestDeviceMap::negative;  // RO: sign-extension tests
inline constexpr std::uint64_t dev_sink = vmm::TestDeviceMap::sink;          // WO: written values are logged and checked
inline constexpr std::uint64_t magic_value = vmm::TestDeviceMap::magic_value;
inline constexpr std::uint64_t negative_value = vmm::TestDeviceMap::negative_value;

// Hypercalls: hvc #0 with the number in x0, arguments in x1..x6, result in
// x0; the numbers are the example VMM's (examples/vmm/hypercalls.hpp).
inline constexpr std::uint64_t hc_hello = vmm::hypercall::hello;          // x1 = test id; returns the VM id
inline constexpr std::uint64_t hc_result = vmm::hypercall::result;        // x1 = 0: pass, else a failure code
inline constexpr std::uint64_t hc_sum = vmm::hypercall::sum;              // returns x1 + ... + x6
inline constexpr std::uint64_t hc_check = vmm::hypercall::check_regs;     // register-integrity round (see regs guest)
inline constexpr std::uint64_t hc_inject = vmm::hypercall::inject;        // injects x1 .. x1 + x2 - 1 (x2 = 0: one) into the caller
inline constexpr std::uint64_t hc_timer = vmm::hypercall::host_timer;     // x1 != 0: fire a host timer IRQ in x1 ticks; returns how many fired
inline constexpr std::uint64_t hc_nop = vmm::hypercall::nop;              // returns 0 (benchmark round trip)
inline constexpr std::uint64_t hc_bench = vmm::hypercall::bench;          // x1 = measurement id, x2 = instructions
inline constexpr std::uint64_t hc_bench_raw = vmm::hypercall::bench_raw;  // the VMM answers from its hand-written twin of the benchmark loop until hc_bench_end
inline constexpr std::uint64_t hc_bench_begin = vmm::hypercall::bench_begin;  // the VMM answers from its benchmark loop...
inline constexpr std::uint64_t hc_bench_end = vmm::hypercall::bench_end;      // ...until this call
inline constexpr std::uint64_t hc_ack = vmm::hypercall::ack_vi;           // HCR_EL2.VI delivery: returns the vector taken (1023: none)
inline constexpr std::uint64_t hc_set_quiet = vmm::hypercall::set_quiet;  // x1 != 0: the VMM stops tracing each exit
inline constexpr std::uint64_t hc_ldst_counts = vmm::hypercall::ldst_counts;  // x1..x3 = loads, stores, refused; x4 = atomics run: 0 if the VMM agrees
inline constexpr std::uint64_t hc_feed_list_register = vmm::hypercall::feed_list_register;  // x1 = INTID, x2 = priority: into a free list register as a GIC model would
inline constexpr std::uint64_t hc_given_back = vmm::hypercall::given_back;  // the fed list register given back at the caller's last CPU_OFF

// Value the hypervisor returns for a trapped ID_AA64MMFR0_EL1 read.
inline constexpr std::uint64_t fake_mmfr0 = 0x0000'0000'0000'1122;

enum TestId : std::uint64_t {
    test_exits = 1,
    test_regs = 2,
    test_smp = 3,
    test_bad = 4,
    test_bench = 5,
    test_share = 6,
    test_unmodelled = 7,
    test_vi = 8,
    test_ldst = 9,
    test_chaos = 10,
};

}  // namespace abi
