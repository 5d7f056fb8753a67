#include "assoc/tx/rto_estimator.h"

#include <gtest/gtest.h>

namespace sctpp {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(RtoEstimator, InitialRtoBeforeAnyMeasurement) {
  RtoEstimator e(seconds(1), milliseconds(200), seconds(60));
  EXPECT_FALSE(e.has_measurement());
  EXPECT_EQ(e.rto(), seconds(1));
}

TEST(RtoEstimator, KnownRttSequence) {
  RtoEstimator e(seconds(1), milliseconds(10), seconds(60));
  e.observe(milliseconds(100));  // C2: SRTT = R, RTTVAR = R/2
  EXPECT_TRUE(e.has_measurement());
  EXPECT_EQ(e.srtt(), milliseconds(100));
  EXPECT_EQ(e.rttvar(), milliseconds(50));
  EXPECT_EQ(e.rto(), milliseconds(300));

  e.observe(milliseconds(200));                // C3 with the previous SRTT
  EXPECT_EQ(e.rttvar(), microseconds(62500));  // 3/4*50 + 1/4*100
  EXPECT_EQ(e.srtt(), microseconds(112500));   // 7/8*100 + 1/8*200
  EXPECT_EQ(e.rto(), microseconds(362500));

  e.observe(milliseconds(100));
  EXPECT_EQ(e.rttvar(), microseconds(50000));   // 3/4*62.5 + 1/4*12.5
  EXPECT_EQ(e.srtt(), nanoseconds(110937500));  // 7/8*112.5 + 1/8*100 = 110.9375
  EXPECT_EQ(e.rto(), nanoseconds(310937500));
}

TEST(RtoEstimator, ClampsToMinAndMax) {
  RtoEstimator low(seconds(3), seconds(1), seconds(60));
  low.observe(milliseconds(100));
  EXPECT_EQ(low.rto(), seconds(1));
  EXPECT_EQ(low.srtt(), milliseconds(100));  // only the RTO is clamped

  RtoEstimator high(seconds(3), seconds(1), seconds(60));
  high.observe(seconds(30));
  EXPECT_EQ(high.rto(), seconds(60));
}

// A sample of any size (a forged heartbeat time once gave ~10^18 ns) must not
// overflow SRTT/RTTVAR arithmetic: the RTO just saturates at RTO.Max.
TEST(RtoEstimator, AbsurdSamplesSaturateAtMax) {
  RtoEstimator e(seconds(3), seconds(1), seconds(60));
  e.observe(Duration::max());
  EXPECT_EQ(e.rto(), seconds(60));
  e.observe(Duration::max());
  EXPECT_EQ(e.rto(), seconds(60));
  EXPECT_GT(e.srtt(), Duration::zero());
  for (int i = 0; i < 200; ++i) e.observe(milliseconds(10));
  EXPECT_EQ(e.rto(), seconds(1));  // recovers from the absurd samples
}

TEST(RtoEstimator, BackOffDoublesUpToMaxAndMeasurementResets) {
  RtoEstimator e(seconds(3), seconds(1), seconds(60));
  e.back_off();
  EXPECT_EQ(e.rto(), seconds(6));
  e.back_off();
  e.back_off();
  e.back_off();
  EXPECT_EQ(e.rto(), seconds(48));
  e.back_off();
  EXPECT_EQ(e.rto(), seconds(60));
  e.back_off();
  EXPECT_EQ(e.rto(), seconds(60));
  e.observe(milliseconds(500));  // RTO = 0.5 + 4*0.25 = 1.5 s
  EXPECT_EQ(e.rto(), milliseconds(1500));
}

TEST(RtoEstimator, SteadyRttKeepsVarianceAboveZero) {
  RtoEstimator e(seconds(1), milliseconds(1), seconds(60));
  for (int i = 0; i < 500; ++i) e.observe(milliseconds(100));
  EXPECT_EQ(e.srtt(), milliseconds(100));
  // RTTVAR decays towards 0 but a zero is replaced by the clock granularity (C3).
  EXPECT_GT(e.rttvar(), Duration::zero());
  EXPECT_LE(e.rttvar(), milliseconds(1));
  EXPECT_GT(e.rto(), milliseconds(100));
  EXPECT_LE(e.rto(), milliseconds(104));
}

}  // namespace
}  // namespace sctpp
