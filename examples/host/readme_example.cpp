#include <axvcpu/axvcpu.hpp>
#include <policies/recording_host.hpp>  // VMM, memory and time answers for a host test

using namespace axvcpu;

// The host side: the recording policy for everything, plus our own per-CPU slot.
struct MyHost : policies::RecordingHost<MyHost> {
    static void* current_vcpu_slot() { return slot; }
    static void set_current_vcpu_slot(void* vcpu) { slot = vcpu; }
    static inline void* slot = nullptr;  // a kernel would use a per-CPU area
};

// The arch side: a "guest" that asks for one hypercall, then powers off.
struct MyArch {
    struct CreateConfig {};
    struct SetupConfig {};
    static AxResult<MyArch> create(VMId, VCpuId, CreateConfig) { return MyArch{}; }
    AxResult<void> set_entry(GuestPhysAddr) { return ax_ok(); }
    AxResult<void> set_ept_root(HostPhysAddr) { return ax_ok(); }
    AxResult<void> setup(SetupConfig) { return ax_ok(); }
    AxResult<void> bind() { return ax_ok(); }
    AxResult<void> unbind() { return ax_ok(); }
    AxResult<AxVCpuExitReason> run() {
        if (x0 == 0) return AxVCpuExitReason(exit::Hypercall{42, {}});
        return AxVCpuExitReason(exit::SystemDown{});
    }
    AxResult<void> set_gpr(usize, usize) { return ax_ok(); }
    AxResult<void> inject_interrupt(usize) { return ax_ok(); }
    void set_return_value(usize value) { x0 = value; }
    usize x0 = 0;
};

int main() {
    auto vcpu = AxVCpu<MyArch, MyHost>::create(0, 0, 0, std::nullopt, {}).value();
    (void)vcpu.setup(GuestPhysAddr(0x80200000), HostPhysAddr(0x90000000), {});
    (void)vcpu.bind();
    for (;;) {
        AxVCpuExitReason reason = vcpu.run().value();
        if (auto* call = reason.get_if<exit::Hypercall>()) (void)vcpu.set_return_value(call->nr + 1);
        if (reason.is<exit::SystemDown>()) break;
    }
    return vcpu.unbind() ? 0 : 1;
}
