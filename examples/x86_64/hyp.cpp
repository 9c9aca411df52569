// The x86_64 example hypervisor: the shared VMM core (examples/vmm) on
// QEMU's AMD SVM with nested paging, through AxVCpu<svm::VCpu<Host>, Host>.
// This file is the board: boot hand-off, the COM1 console, port I/O, the
// guests' page tables, and what only x86 guests do (MSRs, #GP for what
// nobody emulates, ACPI power-off). VMs are data (the tables below).
//
// One physical CPU; one VM, or two that take turns on it when the command
// line (-append) says "vms=2" (guest images at host-physical 0x4200000 and
// 0x5200000). See README.md.
#include <atomic>
#include <cstdint>
#include <optional>

#include <arch/x86_64/percpu.hpp>
#include <arch/x86_64/stage2.hpp>
#include <arch/x86_64/vcpu.hpp>
#include <axvcpu/axvcpu.hpp>
#include <axvcpu/percpu.hpp>

#include "../vmm/hypercalls.hpp"
#include "../vmm/options.hpp"
#include "../vmm/static_slot.hpp"
#include "../vmm/test_devices.hpp"
#include "../vmm/vmm.hpp"
#include "guest_abi.hpp"
#include "idt.hpp"
#include "platform.hpp"

namespace {

using axvcpu::GuestPhysAddr;
using axvcpu::HostPhysAddr;
using axvcpu::usize;
using u64 = std::uint64_t;
namespace x86 = axvcpu::x86_64;
using vmm::Dec;
using vmm::Hex;

struct Serial {
    static void putc(char c) { example::putc(c); }
};
using Out = vmm::Console<Serial>;

[[noreturn]] void fail(std::uint32_t code, const char* why) {
    Out::println("RESULT: FAIL (", why, ")");
    example::qemu_exit(code);
}

// --- The VMs, as data --------------------------------------------------------------
// Host-physical layout (QEMU -m 256M): the hypervisor at 1 MiB, the VMM's
// frame pool at 16..48 MiB, VM i's 16 MiB of RAM at 64 + 16 i MiB, mapped
// at guest-physical 0 (guest_abi.hpp).
constexpr u64 frame_pool_base = 0x0100'0000, frame_pool_bytes = 0x0200'0000;
constexpr u64 vm_ram_host_base = 0x0400'0000;

constexpr axvcpu::VmMemConfig vm_memory[] = {{0, guest_abi::ram_size, 0x7, axvcpu::VmMemMappingType::MapReserved}};
constexpr axvcpu::EmulatedDeviceConfig vm_emulated[] = {
    {"test", guest_abi::test_device, vmm::TestDevice::size, 0, axvcpu::EmulatedDeviceType::Dummy, {}}};
constinit vmm::VmDescription vm_descriptions[2] = {
    {.id = 0,
     .name = "x86_64-test",
     .type = axvcpu::VMType::VMTRTOS,
     .vcpus = 1,
     .entry = GuestPhysAddr(guest_abi::entry),
     .memory = vm_memory,
     .reserved_base = vm_ram_host_base,
     .emulated = vm_emulated,
     .test_guest = true},
    {.id = 1,
     .name = "x86_64-second",
     .type = axvcpu::VMType::VMTRTOS,
     .vcpus = 1,
     .entry = GuestPhysAddr(guest_abi::entry),
     .memory = vm_memory,
     .reserved_base = vm_ram_host_base + guest_abi::ram_size,
     .emulated = vm_emulated,
     .test_guest = true},
};

// --- The host policy ------------------------------------------------------------------
struct Board;
using Vmm = vmm::Vmm<Board>;

void* current_vcpu_slot = nullptr;  // one CPU

struct Host : vmm::HostApi<Board> {
    // TimeIf: the TSC (the SVM policy arms no host timer).
    static u64 current_ticks() {
        std::uint32_t lo, hi;
        asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return (u64{hi} << 32) | lo;
    }
    static u64 ticks_to_nanos(u64 ticks) { return ticks; }
    static u64 nanos_to_ticks(u64 nanos) { return nanos; }
    static axvcpu::CancelToken register_timer(u64, axvcpu::TimerCallback, void*) {
        fail(20, "the SVM policy registered a host timer");
    }
    static void cancel_timer(axvcpu::CancelToken) {}
    static usize get_host_cpu_num() { return 1; }
    static void* current_vcpu_slot() { return ::current_vcpu_slot; }
    static void set_current_vcpu_slot(void* vcpu) { ::current_vcpu_slot = vcpu; }
};

using Arch = x86::svm::VCpu<Host>;
using VCpu = axvcpu::AxVCpu<Arch, Host>;
using axvcpu::AxVCpuExitReason;

// --- Host interrupts --------------------------------------------------------------------
// The host takes one interrupt, the PIT's IRQ 0 (the host_timer hypercall
// arms it), in the board's windows (idle, external_interrupt); any other
// vector stops the machine. Only the first after an arming counts for the
// guests; others are strays: QEMU may deliver the edge of the one-shot
// setup_host_interrupts ends the BIOS's periodic timer with late, past the
// quiet spell it waits for, on a loaded machine (a test's first arming
// then saw two). test_checks allows that one stray, no more.
extern "C" volatile u64 host_timer_interrupts, host_timer_strays, host_timer_armed;
volatile u64 host_timer_interrupts = 0;
volatile u64 host_timer_strays = 0;
volatile u64 host_timer_armed = 0;

asm(R"(
.pushsection .text
.balign 16
host_irq0:
    push %rax
    mov $0x20, %al
    out %al, $0x20
    # Armed (bit 0, cleared here): the arming's interrupt; else a stray.
    lock btrq $0, host_timer_armed(%rip)
    jnc 1f
    lock incq host_timer_interrupts(%rip)
    jmp 2f
1:  lock incq host_timer_strays(%rip)
2:  pop %rax
    iretq
.balign 16
host_unexpected_vector:
    mov $0xF4, %dx
    mov $40, %eax
    out %eax, %dx
1:  cli
    hlt
    jmp 1b
.popsection
)");
extern "C" char host_irq0[], host_unexpected_vector[];

example::idt::Gate host_idt[256];

void setup_host_interrupts() {
    for (usize v = 0; v < 256; ++v)
        host_idt[v] = example::idt::interrupt_gate(
            reinterpret_cast<u64>(v == example::pic_vector_base ? host_irq0 : host_unexpected_vector));
    example::idt::load(host_idt, 256);
    // The BIOS leaves the PIT's channel 0 periodic, and the masked 8259
    // latches its edges: the first host_timer would then fire twice. A
    // one-tick one-shot ends that; once its output is high no edge comes
    // until the next arming, and the remap's ICW1 clears what was latched.
    // QEMU computes the output from the time but delivers the edge from a
    // timer of its own a little later: cleared again until a quiet spell
    // after the remap leaves IRQ 0 unrequested.
    example::pit_one_shot(1);
    do {
        while (!example::pit_output_high()) {
        }
        example::pic_remap();
        const u64 start = Host::current_ticks();
        while (Host::current_ticks() - start < 10'000'000) {
        }
    } while ((example::pic_requests() & 1) != 0);
}

// --- What the x86 test guests ask the board to check ----------------------------------
struct TestState {
    u64 test_msr = 0;
    u64 refused = 0;  // accesses answered with #GP
    u64 trap_rip_calls = 0;  // hypercall_trap_rip calls whose RIP checked out
    u64 trap_rip_last = 0;   // the address of the last one counted
    bool trap_rip_rewound = false;
    bool triple_fault = false;
};
TestState tests[2];

TestState& test_of(const VCpu& vcpu) { return tests[vcpu.vm_id() < 2 ? vcpu.vm_id() : 0]; }

// The guest's #GP(0) at the instruction, as a machine with nothing there.
bool raise_gp(VCpu& vcpu) {
    ++test_of(vcpu).refused;
    auto& arch = vcpu.arch_vcpu();
    return arch.rewind_instruction().has_value() && arch.inject_exception(x86::vector::gp, 0u).has_value();
}

// The guests' own identity tables of their first 4 GiB (2 MiB pages) at
// guest_abi::page_tables, written through the host's view of their RAM:
// what a Long64 entry needs in CR3.
void build_guest_page_tables(const vmm::VmDescription& vm) {
    u64* pml4 = reinterpret_cast<u64*>(vm.reserved_base + guest_abi::page_tables);
    u64* pdpt = pml4 + 512;
    u64* pd = pdpt + 512;
    for (usize i = 0; i < 512 * 6; ++i) pml4[i] = 0;
    pml4[0] = (guest_abi::page_tables + 0x1000) | 3;
    for (u64 i = 0; i < 4; ++i) pdpt[i] = (guest_abi::page_tables + 0x2000 + i * 0x1000) | 3;
    for (u64 i = 0; i < 4 * 512; ++i) pd[i] = (i << 21) | 0x83;
}

struct Board {
    using Host = ::Host;
    using Arch = ::Arch;
    using Devices = vmm::DeviceTable<1, vmm::TestDevice>;
    static constexpr usize max_cpus = 1;
    static constexpr usize max_vcpus_per_vm = 1;
    static constexpr bool trace_exits = vmm::options::trace;

    static void putc(char c) { example::putc(c); }
    static usize cpu_index() { return 0; }
    static void kick(usize) {}
    // Only the PIT interrupts the host, when a guest armed it: a halted
    // guest with nothing pending waits here for good otherwise.
    static void idle() { asm volatile("sti; hlt; cli"); }
    [[noreturn]] static void exit(std::uint32_t code) { example::qemu_exit(code); }

    static std::optional<HostPhysAddr> build_stage2(const vmm::VmDescription& vm) {
        const auto root = Host::alloc_frame();
        if (!root) return std::nullopt;
        x86::stage2::Mapper mapper(root->value(), &Host::alloc_table, &Host::table_at);
        if (!vmm::map_guest_memory(mapper, vm)) return std::nullopt;
        build_guest_page_tables(vm);
        return *root;
    }
    static bool add_device(Devices& devices, const axvcpu::EmulatedDeviceConfig& config) {
        if (config.name == "test") return devices.add<vmm::TestDevice>(GuestPhysAddr(config.base_gpa), config.length);
        return false;
    }
    // 64-bit entry on the tables above; RDI = the VM id.
    static x86::svm::CreateConfig create_config(const vmm::VmDescription& vm, usize) {
        return {x86::EntryMode::Long64, GuestPhysAddr(guest_abi::page_tables), vm.id};
    }
    static x86::svm::SetupConfig setup_config(const vmm::VmDescription&) { return {}; }
    // One vCPU per VM: nothing starts a second.
    static bool set_boot_arguments(VCpu&, u64) { return false; }
    static u64 cpu_up_status(vmm::CpuUpStatus) { return ~u64{0}; }

    static void complete_load(VCpu& vcpu, const axvcpu::exit::MmioRead& read, u64 raw) {
        (void)vcpu.arch_vcpu().complete_mmio_read(read, raw);
    }
    static bool reflect_fault(VCpu& vcpu, std::uint32_t, GuestPhysAddr) { return raise_gp(vcpu); }

    // MSRs: the test MSR reads back what was written; others get #GP.
    static std::optional<u64> sysreg_read(VCpu& vcpu, axvcpu::SysRegAddr addr) {
        if (addr.value != guest_abi::test_msr) return std::nullopt;
        return test_of(vcpu).test_msr;
    }
    static bool sysreg_write(VCpu& vcpu, axvcpu::SysRegAddr addr, u64 value) {
        if (addr.value != guest_abi::test_msr) return false;
        test_of(vcpu).test_msr = value;
        return true;
    }
    static void complete_sysreg_read(VCpu& vcpu, const axvcpu::exit::SysRegRead&, u64 value) {
        vcpu.arch_vcpu().complete_msr_read(value);
    }
    static bool refuse_sysreg(VCpu& vcpu, axvcpu::SysRegAddr) { return raise_gp(vcpu); }

    // Ports: COM1 (data and LSR), the test port and sink, ACPI power-off.
    static void io_read(VCpu& vcpu, const axvcpu::exit::IoRead& in) {
        u64 value = 0;
        if (in.port == example::com1_lsr) {
            value = 0x60;  // transmitter empty
        } else if (in.port == guest_abi::test_port) {
            value = ~port_latch;
        } else {
            (void)raise_gp(vcpu);
            return;
        }
        vcpu.arch_vcpu().complete_io_read(in, value);
    }
    static vmm::PortEffect io_write(VCpu& vcpu, const axvcpu::exit::IoWrite& out) {
        if (out.port == example::com1) {
            example::putc(static_cast<char>(out.data));
        } else if (out.port == guest_abi::test_port) {
            port_latch = out.data;
        } else if (out.port == example::acpi_pm1a_control && out.data == example::acpi_sleep_s5) {
            return vmm::PortEffect::PowerOff;
        } else if (out.port != guest_abi::sink_port) {
            (void)raise_gp(vcpu);
        }
        return vmm::PortEffect::Done;
    }
    static bool port_traced(axvcpu::Port port) { return port != example::com1 && port != example::com1_lsr; }

    // The host's interrupt (the PIT) made the guest exit: take it now.
    static void external_interrupt(VCpu&, usize) { asm volatile("sti; nop; cli"); }
    static bool interrupt_pending(VCpu& vcpu) { return vcpu.arch_vcpu().interrupt_pending(); }
    // ACPI S5 carries no status (the guest's `result` decides); a triple
    // fault is a failure, unless the test is the one that causes it.
    static std::optional<u64> power_off_status(VCpu& vcpu) {
        if (vcpu.arch_vcpu().last_trap().exit_code != x86::svm::exit_code::shutdown) return std::nullopt;
        test_of(vcpu).triple_fault = true;
        Out::println("vmm: VM ", Dec{vcpu.vm_id()}, ": triple fault (SHUTDOWN)");
        return Vmm::test_id() == guest_abi::test_bad ? std::nullopt : std::optional<u64>(0xDEAD);
    }
    static vmm::HypercallAnswer hypercall(VCpu& vcpu, const axvcpu::exit::Hypercall& call);
    static u64 timer_fires() { return ~u64{0}; }

    static const char* test_name(u64 id) {
        switch (id) {
            case guest_abi::test_exits: return "x86_64 exits";
            case guest_abi::test_regs: return "x86_64 registers";
            case guest_abi::test_bad: return "x86_64 misbehaving guest";
            case guest_abi::test_chaos: return "x86_64 chaos";
            default: return "unknown";
        }
    }
    static bool test_checks(u64 id);
    static void run_failed(VCpu& vcpu, axvcpu::AxError) {
        const auto& trap = vcpu.arch_vcpu().last_trap();
        const auto decode = vcpu.arch_vcpu().last_decode_error();
        Out::println("vmm: SVM exit ", x86::svm::exit_code_name(trap.exit_code), " (", Hex{trap.exit_code},
                     ") at rip ", Hex{trap.rip}, decode ? ": " : "", decode ? x86::name(*decode) : "");
    }

    static inline u64 port_latch = 0;
};

// The benchmark's loop (bench.sh): VMMCALL round trips answered through
// the public API until bench_end. Out of line, like its twin below.
[[gnu::noinline]] void run_bench_loop(VCpu& vcpu) {
    (void)vcpu.set_return_value(0);  // bench_begin's answer
    for (;;) {
        auto result = vcpu.run();
        if (!result) break;
        const auto* call = result.value().get_if<axvcpu::exit::Hypercall>();
        if (call == nullptr) break;
        if (call->nr == vmm::hypercall::bench_end) return;
        if (call->nr != vmm::hypercall::sum) break;
        const auto& a = call->args;
        (void)vcpu.set_return_value(a[0] + a[1] + a[2] + a[3] + a[4] + a[5]);
    }
    Vmm::failed("unexpected exit in the benchmark loop");
    Vmm::finish();
}

// Its hand-written twin: the same round trip with no library layer on the
// vCPU's bound state, decoding only what the benchmark guest does (VMMCALL,
// the number in RAX, the six arguments summed as the library loop does). It
// shares the irreducible
// part, the world switch (axvcpu_x86_svm_run_guest: every GPR, the
// VMLOAD/VMSAVE state, VMRUN), with the library.
[[gnu::noinline]] void run_raw_loop(VCpu& vcpu) {
    auto& arch = vcpu.arch_vcpu();
    x86::svm::SwitchContext& ctx = arch.switch_context();
    x86::svm::Vmcb& vmcb = arch.vmcb();
    // The guest resumes past bench_raw's VMMCALL (the policy moved RIP)
    // with its answer, 0 (RAX and RSP live in the VMCB).
    vmcb.rax = 0;
    for (;;) {
        axvcpu_x86_svm_run_guest(&ctx);
        if (vmcb.exit_code != x86::svm::exit_code::vmmcall) break;
        vmcb.rip += x86::vmmcall_length;
        const u64 nr = vmcb.rax;
        if (nr == vmm::hypercall::bench_end) return;  // the core answers it
        if (nr != vmm::hypercall::sum) break;
        const auto& r = ctx.gprs;  // the same answer as the library loop's
        vmcb.rax = r[x86::gpr::rdi] + r[x86::gpr::rsi] + r[x86::gpr::rdx] + r[x86::gpr::rcx] + r[x86::gpr::r8] +
                   r[x86::gpr::r9];
    }
    Vmm::failed("unexpected exit in the hand-written benchmark loop");
    Vmm::finish();
}

// guest_exits' VMMCALL at the address in RDI: last_trap() names it (the
// policy derives it from RIP on this exit) and still does once RIP has
// moved, each way on a call of its own: through the writable VMCB (the
// first call), set_entry (the second), rewind_instruction() (the third,
// RSI = 1, once: the guest runs it again, RAX its number). Each counted
// call is at an address of its own, so each shows that the RIP the one
// before kept did not outlive its exit.
vmm::HypercallAnswer trap_rip(VCpu& vcpu, const axvcpu::exit::Hypercall& call) {
    auto& arch = vcpu.arch_vcpu();
    TestState& state = test_of(vcpu);
    const u64 at = call.args[0];
    const u64 past = at + x86::vmmcall_length;
    bool ok = arch.last_trap().rip == at && arch.rip() == past;
    if (call.args[1] == 1 && !state.trap_rip_rewound) {
        state.trap_rip_rewound = true;
        if (!ok || !arch.rewind_instruction() || arch.rip() != at || arch.last_trap().rip != at)
            Vmm::failed("rewind_instruction() after a VMMCALL");
        return vmm::HypercallAnswer::of(guest_abi::hypercall_trap_rip);
    }
    if (state.trap_rip_calls == 0) {
        x86::svm::Vmcb& vmcb = arch.vmcb();
        vmcb.rip = 0;
        ok = ok && arch.last_trap().rip == at;
        vmcb.rip = past;
    } else if (state.trap_rip_calls == 1) {
        ok = ok && arch.set_entry(GuestPhysAddr(guest_abi::entry)).has_value() && arch.last_trap().rip == at;
        arch.vmcb().rip = past;
    }
    if (!ok) Vmm::failed("last_trap() does not name the VMMCALL's RIP");
    if (at == state.trap_rip_last) Vmm::failed("two hypercall_trap_rip calls at one address");
    if (ok) {
        ++state.trap_rip_calls;
        state.trap_rip_last = at;
    }
    return vmm::HypercallAnswer::of(ok ? 1 : 0);
}

// The board's own hypercalls: the benchmark's two loops, the host timer,
// the exits guest's trap_rip and the register test's argument check
// (RDI..R9 carry the pattern).
vmm::HypercallAnswer Board::hypercall(VCpu& vcpu, const axvcpu::exit::Hypercall& call) {
    if (call.nr == vmm::hypercall::bench_begin) {
        run_bench_loop(vcpu);
        return vmm::HypercallAnswer::of(0);
    }
    if (call.nr == vmm::hypercall::bench_raw) {
        run_raw_loop(vcpu);  // returns after the guest's bench_end, which gets 0
        return vmm::HypercallAnswer::of(0);
    }
    if (call.nr == vmm::hypercall::host_timer) {
        if (call.args[0] != 0) {
            host_timer_armed = 1;
            example::pit_one_shot(static_cast<std::uint16_t>(call.args[0] > 0xFFFF ? 0xFFFF : call.args[0]));
            example::pic_unmask_irq0();
        }
        return vmm::HypercallAnswer::of(host_timer_interrupts);
    }
    if (call.nr == guest_abi::hypercall_trap_rip) return trap_rip(vcpu, call);
    if (call.nr != guest_abi::hypercall_regs_check) return vmm::HypercallAnswer::unknown();
    const auto& a = call.args;
    const bool intact = a[0] == guest_abi::regs_pattern(7) && a[1] == guest_abi::regs_pattern(6) &&
                        a[2] == guest_abi::regs_pattern(2) && a[3] == guest_abi::regs_pattern(1) &&
                        a[4] == guest_abi::regs_pattern(8) && a[5] == guest_abi::regs_pattern(9);
    if (!intact) Vmm::failed("hypercall argument registers lost their pattern");
    return vmm::HypercallAnswer::of(intact ? 0 : 1);
}

vmm::StaticSlot<axvcpu::AxPerCpu<x86::svm::PerCpu<Host>>> percpu;

// VM 0's test's VMM-side checks; a second VM must have run on its own ASID.
bool Board::test_checks(u64 id) {
    bool ok = true;
    const auto expect = [&](bool condition, const char* what) {
        if (!condition) {
            Out::println("vmm: x86_64 check failed: ", what);
            ok = false;
        }
    };
    const TestState& state = tests[0];
    switch (id) {
        case guest_abi::test_exits:
            expect(Vmm::exits_of<axvcpu::exit::Hypercall>() != 0 && Vmm::exits_of<axvcpu::exit::IoRead>() != 0 &&
                       Vmm::exits_of<axvcpu::exit::IoWrite>() != 0 && Vmm::exits_of<axvcpu::exit::MmioRead>() != 0 &&
                       Vmm::exits_of<axvcpu::exit::MmioWrite>() != 0 &&
                       Vmm::exits_of<axvcpu::exit::SysRegRead>() != 0 &&
                       Vmm::exits_of<axvcpu::exit::SysRegWrite>() != 0 && Vmm::exits_of<axvcpu::exit::Halt>() != 0,
                   "an exit kind the guest causes was never seen");
            expect(state.test_msr == guest_abi::msr_write_value, "the test MSR's last write");
            expect(Vmm::exits_of<axvcpu::exit::ExternalInterrupt>() != 0 && host_timer_interrupts != 0,
                   "the host timer's interrupt made the guest exit");
            expect(state.refused == 2, "two accesses refused (an MSR, a port)");
            expect(state.trap_rip_calls == 3 && state.trap_rip_rewound, "last_trap()'s RIP after three VMMCALLs");
            break;
        case guest_abi::test_regs: expect(Vmm::exits() >= 1000, "1,000 exits"); break;
        case guest_abi::test_bad: {
            expect(state.refused == 3, "three accesses refused (MMIO, MSR, unmapped memory)");
            expect(Vmm::vm(0)->vcpu(0).arch_vcpu().string_io_refused() == 1, "the string I/O refused by the policy");
            expect(state.triple_fault, "the triple fault");
            break;
        }
        default: break;
    }
    expect(host_timer_strays <= 1, "PIT interrupts nobody armed (more than the BIOS timer's last)");
    if (Vmm::vm(1) != nullptr) {
        expect(Vmm::vm(0)->vcpu(0).arch_vcpu().asid() != Vmm::vm(1)->vcpu(0).arch_vcpu().asid(),
               "the two VMs' ASIDs differ");
        // One bound vCPU per CPU: with one of the two bound (the last to
        // power off may still be; else bind one here), the other's bind is
        // refused, and so is turning SVM off under it.
        auto& first = Vmm::vm(0)->vcpu(0).arch_vcpu();
        auto& second = Vmm::vm(1)->vcpu(0).arch_vcpu();
        const bool was_bound = first.is_bound() || second.is_bound();
        auto& holder = first.is_bound() ? first : second;
        auto& other = &holder == &first ? second : first;
        if (!was_bound) expect(holder.bind().has_value(), "a VM's vCPU binds again at the end");
        const auto refused = other.bind();
        expect(!refused && refused.error() == axvcpu::AxError::BadState && !other.is_bound(),
               "a second vCPU bound on a CPU with one bound");
        const auto off = percpu->hardware_disable();
        expect(!off && off.error() == axvcpu::AxError::BadState && percpu->is_enabled(),
               "SVM turned off under a bound vCPU");
        if (!was_bound) expect(holder.unbind().has_value(), "that vCPU unbinds");
    }
    return ok;
}

static_assert(axvcpu::api::check_host_api<Host>());

usize parse_vms(const char* cmdline) {
    for (const char* p = cmdline; p != nullptr && *p != '\0'; ++p)
        if (p[0] == 'v' && p[1] == 'm' && p[2] == 's' && p[3] == '=') return static_cast<usize>(p[4] - '0');
    return 1;
}

void enable_virtualization() {
    auto& cpu = percpu.emplace();
    if (!cpu.init(0) || !cpu.hardware_enable() || !cpu.is_enabled())
        fail(10, "cannot enable SVM (is the CPU qemu64,+svm,+npt,+xsave,+xsaveopt?)");
    // Prove the off switch really turns it off, then turn it back on.
    if (!cpu.hardware_disable() || cpu.is_enabled()) fail(11, "hardware_disable did not disable");
    if (!cpu.hardware_enable() || !cpu.is_enabled()) fail(12, "hardware_enable failed again");
    {
        // A second per-CPU state on this CPU: VM_HSAVE_PA names the first's
        // area, so its enable is refused, and its end turns nothing off.
        axvcpu::AxPerCpu<x86::svm::PerCpu<Host>> second;
        const auto refused = second.init(0) ? second.hardware_enable() : axvcpu::AxResult<void>(axvcpu::ax_ok());
        if (refused || refused.error() != axvcpu::AxError::BadState) fail(15, "a second PerCpu took over this CPU's SVM");
    }
    if (!cpu.is_enabled()) fail(16, "a refused PerCpu turned SVM off at its end");
}

}  // namespace

extern "C" [[noreturn]] void hyp_main(std::uint32_t multiboot_info) {
    // Multiboot information: flags bit 2 says cmdline (offset 16) is valid.
    const auto* mbi = reinterpret_cast<const std::uint32_t*>(static_cast<std::uintptr_t>(multiboot_info));
    const char* cmdline =
        (mbi[0] & 4) != 0 ? reinterpret_cast<const char*>(static_cast<std::uintptr_t>(mbi[4])) : nullptr;
    const usize vm_count = parse_vms(cmdline);
    if (vm_count < 1 || vm_count > 2) fail(25, "vms= must be 1 or 2");
    Out::println("axvcpu-x86_64 example hypervisor: SVM with nested paging, ", Dec{vm_count}, " VM(s)");
    setup_host_interrupts();
    // The frame pool first: the host save area comes from it.
    Vmm::init(frame_pool_base, frame_pool_bytes, 1);
    enable_virtualization();
    for (usize i = 0; i < vm_count; ++i) {
        Vmm::Vm* vm = Vmm::create_vm(vm_descriptions[i]);
        if (vm == nullptr) fail(13, "cannot create a VM");
        Out::println("vmm: VM ", Dec{i}, " runs with ASID ", Dec{vm->vcpu(0).arch_vcpu().asid()});
        if (!Vmm::start(*vm, 0)) fail(14, "cannot start a VM");
    }
    Vmm::serve();
}

extern "C" [[noreturn]] void abort() { fail(31, "abort"); }
extern "C" [[noreturn]] void __assert_fail(const char* expression, const char* file, unsigned line, const char*) {
    Out::println("assertion failed: ", expression, " at ", file, ":", Dec{line});
    fail(32, "assertion");
}
