// Host tests of the VMX back end's set-up computations: the controls
// planned from recorded capability MSRs, the VMCS a vCPU starts with, the
// host state, the CR0/CR4 write emulation, the MSR bitmap and lists, EPT,
// IA32_FEATURE_CONTROL, and the pieces both back ends share (entry states,
// events, the back-end choice). QEMU cannot run VMX (PLATFORM.md), so the
// VMCS plans are checked here against an independent transcription of the
// SDM's VM-entry checks (vol. 3C, 27.2 and 27.3 of the 2023 edition:
// "Checks on VMX Controls and Host-State Area", "Checking and Loading Guest
// State"), written from the manual and not from the library's code.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/entry_state.hpp"
#include "arch/x86_64/features.hpp"
#include "arch/x86_64/guest_paging.hpp"
#include "arch/x86_64/interrupts.hpp"
#include "arch/x86_64/percpu.hpp"
#include "arch/x86_64/stage2.hpp"
#include "arch/x86_64/vmcb.hpp"
#include "arch/x86_64/vmcs.hpp"
#include "arch/x86_64/vmx.hpp"
#include "axvcpu/irq_queue.hpp"
#include "vm_entry_checks.hpp"

namespace x86_64_vmx_setup_test {

using namespace axvcpu;
using namespace axvcpu::x86_64;
using vm_entry_checks::entry_check_failures;
using vm_entry_checks::Vmcs;

namespace {

// Capability MSRs as a Skylake-class Intel core reports them (TRUE
// controls, unrestricted guest, EPT with 2 MiB/1 GiB pages and both
// INVEPT/INVVPID scopes).
vmcs::Capabilities skylake() {
    vmcs::Capabilities c;
    c.basic = 0x00DA'0400'0000'0004;
    c.pin_based = 0x0000'007F'0000'0016;
    c.primary = 0xFFF9'FFFE'0400'6172;
    c.secondary = 0x0055'3CFE'0000'0000;
    c.exit = 0x01FF'FFFF'0003'6DFB;
    c.entry = 0x0003'FFFF'0000'11FB;
    c.cr0_fixed0 = 0x8000'0021;
    c.cr0_fixed1 = 0xFFFF'FFFF;
    c.cr4_fixed0 = 0x2000;
    c.cr4_fixed1 = 0x0037'67FF;
    c.ept_vpid = 0x0000'0F01'0673'4141;
    return c;
}

// A first-generation EPT core: no unrestricted guest, and its secondary
// controls' allowed-1 bits are only EPT, VPID and a few others.
vmcs::Capabilities without_unrestricted_guest() {
    vmcs::Capabilities c = skylake();
    c.secondary = 0x0000'006F'0000'0000;  // bits 0-3, 5, 6
    return c;
}

Vmcs plan(const vmcs::Capabilities& caps, EntryMode mode, std::uint64_t entry = 0x200000,
          std::uint64_t cr3 = 0x1000) {
    const vmcs::ControlPlan controls = vmcs::plan_controls(caps, mode);
    REQUIRE(controls.ok());
    const vmcs::VCpuPages pages{0x10'0000, 0x10'1000, 0x10'1800, x86_64::stage2::ept::pointer(0x20'0000), 1};
    const auto writes = vmcs::setup_plan(caps, controls, entry_state(mode, entry, cr3), pages);
    Vmcs v;
    for (const auto& w : writes) v.writes.push_back(w);
    CHECK(writes.size() < vmcs::setup_writes);  // never truncated
    return v;
}

std::string joined(const std::vector<std::string>& rules) {
    std::string out;
    for (const auto& r : rules) out += r + "; ";
    return out;
}

}  // namespace

TEST_CASE("vmx set-up: the controls planned from recorded capability MSRs") {
    using namespace vmcs;
    const ControlPlan long64 = plan_controls(skylake(), EntryMode::Long64);
    REQUIRE(long64.ok());
    CHECK((long64.pin_based & (pin_based::external_interrupt_exiting | pin_based::nmi_exiting)) == 0x9);
    CHECK((long64.primary & required_primary) == required_primary);
    CHECK((long64.primary & refused_primary) == 0);
    CHECK((long64.primary & primary::interrupt_window_exiting) == 0);
    CHECK((long64.secondary & (secondary::enable_ept | secondary::enable_vpid | secondary::unrestricted_guest)) ==
          (secondary::enable_ept | secondary::enable_vpid | secondary::unrestricted_guest));
    CHECK((long64.secondary & secondary::enable_xsaves) == 0);  // IA32_XSS is not switched
    CHECK((long64.primary & (primary::cr8_load_exiting | primary::cr8_store_exiting | primary::mov_dr_exiting)) ==
          (primary::cr8_load_exiting | primary::cr8_store_exiting | primary::mov_dr_exiting));
    CHECK((long64.exit & exit_ctl::save_debug_controls) != 0);
    CHECK((long64.entry & entry_ctl::load_debug_controls) != 0);
    CHECK((long64.exit & required_exit) == required_exit);
    CHECK((long64.entry & entry_ctl::ia32e_mode_guest) != 0);
    const ControlPlan multiboot = plan_controls(skylake(), EntryMode::Protected32);
    REQUIRE(multiboot.ok());
    CHECK((multiboot.entry & entry_ctl::ia32e_mode_guest) == 0);

    // Without unrestricted guest: a 64-bit guest runs, a Multiboot one cannot.
    const ControlPlan old_long = plan_controls(without_unrestricted_guest(), EntryMode::Long64);
    CHECK(old_long.ok());
    CHECK(!old_long.unrestricted_guest());
    CHECK(plan_controls(without_unrestricted_guest(), EntryMode::Protected32).error == SetupError::SecondaryProcessor);

    // Without TRUE controls, CR3 exiting is a default-1 the policy cannot clear.
    Capabilities no_true = skylake();
    no_true.primary = 0xFFF9'FFFE'0401'E172;
    CHECK(plan_controls(no_true, EntryMode::Long64).error == SetupError::PrimaryProcessor);
    Capabilities no_ack = skylake();
    no_ack.exit &= ~(std::uint64_t{exit_ctl::acknowledge_interrupt_on_exit} << 32);
    CHECK(plan_controls(no_ack, EntryMode::Long64).error == SetupError::Exit);
    Capabilities no_nmi = skylake();
    no_nmi.pin_based &= ~(std::uint64_t{pin_based::nmi_exiting} << 32);
    CHECK(plan_controls(no_nmi, EntryMode::Long64).error == SetupError::PinBased);
    Capabilities no_load_efer = skylake();
    no_load_efer.entry &= ~(std::uint64_t{entry_ctl::load_efer} << 32);
    CHECK(plan_controls(no_load_efer, EntryMode::Long64).error == SetupError::Entry);
    Capabilities no_invvpid = skylake();
    no_invvpid.ept_vpid &= ~ept_vpid_cap::invvpid;
    CHECK(plan_controls(no_invvpid, EntryMode::Long64).error == SetupError::EptVpid);
    Capabilities one_scope = skylake();
    one_scope.ept_vpid &= ~(ept_vpid_cap::invept_single_context | ept_vpid_cap::invvpid_single_context);
    CHECK(plan_controls(one_scope, EntryMode::Long64).ok());
}

TEST_CASE("vmx set-up: every VMCS the plan writes passes the SDM's VM-entry checks") {
    struct Cpu {
        const char* name;
        vmcs::Capabilities caps;
    };
    for (const Cpu& cpu : {Cpu{"skylake", skylake()}, Cpu{"no unrestricted guest", without_unrestricted_guest()}}) {
        CAPTURE(cpu.name);
        const vmcs::Capabilities& caps = cpu.caps;
        const Vmcs v = plan(caps, EntryMode::Long64);
        const auto failures = entry_check_failures(caps, v);
        CHECK_MESSAGE(failures.empty(), joined(failures));
        using namespace vmcs::field;
        CHECK(v.get(guest_rip) == 0x200000);
        CHECK(v.get(guest_cr3) == 0x1000);
        CHECK(v.get(cr0_read_shadow) == entry_state(EntryMode::Long64, 0, 0).cr0);
        CHECK((v.get(guest_cr4) & cr4::vmxe) != 0);
        CHECK((v.get(cr4_read_shadow) & cr4::vmxe) == 0);
        CHECK(v.get(vpid) == 1);
        CHECK(v.get(exit_msr_store_address) == v.get(entry_msr_load_address));
        CHECK(v.get(exit_msr_load_count) == vmcs::switched_msrs.size());
    }
    const Vmcs multiboot = plan(skylake(), EntryMode::Protected32, 0x100000);
    const auto failures = entry_check_failures(skylake(), multiboot);
    CHECK_MESSAGE(failures.empty(), joined(failures));
    // Paging off in the real CR0 (unrestricted guest), NE kept for VMX.
    CHECK((multiboot.get(vmcs::field::guest_cr0) & (cr0::pg | cr0::ne | cr0::pe)) == (cr0::ne | cr0::pe));
    CHECK(multiboot.get(vmcs::field::cr0_read_shadow) == (cr0::pe | cr0::et));

    // The checker is not vacuous: each planted fault is caught.
    const vmcs::Capabilities caps = skylake();
    const auto broken = [&](std::uint32_t field, std::uint64_t value) {
        Vmcs v = plan(caps, EntryMode::Long64);
        v.writes.push_back({field, value});
        return !entry_check_failures(caps, v).empty();
    };
    using namespace vmcs::field;
    CHECK(broken(guest_cr4, 0));                                  // VMXE missing
    CHECK(broken(guest_cr0, cr0::pe | cr0::pg));                  // NE missing
    CHECK(broken(guest_tr_access_rights, access_rights::present | 0x9));  // available, not busy
    CHECK(broken(guest_cs_access_rights, access_rights::code_flat | access_rights::l | access_rights::db));
    CHECK(broken(guest_ia32_efer, msr::efer::lme));               // LMA clear in IA-32e mode
    CHECK(broken(vmcs_link_pointer, 0));
    CHECK(broken(guest_rflags, 0));
    CHECK(broken(ept_pointer, 0x20'0000 | 6));                    // walk length 1
    CHECK(broken(guest_ds_limit, 0xFFFE));                        // G set with a byte-granular limit
    CHECK(broken(entry_controls, multiboot.get(entry_controls) | vmcs::entry_ctl::entry_to_smm));
    CHECK(broken(secondary_processor_controls, vmcs::secondary::unrestricted_guest));  // UG without EPT
}

TEST_CASE("vmx set-up: host state and the TSS base") {
    std::array<std::uint8_t, 64> gdt{};
    // A 64-bit TSS descriptor at selector 0x28 with base 0xFFFF'8000'1234'5678.
    std::uint8_t* d = gdt.data() + 0x28;
    d[2] = 0x78;
    d[3] = 0x56;
    d[4] = 0x34;
    d[7] = 0x12;
    d[8] = 0x00;
    d[9] = 0x80;
    d[10] = 0xFF;
    d[11] = 0xFF;
    CHECK(vmcs::tss_base(gdt.data(), 0x28) == 0xFFFF'8000'1234'5678);
    CHECK(vmcs::host_selector(0x10) == 0x10);
    CHECK(vmcs::host_selector(0x2B) == 0);  // RPL 3: VM exit could not load it
    CHECK(vmcs::host_selector(0x14) == 0);  // TI set

    vmcs::HostState h;
    h.cr0 = 0x8005'0033;
    h.cr4 = 0x0000'2620;
    h.cs = 0x08;
    h.ss = 0x10;
    h.ds = 0x2B;
    h.tr = 0x28;
    h.rip = 0xFFFF'FFFF'8000'1000;
    h.efer = msr::efer::lme | msr::efer::lma | msr::efer::sce;
    const auto w = vmcs::host_state_writes(h);
    using namespace vmcs::field;
    CHECK(w.find(host_ds_selector) == 0);
    CHECK(w.find(host_cs_selector) == 0x08);
    CHECK(w.find(host_tr_selector) == 0x28);
    CHECK(w.find(host_rip) == 0xFFFF'FFFF'8000'1000);
    CHECK(w.find(host_ia32_efer) == h.efer);
    CHECK_FALSE(w.find(host_rsp));  // the world switch's
    // 27.2.3's checks on host selectors: RPL and TI zero, CS and TR not null.
    for (const std::uint32_t f : {host_cs_selector, host_ss_selector, host_ds_selector, host_es_selector,
                                  host_fs_selector, host_gs_selector, host_tr_selector})
        CHECK((*w.find(f) & 7) == 0);
    CHECK(*w.find(host_cs_selector) != 0);
    CHECK(*w.find(host_tr_selector) != 0);
}

TEST_CASE("vmx set-up: MOV to CR0 and CR4 as the guest sees them") {
    const vmcs::Capabilities caps = skylake();
    const std::uint64_t owned0 = vmcs::cr0_owned(caps);
    CHECK((owned0 & (cr0::pe | cr0::pg | cr0::ne)) == (cr0::pe | cr0::pg | cr0::ne));
    CHECK((vmcs::cr4_owned(caps) & cr4::vmxe) != 0);
    CHECK((vmcs::cr4_owned(caps) & cr4::pae) == 0);

    // The guest's view: owned bits from the shadow, its own from the register.
    CHECK(vmcs::guest_visible(cr0::pe | cr0::ne | cr0::wp, cr0::pe, owned0) == (cr0::pe | cr0::wp));
    // A Multiboot guest going to long mode: PAE (not owned: no exit, the
    // register has it), LME (WRMSR, the policy's), then paging (an exit).
    const std::uint64_t real_cr4 = vmcs::real_cr4(caps, cr4::pae);
    vmcs::CrContext g{cr0::pe | cr0::et, vmcs::guest_visible(real_cr4, 0, vmcs::cr4_owned(caps)), 0, false};
    CHECK(g.cr4 == cr4::pae);
    const vmcs::CrWrite pae = vmcs::emulate_cr4_write(g, cr4::pae, caps);
    REQUIRE(!pae.fault);
    CHECK(!pae.load_pdptes);  // paging is off
    g.efer = *guest_efer_write(g.efer, msr::efer::lme, false);
    const vmcs::CrWrite paging = vmcs::emulate_cr0_write(g, cr0::pe | cr0::et | cr0::pg, true);
    REQUIRE(!paging.fault);
    CHECK(paging.long_mode);
    CHECK((paging.efer & msr::efer::lma) != 0);
    CHECK(!paging.load_pdptes);
    CHECK(vmcs::real_cr0(caps, true, paging.value) == (cr0::pe | cr0::et | cr0::pg | cr0::ne));

    // 32-bit PAE paging: the PDPTEs are loaded when paging turns on.
    const vmcs::CrContext pae32{cr0::pe, cr4::pae, 0, false};
    const vmcs::CrWrite on = vmcs::emulate_cr0_write(pae32, cr0::pe | cr0::pg, true);
    CHECK(!on.fault);
    CHECK(on.load_pdptes);
    CHECK(!on.long_mode);
    CHECK(vmcs::emulate_cr4_write({cr0::pe | cr0::pg, 0, 0, false}, cr4::pae, caps).load_pdptes);

    // The #GP cases.
    CHECK(vmcs::emulate_cr0_write(g, cr0::pg, true).fault);                            // PG without PE
    CHECK(vmcs::emulate_cr0_write(g, cr0::pe | cr0::nw, true).fault);                  // NW without CD
    CHECK(vmcs::emulate_cr0_write(g, std::uint64_t{1} << 32 | cr0::pe, true).fault);   // bits 63:32
    CHECK(vmcs::emulate_cr0_write({cr0::pe, 0, msr::efer::lme, false}, cr0::pe | cr0::pg, true).fault);  // LME, no PAE
    const vmcs::CrContext long64{cr0::pe | cr0::pg, cr4::pae, msr::efer::lme | msr::efer::lma, true};
    CHECK(vmcs::emulate_cr0_write(long64, cr0::pe, true).fault);        // paging off in 64-bit code
    CHECK(vmcs::emulate_cr4_write(long64, 0, caps).fault);              // PAE off in long mode
    CHECK(vmcs::emulate_cr4_write(long64, cr4::pae | cr4::vmxe, caps).fault);  // VMX is not offered
    CHECK(vmcs::emulate_cr4_write(long64, cr4::pae | (1u << 24), caps).fault);  // beyond FIXED1
    // Without unrestricted guest, the guest cannot turn paging off.
    CHECK(vmcs::emulate_cr0_write({cr0::pe | cr0::pg, 0, 0, false}, cr0::pe, false).fault);
    CHECK(!vmcs::emulate_cr0_write({cr0::pe | cr0::pg, 0, 0, false}, cr0::pe | cr0::pg | cr0::ts, false).fault);
}

TEST_CASE("vmx set-up: the MSR bitmap and switch lists") {
    using vmcs::msr_bitmap_slot;
    CHECK(msr_bitmap_slot(0, false)->byte == 0);
    CHECK(msr_bitmap_slot(0x1FFF, false)->byte == 1023);
    CHECK(msr_bitmap_slot(0x1FFF, false)->bit == 7);
    CHECK(msr_bitmap_slot(msr::ia32_efer, false)->byte == 1024 + 0x10);
    CHECK(msr_bitmap_slot(msr::ia32_efer, true)->byte == 3072 + 0x10);
    CHECK(msr_bitmap_slot(0x10, true)->byte == 2048 + 2);
    CHECK_FALSE(msr_bitmap_slot(0x2000, false));
    CHECK_FALSE(msr_bitmap_slot(0xC001'0000, true));
    std::vector<std::uint8_t> map(vmcs::msr_bitmap_bytes);
    vmcs::fill_msr_bitmap(map.data());
    const auto exits = [&](std::uint32_t index, bool write) {
        const auto slot = msr_bitmap_slot(index, write);
        return !slot || ((map[slot->byte] >> slot->bit) & 1) != 0;
    };
    for (const std::uint32_t index : msr::guest_owned) {
        CHECK_FALSE(exits(index, false));
        CHECK_FALSE(exits(index, true));
    }
    for (const std::uint32_t index : {msr::ia32_efer, msr::ia32_pat, msr::ia32_apic_base, msr::ia32_tsc,
                                      msr::ia32_feature_control, 0x1FFFu, 0x4000'0000u})
        for (const bool write : {false, true}) CHECK(exits(index, write));
    // The switched MSRs (the syscall ones and TSC_AUX) are the guest's too.
    for (const std::uint32_t index : vmcs::switched_msrs) {
        CHECK_FALSE(exits(index, false));
        CHECK_FALSE(exits(index, true));
    }
}

TEST_CASE("vmx set-up: IA32_FEATURE_CONTROL and IA32_VMX_BASIC") {
    using namespace vmx;
    CHECK(plan_feature_control(0) == FeatureControlPlan{FeatureControl::WriteAndLock, 0x5});
    CHECK(plan_feature_control(0x2) == FeatureControlPlan{FeatureControl::WriteAndLock, 0x7});
    CHECK(plan_feature_control(0x5).action == FeatureControl::Ready);
    CHECK(plan_feature_control(0xFF05).action == FeatureControl::Ready);
    CHECK(plan_feature_control(0x1).action == FeatureControl::Disabled);
    CHECK(plan_feature_control(0x3).action == FeatureControl::Disabled);  // only inside SMX
    CHECK(basic_usable(skylake().basic));
    CHECK_FALSE(basic_usable(skylake().basic | std::uint64_t{1} << 48));         // 32-bit addresses only
    CHECK_FALSE(basic_usable(skylake().basic & ~(std::uint64_t{0xF} << 50)));   // uncached VMCS
    CHECK_FALSE(basic_usable((skylake().basic & ~(std::uint64_t{0x1FFF} << 32)) | std::uint64_t{0x1001} << 32));
    CHECK(vmx::entry_instruction_failure(vmx::vm_instruction_error::entry_invalid_control) == 0x1'0000'0007);
    CHECK(vmx::entry_instruction_failure(0) == vmx::instruction_failure);
}

TEST_CASE("vmx set-up: EPT tables, pointer and translation") {
    namespace ept = x86_64::stage2::ept;
    std::vector<std::array<std::uint64_t, 512>> pages(16);
    for (auto& page : pages) page.fill(0);
    usize next = 1;
    const auto pa_of = [](usize index) { return static_cast<std::uint64_t>(index) << 12; };
    const auto table = [&](std::uint64_t pa) { return pages[pa >> 12].data(); };
    const auto alloc = [&]() -> std::optional<std::uint64_t> {
        if (next == pages.size()) return std::nullopt;
        return pa_of(next++);
    };
    ept::Mapper mapper(pa_of(0), alloc, table);
    REQUIRE(mapper.map(0, 0x0400'0000, 0x0040'0000, x86_64::stage2::MemType::Normal));
    REQUIRE(mapper.map(0x0040'0000, 0x0900'0000, 0x1000, x86_64::stage2::MemType::Device));
    const auto ram = mapper.lookup(0x1000);
    REQUIRE(ram);
    CHECK((*ram & 7) == 7);
    CHECK(((*ram >> 3) & 7) == ept::memory_type_wb);
    CHECK((*ram & ept::entry::ignore_pat) == 0);
    CHECK((*ram & ept::entry::large) != 0);
    const auto device = mapper.lookup(0x0040'0000);
    REQUIRE(device);
    CHECK(((*device >> 3) & 7) == ept::memory_type_uc);
    CHECK((*device & ept::entry::ignore_pat) != 0);
    // Non-leaf entries: bits 7:3 reserved (SDM table 29-1 .. 29-3).
    CHECK((pages[0][0] & 0xF8) == 0);
    CHECK((pages[0][0] & 7) == 7);
    CHECK(ept::translate(pa_of(0), table, 0x0012'3456) == 0x0412'3456);
    CHECK(ept::translate(pa_of(0), table, 0x0040'0ABC) == 0x0900'0ABC);
    CHECK_FALSE(ept::translate(pa_of(0), table, 0x0040'1000));
    CHECK(ept::pointer(0x0012'3000) == 0x0012'301E);
    CHECK(ept::root_of(ept::pointer(0x0012'3000)) == 0x0012'3000);

    // GuestMemory over these tables: reads within a page, refusals across one.
    std::vector<std::uint8_t> host(0x0A00'0000 >> 8);
    const GuestMemory memory(
        [&](std::uint64_t gpa) { return ept::translate(pa_of(0), table, gpa); },
        [&](std::uint64_t hpa) -> const volatile std::uint8_t* { return host.data() + ((hpa - 0x0400'0000) & 0xFFFF); });
    host[0x10] = 0x34;
    host[0x11] = 0x12;
    CHECK(memory.read(0x10, 2) == 0x1234);
    CHECK_FALSE(memory.read(0xFFE, 4));
    CHECK_FALSE(memory.read(0x0050'0000, 1));
}

TEST_CASE("shared: the next entry's event") {
    IrqQueue<> queue;
    std::uint64_t pending = 0;
    std::uint64_t reinject = 0;
    const Interruptibility open{true, false};
    const Interruptibility shadowed{true, true};
    CHECK(take_entry_event(pending, reinject, queue, open) == EntryEvents{});
    REQUIRE(queue.push(0x30));
    CHECK(take_entry_event(pending, reinject, queue, shadowed) == EntryEvents{0, true});
    CHECK(take_entry_event(pending, reinject, queue, open) == EntryEvents{external_interrupt_event(0x30), false});
    CHECK(queue.empty());
    // An exception first, the queued interrupt after the window.
    REQUIRE(queue.push(0x31));
    pending = exception_event(vector::gp, 0);
    CHECK(take_entry_event(pending, reinject, queue, open) == EntryEvents{exception_event(vector::gp, 0), true});
    CHECK(pending == 0);
    // An interrupted event goes again before the queue.
    reinject = external_interrupt_event(0x40);
    CHECK(take_entry_event(pending, reinject, queue, open) == EntryEvents{external_interrupt_event(0x40), true});
    CHECK(reinject == 0);
    CHECK(take_entry_event(pending, reinject, queue, open).event == external_interrupt_event(0x31));
    // VMX's interruption-information layout is SVM's EVENTINJ low half.
    CHECK((exception_event(14, 2) & 0xFFFF'FFFF) == 0x8000'0B0E);
}

TEST_CASE("shared: a vCPU's events (GuestEvents)") {
    GuestEvents events;
    const Interruptibility open{true, false};
    CHECK_FALSE(events.any());
    CHECK(events.queue_interrupt(31).error() == AxError::InvalidInput);
    CHECK(events.queue_interrupt(256).error() == AxError::InvalidInput);
    CHECK(events.raise(32).error() == AxError::InvalidInput);
    REQUIRE(events.queue_interrupt(0x30));
    REQUIRE(events.queue_interrupt(0x31));
    CHECK(events.interrupt_pending());
    // A raised exception first, with the window for what waits behind it.
    REQUIRE(events.raise(14, 2));
    CHECK(events.take(open) == EntryEvents{exception_event(14, 2), true});
    // An interrupted event next, then the queue in order.
    events.reinject(external_interrupt_event(0x40));
    CHECK(events.reinjecting());
    CHECK(events.take(open) == EntryEvents{external_interrupt_event(0x40), true});
    CHECK(events.take(open) == EntryEvents{external_interrupt_event(0x30), true});
    CHECK(events.take(open) == EntryEvents{external_interrupt_event(0x31), false});
    CHECK_FALSE(events.any());
    events.raise_gp();
    CHECK(events.take(open).event == exception_event(vector::gp, 0));
    events.raise_ud();
    CHECK(events.take(open).event == exception_event(vector::ud));
    CHECK_FALSE(events.interrupt_pending());
    // The guest's task priority: class 3 (vectors 0x30..0x3F) and below wait,
    // with no window and the class reported; a lower TPR lets it in.
    REQUIRE(events.queue_interrupt(0x35));
    CHECK(events.take(Interruptibility{true, false, 3}) == EntryEvents{0, false, 3});
    CHECK(events.take(Interruptibility{true, false, 15}) == EntryEvents{0, false, 3});
    CHECK(events.take(Interruptibility{false, false, 3}) == EntryEvents{0, true, 0});  // IF first: the window
    CHECK(events.take(Interruptibility{true, false, 2}) == EntryEvents{external_interrupt_event(0x35), false, 0});
    for (usize i = 0; i < axvcpu::config::interrupt_queue_depth; ++i) REQUIRE(events.queue_interrupt(0x40 + i));
    const auto full = events.queue_interrupt(0xFF);
    REQUIRE_FALSE(full);
    CHECK(full.error() == AxError::ResourceBusy);
}

TEST_CASE("shared: entry states, EFER and XSETBV rules, the back end from CPUID") {
    const EntryState s = entry_state(EntryMode::Long64, 0x200000, 0x5000);
    CHECK(svm_attributes(s.cs.access_rights) == 0xA9B);
    CHECK(svm_attributes(s.ds.access_rights) == 0xC93);
    CHECK(s.efer == (msr::efer::lme | msr::efer::lma | msr::efer::nxe));
    const EntryState m = entry_state(EntryMode::Protected32, 0x100000, 0x5000);
    CHECK(m.cr3 == 0);
    CHECK((m.cs.access_rights & access_rights::db) != 0);
    CHECK(m.efer == 0);

    CHECK(guest_efer_write(msr::efer::lma, msr::efer::sce, false) == (msr::efer::sce | msr::efer::lma));
    CHECK(guest_efer_write(0, msr::efer::lma, false) == 0);
    CHECK_FALSE(guest_efer_write(0, msr::efer::svme, false));
    constexpr std::uint64_t supported = xcr0::x87 | xcr0::sse | xcr0::avx;
    CHECK(xsetbv_action(true, true, 0, 0, 3, supported) == XsetbvAction::Accept);
    CHECK(xsetbv_action(true, true, 0, 0, 1, supported) == XsetbvAction::Accept);
    // AVX is a valid XCR0 on this CPU, but not offered to guests.
    CHECK(xsetbv_valid(0, 7, supported));
    CHECK(xsetbv_action(true, true, 0, 0, 7, supported) == XsetbvAction::RaiseGp);
    CHECK(xsetbv_action(false, true, 0, 0, 3, supported) == XsetbvAction::RaiseUd);
    CHECK(xsetbv_action(true, false, 0, 0, 3, supported) == XsetbvAction::RaiseUd);
    CHECK(xsetbv_action(true, true, 3, 0, 3, supported) == XsetbvAction::RaiseGp);
    CHECK(xsetbv_action(true, true, 0, 0, 5, supported) == XsetbvAction::RaiseGp);

    CHECK(backend_of({}, {0, 0, cpuid_bits::ext1_ecx_svm, 0}) == Backend::Svm);
    CHECK(backend_of({0, 0, cpuid_bits::leaf1_ecx_vmx, 0}, {}) == Backend::Vmx);
    CHECK(backend_of({}, {}) == Backend::None);
}
}  // namespace x86_64_vmx_setup_test
