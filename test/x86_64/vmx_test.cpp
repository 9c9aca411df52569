// Host tests of the VMX decoders and set-up computations
// (arch/x86_64/vmx.hpp, vmcs.hpp, sysregs.hpp). VMX cannot run under QEMU
// (PLATFORM.md), so these recorded values are its proof: exit reasons and
// exit qualifications as the Intel SDM vol. 3C tables lay them out, the
// VM-instruction errors of 31.4, the VMCS encodings of appendix B, and
// capability MSR values of the shape a real CPU reports.
#include <doctest/doctest.h>

#include "arch/x86_64/sysregs.hpp"
#include "arch/x86_64/vmcs.hpp"
#include "arch/x86_64/vmx.hpp"

namespace x86_64_vmx_test {

using namespace axvcpu;
using namespace axvcpu::x86_64;
using namespace axvcpu::x86_64::vmx;

namespace {

Gprs patterned() {
    Gprs regs{};
    for (usize i = 0; i < regs.size(); ++i) regs[i] = 0x0101'0101'0101'0101 * (i + 1);
    return regs;
}

InstructionBytes bytes(std::initializer_list<std::uint8_t> list) {
    InstructionBytes insn{};
    for (std::uint8_t b : list) insn.bytes[insn.count++] = b;
    return insn;
}

}  // namespace

TEST_CASE("basic exit reasons are the SDM's appendix C numbers, with names") {
    static_assert(exit_reason::external_interrupt == 1 && exit_reason::triple_fault == 2 &&
                  exit_reason::interrupt_window == 7 && exit_reason::cpuid == 10 && exit_reason::hlt == 12 &&
                  exit_reason::vmcall == 18 && exit_reason::cr_access == 28 && exit_reason::io_instruction == 30 &&
                  exit_reason::rdmsr == 31 && exit_reason::wrmsr == 32 && exit_reason::invalid_guest_state == 33 &&
                  exit_reason::ept_violation == 48 && exit_reason::ept_misconfig == 49 &&
                  exit_reason::preemption_timer == 52 && exit_reason::xsetbv == 55 && exit_reason::tdcall == 77);
    CHECK(exit_reason_name(0) == "EXCEPTION_NMI");
    CHECK(exit_reason_name(18) == "VMCALL");
    CHECK(exit_reason_name(48) == "EPT_VIOLATION");
    CHECK(exit_reason_name(55) == "XSETBV");
    CHECK(exit_reason_name(77) == "TDCALL");
    CHECK(exit_reason_name(35) == "");
    CHECK(exit_reason_name(78) == "");
    CHECK(exit_reason::basic(0x8000'0021) == 33);
}

TEST_CASE("I/O qualification (table 28-5)") {
    // out dx,al, DX = 0x3f8: size 0, OUT, DX operand.
    CHECK(decode_io_qualification(0x03F8'0000) ==
          IoQualification{IoAccess{0x3F8, AccessWidth::Byte, false, false, false}, false});
    // in eax,0x60: size 3, IN, immediate.
    CHECK(decode_io_qualification(0x0060'0000 | 3 | 1 << 3 | 1 << 6) ==
          IoQualification{IoAccess{0x60, AccessWidth::Dword, true, false, false}, true});
    // rep insw: size 1, IN, string, REP.
    CHECK(decode_io_qualification(0x0060'0000 | 1 | 1 << 3 | 1 << 4 | 1 << 5) ==
          IoQualification{IoAccess{0x60, AccessWidth::Word, true, true, true}, false});
    CHECK(!decode_io_qualification(2));  // size encoding 2 is not used
    CHECK(!decode_io_qualification(0x0060'0007));
}

TEST_CASE("CR-access qualification (table 28-3)") {
    // mov cr3, rax: CR 3, type 0, GPR 0.
    CHECK(decode_cr_qualification(0x03) == CrAccess{3, CrAccessType::MovToCr, false, 0, 0});
    // mov r13, cr8 (read): CR 8, type 1, GPR 13.
    CHECK(decode_cr_qualification(0x0D18) == CrAccess{8, CrAccessType::MovFromCr, false, 13, 0});
    CHECK(decode_cr_qualification(0x20).type == CrAccessType::Clts);
    // lmsw with a memory operand and source 0x0011.
    CHECK(decode_cr_qualification(0x0011'0070) == CrAccess{0, CrAccessType::Lmsw, true, 0, 0x11});
}

TEST_CASE("EPT-violation qualification (table 28-7) and its classification") {
    // A write through a linear address to an unmapped GPA: bits 1, 7, 8.
    const std::uint64_t write = ept::write | ept::linear_valid | ept::translated;
    CHECK(classify_ept_violation(write) == EptKind::Mmio);
    CHECK(classify_ept_violation(ept::read | ept::linear_valid | ept::translated | ept::readable) == EptKind::Permission);
    CHECK(classify_ept_violation(ept::read | ept::fetch | ept::linear_valid | ept::translated) == EptKind::InstructionFetch);
    CHECK(classify_ept_violation(ept::read | ept::linear_valid) == EptKind::TableWalk);
    CHECK(classify_ept_violation(ept::read) == EptKind::NoLinearAddress);
    CHECK(ept_access_flags(ept::read | ept::fetch).bits == (MappingFlags::READ | MappingFlags::EXECUTE));
    CHECK(name(EptKind::NoLinearAddress) == "NoLinearAddress");
}

TEST_CASE("VM-instruction errors (31.4)") {
    static_assert(vm_instruction_error::vmlaunch_non_clear == 4 && vm_instruction_error::entry_invalid_control == 7 &&
                  vm_instruction_error::entry_invalid_host_state == 8 &&
                  vm_instruction_error::vmptrld_bad_revision == 11 && vm_instruction_error::vmxon_in_root == 15 &&
                  vm_instruction_error::invalid_invept_invvpid_operand == 28);
    CHECK(vm_instruction_error_name(7) == "VM entry with invalid control field(s)");
    CHECK(vm_instruction_error_name(5) == "VMRESUME with non-launched VMCS");
    CHECK(vm_instruction_error_name(28) == "Invalid operand to INVEPT/INVVPID");
    CHECK(vm_instruction_error_name(0) == "");
    CHECK(vm_instruction_error_name(14) == "");
    CHECK(vm_instruction_error_name(29) == "");
}

TEST_CASE("decode_exit: the same outcomes as SVM, from VMCS exit information") {
    Gprs regs = patterned();
    const std::uint64_t rip = 0xFFFF'FFFF'8100'0000;
    auto decode = [&](TrapRecord trap, InstructionBytes insn = {}) { return decode_exit(trap, regs, insn); };

    DecodeResult got = decode({exit_reason::vmcall, 0, 0, 3, 0, rip});
    CHECK(got.value().reason.get_if<exit::Hypercall>()->nr == regs[gpr::rax]);
    CHECK(got.value().rip_advance == 3);
    CHECK(decode({exit_reason::vmcall, 0, 0, 0, 0, rip}).error() == DecodeError::BadLength);

    got = decode({exit_reason::io_instruction, 0x03F8'0000, 0, 1, 0, rip});
    CHECK(got.value().reason.get_if<exit::IoWrite>()->data == (regs[gpr::rax] & 0xFF));
    CHECK(got.value().rip_advance == 1);
    got = decode({exit_reason::io_instruction, 0x0060'0000 | 3 | 1 << 3 | 1 << 6, 0, 2, 0, rip});
    CHECK(got.value().reason.get_if<exit::IoRead>()->width == AccessWidth::Dword);
    CHECK(decode({exit_reason::io_instruction, 0x0060'0000 | 1 | 1 << 3 | 1 << 4 | 1 << 5, 0, 3, 0, rip}).error() ==
          DecodeError::StringIo);
    CHECK(decode({exit_reason::io_instruction, 0x0060'0002, 0, 1, 0, rip}).error() == DecodeError::BadIoSize);

    // EPT violation: mov QWORD PTR [rbx],rdx at an unmapped GPA. The
    // instruction-length field is undefined here: the decoded length counts.
    const std::uint64_t write = ept::write | ept::linear_valid | ept::translated;
    got = decode({exit_reason::ept_violation, write, 0xFEC0'0020, 0xEE, 0, rip}, bytes({0x48, 0x89, 0x13}));
    const auto* w = got.value().reason.get_if<exit::MmioWrite>();
    REQUIRE(w);
    CHECK(w->addr == GuestPhysAddr(0xFEC0'0020));
    CHECK(w->width == AccessWidth::Qword);
    CHECK(w->data == regs[gpr::rdx]);
    CHECK(got.value().rip_advance == 3);
    got = decode({exit_reason::ept_violation, ept::read | ept::linear_valid | ept::translated, 0xFEC0'0030, 0, 0, rip},
                 bytes({0x8a, 0x63, 0x30}));  // mov ah,BYTE PTR [rbx+0x30]
    CHECK(got.value().reason.get_if<exit::MmioRead>()->reg == gpr::ah);
    // Direction mismatch, a permission fault, a table walk: NestedPageFault, RIP kept.
    for (std::uint64_t q : {ept::read | ept::linear_valid | ept::translated,
                            write | ept::readable, ept::write | ept::linear_valid}) {
        CAPTURE(q);
        got = decode({exit_reason::ept_violation, q, 0xFEC0'0020, 0, 0, rip}, bytes({0x48, 0x89, 0x13}));
        REQUIRE(got.value().reason.is<exit::NestedPageFault>());
        CHECK(got.value().rip_advance == 0);
    }
    CHECK(decode({exit_reason::ept_misconfig, 0, 0xFEC0'0020, 0, 0, rip}).error() == DecodeError::EptMisconfig);
    CHECK(to_ax_error(DecodeError::EptMisconfig) == AxError::BadState);

    got = decode({exit_reason::hlt, 0, 0, 1, 0, rip});
    CHECK(got.value().reason.is<exit::Halt>());
    CHECK(got.value().rip_advance == 1);
    regs[gpr::rcx] = 0x1B;
    got = decode({exit_reason::rdmsr, 0, 0, 2, 0, rip});
    CHECK(got.value().reason.get_if<exit::SysRegRead>()->addr == SysRegAddr{0x1B});
    CHECK(got.value().rip_advance == 2);
    got = decode({exit_reason::wrmsr, 0, 0, 2, 0, rip});
    CHECK(got.value().reason.get_if<exit::SysRegWrite>()->value ==
          ((regs[gpr::rdx] & 0xFFFF'FFFF) << 32 | (regs[gpr::rax] & 0xFFFF'FFFF)));

    // External interrupt with acknowledge-on-exit: valid bit and vector 0x30.
    got = decode({exit_reason::external_interrupt, 0, 0, 0, 0x8000'0030, rip});
    CHECK(got.value().reason.get_if<exit::ExternalInterrupt>()->vector == 0x30);
    CHECK(decode({exit_reason::external_interrupt, 0, 0, 0, 0x30, rip}).error() == DecodeError::NoVector);
    CHECK(decode({exit_reason::triple_fault, 0, 0, 0, 0, rip}).value().reason.is<exit::SystemDown>());
    // VM-entry failure: bit 31 with basic reason 33 (invalid guest state).
    got = decode({exit_reason::entry_failure | exit_reason::invalid_guest_state, 0, 0, 0, 0, rip});
    CHECK(got.value().reason.get_if<exit::FailEntry>()->hardware_entry_failure_reason == 33);
    CHECK(decode({exit_reason::cpuid, 0, 0, 2, 0, rip}).error() == DecodeError::UnknownExit);
    CHECK(decode({exit_reason::cr_access, 3, 0, 3, 0, rip}).error() == DecodeError::UnknownExit);
}

TEST_CASE("VMCS field encodings: the rules of 25.11.2, and recorded appendix-B values") {
    using namespace vmcs;
    static_assert(encode(FieldWidth::Natural, FieldType::GuestState, 15) == field::guest_rip);
    static_assert(encode(FieldWidth::Bits64, FieldType::Control, 13) == field::ept_pointer);
    static_assert(high_half(field::ept_pointer) == 0x201B && well_formed(0x201B));
    static_assert(!well_formed(high_half(field::exit_reason)));  // a 32-bit field has no high half
    static_assert(!well_formed(0x1000) && !well_formed(0x8000) && !well_formed(0x0001'0000));
    static_assert(width_of(field::exit_qualification) == FieldWidth::Natural);
    static_assert(type_of(field::exit_qualification) == FieldType::ExitInformation);
    static_assert(index_of(field::guest_tr_access_rights) == 17);
    CHECK(field::guest_cs_selector == 0x0802);
    CHECK(field::vm_instruction_error == 0x4400);
    CHECK(field::host_rip == 0x6C16);
}

TEST_CASE("controls from the capability MSRs (appendix A)") {
    using namespace vmcs;
    // IA32_VMX_BASIC of a recent Intel core: revision 4, 4 KiB VMCS, bit 55 (TRUE controls).
    const std::uint64_t basic = 0x00DA'0400'0000'0004;
    CHECK(msr::vmx_basic::revision_id(basic) == 4);
    CHECK(msr::vmx_basic::vmcs_size(basic) == 0x400);
    CHECK(capability_msr(ControlSet::PinBased, basic) == 0x48D);
    CHECK(capability_msr(ControlSet::PrimaryProcessor, basic) == 0x48E);
    CHECK(capability_msr(ControlSet::SecondaryProcessor, basic) == 0x48B);
    CHECK(capability_msr(ControlSet::Exit, basic) == 0x48F);
    CHECK(capability_msr(ControlSet::Entry, basic) == 0x490);
    CHECK(capability_msr(ControlSet::Entry, basic & ~msr::vmx_basic::true_controls) == 0x484);
    CHECK(capability_msr(ControlSet::PinBased, 0) == 0x481);

    // TRUE pin-based: allowed-0 0x16 (bits 1, 2, 4 must be 1), allowed-1 0xff.
    const std::uint64_t true_pin = 0x0000'00FF'0000'0016;
    ControlValue pin = adjust_controls(true_pin, pin_based::external_interrupt_exiting | pin_based::nmi_exiting);
    CHECK(pin == ControlValue{0x1F, 0});
    // Optional bits the CPU cannot set are dropped; required ones are refused.
    const std::uint64_t limited = 0x0000'0009'0000'0000;  // only bits 0 and 3 may be 1
    CHECK(adjust_controls(limited, 0, pin_based::virtual_nmis | pin_based::nmi_exiting) == ControlValue{0x08, 0});
    ControlValue refused = adjust_controls(limited, pin_based::preemption_timer);
    CHECK(!refused.ok());
    CHECK(refused.refused == pin_based::preemption_timer);
    // Primary controls with secondary activation and HLT exiting; allowed-0 0x04006172.
    const std::uint64_t true_proc = 0xFFF9'FFFE'0400'6172;
    const ControlValue proc =
        adjust_controls(true_proc, primary::hlt_exiting | primary::use_msr_bitmaps | primary::activate_secondary_controls);
    CHECK(proc.ok());
    CHECK(proc.value == (0x0400'6172u | primary::hlt_exiting | primary::use_msr_bitmaps | primary::activate_secondary_controls));

    // CR0 fixed bits: FIXED0 0x80000021 (PG, NE, PE), FIXED1 0xffffffff.
    CHECK(apply_fixed_bits(0x10, 0x8000'0021, 0xFFFF'FFFF) == 0x8000'0031);
    CHECK(satisfies_fixed_bits(0x8000'0031, 0x8000'0021, 0xFFFF'FFFF));
    CHECK(!satisfies_fixed_bits(0x31, 0x8000'0021, 0xFFFF'FFFF));
    // CR4: FIXED0 0x2000 (VMXE), FIXED1 0x3727ff: bits outside FIXED1 are cleared.
    CHECK(apply_fixed_bits(0x0100'0020, 0x2000, 0x37'27FF) == 0x2020);
    CHECK(!satisfies_fixed_bits(0x0100'2020, 0x2000, 0x37'27FF));
}

TEST_CASE("MSR numbers used by both back ends") {
    static_assert(msr::ia32_efer == 0xC000'0080 && msr::star == 0xC000'0081 && msr::lstar == 0xC000'0082 &&
                  msr::cstar == 0xC000'0083 && msr::sfmask == 0xC000'0084 && msr::kernel_gs_base == 0xC000'0102);
    static_assert(msr::vm_hsave_pa == 0xC001'0117 && msr::efer::svme == 0x1000);
    static_assert(msr::ia32_feature_control == 0x3A && msr::ia32_vmx_basic == 0x480);
    CHECK(msr::ia32_vmx_cr4_fixed1 == 0x489);
}
}  // namespace x86_64_vmx_test
