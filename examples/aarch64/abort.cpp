// How this platform stops on a program bug: abort (Boost.Outcome's
// terminate policy, when a result is misread) and __assert_fail (Outcome's
// internal assertions, kept on) print on the PL011 and exit QEMU through
// semihosting. The mem* functions and strlen are examples/common/libc.cpp.
#include <cstddef>
#include <cstdint>

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
