// MockArchVCpu / MockArchPerCpu: arch policies with no hardware behind them,
// for hosted tests of AxVCpu, AxPerCpu and of a VMM's exit handling.
//
// The mock guest is a script: each run() returns the next scripted exit
// (SystemDown once the script is exhausted). Every call is recorded with the
// current-vCPU pointer seen during it, and any kind of call can be made to
// fail, so a test can check both the order of arch calls and what the
// wrapper does with a failure. The records are RecordLogs (in place, fixed
// capacity: a test that outgrows one is told so and stopped).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/types.hpp"
#include "axvcpu/vcpu.hpp"
#include "policies/record_log.hpp"

namespace axvcpu::policies {

enum class MockCall : std::uint8_t {
    SetEntry,
    SetEptRoot,
    Setup,
    Bind,
    Unbind,
    Run,
    SetGpr,
    InjectInterrupt,
    SetReturnValue,
};

// (The analyzer's core.uninitialized.Assign reports the implicit move
// constructor copying a garbage vm_id out of AxVCpu::create's
// AxResult: it does not follow values through Boost.Outcome's union storage.
// Every constructor here sets vm_id.)
template <class H>
class MockArchVCpu {  // NOLINT(clang-analyzer-core.uninitialized.Assign)
public:
    static constexpr usize gpr_count = 32;
    static constexpr usize call_log_capacity = 2048;
    static constexpr usize interrupt_log_capacity = 2048;

    struct CreateConfig {
        std::span<const AxVCpuExitReason> script;
        std::optional<MockCall> fail_at;  // every call of this kind fails...
        AxError fail_with = AxError::Io;  // ...with this error
        bool fail_create = false;

        static CreateConfig scripted(std::span<const AxVCpuExitReason> script) {
            CreateConfig c;
            c.script = script;
            return c;
        }
        static CreateConfig failing(MockCall call, AxError error) {
            CreateConfig c;
            c.fail_at = call;
            c.fail_with = error;
            return c;
        }
        static CreateConfig failing_create(AxError error) {
            CreateConfig c;
            c.fail_create = true;
            c.fail_with = error;
            return c;
        }
    };
    struct SetupConfig {
        usize tag = 0;  // recorded, so a test can see the config arrive
    };

    struct Record {
        MockCall call;
        // The AxVCpu that was current on this CPU during the call.
        const AxVCpu<MockArchVCpu, H>* current;
    };

    static AxResult<MockArchVCpu> create(VMId vm, VCpuId vcpu, CreateConfig config) {
        if (config.fail_create) return ax_err(config.fail_with);
        return MockArchVCpu(vm, vcpu, config);
    }

    AxResult<void> set_entry(GuestPhysAddr addr) {
        AXVCPU_TRYV(record(MockCall::SetEntry));
        entry = addr;
        return ax_ok();
    }
    AxResult<void> set_ept_root(HostPhysAddr root) {
        AXVCPU_TRYV(record(MockCall::SetEptRoot));
        ept_root = root;
        return ax_ok();
    }
    AxResult<void> setup(SetupConfig config) {
        AXVCPU_TRYV(record(MockCall::Setup));
        setup_tag = config.tag;
        return ax_ok();
    }
    AxResult<void> bind() {
        AXVCPU_TRYV(record(MockCall::Bind));
        bound = true;
        return ax_ok();
    }
    AxResult<void> unbind() {
        AXVCPU_TRYV(record(MockCall::Unbind));
        bound = false;
        return ax_ok();
    }
    // Delivers every queued interrupt (the guest "takes" them at entry),
    // then exits with the next scripted reason.
    AxResult<AxVCpuExitReason> run() {
        AXVCPU_TRYV(record(MockCall::Run));
        for (usize vector : pending) delivered.push_back(vector);
        pending.clear();
        if (next_exit_ == script_.size()) return AxVCpuExitReason(exit::SystemDown{});
        return script_[next_exit_++];
    }
    AxResult<void> set_gpr(usize index, usize value) {
        AXVCPU_TRYV(record(MockCall::SetGpr));
        if (index >= gpr_count) return ax_err(AxError::InvalidInput);
        gprs[index] = value;
        return ax_ok();
    }
    AxResult<void> inject_interrupt(usize vector) {
        AXVCPU_TRYV(record(MockCall::InjectInterrupt));
        pending.push_back(vector);
        return ax_ok();
    }
    void set_return_value(usize value) {
        (void)record(MockCall::SetReturnValue);
        return_value = value;
    }

    // Observable state.
    VMId vm_id;
    VCpuId vcpu_id;
    GuestPhysAddr entry;
    HostPhysAddr ept_root;
    usize setup_tag = 0;
    bool bound = false;
    std::array<usize, gpr_count> gprs{};
    usize return_value = 0;
    RecordLog<usize, interrupt_log_capacity> pending{"MockArchVCpu::pending"};      // injected, not yet taken
    RecordLog<usize, interrupt_log_capacity> delivered{"MockArchVCpu::delivered"};  // taken at a run(), in order
    RecordLog<Record, call_log_capacity> calls{"MockArchVCpu::calls"};

    [[nodiscard]] RecordLog<MockCall, call_log_capacity> call_kinds() const {
        RecordLog<MockCall, call_log_capacity> kinds;
        for (const auto& r : calls) kinds.push_back(r.call);
        return kinds;
    }

private:
    MockArchVCpu(VMId vm, VCpuId vcpu, const CreateConfig& config)
        : vm_id(vm), vcpu_id(vcpu), script_(config.script), fail_at_(config.fail_at), fail_with_(config.fail_with) {}

    AxResult<void> record(MockCall call) {
        calls.push_back({call, current_vcpu<MockArchVCpu, H>()});
        if (fail_at_ == call) return ax_err(fail_with_);
        return ax_ok();
    }

    std::span<const AxVCpuExitReason> script_;
    usize next_exit_ = 0;
    std::optional<MockCall> fail_at_;
    AxError fail_with_;
};

// Per-CPU half: tracks enable/disable and can refuse either.
class MockArchPerCpu {
public:
    struct Log {
        usize enables = 0;
        usize disables = 0;
    };

    static AxResult<MockArchPerCpu> create(usize cpu_id) {
        if (cpu_id == refuse_cpu) return ax_err(AxError::Unsupported);
        return MockArchPerCpu(cpu_id);
    }
    [[nodiscard]] bool is_enabled() const { return enabled_; }
    AxResult<void> hardware_enable() {
        if (enabled_) return ax_err(AxError::AlreadyExists);
        enabled_ = true;
        ++log().enables;
        return ax_ok();
    }
    AxResult<void> hardware_disable() {
        if (!enabled_) return ax_err(AxError::BadState);
        enabled_ = false;
        ++log().disables;
        return ax_ok();
    }
    static constexpr usize max_guest_page_table_levels() { return 3; }

    [[nodiscard]] usize cpu_id() const { return cpu_id_; }
    static Log& log() {
        static Log l;
        return l;
    }
    static constexpr usize refuse_cpu = 99;  // create() fails for this id

private:
    explicit MockArchPerCpu(usize cpu_id) : cpu_id_(cpu_id) {}
    usize cpu_id_;
    bool enabled_ = false;
};

}  // namespace axvcpu::policies
