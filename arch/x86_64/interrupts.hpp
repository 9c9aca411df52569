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
// Pure: plan_entry and take_entry_event decide from values, GuestEvents
// keeps a vCPU's events, and the back end applies their result.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "arch/x86_64/features.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/irq_queue.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64 {

// --- The event word ---------------------------------------------------------------
// SVM's EVENTINJ and EXITINTINFO (AMD APM vol. 2, 15.20) and VMX's VM-entry
// interruption information and IDT-vectoring information (Intel SDM vol.
// 3C, 25.8.3 table 25-17, 25.9.3) share bits 31:0: vector 7:0, type 10:8,
// "deliver error code" 11, valid 31. SVM keeps the error code in bits 63:32
// of the same word; the VMX policy moves it to and from its own field.
namespace event {
inline constexpr std::uint64_t vector_mask = 0xFF;
inline constexpr unsigned type_shift = 8;
inline constexpr std::uint64_t type_mask = std::uint64_t{7} << type_shift;
inline constexpr std::uint64_t type_intr = std::uint64_t{0} << type_shift;
inline constexpr std::uint64_t type_nmi = std::uint64_t{2} << type_shift;
inline constexpr std::uint64_t type_exception = std::uint64_t{3} << type_shift;
inline constexpr std::uint64_t type_soft_int = std::uint64_t{4} << type_shift;
inline constexpr std::uint64_t error_code_valid = std::uint64_t{1} << 11;
inline constexpr std::uint64_t valid = std::uint64_t{1} << 31;
inline constexpr unsigned error_code_shift = 32;
}  // namespace event

[[nodiscard]] constexpr std::uint64_t external_interrupt_event(std::uint8_t vector) noexcept {
    return event::valid | event::type_intr | vector;
}
[[nodiscard]] constexpr std::uint64_t exception_event(std::uint8_t vector) noexcept {
    return event::valid | event::type_exception | vector;
}
[[nodiscard]] constexpr std::uint64_t exception_event(std::uint8_t vector, std::uint32_t error_code) noexcept {
    return exception_event(vector) | event::error_code_valid | (std::uint64_t{error_code} << event::error_code_shift);
}

// The guest's state that decides whether an external interrupt can be
// delivered now.
struct Interruptibility {
    bool interrupts_enabled = false;  // RFLAGS.IF
    bool shadow = false;              // the instruction after STI / MOV SS
    // The guest's task priority (CR8, SVM's V_TPR): it takes no external
    // interrupt whose priority class (vector bits 7:4) is at or below it
    // (Intel SDM vol. 3A, 11.8.3.1; AMD APM vol. 2, 16.6).
    std::uint8_t task_priority = 0;
    [[nodiscard]] constexpr bool can_take_interrupt() const noexcept { return interrupts_enabled && !shadow; }
    [[nodiscard]] constexpr bool masks(usize vector) const noexcept { return (vector >> 4) <= task_priority; }
};

// What one guest entry does about events.
struct EntryPlan {
    enum class Source : std::uint8_t { None, Reinjected, Queued };
    Source source = Source::None;
    std::uint8_t vector = 0;       // Queued: the vector to inject (the caller pops it)
    bool request_window = false;   // exit as soon as the guest can take an interrupt
    // Not 0: the next vector waits for the guest's task priority to drop
    // below this priority class; no window is asked for (the guest could
    // take interrupts at once and would exit again and again), the back end
    // learns of the drop instead (VMX: CR8 writes exit; SVM: a virtual
    // interrupt of this priority, which the CPU delivers only then).
    std::uint8_t blocked_priority = 0;
    constexpr bool operator==(const EntryPlan&) const noexcept = default;
};

// `reinject`: an interrupted event is waiting; `next`: the oldest queued
// vector, if any, and `queued` how many wait in all. A reinjected event
// goes first and any queued one waits for the window after it; a queued
// one goes when the guest can take it, else waits for the window. Whenever
// a vector still waits behind the event this entry injects, the window is
// asked for too: the guest may run on without another exit, and the
// waiting vector must not depend on one. A queued vector the guest's task
// priority masks is not injected and asks for no window (blocked_priority).
[[nodiscard]] constexpr EntryPlan plan_entry(bool reinject, std::optional<usize> next, usize queued,
                                             Interruptibility guest) noexcept {
    if (reinject) return EntryPlan{EntryPlan::Source::Reinjected, 0, next.has_value(), 0};
    if (!next) return EntryPlan{};
    if (!guest.can_take_interrupt()) return EntryPlan{EntryPlan::Source::None, 0, true, 0};
    if (guest.masks(*next)) return EntryPlan{EntryPlan::Source::None, 0, false, static_cast<std::uint8_t>(*next >> 4)};
    return EntryPlan{EntryPlan::Source::Queued, static_cast<std::uint8_t>(*next), queued > 1, 0};
}

// What the next entry injects (an event word, 0 for none) and whether it
// must ask for an interrupt window, from the policy's pending events: an
// exception the policy or VMM raised (`pending_exception`) goes first and
// anything queued waits for the window after it; otherwise plan_entry
// chooses between the interrupted event (`reinject`) and the queue. The
// event taken is cleared from its source.
struct EntryEvents {
    std::uint64_t event = 0;
    bool request_window = false;
    std::uint8_t blocked_priority = 0;  // as EntryPlan's
    constexpr bool operator==(const EntryEvents&) const noexcept = default;
};

template <class Queue>
[[nodiscard]] constexpr EntryEvents take_entry_event(std::uint64_t& pending_exception, std::uint64_t& reinject,
                                                     Queue& queue, Interruptibility guest) {
    if (pending_exception != 0) return EntryEvents{std::exchange(pending_exception, 0), !queue.empty(), 0};
    const EntryPlan plan = plan_entry(reinject != 0, queue.front(), queue.size(), guest);
    EntryEvents out{0, plan.request_window, plan.blocked_priority};
    if (plan.source == EntryPlan::Source::Reinjected) out.event = std::exchange(reinject, 0);
    if (plan.source == EntryPlan::Source::Queued) {
        out.event = external_interrupt_event(plan.vector);
        (void)queue.pop();
    }
    return out;
}

// x86 delivers vectors 32..255 as external interrupts; 0..31 are the
// architecture's exceptions, which the VMM does not inject this way.
[[nodiscard]] constexpr bool is_injectable_vector(usize vector) noexcept { return vector >= 32 && vector <= 255; }

// A vCPU's events waiting for an entry, as both back ends keep them: the
// VMM's queued interrupts, an exception the policy or the VMM raised, and
// an event an exit interrupted.
class GuestEvents {
public:
    // Vectors 32..255; 0..31 are exceptions (InvalidInput). A full queue
    // is ResourceBusy.
    AxResult<void> queue_interrupt(usize vector) {
        if (!is_injectable_vector(vector)) return ax_err(AxError::InvalidInput);
        return queue_.push(vector);
    }
    // Exception `vector` (< 32), with `error_code` if given, at the next entry.
    AxResult<void> raise(std::uint8_t vector, std::optional<std::uint32_t> error_code = std::nullopt) {
        if (vector >= 32) return ax_err(AxError::InvalidInput);
        pending_exception_ = error_code ? exception_event(vector, *error_code) : exception_event(vector);
        return ax_ok();
    }
    void raise_ud() { pending_exception_ = exception_event(vector::ud); }
    void raise_gp() { pending_exception_ = exception_event(vector::gp, 0); }
    // An event word (error code in bits 63:32) the last exit interrupted.
    void reinject(std::uint64_t event) { reinject_ = event; }

    // An interrupt waits for delivery (queued, or cut short by an exit).
    [[nodiscard]] bool interrupt_pending() const noexcept { return !queue_.empty() || reinject_ != 0; }
    // Anything at all for the next entries.
    [[nodiscard]] bool any() const noexcept { return interrupt_pending() || pending_exception_ != 0; }
    // The next entry's event would be the interrupted one.
    [[nodiscard]] bool reinjecting() const noexcept { return reinject_ != 0 && pending_exception_ == 0; }
    // The next entry's event and window (take_entry_event), taken out.
    [[nodiscard]] EntryEvents take(Interruptibility guest) {
        return take_entry_event(pending_exception_, reinject_, queue_, guest);
    }

private:
    IrqQueue<> queue_{};
    std::uint64_t pending_exception_ = 0;  // an event word, 0: none
    std::uint64_t reinject_ = 0;           // an interrupted event's word, 0: none
};

}  // namespace axvcpu::x86_64
