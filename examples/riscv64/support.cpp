// Runtime helpers for the bare-metal example hypervisor and guests, beside
// examples/common/libc.cpp: the bit-counting helpers GCC
// calls for std::countr_zero/std::popcount on a core without Zbb. Debian's
// riscv64 libgcc is built for lp64d and cannot be linked into these lp64
// (soft-float) images. Build with -fno-tree-loop-distribute-patterns.
#include <cstddef>

extern "C" {

// Undefined for 0 (as the builtins are); callers never pass it.
int __ctzdi2(unsigned long value) {
    int count = 0;
    while ((value & 1) == 0 && count < 64) {
        value >>= 1;
        ++count;
    }
    return count;
}

int __clzdi2(unsigned long value) {
    int count = 0;
    while ((value & (1ul << 63)) == 0 && count < 64) {
        value <<= 1;
        ++count;
    }
    return count;
}

int __popcountdi2(unsigned long value) {
    int count = 0;
    for (; value != 0; value &= value - 1) ++count;
    return count;
}
}
