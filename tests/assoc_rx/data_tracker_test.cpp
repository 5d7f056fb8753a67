#include "assoc/rx/data_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

namespace sctpp {
namespace {

using wire::GapAckBlock;

constexpr Duration kDelay = milliseconds(200);
const Instant kT0 = Instant{} + seconds(1000);

// Observes the TSNs as one packet and ends it.
void packet(DataTracker& t, std::initializer_list<uint32_t> tsns, Instant now = kT0,
            bool immediate = false) {
  for (uint32_t v : tsns) t.observe(Tsn(v));
  t.on_packet_end(now, immediate);
}

// The association's first DATA (TSN 0 here) is acknowledged at once, as Linux and
// FreeBSD do (ETSI TS 102 369 A-V-9-1, "first SACK is sent immediately"); the tests
// of delayed acknowledgement start after it.
void settle(DataTracker& t) {
  packet(t, {0}, kT0 - seconds(1));
  ASSERT_TRUE(t.sack_due());
  t.make_sack(5000);
}

TEST(DataTracker, FirstDataIsAcknowledgedAtOnceThenEverySecondPacket) {
  DataTracker t(Tsn(1), kDelay);
  packet(t, {1});
  EXPECT_TRUE(t.sack_due());
  EXPECT_FALSE(t.deadline().has_value());
  EXPECT_EQ(t.make_sack(5000).cum_tsn_ack, Tsn(1));
  packet(t, {2});
  EXPECT_FALSE(t.sack_due());  // from now on, delayed
  EXPECT_TRUE(t.deadline().has_value());
}

TEST(DataTracker, StartsOneBelowInitialTsn) {
  DataTracker t(Tsn(1000), kDelay);
  EXPECT_EQ(t.cumulative_tsn(), Tsn(999));
  EXPECT_EQ(t.highest_received(), Tsn(999));
  EXPECT_FALSE(t.sack_due());
  EXPECT_FALSE(t.deadline().has_value());
  EXPECT_TRUE(t.is_received(Tsn(999)));
  EXPECT_FALSE(t.is_received(Tsn(1000)));
}

TEST(DataTracker, InOrderPacketsAckEverySecondPacket) {
  DataTracker t(Tsn(0), kDelay);
  settle(t);  // past the first DATA, which is acknowledged at once
  packet(t, {1});
  EXPECT_FALSE(t.sack_due());
  ASSERT_TRUE(t.deadline().has_value());
  EXPECT_EQ(*t.deadline(), kT0 + kDelay);

  packet(t, {2, 3}, kT0 + milliseconds(5));  // the second packet with DATA
  EXPECT_TRUE(t.sack_due());

  auto sack = t.make_sack(5000);
  EXPECT_EQ(sack.cum_tsn_ack, Tsn(3));
  EXPECT_EQ(sack.a_rwnd, 5000u);
  EXPECT_TRUE(sack.gap_blocks.empty());
  EXPECT_TRUE(sack.dup_tsns.empty());
  EXPECT_FALSE(t.sack_due());
  EXPECT_FALSE(t.deadline().has_value());

  // Counting restarts after a SACK.
  packet(t, {4}, kT0 + milliseconds(10));
  EXPECT_FALSE(t.sack_due());
  EXPECT_EQ(*t.deadline(), kT0 + milliseconds(10) + kDelay);
}

TEST(DataTracker, DelayedAckTimerFiresAtDeadline) {
  DataTracker t(Tsn(0), kDelay);
  settle(t);  // past the first DATA, which is acknowledged at once
  packet(t, {1});
  t.handle_timeout(kT0 + kDelay - microseconds(1));
  EXPECT_FALSE(t.sack_due());
  EXPECT_TRUE(t.deadline().has_value());
  t.handle_timeout(kT0 + kDelay);
  EXPECT_TRUE(t.sack_due());
  EXPECT_FALSE(t.deadline().has_value());
  EXPECT_EQ(t.make_sack(100).cum_tsn_ack, Tsn(1));
}

TEST(DataTracker, DeadlineRestartsAfterSack) {
  DataTracker t(Tsn(0), kDelay);
  settle(t);  // past the first DATA, which is acknowledged at once
  packet(t, {1});
  EXPECT_EQ(*t.deadline(), kT0 + kDelay);
  t.request_sack();  // e.g. a SACK bundled with other chunks
  t.make_sack(100);
  EXPECT_FALSE(t.deadline().has_value());
  packet(t, {2}, kT0 + milliseconds(50));
  EXPECT_FALSE(t.sack_due());  // first packet since the last SACK
  EXPECT_EQ(*t.deadline(), kT0 + milliseconds(50) + kDelay);
}

TEST(DataTracker, ZeroDelayAcksEveryPacket) {
  DataTracker t(Tsn(1), Duration::zero());
  packet(t, {1});
  EXPECT_TRUE(t.sack_due());
}

// RFC 6458 SCTP_DELAYED_SACK sack_freq: a SACK goes at once every sack_freq-th
// packet; 1 turns delayed acknowledgement off.
TEST(DataTracker, SackFrequencyOfOneAcksEveryPacket) {
  DataTracker t(Tsn(0), kDelay, 1);
  settle(t);
  for (uint32_t tsn = 1; tsn <= 3; ++tsn) {
    packet(t, {tsn});
    EXPECT_TRUE(t.sack_due()) << tsn;
    t.make_sack(5000);
  }
}

TEST(DataTracker, SackFrequencyOfThreeAcksEveryThirdPacket) {
  DataTracker t(Tsn(0), kDelay, 3);
  settle(t);
  packet(t, {1});
  EXPECT_FALSE(t.sack_due());
  packet(t, {2});
  EXPECT_FALSE(t.sack_due());  // the default (2) would have acknowledged here
  EXPECT_EQ(*t.deadline(), kT0 + kDelay);
  packet(t, {3});
  EXPECT_TRUE(t.sack_due());
  EXPECT_EQ(t.make_sack(5000).cum_tsn_ack, Tsn(3));
}

TEST(DataTracker, ImmediateBitForcesSack) {
  // RFC 7053: the I bit asks for the SACK without delay.
  DataTracker t(Tsn(1), kDelay);
  packet(t, {1}, kT0, /*immediate=*/true);
  EXPECT_TRUE(t.sack_due());
}

TEST(DataTracker, RequestSack) {
  DataTracker t(Tsn(0), kDelay);
  settle(t);  // past the first DATA, which is acknowledged at once
  packet(t, {1});
  EXPECT_FALSE(t.sack_due());
  t.request_sack();
  EXPECT_TRUE(t.sack_due());
}

// RFC 9260 §3.3.4 example: received 10, 11, 12, 14, 15, 17 (13 and 16 missing),
// a_rwnd 4660 -> Cumulative TSN Ack 12, blocks (2,3) and (5,5), no duplicates.
TEST(DataTracker, RfcSackExample) {
  DataTracker t(Tsn(10), kDelay);
  for (uint32_t v : {10u, 11u, 12u, 14u, 15u, 17u}) EXPECT_TRUE(t.observe(Tsn(v)));
  t.on_packet_end(kT0, false);
  EXPECT_EQ(t.cumulative_tsn(), Tsn(12));
  EXPECT_EQ(t.gap_tsn_count(), 3u);
  EXPECT_EQ(t.highest_received(), Tsn(17));
  EXPECT_TRUE(t.sack_due());  // gaps: at once (§6.7)

  auto sack = t.make_sack(4660);
  EXPECT_EQ(sack.cum_tsn_ack, Tsn(12));
  EXPECT_EQ(sack.a_rwnd, 4660u);
  ASSERT_EQ(sack.gap_blocks.size(), 2u);
  EXPECT_EQ(sack.gap_blocks[0], (GapAckBlock{2, 3}));
  EXPECT_EQ(sack.gap_blocks[1], (GapAckBlock{5, 5}));
  EXPECT_TRUE(sack.dup_tsns.empty());
  EXPECT_EQ(sack.size(), 16u + 8u);
}

TEST(DataTracker, DuplicatesReportedOncePerExtraCopy) {
  // RFC 9260 §3.3.4: a TSN appears in the list for each time it is received after
  // the first; §6.2: a packet with only duplicates is acknowledged at once.
  DataTracker t(Tsn(10), kDelay);
  packet(t, {10, 11, 12, 14});
  t.make_sack(1000);

  EXPECT_FALSE(t.observe(Tsn(11)));  // at or below cum
  EXPECT_FALSE(t.observe(Tsn(11)));
  EXPECT_FALSE(t.observe(Tsn(14)));  // in a gap block
  t.on_packet_end(kT0, false);
  EXPECT_TRUE(t.sack_due());
  auto sack = t.make_sack(1000);
  EXPECT_EQ(sack.cum_tsn_ack, Tsn(12));
  ASSERT_EQ(sack.gap_blocks.size(), 1u);
  EXPECT_EQ(sack.gap_blocks[0], (GapAckBlock{2, 2}));
  EXPECT_EQ(sack.dup_tsns, (std::vector<Tsn>{Tsn(11), Tsn(11), Tsn(14)}));

  // The list is reset after each SACK.
  EXPECT_TRUE(t.make_sack(1000).dup_tsns.empty());
}

TEST(DataTracker, DuplicateOnlyPacketIsAckedAtOnceWithoutGaps) {
  DataTracker t(Tsn(1), kDelay);
  packet(t, {1, 2});
  t.make_sack(1000);
  packet(t, {2});
  EXPECT_TRUE(t.sack_due());
  EXPECT_EQ(t.make_sack(1000).dup_tsns, std::vector<Tsn>{Tsn(2)});
}

TEST(DataTracker, DuplicateBundledWithNewDataIsAckedAtOnce) {
  DataTracker t(Tsn(1), kDelay);
  packet(t, {1});
  t.make_sack(1000);
  packet(t, {1, 2});
  EXPECT_TRUE(t.sack_due());
}

TEST(DataTracker, ImmediateSackWhenGapAppearsChangesAndIsFilled) {
  DataTracker t(Tsn(0), kDelay);
  settle(t);  // past the first DATA, which is acknowledged at once
  packet(t, {1});
  EXPECT_FALSE(t.sack_due());

  packet(t, {3});  // 2 missing: gap created
  EXPECT_TRUE(t.sack_due());
  auto s1 = t.make_sack(1000);
  EXPECT_EQ(s1.cum_tsn_ack, Tsn(1));
  EXPECT_EQ(s1.gap_blocks, (std::vector<GapAckBlock>{{2, 2}}));

  packet(t, {5});  // gap changed
  EXPECT_TRUE(t.sack_due());
  EXPECT_EQ(t.make_sack(1000).gap_blocks, (std::vector<GapAckBlock>{{2, 2}, {4, 4}}));

  packet(t, {2});  // first hole filled, second still open
  EXPECT_TRUE(t.sack_due());
  auto s3 = t.make_sack(1000);
  EXPECT_EQ(s3.cum_tsn_ack, Tsn(3));
  EXPECT_EQ(s3.gap_blocks, (std::vector<GapAckBlock>{{2, 2}}));

  packet(t, {4});  // last hole filled: tell the sender at once
  EXPECT_TRUE(t.sack_due());
  auto s4 = t.make_sack(1000);
  EXPECT_EQ(s4.cum_tsn_ack, Tsn(5));
  EXPECT_TRUE(s4.gap_blocks.empty());

  packet(t, {6});  // back to delayed acks
  EXPECT_FALSE(t.sack_due());
  EXPECT_TRUE(t.deadline().has_value());
}

TEST(DataTracker, TsnWrapsAcrossZero) {
  DataTracker t(Tsn(0xFFFFFFFE), kDelay);
  EXPECT_EQ(t.cumulative_tsn(), Tsn(0xFFFFFFFD));
  packet(t, {0xFFFFFFFE, 1});  // 0xFFFFFFFF and 0 missing
  EXPECT_EQ(t.cumulative_tsn(), Tsn(0xFFFFFFFE));
  auto s = t.make_sack(1);
  EXPECT_EQ(s.gap_blocks, (std::vector<GapAckBlock>{{3, 3}}));
  EXPECT_TRUE(t.is_received(Tsn(1)));
  EXPECT_FALSE(t.is_received(Tsn(0)));
  EXPECT_EQ(t.highest_received(), Tsn(1));

  packet(t, {0});
  EXPECT_EQ(t.make_sack(1).gap_blocks, (std::vector<GapAckBlock>{{2, 3}}));
  packet(t, {0xFFFFFFFF});
  EXPECT_EQ(t.cumulative_tsn(), Tsn(1));
  EXPECT_EQ(t.gap_tsn_count(), 0u);
  EXPECT_TRUE(t.make_sack(1).gap_blocks.empty());
  packet(t, {2, 3});
  EXPECT_EQ(t.cumulative_tsn(), Tsn(3));
  EXPECT_FALSE(t.observe(Tsn(0xFFFFFFFF)));  // old: a duplicate
}

TEST(DataTracker, RefusesTsnsBeyondWindow) {
  DataTracker t(Tsn(100), kDelay);
  EXPECT_EQ(t.classify(Tsn(100), 10), DataTracker::Verdict::New);
  EXPECT_EQ(t.classify(Tsn(109), 10), DataTracker::Verdict::New);  // cum 99 + 10
  EXPECT_EQ(t.classify(Tsn(110), 10), DataTracker::Verdict::OutOfWindow);
  EXPECT_FALSE(t.observe(Tsn(110), 10));
  EXPECT_EQ(t.gap_tsn_count(), 0u);
  EXPECT_FALSE(t.is_received(Tsn(110)));
  EXPECT_TRUE(t.observe(Tsn(109), 10));
  EXPECT_EQ(t.classify(Tsn(109), 10), DataTracker::Verdict::Duplicate);
  EXPECT_EQ(t.classify(Tsn(99), 10), DataTracker::Verdict::Duplicate);
  t.on_packet_end(kT0, false);
  // A refused TSN is neither a duplicate nor a gap.
  EXPECT_TRUE(t.make_sack(1).dup_tsns.empty());
  // Far behind (older than half the TSN space from cum) counts as old.
  EXPECT_EQ(t.classify(Tsn(99 - 0x7FFFFFFF), 10), DataTracker::Verdict::Duplicate);
}

TEST(DataTracker, DuplicateStormIsBounded) {
  DataTracker t(Tsn(1), kDelay);
  packet(t, {1, 2, 3, 5});
  for (int i = 0; i < 100000; ++i) {
    EXPECT_FALSE(t.observe(Tsn(i % 2 == 0 ? 2 : 5)));
    if (i % 10 == 0) t.on_packet_end(kT0, false);
  }
  t.on_packet_end(kT0, false);
  EXPECT_EQ(t.duplicate_count(), DataTracker::kMaxDuplicates);
  EXPECT_TRUE(t.sack_due());
  auto s = t.make_sack(100000);
  EXPECT_EQ(s.dup_tsns.size(), DataTracker::kMaxDuplicates);
  EXPECT_EQ(t.duplicate_count(), 0u);
  EXPECT_EQ(t.gap_block_count(), 1u);
}

TEST(DataTracker, SackFitsMaxBytesGapBlocksFirst) {
  DataTracker t(Tsn(1), kDelay);
  // 1000 isolated TSNs above cum: 1000 gap blocks.
  for (uint32_t i = 0; i < 1000; ++i) t.observe(Tsn(3 + 2 * i));
  for (int i = 0; i < 10; ++i) t.observe(Tsn(3));  // and some duplicates
  t.on_packet_end(kT0, false);
  EXPECT_EQ(t.gap_block_count(), 1000u);
  auto s = t.make_sack(1000, 1200);
  EXPECT_LE(s.size(), 1200u);
  EXPECT_EQ(s.gap_blocks.size(), (1200u - 16u) / 4u);
  EXPECT_TRUE(s.dup_tsns.empty());
  EXPECT_EQ(s.gap_blocks.front(), (GapAckBlock{3, 3}));  // cum is 0
  EXPECT_EQ(s.gap_blocks.back(), (GapAckBlock{593, 593}));

  // Room left after the blocks goes to duplicates.
  DataTracker u(Tsn(1), kDelay);
  u.observe(Tsn(3));
  for (int i = 0; i < 10; ++i) u.observe(Tsn(3));
  u.on_packet_end(kT0, false);
  auto s2 = u.make_sack(1000, 16 + 4 + 4 * 4);
  EXPECT_EQ(s2.gap_blocks.size(), 1u);
  EXPECT_EQ(s2.dup_tsns.size(), 4u);

  // Even a tiny budget yields a valid (block-less) SACK.
  DataTracker w(Tsn(1), kDelay);
  w.observe(Tsn(5));
  auto s3 = w.make_sack(1, 0);
  EXPECT_EQ(s3.cum_tsn_ack, Tsn(0));
  EXPECT_TRUE(s3.gap_blocks.empty());
}

TEST(DataTracker, GapOffsetsBeyond16BitsAreClampedOrLeftOut) {
  DataTracker t(Tsn(1), kDelay);
  // cum = 0. Block [65530, 65540] straddles the 16-bit limit; [70000] is beyond it.
  for (uint32_t v = 65530; v <= 65540; ++v) t.observe(Tsn(v));
  t.observe(Tsn(70000));
  t.on_packet_end(kT0, false);
  auto s = t.make_sack(1);
  EXPECT_EQ(s.gap_blocks, (std::vector<GapAckBlock>{{65530, 65535}}));
}

TEST(DataTracker, MatchesReferenceModelUnderRandomArrival) {
  std::mt19937 rng(7);
  for (uint32_t start : {1u, 0xFFFFFF00u}) {
    DataTracker t(Tsn(start), kDelay);
    std::vector<uint32_t> order(600);
    std::iota(order.begin(), order.end(), 0u);
    // Local reordering: shuffle within windows of 40, plus some duplicates.
    for (size_t i = 0; i < order.size(); i += 40)
      std::shuffle(order.begin() + i, order.begin() + std::min(order.size(), i + 40), rng);
    std::set<uint32_t> seen;
    for (size_t i = 0; i < order.size(); ++i) {
      uint32_t off = order[i];
      bool fresh = seen.insert(off).second;
      EXPECT_EQ(t.observe(Tsn(start + off)), fresh);
      if (rng() % 7 == 0) {
        EXPECT_FALSE(t.observe(Tsn(start + order[rng() % (i + 1)])));
      }
      if (i % 3 == 2) t.on_packet_end(kT0, false);

      uint32_t cum_off = 0;
      while (seen.count(cum_off)) ++cum_off;
      EXPECT_EQ(t.cumulative_tsn(), Tsn(start + cum_off - 1));
      auto s = t.make_sack(0, 100000);
      // Rebuild the received set from the SACK and compare.
      std::set<uint32_t> from_sack;
      for (const auto& b : s.gap_blocks) {
        ASSERT_LE(b.start, b.end);
        for (uint32_t k = b.start; k <= b.end; ++k) from_sack.insert(cum_off - 1 + k);
      }
      std::set<uint32_t> above(seen.upper_bound(cum_off), seen.end());
      ASSERT_EQ(from_sack, above);
      EXPECT_EQ(t.gap_tsn_count(), above.size());
    }
    EXPECT_EQ(t.cumulative_tsn(), Tsn(start + 599));
    EXPECT_EQ(t.gap_block_count(), 0u);
  }
}

}  // namespace
}  // namespace sctpp
