// DeadlineHeap: deadlines come due in time order (equal ones in id order), and only
// those due at the time asked.
#include "util/deadline_heap.h"

#include <gtest/gtest.h>

namespace sctpp {
namespace {

using namespace std::chrono_literals;

TEST(DeadlineHeap, TakesWhatIsDueEarliestFirstAndLeavesTheRest) {
  DeadlineHeap<uint16_t> q;
  const Instant t0{};
  q.push(t0 + 30ms, 3);
  q.push(t0 + 10ms, 1);
  q.push(t0 + 20ms, 2);
  q.push(t0 + 10ms, 4);  // two ports due at the same time
  EXPECT_EQ(q.first(), t0 + 10ms);

  std::vector<DeadlineHeap<uint16_t>::Due> due;
  q.take_due(t0 + 5ms, due);
  EXPECT_TRUE(due.empty());
  q.take_due(t0 + 20ms, due);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].when, t0 + 10ms);
  EXPECT_EQ(due[0].id, 1);  // equal deadlines: lower id first
  EXPECT_EQ(due[1].when, t0 + 10ms);
  EXPECT_EQ(due[1].id, 4);
  EXPECT_EQ(due[2].id, 2);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.first(), t0 + 30ms);

  q.take_due(t0 + 1s, due);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, 3);
  EXPECT_FALSE(q.first());
  EXPECT_TRUE(q.empty());
}

TEST(DeadlineHeap, TopAndPopWalkTheDeadlinesInOrder) {
  DeadlineHeap<uint32_t> q;
  const Instant t0{};
  for (uint32_t i : {5u, 1u, 4u, 2u, 3u}) q.push(t0 + std::chrono::milliseconds(i), i);
  for (uint32_t want = 1; want <= 5; ++want) {
    ASSERT_FALSE(q.empty());
    EXPECT_EQ(q.top().id, want);
    q.pop();
  }
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace sctpp
