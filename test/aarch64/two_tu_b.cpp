// The second translation unit of the two-TU world-switch link test.
#include <arch/aarch64/world_switch.hpp>

extern "C" std::uint64_t tu_b_entry() { return reinterpret_cast<std::uint64_t>(axvcpu_aarch64_vectors); }
