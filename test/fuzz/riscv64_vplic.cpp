// libFuzzer harness: the virtual PLIC (arch/riscv64/vplic.hpp) driven by a
// byte stream of operations, checked against a reference model written from
// the header's statement of the spec (gateways, claim, complete, EIP) and
// against its own public getters: each operation's result and every
// context's line at once, the whole state every 8 operations and at the end
// (a divergence persists until then: the model never resets):
// - an access is refused iff it is not a naturally aligned 32-bit access
//   inside the 64 MiB map;
// - register reads equal the reference state; sources 0 and > Sources and
//   contexts >= Contexts read 0 and ignore writes;
// - claim returns the highest-priority pending+enabled source (ties: lowest
//   id, priority 0 never), or 0 when there is none; it clears IP and puts the
//   source in service; complete ends service only for an in-service source
//   enabled for the context, re-pending it for a held edge or a high level;
// - never pending and in service at once; irq_line equals a recomputation
//   from the getters; update_lines notifies exactly the changed lines.
#include <arch/riscv64/vplic.hpp>

#include <array>

#include "fuzz.hpp"

using namespace axvcpu;
using namespace axvcpu::riscv64;

namespace {
constexpr usize S = 40;  // two enable words, the second partly valid
constexpr usize C = 3;
using Plic = VPlic<S, C>;
constexpr std::uint32_t pmask = Plic::max_priority;

struct Ref {
    std::array<std::uint32_t, S + 1> priority{};
    std::array<bool, S + 1> pending{}, in_service{}, level{}, held{};
    std::array<std::array<bool, S + 1>, C> enable{};
    std::array<std::uint32_t, C> threshold{};
    std::array<bool, C> reported{};

    FUZZ_REFERENCE bool line(usize c) const {
        for (usize s = 1; s <= S; ++s)
            if (pending[s] && enable[c][s] && priority[s] > threshold[c]) return true;
        return false;
    }
    FUZZ_REFERENCE usize claim(usize c) {
        if (c >= C) return 0;
        usize best = 0;
        for (usize s = 1; s <= S; ++s)
            if (pending[s] && enable[c][s] && priority[s] > 0 && (best == 0 || priority[s] > priority[best])) best = s;
        if (best != 0) {
            pending[best] = false;
            in_service[best] = true;
        }
        return best;
    }
    FUZZ_REFERENCE bool complete(usize c, usize s) {
        if (c >= C || s == 0 || s > S || !in_service[s] || !enable[c][s]) return false;
        in_service[s] = false;
        if (held[s] || level[s]) pending[s] = true;
        held[s] = false;
        return true;
    }
    FUZZ_REFERENCE std::uint32_t word(const std::array<bool, S + 1>& bits, usize w) const {
        std::uint32_t v = 0;
        for (usize b = 0; b < 32; ++b)
            if (32 * w + b >= 1 && 32 * w + b <= S && bits[32 * w + b]) v |= 1u << b;
        return v;
    }
};

// An offset: mostly inside the registers that exist, sometimes anywhere.
std::uint64_t pick_offset(fuzz::Bytes& in) {
    const std::uint8_t kind = in.u8();
    const std::uint64_t n = in.u16();
    switch (kind % 8) {
        case 0: return plic::priority_offset(n % 64);
        case 1: return plic::pending_offset(n % 96);
        case 2: return plic::enable_offset(n % 4, (n >> 4) % 96);
        case 3: return plic::threshold_offset(n % 4);
        case 4: return plic::claim_offset(n % 4);
        case 5: return plic::context_base + (n % 4) * plic::context_stride + (n >> 2) % 0x1000;  // reserved / misaligned
        case 6: return in.u32() * static_cast<std::uint64_t>(kind >> 3);
        default: return plic::map_size - 8 + (n % 16);
    }
}

FUZZ_REFERENCE void check_state(const Plic& plic, const Ref& ref) {
    for (usize s = 0; s <= S + 2; ++s) {
        const bool real = s >= 1 && s <= S;
        FUZZ_CHECK(plic.priority(s) == (real ? ref.priority[s] : 0));
        FUZZ_CHECK(plic.pending(s) == (real && ref.pending[s]));
        FUZZ_CHECK(plic.in_service(s) == (real && ref.in_service[s]));
        FUZZ_CHECK(plic.level(s) == (real && ref.level[s]));
        FUZZ_CHECK(!(plic.pending(s) && plic.in_service(s)));
        FUZZ_CHECK(plic.priority(s) <= pmask);
        for (usize c = 0; c <= C; ++c) FUZZ_CHECK(plic.enabled(c, s) == (real && c < C && ref.enable[c][s]));
    }
    for (usize c = 0; c <= C; ++c) {
        FUZZ_CHECK(plic.threshold(c) == (c < C ? ref.threshold[c] : 0));
        // EIP from the public getters alone.
        bool line = false;
        for (usize s = 0; s <= S; ++s)
            if (plic.pending(s) && plic.enabled(c, s) && plic.priority(s) > plic.threshold(c)) line = true;
        FUZZ_CHECK(plic.irq_line(c) == line);
        FUZZ_CHECK(line == (c < C && ref.line(c)));
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Bytes in(data, size);
    Plic plic;
    Ref ref;
    for (unsigned steps = 0; !in.empty() && steps < 256; ++steps) {
        const std::uint8_t op = in.u8();
        switch (op % 7) {
            case 0:
            case 1: {  // MMIO read or write
                const std::uint64_t offset = pick_offset(in);
                const auto width = static_cast<AccessWidth>((op >> 3) % 4 == 3 ? 2 : in.u8() % 4);
                const std::uint64_t value = in.u64();
                const bool legal = width == AccessWidth::Dword && offset % 4 == 0 && offset < plic::map_size;
                const bool ctx_reg = offset >= plic::context_base && offset < plic::map_size;
                const usize ctx = ctx_reg ? static_cast<usize>((offset - plic::context_base) / plic::context_stride) : 0;
                const std::uint64_t in_ctx = ctx_reg ? (offset - plic::context_base) % plic::context_stride : 0;
                if (op % 7 == 0) {
                    std::uint64_t want = 0;
                    if (offset < plic::pending_base) {
                        const usize s = static_cast<usize>(offset / 4);
                        want = s >= 1 && s <= S ? ref.priority[s] : 0;
                    } else if (offset < plic::enable_base) {
                        want = ref.word(ref.pending, static_cast<usize>((offset - plic::pending_base) / 4));
                    } else if (offset < plic::context_base) {
                        const usize c = static_cast<usize>((offset - plic::enable_base) / plic::enable_stride);
                        const usize w = static_cast<usize>((offset - plic::enable_base) % plic::enable_stride / 4);
                        want = c < C ? ref.word(ref.enable[c], w) : 0;
                    } else if (ctx < C && in_ctx == plic::threshold_reg) {
                        want = ref.threshold[ctx];
                    } else if (ctx < C && in_ctx == plic::claim_reg) {
                        want = legal ? ref.claim(ctx) : 0;  // a refused read claims nothing
                    }
                    const std::optional<std::uint64_t> got = plic.read(offset, width);
                    FUZZ_CHECK(got.has_value() == legal);
                    if (got) {
                        FUZZ_CHECK(*got <= 0xFFFF'FFFF);  // at most the access width's bytes
                        FUZZ_CHECK(*got == want);
                    }
                } else {
                    const bool ok = plic.write(offset, width, value);
                    FUZZ_CHECK(ok == legal);
                    const auto v = static_cast<std::uint32_t>(value);
                    if (legal) {
                        if (offset < plic::pending_base) {
                            const usize s = static_cast<usize>(offset / 4);
                            if (s >= 1 && s <= S) ref.priority[s] = v & pmask;
                        } else if (offset < plic::enable_base) {
                            // pending is read-only
                        } else if (offset < plic::context_base) {
                            const usize c = static_cast<usize>((offset - plic::enable_base) / plic::enable_stride);
                            const usize w = static_cast<usize>((offset - plic::enable_base) % plic::enable_stride / 4);
                            for (usize b = 0; b < 32 && c < C; ++b)
                                if (32 * w + b >= 1 && 32 * w + b <= S) ref.enable[c][32 * w + b] = ((v >> b) & 1) != 0;
                        } else if (ctx < C && in_ctx == plic::threshold_reg) {
                            ref.threshold[ctx] = v & pmask;
                        } else if (ctx < C && in_ctx == plic::claim_reg) {
                            (void)ref.complete(ctx, v);
                        }
                    }
                }
                break;
            }
            case 2: {  // edge
                const usize s = in.u8() % (S + 3);
                const bool valid = s >= 1 && s <= S;
                FUZZ_CHECK(plic.set_pending(s) == valid);
                if (valid) (ref.in_service[s] ? ref.held[s] : ref.pending[s]) = true;
                break;
            }
            case 3: {  // level
                const std::uint8_t b = in.u8();
                const usize s = b % (S + 3);
                const bool high = (op & 0x80) != 0;
                const bool valid = s >= 1 && s <= S;
                FUZZ_CHECK(plic.set_level(s, high) == valid);
                if (valid) {
                    ref.level[s] = high;
                    if (high && !ref.in_service[s]) ref.pending[s] = true;
                }
                break;
            }
            case 4: {  // claim by name
                const usize c = in.u8() % (C + 1);
                const usize want = ref.claim(c);
                FUZZ_CHECK(plic.claim(c) == want);
                break;
            }
            case 5: {  // complete by name
                const usize c = in.u8() % (C + 1);
                const usize s = in.u8() % (S + 3);
                FUZZ_CHECK(plic.complete(c, s) == ref.complete(c, s));
                break;
            }
            default: {  // update_lines: exactly the changed lines, in order
                usize calls = 0;
                usize last = 0;
                const usize changed = plic.update_lines([&](usize c, bool asserted) {
                    FUZZ_CHECK(c < C && (calls == 0 || c > last));
                    FUZZ_CHECK(asserted == ref.line(c) && asserted != ref.reported[c]);
                    ref.reported[c] = asserted;
                    last = c;
                    ++calls;
                });
                FUZZ_CHECK(changed == calls);
                for (usize c = 0; c < C; ++c) FUZZ_CHECK(ref.reported[c] == ref.line(c));
                break;
            }
        }
        for (usize c = 0; c < C; ++c) FUZZ_CHECK(plic.irq_line(c) == ref.line(c));
        if (steps % 8 == 7) check_state(plic, ref);
    }
    check_state(plic, ref);
    return 0;
}
