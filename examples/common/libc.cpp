// The C library functions a freestanding C++ compiler emits calls to
// (memcpy, memmove, memset, memcmp) and strlen (std::string_view from a C
// string), for bare-metal hypervisors and guests that link no C library.
//
// memcpy is on every exit path: with -mstrict-align (aarch64, MMU off) GCC
// turns each copy of a 64-byte exit reason into a call, and a byte loop made
// those exits several times slower. It copies 8 bytes at a time when both
// pointers are 8-byte aligned.
//
// abort (and __assert_fail where a build keeps Outcome's assertions) are the
// platform's own: each example stops its machine its own way.
//
// Build with -fno-tree-loop-distribute-patterns: otherwise GCC recognises
// these loops as memcpy/memset and compiles them into calls to themselves.
#include <cstddef>
#include <cstdint>

extern "C" {

void* memcpy(void* dst, const void* src, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    if (((reinterpret_cast<std::uintptr_t>(d) | reinterpret_cast<std::uintptr_t>(s)) & 7) == 0) {
        // One exit reason (64 bytes) per iteration: an aarch64 MMIO exit
        // makes two such copies, measured 47 instructions each with a
        // 16-byte loop.
        for (; n >= 64; n -= 64, d += 64, s += 64) {
            const auto* from = reinterpret_cast<const std::uint64_t*>(s);
            auto* to = reinterpret_cast<std::uint64_t*>(d);
            const std::uint64_t w0 = from[0], w1 = from[1], w2 = from[2], w3 = from[3];
            const std::uint64_t w4 = from[4], w5 = from[5], w6 = from[6], w7 = from[7];
            to[0] = w0, to[1] = w1, to[2] = w2, to[3] = w3;
            to[4] = w4, to[5] = w5, to[6] = w6, to[7] = w7;
        }
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *reinterpret_cast<std::uint64_t*>(d) = *reinterpret_cast<const std::uint64_t*>(s);
    }
    while (n-- != 0) *d++ = *s++;
    return dst;
}

void* memmove(void* dst, const void* src, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    if (d <= s || d >= s + n) return memcpy(dst, src, n);  // no overlap hazard going forwards
    while (n-- != 0) d[n] = s[n];
    return dst;
}

void* memset(void* dst, int value, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    while (n-- != 0) *d++ = static_cast<unsigned char>(value);
    return dst;
}

int memcmp(const void* a, const void* b, std::size_t n) {
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    for (; n != 0; --n, ++x, ++y)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

std::size_t strlen(const char* text) {
    std::size_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

}  // extern "C"
