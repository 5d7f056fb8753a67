// LazyDeque: FIFO order across wrap-around and growth, no memory while empty, moves.
#include "util/lazy_deque.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace sctpp {
namespace {

TEST(LazyDeque, MatchesStdDequeThroughWrapAroundAndGrowth) {
  LazyDeque<std::string> q;
  std::deque<std::string> ref;
  std::mt19937 rng(7);
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 7;
    if (op < 4 || ref.empty()) {
      std::string v = "v" + std::to_string(step) + std::string(rng() % 40, 'x');
      q.push_back(v);
      ref.push_back(v);
    } else if (op < 6) {
      q.pop_front();
      ref.pop_front();
    } else {
      q.pop_back();
      ref.pop_back();
    }
    ASSERT_EQ(q.size(), ref.size());
    if (!ref.empty()) {
      ASSERT_EQ(q.front(), ref.front());
      ASSERT_EQ(q.back(), ref.back());
      const size_t i = rng() % ref.size();
      ASSERT_EQ(q[i], ref[i]);
    }
  }
  std::vector<std::string> seen;
  for (const auto& s : q) seen.push_back(s);
  EXPECT_EQ(seen, std::vector<std::string>(ref.begin(), ref.end()));
}

TEST(LazyDeque, DestroysEveryElementAndMoves) {
  auto token = std::make_shared<int>(1);
  {
    static_assert(sizeof(LazyDeque<std::shared_ptr<int>>) == sizeof(void*));
    LazyDeque<std::shared_ptr<int>> a;
    for (int i = 0; i < 9; ++i) a.push_back(token);  // grows 4 -> 8 -> 16
    a.pop_front();
    EXPECT_EQ(token.use_count(), 9);
    LazyDeque<std::shared_ptr<int>> b(std::move(a));
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(b.size(), 8u);
    a = std::move(b);
    EXPECT_EQ(a.size(), 8u);
    EXPECT_EQ(token.use_count(), 9);
    a.emplace_back(token);
    a.clear();
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(token.use_count(), 1);
    for (int i = 0; i < 3; ++i) a.push_back(token);
  }
  EXPECT_EQ(token.use_count(), 1);  // the destructor released the rest
}

TEST(LazyDeque, EmptyQueueIteratesNothing) {
  const LazyDeque<int> q;
  int n = 0;
  for (int v : q) n += v + 1;
  EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace sctpp
