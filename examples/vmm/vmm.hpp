// The example VMM core, shared by every arch: the VM table, the per-CPU
// run queues, the mailboxes that carry interrupts between CPUs, and the one
// run loop that answers every exit. What differs between arches comes from
// a Board (board.hpp lists what it provides): boot code, console, timers,
// the interrupt controller, firmware codes and the few hypercalls and
// registers only one arch has.
//
// Everything here is plain C++ over the library's public API (AxVCpu,
// AxVCpuExitReason): it builds freestanding for the boards and hosted for
// its doctest suite (test/vmm/), which drives it over the mock arch policy.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include <axvcpu/exit_reason.hpp>
#include <axvcpu/host_api.hpp>
#include <axvcpu/types.hpp>
#include <axvcpu/vcpu.hpp>

#include "board.hpp"
#include "console.hpp"
#include "fdt.hpp"
#include "frame_pool.hpp"
#include "hypercalls.hpp"
#include "mailbox.hpp"
#include "spinlock.hpp"
#include "static_slot.hpp"
#include "vm_description.hpp"

namespace vmm {

using axvcpu::usize;
using u64 = std::uint64_t;

// What the scheduler does after an exit.
enum class Step : std::uint8_t {
    Continue,  // run this vCPU again
    Yield,     // give the CPU to the next runnable vCPU on it (the guest idles)
    Off,       // this vCPU stopped (CPU_OFF / hart_stop, or its VM powered off)
};

template <class Board>
class Vmm {
    static_assert(check_board<Board>());

public:
    using Host = typename Board::Host;
    using Arch = typename Board::Arch;
    using VCpu = axvcpu::AxVCpu<Arch, Host>;
    using Devices = typename Board::Devices;
    using Out = Console<Board>;
    static constexpr usize max_cpus = Board::max_cpus;
    static constexpr usize max_vcpus = Board::max_vcpus_per_vm;
    static constexpr usize max_vms = 2;
    static constexpr usize mailbox_depth = 32;
    static constexpr usize exit_kinds = std::variant_size_v<axvcpu::detail::ExitReasonVariant>;

    struct VCpuEntry {
        StaticSlot<VCpu> vcpu;
        Mailbox<mailbox_depth> mailbox;
        usize cpu = 0;  // the physical CPU it runs on
        bool irq_line_delivered = false;  // what the board last set (set_irq_line)
    };

    struct Vm {
        const VmDescription* description = nullptr;
        axvcpu::HostPhysAddr stage2_root;
        Devices devices;
        std::array<VCpuEntry, max_vcpus> vcpus;
        std::atomic<u64> active{0};   // started vCPUs (PSCI AFFINITY_INFO, SBI hart_get_status)
        // Bit n: vCPU n's line from the VM's interrupt controller model
        // (devices.hpp), delivered before its next entry (set_irq_line).
        std::atomic<u64> irq_lines{0};
        std::atomic<std::uint32_t> down{0};  // powered off: its vCPUs stop at their next exit
        std::optional<u64> reported;  // the guest's last `result` hypercall
        std::atomic<u64> failures_reported{0};  // `result` calls with a failure code
        std::atomic<u64> guest_reports{0};      // guest_report calls, printed or not
        std::atomic<std::uint32_t> entry_gate_checked{0};  // check_entry_gate ran on one of its vCPUs
        std::optional<u64> status;    // what it powered off with (0: success)
        // Its vCPUs' exits by kind (AxVCpuExitReason's alternatives), and
        // those counts at its last count_exits hypercall.
        std::array<std::atomic<u64>, exit_kinds> exit_counts{};
        std::array<std::atomic<u64>, exit_kinds> counted{};
        [[nodiscard]] u64 kinds_seen() const noexcept {
            u64 bits = 0;
            for (usize kind = 0; kind < exit_kinds; ++kind)
                if (exit_counts[kind].load() != 0) bits |= u64{1} << kind;
            return bits;
        }

        [[nodiscard]] axvcpu::VMId id() const noexcept { return description->id; }
        [[nodiscard]] usize vcpu_count() const noexcept { return description->vcpus; }
        VCpu& vcpu(usize index) noexcept { return *vcpus[index].vcpu; }
    };

    // --- Set-up -----------------------------------------------------------------

    // On the boot CPU, before any VM runs: where stage-2 tables come from and
    // how many physical CPUs there are. It starts the VMM afresh (no VM,
    // idle CPUs, every count zero), so a host test can boot one machine
    // after another over the same board.
    static void init(std::uintptr_t pool_base, u64 pool_bytes, usize host_cpus) noexcept {
        for (auto& slot : vms_) {
            // A slot does not destroy what it holds: each vCPU first.
            if (slot.get() != nullptr)
                for (VCpuEntry& entry : slot->vcpus) entry.vcpu.reset();
            slot.reset();
        }
        for (CpuState& cpu : cpus_) {
            cpu.runnable = {};
            cpu.count = cpu.next = cpu.running_vcpu = 0;
            cpu.running_vm = nullptr;
        }
        test_id_ = 0;
        failures_.store(0);
        ipis_.store(0);
        exit_count_.store(0);
        traced_count_.store(0);
        quiet_.store(0);
        frames_.init(pool_base, pool_bytes);
        host_cpus_ = host_cpus;
    }

    // Builds a VM from its description: stage 2 (RAM and pass-through
    // devices), the device table (emulated devices), and its vCPUs, set up
    // and Free. Nothing on failure, with the reason printed.
    static Vm* create_vm(const VmDescription& description) {
        if (description.vcpus == 0 || description.vcpus > max_vcpus ||
            description.first_cpu + description.vcpus > host_cpus_) {
            return refuse_vm(description, "more vCPUs than CPUs to run them");
        }
        usize slot = 0;
        while (slot < max_vms && vms_[slot].get() != nullptr) ++slot;
        if (slot == max_vms) return refuse_vm(description, "the VM table is full");
        Vm& vm = vms_[slot].emplace();
        vm.description = &description;
        Vm* built = build_vm(vm, description);
        if (built == nullptr) vms_[slot].reset();
        return built;
    }

private:
    static Vm* build_vm(Vm& vm, const VmDescription& description) {
        if (description.user_dtb) {
            if (const char* why = check_user_dtb(description)) {
                Out::println("vmm: VM ", Dec{description.id}, ": the device tree at ", description.dtb, ": ", why);
                return refuse_vm(description, "its device tree is missing or does not describe it");
            }
        }
        const std::optional<axvcpu::HostPhysAddr> root = Board::build_stage2(description);
        if (!root) return refuse_vm(description, "its memory cannot be mapped");
        vm.stage2_root = *root;
        for (const axvcpu::EmulatedDeviceConfig& device : description.emulated) {
            if (!Board::add_device(vm.devices, device)) {
                return refuse_vm(description, "an emulated device is unknown or overlaps another");
            }
        }
        for (usize id = 0; id < description.vcpus; ++id) {
            VCpuEntry& entry = vm.vcpus[id];
            entry.cpu = description.first_cpu + id;
            auto created = VCpu::create(description.id, id, entry.cpu, axvcpu::VCpuSet::only(entry.cpu),
                                        Board::create_config(description, id));
            if (!created) return refuse_vm(description, "a vCPU cannot be created");
            VCpu& vcpu = entry.vcpu.emplace(std::move(created).value());
            if (auto ready = vcpu.setup(description.entry, vm.stage2_root, Board::setup_config(description)); !ready) {
                return refuse_vm(description, "a vCPU cannot be set up");
            }
        }
        Out::println("vmm: VM ", Dec{description.id}, " '", description.name, "': ", Dec{description.vcpus},
                     " vCPU(s), entry ", description.entry, ", stage 2 at ", vm.stage2_root, ", ",
                     Dec{vm.devices.size()}, " emulated device(s)");
        return &vm;
    }

    // Why the user's device tree cannot boot this VM (fdt.hpp's message), or
    // nullptr when it is well formed and its memory and initramfs lie in the
    // VM's RAM. The blob is read through the host's view of the RAM region
    // that holds `dtb`, up to that region's end.
    static const char* check_user_dtb(const VmDescription& description) {
        static constexpr usize max_regions = 8;
        std::array<fdt::Range, max_regions> ram{};
        usize regions = 0;
        std::span<const std::uint8_t> blob;
        const u64 dtb = description.dtb.value();
        const bool described = for_each_ram_region(description, [&](const RamBacking& region) {
            if (regions == max_regions) return false;
            ram[regions++] = fdt::Range{region.gpa, region.size};
            if (dtb >= region.gpa && dtb - region.gpa < region.size) {
                const auto host = Host::phys_to_virt(axvcpu::HostPhysAddr(region.hpa + (dtb - region.gpa)));
                blob = {reinterpret_cast<const std::uint8_t*>(host.value()), region.size - (dtb - region.gpa)};
            }
            return true;
        });
        if (!described) return "the VM's RAM cannot be described";
        if (blob.empty()) return "it is not in the VM's RAM";
        if (dtb % 8 != 0) return "it is not 8-byte aligned";
        const auto checked = fdt::check_guest_dtb(blob, std::span<const fdt::Range>(ram.data(), regions));
        return checked ? nullptr : fdt::describe(checked.error());
    }

public:
    // Makes vCPU `index` runnable on its CPU (vCPU 0 at boot; others on CpuUp).
    // False when that CPU's run queue is full (the vCPU stays off).
    static bool start(Vm& vm, usize index) {
        CpuState& cpu = cpus_[vm.vcpus[index].cpu];
        {
            LockGuard guard(cpu.lock);
            if (cpu.count == cpu.runnable.size()) {
                failed("run queue full on CPU", vm.vcpus[index].cpu);
                return false;
            }
            vm.active.fetch_or(u64{1} << index);
            cpu.runnable[cpu.count++] = VCpuRef{&vm, index};
        }
        if (vm.vcpus[index].cpu != Board::cpu_index()) Board::kick(vm.vcpus[index].cpu);
        return true;
    }

    // Runs this CPU's vCPUs, round-robin, for ever; idles while it has none.
    [[noreturn]] static void serve() {
        CpuState& cpu = cpus_[Board::cpu_index()];
        for (;;) {
            std::optional<VCpuRef> next;
            {
                LockGuard guard(cpu.lock);
                if (cpu.count != 0) next = cpu.runnable[cpu.next % cpu.count];
            }
            if (!next) {
                Board::idle();
                continue;
            }
            const Step step = run_slice(*next);
            LockGuard guard(cpu.lock);
            if (step == Step::Off) {
                // Only now, unbound, may another CPU start it again.
                usize at = 0;
                while (!(cpu.runnable[at] == *next)) ++at;
                for (; at + 1 < cpu.count; ++at) cpu.runnable[at] = cpu.runnable[at + 1];
                --cpu.count;
                next->vm->active.fetch_and(~(u64{1} << next->index));
                guest_report(*next->vm, "vmm: VM ", Dec{next->vm->id()}, " vCPU ", Dec{next->index}, " is off");
            } else {
                cpu.next = cpu.count == 0 ? 0 : (cpu.next + 1) % cpu.count;
            }
        }
    }

    // --- What boards and the host policy ask -----------------------------------

    static Vm* vm(axvcpu::VMId id) noexcept {
        for (auto& slot : vms_)
            if (slot.get() != nullptr && slot->id() == id) return slot.get();
        return nullptr;
    }
    // The VM and vCPU this CPU is running (between bind and unbind).
    static Vm* running_vm() noexcept { return cpus_[Board::cpu_index()].running_vm; }
    static usize running_vcpu() noexcept { return cpus_[Board::cpu_index()].running_vcpu; }
    static FramePool& frames() noexcept { return frames_; }
    static usize host_cpus() noexcept { return host_cpus_; }

    // Queues `vector` for a vCPU and kicks the CPU it runs on: the only way
    // to reach a vCPU from another CPU (VmmIf::inject_interrupt).
    static void post_interrupt(axvcpu::VMId id, usize vcpu, usize vector) {
        Vm* target = vm(id);
        if (target == nullptr || vcpu >= target->vcpu_count()) return;
        VCpuEntry& entry = target->vcpus[vcpu];
        if (!entry.mailbox.post(vector)) failed("mailbox full, interrupt dropped for vCPU", vcpu);
        if (entry.cpu != Board::cpu_index()) Board::kick(entry.cpu);
    }

    // The policy calls the host API only while it has published its vCPU
    // (RunPublisher): then the vCPU must be this CPU's current vCPU and read
    // Running, as a kernel's host API would find it. The boards' host
    // callbacks check it, and a miss fails the run.
    static void expect_published(const char* where) {
        const VCpu* current = axvcpu::current_vcpu<Arch, Host>();
        if (current != nullptr && current->state() == axvcpu::VCpuState::Running) return;
        Out::println("vmm: ", where, " called while no vCPU is published as current and Running");
        failed("host API called outside a published stretch");
    }

    // A VMM-side check failed: the run ends in FAIL.
    static void failed(const char* what, u64 value = 0) {
        Out::println("vmm: CHECK FAILED: ", what, " ", Hex{value});
        failures_.fetch_add(1);
    }

    static u64 test_id() noexcept { return test_id_; }
    static u64 ipis() noexcept { return ipis_.load(); }
    static u64 exits() noexcept { return exit_count_.load(); }
    // Every VM's exits of one kind (each VM counts its own).
    static u64 exits_of(usize kind) noexcept {
        u64 total = 0;
        for (auto& slot : vms_)
            if (slot.get() != nullptr) total += slot->exit_counts[kind].load();
        return total;
    }
    template <class Payload>
    static u64 exits_of() noexcept {
        return exits_of(axvcpu::AxVCpuExitReason(Payload{}).index());
    }
    static void set_quiet(bool quiet) noexcept { quiet_.store(quiet ? 1 : 0); }

    // Prints the exits by kind and the verdict, then stops the machine:
    // PASS needs every VM to have powered off with status 0 (its own, or
    // the `result` it reported when the power-off carries none), no failed
    // VMM-side check, and, for a guest that named a test, that test's checks.
    [[noreturn]] static void finish() {
        LockGuard guard(finish_lock_);
        bool pass = failures_.load() == 0;
        for (auto& slot : vms_) {
            if (slot.get() == nullptr) continue;
            Vm& vm = *slot;
            const std::optional<u64> status = vm.status ? vm.status : vm.reported;
            if (!status) {
                Out::println("vmm: VM ", Dec{vm.id()}, " ended without a status (no result reported, no power-off status)");
                pass = false;
            } else if (*status != 0 || vm.failures_reported.load() != 0) {
                Out::println("vmm: VM ", Dec{vm.id()}, " failed: status ", Hex{*status}, ", ",
                             Dec{vm.failures_reported.load()}, " failure(s) reported");
                pass = false;
            }
        }
        for (auto& slot : vms_) {
            if (slot.get() == nullptr || slot->guest_reports.load() <= guest_report_limit) continue;
            Out::println("vmm: VM ", Dec{slot->id()}, ": ", Dec{slot->guest_reports.load() - guest_report_limit},
                         " more reports of what its guest did were not printed");
        }
        if (test_id_ != 0 && !Board::test_checks(test_id_)) pass = false;
        if (failures_.load() != 0) pass = false;
        print_exit_summary();
        Out::println(pass ? "RESULT: PASS" : "RESULT: FAIL");
        Board::exit(pass ? 0 : 1);
    }

private:
    struct VCpuRef {
        Vm* vm = nullptr;
        usize index = 0;
        bool operator==(const VCpuRef&) const = default;
    };
    struct CpuState {
        SpinLock lock;
        std::array<VCpuRef, max_vms * 2> runnable{};
        usize count = 0;
        usize next = 0;
        Vm* running_vm = nullptr;
        usize running_vcpu = 0;
    };

    static Vm* refuse_vm(const VmDescription& description, const char* why) {
        Out::println("vmm: cannot create VM ", Dec{description.id}, " '", description.name, "': ", why);
        return nullptr;
    }

    // Binds the vCPU and runs it until it yields or stops.
    static Step run_slice(VCpuRef ref) {
        Vm& vm = *ref.vm;
        VCpuEntry& entry = vm.vcpus[ref.index];
        VCpu& vcpu = *entry.vcpu;
        CpuState& cpu = cpus_[Board::cpu_index()];
        cpu.running_vm = &vm;
        cpu.running_vcpu = ref.index;
        if (auto bound = vcpu.bind(); !bound) {
            Out::println("vmm: bind of VM ", Dec{vm.id()}, " vCPU ", Dec{ref.index}, " failed: ", bound.error());
            failed("bind failed");
            finish();
        }
        Step step = Step::Continue;
        while (step == Step::Continue) {
            if (vm.down.load(std::memory_order_acquire) != 0) {
                step = Step::Off;
                break;
            }
            entry.mailbox.drain([&](usize vector) {
                if (!vcpu.inject_interrupt(vector)) failed("inject_interrupt refused vector", vector);
            });
            deliver_irq_line(vm, entry, vcpu);
            if constexpr (requires { Board::before_entry(vcpu); }) Board::before_entry(vcpu);
            auto result = vcpu.run();
            if (!result) {
                Board::run_failed(vcpu, result.error());
                Out::println("vmm: VM ", Dec{vm.id()}, " vCPU ", Dec{ref.index}, " cannot run on: ", result.error(),
                             ", vCPU state ", vcpu.state());
                failed("run failed");
                finish();
            }
            const axvcpu::AxVCpuExitReason& reason = result.value();
            count_exit(vm, vcpu, reason);
            if constexpr (requires { Board::after_exit(vcpu, reason); }) Board::after_exit(vcpu, reason);
            step = handle_exit(vm, entry, vcpu, reason);
        }
        if (auto unbound = vcpu.unbind(); !unbound) {
            Out::println("vmm: unbind failed: ", unbound.error());
            failed("unbind failed");
        }
        cpu.running_vm = nullptr;
        return step;
    }

    static void count_exit(Vm& vm, VCpu& vcpu, const axvcpu::AxVCpuExitReason& reason) {
        const u64 number = exit_count_.fetch_add(1) + 1;
        vm.exit_counts[reason.index()].fetch_add(1);
        if (quiet_.load() != 0 || !Board::trace_exits || !traced(vm, reason)) return;
        const u64 traced_number = traced_count_.fetch_add(1) + 1;
        if (traced_number <= trace_limit) {
            Out::println("exit[vm ", Dec{vm.id()}, " vcpu ", Dec{vcpu.id()}, "] #", Dec{number}, ": ", reason);
        } else if (traced_number == trace_limit + 1) {
            Out::println("vmm: more than ", Dec{trace_limit}, " exits: tracing stops (the summary counts them all)");
        }
    }

    // Accesses to a console device are the guest's output, not news.
    static bool traced(Vm& vm, const axvcpu::AxVCpuExitReason& reason) {
        if constexpr (has_ports) {
            if (const auto* in = reason.get_if<axvcpu::exit::IoRead>()) return Board::port_traced(in->port);
            if (const auto* out = reason.get_if<axvcpu::exit::IoWrite>()) return Board::port_traced(out->port);
        }
        if (const auto* read = reason.get_if<axvcpu::exit::MmioRead>()) return vm.devices.traced(read->addr);
        if (const auto* write = reason.get_if<axvcpu::exit::MmioWrite>()) return vm.devices.traced(write->addr);
        return true;
    }

    // The exits by kind, printed as one console line (one lock), so that
    // another CPU's message cannot land inside it.
    struct ExitTally {
        template <class Sink>
        friend void print_to(Sink& sink, const ExitTally&) {
            for (usize kind = 0; kind < exit_kinds; ++kind) {
                const u64 count = exits_of(kind);
                if (count == 0) continue;
                sink.write(" ");
                sink.write(axvcpu::exit::reason_names[kind]);
                sink.write(" ");
                axvcpu::fmt::write_dec(sink, count);
            }
        }
    };
    static void print_exit_summary() { Out::println("vmm: ", Dec{exit_count_.load()}, " exits:", ExitTally{}); }

    static Step handle_exit(Vm& vm, VCpuEntry& entry, VCpu& vcpu, const axvcpu::AxVCpuExitReason& reason) {
        namespace exit = axvcpu::exit;
        if (const auto* call = reason.get_if<exit::Hypercall>()) {
            if (const std::optional<u64> answer = hypercall(vm, vcpu, *call)) (void)vcpu.set_return_value(*answer);
        } else if (const auto* read = reason.get_if<exit::MmioRead>()) {
            if (const std::optional<u64> value = vm.devices.read(read->addr, read->width, LineChanges{vm})) {
                if constexpr (requires { Board::complete_load(vcpu, *read, *value); }) {
                    Board::complete_load(vcpu, *read, *value);
                } else {
                    (void)vcpu.set_gpr(read->reg, Board::loaded_value(*read, *value));
                }
            } else {
                refuse(vm, vcpu, axvcpu::MappingFlags::READ, read->addr);
            }
        } else if (const auto* write = reason.get_if<exit::MmioWrite>()) {
            if (!vm.devices.write(write->addr, write->width, write->data, LineChanges{vm})) {
                refuse(vm, vcpu, axvcpu::MappingFlags::WRITE, write->addr);
            }
        } else if (const auto* fault = reason.get_if<exit::NestedPageFault>()) {
            refuse(vm, vcpu, fault->access_flags.bits, fault->addr);
        } else if (const auto* sysreg = reason.get_if<exit::SysRegRead>()) {
            std::optional<u64> value = Board::sysreg_read(vcpu, sysreg->addr);
            if (!value && refuse_sysreg(vm, vcpu, sysreg->addr)) return Step::Continue;
            if (!value) {
                guest_report(vm, "vmm: unknown system register read ", sysreg->addr, ": reads as zero");
                value = 0;
            }
            if constexpr (requires { Board::complete_sysreg_read(vcpu, *sysreg, *value); }) {
                Board::complete_sysreg_read(vcpu, *sysreg, *value);
            } else {
                (void)vcpu.set_gpr(sysreg->reg, *value);
            }
        } else if (const auto* sysreg_write = reason.get_if<exit::SysRegWrite>()) {
            if (!Board::sysreg_write(vcpu, sysreg_write->addr, sysreg_write->value) &&
                !refuse_sysreg(vm, vcpu, sysreg_write->addr)) {
                guest_report(vm, "vmm: unknown system register write ", sysreg_write->addr, " = ", Hex{sysreg_write->value},
                             ": ignored");
            }
        } else if (const auto* in = reason.get_if<exit::IoRead>(); in != nullptr && has_ports) {
            if constexpr (has_ports) Board::io_read(vcpu, *in);
        } else if (const auto* out = reason.get_if<exit::IoWrite>(); out != nullptr && has_ports) {
            if constexpr (has_ports) {
                if (Board::io_write(vcpu, *out) == PortEffect::PowerOff) return power_off(vm, vcpu);
            }
        } else if (const auto* ipi = reason.get_if<exit::SendIPI>()) {
            send_ipi(vm, vcpu, *ipi);
        } else if (const auto* irq = reason.get_if<exit::ExternalInterrupt>()) {
            Board::external_interrupt(vcpu, irq->vector);
        } else if (const auto* up = reason.get_if<exit::CpuUp>()) {
            (void)vcpu.set_return_value(Board::cpu_up_status(cpu_up(vm, vcpu, *up)));
        } else if (reason.is<exit::CpuDown>()) {
            if constexpr (requires { Board::cpu_down(vcpu); }) Board::cpu_down(vcpu);
            return Step::Off;
        } else if (reason.is<exit::Halt>()) {
            return halt(vm, entry, vcpu);
        } else if (reason.is<exit::SystemDown>()) {
            return power_off(vm, vcpu);
        } else if (!reason.is<exit::Nothing>()) {
            Out::println("vmm: VM ", Dec{vm.id()}, " vCPU ", Dec{vcpu.id()}, ": no handler for ", reason);
            failed("unhandled exit kind", reason.index());
            finish();
        }
        return Step::Continue;
    }

    // A board with port I/O (x86) answers IN/OUT itself (board.hpp).
    static constexpr bool has_ports = requires(VCpu& vcpu, const axvcpu::exit::IoRead& in,
                                               const axvcpu::exit::IoWrite& out) {
        Board::io_read(vcpu, in);
        { Board::io_write(vcpu, out) } -> std::same_as<PortEffect>;
        { Board::port_traced(in.port) } -> std::same_as<bool>;
    };

    // A register nobody emulates: the board's fault if it raises one (true),
    // else the caller's default (reads as zero, writes ignored).
    static bool refuse_sysreg(Vm& vm, VCpu& vcpu, axvcpu::SysRegAddr addr) {
        if constexpr (requires { { Board::refuse_sysreg(vcpu, addr) } -> std::same_as<bool>; }) {
            if (Board::refuse_sysreg(vcpu, addr)) {
                guest_report(vm, "vmm: unknown system register ", addr, ": fault raised in the guest");
                return true;
            }
        }
        return false;
    }

    // The arch policy gates AxVCpu::run (set_runnable): a bound vCPU that
    // is not Ready must not enter its guest. Checked at a test VM's first
    // hypercall, on the vCPU that made it: Blocked there, between two runs,
    // run() is refused (BadState) and leaves it Invalid, which then takes
    // no register write (the policy's gate_open() says closed), and the
    // VMM's override undoes it. A gate left open would have run the guest
    // on to its next exit instead.
    static void check_entry_gate(VCpu& vcpu) {
        if (!vcpu.block()) {
            failed("block of a Ready vCPU refused");
            return;
        }
        const auto refused = vcpu.run();
        if (refused || refused.error() != axvcpu::AxError::BadState || vcpu.state() != axvcpu::VCpuState::Invalid)
            failed("a Blocked vCPU's run() was not refused by its policy");
        // Invalid takes no register write: a policy's gate_open() must not
        // say open (AxVCpu would take its word and skip the state test).
        const auto write = vcpu.set_gpr(1, 0);
        if (write || write.error() != axvcpu::AxError::BadState) failed("an Invalid vCPU took a register write");
        vcpu.set_state_unchecked(axvcpu::VCpuState::Ready);
    }

    // Nothing when the answer is already in the guest's registers.
    static std::optional<u64> hypercall(Vm& vm, VCpu& vcpu, const axvcpu::exit::Hypercall& call) {
        namespace hc = hypercall;
        // The table is the test guests' ABI: injection past the VM's own
        // interrupt controller model, checks that fail the run, loops over
        // test devices. Another VM (a Linux VM) gets none of it.
        if (!vm.description->test_guest) {
            guest_report(vm, "vmm: hypercall ", Hex{call.nr}, " from VM ", Dec{vm.id()}, ", which runs no test guest: answered -1");
            return hc::unknown;
        }
        if (vm.entry_gate_checked.exchange(1) == 0) check_entry_gate(vcpu);
        switch (call.nr) {
            case hc::hello:
                if (vm.id() == 0) {
                    test_id_ = call.args[0];
                    Out::println("vmm: the guest runs test '", Board::test_name(test_id_), "': its VMM-side checks are on");
                }
                return vm.id();
            case hc::result:
                vm.reported = call.args[0];
                if (call.args[0] != 0) vm.failures_reported.fetch_add(1);
                if (call.args[0] == 0) {
                    Out::println("vmm: VM ", Dec{vm.id()}, " reports pass");
                } else {
                    Out::println("vmm: VM ", Dec{vm.id()}, " reports FAILURE ", Hex{call.args[0]}, " (",
                                 Hex{call.args[1]}, ")");
                }
                return 0;
            case hc::sum: {
                u64 sum = 0;
                for (u64 arg : call.args) sum += arg;
                return sum;
            }
            case hc::inject: {
                // A guest's count must not keep the VMM (and every VM on
                // this CPU) in one hypercall for good: past hc::inject_limit
                // vectors the rest are refused untried.
                const u64 count = call.args[1] == 0 ? 1 : call.args[1];
                const u64 tried = count < hc::inject_limit ? count : hc::inject_limit;
                u64 refused = count - tried;
                for (u64 i = 0; i < tried; ++i) refused += vcpu.inject_interrupt(call.args[0] + i) ? 0 : 1;
                return refused;
            }
            case hc::nop: return 0;
            case hc::check_exits: {
                const u64 missing = call.args[0] & ~vm.kinds_seen();
                if (missing != 0) failed("exit kinds the guest caused but the VMM never saw", missing);
                return missing;
            }
            case hc::set_quiet: set_quiet(call.args[0] != 0); return 0;
            case hc::timer_fires: return Board::timer_fires();
            case hc::count_exits: return count_exits(vm, axvcpu::GuestPhysAddr(call.args[0]), call.args[1]);
            default: {
                const HypercallAnswer answer = Board::hypercall(vcpu, call);
                if (answer.kind == HypercallAnswer::Kind::Value) return answer.value;
                if (answer.kind == HypercallAnswer::Kind::InRegisters) return std::nullopt;
                guest_report(vm, "vmm: unknown hypercall ", Hex{call.nr}, ": answered -1");
                return hc::unknown;
            }
        }
    }

    // The guest's own count of the exits it caused, by kind (exit_kinds
    // words at `gpa` in its RAM), since its previous count_exits call and
    // including this one, against the VMM's count over the same stretch:
    // returns the kinds of `mask` that differ (a chaos guest's proof that
    // every exit it made was seen and handled once). The counts are the
    // VM's own (all its vCPUs'), not the machine's.
    static u64 count_exits(Vm& vm, axvcpu::GuestPhysAddr gpa, u64 mask) {
        std::array<u64, exit_kinds> since{};
        for (usize kind = 0; kind < exit_kinds; ++kind) {
            const u64 now = vm.exit_counts[kind].load();
            since[kind] = now - vm.counted[kind].exchange(now);
        }
        u64 differ = 0;
        if (mask != 0) {
            const auto* guest = static_cast<const volatile u64*>(guest_ram(vm, gpa.value(), exit_kinds * sizeof(u64)));
            if (guest == nullptr) {
                failed("count_exits: the counts are not in the VM's RAM", gpa.value());
                return ~u64{0};
            }
            for (usize kind = 0; kind < exit_kinds; ++kind) {
                if ((mask >> kind & 1) == 0 || guest[kind] == since[kind]) continue;
                differ |= u64{1} << kind;
                Out::println("vmm: count_exits: ", axvcpu::exit::reason_names[kind], ": the guest made ", Dec{guest[kind]},
                             ", the VMM saw ", Dec{since[kind]});
            }
            if (differ != 0) failed("exits the guest made differ from those the VMM saw, kinds", differ);
        }
        return differ;
    }

    // The host's view of `bytes` of the VM's RAM at `gpa`, or nullptr when
    // they are not all inside one RAM region.
    static const void* guest_ram(Vm& vm, u64 gpa, u64 bytes) {
        const void* found = nullptr;
        (void)for_each_ram_region(*vm.description, [&](const RamBacking& region) {
            if (gpa >= region.gpa && gpa - region.gpa <= region.size && region.size - (gpa - region.gpa) >= bytes) {
                found = reinterpret_cast<const void*>(Host::phys_to_virt(axvcpu::HostPhysAddr(region.hpa + (gpa - region.gpa))).value());
            }
            return true;
        });
        return found;
    }

    // What a guest can make the VMM say as often as it likes (a refused
    // access, an unknown register or hypercall) is printed the first
    // guest_report_limit times per VM, then only counted (finish() prints
    // how many were not): a guest looping on a fault must not flood the
    // console that every VM and the VMM share, nor slow its CPU's other
    // vCPUs by the console's speed.
    template <class... Parts>
    static void guest_report(Vm& vm, const Parts&... parts) {
        const u64 made = vm.guest_reports.fetch_add(1);
        if (made < guest_report_limit) {
            Out::println(parts...);
        } else if (made == guest_report_limit) {
            Out::println("vmm: VM ", Dec{vm.id()}, ": more than ", Dec{guest_report_limit},
                         " reports of what its guest did: the rest are counted, not printed");
        }
    }

    // An access nothing answers: the guest takes the fault a bus error would
    // give it, at the instruction.
    static void refuse(Vm& vm, VCpu& vcpu, std::uint32_t access, axvcpu::GuestPhysAddr addr) {
        guest_report(vm, "vmm: VM ", Dec{vcpu.vm_id()}, " vCPU ", Dec{vcpu.id()}, ": ", axvcpu::MappingFlags{access},
                     " access to ", addr, " refused: fault reflected to the guest");
        if (!Board::reflect_fault(vcpu, access, addr)) {
            failed("could not reflect a fault to the guest", addr.value());
            finish();
        }
    }

    // target_cpu is the first vCPU the target_cpu_aux bits count from (a
    // vCPU id outside the VM names nobody).
    static void send_ipi(Vm& vm, VCpu& self, const axvcpu::exit::SendIPI& ipi) {
        // A VM whose interrupt controller model takes SGIs (the aarch64
        // Linux VM's GIC) gets them there; the model's lines wake the targets.
        if constexpr (requires { Board::send_ipi(self, ipi); }) {
            if (Board::send_ipi(self, ipi)) {
                ipis_.fetch_add(1);
                return;
            }
        }
        for (usize target = 0; target < vm.vcpu_count(); ++target) {
            bool hit = false;
            if (ipi.send_to_all) {
                hit = target != self.id() || ipi.send_to_self;
            } else if (target >= ipi.target_cpu && target - ipi.target_cpu < 64) {
                hit = (ipi.target_cpu_aux >> (target - ipi.target_cpu) & 1) != 0;
            }
            if (!hit) continue;
            ipis_.fetch_add(1);
            if (target == self.id()) {
                if (!self.inject_interrupt(ipi.vector)) failed("inject_interrupt refused IPI vector", ipi.vector);
            } else {
                post_interrupt(vm.id(), target, ipi.vector);
            }
        }
    }

    // The caller itself is on: PSCI CPU_ON answers ALREADY_ON (ARM DEN 0022D,
    // 5.6.2) and SBI hart_start ALREADY_AVAILABLE (SBI v2.0, 9.1) for a
    // target that is already running, whoever asks. An entry point outside
    // the VM's RAM, or one the arch refuses (misaligned), is refused before
    // the target runs (both specs' INVALID_ADDRESS): started there, the
    // vCPU would fault at its entry and again at its unset trap vector for
    // ever.
    // The target is claimed (its active bit set) before it is touched: two
    // vCPUs on two CPUs asking for the same target at once must not both set
    // it up and queue it (the second finds the bit and answers already on);
    // a start that fails gives the claim back.
    static CpuUpStatus cpu_up(Vm& vm, VCpu&, const axvcpu::exit::CpuUp& up) {
        const u64 target = up.target_cpu;
        if (target >= vm.vcpu_count()) return CpuUpStatus::InvalidTarget;
        if (guest_ram(vm, up.entry_point.value(), 1) == nullptr) {
            return (vm.active.load() >> target & 1) != 0 ? CpuUpStatus::AlreadyOn : CpuUpStatus::InvalidAddress;
        }
        const u64 bit = u64{1} << target;
        if ((vm.active.fetch_or(bit) & bit) != 0) return CpuUpStatus::AlreadyOn;
        const CpuUpStatus status = set_up_and_start(vm, target, up);
        if (status != CpuUpStatus::Started) vm.active.fetch_and(~bit);
        return status;
    }
    // Inactive was Free and bound nowhere, and the claim keeps every other
    // CPU off it: this CPU may set it up.
    static CpuUpStatus set_up_and_start(Vm& vm, u64 target, const axvcpu::exit::CpuUp& up) {
        VCpu& other = vm.vcpu(target);
        if (!other.set_entry(up.entry_point)) return CpuUpStatus::InvalidAddress;
        if (!Board::set_boot_arguments(other, up.arg)) return CpuUpStatus::Failed;
        return start(vm, target) ? CpuUpStatus::Started : CpuUpStatus::Failed;
    }

    // What the VM's interrupt controller model reports (devices.hpp): an
    // output that changed, which the board maps to a vCPU. The level is kept
    // in the VM's irq_lines and delivered before that vCPU's next entry; a
    // raised line kicks the vCPU's CPU if it is not this one, so that a
    // running vCPU exits and a halted one wakes.
    struct LineChanges {
        Vm& vm;
        void operator()(usize output, bool asserted) const {
            if constexpr (requires { Board::irq_output_vcpu(output); }) {
                const std::optional<usize> index = Board::irq_output_vcpu(output);
                if (!index || *index >= vm.vcpu_count()) return;
                const u64 bit = u64{1} << *index;
                if (!asserted) {
                    vm.irq_lines.fetch_and(~bit);
                    return;
                }
                vm.irq_lines.fetch_or(bit);
                if (vm.vcpus[*index].cpu != Board::cpu_index()) Board::kick(vm.vcpus[*index].cpu);
            }
        }
    };
    // Input from the host to a device model (a console's received bytes),
    // with its interrupt routed like a guest access.
public:
    template <class Model, class F>
    static bool with_device(Vm& vm, axvcpu::GuestPhysAddr addr, F&& f) {
        return vm.devices.template with_model<Model>(addr, static_cast<F&&>(f), LineChanges{vm});
    }
    // Moves what the host console received (getc() until it has nothing)
    // into the console model at `addr` (its receive), routing its
    // interrupt; without a VM yet the bytes are dropped.
    template <class Model, class GetC>
    static void receive_console_input(Vm* vm, axvcpu::GuestPhysAddr addr, GetC&& getc) {
        while (const std::optional<char> byte = getc()) {
            if (vm != nullptr) (void)with_device<Model>(*vm, addr, [&](Model& model) { (void)model.receive(*byte); });
        }
    }

private:
    static bool irq_line(const Vm& vm, usize index) { return (vm.irq_lines.load() >> index & 1) != 0; }

    static void deliver_irq_line(Vm& vm, VCpuEntry& entry, VCpu& vcpu) {
        if constexpr (requires { Board::set_irq_line(vcpu, true); }) {
            const bool line = irq_line(vm, vcpu.id());
            if (line == entry.irq_line_delivered) return;
            entry.irq_line_delivered = line;
            Board::set_irq_line(vcpu, line);
        }
    }

    // A halted vCPU gives its CPU to another runnable one, or waits until it
    // has an interrupt to take. The run queue is looked at again after each
    // wake-up: a vCPU another CPU starts here (CPU_ON) while this one waits
    // must run now, not when this one next has an interrupt.
    static Step halt(Vm& vm, VCpuEntry& entry, VCpu& vcpu) {
        CpuState& cpu = cpus_[Board::cpu_index()];
        for (;;) {
            {
                LockGuard guard(cpu.lock);
                if (cpu.count > 1) return Step::Yield;
            }
            if (!entry.mailbox.empty() || irq_line(vm, vcpu.id()) || Board::interrupt_pending(vcpu) ||
                vm.down.load() != 0)
                return Step::Continue;
            Board::idle();
        }
    }

    static Step power_off(Vm& vm, VCpu& vcpu) {
        vm.devices.flush();
        vm.status = Board::power_off_status(vcpu);
        vm.down.store(1, std::memory_order_release);
        Out::println("vmm: VM ", Dec{vm.id()}, " powered off",
                     vm.status ? (*vm.status == 0 ? " (success)" : " (failure status)") : "");
        for (usize i = 0; i < vm.vcpu_count(); ++i)
            if (i != vcpu.id() && (vm.active.load() >> i & 1) != 0) Board::kick(vm.vcpus[i].cpu);
        for (auto& slot : vms_)
            if (slot.get() != nullptr && slot->down.load() == 0) return Step::Off;
        finish();
    }

    static constexpr u64 trace_limit = 300;
    static constexpr u64 guest_report_limit = 100;

    static inline std::array<StaticSlot<Vm>, max_vms> vms_{};
    static inline std::array<CpuState, max_cpus> cpus_{};
    static inline FramePool frames_;
    static inline usize host_cpus_ = 1;
    static inline u64 test_id_ = 0;
    static inline std::atomic<u64> failures_{0};
    static inline std::atomic<u64> ipis_{0};
    static inline std::atomic<u64> exit_count_{0};
    static inline std::atomic<u64> traced_count_{0};
    static inline std::atomic<std::uint32_t> quiet_{0};
    static inline SpinLock finish_lock_;
};

// The half of a HostApiPolicy every board shares (VmmIf, MemoryIf, HostIf):
// a board's host policy derives from it and adds time, the current-vCPU
// slot and, on aarch64, ArchIf.
template <class Board>
struct HostApi {
    using V = Vmm<Board>;

    static axvcpu::VMId current_vm_id() {
        const auto* vm = V::running_vm();
        return vm != nullptr ? vm->id() : 0;
    }
    static axvcpu::VCpuId current_vcpu_id() { return V::running_vcpu(); }
    static std::optional<usize> vcpu_num(axvcpu::VMId id) {
        V::expect_published("vcpu_num");
        const auto* vm = V::vm(id);
        return vm != nullptr ? std::optional<usize>(vm->vcpu_count()) : std::nullopt;
    }
    static std::optional<axvcpu::VCpuSet> active_vcpus(axvcpu::VMId id) {
        V::expect_published("active_vcpus");
        const auto* vm = V::vm(id);
        if (vm == nullptr) return std::nullopt;
        return axvcpu::VCpuSet::from_bits(vm->active.load(std::memory_order_acquire));
    }
    static void inject_interrupt(axvcpu::VMId vm, axvcpu::VCpuId vcpu, axvcpu::InterruptVector vector) {
        V::post_interrupt(vm, vcpu, vector);
    }
    static void inject_interrupt_to_cpus(axvcpu::VMId vm, axvcpu::VCpuSet vcpus, axvcpu::InterruptVector vector) {
        for (axvcpu::VCpuId id : vcpus) V::post_interrupt(vm, id, vector);
    }
    static void notify_vcpu_timer_expired(axvcpu::VMId, axvcpu::VCpuId) {}

    // MemoryIf: identity-mapped frames from the VMM's pool, never returned.
    static std::optional<axvcpu::HostPhysAddr> alloc_frame() { return V::frames().alloc(1, 12); }
    static std::optional<axvcpu::HostPhysAddr> alloc_contiguous_frames(usize count, usize align_log2) {
        return V::frames().alloc(count, align_log2);
    }
    static void dealloc_frame(axvcpu::HostPhysAddr) {}
    static void dealloc_contiguous_frames(axvcpu::HostPhysAddr, usize) {}
    static axvcpu::HostVirtAddr phys_to_virt(axvcpu::HostPhysAddr pa) { return axvcpu::HostVirtAddr(pa.value()); }
    static axvcpu::HostPhysAddr virt_to_phys(axvcpu::HostVirtAddr va) { return axvcpu::HostPhysAddr(va.value()); }

    // What a stage-2 mapper needs: a zeroed table page, and its entries.
    static std::optional<u64> alloc_table() {
        const auto frame = alloc_frame();
        return frame ? std::optional<u64>(frame->value()) : std::nullopt;
    }
    static u64* table_at(u64 pa) { return reinterpret_cast<u64*>(pa); }

    // HostIf
    static usize get_host_cpu_num() { return V::host_cpus(); }
};

}  // namespace vmm
