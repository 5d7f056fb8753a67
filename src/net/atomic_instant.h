// An Instant that one thread writes under the runtime's mutex and another (the I/O
// thread's timers) reads without it, so a timer can decide it has nothing to do
// without queueing for the mutex behind a busy user thread.
#pragma once

#include <atomic>

#include "util/time.h"

namespace sctpp::net {

class AtomicInstant {
 public:
  // Instant{} (the clock's epoch) stands for "none": the steady clock starts at boot,
  // so no real reading is ever that.
  Instant load(std::memory_order order = std::memory_order_seq_cst) const {
    return Instant(Duration(rep_.load(order)));
  }
  void store(Instant t, std::memory_order order = std::memory_order_seq_cst) {
    rep_.store(t.time_since_epoch().count(), order);
  }
  void clear(std::memory_order order = std::memory_order_seq_cst) { store(Instant{}, order); }

 private:
  std::atomic<Duration::rep> rep_{0};
};

}  // namespace sctpp::net
