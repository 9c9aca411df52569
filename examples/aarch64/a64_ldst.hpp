// The A64 load/store encodings, decoded from the instruction word alone, as
// the Arm ARM's encoding tables give them (ARM DDI 0487 J.a, C4.1.94 "Loads
// and Stores" and the instruction pages it leads to). The ldst test
// (guests/ldst.cpp) checks every MMIO exit the policy decoded from the data
// abort's syndrome (ESR_EL2.ISV, SAS, SSE, SRT, SF, WnR; exit_decode.hpp)
// against what this says the instruction at the trapping PC does: the two
// share nothing but the architecture.
//
// Only what an access to an emulated device can be is told apart: single
// general-purpose-register loads and stores without writeback (the forms
// for which the Arm ARM fills the instruction syndrome, D17.2.40 "ISV"),
// and the forms for which it does not (register pairs, writeback,
// exclusives, atomics and compare-and-swap, SIMD&FP registers). Anything
// else is Form::Other.
#pragma once

#include <cstdint>

namespace a64 {

using u32 = std::uint32_t;
using u64 = std::uint64_t;

enum class Form : std::uint8_t {
    NotLoadStore,
    Single,     // one GPR, no writeback: ISV = 1 (LDR/STR/LDUR/LDTR/LDAR... of every width, LDRS*)
    Writeback,  // one GPR, pre- or post-index: ISV = 0
    Pair,       // LDP/STP/LDNP/STNP/LDPSW, any addressing: ISV = 0
    Exclusive,  // LDXR/STXR/LDAXR/STLXR and their pairs: ISV = 0
    Atomic,     // LDADD, SWP, CAS, CASP... (FEAT_LSE): ISV = 0
    SimdFp,     // a SIMD&FP register: ISV = 0
    Other,      // literal, prefetch, pointer-authenticated loads, unallocated
};

struct LdSt {
    Form form = Form::NotLoadStore;
    bool load = false;
    unsigned size = 0;  // bytes of one register's access
    unsigned rt = 0;
    unsigned rn = 0;
    bool sign_extend = false;  // LDRS*: the loaded value is sign-extended
    bool reg64 = false;        // the register is an X register (else W: a load clears bits 63:32)
    u64 address = 0;           // the address the (first) access goes to
};

[[nodiscard]] constexpr u32 bits(u32 insn, unsigned hi, unsigned lo) noexcept { return (insn >> lo) & ((u32{1} << (hi - lo + 1)) - 1); }
[[nodiscard]] constexpr u64 sign_extend(u64 value, unsigned width) noexcept {
    const u64 sign = u64{1} << (width - 1);
    return (value ^ sign) - sign;
}

// The register-offset forms' Rm, extended and shifted (C6.2 "LDR
// (register)": option 010 UXTW, 011 LSL/UXTX, 110 SXTW, 111 SXTX).
[[nodiscard]] constexpr bool extend_register(u64 rm, u32 option, unsigned shift, u64& out) noexcept {
    switch (option) {
        case 0b010: out = (rm & 0xFFFF'FFFF) << shift; return true;
        case 0b011:
        case 0b111: out = rm << shift; return true;
        case 0b110: out = sign_extend(rm & 0xFFFF'FFFF, 32) << shift; return true;
        default: return false;
    }
}

// `reg(n)` is Xn for n < 31; `base(n)` is Xn, or SP for n = 31 (a base
// register numbered 31 is SP, a data register numbered 31 is XZR).
template <class Reg, class Base>
[[nodiscard]] constexpr LdSt decode(u32 insn, Reg&& reg, Base&& base) noexcept {
    LdSt d;
    if (bits(insn, 27, 27) != 1 || bits(insn, 25, 25) != 0) return d;  // not the Loads and Stores group
    d.rt = bits(insn, 4, 0);
    d.rn = bits(insn, 9, 5);
    const u64 xn = base(d.rn);
    const bool simd = bits(insn, 26, 26) != 0;
    d.form = Form::Other;

    // Load/store exclusive, ordered, compare and swap: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt.
    if (bits(insn, 29, 24) == 0b001000) {
        const unsigned o2 = bits(insn, 23, 23), o1 = bits(insn, 21, 21);
        d.load = bits(insn, 22, 22) != 0;
        d.size = 1u << bits(insn, 31, 30);
        d.reg64 = d.size == 8;
        d.address = xn;
        if (o2 == 1 && o1 == 0) {
            d.form = Form::Single;  // LDAR/STLR/LDLAR/STLLR: ordered, one register
        } else if (o1 == 1 && (o2 == 1 || bits(insn, 31, 31) == 0)) {
            d.form = Form::Atomic;  // CAS (o2 o1 = 11), CASP (size 0x, o2 o1 = 01)
        } else {
            d.form = Form::Exclusive;  // LDXR/STXR/LDAXR/STLXR, LDXP/STXP...
        }
        return d;
    }
    // Load register (literal): PC-relative, never the device here.
    if (bits(insn, 29, 27) == 0b011 && bits(insn, 24, 24) == 0) return d;
    // Load/store pair: opc 101 V 0 idx L imm7 Rt2 Rn Rt; idx 00 no-allocate, 01 post, 10 offset, 11 pre.
    if (bits(insn, 29, 27) == 0b101) {
        const unsigned opc = bits(insn, 31, 30), idx = bits(insn, 24, 23);
        const unsigned scale = simd ? 2 + opc : 2 + (opc >> 1);
        d.form = simd ? Form::SimdFp : Form::Pair;
        d.load = bits(insn, 22, 22) != 0;
        d.size = 1u << scale;
        d.address = idx == 0b01 ? xn : xn + (sign_extend(bits(insn, 21, 15), 7) << scale);
        return d;
    }
    if (bits(insn, 29, 27) != 0b111) return d;

    // Single register: size 111 V 0x opc ...
    const unsigned size_log2 = bits(insn, 31, 30), opc = bits(insn, 23, 22);
    if (bits(insn, 24, 24) == 1) {  // unsigned immediate, scaled
        const unsigned scale = simd && (opc & 2) != 0 ? 4 : size_log2;
        d.address = xn + (u64{bits(insn, 21, 10)} << scale);
    } else if (bits(insn, 21, 21) == 0) {  // 9-bit signed immediate
        const unsigned idx = bits(insn, 11, 10);  // 00 unscaled, 01 post-index, 10 unprivileged, 11 pre-index
        d.address = idx == 0b01 ? xn : xn + sign_extend(bits(insn, 20, 12), 9);
        if (idx == 0b01 || idx == 0b11) d.form = Form::Writeback;
    } else if (bits(insn, 11, 10) == 0b10) {  // register offset
        const unsigned scale = simd && (opc & 2) != 0 ? 4 : size_log2;
        u64 offset = 0;
        if (!extend_register(reg(bits(insn, 20, 16)), bits(insn, 15, 13), bits(insn, 12, 12) != 0 ? scale : 0, offset)) {
            return d;
        }
        d.address = xn + offset;
    } else if (bits(insn, 11, 10) == 0b00 && !simd) {  // atomic memory operations: size 111 0 00 A R 1 Rs o3 opc 00
        d.address = xn;
        d.size = 1u << size_log2;
        d.reg64 = d.size == 8;
        const bool ldapr = bits(insn, 23, 23) == 1 && bits(insn, 22, 22) == 0 && bits(insn, 20, 16) == 31 &&
                           bits(insn, 15, 15) == 1 && bits(insn, 14, 12) == 0b100;
        d.form = ldapr ? Form::Single : Form::Atomic;  // LDAPR: an ordered load of one register
        d.load = true;
        return d;
    } else {
        return d;  // LDRAA/LDRAB (pointer authentication)
    }

    if (simd) {
        d.form = Form::SimdFp;
        d.load = (opc & 1) != 0;
        d.size = 1u << ((opc & 2) != 0 ? 4 : size_log2);
        return d;
    }
    // The integer forms, by opc (C4.1.94's "Load/store register" tables):
    // 00 store, 01 load zero-extended, 10 load sign-extended into X
    // (size 11: PRFM), 11 load sign-extended into W (size 1x: unallocated).
    d.size = 1u << size_log2;
    switch (opc) {
        case 0b00: d.load = false; d.reg64 = size_log2 == 3; break;
        case 0b01: d.load = true; d.reg64 = size_log2 == 3; break;
        case 0b10:
            if (size_log2 == 3) return LdSt{Form::Other};
            d.load = d.sign_extend = d.reg64 = true;
            break;
        default:
            if (size_log2 >= 2) return LdSt{Form::Other};
            d.load = d.sign_extend = true;
            d.reg64 = false;
    }
    if (d.form == Form::Other) d.form = Form::Single;
    return d;
}

// What a load of `size` bytes leaves in its register: `raw` truncated to
// the access, sign- or zero-extended as the encoding says, and cut to 32
// bits for a W register.
[[nodiscard]] constexpr u64 loaded_value(const LdSt& d, u64 raw) noexcept {
    u64 value = d.size == 8 ? raw : raw & ((u64{1} << (8 * d.size)) - 1);
    if (d.sign_extend && d.size < 8) value = sign_extend(value, 8 * d.size);
    return d.reg64 ? value : value & 0xFFFF'FFFF;
}

[[nodiscard]] constexpr bool has_syndrome(Form form) noexcept { return form == Form::Single; }

}  // namespace a64
