// Test guest: one of each exit the SVM policy reports or handles, each
// checked on both sides (the VMM checks the kinds it saw, the test MSR's
// value and the one refused access when the guest reports success).
#include "guest_rt.hpp"
#include "guest_abi.hpp"

using namespace guest;

namespace {

volatile u64* device(u64 offset) { return reinterpret_cast<volatile u64*>(guest_abi::test_device + offset); }

// A VMMCALL that tells the VMM where it is (guest_abi::hypercall_trap_rip);
// inlined, so each call has an address of its own (the VMM checks).
[[gnu::always_inline]] inline u64 trap_rip_call(u64 rewind) {
    u64 nr = guest_abi::hypercall_trap_rip;
    asm volatile("lea 1f(%%rip), %%rdi\n1: vmmcall" : "+a"(nr) : "S"(rewind) : "rdi", "memory");
    return nr;
}

void check_hypercalls(u64 vm_id) {
    GUEST_CHECK(hypercall(vmm::hypercall::hello, guest_abi::test_exits) == vm_id, 0x101, vm_id);
    GUEST_CHECK(hypercall(vmm::hypercall::sum, 1, 2, 3, 4, 5, 6) == 21, 0x102, 0);
    GUEST_CHECK(hypercall(vmm::hypercall::nop) == 0, 0x103, 0);
    // The exit's RIP as last_trap() reports it, twice (the second after
    // the first moved RIP), then rewound once.
    GUEST_CHECK(trap_rip_call(0) == 1, 0x104, 0);
    GUEST_CHECK(trap_rip_call(0) == 1, 0x105, 0);
    GUEST_CHECK(trap_rip_call(1) == 1, 0x106, 0);
}

void check_ports() {
    print("guest_exits: ports\n");
    outl(guest_abi::test_port, 0x1234'5678);
    GUEST_CHECK(inl(guest_abi::test_port) == 0xEDCB'A987, 0x201, 0);
    outw(guest_abi::test_port, 0x00F0);
    GUEST_CHECK(inw(guest_abi::test_port) == 0xFF0F, 0x202, 0);
    outb(guest_abi::test_port, 0x0F);
    GUEST_CHECK(inb(guest_abi::test_port) == 0xF0, 0x203, 0);
    // IN AL leaves the rest of RAX alone.
    u64 rax = 0x1111'2222'3333'4444;
    asm volatile("inb %%dx, %%al" : "+a"(rax) : "d"(guest_abi::test_port));
    GUEST_CHECK(rax == 0x1111'2222'3333'44F0, 0x204, rax);
    // IN EAX clears bits 63:32.
    rax = ~u64{0};
    asm volatile("inl %%dx, %%eax" : "+a"(rax) : "d"(guest_abi::test_port));
    GUEST_CHECK(rax == 0xFFFF'FFF0, 0x205, rax);
}

void check_mmio() {
    print("guest_exits: mmio\n");
    *device(0) = 0x0123'4567'89AB'CDEF;
    GUEST_CHECK(*device(0) == 0x0123'4567'89AB'CDEF, 0x301, *device(0));
    // The magic register, at every width.
    const u64 magic = 0x0A64'C0DE'1234'5678;
    GUEST_CHECK(*device(8) == magic, 0x302, 0);
    GUEST_CHECK(*reinterpret_cast<volatile u32*>(guest_abi::test_device + 8) == 0x1234'5678, 0x303, 0);
    GUEST_CHECK(*reinterpret_cast<volatile u16*>(guest_abi::test_device + 12) == 0xC0DE, 0x304, 0);
    GUEST_CHECK(*reinterpret_cast<volatile u8*>(guest_abi::test_device + 15) == 0x0A, 0x305, 0);
    // Sign and zero extension from the negative register (0xFFFFFFFF80008080).
    u64 value = 0;
    asm volatile("movsbq (%1), %0" : "=r"(value) : "r"(guest_abi::test_device + 0x10) : "memory");
    GUEST_CHECK(value == 0xFFFF'FFFF'FFFF'FF80, 0x306, value);
    asm volatile("movzwq (%1), %0" : "=r"(value) : "r"(guest_abi::test_device + 0x10) : "memory");
    GUEST_CHECK(value == 0x8080, 0x307, value);
    asm volatile("movslq (%1), %0" : "=r"(value) : "r"(guest_abi::test_device + 0x10) : "memory");
    GUEST_CHECK(value == 0xFFFF'FFFF'8000'8080, 0x308, value);
    // A 32-bit load clears bits 63:32 of its destination, R13 here.
    asm volatile("mov $-1, %%r13\n\tmovl (%1), %%r13d\n\tmov %%r13, %0"
                 : "=r"(value)
                 : "r"(guest_abi::test_device + 8)
                 : "r13", "memory");
    GUEST_CHECK(value == 0x1234'5678, 0x309, value);
    // A byte load into AH (bits 15:8 of RAX) merges.
    u64 rax = 0xAAAA'AAAA'AAAA'AAAA;
    asm volatile("movb (%1), %%ah" : "+a"(rax) : "r"(guest_abi::test_device + 8) : "memory");
    GUEST_CHECK(rax == 0xAAAA'AAAA'AAAA'78AA, 0x30A, rax);
    // Stores: from R9 (REX), an immediate, and a 16-bit part of scratch.
    asm volatile("mov %0, %%r9\n\tmov %%r9, (%1)" ::"r"(u64{0x5555'6666'7777'8888}), "r"(guest_abi::test_device)
                 : "r9", "memory");
    GUEST_CHECK(*device(0) == 0x5555'6666'7777'8888, 0x30B, 0);
    asm volatile("movl $0x9abcdef0, (%0)" ::"r"(guest_abi::test_device) : "memory");
    GUEST_CHECK(*device(0) == 0x5555'6666'9ABC'DEF0, 0x30C, *device(0));
    *reinterpret_cast<volatile u16*>(guest_abi::test_device + 6) = 0x0102;
    GUEST_CHECK(*device(0) == 0x0102'6666'9ABC'DEF0, 0x30D, *device(0));
    // Byte stores: an immediate, DH, and SIL, whose encoding is DH's with a
    // REX prefix. The address in RDI, so DH's store needs no REX.
    asm volatile("movb $0x7e, 3(%0)" ::"D"(guest_abi::test_device) : "memory");
    asm volatile("movb %%dh, 4(%0)" ::"D"(guest_abi::test_device), "d"(u64{0x3C00}) : "memory");
    asm volatile("movb %%sil, 5(%0)" ::"D"(guest_abi::test_device), "S"(u64{0x5A}) : "memory");
    GUEST_CHECK(*device(0) == 0x0102'5A3C'7EBC'DEF0, 0x30F, *device(0));
    // The moffs form: MOV RAX, [imm64].
    asm volatile("movabs 0xf0000008, %%rax" : "=a"(value)::"memory");
    GUEST_CHECK(value == magic, 0x30E, value);
}

void check_interrupts() {
    print("guest_exits: interrupts\n");
    // IF set: injected at the next entry.
    asm volatile("sti");
    GUEST_CHECK(hypercall(vmm::hypercall::inject, 0x40) == 0, 0x401, 0);
    GUEST_CHECK(interrupts_taken[0x40] == 1, 0x402, interrupts_taken[0x40]);
    // IF clear: held until the guest enables interrupts (the window).
    asm volatile("cli");
    GUEST_CHECK(hypercall(vmm::hypercall::inject, 0x41) == 0, 0x403, 0);
    GUEST_CHECK(interrupts_taken[0x41] == 0, 0x404, interrupts_taken[0x41]);
    asm volatile("sti; nop; nop");
    GUEST_CHECK(interrupts_taken[0x41] == 1, 0x405, interrupts_taken[0x41]);
    // HLT, woken by an interrupt queued just before it.
    halt_for(0x42);
    GUEST_CHECK(interrupts_taken[0x42] == 1, 0x406, interrupts_taken[0x42]);
    // Vectors below 32 are refused.
    GUEST_CHECK(hypercall(vmm::hypercall::inject, 14) == 1, 0x407, 0);
}

void check_msrs() {
    print("guest_exits: msrs\n");
    wrmsr(guest_abi::test_msr, guest_abi::msr_write_value);
    GUEST_CHECK(rdmsr(guest_abi::test_msr) == guest_abi::msr_write_value, 0x501, 0);
    // EFER: long mode active, SVME hidden.
    const u64 efer = rdmsr(0xC000'0080);
    GUEST_CHECK((efer & (1u << 12)) == 0 && (efer & (1u << 10)) != 0, 0x502, efer);
    // An MSR nobody emulates: #GP at the RDMSR (2 bytes).
    expect_exception(13, 2);
    (void)rdmsr(0x4000'5678);
    GUEST_CHECK(exceptions_taken == 1, 0x503, exceptions_taken);
    // PAT: the guest's own copy; an invalid type (2) is #GP.
    wrmsr(0x277, 0x0007'0406'0007'0401);
    GUEST_CHECK(rdmsr(0x277) == 0x0007'0406'0007'0401, 0x504, 0);
    expect_exception(13, 2);
    wrmsr(0x277, 0x0000'0000'0000'0002);
    GUEST_CHECK(exceptions_taken == 2, 0x505, exceptions_taken);
}

void cpuid(u32 leaf, u32 (&r)[4]) {
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

void check_cpuid() {
    print("guest_exits: cpuid\n");
    u32 r[4];
    cpuid(1, r);
    GUEST_CHECK((r[2] & (1u << 31)) != 0, 0x601, r[2]);  // hypervisor
    GUEST_CHECK((r[2] & (1u << 5)) == 0, 0x602, r[2]);   // no VMX
    GUEST_CHECK((r[1] >> 24) == 0, 0x603, r[1]);         // APIC id = vCPU 0
    const bool xsave = (r[2] & (1u << 26)) != 0;
    cpuid(0x8000'0001, r);
    GUEST_CHECK((r[2] & (1u << 2)) == 0, 0x604, r[2]);  // no SVM
    cpuid(0x4000'0000, r);
    GUEST_CHECK(r[1] == 0x6956'7841 && r[2] == 0x2072'6F73 && r[3] == 0x5550'4376, 0x605, r[1]);
    // SVM instructions are #UD for the guest (CLGI: 3 bytes).
    expect_exception(6, 3);
    asm volatile("clgi");
    GUEST_CHECK(exceptions_taken == 3, 0x606, exceptions_taken);
    GUEST_CHECK(xsave, 0x607, 0);                                // -cpu ...,+xsave
    cpuid(1, r);
    GUEST_CHECK((r[2] & (1u << 27)) == 0, 0x608, r[2]);          // OSXSAVE: the guest's CR4, still clear
}

u64 xgetbv0() {
    u32 lo = 0;
    u32 hi = 0;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (u64{hi} << 32) | lo;
}
void xsetbv(u32 index, u64 value) {
    asm volatile("xsetbv" ::"c"(index), "a"(static_cast<u32>(value)), "d"(static_cast<u32>(value >> 32)));
}

// XSETBV, emulated by the policy: #UD before the guest sets CR4.OSXSAVE,
// then XCR0 = x87|SSE accepted and seen by XGETBV (the policy loads the
// guest's XCR0 around VMRUN), and every value the SDM refuses is #GP(0)
// with XCR0 unchanged.
void check_xsetbv() {
    print("guest_exits: xsetbv\n");
    u64 taken = exceptions_taken;
    expect_exception(6, 3);  // XSETBV is 0F 01 D1
    xsetbv(0, 3);
    GUEST_CHECK(exceptions_taken == ++taken, 0x611, exceptions_taken);
    u64 cr4 = 0;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    asm volatile("mov %0, %%cr4" ::"r"(cr4 | (u64{1} << 18)));
    u32 r[4];
    cpuid(1, r);
    GUEST_CHECK((r[2] & (1u << 27)) != 0, 0x612, r[2]);  // OSXSAVE now shown
    GUEST_CHECK(xgetbv0() == 1, 0x613, xgetbv0());          // the reset value: x87
    xsetbv(0, 3);
    GUEST_CHECK(xgetbv0() == 3, 0x614, xgetbv0());
    const struct {
        u32 index;
        u64 value;
    } refused[] = {{0, 2}, {0, 0}, {1, 3}, {0, 3 | (u64{1} << 63)}, {0, 1 | 4}};
    for (const auto& bad : refused) {
        expect_exception(13, 3);
        xsetbv(bad.index, bad.value);
        GUEST_CHECK(exceptions_taken == ++taken, 0x615, bad.value);
        GUEST_CHECK(last_error_code == 0, 0x616, last_error_code);
    }
    GUEST_CHECK(xgetbv0() == 3, 0x617, xgetbv0());
    xsetbv(0, 1);
    GUEST_CHECK(xgetbv0() == 1, 0x618, xgetbv0());
}

// A host interrupt while the guest runs: the PIT, armed by the VMM at the
// guest's request, exits the guest (ExternalInterrupt), the host takes it,
// and the guest runs on with its registers intact.
void check_external_interrupt() {
    print("guest_exits: host interrupt\n");
    GUEST_CHECK(hypercall(vmm::hypercall::host_timer, 1000) == 0, 0x801, 0);
    u64 spins = 0;
    while (hypercall(vmm::hypercall::host_timer) == 0) {
        for (int i = 0; i < 1000; ++i) asm volatile("pause");
        GUEST_CHECK(++spins < 100000, 0x802, spins);
    }
}

void check_refused_port() {
    // A port nobody emulates: the VMM answers #GP at the IN (1 byte: EC).
    const u64 before = exceptions_taken;
    expect_exception(13, 1);
    asm volatile("inb %%dx, %%al" ::"d"(0x1F0) : "rax");
    GUEST_CHECK(exceptions_taken == before + 1, 0x701, exceptions_taken);
}

}  // namespace

extern "C" [[noreturn]] void guest_main(u64 vm_id) {
    print("guest_exits: start\n");
    check_hypercalls(vm_id);
    check_ports();
    check_mmio();
    check_interrupts();
    check_msrs();
    check_cpuid();
    check_xsetbv();
    check_external_interrupt();
    check_refused_port();
    print("guest_exits: done\n");
    finish(0);
}
