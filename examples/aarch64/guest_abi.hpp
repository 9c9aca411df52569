// The contract between the example hypervisor and its guests (see README.md):
// memory map, the emulated test device, and the hypercalls it answers.
#pragma once

#include <cstdint>

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
// Emulated by the hypervisor, one page: see README.md for the registers.
inline constexpr std::uint64_t testdev_base = 0x0B00'0000;
// Never mapped: touching it is a stage-2 fault the hypervisor reports.
inline constexpr std::uint64_t unmapped_base = 0x3000'0000;

// Test device registers (offsets).
inline constexpr std::uint64_t dev_scratch = 0x00;   // RW, any width: reads return what was written
inline constexpr std::uint64_t dev_magic = 0x08;     // RO: magic_value
inline constexpr std::uint64_t dev_negative = 0x10;  // RO: 0xFFFF'FFFF'8000'8080 (sign-extension tests)
inline constexpr std::uint64_t dev_sink = 0x18;      // WO: written values are logged and checked
inline constexpr std::uint64_t magic_value = 0x0A64'C0DE'1234'5678;
inline constexpr std::uint64_t negative_value = 0xFFFF'FFFF'8000'8080;

// Hypercalls: hvc #0 with the number in x0, arguments in x1..x6, result in x0.
inline constexpr std::uint64_t hc_hello = 0x4856'0000;   // x1 = test id; returns the VM id
inline constexpr std::uint64_t hc_result = 0x4856'0001;  // x1 = 0: pass, else a failure code
inline constexpr std::uint64_t hc_sum = 0x4856'0002;     // returns x1 + ... + x6
inline constexpr std::uint64_t hc_check = 0x4856'0003;   // register-integrity round (see regs guest)
inline constexpr std::uint64_t hc_inject = 0x4856'0004;  // injects interrupts x1 .. x1 + x2 - 1 (x2 = 0: one) into the caller
inline constexpr std::uint64_t hc_timer = 0x4856'0005;   // x1 != 0: fire a host timer IRQ in x1 ticks; returns how many fired
inline constexpr std::uint64_t hc_nop = 0x4856'0006;     // returns 0 (benchmark round trip)
inline constexpr std::uint64_t hc_bench = 0x4856'0007;   // x1 = measurement id, x2 = instructions
inline constexpr std::uint64_t hc_bench_raw = 0x4856'0008;  // next hc_nops go through the minimal switch
inline constexpr std::uint64_t hc_ack = 0x4856'0009;     // HCR_EL2.VI delivery: returns the vector taken (1023: none)

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
};

}  // namespace abi
