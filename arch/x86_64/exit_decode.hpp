// Pure x86 exit decoding shared by the SVM (svm.hpp) and VMX (vmx.hpp) back
// ends: the guest register file's numbering, the instruction decoder that
// turns a nested page fault into an MMIO access, and the mapping of the
// decoded exits into AxVCpuExitReason.
//
// No assembly, no MSR or VMCB/VMCS access here: every function is a value
// computation over recorded words and instruction bytes, tested on the host
// (test/x86_64/) and fuzzed (test/fuzz/x86_64_decode.cpp).
//
// Why an instruction decoder at all: QEMU's SVM has no decode assists
// (PLATFORM.md), and VMX never reports the instruction of an EPT violation,
// so an MMIO access is known only by decoding the bytes at the guest's RIP.
// The decoder accepts exactly the forms a compiler emits for a volatile
// device access (MOV in every width, MOV with an immediate, the moffs forms,
// MOVZX/MOVSX/MOVSXD) and refuses everything else with a named reason: an
// access is never guessed.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <boost/outcome/basic_result.hpp>
#include <boost/outcome/policy/terminate.hpp>
#include <boost/outcome/success_failure.hpp>

#include "axvcpu/addr.hpp"
#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/fmt.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64 {

// --- The guest's general-purpose registers ------------------------------------

// RAX..R15 in the order the instruction encoding numbers them (Intel SDM
// vol. 2A, 2.1.5 table 2-2 and 2.2.1.2: ModRM.reg/rm with REX.R/B as bit 3).
using Gprs = std::array<std::uint64_t, 16>;

namespace gpr {
inline constexpr usize rax = 0, rcx = 1, rdx = 2, rbx = 3, rsp = 4, rbp = 5, rsi = 6, rdi = 7;
inline constexpr usize r8 = 8, r9 = 9, r10 = 10, r11 = 11, r12 = 12, r13 = 13, r14 = 14, r15 = 15;
// AH, CH, DH, BH: bits 15:8 of RAX, RCX, RDX, RBX. An 8-bit register
// operand 4..7 names them when the instruction has no REX prefix (SDM vol.
// 2A, 3.1.1.1 and table 3-1); the decoder reports them as 16..19 so that
// one register number says everything.
inline constexpr usize ah = 16, ch = 17, dh = 18, bh = 19;
}  // namespace gpr

[[nodiscard]] constexpr bool is_high_byte(usize reg) noexcept { return reg >= gpr::ah && reg <= gpr::bh; }

// The value a register operand holds: a whole GPR, or for AH..BH the byte
// at bits 15:8 of RAX..RBX. Out-of-range numbers read as 0.
[[nodiscard]] constexpr std::uint64_t read_operand(const Gprs& regs, usize reg) noexcept {
    if (reg < regs.size()) return regs[reg];
    if (is_high_byte(reg)) return (regs[reg - gpr::ah] >> 8) & 0xFF;
    return 0;
}

// --- The MMIO instruction decoder ---------------------------------------------

// The code segment's default operand and address size: 64-bit mode (CS.L),
// 32-bit protected or compatibility mode (CS.D), or 16-bit (real mode, a
// 16-bit segment). It decides what REX, 0x66 and 0x67 mean.
enum class CpuMode : std::uint8_t { Bits16, Bits32, Bits64 };

// Longer encodings raise #GP (SDM vol. 2A, 2.3.11).
inline constexpr usize max_instruction_length = 15;

// One guest memory access, as the faulting instruction performs it.
struct MemoryAccess {
    bool is_write = false;
    AccessWidth width = AccessWidth::Byte;  // bytes moved to or from memory
    // A read: the destination register. A write: the source register, unless
    // has_immediate. 0..15 as Gprs, 16..19 for AH..BH (gpr::ah).
    usize reg = 0;
    // A read: the destination operand's size. A 32-bit destination clears
    // bits 63:32, a 16- or 8-bit one leaves the rest of the register alone
    // (SDM vol. 1, 3.4.1.1); mmio_load_value applies both rules.
    AccessWidth reg_width = AccessWidth::Byte;
    bool signed_ext = false;      // a read: MOVSX/MOVSXD, and only when reg_width is wider than width
    bool has_immediate = false;   // a write of MOV r/m, imm (C6/C7)
    std::uint64_t immediate = 0;  // that immediate, sign-extended as C7 does and truncated to width
    unsigned length = 0;          // bytes of the instruction, for advancing RIP
    constexpr bool operator==(const MemoryAccess&) const noexcept = default;
};

// Why the bytes at RIP are not an access the VMM can emulate.
enum class InsnError : std::uint8_t {
    Truncated,        // the bytes given end before the instruction does (fetch more: it may cross a page)
    TooLong,          // more than 15 bytes: the CPU raises #GP, it never accessed memory
    StringOperation,  // MOVS/STOS/LODS/CMPS/SCAS/INS/OUTS: several accesses, RSI/RDI/RCX updates
    Locked,           // a LOCK prefix: an atomic read-modify-write (or #UD on a MOV)
    RepPrefix,        // F2/F3 on a MOV (HLE XACQUIRE/XRELEASE hints): refused rather than guessed
    RegisterOperand,  // ModRM.mod = 3: no memory operand, so not what faulted
    Invalid,          // an encoding the CPU rejects with #UD (C6/C7 with ModRM.reg != 0)
    Unsupported,      // any other instruction: ALU read-modify-write, XCHG, SSE/AVX/VEX, ...
};

[[nodiscard]] constexpr std::string_view name(InsnError error) noexcept {
    constexpr std::array<std::string_view, 8> names{"Truncated", "TooLong",         "StringOperation", "Locked",
                                                    "RepPrefix", "RegisterOperand", "Invalid",         "Unsupported"};
    return names[static_cast<usize>(error)];
}

template <fmt::Sink S>
constexpr void print_to(S& out, InsnError error) {
    out.write(name(error));
}

using InsnResult = boost::outcome_v2::basic_result<MemoryAccess, InsnError, boost::outcome_v2::policy::terminate>;

namespace detail {

// A cursor over the fetched bytes that never reads past `count` and never
// lets the instruction grow beyond 15 bytes.
class ByteCursor {
public:
    constexpr ByteCursor(const std::uint8_t* bytes, usize count) noexcept : bytes_(bytes), count_(count) {}

    // Whether `n` more bytes exist; else why not. Too long wins over
    // truncated: past 15 bytes no further fetch can help.
    [[nodiscard]] constexpr bool need(usize n, InsnError& error) const noexcept {
        if (at_ + n > max_instruction_length) {
            error = InsnError::TooLong;
            return false;
        }
        if (at_ + n > count_) {
            error = InsnError::Truncated;
            return false;
        }
        return true;
    }
    [[nodiscard]] constexpr std::uint8_t peek() const noexcept { return bytes_[at_]; }
    constexpr std::uint8_t take() noexcept { return bytes_[at_++]; }
    // Little-endian, as immediates and displacements are stored.
    constexpr std::uint64_t take_le(usize n) noexcept {
        std::uint64_t value = 0;
        for (usize i = 0; i < n; ++i) value |= std::uint64_t{bytes_[at_ + i]} << (8 * i);
        at_ += n;
        return value;
    }
    constexpr void skip(usize n) noexcept { at_ += n; }
    [[nodiscard]] constexpr usize position() const noexcept { return at_; }

private:
    const std::uint8_t* bytes_;
    usize count_;
    usize at_ = 0;
};

[[nodiscard]] constexpr bool is_string_opcode(std::uint8_t op) noexcept {
    // INS/OUTS 6C-6F, MOVS/CMPS A4-A7, STOS/LODS/SCAS AA-AF (SDM vol. 2, one-byte opcode map).
    return (op >= 0x6C && op <= 0x6F) || (op >= 0xA4 && op <= 0xA7) || (op >= 0xAA && op <= 0xAF);
}

// Bytes after ModRM (SIB and displacement) for a memory operand, by the
// address size (SDM vol. 2A, 2.1.5 tables 2-1 and 2-2, and 2.2.1.6: mod 00
// rm 101 is RIP-relative in 64-bit mode, still a disp32). Reads the SIB
// byte, so the cursor must stand after ModRM with `need` already checked
// for it.
[[nodiscard]] constexpr bool skip_memory_operand(ByteCursor& in, std::uint8_t modrm, AccessWidth address_size,
                                                 InsnError& error) noexcept {
    const unsigned mod = modrm >> 6;
    const unsigned rm = modrm & 7;
    if (address_size == AccessWidth::Word) {
        const usize disp = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0;
        if (!in.need(disp, error)) return false;
        in.skip(disp);
        return true;
    }
    usize disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (rm == 4) {  // a SIB byte follows; base 101 with mod 00 means disp32, no base
        if (!in.need(1, error)) return false;
        const std::uint8_t sib = in.take();
        if (mod == 0 && (sib & 7) == 5) disp = 4;
    } else if (mod == 0 && rm == 5) {
        disp = 4;
    }
    if (!in.need(disp, error)) return false;
    in.skip(disp);
    return true;
}

}  // namespace detail

// Decodes the instruction in bytes[0, count) as a guest memory access.
// Never reads bytes[count] or beyond, nor past byte 15. Prefixes: segment
// overrides (ignored: the fault already gives the address), 0x66, 0x67, and
// REX in 64-bit mode, where a REX not directly before the opcode is ignored
// (SDM vol. 2A, 2.2.1).
[[nodiscard]] constexpr InsnResult decode_mmio_instruction(const std::uint8_t* bytes, usize count,
                                                           CpuMode mode) noexcept {
    using boost::outcome_v2::failure;
    detail::ByteCursor in(bytes, count);
    InsnError error{};
    bool operand_override = false;
    bool address_override = false;
    bool lock = false;
    bool rep = false;
    bool has_rex = false;
    std::uint8_t rex = 0;
    for (bool prefix = true; prefix;) {
        if (!in.need(1, error)) return failure(error);
        const std::uint8_t b = in.peek();
        if (mode == CpuMode::Bits64 && (b & 0xF0) == 0x40) {
            has_rex = true;
            rex = b;
            in.skip(1);
            continue;
        }
        switch (b) {
            case 0xF0: lock = true; break;
            case 0xF2:
            case 0xF3: rep = true; break;
            case 0x26:
            case 0x2E:
            case 0x36:
            case 0x3E:
            case 0x64:
            case 0x65: break;
            case 0x66: operand_override = true; break;
            case 0x67: address_override = true; break;
            default: prefix = false; continue;  // the opcode
        }
        in.skip(1);
        has_rex = false;  // a REX followed by a legacy prefix is ignored
        rex = 0;
    }
    const bool rex_w = (rex & 8) != 0;
    const bool rex_r = (rex & 4) != 0;
    // Operand size (SDM vol. 1, 3.6 and 3.6.1 table 3-4).
    AccessWidth operand_size = AccessWidth::Dword;
    if (mode == CpuMode::Bits64 && rex_w) operand_size = AccessWidth::Qword;
    else if ((mode == CpuMode::Bits16) != operand_override) operand_size = AccessWidth::Word;
    // Address size: 64 (or 32 with 0x67) in 64-bit mode; 32/16 otherwise, swapped by 0x67.
    AccessWidth address_size = AccessWidth::Qword;
    if (mode == CpuMode::Bits64) address_size = address_override ? AccessWidth::Dword : AccessWidth::Qword;
    else address_size = (mode == CpuMode::Bits16) != address_override ? AccessWidth::Word : AccessWidth::Dword;

    std::uint8_t op = in.take();
    if (detail::is_string_opcode(op)) return failure(InsnError::StringOperation);
    if (lock) return failure(InsnError::Locked);
    if (rep) return failure(InsnError::RepPrefix);

    MemoryAccess access{};
    // A register operand of an 8-bit instruction: SPL..DIL with any REX,
    // AH..BH without one.
    auto byte_reg = [&](unsigned number) -> usize {
        return (!has_rex && number >= 4 && number <= 7) ? gpr::ah + (number - 4) : number;
    };

    // moffs: MOV AL/eAX <-> [address-size offset] (A0-A3); no ModRM.
    if (op >= 0xA0 && op <= 0xA3) {
        const usize offset_bytes = size_in_bytes(address_size);
        if (!in.need(offset_bytes, error)) return failure(error);
        in.skip(offset_bytes);
        access.is_write = op >= 0xA2;
        access.width = (op & 1) != 0 ? operand_size : AccessWidth::Byte;
        access.reg = gpr::rax;
        access.reg_width = access.width;
        access.length = static_cast<unsigned>(in.position());
        return access;
    }

    bool two_byte = false;
    if (op == 0x0F) {
        if (!in.need(1, error)) return failure(error);
        op = in.take();
        two_byte = true;
        if (op != 0xB6 && op != 0xB7 && op != 0xBE && op != 0xBF) return failure(InsnError::Unsupported);
    } else {
        switch (op) {
            case 0x88:
            case 0x89:
            case 0x8A:
            case 0x8B:
            case 0xC6:
            case 0xC7: break;
            case 0x63:  // MOVSXD in 64-bit mode; ARPL (a read-modify-write) elsewhere
                if (mode != CpuMode::Bits64) return failure(InsnError::Unsupported);
                break;
            default: return failure(InsnError::Unsupported);
        }
    }

    if (!in.need(1, error)) return failure(error);
    const std::uint8_t modrm = in.take();
    const unsigned reg_field = ((modrm >> 3) & 7) | (rex_r ? 8u : 0u);
    if ((modrm >> 6) == 3) return failure(InsnError::RegisterOperand);
    if (!detail::skip_memory_operand(in, modrm, address_size, error)) return failure(error);

    if (two_byte) {
        // MOVZX/MOVSX r16/32/64, r/m8 (B6/BE) or r/m16 (B7/BF).
        access.width = (op & 1) != 0 ? AccessWidth::Word : AccessWidth::Byte;
        access.reg = reg_field;
        access.reg_width = operand_size;
        access.signed_ext = op >= 0xBE && access.width < operand_size;
    } else {
        switch (op) {
            case 0x88:  // MOV r/m8, r8
            case 0x8A:  // MOV r8, r/m8
                access.is_write = op == 0x88;
                access.width = AccessWidth::Byte;
                access.reg = byte_reg(reg_field);
                access.reg_width = AccessWidth::Byte;
                break;
            case 0x89:  // MOV r/m, r
            case 0x8B:  // MOV r, r/m
                access.is_write = op == 0x89;
                access.width = operand_size;
                access.reg = reg_field;
                access.reg_width = operand_size;
                break;
            case 0x63:  // MOVSXD r64, r/m32 with REX.W; without it a plain 32-bit move
                // 66 63 is "MOVSXD r16, r/m16" in the SDM but reads a dword
                // operand in objdump's view: refused, no compiler emits it.
                if (operand_size == AccessWidth::Word) return failure(InsnError::Unsupported);
                access.width = rex_w ? AccessWidth::Dword : operand_size;
                access.reg = reg_field;
                access.reg_width = operand_size;
                access.signed_ext = rex_w;
                break;
            default: {  // C6 /0 ib, C7 /0 iw/id: MOV r/m, imm
                if (((modrm >> 3) & 7) != 0) return failure(InsnError::Invalid);
                access.is_write = true;
                access.has_immediate = true;
                access.width = op == 0xC6 ? AccessWidth::Byte : operand_size;
                access.reg_width = access.width;
                // An imm32 is sign-extended to a 64-bit operand (SDM vol. 2B, MOV).
                const usize imm_bytes = access.width == AccessWidth::Qword ? 4 : size_in_bytes(access.width);
                if (!in.need(imm_bytes, error)) return failure(error);
                std::uint64_t imm = in.take_le(imm_bytes);
                if (imm_bytes == 4 && (imm & 0x8000'0000) != 0) imm |= 0xFFFF'FFFF'0000'0000;
                access.immediate = imm & width_mask(access.width);
                break;
            }
        }
    }
    access.length = static_cast<unsigned>(in.position());
    return access;
}

// The bytes a policy fetched at the guest's RIP, with the mode they run in.
// `count` may be short of 15 when the next page could not be read.
struct InstructionBytes {
    std::array<std::uint8_t, max_instruction_length> bytes{};
    usize count = 0;
    CpuMode mode = CpuMode::Bits64;
};

[[nodiscard]] constexpr InsnResult decode_mmio_instruction(const InstructionBytes& insn) noexcept {
    return decode_mmio_instruction(insn.bytes.data(), insn.count < insn.bytes.size() ? insn.count : insn.bytes.size(),
                                   insn.mode);
}

// The new value of the destination register of an MmioRead, from the `raw`
// bytes the device returned and the register's `old` value: truncated to
// the access width, sign- or zero-extended to the destination size, then
// written as x86 writes a register of that size (a 32-bit destination
// clears bits 63:32; 16- and 8-bit ones, AH..BH included, merge).
[[nodiscard]] constexpr std::uint64_t mmio_load_value(const exit::MmioRead& read, std::uint64_t raw,
                                                      std::uint64_t old) noexcept {
    std::uint64_t value = raw & width_mask(read.width);
    const usize bits = size_in_bits(read.width);
    if (read.signed_ext && bits < 64 && ((value >> (bits - 1)) & 1) != 0) value |= ~std::uint64_t{0} << bits;
    if (is_high_byte(read.reg)) return (old & ~std::uint64_t{0xFF00}) | ((value & 0xFF) << 8);
    switch (read.reg_width) {
        case AccessWidth::Qword: return value;
        case AccessWidth::Dword: return value & 0xFFFF'FFFF;
        default: return (old & ~width_mask(read.reg_width)) | (value & width_mask(read.reg_width));
    }
}

// The register (0..15) an MmioRead's `reg` lives in: AH..BH are parts of RAX..RBX.
[[nodiscard]] constexpr usize containing_gpr(usize reg) noexcept { return is_high_byte(reg) ? reg - gpr::ah : reg; }

// --- Exits shared by both back ends -------------------------------------------

// The result of decoding an exit: the reason to report and how far RIP
// moves past the instruction the VMM is to emulate (0: it stays, as after
// a fault, an interrupt or a failed entry).
struct Decoded {
    template <class Reason>
    constexpr Decoded(Reason r, std::uint64_t advance) noexcept : reason(std::move(r)), rip_advance(advance) {}

    AxVCpuExitReason reason;
    std::uint64_t rip_advance = 0;
};

// Why an exit could not be decoded into a reason. The policy reports it as
// an AxError (to_ax_error) and keeps the exit record for the VMM to print.
enum class DecodeError : std::uint8_t {
    UnknownExit,     // an exit code / reason this policy does not model
    StringIo,        // INS/OUTS or a REP-prefixed IN/OUT: never emulated as one access
    BadIoSize,       // an I/O size field that names no single width
    BadMsrAccess,    // SVM MSR intercept with EXITINFO1 other than 0 (RDMSR) or 1 (WRMSR)
    BadLength,       // a next RIP / instruction length outside 1..15
    NoVector,        // VMX external-interrupt exit without a valid vector (acknowledge-on-exit off)
    EptMisconfig,    // VMX: an EPT entry the hardware found malformed: the VMM's tables are wrong
};

[[nodiscard]] constexpr std::string_view name(DecodeError error) noexcept {
    constexpr std::array<std::string_view, 7> names{"UnknownExit", "StringIo", "BadIoSize", "BadMsrAccess",
                                                    "BadLength",   "NoVector", "EptMisconfig"};
    return names[static_cast<usize>(error)];
}

template <fmt::Sink S>
constexpr void print_to(S& out, DecodeError error) {
    out.write(name(error));
}

[[nodiscard]] constexpr AxError to_ax_error(DecodeError error) noexcept {
    return error == DecodeError::EptMisconfig ? AxError::BadState : AxError::Unsupported;
}

using DecodeResult = boost::outcome_v2::basic_result<Decoded, DecodeError, boost::outcome_v2::policy::terminate>;

// VMMCALL/VMCALL: the hypercall number in RAX, arguments in RDI, RSI, RDX,
// RCX, R8, R9 (the order upstream's x86 hypervisors read them in). `rax`
// apart for a back end that keeps RAX elsewhere (SVM: the VMCB).
[[nodiscard]] constexpr exit::Hypercall hypercall_from(std::uint64_t rax, const Gprs& regs) noexcept {
    return exit::Hypercall{rax,
                           {regs[gpr::rdi], regs[gpr::rsi], regs[gpr::rdx], regs[gpr::rcx], regs[gpr::r8], regs[gpr::r9]}};
}
[[nodiscard]] constexpr exit::Hypercall hypercall_from(const Gprs& regs) noexcept {
    return hypercall_from(regs[gpr::rax], regs);
}

// An IN or OUT as both back ends report it (AMD APM vol. 2, 15.10.2;
// Intel SDM vol. 3C, table 28-5).
struct IoAccess {
    Port port = 0;
    AccessWidth width = AccessWidth::Byte;
    bool is_in = false;
    bool string = false;  // INS/OUTS
    bool rep = false;     // a REP prefix
    constexpr bool operator==(const IoAccess&) const noexcept = default;
};

// IN: the VMM answers into AL/AX/EAX (an IN to EAX clears bits 63:32, like
// any 32-bit destination). OUT: the data is RAX truncated to the width.
// String and REP forms move several values through memory and are refused.
[[nodiscard]] constexpr DecodeResult io_exit(const IoAccess& io, const Gprs& regs, std::uint64_t rip_advance) noexcept {
    if (io.string || io.rep) return boost::outcome_v2::failure(DecodeError::StringIo);
    if (io.is_in) return Decoded{exit::IoRead{io.port, io.width}, rip_advance};
    return Decoded{exit::IoWrite{io.port, io.width, regs[gpr::rax] & width_mask(io.width)}, rip_advance};
}

// The new RAX after an IoRead answered with `raw`: as a MOV of that width into AL/AX/EAX.
[[nodiscard]] constexpr std::uint64_t io_load_value(const exit::IoRead& read, std::uint64_t raw, std::uint64_t old_rax) noexcept {
    return mmio_load_value(exit::MmioRead{GuestPhysAddr{}, read.width, gpr::rax, read.width, false}, raw, old_rax);
}

// RDMSR/WRMSR (both 2 bytes, 0F 32 / 0F 30): the MSR index is ECX. A read
// names RAX as its register: the VMM's value goes to EDX:EAX
// (msr_load_values); a write carries EDX:EAX.
inline constexpr std::uint64_t msr_instruction_length = 2;

[[nodiscard]] constexpr exit::SysRegRead msr_read_exit(const Gprs& regs) noexcept {
    return exit::SysRegRead{SysRegAddr{static_cast<usize>(regs[gpr::rcx] & 0xFFFF'FFFF)}, gpr::rax};
}
[[nodiscard]] constexpr exit::SysRegWrite msr_write_exit(const Gprs& regs) noexcept {
    return exit::SysRegWrite{SysRegAddr{static_cast<usize>(regs[gpr::rcx] & 0xFFFF'FFFF)},
                             (regs[gpr::rdx] & 0xFFFF'FFFF) << 32 | (regs[gpr::rax] & 0xFFFF'FFFF)};
}

// RDMSR's result: RAX and RDX get the low and high halves, bits 63:32 of both cleared.
struct MsrLoad {
    std::uint64_t rax = 0, rdx = 0;
    constexpr bool operator==(const MsrLoad&) const noexcept = default;
};
[[nodiscard]] constexpr MsrLoad msr_load_values(std::uint64_t value) noexcept {
    return MsrLoad{value & 0xFFFF'FFFF, value >> 32};
}

// HLT is F4 (one byte). VMMCALL is 0F 01 D9, VMCALL 0F 01 C1 (three).
inline constexpr std::uint64_t hlt_length = 1;
inline constexpr std::uint64_t vmmcall_length = 3;

// The exit an emulatable MMIO access reports at `gpa`. A write carries the
// immediate or the source register truncated to the access width.
[[nodiscard]] constexpr AxVCpuExitReason mmio_exit(GuestPhysAddr gpa, const MemoryAccess& access, const Gprs& regs) noexcept {
    if (access.is_write) {
        const std::uint64_t value = access.has_immediate ? access.immediate : read_operand(regs, access.reg);
        return exit::MmioWrite{gpa, access.width, value & width_mask(access.width)};
    }
    return exit::MmioRead{gpa, access.width, access.reg, access.reg_width, access.signed_ext};
}

// A stage-2 fault the decoder classified: MMIO when `decoded` is an access
// in the direction the hardware reported, else a NestedPageFault with
// `flags` and RIP left on the instruction.
[[nodiscard]] constexpr Decoded nested_fault_exit(GuestPhysAddr gpa, MappingFlags flags, bool mmio_candidate,
                                                  const InsnResult& decoded, bool fault_was_write,
                                                  const Gprs& regs) noexcept {
    if (mmio_candidate && decoded.has_value() && decoded.value().is_write == fault_was_write)
        return Decoded{mmio_exit(gpa, decoded.value(), regs), decoded.value().length};
    return Decoded{exit::NestedPageFault{gpa, flags}, 0};
}

}  // namespace axvcpu::x86_64
