// The translation unit test/bench/compile_cost.py times: the whole library
// header, the mock policies and one AxVCpu instantiation driven through its
// life cycle (create, setup, bind, a run loop answering exits, unbind), as a
// host test or a mini-VMM would use it.
#include <axvcpu/axvcpu.hpp>
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

using namespace axvcpu;

using Host = policies::RecordingHost<>;
using VCpu = AxVCpu<policies::MockArchVCpu<Host>, Host>;

int drive(std::span<const AxVCpuExitReason> script) {
    auto created = VCpu::create(1, 0, 0, std::nullopt, VCpu::CreateConfig::scripted(script));
    if (!created) return 1;
    VCpu vcpu = std::move(created).value();
    if (!vcpu.setup(GuestPhysAddr(0x40000000), HostPhysAddr(0x80000000), {}) || !vcpu.bind()) return 2;
    int exits = 0;
    for (;;) {
        auto reason = vcpu.run();
        if (!reason) return 3;
        ++exits;
        if (reason.value().is<exit::SystemDown>()) break;
        if (auto* call = reason.value().get_if<exit::Hypercall>()) {
            if (!vcpu.set_return_value(call->nr)) return 4;
        } else if (auto* read = reason.value().get_if<exit::MmioRead>()) {
            if (!vcpu.set_gpr(read->reg, 0)) return 5;
        } else if (auto* irq = reason.value().get_if<exit::ExternalInterrupt>()) {
            if (!vcpu.inject_interrupt(irq->vector)) return 6;
        } else if (reason.value().name().empty()) {
            return 7;
        }
    }
    return vcpu.unbind() ? exits : 8;
}
