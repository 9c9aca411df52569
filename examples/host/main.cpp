// A hosted mini-VMM: drives AxVCpu through its whole life against the mock
// arch policy, whose scripted "guest" produces every kind of exit, and
// prints a readable trace of what the VMM did with each one.
//
// It is the shape of a real VMM's run loop; an arch policy's QEMU example
// runs the same loop against a real guest.
#include <axvcpu/axvcpu.hpp>
#include <axvcpu/ostream.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

#include <array>
#include <cstdio>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

using namespace axvcpu;

namespace {
using Host = policies::RecordingHost<>;
using Arch = policies::MockArchVCpu<Host>;
using VCpu = AxVCpu<Arch, Host>;

constexpr VMId vm_id = 1;
constexpr GuestPhysAddr uart_base(0x09000000);
constexpr GuestPhysAddr rtc_base(0x09010000);

// What the mock guest on vCPU 0 does, one exit per run().
const AxVCpuExitReason boot_cpu_script[] = {
    exit::MmioWrite{uart_base, AccessWidth::Byte, 'h'},
    exit::MmioWrite{uart_base, AccessWidth::Byte, 'i'},
    exit::MmioWrite{uart_base, AccessWidth::Byte, '\n'},
    exit::MmioRead{rtc_base, AccessWidth::Dword, 5, AccessWidth::Qword, false},
    exit::Hypercall{0x10, {0xcafe, 0, 0, 0, 0, 0}},
    exit::SysRegRead{SysRegAddr{0x33c4e8}, 2},  // a timer register the VMM emulates
    exit::SysRegWrite{SysRegAddr{0x33c4e8}, 0x1},
    exit::IoRead{0x3f8, AccessWidth::Byte},
    exit::IoWrite{0x3f8, AccessWidth::Byte, 'x'},
    exit::CpuUp{1, GuestPhysAddr(0x40080000), 0xa1},
    exit::SendIPI{1, 0, false, false, 1},
    exit::ExternalInterrupt{33},
    exit::Halt{},
    exit::InterruptEnd{33},
    exit::NestedPageFault{GuestPhysAddr(0x7fff0000), MappingFlags{MappingFlags::READ}},
    exit::PreemptionTimer{},
    exit::Idle{},
    exit::Nothing{},
    exit::SystemDown{},
};
// vCPU 1, started by CpuUp: takes the IPI, reports and goes down.
const AxVCpuExitReason secondary_script[] = {
    exit::Hypercall{0x11, {1, 0, 0, 0, 0, 0}},
    exit::CpuDown{0},
};

// vCPUs live in fixed slots indexed by vCPU id: an AxVCpu is current on a
// CPU by address while its arch code runs, so it must never move once set
// up (no growing vector). In this VM a guest names CPUs by vCPU id.
constexpr std::size_t vm_vcpus = 2;
struct Vm {
    std::array<std::optional<VCpu>, vm_vcpus> vcpus;
    bool running = true;
    std::string console;
};

void trace(const VCpu& vcpu, const std::string& what) {
    std::cout << "[vm " << vcpu.vm_id() << " vcpu " << vcpu.id() << "] " << what << '\n';
}

template <class T>
std::string text(const T& value) {
    return std::string(fmt::to_text<256>(value).view());
}

void must(AxResult<void> r, const char* what) {
    if (!r) {
        std::cerr << what << " failed: " << r.error() << '\n';
        std::exit(1);
    }
}

VCpu create_vcpu(VCpuId id, std::span<const AxVCpuExitReason> script) {
    auto created = VCpu::create(vm_id, id, id, std::nullopt, Arch::CreateConfig::scripted(script));
    if (!created) {
        std::cerr << "create vcpu " << id << ": " << created.error() << '\n';
        std::exit(1);
    }
    return std::move(created).value();
}

// Runs `vcpu` until it goes down, handling each exit as a VMM would.
void run_vcpu(Vm& vm, VCpu& vcpu) {
    for (;;) {
        const auto exit_reason = vcpu.run();
        if (!exit_reason) {
            trace(vcpu, "run failed: " + text(exit_reason.error()));
            vm.running = false;
            return;
        }
        const AxVCpuExitReason& reason = exit_reason.value();
        std::string action;
        bool stop = false;
        std::visit(
            [&]<class E>(const E& e) {
                if constexpr (std::is_same_v<E, exit::MmioWrite>) {
                    if (e.addr != uart_base) {
                        action = "write to no device: ignored";
                        return;
                    }
                    const char c = static_cast<char>(e.data);
                    vm.console.push_back(c);
                    action = c == '\n' ? "uart <- newline" : std::string("uart <- '") + c + "'";
                } else if constexpr (std::is_same_v<E, exit::MmioRead>) {
                    const usize now = 1700000000;
                    must(vcpu.set_gpr(e.reg, now), "set_gpr");
                    action = "rtc -> x" + std::to_string(e.reg) + " = " + std::to_string(now);
                } else if constexpr (std::is_same_v<E, exit::Hypercall>) {
                    must(vcpu.set_return_value(0), "set_return_value");
                    action = "hypercall answered 0";
                } else if constexpr (std::is_same_v<E, exit::SysRegRead>) {
                    must(vcpu.set_gpr(e.reg, 0), "set_gpr");
                    action = "emulated register reads 0";
                } else if constexpr (std::is_same_v<E, exit::SysRegWrite> || std::is_same_v<E, exit::IoWrite>) {
                    action = "write accepted";
                } else if constexpr (std::is_same_v<E, exit::IoRead>) {
                    must(vcpu.set_return_value(0xff), "set_return_value");
                    action = "port reads 0xff (nothing there)";
                } else if constexpr (std::is_same_v<E, exit::CpuUp>) {
                    if (e.target_cpu >= vm.vcpus.size() || vm.vcpus[e.target_cpu]) {
                        must(vcpu.set_return_value(~usize{0}), "set_return_value");
                        action = "no such CPU, or already up: refused";
                        return;
                    }
                    VCpu& secondary = vm.vcpus[e.target_cpu].emplace(create_vcpu(e.target_cpu, secondary_script));
                    must(secondary.setup(e.entry_point, HostPhysAddr(0x50000000), {}), "setup");
                    must(secondary.set_gpr(0, e.arg), "set_gpr");
                    must(secondary.bind(), "bind");
                    must(vcpu.set_return_value(0), "set_return_value");
                    action = "vcpu " + std::to_string(e.target_cpu) + " created at " + text(e.entry_point);
                } else if constexpr (std::is_same_v<E, exit::SendIPI>) {
                    if (e.target_cpu >= vm.vcpus.size() || !vm.vcpus[e.target_cpu]) {
                        action = "IPI to a CPU that is not up: dropped";
                        return;
                    }
                    VCpu& target = *vm.vcpus[e.target_cpu];
                    must(target.inject_interrupt(e.vector), "inject_interrupt");
                    trace(vcpu, text(reason) + " -> IPI queued on vcpu " + std::to_string(e.target_cpu) +
                                    ", which runs now");
                    run_vcpu(vm, target);
                } else if constexpr (std::is_same_v<E, exit::ExternalInterrupt>) {
                    must(vcpu.inject_interrupt(e.vector), "inject_interrupt");
                    action = "host irq forwarded to the guest";
                } else if constexpr (std::is_same_v<E, exit::Halt>) {
                    must(vcpu.block(), "block");
                    Host::advance_ticks(100);  // time passes; the pending interrupt wakes it
                    must(vcpu.unblock(), "unblock");
                    action = "blocked until its interrupt, woken";
                } else if constexpr (std::is_same_v<E, exit::NestedPageFault>) {
                    action = "unmapped guest memory: reported, guest resumed";
                } else if constexpr (std::is_same_v<E, exit::CpuDown>) {
                    action = "vcpu offline";
                    stop = true;
                } else if constexpr (std::is_same_v<E, exit::SystemDown>) {
                    action = "VM powers off";
                    vm.running = false;
                    stop = true;
                } else if constexpr (std::is_same_v<E, exit::FailEntry>) {
                    action = "entry failed";
                    vm.running = false;
                    stop = true;
                } else {
                    action = "nothing to do";  // Nothing, Idle, PreemptionTimer, InterruptEnd
                }
            },
            reason);
        if (!action.empty()) trace(vcpu, text(reason) + " -> " + action);
        if (stop) {
            must(vcpu.unbind(), "unbind");
            trace(vcpu, "unbound, state " + text(vcpu.state()));
            return;
        }
    }
}
}  // namespace

int main() {
    Host::reset();
    Host::state().vcpu_counts[vm_id] = vm_vcpus;
    Vm vm;
    VCpu& boot = vm.vcpus[0].emplace(create_vcpu(0, boot_cpu_script));
    trace(boot, "created, state " + text(boot.state()));
    must(boot.setup(GuestPhysAddr(0x40080000), HostPhysAddr(0x50000000), {}), "setup");
    trace(boot, "set up at " + text(GuestPhysAddr(0x40080000)) + ", state " + text(boot.state()));
    must(boot.bind(), "bind");
    trace(boot, "bound, state " + text(boot.state()));
    run_vcpu(vm, boot);

    std::cout << "guest console: " << vm.console;
    const bool ipi_delivered = vm.vcpus[1] && vm.vcpus[1]->arch_vcpu().delivered == std::vector<usize>{1};
    const bool ok = !vm.running && vm.console == "hi\n" && ipi_delivered && boot.state() == VCpuState::Free;
    std::cout << (ok ? "host example: PASS\n" : "host example: FAIL\n");
    return ok ? 0 : 1;
}
