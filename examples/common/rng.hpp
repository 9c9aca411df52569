// The chaos guests' PRNG (examples/<arch>/README.md, "The chaos guest"):
// splitmix64, so that every op a guest makes follows from its seed alone and
// a failure replays with the seed it printed. Needs only <cstdint>; the
// guests are freestanding.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace example {

struct Rng {
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

}  // namespace example
