// axvcpu::x86_64::detail::VCpuCommon<Derived, H>: what the SVM and VMX
// vCPU policies (svm_vcpu.hpp, vmx_vcpu.hpp) share, as a base each derives
// from (CRTP, no virtual dispatch): the identity and configuration, the
// event queue, the guest's XCR0 and FPU state, the last exit's record, the
// entry-flag word, and the ArchVCpu members that only touch those and the
// guest's registers.
//
// Derived provides, privately (it befriends this base):
//   AxResult<void> allocate()       its hardware pages, for create();
//   std::uint64_t get_reg(usize)    guest GPR `index` (encoding order),
//   void put_reg(usize, u64)        wherever the back end keeps it (SVM:
//                                   RAX and RSP in the VMCB; VMX: RSP in
//                                   the VMCS while bound).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "arch/x86_64/entry_state.hpp"
#include "arch/x86_64/exit_decode.hpp"
#include "arch/x86_64/guest_paging.hpp"
#include "arch/x86_64/instructions.hpp"
#include "arch/x86_64/interrupts.hpp"
#include "arch/x86_64/stage2.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/host_api.hpp"
#include "axvcpu/stage2_mapper.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64::detail {

// Frames the hardware reads, owned by a vCPU: given back on destruction
// and moved with it (create returns it by value). Frame i spans the i-th of
// `Pages` pages: one from H::alloc_frame, more from alloc_contiguous_frames
// (4 KiB aligned). allocate() takes all or fails; the destructor returns
// whatever was taken.
template <class H, usize... Pages>
class OwnedFrames {
public:
    OwnedFrames() = default;
    OwnedFrames(OwnedFrames&& other) noexcept : pa_(std::exchange(other.pa_, {})) {}
    OwnedFrames& operator=(OwnedFrames&&) = delete;
    OwnedFrames(const OwnedFrames&) = delete;
    OwnedFrames& operator=(const OwnedFrames&) = delete;
    ~OwnedFrames() {
        for (usize i = 0; i < pages.size(); ++i) {
            if (pa_[i] == 0) continue;
            if (pages[i] == 1) {
                H::dealloc_frame(HostPhysAddr(pa_[i]));
            } else {
                H::dealloc_contiguous_frames(HostPhysAddr(pa_[i]), pages[i]);
            }
        }
    }

    [[nodiscard]] bool allocate() {
        bool all = true;
        for (usize i = 0; i < pages.size(); ++i) {
            const std::optional<HostPhysAddr> frame =
                pages[i] == 1 ? H::alloc_frame() : H::alloc_contiguous_frames(pages[i], 12);
            pa_[i] = frame ? frame->value() : 0;
            all = all && pa_[i] != 0;
        }
        return all;
    }
    [[nodiscard]] std::uint64_t pa(usize frame) const noexcept { return pa_[frame]; }

private:
    static constexpr std::array<usize, sizeof...(Pages)> pages{Pages...};
    std::array<std::uint64_t, sizeof...(Pages)> pa_{};
};

template <class Derived, class H>
class VCpuCommon {
    static_assert(api::check_memory_if<H>());

public:
    VCpuCommon& operator=(VCpuCommon&&) = delete;
    VCpuCommon(const VCpuCommon&) = delete;
    VCpuCommon& operator=(const VCpuCommon&) = delete;

    using CreateConfig = x86_64::CreateConfig;
    using SetupConfig = x86_64::SetupConfig;
    // set_gpr and set_return_value only write the saved registers (or the
    // control structure's copy) and inject_interrupt only the queue
    // (arch_contract.hpp).
    static constexpr bool plain_vcpu_updates = true;

    AxResult<void> set_gpr(usize index, usize value) {
        if (index >= gpr_count) return ax_err(AxError::InvalidInput);
        self().put_reg(index, value);
        return ax_ok();
    }

    // Vectors 32..255; 0..31 are exceptions (InvalidInput). A full queue
    // is ResourceBusy.
    AxResult<void> inject_interrupt(usize vector) {
        entry_flags_ |= entry_work;
        return events_.queue_interrupt(vector);
    }

    // The hypercall's result, in RAX.
    void set_return_value(usize value) { self().put_reg(gpr::rax, value); }

    // Open, and no entry work: what run() tests at entry, so after a reply
    // that tested it here the compiler drops that test (api::gated_updates).
    [[nodiscard]] bool gate_open() const noexcept { return entry_flags_ == 0; }

    // AxVCpu's gate (api::gated_run): closed, run() refuses the entry in
    // the test of the flag word it makes anyway.
    void set_runnable(bool runnable) noexcept {
        entry_flags_ = static_cast<std::uint16_t>(runnable ? entry_flags_ & ~entry_not_runnable
                                                          : entry_flags_ | entry_not_runnable);
    }

    // --- x86_64-specific, for the VMM ------------------------------------------
    // Why the last run() that returned an error could not decode its exit.
    [[nodiscard]] std::optional<DecodeError> last_decode_error() const noexcept { return decode_error_; }
    // String and REP I/O instructions answered with #GP (run() never
    // returns them).
    [[nodiscard]] std::uint64_t string_io_refused() const noexcept { return string_io_refused_; }
    [[nodiscard]] std::uint64_t guest_xcr0() const noexcept { return xcr0_.guest; }
    [[nodiscard]] bool is_bound() const noexcept { return (entry_flags_ & entry_unbound) == 0; }
    // An interrupt waits for delivery (queued, or cut short by the last exit).
    [[nodiscard]] bool interrupt_pending() const noexcept { return events_.interrupt_pending(); }

    // Completes an MmioRead / IoRead exit: writes the device's `raw` value
    // to the destination register as the instruction does (mmio_load_value).
    AxResult<void> complete_mmio_read(const exit::MmioRead& read, std::uint64_t raw) {
        const usize reg = containing_gpr(read.reg);
        if (reg >= gpr_count) return ax_err(AxError::InvalidInput);
        self().put_reg(reg, mmio_load_value(read, raw, self().get_reg(reg)));
        return ax_ok();
    }
    void complete_io_read(const exit::IoRead& read, std::uint64_t raw) {
        self().put_reg(gpr::rax, io_load_value(read, raw, self().get_reg(gpr::rax)));
    }
    // Completes a SysRegRead (RDMSR): EDX:EAX = value.
    void complete_msr_read(std::uint64_t value) {
        const MsrLoad load = msr_load_values(value);
        self().put_reg(gpr::rax, load.rax);
        self().put_reg(gpr::rdx, load.rdx);
    }

    // Makes the guest take exception `vector` (with `error_code` when
    // given) at its current RIP on the next entry: for an MSR the VMM does
    // not know (#GP), an access it refuses, ... An exit that advanced RIP
    // past an emulated instruction must not be answered this way (the
    // fault would point past the instruction): rewind_instruction first.
    AxResult<void> inject_exception(std::uint8_t vector, std::optional<std::uint32_t> error_code = std::nullopt) {
        entry_flags_ |= entry_work;
        return events_.raise(vector, error_code);
    }

protected:
    VCpuCommon() = default;
    VCpuCommon(VCpuCommon&&) noexcept = default;
    ~VCpuCommon() = default;

    // create()'s shared part. `id_limit`: the first VM id the back end's
    // address-space tag (ASID, VPID = VM id + 1) cannot carry.
    static AxResult<Derived> create_common(VMId vm, VCpuId vcpu, CreateConfig config, VMId id_limit) {
        if (vm >= id_limit) return ax_err(AxError::InvalidInput);
        Derived arch;
        arch.vm_ = vm;
        arch.vcpu_ = vcpu;
        arch.config_ = config;
        // Not AXVCPU_TRYV: its unchecked error access asserts in kernels
        // built without NDEBUG.
        if (!arch.allocate()) return ax_err(AxError::NoMemory);
        return AxResult<Derived>(std::move(arch));
    }

    template <class T = std::uint8_t>
    static T* host_pointer(std::uint64_t pa) {
        return reinterpret_cast<T*>(H::phys_to_virt(HostPhysAddr(pa)).value());
    }

    // Guest RAM through this VM's stage-2 tables of format `Format` at
    // `root` (stage2.hpp).
    template <class Format>
    [[nodiscard]] static auto guest_memory(std::uint64_t root) {
        return GuestMemory(
            [root](std::uint64_t gpa) {
                return axvcpu::stage2::translate<Format>(
                    stage2::geometry, root, [](std::uint64_t pa) { return host_pointer<const std::uint64_t>(pa); },
                    gpa);
            },
            [](std::uint64_t hpa) { return host_pointer<const volatile std::uint8_t>(hpa); });
    }

    void raise_ud() {
        events_.raise_ud();
        entry_flags_ |= entry_work;
    }
    void raise_gp() {
        events_.raise_gp();
        entry_flags_ |= entry_work;
    }

    // Sets entry_xcr0 exactly when the guest's XCR0 differs from the host's.
    void update_swap_xcr0() {
        const bool swap = xcr0_.needed();
        entry_flags_ = static_cast<std::uint16_t>((entry_flags_ & ~entry_xcr0) | (swap ? entry_xcr0 : 0));
    }

    CreateConfig config_{};
    std::uint64_t entry_ = 0;
    std::uint64_t exit_rip_ = 0;  // the guest's RIP at the last exit (SVM: after a VMMCALL, see exit_rip())
    std::optional<DecodeError> decode_error_;
    AxVCpuExitReason exit_{};  // exit_slow's reason, returned by run()
    AxError error_ = AxError::Unsupported;
    GuestEvents events_{};
    insn::Xcr0Switch xcr0_{};
    std::uint64_t string_io_refused_ = 0;
    insn::FxState guest_fpu_{};
    VMId vm_ = 0;
    VCpuId vcpu_ = 0;
    bool flush_pending_ = true;  // the next entry flushes this guest's TLB entries

    // What run() must do besides the switch, one word so that the common
    // entry tests it once (16 bits, not a byte: a character type may alias
    // any store, so after the VMM's reply, a store to a guest register,
    // GCC would load it again for the entry instead of knowing it from
    // gate_open()): entry_work (prepare_entry: a flush, events, the
    // window), entry_xcr0 (the guest's XCR0 around the entry), bits from
    // first_backend_flag up for the back end, and the two that make run()
    // refuse (entry_refused): entry_unbound (not bound; is_bound() reads
    // it) and entry_not_runnable (AxVCpu's gate closed, set_runnable).
    static constexpr std::uint16_t entry_work = 1, entry_xcr0 = 2, first_backend_flag = 4, entry_not_runnable = 0x40,
                                  entry_unbound = 0x80;
    static constexpr std::uint16_t entry_refused = entry_not_runnable | entry_unbound;
    std::uint16_t entry_flags_ = entry_work | entry_unbound;

private:
    static constexpr usize gpr_count = std::tuple_size_v<Gprs>;

    Derived& self() noexcept { return static_cast<Derived&>(*this); }
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

}  // namespace axvcpu::x86_64::detail
