// libFuzzer harness: the aarch64 synchronous-exit decoder (decode_sync,
// classify_abort, decode_sgi1r, mmio_load_value) on fuzzed ESR/FAR/HPFAR
// values and a fuzzed register file. Input: mode byte, ESR (8 bytes), FAR,
// HPFAR, ELR, raw MMIO value, an affinity byte, then x0..x30 (8 bytes each,
// zero once the input ends). Mode bit 0 forces EC = 0x24 (data abort), bit
// 1 sets ISV, so short seeds reach the MMIO path.
#include <arch/aarch64/exit_decode.hpp>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::aarch64;

namespace {

bool legal_width(AccessWidth w) { return static_cast<std::uint64_t>(w) <= static_cast<std::uint64_t>(AccessWidth::Qword); }

// mmio_load_value's contract, stated bit by bit: the access's bits are the
// raw bytes, the bits above up to the register's width all copy the sign
// bit (SSE) or are zero, and a W register's upper half is zero. A
// doubleword access has an X register (SF = 1) whatever the syndrome says:
// no hardware reports SAS = 3 with SF = 0, a fuzzed ESR does.
void check_load_value(const exit::MmioRead& read, std::uint64_t raw) {
    const std::uint64_t value = mmio_load_value(read, raw);
    const unsigned bits = static_cast<unsigned>(size_in_bits(read.width));
    const unsigned reg_bits = read.reg_width == AccessWidth::Dword && bits < 64 ? 32 : 64;
    const bool sign = read.signed_ext && ((raw >> (bits - 1)) & 1) != 0;
    for (unsigned i = 0; i < 64; ++i) {
        const bool got = ((value >> i) & 1) != 0;
        bool want;
        if (i >= reg_bits) want = false;
        else if (i < bits) want = ((raw >> i) & 1) != 0;
        else want = sign;
        FUZZ_CHECK(got == want);
    }
    if (reg_bits == 32) FUZZ_CHECK((value >> 32) == 0);
}

void check_sgi1r(std::uint64_t value) {
    const exit::SendIPI ipi = decode_sgi1r(value);
    FUZZ_CHECK(ipi.target_cpu_aux == (value & 0xFFFF));
    FUZZ_CHECK(ipi.vector <= 15 && ipi.vector == ((value >> 24) & 0xF));
    FUZZ_CHECK(ipi.send_to_all == (((value >> 40) & 1) != 0));
    FUZZ_CHECK(!ipi.send_to_self);
    FUZZ_CHECK(((ipi.target_cpu >> 8) & 0xFF) == ((value >> 16) & 0xFF));   // Aff1
    FUZZ_CHECK(((ipi.target_cpu >> 16) & 0xFF) == ((value >> 32) & 0xFF));  // Aff2
    FUZZ_CHECK(((ipi.target_cpu >> 32) & 0xFF) == ((value >> 48) & 0xFF));  // Aff3
    FUZZ_CHECK((ipi.target_cpu & 0xFF) == ((value >> 44) & 0xF) * 16);      // RS * 16
    FUZZ_CHECK((ipi.target_cpu & ~std::uint64_t{0xFF'00FF'FFFF}) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    const std::uint8_t mode = in.u8();
    TrapRecord trap;
    trap.esr = in.u64();
    if (mode & 1) trap.esr = (trap.esr & ~(std::uint64_t{0x3F} << 26)) | (std::uint64_t{esr::ec_dabt_lower} << 26);
    if (mode & 2) trap.esr |= esr::isv;
    trap.far = in.u64();
    trap.hpfar = in.u64();
    trap.elr = in.u64();
    const std::uint64_t raw = in.u64();
    const std::uint8_t affinity = in.u8();
    Gprs x{};
    for (auto& reg : x) reg = in.u64();

    const GuestPhysAddr gpa = fault_gpa(trap);
    FUZZ_CHECK((gpa.value() & 0xFFF) == (trap.far & 0xFFF));
    FUZZ_CHECK((gpa.value() >> 12) == ((trap.hpfar >> 4) & 0xFF'FFFF'FFFF));

    const std::uint32_t ec = esr::ec(trap.esr);
    const std::uint32_t iss = esr::iss(trap.esr);
    const AbortKind kind = classify_abort(trap.esr);
    FUZZ_CHECK(static_cast<unsigned>(kind) <= static_cast<unsigned>(AbortKind::Unsupported));
    FUZZ_CHECK(!name(kind).empty());
    // Mmio only for a data-abort translation fault with ISV, no CM, no S1PTW.
    if (kind == AbortKind::Mmio) {
        FUZZ_CHECK(ec == esr::ec_dabt_lower && (iss & esr::isv) != 0 && (iss & esr::cm) == 0 &&
                   (iss & esr::s1ptw) == 0 && (esr::fsc(iss) & 0x3C) == 0x04);
    }

    std::uint64_t queried = 0;
    bool asked = false;
    auto affinity_is_on = [&](std::uint64_t mpidr) -> std::optional<bool> {
        asked = true;
        queried = mpidr;
        if (affinity & 1) return std::nullopt;
        return (affinity & 2) != 0;
    };
    const DecodeResult result = decode_sync(trap, gpa, x, affinity_is_on);
    // AFFINITY_INFO asks about x1's affinity fields (its low half for the
    // SMC32/HVC32 function).
    if (asked) FUZZ_CHECK((queried & ~std::uint64_t{0xFF'00FF'FFFF}) == 0 && queried == (smccc_arg(x, 1) & 0xFF'00FF'FFFF));

    const bool abort_ec = ec == esr::ec_dabt_lower || ec == esr::ec_iabt_lower;
    const bool modelled = abort_ec || ec == esr::ec_wfx || ec == esr::ec_hvc64 || ec == esr::ec_smc64 ||
                          ec == esr::ec_sysreg;
    if (!result.has_value()) {
        // Refusals: an unmodelled class, or an abort this policy cannot name.
        if (!modelled) FUZZ_CHECK(result.error() == DecodeError::UnknownException);
        else FUZZ_CHECK(abort_ec && kind == AbortKind::Unsupported && result.error() == DecodeError::UnsupportedAbort);
        return 0;
    }
    FUZZ_CHECK(modelled);
    FUZZ_CHECK(!(abort_ec && kind == AbortKind::Unsupported));
    const Decoded& d = result.value();
    // The PC moves exactly as elr_advance() says.
    FUZZ_CHECK((d.pc == PcAction::Advance) == (elr_advance(trap.esr) == 4));
    FUZZ_CHECK(trap_pc(trap) == trap.elr - (ec == esr::ec_hvc64 ? 4 : 0));

    if (const auto* read = d.reason.get_if<exit::MmioRead>()) {
        FUZZ_CHECK(ec == esr::ec_dabt_lower && kind == AbortKind::Mmio && (iss & esr::wnr) == 0);
        FUZZ_CHECK(legal_width(read->width) && read->width == static_cast<AccessWidth>(esr::sas(iss)));
        FUZZ_CHECK(read->reg <= 31 && read->reg == esr::srt(iss));
        FUZZ_CHECK(read->reg_width == ((iss & esr::sf) != 0 ? AccessWidth::Qword : AccessWidth::Dword));
        FUZZ_CHECK(static_cast<bool>(read->signed_ext) == ((iss & esr::sse) != 0));
        FUZZ_CHECK(read->addr == gpa);
        FUZZ_CHECK(d.pc == PcAction::Advance && !d.x0);
        check_load_value(*read, raw);
    } else if (const auto* write = d.reason.get_if<exit::MmioWrite>()) {
        FUZZ_CHECK(ec == esr::ec_dabt_lower && kind == AbortKind::Mmio && (iss & esr::wnr) != 0);
        FUZZ_CHECK(legal_width(write->width) && write->width == static_cast<AccessWidth>(esr::sas(iss)));
        const usize srt = esr::srt(iss);
        // Register 31 is xzr for a store: the data is zero.
        const std::uint64_t source = srt == 31 ? 0 : x[srt];
        FUZZ_CHECK(write->data == (source & fuzz::width_mask(write->width)));
        FUZZ_CHECK(write->addr == gpa);
        FUZZ_CHECK(d.pc == PcAction::Advance && !d.x0);
    } else if (const auto* fault = d.reason.get_if<exit::NestedPageFault>()) {
        FUZZ_CHECK(abort_ec && kind != AbortKind::Mmio && kind != AbortKind::Unsupported);
        FUZZ_CHECK(fault->addr == gpa);
        std::uint32_t want = MappingFlags::EXECUTE;
        if (ec == esr::ec_dabt_lower) want = (iss & esr::wnr) != 0 ? MappingFlags::WRITE : MappingFlags::READ;
        FUZZ_CHECK(fault->access_flags.bits == want);
        FUZZ_CHECK(d.pc == PcAction::Keep && !d.x0);
    } else {
        // Not an abort: nothing in this branch came from the abort decoder.
        FUZZ_CHECK(!abort_ec);
        const bool psci_call = (ec == esr::ec_hvc64 || ec == esr::ec_smc64) && psci::in_psci_range(x[0]);
        if (d.reason.is<exit::Halt>()) {
            FUZZ_CHECK(ec == esr::ec_wfx || psci_call);
        } else if (const auto* up = d.reason.get_if<exit::CpuUp>()) {
            // SMC32/HVC32 (function id bit 30 clear): 32-bit arguments.
            const std::uint64_t narrow = (x[0] & 0x4000'0000) != 0 ? ~std::uint64_t{0} : 0xFFFF'FFFF;
            FUZZ_CHECK(psci_call && up->target_cpu == (x[1] & narrow) && up->entry_point == GuestPhysAddr(x[2] & narrow) &&
                       up->arg == (x[3] & narrow));
        } else if (d.reason.is<exit::CpuDown>() || d.reason.is<exit::SystemDown>()) {
            FUZZ_CHECK(psci_call && !d.x0);
        } else if (d.reason.is<exit::Nothing>()) {
            FUZZ_CHECK(d.answered() && d.x0.has_value() && (ec == esr::ec_hvc64 || ec == esr::ec_smc64));
            if (!psci_call) FUZZ_CHECK(ec == esr::ec_smc64 && *d.x0 == static_cast<std::uint64_t>(psci::not_supported));
        } else if (const auto* call = d.reason.get_if<exit::Hypercall>()) {
            FUZZ_CHECK(ec == esr::ec_hvc64 && !psci_call && call->nr == x[0]);
            for (usize i = 0; i < 6; ++i) FUZZ_CHECK(call->args[i] == x[i + 1]);
        } else if (const auto* sr = d.reason.get_if<exit::SysRegRead>()) {
            FUZZ_CHECK(ec == esr::ec_sysreg && (iss & 1) != 0 && sr->reg == ((iss >> 5) & 0x1F));
            FUZZ_CHECK(sr->addr.value == (iss & sysreg_addr_mask));
        } else if (const auto* sw = d.reason.get_if<exit::SysRegWrite>()) {
            FUZZ_CHECK(ec == esr::ec_sysreg && (iss & 1) == 0 && sw->addr.value == (iss & sysreg_addr_mask));
            FUZZ_CHECK(sw->addr != sysregs::icc_sgi1r_el1);
            FUZZ_CHECK(sw->value == read_gpr(x, (iss >> 5) & 0x1F));
        } else if (const auto* ipi = d.reason.get_if<exit::SendIPI>()) {
            FUZZ_CHECK(ec == esr::ec_sysreg && (iss & 1) == 0 && SysRegAddr{iss & sysreg_addr_mask} == sysregs::icc_sgi1r_el1);
            const std::uint64_t value = read_gpr(x, (iss >> 5) & 0x1F);
            FUZZ_CHECK(ipi->target_cpu == decode_sgi1r(value).target_cpu && ipi->vector == ((value >> 24) & 0xF));
        } else {
            FUZZ_CHECK(false && "decode_sync returned an exit kind it never documents");
        }
    }

    // The two free-standing helpers on fuzzed values as well.
    check_sgi1r(raw ^ x[0]);
    exit::MmioRead any{gpa, static_cast<AccessWidth>(mode >> 4 & 3), 0, (mode & 0x40) != 0 ? AccessWidth::Qword : AccessWidth::Dword,
                       (mode & 0x80) != 0};
    check_load_value(any, raw);
    return 0;
}
