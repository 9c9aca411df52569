// The Linux VM's virtual GICv3 (arch/aarch64/vgic.hpp) as models of the
// VMM's device table (examples/vmm/devices.hpp): the distributor range is
// the VM's interrupt controller model, so a device line routed to it drives
// that SPI, and its outputs are "vCPU n has an interrupt to hand out"; the
// redistributors are a second range over the same VGic. The table's lock
// serialises every call, so no lock of the VGic's own is needed.
#pragma once

#include <cstdint>
#include <optional>

#include <arch/aarch64/vgic.hpp>
#include <axvcpu/exit_reason.hpp>
#include <axvcpu/types.hpp>

namespace hyp {

// Up to 4 vCPUs (the example's CPUs) and 64 SPIs (INTID 32..95: the PL011's
// 33 is among them).
using Gic = axvcpu::aarch64::vgic::VGic<4, 64>;

class GicDistributor {
public:
    explicit GicDistributor(Gic& gic) noexcept : gic_(&gic) {}

    std::optional<std::uint64_t> read(std::uint64_t offset, axvcpu::AccessWidth width) {
        return gic_->read_distributor(offset, width);
    }
    bool write(std::uint64_t offset, axvcpu::AccessWidth width, std::uint64_t value) {
        return gic_->write_distributor(offset, width, value);
    }

    // A device's line (devices.hpp route_irq): the SPI with that INTID.
    void set_level(axvcpu::usize intid, bool high) noexcept {
        (void)gic_->set_level(static_cast<std::uint32_t>(intid), high);
    }
    // Output n is vCPU n's "something to hand out" (VGic::has_deliverable);
    // notify(n, level) for each that changed since the last call.
    template <class Notify>
    void update_lines(Notify&& notify) {
        (void)gic_->take_wakeups();
        for (axvcpu::usize vcpu = 0; vcpu < gic_->vcpu_count(); ++vcpu) {
            const bool line = gic_->has_deliverable(vcpu);
            const std::uint64_t bit = std::uint64_t{1} << vcpu;
            if (((reported_ & bit) != 0) == line) continue;
            reported_ ^= bit;
            notify(vcpu, line);
        }
    }

    Gic& gic() noexcept { return *gic_; }

private:
    Gic* gic_;
    std::uint64_t reported_ = 0;
};

// The redistributors: the VGic's own view, without a lock of its own.
using GicRedistributors = Gic::RedistributorFrames<axvcpu::aarch64::vgic::NoLock>;
inline axvcpu::aarch64::vgic::NoLock gic_no_lock;

}  // namespace hyp
