// The aarch64 exit decoders over syndrome values: encoded from the ARM ARM
// field layout (each commented with the instruction it describes), and, in
// the last case, the exact ESR_EL2 values QEMU 7.2 (-cpu max) reported for
// the example's exits guest.
#include <doctest/doctest.h>

#include <arch/aarch64/exit_decode.hpp>
#include <arch/aarch64/psci.hpp>
#include <axvcpu/ostream.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace aarch64_exit_decode_test {

using namespace axvcpu;
using namespace axvcpu::aarch64;

namespace {

// Guest registers where xN = 0x8111'2222'3333'4400 + N, so a decoded value
// names the register it came from (and bit 63 catches lost sign bits).
Gprs pattern() {
    Gprs x{};
    for (usize i = 0; i < x.size(); ++i) x[i] = 0x8111'2222'3333'4400ull + i;
    return x;
}

const GuestPhysAddr device{0x0900'0010};

// AFFINITY_INFO over two vCPUs, MPIDR 0 (on) and 1 (off).
constexpr auto two_cpus = [](std::uint64_t mpidr) -> std::optional<bool> {
    if (mpidr == 0) return true;
    if (mpidr == 1) return false;
    return std::nullopt;
};

Decoded decode(std::uint64_t esr, const Gprs& x = pattern(), GuestPhysAddr gpa = device) {
    auto result = decode_sync(TrapRecord{esr, 0, 0}, gpa, x, two_cpus);
    REQUIRE(result.has_value());
    return result.value();
}

template <class T>
std::string text(const T& value) {
    return std::string(fmt::to_text<512>(value).view());
}

}  // namespace

TEST_CASE("fault_gpa joins HPFAR's page with FAR's offset") {
    // ldr w1, [x0] with x0 = VA 0xffff000009000abc mapped to IPA 0x09000000
    CHECK(fault_gpa(TrapRecord{0x93810006, 0xffff'0000'0900'0abc, 0x0009'0000}) == GuestPhysAddr(0x0900'0abc));
    // The highest IPA bits (52-bit) survive; HPFAR's NS bit (63) does not leak in.
    CHECK(fault_gpa(TrapRecord{0, 0x123, (1ull << 63) | (0xF'FFFF'FFFF'FFull << 4)}) ==
          GuestPhysAddr(0xF'FFFF'FFFF'F123ull));
}

TEST_CASE("MMIO loads: every width, SSE and SF") {
    struct Case {
        const char* insn;
        std::uint64_t esr;
        AccessWidth width;
        usize reg;
        AccessWidth reg_width;
        bool signed_ext;
    };
    const Case cases[] = {
        {"ldrb w1, [x0]", 0x93010006, AccessWidth::Byte, 1, AccessWidth::Dword, false},
        {"ldrh w2, [x0]", 0x93420006, AccessWidth::Word, 2, AccessWidth::Dword, false},
        {"ldr w3, [x0]", 0x93830006, AccessWidth::Dword, 3, AccessWidth::Dword, false},
        {"ldr x30, [x0]", 0x93DE8006, AccessWidth::Qword, 30, AccessWidth::Qword, false},
        {"ldrsb x2, [x0]", 0x93228006, AccessWidth::Byte, 2, AccessWidth::Qword, true},
        {"ldrsh w3, [x0]", 0x93630006, AccessWidth::Word, 3, AccessWidth::Dword, true},
        {"ldrsw x4, [x0]", 0x93A48006, AccessWidth::Dword, 4, AccessWidth::Qword, true},
        {"ldr wzr, [x0]", 0x939F0006, AccessWidth::Dword, 31, AccessWidth::Dword, false},
        {"ldr w1, [x0] (level-3 fault)", 0x93810007, AccessWidth::Dword, 1, AccessWidth::Dword, false},
    };
    for (const Case& c : cases) {
        CAPTURE(c.insn);
        const Decoded d = decode(c.esr);
        const auto* read = d.reason.get_if<exit::MmioRead>();
        REQUIRE(read != nullptr);
        CHECK(read->addr == device);
        CHECK(read->width == c.width);
        CHECK(read->reg == c.reg);
        CHECK(read->reg_width == c.reg_width);
        CHECK(read->signed_ext == c.signed_ext);
        CHECK(d.pc == PcAction::Advance);
        CHECK_FALSE(d.x0.has_value());
        CHECK(classify_abort(c.esr) == AbortKind::Mmio);
    }
}

TEST_CASE("MMIO stores: every width, data truncated to it, xzr is zero") {
    const Gprs x = pattern();
    struct Case {
        const char* insn;
        std::uint64_t esr;
        AccessWidth width;
        std::uint64_t data;
    };
    const Case cases[] = {
        {"strb w6, [x0]", 0x93060046, AccessWidth::Byte, x[6] & 0xFF},
        {"strh w5, [x0]", 0x93450046, AccessWidth::Word, x[5] & 0xFFFF},
        {"str w1, [x0]", 0x93810046, AccessWidth::Dword, x[1] & 0xFFFF'FFFF},
        {"str x29, [x0]", 0x93DD8046, AccessWidth::Qword, x[29]},
        {"str x30, [x0]", 0x93DE8046, AccessWidth::Qword, x[30]},
        {"str xzr, [x0]", 0x93DF8046, AccessWidth::Qword, 0},
        {"strb wzr, [x0]", 0x931F0046, AccessWidth::Byte, 0},
    };
    for (const Case& c : cases) {
        CAPTURE(c.insn);
        const Decoded d = decode(c.esr, x);
        const auto* write = d.reason.get_if<exit::MmioWrite>();
        REQUIRE(write != nullptr);
        CHECK(write->addr == device);
        CHECK(write->width == c.width);
        CHECK(write->data == c.data);
        CHECK(d.pc == PcAction::Advance);
    }
    CHECK(text(decode(0x93810046, x).reason) ==
          "MmioWrite { addr: GPA:0x9000010, width: Dword, data: 0x33334401 }");
}

TEST_CASE("mmio_load_value applies width, SSE and SF") {
    auto load = [](AccessWidth width, AccessWidth reg_width, bool sse, std::uint64_t raw) {
        return mmio_load_value(exit::MmioRead{device, width, 1, reg_width, sse}, raw);
    };
    CHECK(load(AccessWidth::Byte, AccessWidth::Qword, true, 0x80) == 0xFFFF'FFFF'FFFF'FF80ull);
    CHECK(load(AccessWidth::Byte, AccessWidth::Dword, true, 0x80) == 0xFFFF'FF80ull);
    CHECK(load(AccessWidth::Byte, AccessWidth::Qword, true, 0x7F) == 0x7F);
    CHECK(load(AccessWidth::Byte, AccessWidth::Dword, false, 0x1234'5680) == 0x80);
    CHECK(load(AccessWidth::Word, AccessWidth::Qword, true, 0x8001) == 0xFFFF'FFFF'FFFF'8001ull);
    CHECK(load(AccessWidth::Word, AccessWidth::Dword, false, 0xFFFF'8001) == 0x8001);
    CHECK(load(AccessWidth::Dword, AccessWidth::Qword, true, 0x8000'0000) == 0xFFFF'FFFF'8000'0000ull);
    CHECK(load(AccessWidth::Dword, AccessWidth::Qword, false, 0xFFFF'FFFF'8000'0000ull) == 0x8000'0000ull);
    CHECK(load(AccessWidth::Qword, AccessWidth::Qword, false, 0x8877'6655'4433'2211ull) == 0x8877'6655'4433'2211ull);
    // SAS = 3 with SF = 0 comes from no load: a doubleword is the raw value.
    CHECK(load(AccessWidth::Qword, AccessWidth::Dword, true, 0x8877'6655'4433'2211ull) == 0x8877'6655'4433'2211ull);
}

// is_mmio_read_abort (run()'s fast path) gives classify_abort's answer, WnR
// clear, for a data abort with IL set (every A64 load), and false for any
// other syndrome: every combination of the bits it looks at (ISS bits 0-8
// and ISV) on a data abort with IL set, every other bit below the EC clear
// and then set (neither may start reading one); the same with IL clear, a
// non-synchronous exit's bit 63 or an ISS2 bit set, or another EC (an
// instruction abort, an HVC) must give false.
static_assert([] {
    constexpr std::uint64_t others =
        ~std::uint64_t{0x1FF | esr::isv | esr::il} & ((std::uint64_t{1} << 26) - 1);
    constexpr std::uint64_t dabt = std::uint64_t{esr::ec_dabt_lower} << 26;
    for (const std::uint64_t rest : std::array<std::uint64_t, 2>{0, others}) {
        for (std::uint64_t bits = 0; bits < 0x400; ++bits) {
            const std::uint64_t esr_value = dabt | esr::il | rest | (bits & 0x1FF) | (bits >> 9) << 24;
            const bool mmio_read = classify_abort(esr_value) == AbortKind::Mmio && (esr_value & esr::wnr) == 0;
            if (is_mmio_read_abort(esr_value) != mmio_read) return false;
            const std::uint64_t not_reads[] = {
                esr_value & ~esr::il,
                esr_value | std::uint64_t{1} << 63,
                esr_value | std::uint64_t{1} << 32,
                esr_value | std::uint64_t{1} << 55,
                (esr_value & ~(std::uint64_t{0x3F} << 26)) | std::uint64_t{esr::ec_iabt_lower} << 26,
                (esr_value & ~(std::uint64_t{0x3F} << 26)) | std::uint64_t{esr::ec_hvc64} << 26,
            };
            for (const std::uint64_t other : not_reads) {
                if (is_mmio_read_abort(other)) return false;
            }
        }
    }
    return true;
}());

// The inline hypercall's compare: an HVC from AArch64 (IL set) matches
// whatever its immediate; with IL clear, bit 24 (RES0 for an HVC) set, an
// ISS2 bit or bit 63 set, or another EC, nothing does.
static_assert([] {
    constexpr std::uint64_t hvc = std::uint64_t{esr::ec_hvc64} << 26 | esr::il;
    for (std::uint64_t imm = 0; imm <= 0xFFFF; imm += 0x101) {
        if (((hvc | imm) >> 24) != esr::hvc64_from_bit24) return false;
        const std::uint64_t others[] = {
            (hvc | imm) & ~esr::il,
            hvc | imm | std::uint64_t{1} << 24,
            hvc | imm | std::uint64_t{1} << 32,
            hvc | imm | std::uint64_t{1} << 63,
            std::uint64_t{esr::ec_smc64} << 26 | esr::il | imm,
        };
        for (const std::uint64_t other : others) {
            if ((other >> 24) == esr::hvc64_from_bit24) return false;
        }
    }
    return (std::uint64_t{0x5A00'1234} >> 24) == esr::hvc64_from_bit24;  // hvc #0x1234, as QEMU reports it
}());

TEST_CASE("aborts that are not emulatable MMIO are NestedPageFault, never a guessed access") {
    struct Case {
        const char* insn;
        std::uint64_t esr;
        AbortKind kind;
        std::uint32_t flags;
    };
    const Case cases[] = {
        {"ldp x1, x2, [x0] (ISV=0)", 0x92000006, AbortKind::NoSyndrome, MappingFlags::READ},
        {"stp x1, x2, [x0] (ISV=0)", 0x92000046, AbortKind::NoSyndrome, MappingFlags::WRITE},
        {"str w1, [x0], #4 (post-index, ISV=0)", 0x92000047, AbortKind::NoSyndrome, MappingFlags::WRITE},
        {"stage-1 walk into unmapped GPA", 0x92000086, AbortKind::TableWalk, MappingFlags::READ},
        {"dc civac on unmapped GPA", 0x92000146, AbortKind::CacheMaintenance, MappingFlags::WRITE},
        {"str w1 to a read-only page (ISV=1)", 0x9381004F, AbortKind::Permission, MappingFlags::WRITE},
        {"ldr w1 with AF=0", 0x9381000B, AbortKind::AccessFlag, MappingFlags::READ},
        {"ldr beyond the IPA range", 0x93810000, AbortKind::AddressSize, MappingFlags::READ},
        {"br to an unmapped GPA", 0x82000006, AbortKind::InstructionFetch, MappingFlags::EXECUTE},
        {"instruction fetch permission fault", 0x8200000F, AbortKind::Permission, MappingFlags::EXECUTE},
    };
    for (const Case& c : cases) {
        CAPTURE(c.insn);
        CHECK(classify_abort(c.esr) == c.kind);
        const Decoded d = decode(c.esr);
        const auto* fault = d.reason.get_if<exit::NestedPageFault>();
        REQUIRE(fault != nullptr);
        CHECK(fault->addr == device);
        CHECK(fault->access_flags.bits == c.flags);
        CHECK(d.pc == PcAction::Keep);
    }
    CHECK(text(decode(0x92000046).reason) == "NestedPageFault { addr: GPA:0x9000010, access_flags: WRITE }");
}

TEST_CASE("HPFAR is trusted except for an ordinary permission fault") {
    CHECK(hpfar_valid(0x93810006));
    CHECK(hpfar_valid(0x92000086));
    CHECK_FALSE(hpfar_valid(0x9381004F));
    CHECK(hpfar_valid(0x9200008F));  // permission fault on a stage-1 walk
}

TEST_CASE("aborts the policy does not model are a DecodeError") {
    for (std::uint64_t esr : {0x92000010ull /* synchronous external abort */, 0x92000021ull /* alignment */,
                              0x92000030ull /* TLB conflict */, 0x82000010ull}) {
        CAPTURE(esr);
        auto result = decode_sync(TrapRecord{esr, 0, 0}, device, pattern(), two_cpus);
        REQUIRE(result.has_error());
        CHECK(result.error() == DecodeError::UnsupportedAbort);
        CHECK(to_ax_error(result.error()) == AxError::Unsupported);
    }
}

TEST_CASE("unknown exception classes are a DecodeError") {
    for (std::uint64_t esr : {0x02000000ull /* EC 0 */, 0x1E000000ull /* EC 7, FP trap */,
                              0xF2000000ull /* BRK */, 0x4E000000ull /* SMC32 */}) {
        CAPTURE(esr);
        auto result = decode_sync(TrapRecord{esr, 0, 0}, device, pattern(), two_cpus);
        REQUIRE(result.has_error());
        CHECK(result.error() == DecodeError::UnknownException);
    }
    CHECK(text(DecodeError::UnknownException) == "UnknownException");
}

TEST_CASE("WFI and WFE halt and step over the instruction") {
    for (std::uint64_t esr : {0x06000000ull /* wfi */, 0x06000001ull /* wfe */}) {
        const Decoded d = decode(esr);
        CHECK(d.reason.is<exit::Halt>());
        CHECK(d.pc == PcAction::Advance);
    }
}

TEST_CASE("system register traps in the ISS layout") {
    CHECK(sysregs::icc_sgi1r_el1.value == 0x3A3016);
    Gprs x = pattern();
    // mrs x4, id_aa64pfr0_el1
    Decoded d = decode(0x62300089, x);
    const auto* read = d.reason.get_if<exit::SysRegRead>();
    REQUIRE(read != nullptr);
    CHECK(read->addr == sysregs::id_aa64pfr0_el1);
    CHECK(read->reg == 4);
    CHECK(d.pc == PcAction::Advance);
    // mrs xzr, id_aa64mmfr0_el1: the destination is the zero register
    d = decode(0x623003EF, x);
    read = d.reason.get_if<exit::SysRegRead>();
    REQUIRE(read != nullptr);
    CHECK(read->reg == 31);
    // msr icc_sgi0r_el1, x7: a write the policy does not interpret
    d = decode(0x623E30F6, x);
    const auto* write = d.reason.get_if<exit::SysRegWrite>();
    REQUIRE(write != nullptr);
    CHECK(write->addr == sysregs::icc_sgi0r_el1);
    CHECK(write->value == x[7]);
    // msr s3_0_c12_c11_7, xzr writes zero
    d = decode(0x623E33F6, x);
    REQUIRE(d.reason.get_if<exit::SysRegWrite>() != nullptr);
    CHECK(d.reason.get_if<exit::SysRegWrite>()->value == 0);
}

TEST_CASE("ICC_SGI1R_EL1 writes are SendIPI") {
    Gprs x = pattern();
    // msr icc_sgi1r_el1, x1 with INTID 5, Aff1 2, TargetList {1, 3}
    x[1] = (5ull << 24) | (2ull << 16) | 0b1010;
    Decoded d = decode(0x623A3036, x);
    const auto* ipi = d.reason.get_if<exit::SendIPI>();
    REQUIRE(ipi != nullptr);
    CHECK(ipi->vector == 5);
    CHECK(ipi->target_cpu == 0x200);
    CHECK(ipi->target_cpu_aux == 0b1010);
    CHECK_FALSE(ipi->send_to_all);
    CHECK_FALSE(ipi->send_to_self);
    CHECK(d.pc == PcAction::Advance);
    // IRM = 1: every CPU but the sender; Aff3/Aff2 and the range selector.
    const exit::SendIPI all = decode_sgi1r((1ull << 40) | (0x12ull << 48) | (0x34ull << 32) | (1ull << 44) | (15ull << 24));
    CHECK(all.send_to_all);
    CHECK(all.vector == 15);
    CHECK(all.target_cpu == ((0x12ull << 32) | (0x34ull << 16) | 16));
}

TEST_CASE("HVC: PSCI power requests exit, queries are answered in place, other HVCs are hypercalls") {
    Gprs x = pattern();
    x[0] = psci::fn_cpu_on_64;
    x[1] = 1;
    x[2] = 0x4800'0000;
    x[3] = 0xC0FFEE;
    Decoded d = decode(0x5A000000, x);
    REQUIRE(d.reason.is<exit::CpuUp>());
    CHECK(d.reason.get_if<exit::CpuUp>()->target_cpu == 1);
    CHECK(d.reason.get_if<exit::CpuUp>()->entry_point == GuestPhysAddr(0x4800'0000));
    CHECK(d.reason.get_if<exit::CpuUp>()->arg == 0xC0FFEE);
    CHECK(d.pc == PcAction::Keep);  // ELR_EL2 is already past the hvc

    x[0] = psci::fn_cpu_on_32;
    CHECK(decode(0x5A000000, x).reason.is<exit::CpuUp>());
    // SMC32/HVC32: the upper halves of x1..x3 are not the arguments'
    // (found by the aarch64 chaos guest: AFFINITY_INFO_32 read them).
    x[0] = 0xFFFF'0000'0000'0000 | psci::fn_cpu_on_32;
    x[1] = 0xDEAD'0000'0000'0001;
    x[2] = 0xBEEF'0000'4800'0000;
    x[3] = 0x1234'5678'00C0'FFEE;
    d = decode(0x5A000000, x);
    REQUIRE(d.reason.is<exit::CpuUp>());
    CHECK(d.reason.get_if<exit::CpuUp>()->target_cpu == 1);
    CHECK(d.reason.get_if<exit::CpuUp>()->entry_point == GuestPhysAddr(0x4800'0000));
    CHECK(d.reason.get_if<exit::CpuUp>()->arg == 0xC0FFEE);
    x[0] = psci::fn_cpu_off;
    CHECK(decode(0x5A000000, x).reason.is<exit::CpuDown>());
    for (std::uint32_t fn : {psci::fn_system_off, psci::fn_system_reset, psci::fn_system_reset2_64}) {
        x[0] = fn;
        CHECK(decode(0x5A000000, x).reason.is<exit::SystemDown>());
    }
    x[0] = psci::fn_cpu_suspend_64;
    d = decode(0x5A000000, x);
    CHECK(d.reason.is<exit::Halt>());
    CHECK(d.x0 == 0u);
    // What the VMM must decide is never answered in place.
    for (std::uint32_t fn : {psci::fn_cpu_on_64, psci::fn_cpu_off, psci::fn_cpu_suspend_32, psci::fn_system_off,
                             psci::fn_system_reset, psci::fn_system_reset2_32}) {
        x[0] = fn;
        CAPTURE(fn);
        CHECK_FALSE(decode(0x5A000000, x).answered());
    }

    auto answered = [&](std::uint64_t fn, std::uint64_t x1, std::uint64_t x2) {
        x[0] = fn;
        x[1] = x1;
        x[2] = x2;
        const Decoded r = decode(0x5A000000, x);
        CHECK(r.answered());  // the policy resumes the guest: no exit
        CHECK(r.reason.is<exit::Nothing>());
        REQUIRE(r.x0.has_value());
        return *r.x0;
    };
    CHECK(answered(psci::fn_version, 0, 0) == 0x10001);
    CHECK(answered(psci::fn_features, psci::fn_cpu_on_64, 0) == 0);
    CHECK(answered(psci::fn_features, psci::fn_system_off, 0) == 0);
    CHECK(static_cast<std::int64_t>(answered(psci::fn_features, 0x8400'0005 /* MIGRATE */, 0)) == psci::not_supported);
    CHECK(static_cast<std::int64_t>(answered(psci::fn_features, 0x8000'0000 /* SMCCC_VERSION */, 0)) ==
          psci::not_supported);
    CHECK(answered(psci::fn_affinity_info_64, 0, 0) == psci::affinity_on);
    CHECK(answered(psci::fn_affinity_info_64, 1, 0) == psci::affinity_off);
    CHECK(static_cast<std::int64_t>(answered(psci::fn_affinity_info_64, 7, 0)) == psci::invalid_parameters);
    CHECK(static_cast<std::int64_t>(answered(psci::fn_affinity_info_64, 0, 1)) == psci::invalid_parameters);
    CHECK(answered(psci::fn_affinity_info_32, 0x7600'0000'0000'0000, 0x1'0000'0000) == psci::affinity_on);
    CHECK(static_cast<std::int64_t>(answered(psci::fn_affinity_info_64, 0x1'0000'0000, 0)) ==
          psci::invalid_parameters);  // Aff3 = 1: a 64-bit call reads it
    CHECK(answered(psci::fn_features, 0xFFFF'FFFF'0000'0000 | psci::fn_cpu_on_64, 0) == 0);
    CHECK(answered(psci::fn_migrate_info_type, 0, 0) == 2);
    // Inside the PSCI range but not implemented (MIGRATE): refused, not a hypercall.
    CHECK(static_cast<std::int64_t>(answered(0x8400'0005, 0, 0)) == psci::not_supported);

    x = pattern();
    x[0] = 0x1234;
    d = decode(0x5A000000, x);
    const auto* call = d.reason.get_if<exit::Hypercall>();
    REQUIRE(call != nullptr);
    CHECK(call->nr == 0x1234);
    for (usize i = 0; i < 6; ++i) CHECK(call->args[i] == x[i + 1]);
    CHECK(d.pc == PcAction::Keep);
    CHECK_FALSE(d.answered());
}

TEST_CASE("SMC: PSCI steps over the smc; anything else is answered NOT_SUPPORTED in place") {
    Gprs x = pattern();
    x[0] = psci::fn_system_off;
    Decoded d = decode(0x5E000000, x);
    CHECK(d.reason.is<exit::SystemDown>());
    CHECK(d.pc == PcAction::Advance);
    x[0] = 0xC200'0000;  // an SiP service call nobody answers
    d = decode(0x5E000000, x);
    CHECK(d.answered());
    CHECK(d.reason.is<exit::Nothing>());
    CHECK(d.pc == PcAction::Advance);
    CHECK(d.x0 == static_cast<std::uint64_t>(psci::not_supported));
}

TEST_CASE("PSCI function ids") {
    CHECK(psci::in_psci_range(0x8400'0000));
    CHECK(psci::in_psci_range(0xC400'001F));
    CHECK(psci::in_psci_range(0xFFFF'FFFF'8400'0008ull));  // SMC32: only the low half counts
    CHECK_FALSE(psci::in_psci_range(0x8400'0020));
    CHECK_FALSE(psci::in_psci_range(0x8401'0000));
    CHECK_FALSE(psci::in_psci_range(0x0400'0000));  // yielding calls are not PSCI
    CHECK_FALSE(psci::in_psci_range(0x8000'0000));
    // run()'s fast path relies on this: no id with bit 31 clear is PSCI.
    for (std::uint64_t number = 0; number <= 0x20; ++number) {
        for (std::uint64_t id : {0x8400'0000 | number, 0xC400'0000 | number}) {
            CAPTURE(id);
            CHECK_FALSE(psci::in_psci_range(id & ~psci::function_id_bit31));
            CHECK((!psci::in_psci_range(id) || (id & psci::function_id_bit31) != 0));
        }
    }
    CHECK(psci::decode(0xC400'0003) == psci::Function::CpuOn);
    CHECK_FALSE(psci::decode(0x8400'0005).has_value());
}

TEST_CASE("syndromes recorded under QEMU 7.2 from the exits guest") {
    Gprs x = pattern();
    struct Case {
        const char* insn;
        std::uint64_t esr;
        const char* decoded;
    };
    const Case cases[] = {
        {"strb w1, [x0]", 0x93010046, "MmioWrite { addr: GPA:0x9000010, width: Byte, data: 0x1 }"},
        {"strh w1, [x0]", 0x93410046, "MmioWrite { addr: GPA:0x9000010, width: Word, data: 0x4401 }"},
        {"str w1, [x0]", 0x93810046, "MmioWrite { addr: GPA:0x9000010, width: Dword, data: 0x33334401 }"},
        {"str x1, [x0]", 0x93c18046, "MmioWrite { addr: GPA:0x9000010, width: Qword, data: 0x8111222233334401 }"},
        {"str xzr, [x0]", 0x93df8046, "MmioWrite { addr: GPA:0x9000010, width: Qword, data: 0x0 }"},
        {"ldr x0, [x0]", 0x93c08006,
         "MmioRead { addr: GPA:0x9000010, width: Qword, reg: 0x0, reg_width: Qword, signed_ext: false }"},
        {"ldrb w1, [x0]", 0x93010006,
         "MmioRead { addr: GPA:0x9000010, width: Byte, reg: 0x1, reg_width: Dword, signed_ext: false }"},
        {"ldrh w2, [x0]", 0x93420006,
         "MmioRead { addr: GPA:0x9000010, width: Word, reg: 0x2, reg_width: Dword, signed_ext: false }"},
        {"ldr w2, [x0]", 0x93820006,
         "MmioRead { addr: GPA:0x9000010, width: Dword, reg: 0x2, reg_width: Dword, signed_ext: false }"},
        {"ldrsb x1, [x0]", 0x93218006,
         "MmioRead { addr: GPA:0x9000010, width: Byte, reg: 0x1, reg_width: Qword, signed_ext: true }"},
        {"ldrsb w2, [x0]", 0x93220006,
         "MmioRead { addr: GPA:0x9000010, width: Byte, reg: 0x2, reg_width: Dword, signed_ext: true }"},
        {"ldrsh w0, [x0]", 0x93600006,
         "MmioRead { addr: GPA:0x9000010, width: Word, reg: 0x0, reg_width: Dword, signed_ext: true }"},
        {"ldrsw x0, [x0]", 0x93a08006,
         "MmioRead { addr: GPA:0x9000010, width: Dword, reg: 0x0, reg_width: Qword, signed_ext: true }"},
        {"ldp x1, x2, [x0]", 0x92000006, "NestedPageFault { addr: GPA:0x9000010, access_flags: READ }"},
        {"stp x1, x2, [x0]", 0x92000046, "NestedPageFault { addr: GPA:0x9000010, access_flags: WRITE }"},
        {"blr to unmapped", 0x82000006, "NestedPageFault { addr: GPA:0x9000010, access_flags: EXECUTE }"},
        {"mrs x1, id_aa64mmfr0_el1", 0x6230002f, "SysRegRead { addr: SysReg:0x30000e, reg: 0x1 }"},
        {"wfi (CV=1, COND=0xE)", 0x07e00000, "Halt"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.insn);
        CHECK(text(decode(c.esr, x).reason) == c.decoded);
    }
    // msr icc_sgi1r_el1, x0 with x0 = INTID 3 to TargetList {0}
    x[0] = (3ull << 24) | 1;
    CHECK(text(decode(0x623a3016, x).reason) ==
          "SendIPI { target_cpu: 0x0, target_cpu_aux: 0x1, send_to_all: false, send_to_self: false, vector: 0x3 }");
}

TEST_CASE("elr_advance says exactly what decode_sync advances the PC by") {
    Gprs x = pattern();
    for (std::uint64_t esr : {0x93C2'0006ull /* MMIO ldr */, 0x93C2'8046ull /* MMIO str */, 0x92000006ull /* ldp */,
                              0x9381004Full /* permission */, 0x82000006ull /* fetch */, 0x06000000ull /* wfi */,
                              0x62300089ull /* mrs */, 0x623A3036ull /* msr icc_sgi1r_el1 */}) {
        CAPTURE(esr);
        CHECK(elr_advance(esr) == (decode(esr, x).pc == PcAction::Advance ? 4u : 0u));
    }
    for (std::uint64_t fn : {std::uint64_t{psci::fn_version}, std::uint64_t{psci::fn_cpu_on_64}, std::uint64_t{0x1234},
                             std::uint64_t{0xC200'0000}}) {
        x[0] = fn;
        CAPTURE(fn);
        CHECK(elr_advance(0x5A00'0000) == (decode(0x5A00'0000, x).pc == PcAction::Advance ? 4u : 0u));  // hvc
        CHECK(elr_advance(0x5E00'0000) == (decode(0x5E00'0000, x).pc == PcAction::Advance ? 4u : 0u));  // smc
    }
}
}  // namespace aarch64_exit_decode_test
