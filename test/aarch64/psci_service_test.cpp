// PsciService's AFFINITY_INFO answers come from the host's VmmIf; a
// RecordingHost plays the VMM.
#include <doctest/doctest.h>

#include <arch/aarch64/exit_decode.hpp>
#include <arch/aarch64/psci.hpp>
#include <arch/aarch64/psci_service.hpp>
#include <policies/recording_host.hpp>

namespace aarch64_psci_service_test {

using namespace axvcpu;
using namespace axvcpu::aarch64;

namespace {
using Host = policies::RecordingHost<struct PsciServiceTest>;
using Service = PsciService<Host>;
}  // namespace

TEST_CASE("AFFINITY_INFO: vCPU id = Aff1:Aff0, on = in the VM's active set") {
    Host::reset();
    Host::state().vcpu_counts[1] = 4;
    Host::state().active[1] = VCpuSet::from_bits(0b1001);
    CHECK(Service::affinity_is_on(1, 0) == true);
    CHECK(Service::affinity_is_on(1, 1) == false);
    CHECK(Service::affinity_is_on(1, 3) == true);
    CHECK_FALSE(Service::affinity_is_on(1, 4).has_value());        // beyond vcpu_num
    CHECK_FALSE(Service::affinity_is_on(1, 0x100).has_value());    // Aff1 = 1: vCPU 256
    CHECK_FALSE(Service::affinity_is_on(1, 0x1'0000).has_value());  // Aff2 is never used
    CHECK_FALSE(Service::affinity_is_on(2, 0).has_value());        // no such VM
}

TEST_CASE("AFFINITY_INFO through decode_sync is answered in place") {
    Host::reset();
    Host::state().vcpu_counts[0] = 2;
    Host::state().active[0] = VCpuSet::only(1);
    Gprs x{};
    x[0] = psci::fn_affinity_info_64;
    x[1] = 1;
    auto on = decode_sync(TrapRecord{0x5A000000, 0, 0}, GuestPhysAddr(0), x, Service::affinity_query(0));
    REQUIRE(on.has_value());
    CHECK(on.value().answered());
    CHECK(on.value().x0 == psci::affinity_on);
    x[1] = 0;
    auto off = decode_sync(TrapRecord{0x5A000000, 0, 0}, GuestPhysAddr(0), x, Service::affinity_query(0));
    CHECK(off.value().x0 == psci::affinity_off);
    x[1] = 2;
    auto none = decode_sync(TrapRecord{0x5A000000, 0, 0}, GuestPhysAddr(0), x, Service::affinity_query(0));
    CHECK(static_cast<std::int64_t>(*none.value().x0) == psci::invalid_parameters);
}
}  // namespace aarch64_psci_service_test
