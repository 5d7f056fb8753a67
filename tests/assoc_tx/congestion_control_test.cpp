#include "assoc/tx/congestion_control.h"

#include <gtest/gtest.h>

namespace sctpp {
namespace {

constexpr size_t kMtu = 1500;
constexpr size_t kBigSsthresh = 1 << 20;

TEST(CongestionControl, InitialWindowFollowsRfc) {
  // §7.2.1: min(4*MTU, max(2*MTU, 4380)).
  EXPECT_EQ(CongestionControl(1500, kBigSsthresh).cwnd(), 4380u);
  EXPECT_EQ(CongestionControl(1000, kBigSsthresh).cwnd(), 4000u);
  EXPECT_EQ(CongestionControl(9000, kBigSsthresh).cwnd(), 18000u);
  CongestionControl cc(kMtu, 12345);
  EXPECT_EQ(cc.ssthresh(), 12345u);
  EXPECT_EQ(cc.mtu(), kMtu);
  EXPECT_FALSE(cc.in_fast_recovery());
}

TEST(CongestionControl, SlowStartGrowsByAtMostOneMtuPerSack) {
  CongestionControl cc(kMtu, kBigSsthresh);
  cc.on_ack(1000, true, 4380, false);
  EXPECT_EQ(cc.cwnd(), 5380u);  // + bytes acked, less than an MTU
  cc.on_ack(3000, true, 5380, false);
  EXPECT_EQ(cc.cwnd(), 6880u);  // + one MTU, not 3000
}

TEST(CongestionControl, SlowStartNeedsCumAdvanceAndAFullWindow) {
  CongestionControl cc(kMtu, kBigSsthresh);
  cc.on_ack(1500, false, 4380, false);  // only gap-acked
  EXPECT_EQ(cc.cwnd(), 4380u);
  cc.on_ack(500, true, 1000, false);  // the window was far from used
  EXPECT_EQ(cc.cwnd(), 4380u);
  cc.on_ack(0, true, 4380, false);
  EXPECT_EQ(cc.cwnd(), 4380u);
}

TEST(CongestionControl, SlowStartDoesNotGrowAWindowUsedByHalf) {
  // §7.2.1: cwnd grows only "if the current congestion window is being fully
  // utilized". The flight before a SACK includes what it acknowledges: 2800 bytes out
  // of 4380 is not a full window, however much of it this SACK acknowledges.
  CongestionControl cc(kMtu, kBigSsthresh);
  cc.on_ack(1400, true, 2800, false);
  EXPECT_EQ(cc.cwnd(), 4380u);
  // Within one MTU of cwnd: the next chunk did not fit, the window counts as used.
  cc.on_ack(1400, true, 4380 - kMtu + 1, false);
  EXPECT_EQ(cc.cwnd(), 4380u + 1400);
}

TEST(CongestionControl, SlowStartWithAFullWindowAddsOneMtuPerSack) {
  CongestionControl cc(kMtu, kBigSsthresh);
  // The sender keeps the window full; each SACK acks one MTU-sized packet.
  for (int i = 0; i < 4; ++i) cc.on_ack(kMtu, true, cc.cwnd(), false);
  EXPECT_EQ(cc.cwnd(), 4380u + 4 * kMtu);
  // Up to ssthresh, then congestion avoidance takes over.
  CongestionControl capped(kMtu, 6000);
  capped.on_ack(kMtu, true, 4380, false);  // 5880 <= 6000: still slow start
  capped.on_ack(kMtu, true, 5880, false);  // 7380 > ssthresh
  EXPECT_EQ(capped.cwnd(), 7380u);
  capped.on_ack(kMtu, true, 7380, false);  // congestion avoidance: pba only
  EXPECT_EQ(capped.cwnd(), 7380u);
}

TEST(CongestionControl, CongestionAvoidanceAddsOneMtuPerWindow) {
  CongestionControl cc(kMtu, 3000);  // cwnd 4380 > ssthresh: congestion avoidance
  ASSERT_GT(cc.cwnd(), cc.ssthresh());
  cc.on_ack(1500, true, 4380, false);
  cc.on_ack(1500, true, 4380, false);
  EXPECT_EQ(cc.cwnd(), 4380u);
  cc.on_ack(1500, true, 4380, false);  // partial_bytes_acked 4500 >= 4380
  EXPECT_EQ(cc.cwnd(), 5880u);
  // partial_bytes_acked is now 120: it takes 5760 more bytes for the next MTU.
  for (int i = 0; i < 3; ++i) cc.on_ack(1500, true, 5880, false);
  EXPECT_EQ(cc.cwnd(), 5880u);
  cc.on_ack(1500, true, 5880, false);
  EXPECT_EQ(cc.cwnd(), 7380u);
}

TEST(CongestionControl, CongestionAvoidanceNeedsAFullWindow) {
  CongestionControl cc(kMtu, 3000);
  for (int i = 0; i < 10; ++i) cc.on_ack(1000, true, 3000, false);  // flight < cwnd
  EXPECT_EQ(cc.cwnd(), 4380u);
  // Credit was capped at one cwnd (§7.2.2 (2)); a full window then grows it once.
  cc.on_ack(1000, true, 4380, false);
  EXPECT_EQ(cc.cwnd(), 5880u);
  cc.on_ack(1000, true, 5880, false);
  EXPECT_EQ(cc.cwnd(), 5880u);
}

TEST(CongestionControl, PartialBytesAckedResetsWhenEverythingIsAcked) {
  CongestionControl cc(kMtu, 3000);
  cc.on_ack(3000, true, 4380, false);  // pba 3000
  cc.on_ack(1380, true, 1380, false);  // all acked: pba reset to 0 instead of 4380
  EXPECT_EQ(cc.cwnd(), 4380u);
  cc.on_ack(3000, true, 4380, false);
  EXPECT_EQ(cc.cwnd(), 4380u);
}

TEST(CongestionControl, FastRetransmitHalvesOnceAndEntersRecovery) {
  CongestionControl cc(kMtu, kBigSsthresh);
  while (cc.cwnd() < 20000) cc.on_ack(kMtu, true, cc.cwnd(), false);
  size_t before = cc.cwnd();
  cc.on_fast_retransmit();
  EXPECT_TRUE(cc.in_fast_recovery());
  EXPECT_EQ(cc.ssthresh(), std::max(before / 2, 4 * kMtu));
  EXPECT_EQ(cc.cwnd(), cc.ssthresh());
  size_t after = cc.cwnd();
  cc.on_fast_retransmit();  // another loss in the same window: no further cut
  EXPECT_EQ(cc.cwnd(), after);
  // cwnd == ssthresh is slow start, but not while in Fast Recovery.
  cc.on_ack(kMtu, true, after, false);
  EXPECT_EQ(cc.cwnd(), after);
  cc.on_ack(kMtu, true, after, true);  // reaches the exit point
  EXPECT_FALSE(cc.in_fast_recovery());
  EXPECT_EQ(cc.cwnd(), after + kMtu);
}

TEST(CongestionControl, FastRetransmitFloorIsFourMtus) {
  CongestionControl cc(kMtu, kBigSsthresh);
  cc.on_fast_retransmit();
  EXPECT_EQ(cc.ssthresh(), 4 * kMtu);
  EXPECT_EQ(cc.cwnd(), 4 * kMtu);
}

TEST(CongestionControl, TimeoutCollapsesToOneMtu) {
  CongestionControl cc(kMtu, kBigSsthresh);
  while (cc.cwnd() < 30000) cc.on_ack(kMtu, true, cc.cwnd(), false);
  size_t before = cc.cwnd();
  cc.on_fast_retransmit();
  size_t mid = cc.cwnd();
  cc.on_timeout();
  EXPECT_FALSE(cc.in_fast_recovery());
  EXPECT_EQ(cc.cwnd(), kMtu);
  EXPECT_EQ(cc.ssthresh(), std::max(mid / 2, 4 * kMtu));
  EXPECT_LT(cc.ssthresh(), before);
  // Slow start again from one MTU.
  cc.on_ack(kMtu, true, kMtu, false);
  EXPECT_EQ(cc.cwnd(), 2 * kMtu);
}

TEST(CongestionControl, IdleDecaysButNeverRaises) {
  CongestionControl cc(kMtu, kBigSsthresh);
  while (cc.cwnd() < 20000) cc.on_ack(kMtu, true, cc.cwnd(), false);
  size_t before = cc.cwnd();
  cc.on_idle();
  EXPECT_EQ(cc.cwnd(), before / 2);
  cc.on_idle();
  cc.on_idle();
  EXPECT_EQ(cc.cwnd(), 4 * kMtu);
  CongestionControl fresh(kMtu, kBigSsthresh);
  fresh.on_idle();
  EXPECT_EQ(fresh.cwnd(), 4380u);
}

// Several idle RTOs at once halve the window once per RTO, down to the floor, as the
// same number of single RTOs would; a very long idle period does not wrap.
TEST(CongestionControl, IdleForSeveralRtosHalvesOncePerRto) {
  for (uint64_t rtos : {0u, 1u, 2u, 3u, 5u, 64u, 1000u}) {
    CongestionControl many(kMtu, kBigSsthresh), one_by_one(kMtu, kBigSsthresh);
    while (many.cwnd() < 200000) many.on_ack(kMtu, true, many.cwnd(), false);
    while (one_by_one.cwnd() < 200000) one_by_one.on_ack(kMtu, true, one_by_one.cwnd(), false);
    many.on_idle(rtos);
    for (uint64_t i = 0; i < std::min<uint64_t>(rtos, 64); ++i) one_by_one.on_idle();
    EXPECT_EQ(many.cwnd(), one_by_one.cwnd()) << rtos << " RTOs";
  }
}

}  // namespace
}  // namespace sctpp
