// The privileged x86 instructions the policies execute, as inline
// functions: MSRs, CPUID, XCR0, the FPU/SSE state, SVM's global interrupt
// flag. Only the example hypervisors run them; the host tests just compile
// them (the header builds for any x86_64 target).
#pragma once

#include <cstdint>

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

// The legacy 512-byte FXSAVE image (x87, MMX, SSE; 16-byte aligned).
struct alignas(16) FxState {
    std::uint8_t bytes[512];
};
inline void fxsave(FxState& state) { asm volatile("fxsave64 %0" : "=m"(state)); }
inline void fxrstor(const FxState& state) { asm volatile("fxrstor64 %0" ::"m"(state)); }

}  // namespace axvcpu::x86_64::insn
