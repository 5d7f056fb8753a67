#include "assoc/rx/reassembly_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

namespace sctpp {
namespace {

using AR = ReassemblyQueue::AddResult;

// One DATA chunk plus the storage its payload span points into.
struct Chunk {
  wire::DataChunk c;
  std::vector<uint8_t> bytes;
};

Chunk make(uint32_t tsn, uint16_t stream, uint16_t ssn, bool b, bool e, std::vector<uint8_t> bytes,
           bool unordered = false, uint32_t ppid = 42) {
  Chunk k;
  k.bytes = std::move(bytes);
  k.c.tsn = Tsn(tsn);
  k.c.stream = StreamId(stream);
  k.c.ssn = Ssn(ssn);
  k.c.ppid = Ppid(ppid);
  k.c.beginning = b;
  k.c.ending = e;
  k.c.unordered = unordered;
  return k;
}

AR add(ReassemblyQueue& q, const Chunk& k, bool in_sequence = false) {
  wire::DataChunk c = k.c;
  c.payload = k.bytes;
  return q.add(c, 7, in_sequence);
}

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>((i * 131 + seed * 7919 + (i >> 8)) & 0xFF);
  return v;
}

// Splits `msg` into fragments of at most `frag` bytes with consecutive TSNs.
std::vector<Chunk> fragment(uint32_t first_tsn, uint16_t stream, uint16_t ssn,
                            const std::vector<uint8_t>& msg, size_t frag, bool unordered = false,
                            uint32_t ppid = 42) {
  std::vector<Chunk> out;
  size_t n = std::max<size_t>(1, (msg.size() + frag - 1) / frag);
  for (size_t i = 0; i < n; ++i) {
    size_t from = i * frag, to = std::min(msg.size(), from + frag);
    out.push_back(make(first_tsn + static_cast<uint32_t>(i), stream, ssn, i == 0, i == n - 1,
                       std::vector<uint8_t>(msg.begin() + static_cast<std::ptrdiff_t>(from),
                                            msg.begin() + static_cast<std::ptrdiff_t>(to)),
                       unordered, ppid));
  }
  return out;
}

constexpr size_t kMiB = 1024 * 1024;

TEST(ReassemblyQueue, SingleChunkMessageAndReceiveInfo) {
  ReassemblyQueue q(10, 4 * kMiB, 4 * kMiB);
  EXPECT_FALSE(q.has_message());
  EXPECT_FALSE(q.pop().has_value());
  ASSERT_EQ(add(q, make(1000, 3, 0, true, true, {1, 2, 3}, false, 99)), AR::Ok);
  EXPECT_EQ(q.buffered_bytes(), 3u);
  ASSERT_TRUE(q.has_message());
  EXPECT_EQ(q.ready_count(), 1u);
  auto m = q.pop();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->data, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(m->info.stream, 3);
  EXPECT_EQ(m->info.ssn, 0);
  EXPECT_EQ(m->info.ppid, 99u);
  EXPECT_EQ(m->info.tsn, 1000u);
  EXPECT_EQ(m->info.cumtsn, 0u);
  EXPECT_FALSE(m->info.unordered);
  EXPECT_EQ(m->info.assoc_id, 7u);
  EXPECT_EQ(q.buffered_bytes(), 0u);
  EXPECT_FALSE(q.has_message());
}

TEST(ReassemblyQueue, FragmentsInOrder) {
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  auto msg = pattern(3000, 1);
  auto frags = fragment(50, 0, 0, msg, 1200);
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_EQ(add(q, frags[0]), AR::Ok);
  EXPECT_EQ(add(q, frags[1]), AR::Ok);
  EXPECT_FALSE(q.has_message());
  EXPECT_EQ(q.buffered_bytes(), 2400u);
  EXPECT_EQ(q.partial_messages(), 1u);
  EXPECT_EQ(add(q, frags[2]), AR::Ok);
  auto m = q.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, msg);
  EXPECT_EQ(m->info.tsn, 50u);  // first fragment's TSN
  EXPECT_EQ(q.buffered_bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
}

TEST(ReassemblyQueue, FragmentsInEveryArrivalOrder) {
  auto msg = pattern(500, 2);
  auto frags = fragment(0xFFFFFFFE, 0, 0, msg, 100);  // 5 fragments, TSNs wrap past 0
  ASSERT_EQ(frags.size(), 5u);
  std::vector<size_t> order(frags.size());
  std::iota(order.begin(), order.end(), 0u);
  int perms = 0;
  do {
    ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
    for (size_t i = 0; i < order.size(); ++i) {
      ASSERT_EQ(add(q, frags[order[i]]), AR::Ok);
      EXPECT_EQ(q.has_message(), i + 1 == order.size());
    }
    auto m = q.pop();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data, msg);
    EXPECT_EQ(m->info.tsn, 0xFFFFFFFEu);
    EXPECT_EQ(q.buffered_bytes(), 0u);
    EXPECT_EQ(q.entries(), 0u);
    EXPECT_EQ(q.parked_fragments(), 0u);
    ++perms;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(perms, 120);
}

TEST(ReassemblyQueue, OneMebibyteMessageFromShuffledFragments) {
  auto msg = pattern(kMiB, 3);
  auto frags = fragment(0xFFFFFE00, 2, 0, msg, 1400);  // ~750 fragments across TSN wrap
  std::mt19937 rng(12345);
  std::shuffle(frags.begin(), frags.end(), rng);
  ReassemblyQueue q(4, 4 * kMiB, 4 * kMiB);
  for (size_t i = 0; i < frags.size(); ++i) {
    ASSERT_EQ(add(q, frags[i]), AR::Ok);
    EXPECT_EQ(q.has_message(), i + 1 == frags.size());
  }
  EXPECT_EQ(q.buffered_bytes(), kMiB);
  auto m = q.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data.size(), kMiB);
  EXPECT_TRUE(m->data == msg);
  EXPECT_EQ(m->info.stream, 2);
  EXPECT_EQ(m->info.tsn, 0xFFFFFE00u);
  EXPECT_EQ(q.buffered_bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
}

TEST(ReassemblyQueue, ReverseOrderLargeMessageIsLinear) {
  // Every fragment but the first arrives before its predecessor; all are parked in
  // one segment, then taken by the B fragment in one pass.
  auto msg = pattern(4 * kMiB, 4);
  auto frags = fragment(1, 0, 0, msg, 1400);
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  for (size_t i = frags.size(); i-- > 1;) ASSERT_EQ(add(q, frags[i]), AR::Ok);
  EXPECT_EQ(q.parked_fragments(), frags.size() - 1);
  ASSERT_EQ(add(q, frags[0]), AR::Ok);
  auto m = q.pop();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->data == msg);
  EXPECT_EQ(q.entries(), 0u);
}

TEST(ReassemblyQueue, PairwiseSwappedLargeMessage) {
  // 2, 1, 4, 3, ...: every odd fragment absorbs one parked fragment.
  auto msg = pattern(4 * kMiB, 8);
  auto frags = fragment(7, 0, 0, msg, 1400);
  for (size_t i = 0; i + 1 < frags.size(); i += 2) std::swap(frags[i], frags[i + 1]);
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  for (auto& f : frags) ASSERT_EQ(add(q, f), AR::Ok);
  auto m = q.pop();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->data == msg);
  EXPECT_LE(m->data.capacity(), 4 * kMiB);
  EXPECT_EQ(q.entries(), 0u);
}

TEST(ReassemblyQueue, OrderedMessagesWaitForEarlierSsn) {
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  ASSERT_EQ(add(q, make(3, 0, 2, true, true, {2})), AR::Ok);
  ASSERT_EQ(add(q, make(2, 0, 1, true, true, {1})), AR::Ok);
  EXPECT_FALSE(q.has_message());
  EXPECT_EQ(q.waiting_ordered(), 2u);
  EXPECT_EQ(q.buffered_bytes(), 2u);
  ASSERT_EQ(add(q, make(1, 0, 0, true, true, {0})), AR::Ok);
  EXPECT_EQ(q.ready_count(), 3u);
  EXPECT_EQ(q.waiting_ordered(), 0u);
  for (uint16_t s = 0; s < 3; ++s) {
    auto m = q.pop();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->info.ssn, s);
    EXPECT_EQ(m->data, std::vector<uint8_t>{static_cast<uint8_t>(s)});
  }
}

TEST(ReassemblyQueue, OrderedDeliveryAcrossSsnWrap) {
  ReassemblyQueue q(2, 4 * kMiB, 4 * kMiB);
  uint32_t tsn = 1;
  // Deliver SSN 0..65533 on stream 1.
  for (uint32_t s = 0; s < 65534; ++s) {
    ASSERT_EQ(add(q, make(tsn++, 1, static_cast<uint16_t>(s), true, true, {1})), AR::Ok);
    auto m = q.pop();
    ASSERT_TRUE(m);
    ASSERT_EQ(m->info.ssn, s);
  }
  // Now 0 and 1 (after the wrap) arrive before 65534 and 65535.
  ASSERT_EQ(add(q, make(tsn + 3, 1, 1, true, true, {4})), AR::Ok);
  ASSERT_EQ(add(q, make(tsn + 2, 1, 0, true, true, {3})), AR::Ok);
  ASSERT_EQ(add(q, make(tsn + 1, 1, 65535, true, true, {2})), AR::Ok);
  EXPECT_FALSE(q.has_message());
  EXPECT_EQ(q.waiting_ordered(), 3u);
  ASSERT_EQ(add(q, make(tsn, 1, 65534, true, true, {1})), AR::Ok);
  std::vector<uint16_t> ssns;
  while (auto m = q.pop()) ssns.push_back(m->info.ssn);
  EXPECT_EQ(ssns, (std::vector<uint16_t>{65534, 65535, 0, 1}));
  EXPECT_EQ(q.buffered_bytes(), 0u);
}

TEST(ReassemblyQueue, UnorderedDeliveredBeforeEarlierIncompleteOrdered) {
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  // Ordered SSN 0 in three fragments; only the first has arrived.
  ASSERT_EQ(add(q, make(10, 0, 0, true, false, {1, 1})), AR::Ok);
  // Ordered SSN 1 complete: must wait behind SSN 0.
  ASSERT_EQ(add(q, make(13, 0, 1, true, true, {2})), AR::Ok);
  // Unordered message (later TSN, same stream): delivered at once (§6.6).
  ASSERT_EQ(add(q, make(14, 0, 0, true, true, {9}, /*unordered=*/true)), AR::Ok);
  ASSERT_EQ(q.ready_count(), 1u);
  auto u = q.pop();
  EXPECT_TRUE(u->info.unordered);
  EXPECT_EQ(u->info.ssn, 0);
  EXPECT_EQ(u->data, std::vector<uint8_t>{9});
  EXPECT_FALSE(q.has_message());

  ASSERT_EQ(add(q, make(12, 0, 0, false, true, {1})), AR::Ok);
  EXPECT_FALSE(q.has_message());
  ASSERT_EQ(add(q, make(11, 0, 0, false, false, {1})), AR::Ok);
  ASSERT_EQ(q.ready_count(), 2u);
  auto a = q.pop();
  EXPECT_EQ(a->info.ssn, 0);
  EXPECT_EQ(a->data, (std::vector<uint8_t>{1, 1, 1, 1}));
  EXPECT_EQ(q.pop()->info.ssn, 1);
}

TEST(ReassemblyQueue, UnorderedFragmentedOutOfOrder) {
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  auto msg = pattern(1000, 5);
  auto frags = fragment(100, 0, 7, msg, 300, /*unordered=*/true);
  ASSERT_EQ(add(q, frags[3]), AR::Ok);
  ASSERT_EQ(add(q, frags[0]), AR::Ok);
  ASSERT_EQ(add(q, frags[2]), AR::Ok);
  EXPECT_FALSE(q.has_message());
  ASSERT_EQ(add(q, frags[1]), AR::Ok);
  auto m = q.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, msg);
  EXPECT_TRUE(m->info.unordered);
}

TEST(ReassemblyQueue, StreamsAreIndependent) {
  ReassemblyQueue q(5, 4 * kMiB, 4 * kMiB);
  // Stream 1 misses SSN 0 (TSN 1); streams 2 and 3 carry on.
  ASSERT_EQ(add(q, make(2, 1, 1, true, true, {11})), AR::Ok);
  ASSERT_EQ(add(q, make(3, 2, 0, true, true, {20})), AR::Ok);
  ASSERT_EQ(add(q, make(4, 3, 0, true, false, {30})), AR::Ok);
  ASSERT_EQ(add(q, make(5, 3, 0, false, true, {31})), AR::Ok);
  ASSERT_EQ(add(q, make(6, 2, 1, true, true, {21})), AR::Ok);
  std::vector<std::pair<uint16_t, uint16_t>> got;
  while (auto m = q.pop()) got.emplace_back(m->info.stream, m->info.ssn);
  EXPECT_EQ(got, (std::vector<std::pair<uint16_t, uint16_t>>{{2, 0}, {3, 0}, {2, 1}}));
  ASSERT_EQ(add(q, make(1, 1, 0, true, true, {10})), AR::Ok);
  got.clear();
  while (auto m = q.pop()) got.emplace_back(m->info.stream, m->info.ssn);
  EXPECT_EQ(got, (std::vector<std::pair<uint16_t, uint16_t>>{{1, 0}, {1, 1}}));
}

TEST(ReassemblyQueue, RandomizedManyStreamsFragmentsAndReordering) {
  std::mt19937 rng(99);
  constexpr uint16_t kStreams = 6;
  ReassemblyQueue q(kStreams, 4 * kMiB, 4 * kMiB);
  std::vector<uint16_t> next_ssn(kStreams, 0);
  std::vector<Chunk> chunks;
  std::map<std::pair<uint16_t, uint16_t>, std::vector<uint8_t>> ordered_sent;
  std::vector<std::vector<uint8_t>> unordered_sent;
  uint32_t tsn = 0xFFFFF000;
  for (int i = 0; i < 400; ++i) {
    uint16_t st = static_cast<uint16_t>(rng() % kStreams);
    bool un = rng() % 5 == 0;
    auto msg = pattern(1 + rng() % 5000, static_cast<uint32_t>(i));
    uint16_t ssn = un ? 0 : next_ssn[st]++;
    auto f = fragment(tsn, st, ssn, msg, 1 + rng() % 1400, un);
    tsn += static_cast<uint32_t>(f.size());
    if (un) {
      unordered_sent.push_back(msg);
    } else {
      ordered_sent[{st, ssn}] = msg;
    }
    for (auto& c : f) chunks.push_back(std::move(c));
  }
  // Reorder within a sliding window of 64 chunks (like a network would).
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    size_t j = i + rng() % std::min<size_t>(64, chunks.size() - i);
    std::swap(chunks[i], chunks[j]);
  }
  std::vector<uint16_t> expect_ssn(kStreams, 0);
  size_t unordered_got = 0;
  size_t total_bytes = 0;
  for (auto& c : chunks) total_bytes += c.bytes.size();
  size_t popped_bytes = 0;
  for (auto& c : chunks) {
    ASSERT_EQ(add(q, c), AR::Ok);
    while (auto m = q.pop()) {
      popped_bytes += m->data.size();
      if (m->info.unordered) {
        ++unordered_got;
        EXPECT_NE(std::find(unordered_sent.begin(), unordered_sent.end(), m->data),
                  unordered_sent.end());
        continue;
      }
      ASSERT_EQ(m->info.ssn, expect_ssn[m->info.stream]) << "stream " << m->info.stream;
      auto key = std::make_pair(m->info.stream, m->info.ssn);
      EXPECT_EQ(m->data, ordered_sent[key]);
      ++expect_ssn[m->info.stream];
    }
  }
  EXPECT_EQ(unordered_got, unordered_sent.size());
  EXPECT_EQ(expect_ssn, next_ssn);
  EXPECT_EQ(popped_bytes, total_bytes);
  EXPECT_EQ(q.buffered_bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
  EXPECT_EQ(q.discarded_messages(), 0u);
}

TEST(ReassemblyQueue, BufferLimitEnforcedAndReleasedOnPop) {
  ReassemblyQueue q(1, 4 * kMiB, 10000);
  std::vector<uint8_t> k1000(1000, 0xAB);
  uint32_t tsn = 1;
  for (uint16_t s = 0; s < 10; ++s) ASSERT_EQ(add(q, make(tsn++, 0, s, true, true, k1000)), AR::Ok);
  EXPECT_EQ(q.buffered_bytes(), 10000u);
  EXPECT_EQ(add(q, make(tsn, 0, 10, true, true, k1000)), AR::NoSpace);
  EXPECT_EQ(add(q, make(tsn, 0, 10, true, true, {1})), AR::NoSpace);
  // Even in sequence: the user has messages to read, which will free space.
  EXPECT_EQ(add(q, make(tsn, 0, 10, true, true, {1}), /*in_sequence=*/true), AR::NoSpace);
  EXPECT_EQ(q.buffered_bytes(), 10000u);
  ASSERT_TRUE(q.pop());
  EXPECT_EQ(q.buffered_bytes(), 9000u);
  EXPECT_EQ(add(q, make(tsn, 0, 10, true, true, k1000)), AR::Ok);
  EXPECT_EQ(q.buffered_bytes(), 10000u);
  while (q.pop()) {
  }
  EXPECT_EQ(q.buffered_bytes(), 0u);
}

TEST(ReassemblyQueue, PartialMessagesCountAgainstTheLimit) {
  // Many half-finished messages on many streams cannot exceed the limit.
  ReassemblyQueue q(1000, 4 * kMiB, 64 * 1024);
  std::vector<uint8_t> k1000(1000, 1);
  size_t ok = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    // TSN gaps of 10: each B fragment starts a message that never continues.
    auto r = add(q, make(1 + 10 * i, static_cast<uint16_t>(i), 0, true, false, k1000));
    if (r == AR::Ok) ++ok;
    ASSERT_TRUE(r == AR::Ok || r == AR::NoSpace);
    ASSERT_LE(q.buffered_bytes(), 64u * 1024);
  }
  EXPECT_EQ(ok, 65u);
  EXPECT_EQ(q.partial_messages(), 65u);
}

TEST(ReassemblyQueue, InSequenceChunkMayUseReserveWhenNothingIsReadable) {
  // The buffer is full of fragments waiting for TSN 1, which starts their message.
  ReassemblyQueue q(1, 20000, 10000);
  auto msg = pattern(11000, 6);
  auto frags = fragment(1, 0, 0, msg, 1000);  // 11 fragments
  for (size_t i = 1; i < frags.size(); ++i) ASSERT_EQ(add(q, frags[i]), AR::Ok);
  EXPECT_EQ(q.buffered_bytes(), 10000u);
  // Message is larger than the buffer: TooLarge (max is clamped to the buffer).
  EXPECT_EQ(q.max_message_size(), 10000u);
  EXPECT_EQ(add(q, frags[0], true), AR::TooLarge);

  ReassemblyQueue r(1, 20000, 10000);
  auto msg2 = pattern(10000, 7);
  auto f2 = fragment(1, 0, 0, msg2, 1000);  // 10 fragments
  // Something else holds 1000 bytes: an ordered message waiting for SSN 0.
  ASSERT_EQ(add(r, make(20, 0, 1, true, true, std::vector<uint8_t>(1000, 5))), AR::Ok);
  for (size_t i = 1; i < f2.size(); ++i) ASSERT_EQ(add(r, f2[i]), AR::Ok);
  EXPECT_EQ(r.buffered_bytes(), 10000u);
  // Out of sequence: refused.
  EXPECT_EQ(add(r, f2[0], false), AR::NoSpace);
  // In sequence, nothing readable: accepted from the reserve; everything drains.
  EXPECT_EQ(add(r, f2[0], true), AR::Ok);
  EXPECT_EQ(r.buffered_bytes(), 11000u);
  auto m = r.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, msg2);
  ASSERT_TRUE(r.pop());
  EXPECT_EQ(r.buffered_bytes(), 0u);

  // The reserve itself is bounded: complete messages that cannot be delivered
  // (each waits for SSN 0 on its stream) pile up only to limit + reserve.
  AR res = AR::Ok;
  std::vector<uint8_t> k1000(1000, 2);
  ReassemblyQueue t(1000, 4 * kMiB, 1000);
  for (uint32_t i = 0;; ++i) {
    res = add(t, make(1 + i, static_cast<uint16_t>(i), 1, true, true, k1000), true);
    if (res != AR::Ok) break;
  }
  EXPECT_EQ(res, AR::NoSpace);
  EXPECT_LE(t.buffered_bytes(), 1000 + ReassemblyQueue::kReserveBytes);
  EXPECT_GT(t.buffered_bytes(), 1000u);
}

TEST(ReassemblyQueue, TooLarge) {
  ReassemblyQueue q(1, 3000, 100000);
  // A single chunk over the limit.
  EXPECT_EQ(add(q, make(1, 0, 0, true, true, std::vector<uint8_t>(3001, 1))), AR::TooLarge);
  EXPECT_EQ(add(q, make(1, 0, 0, true, true, std::vector<uint8_t>(3000, 1))), AR::Ok);
  ASSERT_TRUE(q.pop());

  // A message growing in order past the limit.
  std::vector<uint8_t> k1000(1000, 1);
  EXPECT_EQ(add(q, make(2, 0, 1, true, false, k1000)), AR::Ok);
  EXPECT_EQ(add(q, make(3, 0, 1, false, false, k1000)), AR::Ok);
  EXPECT_EQ(add(q, make(4, 0, 1, false, false, k1000)), AR::Ok);
  EXPECT_EQ(add(q, make(5, 0, 1, false, true, {1})), AR::TooLarge);
  EXPECT_EQ(q.buffered_bytes(), 3000u);  // the refused chunk was not stored

  // A run of parked fragments (B never seen) longer than any message.
  ReassemblyQueue r(1, 3000, 100000);
  EXPECT_EQ(add(r, make(12, 0, 0, false, false, k1000)), AR::Ok);
  EXPECT_EQ(add(r, make(10, 0, 0, false, false, k1000)), AR::Ok);
  EXPECT_EQ(add(r, make(13, 0, 0, false, false, k1000)), AR::Ok);
  EXPECT_EQ(add(r, make(11, 0, 0, false, false, k1000)), AR::TooLarge);  // joins 10..13
  EXPECT_EQ(r.buffered_bytes(), 3000u);
  // A run broken by an E fragment is two messages: fine.
  // With E, TSN 11 ends the message 10..11, and 12..13 is a separate run: fine.
  EXPECT_EQ(add(r, make(11, 0, 0, false, true, k1000)), AR::Ok);
  EXPECT_EQ(r.parked_fragments(), 4u);

  // B joining a long parked run.
  ReassemblyQueue s(1, 3000, 100000);
  EXPECT_EQ(add(s, make(21, 0, 0, false, false, k1000)), AR::Ok);
  EXPECT_EQ(add(s, make(22, 0, 0, false, false, k1000)), AR::Ok);
  EXPECT_EQ(add(s, make(20, 0, 0, true, false, std::vector<uint8_t>(1001, 1))), AR::TooLarge);
  EXPECT_EQ(add(s, make(20, 0, 0, true, false, k1000)), AR::Ok);
  EXPECT_EQ(add(s, make(23, 0, 0, false, true, {1})), AR::TooLarge);
}

TEST(ReassemblyQueue, EndlessFragmentsOfOneMessageAreCut) {
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  std::vector<uint8_t> k(1400, 1);
  ASSERT_EQ(add(q, make(1, 0, 0, true, false, k)), AR::Ok);
  uint32_t tsn = 2;
  AR r;
  while ((r = add(q, make(tsn, 0, 0, false, false, k))) == AR::Ok) ++tsn;
  EXPECT_EQ(r, AR::TooLarge);
  EXPECT_LE(q.buffered_bytes(), 4 * kMiB);
}

TEST(ReassemblyQueue, BadStream) {
  ReassemblyQueue q(3, 4 * kMiB, 4 * kMiB);
  EXPECT_EQ(add(q, make(1, 3, 0, true, true, {1})), AR::BadStream);
  EXPECT_EQ(add(q, make(1, 65535, 0, true, true, {1})), AR::BadStream);
  EXPECT_EQ(add(q, make(1, 2, 0, true, true, {1})), AR::Ok);
  EXPECT_EQ(q.buffered_bytes(), 1u);
}

TEST(ReassemblyQueue, TinyChunksCannotOutgrowBookkeeping) {
  ReassemblyQueue q(1, 4 * kMiB, 4 * kMiB);
  // One-byte fragments, every other TSN, never completing: the entry cap binds
  // long before the byte limit.
  size_t ok = 0;
  AR r = AR::Ok;
  for (uint32_t i = 0; i < 100000 && r == AR::Ok; ++i) {
    r = add(q, make(2 + 2 * i, 0, 0, false, false, {1}));
    if (r == AR::Ok) ++ok;
  }
  EXPECT_EQ(r, AR::NoSpace);
  EXPECT_EQ(ok, q.max_entries());
  EXPECT_EQ(q.entries(), q.max_entries());
  EXPECT_LT(q.buffered_bytes(), 4 * kMiB);
}

TEST(ReassemblyQueue, UnreadTinyMessagesAreCapped) {
  ReassemblyQueue q(1, 4 * kMiB, 64 * 1024);
  uint32_t tsn = 1;
  while (add(q, make(tsn, 0, static_cast<uint16_t>(tsn - 1), true, true, {1})) == AR::Ok) ++tsn;
  EXPECT_EQ(q.ready_count(), q.max_entries());
  ASSERT_TRUE(q.pop());
  EXPECT_EQ(add(q, make(tsn, 0, static_cast<uint16_t>(tsn - 1), true, true, {1})), AR::Ok);
}

TEST(ReassemblyQueue, PeerErrorsAreDroppedNotLeaked) {
  ReassemblyQueue q(2, 4 * kMiB, 4 * kMiB);
  // A message's next TSN carries another message's chunk: the broken partial
  // message is freed.
  ASSERT_EQ(add(q, make(1, 0, 0, true, false, {1, 1, 1})), AR::Ok);
  EXPECT_EQ(q.buffered_bytes(), 3u);
  ASSERT_EQ(add(q, make(2, 1, 0, true, true, {2})), AR::Ok);
  EXPECT_EQ(q.discarded_messages(), 1u);
  EXPECT_EQ(q.partial_messages(), 0u);
  EXPECT_EQ(q.buffered_bytes(), 1u);
  ASSERT_TRUE(q.pop());

  // An SSN that was already delivered.
  ASSERT_EQ(add(q, make(3, 0, 0, true, true, {3})), AR::Ok);
  ASSERT_TRUE(q.pop());
  ASSERT_EQ(add(q, make(4, 0, 0, true, true, {4})), AR::Ok);
  EXPECT_FALSE(q.has_message());
  EXPECT_EQ(q.discarded_messages(), 2u);
  // The same SSN twice while waiting.
  ASSERT_EQ(add(q, make(6, 0, 2, true, true, {6})), AR::Ok);
  ASSERT_EQ(add(q, make(7, 0, 2, true, true, {7})), AR::Ok);
  EXPECT_EQ(q.discarded_messages(), 3u);
  EXPECT_EQ(q.buffered_bytes(), 1u);
  ASSERT_EQ(add(q, make(5, 0, 1, true, true, {5})), AR::Ok);
  EXPECT_EQ(q.pop()->data, std::vector<uint8_t>{5});
  EXPECT_EQ(q.pop()->data, std::vector<uint8_t>{6});
  EXPECT_EQ(q.buffered_bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
}

}  // namespace
}  // namespace sctpp
