// The riscv64 example hypervisor: boots from OpenSBI in HS-mode, runs one
// VM whose image QEMU's generic loader placed at guest-physical 0x88000000,
// with one vCPU per hart (up to EXAMPLE_VCPUS), and prints every exit.
//
// It uses the library only through its public API: AxPerCpu<riscv64::PerCpu>
// per hart, AxVCpu<riscv64::VCpu<Host>, Host> per vCPU, and a HostApiPolicy
// (Host, below) that supplies time, memory, the VMM queries and the
// current-vCPU slot. The guest-visible contract is in README.md.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>

#include "arch/riscv64/percpu.hpp"
#include "arch/riscv64/stage2.hpp"
#include "arch/riscv64/vcpu.hpp"
#include "axvcpu/axvcpu.hpp"
#include "platform.hpp"

#ifndef EXAMPLE_VCPUS
#define EXAMPLE_VCPUS 2
#endif
#ifndef EXAMPLE_S2_LEVELS
#define EXAMPLE_S2_LEVELS 3
#endif
// 1: guests program their timer through Sstc (vstimecmp) instead of SBI
// set_timer arming a host timer.
#ifndef EXAMPLE_PASSTHROUGH_TIMER
#define EXAMPLE_PASSTHROUGH_TIMER 0
#endif

namespace rv = axvcpu::riscv64;
using axvcpu::AxVCpuExitReason;
using axvcpu::GuestPhysAddr;
using axvcpu::HostPhysAddr;
using axvcpu::usize;
using example::Dec;
using example::Hex;
using example::print;

extern "C" {
extern char __bss_start[], __bss_end[], __heap_start[];
// Per hart, its current-vCPU slot (HostApiPolicy's CurrentVCpuSlot); tp
// points at the hart's own entry, so the slot is one load or store away on
// every AxVCpu call. Zeroed with .bss, after _start set tp.
void* hart_slots[8];
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

// This hart's current-vCPU slot, and from its position the hart id.
void*& hart_slot() {
    void** slot;
    asm("mv %0, tp" : "=r"(slot));
    return *slot;
}
usize hart_id() { return static_cast<usize>(&hart_slot() - hart_slots); }
constexpr std::uint64_t guest_ram_base = 0x88000000;
constexpr std::uint64_t guest_ram_size = 64 << 20;
constexpr std::uint64_t guest_entry = guest_ram_base;
constexpr std::uint64_t guest_dtb = guest_ram_base + guest_ram_size - (1 << 20);
constexpr std::uint64_t echo_device = 0x0a000000;  // emulated, see README.md
constexpr std::uint64_t echo_size = 16;
constexpr rv::SetupConfig vcpu_setup{false, EXAMPLE_PASSTHROUGH_TIMER != 0};

// Objects with destructors must not be static in a kernel without atexit:
// placement-new them into raw storage that is never torn down.
template <class T>
class Uninit {
public:
    template <class... Args>
    T& emplace(Args&&... args) {
        return *new (storage_) T(static_cast<Args&&>(args)...);
    }
    T& operator*() { return *std::launder(reinterpret_cast<T*>(storage_)); }
    T* operator->() { return &**this; }

private:
    alignas(T) unsigned char storage_[sizeof(T)];
};

[[noreturn]] void fail(std::uint32_t code, const char* why) {
    print("axvcpu-riscv64: FAIL (", why, ")\n");
    example::qemu_exit(code);
}

// --- Host timers (TimeIf) -----------------------------------------------------
struct TimerSlot {
    std::uint64_t deadline_ticks = 0;
    axvcpu::TimerCallback callback = nullptr;
    void* context = nullptr;
    axvcpu::CancelToken token = 0;
    usize hart = 0;
    bool active = false;
};
example::SpinLock timer_lock;
TimerSlot timer_slots[16];
axvcpu::CancelToken next_token = 1;

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

void fire_expired_timers() {
    for (;;) {
        axvcpu::TimerCallback callback = nullptr;
        void* context = nullptr;
        timer_lock.lock();
        const std::uint64_t now = rdtime();
        for (TimerSlot& slot : timer_slots) {
            if (slot.active && slot.hart == hart_id() && slot.deadline_ticks <= now) {
                slot.active = false;
                callback = slot.callback;
                context = slot.context;
                break;
            }
        }
        if (callback == nullptr) reprogram_timer_locked();
        timer_lock.unlock();
        if (callback == nullptr) return;
        callback(context, now * 100);
    }
}

// --- The VM -----------------------------------------------------------------
struct VmState {
    usize vcpu_count = 1;
    usize vcpu_hart[max_harts]{};
    std::atomic<std::uint64_t> active{0};         // vCPUs started (HSM "started")
    std::atomic<std::uint64_t> pending[max_harts]{};  // interrupt vectors to inject, one bit each
    std::atomic<std::uint32_t> start_request[max_harts]{};  // word-sized: no byte AMOs
    std::atomic<std::uint64_t> exit_kinds{0};     // bit i: exit alternative i seen
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> timer_fires{0};
    std::atomic<std::uint32_t> quiet{0};
    // hc::expect_resume: the next Halt must be a non-retentive suspend
    // that resumes at resume_addr with this opaque.
    bool expect_resume = false;
    std::uint64_t resume_addr = 0, resume_opaque = 0, resumes_seen = 0;
    std::uint8_t echo[echo_size]{};
    example::SpinLock echo_lock;
    HostPhysAddr s2_root;
};
VmState vm;
usize host_harts = 1;

void kick_hart(usize hart) {
    if (hart == hart_id()) return;
    rv::sbi::ecall(rv::sbi::eid::ipi, rv::sbi::fid::ipi_send_ipi, std::uint64_t{1} << hart, 0);
}

// --- The HostApiPolicy --------------------------------------------------------
std::uintptr_t heap_next = 0;

// The policy calls the host from inside its run(), in the stretches it
// publishes (RunPublisher): there the vCPU must be this hart's current vCPU
// and read Running, as a kernel's host API would find it.
void expect_published(const char* where);

struct Host {
    // VmmIf
    static axvcpu::VMId current_vm_id() { return 0; }
    static axvcpu::VCpuId current_vcpu_id() {
        for (usize i = 0; i < vm.vcpu_count; ++i)
            if (vm.vcpu_hart[i] == hart_id()) return i;
        return 0;
    }
    static std::optional<usize> vcpu_num(axvcpu::VMId id) {
        expect_published("vcpu_num: the vCPU is not published as current and Running");
        return id == 0 ? std::optional<usize>(vm.vcpu_count) : std::nullopt;
    }
    static std::optional<axvcpu::VCpuSet> active_vcpus(axvcpu::VMId id) {
        expect_published("active_vcpus: the vCPU is not published as current and Running");
        if (id != 0) return std::nullopt;
        return axvcpu::VCpuSet::from_bits(vm.active.load());
    }
    // Queued per vCPU and delivered by its own hart before its next entry.
    static void inject_interrupt(axvcpu::VMId id, axvcpu::VCpuId vcpu, axvcpu::InterruptVector vector) {
        if (id != 0 || vcpu >= vm.vcpu_count || vector >= 64) return;
        vm.pending[vcpu].fetch_or(std::uint64_t{1} << vector);
        kick_hart(vm.vcpu_hart[vcpu]);
    }
    static void inject_interrupt_to_cpus(axvcpu::VMId id, axvcpu::VCpuSet set, axvcpu::InterruptVector vector) {
        for (axvcpu::VCpuId vcpu : set) inject_interrupt(id, vcpu, vector);
    }
    static void notify_vcpu_timer_expired(axvcpu::VMId, axvcpu::VCpuId) { vm.timer_fires.fetch_add(1); }

    // MemoryIf: a bump allocator over the memory after the stacks; the
    // example never frees page tables.
    static std::optional<HostPhysAddr> alloc_contiguous_frames(usize count, usize align_log2) {
        const std::uintptr_t align = std::uintptr_t{1} << (align_log2 < 12 ? 12 : align_log2);
        if (heap_next == 0) heap_next = reinterpret_cast<std::uintptr_t>(__heap_start);
        const std::uintptr_t start = (heap_next + align - 1) & ~(align - 1);
        if (start + count * 4096 > 0x80800000) return std::nullopt;
        heap_next = start + count * 4096;
        for (std::uintptr_t p = start; p < heap_next; p += 8) *reinterpret_cast<std::uint64_t*>(p) = 0;
        return HostPhysAddr(start);
    }
    static std::optional<HostPhysAddr> alloc_frame() { return alloc_contiguous_frames(1, 12); }
    static void dealloc_frame(HostPhysAddr) {}
    static void dealloc_contiguous_frames(HostPhysAddr, usize) {}
    static axvcpu::HostVirtAddr phys_to_virt(HostPhysAddr pa) { return axvcpu::HostVirtAddr(pa.value()); }
    static HostPhysAddr virt_to_phys(axvcpu::HostVirtAddr va) { return HostPhysAddr(va.value()); }

    // TimeIf: the time CSR at QEMU virt's 10 MHz.
    static std::uint64_t current_ticks() { return rdtime(); }
    static std::uint64_t ticks_to_nanos(std::uint64_t ticks) {
        return ticks > ~std::uint64_t{0} / 100 ? ~std::uint64_t{0} : ticks * 100;
    }
    static std::uint64_t nanos_to_ticks(std::uint64_t nanos) { return nanos / 100; }
    static axvcpu::CancelToken register_timer(std::uint64_t deadline_nanos, axvcpu::TimerCallback callback,
                                              void* context) {
        expect_published("register_timer: the vCPU is not published as current and Running");
        timer_lock.lock();
        axvcpu::CancelToken token = 0;
        for (TimerSlot& slot : timer_slots) {
            if (slot.active) continue;
            token = next_token++;
            slot = TimerSlot{nanos_to_ticks(deadline_nanos), callback, context, token, hart_id(), true};
            break;
        }
        if (token != 0) reprogram_timer_locked();
        timer_lock.unlock();
        if (token == 0) fail(20, "out of host timer slots");
        return token;
    }
    // Cancelling a timer that already fired is a no-op.
    static void cancel_timer(axvcpu::CancelToken token) {
        expect_published("cancel_timer: the vCPU is not published as current and Running");
        timer_lock.lock();
        for (TimerSlot& slot : timer_slots)
            if (slot.active && slot.token == token) slot.active = false;
        reprogram_timer_locked();
        timer_lock.unlock();
    }

    // HostIf
    static usize get_host_cpu_num() { return host_harts; }

    // CurrentVCpuSlot: one per hart, at tp.
    static void* current_vcpu_slot() { return hart_slot(); }
    static void set_current_vcpu_slot(void* vcpu) { hart_slot() = vcpu; }
};

using VCpu = axvcpu::AxVCpu<rv::VCpu<Host>, Host>;

void expect_published(const char* where) {
    const VCpu* vcpu = axvcpu::current_vcpu<rv::VCpu<Host>, Host>();
    if (vcpu == nullptr || vcpu->state() != axvcpu::VCpuState::Running) fail(24, where);
}
Uninit<VCpu> vcpus[max_harts];
Uninit<axvcpu::AxPerCpu<rv::PerCpu>> percpu[max_harts];

// --- Stage 2: identity map of guest RAM (2 MiB pages) and the UART page ------
HostPhysAddr build_stage2() {
    const rv::stage2::Layout layout{EXAMPLE_S2_LEVELS};
    const auto root = Host::alloc_contiguous_frames(layout.root_pages, layout.root_align_log2);
    if (!root) fail(21, "no memory for the stage-2 root");
    auto alloc = []() -> std::optional<std::uint64_t> {
        const auto frame = Host::alloc_frame();
        if (!frame) return std::nullopt;
        return frame->value();
    };
    auto table = [](std::uint64_t pa) { return reinterpret_cast<std::uint64_t*>(pa); };
    rv::stage2::Mapper mapper(layout, root->value(), alloc, table);
    if (!mapper.map(guest_ram_base, guest_ram_base, guest_ram_size, rv::stage2::MemType::Normal) ||
        !mapper.map(example::uart_base, example::uart_base, 0x1000, rv::stage2::MemType::Device))
        fail(21, "stage-2 mapping failed");
    return *root;
}

// --- The emulated echo device -------------------------------------------------
// Offsets 0..7 are a scratch register any width can write and read back;
// 8..15 read as 0x8877665544332211 (for sign-extension checks).
std::optional<std::uint64_t> echo_read(std::uint64_t offset, usize bytes) {
    if (offset + bytes > echo_size || offset % bytes != 0) return std::nullopt;
    vm.echo_lock.lock();
    std::uint64_t value = 0;
    for (usize i = 0; i < bytes; ++i) value |= std::uint64_t{vm.echo[offset + i]} << (8 * i);
    vm.echo_lock.unlock();
    return value;
}
bool echo_write(std::uint64_t offset, usize bytes, std::uint64_t value) {
    if (offset + bytes > 8 || offset % bytes != 0) return false;
    vm.echo_lock.lock();
    for (usize i = 0; i < bytes; ++i) vm.echo[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    vm.echo_lock.unlock();
    return true;
}

// --- Hypercalls (the test protocol; README.md) ----------------------------------
namespace hc {
constexpr std::uint64_t echo_sum = 1, inject_self = 2, check_exits = 3, report_failure = 4, set_quiet = 5,
                        timer_fires = 6, ack_external = 7, interleave = 8,
                        bench_begin = 9, bench_end = 10, console_bytes = 11, expect_resume = 12,
                        resumes_seen = 13;
}

constexpr usize exit_index(const AxVCpuExitReason& reason) { return reason.index(); }

// --- The per-vCPU loop ------------------------------------------------------------
void enable_interrupt_window() {
    // Let the host's own handler take what is pending (timers, IPIs).
    rv::csr::set<rv::csr::sstatus>(rv::csr::sstatus_bits::sie);
    asm volatile("nop");
    rv::csr::clear<rv::csr::sstatus>(rv::csr::sstatus_bits::sie);
}

void deliver_pending(VCpu& vcpu) {
    std::uint64_t bits = vm.pending[vcpu.id()].exchange(0);
    while (bits != 0) {
        const usize vector = static_cast<usize>(__builtin_ctzll(bits));
        bits &= bits - 1;
        if (!vcpu.inject_interrupt(vector)) {
            print("[vcpu ", Dec{vcpu.id()}, "] inject_interrupt(", Dec{vector}, ") refused\n");
            vm.failures.fetch_add(1);
        }
    }
}

// A Halt (guest WFI or suspend) parks the hart until this vCPU has an
// interrupt to take: queued by the VMM or already pending in hvip.
void wait_for_interrupt(VCpu& vcpu) {
    for (;;) {
        if (vm.pending[vcpu.id()].load() != 0) return;
        if ((rv::csr::read<rv::csr::hvip>() & rv::csr::hvip_bits::all) != 0) return;
        asm volatile("wfi");
        enable_interrupt_window();
    }
}

std::uint64_t hart_shares = 0;  // how often interleave mode switched VMs

void finish(VCpu& vcpu, std::uint64_t type, std::uint64_t reason) {
    print("[vcpu ", Dec{vcpu.id()}, "] system reset: type ", Dec{type}, ", reason ", Dec{reason}, "; exits seen ",
          Hex{vm.exit_kinds.load()}, ", failures ", Dec{vm.failures.load()}, ", hart shared with VM 1 ",
          Dec{hart_shares}, " times\n");
    if (type != rv::sbi::reset_type::shutdown || reason != 0) fail(2, "guest reported failure");
    if (vm.expect_resume) vm.failures.fetch_add(1);  // a suspend announced but never made
    if (vm.failures.load() != 0) fail(3, "hypervisor-side checks failed");
    print("axvcpu-riscv64: PASS\n");
    example::qemu_exit(0);
}

void inject_access_fault(VCpu& vcpu, std::uint32_t flags, std::uint64_t gpa) {
    const std::uint64_t cause = (flags & axvcpu::MappingFlags::WRITE) != 0 ? rv::cause::store_access_fault
                                : (flags & axvcpu::MappingFlags::EXECUTE) != 0 ? rv::cause::instruction_access_fault
                                                                               : rv::cause::load_access_fault;
    if (!vcpu.arch_vcpu().inject_exception(cause, gpa)) fail(4, "could not reflect a fault to the guest");
}

// A vCPU of a second VM (its own VMID, all-zero VS CSRs) that takes this
// hart between two runs of the guest's vCPU, the way a scheduler would:
// the guest only keeps working if unbind/bind saved and restored its VS
// CSRs, pending virtual interrupts and stage-2 context.
Uninit<VCpu> other_vm_vcpu;
bool other_vm_ready = false;
// Out of line: creating a VCpu needs a large stack frame, which run_vcpu's
// hot loop should not carry.
[[gnu::noinline]] void share_hart_with_other_vm(VCpu& vcpu) {
    if (!other_vm_ready) {
        auto created = VCpu::create(1, 0, hart_id(), std::nullopt, rv::CreateConfig{0, GuestPhysAddr(0), 3});
        if (!created) fail(18, "second VM vCPU create failed");
        VCpu& other = other_vm_vcpu.emplace(std::move(created).value());
        if (!other.setup(GuestPhysAddr(guest_entry), vm.s2_root, vcpu_setup)) fail(18, "second VM vCPU setup failed");
        other_vm_ready = true;
    }
    VCpu& other = *other_vm_vcpu;
    if (!vcpu.unbind()) fail(19, "switching to the second VM failed");
    // The policy itself refuses to run an unbound vCPU (its hgatp is not on
    // the hart), even when AxVCpu's state machine is told it is Ready.
    vcpu.set_state_unchecked(axvcpu::VCpuState::Ready);
    const auto refused = vcpu.run();
    if (refused || refused.error() != axvcpu::AxError::BadState) fail(19, "an unbound vCPU ran");
    vcpu.set_state_unchecked(axvcpu::VCpuState::Free);
    if (!other.bind()) fail(19, "switching to the second VM failed");
    if (rv::csr::read<rv::csr::vstvec>() != 0 || (rv::csr::read<rv::csr::hgatp>() >> 44 & 0x3fff) != 1)
        fail(19, "second VM's context not loaded");
    if (!other.unbind() || !vcpu.bind()) fail(19, "switching back failed");
    ++hart_shares;
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
        print("[vcpu ", Dec{vcpu.id()}, "] last_trap() does not match ", reason, ": ", trap, "\n");
        vm.failures.fetch_add(1);
    }
}

// The Halt of a non-retentive suspend must already hold the fresh-start
// state the guest resumes with (README.md).
void check_non_retentive_resume(VCpu& vcpu) {
    vm.expect_resume = false;
    const auto& arch = vcpu.arch_vcpu();
    const bool ok = arch.guest_context().sepc == vm.resume_addr && arch.gpr(10) == vcpu.id() &&
                    arch.gpr(11) == vm.resume_opaque && rv::csr::read<rv::csr::vsatp>() == 0 &&
                    (rv::csr::read<rv::csr::vsstatus>() & rv::csr::sstatus_bits::sie) == 0;
    print("[vcpu ", Dec{vcpu.id()}, "] non-retentive suspend: resumes at ", Hex{arch.guest_context().sepc}, ", a1 ",
          Hex{arch.gpr(11)}, ok ? "" : " (WRONG)", "\n");
    if (ok) {
        ++vm.resumes_seen;
    } else {
        vm.failures.fetch_add(1);
    }
}

// The benchmark's VMM loop (bench.sh): the same work as the hand-written
// loop in bench_raw.cpp, done through the public API, so the difference in
// instructions is what the library costs. Out of line, like raw_main's
// loop, so it has a frame of its own.
[[gnu::noinline]] void run_bench_loop(VCpu& vcpu) {
    (void)vcpu.set_return_value(0);
    for (;;) {
        auto result = vcpu.run();
        if (!result) fail(22, "run failed in the benchmark loop");
        const AxVCpuExitReason& reason = result.value();
        if (const auto* call = reason.get_if<axvcpu::exit::Hypercall>()) {
            if (call->nr == hc::echo_sum) {
                const auto& a = call->args;
                (void)vcpu.set_return_value(a[0] + a[1] + a[2] + a[3] + a[4] + a[5]);
                continue;
            }
            if (call->nr == hc::inject_self) {
                (void)vcpu.set_return_value(0);
                (void)vcpu.inject_interrupt(call->args[0]);
                continue;
            }
            if (call->nr == hc::bench_end) return;
        } else if (const auto* read = reason.get_if<axvcpu::exit::MmioRead>()) {
            // The device read exactly as bench_raw.cpp does it (8 bytes);
            // mmio_load_value keeps the bytes the access width asks for.
            std::uint64_t raw = 0;
            for (unsigned i = 0; i < 8; ++i)
                raw |= std::uint64_t{vm.echo[(read->addr.value() - echo_device + i) & (echo_size - 1)]} << (8 * i);
            (void)vcpu.set_gpr(read->reg, rv::mmio_load_value(*read, raw));
            continue;
        }
        fail(22, "unexpected exit in the benchmark loop");
    }
}

// Returns when the vCPU stops (CpuDown).
void run_vcpu(VCpu& vcpu) {
    const usize id = vcpu.id();
    if (!vcpu.bind()) fail(5, "bind failed");
    std::uint64_t count = 0;
    bool interleave = false;
    for (;;) {
        if (interleave) share_hart_with_other_vm(vcpu);
        deliver_pending(vcpu);
        auto result = vcpu.run();
        if (!result) {
            print("[vcpu ", Dec{id}, "] run failed: ", result.error(), " at ", vcpu.arch_vcpu().last_trap(), "\n");
            fail(6, "vCPU run error");
        }
        const AxVCpuExitReason& reason = result.value();
        ++count;
        check_last_trap(vcpu, reason);
        vm.exit_kinds.fetch_or(std::uint64_t{1} << exit_index(reason));
        if (vm.quiet.load() == 0) print("[vcpu ", Dec{id}, "] exit ", Dec{count}, ": ", reason, "\n");

        if (const auto* hcall = reason.get_if<axvcpu::exit::Hypercall>()) {
            std::uint64_t ret = 0;
            switch (hcall->nr) {
                case hc::echo_sum:
                    for (std::uint64_t arg : hcall->args) ret += arg;
                    break;
                case hc::inject_self: Host::inject_interrupt(0, id, static_cast<axvcpu::InterruptVector>(hcall->args[0])); break;
                case hc::check_exits: {
                    ret = hcall->args[0] & ~vm.exit_kinds.load();
                    if (ret != 0) {
                        print("[vcpu ", Dec{id}, "] exits the guest caused but the VMM never saw: ", Hex{ret}, "\n");
                        vm.failures.fetch_add(1);
                    }
                    break;
                }
                case hc::report_failure:
                    print("[vcpu ", Dec{id}, "] guest reports failure ", Hex{hcall->args[0]}, " (", Hex{hcall->args[1]},
                          ")\n");
                    vm.failures.fetch_add(1);
                    break;
                case hc::set_quiet: vm.quiet.store(hcall->args[0] != 0 ? 1 : 0); break;
                case hc::interleave: interleave = hcall->args[0] != 0; break;
                case hc::bench_begin: run_bench_loop(vcpu); break;
                // Console input never exits: compare the guest's count with
                // what the policy delivered.
                case hc::console_bytes: {
                    const std::uint64_t seen = vcpu.arch_vcpu().console_bytes_read();
                    print("[vcpu ", Dec{id}, "] console bytes read: guest ", Dec{hcall->args[0]}, ", policy ",
                          Dec{seen}, "\n");
                    ret = seen == hcall->args[0] && seen != 0 ? 0 : 1;
                    if (ret != 0) vm.failures.fetch_add(1);
                    break;
                }
                case hc::expect_resume:
                    vm.expect_resume = true;
                    vm.resume_addr = hcall->args[0];
                    vm.resume_opaque = hcall->args[1];
                    break;
                case hc::resumes_seen: ret = vm.resumes_seen; break;
                // ~0: guest timers do not go through host timers here.
                case hc::timer_fires: ret = EXAMPLE_PASSTHROUGH_TIMER ? ~std::uint64_t{0} : vm.timer_fires.load(); break;
                // The guest claims its external interrupt (what a virtual
                // PLIC's claim register would do).
                case hc::ack_external: ret = vcpu.arch_vcpu().clear_interrupt(rv::irq::supervisor_external) ? 0 : 1; break;
                default: ret = static_cast<std::uint64_t>(rv::sbi::err::not_supported);
            }
            (void)vcpu.set_return_value(ret);
        } else if (const auto* read = reason.get_if<axvcpu::exit::MmioRead>()) {
            const auto value = read->addr.value() >= echo_device
                                   ? echo_read(read->addr.value() - echo_device, axvcpu::size_in_bytes(read->width))
                                   : std::nullopt;
            if (value) {
                (void)vcpu.set_gpr(read->reg, rv::mmio_load_value(*read, *value));
            } else {
                inject_access_fault(vcpu, axvcpu::MappingFlags::READ, read->addr.value());
            }
        } else if (const auto* write = reason.get_if<axvcpu::exit::MmioWrite>()) {
            if (write->addr.value() < echo_device ||
                !echo_write(write->addr.value() - echo_device, axvcpu::size_in_bytes(write->width), write->data))
                inject_access_fault(vcpu, axvcpu::MappingFlags::WRITE, write->addr.value());
        } else if (const auto* npf = reason.get_if<axvcpu::exit::NestedPageFault>()) {
            // Nothing is mapped or emulated there: the guest gets an access
            // fault at the instruction, as on a machine with no device.
            inject_access_fault(vcpu, npf->access_flags.bits, npf->addr.value());
        } else if (reason.is<axvcpu::exit::Halt>()) {
            if (vm.expect_resume) check_non_retentive_resume(vcpu);
            wait_for_interrupt(vcpu);
        } else if (reason.is<axvcpu::exit::ExternalInterrupt>()) {
            enable_interrupt_window();
        } else if (const auto* ipi = reason.get_if<axvcpu::exit::SendIPI>()) {
            axvcpu::VCpuSet targets;
            if (ipi->send_to_all) {
                targets = axvcpu::VCpuSet::first_n(vm.vcpu_count);
            } else {
                for (usize bit = 0; bit < 64; ++bit)
                    if ((ipi->target_cpu_aux >> bit & 1) != 0) targets.insert(ipi->target_cpu + bit);
            }
            Host::inject_interrupt_to_cpus(0, targets, static_cast<axvcpu::InterruptVector>(ipi->vector));
        } else if (const auto* up = reason.get_if<axvcpu::exit::CpuUp>()) {
            const usize target = up->target_cpu;
            if (target >= vm.vcpu_count) {
                (void)vcpu.set_return_value(static_cast<std::uint64_t>(rv::sbi::err::invalid_param));
            } else if ((vm.active.load() >> target & 1) != 0) {
                (void)vcpu.set_return_value(static_cast<std::uint64_t>(rv::sbi::err::already_available));
            } else {
                VCpu& other = *vcpus[target];
                const bool ok = other.state() == axvcpu::VCpuState::Created
                                    ? bool(other.setup(up->entry_point, vm.s2_root, vcpu_setup))
                                    : bool(other.set_entry(up->entry_point));
                if (!ok || !other.set_gpr(10, target) || !other.set_gpr(11, up->arg)) fail(7, "CpuUp set-up failed");
                vm.active.fetch_or(std::uint64_t{1} << target);
                vm.start_request[target].store(1, std::memory_order_release);
                kick_hart(vm.vcpu_hart[target]);
            }
        } else if (reason.is<axvcpu::exit::CpuDown>()) {
            vm.active.fetch_and(~(std::uint64_t{1} << id));
            if (!vcpu.unbind()) fail(8, "unbind failed");
            return;
        } else if (reason.is<axvcpu::exit::SystemDown>()) {
            finish(vcpu, vcpu.arch_vcpu().gpr(10), vcpu.arch_vcpu().gpr(11));
        } else {
            print("[vcpu ", Dec{id}, "] unexpected exit\n");
            fail(9, "unexpected exit");
        }
    }
}

// Bad input to the policy gets a clear error, on the real hart too, and
// leaves the vCPU usable where the state machine says so.
void check_policy_input_errors() {
    const auto expect = [](bool refused, const char* what) {
        if (!refused) fail(23, what);
    };
    expect(VCpu::create(0, 9, 0, std::nullopt, rv::CreateConfig{0, GuestPhysAddr(0), 5}).error() ==
               axvcpu::AxError::InvalidInput,
           "create accepted 5 page-table levels");
    auto& arch = vcpus[0]->arch_vcpu();
    expect(arch.set_ept_root(HostPhysAddr(vm.s2_root.value() + 4096)).error() == axvcpu::AxError::InvalidInput,
           "set_ept_root accepted a root that is not 16 KiB aligned");
    expect(arch.set_entry(GuestPhysAddr(guest_entry + 1)).error() == axvcpu::AxError::InvalidInput,
           "set_entry accepted an odd entry point");
    expect(arch.setup(rv::SetupConfig{true, false}).error() == axvcpu::AxError::Unsupported,
           "setup accepted interrupt passthrough");
    vcpus[0]->set_state_unchecked(axvcpu::VCpuState::Ready);  // past the state machine: the policy's own check
    expect(vcpus[0]->run().error() == axvcpu::AxError::BadState, "run on an unbound vCPU");
    vcpus[0]->set_state_unchecked(axvcpu::VCpuState::Created);
    expect(arch.unbind().error() == axvcpu::AxError::BadState, "unbind of an unbound vCPU");
    expect(vcpus[0]->inject_interrupt(3).error() == axvcpu::AxError::InvalidInput, "inject of vector 3");
    expect(vcpus[0]->set_gpr(32, 0).error() == axvcpu::AxError::InvalidInput, "set_gpr(32)");
    expect(vcpus[0]->state() == axvcpu::VCpuState::Created, "vCPU 0 not left Created by refused calls");
    print("policy input checks: every bad request refused\n");
}

void enable_virtualization(usize hart) {
    auto& cpu = percpu[hart].emplace();
    if (!cpu.init(hart) || !cpu.hardware_enable() || !cpu.is_enabled()) fail(10, "hardware_enable failed");
    // Prove the off switch really turns it off, then turn it back on.
    if (!cpu.hardware_disable() || cpu.is_enabled() || rv::csr::read<rv::csr::hideleg>() != 0)
        fail(11, "hardware_disable did not disable");
    if (!cpu.hardware_enable() || !cpu.is_enabled()) fail(12, "hardware_enable failed again");
    print("[hart ", Dec{hart}, "] virtualization on (hedeleg ", Hex{rv::csr::read<rv::csr::hedeleg>()}, ", hideleg ",
          Hex{rv::csr::read<rv::csr::hideleg>()}, ")\n");
}

void host_trap_setup() {
    rv::csr::write<rv::csr::stvec>(reinterpret_cast<std::uint64_t>(&host_trap_entry));
    // Timer and software interrupts; taken only in the idle windows.
    rv::csr::write<rv::csr::sie>((1u << 1) | (1u << 5));
}

// Waits for this hart's vCPU to be started (CpuUp), runs it until CpuDown.
[[noreturn]] void serve_vcpu(usize id) {
    for (;;) {
        while (vm.start_request[id].exchange(0, std::memory_order_acquire) == 0) {
            asm volatile("wfi");
            enable_interrupt_window();
        }
        run_vcpu(*vcpus[id]);
        print("[vcpu ", Dec{id}, "] stopped\n");
    }
}

}  // namespace

extern "C" void host_trap() {
    const std::uint64_t scause = rv::csr::read<rv::csr::scause>();
    const rv::Trap trap = rv::classify_scause(scause);
    if (trap.interrupt && trap.code == rv::irq::supervisor_timer) {
        fire_expired_timers();
    } else if (trap.interrupt && trap.code == rv::irq::supervisor_software) {
        rv::csr::clear<rv::csr::sip>(1u << 1);  // the kick itself carries no data
    } else {
        print("[hart ", Dec{hart_id()}, "] host trap scause=", Hex{scause}, " sepc=",
              Hex{rv::csr::read<rv::csr::sepc>()}, " stval=", Hex{rv::csr::read<rv::csr::stval>()}, "\n");
        fail(13, "unexpected host trap");
    }
}

extern "C" void hyp_main(std::uint64_t hartid, std::uint64_t fdt) {
    for (char* p = __bss_start; p < __bss_end; ++p) *p = 0;
    host_trap_setup();
    print("axvcpu-riscv64 example hypervisor on hart ", Dec{hartid}, ", fdt ", Hex{fdt}, "\n");
    enable_virtualization(hartid);

    // The harts that exist: HSM answers for them, errors for the others.
    usize harts[max_harts]{};
    host_harts = 0;
    harts[host_harts++] = hartid;
    for (usize h = 0; h < max_harts; ++h)
        if (h != hartid && rv::sbi::ecall(rv::sbi::eid::hsm, rv::sbi::fid::hsm_hart_get_status, h).error == 0)
            harts[host_harts++] = h;
    vm.vcpu_count = host_harts < EXAMPLE_VCPUS ? host_harts : EXAMPLE_VCPUS;
    for (usize i = 0; i < vm.vcpu_count; ++i) vm.vcpu_hart[i] = harts[i];

    vm.s2_root = build_stage2();
    for (usize i = 8; i < echo_size; ++i) vm.echo[i] = static_cast<std::uint8_t>(0x11 * (i - 7));
    // The guest gets a copy of the host's device tree (README.md).
    const auto* header = reinterpret_cast<const std::uint8_t*>(fdt);
    const std::uint32_t fdt_size = std::uint32_t{header[4]} << 24 | std::uint32_t{header[5]} << 16 |
                                   std::uint32_t{header[6]} << 8 | header[7];
    if (fdt_size > (1u << 20)) fail(14, "device tree too large");
    for (std::uint32_t i = 0; i < fdt_size; ++i) reinterpret_cast<std::uint8_t*>(guest_dtb)[i] = header[i];

    for (usize i = 0; i < vm.vcpu_count; ++i) {
        rv::CreateConfig config{i, GuestPhysAddr(guest_dtb), EXAMPLE_S2_LEVELS};
        auto created = VCpu::create(0, i, i, axvcpu::VCpuSet::only(vm.vcpu_hart[i]), config);
        if (!created) fail(15, "vCPU create failed");
        vcpus[i].emplace(std::move(created).value());
    }
    print("VM 0: ", Dec{vm.vcpu_count}, " vCPU(s), guest RAM ", GuestPhysAddr(guest_ram_base), "+", Hex{guest_ram_size},
          ", entry ", GuestPhysAddr(guest_entry), ", dtb ", GuestPhysAddr(guest_dtb), ", timer ", EXAMPLE_PASSTHROUGH_TIMER ? "Sstc passthrough" : "SBI via host timers", ", stage 2 Sv",
          Dec{EXAMPLE_S2_LEVELS == 4 ? 48 : 39}, "x4 root ", vm.s2_root, "\n");

    for (usize i = 1; i < vm.vcpu_count; ++i) {
        const auto started = rv::sbi::ecall(rv::sbi::eid::hsm, rv::sbi::fid::hsm_hart_start, vm.vcpu_hart[i],
                                                    reinterpret_cast<std::uint64_t>(&_secondary_start), 0);
        if (started.error != 0) fail(16, "could not start a secondary hart");
    }

    check_policy_input_errors();
    if (!vcpus[0]->setup(GuestPhysAddr(guest_entry), vm.s2_root, vcpu_setup)) fail(17, "vCPU 0 setup failed");
    vm.active.fetch_or(1);
    vm.start_request[0].store(1);
    serve_vcpu(0);
}

extern "C" void hyp_secondary(std::uint64_t hartid) {
    host_trap_setup();
    enable_virtualization(hartid);
    for (usize i = 0; i < vm.vcpu_count; ++i)
        if (vm.vcpu_hart[i] == hartid) serve_vcpu(i);
    for (;;) asm volatile("wfi");
}

// What Boost.Outcome's terminate policy and assert() call on misuse.
extern "C" [[noreturn]] void abort() { fail(98, "abort"); }
extern "C" [[noreturn]] void __assert_fail(const char* expr, const char* file, unsigned line, const char*) {
    print("assertion failed: ", expr, " at ", file, ":", Dec{line}, "\n");
    example::qemu_exit(97);
}
