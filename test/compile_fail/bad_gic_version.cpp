// An invalid configuration fails at compile time with a message naming it.
// expect-first-error: AXVCPU_GIC_VERSION must be 2 or 3
#undef AXVCPU_GIC_VERSION
#define AXVCPU_GIC_VERSION 4
#include <axvcpu/config.hpp>
