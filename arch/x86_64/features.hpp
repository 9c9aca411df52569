// What a guest sees of the CPU's features: the CPUID leaves the policy
// answers (from the host's, filtered) and the XCR0 values XSETBV may set.
// Shared by the SVM and VMX back ends; pure value computations, host-tested
// (test/x86_64/features_test.cpp).
#pragma once

#include <cstdint>
#include <optional>

#include "arch/x86_64/sysregs.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::x86_64 {

struct CpuidResult {
    std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
    constexpr bool operator==(const CpuidResult&) const noexcept = default;
};

namespace cpuid_bits {
// Leaf 1 (Intel SDM vol. 2A, CPUID, table 3-10).
inline constexpr std::uint32_t leaf1_ecx_monitor = 1u << 3;
inline constexpr std::uint32_t leaf1_ecx_vmx = 1u << 5;
inline constexpr std::uint32_t leaf1_ecx_xsave = 1u << 26;
inline constexpr std::uint32_t leaf1_ecx_osxsave = 1u << 27;
inline constexpr std::uint32_t leaf1_ecx_hypervisor = 1u << 31;  // reserved for hypervisors to set
// FMA (12), AVX (28), F16C (29): they need XCR0.AVX.
inline constexpr std::uint32_t leaf1_ecx_avx_family = (1u << 12) | (1u << 28) | (1u << 29);
// Leaf 7 subleaf 0: AVX2 (EBX 5), AVX-512 F/DQ/IFMA/PF/ER/CD/BW/VL (EBX 16,
// 17, 21, 26, 27, 28, 30, 31), AVX-512 VBMI/VBMI2/VNNI/BITALG/VPOPCNTDQ
// (ECX 1, 6, 11, 12, 14), VAES/VPCLMULQDQ (ECX 9, 10: VEX/EVEX forms),
// AVX-512 4VNNIW/4FMAPS/VP2INTERSECT/FP16 (EDX 2, 3, 8, 23), AMX (EDX 22, 24, 25).
inline constexpr std::uint32_t leaf7_ebx_avx_family =
    (1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31);
inline constexpr std::uint32_t leaf7_ecx_avx512_family =
    (1u << 1) | (1u << 6) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 14);
inline constexpr std::uint32_t leaf7_edx_avx512_family =
    (1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25);
// Leaf 0xD subleaf 1 EAX[3]: XSAVES/XRSTORS and IA32_XSS.
inline constexpr std::uint32_t leaf_d1_eax_xsaves = 1u << 3;
inline constexpr unsigned leaf1_ebx_apic_id_shift = 24;
// Leaf 8000_0001 (AMD APM vol. 3, appendix E.4.2).
inline constexpr std::uint32_t ext1_ecx_svm = 1u << 2;
inline constexpr std::uint32_t ext1_ecx_skinit = 1u << 12;  // SKINIT and STGI, with or without EFER.SVME
}  // namespace cpuid_bits

namespace cpuid_leaf {
inline constexpr std::uint32_t features = 0x1;
inline constexpr std::uint32_t extended_features = 0x7;
inline constexpr std::uint32_t xsave = 0xD;
inline constexpr std::uint32_t hypervisor_base = 0x4000'0000;  // .. 0x4FFF_FFFF: the hypervisor range
inline constexpr std::uint32_t hypervisor_last = 0x4FFF'FFFF;
inline constexpr std::uint32_t ext_features = 0x8000'0001;
inline constexpr std::uint32_t svm_features = 0x8000'000A;
}  // namespace cpuid_leaf

// 0x4000_0000's EBX, ECX, EDX: "AxVisor vCPU".
inline constexpr CpuidResult hypervisor_leaf{cpuid_leaf::hypervisor_base, 0x6956'7841, 0x2072'6F73, 0x5550'4376};

// XCR0's state components (Intel SDM vol. 1, 13.3; XSETBV in vol. 2D).
namespace xcr0 {
inline constexpr std::uint64_t x87 = 1u << 0, sse = 1u << 1, avx = 1u << 2;
inline constexpr std::uint64_t bndreg = 1u << 3, bndcsr = 1u << 4;
inline constexpr std::uint64_t opmask = 1u << 5, zmm_hi256 = 1u << 6, hi16_zmm = 1u << 7;
inline constexpr std::uint64_t avx512 = opmask | zmm_hi256 | hi16_zmm;
inline constexpr std::uint64_t mpx = bndreg | bndcsr;
inline constexpr std::uint64_t tilecfg = std::uint64_t{1} << 17, tiledata = std::uint64_t{1} << 18;
inline constexpr std::uint64_t amx = tilecfg | tiledata;
}  // namespace xcr0

// The XSAVE state components a guest may enable: x87 and SSE, the state
// the policies switch (FXSAVE/FXRSTOR at bind/unbind). AVX and later
// components are not offered, so their registers never hold a guest's
// state the host or another guest could see or clobber.
inline constexpr std::uint64_t guest_xcr0_supported = xcr0::x87 | xcr0::sse;
// The legacy area and the XSAVE header: the XSAVE area of x87 | SSE.
inline constexpr std::uint32_t guest_xsave_area_bytes = 512 + 64;

// What the guest's CPUID at `leaf`/`subleaf` returns, given what the
// host's returned: the host's values except that the guest
//   - is told it runs on a hypervisor (leaf 1 ECX[31], leaf 0x4000_0000),
//   - sees no VMX or SVM (nested virtualization is not offered; the SVM
//     instructions raise #UD, so SKINIT/STGI's own bit is clear too) and
//     no MONITOR/MWAIT (they raise #UD),
//   - sees its own CR4.OSXSAVE (the host's CPUID reflects the host's CR4),
//   - sees only the XSAVE components of guest_xcr0_supported: no AVX, FMA,
//     F16C, AVX2 or AVX-512 (leaves 1 and 7), leaf 0xD describing x87 and
//     SSE only, and no XSAVES (its supervisor state, IA32_XSS, is not
//     switched),
//   - has `apic_id` (its vCPU id) as its initial APIC id.
[[nodiscard]] constexpr CpuidResult guest_cpuid(std::uint32_t leaf, std::uint32_t subleaf, CpuidResult host,
                                                std::uint32_t apic_id, bool guest_osxsave) noexcept {
    using namespace cpuid_bits;
    CpuidResult out = host;
    switch (leaf) {
        case cpuid_leaf::features:
            out.ecx &= ~(leaf1_ecx_vmx | leaf1_ecx_monitor | leaf1_ecx_osxsave | leaf1_ecx_avx_family);
            out.ecx |= leaf1_ecx_hypervisor;
            if (guest_osxsave && (host.ecx & leaf1_ecx_xsave) != 0) out.ecx |= leaf1_ecx_osxsave;
            out.ebx = (out.ebx & 0x00FF'FFFF) | (apic_id << leaf1_ebx_apic_id_shift);
            return out;
        case cpuid_leaf::extended_features:
            if (subleaf == 0) {
                out.ebx &= ~leaf7_ebx_avx_family;
                out.ecx &= ~leaf7_ecx_avx512_family;
                out.edx &= ~leaf7_edx_avx512_family;
            }
            return out;
        case cpuid_leaf::xsave:
            if (subleaf == 0) {
                // EBX/ECX: the area's size for the enabled / all offered components.
                return CpuidResult{static_cast<std::uint32_t>(host.eax & guest_xcr0_supported), guest_xsave_area_bytes,
                                   guest_xsave_area_bytes, 0};
            }
            if (subleaf == 1) {
                out.eax &= ~leaf_d1_eax_xsaves;
                out.ebx = out.ecx = out.edx = 0;
                return out;
            }
            return CpuidResult{};
        case cpuid_leaf::ext_features: out.ecx &= ~(ext1_ecx_svm | ext1_ecx_skinit); return out;
        case cpuid_leaf::svm_features: return CpuidResult{};
        case cpuid_leaf::hypervisor_base: return hypervisor_leaf;
        default: break;
    }
    if (leaf > cpuid_leaf::hypervisor_base && leaf <= cpuid_leaf::hypervisor_last) return CpuidResult{};
    return out;
}

// --- XSETBV ------------------------------------------------------------------------

// Whether XSETBV(index, value) is legal for a CPU whose XCR0 may have the
// bits `supported` (CPUID.(EAX=0DH,ECX=0):EDX:EAX). XSETBV raises #GP(0)
// otherwise: only XCR0 is writable; x87 must stay on; AVX needs SSE; the
// three AVX-512 components go together and need AVX; MPX's two and AMX's
// two go together; nothing the CPU does not support.
[[nodiscard]] constexpr bool xsetbv_valid(std::uint32_t index, std::uint64_t value, std::uint64_t supported) noexcept {
    if (index != 0) return false;
    if ((value & ~supported) != 0) return false;
    if ((value & xcr0::x87) == 0) return false;
    if ((value & xcr0::avx) != 0 && (value & xcr0::sse) == 0) return false;
    const std::uint64_t avx512 = value & xcr0::avx512;
    if (avx512 != 0 && (avx512 != xcr0::avx512 || (value & xcr0::avx) == 0)) return false;
    if ((value & xcr0::mpx) != 0 && (value & xcr0::mpx) != xcr0::mpx) return false;
    if ((value & xcr0::amx) != 0 && (value & xcr0::amx) != xcr0::amx) return false;
    return true;
}

// What the guest's XSETBV does (Intel SDM vol. 2D, XSETBV): #UD without
// the guest's CR4.OSXSAVE (or when the host cannot switch XCR0 for it),
// #GP(0) from CPL > 0 or for a value xsetbv_valid refuses with the host's
// `supported` components limited to guest_xcr0_supported, else XCR0 =
// value.
enum class XsetbvAction : std::uint8_t { Accept, RaiseUd, RaiseGp };

[[nodiscard]] constexpr XsetbvAction xsetbv_action(bool guest_osxsave, bool host_xsave, unsigned cpl,
                                                   std::uint32_t index, std::uint64_t value,
                                                   std::uint64_t supported) noexcept {
    if (!guest_osxsave || !host_xsave) return XsetbvAction::RaiseUd;
    if (cpl != 0 || !xsetbv_valid(index, value, supported & guest_xcr0_supported)) return XsetbvAction::RaiseGp;
    return XsetbvAction::Accept;
}

// EFER as a guest's WRMSR leaves it, or nothing when the CPU raises
// #GP(0) instead: a bit outside SCE, LME, LMA and NXE (SVME included:
// nested virtualization is not offered), or LME changed while paging is on
// (AMD APM vol. 2, 14.6.1; Intel SDM vol. 4, IA32_EFER, and WRMSR in vol.
// 2D). LMA is the CPU's own (set when paging turns on with LME): the
// written bit is ignored and the current one kept. `paging`: the guest's
// CR0.PG. The SVM policy adds SVME, which VMRUN requires of every guest.
inline constexpr std::uint64_t guest_efer_writable =
    msr::efer::sce | msr::efer::lme | msr::efer::lma | msr::efer::nxe;

[[nodiscard]] constexpr std::optional<std::uint64_t> guest_efer_write(std::uint64_t current, std::uint64_t value,
                                                                    bool paging) noexcept {
    if ((value & ~guest_efer_writable) != 0) return std::nullopt;
    if (paging && ((value ^ current) & msr::efer::lme) != 0) return std::nullopt;
    return (value & ~msr::efer::lma) | (current & msr::efer::lma);
}

// Exception vectors the policy raises in the guest.
namespace vector {
inline constexpr std::uint8_t ud = 6;   // invalid opcode
inline constexpr std::uint8_t gp = 13;  // general protection (error code 0 here)
}  // namespace vector

// Whether a guest's WRMSR to IA32_PAT is legal: each of the eight entries
// must name a memory type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-), else #GP.
[[nodiscard]] constexpr bool pat_valid(std::uint64_t pat) noexcept {
    for (unsigned i = 0; i < 8; ++i) {
        const std::uint64_t type = (pat >> (8 * i)) & 0xFF;
        if (type == 2 || type == 3 || type > 7) return false;
    }
    return true;
}

// Which back end a CPU offers, from its CPUID: leaf 1 ECX[5] (VMX) and
// leaf 8000_0001 ECX[2] (SVM); vendors report one or the other. Firmware
// may still have disabled it (VM_CR.SVMDIS, IA32_FEATURE_CONTROL): the
// PerCpu's hardware_enable says so.
enum class Backend : std::uint8_t { None, Svm, Vmx };

[[nodiscard]] constexpr Backend backend_of(CpuidResult leaf1, CpuidResult ext_leaf1) noexcept {
    if ((ext_leaf1.ecx & cpuid_bits::ext1_ecx_svm) != 0) return Backend::Svm;
    if ((leaf1.ecx & cpuid_bits::leaf1_ecx_vmx) != 0) return Backend::Vmx;
    return Backend::None;
}

}  // namespace axvcpu::x86_64
