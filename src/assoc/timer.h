// A one-shot protocol timer (T1-init, T1-cookie, T2-shutdown, T3-rtx, heartbeat) as
// a deadline value. The association asks each for its deadline; nothing fires by
// itself, which keeps the core deterministic.
#pragma once

#include <optional>

#include "util/time.h"

namespace sctpp {

class Timer {
 public:
  void start(Instant now, Duration after) { deadline_ = now + after; }
  void stop() { deadline_.reset(); }
  bool running() const { return deadline_.has_value(); }
  // True once the deadline has passed; the timer stops so it fires once.
  bool fire(Instant now) {
    if (!deadline_ || now < *deadline_) return false;
    deadline_.reset();
    return true;
  }
  std::optional<Instant> deadline() const { return deadline_; }

 private:
  std::optional<Instant> deadline_;
};

// Earliest of optional deadlines.
inline void earliest(std::optional<Instant>& acc, std::optional<Instant> d) {
  if (d && (!acc || *d < *acc)) acc = d;
}

}  // namespace sctpp
