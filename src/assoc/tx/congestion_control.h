// Congestion window of one destination path (RFC 9260 §7.2): slow start, congestion
// avoidance with partial_bytes_acked, reaction to fast retransmit (§7.2.4) and
// T3-rtx expiry (§7.2.3), and the idle reset of §7.2.1.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/time.h"

namespace sctpp {

class CongestionControl {
 public:
  // `mtu` is the path MTU available to SCTP packets (the "MTU" of §7.2).
  explicit CongestionControl(size_t mtu, size_t initial_ssthresh);

  size_t cwnd() const { return cwnd_; }
  size_t ssthresh() const { return ssthresh_; }
  size_t mtu() const { return mtu_; }
  bool in_fast_recovery() const { return fast_recovery_; }

  // A SACK acknowledged `bytes_acked` new bytes on this path. `cum_advanced`: it moved
  // the cumulative TSN ack point. `flight_before`: bytes outstanding on this path
  // before the SACK. `cum_tsn_reached_exit`: the cum ack reached the fast recovery
  // exit point (leave fast recovery).
  void on_ack(size_t bytes_acked, bool cum_advanced, size_t flight_before,
              bool cum_tsn_reached_exit);
  // Fast retransmit triggered and not already in fast recovery: ssthresh =
  // max(cwnd/2, 4*MTU), cwnd = ssthresh, enter fast recovery.
  void on_fast_retransmit();
  // T3-rtx expired: ssthresh = max(cwnd/2, 4*MTU), cwnd = 1*MTU; leaves fast recovery.
  void on_timeout();
  // The path sat idle, nothing in flight, for `rtos` whole RTOs (§7.2.1).
  void on_idle(uint64_t rtos = 1);

 private:
  size_t mtu_;
  size_t cwnd_;
  size_t ssthresh_;
  size_t partial_bytes_acked_ = 0;
  bool fast_recovery_ = false;
};

}  // namespace sctpp
