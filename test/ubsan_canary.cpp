// Undefined behaviour on purpose: a signed overflow UBSan reports. The
// sanitizer build must stop here (test/meson.build, ubsan_report_is_fatal).
#include <climits>
#include <cstdio>

int main(int argc, char**) {
    int value = INT_MAX;
    value += argc;  // argc >= 1: overflows, and the compiler cannot fold it away
    std::printf("%d\n", value);
    return 0;
}
