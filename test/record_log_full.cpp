// A test policy's record log that outgrows its capacity stops the test with
// a message naming the log, rather than dropping records a test might assert
// on: test/expect_abort.py requires death by SIGABRT and the message.
#include <policies/mock_arch.hpp>
#include <policies/recording_host.hpp>

int main() {
    using Host = axvcpu::policies::RecordingHost<>;
    for (axvcpu::usize i = 0; i <= Host::record_capacity; ++i) Host::inject_interrupt(0, 0, 1);
    return 0;  // reached only if the full log went unnoticed
}
