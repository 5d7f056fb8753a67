// Zero window probing (RFC 9260 §6.1 A): when the peer's window is shut with nothing
// in flight, when the next probe may go, and whether the peer answered the one out.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

#include "util/time.h"

namespace sctpp {

class ZeroWindowProbe {
 public:
  // After each accepted SACK. `window`: the peer's receive window less what is still
  // in flight; `flight`: bytes in flight; `acked`: the SACK acknowledged new data;
  // `rto`: the data path's RTO.
  void on_sack(Instant now, size_t window, size_t flight, bool acked, Duration rto,
               Duration rto_max) {
    if (window > 0) {  // open again
      deadline_ = Instant{};
      interval_ = Duration(0);
      answered_ = false;
      return;
    }
    if (flight > 0) {
      // A probe is out and the peer is alive: "If the sender continues to receive
      // SACKs from the peer while doing zero window probing, the unacknowledged window
      // probes SHOULD NOT increment the error counter" (a window shut by data still
      // in flight is no probing yet: its SACKs will come).
      answered_ = probing();
      return;
    }
    if (!probing()) {
      // "The sender SHOULD send the first zero window probe after 1 RTO when it
      // detects that the receiver has closed its window": a window that the reader
      // reopens within an RTO costs no probe at all.
      interval_ = std::max(rto, Duration(1));
    } else if (acked) {
      // The probe got in and the window is still shut: "SHOULD increase the probe
      // interval exponentially afterwards". (A probe the peer drops is resent by its
      // T3-rtx timer, which backs off by itself.)
      back_off(rto_max);
    } else {
      return;  // a SACK repeating what we know: keep the schedule
    }
    deadline_ = now + interval_;
  }

  // A probe's T3-rtx timer expired: the next one waits twice as long. The interval
  // is kept here, not taken from the path's RTO, because an RTT sample (from a
  // HEARTBEAT ACK, say) resets the RTO's back-off while the window stays shut.
  void back_off(Duration rto_max) {
    if (probing()) interval_ = std::min(2 * interval_, std::max(rto_max, interval_));
  }
  // How long a probe's T3-rtx timer runs (at least the path's RTO).
  Duration timeout(Duration rto) const { return std::max(rto, interval_); }

  bool probing() const { return interval_ > Duration(0); }
  // True while the next probe must wait.
  bool waiting() const { return deadline_ != Instant{}; }
  std::optional<Instant> deadline() const {
    return waiting() ? std::optional<Instant>(deadline_) : std::nullopt;
  }
  void handle_timeout(Instant now) {
    if (waiting() && now >= deadline_) deadline_ = Instant{};
  }
  // Whether the peer answered the probe out since the last call (for its T3-rtx
  // timeout: an answered probe is no error).
  bool take_answered() { return std::exchange(answered_, false); }

 private:
  // Not a Timer (an optional, 16 bytes): every association has one of these, and
  // Instant{} never is a deadline.
  Instant deadline_{};
  Duration interval_{0};  // 0: the window is open
  bool answered_ = false;
};

}  // namespace sctpp
