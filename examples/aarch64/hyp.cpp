// The aarch64 board of the example VMM: an EL2 hypervisor on QEMU virt
// (GICv3) that runs VM 0, one vCPU per physical CPU, with the image QEMU's
// generic loader placed at 0x48000000, through the shared VMM core
// (examples/vmm/). This file holds only what is aarch64's: CPU bring-up
// through the host's PSCI, the host GICv3 and EL2 timer, the host policy's
// time, current-vCPU slot and ArchIf, PSCI codes, the ID registers it
// emulates, and the checks and hypercalls only the aarch64 test guests use.
// The guest-visible contract is in README.md.
#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

#include <arch/aarch64/id_registers.hpp>
#include <arch/aarch64/percpu.hpp>
#include <arch/aarch64/stage2.hpp>
#include <arch/aarch64/vcpu.hpp>
#include <axvcpu/percpu.hpp>
#include <axvcpu/vcpu.hpp>

#include "examples/vmm/devices.hpp"
#include "examples/vmm/options.hpp"
#include "examples/vmm/pl011.hpp"
#include "examples/vmm/test_devices.hpp"
#include "examples/vmm/vmm.hpp"
#include "a64_ldst.hpp"
#include "gic_devices.hpp"
#include "guest_abi.hpp"
#include "platform.hpp"

// 1: VM 0 is the Linux VM (README.md, "Booting Linux") instead of the test VM.
#ifndef EXAMPLE_VM_LINUX
#define EXAMPLE_VM_LINUX 0
#endif


namespace {

using namespace axvcpu;
using hyp::Out;
using hyp::u64;
using vmm::Dec;
using vmm::Hex;

inline constexpr usize max_cpus = 4;
inline constexpr usize frame_pool_frames = 64;
alignas(65536) unsigned char frame_pool[frame_pool_frames * 4096];

#if EXAMPLE_VM_LINUX
// VM 0 as data: the Linux VM. 256 MiB of RAM identity-mapped above the
// hypervisor's (QEMU -m 1G), the kernel Image at its start (2 MiB aligned,
// text_offset 0), the device tree in its last 2 MiB; the user places both,
// and the initramfs, with QEMU's loader. The GICv3 distributor and
// redistributors and the PL011 are emulated where QEMU virt has them.
namespace linux_vm {
constexpr u64 ram_base = 0x5000'0000;
constexpr u64 ram_size = 256 << 20;
constexpr u64 dtb = ram_base + ram_size - (2 << 20);
constexpr u64 gicd_base = 0x0800'0000;
constexpr u64 gicr_base = 0x080A'0000;
constexpr std::uint32_t uart_spi = 33;
}  // namespace linux_vm
constexpr VmMemConfig vm0_memory[] = {{linux_vm::ram_base, linux_vm::ram_size, 0x7, VmMemMappingType::MapIdentical}};
constexpr EmulatedDeviceConfig vm0_emulated[] = {
    {"gicd", linux_vm::gicd_base, hyp::Gic::distributor_size(), 0, EmulatedDeviceType::InterruptController, {}},
    {"gicr", linux_vm::gicr_base, max_cpus * 0x2'0000, 0, EmulatedDeviceType::InterruptController, {}},
    {"pl011", abi::uart_base, 0x1000, linux_vm::uart_spi, EmulatedDeviceType::Console, {}}};
vmm::VmDescription vm0{.id = 0,
                       .name = "aarch64-linux",
                       .type = VMType::VMTLinux,
                       .vcpus = 1,
                       .entry = GuestPhysAddr(linux_vm::ram_base),
                       .dtb = GuestPhysAddr(linux_vm::dtb),
                       .memory = vm0_memory,
                       .emulated = vm0_emulated,
                       .user_dtb = true};
// Its virtual GIC, made for vm0.vcpus before the VM is.
vmm::StaticSlot<hyp::Gic> linux_gic;
#endif

// The test VM, and VM 1 of the CPU-sharing test, as data. VM 1 runs the same
// image at the same guest-physical addresses, backed by its own RAM.
constexpr VmMemConfig test_memory[] = {{abi::guest_ram_base, abi::guest_ram_size, 0x7, VmMemMappingType::MapIdentical}};
constexpr VmMemConfig vm1_memory[] = {{abi::guest_ram_base, abi::guest_ram_size, 0x7, VmMemMappingType::MapReserved}};
// The PL011 is emulated (vmm::Pl011) so that the guest's lines reach the
// console whole, never split by the VMM's own messages.
constexpr EmulatedDeviceConfig emulated[] = {
    {"pl011", abi::uart_base, 0x1000, 33, EmulatedDeviceType::Console, {}},
    {"testdev", abi::testdev_base, 0x1000, 0, EmulatedDeviceType::Dummy, {}}};
#if !EXAMPLE_VM_LINUX
vmm::VmDescription vm0{.id = 0,
                       .name = "aarch64-test",
                       .type = VMType::VMTRTOS,
                       .vcpus = 1,
                       .entry = GuestPhysAddr(abi::guest_ram_base),
                       .dtb = GuestPhysAddr(abi::dtb_gpa),
                       .memory = test_memory,
                       .emulated = emulated,
                       .test_guest = true};
#endif
const vmm::VmDescription vm1{.id = 1,
                             .name = "aarch64-share",
                             .type = VMType::VMTRTOS,
                             .vcpus = 1,
                             .entry = GuestPhysAddr(abi::guest_ram_base),
                             .dtb = GuestPhysAddr(abi::dtb_gpa),
                             .memory = vm1_memory,
                             .reserved_base = abi::second_vm_ram_base,
                             .emulated = emulated,
                             .test_guest = true};

usize cpu_index() { return static_cast<usize>(hyp::current_mpidr() & 0xFF); }

// --- The host policy --------------------------------------------------------------
struct Board;
using Vmm = vmm::Vmm<Board>;
// Vmm::expect_published, once Board is complete.
void expect_published(const char* where);

struct Host : vmm::HostApi<Board> {
    // TimeIf: the generic counter; guest timers are the guest's own virtual
    // timer, so the policy arms no host timers.
    static std::uint64_t current_ticks() {
        std::uint64_t v;
        asm volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
        return v;
    }
    static std::uint64_t frequency() {
        std::uint64_t v;
        asm volatile("mrs %0, cntfrq_el0" : "=r"(v));
        return v;
    }
    static std::uint64_t ticks_to_nanos(std::uint64_t ticks) { return ticks * 1'000'000'000 / frequency(); }
    static std::uint64_t nanos_to_ticks(std::uint64_t nanos) { return nanos * frequency() / 1'000'000'000; }
    static CancelToken register_timer(std::uint64_t, TimerCallback, void*) { return 0; }
    static void cancel_timer(CancelToken) {}

    // CurrentVCpuSlot: TPIDR_EL2, which nothing else here uses.
    static void* current_vcpu_slot() {
        std::uint64_t v;
        asm volatile("mrs %0, tpidr_el2" : "=r"(v));
        return reinterpret_cast<void*>(v);
    }
    static void set_current_vcpu_slot(void* vcpu) {
        // "rZ": clearing the slot writes xzr instead of materialising a zero.
        asm volatile("msr tpidr_el2, %x0" : : "rZ"(reinterpret_cast<std::uint64_t>(vcpu)));
    }

    // ArchIf
    static void hardware_inject_virtual_interrupt(InterruptVector vector);
    static std::uint32_t read_vgicd_typer() { return hyp::mmio32(hyp::gicd_base + 0x4); }
    static std::uint32_t read_vgicd_iidr() { return hyp::mmio32(hyp::gicd_base + 0x8); }
    static HostPhysAddr get_host_gicd_base() { return HostPhysAddr(hyp::gicd_base); }
    static HostPhysAddr get_host_gicr_base() { return HostPhysAddr(hyp::gicr_base); }
    static std::uint64_t fetch_irq() {
        expect_published("fetch_irq");
        return hyp::gic_ack_irq();
    }
    static void handle_irq() {}
};

using Arch = aarch64::VCpu<Host>;
using VCpu = AxVCpu<Arch, Host>;

// --- What only the aarch64 test guests ask for ----------------------------------
struct TestProbes {
    u64 bench[7] = {};
    // Per vCPU: the fed list register given back at its last CPU_OFF
    // (INTID | pending << 32 | active << 33).
    std::array<std::optional<u64>, max_cpus> given_back{};
    u64 checks = 0;
    std::atomic<u64> timer_irqs{0};
    std::atomic<u64> debug_pmu_accesses{0};  // trapped debug / PMU register accesses (RAZ/WI)
    std::atomic<u64> maintenance_irqs{0};
    std::atomic<u64> acks{0};
    std::atomic<u64> abort_kinds{0};  // bit per aarch64::AbortKind reflected
    std::atomic<u64> unknown_sysregs{0};
    // ID_AA64ISAR1/ISAR2 reads answered with the host's values: the share
    // guest's pointer authentication check ran where the CPU has it.
    std::atomic<u64> pauth_id_reads{0};
    bool second_vm_started = false;
    // The ldst test: exits checked against their instruction words, by
    // outcome; a load's expected register value, checked before the next entry.
    struct Ldst {
        u64 loads = 0, stores = 0, refused = 0;
        bool counts_agreed = false;
        bool pending = false;
        usize reg = 0;
        u64 value = 0;
        std::uint32_t insn = 0;
    } ldst;
};
TestProbes probes;

// The host's own breakpoint and watchpoint values (all disabled: E = 0),
// distinct per register, in breakpoint and watchpoint 1 and the last of
// each: the share test's VM 1 has its own (switch_debug), and the host's
// must be back whenever it is unbound.
constexpr u64 host_debug_value(unsigned op2, unsigned n) {
    switch (op2) {
        case 4: return 0x4000'1000 + u64{n} * 0x100;  // DBGBVR: bits [1:0] RES0
        case 5: return 0x1E6;                         // DBGBCR: BAS 0xF, PMC 3
        case 6: return 0x4000'2000 + u64{n} * 0x100;  // DBGWVR: bits [2:0] RES0
        default: return 0x1FFE;                       // DBGWCR: BAS 0xFF, LSC 3, PAC 3
    }
}
template <class Each>
void for_each_host_debug_register(Each&& each) {
    // The last ones from ID_AA64DFR0_EL1's BRPs and WRPs (the number less
    // one), read here rather than through the policy's DebugState.
    const u64 dfr0 = aarch64::reg::read_id_aa64dfr0_el1();
    for (const unsigned n : {1u, static_cast<unsigned>((dfr0 >> 12) & 0xF)}) {
        each.template operator()<4>(n);
        each.template operator()<5>(n);
    }
    for (const unsigned n : {1u, static_cast<unsigned>((dfr0 >> 20) & 0xF)}) {
        each.template operator()<6>(n);
        each.template operator()<7>(n);
    }
}
void set_host_debug_registers() {
    for_each_host_debug_register([]<unsigned Op2>(unsigned n) {
        aarch64::reg::write_debug_register<Op2>(n, host_debug_value(Op2, n));
    });
}
// 0 when every one holds its host value; else the first wrong one's
// op2 << 60 | n << 56 | value.
u64 host_debug_registers_wrong() {
    u64 wrong = 0;
    for_each_host_debug_register([&]<unsigned Op2>(unsigned n) {
        const u64 value = aarch64::reg::read_debug_register<Op2>(n);
        if (wrong == 0 && value != host_debug_value(Op2, n)) wrong = u64{Op2} << 60 | u64{n} << 56 | value;
    });
    return wrong;
}

void register_round(VCpu& vcpu);
void run_raw_loop(VCpu& vcpu, vmm::TestDevice& device);
void run_bench_loop(VCpu& vcpu, vmm::TestDevice& device);
void report_bench(u64 id, u64 instructions);
bool test_checks(u64 test);
void check_ldst_exit(VCpu& vcpu, const AxVCpuExitReason& reason);
void give_back_list_registers(VCpu& vcpu);
[[maybe_unused]] void check_ldst_load(VCpu& vcpu);  // the Linux VM has no test guests
#if EXAMPLE_VM_LINUX
void raise_virtual_timer(VCpu& vcpu);
void fill_list_registers(VCpu& vcpu);
bool send_sgi(VCpu& vcpu, const exit::SendIPI& ipi);
void forward_console_input(VCpu& vcpu);
#endif

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
        case abi::test_ldst: return "ldst";
        case abi::test_chaos: return "chaos";
        default: return "unknown";
    }
}

struct Board {
    using Host = ::Host;
    using Arch = ::Arch;
    using Devices =
        vmm::DeviceTable<3, vmm::TestDevice, vmm::Pl011<Out>, hyp::GicDistributor, hyp::GicRedistributors>;
    static constexpr usize max_cpus = ::max_cpus;
    static constexpr usize max_vcpus_per_vm = ::max_cpus;
    // A Linux guest makes thousands of exits: only their summary is printed.
    static constexpr bool trace_exits = vmm::options::trace && EXAMPLE_VM_LINUX == 0;

    static void putc(char c) { hyp::Uart::putc(c); }
    static usize cpu_index() { return ::cpu_index(); }
    static void kick(usize cpu) { hyp::gic_send_sgi(hyp::kick_sgi, cpu); }
    // IRQs stay masked at EL2: a pending one ends the wait and is taken as
    // an exit of the next guest entry.
    static void idle() { asm volatile("wfi" ::: "memory"); }
    [[noreturn]] static void exit(std::uint32_t code) { hyp::semihost_exit(code); }

    static std::optional<HostPhysAddr> build_stage2(const vmm::VmDescription& vm) {
        const aarch64::stage2::Layout layout = aarch64::PerCpu::stage2_layout();
        unsigned align_log2 = 12;
        while ((u64{1} << align_log2) < layout.root_bytes()) ++align_log2;
        const auto root = Host::alloc_contiguous_frames(layout.root_pages, align_log2);
        if (!root) return std::nullopt;
        aarch64::stage2::Mapper mapper(layout, root->value(), &Host::alloc_table, &Host::table_at);
        if (!vmm::map_guest_memory(mapper, vm)) return std::nullopt;
        return *root;
    }
    static bool add_device(Devices& devices, const EmulatedDeviceConfig& config) {
        const GuestPhysAddr base(config.base_gpa);
        if (config.name == "testdev") return devices.add<vmm::TestDevice>(base, config.length);
#if EXAMPLE_VM_LINUX
        if (config.name == "gicd") return devices.add<hyp::GicDistributor>(base, config.length, *linux_gic);
        if (config.name == "gicr") {
            return devices.add<hyp::GicRedistributors>(base, config.length, *linux_gic, hyp::gic_no_lock);
        }
        if (config.name == "pl011") {
            return devices.add<vmm::Pl011<Out>>(base, config.length) &&
                   devices.route_irq(base, static_cast<std::uint32_t>(config.irq_id));
        }
#endif
        if (config.emu_type == EmulatedDeviceType::Console) return devices.add<vmm::Pl011<Out>>(base, config.length);
        return false;
    }
    // The Linux VM's GIC: output n is vCPU n's (gic_devices.hpp); its list
    // registers are filled before each entry (before_entry).
    static std::optional<usize> irq_output_vcpu(usize output) { return output; }
    // MPIDR Aff0 = the vCPU id; x0 = the device tree for vCPU 0.
    static Arch::CreateConfig create_config(const vmm::VmDescription& vm, usize id) { return {id, vm.dtb}; }
    // Both VMs trap the ID registers (sysreg_read answers). Test VM 0
    // traps the debug registers (RAZ/WI below); test VM 1, the second VM
    // of the share test, has breakpoints and watchpoints of its own
    // (switch_debug); VM 0 leaves the PMU to its guest, whose benchmark reads the
    // cycle counter, VM 1 traps it. The Linux VM, its machine's only VM,
    // uses the debug registers itself (ptrace breakpoints, single-step: the
    // policy does not switch them, and RAZ/WI would make them fail
    // silently) and traps the PMU, which it is told it lacks.
    static Arch::SetupConfig setup_config(const vmm::VmDescription& vm) {
        return {.trap_id_registers = true,
                .passthrough_debug = !vm.test_guest,
                .passthrough_pmu = vm.test_guest && vm.id == 0,
                .switch_debug = vm.test_guest && vm.id == 1};
    }
    // PSCI CPU_ON: the context argument arrives in x0.
    // PSCI CPU_ON: the state a started PE has (a vCPU that did CPU_OFF
    // would keep its own), x0 = context id.
    static bool set_boot_arguments(VCpu& vcpu, u64 context) {
        return vcpu.arch_vcpu().reset_for_cpu_up() && vcpu.set_gpr(0, context);
    }
    static u64 cpu_up_status(vmm::CpuUpStatus status) {
        switch (status) {
            case vmm::CpuUpStatus::Started: return aarch64::psci::success;
            case vmm::CpuUpStatus::AlreadyOn: return static_cast<u64>(aarch64::psci::already_on);
            case vmm::CpuUpStatus::InvalidTarget: return static_cast<u64>(aarch64::psci::invalid_parameters);
            case vmm::CpuUpStatus::InvalidAddress: return static_cast<u64>(aarch64::psci::invalid_address);
            case vmm::CpuUpStatus::Failed: break;
        }
        return static_cast<u64>(aarch64::psci::internal_failure);
    }
    static u64 loaded_value(const exit::MmioRead& read, u64 raw) { return aarch64::mmio_load_value(read, raw); }
    // The guest takes a synchronous external abort at its own VBAR_EL1, as
    // from a bus with nothing there: a data abort (FAR_EL1 = the address,
    // WnR for a write) or, for a fetch, an instruction abort.
    static bool reflect_fault(VCpu& vcpu, std::uint32_t access, GuestPhysAddr) {
        const aarch64::AbortKind kind = aarch64::classify_abort(vcpu.arch_vcpu().last_trap().esr);
        probes.abort_kinds.fetch_or(u64{1} << static_cast<unsigned>(kind));
        const auto exception = (access & MappingFlags::EXECUTE) != 0 ? aarch64::GuestException::InstructionAbort
                                                                     : aarch64::GuestException::DataAbort;
        return vcpu.arch_vcpu().inject_exception(exception).has_value();
    }
    // Test VM: ID_AA64MMFR0_EL1 reads a value the exits guest checks,
    // ID_AA64ISAR1_EL1 and ID_AA64ISAR2_EL1 the host's (the share guest
    // tests pointer authentication keys where the CPU has them); the other
    // ID registers trapped by TID3 are not emulated. Linux VM: the ID
    // registers read the host's values without what the policy does not
    // virtualise (arch/aarch64/id_registers.hpp).
    // Test VM 0's debug registers, VM 1's OS lock registers (it has
    // breakpoints and watchpoints of its own), and the PMU registers of VM 1
    // and the Linux VM trap (setup_config): they read as zero (OSLSR_EL1
    // says the OS lock is unlocked) and ignore writes, so no guest sees
    // another's breakpoints or counters, and none resets the host's.
    static constexpr SysRegAddr oslsr_el1 = aarch64::sysreg_addr(2, 0, 1, 1, 4);
    static bool trapped_debug_or_pmu(SysRegAddr addr) {
        if (!aarch64::is_debug_register(addr) && !aarch64::is_pmu_register(addr)) return false;
        probes.debug_pmu_accesses.fetch_add(1);
        return true;
    }
    static constexpr SysRegAddr dbgbvr1_el1 = aarch64::sysreg_addr(2, 0, 0, 1, 4);
    static std::optional<u64> sysreg_read(VCpu& vcpu, SysRegAddr addr) {
        // The share guest in VM 0 reads DBGBVR1_EL1 after each switch from
        // VM 1, which has breakpoints and watchpoints of its own: the CPU
        // must hold the host's again, which VM 1's unbind restored.
        if (addr == dbgbvr1_el1 && vcpu.vm_id() == 0) {
            if (const u64 wrong = host_debug_registers_wrong()) Vmm::failed("the host's debug registers not back for VM 0", wrong);
        }
        // OSLSR_EL1.OSLM = 0b10: the OS lock is implemented (AArch64
        // requires it) and unlocked.
        if (trapped_debug_or_pmu(addr)) return addr == oslsr_el1 ? u64{0b1000} : 0;
        if constexpr (EXAMPLE_VM_LINUX != 0) {
            if (const std::optional<u64> value = aarch64::id_registers::guest_value(addr)) return value;
        } else if (addr == aarch64::sysregs::id_aa64mmfr0_el1) {
            return abi::fake_mmfr0;
        } else if (addr == aarch64::id_registers::id_aa64isar1_el1 || addr == aarch64::id_registers::id_aa64isar2_el1) {
            probes.pauth_id_reads.fetch_add(1);
            return aarch64::id_registers::guest_value(addr);
        } else if (addr == aarch64::id_registers::id_aa64dfr0_el1 && vcpu.vm_id() == 1) {
            // VM 1 (switch_debug) learns its breakpoint and watchpoint counts.
            return aarch64::id_registers::guest_value(addr);
        }
        probes.unknown_sysregs.fetch_add(1);
        return std::nullopt;
    }
    static bool sysreg_write(VCpu&, SysRegAddr addr, u64) {
        if (trapped_debug_or_pmu(addr)) return true;
        probes.unknown_sysregs.fetch_add(1);
        return false;
    }
    static void external_interrupt([[maybe_unused]] VCpu& vcpu, usize vector) {
        if (vector == hyp::guest_vtimer_ppi) {
            // Test VM: left enabled by a Halt wait that ended for another
            // reason. Linux VM: the guest's timer fired; it reaches the
            // guest as its PPI 27 and stays masked here until the guest
            // has finished with it (finish_interrupt).
            hyp::gic_set_private_enabled(hyp::guest_vtimer_ppi, false);
#if EXAMPLE_VM_LINUX
            raise_virtual_timer(vcpu);
#endif
        } else if (vector == hyp::hyp_timer_ppi) {
            hyp::hyp_timer_stop();
            probes.timer_irqs.fetch_add(1);
#if EXAMPLE_VM_LINUX
        } else if (vector == hyp::uart_intid) {
            forward_console_input(vcpu);
#endif
        } else if (vector == aarch64::vgic::maintenance_intid) {
            probes.maintenance_irqs.fetch_add(1);  // list registers ran dry: the next entry refills them
        }
        // The kick SGI carries nothing: the mailbox is drained before the next entry.
    }
    // A halted vCPU waits for what would end its WFI on hardware
    // (aarch64::VCpu::interrupt_pending), its virtual timer included: the
    // timer's PPI is enabled at the host GIC only for the wait, so that it
    // ends idle()'s WFI when the guest's deadline comes, and disabled again
    // before the guest runs (it is not delivered to the guest as an
    // interrupt; a level PPI left enabled would exit at every entry).
    static bool interrupt_pending(VCpu& vcpu) {
        // The Linux VM keeps the timer's PPI enabled (but while the guest
        // handles it): its WFI-wake is the interrupt itself. A pending host
        // interrupt (console input) also ends the wait: the guest resumes,
        // as a WFI may, and the interrupt is taken as the entry's exit.
        if constexpr (EXAMPLE_VM_LINUX != 0) return vcpu.arch_vcpu().interrupt_pending() || hyp::host_irq_pending();
        if (vcpu.arch_vcpu().interrupt_pending()) {
            hyp::gic_set_private_enabled(hyp::guest_vtimer_ppi, false);
            return true;
        }
        hyp::gic_set_private_enabled(hyp::guest_vtimer_ppi, true);
        return false;
    }
    // PSCI SYSTEM_OFF: for a test guest it carries no status (its `result`
    // decides); for the Linux VM it is the clean power-off (success). A
    // reset is not a clean power-off (a kernel with panic=-1 resets).
    static std::optional<u64> power_off_status(VCpu& vcpu) {
        const u64 function = vcpu.arch_vcpu().guest_context().x[0] & 0xFFFF'FFFF;
        if (function == aarch64::psci::fn_system_off) {
            if constexpr (EXAMPLE_VM_LINUX != 0) return 0;
            return std::nullopt;
        }
        return 1;
    }
    static vmm::HypercallAnswer hypercall(VCpu& vcpu, const exit::Hypercall& call);
    static u64 timer_fires() { return ~u64{0}; }
    static const char* test_name(u64 id) { return ::test_name(id); }
    static bool test_checks(u64 id) { return ::test_checks(id); }
    static void run_failed(VCpu& vcpu, AxError error);
    static void after_exit(VCpu&, const AxVCpuExitReason& reason);
#if EXAMPLE_VM_LINUX
    static void before_entry(VCpu& vcpu) { fill_list_registers(vcpu); }
#else
    static void before_entry(VCpu& vcpu) { check_ldst_load(vcpu); }
#endif
    static void cpu_down(VCpu& vcpu) { give_back_list_registers(vcpu); }
#if EXAMPLE_VM_LINUX
    // An ICC_SGI1R_EL1 write: the model pends the SGI at its targets
    // (honouring their redistributors' enables and priorities).
    static bool send_ipi(VCpu& vcpu, const exit::SendIPI& ipi) { return send_sgi(vcpu, ipi); }
#endif
};

void expect_published(const char* where) { Vmm::expect_published(where); }

#if EXAMPLE_VM_LINUX
// Runs f(gic) under the VM's bus lock, then routes the GIC's lines.
template <class F>
void with_gic(VCpu& vcpu, F&& f) {
    (void)Vmm::with_device<hyp::GicDistributor>(*Vmm::vm(vcpu.vm_id()), GuestPhysAddr(linux_vm::gicd_base),
                                                [&](hyp::GicDistributor& gicd) { f(gicd.gic()); });
}

// The guest's virtual timer asserted (its PPI fired here): the VGic's PPI 27
// line for this vCPU goes high.
void raise_virtual_timer(VCpu& vcpu) {
    with_gic(vcpu, [&](hyp::Gic& gic) { (void)gic.set_level(vcpu.id(), hyp::guest_vtimer_ppi, true); });
}

// The host UART's received bytes go to the VM's PL011, whose line the
// device table routes to the VGic's SPI 33.
void forward_console_input(VCpu& vcpu) {
    Vmm::receive_console_input<vmm::Pl011<Out>>(Vmm::vm(vcpu.vm_id()), GuestPhysAddr(abi::uart_base), &hyp::Uart::getc);
}

bool send_sgi(VCpu& vcpu, const exit::SendIPI& ipi) {
    bool sent = false;
    with_gic(vcpu, [&](hyp::Gic& gic) { sent = gic.send_sgi(vcpu.id(), ipi).has_value(); });
    return sent;
}

// The virtual timer's interrupt left the list registers: the model's PPI
// line follows the timer itself again, whose host PPI is enabled again here
// (it fires at once if still asserted).
void rearm_virtual_timer(hyp::Gic& gic, VCpu& vcpu) {
    (void)gic.set_level(vcpu.id(), hyp::guest_vtimer_ppi, vcpu.arch_vcpu().virtual_timer_asserted());
    hyp::gic_set_private_enabled(hyp::guest_vtimer_ppi, true);
}

// The guest finished with `intid` (its list register went empty): the
// model re-samples a level source.
void finish_interrupt(hyp::Gic& gic, VCpu& vcpu, std::uint32_t intid) {
    (void)gic.on_eoi(vcpu.id(), intid);
    if (intid == hyp::guest_vtimer_ppi) rearm_virtual_timer(gic, vcpu);
}

// CPU_OFF: the interrupts in the vCPU's list registers keep their pending
// and active state in the model (Linux deactivates its private ones when
// the CPU comes up again); left there, an active one would stay in flight
// for good, and CPU_ON (reset_for_cpu_up) refuses the vCPU.
void give_back_list_registers(VCpu& vcpu) {
    with_gic(vcpu, [&](hyp::Gic& gic) {
        vcpu.arch_vcpu().give_back_list_registers([&](std::uint32_t intid, bool pending, bool active) {
            if (!gic.take_back(vcpu.id(), intid, pending, active)) {
                Vmm::failed("CPU_OFF: a list register the model did not hand out", intid);
            }
            if (intid == hyp::guest_vtimer_ppi) rearm_virtual_timer(gic, vcpu);
        });
    });
}

// Before each entry: report what the guest finished, hand the model's
// interrupts to free list registers, and ask for a maintenance interrupt
// while more wait than fit. Every list register carries the EOI bit, edge
// interrupts too: the model holds a second SGI of an INTID still in flight
// until on_eoi, so the guest's deactivation must exit at once, not at the
// next unrelated exit (a timer tick later).
void fill_list_registers(VCpu& vcpu) {
    with_gic(vcpu, [&](hyp::Gic& gic) {
        auto& arch = vcpu.arch_vcpu();
        arch.collect_finished([&](std::uint32_t intid) { finish_interrupt(gic, vcpu, intid); });
        while (arch.free_list_registers() != 0) {
            const std::optional<aarch64::vgic::Pending> next = gic.next_for(vcpu.id());
            if (!next) break;
            if (!arch.deliver_list_register(next->list_register() | aarch64::vgic::ich_lr::eoi)) {
                (void)gic.retract(vcpu.id(), next->intid);
                break;
            }
        }
        arch.request_refill(gic.has_deliverable(vcpu.id()));
    });
}
#else
// The test VMs have no GIC model: the smp guest has one list register fed
// as a model would (feed_list_register) and reads back what CPU_OFF gave
// back (given_back).
void give_back_list_registers(VCpu& vcpu) {
    vcpu.arch_vcpu().give_back_list_registers([&](std::uint32_t intid, bool pending, bool active) {
        probes.given_back[vcpu.id() % max_cpus] = intid | u64{pending} << 32 | u64{active} << 33;
    });
}
#endif

void Host::hardware_inject_virtual_interrupt(InterruptVector vector) {
    Vmm::post_interrupt(current_vm_id(), current_vcpu_id(), vector);
}

static_assert(api::check_host_api<Host>());
static_assert(api::check_arch_if<Host>());

vmm::HypercallAnswer Board::hypercall(VCpu& vcpu, const exit::Hypercall& call) {
    namespace hc = vmm::hypercall;
    switch (call.nr) {
        case hc::check_regs: register_round(vcpu); return vmm::HypercallAnswer::in_registers();
        case hc::host_timer:
            if (call.args[0] != 0) hyp::hyp_timer_arm(call.args[0]);
            return vmm::HypercallAnswer::of(probes.timer_irqs.load());
        case hc::bench:
            if (call.args[0] < 7) probes.bench[call.args[0]] = call.args[1];
            report_bench(call.args[0], call.args[1]);
            return vmm::HypercallAnswer::of(0);
        case hc::bench_begin:
            run_bench_loop(vcpu, *Vmm::vm(vcpu.vm_id())->devices.find_model<vmm::TestDevice>(GuestPhysAddr(abi::testdev_base)));
            return vmm::HypercallAnswer::of(0);
        case hc::bench_raw:
            run_raw_loop(vcpu, *Vmm::vm(vcpu.vm_id())->devices.find_model<vmm::TestDevice>(GuestPhysAddr(abi::testdev_base)));
            return vmm::HypercallAnswer::of(0);
        case hc::ldst_counts: {
            const auto& ldst = probes.ldst;
            const bool agree = call.args[0] == ldst.loads && call.args[1] == ldst.stores &&
                               call.args[2] == ldst.refused && call.args[3] == (hyp::host_has_lse() ? 1 : 0);
            Out::println("vmm: ldst: ", Dec{ldst.loads}, " loads, ", Dec{ldst.stores}, " stores, ", Dec{ldst.refused},
                         " refused accesses checked against their encodings (the guest counted ", Dec{call.args[0]}, ", ",
                         Dec{call.args[1]}, ", ", Dec{call.args[2]}, ")");
            if (!agree) Vmm::failed("ldst: the guest's access counts differ from the VMM's");
            probes.ldst.counts_agreed = agree;
            return vmm::HypercallAnswer::of(agree ? 0 : 1);
        }
        case hc::feed_list_register:
            // 1020..1023 are special INTIDs no list register may carry.
            if (call.args[0] > aarch64::vgic::max_intid) return vmm::HypercallAnswer::of(1);
            return vmm::HypercallAnswer::of(vcpu.arch_vcpu().deliver_list_register(
                aarch64::vgic::Pending{static_cast<std::uint32_t>(call.args[0]),
                                       static_cast<std::uint8_t>(call.args[1])}.list_register()) ? 0 : 1);
        case hc::given_back:
            return vmm::HypercallAnswer::of(std::exchange(probes.given_back[vcpu.id() % max_cpus], std::nullopt)
                                                .value_or(~u64{0}));
        case hc::ack_vi: {
            const std::optional<usize> vector = vcpu.arch_vcpu().acknowledge_virtual_irq();
            if (vector) probes.acks.fetch_add(1);
            return vmm::HypercallAnswer::of(vector ? *vector : 1023);
        }
        default: return vmm::HypercallAnswer::unknown();
    }
}

// The CPU-sharing test: VM 1 joins VM 0's vCPU on CPU 0 once VM 0 has said
// hello, with a copy of the guest image in its own RAM.
void Board::after_exit(VCpu& vcpu, const AxVCpuExitReason& reason) {
    if (Vmm::test_id() == abi::test_ldst && vcpu.vm_id() == 0) check_ldst_exit(vcpu, reason);
    // after_exit runs before the core handles the exit: look at the hello
    // itself, as the core has not recorded the test id yet.
    const auto* call = reason.get_if<exit::Hypercall>();
    if (call == nullptr || call->nr != vmm::hypercall::hello || call->args[0] != abi::test_share) return;
    // Only a test guest's hello counts, as in the core (a Linux VM's would
    // start VM 1 over host RAM the Linux build leaves free).
    if (probes.second_vm_started || vcpu.vm_id() != 0 || !Vmm::vm(0)->description->test_guest) return;
    probes.second_vm_started = true;
    const auto* from = reinterpret_cast<const volatile unsigned char*>(abi::guest_ram_base);
    auto* to = reinterpret_cast<volatile unsigned char*>(abi::second_vm_ram_base);
    for (u64 i = 0; i < 0x20'0000; ++i) to[i] = from[i];  // the test image is far smaller than 2 MiB
    auto* second = Vmm::create_vm(vm1);
    if (second == nullptr) {
        Vmm::failed("VM 1 cannot be created");
        return;
    }
    (void)Vmm::start(*second, 0);  // a full run queue is reported and fails the run
    // One bound vCPU per CPU: the policy refuses VM 1's while VM 0's is
    // bound here (through the arch call, which leaves the state machine alone).
    if (const auto refused = second->vcpu(0).arch_vcpu().bind(); refused || refused.error() != AxError::BadState)
        Vmm::failed("VM 1's vCPU was bound on a CPU with VM 0's bound");
    // Debug registers both passed through and switched: refused, and VM 1's
    // own set-up (switch_debug) stays.
    const auto both = second->vcpu(0).arch_vcpu().setup({.passthrough_debug = true, .switch_debug = true});
    if (both || both.error() != AxError::InvalidInput) Vmm::failed("setup took passthrough_debug with switch_debug");
}

// An exit the policy refused. The unmodelled test expects exactly one:
// the SVE trap (EC 0x19), refused and never resumed.
void Board::run_failed(VCpu& vcpu, AxError error) {
    const aarch64::TrapRecord trap = vcpu.arch_vcpu().last_trap();
    Out::println("vmm: exit not handled (kind ", static_cast<u64>(vcpu.arch_vcpu().last_exit_kind()), ", ESR_EL2 ",
                 Hex{trap.esr}, ", FAR_EL2 ", Hex{trap.far}, ", PC ", Hex{vcpu.arch_vcpu().guest_context().elr}, ")");
    if (Vmm::test_id() != abi::test_unmodelled) return;
    const bool refused = aarch64::esr::ec(trap.esr) == 0x19 && vcpu.state() == VCpuState::Invalid &&
                         error == AxError::Unsupported;
    Out::println("vmm: unmodelled exception ", refused ? "refused as expected" : "NOT handled as expected");
    Out::println(refused ? "RESULT: PASS" : "RESULT: FAIL");
    hyp::semihost_exit(refused ? 0 : 1);
}

template <class T>
bool seen() {
    return Vmm::exits_of<T>() != 0;
}

// The VMM-side checks of each test guest (README.md: they run only for a
// guest that names its test with hello).
bool test_checks(u64 test) {
    bool ok = seen<exit::SystemDown>() && seen<exit::Hypercall>();
    const auto expect = [&](bool condition, const char* what, u64 value = 0) {
        if (!condition) Vmm::failed(what, value);
        ok = ok && condition;
    };
    switch (test) {
        case abi::test_exits: {
            expect(seen<exit::MmioRead>() && seen<exit::MmioWrite>() && seen<exit::SysRegRead>() &&
                       seen<exit::SysRegWrite>() && seen<exit::SendIPI>() && seen<exit::Halt>() &&
                       seen<exit::ExternalInterrupt>(),
                   "exit kinds missing");
            const vmm::TestDevice& device =
                *Vmm::vm(0)->devices.find_model<vmm::TestDevice>(GuestPhysAddr(abi::testdev_base));
            // The exits guest writes these, in this order, with these widths.
            constexpr vmm::TestDevice::SinkWrite expected[] = {{AccessWidth::Byte, 0xA5},
                                                               {AccessWidth::Word, 0xBEEF},
                                                               {AccessWidth::Dword, 0xDEAD'BEEF},
                                                               {AccessWidth::Qword, 0x0123'4567'89AB'CDEF},
                                                               {AccessWidth::Qword, 0}};
            expect(device.sink_writes() == 5, "test device sink writes", device.sink_writes());
            for (usize i = 0; i < 5 && i < device.sink_writes(); ++i) {
                expect(device.sink_log()[i].width == expected[i].width && device.sink_log()[i].value == expected[i].value,
                       "unexpected sink write", device.sink_log()[i].value);
            }
            expect(probes.timer_irqs.load() == 1, "host timer interrupts", probes.timer_irqs.load());
            expect(probes.maintenance_irqs.load() != 0, "no maintenance interrupt while list registers overflowed");
            break;
        }
        case abi::test_regs:
            expect(seen<exit::MmioRead>() && seen<exit::MmioWrite>() && seen<exit::SysRegRead>() && seen<exit::Halt>(),
                   "exit kinds missing");
            expect(probes.checks == 200, "register checks", probes.checks);
            expect(Vmm::exits() >= 1000, "exits", Vmm::exits());
            break;
        case abi::test_smp:
            expect(seen<exit::CpuUp>() && seen<exit::CpuDown>() && seen<exit::SendIPI>() && seen<exit::ExternalInterrupt>(),
                   "exit kinds missing");
            expect(Vmm::ipis() >= 2, "SGIs routed", Vmm::ipis());
            break;
        case abi::test_bad: {
            expect(seen<exit::NestedPageFault>() && seen<exit::MmioRead>() && seen<exit::SysRegWrite>(), "exit kinds missing");
            const u64 kinds = u64{1} << static_cast<unsigned>(aarch64::AbortKind::Mmio) |
                              u64{1} << static_cast<unsigned>(aarch64::AbortKind::NoSyndrome) |
                              u64{1} << static_cast<unsigned>(aarch64::AbortKind::InstructionFetch);
            expect((probes.abort_kinds.load() & kinds) == kinds, "abort kinds reflected", probes.abort_kinds.load());
            expect(probes.unknown_sysregs.load() >= 2, "unknown sysregs reported", probes.unknown_sysregs.load());
            expect(probes.debug_pmu_accesses.load() == 5, "debug register accesses trapped", probes.debug_pmu_accesses.load());
            break;
        }
        case abi::test_bench: break;
        case abi::test_chaos:
            // The guest compared its exits with the VMM's by kind (count_exits) as it went.
            expect(seen<exit::MmioRead>() && seen<exit::MmioWrite>() && seen<exit::NestedPageFault>() &&
                       seen<exit::SysRegRead>() && seen<exit::SysRegWrite>() && seen<exit::SendIPI>() &&
                       seen<exit::Halt>() && seen<exit::CpuUp>(),
                   "exit kinds missing");
            break;
        case abi::test_ldst:
            expect(seen<exit::MmioRead>() && seen<exit::MmioWrite>() && seen<exit::NestedPageFault>(), "exit kinds missing");
            expect(probes.ldst.counts_agreed, "ldst: the guest's and the VMM's access counts never agreed");
            break;
        case abi::test_vi:
            expect(config::gic_version == 2, "the vi test needs the AXVCPU_GIC_VERSION=2 hypervisor");
            expect(probes.acks.load() == 3, "vectors acknowledged", probes.acks.load());
            break;
        case abi::test_share: {
            // VM 1's three PMU accesses and VM 0's DBGBVR1_EL1 read after each of its 60 switches.
            expect(probes.debug_pmu_accesses.load() == 63, "debug and PMU accesses trapped", probes.debug_pmu_accesses.load());
            const auto* second = Vmm::vm(1);
            expect(second != nullptr, "VM 1 never ran");
            expect(Vmm::exits_of<exit::Halt>() >= 100, "CPU switches between the VMs", Vmm::exits_of<exit::Halt>());
            expect(second != nullptr && Vmm::vm(0)->vcpu(0).arch_vcpu().vmid() != second->vcpus[0].vcpu->arch_vcpu().vmid(),
                   "the two VMs do not have distinct VMIDs");
            // Both VMs looked for pointer authentication (and, where the
            // CPU has it, checked their keys after every switch).
            expect(probes.pauth_id_reads.load() >= 4, "ID_AA64ISAR1/ISAR2 reads by the two VMs",
                   probes.pauth_id_reads.load());
            break;
        }
        default: expect(false, "no VMM-side checks for this test id", test);
    }
    return ok;
}

// --- The ldst test: each access to the test device against its encoding ---------
// The policy decodes a data abort from its syndrome (exit_decode.hpp); this
// decodes the instruction word at the trapping PC (a64_ldst.hpp, from the
// Arm ARM's encoding tables) and requires the two to agree: an MMIO exit
// only for a single-register form without writeback, with its address,
// width, direction, register, extension and register width, and a store's
// data as the register holds it; a refusal (NestedPageFault, NoSyndrome)
// for every other form. The test VM's guest runs with its MMU off and its
// RAM identity-mapped, so the PC is where the instruction is.
void check_ldst_exit(VCpu& vcpu, const AxVCpuExitReason& reason) {
    const auto* read = reason.get_if<exit::MmioRead>();
    const auto* write = reason.get_if<exit::MmioWrite>();
    const auto* fault = reason.get_if<exit::NestedPageFault>();
    if (read == nullptr && write == nullptr && fault == nullptr) return;
    const u64 gpa = read != nullptr ? read->addr.value() : write != nullptr ? write->addr.value() : fault->addr.value();
    if (gpa - abi::testdev_base >= 0x1000) return;  // only the test device's page
    auto& arch = vcpu.arch_vcpu();
    const aarch64::TrapRecord trap = arch.last_trap();
    const u64 pc = aarch64::trap_pc(trap);
    const std::uint32_t insn = *reinterpret_cast<const volatile std::uint32_t*>(pc);
    const aarch64::GuestContext& ctx = arch.guest_context();
    const a64::LdSt d = a64::decode(
        insn, [&](unsigned n) { return aarch64::read_gpr(ctx.x, n); },
        [&](unsigned n) { return n == 31 ? arch.sp_el1() : ctx.x[n]; });
    bool ok = true;
    const auto expect = [&](bool condition, const char* what) {
        if (condition || !ok) return;
        ok = false;
        Out::println("vmm: ldst: the exit of ", Hex{insn}, " at ", Hex{pc}, " disagrees with its encoding: ", what);
        Vmm::failed("ldst: exit disagrees with the instruction's encoding", insn);
    };
    expect(d.form != a64::Form::NotLoadStore && d.form != a64::Form::Other, "not a load/store the test makes");
    expect(d.address == gpa, "address");
    if (fault != nullptr) {
        expect(!a64::has_syndrome(d.form), "a single-register access refused");
        expect(aarch64::classify_abort(trap.esr) == aarch64::AbortKind::NoSyndrome, "abort kind");
        if (d.form != a64::Form::Atomic) {
            expect(fault->access_flags.bits == (d.load ? MappingFlags::READ : MappingFlags::WRITE), "direction");
        }
        if (ok) ++probes.ldst.refused;
        return;
    }
    expect(a64::has_syndrome(d.form), "an access without a syndrome decoded as MMIO");
    expect(d.load == (read != nullptr), "direction");
    const AccessWidth width = read != nullptr ? read->width : write->width;
    expect(size_in_bytes(width) == d.size, "width");
    if (write != nullptr) {
        const u64 data = aarch64::read_gpr(ctx.x, d.rt);
        expect(write->data == (d.size == 8 ? data : data & ((u64{1} << (8 * d.size)) - 1)), "stored value");
        if (ok) ++probes.ldst.stores;
        return;
    }
    expect(read->reg == d.rt, "register");
    expect(read->signed_ext == d.sign_extend, "sign extension");
    expect((read->reg_width == AccessWidth::Qword) == d.reg64, "register width");
    // What the register must hold at the next entry: the device's bytes,
    // extended as the encoding says (the device has no read side effects).
    auto* device = Vmm::vm(0)->devices.find_model<vmm::TestDevice>(GuestPhysAddr(abi::testdev_base));
    const std::optional<u64> raw = device->read(gpa - abi::testdev_base, width);
    if (ok && raw && d.rt != aarch64::zero_register) {
        probes.ldst.pending = true;
        probes.ldst.reg = d.rt;
        probes.ldst.value = a64::loaded_value(d, *raw);
        probes.ldst.insn = insn;
    }
    if (ok) ++probes.ldst.loads;
}

void check_ldst_load(VCpu& vcpu) {
    if (!probes.ldst.pending) return;
    probes.ldst.pending = false;
    const u64 value = vcpu.arch_vcpu().guest_context().x[probes.ldst.reg];
    if (value == probes.ldst.value) return;
    Out::println("vmm: ldst: ", Hex{probes.ldst.insn}, " left x", Dec{probes.ldst.reg}, " = ", Hex{value},
                 ", its encoding says ", Hex{probes.ldst.value});
    Vmm::failed("ldst: loaded value", value);
}

// --- The register-integrity round (regs guest) ----------------------------------
u64 reg_pattern(u64 seed, unsigned i) { return seed + i + (u64{i} << 12); }

void register_round(VCpu& vcpu) {
    aarch64::GuestContext& ctx = vcpu.arch_vcpu().guest_context();
    const u64 seed = ctx.x[1];
    bool ok = vcpu.arch_vcpu().sp_el0() == (seed ^ 0x5555'5555'5555'5555);
    for (unsigned i = 2; i <= 30; ++i) ok = ok && ctx.x[i] == reg_pattern(seed, i);
    if (!ok) Vmm::failed("guest registers at check_regs differ from the pattern, seed", seed);
    probes.checks++;
    const u64 next = seed * 3 + 1;
    (void)vcpu.set_gpr(1, next);
    for (unsigned i = 2; i <= 30; ++i) (void)vcpu.set_gpr(i, reg_pattern(next, i));
    vcpu.arch_vcpu().set_sp_el0(next ^ 0x5555'5555'5555'5555);
    (void)vcpu.set_return_value(ok ? 0 : 1);
}

// --- The benchmark (bench.sh) ---------------------------------------------------------
// Ids 1..3: hypercall, MMIO read, injection through AxVCpu::run; 4..6: the
// same through the hand-written twin. bench.sh tabulates these lines.
void report_bench(u64 id, u64 instructions) {
    constexpr const char* names[] = {"?", "hypercall", "mmio_read", "irq"};
    if (id == 0 || id > 6) return;
    Out::println("bench: ", id <= 3 ? "library " : "hand-written ", names[(id - 1) % 3 + 1], " ", Dec{instructions});
}

// The benchmark's device access, the same in both loops, so that their
// difference is the library's alone: the test device register that holds
// the address, shifted so that its byte at the address comes first. For a
// naturally aligned access inside one register those are the bytes it
// asks for (mmio_load_value keeps them); a misaligned one, which
// TestDevice::read at the access's width would refuse, is not refused
// here (the benchmark guest makes none).
[[gnu::always_inline]] inline u64 bench_device_bytes(vmm::TestDevice& device, u64 gpa) {
    const u64 offset = gpa - abi::testdev_base;
    return device.read(offset & ~u64{7}, AccessWidth::Qword).value_or(0) >> ((offset & 7) * 8);
}

// The benchmark's VMM loop: what a lean VMM does for the three round trips
// the guest measures, through the public API. Out of line and small, so the
// compiler keeps the vCPU in a register the world switch preserves.
[[gnu::noinline]] void run_bench_loop(VCpu& vcpu, vmm::TestDevice& device) {
    (void)vcpu.set_return_value(0);
    for (;;) {
        auto result = vcpu.run();
        if (!result) break;
        const AxVCpuExitReason& reason = result.value();
        if (const auto* call = reason.get_if<exit::Hypercall>()) {
            if (call->nr == abi::hc_nop) {
                (void)vcpu.set_return_value(0);
                continue;
            }
            if (call->nr == abi::hc_inject) {
                (void)vcpu.set_return_value(vcpu.inject_interrupt(call->args[0]) ? 0 : 1);
                continue;
            }
            if (call->nr == abi::hc_bench_end) return;
        } else if (const auto* read = reason.get_if<exit::MmioRead>()) {
            (void)vcpu.set_gpr(read->reg, aarch64::mmio_load_value(*read, bench_device_bytes(device, read->addr.value())));
            continue;
        } else if (const auto* irq = reason.get_if<exit::ExternalInterrupt>()) {
            Board::external_interrupt(vcpu, irq->vector);
            continue;
        }
        break;
    }
    Vmm::failed("unexpected exit in the benchmark loop");
    Vmm::finish();
}

// The benchmark's hand-written twin of run_bench_loop: the same three round
// trips with no library layer, decoding only what the benchmark guest does
// (an HVC with the number in x0; a 64-bit LDR from the test device; an
// injection the guest has finished with before it asks for the next, so
// list register 0 is free). It shares the irreducible part with the
// library, the world switch (enter_guest(): every guest register saved and
// restored, the host keeping only x19..x21 and x29 across it, the exit's
// ESR_EL2 returned), the vCPU's bound EL1 state and the device access
// (bench_device_bytes).
[[gnu::noinline]] void run_raw_loop(VCpu& vcpu, vmm::TestDevice& device) {
    aarch64::GuestContext& ctx = vcpu.arch_vcpu().guest_context();
    ctx.x[0] = 0;  // bench_raw's answer
    for (;;) {
        const u64 esr = aarch64::enter_guest(&ctx);
        const u64 ec = esr >> 26;  // a non-synchronous exit has bit 63 set: no EC matches
        if (ec == aarch64::esr::ec_hvc64) {  // ELR is already past the HVC
            const u64 nr = ctx.x[0];
            ctx.x[0] = 0;
            if (nr == abi::hc_nop) continue;
            if (nr == abi::hc_inject) {
                asm volatile("msr ich_lr0_el2, %0" : : "r"(aarch64::vgic::pending_lr(ctx.x[1])));
                continue;
            }
            if (nr == abi::hc_bench_end) return;
            break;
        }
        // A data abort with a valid syndrome (ISV), a read (WnR = 0) of
        // 8 bytes (SAS = 3): HPFAR_EL2 has the page, FAR_EL2 the offset.
        constexpr u64 iss_mask = aarch64::esr::isv | aarch64::esr::wnr | 3u << 22;
        if (ec != aarch64::esr::ec_dabt_lower || (esr & iss_mask) != (aarch64::esr::isv | 3u << 22)) break;
        u64 hpfar, far;
        asm volatile("mrs %0, hpfar_el2\n\tmrs %1, far_el2" : "=r"(hpfar), "=r"(far));
        const u64 gpa = (hpfar >> 4) << 12 | (far & 0xFFF);
        const u64 srt = (esr >> 16) & 31;
        const u64 value = bench_device_bytes(device, gpa);
        if (srt != 31) ctx.x[srt] = value;
        ctx.elr += 4;
    }
    Vmm::failed("unexpected exit in the hand-written benchmark loop");
    Vmm::finish();
}

// --- Bring-up ------------------------------------------------------------------------
vmm::StaticSlot<AxPerCpu<aarch64::PerCpu>> percpu[max_cpus];

bool enable_this_cpu(usize cpu) {
    asm volatile("msr tpidr_el2, xzr");  // no current vCPU yet
    set_host_debug_registers();
    auto& p = percpu[cpu].emplace();
    u64 boot_vbar;
    asm volatile("mrs %0, vbar_el2" : "=r"(boot_vbar));
    // Enable, disable (which must restore what it found), enable again:
    // is_enabled() reads the hardware, so it must follow each step.
    const bool cycled = p.init(cpu) && p.hardware_enable() && p.is_enabled() && !p.hardware_enable() &&
                        p.hardware_disable() && !p.is_enabled() && !p.hardware_disable();
    u64 vbar_after;
    asm volatile("mrs %0, vbar_el2" : "=r"(vbar_after));
    if (!cycled || vbar_after != boot_vbar || !p.hardware_enable() || !p.is_enabled()) {
        Out::println("vmm: enabling/disabling virtualization on CPU ", Dec{cpu}, " misbehaved");
        return false;
    }
    // The Linux VM's timer interrupts arrive through the guest's virtual
    // timer PPI, taken here as exits (finish_interrupt).
    if constexpr (EXAMPLE_VM_LINUX != 0) hyp::gic_set_private_enabled(hyp::guest_vtimer_ppi, true);
    return true;
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
    while (count < max_cpus &&
           static_cast<std::int64_t>(hyp::smc_call(aarch64::psci::fn_affinity_info_64, count, 0)) >= 0) {
        ++count;
    }
    return count;
}

std::atomic<usize> cpus_ready{0};

}  // namespace

extern "C" void _secondary_start();

extern "C" [[noreturn]] void hyp_main() {
    u64 el;
    asm volatile("mrs %0, CurrentEL" : "=r"(el));
    Out::println("axvcpu aarch64 example hypervisor at EL", Dec{el >> 2}, ", injecting through ",
                 config::gic_version == 3 ? "GICv3 list registers" : "HCR_EL2.VI");
    if ((el >> 2) != 2) {
        Out::println("vmm: not started at EL2 (use -M virt,virtualization=on)");
        hyp::semihost_exit(2);
    }
    enable_pmu();
    hyp::gic_init_distributor();
    if (!hyp::gic_init_cpu()) Out::println("vmm: no GICv3 redistributor for this CPU (use gic-version=3)");
    const usize cpus = probe_cpus();
    Vmm::init(reinterpret_cast<std::uintptr_t>(frame_pool), sizeof(frame_pool), cpus);
    if (!enable_this_cpu(0)) hyp::semihost_exit(2);

    vm0.vcpus = cpus < vmm::options::vcpus ? cpus : vmm::options::vcpus;
#if EXAMPLE_VM_LINUX
    auto gic = hyp::Gic::create(hyp::Gic::Config{.vcpus = vm0.vcpus});
    if (!gic) hyp::semihost_exit(2);
    linux_gic.emplace(std::move(gic).value());
#endif
#if EXAMPLE_VM_LINUX
    // Console input for the guest: the UART's interrupt, to CPU 0.
    hyp::gic_enable_spi(hyp::uart_intid);
    hyp::Uart::enable_receive_interrupt();
#endif
    auto* vm = Vmm::create_vm(vm0);
    if (vm == nullptr) {
        Out::println("RESULT: FAIL (VM 0 cannot be created)");
        hyp::semihost_exit(2);
    }
    for (usize cpu = 1; cpu < cpus; ++cpu) {
        const u64 rc = hyp::smc_call(aarch64::psci::fn_cpu_on_64, cpu, reinterpret_cast<u64>(&_secondary_start), cpu);
        if (rc != 0) {
            Out::println("vmm: host PSCI CPU_ON ", Dec{cpu}, " failed: ", Hex{rc});
            hyp::semihost_exit(2);
        }
    }
    // Secondary CPUs must be serving before a CpuUp kicks them.
    while (cpus_ready.load() + 1 < cpus) {
    }
    if (!Vmm::start(*vm, 0)) hyp::semihost_exit(2);
    Vmm::serve();
}

extern "C" [[noreturn]] void hyp_secondary(u64 cpu) {
    hyp::gic_init_cpu();
    if (!enable_this_cpu(cpu)) hyp::semihost_exit(2);
    cpus_ready.fetch_add(1);
    Vmm::serve();
}
