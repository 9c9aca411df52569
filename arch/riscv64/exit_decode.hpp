// Pure decoders for riscv64 H-extension traps: scause classification and the
// load/store decoder used to turn guest page faults into MMIO exits.
//
// Everything here is a function of raw register words (scause, stval, htval,
// htinst) and instruction words, with no CSR access and no asm, so it is
// tested on the host with recorded values (test/riscv64/exit_decode_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

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
