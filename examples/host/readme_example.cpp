#include <axvcpu/axvcpu.hpp>
#include <policies/recording_host.hpp>  // VMM, memory and time answers for a host test

using namespace axvcpu;

// Host side: the recording policy, with our own per-CPU current-vCPU slot.
struct MyHost : policies::RecordingHost<MyHost> {
    static inline void* slot = nullptr;  // a kernel would use a per-CPU area
    static void* current_vcpu_slot() { return slot; }
    static void set_current_vcpu_slot(void* vcpu) { slot = vcpu; }
};

// Arch side: a "guest" that makes one hypercall, then powers off.
struct MyArch {
    struct CreateConfig {};
    struct SetupConfig {};
    usize x0 = 0;
    static AxResult<MyArch> create(VMId, VCpuId, CreateConfig) { return MyArch{}; }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize value) { x0 = value; }
    AxResult<AxVCpuExitReason> run() {
        if (x0 == 0) return AxVCpuExitReason(exit::Hypercall{42, {}});
        return AxVCpuExitReason(exit::SystemDown{});
    }
};

int main() {
    auto vcpu = AxVCpu<MyArch, MyHost>::create(0, 0, 0, std::nullopt, {}).value();
    if (!vcpu.setup(GuestPhysAddr(0x80200000), HostPhysAddr(0x90000000), {}) || !vcpu.bind()) return 1;
    for (AxVCpuExitReason reason = vcpu.run().value(); !reason.is<exit::SystemDown>(); reason = vcpu.run().value())
        if (const auto* call = reason.get_if<exit::Hypercall>()) (void)vcpu.set_return_value(call->nr + 1);
    return vcpu.unbind() ? 0 : 1;
}
