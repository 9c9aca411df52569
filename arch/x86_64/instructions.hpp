// The privileged x86 instructions the policies execute, as inline
// functions: MSRs, CPUID, XCR0, control and descriptor-table registers,
// the FPU/SSE state, and VMX's VMXON/VMXOFF, VMCS access and TLB
// invalidation. Only the example hypervisors run them; the host tests just compile
// them (the header builds for any x86_64 target).
#pragma once

#include <cstdint>

#include "arch/x86_64/entry_state.hpp"
#include "arch/x86_64/features.hpp"

#if !defined(__x86_64__)
#error "arch/x86_64/instructions.hpp is for x86_64 targets only"
#endif

namespace axvcpu::x86_64::insn {

inline std::uint64_t rdmsr(std::uint32_t index) {
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
    return (std::uint64_t{hi} << 32) | lo;
}
inline void wrmsr(std::uint32_t index, std::uint64_t value) {
    asm volatile("wrmsr" ::"c"(index), "a"(static_cast<std::uint32_t>(value)),
                 "d"(static_cast<std::uint32_t>(value >> 32))
                 : "memory");
}

inline CpuidResult cpuid(std::uint32_t leaf, std::uint32_t subleaf = 0) {
    CpuidResult r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

// XGETBV/XSETBV need CR4.OSXSAVE on the host.
inline std::uint64_t xgetbv(std::uint32_t index) {
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
    return (std::uint64_t{hi} << 32) | lo;
}
inline void xsetbv(std::uint32_t index, std::uint64_t value) {
    asm volatile("xsetbv" ::"c"(index), "a"(static_cast<std::uint32_t>(value)),
                 "d"(static_cast<std::uint32_t>(value >> 32))
                 : "memory");
}

inline std::uint64_t read_cr4() {
    std::uint64_t value = 0;
    asm volatile("mov %%cr4, %0" : "=r"(value));
    return value;
}

// The guest's XCR0 and the host's, as both back ends switch them: XCR0 is
// not part of the VMCB or VMCS, so an entry whose guest XCR0 differs from
// the host's loads it around the world switch.
struct Xcr0Switch {
    std::uint64_t guest = xcr0::x87;  // its reset value
    std::uint64_t host = xcr0::x87;
    bool host_xsave = false;  // the host's CR4.OSXSAVE: XCR0 exists and can be switched

    // This CPU's XCR0 (at bind).
    void record_host() {
        host_xsave = (read_cr4() & cr4::osxsave) != 0;
        host = host_xsave ? xgetbv(0) : xcr0::x87;
    }
    [[nodiscard]] bool needed() const noexcept { return host_xsave && guest != host; }

    // The guest's XSETBV(index, value) with its CR4.OSXSAVE and CPL
    // (xsetbv_action, against this CPU's XSAVE components); an accepted
    // value becomes the guest's XCR0.
    XsetbvAction guest_xsetbv(bool guest_osxsave, unsigned cpl, std::uint32_t index, std::uint64_t value) {
        const CpuidResult leaf_d = cpuid(cpuid_leaf::xsave, 0);
        const std::uint64_t supported = (std::uint64_t{leaf_d.edx} << 32) | leaf_d.eax;
        const XsetbvAction action = xsetbv_action(guest_osxsave, host_xsave, cpl, index, value, supported);
        if (action == XsetbvAction::Accept) guest = value;
        return action;
    }
};

// The legacy 512-byte FXSAVE image (x87, MMX, SSE; 16-byte aligned).
struct alignas(16) FxState {
    std::uint8_t bytes[512];
};
// The state a guest's FPU/SSE starts in: as FNINIT leaves it (FCW 0x37F)
// with MXCSR at its reset value 0x1F80 (SDM vol. 1, 8.1.5, 10.2.3.1).
[[nodiscard]] constexpr FxState reset_fx_state() noexcept {
    FxState state{};
    state.bytes[0] = 0x7F;
    state.bytes[1] = 0x03;
    state.bytes[24] = 0x80;
    state.bytes[25] = 0x1F;
    return state;
}
inline void fxsave(FxState& state) { asm volatile("fxsave64 %0" : "=m"(state)); }
inline void fxrstor(const FxState& state) { asm volatile("fxrstor64 %0" ::"m"(state)); }

// --- Control and descriptor-table registers --------------------------------------
inline std::uint64_t read_cr0() {
    std::uint64_t value = 0;
    asm volatile("mov %%cr0, %0" : "=r"(value));
    return value;
}
inline std::uint64_t read_cr3() {
    std::uint64_t value = 0;
    asm volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}
// Debug registers DR0-DR3 and DR6, which neither VM entry nor exit switches.
template <unsigned N>
inline std::uint64_t read_dr() {
    std::uint64_t value = 0;
    asm volatile("mov %%dr%c1, %0" : "=r"(value) : "i"(N));
    return value;
}
template <unsigned N>
inline void write_dr(std::uint64_t value) {
    asm volatile("mov %0, %%dr%c1" ::"r"(value), "i"(N));
}

// Runs the host's NMI handler (IDT vector 2) as an NMI would, for an NMI
// that exited a VMX guest (SDM vol. 3C, 27.1: it is not delivered to the
// host otherwise); the handler's IRET ends the NMI blocking the exit left.
inline void deliver_host_nmi() { asm volatile("int $2" ::: "memory"); }

inline void write_cr0(std::uint64_t value) { asm volatile("mov %0, %%cr0" ::"r"(value) : "memory"); }
inline void write_cr4(std::uint64_t value) { asm volatile("mov %0, %%cr4" ::"r"(value) : "memory"); }

// SGDT/SIDT's 10-byte image.
struct [[gnu::packed]] DescriptorTable {
    std::uint16_t limit;
    std::uint64_t base;
};
inline DescriptorTable read_gdtr() {
    DescriptorTable table{};
    asm volatile("sgdt %0" : "=m"(table));
    return table;
}
inline DescriptorTable read_idtr() {
    DescriptorTable table{};
    asm volatile("sidt %0" : "=m"(table));
    return table;
}
inline void load_gdtr(const DescriptorTable& table) { asm volatile("lgdt %0" ::"m"(table) : "memory"); }
inline void load_idtr(const DescriptorTable& table) { asm volatile("lidt %0" ::"m"(table) : "memory"); }

// The segment selectors the VMCS's host-state area names.
struct Selectors {
    std::uint16_t cs, ss, ds, es, fs, gs, tr;
};
inline Selectors read_selectors() {
    Selectors s{};
    asm volatile("mov %%cs, %0" : "=r"(s.cs));
    asm volatile("mov %%ss, %0" : "=r"(s.ss));
    asm volatile("mov %%ds, %0" : "=r"(s.ds));
    asm volatile("mov %%es, %0" : "=r"(s.es));
    asm volatile("mov %%fs, %0" : "=r"(s.fs));
    asm volatile("mov %%gs, %0" : "=r"(s.gs));
    asm volatile("str %0" : "=r"(s.tr));
    return s;
}

// --- VMX (Intel SDM vol. 3C, chapter 31; vol. 2 for each instruction) ------------
// Each reports success: a VMX instruction fails by setting CF
// (VMfailInvalid) or ZF (VMfailValid, the VMCS's VM-instruction error
// field says why); "=@cca" (CF = 0 and ZF = 0) is success.
inline bool vmxon(std::uint64_t region_pa) {
    bool ok = false;
    asm volatile("vmxon %1" : "=@cca"(ok) : "m"(region_pa) : "memory");
    return ok;
}
inline bool vmxoff() {
    bool ok = false;
    asm volatile("vmxoff" : "=@cca"(ok)::"memory");
    return ok;
}
inline bool vmclear(std::uint64_t vmcs_pa) {
    bool ok = false;
    asm volatile("vmclear %1" : "=@cca"(ok) : "m"(vmcs_pa) : "memory");
    return ok;
}
inline bool vmptrld(std::uint64_t vmcs_pa) {
    bool ok = false;
    asm volatile("vmptrld %1" : "=@cca"(ok) : "m"(vmcs_pa) : "memory");
    return ok;
}
// The current VMCS's address (all ones: none).
inline std::uint64_t vmptrst() {
    std::uint64_t pa = 0;
    asm volatile("vmptrst %0" : "=m"(pa)::"memory");
    return pa;
}
// VMREAD of the current VMCS; 0 if it fails (no such field: the callers
// read only fields every VMX CPU has), as VMREAD then leaves the
// destination alone.
inline std::uint64_t vmread(std::uint32_t field) {
    std::uint64_t value = 0;
    asm volatile("vmread %1, %0" : "+r"(value) : "r"(std::uint64_t{field}) : "cc");
    return value;
}
inline bool vmwrite(std::uint32_t field, std::uint64_t value) {
    bool ok = false;
    asm volatile("vmwrite %2, %1" : "=@cca"(ok) : "r"(std::uint64_t{field}), "rm"(value) : "memory");
    return ok;
}

// INVEPT / INVVPID types (SDM vol. 2: "INVEPT", "INVVPID").
enum class InvalidationType : std::uint64_t { SingleContext = 1, AllContexts = 2 };

inline bool invept(InvalidationType type, std::uint64_t eptp) {
    const struct alignas(16) {
        std::uint64_t eptp, reserved;
    } descriptor{eptp, 0};
    bool ok = false;
    asm volatile("invept %1, %2" : "=@cca"(ok) : "m"(descriptor), "r"(static_cast<std::uint64_t>(type)) : "memory");
    return ok;
}
inline bool invvpid(InvalidationType type, std::uint16_t vpid) {
    const struct alignas(16) {
        std::uint64_t vpid, linear_address;
    } descriptor{vpid, 0};
    bool ok = false;
    asm volatile("invvpid %1, %2" : "=@cca"(ok) : "m"(descriptor), "r"(static_cast<std::uint64_t>(type)) : "memory");
    return ok;
}

}  // namespace axvcpu::x86_64::insn
