// Pure decoders for riscv64 H-extension traps: scause classification, the
// load/store decoder used to turn guest page faults into MMIO exits, and
// the decoder of a guest's SBI calls (ecall from VS-mode).
//
// Everything here is a function of raw register words (scause, stval, htval,
// htinst, a0..a7) and instruction words, with no CSR access and no asm of
// its own, so it is tested on the host with recorded values
// (test/riscv64/exit_decode_test.cpp, test/riscv64/sbi_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "arch/riscv64/sbi.hpp"
#include "axvcpu/addr.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/fmt.hpp"
#include "axvcpu/reflect.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::riscv64 {

// --- scause -----------------------------------------------------------------
inline constexpr std::uint64_t scause_interrupt_bit = std::uint64_t{1} << 63;

namespace cause {
// Exceptions seen by HS-mode.
inline constexpr std::uint64_t instruction_misaligned = 0;
inline constexpr std::uint64_t instruction_access_fault = 1;
inline constexpr std::uint64_t illegal_instruction = 2;
inline constexpr std::uint64_t breakpoint = 3;
inline constexpr std::uint64_t load_misaligned = 4;
inline constexpr std::uint64_t load_access_fault = 5;
inline constexpr std::uint64_t store_misaligned = 6;
inline constexpr std::uint64_t store_access_fault = 7;
inline constexpr std::uint64_t ecall_from_u_or_vu = 8;
inline constexpr std::uint64_t ecall_from_hs = 9;
inline constexpr std::uint64_t ecall_from_vs = 10;
inline constexpr std::uint64_t instruction_page_fault = 12;
inline constexpr std::uint64_t load_page_fault = 13;
inline constexpr std::uint64_t store_page_fault = 15;
inline constexpr std::uint64_t instruction_guest_page_fault = 20;
inline constexpr std::uint64_t load_guest_page_fault = 21;
inline constexpr std::uint64_t virtual_instruction = 22;
inline constexpr std::uint64_t store_guest_page_fault = 23;
}  // namespace cause

namespace irq {
// Interrupt causes (scause without the interrupt bit). The supervisor codes
// are what a guest sees for its virtual interrupts; the VS codes are the
// hip/hvip bit positions that carry them.
inline constexpr std::uint64_t supervisor_software = 1;
inline constexpr std::uint64_t vs_software = 2;
inline constexpr std::uint64_t supervisor_timer = 5;
inline constexpr std::uint64_t vs_timer = 6;
inline constexpr std::uint64_t supervisor_external = 9;
inline constexpr std::uint64_t vs_external = 10;
inline constexpr std::uint64_t supervisor_guest_external = 12;
}  // namespace irq

// The HS-level trap registers of the last exit, for decoding and diagnostics.
struct TrapRecord {
    static constexpr std::string_view type_name = "TrapRecord";
    std::uint64_t scause = 0, stval = 0, htval = 0, htinst = 0, sepc = 0;
    constexpr bool operator==(const TrapRecord&) const noexcept = default;
};

// Prints as `TrapRecord { field: value, ... }` through its Hana member
// list (below), like every exit payload.
using axvcpu::print_to;

// What the policy does after handling a trap: resume the guest inside
// run(), leave run() with an exit reason, or fail it with an error.
enum class TrapOutcome : std::uint8_t { Resume, Leave, Fail };

struct Trap {
    bool interrupt = false;
    std::uint64_t code = 0;
};

[[nodiscard]] constexpr Trap classify_scause(std::uint64_t scause) noexcept {
    return Trap{(scause & scause_interrupt_bit) != 0, scause & ~scause_interrupt_bit};
}

// GPA of a guest page fault: htval holds it shifted right by 2, and the low
// two bits come from stval (the faulting guest virtual address).
[[nodiscard]] constexpr GuestPhysAddr guest_fault_address(std::uint64_t stval, std::uint64_t htval) noexcept {
    return GuestPhysAddr(static_cast<usize>((htval << 2) | (stval & 3)));
}

// --- Instruction words ------------------------------------------------------

// Length of the instruction whose first 16-bit parcel is `low`: 2 when
// compressed (low bits != 0b11), else 4. Longer encodings do not exist in
// RV64GC and are reported as 0 (not decodable).
[[nodiscard]] constexpr unsigned instruction_length(std::uint32_t low_parcel) noexcept {
    if ((low_parcel & 3) != 3) return 2;
    if ((low_parcel & 0x1c) != 0x1c) return 4;
    return 0;
}

// A decoded plain integer load or store.
struct LoadStore {
    bool is_store = false;
    AccessWidth width = AccessWidth::Byte;
    usize reg = 0;            // rd of a load, rs2 of a store (usize, as in the exit reasons)
    bool signed_ext = false;  // loads: sign-extend to 64 bits (lb, lh, lw, c.lw, c.lwsp)
    unsigned length = 4;      // bytes of the instruction, for advancing sepc
    constexpr bool operator==(const LoadStore&) const noexcept = default;
};

namespace detail {
[[nodiscard]] constexpr unsigned bits(std::uint32_t word, unsigned hi, unsigned lo) noexcept {
    return (word >> lo) & ((1u << (hi - lo + 1)) - 1);
}

// A 32-bit LOAD from its funct3 and rd. funct3: lb lh lw ld lbu lhu lwu
// (0..6); bits 1:0 are log2 of the width, and the three below ld
// sign-extend; 7 is reserved. Branch-free but for that: this is the
// MMIO-read hot path. funct3 is 64-bit so no 32-bit value gets re-extended
// on the way to the width.
[[nodiscard]] constexpr std::optional<LoadStore> plain_load(std::uint64_t funct3, usize rd) noexcept {
    if (funct3 == 7) return std::nullopt;
    return LoadStore{false, static_cast<AccessWidth>(funct3 & 3), rd, funct3 < 3, 4};
}

[[nodiscard]] constexpr std::optional<LoadStore> decode_standard(std::uint32_t insn) noexcept {
    const unsigned opcode = bits(insn, 6, 0);
    const unsigned funct3 = bits(insn, 14, 12);
    if (opcode == 0x03) return plain_load(funct3, bits(insn, 11, 7));  // LOAD
    if (opcode == 0x23) {  // STORE
        const unsigned rs2 = bits(insn, 24, 20);
        switch (funct3) {
            case 0: return LoadStore{true, AccessWidth::Byte, rs2, false, 4};   // sb
            case 1: return LoadStore{true, AccessWidth::Word, rs2, false, 4};   // sh
            case 2: return LoadStore{true, AccessWidth::Dword, rs2, false, 4};  // sw
            case 3: return LoadStore{true, AccessWidth::Qword, rs2, false, 4};  // sd
            default: return std::nullopt;
        }
    }
    // FP loads/stores, AMOs, LR/SC and everything else are not plain
    // integer accesses: the caller reports a nested page fault.
    return std::nullopt;
}

[[nodiscard]] constexpr std::optional<LoadStore> decode_compressed(std::uint32_t insn) noexcept {
    const unsigned quadrant = bits(insn, 1, 0);
    const unsigned funct3 = bits(insn, 15, 13);
    if (quadrant == 0) {
        // c.lw/c.ld rd' and c.sw/c.sd rs2' sit in bits 4:2 and name x8..x15.
        const unsigned reg = bits(insn, 4, 2) + 8;
        switch (funct3) {
            case 2: return LoadStore{false, AccessWidth::Dword, reg, true, 2};   // c.lw
            case 3: return LoadStore{false, AccessWidth::Qword, reg, false, 2};  // c.ld
            case 6: return LoadStore{true, AccessWidth::Dword, reg, false, 2};   // c.sw
            case 7: return LoadStore{true, AccessWidth::Qword, reg, false, 2};   // c.sd
            default: return std::nullopt;  // c.addi4spn, c.fld, c.fsd, reserved
        }
    }
    if (quadrant == 2) {
        const unsigned rd = bits(insn, 11, 7);
        const unsigned rs2 = bits(insn, 6, 2);
        switch (funct3) {
            // rd = x0 is reserved for c.lwsp/c.ldsp.
            case 2: return rd == 0 ? std::nullopt : std::optional(LoadStore{false, AccessWidth::Dword, rd, true, 2});
            case 3: return rd == 0 ? std::nullopt : std::optional(LoadStore{false, AccessWidth::Qword, rd, false, 2});
            case 6: return LoadStore{true, AccessWidth::Dword, rs2, false, 2};  // c.swsp
            case 7: return LoadStore{true, AccessWidth::Qword, rs2, false, 2};  // c.sdsp
            default: return std::nullopt;
        }
    }
    return std::nullopt;
}
}  // namespace detail

// Decodes an instruction word as read from guest memory (a 16-bit parcel
// for a compressed instruction, both parcels for a 32-bit one).
[[nodiscard]] constexpr std::optional<LoadStore> decode_load_store(std::uint32_t insn) noexcept {
    switch (instruction_length(insn & 0xffff)) {
        case 2: return detail::decode_compressed(insn & 0xffff);
        case 4: return detail::decode_standard(insn);
        default: return std::nullopt;
    }
}

// The 32-bit integer load whose low 16-bit parcel is `low` (higher bits are
// ignored), if it is one: opcode, rd and funct3 all sit in the low half, so
// one guest access reads enough. Same answer as decode_load_store for every
// 32-bit load; nothing for anything else (compressed instructions, stores,
// AMOs). For the MMIO-read fast path, so it works on the 64-bit register
// the parcel was read into: a 32-bit parameter would be sign-extended first.
[[nodiscard]] constexpr std::optional<LoadStore> decode_load_low_half(std::uint64_t low) noexcept {
    if ((low & 0x7f) != 0x03) return std::nullopt;
    return detail::plain_load((low >> 12) & 7, static_cast<usize>((low >> 7) & 31));
}

// Decodes htinst after a guest page fault. A transformed instruction has
// bit 0 set and bit 1 telling whether the original was 32-bit (1) or
// compressed (0); it is otherwise a standard load/store encoding (with rs1
// and the offset zeroed). Zero means "not provided"; any other value with
// bit 0 clear is a pseudoinstruction for an implicit VS-stage page-table
// access, which is never MMIO.
enum class HtinstKind : std::uint8_t { NotProvided, Transformed, Pseudo };

[[nodiscard]] constexpr HtinstKind classify_htinst(std::uint64_t htinst) noexcept {
    if (htinst == 0) return HtinstKind::NotProvided;
    return (htinst & 1) != 0 ? HtinstKind::Transformed : HtinstKind::Pseudo;
}

[[nodiscard]] constexpr std::optional<LoadStore> decode_htinst(std::uint64_t htinst) noexcept {
    if (classify_htinst(htinst) != HtinstKind::Transformed) return std::nullopt;
    const auto word = static_cast<std::uint32_t>(htinst);
    auto access = detail::decode_standard(word | 3);
    if (access) access->length = (word & 2) != 0 ? 4 : 2;
    return access;
}

// --- Guest page faults ------------------------------------------------------

// An emulatable MMIO access: the VMM performs it, then the policy writes the
// loaded value (for a read) and advances sepc by `access.length`.
struct MmioAccess {
    GuestPhysAddr addr;
    LoadStore access;
    constexpr bool operator==(const MmioAccess&) const noexcept = default;
};

using GuestPageFault = std::variant<MmioAccess, exit::NestedPageFault>;

// The values recorded at a guest page fault. `insn` is the faulting
// instruction as read from guest memory (hlvx.hu), needed only when htinst is
// 0; absent if it could not be read.
struct GuestPageFaultInfo {
    std::uint64_t scause = 0;
    std::uint64_t stval = 0;
    std::uint64_t htval = 0;
    std::uint64_t htinst = 0;
    std::optional<std::uint32_t> insn;
};

[[nodiscard]] constexpr MappingFlags fault_access_flags(std::uint64_t code) noexcept {
    switch (code) {
        case cause::load_guest_page_fault: return MappingFlags{MappingFlags::READ};
        case cause::store_guest_page_fault: return MappingFlags{MappingFlags::WRITE};
        default: return MappingFlags{MappingFlags::EXECUTE};
    }
}

// Anything that is not a plain integer load (for scause 21) or store (for
// scause 23) becomes a NestedPageFault carrying the GPA and the access kind:
// instruction fetches, AMOs, FP accesses, implicit page-table accesses, an
// instruction that could not be read, or one whose kind contradicts scause.
[[nodiscard]] constexpr GuestPageFault decode_guest_page_fault(const GuestPageFaultInfo& info) noexcept {
    const std::uint64_t code = classify_scause(info.scause).code;
    const GuestPhysAddr gpa = guest_fault_address(info.stval, info.htval);
    exit::NestedPageFault nested{gpa, fault_access_flags(code)};
    // An AMO (or LR/SC) both reads and writes, whichever half the hardware
    // reported faulting (QEMU reports either).
    if (info.insn && code != cause::instruction_guest_page_fault && instruction_length(*info.insn & 0xffff) == 4 &&
        (*info.insn & 0x7f) == 0x2f)
        nested.access_flags = MappingFlags{MappingFlags::READ | MappingFlags::WRITE};
    if (code != cause::load_guest_page_fault && code != cause::store_guest_page_fault) return nested;

    std::optional<LoadStore> access;
    switch (classify_htinst(info.htinst)) {
        case HtinstKind::Transformed: access = decode_htinst(info.htinst); break;
        case HtinstKind::Pseudo: return nested;
        case HtinstKind::NotProvided:
            if (info.insn) access = decode_load_store(*info.insn);
            break;
    }
    if (!access || access->is_store != (code == cause::store_guest_page_fault)) return nested;
    return MmioAccess{gpa, *access};
}

// The exit a decoded MMIO load reports.
[[nodiscard]] constexpr exit::MmioRead load_exit(const MmioAccess& mmio) noexcept {
    return exit::MmioRead{mmio.addr, mmio.access.width, mmio.access.reg, AccessWidth::Qword, mmio.access.signed_ext};
}

// The exit a decoded MMIO store reports: the data is the source register
// truncated to the access width; x0 reads as zero.
[[nodiscard]] constexpr exit::MmioWrite store_exit(const MmioAccess& mmio, std::uint64_t source_value) noexcept {
    const std::uint64_t data = mmio.access.reg == 0 ? 0 : source_value & width_mask(mmio.access.width);
    return exit::MmioWrite{mmio.addr, mmio.access.width, data};
}

// The exit a decoded MMIO access reports.
[[nodiscard]] constexpr AxVCpuExitReason mmio_exit(const MmioAccess& mmio, std::uint64_t source_value) noexcept {
    if (mmio.access.is_store) return store_exit(mmio, source_value);
    return load_exit(mmio);
}

// The value a VMM writes into the destination register of an MmioRead, from
// the `raw` bytes the device returned: truncated to the access width and
// sign- or zero-extended to 64 bits as the load would have done. Every RV64
// load writes the whole of rd, so reg_width is always Qword here and is not
// looked at. The bytes are shifted to the top and back, arithmetically for
// a signed load: branch-free but for the full width (every MMIO read).
[[nodiscard]] constexpr std::uint64_t mmio_load_value(const exit::MmioRead& read, std::uint64_t raw) noexcept {
    if (read.width == AccessWidth::Qword) return raw;
    const auto shift = static_cast<unsigned>(64 - size_in_bits(read.width));
    const std::uint64_t top = raw << shift;
    return read.signed_ext ? static_cast<std::uint64_t>(static_cast<std::int64_t>(top) >> shift) : top >> shift;
}

// --- Virtual-instruction exceptions (scause 22) -----------------------------
[[nodiscard]] constexpr bool is_wfi(std::uint32_t insn) noexcept { return insn == 0x10500073u; }

}  // namespace axvcpu::riscv64

AXVCPU_ADAPT_STRUCT(axvcpu::riscv64::TrapRecord, scause, stval, htval, htinst, sepc);

// --- SBI calls ------------------------------------------------------------
// A pure decoder from the registers of a VS-mode ecall to what the policy
// must do. It does no I/O: it says "answer now", "arm the guest timer",
// "print this byte", or "exit to the VMM with this reason"; vcpu.hpp and
// sbi_service.hpp carry the actions out. Tested on the host
// (test/riscv64/sbi_test.cpp).
namespace axvcpu::riscv64::sbi {

// What to do about a call.
namespace action {
// Return `ret` in a0/a1 and resume the guest after the ecall.
struct Answer {
    SbiRet ret;
};
// Arm the guest's timer at `stime` (in time-CSR ticks) and withdraw a pending
// timer interrupt, as SBI set_timer specifies. Answers success (legacy: 0).
struct SetTimer {
    std::uint64_t stime = 0;
};
// Legacy clear_ipi: withdraw the guest's pending software interrupt.
struct ClearIpi {};
struct ConsolePutchar {
    std::uint8_t ch = 0;
    bool legacy = false;  // legacy calls return 0 in a0 and leave a1 alone
};
struct ConsoleGetchar {};
// DBCN read/write of `length` bytes at guest-physical `addr`.
struct ConsoleWrite {
    GuestPhysAddr addr;
    std::uint64_t length = 0;
};
struct ConsoleRead {
    GuestPhysAddr addr;
    std::uint64_t length = 0;
};
// Legacy calls that take a hart mask by pointer (guest virtual address).
struct LegacyMask {
    std::uint64_t eid = 0;
    GuestVirtAddr mask_addr;
};
// Remote fences. The guest's harts are the VM's vCPUs; `hart_mask` and
// `hart_mask_base` as the SBI defines them.
enum class FenceKind : std::uint8_t { FenceI, SfenceVma, SfenceVmaAsid };
struct RemoteFence {
    FenceKind kind = FenceKind::FenceI;
    std::uint64_t hart_mask = 0;
    std::uint64_t hart_mask_base = 0;
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    std::uint64_t asid = 0;
};
struct HartGetStatus {
    std::uint64_t hartid = 0;
};
// hart_suspend. A retentive suspend resumes after the ecall; a non-retentive
// one resumes at `resume_addr` with a0 = hart id and a1 = `opaque`.
struct Suspend {
    bool retentive = true;
    GuestPhysAddr resume_addr;
    std::uint64_t opaque = 0;
};
// Leave run() with the exit reason the decoder wrote to its `exit`
// argument (in place: the reason is never copied on this hot path); sepc is
// past the ecall. For calls that return (`sets_return`), a0/a1 are preset
// to `ret` so the VMM only calls set_return_value to report something else;
// calls that do not return (reset, hart_stop) leave a0..a5 as the guest
// passed them, for the VMM to read (e.g. the SRST reset type and reason).
struct Exit {
    SbiRet ret;
    bool sets_return = true;
};
}  // namespace action

using Action = std::variant<action::Answer, action::SetTimer, action::ClearIpi, action::ConsolePutchar,
                            action::ConsoleGetchar, action::ConsoleWrite, action::ConsoleRead, action::LegacyMask,
                            action::RemoteFence, action::HartGetStatus, action::Suspend, action::Exit>;

// What this implementation answers to the base extension's queries.
// SBI 2.0: the version that introduced DBCN, which Linux needs for
// earlycon=sbi. Major in bits 30:24, minor in 23:0.
inline constexpr std::uint64_t spec_version = (2u << 24) | 0;
// Not a registered implementation id: "AXVC" marks this implementation.
inline constexpr std::uint64_t impl_id = 0x41585643;
inline constexpr std::uint64_t impl_version = 1;

[[nodiscard]] constexpr bool is_extension_available(std::uint64_t id) noexcept {
    switch (id) {
        case eid::legacy_set_timer:
        case eid::legacy_console_putchar:
        case eid::legacy_console_getchar:
        case eid::legacy_clear_ipi:
        case eid::legacy_send_ipi:
        case eid::legacy_remote_fence_i:
        case eid::legacy_remote_sfence_vma:
        case eid::legacy_remote_sfence_vma_asid:
        case eid::legacy_shutdown:
        case eid::base:
        case eid::time:
        case eid::ipi:
        case eid::rfence:
        case eid::hsm:
        case eid::srst:
        case eid::dbcn:
        case eid::axvisor_hypercall: return true;
        // PMU is reported absent: a Linux guest otherwise makes ~90 calls
        // probing counters that are not virtualized here.
        default: return false;
    }
}

// The AxVisor hypercall's exit (a6 = number, a0..a5 = arguments): what
// decode_call reports for it, and what VCpu::run builds on its fast path.
[[nodiscard]] constexpr exit::Hypercall hypercall(std::uint64_t nr, std::uint64_t a0, std::uint64_t a1,
                                                  std::uint64_t a2, std::uint64_t a3, std::uint64_t a4,
                                                  std::uint64_t a5) noexcept {
    return exit::Hypercall{nr, {a0, a1, a2, a3, a4, a5}};
}

namespace detail {
inline constexpr action::Answer not_supported{SbiRet{err::not_supported, 0}};
inline constexpr action::Answer ok(std::uint64_t value = 0) { return {SbiRet{err::success, value}}; }

constexpr Action decode_base(const SbiCall& call) {
    switch (call.fid) {
        case fid::base_get_spec_version: return ok(spec_version);
        case fid::base_get_impl_id: return ok(impl_id);
        case fid::base_get_impl_version: return ok(impl_version);
        case fid::base_probe_extension: return ok(is_extension_available(call.args[0]) ? 1 : 0);
        // Zero is a legal "not implemented" answer for the machine ids, and
        // hides the host's identity from the guest.
        case fid::base_get_mvendorid:
        case fid::base_get_marchid:
        case fid::base_get_mimpid: return ok(0);
        default: return not_supported;
    }
}

template <class Payload>
constexpr Action leave(AxVCpuExitReason& out, Payload&& payload, bool sets_return = true) {
    out = static_cast<Payload&&>(payload);
    return action::Exit{{}, sets_return};
}

constexpr Action decode_hsm(const SbiCall& call, AxVCpuExitReason& out) {
    switch (call.fid) {
        case fid::hsm_hart_start:
            return leave(out, exit::CpuUp{call.args[0], GuestPhysAddr(call.args[1]), call.args[2]});
        case fid::hsm_hart_stop: return leave(out, exit::CpuDown{hsm_state::stopped}, false);
        case fid::hsm_hart_get_status: return action::HartGetStatus{call.args[0]};
        case fid::hsm_hart_suspend: {
            const std::uint64_t type = call.args[0] & 0xffffffff;
            if (type == suspend_type::default_retentive)
                return action::Suspend{true, GuestPhysAddr(call.args[1]), call.args[2]};
            if (type == suspend_type::default_non_retentive)
                return action::Suspend{false, GuestPhysAddr(call.args[1]), call.args[2]};
            return action::Answer{SbiRet{err::invalid_param, 0}};
        }
        default: return not_supported;
    }
}

constexpr Action decode_rfence(const SbiCall& call) {
    const auto fence = [&](action::FenceKind kind) -> Action {
        return action::RemoteFence{kind, call.args[0], call.args[1], call.args[2], call.args[3], call.args[4]};
    };
    switch (call.fid) {
        case fid::rfence_remote_fence_i: return fence(action::FenceKind::FenceI);
        case fid::rfence_remote_sfence_vma: return fence(action::FenceKind::SfenceVma);
        case fid::rfence_remote_sfence_vma_asid: return fence(action::FenceKind::SfenceVmaAsid);
        // The hfence functions are for guests that are hypervisors; this
        // guest has no H extension.
        default: return not_supported;
    }
}

constexpr Action decode_dbcn(const SbiCall& call) {
    // The 64-bit address is split into a1 (low) and a2 (high); on RV64 the
    // high half must be zero.
    if (call.fid == fid::dbcn_write_byte) return action::ConsolePutchar{static_cast<std::uint8_t>(call.args[0]), false};
    if (call.fid != fid::dbcn_write && call.fid != fid::dbcn_read) return not_supported;
    if (call.args[2] != 0) return action::Answer{SbiRet{err::invalid_param, 0}};
    if (call.fid == fid::dbcn_write) return action::ConsoleWrite{GuestPhysAddr(call.args[1]), call.args[0]};
    return action::ConsoleRead{GuestPhysAddr(call.args[1]), call.args[0]};
}
}  // namespace detail

// The decision for one VS-mode ecall; for an action::Exit, `exit` holds
// the reason.
[[nodiscard]] constexpr Action decode_call(const SbiCall& call, AxVCpuExitReason& exit) {
    using namespace detail;
    const auto& a = call.args;
    switch (call.eid) {
        case eid::legacy_set_timer: return action::SetTimer{a[0]};
        case eid::legacy_console_putchar: return action::ConsolePutchar{static_cast<std::uint8_t>(a[0]), true};
        case eid::legacy_console_getchar: return action::ConsoleGetchar{};
        case eid::legacy_clear_ipi: return action::ClearIpi{};
        case eid::legacy_send_ipi:
        case eid::legacy_remote_fence_i:
        case eid::legacy_remote_sfence_vma:
        case eid::legacy_remote_sfence_vma_asid: return action::LegacyMask{call.eid, GuestVirtAddr(a[0])};
        case eid::legacy_shutdown: return leave(exit, exit::SystemDown{}, false);
        case eid::base: return decode_base(call);
        case eid::time: return call.fid == fid::time_set_timer ? Action(action::SetTimer{a[0]}) : Action(not_supported);
        case eid::ipi:
            if (call.fid != fid::ipi_send_ipi) return not_supported;
            // hart_mask_base = -1 names every hart, the caller's included,
            // and the mask is ignored (SBI v2.0, "Hart list parameter").
            return leave(exit, exit::SendIPI{a[1], a[0], a[1] == ~std::uint64_t{0}, a[1] == ~std::uint64_t{0}, 1});
        case eid::rfence: return decode_rfence(call);
        case eid::hsm: return decode_hsm(call, exit);
        case eid::srst:
            if (call.fid != fid::srst_system_reset) return not_supported;
            // A reserved reset type or reason, or a platform-specific one
            // (none is implemented here): INVALID_PARAM, as SBI 2.0 says.
            if (a[0] > reset_type::warm_reboot || a[1] > reset_reason::system_failure) {
                return action::Answer{SbiRet{err::invalid_param, 0}};
            }
            return leave(exit, exit::SystemDown{}, false);
        case eid::dbcn: return decode_dbcn(call);
        case eid::axvisor_hypercall:
            return leave(exit, hypercall(call.fid, a[0], a[1], a[2], a[3], a[4], a[5]));
        default: return not_supported;
    }
}

// For tests and logs: the action and, for action::Exit, the reason.
struct Decoded {
    Action action;
    AxVCpuExitReason exit;
};
[[nodiscard]] constexpr Decoded decode_call(const SbiCall& call) {
    Decoded decoded{action::Answer{}, exit::Nothing{}};
    decoded.action = decode_call(call, decoded.exit);
    return decoded;
}

}  // namespace axvcpu::riscv64::sbi
