// Event loop: timers in deadline order, cancellation, wakeups and posted work.
#include "net/event_loop.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <thread>
#include <vector>

namespace sctpp::net {
namespace {

TEST(EventLoop, TimersFireInDeadlineOrder) {
  EventLoop loop;
  ASSERT_TRUE(loop.status().ok());
  std::vector<int> fired;
  Instant t0 = Clock::now();
  loop.add_timer(t0 + milliseconds(30), [&] { fired.push_back(3); });
  loop.add_timer(t0 + milliseconds(10), [&] { fired.push_back(1); });
  loop.add_timer(t0 + milliseconds(20), [&] { fired.push_back(2); });
  while (fired.size() < 3 && Clock::now() - t0 < seconds(2)) loop.run_once(milliseconds(100));
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(Clock::now() - t0, milliseconds(30));
  EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(EventLoop, SubMillisecondTimerIsNotRoundedToZeroOrLate) {
  EventLoop loop;
  bool fired = false;
  Instant t0 = Clock::now();
  loop.add_timer(t0 + microseconds(300), [&] { fired = true; });
  while (!fired && Clock::now() - t0 < seconds(1)) loop.run_once();
  EXPECT_TRUE(fired);
  EXPECT_GE(Clock::now() - t0, microseconds(300));
  EXPECT_LT(Clock::now() - t0, milliseconds(50));
}

TEST(EventLoop, PastDeadlineFiresAtOnce) {
  EventLoop loop;
  bool fired = false;
  loop.add_timer(Clock::now() - seconds(1), [&] { fired = true; });
  for (int i = 0; i < 10 && !fired; ++i) loop.run_once(milliseconds(100));
  EXPECT_TRUE(fired);
}

TEST(EventLoop, CancelledTimerDoesNotFire) {
  EventLoop loop;
  int fired = 0;
  Instant t0 = Clock::now();
  auto id = loop.add_timer(t0 + milliseconds(10), [&] { fired += 1; });
  loop.add_timer(t0 + milliseconds(20), [&] { fired += 10; });
  loop.cancel_timer(id);
  loop.cancel_timer(id);  // twice is harmless
  while (fired == 0 && Clock::now() - t0 < seconds(2)) loop.run_once(milliseconds(100));
  EXPECT_EQ(fired, 10);
}

TEST(EventLoop, WakeFromAnotherThreadAndPost) {
  EventLoop loop;
  std::thread runner([&] { loop.run(); });
  std::atomic<int> ran{0};
  loop.post([&] { ran = 1; });
  for (int i = 0; i < 200 && ran == 0; ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(ran, 1);
  loop.stop();
  runner.join();
  EXPECT_TRUE(loop.stopped());
}

TEST(EventLoop, TimerAddedFromOtherThreadWakesTheLoop) {
  EventLoop loop;
  std::atomic<bool> fired{false};
  std::thread runner([&] { loop.run(); });
  std::this_thread::sleep_for(milliseconds(20));  // loop blocks with no timer armed
  Instant t0 = Clock::now();
  loop.add_timer(t0 + milliseconds(10), [&] { fired = true; });
  for (int i = 0; i < 400 && !fired; ++i) std::this_thread::sleep_for(milliseconds(1));
  EXPECT_TRUE(fired);
  EXPECT_LT(Clock::now() - t0, milliseconds(500));
  loop.stop();
  runner.join();
}

TEST(EventLoop, FdHandlerGetsReadiness) {
  EventLoop loop;
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  int got = 0;
  ASSERT_TRUE(loop.add(p[0], EPOLLIN,
                       [&](uint32_t ev) {
                         char c;
                         if (ev & EPOLLIN) got += static_cast<int>(read(p[0], &c, 1));
                       })
                  .ok());
  ASSERT_EQ(write(p[1], "x", 1), 1);
  loop.run_once(milliseconds(500));
  EXPECT_EQ(got, 1);
  loop.remove(p[0]);
  ASSERT_EQ(write(p[1], "y", 1), 1);
  loop.run_once(milliseconds(20));
  EXPECT_EQ(got, 1);
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace sctpp::net
