// The example VMM core (examples/vmm/) on the host: its run loop, VM table,
// mailboxes, device dispatch and verdict, driven over the scripted mock
// arch policy by a board that records what the core asked of it. Each test
// boots numbered machines, each made fresh (the board's reset, the core's
// init) before the test sets it up; they share two board types, as every
// board type instantiates the whole core.
#include <doctest/doctest.h>

#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <axvcpu/current_vcpu_slots.hpp>
#include <policies/mock_arch.hpp>

#include "examples/vmm/devices.hpp"
#include "examples/vmm/test_devices.hpp"
#include "examples/vmm/vmm.hpp"

namespace vmm_core_test {

using namespace axvcpu;
namespace hc = vmm::hypercall;

namespace {

// The machine stopped: Board::exit's status.
struct Stopped {
    std::uint32_t code;
};
// Board::idle on a one-CPU host test: nothing else could wake the CPU.
struct IdleForever {};

constexpr std::uint64_t testdev_base = 0x0b00'0000;
constexpr std::uint64_t echo_base = 0x0a00'0000;

template <bool TakesSgi>
struct Board;

template <bool TakesSgi>
struct MockHost : vmm::HostApi<Board<TakesSgi>>, ThreadLocalCurrentVCpu {
    static std::uint64_t current_ticks() { return 0; }
    static std::uint64_t ticks_to_nanos(std::uint64_t ticks) { return ticks; }
    static std::uint64_t nanos_to_ticks(std::uint64_t nanos) { return nanos; }
    static CancelToken register_timer(std::uint64_t, TimerCallback, void*) { return 1; }
    static void cancel_timer(CancelToken) {}
};

struct Refusal {
    std::uint32_t access;
    std::uint64_t gpa;
    bool operator==(const Refusal&) const = default;
};

// A device whose interrupt output is the last value written to it.
struct LineDevice {
    bool level = false;
    std::optional<std::uint64_t> read(std::uint64_t, AccessWidth) { return level ? 1 : 0; }
    bool write(std::uint64_t, AccessWidth, std::uint64_t value) {
        level = value != 0;
        return true;
    }
    [[nodiscard]] bool irq_level() const { return level; }
};
// An interrupt controller whose output n follows source n + 1.
struct MockController {
    std::array<bool, 4> levels{}, reported{};
    std::optional<std::uint64_t> read(std::uint64_t, AccessWidth) { return 0; }
    bool write(std::uint64_t, AccessWidth, std::uint64_t) { return true; }
    void set_level(usize source, bool high) { levels.at(source) = high; }
    template <class Notify>
    void update_lines(Notify&& notify) {
        for (usize output = 0; output + 1 < levels.size(); ++output) {
            if (reported[output] == levels[output + 1]) continue;
            reported[output] = levels[output + 1];
            notify(output, reported[output]);
        }
    }
};
static_assert(vmm::InterruptController<MockController> && vmm::DrivesInterrupt<LineDevice>);
constexpr std::uint64_t line0_base = 0x0c00'0000, line1_base = 0x0c00'1000, controller_base = 0x0d00'0000;

// Two boards, so two instantiations of the core: one whose interrupt
// controller model takes SGI 9 (send_ipi), one without that member.
template <bool TakesSgi>
struct Board {
    using Host = MockHost<TakesSgi>;
    using Arch = policies::MockArchVCpu<Host>;
    using VCpu = AxVCpu<Arch, Host>;
    using Devices = vmm::DeviceTable<6, vmm::TestDevice, vmm::EchoDevice, LineDevice, MockController>;
    static constexpr usize max_cpus = 2;
    static constexpr usize max_vcpus_per_vm = 2;
    static constexpr bool trace_exits = true;

    // What the test sets.
    static inline std::array<std::vector<AxVCpuExitReason>, 2> scripts;  // per vCPU of VM 0
    static inline std::vector<AxVCpuExitReason> vm1_script;              // VM 1's vCPU 0, if it has one
    static inline bool pending = false;
    static inline bool checks_pass = true;
    static inline std::optional<std::uint64_t> off_status;
    static inline void (*while_setting_up)(VCpu&) = nullptr;  // set_boot_arguments calls it first
    static inline int boot_arguments_refusals = 0;            // set_boot_arguments fails this many times
    static inline void (*while_idle)() = nullptr;             // the next idle() calls it once and returns

    // What the board saw.
    static inline std::string console;
    static inline std::vector<usize> kicks;
    static inline std::vector<Refusal> refusals;
    static inline std::vector<std::uint64_t> host_irqs;
    static inline std::vector<std::pair<usize, bool>> irq_lines_set;  // (vCPU, level)
    static inline usize checks_run = 0;
    static inline std::vector<std::pair<usize, VCpuState>> cpu_downs;  // (vCPU, its state then)

    // Every setting and record back to its start, before a test boots.
    static void reset() {
        scripts = {};
        vm1_script.clear();
        pending = false;
        checks_pass = true;
        off_status.reset();
        while_setting_up = nullptr;
        boot_arguments_refusals = 0;
        while_idle = nullptr;
        console.clear();
        kicks.clear();
        refusals.clear();
        host_irqs.clear();
        irq_lines_set.clear();
        checks_run = 0;
        cpu_downs.clear();
        ipis_to_model.clear();
    }

    static void putc(char c) {
        if (c != '\r') console += c;
    }
    static usize cpu_index() { return 0; }
    static void kick(usize cpu) { kicks.push_back(cpu); }
    static void idle() {
        if (auto* once = std::exchange(while_idle, nullptr)) return once();
        throw IdleForever{};
    }
    [[noreturn]] static void exit(std::uint32_t code) { throw Stopped{code}; }
    static std::optional<HostPhysAddr> build_stage2(const vmm::VmDescription& vm) {
        const bool mapped = vmm::for_each_ram_region(vm, [](const vmm::RamBacking&) { return true; });
        if (!mapped) return std::nullopt;
        return HostPhysAddr(0x9000'0000);
    }
    static bool add_device(Devices& table, const EmulatedDeviceConfig& config) {
        const GuestPhysAddr base(config.base_gpa);
        if (config.name == "testdev") return table.template add<vmm::TestDevice>(base, config.length);
        if (config.name == "echo") return table.template add<vmm::EchoDevice>(base, config.length);
        if (config.name == "line") {
            return table.template add<LineDevice>(base, config.length) &&
                   table.route_irq(base, static_cast<std::uint32_t>(config.irq_id));
        }
        if (config.name == "controller") return table.template add<MockController>(base, config.length);
        return false;
    }
    static std::optional<usize> irq_output_vcpu(usize output) {
        if (output < 2) return output;
        return std::nullopt;
    }
    static void set_irq_line(VCpu& vcpu, bool level) { irq_lines_set.emplace_back(vcpu.id(), level); }
    static void cpu_down(VCpu& vcpu) { cpu_downs.emplace_back(vcpu.id(), vcpu.state()); }
    // Board<true> has an interrupt controller model that takes SGIs:
    // vector 9 it takes, others it leaves to the core's mailboxes.
    static inline std::vector<std::uint64_t> ipis_to_model;
    static bool send_ipi(VCpu&, const exit::SendIPI& ipi)
        requires(TakesSgi)
    {
        if (ipi.vector != 9) return false;
        ipis_to_model.push_back(ipi.vector);
        return true;
    }
    static typename Arch::CreateConfig create_config(const vmm::VmDescription& vm, usize id) {
        return Arch::CreateConfig::scripted(vm.id == 1 ? vm1_script : scripts[id]);
    }
    static typename Arch::SetupConfig setup_config(const vmm::VmDescription& vm) { return {vm.id + 100}; }
    static bool set_boot_arguments(VCpu& vcpu, std::uint64_t arg) {
        if (while_setting_up != nullptr) while_setting_up(vcpu);
        if (boot_arguments_refusals > 0) {
            --boot_arguments_refusals;
            return false;
        }
        return vcpu.set_gpr(0, arg).has_value();
    }
    static std::uint64_t cpu_up_status(vmm::CpuUpStatus status) { return 10 + static_cast<std::uint64_t>(status); }
    static std::uint64_t loaded_value(const exit::MmioRead&, std::uint64_t raw) { return raw; }
    static bool reflect_fault(VCpu&, std::uint32_t access, GuestPhysAddr gpa) {
        refusals.push_back({access, gpa.value()});
        return true;
    }
    static std::optional<std::uint64_t> sysreg_read(VCpu&, SysRegAddr addr) {
        if (addr == SysRegAddr{0x1234}) return 42;
        return std::nullopt;
    }
    static bool sysreg_write(VCpu&, SysRegAddr, std::uint64_t) { return false; }
    static void external_interrupt(VCpu&, usize vector) { host_irqs.push_back(vector); }
    static bool interrupt_pending(VCpu&) { return pending; }
    static std::optional<std::uint64_t> power_off_status(VCpu&) { return off_status; }
    static vmm::HypercallAnswer hypercall(VCpu&, const exit::Hypercall& call) {
        if (call.nr == hc::base + 0x40) return vmm::HypercallAnswer::of(7);
        return vmm::HypercallAnswer::unknown();
    }
    static std::uint64_t timer_fires() { return 3; }
    static std::string_view test_name(std::uint64_t) { return "mock"; }
    static bool test_checks(std::uint64_t) {
        ++checks_run;
        return checks_pass;
    }
    static void run_failed(VCpu&, AxError) {}
};

constexpr VmMemConfig ram[] = {{0x4000'0000, 0x100'0000, 7, VmMemMappingType::MapIdentical}};
constexpr EmulatedDeviceConfig devices[] = {
    {"testdev", testdev_base, 0x1000, 0, EmulatedDeviceType::Dummy, {}},
    {"echo", echo_base, 16, 0, EmulatedDeviceType::Dummy, {}},
    {"controller", controller_base, 0x1000, 0, EmulatedDeviceType::Dummy, {}},
    {"line", line0_base, 0x1000, 1, EmulatedDeviceType::Dummy, {}},
    {"line", line1_base, 0x1000, 2, EmulatedDeviceType::Dummy, {}},
};

vmm::VmDescription description(usize vcpus) {
    vmm::VmDescription vm;
    vm.name = "test";
    vm.vcpus = vcpus;
    vm.entry = GuestPhysAddr(0x4000'0000);
    vm.memory = ram;
    vm.emulated = devices;
    vm.test_guest = true;
    return vm;
}

AxVCpuExitReason call(std::uint64_t nr, std::uint64_t a0 = 0, std::uint64_t a1 = 0) {
    return AxVCpuExitReason(exit::Hypercall{nr, {a0, a1, 0, 0, 0, 0}});
}
AxVCpuExitReason read(std::uint64_t gpa, AccessWidth width, usize reg) {
    return AxVCpuExitReason(exit::MmioRead{GuestPhysAddr(gpa), width, reg, AccessWidth::Qword, false});
}
AxVCpuExitReason write(std::uint64_t gpa, AccessWidth width, std::uint64_t data) {
    return AxVCpuExitReason(exit::MmioWrite{GuestPhysAddr(gpa), width, data});
}
const AxVCpuExitReason power_off = AxVCpuExitReason(exit::SystemDown{});

// The tests number their machines: machine N (22 takes SGIs) is one of
// the two boards, made fresh by reset<N>() before the test sets it up.
template <int N>
using MockBoard = Board<N == 22>;
template <int N>
void reset() {
    MockBoard<N>::reset();
}

// Boots the VMs described (which must outlive the machine), each one's
// vCPU 0 on CPU 0, the last VM's first in the run queue; serves CPU 0
// until the machine stops, and returns the status it stopped with.
template <int N>
std::uint32_t boot_vms(std::initializer_list<const vmm::VmDescription*> descriptions) {
    using V = vmm::Vmm<MockBoard<N>>;
    V::init(0, 0, 2);
    for (const vmm::VmDescription* vm : descriptions) REQUIRE(V::create_vm(*vm) != nullptr);
    for (usize id = descriptions.size(); id-- > 0;) REQUIRE(V::start(*V::vm(id), 0));
    try {
        V::serve();
    } catch (const Stopped& stopped) {
        return stopped.code;
    }
}

// Boots VM 0 with the scripts set (boot_vms).
template <int N>
std::uint32_t boot(usize vcpus = 1) {
    static const vmm::VmDescription vm_description = description(vcpus);
    return boot_vms<N>({&vm_description});
}

template <int N>
bool console_has(std::string_view text) {
    return MockBoard<N>::console.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("a guest that never says hello passes on its own result and power-off") {
    reset<1>();
    MockBoard<1>::scripts[0] = {call(hc::sum, 1, 2), call(hc::result, 0), power_off};
    CHECK(boot<1>() == 0);
    CHECK(console_has<1>("RESULT: PASS"));
    CHECK(console_has<1>("vmm: 3 exits: Hypercall 2 SystemDown 1"));
    CHECK(MockBoard<1>::checks_run == 0);
}

TEST_CASE("a power-off status decides without a result; a failing status or result fails") {
    reset<2>();
    MockBoard<2>::scripts[0] = {power_off};
    MockBoard<2>::off_status = 0;
    CHECK(boot<2>() == 0);

    reset<3>();
    MockBoard<3>::scripts[0] = {power_off};
    CHECK(boot<3>() == 1);
    CHECK(console_has<3>("ended without a status"));

    reset<4>();
    MockBoard<4>::scripts[0] = {call(hc::result, 5, 9), call(hc::result, 0), power_off};
    CHECK(boot<4>() == 1);
    CHECK(console_has<4>("reports FAILURE 0x5 (0x9)"));

    reset<5>();
    MockBoard<5>::scripts[0] = {call(hc::result, 0), power_off};
    MockBoard<5>::off_status = 1;
    CHECK(boot<5>() == 1);
}

TEST_CASE("a test's VMM-side checks run only when the guest names the test") {
    reset<6>();
    MockBoard<6>::scripts[0] = {call(hc::hello, 3), call(hc::result, 0), power_off};
    MockBoard<6>::checks_pass = false;
    CHECK(boot<6>() == 1);
    CHECK(MockBoard<6>::checks_run == 1);
    CHECK(console_has<6>("runs test 'mock'"));

    reset<7>();
    MockBoard<7>::scripts[0] = {call(hc::result, 0), power_off};
    MockBoard<7>::checks_pass = false;
    CHECK(boot<7>() == 0);
    CHECK(MockBoard<7>::checks_run == 0);
}

TEST_CASE("check_exits fails the run for an exit kind the VMM never saw") {
    reset<16>();
    MockBoard<16>::scripts[0] = {call(hc::check_exits, 1u << 0), call(hc::check_exits, 1u << 9), call(hc::result, 0),
                                 power_off};
    CHECK(boot<16>() == 1);
    CHECK(console_has<16>("never saw 0x200"));
}

TEST_CASE("check_exits counts the caller's VM's exits only") {
    // Found by review: the kinds were the whole machine's, so another VM's
    // exits (riscv64's hart-sharing VM) could stand in for a test VM's.
    reset<17>();
    using V = vmm::Vmm<MockBoard<17>>;
    MockBoard<17>::scripts[0] = {call(hc::nop), call(hc::nop), call(hc::nop),
                                 call(hc::check_exits, std::uint64_t{1} << AxVCpuExitReason(exit::MmioRead{}).index()),
                                 call(hc::result, 0), power_off};
    MockBoard<17>::vm1_script = {read(testdev_base, AccessWidth::Qword, 1), call(hc::result, 0), power_off};
    static vmm::VmDescription vm0 = description(1), vm1 = description(1);
    vm1.id = 1;
    CHECK(boot_vms<17>({&vm0, &vm1}) == 1);
    CHECK(V::exits_of<exit::MmioRead>() == 1);  // VM 1 made its read
    CHECK(console_has<17>("exit kinds the guest caused but the VMM never saw"));
}

TEST_CASE("count_exits compares the caller's VM's exits only") {
    // VM 0's RAM is this array, where its count of its own exits is (none
    // of MmioRead); VM 1 makes one MmioRead before VM 0 asks.
    reset<18>();
    using V = vmm::Vmm<MockBoard<18>>;
    static std::array<std::uint64_t, 64> counts{};
    const auto counts_gpa = reinterpret_cast<std::uint64_t>(counts.data());
    static const VmMemConfig counts_ram[] = {{counts_gpa, sizeof counts, 7, VmMemMappingType::MapIdentical}};
    const std::uint64_t mmio_read = std::uint64_t{1} << AxVCpuExitReason(exit::MmioRead{}).index();
    MockBoard<18>::scripts[0] = {call(hc::nop), call(hc::nop), call(hc::nop), call(hc::count_exits, counts_gpa, mmio_read),
                                 call(hc::result, 0), power_off};
    MockBoard<18>::vm1_script = {read(testdev_base, AccessWidth::Qword, 1), call(hc::result, 0), power_off};
    static vmm::VmDescription vm0 = description(1), vm1 = description(1);
    vm0.memory = counts_ram;
    vm0.entry = GuestPhysAddr(counts_gpa);
    vm1.id = 1;
    CHECK(boot_vms<18>({&vm0, &vm1}) == 0);
    CHECK(V::exits_of<exit::MmioRead>() == 1);  // VM 1 made its read
    CHECK_FALSE(console_has<18>("count_exits: MmioRead"));
}

TEST_CASE("hypercalls: the core's, the board's, and unknown numbers") {
    reset<8>();
    MockBoard<8>::scripts[0] = {call(hc::hello, 0), call(hc::sum, 40, 2), call(hc::base + 0x40), call(0x777),
                                call(hc::timer_fires), call(hc::result, 0), power_off};
    CHECK(boot<8>() == 0);
    CHECK(console_has<8>("unknown hypercall 0x777: answered -1"));
    // The mock keeps the last answer only: re-run each call on its own.
    reset<9>();
    MockBoard<9>::scripts[0] = {call(hc::base + 0x40)};
    MockBoard<9>::off_status = 0;
    CHECK(boot<9>() == 0);
    CHECK(vmm::Vmm<MockBoard<9>>::vm(0)->vcpu(0).arch_vcpu().return_value == 7);
}

TEST_CASE("MMIO goes to the device that claims it; anything else is reflected to the guest") {
    reset<10>();
    MockBoard<10>::scripts[0] = {
        write(testdev_base, AccessWidth::Qword, 0x1122'3344'5566'7788),
        read(testdev_base + 4, AccessWidth::Dword, 5),      // upper half of scratch
        read(testdev_base + 0x12, AccessWidth::Word, 6),    // inside the negative register
        read(testdev_base + 0x20, AccessWidth::Byte, 7),    // past the registers: refused by the device
        read(0x3000'0000, AccessWidth::Qword, 8),           // nothing there
        write(echo_base + 8, AccessWidth::Byte, 1),         // echo's read-only half
        read(echo_base + 8, AccessWidth::Word, 9),
        AxVCpuExitReason(exit::NestedPageFault{GuestPhysAddr(0x5000), MappingFlags{MappingFlags::EXECUTE}}),
        call(hc::result, 0),
        power_off};
    CHECK(boot<10>() == 0);
    const auto& gprs = vmm::Vmm<MockBoard<10>>::vm(0)->vcpu(0).arch_vcpu().gprs;
    CHECK(gprs[5] == 0x1122'3344);
    CHECK(gprs[6] == 0x8000);
    CHECK(gprs[9] == 0x2211);
    CHECK(MockBoard<10>::refusals == std::vector<Refusal>{{MappingFlags::READ, testdev_base + 0x20},
                                                          {MappingFlags::READ, 0x3000'0000},
                                                          {MappingFlags::WRITE, echo_base + 8},
                                                          {MappingFlags::EXECUTE, 0x5000}});
}

TEST_CASE("system registers: the board's answer, or zero with a report") {
    reset<11>();
    MockBoard<11>::scripts[0] = {AxVCpuExitReason(exit::SysRegRead{SysRegAddr{0x1234}, 3}),
                                 AxVCpuExitReason(exit::SysRegRead{SysRegAddr{0x99}, 4}),
                                 AxVCpuExitReason(exit::SysRegWrite{SysRegAddr{0x99}, 1}), call(hc::result, 0), power_off};
    CHECK(boot<11>() == 0);
    const auto& gprs = vmm::Vmm<MockBoard<11>>::vm(0)->vcpu(0).arch_vcpu().gprs;
    CHECK(gprs[3] == 42);
    CHECK(gprs[4] == 0);
    CHECK(console_has<11>("unknown system register read"));
    CHECK(console_has<11>("unknown system register write"));
}

TEST_CASE("CpuUp starts a vCPU on its own CPU once; IPIs reach the mailbox of a vCPU elsewhere") {
    reset<12>();
    MockBoard<12>::scripts[0] = {
        AxVCpuExitReason(exit::CpuUp{7, GuestPhysAddr(0x4000'1000), 0}),       // no such vCPU
        AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(0x4000'1000), 0x55}),  // started
        AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(0x4000'1000), 0x66}),  // already on
        AxVCpuExitReason(exit::SendIPI{0, 0b10, false, false, 3}),            // vCPU 1
        AxVCpuExitReason(exit::SendIPI{0, 0, true, false, 4}),                // all but self
        AxVCpuExitReason(exit::SendIPI{0, 0b01, false, false, 5}),            // self: injected at once
        call(hc::result, 0),
        power_off};
    CHECK(boot<12>(2) == 0);
    auto& vm = *vmm::Vmm<MockBoard<12>>::vm(0);
    const auto& other = vm.vcpu(1).arch_vcpu();
    CHECK(other.entry == GuestPhysAddr(0x4000'1000));
    CHECK(other.gprs[0] == 0x55);
    CHECK(MockBoard<12>::kicks.size() >= 3);  // the start and two IPIs, to CPU 1
    for (usize cpu : MockBoard<12>::kicks) CHECK(cpu == 1);
    std::vector<usize> posted;
    vm.vcpus[1].mailbox.drain([&](usize vector) { posted.push_back(vector); });
    CHECK(posted == std::vector<usize>{3, 4});
    CHECK(vm.vcpu(0).arch_vcpu().delivered == std::vector<usize>{5});
    CHECK(console_has<12>("SendIPI 3"));
}

TEST_CASE("CpuUp naming the caller itself answers already on, not no such vCPU") {
    // Found by the aarch64 chaos guest: CPU_ON(self) answered INVALID_PARAMETERS.
    reset<12>();
    MockBoard<12>::scripts[0] = {call(hc::result, 0), AxVCpuExitReason(exit::CpuUp{0, GuestPhysAddr(0x4000'1000), 0}),
                                 power_off};
    CHECK(boot<12>(2) == 0);
    const auto& self = vmm::Vmm<MockBoard<12>>::vm(0)->vcpu(0).arch_vcpu();
    CHECK(self.return_value == MockBoard<12>::cpu_up_status(vmm::CpuUpStatus::AlreadyOn));
    CHECK(self.entry != GuestPhysAddr(0x4000'1000));  // not restarted
}

TEST_CASE("CpuUp with an entry point outside the VM's RAM answers invalid address and starts nothing") {
    // Found by the riscv64 chaos guest: hart_start with an unmapped entry
    // started the vCPU there, and it faulted at its entry and then at its
    // unset trap vector for ever.
    for (const std::uint64_t entry : {std::uint64_t{0x5000'0000}, std::uint64_t{0x4100'0000}, std::uint64_t{0x3FFF'FFFE}}) {
        reset<12>();
        MockBoard<12>::scripts[0] = {call(hc::result, 0), AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(entry), 0x55}),
                                     power_off};
        CHECK(boot<12>(2) == 0);
        auto& vm = *vmm::Vmm<MockBoard<12>>::vm(0);
        CHECK(vm.vcpu(0).arch_vcpu().return_value == MockBoard<12>::cpu_up_status(vmm::CpuUpStatus::InvalidAddress));
        CHECK((vm.active.load() >> 1 & 1) == 0);
        CHECK(vm.vcpu(1).arch_vcpu().entry != GuestPhysAddr(entry));
        CHECK(MockBoard<12>::kicks.empty());
    }
    // The last byte of RAM is still RAM.
    reset<12>();
    MockBoard<12>::scripts[0] = {call(hc::result, 0), AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(0x40FF'FFFE), 0}),
                                 power_off};
    CHECK(boot<12>(2) == 0);
    CHECK(vmm::Vmm<MockBoard<12>>::vm(0)->vcpu(0).arch_vcpu().return_value ==
          MockBoard<12>::cpu_up_status(vmm::CpuUpStatus::Started));
}

TEST_CASE("a VM that runs no test guest gets -1 for every hypercall: no test checks, no injection, no board calls") {
    // Found by review: a Linux VM's hello turned test checks on (aarch64's
    // ldst check then read the guest's PC as a host address), its
    // bench_begin ran the benchmark loop over a test device it lacks, and
    // its inject went past its VM's GIC model.
    reset<23>();
    using V = vmm::Vmm<MockBoard<23>>;
    static vmm::VmDescription plain = description(1);
    plain.test_guest = false;
    MockBoard<23>::off_status = 0;  // the power-off's status: no result hypercall answers this VM
    MockBoard<23>::scripts[0] = {call(hc::hello, 1), call(hc::base + 0x40), call(hc::inject, 5), call(hc::sum, 1, 2),
                                 power_off};
    CHECK(boot_vms<23>({&plain}) == 0);
    CHECK(V::test_id() == 0);
    CHECK(MockBoard<23>::checks_run == 0);
    CHECK(console_has<23>("hypercall 0x48560040 from VM 0, which runs no test guest: answered -1"));
    CHECK(V::vm(0)->vcpu(0).arch_vcpu().delivered.empty());
    CHECK(V::vm(0)->vcpu(0).arch_vcpu().return_value == hc::unknown);  // sum's answer
}

TEST_CASE("CpuUp claims its target before setting it up, and gives the claim back when the start fails") {
    // Found by review: the target was marked active only once queued, so two
    // vCPUs on two CPUs asking for one target at once both found it off, set
    // it up concurrently and queued it twice.
    reset<12>();
    static std::uint64_t active_during_setup = 0;
    MockBoard<12>::while_setting_up = [](MockBoard<12>::VCpu&) {
        active_during_setup = vmm::Vmm<MockBoard<12>>::vm(0)->active.load();
    };
    MockBoard<12>::scripts[0] = {call(hc::result, 0), AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(0x4000'1000), 0x55}),
                                 power_off};
    CHECK(boot<12>(2) == 0);
    CHECK((active_during_setup >> 1 & 1) == 1);
    CHECK(vmm::Vmm<MockBoard<12>>::vm(0)->vcpu(0).arch_vcpu().return_value ==
          MockBoard<12>::cpu_up_status(vmm::CpuUpStatus::Started));

    // A start that fails leaves the target off, so the next CpuUp starts it.
    reset<12>();
    MockBoard<12>::boot_arguments_refusals = 1;
    MockBoard<12>::scripts[0] = {call(hc::result, 0), AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(0x4000'1000), 0x55}),
                                 AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(0x4000'2000), 0x66}), power_off};
    CHECK(boot<12>(2) == 0);
    auto& vm = *vmm::Vmm<MockBoard<12>>::vm(0);
    CHECK(vm.vcpu(0).arch_vcpu().return_value == MockBoard<12>::cpu_up_status(vmm::CpuUpStatus::Started));
    CHECK(vm.vcpu(1).arch_vcpu().entry == GuestPhysAddr(0x4000'2000));
    CHECK(vm.vcpu(1).arch_vcpu().gprs[0] == 0x66);
}

TEST_CASE("interrupts posted from elsewhere are injected before the next entry") {
    reset<13>();
    using V = vmm::Vmm<MockBoard<13>>;
    MockBoard<13>::scripts[0] = {call(hc::nop), call(hc::result, 0), power_off};
    static const vmm::VmDescription vm_description = description(1);
    V::init(0, 0, 2);
    auto* vm = V::create_vm(vm_description);
    REQUIRE(vm != nullptr);
    V::post_interrupt(0, 0, 27);
    REQUIRE(V::start(*vm, 0));
    CHECK_THROWS_AS(V::serve(), Stopped);
    CHECK(vm->vcpu(0).arch_vcpu().delivered == std::vector<usize>{27});
}

TEST_CASE("a halted vCPU waits for an interrupt, and runs on once one is pending") {
    reset<14>();
    MockBoard<14>::scripts[0] = {AxVCpuExitReason(exit::Halt{}), call(hc::result, 0), power_off};
    CHECK_THROWS_AS(boot<14>(), IdleForever);

    reset<15>();
    MockBoard<15>::scripts[0] = {AxVCpuExitReason(exit::Halt{}), call(hc::result, 0), power_off};
    MockBoard<15>::pending = true;
    CHECK(boot<15>() == 0);
}

TEST_CASE("a device's interrupt reaches its vCPU through the controller: kicked elsewhere, set before entry") {
    reset<20>();
    MockBoard<20>::scripts[0] = {
        write(line1_base, AccessWidth::Byte, 1),  // source 2: vCPU 1's line, on CPU 1
        write(line0_base, AccessWidth::Byte, 1),  // source 1: this vCPU's line
        AxVCpuExitReason(exit::Halt{}),           // the line is up: no wait
        write(line0_base, AccessWidth::Byte, 0),
        call(hc::result, 0),
        power_off};
    CHECK(boot<20>(2) == 0);
    auto& vm = *vmm::Vmm<MockBoard<20>>::vm(0);
    CHECK(MockBoard<20>::kicks == std::vector<usize>{1});
    CHECK(vm.irq_lines.load() == 0b10);
    CHECK(MockBoard<20>::irq_lines_set == std::vector<std::pair<usize, bool>>{{0, true}, {0, false}});
    // Routing needs a model that drives a line, and a real source.
    CHECK_FALSE(vm.devices.route_irq(GuestPhysAddr(testdev_base), 3));
    CHECK_FALSE(vm.devices.route_irq(GuestPhysAddr(line0_base), 0));
    CHECK_FALSE(vm.devices.route_irq(GuestPhysAddr(0x1234'0000), 1));
}

TEST_CASE("a board's send_ipi takes the IPIs its model handles; the rest reach the mailboxes") {
    reset<22>();
    MockBoard<22>::scripts[0] = {AxVCpuExitReason(exit::CpuUp{1, GuestPhysAddr(0x4000'1000), 0}),
                                 AxVCpuExitReason(exit::SendIPI{0, 0b10, false, false, 9}),
                                 AxVCpuExitReason(exit::SendIPI{0, 0b10, false, false, 4}), call(hc::result, 0),
                                 power_off};
    CHECK(boot<22>(2) == 0);
    CHECK(MockBoard<22>::ipis_to_model == std::vector<std::uint64_t>{9});
    std::vector<usize> posted;
    vmm::Vmm<MockBoard<22>>::vm(0)->vcpus[1].mailbox.drain([&](usize vector) { posted.push_back(vector); });
    CHECK(posted == std::vector<usize>{4});
    CHECK(vmm::Vmm<MockBoard<22>>::ipis() == 2);
}

TEST_CASE("a VM the machine cannot hold is refused with the reason") {
    reset<17>();
    using V = vmm::Vmm<MockBoard<17>>;
    V::init(0, 0, 1);
    static const vmm::VmDescription two = description(2);
    CHECK(V::create_vm(two) == nullptr);
    CHECK(console_has<17>("more vCPUs than CPUs"));

    static constexpr EmulatedDeviceConfig overlapping[] = {
        {"testdev", testdev_base, 0x1000, 0, EmulatedDeviceType::Dummy, {}},
        {"echo", testdev_base + 0x800, 16, 0, EmulatedDeviceType::Dummy, {}},
    };
    vmm::VmDescription bad = description(1);
    bad.emulated = overlapping;
    static const vmm::VmDescription bad_devices = bad;
    CHECK(V::create_vm(bad_devices) == nullptr);
    CHECK(console_has<17>("overlaps"));

    static constexpr VmMemConfig allocated[] = {{0x4000'0000, 0x1000, 7, VmMemMappingType::MapAlloc}};
    vmm::VmDescription alloc = description(1);
    alloc.memory = allocated;
    alloc.id = 1;
    static const vmm::VmDescription alloc_ram = alloc;
    CHECK(V::create_vm(alloc_ram) == nullptr);
    CHECK(console_has<17>("memory cannot be mapped"));
}

TEST_CASE("a VM whose user-supplied device tree is missing or outside its RAM is refused, with the reason") {
    reset<21>();
    using V = vmm::Vmm<MockBoard<21>>;
    V::init(0, 0, 2);
    // RAM is a host buffer, identity-mapped (the mock's phys_to_virt is the identity).
    alignas(8) static std::array<std::uint8_t, 4096> guest_ram{};
    static const VmMemConfig buffer_ram[] = {
        {reinterpret_cast<usize>(guest_ram.data()), guest_ram.size(), 7, VmMemMappingType::MapIdentical}};
    static vmm::VmDescription no_tree = description(1);
    no_tree.memory = buffer_ram;
    no_tree.user_dtb = true;
    no_tree.dtb = GuestPhysAddr(reinterpret_cast<usize>(guest_ram.data()) + 1024);
    CHECK(V::create_vm(no_tree) == nullptr);
    CHECK(console_has<21>("bad magic: not a device tree blob"));
    CHECK(console_has<21>("its device tree is missing or does not describe it"));

    static vmm::VmDescription elsewhere = no_tree;
    elsewhere.dtb = GuestPhysAddr(0x7000'0000);
    CHECK(V::create_vm(elsewhere) == nullptr);
    CHECK(console_has<21>("it is not in the VM's RAM"));
}

TEST_CASE("a CPU whose run queue is full refuses another vCPU, and says so") {
    reset<18>();
    using V = vmm::Vmm<MockBoard<18>>;
    static const vmm::VmDescription vm_description = description(1);
    V::init(0, 0, 2);
    auto* vm = V::create_vm(vm_description);
    REQUIRE(vm != nullptr);
    for (int i = 0; i < 4; ++i) CHECK(V::start(*vm, 0));
    CHECK_FALSE(V::start(*vm, 0));
    CHECK(console_has<18>("run queue full on CPU"));
}

TEST_CASE("inject queues a run of vectors; set_quiet stops and resumes the exit trace") {
    reset<23>();
    MockBoard<23>::scripts[0] = {call(hc::inject, 5, 3), call(hc::set_quiet, 1), call(hc::nop), call(hc::set_quiet, 0),
                                 call(hc::inject, 9), call(hc::result, 0), power_off};
    CHECK(boot<23>() == 0);
    // Vectors 5, 6, 7 (arg1 = 3), then 9 alone (arg1 = 0), each taken at the next entry.
    CHECK(vmm::Vmm<MockBoard<23>>::vm(0)->vcpu(0).arch_vcpu().delivered == std::vector<usize>{5, 6, 7, 9});
    // An exit is traced as it is counted, before it is handled: the second
    // (set_quiet 1) is, the third and fourth are not, the fifth is again.
    CHECK(console_has<23>("exit[vm 0 vcpu 0] #2: Hypercall"));
    CHECK_FALSE(console_has<23>("] #3: "));
    CHECK_FALSE(console_has<23>("] #4: "));
    CHECK(console_has<23>("exit[vm 0 vcpu 0] #5: Hypercall"));
    CHECK(console_has<23>("vmm: 7 exits: Hypercall 6 SystemDown 1"));
}

TEST_CASE("inject of more vectors than inject_limit tries that many and refuses the rest") {
    // A count of 2^63 used to keep the VMM in one hypercall for good.
    reset<27>();
    MockBoard<27>::scripts[0] = {call(hc::result, 0), call(hc::inject, 40, std::uint64_t{1} << 63), power_off};
    CHECK(boot<27>() == 0);
    const auto& vcpu = vmm::Vmm<MockBoard<27>>::vm(0)->vcpu(0).arch_vcpu();
    CHECK(vcpu.return_value == (std::uint64_t{1} << 63) - hc::inject_limit);
    CHECK(vcpu.pending.size() + vcpu.delivered.size() == hc::inject_limit);
}

TEST_CASE("a guest's refused accesses and unknown calls: the first 100 printed, the rest counted") {
    reset<28>();
    std::vector<AxVCpuExitReason> script;
    for (int i = 0; i < 60; ++i) script.push_back(read(0x7000'0000, AccessWidth::Dword, 1));  // nothing there
    for (int i = 0; i < 90; ++i) script.push_back(call(0x777));
    script.push_back(call(hc::result, 0));
    script.push_back(power_off);
    MockBoard<28>::scripts[0] = script;
    CHECK(boot<28>() == 0);
    CHECK(MockBoard<28>::refusals.size() == 60);  // every fault still reflected
    const std::string& console = MockBoard<28>::console;
    const auto lines = [&](std::string_view text) {
        usize count = 0;
        for (usize at = console.find(text); at != std::string::npos; at = console.find(text, at + 1)) ++count;
        return count;
    };
    CHECK(lines("refused: fault reflected to the guest") == 60);
    CHECK(lines("unknown hypercall 0x777: answered -1") == 40);
    CHECK(lines("vmm: VM 0: more than 100 reports of what its guest did: the rest are counted, not printed") == 1);
    CHECK(console_has<28>("vmm: VM 0: 50 more reports of what its guest did were not printed"));
    CHECK(console_has<28>("RESULT: PASS"));
}

TEST_CASE("a halted vCPU gives its CPU to a vCPU started there while it waits") {
    // Found by a hostile-guest review: the wait looked at the run queue only
    // once, so a vCPU another CPU started here (CPU_ON) waited until the
    // halted one next had an interrupt, for ever if it never had one.
    using V = vmm::Vmm<MockBoard<29>>;
    reset<29>();
    MockBoard<29>::scripts[0] = {AxVCpuExitReason(exit::Halt{}), call(hc::result, 0), power_off};
    MockBoard<29>::vm1_script = {call(hc::result, 0), power_off};
    static const vmm::VmDescription vm0 = description(1);
    static vmm::VmDescription vm1 = description(1);
    vm1.id = 1;
    V::init(0, 0, 2);
    REQUIRE(V::create_vm(vm0) != nullptr);
    REQUIRE(V::create_vm(vm1) != nullptr);
    REQUIRE(V::start(*V::vm(0), 0));
    MockBoard<29>::while_idle = [] { REQUIRE(V::start(*V::vm(1), 0)); };  // VM 0's vCPU waits: VM 1 starts here
    std::optional<std::uint32_t> status;
    try {
        V::serve();
    } catch (const Stopped& stopped) {
        status = stopped.code;
    } catch (const IdleForever&) {
    }
    CHECK(status == 0u);
    CHECK(console_has<29>("vmm: VM 1 reports pass"));
}

TEST_CASE("the trace stops after 300 exits, the summary counts them all") {
    reset<24>();
    std::vector<AxVCpuExitReason> script(301, call(hc::nop));
    script.push_back(call(hc::result, 0));
    script.push_back(power_off);
    MockBoard<24>::scripts[0] = script;
    CHECK(boot<24>() == 0);
    CHECK(console_has<24>("] #300: Hypercall"));
    CHECK_FALSE(console_has<24>("] #301: "));
    CHECK(console_has<24>("vmm: more than 300 exits: tracing stops (the summary counts them all)"));
    CHECK(console_has<24>("vmm: 303 exits: Hypercall 302 SystemDown 1"));
}

TEST_CASE("a vCPU that stops itself is off and leaves its CPU idle; an exit the core cannot handle fails the run") {
    reset<25>();
    MockBoard<25>::scripts[0] = {AxVCpuExitReason(exit::CpuDown{0})};
    CHECK_THROWS_AS(boot<25>(), IdleForever);
    CHECK(console_has<25>("vmm: VM 0 vCPU 0 is off"));
    // The board's cpu_down ran once, while the vCPU was still bound.
    CHECK(MockBoard<25>::cpu_downs == std::vector<std::pair<usize, VCpuState>>{{0, VCpuState::Ready}});
    CHECK(vmm::Vmm<MockBoard<25>>::vm(0)->vcpu(0).state() == VCpuState::Free);  // unbound

    reset<26>();
    MockBoard<26>::scripts[0] = {AxVCpuExitReason(exit::IoRead{0x3F8, AccessWidth::Byte}), call(hc::result, 0), power_off};
    CHECK(boot<26>() == 1);
    CHECK(console_has<26>("vmm: VM 0 vCPU 0: no handler for IoRead { port: 0x3f8, width: Byte }"));
    CHECK(console_has<26>("RESULT: FAIL"));
}

TEST_CASE("for_each_ram_region: identical regions at their GPA, reserved ones one after another from reserved_base") {
    const VmMemConfig regions[] = {{0x4000'0000, 0x1000, 7, VmMemMappingType::MapIdentical},
                                   {0x8000'0000, 0x2000, 7, VmMemMappingType::MapReserved},
                                   {0x9000'0000, 0x3000, 7, VmMemMappingType::MapReserved}};
    vmm::VmDescription vm;
    vm.memory = regions;
    vm.reserved_base = 0x1'0000'0000;
    std::vector<std::array<std::uint64_t, 3>> seen;
    const auto record = [&](const vmm::RamBacking& backing) {
        seen.push_back({backing.gpa, backing.hpa, backing.size});
        return true;
    };
    CHECK(vmm::for_each_ram_region(vm, record));
    CHECK(seen == std::vector<std::array<std::uint64_t, 3>>{{0x4000'0000, 0x4000'0000, 0x1000},
                                                            {0x8000'0000, 0x1'0000'0000, 0x2000},
                                                            {0x9000'0000, 0x1'0000'2000, 0x3000}});
    // A mapping that fails stops the walk there.
    seen.clear();
    CHECK_FALSE(vmm::for_each_ram_region(vm, [&](const vmm::RamBacking& backing) {
        seen.push_back({backing.gpa, backing.hpa, backing.size});
        return seen.size() < 2;
    }));
    CHECK(seen.size() == 2);
    // MapAlloc is refused before anything of that region is mapped.
    const VmMemConfig alloc[] = {{0x4000'0000, 0x1000, 7, VmMemMappingType::MapIdentical},
                                 {0x5000'0000, 0x1000, 7, VmMemMappingType::MapAlloc}};
    vm.memory = alloc;
    seen.clear();
    CHECK_FALSE(vmm::for_each_ram_region(vm, record));
    CHECK(seen == std::vector<std::array<std::uint64_t, 3>>{{0x4000'0000, 0x4000'0000, 0x1000}});
}

// The two test devices and the device table on their own (the guests that
// use them run under QEMU only).
TEST_CASE("TestDevice: each register at every width, the refusals, and the sink's log") {
    vmm::TestDevice dev;
    using W = AccessWidth;
    // magic 0x0A64'C0DE'1234'5678 and negative 0xFFFF'FFFF'8000'8080, little-endian.
    CHECK(dev.read(0x08, W::Qword) == std::uint64_t{0x0A64'C0DE'1234'5678});
    CHECK(dev.read(0x08, W::Dword) == std::uint64_t{0x1234'5678});
    CHECK(dev.read(0x0C, W::Dword) == std::uint64_t{0x0A64'C0DE});
    CHECK(dev.read(0x0E, W::Word) == std::uint64_t{0x0A64});
    CHECK(dev.read(0x0F, W::Byte) == std::uint64_t{0x0A});
    CHECK(dev.read(0x10, W::Qword) == std::uint64_t{0xFFFF'FFFF'8000'8080});
    CHECK(dev.read(0x10, W::Byte) == std::uint64_t{0x80});
    CHECK(dev.read(0x14, W::Dword) == std::uint64_t{0xFFFF'FFFF});

    // Scratch: a write replaces only the bytes it covers.
    CHECK(dev.read(0x00, W::Qword) == std::uint64_t{0});
    CHECK(dev.write(0x00, W::Qword, 0x1122'3344'5566'7788));
    CHECK(dev.write(0x03, W::Byte, 0xAB));
    CHECK(dev.read(0x00, W::Qword) == std::uint64_t{0x1122'3344'AB66'7788});
    CHECK(dev.write(0x04, W::Dword, 0xFFFF'FFFF'0000'0001));  // the value's low four bytes
    CHECK(dev.read(0x00, W::Qword) == std::uint64_t{0x0000'0001'AB66'7788});
    CHECK(dev.read(0x02, W::Word) == std::uint64_t{0xAB66});

    // Refused: reading the sink, past the registers, misaligned; writing a
    // read-only register, past the registers, misaligned. Nothing changes.
    CHECK_FALSE(dev.read(0x18, W::Qword).has_value());
    CHECK_FALSE(dev.read(0x1C, W::Byte).has_value());
    CHECK_FALSE(dev.read(0x20, W::Byte).has_value());
    CHECK_FALSE(dev.read(0x02, W::Dword).has_value());
    CHECK_FALSE(dev.write(0x08, W::Qword, 1));
    CHECK_FALSE(dev.write(0x13, W::Byte, 1));
    CHECK_FALSE(dev.write(0x20, W::Byte, 1));
    CHECK_FALSE(dev.write(0x01, W::Word, 0xFFFF));
    CHECK(dev.read(0x00, W::Qword) == std::uint64_t{0x0000'0001'AB66'7788});
    CHECK(dev.read(0x08, W::Qword) == std::uint64_t{vmm::TestDevice::magic_value});
    CHECK(dev.read(0x10, W::Qword) == std::uint64_t{vmm::TestDevice::negative_value});
    CHECK(dev.sink_writes() == 0);

    // The sink logs its first eight writes, width and value as written,
    // and counts every one.
    for (std::uint64_t i = 0; i < 9; ++i) {
        const W width = i % 2 == 0 ? W::Qword : W::Dword;
        CHECK(dev.write(i % 2 == 0 ? 0x18 : 0x1C, width, 0x100 + i));
    }
    CHECK(dev.sink_writes() == 9);
    for (usize i = 0; i < vmm::TestDevice::sink_log_size; ++i) {
        CAPTURE(i);
        CHECK(dev.sink_log()[i].width == (i % 2 == 0 ? W::Qword : W::Dword));
        CHECK(dev.sink_log()[i].value == 0x100 + i);
    }
}

TEST_CASE("EchoDevice: the low half echoes writes at any width, the high half is 0x8877665544332211 and read-only") {
    vmm::EchoDevice echo;
    using W = AccessWidth;
    CHECK(echo.read(8, W::Qword) == std::uint64_t{0x8877'6655'4433'2211});
    CHECK(echo.read(12, W::Dword) == std::uint64_t{0x8877'6655});
    CHECK(echo.read(15, W::Byte) == std::uint64_t{0x88});
    CHECK(echo.read(0, W::Qword) == std::uint64_t{0});

    CHECK(echo.write(0, W::Qword, 0x0102'0304'0506'0708));
    CHECK(echo.write(6, W::Word, 0xFFFF'BEEF));  // two bytes land
    CHECK(echo.read(0, W::Qword) == std::uint64_t{0xBEEF'0304'0506'0708});
    CHECK(echo.read(4, W::Dword) == std::uint64_t{0xBEEF'0304});
    CHECK(echo.read(1, W::Byte) == std::uint64_t{0x07});
    CHECK(echo.bytes()[7] == 0xBE);
    CHECK(echo.bytes()[8] == 0x11);

    // Refused: a write to the high half or misaligned, a read past the
    // device or misaligned. Nothing changes.
    CHECK_FALSE(echo.write(8, W::Byte, 0));
    CHECK_FALSE(echo.write(6, W::Dword, 0));
    CHECK_FALSE(echo.write(4, W::Qword, 0));
    CHECK_FALSE(echo.read(16, W::Byte).has_value());
    CHECK_FALSE(echo.read(3, W::Word).has_value());
    CHECK_FALSE(echo.read(12, W::Qword).has_value());
    CHECK(echo.read(0, W::Qword) == std::uint64_t{0xBEEF'0304'0506'0708});
    CHECK(echo.read(8, W::Qword) == std::uint64_t{0x8877'6655'4433'2211});
}

TEST_CASE("DeviceTable: ranges that overlap, are empty or wrap, and a full table, are refused; an access lies whole in one range") {
    vmm::DeviceTable<4, vmm::EchoDevice, LineDevice, MockController> table;
    using W = AccessWidth;
    CHECK(table.add<vmm::EchoDevice>(GuestPhysAddr(0x1000), 16));
    CHECK_FALSE(table.add<vmm::EchoDevice>(GuestPhysAddr(0x100F), 16));  // its last byte
    CHECK_FALSE(table.add<vmm::EchoDevice>(GuestPhysAddr(0x0FF1), 16));  // its first byte
    CHECK_FALSE(table.add<LineDevice>(GuestPhysAddr(0x3000), 0));
    CHECK_FALSE(table.add<LineDevice>(GuestPhysAddr(~usize{0} - 7), 16));
    CHECK(table.add<vmm::EchoDevice>(GuestPhysAddr(0x1010), 16));  // adjacent
    CHECK(table.add<MockController>(GuestPhysAddr(0x2000), 0x100));
    CHECK(table.add<LineDevice>(GuestPhysAddr(0x3000), 0x100));
    CHECK(table.size() == 4);
    CHECK_FALSE(table.add<LineDevice>(GuestPhysAddr(0x4000), 0x100));
    CHECK(table.size() == 4);

    CHECK(table.read(GuestPhysAddr(0x100E), W::Word) == std::uint64_t{0x8877});
    CHECK(table.read(GuestPhysAddr(0x101F), W::Byte) == std::uint64_t{0x88});
    CHECK_FALSE(table.read(GuestPhysAddr(0x100F), W::Word).has_value());  // across two devices
    CHECK_FALSE(table.read(GuestPhysAddr(0x1020), W::Byte).has_value());
    CHECK_FALSE(table.read(GuestPhysAddr(0x0FFF), W::Word).has_value());
    CHECK_FALSE(table.write(GuestPhysAddr(0x1007), W::Word, 0));
    CHECK(table.write(GuestPhysAddr(0x1010), W::Word, 0xCAFE));
    CHECK(table.find_model<vmm::EchoDevice>(GuestPhysAddr(0x101F))->bytes()[0] == 0xFE);
    CHECK(table.find_model<vmm::EchoDevice>(GuestPhysAddr(0x1000))->bytes()[0] == 0x00);
    CHECK(table.find_model<LineDevice>(GuestPhysAddr(0x1000)) == nullptr);

    // Only a model that drives a line, at its base, to a source other than 0.
    CHECK_FALSE(table.route_irq(GuestPhysAddr(0x1000), 1));
    CHECK_FALSE(table.route_irq(GuestPhysAddr(0x3000), 0));
    CHECK_FALSE(table.route_irq(GuestPhysAddr(0x3004), 1));
    CHECK(table.route_irq(GuestPhysAddr(0x3000), 1));

    // The line reaches the controller after each access, whether or not
    // the caller listens for its outputs.
    auto* controller = table.find_model<MockController>(GuestPhysAddr(0x2000));
    REQUIRE(controller != nullptr);
    CHECK(table.write(GuestPhysAddr(0x3000), W::Dword, 1));
    CHECK(controller->levels[1]);
    CHECK(controller->reported[0]);
    std::vector<std::pair<usize, bool>> changes;
    CHECK(table.write(GuestPhysAddr(0x3000), W::Dword, 0,
                      [&](usize output, bool asserted) { changes.emplace_back(output, asserted); }));
    CHECK(changes == std::vector<std::pair<usize, bool>>{{0, false}});
    CHECK(table.read(GuestPhysAddr(0x3000), W::Dword) == std::uint64_t{0});
}
}  // namespace vmm_core_test
