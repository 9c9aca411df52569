// The C library symbols the freestanding hypervisor and guests still need
// beyond examples/common/libc.cpp: strlen (std::string_view from a C string)
// and abort (Boost.Outcome's terminate policy, when a result is misread).
// Built with -fno-tree-loop-distribute-patterns like libc.cpp.
#include <cstddef>
#include <cstdint>

extern "C" std::size_t strlen(const char* text) {
    std::size_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

// Semihosting SYS_EXIT with status 4: a program bug, distinct from a test failure.
extern "C" [[noreturn]] void abort() {
    static const char message[] = "abort() called\r\n";
    for (const char* c = message; *c != '\0'; ++c) *reinterpret_cast<volatile std::uint32_t*>(0x0900'0000) = *c;
    const std::uint64_t block[2] = {0x20026, 4};
    register std::uint64_t x0 asm("x0") = 0x18;
    register std::uint64_t x1 asm("x1") = reinterpret_cast<std::uint64_t>(block);
    asm volatile("hlt #0xf000" : : "r"(x0), "r"(x1) : "memory");
    for (;;) asm volatile("wfe");
}
