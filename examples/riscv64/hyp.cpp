// The riscv64 board of the example VMM: boots from OpenSBI in HS-mode on
// QEMU virt, runs VM 0 (one vCPU per hart, up to EXAMPLE_VCPUS) with the
// image QEMU's generic loader placed at guest-physical 0x88000000, through
// the shared VMM core (examples/vmm/). This file holds only what is
// riscv64's: hart entry and host trap handling, host timers over the SBI
// TIME extension, the host policy's time and current-vCPU slot, SBI error
// codes, access faults reflected to the guest, and the checks and
// hypercalls only the riscv64 test guests use. The guest-visible contract
// is in README.md.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "arch/riscv64/percpu.hpp"
#include "arch/riscv64/stage2.hpp"
#include "arch/riscv64/vcpu.hpp"
#include "arch/riscv64/vplic.hpp"
#include "axvcpu/percpu.hpp"
#include "examples/vmm/devices.hpp"
#include "examples/vmm/options.hpp"
#include "examples/vmm/test_devices.hpp"
#include "examples/vmm/vmm.hpp"
#include "platform.hpp"

#ifndef EXAMPLE_S2_LEVELS
#define EXAMPLE_S2_LEVELS 3
#endif
// 1: guests program their timer through Sstc (vstimecmp) instead of SBI
// set_timer arming a host timer.
#ifndef EXAMPLE_PASSTHROUGH_TIMER
#define EXAMPLE_PASSTHROUGH_TIMER 0
#endif
// 1: VM 0 is the Linux VM (README.md, "Booting Linux") instead of the test VM.
#ifndef EXAMPLE_VM_LINUX
#define EXAMPLE_VM_LINUX 0
#endif

namespace rv = axvcpu::riscv64;
using axvcpu::AxVCpuExitReason;
using axvcpu::GuestPhysAddr;
using axvcpu::HostPhysAddr;
using axvcpu::usize;
using example::Out;
using vmm::Dec;
using vmm::Hex;

extern "C" {
extern char __bss_start[], __bss_end[], __heap_start[];
// Per hart, its current-vCPU slot (HostApiPolicy's CurrentVCpuSlot); tp
// points at the hart's own entry, so the slot is one load or store away on
// every AxVCpu call. Zeroed with .bss, after _start set tp.
void* hart_slots[8];
// tp: this hart's entry of hart_slots (see hart_slot()).
register void** hart_slot_address asm("tp");
[[noreturn]] void hyp_main(std::uint64_t hartid, std::uint64_t fdt);
[[noreturn]] void hyp_secondary(std::uint64_t hartid);
void host_trap();
void _secondary_start();
void host_trap_entry();
}

// Entry from OpenSBI (a0 = hart id, a1 = FDT) and from SBI HSM hart_start
// for the other harts: a 16 KiB stack per hart, tp = &hart_slots[hart id]
// (see hart_id() below).
asm(R"(
.pushsection .text.entry, "ax", @progbits
.macro hyp_hart_entry main
    )" EXAMPLE_RV_HART_STACK R"(
    la tp, hart_slots
    slli t0, a0, 3
    add tp, tp, t0
    call \main
.endm
.globl _start
_start:
    hyp_hart_entry hyp_main
    # SBI hart_start takes a 4-byte aligned start address.
.balign 4
.globl _secondary_start
_secondary_start:
    hyp_hart_entry hyp_secondary
.purgem hyp_hart_entry
.popsection

.pushsection .text.host_trap, "ax", @progbits
.globl host_trap_entry
.balign 4
host_trap_entry:
    # Host interrupts arrive only in the VMM's idle windows; save what the
    # C++ handler may clobber.
    addi sp, sp, -128
    sd ra, 0(sp)
    sd t0, 8(sp)
    sd t1, 16(sp)
    sd t2, 24(sp)
    sd t3, 32(sp)
    sd t4, 40(sp)
    sd t5, 48(sp)
    sd t6, 56(sp)
    sd a0, 64(sp)
    sd a1, 72(sp)
    sd a2, 80(sp)
    sd a3, 88(sp)
    sd a4, 96(sp)
    sd a5, 104(sp)
    sd a6, 112(sp)
    sd a7, 120(sp)
    call host_trap
    ld ra, 0(sp)
    ld t0, 8(sp)
    ld t1, 16(sp)
    ld t2, 24(sp)
    ld t3, 32(sp)
    ld t4, 40(sp)
    ld t5, 48(sp)
    ld t6, 56(sp)
    ld a0, 64(sp)
    ld a1, 72(sp)
    ld a2, 80(sp)
    ld a3, 88(sp)
    ld a4, 96(sp)
    ld a5, 104(sp)
    ld a6, 112(sp)
    ld a7, 120(sp)
    addi sp, sp, 128
    sret
.popsection
)");

namespace {

constexpr usize max_harts = sizeof(hart_slots) / sizeof(hart_slots[0]);

// This hart's current-vCPU slot, and from its position the hart id. tp
// holds the slot's address (set at boot, never changed), so a read is one
// load off tp, and an ordinary one: the compiler orders it with the slot's
// stores and reloads it after anything that may write memory, as it must
// for a value that changes.
void*& hart_slot() { return *hart_slot_address; }
usize hart_id() { return static_cast<usize>(hart_slot_address - hart_slots); }

// The VMM numbers CPUs densely from the boot hart; OpenSBI may boot any hart.
usize host_harts = 1;
usize hart_of_cpu[max_harts]{};
usize cpu_of_hart[max_harts]{};

constexpr std::uint64_t echo_device = 0x0a000000;  // emulated, see README.md
// The host's scounteren (CY|TM): distinct from a vCPU's reset value (7) and
// from what the register guest writes (5), so a swap that lost it shows.
constexpr std::uint64_t host_scounteren = 0x3;
constexpr std::uint64_t frame_pool_end = 0x80800000;
constexpr rv::SetupConfig vcpu_setup{false, EXAMPLE_PASSTHROUGH_TIMER != 0};

// The Linux VM's interrupt controller: QEMU virt's PLIC, with two contexts
// per vCPU (plic::contexts_for) and the sources below 32.
using VirtualPlic = rv::VPlic<31, rv::plic::contexts_for(max_harts)>;

// The Linux VM's UART is the real one, passed through; its interrupt
// (host PLIC source 10) is forwarded to the same source of the VM's PLIC.
// The host claims it and does not complete it, so the physical PLIC sends
// no other until the guest has handled this one: each host claim is one
// edge on the VM's PLIC (VPlic::set_pending), and when the guest completes
// the source there, the host completes its claim, after which the PLIC
// raises it again if the UART still asks. (Completing at once would let
// the still-asserted line interrupt the host on every entry.)
class ForwardingPlic {
public:
    static constexpr usize source = example::uart_irq;

    std::optional<std::uint64_t> read(std::uint64_t offset, axvcpu::AccessWidth width) {
        return plic_.read(offset, width);
    }
    // A completion is the one write that ends the source's service.
    bool write(std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
        const bool was_in_service = plic_.in_service(source);
        const bool ok = plic_.write(offset, width, value);
        if (was_in_service && !plic_.in_service(source)) example::HostPlic::complete(claimed_on_, source);
        return ok;
    }
    // The host claimed the source on `hart`: an edge for the guest.
    void forward(usize hart) {
        claimed_on_ = hart;
        (void)plic_.set_pending(source);
    }
    void set_level(usize from, bool high) { plic_.set_level(from, high); }
    template <class Notify>
    void update_lines(Notify&& notify) {
        plic_.update_lines(static_cast<Notify&&>(notify));
    }

private:
    VirtualPlic plic_;
    usize claimed_on_ = 0;
};

#if EXAMPLE_VM_LINUX
// VM 0 as data: the Linux VM. 256 MiB of RAM (a stock kernel needs at least
// 128), the kernel Image at RAM + 2 MiB (its text_offset), the device tree
// in the last 2 MiB; the user places both, and the initramfs, with QEMU's
// loader. The PLIC is emulated and the 16550 passed through where QEMU virt
// has them, so the guest's tree can keep QEMU's shape.
constexpr std::uint64_t guest_ram_base = 0x9000'0000;
constexpr std::uint64_t guest_ram_size = 256 << 20;
constexpr std::uint64_t guest_entry = guest_ram_base + 0x20'0000;
constexpr std::uint64_t guest_dtb = guest_ram_base + guest_ram_size - (2 << 20);
constexpr axvcpu::VmMemConfig vm0_memory[] = {
    {guest_ram_base, guest_ram_size, 0x7, axvcpu::VmMemMappingType::MapIdentical}};
constexpr std::uint64_t guest_plic_base = 0x0c00'0000;
constexpr axvcpu::EmulatedDeviceConfig vm0_emulated[] = {
    {"plic", guest_plic_base, 0x60'0000, 0, axvcpu::EmulatedDeviceType::InterruptController, {}}};
constexpr axvcpu::PassThroughDeviceConfig vm0_passthrough[] = {
    {"uart", example::uart_base, example::uart_base, 0x1000, example::uart_irq}};
vmm::VmDescription vm0{.id = 0,
                       .name = "riscv64-linux",
                       .type = axvcpu::VMType::VMTLinux,
                       .vcpus = 1,
                       .entry = GuestPhysAddr(guest_entry),
                       .dtb = GuestPhysAddr(guest_dtb),
                       .memory = vm0_memory,
                       .passthrough = vm0_passthrough,
                       .emulated = vm0_emulated,
                       .user_dtb = true,
                       .test_guest = false};
#else
// VM 0 as data: the test VM, which gets a copy of the host's device tree.
constexpr std::uint64_t guest_ram_base = 0x88000000;
constexpr std::uint64_t guest_ram_size = 64 << 20;
constexpr std::uint64_t guest_dtb = guest_ram_base + guest_ram_size - (1 << 20);
constexpr axvcpu::VmMemConfig vm0_memory[] = {
    {guest_ram_base, guest_ram_size, 0x7, axvcpu::VmMemMappingType::MapIdentical}};
constexpr axvcpu::PassThroughDeviceConfig vm0_passthrough[] = {
    {"uart", example::uart_base, example::uart_base, 0x1000, 10}};
constexpr axvcpu::EmulatedDeviceConfig vm0_emulated[] = {
    {"echo", echo_device, vmm::EchoDevice::size, 0, axvcpu::EmulatedDeviceType::Dummy, {}}};
vmm::VmDescription vm0{.id = 0,
                       .name = "riscv64-test",
                       .type = axvcpu::VMType::VMTRTOS,
                       .vcpus = 1,
                       .entry = GuestPhysAddr(guest_ram_base),
                       .dtb = GuestPhysAddr(guest_dtb),
                       .memory = vm0_memory,
                       .passthrough = vm0_passthrough,
                       .emulated = vm0_emulated,
                       .test_guest = true};
#endif

[[noreturn]] void fail(std::uint32_t code, const char* why) {
    Out::println("RESULT: FAIL (", why, ")");
    example::qemu_exit(code);
}

// --- Host timers (TimeIf) -----------------------------------------------------
struct TimerSlot {
    std::uint64_t deadline_ticks = 0;
    axvcpu::TimerCallback callback = nullptr;  // none: a wake-up for a halted vCPU
    void* context = nullptr;
    axvcpu::CancelToken token = 0;
    usize hart = 0;
    bool active = false;
};
vmm::SpinLock timer_lock;
TimerSlot timer_slots[16];
axvcpu::CancelToken next_token = 1;
std::atomic<std::uint64_t> guest_timer_fires{0};

std::uint64_t rdtime() {
    std::uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

// Programs this hart's firmware timer for its earliest deadline (or none).
void reprogram_timer_locked() {
    std::uint64_t next = ~std::uint64_t{0};
    for (const TimerSlot& slot : timer_slots)
        if (slot.active && slot.hart == hart_id() && slot.deadline_ticks < next) next = slot.deadline_ticks;
    rv::sbi::ecall(rv::sbi::eid::time, rv::sbi::fid::time_set_timer, next);
}

axvcpu::CancelToken add_timer(std::uint64_t deadline_ticks, axvcpu::TimerCallback callback, void* context) {
    vmm::LockGuard guard(timer_lock);
    for (TimerSlot& slot : timer_slots) {
        if (slot.active) continue;
        const axvcpu::CancelToken token = next_token++;
        slot = TimerSlot{deadline_ticks, callback, context, token, hart_id(), true};
        reprogram_timer_locked();
        return token;
    }
    fail(20, "out of host timer slots");
}

// Cancelling a timer that already fired is a no-op.
void remove_timer(axvcpu::CancelToken token) {
    vmm::LockGuard guard(timer_lock);
    for (TimerSlot& slot : timer_slots)
        if (slot.active && slot.token == token) slot.active = false;
    reprogram_timer_locked();
}

void fire_expired_timers() {
    for (;;) {
        axvcpu::TimerCallback callback = nullptr;
        void* context = nullptr;
        bool expired = false;
        {
            vmm::LockGuard guard(timer_lock);
            const std::uint64_t now = rdtime();
            for (TimerSlot& slot : timer_slots) {
                if (slot.active && slot.hart == hart_id() && slot.deadline_ticks <= now) {
                    slot.active = false;
                    callback = slot.callback;
                    context = slot.context;
                    expired = true;
                    break;
                }
            }
            if (!expired) reprogram_timer_locked();
        }
        if (!expired) return;
        if (callback != nullptr) callback(context, rdtime() * 100);
    }
}

// A halted Sstc vCPU's timer fires in vstimecmp, which the host does not
// see: one host timer per hart wakes the hart at that deadline.
axvcpu::CancelToken wake_up_token[max_harts]{};
// How often a hart polls for a passed deadline's VSTIP (10 MHz ticks).
constexpr std::uint64_t sstc_poll_ticks = 100;

// --- The host policy --------------------------------------------------------------
struct Board;
using Vmm = vmm::Vmm<Board>;
// Vmm::expect_published, once Board is complete.
void expect_published(const char* where);

struct Host : vmm::HostApi<Board> {
    static void notify_vcpu_timer_expired(axvcpu::VMId, axvcpu::VCpuId) { guest_timer_fires.fetch_add(1); }

    // TimeIf: the time CSR at QEMU virt's 10 MHz.
    static std::uint64_t current_ticks() { return rdtime(); }
    static std::uint64_t ticks_to_nanos(std::uint64_t ticks) {
        return ticks > ~std::uint64_t{0} / 100 ? ~std::uint64_t{0} : ticks * 100;
    }
    static std::uint64_t nanos_to_ticks(std::uint64_t nanos) { return nanos / 100; }
    static axvcpu::CancelToken register_timer(std::uint64_t deadline_nanos, axvcpu::TimerCallback callback,
                                              void* context) {
        expect_published("register_timer");
        return add_timer(nanos_to_ticks(deadline_nanos), callback, context);
    }
    static void cancel_timer(axvcpu::CancelToken token) {
        expect_published("cancel_timer");
        remove_timer(token);
    }

    // CurrentVCpuSlot: one per hart, at tp.
    static void* current_vcpu_slot() { return hart_slot(); }
    static void set_current_vcpu_slot(void* vcpu) { hart_slot() = vcpu; }
};

using VCpu = axvcpu::AxVCpu<rv::VCpu<Host>, Host>;

// Let the host's own handler take what is pending (timers, IPIs).
void open_interrupt_window() {
    rv::csr::set<rv::csr::sstatus>(rv::csr::sstatus_bits::sie);
    asm volatile("nop");
    rv::csr::clear<rv::csr::sstatus>(rv::csr::sstatus_bits::sie);
}

// --- What only the riscv64 test guests ask for ----------------------------------
struct TestProbes {
    // hc::expect_resume: the next Halt must be a non-retentive suspend that
    // resumes at resume_addr with this opaque.
    bool expect_resume = false;
    std::uint64_t resume_addr = 0, resume_opaque = 0, resumes_seen = 0;
    // hc::interleave: a vCPU of another VM takes the hart between two runs
    // (set by one hart's guest, read by every hart's run loop).
    std::atomic<bool> interleave{false};
    std::uint64_t hart_shares = 0;
};
TestProbes probes;

void check_non_retentive_resume(VCpu& vcpu);
void check_last_trap(VCpu& vcpu, const AxVCpuExitReason& reason);
void share_hart_with_other_vm(VCpu& vcpu);
void run_bench_loop(VCpu& vcpu, const std::array<std::uint8_t, vmm::EchoDevice::size>& echo);

struct Board {
    using Host = ::Host;
    using Arch = rv::VCpu<Host>;
    using Devices = vmm::DeviceTable<2, vmm::EchoDevice, ForwardingPlic>;
    static constexpr usize max_cpus = max_harts;
    static constexpr usize max_vcpus_per_vm = max_harts;
    // A Linux guest makes thousands of exits: only their summary is printed.
    static constexpr bool trace_exits = vmm::options::trace && EXAMPLE_VM_LINUX == 0;

    static void putc(char c) { example::Uart::putc(c); }
    static usize cpu_index() { return cpu_of_hart[hart_id()]; }
    static void kick(usize cpu) {
        rv::sbi::ecall(rv::sbi::eid::ipi, rv::sbi::fid::ipi_send_ipi, std::uint64_t{1} << hart_of_cpu[cpu], 0);
    }
    static void idle() {
        asm volatile("wfi");
        open_interrupt_window();
    }
    [[noreturn]] static void exit(std::uint32_t code) { example::qemu_exit(code); }

    static std::optional<HostPhysAddr> build_stage2(const vmm::VmDescription& vm) {
        const rv::stage2::Layout layout{EXAMPLE_S2_LEVELS};
        const auto root = Host::alloc_contiguous_frames(layout.root_pages, layout.root_align_log2);
        if (!root) return std::nullopt;
        rv::stage2::Mapper mapper(layout, root->value(), &Host::alloc_table, &Host::table_at);
        if (!vmm::map_guest_memory(mapper, vm)) return std::nullopt;
        return *root;
    }
    static bool add_device(Devices& devices, const axvcpu::EmulatedDeviceConfig& config) {
        const GuestPhysAddr base(config.base_gpa);
        if (config.name == "echo") return devices.add<vmm::EchoDevice>(base, config.length);
        if (config.name == "plic") return devices.add<ForwardingPlic>(base, config.length);
        return false;
    }
    // PLIC context 2n+1 is vCPU n's supervisor external interrupt (VSEIP).
    static std::optional<usize> irq_output_vcpu(usize context) { return rv::plic::vcpu_of_context(context); }
    static void set_irq_line(VCpu& vcpu, bool level) {
        if (level) {
            (void)vcpu.inject_interrupt(rv::irq::supervisor_external);
        } else {
            (void)vcpu.arch_vcpu().clear_interrupt(rv::irq::supervisor_external);
        }
    }
    static rv::CreateConfig create_config(const vmm::VmDescription& vm, usize id) {
        return rv::CreateConfig{id, vm.dtb, EXAMPLE_S2_LEVELS};
    }
    static rv::SetupConfig setup_config(const vmm::VmDescription&) { return vcpu_setup; }
    // A hart started with hart_start: a0 = its hart id, a1 = opaque.
    // SBI hart_start: the state a started hart has (a stopped one would
    // keep its own), a0 = hart id, a1 = opaque.
    static bool set_boot_arguments(VCpu& vcpu, std::uint64_t opaque) {
        return vcpu.arch_vcpu().reset_for_cpu_up() && vcpu.set_gpr(10, vcpu.id()) && vcpu.set_gpr(11, opaque);
    }
    static std::uint64_t cpu_up_status(vmm::CpuUpStatus status) {
        switch (status) {
            case vmm::CpuUpStatus::Started: return 0;
            case vmm::CpuUpStatus::AlreadyOn: return static_cast<std::uint64_t>(rv::sbi::err::already_available);
            case vmm::CpuUpStatus::InvalidTarget: return static_cast<std::uint64_t>(rv::sbi::err::invalid_param);
            case vmm::CpuUpStatus::InvalidAddress: return static_cast<std::uint64_t>(rv::sbi::err::invalid_address);
            case vmm::CpuUpStatus::Failed: break;
        }
        return static_cast<std::uint64_t>(rv::sbi::err::failed);
    }
    static std::uint64_t loaded_value(const axvcpu::exit::MmioRead& read, std::uint64_t raw) {
        return rv::mmio_load_value(read, raw);
    }
    // The guest gets an access fault at the instruction, with stval = the
    // GPA, as on a machine with nothing there.
    static bool reflect_fault(VCpu& vcpu, std::uint32_t access, GuestPhysAddr gpa) {
        const std::uint64_t cause = (access & axvcpu::MappingFlags::WRITE) != 0     ? rv::cause::store_access_fault
                                    : (access & axvcpu::MappingFlags::EXECUTE) != 0 ? rv::cause::instruction_access_fault
                                                                                   : rv::cause::load_access_fault;
        return vcpu.arch_vcpu().inject_exception(cause, gpa.value()).has_value();
    }
    // riscv64 guests trap no system registers to the VMM.
    static std::optional<std::uint64_t> sysreg_read(VCpu&, axvcpu::SysRegAddr) { return std::nullopt; }
    static bool sysreg_write(VCpu&, axvcpu::SysRegAddr, std::uint64_t) { return false; }
    // The host handler takes it (a timer or a kick) in the window.
    static void external_interrupt(VCpu&, usize) { open_interrupt_window(); }
    static bool interrupt_pending(VCpu& vcpu) {
        if ((rv::csr::read<rv::csr::hip>() & rv::csr::hvip_bits::all) != 0) return true;
        if constexpr (EXAMPLE_PASSTHROUGH_TIMER != 0) {
            // The hart wakes at the guest's deadline. A deadline that has
            // passed is not pending until QEMU's timer thread raises VSTIP,
            // a few microseconds after rdtime passes it; until then the
            // hart polls. Resuming the guest earlier lets that late raise
            // land after the guest's handler has moved the deadline, as a
            // second, spurious timer interrupt (found by the chaos guest on
            // hyp-sstc.elf).
            const std::uint64_t deadline = rv::csr::read<rv::csr::vstimecmp>();
            const usize hart = hart_id();
            if (wake_up_token[hart] != 0) remove_timer(wake_up_token[hart]);
            wake_up_token[hart] = 0;
            if (deadline != ~std::uint64_t{0}) {
                // vstimecmp counts guest time, the host's time plus htimedelta.
                const std::uint64_t now = rdtime();
                const std::uint64_t host_deadline = deadline - rv::csr::read<rv::csr::htimedelta>();
                wake_up_token[hart] = add_timer(now >= host_deadline ? now + sstc_poll_ticks : host_deadline, nullptr,
                                                nullptr);
            }
        }
        (void)vcpu;
        return false;
    }
    // SBI system_reset: type shutdown with reason "no reason" is success.
    // SRST's type and reason; the legacy shutdown (EID in a7, still as the
    // guest made the call) has no arguments, so no status.
    static std::optional<std::uint64_t> power_off_status(VCpu& vcpu) {
        if (vcpu.arch_vcpu().gpr(17) == rv::sbi::eid::legacy_shutdown) return std::nullopt;
        const std::uint64_t type = vcpu.arch_vcpu().gpr(10), reason = vcpu.arch_vcpu().gpr(11);
        if (type == rv::sbi::reset_type::shutdown && reason == 0) return 0;
        return type << 32 | reason | 1;
    }
    static vmm::HypercallAnswer hypercall(VCpu& vcpu, const axvcpu::exit::Hypercall& call);
    static std::uint64_t timer_fires() {
        return EXAMPLE_PASSTHROUGH_TIMER ? ~std::uint64_t{0} : guest_timer_fires.load();
    }
    // The riscv64 test guests check themselves and name no test.
    static const char* test_name(std::uint64_t) { return "unknown"; }
    static bool test_checks(std::uint64_t) { return true; }
    static void run_failed(VCpu& vcpu, axvcpu::AxError) {
        Out::println("vmm: riscv64 trap at the failed run: ", vcpu.arch_vcpu().last_trap());
    }
    static void before_entry(VCpu& vcpu) {
        if (probes.interleave.load(std::memory_order_relaxed)) share_hart_with_other_vm(vcpu);
    }
    static void after_exit(VCpu& vcpu, const AxVCpuExitReason& reason) {
        // The host's own sret must not enter the guest (context.hpp,
        // HypervisorStatus).
        if ((rv::csr::read<rv::csr::hstatus>() & rv::csr::hstatus_bits::spv) != 0)
            fail(21, "hstatus.SPV still set after an exit");
        check_last_trap(vcpu, reason);
        if (reason.is<axvcpu::exit::Halt>() && probes.expect_resume) check_non_retentive_resume(vcpu);
    }
};

vmm::HypercallAnswer Board::hypercall(VCpu& vcpu, const axvcpu::exit::Hypercall& call) {
    namespace hc = vmm::hypercall;
    switch (call.nr) {
        case hc::interleave: probes.interleave.store(call.args[0] != 0, std::memory_order_relaxed); return vmm::HypercallAnswer::of(0);
        case hc::bench_begin:
            run_bench_loop(vcpu, Vmm::vm(0)->devices.find_model<vmm::EchoDevice>(GuestPhysAddr(echo_device))->bytes());
            return vmm::HypercallAnswer::of(0);
        // Console input never exits: compare the guest's count with what
        // the policy delivered.
        case hc::console_bytes: {
            const std::uint64_t seen = vcpu.arch_vcpu().console_bytes_read();
            Out::println("vmm: console bytes read: guest ", Dec{call.args[0]}, ", policy ", Dec{seen});
            const bool same = seen == call.args[0] && seen != 0;
            if (!same) Vmm::failed("console byte counts differ");
            return vmm::HypercallAnswer::of(same ? 0 : 1);
        }
        case hc::expect_resume:
            probes.expect_resume = true;
            probes.resume_addr = call.args[0];
            probes.resume_opaque = call.args[1];
            return vmm::HypercallAnswer::of(0);
        case hc::resumes_seen: return vmm::HypercallAnswer::of(probes.resumes_seen);
        // The guest claims its external interrupt (what a virtual PLIC's
        // claim register would do).
        case hc::ack_external:
            return vmm::HypercallAnswer::of(vcpu.arch_vcpu().clear_interrupt(rv::irq::supervisor_external) ? 0 : 1);
        default: return vmm::HypercallAnswer::unknown();
    }
}

static_assert(axvcpu::api::check_host_api<Host>());

void expect_published(const char* where) { Vmm::expect_published(where); }

// A vCPU of a second VM (its own VMID, all-zero VS CSRs) that takes this
// hart between two runs of the guest's vCPU, the way a scheduler would:
// the guest only keeps working if unbind/bind saved and restored its VS
// CSRs, pending virtual interrupts and stage-2 context. It never runs a
// guest, so it is not in the VMM's VM table. One per hart: vCPUs of an SMP
// guest interleave on their harts at the same time, and a vCPU is bound to
// one hart at a time.
vmm::StaticSlot<VCpu> other_vm_vcpu[max_harts];
// Out of line: creating a VCpu needs a large stack frame, which the run
// loop should not carry.
[[gnu::noinline]] void share_hart_with_other_vm(VCpu& vcpu) {
    vmm::StaticSlot<VCpu>& slot = other_vm_vcpu[hart_id()];
    if (slot.get() == nullptr) {
        auto created = VCpu::create(1, 0, hart_id(), std::nullopt, rv::CreateConfig{0, GuestPhysAddr(0), EXAMPLE_S2_LEVELS});
        if (!created) fail(18, "second VM vCPU create failed");
        VCpu& other = slot.emplace(std::move(created).value());
        if (!other.setup(GuestPhysAddr(guest_ram_base), Vmm::vm(0)->stage2_root, vcpu_setup))
            fail(18, "second VM vCPU setup failed");
    }
    VCpu& other = *slot;
    // One bound vCPU per hart: the policy refuses a second (through the
    // arch call, which leaves the state machine alone).
    if (const auto second = other.arch_vcpu().bind(); second || second.error() != axvcpu::AxError::BadState)
        fail(19, "a second vCPU was bound on a hart with one bound");
    if (!vcpu.unbind()) fail(19, "unbinding the guest's vCPU for the second VM failed");
    // The host's hstatus while no vCPU is bound, which each unbind must
    // give back; its scounteren and senvcfg are those it set at boot.
    const std::uint64_t host_hstatus = rv::csr::read<rv::csr::hstatus>();
    if (rv::csr::read<rv::csr::scounteren>() != host_scounteren || rv::csr::read<rv::csr::senvcfg>() != 0)
        fail(19, "unbinding the guest's vCPU did not give the host its scounteren/senvcfg back");
    if ((host_hstatus & rv::csr::hstatus_bits::spv) != 0) fail(19, "the host's hstatus has SPV set");
    if (EXAMPLE_PASSTHROUGH_TIMER && rv::csr::read<rv::csr::vstimecmp>() != ~std::uint64_t{0})
        fail(19, "the unbound guest's vstimecmp stayed on the hart");
    // The policy itself refuses to run an unbound vCPU (its hgatp is not on
    // the hart), even when AxVCpu's state machine is told it is Ready.
    vcpu.set_state_unchecked(axvcpu::VCpuState::Ready);
    const auto refused = vcpu.run();
    if (refused || refused.error() != axvcpu::AxError::BadState) fail(19, "an unbound vCPU ran");
    vcpu.set_state_unchecked(axvcpu::VCpuState::Free);
    if (!other.bind()) fail(19, "binding the second VM's vCPU failed");
    if (rv::csr::read<rv::csr::vstvec>() != 0 || (rv::csr::read<rv::csr::hgatp>() >> 44 & 0x3fff) != 1)
        fail(19, "second VM's context not loaded");
    // A vCPU that never ran: its hstatus as setup() made it, SPV clear.
    const std::uint64_t fresh_hstatus = rv::csr::hstatus_bits::spvp | rv::csr::hstatus_bits::vsxl_64 |
                                        (axvcpu::config::trap_wfi ? rv::csr::hstatus_bits::vtw : 0);
    if (rv::csr::read<rv::csr::hstatus>() != fresh_hstatus) fail(19, "second VM's hstatus not loaded");
    // It never wrote scounteren or senvcfg: their reset values, whatever
    // the guest set.
    if (rv::csr::read<rv::csr::scounteren>() != rv::csr::scounteren_guest_reset ||
        rv::csr::read<rv::csr::senvcfg>() != 0)
        fail(19, "second VM's scounteren/senvcfg not loaded");
    if (!other.unbind()) fail(19, "unbinding the second VM's vCPU failed");
    if (rv::csr::read<rv::csr::hstatus>() != host_hstatus) fail(19, "unbind did not give the host its hstatus back");
    if (rv::csr::read<rv::csr::scounteren>() != host_scounteren || rv::csr::read<rv::csr::senvcfg>() != 0)
        fail(19, "unbind did not give the host its scounteren/senvcfg back");
    if (!vcpu.bind()) fail(19, "switching back failed");
    ++probes.hart_shares;
}

// After a hypercall or MMIO exit, last_trap() must describe that exit's
// trap (the policy derives part of it for its fast paths).
void check_last_trap(VCpu& vcpu, const AxVCpuExitReason& reason) {
    const rv::TrapRecord trap = vcpu.arch_vcpu().last_trap();
    const std::uint64_t advanced = vcpu.arch_vcpu().guest_context().sepc - trap.sepc;
    const auto access_ok = [&](std::uint64_t scause, GuestPhysAddr addr) {
        return trap.scause == scause && (advanced == 2 || advanced == 4) &&
               rv::guest_fault_address(trap.stval, trap.htval) == addr;
    };
    bool ok = true;
    if (reason.is<axvcpu::exit::Hypercall>()) {
        ok = trap.scause == rv::cause::ecall_from_vs && advanced == 4 && trap.stval == 0 && trap.htval == 0 &&
             trap.htinst == 0;
    } else if (const auto* read = reason.get_if<axvcpu::exit::MmioRead>()) {
        ok = access_ok(rv::cause::load_guest_page_fault, read->addr);
    } else if (const auto* write = reason.get_if<axvcpu::exit::MmioWrite>()) {
        ok = access_ok(rv::cause::store_guest_page_fault, write->addr);
    }
    if (!ok) {
        Out::println("vmm: last_trap() does not match ", reason, ": ", trap);
        Vmm::failed("last_trap() record");
    }
}

// The Halt of a non-retentive suspend must already hold the fresh-start
// state the guest resumes with (README.md).
void check_non_retentive_resume(VCpu& vcpu) {
    probes.expect_resume = false;
    const auto& arch = vcpu.arch_vcpu();
    const bool ok = arch.guest_context().sepc == probes.resume_addr && arch.gpr(10) == vcpu.id() &&
                    arch.gpr(11) == probes.resume_opaque && rv::csr::read<rv::csr::vsatp>() == 0 &&
                    (rv::csr::read<rv::csr::vsstatus>() & rv::csr::sstatus_bits::sie) == 0;
    Out::println("vmm: non-retentive suspend: resumes at ", Hex{arch.guest_context().sepc}, ", a1 ",
                 Hex{arch.gpr(11)}, ok ? "" : " (WRONG)");
    if (ok) {
        ++probes.resumes_seen;
    } else {
        Vmm::failed("non-retentive suspend state");
    }
}

// The benchmark's VMM loop (bench.sh): the same work as the hand-written
// loop in bench_raw.cpp, done through the public API, so the difference in
// instructions is what the library costs. Out of line, like raw_main's
// loop, so it has a frame of its own.
[[gnu::noinline]] void run_bench_loop(VCpu& vcpu, const std::array<std::uint8_t, vmm::EchoDevice::size>& echo) {
    (void)vcpu.set_return_value(0);
    for (;;) {
        auto result = vcpu.run();
        if (!result) fail(22, "run failed in the benchmark loop");
        const AxVCpuExitReason& reason = result.value();
        if (const auto* call = reason.get_if<axvcpu::exit::Hypercall>()) {
            if (call->nr == vmm::hypercall::sum) {
                const auto& a = call->args;
                (void)vcpu.set_return_value(a[0] + a[1] + a[2] + a[3] + a[4] + a[5]);
                continue;
            }
            if (call->nr == vmm::hypercall::inject) {
                (void)vcpu.set_return_value(0);
                (void)vcpu.inject_interrupt(call->args[0]);
                continue;
            }
            if (call->nr == vmm::hypercall::bench_end) return;
        } else if (const auto* read = reason.get_if<axvcpu::exit::MmioRead>()) {
            // The device read exactly as bench_raw.cpp does it (8 bytes);
            // mmio_load_value keeps the bytes the access width asks for.
            std::uint64_t raw = 0;
            for (unsigned i = 0; i < 8; ++i)
                raw |= std::uint64_t{echo[(read->addr.value() - echo_device + i) & (vmm::EchoDevice::size - 1)]} << (8 * i);
            (void)vcpu.set_gpr(read->reg, rv::mmio_load_value(*read, raw));
            continue;
        }
        fail(22, "unexpected exit in the benchmark loop");
    }
}

// Bad input to the policy gets a clear error, on the real hart too, and
// leaves the vCPU usable where the state machine says so. On a vCPU of its
// own, which no VM owns.
vmm::StaticSlot<VCpu> probe_vcpu;
void check_policy_input_errors() {
    const auto expect = [](bool refused, const char* what) {
        if (!refused) fail(23, what);
    };
    expect(VCpu::create(0, 9, 0, std::nullopt, rv::CreateConfig{0, GuestPhysAddr(0), 5}).error() ==
               axvcpu::AxError::InvalidInput,
           "create accepted 5 page-table levels");
    auto created = VCpu::create(9, 0, 0, std::nullopt, rv::CreateConfig{0, GuestPhysAddr(0), EXAMPLE_S2_LEVELS});
    if (!created) fail(23, "probe vCPU create failed");
    VCpu& probe = probe_vcpu.emplace(std::move(created).value());
    auto& arch = probe.arch_vcpu();
    const HostPhysAddr root = Vmm::vm(0)->stage2_root;
    expect(arch.set_ept_root(HostPhysAddr(root.value() + 4096)).error() == axvcpu::AxError::InvalidInput,
           "set_ept_root accepted a root that is not 16 KiB aligned");
    expect(arch.set_entry(GuestPhysAddr(guest_ram_base + 1)).error() == axvcpu::AxError::InvalidInput,
           "set_entry accepted an odd entry point");
    expect(arch.setup(rv::SetupConfig{true, false}).error() == axvcpu::AxError::Unsupported,
           "setup accepted interrupt passthrough");
    probe.set_state_unchecked(axvcpu::VCpuState::Ready);  // past the state machine: the policy's own check
    expect(probe.run().error() == axvcpu::AxError::BadState, "run on an unbound vCPU");
    probe.set_state_unchecked(axvcpu::VCpuState::Created);
    expect(arch.unbind().error() == axvcpu::AxError::BadState, "unbind of an unbound vCPU");
    expect(probe.inject_interrupt(3).error() == axvcpu::AxError::InvalidInput, "inject of vector 3");
    expect(probe.set_gpr(32, 0).error() == axvcpu::AxError::InvalidInput, "set_gpr(32)");
    expect(probe.state() == axvcpu::VCpuState::Created, "probe vCPU not left Created by refused calls");
    Out::println("vmm: policy input checks: every bad request refused");
}

vmm::StaticSlot<axvcpu::AxPerCpu<rv::PerCpu>> percpu[max_harts];

void enable_virtualization(usize hart) {
    auto& cpu = percpu[hart].emplace();
    if (!cpu.init(hart) || !cpu.hardware_enable() || !cpu.is_enabled()) fail(10, "hardware_enable failed");
    // Prove the off switch really turns it off, then turn it back on.
    if (!cpu.hardware_disable() || cpu.is_enabled() || rv::csr::read<rv::csr::hideleg>() != 0)
        fail(11, "hardware_disable did not disable");
    if (!cpu.hardware_enable() || !cpu.is_enabled()) fail(12, "hardware_enable failed again");
    // The host's own scounteren (cycle and time for a U-mode it does not
    // have), unlike a vCPU's (7): the hart-sharing probe checks every
    // unbind gives exactly this back.
    rv::csr::write<rv::csr::scounteren>(host_scounteren);
    Out::println("[hart ", Dec{hart}, "] virtualization on (hedeleg ", Hex{rv::csr::read<rv::csr::hedeleg>()},
                 ", hideleg ", Hex{rv::csr::read<rv::csr::hideleg>()}, ")");
}

void host_trap_setup() {
    rv::csr::write<rv::csr::stvec>(reinterpret_cast<std::uint64_t>(&host_trap_entry));
    // Timer, software and (the Linux VM's UART) external interrupts; taken
    // only in the idle windows.
    rv::csr::write<rv::csr::sie>((1u << 1) | (1u << 5) | (EXAMPLE_VM_LINUX ? 1u << 9 : 0u));
}

// The Linux VM's UART interrupt, taken on the boot hart through the host
// PLIC and forwarded to the VM's PLIC (ForwardingPlic; README.md). The
// guest's driver programs the UART itself.
void route_uart_interrupt(usize hart) {
    if constexpr (EXAMPLE_VM_LINUX != 0) example::HostPlic::route_to(example::uart_irq, hart);
    (void)hart;
}

// Whether the source went to the guest, which completes it; if not (no VM
// yet), the host completes it.
bool forward_uart_interrupt() {
#if EXAMPLE_VM_LINUX
    Vmm::Vm* vm = Vmm::vm(0);
    return vm != nullptr && Vmm::with_device<ForwardingPlic>(*vm, GuestPhysAddr(guest_plic_base),
                                                             [](ForwardingPlic& plic) { plic.forward(hart_id()); });
#else
    return false;
#endif
}

std::atomic<std::uint32_t> harts_ready{0};

#if EXAMPLE_VM_LINUX
// The user placed the guest's own device tree (README.md): it is never
// overwritten.
void prepare_guest_dtb(std::uint64_t) {}
#else
// The test guests get a copy of the host's device tree (README.md).
void prepare_guest_dtb(std::uint64_t fdt) {
    const auto* header = reinterpret_cast<const std::uint8_t*>(fdt);
    const std::uint32_t fdt_size = std::uint32_t{header[4]} << 24 | std::uint32_t{header[5]} << 16 |
                                   std::uint32_t{header[6]} << 8 | header[7];
    if (fdt_size > (1u << 20)) fail(14, "device tree too large");
    for (std::uint32_t i = 0; i < fdt_size; ++i) reinterpret_cast<std::uint8_t*>(guest_dtb)[i] = header[i];
}
#endif

}  // namespace

extern "C" void host_trap() {
    const std::uint64_t scause = rv::csr::read<rv::csr::scause>();
    const rv::Trap trap = rv::classify_scause(scause);
    if (trap.interrupt && trap.code == rv::irq::supervisor_timer) {
        fire_expired_timers();
    } else if (trap.interrupt && trap.code == rv::irq::supervisor_software) {
        rv::csr::clear<rv::csr::sip>(1u << 1);  // the kick itself carries no data
    } else if (trap.interrupt && trap.code == rv::irq::supervisor_external) {
        for (std::uint32_t source; (source = example::HostPlic::claim(hart_id())) != 0;) {
            if (source == example::uart_irq && forward_uart_interrupt()) continue;
            example::HostPlic::complete(hart_id(), source);
        }
    } else {
        Out::println("[hart ", Dec{hart_id()}, "] host trap scause=", Hex{scause}, " sepc=",
                     Hex{rv::csr::read<rv::csr::sepc>()}, " stval=", Hex{rv::csr::read<rv::csr::stval>()});
        fail(13, "unexpected host trap");
    }
}

// The hart that runs hyp_main; none (all ones) until one claims it. In
// .data, not .bss: hyp_main reads it before clearing .bss.
std::atomic<std::uint64_t> boot_hart{~std::uint64_t{0}};

extern "C" void hyp_main(std::uint64_t hartid, std::uint64_t fdt) {
    // OpenSBI 1.1 marks a hart START_PENDING before it stores hart_start's
    // address, so a started hart can leave the firmware with the boot
    // entry (this _start and the FDT) instead (seen 1 boot in ~40 with
    // -smp 2). Only the first hart here boots; a later one was started by
    // the boot hart's hart_start, after everything it needs was set up.
    std::uint64_t none = ~std::uint64_t{0};
    if (!boot_hart.compare_exchange_strong(none, hartid)) hyp_secondary(hartid);
    for (char* p = __bss_start; p < __bss_end; ++p) *p = 0;
    host_trap_setup();
    Out::println("axvcpu-riscv64 example hypervisor on hart ", Dec{hartid}, ", fdt ", Hex{fdt}, ", timer ",
                 EXAMPLE_PASSTHROUGH_TIMER ? "Sstc passthrough" : "SBI via host timers", ", stage 2 Sv",
                 Dec{EXAMPLE_S2_LEVELS == 4 ? 48 : 39}, "x4");
    enable_virtualization(hartid);

    // The harts that exist: HSM answers for them, errors for the others.
    host_harts = 0;
    hart_of_cpu[host_harts++] = hartid;
    for (usize h = 0; h < max_harts; ++h)
        if (h != hartid && rv::sbi::ecall(rv::sbi::eid::hsm, rv::sbi::fid::hsm_hart_get_status, h).error == 0)
            hart_of_cpu[host_harts++] = h;
    for (usize cpu = 0; cpu < host_harts; ++cpu) cpu_of_hart[hart_of_cpu[cpu]] = cpu;
    Vmm::init(reinterpret_cast<std::uintptr_t>(__heap_start), frame_pool_end - reinterpret_cast<std::uintptr_t>(__heap_start),
              host_harts);

    prepare_guest_dtb(fdt);
    route_uart_interrupt(hartid);

    vm0.vcpus = host_harts < vmm::options::vcpus ? host_harts : vmm::options::vcpus;
    auto* vm = Vmm::create_vm(vm0);
    if (vm == nullptr) fail(15, "VM 0 cannot be created");
    check_policy_input_errors();

    for (usize cpu = 1; cpu < host_harts; ++cpu) {
        const auto started = rv::sbi::ecall(rv::sbi::eid::hsm, rv::sbi::fid::hsm_hart_start, hart_of_cpu[cpu],
                                            reinterpret_cast<std::uint64_t>(&_secondary_start), 0);
        if (started.error != 0) fail(16, "could not start a secondary hart");
    }
    // Secondary harts must be serving before a CpuUp kicks them.
    while (harts_ready.load() + 1 < host_harts) {
    }
    if (!Vmm::start(*vm, 0)) fail(17, "vCPU 0 cannot be started");
    Vmm::serve();
}

extern "C" void hyp_secondary(std::uint64_t hartid) {
    host_trap_setup();
    enable_virtualization(hartid);
    harts_ready.fetch_add(1);
    Vmm::serve();
}

// What Boost.Outcome's terminate policy and assert() call on misuse.
extern "C" [[noreturn]] void abort() { fail(98, "abort"); }
extern "C" [[noreturn]] void __assert_fail(const char* expr, const char* file, unsigned line, const char*) {
    Out::println("assertion failed: ", expr, " at ", file, ":", Dec{line});
    example::qemu_exit(97);
}
