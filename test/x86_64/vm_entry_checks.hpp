// An independent transcription of the SDM's VM-entry checks (vol. 3C,
// 27.2.1 "Checks on VMX Controls" and 27.3.1 "Checks on the Guest State
// Area", 2023 edition), written from the manual and not from the library's
// code, for the host test (test/x86_64/vmx_setup_test.cpp) and the fuzz
// harness (test/fuzz/x86_64_vmcs.cpp) to hold the VMCS plans of vmcs.hpp
// to. Each failed check names its rule; no failures is a VMCS the CPU would
// enter.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/x86_64/vmcs.hpp"
#include "../fuzz/reference.hpp"

namespace vm_entry_checks {

using namespace axvcpu::x86_64;

// The last value written to each field, in an open-addressed table: the
// fuzz harness checks every plan it accepts, so the checks' hundred-odd
// reads must not each scan the write list (and the table is all this
// header's code, outside the fuzzer's instrumentation).
class Fields {
public:
    FUZZ_REFERENCE explicit Fields(const std::vector<vmcs::FieldWrite>& writes) {
        for (const auto& w : writes) {
            Slot& slot = *find(w.field);
            slot = Slot{w.field, w.value, true};
        }
    }
    FUZZ_REFERENCE bool has(std::uint32_t field) const { return find(field)->used; }
    FUZZ_REFERENCE std::uint64_t get(std::uint32_t field) const { return find(field)->value; }

private:
    struct Slot {
        std::uint32_t field = 0;
        std::uint64_t value = 0;
        bool used = false;
    };
    // Far more slots than a VMCS has fields, so a probe always ends.
    static constexpr std::size_t slots = 512;
    FUZZ_REFERENCE const Slot* find(std::uint32_t field) const {
        std::size_t i = (field * 2654435761u) % slots;
        while (table_[i].used && table_[i].field != field) i = (i + 1) % slots;
        return &table_[i];
    }
    FUZZ_REFERENCE Slot* find(std::uint32_t field) {
        return const_cast<Slot*>(static_cast<const Fields*>(this)->find(field));
    }
    std::array<Slot, slots> table_{};
};

// The fields a plan wrote, the last write of each winning.
struct Vmcs {
    std::vector<vmcs::FieldWrite> writes;
    std::uint64_t get(std::uint32_t field) const { return Fields(writes).get(field); }
    bool has(std::uint32_t field) const { return Fields(writes).has(field); }
};

FUZZ_REFERENCE inline bool canonical(std::uint64_t a) {
    const auto high = static_cast<std::int64_t>(a) >> 47;
    return high == 0 || high == -1;
}

FUZZ_REFERENCE inline bool allowed(std::uint64_t cap, std::uint32_t value) {
    const auto must = static_cast<std::uint32_t>(cap);
    const auto may = static_cast<std::uint32_t>(cap >> 32);
    return (value & must) == must && (value & ~may) == 0;
}

FUZZ_REFERENCE inline std::vector<std::string> entry_check_failures(const vmcs::Capabilities& caps, const Vmcs& written) {
    using namespace vmcs::field;
    const Fields v(written.writes);
    std::vector<std::string> failed;
    const auto expect = [&](bool ok, const char* rule) FUZZ_REFERENCE {
        if (!ok) failed.emplace_back(rule);
    };
    // A field the checks read must have been written: VMCLEAR does not
    // initialize them (this checker's 0 for an unwritten field is no proof).
    for (const std::uint32_t field :
         {pin_based_controls, primary_processor_controls, secondary_processor_controls, exit_controls, entry_controls,
          exception_bitmap, cr3_target_count, msr_bitmap, ept_pointer, vpid, entry_interruption_info,
          cr0_guest_host_mask, cr4_guest_host_mask, cr0_read_shadow, cr4_read_shadow, guest_cr0, guest_cr3, guest_cr4,
          guest_dr7, guest_rsp, guest_rip, guest_rflags, guest_ia32_efer, guest_ia32_pat, guest_ia32_debugctl,
          guest_ia32_sysenter_cs, guest_ia32_sysenter_esp, guest_ia32_sysenter_eip, guest_gdtr_base, guest_gdtr_limit,
          guest_idtr_base, guest_idtr_limit, guest_activity_state, guest_interruptibility_state,
          guest_pending_debug_exceptions, vmcs_link_pointer, exit_msr_store_count, exit_msr_load_count,
          entry_msr_load_count})
        expect(v.has(field), "every checked field written");
    // 27.2.1: VM-execution, exit and entry controls.
    const auto pin = static_cast<std::uint32_t>(v.get(pin_based_controls));
    const auto prim = static_cast<std::uint32_t>(v.get(primary_processor_controls));
    const auto sec = static_cast<std::uint32_t>(v.get(secondary_processor_controls));
    const auto exit = static_cast<std::uint32_t>(v.get(exit_controls));
    const auto entry = static_cast<std::uint32_t>(v.get(entry_controls));
    expect(allowed(caps.pin_based, pin), "pin-based controls within IA32_VMX_TRUE_PINBASED_CTLS");
    expect(allowed(caps.primary, prim), "primary controls within IA32_VMX_TRUE_PROCBASED_CTLS");
    const bool secondary_on = (prim & (1u << 31)) != 0;
    if (secondary_on) expect(allowed(caps.secondary, sec), "secondary controls within IA32_VMX_PROCBASED_CTLS2");
    expect(allowed(caps.exit, exit), "exit controls within IA32_VMX_TRUE_EXIT_CTLS");
    expect(allowed(caps.entry, entry), "entry controls within IA32_VMX_TRUE_ENTRY_CTLS");
    expect(v.get(cr3_target_count) <= 4, "CR3-target count at most 4");
    if ((prim & (1u << 28)) != 0) expect((v.get(msr_bitmap) & 0xFFF) == 0, "MSR bitmap 4 KiB aligned");
    const bool ept = secondary_on && (sec & (1u << 1)) != 0;
    const bool unrestricted = secondary_on && (sec & (1u << 7)) != 0;
    if (unrestricted) expect(ept, "unrestricted guest needs EPT");
    if (secondary_on && (sec & (1u << 5)) != 0) expect(v.get(vpid) != 0, "VPID not 0");
    if (ept) {
        const std::uint64_t eptp = v.get(ept_pointer);
        const std::uint64_t type = eptp & 7;
        expect((type == 0 && (caps.ept_vpid & (1u << 8)) != 0) || (type == 6 && (caps.ept_vpid & (1u << 14)) != 0),
               "EPTP memory type supported");
        expect(((eptp >> 3) & 7) == 3, "EPTP walk length 4");
        expect((eptp & 0xF80) == 0 && (eptp >> 52) == 0, "EPTP reserved bits");
        if ((eptp & (1u << 6)) != 0) expect((caps.ept_vpid & (1u << 21)) != 0, "EPT A/D flags supported");
    }
    for (const auto& [address, count] : {std::pair{exit_msr_store_address, exit_msr_store_count},
                                        std::pair{exit_msr_load_address, exit_msr_load_count},
                                        std::pair{entry_msr_load_address, entry_msr_load_count}}) {
        if (v.get(count) != 0) expect((v.get(address) & 0xF) == 0, "MSR list 16-byte aligned");
    }
    const bool ia32e = (entry & (1u << 9)) != 0;
    expect((exit & (1u << 9)) != 0, "a 64-bit host needs host address-space size");
    expect((entry & (1u << 10)) == 0, "no entry to SMM");
    const std::uint64_t info = v.get(entry_interruption_info);
    expect((info & (1u << 31)) == 0, "no event at the first entry");

    // 27.2.2: host state (the plan leaves it to bind; host_state_writes is checked below).

    // 27.3.1.1: control registers, debug registers, MSRs.
    const std::uint64_t cr0 = v.get(guest_cr0);
    const std::uint64_t cr4 = v.get(guest_cr4);
    const std::uint64_t fixed0 = caps.cr0_fixed0 & ~(unrestricted ? 0x8000'0001u : 0u);
    expect((cr0 & fixed0) == fixed0 && (cr0 & ~caps.cr0_fixed1) == 0, "guest CR0 fixed bits");
    expect(!((cr0 >> 31) & 1) || (cr0 & 1), "guest CR0.PG needs PE");
    expect((cr4 & caps.cr4_fixed0) == caps.cr4_fixed0 && (cr4 & ~caps.cr4_fixed1) == 0, "guest CR4 fixed bits");
    if (ia32e) expect((cr0 >> 31) & 1 && (cr4 & (1u << 5)) != 0, "IA-32e mode guest needs CR0.PG and CR4.PAE");
    if (!ia32e) expect((cr4 & (1u << 17)) == 0, "CR4.PCIDE only in IA-32e mode");
    expect((v.get(guest_dr7) >> 32) == 0, "DR7 bits 63:32 zero");
    if ((entry & (1u << 14)) != 0) {
        const std::uint64_t pat = v.get(guest_ia32_pat);
        for (unsigned i = 0; i < 8; ++i) {
            const std::uint64_t t = (pat >> (8 * i)) & 0xFF;
            expect(t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7, "guest PAT entries valid");
        }
    }
    if ((entry & (1u << 15)) != 0) {
        const std::uint64_t efer = v.get(guest_ia32_efer);
        expect((efer & ~std::uint64_t{0xD01}) == 0, "guest EFER reserved bits");
        expect(((efer >> 10) & 1) == (ia32e ? 1u : 0u), "EFER.LMA equals IA-32e mode guest");
        if ((cr0 >> 31) & 1) expect(((efer >> 10) & 1) == ((efer >> 8) & 1), "with paging, EFER.LMA equals LME");
    }
    // 27.3.1.2: segment registers (protected mode; not virtual-8086).
    struct Seg {
        const char* name;
        std::uint32_t sel, base, limit, ar;
    };
    const Seg segs[] = {{"CS", guest_cs_selector, guest_cs_base, guest_cs_limit, guest_cs_access_rights},
                        {"SS", guest_ss_selector, guest_ss_base, guest_ss_limit, guest_ss_access_rights},
                        {"DS", guest_ds_selector, guest_ds_base, guest_ds_limit, guest_ds_access_rights},
                        {"ES", guest_es_selector, guest_es_base, guest_es_limit, guest_es_access_rights},
                        {"FS", guest_fs_selector, guest_fs_base, guest_fs_limit, guest_fs_access_rights},
                        {"GS", guest_gs_selector, guest_gs_base, guest_gs_limit, guest_gs_access_rights},
                        {"LDTR", guest_ldtr_selector, guest_ldtr_base, guest_ldtr_limit, guest_ldtr_access_rights},
                        {"TR", guest_tr_selector, guest_tr_base, guest_tr_limit, guest_tr_access_rights}};
    for (const Seg& s : segs) {
        expect(v.has(s.sel) && v.has(s.base) && v.has(s.limit) && v.has(s.ar), "every segment field written");
        const std::uint64_t ar = v.get(s.ar);
        const std::uint64_t limit = v.get(s.limit);
        const bool usable = (ar & (1u << 16)) == 0;
        const std::string segment = s.name;
        if (segment == "CS" || segment == "TR") expect(usable, "CS and TR are usable");
        if (!usable) continue;
        expect((ar & 0xFFFE'0F00) == 0, "access-rights reserved bits");
        expect((ar & (1u << 7)) != 0, "a usable segment is present");
        const bool g = (ar & (1u << 15)) != 0;
        if ((limit & 0xFFF) != 0xFFF) expect(!g, "G clear unless limit 11:0 are all ones");
        if ((limit >> 20) != 0) expect(g, "G set if any of limit 31:20 is");
        const std::uint64_t type = ar & 0xF;
        const std::string name = s.name;
        if (name == "TR") {
            expect((v.get(s.sel) & 4) == 0, "TR.TI zero");
            expect(type == 11 || (!ia32e && type == 3), "TR type busy TSS");
            expect((ar & (1u << 4)) == 0, "TR is a system segment");
            expect(canonical(v.get(s.base)), "TR base canonical");
        } else if (name == "LDTR") {
            expect((v.get(s.sel) & 4) == 0 && type == 2 && (ar & (1u << 4)) == 0, "LDTR is an LDT");
            expect(canonical(v.get(s.base)), "LDTR base canonical");
        } else {
            expect((ar & (1u << 4)) != 0, "code/data segments have S set");
            expect((type & 1) != 0, "code/data segments accessed");
            if (name == "CS") {
                expect(type == 9 || type == 11 || type == 13 || type == 15 || (unrestricted && type == 3),
                       "CS type code (or data with unrestricted guest)");
                if (ia32e && (ar & (1u << 13)) != 0) expect((ar & (1u << 14)) == 0, "64-bit CS has D/B clear");
                if (type == 9 || type == 11)
                    expect(((ar >> 5) & 3) == ((v.get(guest_ss_access_rights) >> 5) & 3), "CS.DPL equals SS.DPL");
            } else if (name == "SS") {
                expect(type == 3 || type == 7, "SS a writable data segment");
                if (!unrestricted)
                    expect((v.get(s.sel) & 3) == (v.get(guest_cs_selector) & 3), "SS.RPL equals CS.RPL");
                expect(((ar >> 5) & 3) == (v.get(s.sel) & 3) || unrestricted, "SS.DPL equals SS.RPL");
            } else {
                if ((type & 8) != 0) expect((type & 2) != 0, "a code segment in DS..GS is readable");
                if (!unrestricted && type <= 11)
                    expect(((ar >> 5) & 3) >= (v.get(s.sel) & 3), "DS..GS: DPL at least RPL");
            }
            if (name == "FS" || name == "GS") {
                expect(canonical(v.get(s.base)), "FS/GS base canonical");
            } else {
                expect((v.get(s.base) >> 32) == 0, "CS/SS/DS/ES base 63:32 zero");
            }
        }
    }
    // 27.3.1.3: GDTR, IDTR.
    expect(canonical(v.get(guest_gdtr_base)) && canonical(v.get(guest_idtr_base)), "GDTR/IDTR bases canonical");
    expect((v.get(guest_gdtr_limit) >> 16) == 0 && (v.get(guest_idtr_limit) >> 16) == 0, "GDTR/IDTR limits 16-bit");
    // 27.3.1.4: RIP and RFLAGS.
    const bool cs_l = (v.get(guest_cs_access_rights) & (1u << 13)) != 0;
    if (!ia32e || !cs_l) expect((v.get(guest_rip) >> 32) == 0, "RIP 63:32 zero outside 64-bit code");
    const std::uint64_t rflags = v.get(guest_rflags);
    expect((rflags & 2) != 0, "RFLAGS bit 1 set");
    expect((rflags & 0xFFFF'FFFF'FFC0'8028) == 0, "RFLAGS reserved bits clear");
    if (!(cr0 & 1)) expect(unrestricted, "real mode only with unrestricted guest");
    // 27.3.1.5: non-register state.
    expect(v.get(guest_activity_state) == 0, "active");
    expect(v.get(guest_interruptibility_state) == 0, "no blocking at the first entry");
    expect(v.get(vmcs_link_pointer) == ~std::uint64_t{0}, "VMCS link pointer all ones");
    expect(v.get(guest_pending_debug_exceptions) == 0, "no pending debug exceptions");
    return failed;
}

}  // namespace vm_entry_checks
