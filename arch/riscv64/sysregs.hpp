// CSR accessors and the H-extension bit fields the riscv64 policy uses.
//
// Accessors take the CSR number as a template argument, so one definition
// serves every register and each access inlines to a single csrr/csrw.
// The field constants are usable on any host (tests, docs); the accessors
// exist only when compiling for riscv64.
#pragma once

#include <cstdint>

namespace axvcpu::riscv64::csr {

// --- Numbers ---------------------------------------------------------------
inline constexpr unsigned sstatus = 0x100, sie = 0x104, stvec = 0x105, scounteren = 0x106, sscratch = 0x140,
                          sepc = 0x141, scause = 0x142, stval = 0x143, sip = 0x144, satp = 0x180;
inline constexpr unsigned vsstatus = 0x200, vsie = 0x204, vstvec = 0x205, vsscratch = 0x240, vsepc = 0x241,
                          vscause = 0x242, vstval = 0x243, vsip = 0x244, vstimecmp = 0x24d, vsatp = 0x280;
inline constexpr unsigned senvcfg = 0x10a;
inline constexpr unsigned hstatus = 0x600, hedeleg = 0x602, hideleg = 0x603, hie = 0x604, htimedelta = 0x605,
                          hcounteren = 0x606, hgeie = 0x607, henvcfg = 0x60a, htval = 0x643, hip = 0x644,
                          hvip = 0x645, htinst = 0x64a, hgatp = 0x680;
inline constexpr unsigned fcsr = 0x003;
inline constexpr unsigned cycle = 0xc00, time = 0xc01, instret = 0xc02;

// --- Fields ----------------------------------------------------------------
namespace sstatus_bits {
inline constexpr std::uint64_t sie = 1u << 1;
inline constexpr std::uint64_t spie = 1u << 5;
inline constexpr std::uint64_t spp = 1u << 8;
inline constexpr std::uint64_t fs = 3u << 13;
inline constexpr std::uint64_t fs_initial = 1u << 13;
inline constexpr std::uint64_t fs_clean = 2u << 13;
inline constexpr std::uint64_t fs_dirty = 3u << 13;
}  // namespace sstatus_bits

namespace hstatus_bits {
inline constexpr std::uint64_t gva = 1u << 6;
inline constexpr std::uint64_t spv = 1u << 7;   // sret returns to V=1
inline constexpr std::uint64_t spvp = 1u << 8;  // guest privilege: 1 = VS
inline constexpr std::uint64_t hu = 1u << 9;
inline constexpr std::uint64_t vtvm = 1u << 20;
inline constexpr std::uint64_t vtw = 1u << 21;  // guest wfi traps to HS-mode (scause 22)
inline constexpr std::uint64_t vtsr = 1u << 22;
inline constexpr std::uint64_t vsxl_64 = std::uint64_t{2} << 32;
inline constexpr std::uint64_t vsxl_mask = std::uint64_t{3} << 32;
}  // namespace hstatus_bits

namespace hvip_bits {
inline constexpr std::uint64_t vssip = 1u << 2;
inline constexpr std::uint64_t vstip = 1u << 6;
inline constexpr std::uint64_t vseip = 1u << 10;
inline constexpr std::uint64_t all = vssip | vstip | vseip;
}  // namespace hvip_bits

namespace hgatp_bits {
inline constexpr std::uint64_t mode_sv39x4 = std::uint64_t{8} << 60;
inline constexpr std::uint64_t mode_sv48x4 = std::uint64_t{9} << 60;
inline constexpr unsigned vmid_shift = 44;
inline constexpr std::uint64_t vmid_mask = std::uint64_t{0x3fff} << vmid_shift;
inline constexpr std::uint64_t ppn_mask = (std::uint64_t{1} << 44) - 1;
}  // namespace hgatp_bits

namespace henvcfg_bits {
inline constexpr std::uint64_t stce = std::uint64_t{1} << 63;  // Sstc: guest owns vstimecmp
}

// The exceptions a guest handles itself: its own page faults, breakpoints,
// misaligned fetches, illegal instructions and its user mode's ecalls.
// Guest page faults (20, 21, 23), VS ecalls (10) and virtual-instruction
// traps (22) stay with the hypervisor.
inline constexpr std::uint64_t hedeleg_guest = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 8) | (1u << 12) |
                                               (1u << 13) | (1u << 15);
// VS-level interrupts go to the guest when it has them enabled.
inline constexpr std::uint64_t hideleg_guest = hvip_bits::all;
// cycle, time and instret readable by the guest without a trap.
inline constexpr std::uint64_t hcounteren_guest = 0x7;
// The guest's scounteren at its start: its U-mode may read them too, as
// OpenSBI leaves S-mode's (a kernel such as Linux relies on that for the
// vDSO's rdtime and does not write it itself).
inline constexpr std::uint64_t scounteren_guest_reset = 0x7;

#if defined(__riscv) && __riscv_xlen == 64
template <unsigned N>
[[nodiscard]] inline std::uint64_t read() noexcept {
    std::uint64_t value;
    asm volatile("csrr %0, %1" : "=r"(value) : "i"(N));
    return value;
}
template <unsigned N>
inline void write(std::uint64_t value) noexcept {
    asm volatile("csrw %0, %1" ::"i"(N), "r"(value) : "memory");
}
template <unsigned N>
inline std::uint64_t swap(std::uint64_t value) noexcept {
    std::uint64_t old;
    asm volatile("csrrw %0, %1, %2" : "=r"(old) : "i"(N), "r"(value) : "memory");
    return old;
}
// "rK": bits known at compile time to fit in 5 bits (sstatus.SIE, SSIP)
// assemble to csrsi/csrci, one instruction instead of li + csrs/csrc.
template <unsigned N>
inline void set(std::uint64_t bits) noexcept {
    asm volatile("csrs%i1 %0, %1" ::"i"(N), "rK"(bits) : "memory");
}
template <unsigned N>
inline void clear(std::uint64_t bits) noexcept {
    asm volatile("csrc%i1 %0, %1" ::"i"(N), "rK"(bits) : "memory");
}

// Stage-2 TLB maintenance. GCC 12 has no `h` in -march, so the hypervisor
// instructions are enabled for just these lines.
inline void hfence_gvma_vmid(std::uint64_t vmid) noexcept {
    asm volatile(".option push\n.option arch, +h\nhfence.gvma zero, %0\n.option pop" ::"r"(vmid) : "memory");
}
inline void hfence_gvma_all() noexcept {
    asm volatile(".option push\n.option arch, +h\nhfence.gvma zero, zero\n.option pop" ::: "memory");
}
inline void hfence_vvma_all() noexcept {
    asm volatile(".option push\n.option arch, +h\nhfence.vvma zero, zero\n.option pop" ::: "memory");
}
inline void fence_i() noexcept { asm volatile("fence.i" ::: "memory"); }

// Runs `move` with sstatus.FS on, then restores the caller's FS: the host
// runs with FP off, and FP registers (FpState in context.hpp) can only be
// moved while it is on.
template <class Move>
inline void with_fp_on(Move move) noexcept {
    const std::uint64_t status = read<sstatus>();
    set<sstatus>(sstatus_bits::fs_clean);
    move();
    write<sstatus>(status);
}
#endif

}  // namespace axvcpu::riscv64::csr
