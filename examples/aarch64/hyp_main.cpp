// The example hypervisor: one VM whose vCPU n runs on physical CPU n, built
// only on the public API (AxPerCpu, AxVCpu<aarch64::VCpu<Host>, Host>).
// It boots the guest image QEMU's generic loader placed at 0x48000000,
// prints every exit, emulates the test device, answers the hypercalls of
// guest_abi.hpp and, when the guest powers off, checks from its side what
// the guest did and exits QEMU through semihosting with 0 (pass) or 1.
#include <new>
#include <optional>
#include <utility>

#include <arch/aarch64/percpu.hpp>
#include <arch/aarch64/stage2.hpp>
#include <arch/aarch64/vcpu.hpp>
#include <axvcpu/percpu.hpp>
#include <axvcpu/vcpu.hpp>

#include "guest_abi.hpp"
#include "host_policy.hpp"
#include "runtime.hpp"

namespace {

using namespace axvcpu;
using hyp::println;
using hyp::u64;
using Arch = aarch64::VCpu<hyp::Host>;
using VCpu = AxVCpu<Arch, hyp::Host>;
using PerCpu = AxPerCpu<aarch64::PerCpu>;

// Static storage with no destructor to register (there is no atexit here).
template <class T>
class Slot {
public:
    template <class... Args>
    T& emplace(Args&&... args) {
        object_ = new (storage_) T(std::forward<Args>(args)...);
        return *object_;
    }
    T* get() { return object_; }

private:
    alignas(T) unsigned char storage_[sizeof(T)];
    T* object_ = nullptr;
};

Slot<PerCpu> percpu[hyp::max_cpus];
Slot<VCpu> vcpus[hyp::max_cpus];
Slot<VCpu> second_vcpu;  // VM 1, CPU-sharing test
u64 stage2_root = 0;

// --- What the VMM observed, checked when the guest powers off -------------------
struct Observed {
    u64 test_id = 0;
    std::optional<u64> guest_result;
    std::optional<u64> second_result;  // VM 1's guest
    u64 yields = 0;
    u64 acks = 0;
    u64 bench[5] = {};
    bool raw_requested = false;
    u64 kinds_seen = 0;  // bit per AxVCpuExitReason alternative
    u64 exits = 0;
    u64 failures = 0;  // VMM-side check failures
    u64 sink_writes = 0;
    u64 checks = 0;
    u64 timer_irqs = 0;
    u64 maintenance_irqs = 0;
    u64 kicks = 0;
    u64 ipis = 0;
    u64 abort_kinds = 0;  // bit per aarch64::AbortKind reported
    u64 unknown_sysregs = 0;
    u64 scratch = 0;
    bool quiet = false;
};
Observed seen;
hyp::SpinLock seen_lock;
inline constexpr u64 trace_limit = 200;

void vmm_fail(const char* what, u64 value = 0) {
    println("hyp: CHECK FAILED: ", what, " ", value);
    seen.failures++;
}
}  // namespace

void hyp::expect_published(const char* where) {
    const VCpu* vcpu = current_vcpu<Arch, hyp::Host>();
    if (vcpu != nullptr && vcpu->state() == VCpuState::Running) return;
    println("hyp: ", where, " called while the vCPU is not published as current and Running");
    vmm_fail("host API called outside a published stretch");
}

namespace {

template <class T>
constexpr u64 kind_bit() {
    constexpr auto index = AxVCpuExitReason(T{}).index();
    return u64{1} << index;
}

const char* test_name(u64 id) {
    switch (id) {
        case abi::test_exits: return "exits";
        case abi::test_regs: return "regs";
        case abi::test_smp: return "smp";
        case abi::test_bad: return "bad";
        case abi::test_bench: return "bench";
        case abi::test_share: return "share";
        case abi::test_unmodelled: return "unmodelled";
        case abi::test_vi: return "vi";
        default: return "unknown";
    }
}

// The exit kinds (and details) each test must have produced, from the VMM's side.
bool vmm_checks_pass() {
    u64 required = kind_bit<exit::SystemDown>() | kind_bit<exit::Hypercall>();
    switch (seen.test_id) {
        case abi::test_exits:
            required |= kind_bit<exit::MmioRead>() | kind_bit<exit::MmioWrite>() | kind_bit<exit::SysRegRead>() |
                        kind_bit<exit::SysRegWrite>() | kind_bit<exit::SendIPI>() | kind_bit<exit::Halt>() |
                        kind_bit<exit::ExternalInterrupt>();
            if (seen.sink_writes != 5) vmm_fail("test device sink writes", seen.sink_writes);
            if (seen.timer_irqs != 1) vmm_fail("host timer interrupts", seen.timer_irqs);
            if (seen.maintenance_irqs == 0) vmm_fail("no maintenance interrupt while list registers overflowed");
            break;
        case abi::test_regs:
            required |= kind_bit<exit::MmioRead>() | kind_bit<exit::MmioWrite>() | kind_bit<exit::SysRegRead>() |
                        kind_bit<exit::Halt>();
            if (seen.checks != 200) vmm_fail("register checks", seen.checks);
            if (seen.exits < 1000) vmm_fail("exits", seen.exits);
            break;
        case abi::test_smp:
            required |= kind_bit<exit::CpuUp>() | kind_bit<exit::CpuDown>() | kind_bit<exit::SendIPI>() |
                        kind_bit<exit::ExternalInterrupt>();
            if (seen.ipis < 2) vmm_fail("SGIs routed", seen.ipis);
            break;
        case abi::test_bad: {
            required |= kind_bit<exit::NestedPageFault>() | kind_bit<exit::SysRegWrite>();
            const u64 kinds = u64{1} << static_cast<unsigned>(aarch64::AbortKind::NoSyndrome) |
                              u64{1} << static_cast<unsigned>(aarch64::AbortKind::InstructionFetch);
            if ((seen.abort_kinds & kinds) != kinds) vmm_fail("abort kinds reported", seen.abort_kinds);
            if (seen.unknown_sysregs < 2) vmm_fail("unknown sysregs reported", seen.unknown_sysregs);
            break;
        }
        case abi::test_bench: break;
        case abi::test_vi:
            if constexpr (config::gic_version != 2) vmm_fail("the vi test needs the AXVCPU_GIC_VERSION=2 hypervisor");
            if (seen.acks != 3) vmm_fail("vectors acknowledged", seen.acks);
            break;
        case abi::test_share:
            if (!seen.second_result || *seen.second_result != 0) vmm_fail("VM 1 did not pass");
            if (seen.yields < 100) vmm_fail("CPU switches between the VMs", seen.yields);
            if (second_vcpu.get() == nullptr || second_vcpu.get()->arch_vcpu().vmid() == vcpus[0].get()->arch_vcpu().vmid()) {
                vmm_fail("the two VMs do not have distinct VMIDs");
            }
            break;
        default: vmm_fail("guest never said which test it is"); return false;
    }
    if ((seen.kinds_seen & required) != required) vmm_fail("exit kinds missing", required & ~seen.kinds_seen);
    return seen.failures == 0;
}

[[noreturn]] void finish() {
    const bool vmm_ok = vmm_checks_pass();
    const bool guest_ok = seen.guest_result && *seen.guest_result == 0;
    println("hyp: test ", test_name(seen.test_id), ": ", hyp::dec(seen.exits), " exits, guest ",
            guest_ok ? "passed" : "FAILED", ", hypervisor checks ", vmm_ok ? "passed" : "FAILED");
    if (guest_ok && vmm_ok) {
        println("RESULT: PASS");
        hyp::semihost_exit(0);
    }
    println("RESULT: FAIL");
    hyp::semihost_exit(1);
}

// --- Emulated test device ---------------------------------------------------------
u64 testdev_read(u64 offset) {
    switch (offset) {
        case abi::dev_scratch: return seen.scratch;
        case abi::dev_magic: return abi::magic_value;
        case abi::dev_negative: return abi::negative_value;
        default: return 0;
    }
}

void testdev_write(u64 offset, AccessWidth width, u64 data) {
    if (offset == abi::dev_scratch) {
        seen.scratch = data;
        return;
    }
    if (offset != abi::dev_sink) return;
    // The exits guest writes these, in this order, with these widths.
    struct Expected {
        AccessWidth width;
        u64 data;
    };
    constexpr Expected expected[] = {{AccessWidth::Byte, 0xA5},
                                     {AccessWidth::Word, 0xBEEF},
                                     {AccessWidth::Dword, 0xDEAD'BEEF},
                                     {AccessWidth::Qword, 0x0123'4567'89AB'CDEF},
                                     {AccessWidth::Qword, 0}};
    if (seen.test_id == abi::test_exits) {
        if (seen.sink_writes >= 5 || expected[seen.sink_writes].width != width ||
            expected[seen.sink_writes].data != data) {
            vmm_fail("unexpected sink write", data);
        }
    }
    seen.sink_writes++;
}

// --- The register-integrity round (regs guest) ----------------------------------
u64 reg_pattern(u64 seed, unsigned i) { return seed + i + (u64{i} << 12); }

void register_round(VCpu& vcpu) {
    aarch64::GuestContext& ctx = vcpu.arch_vcpu().guest_context();
    const u64 seed = ctx.x[1];
    bool ok = vcpu.arch_vcpu().sp_el0() == (seed ^ 0x5555'5555'5555'5555);
    for (unsigned i = 2; i <= 30; ++i) ok = ok && ctx.x[i] == reg_pattern(seed, i);
    if (!ok) vmm_fail("guest registers at hc_check differ from the pattern, seed", seed);
    seen.checks++;
    const u64 next = seed * 3 + 1;
    (void)vcpu.set_gpr(1, next);
    for (unsigned i = 2; i <= 30; ++i) (void)vcpu.set_gpr(i, reg_pattern(next, i));
    vcpu.arch_vcpu().set_sp_el0(next ^ 0x5555'5555'5555'5555);
    (void)vcpu.set_return_value(ok ? 0 : 1);
}

// --- Exit handling ------------------------------------------------------------------
void route_ipi(VCpu& self, const exit::SendIPI& ipi) {
    for (VCpuId target = 0; target < hyp::host_state.vcpu_count; ++target) {
        bool hit = false;
        if (ipi.send_to_all) {
            hit = target != self.id();
        } else if ((ipi.target_cpu & ~u64{0xFF}) == 0 && target >= ipi.target_cpu && target - ipi.target_cpu < 16) {
            hit = (ipi.target_cpu_aux >> (target - ipi.target_cpu) & 1) != 0;
        }
        if (!hit) continue;
        seen.ipis++;
        if (target == self.id()) {
            (void)self.inject_interrupt(ipi.vector);
        } else {
            hyp::Host::inject_interrupt(0, target, static_cast<InterruptVector>(ipi.vector));
        }
    }
}

void start_vcpu(VCpu& self, const exit::CpuUp& up);

void report_bench(u64 id, u64 instructions) {
    constexpr const char* names[] = {"?", "hypercall round trip (AxVCpu::run)", "MMIO read round trip",
                                     "inject_interrupt to guest vector", "hypercall round trip (minimal switch)"};
    println("bench: ", names[id < 5 ? id : 0], ": ", hyp::dec(instructions), " instructions");
    if (id == 4 && instructions != 0) {
        const u64 hundredths = seen.bench[1] * 100 / instructions;
        println("bench: AxVCpu::run / minimal switch = ", hyp::dec(hundredths / 100), ".",
                hyp::dec(hundredths % 100 / 10), hyp::dec(hundredths % 10), " (target <= 1.10)");
    }
}

extern "C" std::uint64_t bench_enter_guest(aarch64::GuestContext* ctx);
// bench_switch.S hard-codes these offsets.
static_assert(offsetof(aarch64::GuestContext, elr) == 248 && offsetof(aarch64::GuestContext, spsr) == 256);
extern "C" const char bench_vectors[];

// The benchmark baseline: runs the bound vCPU's context through the
// minimal hand-written switch, answering hc_nop, until the guest makes any
// other call, which is then re-executed under AxVCpu::run.
void run_raw_hypercalls(VCpu& vcpu) {
    aarch64::GuestContext& ctx = vcpu.arch_vcpu().guest_context();
    u64 library_vbar;
    asm volatile("mrs %0, vbar_el2" : "=r"(library_vbar));
    asm volatile("msr vbar_el2, %0\n\tisb" : : "r"(reinterpret_cast<u64>(bench_vectors)));
    for (;;) {
        const u64 kind = bench_enter_guest(&ctx);
        u64 esr;
        asm volatile("mrs %0, esr_el2" : "=r"(esr));
        if (kind == 0 && (esr >> 26) == aarch64::esr::ec_hvc64 && ctx.x[0] == abi::hc_nop) {
            ctx.x[0] = 0;
            continue;
        }
        if (kind == 0 && (esr >> 26) == aarch64::esr::ec_hvc64) ctx.elr -= 4;  // replay it under the policy
        break;
    }
    asm volatile("msr vbar_el2, %0\n\tisb" : : "r"(library_vbar));
}

// What the scheduler does after an exit.
enum class Step : std::uint8_t {
    Continue,  // run this vCPU again
    Yield,     // give this CPU to the next vCPU (CPU-sharing test: the guest idled)
    Off,       // this vCPU powered off
};

Step handle_exit(VCpu& vcpu, const AxVCpuExitReason& reason) {
    if (const auto* call = reason.get_if<exit::Hypercall>()) {
        switch (call->nr) {
            case abi::hc_hello:
                if (vcpu.vm_id() == 0) {
                    seen.test_id = call->args[0];
                    seen.quiet = seen.test_id == abi::test_regs || seen.test_id == abi::test_bench;
                    println("hyp: guest runs test '", test_name(seen.test_id), "'");
                }
                (void)vcpu.set_return_value(vcpu.vm_id());
                break;
            case abi::hc_result:
                if (vcpu.vm_id() == 0) {
                    seen.guest_result = call->args[0];
                } else {
                    seen.second_result = call->args[0];
                }
                if (call->args[0] == 0) {
                    println("hyp: guest in VM ", hyp::dec(vcpu.vm_id()), " reports pass");
                } else {
                    println("hyp: guest in VM ", hyp::dec(vcpu.vm_id()), " reports FAILURE code ", call->args[0]);
                }
                (void)vcpu.set_return_value(0);
                break;
            case abi::hc_sum: {
                u64 sum = 0;
                for (u64 a : call->args) sum += a;
                (void)vcpu.set_return_value(sum);
                break;
            }
            case abi::hc_check: register_round(vcpu); break;
            case abi::hc_inject: {
                const u64 count = call->args[1] == 0 ? 1 : call->args[1];
                u64 refused = 0;
                for (u64 i = 0; i < count; ++i) refused += vcpu.inject_interrupt(call->args[0] + i) ? 0 : 1;
                (void)vcpu.set_return_value(refused);
                break;
            }
            case abi::hc_timer:
                if (call->args[0] != 0) hyp::hyp_timer_arm(call->args[0]);
                (void)vcpu.set_return_value(seen.timer_irqs);
                break;
            case abi::hc_nop: (void)vcpu.set_return_value(0); break;
            case abi::hc_bench:
                if (call->args[0] < 5) seen.bench[call->args[0]] = call->args[1];
                report_bench(call->args[0], call->args[1]);
                (void)vcpu.set_return_value(0);
                break;
            case abi::hc_ack: {
                const std::optional<usize> vector = vcpu.arch_vcpu().acknowledge_virtual_irq();
                if (vector) seen.acks++;
                (void)vcpu.set_return_value(vector ? *vector : 1023);
                break;
            }
            case abi::hc_bench_raw:
                seen.raw_requested = true;
                (void)vcpu.set_return_value(0);
                break;
            default:
                println("hyp: unknown hypercall ", call->nr, ", answered -1");
                (void)vcpu.set_return_value(~u64{0});
        }
    } else if (const auto* read = reason.get_if<exit::MmioRead>()) {
        u64 raw = 0;
        const u64 addr = read->addr.value();
        if (addr >= abi::testdev_base && addr < abi::testdev_base + 0x1000) {
            raw = testdev_read(addr - abi::testdev_base);
        } else {
            println("hyp: read of unemulated ", read->addr, ", returning 0");
        }
        (void)vcpu.set_gpr(read->reg, aarch64::mmio_load_value(*read, raw));
    } else if (const auto* write = reason.get_if<exit::MmioWrite>()) {
        const u64 addr = write->addr.value();
        if (addr >= abi::testdev_base && addr < abi::testdev_base + 0x1000) {
            testdev_write(addr - abi::testdev_base, write->width, write->data);
        } else {
            println("hyp: write to unemulated ", write->addr, " ignored");
        }
    } else if (const auto* sysreg_read = reason.get_if<exit::SysRegRead>()) {
        if (sysreg_read->addr == aarch64::sysregs::id_aa64mmfr0_el1) {
            (void)vcpu.set_gpr(sysreg_read->reg, abi::fake_mmfr0);
        } else {
            println("hyp: unknown system register read ", sysreg_read->addr, ", reads as zero");
            seen.unknown_sysregs++;
            (void)vcpu.set_gpr(sysreg_read->reg, 0);
        }
    } else if (const auto* sysreg_write = reason.get_if<exit::SysRegWrite>()) {
        println("hyp: unknown system register write ", sysreg_write->addr, " = ", sysreg_write->value, ", ignored");
        seen.unknown_sysregs++;
    } else if (const auto* ipi = reason.get_if<exit::SendIPI>()) {
        route_ipi(vcpu, *ipi);
    } else if (const auto* irq = reason.get_if<exit::ExternalInterrupt>()) {
        if (irq->vector == hyp::hyp_timer_ppi) {
            hyp::hyp_timer_stop();
            seen.timer_irqs++;
        } else if (irq->vector == aarch64::vgic::maintenance_intid) {
            seen.maintenance_irqs++;  // list registers ran dry: the next entry refills them
        } else if (irq->vector == hyp::kick_sgi) {
            seen.kicks++;  // the mailbox is drained before the next entry
        }
    } else if (const auto* up = reason.get_if<exit::CpuUp>()) {
        start_vcpu(vcpu, *up);
    } else if (reason.is<exit::Halt>()) {
        // The example idles a halted vCPU by running another one if it
        // shares this CPU; otherwise WFI simply completes.
        if (seen.test_id == abi::test_share) {
            seen.yields++;
            return Step::Yield;
        }
    } else if (reason.is<exit::CpuDown>()) {
        hyp::host_state.active_vcpus.fetch_and(~(u64{1} << vcpu.id()));
        return Step::Off;
    } else if (reason.is<exit::SystemDown>()) {
        // With two VMs on the CPU, each powers off on its own; the test ends
        // when both have (see hyp_main).
        if (seen.test_id == abi::test_share) {
            if (vcpu.vm_id() == 1) hyp::host_state.second_vm_active.store(0);
            return Step::Off;
        }
        finish();
    } else if (const auto* fault = reason.get_if<exit::NestedPageFault>()) {
        aarch64::GuestContext& ctx = vcpu.arch_vcpu().guest_context();
        const aarch64::AbortKind kind = aarch64::classify_abort(vcpu.arch_vcpu().last_trap().esr);
        seen.abort_kinds |= u64{1} << static_cast<unsigned>(kind);
        println("hyp: guest fault at ", fault->addr, " (", kind, ", ESR_EL2 ", vcpu.arch_vcpu().last_trap().esr,
                ", PC ", ctx.elr, "): not emulated, ",
                kind == aarch64::AbortKind::InstructionFetch ? "returning to the caller" : "skipping it");
        // This example's policy for a guest that misbehaves: skip the access;
        // a call into unmapped memory returns to its caller.
        if (kind == aarch64::AbortKind::InstructionFetch) {
            ctx.elr = ctx.x[30];
        } else {
            ctx.elr += 4;
        }
    }
    return Step::Continue;
}

void drain_mailbox(VCpu& vcpu) {
    if (vcpu.vm_id() != 0) return;  // only VM 0 spans CPUs
    hyp::Mailbox& box = hyp::host_state.mailbox[vcpu.id()];
    box.lock.lock();
    while (std::optional<usize> vector = box.pending.pop()) {
        if (!vcpu.inject_interrupt(*vector)) println("hyp: cannot inject ", *vector, " into vCPU ", vcpu.id());
    }
    box.lock.unlock();
}

// The benchmark's hypercall round trip: what a lean VMM loop does. Out of
// line and small, so the compiler keeps the vCPU in a register the world
// switch preserves instead of reloading run_slice's spilled state.
[[gnu::noinline]] AxResult<AxVCpuExitReason> run_answering_nops(VCpu& vcpu) {
    for (;;) {
        auto result = vcpu.run();
        if (result) {
            if (const auto* call = result.value().get_if<exit::Hypercall>(); call && call->nr == abi::hc_nop) {
                (void)vcpu.set_return_value(0);
                continue;
            }
        }
        return result;
    }
}

// Runs `vcpu` on this CPU until it yields or powers off.
Step run_slice(VCpu& vcpu) {
    hyp::host_state.running_vm[hyp::cpu_index()] = vcpu.vm_id();
    if (auto bound = vcpu.bind(); !bound) {
        println("hyp: bind failed: ", bound.error());
        hyp::semihost_exit(1);
    }
    Step step = Step::Continue;
    while (step == Step::Continue) {
        const bool bench = seen.test_id == abi::test_bench;
        if (!bench) drain_mailbox(vcpu);
        auto result = bench ? run_answering_nops(vcpu) : vcpu.run();
        if (!result) {
            const aarch64::TrapRecord& trap = vcpu.arch_vcpu().last_trap();
            println("hyp: vCPU ", vcpu.id(), " exit not handled: ", result.error(), " (kind ",
                    static_cast<u64>(vcpu.arch_vcpu().last_exit_kind()), ", ESR_EL2 ", trap.esr, ", FAR_EL2 ", trap.far,
                    ", PC ", vcpu.arch_vcpu().guest_context().elr, "), vCPU state ", vcpu.state());
            if (seen.test_id == abi::test_unmodelled) {
                // Expected: the SVE trap (EC 0x19) is refused, never resumed.
                const bool refused = aarch64::esr::ec(trap.esr) == 0x19 && vcpu.state() == VCpuState::Invalid &&
                                     result.error() == AxError::Unsupported;
                println("hyp: unmodelled exception ", refused ? "refused as expected" : "NOT handled as expected");
                println(refused ? "RESULT: PASS" : "RESULT: FAIL");
                hyp::semihost_exit(refused ? 0 : 1);
            }
            finish();
        }
        const AxVCpuExitReason& reason = result.value();
        seen_lock.lock();
        seen.exits++;
        seen.kinds_seen |= u64{1} << reason.index();
        const bool trace = !seen.quiet && seen.exits <= trace_limit;
        seen_lock.unlock();
        if (trace) println("exit[vm ", hyp::dec(vcpu.vm_id()), " vcpu ", hyp::dec(vcpu.id()), "]: ", reason);
        step = handle_exit(vcpu, reason);
        if (seen.raw_requested) {
            seen.raw_requested = false;
            run_raw_hypercalls(vcpu);
        }
    }
    if (auto unbound = vcpu.unbind(); !unbound) println("hyp: unbind failed: ", unbound.error());
    if (step == Step::Off) println("hyp: VM ", hyp::dec(vcpu.vm_id()), " vCPU ", hyp::dec(vcpu.id()), " is off");
    return step;
}

bool create_second_vm();

// Runs this CPU's vCPUs round-robin until none is left; on CPU 0 the
// CPU-sharing test adds VM 1's vCPU to the ring.
void run_vcpus(VCpu& first) {
    VCpu* ring[2] = {&first, nullptr};
    usize count = 1;
    usize next = 0;
    while (count != 0) {
        VCpu& vcpu = *ring[next];
        const Step step = run_slice(vcpu);
        if (seen.test_id == abi::test_share && second_vcpu.get() == nullptr && hyp::cpu_index() == 0) {
            if (!create_second_vm()) finish();
            ring[count++] = second_vcpu.get();
        }
        if (step == Step::Off) {
            for (usize i = next; i + 1 < count; ++i) ring[i] = ring[i + 1];
            --count;
            ring[count] = nullptr;
            if (count == 0) break;
            next %= count;
        } else {
            next = (next + 1) % count;
        }
    }
}

bool enable_this_cpu(usize cpu) {
    asm volatile("msr tpidr_el2, xzr");  // no current vCPU yet
    PerCpu& p = percpu[cpu].emplace();
    u64 boot_vbar;
    asm volatile("mrs %0, vbar_el2" : "=r"(boot_vbar));
    // Enable, disable (which must restore what it found), enable again:
    // is_enabled() reads the hardware, so it must follow each step.
    const bool cycled = p.init(cpu) && p.hardware_enable() && p.is_enabled() && !p.hardware_enable() &&
                        p.hardware_disable() && !p.is_enabled() && !p.hardware_disable();
    u64 vbar_after;
    asm volatile("mrs %0, vbar_el2" : "=r"(vbar_after));
    if (!cycled || vbar_after != boot_vbar || !p.hardware_enable() || !p.is_enabled()) {
        println("hyp: enabling/disabling virtualization on CPU ", cpu, " misbehaved");
        return false;
    }
    return true;
}

extern "C" void _secondary_start();

void start_vcpu(VCpu& self, const exit::CpuUp& up) {
    const u64 target = up.target_cpu;
    VCpu* other = target < hyp::host_state.vcpu_count ? vcpus[target].get() : nullptr;
    if (other == nullptr || target == self.id()) {
        (void)self.set_return_value(static_cast<u64>(aarch64::psci::invalid_parameters));
        return;
    }
    if ((hyp::host_state.active_vcpus.load() >> target & 1) != 0) {
        (void)self.set_return_value(static_cast<u64>(aarch64::psci::already_on));
        return;
    }
    // The target is Free and not running anywhere: this CPU may set it up.
    if (!other->set_entry(up.entry_point) || !other->set_gpr(0, up.arg)) {
        (void)self.set_return_value(static_cast<u64>(aarch64::psci::internal_failure));
        return;
    }
    hyp::host_state.active_vcpus.fetch_or(u64{1} << target);
    const u64 rc = hyp::smc_call(aarch64::psci::fn_cpu_on_64, target, reinterpret_cast<u64>(&_secondary_start), target);
    if (rc != 0) {
        println("hyp: host PSCI CPU_ON ", target, " failed: ", rc);
        hyp::host_state.active_vcpus.fetch_and(~(u64{1} << target));
        (void)self.set_return_value(static_cast<u64>(aarch64::psci::internal_failure));
        return;
    }
    (void)self.set_return_value(static_cast<u64>(aarch64::psci::success));
}

// Lets the PMU cycle counter run at EL1 and EL2 (PMCCFILTR_EL0.NSH), with
// EL1 access untrapped: under QEMU -icount shift=0 it counts instructions.
void enable_pmu() {
    u64 pmcr;
    asm volatile("mrs %0, pmcr_el0" : "=r"(pmcr));
    const u64 counters = (pmcr >> 11) & 0x1F;
    asm volatile("msr mdcr_el2, %0" : : "r"(counters));  // HPMN = all, TPM = TPMCR = 0
    asm volatile("msr pmccfiltr_el0, %0" : : "r"(u64{1} << 27));
    asm volatile("msr pmcr_el0, %0" : : "r"(u64{(1u << 6) | (1u << 2) | 1u}));  // LC, reset C, E
    asm volatile("msr pmcntenset_el0, %0\n\tisb" : : "r"(u64{1} << 31));
}

usize probe_cpus() {
    usize count = 1;
    while (count < hyp::max_cpus &&
           static_cast<std::int64_t>(hyp::smc_call(aarch64::psci::fn_affinity_info_64, count, 0)) >= 0) {
        ++count;
    }
    return count;
}

// A stage-2 table mapping guest RAM at abi::guest_ram_base to `ram_hpa`,
// plus the UART; returns its root (0 on failure).
u64 build_stage2(u64 ram_hpa) {
    const aarch64::stage2::Layout layout = aarch64::PerCpu::stage2_layout();
    unsigned align_log2 = 12;
    while ((u64{1} << align_log2) < layout.root_bytes()) ++align_log2;
    const auto root = hyp::Host::alloc_contiguous_frames(layout.root_pages, align_log2);
    if (!root) return 0;
    auto alloc = []() -> std::optional<u64> {
        const auto frame = hyp::Host::alloc_frame();
        if (!frame) return std::nullopt;
        return frame->value();
    };
    auto table = [](u64 pa) { return reinterpret_cast<u64*>(pa); };
    aarch64::stage2::Mapper mapper(layout, root->value(), alloc, table);
    println("hyp: stage 2: ", hyp::dec(layout.ipa_bits), "-bit IPA, start level ", hyp::dec(layout.start_level), ", ",
            hyp::dec(layout.root_pages), " root page(s), VTCR_EL2 ", layout.vtcr(), ", guest RAM at ",
            HostPhysAddr(ram_hpa));
    const bool mapped =
        mapper.map(abi::guest_ram_base, ram_hpa, abi::guest_ram_size, aarch64::stage2::MemType::Normal) &&
        mapper.map(abi::uart_base, abi::uart_base, 0x1000, aarch64::stage2::MemType::Device);
    return mapped ? root->value() : 0;
}

// VM 1 for the CPU-sharing test: a copy of the guest image in its own RAM,
// its own stage-2 table and VMID, one vCPU time-sliced with VM 0's on CPU 0.
bool create_second_vm() {
    const auto* from = reinterpret_cast<const volatile unsigned char*>(abi::guest_ram_base);
    auto* to = reinterpret_cast<volatile unsigned char*>(abi::second_vm_ram_base);
    for (u64 i = 0; i < 0x20'0000; ++i) to[i] = from[i];  // the test image is far smaller than 2 MiB
    const u64 root = build_stage2(abi::second_vm_ram_base);
    if (root == 0) return false;
    auto created = VCpu::create(1, 0, 0, VCpuSet::only(0), Arch::CreateConfig{0, GuestPhysAddr(0)});
    if (!created) return false;
    VCpu& vcpu = second_vcpu.emplace(std::move(created).value());
    hyp::host_state.second_vm = true;
    hyp::host_state.second_vm_active.store(1);
    println("hyp: VM 1 created (VMID ", vcpu.arch_vcpu().vmid(), "), sharing CPU 0 with VM 0");
    return vcpu.setup(GuestPhysAddr(abi::guest_ram_base), HostPhysAddr(root), Arch::SetupConfig{false, false, true})
        .has_value();
}

}  // namespace

extern "C" [[noreturn]] void hyp_main() {
    u64 el;
    asm volatile("mrs %0, CurrentEL" : "=r"(el));
    println("hyp: axvcpu aarch64 example hypervisor at EL", hyp::dec(el >> 2), ", injecting through ",
            config::gic_version == 3 ? "GICv3 list registers" : "HCR_EL2.VI");
    if ((el >> 2) != 2) {
        println("hyp: not started at EL2 (use -M virt,virtualization=on)");
        hyp::semihost_exit(2);
    }
    enable_pmu();
    hyp::gic_init_distributor();
    if (!hyp::gic_init_cpu()) println("hyp: no GICv3 redistributor for this CPU (use gic-version=3)");
    hyp::host_state.cpu_count = probe_cpus();
    hyp::host_state.vcpu_count = hyp::host_state.cpu_count < 2 ? hyp::host_state.cpu_count : 2;
    println("hyp: ", hyp::dec(hyp::host_state.cpu_count), " physical CPU(s), ", hyp::dec(hyp::host_state.vcpu_count), " vCPU(s)");
    if (!enable_this_cpu(0)) hyp::semihost_exit(2);
    stage2_root = build_stage2(abi::guest_ram_base);
    if (stage2_root == 0) hyp::semihost_exit(2);

    for (usize id = 0; id < hyp::host_state.vcpu_count; ++id) {
        auto created = VCpu::create(0, id, id, VCpuSet::only(id),
                                    Arch::CreateConfig{id, GuestPhysAddr(abi::dtb_gpa)});
        if (!created) {
            println("hyp: cannot create vCPU ", id, ": ", created.error());
            hyp::semihost_exit(2);
        }
        VCpu& vcpu = vcpus[id].emplace(std::move(created).value());
        auto ready = vcpu.setup(GuestPhysAddr(abi::guest_ram_base), HostPhysAddr(stage2_root),
                                Arch::SetupConfig{false, false, true});
        if (!ready) {
            println("hyp: cannot set up vCPU ", id, ": ", ready.error());
            hyp::semihost_exit(2);
        }
    }
    println("hyp: booting the guest at ", GuestPhysAddr(abi::guest_ram_base));
    hyp::host_state.active_vcpus.store(1);
    run_vcpus(*vcpus[0].get());
    if (seen.test_id == abi::test_share) finish();
    // vCPU 0 switched itself off without powering the system down.
    println("hyp: vCPU 0 is off; waiting for the system to power down");
    for (;;) asm volatile("wfe");
}

extern "C" [[noreturn]] void hyp_secondary(u64 cpu) {
    hyp::gic_init_cpu();
    if (!enable_this_cpu(cpu)) hyp::semihost_exit(2);
    run_vcpus(*vcpus[cpu].get());
    for (;;) asm volatile("wfe");
}
