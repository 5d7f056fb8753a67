// When a blocking call gives up: an absolute point on the steady clock, "never",
// or "already passed" (which makes a blocking call behave like its try_ variant,
// except that it reports Errc::Timeout).
//
//   conn.receive();                        // waits as long as it takes
//   conn.receive(std::chrono::seconds(5)); // relative timeout
//   conn.receive(Deadline(t));             // absolute
#pragma once

#include <chrono>
#include <optional>

namespace sctpp {

class Deadline {
 public:
  using clock = std::chrono::steady_clock;

  Deadline() = default;  // never
  Deadline(clock::time_point when) : when_(when) {}
  template <class Rep, class Period>
  Deadline(std::chrono::duration<Rep, Period> timeout) {
    // Timeouts beyond a century count as "never" (and cannot overflow).
    if (timeout < std::chrono::hours(24 * 365 * 100)) {
      when_ = clock::now() + std::chrono::ceil<clock::duration>(timeout);
    }
  }
  static Deadline never() { return Deadline(); }
  static Deadline expired() { return Deadline(clock::time_point::min()); }

  bool is_never() const { return !when_.has_value(); }
  // Only meaningful when !is_never().
  clock::time_point when() const { return when_.value_or(clock::time_point::max()); }
  bool passed() const { return when_ && clock::now() >= *when_; }

 private:
  std::optional<clock::time_point> when_;
};

}  // namespace sctpp
