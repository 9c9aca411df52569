// The smallest kernel-side user of the library: a trivial arch policy and a
// static host policy, instantiated through AxVCpu and AxPerCpu, built
// freestanding. check.py links it and inspects its symbols.
#include <axvcpu/axvcpu.hpp>

#include "kernel_host.hpp"

namespace {
using namespace axvcpu;

struct TrivialArch {
    struct CreateConfig {
        usize dtb = 0;
    };
    struct SetupConfig {};
    static AxResult<TrivialArch> create(VMId, VCpuId, CreateConfig config) { return TrivialArch{config.dtb, {}, {}}; }
    AxResult<void> set_entry(GuestPhysAddr entry) {
        pc = entry.value();
        return ax_ok();
    }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run() {
        if (auto vector = pending.pop()) return AxVCpuExitReason(exit::ExternalInterrupt{*vector});
        return AxVCpuExitReason(exit::MmioRead{GuestPhysAddr(pc), AccessWidth::Dword, 1, AccessWidth::Qword, true});
    }
    AxResult<void> set_gpr(usize index, usize value) {
        if (index >= 31) return ax_err(AxError::InvalidInput);
        x[index] = value;
        return ax_ok();
    }
    AxResult<void> inject_interrupt(usize vector) { return pending.push(vector); }
    void set_return_value(usize value) { x[0] = value; }

    usize pc;
    usize x[31];
    IrqQueue<> pending;
};

struct TrivialPerCpu {
    static AxResult<TrivialPerCpu> create(usize) { return TrivialPerCpu{}; }
    bool is_enabled() const { return on; }
    AxResult<void> hardware_enable() {
        on = true;
        return ax_ok();
    }
    AxResult<void> hardware_disable() {
        on = false;
        return ax_ok();
    }
    bool on = false;
};

using axvcpu_test::KernelHost;

// Where a kernel would send its log.
struct DiscardSink {
    volatile usize bytes = 0;
    void write(std::string_view text) { bytes = bytes + text.size(); }
};
}  // namespace

// Exercises the whole life cycle, the exit-reason printer and the per-CPU holder.
extern "C" int axvcpu_freestanding_main() {
    AxPerCpu<TrivialPerCpu> percpu;
    if (!percpu.init(0) || !percpu.hardware_enable()) return 1;
    auto created = AxVCpu<TrivialArch, KernelHost>::create(0, 0, 0, std::nullopt, {0x40000000});
    if (!created) return 2;
    auto& vcpu = created.value();
    if (!vcpu.setup(GuestPhysAddr(0x40080000), HostPhysAddr(0x50000000), {}) || !vcpu.bind()) return 3;
    (void)vcpu.inject_interrupt(27);
    DiscardSink log;
    for (int i = 0; i < 2; ++i) {
        auto reason = vcpu.run();
        if (!reason) return 4;
        print_to(log, reason.value());
        print_to(log, VmMemConfig{0x40000000, 0x1000000, 7, VmMemMappingType::MapIdentical});
        print_to(log, EmulatedDeviceType::Console);
    }
    return vcpu.unbind() ? static_cast<int>(log.bytes % 2) : 5;
}
