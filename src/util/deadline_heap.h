// Deadlines of many timers (associations of an endpoint, endpoints of a runtime)
// behind one clock: a min-heap of (deadline, id) with lazy removal.
//
// A timer whose deadline changes is not looked for in the heap: its owner pushes the
// new deadline and keeps which one is live (its `armed`); entries that no longer match
// are skipped or popped when they reach the top. Earliest first; equal deadlines in id
// order, so a run is deterministic.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "util/time.h"

namespace sctpp {

template <class Id>
class DeadlineHeap {
 public:
  struct Due {
    Instant when;
    Id id;
  };

  void push(Instant when, Id id) {
    heap_.push_back(Due{when, id});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // The earliest entry. Precondition: !empty().
  const Due& top() const { return heap_.front(); }
  void pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
  std::optional<Instant> first() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front().when;
  }
  // Moves every entry due at `now` to `out` (cleared first), earliest first.
  void take_due(Instant now, std::vector<Due>& out) {
    out.clear();
    while (!heap_.empty() && heap_.front().when <= now) {
      out.push_back(heap_.front());
      pop();
    }
  }
  void clear() { heap_.clear(); }

 private:
  static bool later(const Due& a, const Due& b) {
    return a.when != b.when ? a.when > b.when : a.id > b.id;
  }
  std::vector<Due> heap_;
};

}  // namespace sctpp
