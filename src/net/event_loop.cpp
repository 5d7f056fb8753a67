// epoll + eventfd + timerfd event loop.
#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sctpp::net {
namespace {

Status sys_error(const char* what) {
  return Status(Errc::IoError, std::string(what) + ": " + std::strerror(errno));
}

timespec to_timespec(Instant t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  if (ns <= 0) ns = 1;  // 0 would disarm the timerfd
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  return ts;
}

}  // namespace

EventLoop::EventLoop() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    status_ = sys_error("epoll_create1");
    return;
  }
  eventfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventfd_ < 0) {
    status_ = sys_error("eventfd");
    return;
  }
  // std::chrono::steady_clock is CLOCK_MONOTONIC on Linux, so Instants map directly.
  timerfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timerfd_ < 0) {
    status_ = sys_error("timerfd_create");
    return;
  }
  for (int fd : {eventfd_, timerfd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      status_ = sys_error("epoll_ctl");
      return;
    }
  }
}

EventLoop::~EventLoop() {
  for (int fd : {timerfd_, eventfd_, epfd_})
    if (fd >= 0) close(fd);
}

Status EventLoop::add(int fd, uint32_t events, FdHandler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll_ctl ADD");
  handlers_[fd] = std::move(handler);
  return Status();
}

Status EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) return sys_error("epoll_ctl MOD");
  return Status();
}

void EventLoop::remove(int fd) {
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

EventLoop::TimerId EventLoop::add_timer(Instant when, Callback cb) {
  std::lock_guard<std::mutex> lock(mu_);
  TimerId id = next_id_++;
  timers_by_time_.emplace(when, id);
  timers_.emplace(id, std::make_pair(when, std::move(cb)));
  arm_timerfd_locked();
  return id;
}

void EventLoop::cancel_timer(TimerId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto range = timers_by_time_.equal_range(it->second.first);
  for (auto t = range.first; t != range.second; ++t) {
    if (t->second == id) {
      timers_by_time_.erase(t);
      break;
    }
  }
  timers_.erase(it);
  // Leaving the timerfd armed for an earlier deadline only costs a spurious wakeup.
}

size_t EventLoop::timer_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timers_.size();
}

void EventLoop::arm_timerfd_locked() {
  if (timers_by_time_.empty()) return;
  Instant first = timers_by_time_.begin()->first;
  if (armed_ && *armed_ <= first) return;
  itimerspec spec{};
  spec.it_value = to_timespec(first);
  timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = first;
}

void EventLoop::post(Callback fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back(std::move(fn));
  }
  wake();
}

void EventLoop::wake() {
  uint64_t one = 1;
  ssize_t r = write(eventfd_, &one, sizeof one);
  (void)r;  // EAGAIN means the counter is already non-zero: a wakeup is pending
}

void EventLoop::stop() {
  stop_.store(true);
  wake();
}

void EventLoop::fire_timers() {
  uint64_t expirations;
  ssize_t r = read(timerfd_, &expirations, sizeof expirations);
  (void)r;
  std::vector<Callback> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    armed_.reset();
    Instant now = Clock::now();
    while (!timers_by_time_.empty() && timers_by_time_.begin()->first <= now) {
      TimerId id = timers_by_time_.begin()->second;
      timers_by_time_.erase(timers_by_time_.begin());
      auto it = timers_.find(id);
      if (it != timers_.end()) {
        due.push_back(std::move(it->second.second));
        timers_.erase(it);
      }
    }
    arm_timerfd_locked();
  }
  for (auto& cb : due) cb();
}

void EventLoop::run_posted() {
  std::vector<Callback> work;
  {
    std::lock_guard<std::mutex> lock(mu_);
    work.swap(posted_);
  }
  for (auto& fn : work) fn();
}

void EventLoop::run_once(std::optional<Duration> max_wait) {
  int timeout_ms = -1;
  if (max_wait) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(*max_wait).count();
    timeout_ms = us <= 0 ? 0 : static_cast<int>((us + 999) / 1000);
  }
  epoll_event events[64];
  int n = epoll_wait(epfd_, events, 64, timeout_ms);
  if (n < 0) return;  // EINTR
  bool timer = false;
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == eventfd_) {
      uint64_t v;
      ssize_t r = read(eventfd_, &v, sizeof v);
      (void)r;
      woken = true;
    } else if (fd == timerfd_) {
      timer = true;
    } else {
      auto it = handlers_.find(fd);
      if (it != handlers_.end()) {
        FdHandler h = it->second;  // copy: the handler may remove itself
        h(events[i].events);
      }
    }
  }
  if (timer) fire_timers();
  if (woken) run_posted();
}

void EventLoop::run() {
  while (!stop_.load()) run_once();
}

}  // namespace sctpp::net
