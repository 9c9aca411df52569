// Test guest that misbehaves: string I/O, an MMIO access by an instruction
// no decoder emulates, an MSR nobody knows, a load from guest-physical
// memory that is neither RAM nor a device, then a triple fault. The VMM
// (and, for the string I/O, the policy) must answer the first four with
// #GP at the instruction (the guest checks
// it took each), stop the VM on the triple fault (SystemDown), and carry on.
#include "guest_rt.hpp"
#include "guest_abi.hpp"

using namespace guest;

extern "C" [[noreturn]] void guest_main(u64) {
    hypercall(vmm::hypercall::hello, guest_abi::test_bad);
    static const char text[] = "xy";
    // REP OUTSB (F3 6E): string I/O is never emulated as one access; the
    // policy itself answers #GP.
    expect_exception(13, 2);
    asm volatile("rep outsb" ::"S"(text), "c"(2), "d"(guest_abi::test_port) : "memory");
    GUEST_CHECK(exceptions_taken == 1, 0x901, exceptions_taken);
    // ADD to the device (83 00 01): a read-modify-write, not decodable as one access.
    expect_exception(13, 3);
    asm volatile(".byte 0x83, 0x00, 0x01" ::"a"(guest_abi::test_device) : "memory");
    GUEST_CHECK(exceptions_taken == 2, 0x902, exceptions_taken);
    // RDMSR of an MSR nobody emulates (0F 32).
    expect_exception(13, 2);
    asm volatile("rdmsr" ::"c"(0x4000'9999) : "rax", "rdx");
    GUEST_CHECK(exceptions_taken == 3, 0x903, exceptions_taken);
    // A load from 512 MiB, past the VM's RAM (48 8B 18: MOV RBX, [RAX]).
    expect_exception(13, 3);
    asm volatile(".byte 0x48, 0x8B, 0x18" ::"a"(0x2000'0000) : "rbx", "memory");
    GUEST_CHECK(exceptions_taken == 4, 0x904, exceptions_taken);
    print("guest_bad: four refusals taken; now a triple fault\n");
    // The verdict first: nothing runs after the triple fault.
    hypercall(vmm::hypercall::result, 0);
    // No IDT: UD2 cannot be delivered (#GP), nor that (#DF): shutdown.
    const DescriptorPointer empty{0, 0};
    asm volatile("lidt %0\n\tud2" ::"m"(empty));
    finish(0x9FF);
}
