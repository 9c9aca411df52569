// The host API contracts and helpers, through the recording host policy.
#include <doctest/doctest.h>

#include <axvcpu/host_api.hpp>
#include <axvcpu/ostream.hpp>
#include <policies/recording_host.hpp>

#include <vector>

namespace host_api_test {

using namespace axvcpu;

namespace {
struct ApiTag {};
using Host = policies::RecordingHost<ApiTag>;

struct NoHost {};
struct OnlyVmm {
    static VMId current_vm_id() { return 0; }
    static VCpuId current_vcpu_id() { return 0; }
    static std::optional<usize> vcpu_num(VMId) { return 1; }
    static std::optional<VCpuSet> active_vcpus(VMId) { return VCpuSet::only(0); }
    static void inject_interrupt(VMId, VCpuId, InterruptVector) {}
    static void inject_interrupt_to_cpus(VMId, VCpuSet, InterruptVector) {}
    static void notify_vcpu_timer_expired(VMId, VCpuId) {}
};
}  // namespace

static_assert(api::HostApi<Host>);
static_assert(!api::HostApi<NoHost>);
static_assert(api::VmmIf<OnlyVmm> && !api::MemoryIf<OnlyVmm> && !api::HostApi<OnlyVmm>);
static_assert(!api::ArchIf<Host>, "ArchIf is the aarch64 policy's requirement, not the generic host API's");

TEST_CASE("current_vm_vcpu_num and current_vm_active_vcpus ask about the current VM") {
    Host::reset();
    Host::state().current_vm = 3;
    Host::state().vcpu_counts[3] = 4;
    Host::state().active[3] = VCpuSet::first_n(2);
    CHECK(api::current_vm_vcpu_num<Host>().value() == 4);
    CHECK(api::current_vm_active_vcpus<Host>().value() == VCpuSet::first_n(2));
}

TEST_CASE("helpers report an unknown current VM as NotFound instead of panicking") {
    Host::reset();
    Host::state().current_vm = 5;  // no such VM configured
    CHECK(api::current_vm_vcpu_num<Host>().error() == AxError::NotFound);
    CHECK(api::current_vm_active_vcpus<Host>().error() == AxError::NotFound);
    Host::state().current_vm = 1000;  // beyond the policy's table
    CHECK(api::current_vm_vcpu_num<Host>().error() == AxError::NotFound);
}

TEST_CASE("a RecordLog keeps records in order, erases in place and compares with any range") {
    policies::RecordLog<usize, 4> log;
    CHECK(log.empty());
    log.push_back(5);
    log.push_back(6);
    log.push_back(7);
    CHECK(log == std::vector<usize>{5, 6, 7});
    CHECK_FALSE(log == std::vector<usize>{5, 6});
    CHECK_FALSE(log == std::vector<usize>{5, 6, 8});
    log.erase(log.begin() + 1);
    CHECK(log == std::vector<usize>{5, 7});
    log.push_back(6);
    log.erase_if([](usize v) { return v == 7; });
    CHECK(log == std::vector<usize>{5, 6});
    log.erase_if([](usize v) { return v == 6; });
    log.push_back(7);
    CHECK(log == std::vector<usize>{5, 7});
    CHECK((log.front() == 5 && log.back() == 7 && log[1] == 7 && log.size() == 2));
    log.push_back(8);
    log.push_back(9);
    CHECK(log.size() == log.capacity());  // full; one more aborts (test record_log_full_aborts)
    log.clear();
    CHECK(log.empty());
}

TEST_CASE("the recording host records interrupt injections and timer expiries") {
    Host::reset();
    Host::inject_interrupt(1, 0, 27);
    Host::inject_interrupt_to_cpus(1, VCpuSet::first_n(3), 1);
    Host::notify_vcpu_timer_expired(2, 1);
    CHECK(Host::state().injections == std::vector<Host::Injection>{{1, 0, 27}});
    CHECK(Host::state().broadcasts == std::vector<Host::BroadcastInjection>{{1, VCpuSet::first_n(3), 1}});
    CHECK(Host::state().timer_expiries == std::vector<Host::TimerExpiry>{{2, 1}});
}

TEST_CASE("frames are page-aligned, honour alignment and are returned") {
    Host::reset();
    const auto a = Host::alloc_frame();
    REQUIRE(a.has_value());
    CHECK(a->is_aligned(4096));
    const auto root = Host::alloc_contiguous_frames(4, 14);  // a 16 KiB-aligned stage-2 root
    REQUIRE(root.has_value());
    CHECK(root->is_aligned(16384));
    CHECK(Host::frames_in_use() == 5);
    CHECK(Host::phys_to_virt(*a).value() == a->value());
    CHECK(Host::virt_to_phys(Host::phys_to_virt(*root)) == *root);
    Host::dealloc_contiguous_frames(*root, 4);
    Host::dealloc_frame(*a);
    CHECK(Host::frames_in_use() == 0);
    Host::dealloc_frame(*a);  // double free is counted, not corrupting
    CHECK(Host::state().bad_deallocs == 1);
    CHECK_FALSE(Host::alloc_contiguous_frames(Host::pool_frames + 1, 12).has_value());
    CHECK_FALSE(Host::alloc_contiguous_frames(1, 64).has_value());  // an absurd alignment is refused
    // A frame comes back zeroed even after its previous user scribbled on it.
    const auto dirty = Host::alloc_frame();
    REQUIRE(dirty.has_value());
    reinterpret_cast<unsigned char*>(dirty->value())[100] = 0xff;
    Host::dealloc_frame(*dirty);
    const auto again = Host::alloc_frame();
    REQUIRE(again == dirty);
    CHECK(reinterpret_cast<const unsigned char*>(again->value())[100] == 0);
}

TEST_CASE("timers fire once, in deadline order, and can be cancelled") {
    Host::reset();
    std::vector<int> fired;
    struct Tagged {
        std::vector<int>* log;
        int id;
    };
    auto tagged = [](void* context, std::uint64_t) {
        auto* t = static_cast<Tagged*>(context);
        t->log->push_back(t->id);
    };
    Tagged late{&fired, 2}, early{&fired, 1}, cancelled{&fired, 3};
    Host::register_timer(2000, tagged, &late);
    Host::register_timer(1000, tagged, &early);
    const CancelToken token = Host::register_timer(1500, tagged, &cancelled);
    Host::cancel_timer(token);
    Host::advance_ticks(50);  // 500 ns: nothing due
    CHECK(fired.empty());
    Host::advance_ticks(200);  // 2500 ns
    CHECK(fired == std::vector<int>{1, 2});
    Host::advance_ticks(1000);
    CHECK(fired.size() == 2);
    CHECK(Host::ticks_to_nanos(Host::nanos_to_ticks(1000)) == 1000);
}
}  // namespace host_api_test
