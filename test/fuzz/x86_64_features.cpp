// libFuzzer harness: what an x86 guest sees of the CPU and how its events
// are planned: guest_cpuid, xsetbv_valid, pat_valid and guest_efer_write
// (arch/x86_64/features.hpp) and plan_entry (arch/x86_64/interrupts.hpp).
// Each answer is compared with rules written here from the manuals, not
// from the header:
//   - CPUID: the guest never sees VMX (leaf 1 ECX[5]), SVM or SKINIT/STGI
//     (8000_0001 ECX[2], [12]), SVM's leaf (8000_000A: zeros) or MONITOR
//     (leaf 1 ECX[3]); leaf 1 always has the hypervisor bit (ECX[31]), the
//     vCPU's APIC id in EBX[31:24] and OSXSAVE only as the guest's CR4 and
//     the host's XSAVE allow; no AVX, FMA or F16C (leaf 1 ECX[28], [12],
//     [29]), no AVX2, AVX-512 or AMX in leaf 7 subleaf 0, leaf 0xD only
//     x87 and SSE (subleaf 0: their 576-byte area; subleaf 1 without
//     XSAVES; no component subleaves); 4000_0000 is the "AxVisor vCPU"
//     leaf and the rest of 4000_0000..4FFF_FFFF reads as zeros; every
//     other bit is the host's.
//   - XSETBV (SDM vol. 1 13.3, vol. 2D XSETBV): #GP unless ECX = 0, every
//     bit supported, x87 set, AVX only with SSE, AVX-512's three bits all
//     or none and only with AVX and SSE, MPX's two and AMX's two all or
//     none.
//   - PAT (SDM vol. 3A 13.12.2): each byte one of 0, 1, 4, 5, 6, 7.
//   - EFER (APM vol. 2 3.1.7, 14.6.1): #GP for bits other than SCE, LME,
//     LMA, NXE, and for LME changed under paging; LMA stays the CPU's.
//   - plan_entry: an interrupted event goes again first; otherwise the
//     oldest queued vector only when the guest can take it (IF set, no
//     shadow); the window is asked for exactly when a vector will still be
//     waiting after this entry.
#include <arch/x86_64/features.hpp>
#include <arch/x86_64/interrupts.hpp>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::x86_64;

namespace {

std::uint32_t bit(unsigned n) { return std::uint32_t{1} << n; }

void check_cpuid(fuzz::Bytes& in) {
    const std::uint8_t pick = in.u8();
    std::uint32_t leaf = in.u32();
    // Mostly the leaves with rules, else anything.
    constexpr std::uint32_t special[] = {1, 0x8000'0001, 0x8000'000A, 0x4000'0000, 0x4000'0001, 0x4FFF'FFFF,
                                         0x5000'0000, 0x3FFF'FFFF, 0xD, 0, 7, 0xD};
    if (pick % 4 != 0) leaf = special[pick % 12];
    const std::uint32_t subleaf = (pick & 0x40) != 0 ? in.u32() : in.u8() % 4;
    const CpuidResult host{in.u32(), in.u32(), in.u32(), in.u32()};
    const std::uint32_t apic = in.u8() % 2 == 0 ? in.u8() : in.u32();
    const bool osxsave = (pick & 0x80) != 0;
    const CpuidResult got = guest_cpuid(leaf, subleaf, host, apic, osxsave);
    CpuidResult want = host;
    if (leaf == 1) {
        want.ecx = (host.ecx & ~(bit(3) | bit(5) | bit(12) | bit(27) | bit(28) | bit(29))) | bit(31) |
                   (osxsave && (host.ecx & bit(26)) != 0 ? bit(27) : 0);
        want.ebx = (host.ebx & 0x00FF'FFFF) | (apic << 24);
        FUZZ_CHECK((got.ecx & bit(5)) == 0 && (got.ecx & bit(31)) != 0);
    } else if (leaf == 0x8000'0001) {
        want.ecx = host.ecx & ~(bit(2) | bit(12));
        FUZZ_CHECK((got.ecx & (bit(2) | bit(12))) == 0);
    } else if (leaf == 7 && subleaf == 0) {
        want.ebx &= ~(bit(5) | bit(16) | bit(17) | bit(21) | bit(26) | bit(27) | bit(28) | bit(30) | bit(31));
        want.ecx &= ~(bit(1) | bit(6) | bit(9) | bit(10) | bit(11) | bit(12) | bit(14));
        want.edx &= ~(bit(2) | bit(3) | bit(8) | bit(22) | bit(23) | bit(24) | bit(25));
    } else if (leaf == 0xD) {
        if (subleaf == 0) want = CpuidResult{host.eax & 3, 576, 576, 0};
        else if (subleaf == 1) want = CpuidResult{host.eax & ~bit(3), 0, 0, 0};
        else want = CpuidResult{};
    } else if (leaf == 0x8000'000A) {
        want = CpuidResult{};
    } else if (leaf == 0x4000'0000) {
        // "AxVisor vCPU" in EBX, ECX, EDX; EAX: the largest hypervisor leaf.
        want = CpuidResult{0x4000'0000, 'A' | 'x' << 8 | 'V' << 16 | 'i' << 24, 's' | 'o' << 8 | 'r' << 16 | ' ' << 24,
                           'v' | 'C' << 8 | 'P' << 16 | 'U' << 24};
    } else if (leaf >= 0x4000'0000 && leaf <= 0x4FFF'FFFF) {
        want = CpuidResult{};
    }
    FUZZ_CHECK(got == want);
}

bool xsetbv_reference(std::uint32_t index, std::uint64_t value, std::uint64_t supported) {
    const auto field = [&](unsigned lo, unsigned hi) { return (value >> lo) & ((std::uint64_t{1} << (hi - lo + 1)) - 1); };
    if (index != 0) return false;
    if ((value & ~supported) != 0) return false;                     // reserved for this CPU
    if (field(0, 0) != 1) return false;                              // x87 may not be cleared
    if (field(1, 2) == 0b10) return false;                           // AVX without SSE
    if (field(5, 7) != 0 && field(5, 7) != 0b111) return false;      // AVX-512: all three or none
    if (field(5, 7) == 0b111 && field(1, 2) != 0b11) return false;   // ... and with AVX and SSE
    if (field(3, 3) != field(4, 4)) return false;                    // MPX: BNDREGS with BNDCSR
    if (field(17, 17) != field(18, 18)) return false;                // AMX: TILECFG with TILEDATA
    return true;
}

void check_xsetbv(fuzz::Bytes& in) {
    const std::uint8_t pick = in.u8();
    const std::uint32_t index = pick % 8 == 0 ? in.u32() : 0;
    // Supported sets as CPUs have them, or anything.
    constexpr std::uint64_t cpus[] = {0x3, 0x7, 0x1F, 0xE7, 0x602E7, 0x2FF, ~std::uint64_t{0}};
    const std::uint64_t supported = pick % 9 == 8 ? in.u64() : cpus[(pick >> 3) % 7];
    const std::uint64_t value = pick >= 0xC0 ? in.u64() : in.u32() & 0x7'FFFF;
    FUZZ_CHECK(xsetbv_valid(index, value, supported) == xsetbv_reference(index, value, supported));
}

void check_pat(fuzz::Bytes& in) {
    const std::uint64_t pat = in.u64();
    bool ok = true;
    for (unsigned i = 0; i < 8; ++i) {
        const std::uint64_t type = (pat >> (8 * i)) & 0xFF;
        ok = ok && (type == 0 || type == 1 || type == 4 || type == 5 || type == 6 || type == 7);
    }
    FUZZ_CHECK(pat_valid(pat) == ok);
}

void check_efer(fuzz::Bytes& in) {
    constexpr std::uint64_t sce = 1, lme = 1u << 8, lma = 1u << 10, nxe = 1u << 11, svme = 1u << 12;
    const std::uint8_t pick = in.u8();
    // The guest's EFER: LMA only with LME (SVME, which the SVM policy adds to
    // its VMCB copy, is not the guest's).
    std::uint64_t current = (pick & 1 ? sce : 0) | (pick & 2 ? nxe : 0) | (pick & 4 ? lme : 0);
    if ((pick & 12) == 12) current |= lma;
    const bool paging = (pick & 0x10) != 0;
    const std::uint64_t value = pick >= 0xE0 ? in.u64() : in.u16() & 0x1FFF;
    const std::optional<std::uint64_t> got = guest_efer_write(current, value, paging);
    const bool refused = (value & ~(sce | lme | lma | nxe)) != 0 || (paging && (value & lme) != (current & lme));
    FUZZ_CHECK(got.has_value() == !refused);
    if (!got) return;
    FUZZ_CHECK((*got & svme) == 0);
    FUZZ_CHECK((*got & lma) == (current & lma));
    FUZZ_CHECK((*got & (sce | lme | nxe)) == (value & (sce | lme | nxe)));
    FUZZ_CHECK((*got & ~(sce | lme | lma | nxe | svme)) == 0);
}

void check_plan(fuzz::Bytes& in) {
    const std::uint8_t pick = in.u8();
    const bool reinject = (pick & 1) != 0;
    const usize queued = (pick & 2) != 0 ? in.u8() % 40 : 0;
    const std::optional<usize> next = queued != 0 ? std::optional<usize>(32 + in.u8() % 224) : std::nullopt;
    const auto tpr = static_cast<std::uint8_t>((pick & 0x10) != 0 ? in.u8() % 16 : 0);
    const Interruptibility guest{(pick & 4) != 0, (pick & 8) != 0, tpr};
    const EntryPlan plan = plan_entry(reinject, next, queued, guest);
    const bool open = guest.interrupts_enabled && !guest.shadow;
    if (reinject) {
        FUZZ_CHECK(plan.source == EntryPlan::Source::Reinjected);
        FUZZ_CHECK(plan.request_window == (queued != 0) && plan.blocked_priority == 0);
        return;
    }
    // A vector whose priority class (bits 7:4) is at or below the TPR waits,
    // with no window, its class reported.
    const bool tpr_masked = queued != 0 && (*next >> 4) <= tpr;
    if (queued != 0 && open && !tpr_masked) {
        FUZZ_CHECK(plan.source == EntryPlan::Source::Queued && plan.vector == *next);
        FUZZ_CHECK(plan.request_window == (queued > 1) && plan.blocked_priority == 0);
        return;
    }
    FUZZ_CHECK(plan.source == EntryPlan::Source::None);  // never into a guest that cannot take it
    if (queued != 0 && open) {
        FUZZ_CHECK(!plan.request_window && plan.blocked_priority == (*next >> 4));
        return;
    }
    FUZZ_CHECK(plan.request_window == (queued != 0) && plan.blocked_priority == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    // A sequence of checks, each chosen by a byte: every input covers several.
    while (!in.empty()) {
        switch (in.u8() % 5) {
            case 0: check_cpuid(in); break;
            case 1: check_xsetbv(in); break;
            case 2: check_pat(in); break;
            case 3: check_efer(in); break;
            default: check_plan(in); break;
        }
    }
    return 0;
}
