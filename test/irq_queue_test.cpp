// IrqQueue: FIFO order, no duplicates, a full queue refuses.
#include <doctest/doctest.h>

#include <axvcpu/irq_queue.hpp>
#include <axvcpu/ostream.hpp>

namespace irq_queue_test {

using namespace axvcpu;

TEST_CASE("interrupts leave in the order they came, once each") {
    IrqQueue<4> q;
    CHECK(q.empty());
    REQUIRE(q.push(30).has_value());
    REQUIRE(q.push(27).has_value());
    REQUIRE(q.push(30).has_value());  // already pending: not queued twice
    CHECK(q.size() == 2);
    CHECK(q.front() == 30u);
    CHECK(q.pop() == 30u);
    CHECK(q.pop() == 27u);
    CHECK_FALSE(q.pop().has_value());
}

TEST_CASE("a full queue refuses with ResourceBusy and keeps what it has") {
    IrqQueue<2> q;
    REQUIRE(q.push(1).has_value());
    REQUIRE(q.push(2).has_value());
    CHECK(q.push(3).error() == AxError::ResourceBusy);
    CHECK(q.pop() == 1u);
    REQUIRE(q.push(3).has_value());  // wraps around the ring
    CHECK(q.pop() == 2u);
    CHECK(q.pop() == 3u);
    CHECK(IrqQueue<>::capacity() == config::interrupt_queue_depth);
}
}  // namespace irq_queue_test
