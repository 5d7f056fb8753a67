#include "assoc/tx/retransmission_queue.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace sctpp {
namespace {

using std::chrono::milliseconds;
using wire::GapAckBlock;

const Instant kT0 = Instant{} + std::chrono::seconds(100);

OutgoingData payload(size_t len) {
  OutgoingData d;
  d.message = std::make_shared<const std::vector<uint8_t>>(len, uint8_t{0xAB});
  d.length = len;
  d.beginning = d.ending = true;
  return d;
}

// A chunk that counts `flight` bytes in the flight (a multiple of 4, at least 20):
// the 16-byte DATA chunk header and its payload. The byte counts below are then
// those of the wire.
OutgoingData chunk(size_t flight) {
  return payload(flight - wire::DataChunk::kHeaderSize);
}
constexpr size_t kPayload100 = 100 - wire::DataChunk::kHeaderSize;

wire::SackChunk sack(uint32_t cum, std::vector<GapAckBlock> gaps = {}) {
  wire::SackChunk s;
  s.cum_tsn_ack = Tsn(cum);
  s.a_rwnd = 1 << 20;
  s.gap_blocks = std::move(gaps);
  return s;
}

void send(RetransmissionQueue& q, int n, size_t len = 100, Instant at = kT0) {
  for (int i = 0; i < n; ++i) q.add(chunk(len), at, 0);
}

TEST(RetransmissionQueue, AssignsConsecutiveTsns) {
  RetransmissionQueue q(Tsn(1000));
  EXPECT_EQ(q.cum_tsn_ack(), Tsn(999));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.add(chunk(100), kT0, 0), Tsn(1000));
  EXPECT_EQ(q.add(chunk(200), kT0, 0), Tsn(1001));
  EXPECT_EQ(q.next_tsn(), Tsn(1002));
  EXPECT_EQ(q.outstanding_bytes(), 300u);
  EXPECT_EQ(q.unacked_count(), 2u);
  EXPECT_EQ(q.oldest_in_flight(), kT0);
}

// RFC 9260 §6.1 B and §7.2: the flight is what the chunks take on the wire, header
// and padding included, so that a sender of tiny messages keeps to its cwnd; the
// peer's receive window is charged with the payload only.
TEST(RetransmissionQueue, FlightCountsChunkHeaderAndPaddingAndRwndThePayload) {
  RetransmissionQueue q(Tsn(1));
  q.add(payload(1), kT0, 0);    // 16 + 1, padded to 20
  q.add(payload(4), kT0, 0);    // 16 + 4 = 20
  q.add(payload(5), kT0, 1);    // 16 + 5, padded to 24
  q.add(payload(100), kT0, 1);  // 116
  EXPECT_EQ(q.outstanding_bytes(), 180u);
  EXPECT_EQ(q.outstanding_bytes(0), 40u);
  EXPECT_EQ(q.outstanding_bytes(1), 140u);
  EXPECT_EQ(q.outstanding_payload(), 110u);
  EXPECT_EQ(q.unacked_bytes(), 110u);  // the send buffer holds payload

  auto r = q.handle_sack(sack(1, {{2, 2}}), kT0);  // TSN 1 cumulatively, TSN 3 by gap
  EXPECT_EQ(r.bytes_acked, 44u);
  EXPECT_EQ(q.path_ack(0).bytes_acked, 20u);
  EXPECT_EQ(q.path_ack(1).bytes_acked, 24u);
  EXPECT_EQ(q.outstanding_bytes(), 136u);
  EXPECT_EQ(q.outstanding_payload(), 104u);

  q.mark_all_for_retransmit();  // waiting chunks are out of the flight, both ways
  EXPECT_EQ(q.outstanding_bytes(), 0u);
  EXPECT_EQ(q.outstanding_payload(), 0u);
  EXPECT_EQ(q.next_retransmission_size(), 4u);  // payload: what must fit in a packet
  ASSERT_TRUE(q.take_retransmission(kT0, 1));
  EXPECT_EQ(q.outstanding_bytes(1), 20u);
  EXPECT_EQ(q.outstanding_payload(), 4u);
}

TEST(RetransmissionQueue, CumulativeAckRemovesAndCountsBytes) {
  RetransmissionQueue q(Tsn(1000));
  send(q, 5);
  auto r = q.handle_sack(sack(1002), kT0 + milliseconds(10));
  EXPECT_TRUE(r.accepted);
  EXPECT_TRUE(r.cum_advanced);
  EXPECT_EQ(r.bytes_acked, 300u);
  EXPECT_EQ(q.outstanding_bytes(), 200u);
  EXPECT_EQ(q.unacked_count(), 2u);
  EXPECT_EQ(q.cum_tsn_ack(), Tsn(1002));

  r = q.handle_sack(sack(1004), kT0 + milliseconds(20));
  EXPECT_EQ(r.bytes_acked, 200u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.outstanding_bytes(), 0u);
  EXPECT_FALSE(q.oldest_in_flight().has_value());
}

TEST(RetransmissionQueue, OldDuplicateAndBogusSacksChangeNothing) {
  RetransmissionQueue q(Tsn(1000));
  send(q, 5);
  q.handle_sack(sack(1002), kT0);

  auto old = q.handle_sack(sack(1001), kT0);  // reordered, older
  EXPECT_FALSE(old.accepted);
  auto dup = q.handle_sack(sack(1002), kT0);  // same again
  EXPECT_TRUE(dup.accepted);
  EXPECT_FALSE(dup.cum_advanced);
  EXPECT_EQ(dup.bytes_acked, 0u);
  EXPECT_FALSE(dup.rtt.has_value());
  auto future = q.handle_sack(sack(1005), kT0);  // acks a TSN never sent
  EXPECT_FALSE(future.accepted);

  EXPECT_EQ(q.cum_tsn_ack(), Tsn(1002));
  EXPECT_EQ(q.outstanding_bytes(), 200u);
  EXPECT_EQ(q.unacked_count(), 2u);
}

TEST(RetransmissionQueue, GapBlocksAckWithoutRemoving) {
  RetransmissionQueue q(Tsn(1000));
  send(q, 5);
  auto r = q.handle_sack(sack(999, {{2, 3}}), kT0);  // TSNs 1001-1002
  EXPECT_TRUE(r.accepted);
  EXPECT_FALSE(r.cum_advanced);
  EXPECT_EQ(r.bytes_acked, 200u);
  EXPECT_EQ(q.outstanding_bytes(), 300u);
  EXPECT_EQ(q.unacked_count(), 5u);

  EXPECT_EQ(q.handle_sack(sack(999, {{2, 3}}), kT0).bytes_acked, 0u);

  // The cum ack then only counts what was not gap-acked already (1000 and 1003).
  r = q.handle_sack(sack(1003), kT0);
  EXPECT_EQ(r.bytes_acked, 200u);
  EXPECT_EQ(q.path_ack(0).flight_before, 300u);
  EXPECT_EQ(q.outstanding_bytes(), 100u);
  EXPECT_EQ(q.unacked_count(), 1u);
}

TEST(RetransmissionQueue, MalformedGapBlocksAreIgnored) {
  RetransmissionQueue q(Tsn(1));
  send(q, 3);
  EXPECT_EQ(q.handle_sack(sack(0, {{0, 1}}), kT0).bytes_acked, 0u);  // offset 0
  EXPECT_EQ(q.handle_sack(sack(0, {{3, 2}}), kT0).bytes_acked, 0u);  // start > end
  // Beyond the highest TSN sent: only the part that exists counts.
  EXPECT_EQ(q.handle_sack(sack(0, {{3, 9}}), kT0).bytes_acked, 100u);
  // Overlapping / descending blocks after the first are skipped.
  EXPECT_EQ(q.handle_sack(sack(0, {{3, 3}, {2, 3}}), kT0).bytes_acked, 0u);
  EXPECT_EQ(q.outstanding_bytes(), 200u);
}

TEST(RetransmissionQueue, RenegedChunksAreOutstandingAgain) {
  RetransmissionQueue q(Tsn(1000));
  send(q, 5);
  q.handle_sack(sack(999, {{2, 3}}), kT0);
  EXPECT_EQ(q.outstanding_bytes(), 300u);
  // The peer dropped 1002 (it still has 1001).
  auto r = q.handle_sack(sack(999, {{2, 2}}), kT0);
  EXPECT_EQ(r.bytes_acked, 0u);
  EXPECT_EQ(q.outstanding_bytes(), 400u);
  EXPECT_TRUE(q.path_ack(0).reneged);  // §6.3.2 R4: the path's T3-rtx must run
  // A SACK that takes nothing back says so.
  q.handle_sack(sack(999, {{2, 2}}), kT0);
  EXPECT_FALSE(q.path_ack(0).reneged);
  // ... and then everything.
  q.handle_sack(sack(999), kT0);
  EXPECT_TRUE(q.path_ack(0).reneged);
  EXPECT_EQ(q.outstanding_bytes(), 500u);
  // Reneged chunks are retransmitted on T3 like any outstanding chunk.
  q.mark_all_for_retransmit();
  int n = 0;
  while (q.take_retransmission(kT0, 0)) ++n;
  EXPECT_EQ(n, 5);
}

// RFC 9260 §3.3.8: a SHUTDOWN's Cumulative TSN Ack comes without Gap Ack Blocks, and
// their absence there is not a renege (soak seed 1196161 hung on that).
TEST(RetransmissionQueue, ShutdownCumAckKeepsGapAckedChunksAcked) {
  RetransmissionQueue q(Tsn(1000));
  send(q, 6);
  q.handle_sack(sack(999, {{3, 5}}), kT0);  // 1002-1004 gap-acked; 1000, 1001, 1005 missing
  EXPECT_EQ(q.outstanding_bytes(), 300u);

  // Same cumulative point: nothing changes.
  auto r = q.handle_cum_ack(Tsn(999));
  EXPECT_TRUE(r.accepted);
  EXPECT_FALSE(r.cum_advanced);
  EXPECT_EQ(r.bytes_acked, 0u);
  EXPECT_EQ(q.outstanding_bytes(), 300u);
  EXPECT_EQ(q.unacked_count(), 6u);

  // Advancing it acks 1000 only; 1002-1004 stay acked, and are not resent on T3.
  r = q.handle_cum_ack(Tsn(1000));
  EXPECT_TRUE(r.accepted);
  EXPECT_TRUE(r.cum_advanced);
  EXPECT_EQ(r.bytes_acked, 100u);
  EXPECT_EQ(q.path_ack(0).flight_before, 300u);
  EXPECT_FALSE(r.fast_retransmit);
  EXPECT_FALSE(r.rtt.has_value());
  EXPECT_EQ(q.cum_tsn_ack(), Tsn(1000));
  EXPECT_EQ(q.outstanding_bytes(), 200u);
  q.mark_all_for_retransmit();
  std::vector<uint32_t> resent;
  while (auto t = q.take_retransmission(kT0, 0)) resent.push_back(t->tsn.value());
  EXPECT_EQ(resent, (std::vector<uint32_t>{1001, 1005}));

  // Old or impossible cumulative points are refused, as in a SACK.
  EXPECT_FALSE(q.handle_cum_ack(Tsn(999)).accepted);
  EXPECT_FALSE(q.handle_cum_ack(Tsn(1006)).accepted);
  // Past the gap-acked chunks: they leave without being counted twice.
  r = q.handle_cum_ack(Tsn(1004));
  EXPECT_EQ(r.bytes_acked, 100u);  // 1001 only
  EXPECT_EQ(q.unacked_count(), 1u);
  EXPECT_EQ(q.outstanding_bytes(), 100u);  // 1005
}

TEST(RetransmissionQueue, RttSampleFromChunkSentOnce) {
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);
  q.add(chunk(100), kT0 + milliseconds(10), 0);
  auto r = q.handle_sack(sack(1), kT0 + milliseconds(50));
  ASSERT_TRUE(r.rtt.has_value());
  EXPECT_EQ(*r.rtt, milliseconds(50));

  // Karn: TSN 2 is retransmitted, so its ack is ambiguous and gives no sample.
  q.mark_all_for_retransmit();
  q.take_retransmission(kT0 + milliseconds(100), 0);
  r = q.handle_sack(sack(2), kT0 + milliseconds(120));
  EXPECT_TRUE(r.accepted);
  EXPECT_FALSE(r.rtt.has_value());
}

TEST(RetransmissionQueue, OneRttSamplePerRoundTripPerPath) {
  // RFC 9260 §6.3.1 C4: at most one measurement per round trip per destination. The
  // first chunk sent is timed; the chunks sent while it is out are not.
  RetransmissionQueue q(Tsn(1));
  for (int i = 0; i < 4; ++i) q.add(chunk(100), kT0 + milliseconds(10 * i), 0);
  auto r = q.handle_sack(sack(2), kT0 + milliseconds(50));
  ASSERT_TRUE(r.rtt);
  EXPECT_EQ(*r.rtt, milliseconds(50));  // TSN 1
  EXPECT_EQ(r.rtt_path, 0u);
  EXPECT_FALSE(q.handle_sack(sack(4), kT0 + milliseconds(60)).rtt);  // 3 and 4 untimed
  // The next chunk sent after the sample is timed: one sample per round trip.
  q.add(chunk(100), kT0 + milliseconds(70), 0);  // 5
  q.add(chunk(100), kT0 + milliseconds(75), 0);  // 6
  r = q.handle_sack(sack(6), kT0 + milliseconds(100));
  ASSERT_TRUE(r.rtt);
  EXPECT_EQ(*r.rtt, milliseconds(30));  // TSN 5
}

TEST(RetransmissionQueue, EachPathTimesItsOwnChunk) {
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);                    // 1: timed on path 0
  q.add(chunk(100), kT0 + milliseconds(5), 1);  // 2: timed on path 1
  q.add(chunk(100), kT0 + milliseconds(6), 0);  // 3: path 0 is timing already
  auto r = q.handle_sack(sack(1), kT0 + milliseconds(40));
  ASSERT_TRUE(r.rtt);
  EXPECT_EQ(*r.rtt, milliseconds(40));
  EXPECT_EQ(r.rtt_path, 0u);
  r = q.handle_sack(sack(3), kT0 + milliseconds(50));
  ASSERT_TRUE(r.rtt);
  EXPECT_EQ(*r.rtt, milliseconds(45));  // TSN 2, not TSN 3
  EXPECT_EQ(r.rtt_path, 1u);
}

TEST(RetransmissionQueue, FlightAndAcknowledgementsAreCountedPerPath) {
  // RFC 9260 §6.1 B limits what is outstanding to each transport address; §7.2.1-2
  // grow each address's cwnd with what was acknowledged of the data sent to it.
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);  // 1
  q.add(chunk(200), kT0, 0);  // 2
  q.add(chunk(400), kT0, 1);  // 3
  q.add(chunk(800), kT0, 1);  // 4
  EXPECT_EQ(q.outstanding_bytes(0), 300u);
  EXPECT_EQ(q.outstanding_bytes(1), 1200u);
  EXPECT_EQ(q.outstanding_bytes(2), 0u);  // a path never used

  // TSN 1 cumulatively, TSN 3 by a gap block.
  auto r = q.handle_sack(sack(1, {{2, 2}}), kT0 + milliseconds(10));
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(q.path_ack(0).bytes_acked, 100u);
  EXPECT_EQ(q.path_ack(0).flight_before, 300u);
  EXPECT_EQ(q.path_ack(1).bytes_acked, 400u);
  EXPECT_EQ(q.path_ack(1).flight_before, 1200u);
  EXPECT_EQ(q.outstanding_bytes(0), 200u);
  EXPECT_EQ(q.outstanding_bytes(1), 800u);

  // T3: everything in flight is marked; TSN 2 (sent on path 0) is resent on path 1
  // and its flight moves with it.
  q.mark_all_for_retransmit();
  EXPECT_EQ(q.outstanding_bytes(0), 0u);
  EXPECT_EQ(q.outstanding_bytes(1), 0u);
  auto rtx = q.take_retransmission(kT0 + milliseconds(20), 1);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->tsn, Tsn(2));
  EXPECT_EQ(q.outstanding_bytes(0), 0u);
  EXPECT_EQ(q.outstanding_bytes(1), 200u);

  // Its acknowledgement counts for path 1; a SACK that acks nothing sent on path 0
  // gives it nothing. The peer reneges on TSN 3: back in flight on its path.
  r = q.handle_sack(sack(2), kT0 + milliseconds(30));
  EXPECT_EQ(q.path_ack(0).bytes_acked, 0u);
  EXPECT_EQ(q.path_ack(1).bytes_acked, 200u);
  EXPECT_EQ(q.outstanding_bytes(1), 400u);  // TSN 3 reneged (TSN 4 is still marked)
}

TEST(RetransmissionQueue, APathsTimeoutMarksOnlyWhatWasSentThere) {
  // §6.3.3 E3: the chunks sent to the address whose T3-rtx expired.
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);  // 1
  q.add(chunk(100), kT0, 1);  // 2
  q.add(chunk(100), kT0, 0);  // 3: gap-acked below, so not outstanding
  q.add(chunk(100), kT0, 1);  // 4
  q.handle_sack(sack(0, {{3, 3}}), kT0);
  q.mark_for_retransmit(0);
  EXPECT_EQ(q.outstanding_bytes(0), 0u);
  EXPECT_EQ(q.outstanding_bytes(1), 200u);
  auto r = q.take_retransmission(kT0, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tsn, Tsn(1));
  EXPECT_FALSE(q.take_retransmission(kT0, 1));  // 2 and 4 stay in flight, 3 is acked
}

TEST(RetransmissionQueue, TheCumulativeAckNamesThePathsWhoseEarliestChunkItAcked) {
  // §6.3.2 R3: restart an address's T3-rtx when its earliest outstanding chunk is
  // acknowledged; a SACK that only passes another path's chunks does not.
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);  // 1
  q.add(chunk(100), kT0, 1);  // 2
  q.add(chunk(100), kT0, 0);  // 3
  q.handle_sack(sack(1), kT0);
  EXPECT_TRUE(q.path_ack(0).earliest_acked);
  EXPECT_FALSE(q.path_ack(1).earliest_acked);
  q.handle_sack(sack(1, {{2, 2}}), kT0);  // TSN 3 by a gap block: not cumulative
  EXPECT_FALSE(q.path_ack(0).earliest_acked);
  q.handle_sack(sack(3), kT0);
  EXPECT_FALSE(q.path_ack(0).earliest_acked);  // TSN 3 was acked already
  EXPECT_TRUE(q.path_ack(1).earliest_acked);
}

TEST(RetransmissionQueue, AChunkAckedWhileMarkedCountsForNoPath) {
  // After a T3-rtx timeout the marked chunks are out of their path's flight; a late
  // SACK for them proves nothing about that path now (it may have just died).
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);
  q.add(chunk(100), kT0, 0);
  q.mark_for_retransmit(0);
  auto r = q.handle_sack(sack(2), kT0 + milliseconds(10));
  EXPECT_EQ(r.bytes_acked, 200u);  // the association's total still counts them
  EXPECT_EQ(q.path_ack(0).bytes_acked, 0u);
  EXPECT_EQ(q.path_ack(0).flight_before, 0u);
  EXPECT_FALSE(q.has_retransmissions());
}

TEST(RetransmissionQueue, FastRetransmitNamesThePathOfTheMissingChunk) {
  // §7.2.4 step 2: the cwnd cut applies to the address the missing chunk went to.
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 1);  // 1: lost
  for (int i = 0; i < 4; ++i) q.add(chunk(100), kT0, 0);
  q.handle_sack(sack(0, {{2, 2}}), kT0);
  q.handle_sack(sack(0, {{2, 3}}), kT0);
  auto r = q.handle_sack(sack(0, {{2, 4}}), kT0);
  ASSERT_TRUE(r.fast_retransmit);
  EXPECT_TRUE(q.path_ack(1).fast_retransmit);
  EXPECT_FALSE(q.path_ack(0).fast_retransmit);
  EXPECT_EQ(q.path_ack(0).bytes_acked, 100u);
  // The next SACK starts afresh.
  q.handle_sack(sack(0, {{2, 5}}), kT0);
  EXPECT_FALSE(q.path_ack(1).fast_retransmit);
}

TEST(RetransmissionQueue, KarnAResentTimedChunkGivesNoSampleAndANewChunkIsTimed) {
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);                     // 1: timed, then resent
  q.add(chunk(100), kT0 + milliseconds(10), 0);  // 2
  q.mark_all_for_retransmit();
  auto rtx = q.take_retransmission(kT0 + milliseconds(40), 0);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->tsn, Tsn(1));
  q.add(chunk(100), kT0 + milliseconds(50), 0);  // 3: timed in TSN 1's place
  q.add(chunk(100), kT0 + milliseconds(55), 0);  // 4
  // TSNs 3 and 4 arrive (gap-acked), TSN 1's retransmission not yet.
  auto r = q.handle_sack(sack(0, {{3, 4}}), kT0 + milliseconds(80));
  ASSERT_TRUE(r.rtt);
  EXPECT_EQ(*r.rtt, milliseconds(30));  // TSN 3, gap-acked
  // The ambiguous acknowledgement of TSN 1 gives nothing.
  EXPECT_FALSE(q.handle_sack(sack(4), kT0 + milliseconds(90)).rtt);
}

// §6.3.1 C5: a chunk timed before a lower TSN was retransmitted gives no sample (its
// SACK may have waited for the retransmission to fill the hole); the next new chunk
// is timed instead.
TEST(RetransmissionQueue, NoSampleFromAChunkSentBeforeALowerTsnWasResent) {
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);  // 1: timed, lost
  q.add(chunk(100), kT0, 0);  // 2: lost
  q.mark_all_for_retransmit();
  q.add(chunk(100), kT0 + milliseconds(10), 0);                   // 3: timed in TSN 1's place
  ASSERT_TRUE(q.take_retransmission(kT0 + milliseconds(20), 0));  // TSN 1 again
  ASSERT_TRUE(q.take_retransmission(kT0 + milliseconds(20), 0));  // TSN 2 again
  q.add(chunk(100), kT0 + milliseconds(30), 0);                   // 4: timed now
  // The SACK for TSN 3 comes only once the resent TSN 1 filled the hole.
  EXPECT_FALSE(q.handle_sack(sack(1, {{2, 2}}), kT0 + milliseconds(200)).rtt);
  auto r = q.handle_sack(sack(4), kT0 + milliseconds(250));
  ASSERT_TRUE(r.rtt);
  EXPECT_EQ(*r.rtt, milliseconds(220));  // TSN 4's
}

TEST(RetransmissionQueue, ExactlyOneFastRetransmitAfterThreeMissIndications) {
  RetransmissionQueue q(Tsn(1));
  send(q, 10);  // TSN 1 is lost, the rest arrive one by one
  EXPECT_FALSE(q.handle_sack(sack(0, {{2, 2}}), kT0).fast_retransmit);
  EXPECT_FALSE(q.handle_sack(sack(0, {{2, 3}}), kT0).fast_retransmit);
  // A duplicate SACK acks nothing new: under HTNA it is no miss indication.
  EXPECT_FALSE(q.handle_sack(sack(0, {{2, 3}}), kT0).fast_retransmit);
  EXPECT_FALSE(q.has_retransmissions());
  auto r = q.handle_sack(sack(0, {{2, 4}}), kT0);
  EXPECT_TRUE(r.fast_retransmit);
  EXPECT_EQ(q.path_ack(0).flight_before, 800u);
  EXPECT_TRUE(q.has_retransmissions());
  EXPECT_EQ(q.next_retransmission_size(), kPayload100);
  EXPECT_EQ(q.outstanding_bytes(), 600u);  // 10 - 3 gap-acked - 1 marked

  auto rtx = q.take_retransmission(kT0 + milliseconds(5), 0);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->tsn, Tsn(1));
  EXPECT_EQ(rtx->data.length, kPayload100);
  EXPECT_EQ(q.outstanding_bytes(), 700u);
  EXPECT_EQ(q.total_retransmissions(), 1u);
  EXPECT_FALSE(q.has_retransmissions());

  // More SACKs still missing TSN 1 (the retransmission is in flight): no second
  // fast retransmit of the same chunk.
  for (uint16_t end = 5; end <= 9; ++end) {
    EXPECT_FALSE(q.handle_sack(sack(0, {{2, end}}), kT0).fast_retransmit);
  }
  EXPECT_FALSE(q.has_retransmissions());
  auto done = q.handle_sack(sack(10), kT0 + milliseconds(50));
  EXPECT_EQ(done.bytes_acked, 200u);  // TSN 1 and TSN 10
  EXPECT_FALSE(done.rtt);             // TSN 1 was the timed chunk, and was resent (Karn)
  EXPECT_TRUE(q.empty());
}

TEST(RetransmissionQueue, MissIndicationsOnlyBelowHighestNewlyAcked) {
  RetransmissionQueue q(Tsn(1));
  send(q, 7);
  q.handle_sack(sack(0, {{5, 5}}), kT0);                   // 1-4 missing: one each
  q.handle_sack(sack(0, {{2, 2}, {5, 5}}), kT0);           // new: 2; only 1 is below it
  auto r = q.handle_sack(sack(0, {{2, 2}, {5, 6}}), kT0);  // new: 6
  EXPECT_TRUE(r.fast_retransmit);
  // Only TSN 1 has three; 3 and 4 have two.
  auto rtx = q.take_retransmission(kT0, 0);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->tsn, Tsn(1));
  EXPECT_FALSE(q.take_retransmission(kT0, 0).has_value());

  r = q.handle_sack(sack(0, {{2, 2}, {5, 7}}), kT0);  // new: 7
  EXPECT_TRUE(r.fast_retransmit);
  EXPECT_EQ(q.take_retransmission(kT0, 0)->tsn, Tsn(3));
  EXPECT_EQ(q.take_retransmission(kT0, 0)->tsn, Tsn(4));
  EXPECT_FALSE(q.has_retransmissions());
}

// §7.2.4: in Fast Recovery, a SACK that advances the cum ack gives a miss indication
// to every TSN reported missing, even above the highest TSN it newly acks.
class FastRecoveryMissCounting : public ::testing::TestWithParam<bool> {};

TEST_P(FastRecoveryMissCounting, CountsAllReportedMissingWhenCumAdvances) {
  const bool recovery = GetParam();
  RetransmissionQueue q(Tsn(1));
  send(q, 10);
  q.handle_sack(sack(0, {{2, 3}}), kT0);
  q.handle_sack(sack(0, {{2, 4}}), kT0);
  ASSERT_TRUE(q.handle_sack(sack(0, {{2, 5}}), kT0).fast_retransmit);
  if (recovery) {
    q.enter_fast_recovery();
    EXPECT_TRUE(q.in_fast_recovery());
  }
  ASSERT_EQ(q.take_retransmission(kT0, 0)->tsn, Tsn(1));
  EXPECT_FALSE(q.handle_sack(sack(0, {{2, 5}, {7, 7}}), kT0).fast_retransmit);  // 6: 1
  // TSN 1's retransmission arrives: the cum ack jumps to 5 and only TSN 1 is new.
  auto r = q.handle_sack(sack(5, {{2, 2}}), kT0);
  EXPECT_TRUE(r.cum_advanced);
  EXPECT_FALSE(r.fast_retransmit);
  EXPECT_FALSE(r.reached_recovery_exit);
  // TSN 8 is new: TSN 6 gets its third indication only if the previous SACK counted.
  r = q.handle_sack(sack(5, {{2, 3}}), kT0);
  EXPECT_EQ(r.fast_retransmit, recovery);
  EXPECT_EQ(q.has_retransmissions(), recovery);

  r = q.handle_sack(sack(10), kT0);
  EXPECT_EQ(r.reached_recovery_exit, recovery);
  EXPECT_FALSE(q.in_fast_recovery());
}

INSTANTIATE_TEST_SUITE_P(InAndOutOfRecovery, FastRecoveryMissCounting, ::testing::Bool());

TEST(RetransmissionQueue, RecoveryExitIsTheHighestTsnSentAtEntry) {
  RetransmissionQueue q(Tsn(1));
  send(q, 4);
  q.enter_fast_recovery();  // exit point: TSN 4
  send(q, 2);
  EXPECT_FALSE(q.handle_sack(sack(3), kT0).reached_recovery_exit);
  EXPECT_TRUE(q.in_fast_recovery());
  EXPECT_TRUE(q.handle_sack(sack(5), kT0).reached_recovery_exit);
  EXPECT_FALSE(q.in_fast_recovery());
  EXPECT_FALSE(q.handle_sack(sack(6), kT0).reached_recovery_exit);
}

TEST(RetransmissionQueue, T3MarksOutstandingAndRetransmitsLowestTsnFirst) {
  RetransmissionQueue q(Tsn(100));
  for (size_t len : {100, 200, 300, 400, 500}) q.add(chunk(len), kT0, 0);
  q.handle_sack(sack(99, {{2, 2}}), kT0);  // TSN 101 gap-acked
  q.enter_fast_recovery();
  q.mark_all_for_retransmit();
  EXPECT_FALSE(q.in_fast_recovery());
  EXPECT_EQ(q.outstanding_bytes(), 0u);
  EXPECT_FALSE(q.oldest_in_flight().has_value());
  EXPECT_TRUE(q.has_retransmissions());
  EXPECT_EQ(q.next_retransmission_size(), kPayload100);

  std::vector<uint32_t> order;
  Instant t = kT0 + std::chrono::seconds(3);
  while (auto r = q.take_retransmission(t, 1)) {
    order.push_back(r->tsn.value());
    EXPECT_EQ(r->data.length + wire::DataChunk::kHeaderSize, (r->tsn.value() - 99) * 100u);
    t += milliseconds(1);
  }
  EXPECT_EQ(order, (std::vector<uint32_t>{100, 102, 103, 104}));
  EXPECT_EQ(q.outstanding_bytes(), 1300u);
  EXPECT_EQ(q.total_retransmissions(), 4u);
  EXPECT_EQ(q.oldest_in_flight(), kT0 + std::chrono::seconds(3));
  EXPECT_FALSE(q.next_retransmission_size().has_value());
}

TEST(RetransmissionQueue, ChunkAckedWhileWaitingIsNotResent) {
  RetransmissionQueue q(Tsn(1));
  send(q, 3);
  q.mark_all_for_retransmit();
  auto r = q.handle_sack(sack(1, {{2, 2}}), kT0 + milliseconds(30));  // 1 and 3 arrived
  EXPECT_EQ(q.path_ack(0).flight_before, 0u);
  EXPECT_EQ(r.bytes_acked, 200u);
  EXPECT_EQ(q.outstanding_bytes(), 0u);
  auto rtx = q.take_retransmission(kT0, 0);
  ASSERT_TRUE(rtx);
  EXPECT_EQ(rtx->tsn, Tsn(2));
  EXPECT_FALSE(q.has_retransmissions());
}

TEST(RetransmissionQueue, TsnWrapAround) {
  RetransmissionQueue q(Tsn(0xFFFFFFFD));
  std::vector<uint32_t> tsns;
  for (int i = 0; i < 6; ++i) tsns.push_back(q.add(chunk(100), kT0, 0).value());
  EXPECT_EQ(tsns, (std::vector<uint32_t>{0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF, 0, 1, 2}));
  EXPECT_EQ(q.next_tsn(), Tsn(3));
  EXPECT_EQ(q.cum_tsn_ack(), Tsn(0xFFFFFFFC));

  auto r = q.handle_sack(sack(0xFFFFFFFF, {{2, 2}}), kT0);  // + TSN 1
  EXPECT_TRUE(r.accepted);
  EXPECT_EQ(r.bytes_acked, 400u);
  EXPECT_EQ(q.unacked_count(), 3u);
  EXPECT_EQ(q.outstanding_bytes(), 200u);

  EXPECT_FALSE(q.handle_sack(sack(0xFFFFFFFE), kT0).accepted);  // older, across the wrap
  EXPECT_FALSE(q.handle_sack(sack(3), kT0).accepted);           // never sent

  // Fast retransmit across the wrap: TSN 0 is missing; the SACK above that newly
  // acked TSN 1 was its first miss indication.
  send(q, 3);  // 3, 4, 5
  EXPECT_FALSE(q.handle_sack(sack(0xFFFFFFFF, {{2, 3}}), kT0).fast_retransmit);
  EXPECT_TRUE(q.handle_sack(sack(0xFFFFFFFF, {{2, 4}}), kT0).fast_retransmit);
  EXPECT_EQ(q.take_retransmission(kT0, 0)->tsn, Tsn(0));
  EXPECT_FALSE(q.has_retransmissions());

  r = q.handle_sack(sack(5), kT0);
  EXPECT_EQ(r.bytes_acked, 300u);  // 0, 4 and 5
  EXPECT_TRUE(q.empty());
}

TEST(RetransmissionQueue, OldestInFlightTracksSendTimes) {
  RetransmissionQueue q(Tsn(1));
  q.add(chunk(100), kT0, 0);
  q.add(chunk(100), kT0 + milliseconds(10), 0);
  q.add(chunk(100), kT0 + milliseconds(20), 0);
  EXPECT_EQ(q.oldest_in_flight(), kT0);
  q.handle_sack(sack(1), kT0);
  EXPECT_EQ(q.oldest_in_flight(), kT0 + milliseconds(10));
  q.mark_all_for_retransmit();
  EXPECT_FALSE(q.oldest_in_flight().has_value());
  q.take_retransmission(kT0 + milliseconds(100), 0);
  EXPECT_EQ(q.oldest_in_flight(), kT0 + milliseconds(100));
  q.take_retransmission(kT0 + milliseconds(101), 0);
  EXPECT_EQ(q.oldest_in_flight(), kT0 + milliseconds(100));
  q.handle_sack(sack(2), kT0);
  EXPECT_EQ(q.oldest_in_flight(), kT0 + milliseconds(101));
}

// A lossy peer that SACKs what it holds: every byte sent is acked exactly once, the
// flight size never exceeds what was sent, and everything drains.
TEST(RetransmissionQueue, RandomLossKeepsByteAccountingExact) {
  constexpr size_t kPaths = 3;  // chunks go out, and are resent, on random paths
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    const uint32_t init = 0xFFFFFF00u + seed;  // crosses the wrap
    RetransmissionQueue q{Tsn(init)};
    std::set<uint64_t> received;  // unwrapped: offset from init
    uint64_t cum = 0;             // offsets < cum are received
    size_t sent_bytes = 0, acked_bytes = 0, in_queue = 0;
    Instant now = kT0;
    auto build_sack = [&] {
      wire::SackChunk s = sack(init + static_cast<uint32_t>(cum) - 1);
      auto it = received.begin();
      while (it != received.end()) {
        uint64_t start = *it, end = *it;
        while (++it != received.end() && *it == end + 1) ++end;
        s.gap_blocks.push_back(
            {static_cast<uint16_t>(start - cum + 1), static_cast<uint16_t>(end - cum + 1)});
      }
      return s;
    };
    auto deliver = [&](Tsn tsn) {
      if (rng() % 10 < 3) return;  // lost
      uint64_t off = static_cast<uint32_t>(tsn.value() - init);
      if (off < cum) return;
      received.insert(off);
      while (!received.empty() && *received.begin() == cum) {
        received.erase(received.begin());
        ++cum;
      }
    };
    for (int round = 0; round < 400; ++round) {
      now += milliseconds(1);
      if (round < 300) {
        for (int i = rng() % 4; i > 0; --i) {
          OutgoingData d = payload(1 + rng() % 1200);
          sent_bytes += RetransmissionQueue::flight_size(d);
          ++in_queue;
          deliver(q.add(std::move(d), now, rng() % kPaths));
        }
      }
      while (auto r = q.take_retransmission(now, rng() % kPaths)) deliver(r->tsn);
      const size_t flight_before = q.outstanding_bytes();
      auto out = q.handle_sack(build_sack(), now);
      ASSERT_TRUE(out.accepted);
      acked_bytes += out.bytes_acked;
      ASSERT_LE(q.outstanding_bytes(), sent_bytes - acked_bytes) << "seed " << seed;
      // The paths' shares add up to the totals, before and after the SACK.
      size_t flight = 0, acked = 0, before = 0;
      for (size_t p = 0; p < kPaths; ++p) {
        flight += q.outstanding_bytes(p);
        acked += q.path_ack(p).bytes_acked;
        before += q.path_ack(p).flight_before;
      }
      ASSERT_EQ(flight, q.outstanding_bytes()) << "seed " << seed;
      ASSERT_EQ(acked, out.bytes_acked) << "seed " << seed;
      ASSERT_EQ(before, flight_before) << "seed " << seed;
      if (out.fast_retransmit && !q.in_fast_recovery()) q.enter_fast_recovery();
      if (rng() % 8 == 0) q.mark_all_for_retransmit();  // T3
    }
    // Drain with a lossless peer.
    for (int i = 0; i < 5 && !q.empty(); ++i) {
      q.mark_all_for_retransmit();
      while (auto r = q.take_retransmission(now, 0)) {
        uint64_t off = static_cast<uint32_t>(r->tsn.value() - init);
        if (off >= cum) received.insert(off);
      }
      while (!received.empty() && *received.begin() == cum) {
        received.erase(received.begin());
        ++cum;
      }
      acked_bytes += q.handle_sack(build_sack(), now).bytes_acked;
    }
    EXPECT_TRUE(q.empty()) << "seed " << seed;
    EXPECT_EQ(q.outstanding_bytes(), 0u);
    for (size_t p = 0; p < kPaths; ++p) EXPECT_EQ(q.outstanding_bytes(p), 0u);
    EXPECT_EQ(acked_bytes, sent_bytes) << "seed " << seed;
    EXPECT_EQ(cum, in_queue);
    EXPECT_GT(q.total_retransmissions(), 0u);
  }
}

}  // namespace
}  // namespace sctpp
