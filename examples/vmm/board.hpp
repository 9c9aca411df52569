// What a board gives the VMM core (vmm.hpp): everything that differs
// between arches and machines, as static members of one type. The core
// checks a board with check_board<B>(), whose first failing assertion
// names what is missing.
//
//   using Arch, Host                     the arch vCPU policy and the host policy
//   using Devices                        a DeviceTable of the models it offers
//   max_cpus, max_vcpus_per_vm           sizes of the static tables
//   trace_exits                          print every exit (up to a limit)
//   putc(char)                           one byte to the console
//   cpu_index()                          this physical CPU
//   kick(cpu)                            make `cpu` leave its guest (an IPI)
//   idle()                               wait for an interrupt on this CPU, let the host take it
//   exit(code)                           stop the machine with a status
//   build_stage2(description)            stage 2 for a VM, or nothing
//   add_device(devices, config)          put the model for an emulated device in the table
//   create_config / setup_config         the arch policy's configs for a VM
//   set_boot_arguments(vcpu, arg)        registers of a vCPU started by the guest (its
//                                        arch's CPU-start state, then the argument)
//   cpu_up_status(status)                the firmware's answer to the starter
//   loaded_value(read, raw)              the register value of an emulated load (or complete_load)
//   reflect_fault(vcpu, access, gpa)     the guest takes an external abort / access fault
//   sysreg_read / sysreg_write           trapped system registers it emulates
//   external_interrupt(vcpu, vector)     a host interrupt that made the guest exit
//   interrupt_pending(vcpu)              a halted vCPU may run again
//   power_off_status(vcpu)               the status a guest powered off with, if any
//   hypercall(vcpu, call)                the hypercalls only this arch has
//   timer_fires()                        guest timers fired through host timers
//   test_name(id), test_checks(id)       the VMM-side checks of a test guest
//   run_failed(vcpu, error)              report an exit the policy refused
// Optional: before_entry(vcpu), after_exit(vcpu, reason) (after_exit sees every
//                                        exit before the core: a hook acting on a
//                                        test hypercall checks the VM's test_guest)
//   cpu_down(vcpu)                       a vCPU stopped itself (CpuDown), called on its
//                                        CPU while it is still bound: what its CPU
//                                        interface holds goes back to the VM's model
//                                        (aarch64: the list registers the VMM fed)
//   complete_load(vcpu, read, raw)      instead of loaded_value: writes an emulated
//                                        load itself (x86: 8/16-bit loads merge into
//                                        the old register, AH..BH are parts of one)
//   complete_sysreg_read(vcpu, read, v)  writes a trapped register read's value
//                                        (x86 RDMSR: EDX:EAX), instead of set_gpr
//   refuse_sysreg(vcpu, addr) -> bool   a register nobody emulates: true if the board
//                                        raised a fault (x86: #GP), else it reads as
//                                        zero / the write is ignored
//   io_read(vcpu, in), io_write(vcpu, out) -> PortEffect, port_traced(port) -> bool
//                                        port I/O (x86): the board answers or refuses
//                                        each access; PowerOff ends the VM (ACPI S5);
//                                        port_traced false for a console's ports
// for a VM whose
// device table has an interrupt controller model (devices.hpp):
//   irq_output_vcpu(output) -> optional<usize>   the vCPU a controller output feeds
//   set_irq_line(vcpu, level)            raise or lower that vCPU's external interrupt
//   send_ipi(vcpu, ipi) -> bool          hand a SendIPI to that model (true: done)
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>

#include <axvcpu/addr.hpp>
#include <axvcpu/error.hpp>
#include <axvcpu/exit_reason.hpp>
#include <axvcpu/vcpu.hpp>
#include <axvcpu/vm_config.hpp>

#include "vm_description.hpp"

namespace vmm {

// How a board answered a hypercall the core does not know.
struct HypercallAnswer {
    enum class Kind : std::uint8_t { Unknown, Value, InRegisters };
    Kind kind = Kind::Unknown;
    std::uint64_t value = 0;

    static constexpr HypercallAnswer of(std::uint64_t value) noexcept { return {Kind::Value, value}; }
    static constexpr HypercallAnswer in_registers() noexcept { return {Kind::InRegisters, 0}; }
    static constexpr HypercallAnswer unknown() noexcept { return {}; }
};

// What a CPU_ON / hart_start came to; the board encodes it as its firmware does.
enum class CpuUpStatus : std::uint8_t { Started, AlreadyOn, InvalidTarget, InvalidAddress, Failed };

// What a board's io_write did.
enum class PortEffect : std::uint8_t { Done, PowerOff };

template <class B>
constexpr bool check_board() {
    using VCpu = axvcpu::AxVCpu<typename B::Arch, typename B::Host>;
    static_assert(requires { B::max_cpus + B::max_vcpus_per_vm; }, "Board: lacks `max_cpus` / `max_vcpus_per_vm`");
    static_assert(requires { bool(B::trace_exits); }, "Board: lacks `static constexpr bool trace_exits`");
    static_assert(requires(char c) { B::putc(c); }, "Board: lacks `static void putc(char)`");
    static_assert(requires { { B::cpu_index() } -> std::convertible_to<axvcpu::usize>; },
                  "Board: lacks `static usize cpu_index()`");
    static_assert(requires(axvcpu::usize cpu) { B::kick(cpu); }, "Board: lacks `static void kick(usize cpu)`");
    static_assert(requires { B::idle(); }, "Board: lacks `static void idle()`");
    static_assert(requires(std::uint32_t code) { B::exit(code); }, "Board: lacks `[[noreturn]] static void exit(u32)`");
    static_assert(requires(const VmDescription& vm) {
        { B::build_stage2(vm) } -> std::same_as<std::optional<axvcpu::HostPhysAddr>>;
    }, "Board: lacks `static std::optional<HostPhysAddr> build_stage2(const VmDescription&)`");
    static_assert(requires(typename B::Devices& devices, const axvcpu::EmulatedDeviceConfig& config) {
        { B::add_device(devices, config) } -> std::same_as<bool>;
    }, "Board: lacks `static bool add_device(Devices&, const EmulatedDeviceConfig&)`");
    static_assert(requires(const VmDescription& vm, axvcpu::usize id) {
        { B::create_config(vm, id) } -> std::same_as<typename B::Arch::CreateConfig>;
        { B::setup_config(vm) } -> std::same_as<typename B::Arch::SetupConfig>;
    }, "Board: lacks `create_config(const VmDescription&, usize)` / `setup_config(const VmDescription&)`");
    static_assert(requires(VCpu& vcpu, std::uint64_t arg) {
        { B::set_boot_arguments(vcpu, arg) } -> std::same_as<bool>;
    }, "Board: lacks `static bool set_boot_arguments(VCpu&, u64 arg)`");
    static_assert(requires(CpuUpStatus status) { { B::cpu_up_status(status) } -> std::same_as<std::uint64_t>; },
                  "Board: lacks `static u64 cpu_up_status(CpuUpStatus)`");
    static_assert(requires(const axvcpu::exit::MmioRead& read, std::uint64_t raw) {
        { B::loaded_value(read, raw) } -> std::same_as<std::uint64_t>;
    } || requires(VCpu& vcpu, const axvcpu::exit::MmioRead& read, std::uint64_t raw) {
        B::complete_load(vcpu, read, raw);
    }, "Board: lacks `static u64 loaded_value(const MmioRead&, u64 raw)` (or `complete_load(VCpu&, const MmioRead&, u64)`)");
    static_assert(requires(VCpu& vcpu, std::uint32_t access, axvcpu::GuestPhysAddr gpa) {
        { B::reflect_fault(vcpu, access, gpa) } -> std::same_as<bool>;
    }, "Board: lacks `static bool reflect_fault(VCpu&, u32 access, GuestPhysAddr)`");
    static_assert(requires(VCpu& vcpu, axvcpu::SysRegAddr addr, std::uint64_t value) {
        { B::sysreg_read(vcpu, addr) } -> std::same_as<std::optional<std::uint64_t>>;
        { B::sysreg_write(vcpu, addr, value) } -> std::same_as<bool>;
    }, "Board: lacks `sysreg_read(VCpu&, SysRegAddr)` / `sysreg_write(VCpu&, SysRegAddr, u64)`");
    static_assert(requires(VCpu& vcpu, axvcpu::usize vector) { B::external_interrupt(vcpu, vector); },
                  "Board: lacks `static void external_interrupt(VCpu&, usize vector)`");
    static_assert(requires(VCpu& vcpu) { { B::interrupt_pending(vcpu) } -> std::same_as<bool>; },
                  "Board: lacks `static bool interrupt_pending(VCpu&)`");
    static_assert(requires(VCpu& vcpu) { { B::power_off_status(vcpu) } -> std::same_as<std::optional<std::uint64_t>>; },
                  "Board: lacks `static std::optional<u64> power_off_status(VCpu&)`");
    static_assert(requires(VCpu& vcpu, const axvcpu::exit::Hypercall& call) {
        { B::hypercall(vcpu, call) } -> std::same_as<HypercallAnswer>;
    }, "Board: lacks `static HypercallAnswer hypercall(VCpu&, const exit::Hypercall&)`");
    static_assert(requires { { B::timer_fires() } -> std::same_as<std::uint64_t>; },
                  "Board: lacks `static u64 timer_fires()`");
    static_assert(requires(std::uint64_t id) {
        { B::test_name(id) } -> std::convertible_to<std::string_view>;
        { B::test_checks(id) } -> std::same_as<bool>;
    }, "Board: lacks `test_name(u64)` / `test_checks(u64)`");
    static_assert(requires(VCpu& vcpu, axvcpu::AxError error) { B::run_failed(vcpu, error); },
                  "Board: lacks `static void run_failed(VCpu&, AxError)`");
    return true;
}

}  // namespace vmm
