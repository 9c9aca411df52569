// The x86_64 example hypervisor: AxVCpu<svm::VCpu<Host>, Host> on QEMU's
// SVM with nested paging. It runs one or two VMs of one vCPU each on one
// CPU, taking turns through bind/unbind when there are two, and answers
// their exits: the VMM hypercalls (examples/vmm/hypercalls.hpp), COM1 and a
// test port through port I/O, the test device through MMIO, a test MSR, and
// HLT (it wakes the guest with an interrupt). See README.md.
//
// Command line (-append): "vms=2" runs two VMs (guest images at host-
// physical 0x4200000 and 0x5200000), default one.
#include <atomic>
#include <cstdint>
#include <optional>

#include <arch/x86_64/percpu.hpp>
#include <arch/x86_64/stage2.hpp>
#include <arch/x86_64/vcpu.hpp>
#include <axvcpu/axvcpu.hpp>
#include <axvcpu/percpu.hpp>

#include "../vmm/console.hpp"
#include "../vmm/frame_pool.hpp"
#include "../vmm/hypercalls.hpp"
#include "../vmm/static_slot.hpp"
#include "../vmm/test_devices.hpp"
#include "guest_abi.hpp"
#include "platform.hpp"

namespace {

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

vmm::FramePool frames;

// --- The host policy ----------------------------------------------------------------
// One physical CPU; frames from the pool (identity-mapped); no host timers
// (the SVM policy uses none).
void* current_vcpu_slot = nullptr;
axvcpu::VMId running_vm = 0;
constexpr usize max_vms = 2;
usize vm_count = 1;

struct Host {
    static axvcpu::VMId current_vm_id() { return running_vm; }
    static axvcpu::VCpuId current_vcpu_id() { return 0; }
    static std::optional<usize> vcpu_num(axvcpu::VMId vm) {
        return vm < vm_count ? std::optional<usize>(1) : std::nullopt;
    }
    static std::optional<axvcpu::VCpuSet> active_vcpus(axvcpu::VMId vm) {
        return vm < vm_count ? std::optional<axvcpu::VCpuSet>(axvcpu::VCpuSet::from_bits(1)) : std::nullopt;
    }
    static void inject_interrupt(axvcpu::VMId, axvcpu::VCpuId, axvcpu::InterruptVector) {}
    static void inject_interrupt_to_cpus(axvcpu::VMId, axvcpu::VCpuSet, axvcpu::InterruptVector) {}
    static void notify_vcpu_timer_expired(axvcpu::VMId, axvcpu::VCpuId) {}

    static std::optional<axvcpu::HostPhysAddr> alloc_frame() { return frames.alloc(1, 12); }
    static std::optional<axvcpu::HostPhysAddr> alloc_contiguous_frames(usize count, usize align_log2) {
        return frames.alloc(count, align_log2);
    }
    static void dealloc_frame(axvcpu::HostPhysAddr) {}
    static void dealloc_contiguous_frames(axvcpu::HostPhysAddr, usize) {}
    static axvcpu::HostVirtAddr phys_to_virt(axvcpu::HostPhysAddr pa) { return axvcpu::HostVirtAddr(pa.value()); }
    static axvcpu::HostPhysAddr virt_to_phys(axvcpu::HostVirtAddr va) { return axvcpu::HostPhysAddr(va.value()); }

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

// --- Memory -------------------------------------------------------------------------
// Host-physical layout (QEMU -m 256M): the hypervisor at 1 MiB, frames for
// tables and VMCBs at 16..48 MiB, VM i's 16 MiB of RAM at 64 + 16 i MiB
// (guest-physical 0), its image loaded at guest-physical 0x200000.
constexpr u64 frame_pool_base = 0x0100'0000, frame_pool_bytes = 0x0200'0000;
constexpr u64 vm_ram_base = 0x0400'0000, vm_ram_bytes = 0x0100'0000;

u64* table_at(u64 pa) { return reinterpret_cast<u64*>(pa); }

std::optional<u64> alloc_table() {
    const auto frame = frames.alloc(1, 12);
    return frame ? std::optional<u64>(frame->value()) : std::nullopt;
}

// Nested tables of VM `vm`: its RAM at guest-physical 0. The test device's
// page stays unmapped, so the guest's accesses to it exit.
u64 build_nested_tables(usize vm) {
    const std::optional<u64> root = alloc_table();
    if (!root) fail(21, "no frame for a nested page table");
    x86::stage2::Mapper mapper(*root, alloc_table, table_at);
    if (!mapper.map(0, vm_ram_base + vm * vm_ram_bytes, vm_ram_bytes, axvcpu::stage2::MemType::Normal))
        fail(22, "cannot map guest RAM");
    return *root;
}

// The guest's own identity tables of its first 4 GiB (2 MiB pages), at
// guest_abi::page_tables: what a Long64 entry needs in CR3.
void build_guest_page_tables(usize vm) {
    const u64 ram = vm_ram_base + vm * vm_ram_bytes;
    u64* pml4 = table_at(ram + guest_abi::page_tables);
    u64* pdpt = pml4 + 512;
    u64* pd = pdpt + 512;
    for (usize i = 0; i < 512 * 6; ++i) pml4[i] = 0;
    pml4[0] = (guest_abi::page_tables + 0x1000) | 3;
    for (u64 i = 0; i < 4; ++i) pdpt[i] = (guest_abi::page_tables + 0x2000 + i * 0x1000) | 3;
    for (u64 i = 0; i < 4 * 512; ++i) pd[i] = (i << 21) | 0x83;
}

// --- Devices and checks -------------------------------------------------------------
struct VmState {
    vmm::TestDevice device;
    u64 test = 0;  // the hello hypercall's test id
    u64 port_latch = 0;
    u64 test_msr = 0;
    u64 exits = 0;
    u64 kinds_seen = 0;  // bit i: AxVCpuExitReason alternative i
    u64 halts = 0;
    u64 refused = 0;  // accesses answered with #GP
    bool done = false;
    bool passed = false;
};
VmState vms[max_vms];
vmm::StaticSlot<VCpu> vcpus[max_vms];

constexpr u64 halt_wake_vector = 0x42;

// The VMM-side checks of a test, when its guest reports success.
template <class Reason>
usize kind() {
    return axvcpu::AxVCpuExitReason(Reason{}).index();
}

bool vmm_checks_pass(usize vm) {
    const VmState& state = vms[vm];
    auto seen = [&](usize index) { return ((state.kinds_seen >> index) & 1) != 0; };
    switch (state.test) {
        case guest_abi::test_exits:
            return seen(kind<axvcpu::exit::Hypercall>()) && seen(kind<axvcpu::exit::IoRead>()) &&
                   seen(kind<axvcpu::exit::IoWrite>()) && seen(kind<axvcpu::exit::MmioRead>()) &&
                   seen(kind<axvcpu::exit::MmioWrite>()) && seen(kind<axvcpu::exit::SysRegRead>()) &&
                   seen(kind<axvcpu::exit::SysRegWrite>()) && seen(kind<axvcpu::exit::Halt>()) &&
                   state.test_msr == guest_abi::msr_write_value && state.refused == 2;
        case guest_abi::test_regs: return state.exits >= 1000;
        default: return true;
    }
}

// Answers one hypercall; false when the VM is done.
void hypercall(usize vm, VCpu& vcpu, const axvcpu::exit::Hypercall& call) {
    VmState& state = vms[vm];
    const auto& a = call.args;
    u64 answer = vmm::hypercall::unknown;
    switch (call.nr) {
        case vmm::hypercall::hello:
            state.test = a[0];
            answer = vm;
            break;
        case vmm::hypercall::result:
            state.done = true;
            state.passed = a[0] == 0 && vmm_checks_pass(vm);
            if (a[0] == 0) {
                Out::println("vm", Dec{vm}, ": guest reports pass after ", Dec{state.exits}, " exits",
                             state.passed ? "" : "; VMM-side checks FAILED");
            } else {
                Out::println("vm", Dec{vm}, ": guest reports failure ", Hex{a[0]}, " detail ", Hex{a[1]});
            }
            answer = 0;
            break;
        case vmm::hypercall::sum: answer = a[0] + a[1] + a[2] + a[3] + a[4] + a[5]; break;
        case vmm::hypercall::nop: answer = 0; break;
        case vmm::hypercall::inject: {
            u64 refused = 0;
            for (u64 i = 0; i < (a[1] == 0 ? 1 : a[1]); ++i)
                if (!vcpu.inject_interrupt(a[0] + i)) ++refused;
            answer = refused;
            break;
        }
        case guest_abi::hypercall_regs_check:
            // The guest's round: RDI..R9 carry the pattern the guest loaded.
            answer = (a[0] == guest_abi::regs_pattern(7) && a[1] == guest_abi::regs_pattern(6) &&
                      a[2] == guest_abi::regs_pattern(2) && a[3] == guest_abi::regs_pattern(1) &&
                      a[4] == guest_abi::regs_pattern(8) && a[5] == guest_abi::regs_pattern(9))
                         ? 0
                         : 1;
            break;
        default: break;
    }
    (void)vcpu.set_return_value(answer);
}

// The guest's MMIO and I/O accesses that go nowhere, and MSRs nobody
// knows, get #GP at the instruction, as a machine check would not help.
void refuse(usize vm, VCpu& vcpu) {
    ++vms[vm].refused;
    (void)vcpu.arch_vcpu().rewind_instruction();
    (void)vcpu.arch_vcpu().inject_exception(x86::vector::gp, 0u);
}

void handle_exit(usize vm, VCpu& vcpu, const axvcpu::AxVCpuExitReason& reason) {
    VmState& state = vms[vm];
    ++state.exits;
    state.kinds_seen |= u64{1} << reason.index();
    using namespace axvcpu::exit;
    if (const auto* call = reason.get_if<Hypercall>()) return hypercall(vm, vcpu, *call);
    if (const auto* out = reason.get_if<IoWrite>()) {
        if (out->port == example::com1) return Serial::putc(static_cast<char>(out->data));
        if (out->port == guest_abi::test_port) {
            state.port_latch = out->data;
            return;
        }
        if (out->port == guest_abi::sink_port) return;
        return refuse(vm, vcpu);
    }
    if (const auto* in = reason.get_if<IoRead>()) {
        u64 value = 0;
        if (in->port == example::com1_lsr) {
            value = 0x60;  // transmitter empty
        } else if (in->port == guest_abi::test_port) {
            value = ~state.port_latch;
        } else {
            return refuse(vm, vcpu);
        }
        vcpu.arch_vcpu().complete_io_read(*in, value);
        return;
    }
    if (const auto* read = reason.get_if<MmioRead>()) {
        const u64 offset = read->addr.value() - guest_abi::test_device;
        const std::optional<u64> value =
            read->addr.value() >= guest_abi::test_device ? state.device.read(offset, read->width) : std::nullopt;
        if (!value) return refuse(vm, vcpu);
        (void)vcpu.arch_vcpu().complete_mmio_read(*read, *value);
        return;
    }
    if (const auto* write = reason.get_if<MmioWrite>()) {
        const u64 offset = write->addr.value() - guest_abi::test_device;
        if (write->addr.value() < guest_abi::test_device || !state.device.write(offset, write->width, write->data))
            refuse(vm, vcpu);
        return;
    }
    if (const auto* msr = reason.get_if<SysRegRead>()) {
        if (msr->addr.value != guest_abi::test_msr) return refuse(vm, vcpu);
        vcpu.arch_vcpu().complete_msr_read(state.test_msr);
        return;
    }
    if (const auto* msr = reason.get_if<SysRegWrite>()) {
        if (msr->addr.value != guest_abi::test_msr) return refuse(vm, vcpu);
        state.test_msr = msr->value;
        return;
    }
    if (reason.get_if<Halt>() != nullptr) {
        // The guest waits for an interrupt: this is its "timer".
        ++state.halts;
        (void)vcpu.inject_interrupt(halt_wake_vector);
        return;
    }
    if (reason.get_if<ExternalInterrupt>() != nullptr) return;
    if (const auto* fault = reason.get_if<NestedPageFault>()) {
        Out::println("vm", Dec{vm}, ": nested page fault at ", fault->addr, ", rip ", Hex{vcpu.arch_vcpu().rip()});
        return refuse(vm, vcpu);
    }
    if (reason.get_if<SystemDown>() != nullptr) {
        Out::println("vm", Dec{vm}, ": system down (", x86::svm::exit_code_name(vcpu.arch_vcpu().last_trap().exit_code),
                     ")");
        state.done = true;
        // Only the misbehaving guest ends so, after its three refusals and
        // the string I/O the policy refused.
        state.passed = state.test == guest_abi::test_bad && state.refused == 3 &&
                       vcpu.arch_vcpu().string_io_refused() == 1;
        return;
    }
    Out::println("vm", Dec{vm}, ": unexpected exit ", reason);
    fail(23, "unexpected exit");
}

// run() refused an exit (the vCPU is now Invalid): print why and stop.
[[noreturn]] void run_failed(usize vm, VCpu& vcpu, axvcpu::AxError error) {
    const auto& trap = vcpu.arch_vcpu().last_trap();
    const auto decode = vcpu.arch_vcpu().last_decode_error();
    Out::println("vm", Dec{vm}, ": run refused exit ", x86::svm::exit_code_name(trap.exit_code), " (",
                 Hex{trap.exit_code}, ") at rip ", Hex{trap.rip}, ": ", error, decode ? ", " : "",
                 decode ? x86::name(*decode) : "");
    fail(24, "run failed");
}

u64 parse_vms(const char* cmdline) {
    for (const char* p = cmdline; p != nullptr && *p != '\0'; ++p)
        if (p[0] == 'v' && p[1] == 'm' && p[2] == 's' && p[3] == '=') return static_cast<u64>(p[4] - '0');
    return 1;
}

}  // namespace

extern "C" [[noreturn]] void hyp_main(std::uint32_t multiboot_info) {
    // Multiboot information: flags bit 2 says cmdline (offset 16) is valid.
    const auto* mbi = reinterpret_cast<const std::uint32_t*>(static_cast<uintptr_t>(multiboot_info));
    const char* cmdline = (mbi[0] & 4) != 0 ? reinterpret_cast<const char*>(static_cast<uintptr_t>(mbi[4])) : nullptr;
    vm_count = parse_vms(cmdline);
    if (vm_count < 1 || vm_count > max_vms) fail(25, "vms= must be 1 or 2");
    frames.init(frame_pool_base, frame_pool_bytes);
    Out::println("axvcpu-x86_64 example hypervisor: SVM, nested paging, ", Dec{vm_count}, " VM(s)");

    axvcpu::AxPerCpu<x86::svm::PerCpu<Host>> percpu;
    if (!percpu.init(0) || !percpu.hardware_enable()) fail(26, "cannot enable SVM (is the CPU qemu64,+svm,+npt?)");

    for (usize vm = 0; vm < vm_count; ++vm) {
        build_guest_page_tables(vm);
        const u64 root = build_nested_tables(vm);
        auto created = VCpu::create(vm, 0, 0, std::nullopt,
                                    x86::svm::CreateConfig{x86::svm::EntryMode::Long64,
                                                           axvcpu::GuestPhysAddr(guest_abi::page_tables), vm});
        if (!created) fail(27, "cannot create a vCPU");
        VCpu& vcpu = vcpus[vm].emplace(std::move(created).value());
        if (!vcpu.setup(axvcpu::GuestPhysAddr(guest_abi::entry), axvcpu::HostPhysAddr(root), {}))
            fail(28, "cannot set up a vCPU");
        Out::println("vm", Dec{vm}, ": ASID ", Dec{vcpu.arch_vcpu().asid()}, ", nested root ", Hex{root});
    }

    // One vCPU at a time on this CPU; with two VMs they alternate after
    // every exit, each bind flushing its ASID's translations.
    usize done = 0;
    for (usize turn = 0; done < vm_count; ++turn) {
        const usize vm = turn % vm_count;
        if (vms[vm].done) continue;
        VCpu& vcpu = *vcpus[vm];
        running_vm = vm;
        if (!vcpu.bind()) fail(29, "bind failed");
        for (usize burst = 0; burst < (vm_count > 1 ? 1 : ~usize{0}) && !vms[vm].done; ++burst) {
            auto exit = vcpu.run();
            if (!exit) run_failed(vm, vcpu, exit.error());
            handle_exit(vm, vcpu, exit.value());
        }
        if (!vcpu.unbind()) fail(30, "unbind failed");
        if (vms[vm].done) ++done;
    }
    bool all = true;
    for (usize vm = 0; vm < vm_count; ++vm) all = all && vms[vm].passed;
    if (vm_count > 1) all = all && vcpus[0]->arch_vcpu().asid() != vcpus[1]->arch_vcpu().asid();
    Out::println(all ? "RESULT: PASS" : "RESULT: FAIL (a VM failed)");
    example::qemu_exit(all ? 0 : 1);
}

extern "C" [[noreturn]] void abort() { fail(31, "abort"); }
extern "C" [[noreturn]] void __assert_fail(const char* expression, const char* file, unsigned line, const char*) {
    Out::println("assertion failed: ", expression, " at ", file, ":", Dec{line});
    fail(32, "assertion");
}
