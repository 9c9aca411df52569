// The chaos guests' PRNG (splitmix64): every value follows from the seed
// alone, so a seed replays a run op for op. Freestanding, header-only, for
// the guests of every arch.
#pragma once

#include <cstdint>

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
};

}  // namespace example
