#include "assoc/tx/congestion_control.h"

#include <algorithm>

namespace sctpp {

CongestionControl::CongestionControl(size_t mtu, size_t initial_ssthresh)
    : mtu_(mtu),
      // RFC 9260 §7.2.1: initial cwnd = min(4*MTU, max(2*MTU, 4380 bytes)).
      cwnd_(std::min(4 * mtu, std::max(2 * mtu, size_t{4380}))),
      ssthresh_(initial_ssthresh) {}

void CongestionControl::on_ack(size_t bytes_acked, bool cum_advanced, size_t flight_before,
                               bool cum_tsn_reached_exit) {
  // §7.2.4 step 6: a SACK acknowledging everything up to the exit point ends Fast
  // Recovery. It is left before the cwnd rules run, so that SACK counts as a normal one.
  if (cum_tsn_reached_exit) fast_recovery_ = false;
  if (bytes_acked == 0) return;

  if (cwnd_ <= ssthresh_) {
    // §7.2.1 slow start: grow only if (1) the cwnd is being fully utilized, (2) the
    // SACK advances the Cumulative TSN Ack Point, and (3) not in Fast Recovery; by at
    // most min(bytes acked, L*MTU) with L = 1. "Fully utilized": the flight before this
    // SACK (which includes what it acknowledges) came within one MTU of cwnd, so a
    // sender limited by packetization (the next chunk did not fit) still counts, and
    // one that used half its window does not.
    bool fully_used = flight_before + mtu_ > cwnd_;
    if (cum_advanced && !fast_recovery_ && fully_used) cwnd_ += std::min(bytes_acked, mtu_);
  } else {
    // §7.2.2 congestion avoidance (no Cumulative TSN advance required, as for
    // partial_bytes_acked the rule counts cum and gap acked bytes alike).
    partial_bytes_acked_ += bytes_acked;
    if (partial_bytes_acked_ >= cwnd_ && flight_before >= cwnd_) {
      // §7.2.2 (3): pba -= cwnd, then cwnd += MTU.
      partial_bytes_acked_ -= cwnd_;
      cwnd_ += mtu_;
    } else if (partial_bytes_acked_ > cwnd_ && flight_before < cwnd_) {
      // §7.2.2 (2): the window was not used; do not bank more than one cwnd of credit.
      partial_bytes_acked_ = cwnd_;
    }
  }
  // §7.2.2 (5): when all data sent has been acknowledged, partial_bytes_acked = 0.
  if (bytes_acked >= flight_before) partial_bytes_acked_ = 0;
}

void CongestionControl::on_fast_retransmit() {
  // §7.2.4 step 2 / step 6: only once per Fast Recovery.
  if (fast_recovery_) return;
  // §7.2.3: ssthresh = max(cwnd/2, 4*MTU), cwnd = ssthresh, partial_bytes_acked = 0.
  ssthresh_ = std::max(cwnd_ / 2, 4 * mtu_);
  cwnd_ = ssthresh_;
  partial_bytes_acked_ = 0;
  fast_recovery_ = true;
}

void CongestionControl::on_timeout() {
  // §7.2.3: ssthresh = max(cwnd/2, 4*MTU), cwnd = 1*MTU, partial_bytes_acked = 0.
  ssthresh_ = std::max(cwnd_ / 2, 4 * mtu_);
  cwnd_ = mtu_;
  partial_bytes_acked_ = 0;
  fast_recovery_ = false;
}

void CongestionControl::on_idle(uint64_t rtos) {
  if (rtos == 0) return;
  // §7.2.1: "the cwnd of the transport address SHOULD be adjusted to max(cwnd/2,
  // 4*MTU) per RTO", i.e. halved once per idle RTO down to the floor. This is a decay:
  // a cwnd already below 4*MTU (e.g. the initial 4380 bytes with a 1500-byte MTU, or
  // 1*MTU after a timeout) is never raised by it.
  const size_t halved = cwnd_ >> std::min<uint64_t>(rtos, 63);
  cwnd_ = std::min(cwnd_, std::max(halved, 4 * mtu_));
  partial_bytes_acked_ = 0;
}

}  // namespace sctpp
