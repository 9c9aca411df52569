// The virtual GICv3 (arch/aarch64/vgic.hpp) driven as a guest's MMIO
// accesses and a VMM's calls would drive it: register layout and reset
// values, access widths, set/clear semantics, routing and priority, the
// EOI contract, SGIs, and the accesses Linux 6.1's irq-gic-v3 driver makes
// at boot.
#include <doctest/doctest.h>

#include <arch/aarch64/exit_decode.hpp>
#include <arch/aarch64/vgic.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>

#include "examples/vmm/devices.hpp"

namespace doctest {
template <>
struct StringMaker<axvcpu::aarch64::vgic::Pending> {
    static String convert(const axvcpu::aarch64::vgic::Pending& p) {
        return String("Pending{") + toString(p.intid) + ", " + toString(unsigned{p.priority}) + ", " +
               toString(unsigned{p.group}) + ", " + toString(p.notify_eoi) + "}";
    }
};
template <>
struct StringMaker<std::optional<axvcpu::aarch64::vgic::Pending>> {
    static String convert(const std::optional<axvcpu::aarch64::vgic::Pending>& p) {
        return p ? StringMaker<axvcpu::aarch64::vgic::Pending>::convert(*p) : String("nullopt");
    }
};
}  // namespace doctest

namespace aarch64_vgic_test {

using namespace axvcpu;
using namespace axvcpu::aarch64;
using namespace axvcpu::aarch64::vgic;

namespace {
using Gic = VGic<8, 64>;
using W = AccessWidth;
using u64 = std::uint64_t;

Gic make(usize vcpus = 2, usize spis = 64) {
    Gic::Config config;
    config.vcpus = vcpus;
    config.spis = spis;
    return Gic::create(config).value();
}

u64 rd(const Gic& gic, u64 offset) {
    const std::optional<u64> value = gic.read_distributor(offset, W::Dword);
    REQUIRE(value.has_value());
    return *value;
}
void wd(Gic& gic, u64 offset, u64 value) { REQUIRE(gic.write_distributor(offset, W::Dword, value)); }
// RD_base of vCPU `cpu` (SGI_base: add gicr::sgi_base).
u64 rr(const Gic& gic, usize cpu, u64 offset) {
    const std::optional<u64> value = gic.read_redistributor(cpu * gicr::stride + offset, W::Dword);
    REQUIRE(value.has_value());
    return *value;
}
void wr(Gic& gic, usize cpu, u64 offset, u64 value) {
    REQUIRE(gic.write_redistributor(cpu * gicr::stride + offset, W::Dword, value));
}
constexpr u64 sgi = gicr::sgi_base;

// Group 1 on at the distributor, every redistributor awake: what Linux's
// driver leaves behind.
void bring_up(Gic& gic) {
    wd(gic, gicd::ctlr, gicd::ctlr_enable_grp1);
    for (usize cpu = 0; cpu < gic.vcpu_count(); ++cpu) wr(gic, cpu, gicr::waker, 0);
}
// SPI `intid`: enabled, priority `priority`, routed to `affinity`.
void setup_spi(Gic& gic, std::uint32_t intid, std::uint8_t priority, u64 affinity) {
    REQUIRE(gic.write_distributor(gicd::ipriorityr + intid, W::Byte, priority));
    REQUIRE(gic.write_distributor(gicd::irouter + 8 * intid, W::Qword, affinity));
    wd(gic, gicd::isenabler + 4 * (intid / 32), u64{1} << (intid % 32));
}
}  // namespace

TEST_CASE("create refuses configurations it cannot model") {
    Gic::Config config;
    config.vcpus = 0;
    CHECK(Gic::create(config).error() == AxError::InvalidInput);
    config.vcpus = 9;  // more than MaxVCpus
    CHECK(Gic::create(config).error() == AxError::InvalidInput);
    config.vcpus = 2;
    config.spis = 33;  // not a multiple of 32
    CHECK(Gic::create(config).error() == AxError::InvalidInput);
    config.spis = 96;  // more than MaxSpis
    CHECK(Gic::create(config).error() == AxError::InvalidInput);
    config.spis = 0;
    CHECK(Gic::create(config).has_value());
    config.spis = 32;
    config.mpidr[1] = 0x8000'0000;  // bit 31 (RES1 in MPIDR) is no affinity: the same as vCPU 0
    CHECK(Gic::create(config).error() == AxError::InvalidInput);
    config.mpidr[1] = 0x1'0000'0000;  // Aff3 = 1: a different PE
    CHECK(Gic::create(config).has_value());
    // By default Aff1:Aff0 is the vCPU id, as the aarch64 policy's convention.
    CHECK(Gic::Config{}.mpidr[5] == 5);
    static_assert(Gic::default_mpidr(0x102) == 0x102);
}

TEST_CASE("distributor reset values and identification") {
    Gic gic = make(2, 64);
    CHECK(rd(gic, gicd::ctlr) == (gicd::ctlr_are | gicd::ctlr_ds));  // 0x50: ARE, DS; disabled
    const u64 typer = rd(gic, gicd::typer);
    CHECK((typer & 0x1F) == 2);           // ITLinesNumber: 32 * (2 + 1) INTIDs = 64 SPIs
    CHECK((typer >> 5 & 7) == 0);         // CPUNumber: legacy operation only
    CHECK((typer >> 8 & 1) == 0);         // ESPI
    CHECK((typer >> 10 & 1) == 0);        // SecurityExtn: DS = 1
    CHECK((typer >> 16 & 3) == 0);        // MBIS, LPIS
    CHECK((typer >> 19 & 0x1F) == 9);     // IDbits: 10 bits
    CHECK((typer >> 24 & 1) == 1);        // A3V
    CHECK((typer >> 25 & 1) == 0);        // No1N: 1 of N supported
    CHECK((typer >> 26 & 1) == 1);        // RSS
    CHECK(rd(gic, gicd::iidr) == default_iidr);
    CHECK((default_iidr & 0xFFF) == 0x43B);
    CHECK(rd(gic, gicd::typer2) == 0);
    CHECK(rd(gic, gicd::statusr) == 0);
    CHECK(rd(gic, gicd::pidr2) == 0x3B);
    CHECK((rd(gic, gicd::pidr2) & 0xF0) == 0x30);  // Linux's gic_validate_dist_version
    for (u64 id = 0xFFD0; id < 0x10000; id += 4) {
        if (id != gicd::pidr2) CHECK(rd(gic, id) == 0);
    }
    // Banked SGI/PPI word RAZ; SPIs reset Group 1, disabled, idle, priority 0, level.
    CHECK(rd(gic, gicd::igroupr) == 0);
    CHECK(rd(gic, gicd::igroupr + 4) == 0xFFFF'FFFF);
    CHECK(rd(gic, gicd::igroupr + 8) == 0xFFFF'FFFF);
    CHECK(rd(gic, gicd::igroupr + 12) == 0);  // beyond the 64 SPIs
    for (u64 base : {gicd::isenabler, gicd::ispendr, gicd::isactiver}) CHECK(rd(gic, base + 4) == 0);
    CHECK(rd(gic, gicd::ipriorityr + 32) == 0);
    CHECK(rd(gic, gicd::icfgr + 8) == 0);
    CHECK(gic.read_distributor(gicd::irouter + 8 * 32, W::Qword) == 0);

    SUBCASE("TYPER follows the configuration") {
        CHECK((rd(make(1, 32), gicd::typer) & 0x1F) == 1);
        CHECK((rd(make(1, 0), gicd::typer) & 0x1F) == 0);
        Gic::Config config;
        config.iidr = 0x1234'5678;
        const Gic custom = Gic::create(config).value();
        CHECK(rd(custom, gicd::iidr) == 0x1234'5678);
        CHECK(rr(custom, 0, gicr::iidr) == 0x1234'5678);
    }
}

TEST_CASE("GICD_CTLR keeps the group enables; ARE and DS read 1, RWP 0") {
    Gic gic = make();
    wd(gic, gicd::ctlr, 0);
    CHECK(rd(gic, gicd::ctlr) == 0x50);
    wd(gic, gicd::ctlr, 0x13);  // Linux: ARE_NS | EnableGrp1A | EnableGrp1
    CHECK(rd(gic, gicd::ctlr) == 0x53);
    wd(gic, gicd::ctlr, 0xFFFF'FFFF);
    CHECK(rd(gic, gicd::ctlr) == 0x53);  // RWP, E1NWF, nASSGIreq RAZ/WI
    wd(gic, gicd::ctlr, gicd::ctlr_enable_grp1);
    CHECK(gic.distributor_ctlr() == 0x52);
}

TEST_CASE("GICR_TYPER: affinity, Processor_Number, Last") {
    Gic::Config config;
    config.vcpus = 3;
    config.mpidr[0] = 0x8000'0000;             // RES1 bit: not affinity
    config.mpidr[1] = 0x0000'0000'0001'0203;   // Aff2.Aff1.Aff0 = 1.2.3
    config.mpidr[2] = 0x0000'0004'0000'0007;   // Aff3 = 4, Aff0 = 7
    Gic gic = Gic::create(config).value();
    CHECK(gic.redistributors_size() == 3 * 0x20000);
    const auto typer = [&](usize cpu) { return gic.read_redistributor(cpu * gicr::stride + gicr::typer, W::Qword).value(); };
    CHECK(typer(0) == (u64{0} << 32 | 0 << 8 | gicr::typer_dpgs));
    CHECK(typer(1) == (u64{0x0001'0203} << 32 | 1 << 8 | gicr::typer_dpgs));
    CHECK(typer(2) == (u64{0x0400'0007} << 32 | 2 << 8 | gicr::typer_dpgs | gicr::typer_last));
    CHECK((typer(2) >> 27 & 0x1F) == 0);  // PPInum: 16 PPIs
    CHECK((typer(2) & 0xF) == 0);         // no PLPIS, VLPIS, Dirty, DirectLPI
    // 32-bit halves, as an AArch32 guest reads it.
    CHECK(rr(gic, 2, gicr::typer) == (typer(2) & 0xFFFF'FFFF));
    CHECK(rr(gic, 2, gicr::typer + 4) == typer(2) >> 32);
    CHECK(rr(gic, 1, gicr::pidr2) == 0x3B);
    CHECK(rr(gic, 1, gicr::iidr) == default_iidr);
    CHECK(rr(gic, 1, gicr::ctlr) == 0);
    CHECK(rr(gic, 1, gicr::statusr) == 0);
    // Read-only: writes vanish.
    CHECK(gic.write_redistributor(gicr::typer, W::Qword, ~u64{0}));
    wr(gic, 0, gicr::iidr, 0);
    wr(gic, 0, gicr::pidr2, 0);
    CHECK(typer(0) == gicr::typer_dpgs);
    CHECK(rr(gic, 0, gicr::iidr) == default_iidr);
    CHECK(rr(gic, 0, gicr::pidr2) == 0x3B);
}

TEST_CASE("GICR_WAKER: ProcessorSleep and ChildrenAsleep handshake") {
    Gic gic = make(2);
    CHECK(rr(gic, 0, gicr::waker) == 6);  // asleep at reset
    CHECK(rr(gic, 1, gicr::waker) == 6);
    // Linux's gic_enable_redist(true): clear ProcessorSleep, poll ChildrenAsleep.
    u64 val = rr(gic, 1, gicr::waker);
    wr(gic, 1, gicr::waker, val & ~u64{gicr::waker_processor_sleep});
    int polls = 0;
    while ((rr(gic, 1, gicr::waker) & gicr::waker_children_asleep) != 0 && polls < 10) ++polls;
    CHECK(polls == 0);
    CHECK(rr(gic, 1, gicr::waker) == 0);
    CHECK(rr(gic, 0, gicr::waker) == 6);  // per redistributor
    // gic_enable_redist(false): set it, check it stuck, wait for ChildrenAsleep.
    wr(gic, 1, gicr::waker, gicr::waker_processor_sleep | 1);  // bit 0 IMPLEMENTATION DEFINED: ignored
    CHECK(rr(gic, 1, gicr::waker) == 6);
}

TEST_CASE("set/clear-enable, -pending and -active registers") {
    Gic gic = make();
    SUBCASE("distributor, SPIs") {
        wd(gic, gicd::isenabler + 4, 0x8000'0003);
        CHECK(rd(gic, gicd::isenabler + 4) == 0x8000'0003);
        CHECK(rd(gic, gicd::icenabler + 4) == 0x8000'0003);
        wd(gic, gicd::isenabler + 4, 0);  // writing 0 changes nothing
        wd(gic, gicd::icenabler + 4, 0x1);
        CHECK(rd(gic, gicd::isenabler + 4) == 0x8000'0002);
        wd(gic, gicd::ispendr + 8, 0xF0);
        CHECK(rd(gic, gicd::icpendr + 8) == 0xF0);
        wd(gic, gicd::icpendr + 8, 0x30);
        CHECK(rd(gic, gicd::ispendr + 8) == 0xC0);
        wd(gic, gicd::isactiver + 4, 0x10);
        CHECK(rd(gic, gicd::icactiver + 4) == 0x10);
        wd(gic, gicd::icactiver + 4, 0xFFFF'FFFF);
        CHECK(rd(gic, gicd::isactiver + 4) == 0);
        wd(gic, gicd::igroupr + 4, 0x0000'FFFF);
        CHECK(rd(gic, gicd::igroupr + 4) == 0x0000'FFFF);
        // Banked word 0 (SGIs, PPIs) and words past the SPIs: RAZ/WI.
        for (u64 base : {gicd::igroupr, gicd::isenabler, gicd::ispendr, gicd::isactiver}) {
            wd(gic, base, 0xFFFF'FFFF);
            CHECK(rd(gic, base) == 0);
            wd(gic, base + 12, 0xFFFF'FFFF);
            CHECK(rd(gic, base + 12) == 0);
        }
        CHECK(rr(gic, 0, sgi + gicr::isenabler0) == 0);  // the banked write reached no redistributor
    }
    SUBCASE("redistributor, SGIs and PPIs, per vCPU") {
        wr(gic, 1, sgi + gicr::isenabler0, 0x0800'FFFF);  // Linux: SGIs, then the timer PPI 27
        CHECK(rr(gic, 1, sgi + gicr::icenabler0) == 0x0800'FFFF);
        CHECK(rr(gic, 0, sgi + gicr::isenabler0) == 0);
        wr(gic, 1, sgi + gicr::icenabler0, 0xFFFF'0000);
        CHECK(rr(gic, 1, sgi + gicr::isenabler0) == 0xFFFF);
        wr(gic, 1, sgi + gicr::ispendr0, 0x3);
        CHECK(rr(gic, 1, sgi + gicr::icpendr0) == 0x3);
        wr(gic, 1, sgi + gicr::icpendr0, 0x1);
        CHECK(rr(gic, 1, sgi + gicr::ispendr0) == 0x2);
        wr(gic, 1, sgi + gicr::isactiver0, 0x8000'0000);
        CHECK(rr(gic, 1, sgi + gicr::icactiver0) == 0x8000'0000);
        wr(gic, 1, sgi + gicr::icactiver0, 0xFFFF'FFFF);
        CHECK(rr(gic, 1, sgi + gicr::isactiver0) == 0);
        CHECK(rr(gic, 1, sgi + gicr::igroupr0) == 0xFFFF'FFFF);
        wr(gic, 1, sgi + gicr::igroupr0, 0xFFFF'FFFE);
        CHECK(rr(gic, 1, sgi + gicr::igroupr0) == 0xFFFF'FFFE);
        // Only word 0 exists (no extended PPIs); IGRPMODR0 and NSACR RAZ/WI.
        wr(gic, 1, sgi + gicr::isenabler0 + 4, 0xFFFF'FFFF);
        CHECK(rr(gic, 1, sgi + gicr::isenabler0 + 4) == 0);
        wr(gic, 1, sgi + gicr::igrpmodr0, 0xFFFF'FFFF);
        CHECK(rr(gic, 1, sgi + gicr::igrpmodr0) == 0);
        wr(gic, 1, sgi + gicr::nsacr, 0xFFFF'FFFF);
        CHECK(rr(gic, 1, sgi + gicr::nsacr) == 0);
    }
}

TEST_CASE("IPRIORITYR: bytes and words") {
    Gic gic = make();
    REQUIRE(gic.write_distributor(gicd::ipriorityr + 41, W::Byte, 0x80));
    CHECK(rd(gic, gicd::ipriorityr + 40) == 0x0000'8000);
    CHECK(gic.read_distributor(gicd::ipriorityr + 41, W::Byte) == 0x80);
    wd(gic, gicd::ipriorityr + 32, 0xA0A1'A2A3);
    for (u64 i = 0; i < 4; ++i) CHECK(gic.read_distributor(gicd::ipriorityr + 32 + i, W::Byte) == 0xA3 - i);
    // Private INTIDs (banked) and SPIs past the 64 are RAZ/WI.
    wd(gic, gicd::ipriorityr, 0xFFFF'FFFF);
    CHECK(rd(gic, gicd::ipriorityr) == 0);
    REQUIRE(gic.write_distributor(gicd::ipriorityr + 96, W::Byte, 0xFF));
    CHECK(gic.read_distributor(gicd::ipriorityr + 96, W::Byte) == 0);
    // Redistributor: per vCPU.
    REQUIRE(gic.write_redistributor(gicr::stride + sgi + gicr::ipriorityr + 27, W::Byte, 0x90));
    CHECK(rr(gic, 1, sgi + gicr::ipriorityr + 24) == 0x9000'0000);
    CHECK(rr(gic, 0, sgi + gicr::ipriorityr + 24) == 0);
    wr(gic, 0, sgi + gicr::ipriorityr + 28, 0x0102'0304);
    CHECK(gic.read_redistributor(sgi + gicr::ipriorityr + 31, W::Byte) == 0x01);
    // 16-bit: refused; byte access past IPRIORITYR7 in the SGI frame: refused.
    CHECK_FALSE(gic.read_distributor(gicd::ipriorityr + 32, W::Word).has_value());
    CHECK_FALSE(gic.write_redistributor(sgi + gicr::ipriorityr, W::Word, 0));
    CHECK_FALSE(gic.read_redistributor(sgi + gicr::ipriorityr + 32, W::Byte).has_value());
}

TEST_CASE("ICFGR: edge bits are Int_config[1]; SGIs are edge and read-only") {
    Gic gic = make();
    wd(gic, gicd::icfgr + 8, 0xFFFF'FFFF);  // SPIs 32..47
    CHECK(rd(gic, gicd::icfgr + 8) == 0xAAAA'AAAA);  // Int_config[0] RES0
    wd(gic, gicd::icfgr + 12, 0x0000'0008);           // SPI 49 edge
    CHECK(rd(gic, gicd::icfgr + 12) == 0x8);
    CHECK(rd(gic, gicd::icfgr + 8) == 0xAAAA'AAAA);
    // Banked ICFGR0/1 in the distributor, and past the SPIs: RAZ/WI.
    wd(gic, gicd::icfgr, 0xFFFF'FFFF);
    wd(gic, gicd::icfgr + 4, 0xFFFF'FFFF);
    wd(gic, gicd::icfgr + 24, 0xFFFF'FFFF);
    CHECK(rd(gic, gicd::icfgr) == 0);
    CHECK(rd(gic, gicd::icfgr + 4) == 0);
    CHECK(rd(gic, gicd::icfgr + 24) == 0);
    // Redistributor: ICFGR0 (SGIs) read-only edge, ICFGR1 (PPIs) programmable, reset level.
    CHECK(rr(gic, 0, sgi + gicr::icfgr0) == 0xAAAA'AAAA);
    wr(gic, 0, sgi + gicr::icfgr0, 0);
    CHECK(rr(gic, 0, sgi + gicr::icfgr0) == 0xAAAA'AAAA);
    CHECK(rr(gic, 0, sgi + gicr::icfgr1) == 0);
    wr(gic, 0, sgi + gicr::icfgr1, 0xFFFF'FFFF);
    CHECK(rr(gic, 0, sgi + gicr::icfgr1) == 0xAAAA'AAAA);
    CHECK(rr(gic, 1, sgi + gicr::icfgr1) == 0);
}

TEST_CASE("IROUTER: 64-bit, or 32-bit halves; Aff fields and IRM kept") {
    Gic gic = make();
    const u64 irouter40 = gicd::irouter + 8 * 40;
    REQUIRE(gic.write_distributor(irouter40, W::Qword, ~u64{0}));
    CHECK(gic.read_distributor(irouter40, W::Qword) == 0xFF'80FF'FFFF);  // RES0 bits dropped
    CHECK(gic.router(40) == 0xFF'80FF'FFFF);
    wd(gic, irouter40, 0x0000'0102);  // low half: Aff1 = 1, Aff0 = 2, IRM = 0
    CHECK(gic.read_distributor(irouter40, W::Qword) == 0xFF'0000'0102);
    wd(gic, irouter40 + 4, 0);  // high half: Aff3 = 0
    CHECK(rd(gic, irouter40) == 0x102);
    CHECK(rd(gic, irouter40 + 4) == 0);
    // IROUTER<0..31> are reserved and SPIs past the 64 absent: RAZ/WI.
    REQUIRE(gic.write_distributor(gicd::irouter + 8 * 31, W::Qword, 5));
    CHECK(gic.read_distributor(gicd::irouter + 8 * 31, W::Qword) == 0);
    REQUIRE(gic.write_distributor(gicd::irouter + 8 * 96, W::Qword, 5));
    CHECK(gic.read_distributor(gicd::irouter + 8 * 96, W::Qword) == 0);
    CHECK_FALSE(gic.router(96).has_value());
    // 64-bit needs 8-byte alignment.
    CHECK_FALSE(gic.read_distributor(irouter40 + 4, W::Qword).has_value());
    CHECK_FALSE(gic.write_distributor(irouter40 + 4, W::Qword, 0));
}

TEST_CASE("accesses the spec does not allow are refused; reserved space is RAZ/WI") {
    Gic gic = make(2);
    // Wrong widths.
    CHECK_FALSE(gic.read_distributor(gicd::ctlr, W::Qword).has_value());
    CHECK_FALSE(gic.read_distributor(gicd::ctlr, W::Byte).has_value());
    CHECK_FALSE(gic.read_distributor(gicd::ctlr, W::Word).has_value());
    CHECK_FALSE(gic.write_distributor(gicd::ctlr, W::Byte, 3));
    CHECK_FALSE(gic.write_distributor(gicd::isenabler + 4, W::Qword, ~u64{0}));
    CHECK(rd(gic, gicd::isenabler + 4) == 0);  // a refused write changed nothing
    CHECK_FALSE(gic.read_redistributor(gicr::waker, W::Byte).has_value());
    CHECK_FALSE(gic.read_redistributor(gicr::ctlr, W::Qword).has_value());
    CHECK_FALSE(gic.read_redistributor(sgi + gicr::isenabler0, W::Qword).has_value());
    // Misaligned.
    CHECK_FALSE(gic.read_distributor(gicd::typer + 1, W::Dword).has_value());
    CHECK_FALSE(gic.read_redistributor(gicr::typer + 2, W::Dword).has_value());
    // Outside the frames: past the distributor, past the last redistributor.
    CHECK_FALSE(gic.read_distributor(gicd::frame_size, W::Dword).has_value());
    CHECK_FALSE(gic.read_redistributor(2 * gicr::stride, W::Dword).has_value());
    CHECK_FALSE(gic.write_redistributor(2 * gicr::stride + gicr::waker, W::Dword, 0));
    CHECK(gic.read_redistributor(2 * gicr::stride - 4, W::Dword) == 0);  // last word of vCPU 1's SGI frame
    // Byte-accessible legacy registers: RAZ/WI with affinity routing.
    CHECK(gic.read_distributor(gicd::itargetsr + 40, W::Byte) == 0);
    CHECK(gic.write_distributor(gicd::itargetsr + 40, W::Byte, 1));
    CHECK(gic.read_distributor(gicd::spendsgir + 3, W::Byte) == 0);
    CHECK(rd(gic, gicd::itargetsr + 40) == 0);
    wd(gic, gicd::sgir, 0x0201'0001);  // GICD_SGIR: not with affinity routing
    CHECK(rr(gic, 1, sgi + gicr::ispendr0) == 0);
    // Reserved offsets: 32-bit RAZ/WI, other widths refused.
    for (u64 offset : {u64{0x14}, u64{0x40}, u64{0x1000}, u64{0x5FFC}, u64{0xC000}}) {
        wd(gic, offset, 0xFFFF'FFFF);
        CHECK(rd(gic, offset) == 0);
        CHECK_FALSE(gic.read_distributor(offset, W::Byte).has_value());
    }
    wr(gic, 0, 0x70, 0xFFFF'FFFF);  // GICR_PROPBASER: no LPIs
    CHECK(rr(gic, 0, 0x70) == 0);
    wr(gic, 0, sgi + 0x800, 0xFFFF'FFFF);
    CHECK(rr(gic, 0, sgi + 0x800) == 0);
    CHECK(rr(gic, 0, sgi + 0xFFE8) == 0);  // no ID registers in SGI_base
}

TEST_CASE("DeviceModel views plug into the VMM's device table, holding the lock") {
    // Counts what a view holds, as vmm::SpinLock would be held.
    struct CountingLock {
        int held = 0;
        int taken = 0;
        void lock() {
            CHECK(held == 0);
            ++held;
            ++taken;
        }
        void unlock() {
            CHECK(held == 1);
            --held;
        }
    };
    using Dist = Gic::DistributorFrame<CountingLock>;
    using Redist = Gic::RedistributorFrames<CountingLock>;
    static_assert(vmm::DeviceModel<Dist>);
    static_assert(vmm::DeviceModel<Redist>);
    static_assert(vmm::DeviceModel<Gic::DistributorFrame<NoLock>>);
    Gic gic = make(2);
    CountingLock lock;
    vmm::DeviceTable<2, Dist, Redist> table;
    REQUIRE(table.add<Dist>(GuestPhysAddr(0x0800'0000), gic.distributor_size(), gic, lock));
    REQUIRE(table.add<Redist>(GuestPhysAddr(0x080A'0000), gic.redistributors_size(), gic, lock));
    CHECK(table.read(GuestPhysAddr(0x0800'0000 + gicd::pidr2), W::Dword) == 0x3B);
    CHECK(table.write(GuestPhysAddr(0x080A'0000 + gicr::stride + gicr::waker), W::Dword, 0));
    CHECK(rr(gic, 1, gicr::waker) == 0);
    CHECK(table.read(GuestPhysAddr(0x080A'0000 + gicr::stride + gicr::typer), W::Qword) ==
          (u64{1} << 32 | 1 << 8 | gicr::typer_dpgs | gicr::typer_last));
    CHECK(table.write(GuestPhysAddr(0x0800'0000 + gicd::ctlr), W::Byte, 0) == false);  // refused, lock released
    CHECK(lock.taken == 4);
    CHECK(lock.held == 0);
    CHECK_FALSE(table.read(GuestPhysAddr(0x080A'0000 + 2 * gicr::stride), W::Dword).has_value());  // unclaimed
    Dist unbound;
    CHECK_FALSE(unbound.read(0, W::Dword).has_value());
    CHECK_FALSE(unbound.write(0, W::Dword, 0));
}

TEST_CASE("delivery: highest priority first, ties to the lowest INTID, SPIs by affinity") {
    Gic gic = make(2);
    bring_up(gic);
    setup_spi(gic, 40, 0xA0, 1);
    setup_spi(gic, 41, 0x80, 1);
    setup_spi(gic, 42, 0xA0, 1);
    setup_spi(gic, 33, 0xA0, 0);
    for (std::uint32_t intid : {42u, 40u, 41u, 33u}) REQUIRE(gic.set_pending(intid));
    CHECK(gic.peek(1)->intid == 41);
    CHECK(gic.next_for(1) == Pending{41, 0x80, 1, true});  // level-triggered, the reset trigger
    CHECK(gic.next_for(1)->intid == 40);  // 40 and 42 tie: the lower INTID
    CHECK(gic.next_for(1)->intid == 42);
    CHECK_FALSE(gic.next_for(1).has_value());
    CHECK(gic.next_for(0)->intid == 33);
    CHECK_FALSE(gic.next_for(0).has_value());
    CHECK_FALSE(gic.next_for(7).has_value());  // no such vCPU

    SUBCASE("a PPI or SGI competes with SPIs by priority") {
        wr(gic, 0, sgi + gicr::isenabler0, u64{1} << virtual_timer_ppi);
        REQUIRE(gic.write_redistributor(sgi + gicr::ipriorityr + virtual_timer_ppi, W::Byte, 0x90));
        REQUIRE(gic.set_pending(34));
        setup_spi(gic, 34, 0x90, 0);
        REQUIRE(gic.set_level(0, virtual_timer_ppi, true));
        CHECK(gic.next_for(0)->intid == virtual_timer_ppi);
        CHECK(gic.next_for(0)->intid == 34);
    }
    SUBCASE("nothing is delivered unless enabled, in an enabled group, not active, to an awake vCPU") {
        setup_spi(gic, 50, 0x10, 0);
        wd(gic, gicd::icenabler + 4, u64{1} << (50 - 32));
        REQUIRE(gic.set_pending(50));
        CHECK_FALSE(gic.peek(0).has_value());
        wd(gic, gicd::isenabler + 4, u64{1} << (50 - 32));
        CHECK(gic.peek(0)->intid == 50);
        wd(gic, gicd::isactiver + 4, u64{1} << (50 - 32));  // active: not signalled again
        CHECK_FALSE(gic.peek(0).has_value());
        wd(gic, gicd::icactiver + 4, u64{1} << (50 - 32));
        CHECK(gic.peek(0)->intid == 50);
        wd(gic, gicd::ctlr, 0);  // the distributor's group enables gate everything
        CHECK_FALSE(gic.peek(0).has_value());
        wd(gic, gicd::ctlr, gicd::ctlr_enable_grp1);
        wr(gic, 0, gicr::waker, gicr::waker_processor_sleep);
        CHECK_FALSE(gic.peek(0).has_value());
        wr(gic, 0, gicr::waker, 0);
        CHECK(gic.peek(0)->intid == 50);
    }
    SUBCASE("Group 0 is delivered with EnableGrp0, as group 0") {
        setup_spi(gic, 51, 0x10, 0);
        wd(gic, gicd::igroupr + 4, ~(u64{1} << (51 - 32)) & 0xFFFF'FFFF);
        REQUIRE(gic.set_pending(51));
        CHECK_FALSE(gic.peek(0).has_value());
        wd(gic, gicd::ctlr, gicd::ctlr_enable_grp0 | gicd::ctlr_enable_grp1);
        const Pending pending = *gic.next_for(0);
        CHECK(pending.intid == 51);
        CHECK(pending.group == 0);
        CHECK((pending.list_register() & ich_lr::group1) == 0);
    }
    SUBCASE("an SPI routed to an affinity no vCPU has stays pending") {
        setup_spi(gic, 52, 0x10, 0x0100);  // Aff1 = 1
        REQUIRE(gic.set_pending(52));
        CHECK_FALSE(gic.peek(0).has_value());
        CHECK_FALSE(gic.peek(1).has_value());
        CHECK(rd(gic, gicd::ispendr + 4) == u64{1} << (52 - 32));
        REQUIRE(gic.write_distributor(gicd::irouter + 8 * 52, W::Qword, 1));  // Linux's set_affinity
        CHECK(gic.next_for(1)->intid == 52);
    }
}

TEST_CASE("1 of N routing (IRM = 1): the first awake vCPU that asks, unless it opts out") {
    Gic gic = make(3);
    bring_up(gic);
    setup_spi(gic, 45, 0xA0, gicd::irouter_irm);
    REQUIRE(gic.set_pending(45));
    CHECK(gic.peek(0)->intid == 45);
    CHECK(gic.peek(2)->intid == 45);
    CHECK(gic.next_for(2)->intid == 45);
    CHECK_FALSE(gic.peek(0).has_value());  // handed out once only
    REQUIRE(gic.on_eoi(2, 45));
    REQUIRE(gic.set_pending(45));
    wr(gic, 0, gicr::ctlr, gicr::ctlr_dpg1ns);  // vCPU 0 opts out of Group 1 1-of-N
    CHECK(rr(gic, 0, gicr::ctlr) == gicr::ctlr_dpg1ns);
    wr(gic, 1, gicr::waker, gicr::waker_processor_sleep);  // vCPU 1 asleep
    CHECK_FALSE(gic.peek(0).has_value());
    CHECK_FALSE(gic.peek(1).has_value());
    CHECK(gic.next_for(2)->intid == 45);
}

TEST_CASE("a handed-out interrupt is in flight until on_eoi") {
    Gic gic = make(2);
    bring_up(gic);
    setup_spi(gic, 40, 0xA0, 1);
    wd(gic, gicd::icfgr + 8, u64{2} << (2 * (40 - 32)));  // edge
    REQUIRE(gic.set_pending(40));
    const Pending first = *gic.next_for(1);
    CHECK(first == Pending{40, 0xA0, 1, false});
    CHECK(gic.in_flight(1, 40) == true);
    CHECK(gic.in_flight(0, 40) == false);
    CHECK(rd(gic, gicd::isactiver + 4) == u64{1} << 8);  // reads active while the LR owns it
    CHECK(rd(gic, gicd::ispendr + 4) == 0);               // the latch went to the LR
    REQUIRE(gic.set_pending(40));                          // a new edge meanwhile: latched, held back
    CHECK_FALSE(gic.peek(1).has_value());
    CHECK(gic.on_eoi(0, 40).error() == AxError::BadState);   // not that vCPU's
    CHECK(gic.on_eoi(1, 41).error() == AxError::BadState);   // not in flight
    CHECK(gic.on_eoi(1, 96).error() == AxError::InvalidInput);
    CHECK(gic.on_eoi(2, 40).error() == AxError::InvalidInput);
    REQUIRE(gic.on_eoi(1, 40));
    CHECK(gic.in_flight(1, 40) == false);
    CHECK(rd(gic, gicd::isactiver + 4) == 0);
    CHECK(gic.next_for(1)->intid == 40);  // the edge that came meanwhile
    REQUIRE(gic.on_eoi(1, 40));
    CHECK_FALSE(gic.peek(1).has_value());  // and only one
    CHECK(gic.on_eoi(1, 40).error() == AxError::BadState);
}

TEST_CASE("level-triggered: pending while high, again after EOI while still high") {
    Gic gic = make(2);
    bring_up(gic);
    setup_spi(gic, 33, 0xA0, 0);  // level (the reset trigger): the UART
    REQUIRE(gic.set_level(33, true));
    CHECK(rd(gic, gicd::ispendr + 4) == 0x2);
    wd(gic, gicd::icpendr + 4, 0x2);  // cannot clear it while the line is high
    CHECK(rd(gic, gicd::ispendr + 4) == 0x2);
    const Pending pending = *gic.next_for(0);
    CHECK(pending == Pending{33, 0xA0, 1, true});
    CHECK((pending.list_register() & ich_lr::eoi) != 0);
    CHECK_FALSE(gic.peek(0).has_value());  // in flight
    REQUIRE(gic.on_eoi(0, 33));            // the guest's handler did not quiet the device
    CHECK(gic.next_for(0)->intid == 33);
    REQUIRE(gic.set_level(33, false));     // now it did
    REQUIRE(gic.on_eoi(0, 33));
    CHECK_FALSE(gic.peek(0).has_value());
    CHECK(rd(gic, gicd::ispendr + 4) == 0);

    SUBCASE("an edge-triggered input latches on a rising edge only") {
        wd(gic, gicd::icfgr + 8, u64{2} << (2 * 1));  // SPI 33 edge
        REQUIRE(gic.set_level(33, true));
        CHECK(gic.next_for(0)->intid == 33);
        REQUIRE(gic.on_eoi(0, 33));
        REQUIRE(gic.set_level(33, true));  // still high: no new edge
        CHECK_FALSE(gic.peek(0).has_value());
        REQUIRE(gic.set_level(33, false));
        REQUIRE(gic.set_level(33, true));
        CHECK(gic.next_for(0)->intid == 33);
    }
}

TEST_CASE("retract gives an interrupt back; release_all forgets a vCPU's") {
    Gic gic = make(2);
    bring_up(gic);
    setup_spi(gic, 40, 0xA0, 1);
    wd(gic, gicd::icfgr + 8, u64{2} << (2 * 8));  // SPI 40 edge
    setup_spi(gic, 41, 0xA0, 1);                   // SPI 41 level
    REQUIRE(gic.set_pending(40));
    REQUIRE(gic.set_level(41, true));
    REQUIRE(gic.next_for(1)->intid == 40);
    REQUIRE(gic.next_for(1)->intid == 41);
    REQUIRE(gic.retract(1, 40));
    CHECK(gic.next_for(1)->intid == 40);
    CHECK(gic.retract(0, 40).error() == AxError::BadState);
    CHECK(gic.release_all(5).error() == AxError::InvalidInput);
    REQUIRE(gic.release_all(1));
    CHECK(gic.in_flight(1, 40) == false);
    CHECK(gic.in_flight(1, 41) == false);
    CHECK(gic.next_for(1)->intid == 41);  // level, still high
    CHECK_FALSE(gic.next_for(1).has_value());
}

TEST_CASE("take_back keeps the state of a vCPU's list registers when it goes off") {
    Gic gic = make(2);
    bring_up(gic);
    wr(gic, 1, sgi + gicr::isenabler0, 0xFFFF);
    setup_spi(gic, 40, 0xA0, 1);
    wd(gic, gicd::icfgr + 8, u64{2} << (2 * 8));  // SPI 40 edge
    const exit::SendIPI sgi3 = decode_sgi1r(u64{3} << 24 | 0b10);
    REQUIRE(gic.send_sgi(0, sgi3));
    REQUIRE(gic.set_pending(40));
    REQUIRE(gic.next_for(1)->intid == 3);
    REQUIRE(gic.next_for(1)->intid == 40);
    CHECK(gic.take_back(0, 3, false, true).error() == AxError::BadState);  // not in flight there
    CHECK(gic.take_back(2, 3, false, true).error() == AxError::InvalidInput);

    // CPU_OFF with SGI 3 acknowledged (active) and SPI 40 still pending.
    REQUIRE(gic.take_back(1, 3, false, true));
    REQUIRE(gic.take_back(1, 40, true, false));
    CHECK(gic.in_flight(1, 3) == false);
    CHECK(gic.in_flight(1, 40) == false);
    CHECK(rr(gic, 1, sgi + gicr::isactiver0) == 1u << 3);  // active, as a GIC keeps it
    CHECK(rd(gic, gicd::isactiver + 4) == 0);
    CHECK(rd(gic, gicd::ispendr + 4) == 1u << 8);          // pending again
    CHECK(gic.next_for(1)->intid == 40);
    REQUIRE(gic.on_eoi(1, 40));
    REQUIRE(gic.send_sgi(0, sgi3));                         // latched behind the active one
    CHECK_FALSE(gic.peek(1).has_value());
    // The CPU comes up again: Linux's gic_cpu_config deactivates its
    // private interrupts, and the SGI sent meanwhile is delivered.
    wr(gic, 1, sgi + gicr::icactiver0, 0xFFFF'FFFF);
    CHECK(gic.next_for(1)->intid == 3);
    REQUIRE(gic.on_eoi(1, 3));
    CHECK_FALSE(gic.peek(1).has_value());

    SUBCASE("a level-triggered one given back pending follows its line, unless it was latched") {
        const std::uint32_t timer = virtual_timer_ppi;
        wr(gic, 1, sgi + gicr::isenabler0, 1u << timer);
        REQUIRE(gic.set_level(1, timer, true));
        REQUIRE(gic.next_for(1)->intid == timer);
        REQUIRE(gic.set_level(1, timer, false));  // the timer stopped meanwhile
        REQUIRE(gic.take_back(1, timer, true, false));
        CHECK_FALSE(gic.peek(1).has_value());
        REQUIRE(gic.set_level(1, timer, true));
        REQUIRE(gic.next_for(1)->intid == timer);
        REQUIRE(gic.retract(1, timer));          // still high: pending again through its line
        CHECK(gic.next_for(1)->intid == timer);
        REQUIRE(gic.set_level(1, timer, false));
        REQUIRE(gic.retract(1, timer));
        CHECK_FALSE(gic.peek(1).has_value());
        wr(gic, 1, sgi + gicr::ispendr0, 1u << timer);  // set pending by software, the line low
        REQUIRE(gic.next_for(1)->intid == timer);
        REQUIRE(gic.take_back(1, timer, true, false));
        CHECK(gic.next_for(1)->intid == timer);
        wr(gic, 1, sgi + gicr::icpendr0, 1u << timer);  // and cleared by software while in flight
        REQUIRE(gic.retract(1, timer));
        CHECK_FALSE(gic.peek(1).has_value());
    }
    SUBCASE("both pending and active: pending again once deactivated") {
        REQUIRE(gic.send_sgi(0, sgi3));
        REQUIRE(gic.next_for(1)->intid == 3);
        REQUIRE(gic.take_back(1, 3, true, true));
        CHECK_FALSE(gic.peek(1).has_value());
        wr(gic, 1, sgi + gicr::icactiver0, 1u << 3);
        CHECK(gic.next_for(1)->intid == 3);
    }
}

TEST_CASE("SGIs: per-target pending from ICC_SGI1R_EL1 writes") {
    Gic gic = make(4);
    bring_up(gic);
    for (usize cpu = 0; cpu < 4; ++cpu) wr(gic, cpu, sgi + gicr::isenabler0, 0xFFFF);
    REQUIRE(gic.write_redistributor(2 * gicr::stride + sgi + gicr::ipriorityr + 5, W::Byte, 0x40));
    // Linux's gic_send_sgi from vCPU 0 to CPUs 1 and 2: TargetList 0b110, INTID 5.
    const exit::SendIPI ipi = decode_sgi1r(u64{5} << 24 | 0b110);
    CHECK(gic.sgi_targets(0, ipi) == VCpuSet::from_bits(0b110));
    REQUIRE(gic.send_sgi(0, ipi));
    CHECK(gic.next_for(1) == Pending{5, 0, 1, false});
    CHECK(gic.next_for(2) == Pending{5, 0x40, 1, false});  // the target's priority
    CHECK_FALSE(gic.peek(0).has_value());
    CHECK_FALSE(gic.peek(3).has_value());
    CHECK(rr(gic, 1, sgi + gicr::isactiver0) == 1u << 5);
    REQUIRE(gic.on_eoi(1, 5));
    REQUIRE(gic.on_eoi(2, 5));

    SUBCASE("IRM = 1: everyone but the sender") {
        const exit::SendIPI all = decode_sgi1r(u64{1} << 40 | u64{2} << 24);
        CHECK(gic.sgi_targets(3, all) == VCpuSet::from_bits(0b0111));
        exit::SendIPI with_self = all;
        with_self.send_to_self = true;
        CHECK(gic.sgi_targets(3, with_self) == VCpuSet::from_bits(0b1111));
    }
    SUBCASE("affinities no vCPU has are left out") {
        CHECK(gic.sgi_targets(0, decode_sgi1r(0xFFF0)).empty());             // Aff0 4..15
        CHECK(gic.sgi_targets(0, decode_sgi1r(u64{1} << 16 | 0x1)).empty());  // Aff1 = 1
        CHECK(gic.sgi_targets(0, decode_sgi1r(u64{1} << 44 | 0x1)).empty());  // RS = 1: Aff0 16
        CHECK(gic.sgi_targets(9, ipi).empty());                              // no such sender
    }
    SUBCASE("range selector: Aff0 past 15") {
        Gic::Config config;
        config.vcpus = 2;
        config.mpidr[1] = 17;
        Gic far = Gic::create(config).value();
        CHECK(far.sgi_targets(0, decode_sgi1r(u64{1} << 44 | 0b10)) == VCpuSet::only(1));  // RS 1, bit 1: Aff0 17
    }
    SUBCASE("bad input is refused") {
        CHECK(gic.send_sgi(0, VCpuSet::only(1), 16).error() == AxError::InvalidInput);
        CHECK(gic.send_sgi(0, VCpuSet::only(4), 1).error() == AxError::InvalidInput);
        CHECK(gic.send_sgi(4, VCpuSet::only(1), 1).error() == AxError::InvalidInput);
        exit::SendIPI bad = ipi;
        bad.vector = 16;
        CHECK(gic.send_sgi(0, bad).error() == AxError::InvalidInput);
        CHECK_FALSE(gic.peek(1).has_value());
    }
}

TEST_CASE("inputs refuse INTIDs of the wrong kind") {
    Gic gic = make(2, 32);
    CHECK(gic.set_level(27, true).error() == AxError::InvalidInput);      // a PPI needs its vCPU
    CHECK(gic.set_level(64, true).error() == AxError::InvalidInput);      // only 32 SPIs
    CHECK(gic.set_pending(1020).error() == AxError::InvalidInput);
    CHECK(gic.set_level(0, 33, true).error() == AxError::InvalidInput);   // an SPI is not private
    CHECK(gic.set_level(0, 3, true).error() == AxError::InvalidInput);    // SGIs: send_sgi
    CHECK(gic.set_pending(2, 27).error() == AxError::InvalidInput);       // no vCPU 2
    CHECK(gic.set_pending(1, 16));
    CHECK(gic.set_level(63, true));
    CHECK_FALSE(gic.in_flight(0, 64).has_value());
}

TEST_CASE("take_wakeups names the vCPUs that have something to take") {
    Gic gic = make(3);
    CHECK(gic.take_wakeups().empty());
    setup_spi(gic, 40, 0xA0, 2);
    REQUIRE(gic.set_pending(40));
    CHECK(gic.take_wakeups().empty());  // distributor off, redistributors asleep
    wd(gic, gicd::ctlr, gicd::ctlr_enable_grp1);
    CHECK(gic.take_wakeups().empty());
    wr(gic, 2, gicr::waker, 0);  // the write that makes it deliverable
    CHECK(gic.take_wakeups() == VCpuSet::only(2));
    CHECK(gic.take_wakeups().empty());
    REQUIRE(gic.next_for(2));
    wr(gic, 1, gicr::waker, 0);
    wr(gic, 1, sgi + gicr::isenabler0, 0xFFFF);
    REQUIRE(gic.send_sgi(0, VCpuSet::only(1), 0));
    CHECK(gic.take_wakeups() == VCpuSet::only(1));
}

TEST_CASE("Pending::list_register encodes ICH_LR<n>_EL2") {
    static_assert(Pending{27, 0xA0, 1, true}.list_register() ==
                  (u64{1} << 62 | u64{1} << 60 | u64{0xA0} << 48 | u64{1} << 41 | 27));
    static_assert(Pending{1019, 0, 0, false}.list_register() == (u64{1} << 62 | 1019));
}

TEST_CASE("reset returns every register to its reset value") {
    Gic gic = make(2);
    bring_up(gic);
    setup_spi(gic, 40, 0x10, 1);
    REQUIRE(gic.set_level(40, true));
    REQUIRE(gic.next_for(1));
    gic.reset();
    CHECK(rd(gic, gicd::ctlr) == 0x50);
    CHECK(rd(gic, gicd::isenabler + 4) == 0);
    CHECK(rd(gic, gicd::ispendr + 4) == 0);
    CHECK(gic.in_flight(1, 40) == false);
    CHECK(rr(gic, 1, gicr::waker) == 6);
    CHECK(gic.read_redistributor(gicr::stride + gicr::typer, W::Qword) ==
          (u64{1} << 32 | 1 << 8 | gicr::typer_dpgs | gicr::typer_last));  // configuration kept
    CHECK(gic.take_wakeups().empty());
}

// What Linux 6.1's drivers/irqchip/irq-gic-v3.c (and irq-gic-common.c) do
// to the GIC on a 2-CPU VM, in order: probe, gic_dist_init, gic_cpu_init
// on each CPU, then the timer, the UART and an IPI. Every access must be
// accepted; the values read are what the driver bases its decisions on.
TEST_CASE("Linux 6.1 boot sequence") {
    Gic gic = make(2, 64);
    const u64 cpu_mpidr[2] = {0x8000'0000, 0x8000'0001};  // MPIDR_EL1 with its RES1 bit
    int accesses = 0;
    auto dread = [&](u64 offset) { ++accesses; return rd(gic, offset); };
    auto dwrite = [&](u64 offset, u64 value) { ++accesses; wd(gic, offset, value); };
    auto rbase = [](usize cpu) { return cpu * gicr::stride; };
    auto rread = [&](u64 offset, W width = W::Dword) {
        ++accesses;
        const std::optional<u64> value = gic.read_redistributor(offset, width);
        REQUIRE(value.has_value());
        return *value;
    };
    auto rwrite = [&](u64 offset, u64 value) {
        ++accesses;
        REQUIRE(gic.write_redistributor(offset, W::Dword, value));
    };
    auto wait_for_rwp = [&](auto read) {
        int count = 0;
        while ((read() & gicd::ctlr_rwp) != 0 && ++count < 1000) {}
        CHECK(count == 0);
    };

    // gic_validate_dist_version, gic_init_bases.
    REQUIRE((dread(gicd::pidr2) & 0xF0) == 0x30);
    const u64 typer = dread(gicd::typer);
    const unsigned line_nr = std::min(32 * ((static_cast<unsigned>(typer) & 0x1F) + 1), 1020u);  // GIC_LINE_NR
    CHECK(line_nr == 96);
    CHECK((typer & (1u << 8)) == 0);   // no ESPI: the extended-range loops do nothing
    CHECK((typer & (1u << 17)) == 0);  // no LPIs: no ITS set-up
    (void)dread(gicd::iidr);
    CHECK(dread(gicd::typer2) == 0);   // no nASSGIcap
    // gic_update_rdist_properties: walk the region by GICR_TYPER.Last.
    CHECK((rread(rbase(0) + gicr::pidr2) & 0xF0) == 0x30);
    unsigned redists = 0;
    for (u64 ptr = 0;; ptr += 2 * 0x10000) {
        const u64 rtyper = rread(ptr + gicr::typer, W::Qword);
        CHECK((rtyper >> 27 & 0x1F) == 0);  // 16 PPIs
        ++redists;
        if ((rtyper & gicr::typer_last) != 0) break;
    }
    CHECK(redists == 2);

    // gic_dist_init.
    dwrite(gicd::ctlr, 0);
    wait_for_rwp([&] { return dread(gicd::ctlr); });
    for (unsigned i = 32; i < line_nr; i += 32) dwrite(gicd::igroupr + i / 8, 0xFFFF'FFFF);
    // gic_dist_config: level, default priority, deactivated and disabled.
    for (unsigned i = 32; i < line_nr; i += 16) dwrite(gicd::icfgr + i / 4, 0);
    for (unsigned i = 32; i < line_nr; i += 4) dwrite(gicd::ipriorityr + i, 0xA0A0'A0A0);
    for (unsigned i = 32; i < line_nr; i += 32) {
        dwrite(gicd::icactiver + i / 8, 0xFFFF'FFFF);
        dwrite(gicd::icenabler + i / 8, 0xFFFF'FFFF);
    }
    wait_for_rwp([&] { return dread(gicd::ctlr); });
    dwrite(gicd::ctlr, gicd::ctlr_are | 0x2 | 0x1);  // ARE_NS | ENABLE_G1A | ENABLE_G1
    const u64 boot_affinity = cpu_mpidr[0] & 0xFF'00FF'FFFF;
    for (unsigned i = 32; i < line_nr; ++i) {
        ++accesses;
        REQUIRE(gic.write_distributor(gicd::irouter + 8 * i, W::Qword, boot_affinity));  // gic_write_irouter
    }

    // gic_cpu_init on each CPU (the boot CPU, then the secondary's hotplug callback).
    for (usize cpu = 0; cpu < 2; ++cpu) {
        // gic_populate_rdist: the redistributor whose TYPER affinity is this CPU's.
        const u64 aff = cpu_mpidr[cpu] & 0xFF'FFFF;
        std::optional<u64> found;
        for (u64 ptr = 0;; ptr += 2 * 0x10000) {
            const u64 rtyper = rread(ptr + gicr::typer, W::Qword);
            if ((rtyper >> 32) == aff) found = ptr;
            if (found || (rtyper & gicr::typer_last) != 0) break;
        }
        REQUIRE(found == rbase(cpu));
        const u64 rd_base = *found;
        const u64 sgi_base = rd_base + gicr::sgi_base;
        // gic_enable_redist(true).
        u64 waker = rread(rd_base + gicr::waker);
        rwrite(rd_base + gicr::waker, waker & ~u64{gicr::waker_processor_sleep});
        int count = 0;
        while (((waker = rread(rd_base + gicr::waker)) & gicr::waker_children_asleep) != 0 && ++count < 1000) {}
        CHECK(count == 0);
        // SGIs/PPIs non-secure Group 1; gic_cpu_config.
        rwrite(sgi_base + gicr::igroupr0, 0xFFFF'FFFF);
        rwrite(sgi_base + gicr::icactiver0, 0xFFFF'FFFF);
        rwrite(sgi_base + gicr::icenabler0, 0xFFFF'FFFF);
        for (unsigned i = 0; i < 32; i += 4) rwrite(sgi_base + gicr::ipriorityr + i, 0xA0A0'A0A0);
        rwrite(sgi_base + gicr::isenabler0, 0x0000'FFFF);
        wait_for_rwp([&] { return rread(rd_base + gicr::ctlr); });
        // The arch timer's PPI 27: gic_set_type (level: unchanged, no write) and unmask.
        const u64 icfgr1 = rread(sgi_base + gicr::icfgr1);
        CHECK((icfgr1 & (u64{2} << (2 * (27 - 16)))) == 0);
        rwrite(sgi_base + gicr::isenabler0, u64{1} << 27);
        wait_for_rwp([&] { return rread(rd_base + gicr::ctlr); });
    }
    // The PL011 at SPI 1 (INTID 33), level-high: set_type, affinity to CPU 0, unmask.
    CHECK((dread(gicd::icfgr + 8) & (u64{2} << 2)) == 0);
    ++accesses;
    REQUIRE(gic.write_distributor(gicd::irouter + 8 * 33, W::Qword, boot_affinity));
    wait_for_rwp([&] { return dread(gicd::ctlr); });
    dwrite(gicd::isenabler + 4, 0x2);
    wait_for_rwp([&] { return dread(gicd::ctlr); });

    CHECK(accesses == 147);  // the driver's accesses above, every one accepted
    CHECK(dread(gicd::ctlr) == 0x53);
    CHECK(rr(gic, 0, gicr::waker) == 0);
    CHECK(rr(gic, 1, gicr::waker) == 0);
    CHECK_FALSE(gic.peek(0).has_value());
    CHECK_FALSE(gic.peek(1).has_value());

    // The VMM's side: the virtual timer fires on vCPU 1, the UART raises its line.
    REQUIRE(gic.set_level(1, virtual_timer_ppi, true));
    REQUIRE(gic.set_level(33, true));
    CHECK(gic.take_wakeups() == VCpuSet::from_bits(0b11));
    CHECK(gic.next_for(1) == Pending{27, 0xA0, 1, true});
    CHECK(gic.next_for(0) == Pending{33, 0xA0, 1, true});
    // The guest on vCPU 0 sends IPI 1 (IPI_CALL_FUNC) to CPU 1 while the timer is in flight there.
    const exit::SendIPI ipi = decode_sgi1r(u64{1} << 24 | 0b10);
    REQUIRE(gic.send_sgi(0, ipi));
    CHECK(gic.next_for(1) == Pending{1, 0xA0, 1, false});
    // EOIs: the timer handler reprogrammed the timer (the line dropped), the UART's did not.
    REQUIRE(gic.set_level(1, virtual_timer_ppi, false));
    REQUIRE(gic.on_eoi(1, virtual_timer_ppi));
    REQUIRE(gic.on_eoi(1, 1));
    REQUIRE(gic.on_eoi(0, 33));
    CHECK_FALSE(gic.peek(1).has_value());
    CHECK(gic.next_for(0)->intid == 33);
}
}  // namespace aarch64_vgic_test
