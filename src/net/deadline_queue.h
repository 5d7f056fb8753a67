// The endpoints' next deadlines, behind the runtime's one event-loop timer.
//
// A min-heap of (deadline, port) with lazy removal: the runtime queues a deadline when
// an endpoint's next one comes earlier than what is queued for it, and leaves a
// deadline that moved later (T3-rtx restarted by every SACK while data flows) to come
// due early once. The runtime tells live entries from stale ones (its Entry::armed) and
// rebuilds the queue when stale ones pile up, so memory stays bounded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "util/time.h"

namespace sctpp::net {

class DeadlineQueue {
 public:
  struct Due {
    Instant when;
    uint16_t port;
  };

  void push(Instant when, uint16_t port) {
    heap_.push_back(Due{when, port});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  std::optional<Instant> first() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front().when;
  }
  // Moves every entry due at `now` to `out` (cleared first), earliest first.
  void take_due(Instant now, std::vector<Due>& out) {
    out.clear();
    while (!heap_.empty() && heap_.front().when <= now) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      out.push_back(heap_.back());
      heap_.pop_back();
    }
  }
  size_t size() const { return heap_.size(); }
  void clear() { heap_.clear(); }

 private:
  static bool later(const Due& a, const Due& b) { return a.when > b.when; }
  std::vector<Due> heap_;
};

}  // namespace sctpp::net
