// Virtual interrupt injection for x86 guests: which event the next guest
// entry carries, and when the policy must wait for an interrupt window.
//
// The VMM's interrupts wait in the vCPU's IrqQueue. The hardware's event
// injection (SVM EVENTINJ, VMX VM-entry interruption information) delivers
// an external interrupt whatever the guest's RFLAGS.IF says, so the policy
// injects one only while the guest could take it (IF set, no STI/MOV SS
// interrupt shadow) and otherwise asks for an exit the moment it can
// (SVM: a virtual interrupt with the VINTR intercept; VMX: interrupt-window
// exiting). An event whose delivery an exit interrupted (SVM EXITINTINFO,
// VMX IDT-vectoring information) is delivered again first (AMD APM vol. 2,
// 15.7.2; Intel SDM vol. 3C, 28.2.4).
//
// Pure: plan_entry decides from values, the back end applies its result.
#pragma once

#include <cstdint>
#include <optional>

#include "axvcpu/types.hpp"

namespace axvcpu::x86_64 {

// The guest's state that decides whether an external interrupt can be
// delivered now.
struct Interruptibility {
    bool interrupts_enabled = false;  // RFLAGS.IF
    bool shadow = false;              // the instruction after STI / MOV SS
    [[nodiscard]] constexpr bool can_take_interrupt() const noexcept { return interrupts_enabled && !shadow; }
};

// What one guest entry does about events.
struct EntryPlan {
    enum class Source : std::uint8_t { None, Reinjected, Queued };
    Source source = Source::None;
    std::uint8_t vector = 0;       // Queued: the vector to inject (the caller pops it)
    bool request_window = false;   // exit as soon as the guest can take an interrupt
    constexpr bool operator==(const EntryPlan&) const noexcept = default;
};

// `reinject`: an interrupted event is waiting; `next`: the oldest queued
// vector, if any, and `queued` how many wait in all. A reinjected event
// goes first and any queued one waits for the window after it; a queued
// one goes when the guest can take it, else waits for the window. Whenever
// a vector still waits behind the event this entry injects, the window is
// asked for too: the guest may run on without another exit, and the
// waiting vector must not depend on one.
[[nodiscard]] constexpr EntryPlan plan_entry(bool reinject, std::optional<usize> next, usize queued,
                                             Interruptibility guest) noexcept {
    if (reinject) return EntryPlan{EntryPlan::Source::Reinjected, 0, next.has_value()};
    if (!next) return EntryPlan{};
    if (guest.can_take_interrupt()) return EntryPlan{EntryPlan::Source::Queued, static_cast<std::uint8_t>(*next), queued > 1};
    return EntryPlan{EntryPlan::Source::None, 0, true};
}

// x86 delivers vectors 32..255 as external interrupts; 0..31 are the
// architecture's exceptions, which the VMM does not inject this way.
[[nodiscard]] constexpr bool is_injectable_vector(usize vector) noexcept { return vector >= 32 && vector <= 255; }

}  // namespace axvcpu::x86_64
