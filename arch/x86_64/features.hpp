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
inline constexpr unsigned leaf1_ebx_apic_id_shift = 24;
// Leaf 8000_0001 (AMD APM vol. 3, appendix E.4.2).
inline constexpr std::uint32_t ext1_ecx_svm = 1u << 2;
inline constexpr std::uint32_t ext1_ecx_skinit = 1u << 12;  // SKINIT and STGI, with or without EFER.SVME
}  // namespace cpuid_bits

namespace cpuid_leaf {
inline constexpr std::uint32_t features = 0x1;
inline constexpr std::uint32_t xsave = 0xD;
inline constexpr std::uint32_t hypervisor_base = 0x4000'0000;  // .. 0x4FFF_FFFF: the hypervisor range
inline constexpr std::uint32_t hypervisor_last = 0x4FFF'FFFF;
inline constexpr std::uint32_t ext_features = 0x8000'0001;
inline constexpr std::uint32_t svm_features = 0x8000'000A;
}  // namespace cpuid_leaf

// 0x4000_0000's EBX, ECX, EDX: "AxVisor vCPU".
inline constexpr CpuidResult hypervisor_leaf{cpuid_leaf::hypervisor_base, 0x6956'7841, 0x2072'6F73, 0x5550'4376};

// What the guest's CPUID at `leaf` returns, given what the host's returned:
// the host's values except that the guest
//   - is told it runs on a hypervisor (leaf 1 ECX[31], leaf 0x4000_0000),
//   - sees no VMX or SVM (nested virtualization is not offered; the SVM
//     instructions raise #UD, so SKINIT/STGI's own bit is clear too) and
//     no MONITOR/MWAIT (they raise #UD),
//   - sees its own CR4.OSXSAVE (the host's CPUID reflects the host's CR4),
//   - has `apic_id` (its vCPU id) as its initial APIC id.
[[nodiscard]] constexpr CpuidResult guest_cpuid(std::uint32_t leaf, CpuidResult host, std::uint32_t apic_id,
                                                bool guest_osxsave) noexcept {
    using namespace cpuid_bits;
    CpuidResult out = host;
    switch (leaf) {
        case cpuid_leaf::features:
            out.ecx &= ~(leaf1_ecx_vmx | leaf1_ecx_monitor | leaf1_ecx_osxsave);
            out.ecx |= leaf1_ecx_hypervisor;
            if (guest_osxsave && (host.ecx & leaf1_ecx_xsave) != 0) out.ecx |= leaf1_ecx_osxsave;
            out.ebx = (out.ebx & 0x00FF'FFFF) | (apic_id << leaf1_ebx_apic_id_shift);
            return out;
        case cpuid_leaf::ext_features: out.ecx &= ~(ext1_ecx_svm | ext1_ecx_skinit); return out;
        case cpuid_leaf::svm_features: return CpuidResult{};
        case cpuid_leaf::hypervisor_base: return hypervisor_leaf;
        default: break;
    }
    if (leaf > cpuid_leaf::hypervisor_base && leaf <= cpuid_leaf::hypervisor_last) return CpuidResult{};
    return out;
}

// --- XCR0 (Intel SDM vol. 1, 13.3; XSETBV in vol. 2D) ----------------------------
namespace xcr0 {
inline constexpr std::uint64_t x87 = 1u << 0, sse = 1u << 1, avx = 1u << 2;
inline constexpr std::uint64_t bndreg = 1u << 3, bndcsr = 1u << 4;
inline constexpr std::uint64_t opmask = 1u << 5, zmm_hi256 = 1u << 6, hi16_zmm = 1u << 7;
inline constexpr std::uint64_t avx512 = opmask | zmm_hi256 | hi16_zmm;
inline constexpr std::uint64_t mpx = bndreg | bndcsr;
inline constexpr std::uint64_t tilecfg = std::uint64_t{1} << 17, tiledata = std::uint64_t{1} << 18;
inline constexpr std::uint64_t amx = tilecfg | tiledata;
}  // namespace xcr0

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

// EFER as a guest's WRMSR leaves it (the policy keeps the VMCB's copy), or
// nothing when the CPU raises #GP(0) instead: a bit outside SCE, LME, LMA
// and NXE (SVME included: nested virtualization is not offered), or LME
// changed while paging is on (AMD APM vol. 2, 14.6.1; Intel SDM vol. 4,
// IA32_EFER, and WRMSR in vol. 2D). LMA is the CPU's own (set when paging
// turns on with LME): the written bit is ignored. SVME stays set in the
// result: VMRUN requires it of every guest. `paging`: the guest's CR0.PG.
[[nodiscard]] constexpr std::optional<std::uint64_t> guest_efer_write(std::uint64_t current, std::uint64_t value,
                                                                    bool paging) noexcept {
    constexpr std::uint64_t writable = msr::efer::sce | msr::efer::lme | msr::efer::lma | msr::efer::nxe;
    if ((value & ~writable) != 0) return std::nullopt;
    if (paging && ((value ^ current) & msr::efer::lme) != 0) return std::nullopt;
    return (value & ~msr::efer::lma) | (current & msr::efer::lma) | msr::efer::svme;
}

}  // namespace axvcpu::x86_64
