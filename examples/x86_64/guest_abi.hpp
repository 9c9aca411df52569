// What the x86_64 example hypervisor and its test guests agree on, beyond
// the VMM hypercalls (examples/vmm/hypercalls.hpp). Needs only <cstdint>.
#pragma once

#include <cstdint>

namespace guest_abi {

// Guest-physical layout of every VM: RAM at 0 (16 MiB), the VMM's identity
// page tables of the first 4 GiB at page_tables (six pages), the image at entry.
inline constexpr std::uint64_t page_tables = 0x1000;
inline constexpr std::uint64_t entry = 0x200000;
inline constexpr std::uint64_t ram_size = 0x0100'0000;

// The test device (examples/vmm/test_devices.hpp, TestDevice): unmapped,
// so every access exits as MMIO.
inline constexpr std::uint64_t test_device = 0xF000'0000;

// Ports: test_port latches an OUT and an IN reads its complement; OUTs to
// sink_port are dropped. Any other port but COM1's gets #GP.
inline constexpr std::uint16_t test_port = 0x510;
inline constexpr std::uint16_t sink_port = 0x80;

// An MSR the VMM emulates: reads return the last value written. Any other
// MSR the policy does not handle itself gets #GP.
inline constexpr std::uint32_t test_msr = 0x4000'1234;
inline constexpr std::uint64_t msr_write_value = 0x1122'3344'5566'7788;

// Test ids (the hello hypercall's argument).
inline constexpr std::uint64_t test_exits = 0x8601;
inline constexpr std::uint64_t test_regs = 0x8602;
inline constexpr std::uint64_t test_bad = 0x8603;
inline constexpr std::uint64_t test_chaos = 0x8604;

// The chaos guest's parameters (README.md, "The chaos guest"): its PRNG seed
// and the exits to make, two words QEMU's loader may write at this
// guest-physical address (0: the defaults). The last page of RAM.
inline constexpr std::uint64_t chaos_params = 0x00FF'F000;

// guest_regs: the value register `index` (encoding order) holds in a round.
inline constexpr std::uint64_t regs_pattern(unsigned index) { return 0x0101'0101'0101'0101ull * (index + 1) ^ 0xA5A5'0000'5A5A'0000ull; }
inline constexpr std::uint64_t hypercall_regs_check = 0x4856'1000;
// guest_exits: a VMMCALL whose RDI is its own address, RSI = 1 asking the
// VMM to rewind it once (the guest then runs it again): the VMM checks
// last_trap()'s RIP against it, also after moving RIP, and answers 1.
inline constexpr std::uint64_t hypercall_trap_rip = 0x4856'1001;

}  // namespace guest_abi
