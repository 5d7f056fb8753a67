// DeadlineQueue: the runtime's endpoints' deadlines come due in time order, and only
// those due at the time asked.
#include "net/deadline_queue.h"

#include <gtest/gtest.h>

namespace sctpp::net {
namespace {

using namespace std::chrono_literals;

TEST(DeadlineQueue, TakesWhatIsDueEarliestFirstAndLeavesTheRest) {
  DeadlineQueue q;
  const Instant t0{};
  q.push(t0 + 30ms, 3);
  q.push(t0 + 10ms, 1);
  q.push(t0 + 20ms, 2);
  q.push(t0 + 10ms, 4);  // two ports due at the same time
  EXPECT_EQ(q.first(), t0 + 10ms);

  std::vector<DeadlineQueue::Due> due;
  q.take_due(t0 + 5ms, due);
  EXPECT_TRUE(due.empty());
  q.take_due(t0 + 20ms, due);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].when, t0 + 10ms);
  EXPECT_EQ(due[1].when, t0 + 10ms);
  EXPECT_EQ(due[1].port + due[0].port, 5);
  EXPECT_EQ(due[2].port, 2);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.first(), t0 + 30ms);

  q.take_due(t0 + 1s, due);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].port, 3);
  EXPECT_FALSE(q.first());
}

}  // namespace
}  // namespace sctpp::net
