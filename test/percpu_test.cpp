// AxPerCpu: init once, enable/disable, disable on destruction only if enabled.
#include <doctest/doctest.h>

#include <axvcpu/ostream.hpp>
#include <axvcpu/percpu.hpp>
#include <policies/mock_arch.hpp>

namespace percpu_test {

using namespace axvcpu;
using policies::MockArchPerCpu;

namespace {
// No max_guest_page_table_levels: the default applies.
struct PlainPerCpu {
    static AxResult<PlainPerCpu> create(usize) { return PlainPerCpu{}; }
    bool is_enabled() const { return false; }
    AxResult<void> hardware_enable() { return ax_ok(); }
    AxResult<void> hardware_disable() { return ax_ok(); }
};
}  // namespace

static_assert(AxPerCpu<PlainPerCpu>::max_guest_page_table_levels() == 4, "absent member: default of 4 levels");
static_assert(AxPerCpu<MockArchPerCpu>::max_guest_page_table_levels() == 3, "present member: the policy's answer");

TEST_CASE("init creates the arch state once; a second init is BadState") {
    AxPerCpu<MockArchPerCpu> percpu;
    CHECK_FALSE(percpu.is_initialized());
    REQUIRE(percpu.init(1).has_value());
    CHECK(percpu.is_initialized());
    CHECK(percpu.cpu_id() == 1);
    CHECK(percpu.arch()->cpu_id() == 1);
    CHECK(percpu.init(2).error() == AxError::BadState);
    CHECK(percpu.cpu_id() == 1);
}

TEST_CASE("a failing arch create leaves the holder uninitialised") {
    AxPerCpu<MockArchPerCpu> percpu;
    CHECK(percpu.init(MockArchPerCpu::refuse_cpu).error() == AxError::Unsupported);
    CHECK_FALSE(percpu.is_initialized());
    CHECK(percpu.init(0).has_value());
}

TEST_CASE("enable and disable before init are BadState") {
    AxPerCpu<MockArchPerCpu> percpu;
    CHECK(percpu.hardware_enable().error() == AxError::BadState);
    CHECK(percpu.hardware_disable().error() == AxError::BadState);
    CHECK_FALSE(percpu.is_enabled());
    CHECK(percpu.arch() == nullptr);
}

TEST_CASE("is_enabled follows enable and disable") {
    AxPerCpu<MockArchPerCpu> percpu;
    REQUIRE(percpu.init(0).has_value());
    CHECK_FALSE(percpu.is_enabled());
    REQUIRE(percpu.hardware_enable().has_value());
    CHECK(percpu.is_enabled());
    CHECK(percpu.hardware_enable().error() == AxError::AlreadyExists);  // the policy's own refusal is passed on
    REQUIRE(percpu.hardware_disable().has_value());
    CHECK_FALSE(percpu.is_enabled());
}

TEST_CASE("destruction disables only an enabled CPU") {
    auto& log = MockArchPerCpu::log();
    const auto disables_before = log.disables;
    {
        AxPerCpu<MockArchPerCpu> never_enabled;
        REQUIRE(never_enabled.init(0).has_value());
    }
    CHECK(log.disables == disables_before);
    {
        AxPerCpu<MockArchPerCpu> enabled;
        REQUIRE(enabled.init(0).has_value());
        REQUIRE(enabled.hardware_enable().has_value());
    }
    CHECK(log.disables == disables_before + 1);
    {
        AxPerCpu<MockArchPerCpu> toggled;
        REQUIRE(toggled.init(0).has_value());
        REQUIRE(toggled.hardware_enable().has_value());
        REQUIRE(toggled.hardware_disable().has_value());
    }
    CHECK(log.disables == disables_before + 2);  // only the explicit disable
    { AxPerCpu<MockArchPerCpu> uninitialised; }
    CHECK(log.disables == disables_before + 2);
}
}  // namespace percpu_test
