// libFuzzer harness: riscv64 SBI decode_call on fuzzed a0..a7. The action
// for every call is checked against the table of the header's documented
// calls (eid, fid -> action and which registers feed which field); anything
// else must be an Answer of NOT_SUPPORTED and leave the exit reason alone.
// Input: eid selector (byte < 20 picks a known extension, else 8 raw bytes
// follow), fid selector (byte < 16 is the fid, else 8 raw bytes), a0..a5.
#include <arch/riscv64/exit_decode.hpp>

#include <array>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::riscv64;
using namespace axvcpu::riscv64::sbi;

namespace {
constexpr std::array<std::uint64_t, 19> known_eids{
    eid::legacy_set_timer, eid::legacy_console_putchar, eid::legacy_console_getchar, eid::legacy_clear_ipi,
    eid::legacy_send_ipi,  eid::legacy_remote_fence_i,  eid::legacy_remote_sfence_vma, eid::legacy_remote_sfence_vma_asid,
    eid::legacy_shutdown,  eid::base, eid::time, eid::ipi, eid::rfence, eid::hsm, eid::srst, eid::pmu, eid::dbcn,
    eid::axvisor_hypercall, 0x0A000000 /* an experimental-range id nobody implements */};

constexpr SbiRet not_supported{err::not_supported, 0};

template <class T>
const T& expect(const Decoded& d) {
    const T* p = std::get_if<T>(&d.action);
    FUZZ_CHECK(p != nullptr);
    return *p;
}
// A non-Exit action leaves the exit reason as it was (Nothing).
void no_exit(const Decoded& d) { FUZZ_CHECK(d.exit.is<exit::Nothing>()); }
void answer(const Decoded& d, SbiRet ret) {
    FUZZ_CHECK(expect<action::Answer>(d).ret == ret);
    no_exit(d);
}
const action::Exit& leaves(const Decoded& d, bool sets_return) {
    const auto& e = expect<action::Exit>(d);
    FUZZ_CHECK(e.sets_return == sets_return && e.ret == SbiRet{});
    return e;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    SbiCall call;
    const std::uint8_t es = in.u8();
    call.eid = es < known_eids.size() ? known_eids[es] : in.u64();
    const std::uint8_t fs = in.u8();
    call.fid = fs < 16 ? fs : in.u64();
    for (auto& a : call.args) a = in.u64();
    const auto& a = call.args;

    const Decoded d = decode_call(call);
    FUZZ_CHECK(d.action.index() < std::variant_size_v<Action>);
    const std::uint64_t fid = call.fid;

    switch (call.eid) {
        case eid::legacy_set_timer: FUZZ_CHECK(expect<action::SetTimer>(d).stime == a[0]); no_exit(d); break;
        case eid::legacy_console_putchar: {
            const auto& p = expect<action::ConsolePutchar>(d);
            FUZZ_CHECK(p.legacy && p.ch == (a[0] & 0xFF));
            no_exit(d);
            break;
        }
        case eid::legacy_console_getchar: expect<action::ConsoleGetchar>(d); no_exit(d); break;
        case eid::legacy_clear_ipi: expect<action::ClearIpi>(d); no_exit(d); break;
        case eid::legacy_send_ipi:
        case eid::legacy_remote_fence_i:
        case eid::legacy_remote_sfence_vma:
        case eid::legacy_remote_sfence_vma_asid: {
            const auto& m = expect<action::LegacyMask>(d);
            FUZZ_CHECK(m.eid == call.eid && m.mask_addr == GuestVirtAddr(a[0]));
            no_exit(d);
            break;
        }
        case eid::legacy_shutdown: leaves(d, false); FUZZ_CHECK(d.exit.is<exit::SystemDown>()); break;
        case eid::base: {
            const std::array<std::uint64_t, 7> values{spec_version, impl_id, impl_version,
                                                      is_extension_available(a[0]) ? 1u : 0u, 0, 0, 0};
            if (fid < values.size()) answer(d, SbiRet{err::success, values[fid]});
            else answer(d, not_supported);
            break;
        }
        case eid::time:
            if (fid == fid::time_set_timer) {
                FUZZ_CHECK(expect<action::SetTimer>(d).stime == a[0]);
                no_exit(d);
            } else {
                answer(d, not_supported);
            }
            break;
        case eid::ipi:
            if (fid != fid::ipi_send_ipi) { answer(d, not_supported); break; }
            {
                leaves(d, true);
                const auto* ipi = d.exit.get_if<exit::SendIPI>();
                FUZZ_CHECK(ipi != nullptr);
                // hart_mask in a0, hart_mask_base in a1; base -1 is every hart.
                FUZZ_CHECK(ipi->target_cpu == a[1] && ipi->target_cpu_aux == a[0] && ipi->vector == 1);
                FUZZ_CHECK(ipi->send_to_all == (a[1] == ~std::uint64_t{0}) && ipi->send_to_self == ipi->send_to_all);
            }
            break;
        case eid::rfence:
            if (fid > 2) { answer(d, not_supported); break; }
            {
                const auto& f = expect<action::RemoteFence>(d);
                FUZZ_CHECK(static_cast<std::uint64_t>(f.kind) == fid);
                FUZZ_CHECK(f.hart_mask == a[0] && f.hart_mask_base == a[1] && f.start == a[2] && f.size == a[3] &&
                           f.asid == a[4]);
                no_exit(d);
            }
            break;
        case eid::hsm:
            if (fid == fid::hsm_hart_start) {
                leaves(d, true);
                const auto* up = d.exit.get_if<exit::CpuUp>();
                FUZZ_CHECK(up != nullptr && up->target_cpu == a[0] && up->entry_point == GuestPhysAddr(a[1]) &&
                           up->arg == a[2]);
            } else if (fid == fid::hsm_hart_stop) {
                leaves(d, false);
                const auto* down = d.exit.get_if<exit::CpuDown>();
                FUZZ_CHECK(down != nullptr && down->state == hsm_state::stopped);
            } else if (fid == fid::hsm_hart_get_status) {
                FUZZ_CHECK(expect<action::HartGetStatus>(d).hartid == a[0]);
                no_exit(d);
            } else if (fid == fid::hsm_hart_suspend) {
                const std::uint64_t type = a[0] & 0xFFFF'FFFF;
                if (type != suspend_type::default_retentive && type != suspend_type::default_non_retentive) {
                    answer(d, SbiRet{err::invalid_param, 0});
                } else {
                    const auto& s = expect<action::Suspend>(d);
                    FUZZ_CHECK(s.retentive == (type == suspend_type::default_retentive));
                    FUZZ_CHECK(s.resume_addr == GuestPhysAddr(a[1]) && s.opaque == a[2]);
                    no_exit(d);
                }
            } else {
                answer(d, not_supported);
            }
            break;
        case eid::srst:
            if (fid != fid::srst_system_reset) answer(d, not_supported);
            else if (a[0] > reset_type::warm_reboot || a[1] > reset_reason::system_failure) answer(d, SbiRet{err::invalid_param, 0});
            else { leaves(d, false); FUZZ_CHECK(d.exit.is<exit::SystemDown>()); }
            break;
        case eid::dbcn:
            if (fid == fid::dbcn_write_byte) {
                const auto& p = expect<action::ConsolePutchar>(d);
                FUZZ_CHECK(!p.legacy && p.ch == (a[0] & 0xFF));
                no_exit(d);
            } else if (fid != fid::dbcn_write && fid != fid::dbcn_read) {
                answer(d, not_supported);
            } else if (a[2] != 0) {
                answer(d, SbiRet{err::invalid_param, 0});  // the address's high half on RV64
            } else if (fid == fid::dbcn_write) {
                const auto& w = expect<action::ConsoleWrite>(d);
                FUZZ_CHECK(w.addr == GuestPhysAddr(a[1]) && w.length == a[0]);
                no_exit(d);
            } else {
                const auto& r = expect<action::ConsoleRead>(d);
                FUZZ_CHECK(r.addr == GuestPhysAddr(a[1]) && r.length == a[0]);
                no_exit(d);
            }
            break;
        case eid::axvisor_hypercall: {
            leaves(d, true);
            const auto* h = d.exit.get_if<exit::Hypercall>();
            FUZZ_CHECK(h != nullptr && h->nr == fid);
            for (usize i = 0; i < 6; ++i) FUZZ_CHECK(h->args[i] == a[i]);
            break;
        }
        default:
            // Every other extension (PMU included) is absent: NOT_SUPPORTED,
            // and probe_extension says so.
            FUZZ_CHECK(!is_extension_available(call.eid));
            answer(d, not_supported);
            break;
    }
    return 0;
}
