// A virtual GICv3 for a VM: one distributor and a redistributor per vCPU,
// as a pure model over MMIO reads and writes, complete enough for Linux's
// irq-gic-v3 driver (6.1). No system-register access and no asm: it builds
// on any host and is tested there (test/aarch64/vgic_test.cpp). "The spec"
// below is the Arm GICv3/v4 architecture specification, IHI 0069.
//
// What the guest sees
// - A GIC with a single Security state (GICD_CTLR.DS reads 1), as the
//   guest's virtual CPU interface (ICV_* registers) has one: Group 0 and
//   Group 1, each with its enable in GICD_CTLR. Affinity routing is always
//   on (GICD_CTLR.ARE reads 1, writes ignored; legacy operation is not
//   modelled), so the distributor's banked SGI/PPI registers are RAZ/WI and
//   SGIs and PPIs live in each redistributor's SGI_base frame. Changes take
//   effect at once: GICD_CTLR.RWP and GICR_CTLR.RWP read 0.
// - GICD_TYPER: ITLinesNumber from the SPI count (spis / 32), IDbits = 9
//   (10 INTID bits: no LPIs), A3V (Aff3 is kept), RSS (SGI target lists
//   reach Aff0 up to 255), 1 of N routing supported (No1N = 0), no LPIs,
//   message-based SPIs, extended ranges or NMIs; CPUNumber is 0 (it counts
//   PEs for legacy operation only). GICD_TYPER2 is 0.
// - Redistributor v (of vcpus) is frames v*128K (RD_base) and v*128K + 64K
//   (SGI_base) of the redistributor region. GICR_TYPER: Processor_Number =
//   v, Affinity_Value = the vCPU's MPIDR Aff3.Aff2.Aff1.Aff0, Last on the
//   last one, DPGS, 16 PPIs, no (virtual) LPIs. GICR_WAKER resets asleep
//   (ProcessorSleep = ChildrenAsleep = 1); ChildrenAsleep follows
//   ProcessorSleep at once, so Linux's wake-up poll ends on its first read.
//   An asleep redistributor forwards nothing (spec: the PE is powered off);
//   its interrupts stay pending.
// - IIDR (both frames): Config::iidr, by default Implementer Arm (0x43B)
//   with ProductID 'A', a product no Linux erratum workaround matches.
//   PIDR2 (0xFFE8 of GICD and RD_base): ArchRev 3. The other ID registers
//   read 0 (the spec leaves them IMPLEMENTATION DEFINED; Linux reads only
//   PIDR2).
//
// RAZ/WI
// - Every reserved offset, and the registers of features not modelled:
//   GICD_STATUSR, GICR_STATUSR (optional error reporting), GICD_IGRPMODR,
//   GICR_IGRPMODR0, GICD_NSACR, GICR_NSACR (RAZ/WI when DS = 1, spec),
//   GICD_ITARGETSR, GICD_SGIR, GICD_CPENDSGIR, GICD_SPENDSGIR (legacy
//   operation only), the LPI registers (GICD_TYPER.LPIS = 0), GICR_CTLR's
//   EnableLPIs and GICD_CTLR's E1NWF and nASSGIreq.
// - Registers of SPIs this VM does not have (beyond Config::spis).
//
// Access widths (spec, "GIC memory-mapped register access")
// - 32-bit, naturally aligned: every register.
// - 8-bit: also GICD_IPRIORITYR, GICD_ITARGETSR, GICD_[CS]PENDSGIR and
//   GICR_IPRIORITYR (the byte-accessible ones).
// - 64-bit, 8-byte aligned: GICD_IROUTER<n> and GICR_TYPER, whose halves
//   also take 32-bit accesses (so an AArch32 guest can read them).
// Anything else (16-bit, misaligned, 64-bit to a 32-bit register, 8-bit
// elsewhere, past the frame or past the last redistributor) is refused:
// read gives nullopt, write false, and the VMM reflects a data abort to the
// guest (examples/vmm). Reserved space follows the 32-bit rule.
//
// Interrupt state
// - Each interrupt has enable, group, priority (8 bits kept), active, a
//   pending latch, an input line and a trigger (GICD_ICFGR / GICR_ICFGR1;
//   SGIs are always edge-triggered and ICFGR0 is read-only). It is pending
//   when its latch is set or, level-triggered, while its line is high, so
//   ICPENDR cannot clear a level interrupt whose line stays high (spec).
// - Inputs from the VMM: set_level(intid, high) for a level source (a
//   rising edge latches an edge-triggered one), set_pending(intid) for an
//   edge, PPIs with the vCPU first (set_level(vcpu, 27, true): the virtual
//   timer), send_sgi(from, targets, intid) for an ICC_SGI1R_EL1 write (the
//   policy decodes it into SendIPI; sgi_targets maps that to vCPUs).
// - Routing of SPIs (GICD_IROUTER): IRM = 0 goes to the vCPU whose MPIDR
//   affinity equals Aff3.Aff2.Aff1.Aff0 (none: it stays pending, as on
//   hardware); IRM = 1 ("1 of N") goes to whichever awake vCPU, not opted
//   out by GICR_CTLR.DPG0/DPG1NS, asks first. IROUTER resets to 0: the
//   vCPU with affinity 0.0.0.0.
//
// Delivery: what the VMM puts in list registers
// - next_for(vcpu) hands out the highest-priority interrupt that is
//   pending, enabled, not active, of an enabled group and routed to that
//   awake vCPU (equal priorities: the lowest INTID, a choice the spec leaves
//   to the implementation); peek(vcpu) tells without handing out. The
//   result (Pending) carries what an ICH_LR<n>_EL2 needs and list_register()
//   encodes it. Handing out clears the pending latch: from then on the list
//   register owns the pending and active state, and the model counts the
//   interrupt "in flight" and never hands it out again (the spec makes two
//   list registers with one INTID UNPREDICTABLE) until the policy reports
//   back. Meanwhile ISACTIVER reads it as active (conservative: Linux's
//   synchronize_irq then waits for the guest to finish it), and new edges
//   latch and wait.
// - The EOI contract: the arch policy must call on_eoi(vcpu, intid) when
//   the guest has deactivated an interrupt it got from next_for (its list
//   register went invalid: a maintenance interrupt with ICH_MISR.EOI and
//   the LR's bit in ICH_EISR_EL2 for LRs written with the EOI bit, or the
//   LR's bit in ICH_ELRSR_EL2 seen at an exit). Pending::notify_eoi is set
//   for level-triggered interrupts: those need the EOI bit and a prompt
//   report, because on_eoi is where a level source whose line is still
//   high becomes pending again (and where a VMM re-arms a hardware source,
//   such as the host timer, before re-sampling it). Edge interrupts may be
//   reported lazily, but they must be reported: until then they stay in
//   flight. retract(vcpu, intid) gives back one the guest never took (the
//   policy evicted a pending-only LR; a level-triggered one is pending
//   again through its line, or its latch if that was set when it was
//   handed out); take_back(vcpu, intid, pending,
//   active) keeps the state of one whose vCPU went off (CPU_OFF) in the
//   model; release_all(vcpu) forgets all of a vCPU's (its LRs were
//   discarded: a reset).
// - Guest writes that cannot reach a list register: ICENABLER, ICPENDR,
//   ICACTIVER and IPRIORITYR on an interrupt in flight change the model's
//   state only; the list register's copy stays until on_eoi (the model has
//   no access to it), so the guest may still take an interrupt it has just
//   masked and find nothing to do. A policy that wants to avoid that
//   retracts pending-only list registers at each exit (retract()).
// - take_wakeups() returns (and clears) the vCPUs that had something to
//   hand out after any change since the last call (a superset of those that
//   gained one): the VMM kicks them, or lets a halted one run.
//
// Concurrency: the model itself takes no lock. A distributor is shared by
// every vCPU of the VM, so the VMM serialises all calls on one VGic with one
// lock per VM, which the DeviceModel views (DistributorFrame<Lock>,
// RedistributorFrames<Lock>) take around each MMIO access.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>

#include "axvcpu/error.hpp"
#include "axvcpu/exit_reason.hpp"
#include "axvcpu/types.hpp"

namespace axvcpu::aarch64::vgic {

// INTID ranges (spec, "INTIDs"): SGIs 0-15 and PPIs 16-31 are private to a
// PE, SPIs start at 32 and end at 1019.
inline constexpr std::uint32_t sgi_count = 16;
inline constexpr std::uint32_t private_count = 32;
inline constexpr std::uint32_t spi_base = 32;
// The virtual timer's PPI (Linux's device trees, QEMU virt): what a VMM
// raises with set_level(vcpu, virtual_timer_ppi, true).
inline constexpr std::uint32_t virtual_timer_ppi = 27;

// Distributor register offsets (spec, "The GIC Distributor register map").
namespace gicd {
inline constexpr std::uint64_t frame_size = 0x10000;
inline constexpr std::uint64_t ctlr = 0x0000, typer = 0x0004, iidr = 0x0008, typer2 = 0x000C, statusr = 0x0010,
                               igroupr = 0x0080, isenabler = 0x0100, icenabler = 0x0180, ispendr = 0x0200,
                               icpendr = 0x0280, isactiver = 0x0300, icactiver = 0x0380, ipriorityr = 0x0400,
                               itargetsr = 0x0800, icfgr = 0x0C00, igrpmodr = 0x0D00, nsacr = 0x0E00, sgir = 0x0F00,
                               cpendsgir = 0x0F10, spendsgir = 0x0F20, irouter = 0x6000, pidr2 = 0xFFE8;
// GICD_CTLR as seen with DS = 1 (a single Security state). Linux writes
// ARE_NS | EnableGrp1A | EnableGrp1 (bits 4, 1, 0): with DS = 1 those are
// ARE, EnableGrp1 and EnableGrp0.
inline constexpr std::uint32_t ctlr_enable_grp0 = 1u << 0;
inline constexpr std::uint32_t ctlr_enable_grp1 = 1u << 1;
inline constexpr std::uint32_t ctlr_are = 1u << 4;
inline constexpr std::uint32_t ctlr_ds = 1u << 6;
inline constexpr std::uint32_t ctlr_rwp = 1u << 31;
// GICD_TYPER fields this model sets.
inline constexpr std::uint32_t typer_idbits_shift = 19;
inline constexpr std::uint32_t typer_a3v = 1u << 24;
inline constexpr std::uint32_t typer_no1n = 1u << 25;
inline constexpr std::uint32_t typer_rss = 1u << 26;
// GICD_IROUTER<n>: Aff3 [39:32], IRM [31], Aff2.Aff1.Aff0 [23:0]; the rest RES0.
// One 8-byte register per INTID below 1024, from `irouter` on.
inline constexpr std::uint64_t irouter_end = irouter + std::uint64_t{8} * 1024;
inline constexpr std::uint64_t irouter_irm = std::uint64_t{1} << 31;
inline constexpr std::uint64_t irouter_mask = 0xFF'80FF'FFFF;
}  // namespace gicd

// Redistributor register offsets: RD_base, then SGI_base 64 KiB on.
namespace gicr {
inline constexpr std::uint64_t frame_size = 0x10000;
inline constexpr std::uint64_t stride = 0x20000;  // RD_base + SGI_base (no VLPI frames: GICR_TYPER.VLPIS = 0)
inline constexpr std::uint64_t sgi_base = 0x10000;
inline constexpr std::uint64_t ctlr = 0x0000, iidr = 0x0004, typer = 0x0008, statusr = 0x0010, waker = 0x0014,
                               pidr2 = 0xFFE8;
// In the SGI_base frame.
inline constexpr std::uint64_t igroupr0 = 0x0080, isenabler0 = 0x0100, icenabler0 = 0x0180, ispendr0 = 0x0200,
                               icpendr0 = 0x0280, isactiver0 = 0x0300, icactiver0 = 0x0380, ipriorityr = 0x0400,
                               icfgr0 = 0x0C00, icfgr1 = 0x0C04, igrpmodr0 = 0x0D00, nsacr = 0x0E00;
inline constexpr std::uint32_t ctlr_dpg0 = 1u << 24;    // not chosen for 1 of N Group 0 SPIs
inline constexpr std::uint32_t ctlr_dpg1ns = 1u << 25;  // nor Group 1 ones (DS = 1: the only Group 1)
inline constexpr std::uint32_t waker_processor_sleep = 1u << 1;
inline constexpr std::uint32_t waker_children_asleep = 1u << 2;
inline constexpr std::uint64_t typer_last = 1u << 4;
inline constexpr std::uint64_t typer_dpgs = 1u << 5;
inline constexpr unsigned typer_processor_number_shift = 8;
inline constexpr unsigned typer_affinity_shift = 32;
}  // namespace gicr

// PIDR2 in both frames: ArchRev 3 (GICv3) in [7:4], which Linux checks;
// JEDEC-assigned (bit 3) with Arm's identity code bits (0b011).
inline constexpr std::uint32_t pidr2_gicv3 = 0x3B;
// Implementer 0x43B (Arm, JEP106) in [11:0], ProductID [31:24] 'A'.
inline constexpr std::uint32_t default_iidr = std::uint32_t{'A'} << 24 | 0x43B;

// ICH_LR<n>_EL2 fields (spec, ICH_LR<n>_EL2) for Pending::list_register.
namespace ich_lr {
inline constexpr std::uint64_t state_pending = std::uint64_t{1} << 62;
inline constexpr std::uint64_t group1 = std::uint64_t{1} << 60;
// With HW = 0: a maintenance interrupt when the guest deactivates it.
inline constexpr std::uint64_t eoi = std::uint64_t{1} << 41;
inline constexpr unsigned priority_shift = 48;
}  // namespace ich_lr

// An interrupt handed out for a vCPU's list register.
struct Pending {
    std::uint32_t intid = 0;
    std::uint8_t priority = 0;
    std::uint8_t group = 1;  // 0 or 1: ICH_LR<n>_EL2.Group
    // Level-triggered: set the LR's EOI bit and report the deactivation
    // (on_eoi) promptly, so the model can re-sample the line.
    bool notify_eoi = false;

    // The list register value: pending, this group and priority, vINTID; EOI
    // when notify_eoi. HW = 0 (no physical interrupt is linked).
    [[nodiscard]] constexpr std::uint64_t list_register() const noexcept {
        return ich_lr::state_pending | (group != 0 ? ich_lr::group1 : 0) |
               std::uint64_t{priority} << ich_lr::priority_shift | (notify_eoi ? ich_lr::eoi : 0) | intid;
    }
    friend constexpr bool operator==(const Pending&, const Pending&) = default;
};

// For VGic's DeviceModel views where a single CPU drives the model (tests,
// a one-CPU VMM): nothing to hold.
struct NoLock {
    void lock() noexcept {}
    void unlock() noexcept {}
};

// Holds a lock for a scope (the views' accesses).
template <class Lock>
class Held {
public:
    explicit Held(Lock& lock) noexcept : lock_(lock) { lock_.lock(); }
    ~Held() { lock_.unlock(); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

private:
    Lock& lock_;
};

// MaxVCpus and MaxSpis bound the storage; the VM's own counts are
// Config::vcpus and Config::spis.
template <usize MaxVCpus = 8, usize MaxSpis = 64>
class VGic {
    static_assert(MaxVCpus >= 1 && MaxVCpus <= MAX_VCPU_NUM, "VGic: MaxVCpus must be 1..MAX_VCPU_NUM (a VCpuSet)");
    // SPIs come in GICD_TYPER.ITLinesNumber steps of 32; 960 (ITLinesNumber
    // 30) keeps every SPI below the special INTIDs 1020-1023.
    static_assert(MaxSpis % 32 == 0 && MaxSpis <= 960, "VGic: MaxSpis must be a multiple of 32, at most 960");

    static constexpr usize spi_words = MaxSpis / 32;
    static constexpr std::uint64_t affinity_mask = 0xFF'00FF'FFFF;  // MPIDR/IROUTER Aff3 [39:32], Aff2..0 [23:0]

public:
    static constexpr usize max_vcpus = MaxVCpus;
    static constexpr usize max_spis = MaxSpis;

    // By the aarch64 policy's convention (CreateConfig::mpidr_el1),
    // Aff1:Aff0 is the vCPU id.
    [[nodiscard]] static constexpr std::uint64_t default_mpidr(VCpuId vcpu) noexcept {
        return (vcpu & 0xFF) | ((vcpu >> 8) & 0xFF) << 8;
    }

    struct Config {
        usize vcpus = 1;        // 1..MaxVCpus
        usize spis = MaxSpis;   // a multiple of 32, at most MaxSpis
        // Each vCPU's MPIDR_EL1 as the policy gives it (CreateConfig::
        // mpidr_el1); only Aff3..Aff0 count, and they must differ.
        std::array<std::uint64_t, MaxVCpus> mpidr = [] {
            std::array<std::uint64_t, MaxVCpus> ids{};
            for (usize i = 0; i < MaxVCpus; ++i) ids[i] = default_mpidr(i);
            return ids;
        }();
        std::uint32_t iidr = default_iidr;
    };

    // InvalidInput: no vCPU or more than MaxVCpus, an SPI count that is not
    // a multiple of 32 or above MaxSpis, or two vCPUs with one affinity.
    static AxResult<VGic> create(const Config& config) {
        if (config.vcpus == 0 || config.vcpus > MaxVCpus) return ax_err(AxError::InvalidInput);
        if (config.spis % 32 != 0 || config.spis > MaxSpis) return ax_err(AxError::InvalidInput);
        for (usize i = 0; i < config.vcpus; ++i) {
            for (usize j = 0; j < i; ++j) {
                if (((config.mpidr[i] ^ config.mpidr[j]) & affinity_mask) == 0) return ax_err(AxError::InvalidInput);
            }
        }
        VGic gic;
        gic.vcpus_ = config.vcpus;
        gic.spis_ = config.spis;
        gic.iidr_ = config.iidr;
        for (usize i = 0; i < config.vcpus; ++i) gic.cpus_[i].affinity = config.mpidr[i] & affinity_mask;
        gic.reset();
        return gic;
    }

    // Every register to its reset value, nothing in flight (a VM reset).
    // The configuration stays.
    void reset() noexcept {
        ctlr_ = 0;
        wakeups_ = 0;
        for (Cpu& cpu : cpus_) {
            const std::uint64_t affinity = cpu.affinity;
            cpu = Cpu{};
            cpu.affinity = affinity;
        }
        spi_ = {};
        spi_priority_ = {};
        spi_router_ = {};
        spi_owner_ = {};
    }

    [[nodiscard]] usize vcpu_count() const noexcept { return vcpus_; }
    [[nodiscard]] usize spi_count() const noexcept { return spis_; }
    // The guest-physical sizes the VMM maps (and the device tree's reg).
    [[nodiscard]] static constexpr std::uint64_t distributor_size() noexcept { return gicd::frame_size; }
    [[nodiscard]] std::uint64_t redistributors_size() const noexcept { return vcpus_ * gicr::stride; }

    // --- MMIO ------------------------------------------------------------------
    // Offsets from the distributor's base / from the first redistributor's
    // RD_base. Refused accesses (see the top of this file) give nullopt/false.

    [[nodiscard]] std::optional<std::uint64_t> read_distributor(std::uint64_t offset,
                                                                AccessWidth width) const noexcept {
        if (offset >= gicd::frame_size || !accepts(distributor_shape(offset), offset, width)) return std::nullopt;
        if (in(offset, gicd::irouter, gicd::irouter_end)) {
            const std::uint64_t router = spi_router(static_cast<std::uint32_t>((offset - gicd::irouter) / 8));
            if (width == AccessWidth::Qword) return router;
            return (offset & 4) != 0 ? router >> 32 : router & 0xFFFF'FFFF;
        }
        if (in(offset, gicd::ipriorityr, gicd::itargetsr)) {
            return read_priorities(offset - gicd::ipriorityr, bytes(width), [this](std::uint32_t intid) {
                return is_spi(intid) ? spi_priority_[intid - spi_base] : std::uint8_t{0};
            });
        }
        return read_distributor32(offset);
    }

    bool write_distributor(std::uint64_t offset, AccessWidth width, std::uint64_t value) noexcept {
        if (offset >= gicd::frame_size || !accepts(distributor_shape(offset), offset, width)) return false;
        if (in(offset, gicd::irouter, gicd::irouter_end)) {
            const auto intid = static_cast<std::uint32_t>((offset - gicd::irouter) / 8);
            if (!is_spi(intid)) return true;  // IROUTER<0..31> are reserved; unimplemented SPIs RAZ/WI
            std::uint64_t& router = spi_router_[intid - spi_base];
            if (width == AccessWidth::Qword) {
                router = value & gicd::irouter_mask;
            } else {
                const unsigned shift = (offset & 4) != 0 ? 32 : 0;
                router = (router & ~(std::uint64_t{0xFFFF'FFFF} << shift)) |
                         ((value & 0xFFFF'FFFF) << shift & gicd::irouter_mask);
            }
        } else if (in(offset, gicd::ipriorityr, gicd::itargetsr)) {
            write_priorities(offset - gicd::ipriorityr, bytes(width), value, [this](std::uint32_t intid) {
                return is_spi(intid) ? &spi_priority_[intid - spi_base] : nullptr;
            });
        } else {
            write_distributor32(offset, static_cast<std::uint32_t>(value));
        }
        note_wakeups();
        return true;
    }

    [[nodiscard]] std::optional<std::uint64_t> read_redistributor(std::uint64_t offset,
                                                                  AccessWidth width) const noexcept {
        const std::optional<Frame> frame = redistributor_frame(offset, width);
        if (!frame) return std::nullopt;
        const Cpu& cpu = cpus_[frame->vcpu];
        if (frame->sgi) {
            if (in(frame->offset, gicr::ipriorityr, gicr::ipriorityr + private_count)) {
                return read_priorities(frame->offset - gicr::ipriorityr, bytes(width),
                                       [&cpu](std::uint32_t intid) { return cpu.priority[intid]; });
            }
            return read_sgi_frame32(cpu, frame->offset);
        }
        if (in(frame->offset, gicr::typer, gicr::typer + 8)) {
            const std::uint64_t typer = redistributor_typer(frame->vcpu);
            if (width == AccessWidth::Qword) return typer;
            return (frame->offset & 4) != 0 ? typer >> 32 : typer & 0xFFFF'FFFF;
        }
        switch (frame->offset) {
            case gicr::ctlr: return cpu.ctlr;  // EnableLPIs, RWP, UWP read 0
            case gicr::iidr: return iidr_;
            case gicr::waker: return cpu.asleep ? gicr::waker_processor_sleep | gicr::waker_children_asleep : 0;
            case gicr::pidr2: return pidr2_gicv3;
            default: return 0;  // GICR_STATUSR, the LPI registers, reserved
        }
    }

    bool write_redistributor(std::uint64_t offset, AccessWidth width, std::uint64_t value) noexcept {
        const std::optional<Frame> frame = redistributor_frame(offset, width);
        if (!frame) return false;
        Cpu& cpu = cpus_[frame->vcpu];
        const auto word = static_cast<std::uint32_t>(value);
        if (frame->sgi) {
            if (in(frame->offset, gicr::ipriorityr, gicr::ipriorityr + private_count)) {
                write_priorities(frame->offset - gicr::ipriorityr, bytes(width), value,
                                 [&cpu](std::uint32_t intid) { return &cpu.priority[intid]; });
            } else {
                write_sgi_frame32(cpu, frame->offset, word);
            }
        } else if (frame->offset == gicr::ctlr) {
            cpu.ctlr = word & (gicr::ctlr_dpg0 | gicr::ctlr_dpg1ns);
        } else if (frame->offset == gicr::waker) {
            // Linux clears ProcessorSleep and polls until ChildrenAsleep
            // clears (gic_enable_redist); here both change together.
            cpu.asleep = (word & gicr::waker_processor_sleep) != 0;
        }  // GICR_TYPER, IIDR, PIDR2 are read-only; the rest is reserved here: WI
        note_wakeups();
        return true;
    }

    // DeviceModel views (examples/vmm/devices.hpp) of the two ranges the
    // VMM claims: the distributor's 64 KiB and redistributors_size() bytes
    // of redistributors. Each access holds `lock` (any type with lock() and
    // unlock(), such as vmm::SpinLock; NoLock where one CPU drives the
    // model), the lock the VMM also holds around its own calls, since the
    // vCPUs' MMIO exits reach the views from every CPU. A default-
    // constructed view refuses everything.
    // Both views are one class: Read and Write pick the range's accessors.
    template <class Lock, auto Read, auto Write>
    class FrameView {
    public:
        FrameView() = default;
        FrameView(VGic& gic, Lock& lock) noexcept : gic_(&gic), lock_(&lock) {}
        std::optional<std::uint64_t> read(std::uint64_t offset, AccessWidth width) {
            if (gic_ == nullptr) return std::nullopt;
            const Held<Lock> held(*lock_);
            return (gic_->*Read)(offset, width);
        }
        bool write(std::uint64_t offset, AccessWidth width, std::uint64_t value) {
            if (gic_ == nullptr) return false;
            const Held<Lock> held(*lock_);
            return (gic_->*Write)(offset, width, value);
        }

    private:
        VGic* gic_ = nullptr;
        Lock* lock_ = nullptr;
    };
    template <class Lock>
    using DistributorFrame = FrameView<Lock, &VGic::read_distributor, &VGic::write_distributor>;
    template <class Lock>
    using RedistributorFrames = FrameView<Lock, &VGic::read_redistributor, &VGic::write_redistributor>;

    // --- Inputs from the VMM ----------------------------------------------------
    // InvalidInput for an INTID of the wrong kind or that this VM lacks, or
    // a vCPU it lacks.

    // An SPI's input line. Level-triggered: pending while high. Edge-
    // triggered: a rising edge latches it (spec: the trigger is the guest's
    // choice in GICD_ICFGR, the line is the device's).
    AxResult<void> set_level(std::uint32_t intid, bool high) noexcept {
        if (!is_spi(intid)) return ax_err(AxError::InvalidInput);
        drive(spi_[(intid - spi_base) / 32], bit_of(intid), high);
        note_wakeups();
        return ax_ok();
    }
    // A PPI's input line at vCPU `vcpu` (16..31: the timers).
    AxResult<void> set_level(VCpuId vcpu, std::uint32_t intid, bool high) noexcept {
        if (vcpu >= vcpus_ || !is_ppi(intid)) return ax_err(AxError::InvalidInput);
        drive(cpus_[vcpu].irq, bit_of(intid), high);
        note_wakeups();
        return ax_ok();
    }
    // An edge on an SPI: pending until handed out (as GICD_ISPENDR).
    AxResult<void> set_pending(std::uint32_t intid) noexcept {
        if (!is_spi(intid)) return ax_err(AxError::InvalidInput);
        spi_[(intid - spi_base) / 32].latch |= bit_of(intid);
        note_wakeups();
        return ax_ok();
    }
    // An edge on a PPI of vCPU `vcpu`. SGIs go through send_sgi.
    AxResult<void> set_pending(VCpuId vcpu, std::uint32_t intid) noexcept {
        if (vcpu >= vcpus_ || !is_ppi(intid)) return ax_err(AxError::InvalidInput);
        cpus_[vcpu].irq.latch |= bit_of(intid);
        note_wakeups();
        return ax_ok();
    }

    // SGI `intid` (0..15) from vCPU `from` to every vCPU in `targets`: with
    // affinity routing an SGI is pending per target, with no source vCPU
    // recorded (spec: the INTID carries none). Targets outside the VM are
    // refused, not ignored: they are the VMM's mistake, not the guest's.
    AxResult<void> send_sgi(VCpuId from, VCpuSet targets, std::uint32_t intid) noexcept {
        if (from >= vcpus_ || intid >= sgi_count) return ax_err(AxError::InvalidInput);
        if ((targets.bits() & ~all_vcpus()) != 0) return ax_err(AxError::InvalidInput);
        for (const VCpuId target : targets) cpus_[target].irq.latch |= bit_of(intid);
        note_wakeups();
        return ax_ok();
    }
    // The same for the aarch64 policy's SendIPI exit (decode_sgi1r).
    AxResult<void> send_sgi(VCpuId from, const exit::SendIPI& ipi) noexcept {
        if (ipi.vector >= sgi_count) return ax_err(AxError::InvalidInput);
        return send_sgi(from, sgi_targets(from, ipi), static_cast<std::uint32_t>(ipi.vector));
    }

    // The vCPUs an ICC_SGI1R_EL1 write names, as decode_sgi1r (exit_decode.hpp)
    // put it: send_to_all (IRM = 1) is every vCPU but the sender; otherwise
    // target_cpu is Aff3.Aff2.Aff1 with RS * 16 as Aff0 and bit i of the
    // target list (target_cpu_aux) is Aff0 = RS * 16 + i. Affinities that
    // are no vCPU of this VM are left out, as the spec's GIC ignores them.
    [[nodiscard]] VCpuSet sgi_targets(VCpuId from, const exit::SendIPI& ipi) const noexcept {
        VCpuSet set;
        if (from >= vcpus_) return set;
        for (usize v = 0; v < vcpus_; ++v) {
            const std::uint64_t affinity = cpus_[v].affinity;
            bool hit = false;
            if (ipi.send_to_all) {
                hit = v != from || ipi.send_to_self;
            } else if (((affinity ^ ipi.target_cpu) & ~std::uint64_t{0xFF}) == 0) {
                const std::uint64_t aff0 = affinity & 0xFF;
                const std::uint64_t first = ipi.target_cpu & 0xFF;
                hit = aff0 >= first && aff0 - first < 16 && ((ipi.target_cpu_aux >> (aff0 - first)) & 1) != 0;
            }
            if (hit) set.insert(v);
        }
        return set;
    }

    // --- Delivery ---------------------------------------------------------------

    // What next_for would hand out, without handing it out.
    [[nodiscard]] std::optional<Pending> peek(VCpuId vcpu) const noexcept {
        if (vcpu >= vcpus_) return std::nullopt;
        const Cpu& cpu = cpus_[vcpu];
        if (cpu.asleep) return std::nullopt;
        std::optional<Pending> best;
        auto consider = [&](std::uint32_t intid, std::uint8_t priority, const Bits& bits) {
            if (best && best->priority <= priority) return;  // ascending INTIDs: ties keep the lower
            const std::uint32_t bit = bit_of(intid);
            best = Pending{intid, priority, static_cast<std::uint8_t>((bits.group & bit) != 0 ? 1 : 0),
                           (bits.edge & bit) == 0};
        };
        for (std::uint32_t ready = deliverable(cpu.irq); ready != 0; ready &= ready - 1) {
            const auto intid = static_cast<std::uint32_t>(std::countr_zero(ready));
            consider(intid, cpu.priority[intid], cpu.irq);
        }
        for (usize w = 0; w < used_words(); ++w) {
            for (std::uint32_t ready = deliverable(spi_[w]); ready != 0; ready &= ready - 1) {
                const auto index = static_cast<usize>(w * 32 + static_cast<usize>(std::countr_zero(ready)));
                if (routed_to(index, vcpu)) {
                    consider(static_cast<std::uint32_t>(spi_base + index), spi_priority_[index], spi_[w]);
                }
            }
        }
        return best;
    }
    [[nodiscard]] bool has_deliverable(VCpuId vcpu) const noexcept { return peek(vcpu).has_value(); }

    // Hands out the best interrupt for `vcpu` (see the top of this file):
    // it is in flight until on_eoi / retract / release_all.
    std::optional<Pending> next_for(VCpuId vcpu) noexcept {
        const std::optional<Pending> next = peek(vcpu);
        if (!next) return next;
        const std::uint32_t bit = bit_of(next->intid);
        Bits& bits = bank(vcpu, next->intid);
        bits.latched_out = (bits.latched_out & ~bit) | (bits.latch & bit);
        bits.latch &= ~bit;
        bits.in_flight |= bit;
        if (next->intid >= spi_base) spi_owner_[next->intid - spi_base] = static_cast<std::uint8_t>(vcpu);
        return next;
    }

    // The guest deactivated `intid`, which next_for handed to `vcpu`: a
    // level source still high, or an edge latched meanwhile, is pending
    // again. BadState if it is not in flight at that vCPU.
    AxResult<void> on_eoi(VCpuId vcpu, std::uint32_t intid) noexcept { return finish(vcpu, intid, false); }
    // The policy took `intid` back out of a list register before the guest
    // acknowledged it: pending again, to be handed out anew.
    AxResult<void> retract(VCpuId vcpu, std::uint32_t intid) noexcept { return finish(vcpu, intid, true); }
    // `vcpu` went off (PSCI CPU_OFF) with `intid` in a list register, whose
    // state the policy gives back (VCpu::give_back_list_registers): no
    // longer in flight, it keeps that state here, as a GIC keeps it for a PE
    // that powers down. Pending latches; active stays active (ISACTIVER
    // reads it, ICACTIVER clears it, as Linux does for a CPU's private
    // interrupts when it comes up, and nothing hands it out meanwhile).
    // InvalidInput / BadState as on_eoi.
    AxResult<void> take_back(VCpuId vcpu, std::uint32_t intid, bool pending, bool active) noexcept {
        if (auto done = finish(vcpu, intid, pending); !done) return done;
        if (active) bank(vcpu, intid).active |= bit_of(intid);
        return ax_ok();
    }
    // Every interrupt in flight at `vcpu` is over, as if deactivated (its
    // list registers were discarded: a reset of the whole VM). InvalidInput
    // for a vCPU the VM lacks.
    AxResult<void> release_all(VCpuId vcpu) noexcept {
        if (vcpu >= vcpus_) return ax_err(AxError::InvalidInput);
        cpus_[vcpu].irq.in_flight = 0;
        for (usize index = 0; index < 32 * used_words(); ++index) {
            Bits& bits = spi_[index / 32];
            const std::uint32_t bit = std::uint32_t{1} << (index % 32);
            if ((bits.in_flight & bit) != 0 && spi_owner_[index] == vcpu) bits.in_flight &= ~bit;
        }
        note_wakeups();
        return ax_ok();
    }

    // The vCPUs with something to hand out after a change since the last
    // call; clears the set.
    VCpuSet take_wakeups() noexcept {
        const VCpuSet set = VCpuSet::from_bits(wakeups_);
        wakeups_ = 0;
        return set;
    }

    // --- State, for the VMM's checks and tests ------------------------------------
    // nullopt for an INTID this VM lacks (private ones need a vCPU).
    [[nodiscard]] std::optional<bool> in_flight(VCpuId vcpu, std::uint32_t intid) const noexcept {
        if (!valid(vcpu, intid)) return std::nullopt;
        const bool set = (bank(vcpu, intid).in_flight & bit_of(intid)) != 0;
        return set && (intid < spi_base || spi_owner_[intid - spi_base] == vcpu);
    }
    [[nodiscard]] std::optional<std::uint64_t> router(std::uint32_t intid) const noexcept {
        if (!is_spi(intid)) return std::nullopt;
        return spi_router_[intid - spi_base];
    }
    [[nodiscard]] std::uint32_t distributor_ctlr() const noexcept { return ctlr_ | gicd::ctlr_are | gicd::ctlr_ds; }

private:
    // One bit per interrupt of a group of 32 (a vCPU's private ones, or
    // SPIs 32w..32w+31).
    struct Bits {
        std::uint32_t group = ~std::uint32_t{0};  // reset: Group 1, what Linux sets anyway
        std::uint32_t enable = 0;
        std::uint32_t latch = 0;   // pending latch (edge, ISPENDR, SGI)
        std::uint32_t active = 0;  // set by ISACTIVER only; handed-out ones are in_flight
        std::uint32_t line = 0;    // input level
        std::uint32_t edge = 0;    // trigger: 1 edge, 0 level (GICD_ICFGR Int_config[1])
        std::uint32_t in_flight = 0;
        std::uint32_t latched_out = 0;  // in flight, handed out with its latch set
    };
    struct Cpu {
        // SGIs are always edge-triggered; PPIs reset level-triggered (the
        // timers are), a choice the spec leaves to the implementation.
        Bits irq{~std::uint32_t{0}, 0, 0, 0, 0, 0xFFFF, 0};
        std::array<std::uint8_t, private_count> priority{};
        std::uint64_t affinity = 0;
        std::uint32_t ctlr = 0;  // GICR_CTLR.DPG0/DPG1NS
        bool asleep = true;      // GICR_WAKER.ProcessorSleep
    };
    struct Frame {
        usize vcpu;
        bool sgi;  // SGI_base, else RD_base
        std::uint64_t offset;
    };
    enum class Shape : std::uint8_t { Word, WordOrByte, WordOrQuad };

    VGic() = default;

    [[nodiscard]] static constexpr bool in(std::uint64_t offset, std::uint64_t begin, std::uint64_t end) noexcept {
        return offset >= begin && offset < end;
    }
    [[nodiscard]] static constexpr unsigned bytes(AccessWidth width) noexcept {
        return static_cast<unsigned>(size_in_bytes(width));
    }
    [[nodiscard]] static constexpr std::uint32_t bit_of(std::uint32_t intid) noexcept {
        return std::uint32_t{1} << (intid % 32);
    }

    [[nodiscard]] static constexpr bool accepts(Shape shape, std::uint64_t offset, AccessWidth width) noexcept {
        switch (width) {
            case AccessWidth::Byte: return shape == Shape::WordOrByte;
            case AccessWidth::Dword: return offset % 4 == 0;
            case AccessWidth::Qword: return shape == Shape::WordOrQuad && offset % 8 == 0;
            default: return false;  // 16-bit: only the message-based SPI registers, not modelled
        }
    }
    [[nodiscard]] static constexpr Shape distributor_shape(std::uint64_t offset) noexcept {
        if (in(offset, gicd::ipriorityr, gicd::icfgr) || in(offset, gicd::cpendsgir, gicd::spendsgir + 16)) {
            return Shape::WordOrByte;
        }
        if (in(offset, gicd::irouter, gicd::irouter_end)) return Shape::WordOrQuad;
        return Shape::Word;
    }
    [[nodiscard]] std::optional<Frame> redistributor_frame(std::uint64_t offset, AccessWidth width) const noexcept {
        const std::uint64_t vcpu = offset / gicr::stride;
        if (vcpu >= vcpus_) return std::nullopt;
        const std::uint64_t inner = offset % gicr::stride;
        const bool sgi = inner >= gicr::sgi_base;
        const std::uint64_t frame_offset = sgi ? inner - gicr::sgi_base : inner;
        Shape shape = Shape::Word;
        if (sgi && in(frame_offset, gicr::ipriorityr, gicr::ipriorityr + private_count)) shape = Shape::WordOrByte;
        if (!sgi && in(frame_offset, gicr::typer, gicr::typer + 8)) shape = Shape::WordOrQuad;
        if (!accepts(shape, frame_offset, width)) return std::nullopt;
        return Frame{static_cast<usize>(vcpu), sgi, frame_offset};
    }

    // The checks against the storage bounds restate what create() ensures
    // (spis_ <= MaxSpis), so every index is visibly in range.
    [[nodiscard]] bool is_spi(std::uint32_t intid) const noexcept {
        return intid >= spi_base && intid - spi_base < spis_ && intid - spi_base < MaxSpis;
    }
    [[nodiscard]] static constexpr bool is_ppi(std::uint32_t intid) noexcept {
        return intid >= sgi_count && intid < private_count;
    }
    [[nodiscard]] usize used_words() const noexcept { return spis_ / 32 < spi_words ? spis_ / 32 : spi_words; }
    [[nodiscard]] bool valid(VCpuId vcpu, std::uint32_t intid) const noexcept {
        return vcpu < vcpus_ && (intid < private_count || is_spi(intid));
    }
    [[nodiscard]] VCpuSet::Bits all_vcpus() const noexcept { return VCpuSet::first_n(vcpus_).bits(); }

    Bits& bank(VCpuId vcpu, std::uint32_t intid) noexcept {
        return intid < spi_base ? cpus_[vcpu].irq : spi_[(intid - spi_base) / 32];
    }
    [[nodiscard]] const Bits& bank(VCpuId vcpu, std::uint32_t intid) const noexcept {
        return intid < spi_base ? cpus_[vcpu].irq : spi_[(intid - spi_base) / 32];
    }
    [[nodiscard]] std::uint64_t spi_router(std::uint32_t intid) const noexcept {
        return is_spi(intid) ? spi_router_[intid - spi_base] : 0;
    }

    // Pending: the latch, or a high line on a level-triggered input (spec:
    // for level-sensitive interrupts the pending state follows the input).
    [[nodiscard]] static constexpr std::uint32_t pending(const Bits& bits) noexcept {
        return bits.latch | (bits.line & ~bits.edge);
    }
    // Pending, enabled, not active, not in a list register, of an enabled group.
    [[nodiscard]] std::uint32_t deliverable(const Bits& bits) const noexcept {
        const std::uint32_t groups = ((ctlr_ & gicd::ctlr_enable_grp1) != 0 ? bits.group : 0) |
                                     ((ctlr_ & gicd::ctlr_enable_grp0) != 0 ? ~bits.group : 0);
        return pending(bits) & bits.enable & ~bits.active & ~bits.in_flight & groups;
    }
    // IRM = 0: the vCPU with that affinity. IRM = 1 (1 of N): any awake vCPU
    // whose GICR_CTLR does not opt out of the SPI's group (the caller has
    // checked it is awake).
    [[nodiscard]] bool routed_to(usize index, VCpuId vcpu) const noexcept {
        const std::uint64_t router = spi_router_[index];
        if ((router & gicd::irouter_irm) == 0) return (router & affinity_mask) == cpus_[vcpu].affinity;
        const bool group1 = (spi_[index / 32].group >> (index % 32) & 1) != 0;
        return (cpus_[vcpu].ctlr & (group1 ? gicr::ctlr_dpg1ns : gicr::ctlr_dpg0)) == 0;
    }

    static void drive(Bits& bits, std::uint32_t bit, bool high) noexcept {
        const bool rising = high && (bits.line & bit) == 0;
        if (rising && (bits.edge & bit) != 0) bits.latch |= bit;
        bits.line = high ? bits.line | bit : bits.line & ~bit;
    }

    AxResult<void> finish(VCpuId vcpu, std::uint32_t intid, bool still_pending) noexcept {
        if (!valid(vcpu, intid)) return ax_err(AxError::InvalidInput);
        if (!*in_flight(vcpu, intid)) return ax_err(AxError::BadState);
        Bits& bits = bank(vcpu, intid);
        const std::uint32_t bit = bit_of(intid);
        bits.in_flight &= ~bit;
        // Given back still pending: an edge one latches again; a level one
        // only if its latch was set when it was handed out (ISPENDR, an
        // SGI), else its pending state is its line's (spec: it follows the
        // input), which may have dropped meanwhile.
        if (still_pending) bits.latch |= (bits.edge & bit) != 0 ? bit : bits.latched_out & bit;
        bits.latched_out &= ~bit;
        note_wakeups();
        return ax_ok();
    }

    void note_wakeups() noexcept {
        for (usize v = 0; v < vcpus_; ++v) {
            if (has_deliverable(v)) wakeups_ |= VCpuSet::Bits{1} << v;
        }
    }

    [[nodiscard]] std::uint32_t distributor_typer() const noexcept {
        return static_cast<std::uint32_t>(spis_ / 32) | 9u << gicd::typer_idbits_shift | gicd::typer_a3v |
               gicd::typer_rss;
    }
    [[nodiscard]] std::uint64_t redistributor_typer(usize vcpu) const noexcept {
        const std::uint64_t a = cpus_[vcpu].affinity;
        const std::uint64_t affinity_value = (a >> 32 & 0xFF) << 24 | (a & 0xFF'FFFF);  // Aff3.Aff2.Aff1.Aff0
        return affinity_value << gicr::typer_affinity_shift |
               std::uint64_t{vcpu} << gicr::typer_processor_number_shift | gicr::typer_dpgs |
               (vcpu + 1 == vcpus_ ? gicr::typer_last : 0);
    }

    // IPRIORITYR: one byte per INTID from `first` (= offset in the array).
    template <class Get>
    static std::uint64_t read_priorities(std::uint64_t first, unsigned count, Get&& get) noexcept {
        std::uint64_t value = 0;
        for (unsigned i = 0; i < count; ++i) {
            value |= std::uint64_t{get(static_cast<std::uint32_t>(first + i))} << (8 * i);
        }
        return value;
    }
    template <class Slot>
    static void write_priorities(std::uint64_t first, unsigned count, std::uint64_t value, Slot&& slot) noexcept {
        for (unsigned i = 0; i < count; ++i) {
            std::uint8_t* priority = slot(static_cast<std::uint32_t>(first + i));
            if (priority != nullptr) *priority = static_cast<std::uint8_t>(value >> (8 * i));
        }
    }

    // ICFGR: Int_config[1] (bit 2i+1) of each of 16 interrupts is its edge
    // bit; Int_config[0] is RES0.
    [[nodiscard]] static constexpr std::uint32_t icfgr_from_edges(std::uint32_t edges16) noexcept {
        std::uint32_t value = 0;
        for (unsigned i = 0; i < 16; ++i) value |= (edges16 >> i & 1) << (2 * i + 1);
        return value;
    }
    [[nodiscard]] static constexpr std::uint32_t edges_from_icfgr(std::uint32_t value) noexcept {
        std::uint32_t edges = 0;
        for (unsigned i = 0; i < 16; ++i) edges |= (value >> (2 * i + 1) & 1) << i;
        return edges;
    }

    // The distributor's SPI bank for word k of a 1-bit-per-INTID register
    // (k = 0, SGIs and PPIs: banked, RAZ/WI with affinity routing).
    [[nodiscard]] const Bits* spi_bank(std::uint64_t k) const noexcept {
        return k >= 1 && k - 1 < used_words() ? &spi_[k - 1] : nullptr;
    }
    Bits* spi_bank(std::uint64_t k) noexcept {
        return k >= 1 && k - 1 < used_words() ? &spi_[k - 1] : nullptr;
    }

    // The seven 1-bit-per-INTID registers, at the same offsets in the
    // distributor (per 32 INTIDs) and the SGI_base frame (word 0 only).
    [[nodiscard]] static std::uint32_t read_bits(const Bits& bits, std::uint64_t base) noexcept {
        switch (base) {
            case gicd::igroupr: return bits.group;
            case gicd::isenabler:
            case gicd::icenabler: return bits.enable;
            case gicd::ispendr:
            case gicd::icpendr: return pending(bits);
            // In flight counts as active (see the top of this file).
            case gicd::isactiver:
            case gicd::icactiver: return bits.active | bits.in_flight;
            default: return 0;
        }
    }
    static void write_bits(Bits& bits, std::uint64_t base, std::uint32_t value) noexcept {
        switch (base) {
            case gicd::igroupr: bits.group = value; break;
            case gicd::isenabler: bits.enable |= value; break;
            case gicd::icenabler: bits.enable &= ~value; break;
            case gicd::ispendr: bits.latch |= value; break;
            // A level interrupt whose line is high stays pending (spec);
            // one in flight is not latched again when given back.
            case gicd::icpendr:
                bits.latch &= ~value;
                bits.latched_out &= ~value;
                break;
            case gicd::isactiver: bits.active |= value; break;
            case gicd::icactiver: bits.active &= ~value; break;
            default: break;
        }
    }
    [[nodiscard]] static constexpr bool bit_register(std::uint64_t offset) noexcept {
        return in(offset, gicd::igroupr, gicd::ipriorityr);
    }
    [[nodiscard]] static constexpr std::uint64_t bit_register_base(std::uint64_t offset) noexcept {
        return offset & ~std::uint64_t{0x7F};
    }

    [[nodiscard]] std::uint32_t read_distributor32(std::uint64_t offset) const noexcept {
        if (bit_register(offset)) {
            const Bits* bits = spi_bank((offset & 0x7F) / 4);
            return bits != nullptr ? read_bits(*bits, bit_register_base(offset)) : 0;
        }
        if (in(offset, gicd::icfgr, gicd::igrpmodr)) {
            const std::uint64_t k = (offset - gicd::icfgr) / 4;  // INTIDs 16k..16k+15; k < 2 banked: RAZ
            const Bits* bits = k >= 2 ? spi_bank(k / 2) : nullptr;
            return bits != nullptr ? icfgr_from_edges(bits->edge >> (16 * (k % 2)) & 0xFFFF) : 0;
        }
        switch (offset) {
            case gicd::ctlr: return distributor_ctlr();
            case gicd::typer: return distributor_typer();
            case gicd::iidr: return iidr_;
            case gicd::pidr2: return pidr2_gicv3;
            // TYPER2, STATUSR, ITARGETSR, IGRPMODR, NSACR, the SGI registers
            // of legacy operation, the ID registers but PIDR2, reserved.
            default: return 0;
        }
    }

    void write_distributor32(std::uint64_t offset, std::uint32_t value) noexcept {
        if (bit_register(offset)) {
            if (Bits* bits = spi_bank((offset & 0x7F) / 4)) write_bits(*bits, bit_register_base(offset), value);
        } else if (in(offset, gicd::icfgr, gicd::igrpmodr)) {
            const std::uint64_t k = (offset - gicd::icfgr) / 4;
            if (Bits* bits = k >= 2 ? spi_bank(k / 2) : nullptr) {
                const unsigned shift = 16 * (k % 2);
                bits->edge = (bits->edge & ~(std::uint32_t{0xFFFF} << shift)) | edges_from_icfgr(value) << shift;
            }
        } else if (offset == gicd::ctlr) {
            // ARE and DS are RAO/WI, RWP and the rest RAZ/WI: only the group
            // enables are kept.
            ctlr_ = value & (gicd::ctlr_enable_grp0 | gicd::ctlr_enable_grp1);
        }
    }

    [[nodiscard]] static std::uint32_t read_sgi_frame32(const Cpu& cpu, std::uint64_t offset) noexcept {
        if (bit_register(offset)) return (offset & 0x7F) == 0 ? read_bits(cpu.irq, bit_register_base(offset)) : 0;
        switch (offset) {
            case gicr::icfgr0: return icfgr_from_edges(0xFFFF);  // SGIs: edge, read-only
            case gicr::icfgr1: return icfgr_from_edges(cpu.irq.edge >> 16);
            default: return 0;  // IGRPMODR0 and NSACR (RAZ/WI with DS = 1), reserved
        }
    }
    static void write_sgi_frame32(Cpu& cpu, std::uint64_t offset, std::uint32_t value) noexcept {
        if (bit_register(offset)) {
            if ((offset & 0x7F) == 0) write_bits(cpu.irq, bit_register_base(offset), value);
        } else if (offset == gicr::icfgr1) {
            cpu.irq.edge = (cpu.irq.edge & 0xFFFF) | edges_from_icfgr(value) << 16;
        }
    }

    usize vcpus_ = 0;
    usize spis_ = 0;
    std::uint32_t iidr_ = default_iidr;
    std::uint32_t ctlr_ = 0;  // GICD_CTLR.EnableGrp0/EnableGrp1
    VCpuSet::Bits wakeups_ = 0;
    std::array<Cpu, MaxVCpus> cpus_{};
    std::array<Bits, spi_words> spi_{};
    std::array<std::uint8_t, MaxSpis> spi_priority_{};
    std::array<std::uint64_t, MaxSpis> spi_router_{};
    std::array<std::uint8_t, MaxSpis> spi_owner_{};  // the vCPU an in-flight SPI went to
};

}  // namespace axvcpu::aarch64::vgic
