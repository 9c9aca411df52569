// RecordingHost: a HostApiPolicy for hosted tests that answers from a
// scriptable state and records every call the library makes, so a test can
// assert on "the policy injected vector 27 into VM 1, vCPU 0".
//
// Its state is static (the host API is static functions); each distinct Tag
// gets its own, and reset() restores the defaults between test cases. The
// current-vCPU slot is thread_local: each test thread plays a physical CPU;
// the recorded state is shared and unsynchronised, so a test drives it from
// one thread at a time. Frames are zeroed when allocated. The records are
// RecordLogs (in place, fixed capacity: a test that outgrows one is told so
// and stopped).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "axvcpu/addr.hpp"
#include "axvcpu/current_vcpu_slots.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/types.hpp"
#include "policies/record_log.hpp"

namespace axvcpu::policies {

template <class Tag = void>
struct RecordingHost : ThreadLocalCurrentVCpu {
    static constexpr usize max_vms = 8;
    static constexpr usize frame_size = 4096;
    static constexpr usize pool_frames = 64;
    static constexpr usize record_capacity = 256;  // of each kind of record
    static constexpr usize max_timers = 64;        // armed at once

    struct Injection {
        VMId vm = 0;
        VCpuId vcpu = 0;
        InterruptVector vector = 0;
        bool operator==(const Injection&) const = default;
    };
    struct BroadcastInjection {
        VMId vm = 0;
        VCpuSet vcpus;
        InterruptVector vector = 0;
        bool operator==(const BroadcastInjection&) const = default;
    };
    struct TimerExpiry {
        VMId vm = 0;
        VCpuId vcpu = 0;
        bool operator==(const TimerExpiry&) const = default;
    };
    struct Timer {
        CancelToken token;
        std::uint64_t deadline_nanos;
        TimerCallback callback;
        void* context;
    };

    struct State {
        // Answers.
        VMId current_vm = 0;
        VCpuId current_vcpu_id = 0;
        std::array<std::optional<usize>, max_vms> vcpu_counts{};
        std::array<std::optional<VCpuSet>, max_vms> active{};
        usize host_cpus = 1;
        std::uint64_t ticks = 0;
        std::uint64_t nanos_per_tick = 10;  // a 100 MHz counter
        // Records.
        RecordLog<Injection, record_capacity> injections{"RecordingHost::injections"};
        RecordLog<BroadcastInjection, record_capacity> broadcasts{"RecordingHost::broadcasts"};
        RecordLog<TimerExpiry, record_capacity> timer_expiries{"RecordingHost::timer_expiries"};
        RecordLog<Timer, max_timers> timers{"RecordingHost::timers"};  // armed, not yet fired or cancelled
        CancelToken next_token = 1;
        std::uint64_t frames_in_use = 0;  // bit i: pool frame i is allocated
        usize bad_deallocs = 0;  // frees of frames that were not allocated
    };

    static State& state() {
        static State s;
        return s;
    }
    static void reset() {
        state() = State{};
        RecordingHost::set_current_vcpu_slot(nullptr);
    }

    // --- VmmIf
    static VMId current_vm_id() { return state().current_vm; }
    static VCpuId current_vcpu_id() { return state().current_vcpu_id; }
    static std::optional<usize> vcpu_num(VMId vm) {
        return vm < max_vms ? state().vcpu_counts[vm] : std::nullopt;
    }
    static std::optional<VCpuSet> active_vcpus(VMId vm) { return vm < max_vms ? state().active[vm] : std::nullopt; }
    static void inject_interrupt(VMId vm, VCpuId vcpu, InterruptVector vector) {
        state().injections.push_back({vm, vcpu, vector});
    }
    static void inject_interrupt_to_cpus(VMId vm, VCpuSet vcpus, InterruptVector vector) {
        state().broadcasts.push_back({vm, vcpus, vector});
    }
    static void notify_vcpu_timer_expired(VMId vm, VCpuId vcpu) { state().timer_expiries.push_back({vm, vcpu}); }

    // --- MemoryIf: frames come from a static, page-aligned pool; physical
    // and virtual addresses are the same on the host.
    static std::optional<HostPhysAddr> alloc_frame() { return alloc_contiguous_frames(1, 12); }
    static std::optional<HostPhysAddr> alloc_contiguous_frames(usize count, usize align_log2) {
        auto& used = state().frames_in_use;
        if (align_log2 >= 32) return std::nullopt;  // beyond any pool; also keeps the shift defined
        const usize align = usize{1} << (align_log2 > 12 ? align_log2 : 12);
        for (usize first = 0; count != 0 && first + count <= pool_frames; ++first) {
            if (!HostPhysAddr(frame_address(first)).is_aligned(align)) continue;
            bool free = true;
            for (usize i = first; i < first + count && free; ++i) free = (used & frame_bit(i)) == 0;
            if (!free) continue;
            for (usize i = first; i < first + count; ++i) used |= frame_bit(i);
            // Zeroed, as page-table code (stage2::Mapper) expects fresh tables.
            std::memset(&pool[first][0], 0, count * frame_size);
            return HostPhysAddr(frame_address(first));
        }
        return std::nullopt;
    }
    static void dealloc_frame(HostPhysAddr frame) { dealloc_contiguous_frames(frame, 1); }
    static void dealloc_contiguous_frames(HostPhysAddr first, usize count) {
        const auto index = frame_index(first);
        for (usize i = 0; i < count; ++i) {
            if (!index || *index + i >= pool_frames || (state().frames_in_use & frame_bit(*index + i)) == 0) {
                ++state().bad_deallocs;
                continue;
            }
            state().frames_in_use &= ~frame_bit(*index + i);
        }
    }
    static HostVirtAddr phys_to_virt(HostPhysAddr pa) { return HostVirtAddr(pa.value()); }
    static HostPhysAddr virt_to_phys(HostVirtAddr va) { return HostPhysAddr(va.value()); }
    static usize frames_in_use() { return static_cast<usize>(std::popcount(state().frames_in_use)); }

    // --- TimeIf: a manual clock; advance_ticks fires due timers in order.
    static std::uint64_t current_ticks() { return state().ticks; }
    static std::uint64_t ticks_to_nanos(std::uint64_t ticks) { return ticks * state().nanos_per_tick; }
    static std::uint64_t nanos_to_ticks(std::uint64_t nanos) { return nanos / state().nanos_per_tick; }
    static CancelToken register_timer(std::uint64_t deadline_nanos, TimerCallback callback, void* context) {
        const CancelToken token = state().next_token++;
        state().timers.push_back({token, deadline_nanos, callback, context});
        return token;
    }
    static void cancel_timer(CancelToken token) {
        state().timers.erase_if([token](const Timer& t) { return t.token == token; });
    }
    static void advance_ticks(std::uint64_t ticks) {
        state().ticks += ticks;
        const std::uint64_t now = ticks_to_nanos(state().ticks);
        for (;;) {
            auto& timers = state().timers;
            auto due = timers.end();  // the first of the earliest deadlines
            for (auto t = timers.begin(); t != timers.end(); ++t)
                if (due == timers.end() || t->deadline_nanos < due->deadline_nanos) due = t;
            if (due == timers.end() || due->deadline_nanos > now) return;
            const Timer fired = *due;
            timers.erase(due);  // before the callback, which may re-arm
            fired.callback(fired.context, now);
        }
    }

    // --- HostIf
    static usize get_host_cpu_num() { return state().host_cpus; }

private:
    alignas(4096) static inline std::byte pool[pool_frames][frame_size];
    // A mask, not a std::bitset: <bitset> pulls in <string> and the locale
    // machinery, slow to compile for one word of bits.
    static_assert(pool_frames <= 64, "frames_in_use has one bit per pool frame");
    static constexpr std::uint64_t frame_bit(usize index) { return std::uint64_t{1} << index; }
    static usize frame_address(usize index) { return reinterpret_cast<usize>(&pool[index][0]); }
    static std::optional<usize> frame_index(HostPhysAddr pa) {
        const usize base = frame_address(0);
        if (pa.value() < base || !pa.is_aligned(frame_size)) return std::nullopt;
        const usize index = (pa.value() - base) / frame_size;
        return index < pool_frames ? std::optional<usize>(index) : std::nullopt;
    }
};

static_assert(api::HostApi<RecordingHost<>>);

}  // namespace axvcpu::policies
