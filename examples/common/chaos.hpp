// What the chaos guests of every arch share: their PRNG (splitmix64, so
// that every value follows from the seed alone and a seed replays a run op
// for op) and their main loop. Freestanding, header-only.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace example {

struct SplitMix {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E37'79B9'7F4A'7C15);
        z = (z ^ (z >> 30)) * 0xBF58'476D'1CE4'E5B9;
        z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EB;
        return z ^ (z >> 31);
    }
    std::uint64_t below(std::uint64_t n) { return next() % n; }
    bool chance(unsigned percent) { return below(100) < percent; }
    // Index i with probability weights[i] / their sum, from one below(sum):
    // how a chaos guest picks the kind of its next op.
    unsigned choose(std::initializer_list<unsigned> weights) {
        std::uint64_t total = 0;
        for (unsigned weight : weights) total += weight;
        std::uint64_t pick = below(total);
        unsigned index = 0;
        for (unsigned weight : weights) {
            if (pick < weight) break;
            pick -= weight;
            ++index;
        }
        return index;
    }
};

// Runs op() until `exits` (the guest's count of the exits it made)
// reaches `target`, counting the ops in `ops`, in blocks of 1,000 ops,
// each between begin() and end() (the guest's count_exits calls, which
// compare its counts with the VMM's), and calls report() after a block
// whenever another 20,000 exits have been made.
template <class Op, class Begin, class End, class Report>
void run_chaos(std::uint64_t target, const std::uint64_t& exits, std::uint64_t& ops, Op&& op, Begin&& begin, End&& end,
               Report&& report) {
    std::uint64_t next_report = 0;
    while (exits < target) {
        begin();
        for (unsigned i = 0; i < 1000 && exits < target; ++i, ++ops) op();
        end();
        if (exits >= next_report) {
            report();
            next_report += 20'000;
        }
    }
}

}  // namespace example
