// libFuzzer harness: the virtual GICv3 (arch/aarch64/vgic.hpp) driven by a
// byte stream of operations: distributor/redistributor MMIO at fuzzed
// offsets and widths, SPI/PPI lines and edges, SGIs from decoded
// ICC_SGI1R_EL1 values, next_for / on_eoi / retract / take_back /
// release_all / reset.
// Invariants (each operation's own at once; the whole in-flight record
// every 8 operations, before release_all or reset forgets it, and at the
// end):
// - an access is accepted iff the header's width rules allow it (32-bit
//   aligned anywhere in a frame, 8-bit only in the priority/target/SGI-pend
//   byte registers, 64-bit only IROUTER and GICR_TYPER, 16-bit never, past
//   the frame or the last redistributor never); a read returns at most the
//   access width's bytes;
// - next_for hands out what peek announced, an INTID this vCPU can have, and
//   never one already in flight (anywhere, for an SPI) until on_eoi,
//   retract, take_back or release_all; in_flight() agrees with that record;
// - on_eoi / retract / take_back succeed iff the interrupt is in flight at
//   that vCPU; an active one taken back reads active (ISACTIVER);
// - the inputs refuse exactly the INTIDs and vCPUs the VM lacks.
#include <arch/aarch64/exit_decode.hpp>
#include <arch/aarch64/vgic.hpp>

#include <array>
#include <bitset>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::aarch64;
using namespace axvcpu::aarch64::vgic;

namespace {
using Gic = VGic<4, 64>;
constexpr std::uint32_t max_intid = 32 + 64;

std::uint64_t dist_offset(fuzz::Bytes& in) {
    const std::uint8_t kind = in.u8();
    const std::uint64_t n = in.u8();
    switch (kind % 10) {
        case 0: return gicd::ctlr + (n % 4) * 4;
        case 1: return gicd::isenabler + n % 16;
        case 2: return gicd::ispendr + (n % 64);
        case 3: return gicd::ipriorityr + n % 128;
        case 4: return gicd::icfgr + n % 32;
        case 5: return gicd::irouter + n * 4;
        case 6: return gicd::igroupr + (n % 64);
        case 7: return gicd::cpendsgir + n % 48;
        case 8: return in.u16();
        default: return gicd::frame_size - 32 + n % 64;
    }
}
std::uint64_t redist_offset(fuzz::Bytes& in) {
    const std::uint8_t kind = in.u8();
    const std::uint64_t n = in.u8();
    const std::uint64_t cpu = ((kind >> 4) % 5) * gicr::stride;
    switch (kind % 10) {
        case 0: return cpu + gicr::waker;
        case 1: return cpu + n % 24;  // CTLR, IIDR, TYPER
        case 2: return cpu + gicr::sgi_base + gicr::isenabler0 + n % 8;
        case 3: return cpu + gicr::sgi_base + gicr::ispendr0 + n % 0x200;
        case 4: return cpu + gicr::sgi_base + gicr::ipriorityr + n % 40;
        case 5: return cpu + gicr::sgi_base + gicr::icfgr0 + n % 8;
        case 6: return cpu + gicr::sgi_base + gicr::igroupr0 + n % 8;
        case 7: return in.u32() % (5 * gicr::stride);
        case 8: return cpu + gicr::pidr2 + n % 8;
        default: return cpu + gicr::sgi_base + (n << 8);
    }
}

FUZZ_REFERENCE bool in(std::uint64_t o, std::uint64_t b, std::uint64_t e) { return o >= b && o < e; }

// The header's access rules, restated.
FUZZ_REFERENCE bool dist_legal(std::uint64_t o, AccessWidth w) {
    if (o >= gicd::frame_size) return false;
    switch (w) {
        case AccessWidth::Byte: return in(o, gicd::ipriorityr, gicd::icfgr) || in(o, gicd::cpendsgir, gicd::spendsgir + 16);
        case AccessWidth::Word: return false;
        case AccessWidth::Dword: return o % 4 == 0;
        default: return o % 8 == 0 && in(o, gicd::irouter, gicd::irouter + 8 * 1024);
    }
}
FUZZ_REFERENCE bool redist_legal(std::uint64_t o, AccessWidth w, usize vcpus) {
    if (o >= vcpus * gicr::stride) return false;
    const std::uint64_t inner = o % gicr::stride;
    const bool sgi = inner >= gicr::sgi_base;
    const std::uint64_t f = sgi ? inner - gicr::sgi_base : inner;
    switch (w) {
        case AccessWidth::Byte: return sgi && in(f, gicr::ipriorityr, gicr::ipriorityr + 32);
        case AccessWidth::Word: return false;
        case AccessWidth::Dword: return f % 4 == 0;
        default: return !sgi && f == gicr::typer;
    }
}

struct Shadow {
    // in_flight[v][intid]: handed to v by next_for and not yet finished.
    std::array<std::bitset<max_intid>, 4> in_flight;
    FUZZ_REFERENCE bool anywhere(std::uint32_t intid) const {
        for (const auto& v : in_flight)
            if (v[intid]) return true;
        return false;
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes bytes(data, size);
    const std::uint8_t setup = bytes.u8();
    Gic::Config config;
    config.vcpus = 1 + setup % 4;
    config.spis = (setup & 0x10) != 0 ? 32 : 64;
    Gic gic = Gic::create(config).value();
    const usize vcpus = config.vcpus;
    const std::uint32_t intids = 32 + static_cast<std::uint32_t>(config.spis);
    Shadow shadow;

    auto valid = [&](usize v, std::uint32_t intid) { return v < vcpus && intid < intids; };
    auto check_all = [&]() FUZZ_REFERENCE {
        for (usize v = 0; v < 5; ++v) {
            for (std::uint32_t intid = 0; intid < max_intid + 2; ++intid) {
                const std::optional<bool> f = gic.in_flight(v, intid);
                FUZZ_CHECK(f.has_value() == valid(v, intid));
                if (f) FUZZ_CHECK(*f == shadow.in_flight[v][intid]);
            }
        }
    };

    for (unsigned steps = 0; !bytes.empty() && steps < 200; ++steps) {
        const std::uint8_t op = bytes.u8();
        const auto width = static_cast<AccessWidth>((op >> 4) % 4 == 3 ? 2 : bytes.u8() % 4);
        switch (op % 12) {
            case 0: {
                const std::uint64_t o = dist_offset(bytes);
                const auto got = gic.read_distributor(o, width);
                FUZZ_CHECK(got.has_value() == dist_legal(o, width));
                if (got) FUZZ_CHECK((*got & ~fuzz::width_mask(width)) == 0);
                break;
            }
            case 1: {
                const std::uint64_t o = dist_offset(bytes);
                FUZZ_CHECK(gic.write_distributor(o, width, bytes.u64()) == dist_legal(o, width));
                break;
            }
            case 2: {
                const std::uint64_t o = redist_offset(bytes);
                const auto got = gic.read_redistributor(o, width);
                FUZZ_CHECK(got.has_value() == redist_legal(o, width, vcpus));
                if (got) FUZZ_CHECK((*got & ~fuzz::width_mask(width)) == 0);
                break;
            }
            case 3: {
                const std::uint64_t o = redist_offset(bytes);
                FUZZ_CHECK(gic.write_redistributor(o, width, bytes.u64()) == redist_legal(o, width, vcpus));
                break;
            }
            case 4: {  // a line: SPI (global) or PPI (per vCPU)
                const std::uint8_t b = bytes.u8();
                const std::uint32_t intid = bytes.u8() % (max_intid + 4);
                const bool high = (b & 0x80) != 0;
                if (b & 1) {
                    const usize v = (b >> 1) % 5;
                    const bool ok = v < vcpus && intid >= 16 && intid < 32;
                    FUZZ_CHECK(gic.set_level(v, intid, high).has_value() == ok);
                } else {
                    FUZZ_CHECK(gic.set_level(intid, high).has_value() == (intid >= 32 && intid < intids));
                }
                break;
            }
            case 5: {  // an edge
                const std::uint8_t b = bytes.u8();
                const std::uint32_t intid = bytes.u8() % (max_intid + 4);
                if (b & 1) {
                    const usize v = (b >> 1) % 5;
                    FUZZ_CHECK(gic.set_pending(v, intid).has_value() == (v < vcpus && intid >= 16 && intid < 32));
                } else {
                    FUZZ_CHECK(gic.set_pending(intid).has_value() == (intid >= 32 && intid < intids));
                }
                break;
            }
            case 6: {  // ICC_SGI1R_EL1 write from a vCPU
                const usize from = bytes.u8() % 5;
                const exit::SendIPI ipi = decode_sgi1r(bytes.u64());
                const VCpuSet targets = gic.sgi_targets(from, ipi);
                FUZZ_CHECK((targets.bits() & ~VCpuSet::first_n(vcpus).bits()) == 0);
                if (ipi.send_to_all && from < vcpus) FUZZ_CHECK(!targets.contains(from));
                FUZZ_CHECK(gic.send_sgi(from, ipi).has_value() == (from < vcpus));  // vector <= 15 by decoding
                break;
            }
            case 7: {  // hand out
                const usize v = bytes.u8() % 5;
                const std::optional<Pending> peeked = gic.peek(v);
                const std::optional<Pending> next = gic.next_for(v);
                FUZZ_CHECK(peeked == next);
                if (v >= vcpus) FUZZ_CHECK(!next);
                if (next) {
                    FUZZ_CHECK(next->intid < intids && next->group <= 1);
                    // Never twice before it is finished.
                    FUZZ_CHECK(!shadow.in_flight[v][next->intid]);
                    if (next->intid >= 32) FUZZ_CHECK(!shadow.anywhere(next->intid));
                    shadow.in_flight[v][next->intid] = true;
                    FUZZ_CHECK(gic.in_flight(v, next->intid) == std::optional<bool>(true));
                    FUZZ_CHECK((next->list_register() & 0x3FF) == next->intid);
                }
                break;
            }
            case 8:
            case 9: {  // on_eoi / retract / take_back: of one in flight, or of anything
                const std::uint8_t b = bytes.u8();
                const usize v = b % 5;
                std::uint32_t intid = bytes.u8() % (max_intid + 4);
                if ((b & 0x80) != 0 && v < 4) {
                    for (std::uint32_t i = 0; i < max_intid; ++i)
                        if (shadow.in_flight[v][(intid + i) % max_intid]) { intid = (intid + i) % max_intid; break; }
                }
                const bool ok = valid(v, intid) && shadow.in_flight[v][intid];
                const bool take_back = op % 12 == 9 && (b & 0x40) != 0, active = (b & 0x20) != 0;
                const AxResult<void> r = op % 12 == 8 ? gic.on_eoi(v, intid)
                                         : take_back  ? gic.take_back(v, intid, (b & 0x10) != 0, active)
                                                      : gic.retract(v, intid);
                FUZZ_CHECK(r.has_value() == ok);
                if (!ok) FUZZ_CHECK(r.error() == (valid(v, intid) ? AxError::BadState : AxError::InvalidInput));
                if (ok) shadow.in_flight[v][intid] = false;
                if (ok && take_back && active) {
                    const std::uint64_t redistributor = v * gicr::stride + gicr::sgi_base + gicr::isactiver0;
                    const std::optional<std::uint64_t> word =
                        intid < 32 ? gic.read_redistributor(redistributor, AccessWidth::Dword)
                                   : gic.read_distributor(gicd::isactiver + 4 * (intid / 32), AccessWidth::Dword);
                    FUZZ_CHECK(word && (*word >> (intid % 32) & 1) != 0);
                }
                break;
            }
            case 10: {
                const usize v = bytes.u8() % 5;
                check_all();
                FUZZ_CHECK(gic.release_all(v).has_value() == (v < vcpus));
                if (v < vcpus) shadow.in_flight[v].reset();
                break;
            }
            default: {
                if ((op & 0xF0) == 0xF0) {
                    check_all();
                    gic.reset();
                    shadow = Shadow{};
                } else {
                    const VCpuSet woken = gic.take_wakeups();
                    FUZZ_CHECK((woken.bits() & ~VCpuSet::first_n(vcpus).bits()) == 0);
                    FUZZ_CHECK(gic.take_wakeups().bits() == 0);
                }
                break;
            }
        }
        if (steps % 8 == 7) check_all();
    }
    check_all();
    return 0;
}
