// doctest's implementation and the test executables' main. A run that
// starts no test case fails (its filters, or a --first/--last range,
// selected none): the host suites are bundled into one
// executable per directory (test/meson.build), each suite a run filtered by
// its source file, and a filter that matches nothing (the file's path
// spelled otherwise in __FILE__, or a file left with no test case) must
// not pass as an empty suite. --no-exitcode still means exit status 0.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

unsigned started_test_cases = 0;
bool run_ended = false;
bool no_exitcode = false;

// Only counts the test cases that start (doctest counts those passing the
// filters before it applies --first/--last, so its own figure would let an
// empty range pass).
struct SelectionCount : doctest::IReporter {
    explicit SelectionCount(const doctest::ContextOptions& options) { no_exitcode = options.no_exitcode; }
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override { run_ended = true; }
    void test_case_start(const doctest::TestCaseData&) override { ++started_test_cases; }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("selection_count", 1, SelectionCount);

}  // namespace

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    const int status = context.run();
    // Queries (--help, --version, --no-run, --count, --list-*) end without
    // a test run; --exit does not skip this check.
    if (!run_ended || no_exitcode) return status;
    if (started_test_cases == 0) {
        std::fputs("no test case started: the filters, a skip() decorator or a --first/--last range left none\n", stderr);
        return 1;
    }
    return status;
}
