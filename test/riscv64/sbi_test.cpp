// Host tests of the SBI call decoder: every extension the guest can use and
// the answers it gets without leaving the policy.
#include <doctest/doctest.h>

#include "arch/riscv64/exit_decode.hpp"

namespace riscv64_sbi_test {

using namespace axvcpu;
using namespace axvcpu::riscv64;
using namespace axvcpu::riscv64::sbi;

namespace {
SbiCall call(std::uint64_t eid, std::uint64_t fid, std::array<std::uint64_t, 6> args = {}) {
    return SbiCall{eid, fid, args};
}
template <class T>
const T& as(const Decoded& decoded) {
    REQUIRE(std::holds_alternative<T>(decoded.action));
    return std::get<T>(decoded.action);
}
const AxVCpuExitReason& exit_of(const Decoded& decoded) {
    REQUIRE(std::holds_alternative<action::Exit>(decoded.action));
    return decoded.exit;
}
}  // namespace

TEST_CASE("base extension answers in place") {
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_get_spec_version))).ret == SbiRet{0, 2u << 24});
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_get_impl_id))).ret.value == impl_id);
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_probe_extension, {eid::hsm}))).ret.value == 1);
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_probe_extension, {eid::dbcn}))).ret.value == 1);
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_probe_extension, {eid::pmu}))).ret.value == 0);
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_probe_extension, {0x12345}))).ret.value == 0);
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_get_impl_version))).ret == SbiRet{0, 1});
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_get_mvendorid))).ret == SbiRet{0, 0});
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_get_marchid))).ret == SbiRet{0, 0});
    CHECK(as<action::Answer>(decode_call(call(eid::base, fid::base_get_mimpid))).ret == SbiRet{0, 0});
    CHECK(as<action::Answer>(decode_call(call(eid::base, 99))).ret.error == err::not_supported);
}

TEST_CASE("unknown extensions and PMU are not supported") {
    CHECK(as<action::Answer>(decode_call(call(0x0A000000, 0))).ret == SbiRet{err::not_supported, 0});
    CHECK(as<action::Answer>(decode_call(call(eid::pmu, 0))).ret.error == err::not_supported);
    CHECK(as<action::Answer>(decode_call(call(eid::rfence, 3))).ret.error == err::not_supported);  // hfence
}

TEST_CASE("TIME and legacy set_timer arm the guest timer") {
    CHECK(as<action::SetTimer>(decode_call(call(eid::time, 0, {123456}))).stime == 123456);
    CHECK(as<action::SetTimer>(decode_call(call(eid::legacy_set_timer, 0, {77}))).stime == 77);
    CHECK(as<action::Answer>(decode_call(call(eid::time, 1))).ret.error == err::not_supported);
}

TEST_CASE("IPI becomes SendIPI with the hart mask") {
    const Decoded action = decode_call(call(eid::ipi, 0, {0b110, 0}));
    const auto& ipi = *exit_of(action).get_if<exit::SendIPI>();
    CHECK(ipi.target_cpu == 0);
    CHECK(ipi.target_cpu_aux == 0b110);
    CHECK_FALSE(ipi.send_to_all);
    CHECK(ipi.vector == 1);
    const exit::SendIPI all = *exit_of(decode_call(call(eid::ipi, 0, {0, ~0ull}))).get_if<exit::SendIPI>();
    CHECK(all.send_to_all);
    CHECK(all.send_to_self);  // -1 names every hart, the caller's too
}

TEST_CASE("HSM start/stop/suspend/status") {
    const Decoded start = decode_call(call(eid::hsm, fid::hsm_hart_start, {1, 0x80400000, 0xabc}));
    const auto& up = *exit_of(start).get_if<exit::CpuUp>();
    CHECK(up.target_cpu == 1);
    CHECK(up.entry_point == GuestPhysAddr(0x80400000));
    CHECK(up.arg == 0xabc);
    CHECK(exit_of(decode_call(call(eid::hsm, fid::hsm_hart_stop))).is<exit::CpuDown>());
    CHECK(as<action::HartGetStatus>(decode_call(call(eid::hsm, fid::hsm_hart_get_status, {3}))).hartid == 3);
    CHECK(as<action::Suspend>(decode_call(call(eid::hsm, fid::hsm_hart_suspend, {0}))).retentive);
    const Decoded suspend = decode_call(call(eid::hsm, fid::hsm_hart_suspend, {0x80000000, 0x80201000, 5}));
    const auto& deep = as<action::Suspend>(suspend);
    CHECK_FALSE(deep.retentive);
    CHECK(deep.resume_addr == GuestPhysAddr(0x80201000));
    CHECK(deep.opaque == 5);
    CHECK(as<action::Answer>(decode_call(call(eid::hsm, fid::hsm_hart_suspend, {7}))).ret.error == err::invalid_param);
    // HSM has functions 0..3 only.
    CHECK(as<action::Answer>(decode_call(call(eid::hsm, 4, {1, 0x80400000, 0}))).ret == SbiRet{err::not_supported, 0});
}

TEST_CASE("SRST and legacy shutdown become SystemDown") {
    CHECK(exit_of(decode_call(call(eid::srst, 0, {reset_type::shutdown, 0}))).is<exit::SystemDown>());
    CHECK(exit_of(decode_call(call(eid::srst, 0, {reset_type::cold_reboot, 1}))).is<exit::SystemDown>());
    CHECK(as<action::Answer>(decode_call(call(eid::srst, 0, {0x10, 0}))).ret.error == err::invalid_param);
    // Reserved (2..0xDFFFFFFF) and platform-specific reasons: none is implemented.
    CHECK(as<action::Answer>(decode_call(call(eid::srst, 0, {reset_type::shutdown, 2}))).ret.error == err::invalid_param);
    CHECK(as<action::Answer>(decode_call(call(eid::srst, 0, {reset_type::shutdown, 0xE000'0000}))).ret.error ==
          err::invalid_param);
    CHECK(as<action::Answer>(decode_call(call(eid::srst, 0, {reset_type::cold_reboot, 0xF000'0000}))).ret.error ==
          err::invalid_param);
    CHECK(exit_of(decode_call(call(eid::legacy_shutdown, 0))).is<exit::SystemDown>());
}

TEST_CASE("DBCN and legacy console") {
    const Decoded dbcn = decode_call(call(eid::dbcn, fid::dbcn_write, {5, 0x80300000, 0}));
    const auto& write = as<action::ConsoleWrite>(dbcn);
    CHECK(write.length == 5);
    CHECK(write.addr == GuestPhysAddr(0x80300000));
    CHECK(as<action::ConsoleRead>(decode_call(call(eid::dbcn, fid::dbcn_read, {1, 0x1000, 0}))).length == 1);
    CHECK(as<action::Answer>(decode_call(call(eid::dbcn, fid::dbcn_write, {5, 0, 1}))).ret.error == err::invalid_param);
    CHECK(as<action::ConsolePutchar>(decode_call(call(eid::dbcn, fid::dbcn_write_byte, {'x'}))).ch == 'x');
    CHECK(as<action::ConsolePutchar>(decode_call(call(eid::legacy_console_putchar, 0, {'y'}))).legacy);
    CHECK(std::holds_alternative<action::ConsoleGetchar>(decode_call(call(eid::legacy_console_getchar, 0)).action));
}

TEST_CASE("RFENCE and legacy mask calls") {
    const Decoded rfence = decode_call(call(eid::rfence, 2, {3, 0, 0x1000, 0x2000, 7}));
    const auto& fence = as<action::RemoteFence>(rfence);
    CHECK(fence.kind == action::FenceKind::SfenceVmaAsid);
    CHECK(fence.hart_mask == 3);
    CHECK(fence.asid == 7);
    // FID 0 and 1, with a0..a3 as hart_mask, hart_mask_base, start_addr, size.
    const Decoded fence_i = decode_call(call(eid::rfence, 0, {0b101, 1, 0, 0, 0}));
    CHECK(as<action::RemoteFence>(fence_i).kind == action::FenceKind::FenceI);
    CHECK(as<action::RemoteFence>(fence_i).hart_mask == 0b101);
    CHECK(as<action::RemoteFence>(fence_i).hart_mask_base == 1);
    const Decoded sfence = decode_call(call(eid::rfence, 1, {~0ull, ~0ull, 0x8020'0000, 0x4000, 0}));
    const auto& vma = as<action::RemoteFence>(sfence);
    CHECK(vma.kind == action::FenceKind::SfenceVma);
    CHECK(vma.hart_mask == ~0ull);
    CHECK(vma.hart_mask_base == ~0ull);
    CHECK(vma.start == 0x8020'0000);
    CHECK(vma.size == 0x4000);
    // FID 3..6 fence a guest's own guests (HFENCE); there is no FID 7.
    for (std::uint64_t fid : {3, 4, 5, 6, 7}) {
        CAPTURE(fid);
        CHECK(as<action::Answer>(decode_call(call(eid::rfence, fid, {1, 0, 0, 0, 0}))).ret == SbiRet{err::not_supported, 0});
    }
    CHECK(as<action::LegacyMask>(decode_call(call(eid::legacy_send_ipi, 0, {0x80001000}))).mask_addr ==
          GuestVirtAddr(0x80001000));
    CHECK(std::holds_alternative<action::ClearIpi>(decode_call(call(eid::legacy_clear_ipi, 0)).action));
}

TEST_CASE("AxVisor hypercall extension: a6 is the number, a0..a5 the arguments") {
    const Decoded hvc = decode_call(call(eid::axvisor_hypercall, 42, {1, 2, 3, 4, 5, 6}));
    const auto& hc = *exit_of(hvc).get_if<exit::Hypercall>();
    CHECK(hc.nr == 42);
    CHECK(hc.args == std::array<std::uint64_t, 6>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("sbi::hypercall (the policy's fast path) builds what decode_call reports") {
    const Decoded hvc = decode_call(call(eid::axvisor_hypercall, 42, {1, 2, 3, 4, 5, 6}));
    const auto& hc = *exit_of(hvc).get_if<exit::Hypercall>();
    const exit::Hypercall fast = hypercall(42, 1, 2, 3, 4, 5, 6);
    CHECK(fast.nr == hc.nr);
    CHECK(fast.args == hc.args);
    // The fast path presets a0/a1 as action::Exit{{}, true} says.
    CHECK(as<action::Exit>(hvc).ret == SbiRet{});
    CHECK(as<action::Exit>(hvc).sets_return);
}

TEST_CASE("calls that do not return keep the guest's arguments for the VMM") {
    CHECK_FALSE(as<action::Exit>(decode_call(call(eid::srst, 0, {0, 1}))).sets_return);
    CHECK_FALSE(as<action::Exit>(decode_call(call(eid::hsm, fid::hsm_hart_stop))).sets_return);
    CHECK_FALSE(as<action::Exit>(decode_call(call(eid::legacy_shutdown, 0))).sets_return);
    CHECK(as<action::Exit>(decode_call(call(eid::hsm, fid::hsm_hart_start, {1, 0x1000, 0}))).sets_return);
    CHECK(as<action::Exit>(decode_call(call(eid::axvisor_hypercall, 1))).sets_return);
}

TEST_CASE("the exit reason is written into the caller's object, not copied") {
    AxVCpuExitReason reason = exit::Halt{};
    const Action action = decode_call(call(eid::axvisor_hypercall, 7, {9}), reason);
    CHECK(std::holds_alternative<action::Exit>(action));
    REQUIRE(reason.is<exit::Hypercall>());
    CHECK(reason.get_if<exit::Hypercall>()->nr == 7);
    CHECK(reason.get_if<exit::Hypercall>()->args[0] == 9);
    // Calls answered in place leave it alone.
    reason = exit::Halt{};
    CHECK(std::holds_alternative<action::Answer>(decode_call(call(eid::base, 0), reason)));
    CHECK(reason.is<exit::Halt>());
}
}  // namespace riscv64_sbi_test
