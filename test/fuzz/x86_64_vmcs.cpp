// libFuzzer harness: the VMX back end's set-up from a CPU's capability MSRs
// and its emulation of the guest's control-register writes
// (arch/x86_64/vmcs.hpp). Invariants, against rules written here or in
// test/x86_64/vm_entry_checks.hpp, not taken from the header:
//   - plan_controls: a plan that is ok has every required control, none the
//     policy refuses, unrestricted guest for a Protected32 entry, and usable
//     EPT/VPID capabilities; a refused plan names the first control set
//     (pin-based, primary, secondary, exit, entry, then EPT/VPID) that
//     cannot have what the policy requires.
//   - setup_plan of an ok plan, for either entry mode at any entry point
//     and page-table root a VMM can give, passes the SDM's VM-entry checks
//     on controls and guest state (vm_entry_checks.hpp) for capability
//     MSRs of the shape real CPUs report (fuzzed_caps below).
//   - emulate_cr0_write / emulate_cr4_write: #GP exactly by the MOV CR
//     rules the policy models (vol. 2B, MOV to CR0/CR4; vol. 3A 2.5: bits
//     63:32, PG without PE, NW without CD, PG with LME but no PAE, PG
//     cleared in 64-bit code, bits CR4 FIXED1 forbids, PAE cleared in long
//     mode; not CR4.PCIDE's rules, which the policy leaves to the CPU, CR4
//     not being owned there); otherwise the
//     guest's value kept, EFER.LMA = CR0.PG and EFER.LME, "IA-32e mode
//     guest" with it, the real register within the fixed bits, and PDPTEs
//     to load exactly when PAE paging outside long mode starts or changes.
#include <arch/x86_64/entry_state.hpp>
#include <arch/x86_64/stage2.hpp>
#include <arch/x86_64/vmcs.hpp>

#include "../x86_64/vm_entry_checks.hpp"
#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::x86_64;

namespace {

// Capability MSRs of a Skylake-class core (test/x86_64/vmx_setup_test.cpp),
// the base the fuzzer flips bits of.
constexpr vmcs::Capabilities base_caps{0x00DA'0400'0000'0004, 0x0000'007F'0000'0016, 0xFFF9'FFFE'0400'6172,
                                       0x0055'3CFE'0000'0000, 0x01FF'FFFF'0003'6DFB, 0x0003'FFFF'0000'11FB,
                                       0x8000'0021,           0xFFFF'FFFF,           0x2000,
                                       0x0037'67FF,           0x0000'0F01'0673'4141};

// A CPU the fuzzer makes up: which controls and EPT/VPID features it
// allows (each allowed-1 half from the base with bits flipped, or random),
// with the base's default-1 controls as its must-be-one bits where it
// allows them (or, for the primary controls, the non-TRUE MSR's, with CR3
// exiting forced on), and fixed bits as real CPUs report them: CR0's FIXED0
// among PE, NE, PG and FIXED1 all ones; CR4's FIXED0 VMXE or nothing and
// FIXED1 allowing at least the bits the entry states use.
vmcs::Capabilities fuzzed_caps(fuzz::Bytes& in) {
    vmcs::Capabilities c = base_caps;
    const std::uint8_t pick = in.u8();
    std::uint64_t* controls[] = {&c.pin_based, &c.primary, &c.secondary, &c.exit, &c.entry};
    for (std::uint64_t* cap : controls) {
        const std::uint64_t may = (pick & 1) != 0 ? in.u32() : (*cap >> 32) ^ (in.u32() & in.u32());
        std::uint64_t must = *cap & 0xFFFF'FFFF;
        if (cap == &c.primary && (pick & 0x10) != 0) must = 0x0401'E172;
        *cap = (may << 32) | (must & may);
    }
    c.ept_vpid = (pick & 1) != 0 ? in.u64() : c.ept_vpid ^ (in.u64() & in.u64());
    c.cr0_fixed0 = (pick & 2) != 0 ? (cr0::pe | cr0::ne | cr0::pg) : (in.u8() & (cr0::pe | cr0::ne | cr0::pg));
    c.cr0_fixed1 = 0xFFFF'FFFF;
    c.cr4_fixed0 = (pick & 4) != 0 ? cr4::vmxe : 0;
    constexpr std::uint64_t cr4_used = cr4::pae | cr4::osfxsr | cr4::osxmmexcpt | cr4::vmxe;
    c.cr4_fixed1 = (in.u32() & 0x00FF'FFFF) | cr4_used | c.cr4_fixed0;
    return c;
}

bool can_set(std::uint64_t cap, std::uint32_t bits) { return (bits & ~static_cast<std::uint32_t>(cap >> 32)) == 0; }

void check_plan(fuzz::Bytes& in) {
    using namespace vmcs;
    const Capabilities caps = fuzzed_caps(in);
    const EntryMode mode = (in.u8() & 1) != 0 ? EntryMode::Protected32 : EntryMode::Long64;
    const ControlPlan plan = plan_controls(caps, mode);

    const std::uint32_t secondary_needed =
        required_secondary | (mode == EntryMode::Protected32 ? secondary::unrestricted_guest : 0u);
    const std::uint32_t entry_needed = required_entry | (mode == EntryMode::Long64 ? entry_ctl::ia32e_mode_guest : 0u);
    SetupError expected = SetupError::None;
    if (!can_set(caps.pin_based, required_pin_based)) {
        expected = SetupError::PinBased;
    } else if (!can_set(caps.primary, required_primary) ||
               (static_cast<std::uint32_t>(caps.primary) & refused_primary) != 0) {
        expected = SetupError::PrimaryProcessor;
    } else if (!can_set(caps.secondary, secondary_needed)) {
        expected = SetupError::SecondaryProcessor;
    } else if (!can_set(caps.exit, required_exit)) {
        expected = SetupError::Exit;
    } else if (!can_set(caps.entry, entry_needed)) {
        expected = SetupError::Entry;
    } else {
        using namespace ept_vpid_cap;
        const std::uint64_t e = caps.ept_vpid;
        const bool usable = (e & walk_length_4) && (e & memory_type_wb) && (e & pages_2m) && (e & invept) &&
                            (e & invvpid) && (e & (invept_single_context | invept_all_contexts)) &&
                            (e & (invvpid_single_context | invvpid_all_contexts));
        if (!usable) expected = SetupError::EptVpid;
    }
    FUZZ_CHECK(plan.error == expected);
    if (!plan.ok()) return;
    FUZZ_CHECK((plan.pin_based & required_pin_based) == required_pin_based);
    FUZZ_CHECK((plan.primary & required_primary) == required_primary && (plan.primary & refused_primary) == 0);
    FUZZ_CHECK((plan.secondary & secondary_needed) == secondary_needed);
    FUZZ_CHECK((plan.exit & required_exit) == required_exit && (plan.entry & entry_needed) == entry_needed);
    // Optional secondary controls exactly where the CPU allows them.
    FUZZ_CHECK((plan.secondary & optional_secondary) == (optional_secondary & (caps.secondary >> 32)));

    // The VMCS: an entry point and a root a VMM could give for this mode.
    const std::uint64_t entry = mode == EntryMode::Long64 ? in.u32() : in.u32() & 0x7FFF'FFFF;
    const std::uint64_t cr3 = (in.u32() & 0xFFFF'F000);
    const VCpuPages pages{0x10'0000, 0x10'1000, 0x10'1800, x86_64::stage2::ept::pointer(in.u32() & 0xFFFF'F000),
                          static_cast<std::uint16_t>(in.u16() | 1)};
    const auto writes = setup_plan(caps, plan, entry_state(mode, entry, cr3), pages);
    FUZZ_CHECK(writes.size() < setup_writes);
    vm_entry_checks::Vmcs v;
    for (const FieldWrite& w : writes) v.writes.push_back(w);
    FUZZ_CHECK(vm_entry_checks::entry_check_failures(caps, v).empty());
}

void check_cr_write(fuzz::Bytes& in) {
    using namespace vmcs;
    const Capabilities caps = fuzzed_caps(in);
    const std::uint8_t pick = in.u8();
    const bool unrestricted = (pick & 1) != 0;
    CrContext g;
    g.cr0 = in.u32();
    g.cr4 = in.u32();
    g.efer = in.u16() & (msr::efer::sce | msr::efer::lme | msr::efer::lma | msr::efer::nxe);
    g.cs_l = (pick & 2) != 0;
    const bool cr4_write = (pick & 4) != 0;
    const std::uint64_t value = (pick & 8) != 0 ? in.u64() : in.u32();
    const bool pg = (value & cr0::pg) != 0, pe = (value & cr0::pe) != 0;
    const bool lme = (g.efer & msr::efer::lme) != 0, lma = (g.efer & msr::efer::lma) != 0;
    const bool was_pg = (g.cr0 & cr0::pg) != 0;
    if (!cr4_write) {
        const CrWrite w = emulate_cr0_write(g, value, unrestricted);
        const bool gp = (value >> 32) != 0 || (pg && !pe) || ((value & cr0::nw) != 0 && (value & cr0::cd) == 0) ||
                        (pg && !was_pg && lme && (g.cr4 & cr4::pae) == 0) || (!pg && was_pg && lma && g.cs_l) ||
                        (!unrestricted && !(pg && pe));
        FUZZ_CHECK(w.fault == gp);
        if (w.fault) return;
        FUZZ_CHECK(w.value == value);
        FUZZ_CHECK(w.long_mode == (pg && lme));
        FUZZ_CHECK(((w.efer & msr::efer::lma) != 0) == (pg && lme));
        FUZZ_CHECK((w.efer & ~msr::efer::lma) == (g.efer & ~msr::efer::lma));
        FUZZ_CHECK(w.load_pdptes == (pg && !was_pg && !lme && (g.cr4 & cr4::pae) != 0));
        const std::uint64_t real = real_cr0(caps, unrestricted, value);
        const std::uint64_t fixed0 = caps.cr0_fixed0 & ~(unrestricted ? cr0::pe | cr0::pg : 0);
        FUZZ_CHECK((real & fixed0) == fixed0 && (real & ~caps.cr0_fixed1) == 0);
        // What the guest owns of CR0 is its own value.
        FUZZ_CHECK((real & ~cr0_owned(caps)) == (value & ~cr0_owned(caps)));
    } else {
        const CrWrite w = emulate_cr4_write(g, value, caps);
        const std::uint64_t allowed = caps.cr4_fixed1 & 0xFFFF'FFFF & ~cr4::vmxe;
        const bool gp = (value & ~allowed) != 0 || (lma && (value & cr4::pae) == 0);
        FUZZ_CHECK(w.fault == gp);
        if (w.fault) return;
        FUZZ_CHECK(w.value == value && w.efer == g.efer && w.long_mode == lma);
        FUZZ_CHECK(w.load_pdptes ==
                   (!lma && was_pg && (value & cr4::pae) != 0 && ((value ^ g.cr4) & (cr4::pae | cr4::pse)) != 0));
        const std::uint64_t real = real_cr4(caps, value);
        FUZZ_CHECK((real & caps.cr4_fixed0) == caps.cr4_fixed0 && (real & ~caps.cr4_fixed1) == 0);
        FUZZ_CHECK((real & ~cr4_owned(caps)) == (value & ~cr4_owned(caps)));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    while (!in.empty()) {
        if ((in.u8() & 1) == 0) {
            check_plan(in);
        } else {
            check_cr_write(in);
        }
    }
    return 0;
}
