// The QEMU `virt` machine as the aarch64 hypervisor uses it: the PL011
// console, semihosting exit, PSCI calls to QEMU, the host GICv3 and the EL2
// timer.
#pragma once

#include <cstdint>
#include <optional>

#include "arch/aarch64/psci.hpp"
#include "examples/vmm/console.hpp"

namespace hyp {

using u64 = std::uint64_t;
using u32 = std::uint32_t;

inline volatile u32& mmio32(u64 addr) { return *reinterpret_cast<volatile u32*>(addr); }
inline volatile u64& mmio64(u64 addr) { return *reinterpret_cast<volatile u64*>(addr); }

// --- Console -------------------------------------------------------------------
inline constexpr u64 pl011_base = 0x0900'0000;

struct Uart {
    static void putc(char c) {
        while ((mmio32(pl011_base + 0x18) & (1u << 5)) != 0) {}  // TXFF
        mmio32(pl011_base) = static_cast<unsigned char>(c);
    }
    // A received byte, if one waits (FR.RXFE clear).
    static std::optional<char> getc() {
        if ((mmio32(pl011_base + 0x18) & (1u << 4)) != 0) return std::nullopt;
        return static_cast<char>(mmio32(pl011_base) & 0xFF);
    }
    // UARTIMSC.RXIM and RTIM: a received byte raises the UART's interrupt
    // (SPI 1, INTID 33, on QEMU virt).
    static void enable_receive_interrupt() { mmio32(pl011_base + 0x38) = mmio32(pl011_base + 0x38) | (1u << 4) | (1u << 6); }
};
inline constexpr u32 uart_intid = 33;
using Out = vmm::Console<Uart>;

// --- Exit ----------------------------------------------------------------------
// Semihosting SYS_EXIT with ADP_Stopped_ApplicationExit: QEMU exits with `code`.
[[noreturn]] inline void semihost_exit(u32 code) {
    const u64 block[2] = {0x20026, code};
    register u64 x0 asm("x0") = 0x18;
    register u64 x1 asm("x1") = reinterpret_cast<u64>(block);
    asm volatile("hlt #0xf000" : : "r"(x0), "r"(x1) : "memory");
    for (;;) asm volatile("wfe");
}

// --- PSCI to QEMU (SMC from EL2) -------------------------------------------------
using axvcpu::aarch64::psci::smc_call;

// --- Host GICv3 -------------------------------------------------------------------
inline constexpr u64 gicd_base = 0x0800'0000;
inline constexpr u64 gicr_base = 0x080A'0000;
inline constexpr u64 gicr_stride = 0x2'0000;
// The SGI one physical CPU sends another to make it leave its guest.
inline constexpr u32 kick_sgi = 0;
// The EL2 physical timer's PPI.
inline constexpr u32 hyp_timer_ppi = 26;
// The EL1 virtual timer's PPI: the guest's timer, live in the CPU while its
// vCPU is bound.
inline constexpr u32 guest_vtimer_ppi = 27;

inline u64 current_mpidr() {
    u64 v;
    asm volatile("mrs %0, mpidr_el1" : "=r"(v));
    return v & 0xFF'00FF'FFFF;
}

// Whether this CPU has the atomic instructions (FEAT_LSE): ID_AA64ISAR0_EL1
// Atomic, bits [23:20], 0b0010 or more (ARM DDI 0487 J.a D19.2.61). Read
// at EL2, where it does not trap.
inline bool host_has_lse() {
    u64 v;
    asm volatile("mrs %0, id_aa64isar0_el1" : "=r"(v));
    return ((v >> 20) & 0xF) >= 2;
}

// The redistributor whose GICR_TYPER affinity matches this CPU.
inline u64 my_redistributor() {
    const u64 mpidr = current_mpidr();
    const u64 affinity = (mpidr & 0xFF'FFFF) | ((mpidr >> 32) & 0xFF) << 24;
    for (u64 rd = gicr_base;; rd += gicr_stride) {
        const u64 typer = mmio64(rd + 0x8);
        if ((typer >> 32) == affinity) return rd;
        if ((typer & (1u << 4)) != 0) return 0;  // Last
    }
}

// Each CPU's redistributor, by Aff0, found once by gic_init_cpu.
inline constexpr u64 max_redistributors = 8;
inline u64 cpu_redistributor[max_redistributors] = {};

// Distributor: affinity routing, group 1 enabled. Once, on CPU 0.
inline void gic_init_distributor() {
    mmio32(gicd_base + 0x0) = (1u << 4) | (1u << 1) | 1u;  // ARE, EnableGrp1, EnableGrp0
}

// This CPU's redistributor and CPU interface: SGIs and PPIs in group 1,
// the kick SGI, the maintenance PPI and the EL2 timer enabled; IRQs stay
// masked at EL2 (PSTATE.I) and are taken only as guest exits.
inline bool gic_init_cpu() {
    const u64 rd = my_redistributor();
    if (rd == 0 || (current_mpidr() & 0xFF) >= max_redistributors) return false;
    cpu_redistributor[current_mpidr() & 0xFF] = rd;
    mmio32(rd + 0x14) = mmio32(rd + 0x14) & ~(1u << 1);  // GICR_WAKER.ProcessorSleep
    while ((mmio32(rd + 0x14) & (1u << 2)) != 0) {}    // ChildrenAsleep
    const u64 sgi = rd + 0x1'0000;
    mmio32(sgi + 0x80) = 0xFFFF'FFFF;                  // GICR_IGROUPR0: group 1
    for (u32 i = 0; i < 8; ++i) mmio32(sgi + 0x400 + 4 * i) = 0x8080'8080;  // priorities
    mmio32(sgi + 0x100) = (1u << kick_sgi) | (1u << 25) | (1u << hyp_timer_ppi);  // ISENABLER0
    u64 sre;
    asm volatile("mrs %0, S3_4_C12_C9_5" : "=r"(sre));
    asm volatile("msr S3_4_C12_C9_5, %0\n\tisb" : : "r"(sre | 0x9));  // ICC_SRE_EL2: SRE, Enable
    asm volatile("msr S3_0_C4_C6_0, %0" : : "r"(u64{0xFF}));           // ICC_PMR_EL1
    asm volatile("msr S3_0_C12_C12_4, %0" : : "r"(u64{0}));            // ICC_CTLR_EL1: EOImode 0
    asm volatile("msr S3_0_C12_C12_7, %0\n\tisb" : : "r"(u64{1}));     // ICC_IGRPEN1_EL1
    return true;
}

// Enables or disables SGI/PPI `intid` at this CPU's redistributor
// (GICR_ISENABLER0 / GICR_ICENABLER0). A disable has taken effect once
// GICR_CTLR.RWP reads 0 (GICv3 spec 12.11.2).
inline void gic_set_private_enabled(u32 intid, bool enabled) {
    const u64 rd = cpu_redistributor[current_mpidr() & 0xFF];
    mmio32(rd + 0x1'0000 + (enabled ? 0x100 : 0x180)) = 1u << intid;
    if (!enabled)
        while ((mmio32(rd) & (1u << 3)) != 0) {}
}

// SPI `intid` in group 1, routed to the CPU with affinity 0.0.0.0, enabled
// at the distributor (GICD_IGROUPR, IPRIORITYR, IROUTER, ISENABLER).
inline void gic_enable_spi(u32 intid) {
    mmio32(gicd_base + 0x80 + 4 * (intid / 32)) = mmio32(gicd_base + 0x80 + 4 * (intid / 32)) | 1u << (intid % 32);
    *reinterpret_cast<volatile unsigned char*>(gicd_base + 0x400 + intid) = 0x80;
    mmio64(gicd_base + 0x6000 + 8 * intid) = 0;
    mmio32(gicd_base + 0x100 + 4 * (intid / 32)) = 1u << (intid % 32);
}

// Whether a physical IRQ is pending at this CPU (ISR_EL1.I; IRQs stay
// masked at EL2, so it waits to be taken as the next guest exit).
inline bool host_irq_pending() {
    u64 isr;
    asm volatile("mrs %0, isr_el1" : "=r"(isr));
    return (isr & (1u << 7)) != 0;
}

// Acknowledges and completes the highest-priority pending IRQ; 1023: none.
inline u64 gic_ack_irq() {
    u64 intid;
    asm volatile("mrs %0, S3_0_C12_C12_0" : "=r"(intid));  // ICC_IAR1_EL1
    if (intid < 1020) asm volatile("msr S3_0_C12_C12_1, %0" : : "r"(intid));  // ICC_EOIR1_EL1
    return intid;
}

// Sends SGI `intid` to the CPU with Aff0 = `cpu` (cluster 0).
inline void gic_send_sgi(u32 intid, u64 cpu) {
    const u64 value = (u64{intid} << 24) | (u64{1} << cpu);
    asm volatile("dsb ish\n\tmsr S3_0_C12_C11_5, %0\n\tisb" : : "r"(value) : "memory");
}

// Arms the EL2 physical timer to fire in `ticks`.
inline void hyp_timer_arm(u64 ticks) {
    asm volatile("msr cnthp_tval_el2, %0\n\tmsr cnthp_ctl_el2, %1\n\tisb" : : "r"(ticks), "r"(u64{1}));
}
inline void hyp_timer_stop() { asm volatile("msr cnthp_ctl_el2, %0\n\tisb" : : "r"(u64{0})); }

}  // namespace hyp
