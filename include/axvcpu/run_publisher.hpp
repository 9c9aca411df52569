// RunPublisher<A, H>: what AxVCpu hands a policy whose run() decides itself
// when its vCPU must be visible as current and Running.
//
// AxVCpu makes itself the current vCPU, and reads Running, around every arch
// call, so that whatever the call reaches (host API callbacks, anything that
// asks current_vcpu()) sees it. Most guest exits reach nothing: the policy
// decodes them and returns. For those, setting and clearing the slot and the
// state is work nobody can observe: on this CPU only the arch code runs, and
// no other CPU may look (an AxVCpu is driven by one CPU at a time). A policy
// that knows where its run() reaches out declares
//     AxResult<AxVCpuExitReason> run(RunPublisher<A, H> publisher)
// and holds `publisher.publish()`'s guard over every stretch that could
// look: host API calls, current_vcpu(), host interrupt handlers it lets in.
// AxVCpu still refuses nesting and requires Ready before the call (or has
// a gating policy refuse it, arch_contract.hpp's set_runnable), and
// leaves the vCPU Ready (or Invalid, if the run failed) after it. So
// "Running" now means "inside run(), where someone could look", not "the
// guest is executing". A vCPU made Invalid inside a stretch (say, by a
// register write that found it Running) stays Invalid: neither the guard's
// end, nor a later guard, nor the end of run() stores over it. A publisher
// is good for the run() call it was handed to only: a policy must not keep
// it.
#pragma once

#include "axvcpu/vcpu_state.hpp"

namespace axvcpu {

template <class A, class H>
class AxVCpu;

template <class A, class H>
class RunPublisher {
public:
    // While it lives, the vCPU is this CPU's current vCPU and reads Running;
    // at its end no vCPU is current and the vCPU reads Ready. (Invalid, if
    // it was made so, reads Invalid throughout.)
    class [[nodiscard]] Published {
    public:
        ~Published() {
            if (vcpu_ != nullptr) RunPublisher::unpublish(*vcpu_);
        }
        Published(const Published&) = delete;
        Published& operator=(const Published&) = delete;

    private:
        friend class RunPublisher;
        explicit Published(AxVCpu<A, H>* vcpu) noexcept : vcpu_(vcpu) {}
        AxVCpu<A, H>* vcpu_;  // null: an outer guard published it and will end it
    };

    // A guard taken while another is alive (a helper that publishes, called
    // from a published stretch) changes nothing: the outer guard ends it.
    [[nodiscard]] Published publish() const noexcept {
        if (H::current_vcpu_slot() == vcpu_->current_header()) return Published(nullptr);
        H::set_current_vcpu_slot(vcpu_->current_header());
        vcpu_->enter_running();
        return Published(vcpu_);
    }

private:
    // Only AxVCpu makes one, once per run(). It holds the AxVCpu, whose
    // address is in practice the arch vCPU's own (the arch vCPU is its first
    // base), so passing it on to a policy's out-of-line exit handler costs
    // no more than its `this`.
    friend class AxVCpu<A, H>;
    explicit RunPublisher(AxVCpu<A, H>& vcpu) noexcept : vcpu_(&vcpu) {}

    static void unpublish(AxVCpu<A, H>& vcpu) noexcept {
        H::set_current_vcpu_slot(nullptr);
        vcpu.leave_running();
    }

    AxVCpu<A, H>* vcpu_;
};

}  // namespace axvcpu
