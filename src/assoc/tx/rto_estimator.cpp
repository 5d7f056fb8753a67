#include "assoc/tx/rto_estimator.h"

#include <algorithm>

namespace sctpp {

namespace {
// Clock granularity G of RFC 9260 §6.3.1 C3: the floor for RTTVAR.
constexpr Duration kGranularity = std::chrono::milliseconds(1);
// Samples beyond this are clipped: the RTO is capped by RTO.Max anyway, and 7 * SRTT
// and SRTT + 4 * RTTVAR must not overflow whatever a caller measured.
constexpr Duration kMaxSample = std::chrono::hours(24);
}  // namespace

RtoEstimator::RtoEstimator(Duration initial, Duration min, Duration max)
    : initial_(initial),
      min_(min),
      max_(std::max(min, max)),
      rto_(std::clamp(initial, min_, max_)) {}

void RtoEstimator::observe(Duration rtt) {
  rtt = std::clamp(rtt, Duration::zero(), kMaxSample);
  if (!measured_) {
    // §6.3.1 C2: first measurement.
    srtt_ = rtt;
    rttvar_ = rtt / 2;
    measured_ = true;
  } else {
    // §6.3.1 C3, RTO.Alpha = 1/8, RTO.Beta = 1/4. RTTVAR is updated with the old SRTT.
    Duration diff = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = (3 * rttvar_ + diff) / 4;
    srtt_ = (7 * srtt_ + rtt) / 8;
  }
  // §6.3.1 C3: "if computed RTTVAR == 0, then adjust RTTVAR <- G".
  if (rttvar_ == Duration::zero()) rttvar_ = kGranularity;
  // §6.3.1 C4-C7: RTO = SRTT + 4 * RTTVAR, clamped to [RTO.Min, RTO.Max].
  rto_ = std::clamp(srtt_ + 4 * rttvar_, min_, max_);
}

void RtoEstimator::back_off() {
  // §6.3.3 E2: RTO <- RTO * 2, bounded by RTO.Max (§6.3.1 C7).
  rto_ = rto_ >= max_ / 2 ? max_ : std::min(2 * rto_, max_);
}

}  // namespace sctpp
