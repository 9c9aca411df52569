// A virtual PLIC: the platform-level interrupt controller a Linux guest's
// sifive,plic-1.0.0 / riscv,plic0 driver programs, as a pure model over
// 32-bit MMIO reads and writes. It follows the RISC-V PLIC specification
// v1.0.0 ("the spec" below). No CSR access and no asm: it builds on any host
// and is tested there (test/riscv64/vplic_test.cpp).
//
// Register map (offsets from the PLIC's base, as the spec's "Memory Map"):
//   0x000000 + 4*s            priority of source s (s = 0 is reserved)
//   0x001000 + 4*w            pending bits of sources 32w..32w+31 (read-only)
//   0x002000 + 0x80*c + 4*w   enable bits of sources 32w..32w+31 for context c
//   0x200000 + 0x1000*c       priority threshold of context c
//   0x200004 + 0x1000*c       claim (read) / complete (write) of context c
// The model answers the spec's whole 64 MiB map (plic::map_size). Only
// naturally aligned 32-bit accesses exist ("The memory-mapped registers ...
// have a width of 32-bits ... accessed atomically with LW and SW"): any
// other width, a misaligned offset or one past the map is refused (read:
// nullopt, write: false), and the VMM reflects an access fault. Inside the
// map, the registers of sources and contexts this PLIC does not have, and
// the spec's reserved words, read 0 and ignore writes: the spec lets an
// implementation hardwire priorities and enable bits ("A valid
// implementation can hardwire all input priority levels", "IE bits might
// be hardwired to zero"), so a guest sees a smaller PLIC, not a bus error.
// A VMM need only claim plic::mmio_size(contexts) bytes (the last context's
// threshold and claim page included), as QEMU virt does.
//
// Contexts (spec: "How PLIC organizes interrupts for the contexts ... is out
// of RISC-V PLIC specification scope"): the model numbers them 0..Contexts-1
// and gives none a meaning. The VMM should number them as QEMU virt does,
// two per hart, M-mode context 2n and S-mode context 2n+1 for vCPU n
// (plic::supervisor_context, plic::vcpu_of_context, plic::contexts_for),
// so the guest's device tree has the shape of QEMU's:
//     interrupts-extended = <&cpu0_intc 11>, <&cpu0_intc 9>,
//                           <&cpu1_intc 11>, <&cpu1_intc 9>;
//     riscv,ndev = <Sources>;  reg = <... plic::mmio_size(contexts)>;
// Linux uses only the contexts whose parent interrupt is 9 (supervisor
// external) and skips the others, so the even contexts exist in the
// register map but nothing ever enables a source there; their irq_line
// stays false and the VMM ignores them.
//
// Priorities are WARL (spec: "Interrupt source priority registers should be
// WARL fields"): the model keeps the low PriorityBits bits (3 by default:
// 0..7, like QEMU virt), and so does the threshold ("The threshold register
// is a WARL field"). Priority 0 means "never interrupt": such a source is
// neither notified nor claimed, though it stays pending (Linux masks an
// interrupt by writing priority 0 and unmasks it with 1).
//
// Gateways (spec "Interrupt Gateways"): at most one request per source is
// pending (its IP bit); a claim clears IP and puts the source in service
// until a completion, and while it is in service no new request reaches IP.
//   set_pending(s)   an edge: sets IP, or, while s is in service, is held
//                    (one deep: further edges merge) and sets IP at the
//                    completion, so an edge that arrives while the guest's
//                    handler runs is not lost.
//   set_level(s, v)  a level input (the emulated or passed-through 16550
//                    interrupt is level-triggered): raising it sets IP
//                    unless s is pending or in service; at a completion,
//                    if the level is still high, IP is set again.
//                    Lowering it does not withdraw a request already in
//                    IP ("The gateway does not have the facility to
//                    retract an interrupt request once forwarded"); the
//                    guest's handler then finds the device quiet, as on
//                    hardware. (QEMU's PLIC does withdraw it.)
//
// Claim and complete, exactly as the spec words them (where QEMU's model
// differs, the spec wins):
//   claim     the highest-priority pending source enabled for the context,
//             ties to the lowest id; "the claim operation is not affected by
//             the setting of the priority threshold register" (so a guest
//             can raise its threshold and poll with claims); priority-0
//             sources are never claimed. It clears IP and puts the source
//             in service. 0 if nothing qualifies.
//   complete  ends the service of the written source if it is in service
//             and enabled for the writing context; "The PLIC does not check
//             whether the completion ID is the same as the last claim ID for
//             that target. If the completion ID does not match an interrupt
//             source that is currently enabled for the target, the completion
//             is silently ignored." An id that is not in service is ignored
//             too. (Linux completes a disabled interrupt by enabling it
//             around the write; plic_irq_eoi.)
//
// Output: irq_line(c) is the context's EIP bit ("the targets have any
// pending interrupts enabled, and the priority of the pending interrupts
// exceeds a per-target threshold"); sources in service are never pending,
// so they do not count. How a VMM wires it to a vCPU (interrupts.hpp):
//   1. MMIO exits on the PLIC's range go to read()/write() (the model is a
//      vmm::DeviceModel); the guest's set_pending/set_level inputs come from
//      the VMM's device models or host interrupts.
//   2. After every call that can change state (any write(), any read(), a
//      claim is a read, set_pending, set_level, complete), the VMM calls
//      update_lines(notify): notify(context, asserted) runs for each context
//      whose line changed since the last call. For an S-mode context 2n+1,
//      asserted -> VCpu::inject_interrupt(9) on vCPU n (hvip.VSEIP), not
//      asserted -> VCpu::clear_interrupt(9). A change for a vCPU on another
//      hart goes through the VMM's cross-CPU path (AxVCpu is not
//      thread-safe). Equivalently, a VMM may set hvip.VSEIP to
//      irq_line(2n+1) before every entry of vCPU n.
//   A line that is briefly stale (asserted after another vCPU claimed the
//   source) is allowed by the spec ("when the first target tries to claim
//   the interrupt it finds it has no active interrupts"): Linux's handler
//   claims 0 and returns. The line must still be cleared soon after, or the
//   guest keeps taking the interrupt.
//
// Not locked: one VPlic is shared by every vCPU of a VM, and the VMM
// serialises all calls on it (the example VMM's device models each hold a
// vmm::SpinLock around every access). No heap: fixed arrays sized by the
// template arguments (a VPlic<1023, 128> is about 21 KiB).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "axvcpu/exit_reason.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64 {

namespace plic {
// The spec's memory map.
inline constexpr std::uint64_t priority_base = 0x000000;
inline constexpr std::uint64_t pending_base = 0x001000;
inline constexpr std::uint64_t enable_base = 0x002000;
inline constexpr std::uint64_t enable_stride = 0x80;  // 1024 bits per context
inline constexpr std::uint64_t context_base = 0x200000;
inline constexpr std::uint64_t context_stride = 0x1000;
inline constexpr std::uint64_t threshold_reg = 0x0;  // inside a context's page
inline constexpr std::uint64_t claim_reg = 0x4;
inline constexpr std::uint64_t map_size = 0x4000000;  // through context 15871's page
inline constexpr usize max_sources = 1023;            // ids 1..1023; 0 means "no interrupt"
inline constexpr usize max_contexts = 15872;

[[nodiscard]] constexpr std::uint64_t priority_offset(usize source) noexcept { return priority_base + 4 * source; }
[[nodiscard]] constexpr std::uint64_t pending_offset(usize source) noexcept {
    return pending_base + 4 * (source / 32);
}
[[nodiscard]] constexpr std::uint64_t enable_offset(usize context, usize source) noexcept {
    return enable_base + enable_stride * context + 4 * (source / 32);
}
[[nodiscard]] constexpr std::uint64_t threshold_offset(usize context) noexcept {
    return context_base + context_stride * context + threshold_reg;
}
[[nodiscard]] constexpr std::uint64_t claim_offset(usize context) noexcept {
    return context_base + context_stride * context + claim_reg;
}
// The bytes a PLIC with `contexts` contexts needs: up to the end of the last
// context's threshold/claim page (QEMU virt's VIRT_PLIC_SIZE).
[[nodiscard]] constexpr std::uint64_t mmio_size(usize contexts) noexcept {
    return context_base + context_stride * contexts;
}

// QEMU virt's context numbering: hart n has M-mode context 2n and S-mode
// context 2n+1. A guest's vCPU n takes its external interrupts through
// 2n+1; the even contexts are there only so the device tree keeps QEMU's
// shape.
[[nodiscard]] constexpr usize contexts_for(usize vcpus) noexcept { return 2 * vcpus; }
[[nodiscard]] constexpr usize supervisor_context(usize vcpu) noexcept { return 2 * vcpu + 1; }
// The vCPU whose S-mode context this is; nothing for an M-mode one.
[[nodiscard]] constexpr std::optional<usize> vcpu_of_context(usize context) noexcept {
    if (context % 2 == 0) return std::nullopt;
    return context / 2;
}

namespace detail {
// The index of the lowest set bit of a non-zero word. Not std::countr_zero:
// without Zbb (rv64imac) GCC lowers that to libgcc's __ctzdi2, and a kernel
// using this library provides only mem* and abort (README). A de Bruijn
// multiply needs nothing.
[[nodiscard]] constexpr usize lowest_bit(std::uint32_t word) noexcept {
    constexpr unsigned char index[32] = {0,  1,  28, 2,  29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4,  8,
                                         31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6,  11, 5,  10, 9};
    return index[((word & (0u - word)) * 0x077CB531u) >> 27];
}
static_assert([] {
    for (usize bit = 0; bit < 32; ++bit)
        if (lowest_bit(std::uint32_t{1} << bit) != bit || lowest_bit(0xffffffffu << bit) != bit) return false;
    return true;
}());
}  // namespace detail
}  // namespace plic

template <usize Sources, usize Contexts, unsigned PriorityBits = 3>
class VPlic {
    static_assert(Sources >= 1 && Sources <= plic::max_sources,
                  "VPlic: Sources (riscv,ndev) must be 1..1023: source ids start at 1, 0 means no interrupt");
    static_assert(Contexts >= 1 && Contexts <= plic::max_contexts, "VPlic: Contexts must be 1..15872");
    static_assert(PriorityBits >= 1 && PriorityBits <= 31, "VPlic: PriorityBits must be 1..31");

public:
    static constexpr usize sources = Sources;
    static constexpr usize contexts = Contexts;
    static constexpr std::uint32_t max_priority = (std::uint32_t{1} << PriorityBits) - 1;
    static constexpr std::uint64_t mmio_size = plic::mmio_size(Contexts);

    // --- MMIO: the guest's view (a vmm::DeviceModel) -----------------------
    // A claim is a read with side effects: call update_lines afterwards.
    constexpr std::optional<std::uint64_t> read(std::uint64_t offset, AccessWidth width) noexcept {
        if (!valid_access(offset, width)) return std::nullopt;
        if (offset < plic::pending_base) return priority(static_cast<usize>(offset / 4));
        if (offset < plic::enable_base) {
            const usize word = static_cast<usize>((offset - plic::pending_base) / 4);
            return word < words ? pending_[word] : 0;  // past 0x107c: reserved
        }
        if (offset < plic::context_base) {
            const std::uint64_t rel = offset - plic::enable_base;
            const usize context = static_cast<usize>(rel / plic::enable_stride);
            const usize word = static_cast<usize>(rel % plic::enable_stride / 4);
            return context < Contexts && word < words ? enable_[context][word] : 0;
        }
        const std::uint64_t rel = offset - plic::context_base;
        const usize context = static_cast<usize>(rel / plic::context_stride);
        if (context >= Contexts) return 0;
        switch (rel % plic::context_stride) {
            case plic::threshold_reg: return threshold_[context];
            case plic::claim_reg: return claim(context);
            default: return 0;  // reserved
        }
    }

    // Only the low 32 bits of `value` are the store's (sw).
    constexpr bool write(std::uint64_t offset, AccessWidth width, std::uint64_t value) noexcept {
        if (!valid_access(offset, width)) return false;
        const auto data = static_cast<std::uint32_t>(value);
        if (offset < plic::pending_base) {
            const usize source = static_cast<usize>(offset / 4);
            if (source >= 1 && source <= Sources) priority_[source] = data & max_priority;
            return true;
        }
        // Pending bits are read-only: "A pending bit in the PLIC core can be
        // cleared by setting the associated enable bit then performing a
        // claim", not by a store. The store is ignored, not refused, as QEMU.
        if (offset < plic::enable_base) return true;
        if (offset < plic::context_base) {
            const std::uint64_t rel = offset - plic::enable_base;
            const usize context = static_cast<usize>(rel / plic::enable_stride);
            const usize word = static_cast<usize>(rel % plic::enable_stride / 4);
            if (context < Contexts && word < words) enable_[context][word] = data & valid_bits(word);
            return true;
        }
        const std::uint64_t rel = offset - plic::context_base;
        const usize context = static_cast<usize>(rel / plic::context_stride);
        if (context >= Contexts) return true;
        switch (rel % plic::context_stride) {
            case plic::threshold_reg: threshold_[context] = data & max_priority; break;
            case plic::claim_reg: (void)complete(context, data); break;
            default: break;  // reserved
        }
        return true;
    }

    // --- Inputs: the devices' side ------------------------------------------
    // An edge on `source`. False (and nothing changes) for source 0 or one
    // this PLIC does not have.
    constexpr bool set_pending(usize source) noexcept {
        if (!valid_source(source)) return false;
        if (test(in_service_, source)) {
            put(held_edge_, source, true);  // forwarded at the completion
        } else {
            put(pending_, source, true);
        }
        return true;
    }

    // The level of a level-triggered `source`. False (and nothing changes)
    // for source 0 or one this PLIC does not have.
    constexpr bool set_level(usize source, bool high) noexcept {
        if (!valid_source(source)) return false;
        put(level_, source, high);
        if (high && !test(in_service_, source)) put(pending_, source, true);
        return true;
    }

    // --- Output: each context's external interrupt line --------------------
    // Whether `context` has a pending, enabled source whose priority exceeds
    // its threshold (the spec's EIP). False for a context this PLIC does not
    // have.
    [[nodiscard]] constexpr bool irq_line(usize context) const noexcept {
        if (context >= Contexts) return false;
        for (usize word = 0; word < words; ++word) {
            for (std::uint32_t bits = pending_[word] & enable_[context][word]; bits != 0; bits &= bits - 1) {
                const usize source = 32 * word + plic::detail::lowest_bit(bits);
                if (priority_[source] > threshold_[context]) return true;
            }
        }
        return false;
    }

    // Calls notify(context, asserted) for every context whose irq_line
    // differs from what the previous call reported (all lines start
    // deasserted), in context order, and returns how many it called.
    template <class Notify>
    constexpr usize update_lines(Notify&& notify) {
        usize changed = 0;
        for (usize context = 0; context < Contexts; ++context) {
            const bool line = irq_line(context);
            const std::uint64_t bit = std::uint64_t{1} << (context % 64);
            if (((reported_[context / 64] & bit) != 0) == line) continue;
            reported_[context / 64] ^= bit;
            ++changed;
            notify(context, line);
        }
        return changed;
    }

    // --- The claim/complete register by name (MMIO goes through these) ------
    // The spec's claim: the source id, 0 if none qualifies or `context` is
    // not one of this PLIC's.
    constexpr usize claim(usize context) noexcept {
        if (context >= Contexts) return 0;
        usize best = 0;
        std::uint32_t best_priority = 0;  // priority 0 never interrupts
        for (usize word = 0; word < words; ++word) {
            for (std::uint32_t bits = pending_[word] & enable_[context][word]; bits != 0; bits &= bits - 1) {
                const usize source = 32 * word + plic::detail::lowest_bit(bits);
                // Ascending ids and a strict comparison: ties go to the lowest id.
                if (priority_[source] > best_priority) {
                    best = source;
                    best_priority = priority_[source];
                }
            }
        }
        if (best != 0) {
            put(pending_, best, false);
            put(in_service_, best, true);
        }
        return best;
    }

    // The spec's completion: true when it ended `source`'s service, false
    // when it was ignored (bad context or id, not in service, or not
    // enabled for `context`). A held edge or a level still high pends the
    // source again.
    constexpr bool complete(usize context, usize source) noexcept {
        if (context >= Contexts || !valid_source(source)) return false;
        if (!test(in_service_, source) || !test(enable_[context], source)) return false;
        put(in_service_, source, false);
        if (test(held_edge_, source) || test(level_, source)) put(pending_, source, true);
        put(held_edge_, source, false);
        return true;
    }

    // --- State, for the VMM's checks and for tests (0/false when out of range)
    [[nodiscard]] constexpr std::uint32_t priority(usize source) const noexcept {
        return valid_source(source) ? priority_[source] : 0;
    }
    [[nodiscard]] constexpr bool pending(usize source) const noexcept {
        return valid_source(source) && test(pending_, source);
    }
    [[nodiscard]] constexpr bool in_service(usize source) const noexcept {
        return valid_source(source) && test(in_service_, source);
    }
    [[nodiscard]] constexpr bool level(usize source) const noexcept {
        return valid_source(source) && test(level_, source);
    }
    [[nodiscard]] constexpr bool enabled(usize context, usize source) const noexcept {
        return context < Contexts && valid_source(source) && test(enable_[context], source);
    }
    [[nodiscard]] constexpr std::uint32_t threshold(usize context) const noexcept {
        return context < Contexts ? threshold_[context] : 0;
    }

private:
    // 32-bit words of a source bitmap; bit 0 of word 0 is source 0, which
    // does not exist and stays 0 ("hardwired to zero").
    static constexpr usize words = Sources / 32 + 1;
    using Bitmap = std::array<std::uint32_t, words>;

    [[nodiscard]] static constexpr bool valid_source(usize source) noexcept {
        return source >= 1 && source <= Sources;
    }
    [[nodiscard]] static constexpr bool valid_access(std::uint64_t offset, AccessWidth width) noexcept {
        return width == AccessWidth::Dword && offset % 4 == 0 && offset < plic::map_size;
    }
    // The bits of `word` that name sources this PLIC has.
    [[nodiscard]] static constexpr std::uint32_t valid_bits(usize word) noexcept {
        std::uint32_t bits = 0;
        for (usize bit = 0; bit < 32; ++bit)
            if (valid_source(32 * word + bit)) bits |= std::uint32_t{1} << bit;
        return bits;
    }
    [[nodiscard]] static constexpr bool test(const Bitmap& map, usize source) noexcept {
        return (map[source / 32] >> (source % 32) & 1) != 0;
    }
    static constexpr void put(Bitmap& map, usize source, bool on) noexcept {
        const std::uint32_t bit = std::uint32_t{1} << (source % 32);
        map[source / 32] = on ? (map[source / 32] | bit) : (map[source / 32] & ~bit);
    }

    std::array<std::uint32_t, Sources + 1> priority_{};
    Bitmap pending_{};     // IP: requests the gateways forwarded, not yet claimed
    Bitmap in_service_{};  // claimed, awaiting completion
    Bitmap level_{};       // level inputs that are high
    Bitmap held_edge_{};   // an edge that came while in service
    std::array<Bitmap, Contexts> enable_{};
    std::array<std::uint32_t, Contexts> threshold_{};
    std::array<std::uint64_t, (Contexts + 63) / 64> reported_{};  // irq_line at the last update_lines
};

}  // namespace axvcpu::riscv64
