// A translation unit built for C++17 is told that the library needs C++20,
// on the first error line, before any concept fails to parse.
// expect-first-error: axvcpu needs C++20: compile with -std=c++20
#include <axvcpu/axvcpu.hpp>
