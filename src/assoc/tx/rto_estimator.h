// Retransmission timeout per path from RTT measurements (RFC 9260 §6.3.1):
// SRTT/RTTVAR smoothing with alpha 1/8, beta 1/4, clamped to [RTO.Min, RTO.Max],
// doubled on each T3-rtx expiry (§6.3.3) until a new measurement.
#pragma once

#include "util/time.h"

namespace sctpp {

class RtoEstimator {
 public:
  RtoEstimator(Duration initial, Duration min, Duration max);
  void observe(Duration rtt);  // one RTT measurement (§6.3.1 C2/C3)
  void back_off();             // T3-rtx expired: RTO = min(2 * RTO, RTO.Max)
  Duration rto() const { return rto_; }
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  bool has_measurement() const { return measured_; }

 private:
  Duration initial_, min_, max_;
  Duration rto_, srtt_{0}, rttvar_{0};
  bool measured_ = false;
};

}  // namespace sctpp
