// What every test guest shares: hypercalls, PSCI, exact load/store
// instructions for MMIO, the PL011 (passed through), the virtual GIC CPU
// interface, and reporting a result.
#pragma once

#include <cstdint>

#include "../guest_abi.hpp"
#include "arch/aarch64/psci.hpp"

namespace g {

using u64 = std::uint64_t;
using u32 = std::uint32_t;

struct Regs {
    u64 x[7];
};

inline u64 hvc(u64 x0, u64 x1 = 0, u64 x2 = 0, u64 x3 = 0, u64 x4 = 0, u64 x5 = 0, u64 x6 = 0) {
    register u64 r0 asm("x0") = x0;
    register u64 r1 asm("x1") = x1;
    register u64 r2 asm("x2") = x2;
    register u64 r3 asm("x3") = x3;
    register u64 r4 asm("x4") = x4;
    register u64 r5 asm("x5") = x5;
    register u64 r6 asm("x6") = x6;
    asm volatile("hvc #0" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6) : : "memory");
    return r0;
}

// PSCI and other SMC calls, trapped to the hypervisor.
inline u64 smc(u64 x0, u64 x1 = 0, u64 x2 = 0, u64 x3 = 0) { return axvcpu::aarch64::psci::smc_call(x0, x1, x2, x3); }

// --- Console (the PL011, passed through) ---
inline void putc(char c) {
    volatile u32* uart = reinterpret_cast<volatile u32*>(abi::uart_base);
    while ((uart[0x18 / 4] & (1u << 5)) != 0) {}
    uart[0] = static_cast<unsigned char>(c);
}
inline void print(const char* text) {
    for (; *text != '\0'; ++text) {
        if (*text == '\n') putc('\r');
        putc(*text);
    }
}
inline void print_hex(u64 value) {
    print("0x");
    for (int shift = 60; shift >= 0; shift -= 4) putc("0123456789abcdef"[(value >> shift) & 0xF]);
}

// --- Result ---
[[noreturn]] inline void power_off() {
    hvc(0x8400'0008);  // PSCI SYSTEM_OFF
    for (;;) asm volatile("wfi");
}
[[noreturn]] inline void fail(u64 code, u64 value = 0) {
    print("guest: check ");
    print_hex(code);
    print(" failed, value ");
    print_hex(value);
    print("\n");
    hvc(abi::hc_result, code);
    power_off();
}
inline void check(bool ok, u64 code, u64 value = 0) {
    if (!ok) fail(code, value);
}
[[noreturn]] inline void pass() {
    print("guest: all checks passed\n");
    hvc(abi::hc_result, 0);
    power_off();
}

// --- MMIO with exact instructions (the syndrome depends on them) ---
#define G_LOAD(name, insn)                                              \
    inline u64 name(u64 addr) {                                         \
        u64 value;                                                      \
        asm volatile(insn : "=r"(value) : "r"(addr) : "memory");        \
        return value;                                                   \
    }
G_LOAD(ldrb, "ldrb %w0, [%1]")
G_LOAD(ldrh, "ldrh %w0, [%1]")
G_LOAD(ldrw, "ldr %w0, [%1]")
G_LOAD(ldrx, "ldr %0, [%1]")
G_LOAD(ldrsb_x, "ldrsb %0, [%1]")
G_LOAD(ldrsb_w, "ldrsb %w0, [%1]")
G_LOAD(ldrsh_w, "ldrsh %w0, [%1]")
G_LOAD(ldrsw_x, "ldrsw %0, [%1]")
#undef G_LOAD
#define G_STORE(name, insn)                                                     \
    inline void name(u64 addr, u64 value) {                                     \
        asm volatile(insn : : "r"(value), "r"(addr) : "memory");                \
    }
G_STORE(strb, "strb %w0, [%1]")
G_STORE(strh, "strh %w0, [%1]")
G_STORE(strw, "str %w0, [%1]")
G_STORE(strx, "str %0, [%1]")
#undef G_STORE
inline void str_zero(u64 addr) { asm volatile("str xzr, [%0]" : : "r"(addr) : "memory"); }

// --- Virtual GIC CPU interface (ICC_* at EL1 reach the ICV_* registers) ---
inline void gic_enable() {
    asm volatile("msr S3_0_C4_C6_0, %0" : : "r"(u64{0xFF}));        // ICC_PMR_EL1
    asm volatile("msr S3_0_C12_C12_7, %0\n\tisb" : : "r"(u64{1}));  // ICC_IGRPEN1_EL1
    asm volatile("msr daifclr, #2" ::: "memory");
}
inline void send_sgi(u64 intid, u64 target_list) {
    asm volatile("msr S3_0_C12_C11_5, %0\n\tisb" : : "r"((intid << 24) | target_list) : "memory");  // ICC_SGI1R_EL1
}

// --- The EL1 virtual timer (CNTV_*_EL0) ---
inline u64 virtual_count() {
    u64 v;
    asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}
inline u64 counter_frequency() {
    u64 v;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
}
// Enabled and unmasked, firing at virtual count `deadline`.
inline void arm_virtual_timer(u64 deadline) {
    asm volatile("msr cntv_cval_el0, %0\n\tmsr cntv_ctl_el0, %1\n\tisb" : : "r"(deadline), "r"(u64{1}) : "memory");
}
inline void stop_virtual_timer() { asm volatile("msr cntv_ctl_el0, xzr\n\tisb" ::: "memory"); }

// Set by a guest whose hypervisor injects through HCR_EL2.VI: the IRQ
// handler then asks for the vector by hypercall instead of the GIC.
inline volatile bool vi_mode = false;

// Interrupts taken so far, by INTID (the IRQ handler counts them).
inline volatile u32 irq_count[64];
inline volatile u64 last_irq = 1023;

}  // namespace g
