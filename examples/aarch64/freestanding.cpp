// The C library symbols the freestanding hypervisor and guests need:
// memcpy/memset/memmove/memcmp, strlen (std::string_view from a C string),
// abort (Boost.Outcome's terminate policy, when a result is misread) and
// __assert_fail (Outcome's internal assertions, kept on).
//
// Not examples/common/libc.cpp: with -mstrict-align GCC turns every copy of
// an exit reason (a 64-byte variant) into a memcpy call, and that file's
// byte loop made the hypervisor's exit path ten times slower. These copy
// 64 bytes (one exit reason) per iteration when both pointers are 8-byte
// aligned: an MMIO exit makes two such copies (measured 47 instructions
// each with a 16-byte loop).
// Built with -fno-tree-loop-distribute-patterns like libc.cpp.
#include <cstddef>
#include <cstdint>

extern "C" {

void* memcpy(void* dst, const void* src, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    if (((reinterpret_cast<std::uintptr_t>(d) | reinterpret_cast<std::uintptr_t>(s)) & 7) == 0) {
        for (; n >= 64; n -= 64, d += 64, s += 64) {
            const auto* from = reinterpret_cast<const std::uint64_t*>(s);
            auto* to = reinterpret_cast<std::uint64_t*>(d);
            const std::uint64_t w0 = from[0], w1 = from[1], w2 = from[2], w3 = from[3];
            const std::uint64_t w4 = from[4], w5 = from[5], w6 = from[6], w7 = from[7];
            to[0] = w0, to[1] = w1, to[2] = w2, to[3] = w3;
            to[4] = w4, to[5] = w5, to[6] = w6, to[7] = w7;
        }
        for (; n >= 16; n -= 16, d += 16, s += 16) {
            const std::uint64_t lo = reinterpret_cast<const std::uint64_t*>(s)[0];
            const std::uint64_t hi = reinterpret_cast<const std::uint64_t*>(s)[1];
            reinterpret_cast<std::uint64_t*>(d)[0] = lo;
            reinterpret_cast<std::uint64_t*>(d)[1] = hi;
        }
        if (n >= 8) {
            *reinterpret_cast<std::uint64_t*>(d) = *reinterpret_cast<const std::uint64_t*>(s);
            n -= 8;
            d += 8;
            s += 8;
        }
    }
    while (n-- != 0) *d++ = *s++;
    return dst;
}

void* memmove(void* dst, const void* src, std::size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    if (d <= s || d >= s + n) return memcpy(dst, src, n);
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
    for (; n != 0; --n, ++x, ++y) {
        if (*x != *y) return *x < *y ? -1 : 1;
    }
    return 0;
}

}  // extern "C"

extern "C" std::size_t strlen(const char* text) {
    std::size_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

namespace {
void uart_write(const char* text) {
    for (const char* c = text; *c != '\0'; ++c) *reinterpret_cast<volatile std::uint32_t*>(0x0900'0000) = *c;
}
}  // namespace

// Semihosting SYS_EXIT with status 4: a program bug, distinct from a test failure.
extern "C" [[noreturn]] void abort() {
    uart_write("abort() called\r\n");
    const std::uint64_t block[2] = {0x20026, 4};
    register std::uint64_t x0 asm("x0") = 0x18;
    register std::uint64_t x1 asm("x1") = reinterpret_cast<std::uint64_t>(block);
    asm volatile("hlt #0xf000" : : "r"(x0), "r"(x1) : "memory");
    for (;;) asm volatile("wfe");
}

extern "C" [[noreturn]] void __assert_fail(const char* expression, const char* file, unsigned line, const char*) {
    uart_write("assertion failed: ");
    uart_write(expression);
    uart_write(" at ");
    uart_write(file);
    uart_write("\r\n");
    (void)line;
    abort();
}
