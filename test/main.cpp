// doctest's implementation and the test executables' main. A run whose
// filters select no test case fails: the host suites are bundled into one
// executable per directory (test/meson.build), each suite a run filtered by
// its source file, and a filter that matches nothing (the file's path
// spelled otherwise in __FILE__, or a file left with no test case) must
// not pass as an empty suite. --no-exitcode still means exit status 0.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

unsigned selected_test_cases = 0;
bool run_ended = false;
bool no_exitcode = false;

// Only counts: test_run_end reports how many test cases passed the filters.
struct SelectionCount : doctest::IReporter {
    explicit SelectionCount(const doctest::ContextOptions& options) { no_exitcode = options.no_exitcode; }
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats& stats) override {
        selected_test_cases = stats.numTestCasesPassingFilters;
        run_ended = true;
    }
    void test_case_start(const doctest::TestCaseData&) override {}
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
    // --help, --list-test-cases and the like end without a test run.
    if (context.shouldExit() || !run_ended || no_exitcode) return status;
    if (selected_test_cases == 0) {
        std::fputs("no test case matches this run's filters\n", stderr);
        return 1;
    }
    return status;
}
