// AMD SVM exits: the VMCB exit codes, the EXITINFO1 layouts of the IOIO and
// nested-page-fault intercepts, and the pure mapping of one #VMEXIT into an
// AxVCpuExitReason (AMD64 Architecture Programmer's Manual vol. 2, rev.
// 3.4x: chapter 15 and appendix C).
//
// Written for what QEMU's TCG provides (PLATFORM.md): no NRIP save and no
// decode assists, so the next RIP comes from EXITINFO2 (IOIO), from a fixed
// instruction length (VMMCALL, HLT, RDMSR/WRMSR), or from the MMIO
// instruction decoder (NPF).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "arch/x86_64/exit_decode.hpp"
#include "axvcpu/reflect.hpp"

namespace axvcpu::x86_64::svm {

// VMCB EXITCODE values (APM vol. 2, appendix C, table C-1).
namespace exit_code {
inline constexpr std::uint64_t cr0_read = 0x00;   // ..0x0F: CR0..CR15 reads
inline constexpr std::uint64_t cr0_write = 0x10;  // ..0x1F: CR0..CR15 writes
inline constexpr std::uint64_t dr0_read = 0x20;   // ..0x2F
inline constexpr std::uint64_t dr0_write = 0x30;  // ..0x3F
inline constexpr std::uint64_t exception_base = 0x40;  // + vector, 0x40..0x5F
inline constexpr std::uint64_t intr = 0x60;
inline constexpr std::uint64_t nmi = 0x61;
inline constexpr std::uint64_t smi = 0x62;
inline constexpr std::uint64_t init = 0x63;
inline constexpr std::uint64_t vintr = 0x64;
inline constexpr std::uint64_t cr0_sel_write = 0x65;
inline constexpr std::uint64_t idtr_read = 0x66;
inline constexpr std::uint64_t gdtr_read = 0x67;
inline constexpr std::uint64_t ldtr_read = 0x68;
inline constexpr std::uint64_t tr_read = 0x69;
inline constexpr std::uint64_t idtr_write = 0x6A;
inline constexpr std::uint64_t gdtr_write = 0x6B;
inline constexpr std::uint64_t ldtr_write = 0x6C;
inline constexpr std::uint64_t tr_write = 0x6D;
inline constexpr std::uint64_t rdtsc = 0x6E;
inline constexpr std::uint64_t rdpmc = 0x6F;
inline constexpr std::uint64_t pushf = 0x70;
inline constexpr std::uint64_t popf = 0x71;
inline constexpr std::uint64_t cpuid = 0x72;
inline constexpr std::uint64_t rsm = 0x73;
inline constexpr std::uint64_t iret = 0x74;
inline constexpr std::uint64_t swint = 0x75;
inline constexpr std::uint64_t invd = 0x76;
inline constexpr std::uint64_t pause = 0x77;
inline constexpr std::uint64_t hlt = 0x78;
inline constexpr std::uint64_t invlpg = 0x79;
inline constexpr std::uint64_t invlpga = 0x7A;
inline constexpr std::uint64_t ioio = 0x7B;
inline constexpr std::uint64_t msr = 0x7C;
inline constexpr std::uint64_t task_switch = 0x7D;
inline constexpr std::uint64_t ferr_freeze = 0x7E;
inline constexpr std::uint64_t shutdown = 0x7F;
inline constexpr std::uint64_t vmrun = 0x80;
inline constexpr std::uint64_t vmmcall = 0x81;
inline constexpr std::uint64_t vmload = 0x82;
inline constexpr std::uint64_t vmsave = 0x83;
inline constexpr std::uint64_t stgi = 0x84;
inline constexpr std::uint64_t clgi = 0x85;
inline constexpr std::uint64_t skinit = 0x86;
inline constexpr std::uint64_t rdtscp = 0x87;
inline constexpr std::uint64_t icebp = 0x88;
inline constexpr std::uint64_t wbinvd = 0x89;
inline constexpr std::uint64_t monitor = 0x8A;
inline constexpr std::uint64_t mwait = 0x8B;
inline constexpr std::uint64_t mwait_conditional = 0x8C;
inline constexpr std::uint64_t xsetbv = 0x8D;
inline constexpr std::uint64_t rdpru = 0x8E;
inline constexpr std::uint64_t efer_write_trap = 0x8F;
inline constexpr std::uint64_t cr0_write_trap = 0x90;  // ..0x9F
inline constexpr std::uint64_t invlpgb = 0xA0;
inline constexpr std::uint64_t invlpgb_illegal = 0xA1;
inline constexpr std::uint64_t invpcid = 0xA2;
inline constexpr std::uint64_t mcommit = 0xA3;
inline constexpr std::uint64_t tlbsync = 0xA4;
inline constexpr std::uint64_t npf = 0x400;
inline constexpr std::uint64_t avic_incomplete_ipi = 0x401;
inline constexpr std::uint64_t avic_noaccel = 0x402;
inline constexpr std::uint64_t vmgexit = 0x403;
// VMRUN found the guest state invalid (APM 15.5.1): -1 as a 64-bit value.
inline constexpr std::uint64_t invalid = ~std::uint64_t{0};
// QEMU 7.2 stores VMEXIT_INVALID as the 32-bit -1 (its exit code
// parameter is 32 bits wide): the same failure.
inline constexpr std::uint64_t invalid_32 = 0xFFFF'FFFF;
// VMRUN of a VMSA already running elsewhere (SEV-ES): -2.
inline constexpr std::uint64_t busy = ~std::uint64_t{0} - 1;
}  // namespace exit_code

// A name for logs; "" for a code this table does not know.
[[nodiscard]] constexpr std::string_view exit_code_name(std::uint64_t code) noexcept {
    switch (code) {
        case exit_code::intr: return "INTR";
        case exit_code::nmi: return "NMI";
        case exit_code::smi: return "SMI";
        case exit_code::init: return "INIT";
        case exit_code::vintr: return "VINTR";
        case exit_code::cpuid: return "CPUID";
        case exit_code::iret: return "IRET";
        case exit_code::pause: return "PAUSE";
        case exit_code::hlt: return "HLT";
        case exit_code::invlpg: return "INVLPG";
        case exit_code::ioio: return "IOIO";
        case exit_code::msr: return "MSR";
        case exit_code::task_switch: return "TASK_SWITCH";
        case exit_code::shutdown: return "SHUTDOWN";
        case exit_code::vmrun: return "VMRUN";
        case exit_code::vmmcall: return "VMMCALL";
        case exit_code::wbinvd: return "WBINVD";
        case exit_code::xsetbv: return "XSETBV";
        case exit_code::npf: return "NPF";
        case exit_code::invalid:
        case exit_code::invalid_32: return "INVALID";
        case exit_code::busy: return "BUSY";
        default: break;
    }
    if (code < 0x10) return "CR_READ";
    if (code < 0x20) return "CR_WRITE";
    if (code < 0x30) return "DR_READ";
    if (code < 0x40) return "DR_WRITE";
    if (code < 0x60) return "EXCEPTION";
    return "";
}

// --- IOIO: EXITINFO1 (APM vol. 2, 15.10.2, figure 15-2) ------------------------
namespace ioio {
inline constexpr std::uint64_t type_in = 1 << 0;  // 1: IN, 0: OUT
inline constexpr std::uint64_t str = 1 << 2;      // INS/OUTS
inline constexpr std::uint64_t rep = 1 << 3;      // REP prefix
inline constexpr std::uint64_t sz8 = 1 << 4;      // operand size, one-hot
inline constexpr std::uint64_t sz16 = 1 << 5;
inline constexpr std::uint64_t sz32 = 1 << 6;
inline constexpr std::uint64_t a16 = 1 << 7;  // address size (string forms), one-hot
inline constexpr std::uint64_t a32 = 1 << 8;
inline constexpr std::uint64_t a64 = 1 << 9;
[[nodiscard]] constexpr unsigned segment(std::uint64_t info1) noexcept { return (info1 >> 10) & 7; }
[[nodiscard]] constexpr Port port(std::uint64_t info1) noexcept { return static_cast<Port>(info1 >> 16); }
}  // namespace ioio

// The IN/OUT of an IOIO intercept; no value if the size bits are not one-hot.
[[nodiscard]] constexpr std::optional<IoAccess> decode_ioio(std::uint64_t info1) noexcept {
    AccessWidth width{};
    switch (info1 & (ioio::sz8 | ioio::sz16 | ioio::sz32)) {
        case ioio::sz8: width = AccessWidth::Byte; break;
        case ioio::sz16: width = AccessWidth::Word; break;
        case ioio::sz32: width = AccessWidth::Dword; break;
        default: return std::nullopt;
    }
    return IoAccess{ioio::port(info1), width, (info1 & ioio::type_in) != 0, (info1 & ioio::str) != 0,
                    (info1 & ioio::rep) != 0};
}

// --- Nested page fault: EXITINFO1 (APM vol. 2, 15.25.6) -------------------------
// The low bits are a #PF error code for the nested walk; EXITINFO2 is the
// faulting guest-physical address.
namespace npf {
inline constexpr std::uint64_t present = 1 << 0;   // a permission fault, not a missing page
inline constexpr std::uint64_t write = 1 << 1;
inline constexpr std::uint64_t user = 1 << 2;
inline constexpr std::uint64_t reserved = 1 << 3;  // a reserved bit set in a nested entry
inline constexpr std::uint64_t fetch = 1 << 4;     // an instruction fetch
inline constexpr std::uint64_t shadow_stack = 1 << 6;
inline constexpr std::uint64_t final_gpa = std::uint64_t{1} << 32;   // the access to the final guest-physical address
inline constexpr std::uint64_t table_walk = std::uint64_t{1} << 33;  // the guest's own page-table walk
}  // namespace npf

// Why a nested page fault was, or was not, an emulatable MMIO access.
enum class NpfKind : std::uint8_t {
    Mmio,              // not present, a data access to the final GPA: decode the instruction
    TableWalk,         // the guest's page tables live in unmapped memory
    InstructionFetch,  // the guest executed from an unmapped GPA
    Permission,        // the page is mapped: a protection fault (write to read-only, ...)
    Reserved,          // a malformed nested entry: the VMM's tables are wrong
};

[[nodiscard]] constexpr std::string_view name(NpfKind kind) noexcept {
    constexpr std::array<std::string_view, 5> names{"Mmio", "TableWalk", "InstructionFetch", "Permission", "Reserved"};
    return names[static_cast<usize>(kind)];
}

template <fmt::Sink S>
constexpr void print_to(S& out, NpfKind kind) {
    out.write(name(kind));
}

[[nodiscard]] constexpr NpfKind classify_npf(std::uint64_t info1) noexcept {
    if ((info1 & npf::reserved) != 0) return NpfKind::Reserved;
    if ((info1 & npf::table_walk) != 0) return NpfKind::TableWalk;
    if ((info1 & npf::fetch) != 0) return NpfKind::InstructionFetch;
    if ((info1 & npf::present) != 0) return NpfKind::Permission;
    return NpfKind::Mmio;
}

[[nodiscard]] constexpr MappingFlags npf_access_flags(std::uint64_t info1) noexcept {
    if ((info1 & npf::fetch) != 0) return MappingFlags{MappingFlags::EXECUTE};
    return MappingFlags{(info1 & npf::write) != 0 ? MappingFlags::WRITE : MappingFlags::READ};
}

// --- One #VMEXIT ----------------------------------------------------------------

// The VMCB words of the last exit, for decoding and diagnostics.
struct TrapRecord {
    static constexpr std::string_view type_name = "TrapRecord";
    std::uint64_t exit_code = 0;
    std::uint64_t exit_info1 = 0;
    std::uint64_t exit_info2 = 0;
    std::uint64_t exit_int_info = 0;  // an event that was being delivered when the exit happened
    std::uint64_t rip = 0;            // the guest RIP the exit left in the VMCB
    // INTR only: SVM does not say which interrupt is pending (APM 15.21.3:
    // the host takes it once GIF is set again); the policy records the
    // vector its host handler took here before decoding.
    std::uint64_t host_vector = 0;
    constexpr bool operator==(const TrapRecord&) const noexcept = default;
};

using axvcpu::print_to;

// Decodes one #VMEXIT. `regs` holds the guest GPRs (RAX copied from the
// VMCB); `insn` the bytes at RIP, read only for a nested page fault.
//
// VMMCALL -> Hypercall (RIP + 3); IOIO -> IoRead/IoWrite (RIP = EXITINFO2;
// string and REP forms: DecodeError::StringIo); NPF -> MmioRead/MmioWrite
// when classify_npf says Mmio and the instruction decodes as an access in
// the faulting direction (RIP + its length), else NestedPageFault at
// EXITINFO2 with RIP kept; HLT -> Halt (RIP + 1); MSR -> SysRegRead /
// SysRegWrite (RIP + 2); INTR -> ExternalInterrupt; SHUTDOWN (a triple
// fault) -> SystemDown; VMEXIT_INVALID / BUSY -> FailEntry with the exit
// code. Every other code is DecodeError::UnknownExit: CPUID, XSETBV,
// VINTR and CR intercepts are the policy's own business, never a guess.
[[nodiscard]] constexpr DecodeResult decode_exit(const TrapRecord& trap, const Gprs& regs,
                                                 const InstructionBytes& insn) noexcept {
    using boost::outcome_v2::failure;
    switch (trap.exit_code) {
        case exit_code::vmmcall: return Decoded{hypercall_from(regs), vmmcall_length};
        case exit_code::ioio: {
            const std::optional<IoAccess> io = decode_ioio(trap.exit_info1);
            if (!io) return failure(DecodeError::BadIoSize);
            // EXITINFO2 is the RIP of the next instruction (APM 15.10.2).
            const std::uint64_t length = trap.exit_info2 - trap.rip;
            if (length == 0 || length > max_instruction_length) return failure(DecodeError::BadLength);
            return io_exit(*io, regs, length);
        }
        case exit_code::npf: {
            const GuestPhysAddr gpa(static_cast<usize>(trap.exit_info2));
            const bool candidate = classify_npf(trap.exit_info1) == NpfKind::Mmio;
            return nested_fault_exit(gpa, npf_access_flags(trap.exit_info1), candidate,
                                     candidate ? decode_mmio_instruction(insn) : InsnResult(failure(InsnError::Unsupported)),
                                     (trap.exit_info1 & npf::write) != 0, regs);
        }
        case exit_code::hlt: return Decoded{exit::Halt{}, hlt_length};
        case exit_code::msr:
            // EXITINFO1: 0 for RDMSR, 1 for WRMSR (APM 15.11).
            if (trap.exit_info1 == 0) return Decoded{msr_read_exit(regs), msr_instruction_length};
            if (trap.exit_info1 == 1) return Decoded{msr_write_exit(regs), msr_instruction_length};
            return failure(DecodeError::BadMsrAccess);
        case exit_code::intr: return Decoded{exit::ExternalInterrupt{trap.host_vector}, 0};
        case exit_code::shutdown: return Decoded{exit::SystemDown{}, 0};
        case exit_code::invalid:
        case exit_code::invalid_32:
        case exit_code::busy: return Decoded{exit::FailEntry{trap.exit_code}, 0};
        default: return failure(DecodeError::UnknownExit);
    }
}

}  // namespace axvcpu::x86_64::svm

AXVCPU_ADAPT_STRUCT(axvcpu::x86_64::svm::TrapRecord, exit_code, exit_info1, exit_info2, exit_int_info, rip, host_vector);
