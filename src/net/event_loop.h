// A small epoll event loop: file-descriptor handlers, one-shot timers on a timerfd
// (absolute CLOCK_MONOTONIC deadlines, so sub-millisecond precision), and an
// eventfd so other threads can wake it, post work to it or stop it.
//
// Threading: run()/run_once() are called by one thread (the loop thread); handlers,
// timer callbacks and posted functions run there, with no lock of the loop held.
// add_timer, cancel_timer, post, wake and stop may be called from any thread.
// add/remove of file descriptors: from the loop thread, or before run(); modify
// (epoll_ctl only) from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sctpp/types.h"
#include "util/time.h"

namespace sctpp::net {

class EventLoop {
 public:
  using FdHandler = std::function<void(uint32_t epoll_events)>;
  using Callback = std::function<void()>;
  using TimerId = uint64_t;  // 0 is never a valid id

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Non-ok if the epoll/eventfd/timerfd could not be created.
  const Status& status() const { return status_; }

  Status add(int fd, uint32_t events, FdHandler handler);
  Status modify(int fd, uint32_t events);
  void remove(int fd);

  // Runs `cb` on the loop thread once `when` has passed.
  TimerId add_timer(Instant when, Callback cb);
  // Cancels a timer that has not fired yet; harmless otherwise.
  void cancel_timer(TimerId id);
  // Number of timers pending.
  size_t timer_count() const;

  // Runs `fn` on the loop thread soon.
  void post(Callback fn);
  // Interrupts a blocking wait.
  void wake();
  // Makes run() return after the current iteration.
  void stop();
  bool stopped() const { return stop_.load(); }

  // Waits for events (at most `max_wait`, forever when nullopt) and dispatches them:
  // ready descriptors, due timers, posted functions.
  void run_once(std::optional<Duration> max_wait = std::nullopt);
  // Loops until stop().
  void run();

 private:
  void arm_timerfd_locked();
  void fire_timers();
  void run_posted();

  Status status_;
  int epfd_ = -1;
  int eventfd_ = -1;
  int timerfd_ = -1;
  std::atomic<bool> stop_{false};
  std::unordered_map<int, FdHandler> handlers_;

  mutable std::mutex mu_;  // guards timers and posted work
  std::multimap<Instant, TimerId> timers_by_time_;
  std::unordered_map<TimerId, std::pair<Instant, Callback>> timers_;
  TimerId next_id_ = 1;
  std::optional<Instant> armed_;
  std::vector<Callback> posted_;
};

}  // namespace sctpp::net
