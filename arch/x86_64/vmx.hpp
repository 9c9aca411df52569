// Intel VMX exits: the basic exit reasons, the exit qualifications of I/O,
// control-register and EPT-violation exits, the VM-instruction error
// numbers, and the pure mapping of one VM exit into an AxVCpuExitReason
// (Intel SDM vol. 3C: chapter 28 "VM Exits", 31.4 "VM Instruction Error
// Numbers", appendix C "VMX Basic Exit Reasons"; section numbers of the
// 2023 edition).
//
// QEMU cannot run VMX (PLATFORM.md): this is proven by host tests with
// recorded values (test/x86_64/vmx_test.cpp) and freestanding builds.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "arch/x86_64/exit_decode.hpp"
#include "axvcpu/reflect.hpp"

namespace axvcpu::x86_64::vmx {

// Basic exit reasons (SDM vol. 3D appendix C, table C-1): bits 15:0 of the
// exit-reason field.
namespace exit_reason {
inline constexpr std::uint32_t exception_or_nmi = 0;
inline constexpr std::uint32_t external_interrupt = 1;
inline constexpr std::uint32_t triple_fault = 2;
inline constexpr std::uint32_t init_signal = 3;
inline constexpr std::uint32_t sipi = 4;
inline constexpr std::uint32_t io_smi = 5;
inline constexpr std::uint32_t other_smi = 6;
inline constexpr std::uint32_t interrupt_window = 7;
inline constexpr std::uint32_t nmi_window = 8;
inline constexpr std::uint32_t task_switch = 9;
inline constexpr std::uint32_t cpuid = 10;
inline constexpr std::uint32_t getsec = 11;
inline constexpr std::uint32_t hlt = 12;
inline constexpr std::uint32_t invd = 13;
inline constexpr std::uint32_t invlpg = 14;
inline constexpr std::uint32_t rdpmc = 15;
inline constexpr std::uint32_t rdtsc = 16;
inline constexpr std::uint32_t rsm = 17;
inline constexpr std::uint32_t vmcall = 18;
inline constexpr std::uint32_t vmclear = 19;
inline constexpr std::uint32_t vmlaunch = 20;
inline constexpr std::uint32_t vmptrld = 21;
inline constexpr std::uint32_t vmptrst = 22;
inline constexpr std::uint32_t vmread = 23;
inline constexpr std::uint32_t vmresume = 24;
inline constexpr std::uint32_t vmwrite = 25;
inline constexpr std::uint32_t vmxoff = 26;
inline constexpr std::uint32_t vmxon = 27;
inline constexpr std::uint32_t cr_access = 28;
inline constexpr std::uint32_t dr_access = 29;
inline constexpr std::uint32_t io_instruction = 30;
inline constexpr std::uint32_t rdmsr = 31;
inline constexpr std::uint32_t wrmsr = 32;
inline constexpr std::uint32_t invalid_guest_state = 33;  // VM-entry failure
inline constexpr std::uint32_t msr_loading = 34;          // VM-entry failure
inline constexpr std::uint32_t mwait = 36;
inline constexpr std::uint32_t monitor_trap_flag = 37;
inline constexpr std::uint32_t monitor = 39;
inline constexpr std::uint32_t pause = 40;
inline constexpr std::uint32_t machine_check = 41;  // VM-entry failure
inline constexpr std::uint32_t tpr_below_threshold = 43;
inline constexpr std::uint32_t apic_access = 44;
inline constexpr std::uint32_t virtualized_eoi = 45;
inline constexpr std::uint32_t gdtr_idtr_access = 46;
inline constexpr std::uint32_t ldtr_tr_access = 47;
inline constexpr std::uint32_t ept_violation = 48;
inline constexpr std::uint32_t ept_misconfig = 49;
inline constexpr std::uint32_t invept = 50;
inline constexpr std::uint32_t rdtscp = 51;
inline constexpr std::uint32_t preemption_timer = 52;
inline constexpr std::uint32_t invvpid = 53;
inline constexpr std::uint32_t wbinvd = 54;
inline constexpr std::uint32_t xsetbv = 55;
inline constexpr std::uint32_t apic_write = 56;
inline constexpr std::uint32_t rdrand = 57;
inline constexpr std::uint32_t invpcid = 58;
inline constexpr std::uint32_t vmfunc = 59;
inline constexpr std::uint32_t encls = 60;
inline constexpr std::uint32_t rdseed = 61;
inline constexpr std::uint32_t pml_full = 62;
inline constexpr std::uint32_t xsaves = 63;
inline constexpr std::uint32_t xrstors = 64;
inline constexpr std::uint32_t pconfig = 65;
inline constexpr std::uint32_t spp_event = 66;
inline constexpr std::uint32_t umwait = 67;
inline constexpr std::uint32_t tpause = 68;
inline constexpr std::uint32_t loadiwkey = 69;
inline constexpr std::uint32_t enclv = 70;
inline constexpr std::uint32_t enqcmd_pasid_failure = 72;
inline constexpr std::uint32_t enqcmds_pasid_failure = 73;
inline constexpr std::uint32_t bus_lock = 74;
inline constexpr std::uint32_t instruction_timeout = 75;
inline constexpr std::uint32_t seamcall = 76;
inline constexpr std::uint32_t tdcall = 77;

// Bits of the 32-bit exit-reason field above the basic reason (SDM vol.
// 3C, 25.9.1 table 25-18).
inline constexpr std::uint32_t from_enclave = 1u << 27;
inline constexpr std::uint32_t pending_mtf = 1u << 28;
inline constexpr std::uint32_t from_vmx_root = 1u << 29;
inline constexpr std::uint32_t entry_failure = 1u << 31;

[[nodiscard]] constexpr std::uint32_t basic(std::uint32_t field) noexcept { return field & 0xFFFF; }
}  // namespace exit_reason

// A name for logs; "" for a number the SDM does not assign (35, 38, 42, 71).
[[nodiscard]] constexpr std::string_view exit_reason_name(std::uint32_t basic) noexcept {
    constexpr std::array<std::string_view, 78> names{
        "EXCEPTION_NMI", "EXTERNAL_INTERRUPT", "TRIPLE_FAULT", "INIT", "SIPI", "IO_SMI", "OTHER_SMI",
        "INTERRUPT_WINDOW", "NMI_WINDOW", "TASK_SWITCH", "CPUID", "GETSEC", "HLT", "INVD", "INVLPG", "RDPMC",
        "RDTSC", "RSM", "VMCALL", "VMCLEAR", "VMLAUNCH", "VMPTRLD", "VMPTRST", "VMREAD", "VMRESUME", "VMWRITE",
        "VMXOFF", "VMXON", "CR_ACCESS", "DR_ACCESS", "IO_INSTRUCTION", "RDMSR", "WRMSR", "INVALID_GUEST_STATE",
        "MSR_LOADING", "", "MWAIT", "MONITOR_TRAP_FLAG", "", "MONITOR", "PAUSE", "MACHINE_CHECK", "",
        "TPR_BELOW_THRESHOLD", "APIC_ACCESS", "VIRTUALIZED_EOI", "GDTR_IDTR_ACCESS", "LDTR_TR_ACCESS",
        "EPT_VIOLATION", "EPT_MISCONFIG", "INVEPT", "RDTSCP", "PREEMPTION_TIMER", "INVVPID", "WBINVD", "XSETBV",
        "APIC_WRITE", "RDRAND", "INVPCID", "VMFUNC", "ENCLS", "RDSEED", "PML_FULL", "XSAVES", "XRSTORS", "PCONFIG",
        "SPP_EVENT", "UMWAIT", "TPAUSE", "LOADIWKEY", "ENCLV", "", "ENQCMD_PASID_FAILURE",
        "ENQCMDS_PASID_FAILURE", "BUS_LOCK", "INSTRUCTION_TIMEOUT", "SEAMCALL", "TDCALL"};
    return basic < names.size() ? names[basic] : std::string_view{};
}

// --- Exit qualifications ---------------------------------------------------------

// I/O instructions (SDM vol. 3C, 28.2.1 table 28-5): size 0/1/3 for 1/2/4
// bytes (2 is not used), bit 3 IN, bit 4 string, bit 5 REP, bit 6 the port
// was an immediate, bits 31:16 the port.
struct IoQualification {
    IoAccess access;
    bool immediate_port = false;
    constexpr bool operator==(const IoQualification&) const noexcept = default;
};

[[nodiscard]] constexpr std::optional<IoQualification> decode_io_qualification(std::uint64_t q) noexcept {
    AccessWidth width{};
    switch (q & 7) {
        case 0: width = AccessWidth::Byte; break;
        case 1: width = AccessWidth::Word; break;
        case 3: width = AccessWidth::Dword; break;
        default: return std::nullopt;
    }
    return IoQualification{IoAccess{static_cast<Port>(q >> 16), width, (q & (1 << 3)) != 0, (q & (1 << 4)) != 0,
                                    (q & (1 << 5)) != 0},
                           (q & (1 << 6)) != 0};
}

// The qualification's string and REP bits, which the policy answers itself.
namespace io_qualification {
inline constexpr std::uint64_t string = 1u << 4;
inline constexpr std::uint64_t rep = 1u << 5;
}  // namespace io_qualification

// Control-register accesses (SDM vol. 3C, 28.2.1 table 28-3).
enum class CrAccessType : std::uint8_t { MovToCr, MovFromCr, Clts, Lmsw };

struct CrAccess {
    unsigned cr = 0;  // bits 3:0: 0, 3, 4 or 8
    CrAccessType type = CrAccessType::MovToCr;
    bool lmsw_memory = false;   // bit 6: LMSW's operand was in memory
    usize gpr = 0;              // bits 11:8: the MOV's general-purpose register (Gprs numbering)
    std::uint16_t lmsw_source = 0;  // bits 31:16: LMSW's source data
    constexpr bool operator==(const CrAccess&) const noexcept = default;
};

[[nodiscard]] constexpr CrAccess decode_cr_qualification(std::uint64_t q) noexcept {
    return CrAccess{static_cast<unsigned>(q & 0xF), static_cast<CrAccessType>((q >> 4) & 3), (q & (1 << 6)) != 0,
                    static_cast<usize>((q >> 8) & 0xF), static_cast<std::uint16_t>(q >> 16)};
}

// EPT violations (SDM vol. 3C, 28.2.1 table 28-7).
namespace ept {
inline constexpr std::uint64_t read = 1 << 0;
inline constexpr std::uint64_t write = 1 << 1;
inline constexpr std::uint64_t fetch = 1 << 2;
inline constexpr std::uint64_t readable = 1 << 3;    // the EPT entries allowed reads
inline constexpr std::uint64_t writable = 1 << 4;
inline constexpr std::uint64_t executable = 1 << 5;  // (supervisor-mode executable with mode-based control)
inline constexpr std::uint64_t user_executable = 1 << 6;
inline constexpr std::uint64_t linear_valid = 1 << 7;      // the guest-linear-address field is valid
inline constexpr std::uint64_t translated = 1 << 8;        // with bit 7: the final access, not a paging walk
inline constexpr std::uint64_t nmi_unblocking = 1 << 12;   // re-block NMIs before resuming (SDM 28.2.3)
inline constexpr std::uint64_t shadow_stack = 1 << 13;
}  // namespace ept

// Why an EPT violation was, or was not, an emulatable MMIO access.
enum class EptKind : std::uint8_t {
    Mmio,              // a data access to an unmapped GPA through a linear address: decode the instruction
    TableWalk,         // the guest's paging-structure walk touched an unmapped GPA
    InstructionFetch,  // the guest executed from an unmapped GPA
    Permission,        // the GPA is mapped (bits 5:3 not 0): a protection fault
    NoLinearAddress,   // not from a linear-address access (e.g. a VMCS-pointed structure)
};

[[nodiscard]] constexpr std::string_view name(EptKind kind) noexcept {
    constexpr std::array<std::string_view, 5> names{"Mmio", "TableWalk", "InstructionFetch", "Permission",
                                                    "NoLinearAddress"};
    return names[static_cast<usize>(kind)];
}

template <fmt::Sink S>
constexpr void print_to(S& out, EptKind kind) {
    out.write(name(kind));
}

[[nodiscard]] constexpr EptKind classify_ept_violation(std::uint64_t q) noexcept {
    if ((q & ept::fetch) != 0) return EptKind::InstructionFetch;
    if ((q & (ept::readable | ept::writable | ept::executable)) != 0) return EptKind::Permission;
    if ((q & ept::linear_valid) == 0) return EptKind::NoLinearAddress;
    if ((q & ept::translated) == 0) return EptKind::TableWalk;
    return EptKind::Mmio;
}

[[nodiscard]] constexpr MappingFlags ept_access_flags(std::uint64_t q) noexcept {
    std::uint32_t bits = 0;
    if ((q & ept::read) != 0) bits |= MappingFlags::READ;
    if ((q & ept::write) != 0) bits |= MappingFlags::WRITE;
    if ((q & ept::fetch) != 0) bits |= MappingFlags::EXECUTE;
    return MappingFlags{bits};
}

// --- VM-instruction errors (SDM vol. 3C, 31.4 table 31-1) -------------------------
// The VMCS's VM-instruction error field after a VMX instruction failed with
// ZF = 1 (VMfailValid).
namespace vm_instruction_error {
inline constexpr std::uint32_t vmcall_in_root = 1;
inline constexpr std::uint32_t vmclear_invalid_address = 2;
inline constexpr std::uint32_t vmclear_vmxon_pointer = 3;
inline constexpr std::uint32_t vmlaunch_non_clear = 4;
inline constexpr std::uint32_t vmresume_non_launched = 5;
inline constexpr std::uint32_t vmresume_after_vmxoff = 6;
inline constexpr std::uint32_t entry_invalid_control = 7;
inline constexpr std::uint32_t entry_invalid_host_state = 8;
inline constexpr std::uint32_t vmptrld_invalid_address = 9;
inline constexpr std::uint32_t vmptrld_vmxon_pointer = 10;
inline constexpr std::uint32_t vmptrld_bad_revision = 11;
inline constexpr std::uint32_t unsupported_component = 12;
inline constexpr std::uint32_t vmwrite_read_only = 13;
inline constexpr std::uint32_t vmxon_in_root = 15;
inline constexpr std::uint32_t entry_invalid_executive_vmcs = 16;
inline constexpr std::uint32_t entry_non_launched_executive_vmcs = 17;
inline constexpr std::uint32_t entry_executive_not_vmxon = 18;
inline constexpr std::uint32_t vmcall_non_clear = 19;
inline constexpr std::uint32_t vmcall_invalid_exit_controls = 20;
inline constexpr std::uint32_t vmcall_bad_mseg_revision = 22;
inline constexpr std::uint32_t vmxoff_dual_monitor = 23;
inline constexpr std::uint32_t vmcall_invalid_smm_features = 24;
inline constexpr std::uint32_t entry_invalid_executive_controls = 25;
inline constexpr std::uint32_t entry_blocked_by_mov_ss = 26;
inline constexpr std::uint32_t invalid_invept_invvpid_operand = 28;
}  // namespace vm_instruction_error

// The SDM's description, for logs; "" for an unassigned number (0, 14, 21, 27).
[[nodiscard]] constexpr std::string_view vm_instruction_error_name(std::uint32_t number) noexcept {
    constexpr std::array<std::string_view, 29> names{
        "",
        "VMCALL executed in VMX root operation",
        "VMCLEAR with invalid physical address",
        "VMCLEAR with VMXON pointer",
        "VMLAUNCH with non-clear VMCS",
        "VMRESUME with non-launched VMCS",
        "VMRESUME after VMXOFF",
        "VM entry with invalid control field(s)",
        "VM entry with invalid host-state field(s)",
        "VMPTRLD with invalid physical address",
        "VMPTRLD with VMXON pointer",
        "VMPTRLD with incorrect VMCS revision identifier",
        "VMREAD/VMWRITE from/to unsupported VMCS component",
        "VMWRITE to read-only VMCS component",
        "",
        "VMXON executed in VMX root operation",
        "VM entry with invalid executive-VMCS pointer",
        "VM entry with non-launched executive VMCS",
        "VM entry with executive-VMCS pointer not VMXON pointer",
        "VMCALL with non-clear VMCS",
        "VMCALL with invalid VM-exit control fields",
        "",
        "VMCALL with incorrect MSEG revision identifier",
        "VMXOFF under dual-monitor treatment of SMIs and SMM",
        "VMCALL with invalid SMM-monitor features",
        "VM entry with invalid VM-execution control fields in executive VMCS",
        "VM entry with events blocked by MOV SS",
        "",
        "Invalid operand to INVEPT/INVVPID"};
    return number < names.size() ? names[number] : std::string_view{};
}

// FailEntry's reason when VMLAUNCH/VMRESUME failed as an instruction
// (31.2): bit 32 set and the VM-instruction error below it (0 for
// VMfailInvalid: no current VMCS). A VM entry that failed its guest-state
// or MSR-loading checks is a VM exit instead (28.8), reported as its basic
// exit reason (33, 34 or 41), below 2^16.
inline constexpr std::uint64_t instruction_failure = std::uint64_t{1} << 32;
[[nodiscard]] constexpr std::uint64_t entry_instruction_failure(std::uint32_t vm_instruction_error) noexcept {
    return instruction_failure | vm_instruction_error;
}

// --- One VM exit -----------------------------------------------------------------

// The VMCS exit-information fields of the last exit (read-only data fields,
// SDM vol. 3C, 25.9), for decoding and diagnostics.
struct TrapRecord {
    static constexpr std::string_view type_name = "TrapRecord";
    std::uint32_t exit_reason = 0;        // the full field, entry-failure bit included
    std::uint64_t qualification = 0;
    std::uint64_t guest_physical = 0;     // EPT violations and misconfigurations
    std::uint32_t instruction_length = 0; // valid for VMCALL, I/O, HLT, RDMSR/WRMSR and other instruction exits
    std::uint32_t interruption_info = 0;  // VM-exit interruption information
    std::uint64_t rip = 0;
    constexpr bool operator==(const TrapRecord&) const noexcept = default;
};

using axvcpu::print_to;

// VM-exit interruption information (SDM vol. 3C, 25.9.2 table 25-19):
// vector in bits 7:0, valid in bit 31.
inline constexpr std::uint32_t interruption_valid = 1u << 31;

// Decodes one VM exit, with the same outcomes as svm::decode_exit: VMCALL
// -> Hypercall; I/O -> IoRead/IoWrite (string/REP: StringIo); EPT
// violation -> MmioRead/MmioWrite (RIP + decoded length, since the
// instruction-length field is undefined for it) or NestedPageFault; HLT ->
// Halt; RDMSR/WRMSR -> SysRegRead/SysRegWrite; external interrupt (with
// "acknowledge interrupt on exit") -> ExternalInterrupt with its vector;
// triple fault -> SystemDown; a failed VM entry (bit 31) -> FailEntry with
// the basic reason (33, 34 or 41). Instruction exits advance RIP by the
// VM-exit instruction length (SDM 28.2.5).
[[nodiscard]] constexpr DecodeResult decode_exit(const TrapRecord& trap, const Gprs& regs,
                                                 const InstructionBytes& insn) noexcept {
    using boost::outcome_v2::failure;
    const std::uint32_t basic = exit_reason::basic(trap.exit_reason);
    if ((trap.exit_reason & exit_reason::entry_failure) != 0) return Decoded{exit::FailEntry{basic}, 0};
    const std::uint64_t length = trap.instruction_length;
    const bool length_ok = length >= 1 && length <= max_instruction_length;
    switch (basic) {
        case exit_reason::vmcall:
            if (!length_ok) return failure(DecodeError::BadLength);
            return Decoded{hypercall_from(regs), length};
        case exit_reason::io_instruction: {
            const std::optional<IoQualification> io = decode_io_qualification(trap.qualification);
            if (!io) return failure(DecodeError::BadIoSize);
            if (!length_ok) return failure(DecodeError::BadLength);
            return io_exit(io->access, regs, length);
        }
        case exit_reason::ept_violation: {
            const GuestPhysAddr gpa(static_cast<usize>(trap.guest_physical));
            const bool candidate = classify_ept_violation(trap.qualification) == EptKind::Mmio;
            return nested_fault_exit(gpa, ept_access_flags(trap.qualification), candidate,
                                     candidate ? decode_mmio_instruction(insn) : InsnResult(failure(InsnError::Unsupported)),
                                     (trap.qualification & ept::write) != 0, regs);
        }
        case exit_reason::ept_misconfig: return failure(DecodeError::EptMisconfig);
        case exit_reason::hlt:
            if (!length_ok) return failure(DecodeError::BadLength);
            return Decoded{exit::Halt{}, length};
        case exit_reason::rdmsr:
        case exit_reason::wrmsr:
            if (!length_ok) return failure(DecodeError::BadLength);
            if (basic == exit_reason::rdmsr) return Decoded{msr_read_exit(regs), length};
            return Decoded{msr_write_exit(regs), length};
        case exit_reason::external_interrupt:
            if ((trap.interruption_info & interruption_valid) == 0) return failure(DecodeError::NoVector);
            return Decoded{exit::ExternalInterrupt{trap.interruption_info & 0xFF}, 0};
        case exit_reason::triple_fault: return Decoded{exit::SystemDown{}, 0};
        default: return failure(DecodeError::UnknownExit);
    }
}

}  // namespace axvcpu::x86_64::vmx

AXVCPU_ADAPT_STRUCT(axvcpu::x86_64::vmx::TrapRecord, exit_reason, qualification, guest_physical, instruction_length,
                    interruption_info, rip);
