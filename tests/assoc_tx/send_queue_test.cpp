#include "assoc/tx/send_queue.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>

namespace sctpp {
namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

TEST(SendQueue, FragmentsOneMebibyteMessageConsecutively) {
  SendQueue q(4);
  const std::vector<uint8_t> original = bytes(1 << 20, 3);
  q.push(StreamId(2), Ppid(51), false, 77, original);
  // Another stream's message must not be interleaved into the fragments.
  q.push(StreamId(3), Ppid(1), false, 0, bytes(10));
  EXPECT_EQ(q.queued_bytes(), (1u << 20) + 10);
  EXPECT_EQ(q.queued_messages(), 2u);

  const size_t kMax = 1200;
  std::vector<uint8_t> joined;
  const std::vector<uint8_t>* buffer = nullptr;
  size_t count = 0;
  for (;;) {
    auto d = q.produce(kMax);
    ASSERT_TRUE(d.has_value());
    ASSERT_EQ(d->stream, StreamId(2));
    EXPECT_EQ(d->ppid, Ppid(51));
    EXPECT_EQ(d->context, 77u);
    EXPECT_EQ(d->ssn, Ssn(0));
    EXPECT_FALSE(d->unordered);
    EXPECT_EQ(d->beginning, count == 0);
    EXPECT_LE(d->length, kMax);
    EXPECT_EQ(d->offset, joined.size());
    // All fragments share one buffer: the message is never copied.
    if (buffer == nullptr) buffer = d->message.get();
    EXPECT_EQ(d->message.get(), buffer);
    joined.insert(joined.end(), d->data(), d->data() + d->length);
    ++count;
    if (d->ending) break;
    EXPECT_EQ(d->length, kMax);
  }
  EXPECT_EQ(count, ((1u << 20) + kMax - 1) / kMax);
  EXPECT_EQ(joined, original);
  EXPECT_EQ(q.queued_bytes(), 10u);
  EXPECT_EQ(q.queued_messages(), 1u);

  auto last = q.produce(kMax);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->stream, StreamId(3));
  EXPECT_TRUE(last->beginning && last->ending);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.produce(kMax).has_value());
}

TEST(SendQueue, SingleFragmentMessageHasBothFlags) {
  SendQueue q(1);
  q.push(StreamId(0), Ppid(0), false, 0, bytes(1000));
  auto d = q.produce(1000);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->beginning);
  EXPECT_TRUE(d->ending);
  EXPECT_EQ(d->length, 1000u);
  EXPECT_TRUE(q.empty());
}

TEST(SendQueue, RoundRobinAcrossSixteenStreamsAtMessageBoundaries) {
  constexpr uint16_t kStreams = 16;
  constexpr int kPerStream = 3;
  SendQueue q(kStreams);
  // Stream s gets messages of different sizes, so some span several fragments.
  for (int m = 0; m < kPerStream; ++m) {
    for (uint16_t s = 0; s < kStreams; ++s) {
      q.push(StreamId(s), Ppid(s), false, static_cast<uint32_t>(m), bytes(100 + s * 250));
    }
  }
  std::vector<uint16_t> message_order;
  std::optional<uint16_t> current;
  while (auto d = q.produce(1000)) {
    if (current) {
      // Inside a message: same stream, no B flag.
      ASSERT_EQ(d->stream.value(), *current);
      ASSERT_FALSE(d->beginning);
    } else {
      ASSERT_TRUE(d->beginning);
      message_order.push_back(d->stream.value());
    }
    current = d->ending ? std::nullopt : std::optional<uint16_t>(d->stream.value());
  }
  ASSERT_EQ(message_order.size(), size_t{kStreams} * kPerStream);
  // Every round serves each stream exactly once, in the same order.
  for (int round = 0; round < kPerStream; ++round) {
    std::set<uint16_t> seen(message_order.begin() + round * kStreams,
                            message_order.begin() + (round + 1) * kStreams);
    EXPECT_EQ(seen.size(), kStreams) << "round " << round;
    for (int i = 0; i < kStreams; ++i) {
      EXPECT_EQ(message_order[round * kStreams + i], message_order[i]);
    }
  }
}

TEST(SendQueue, BusyStreamDoesNotStarveOthers) {
  SendQueue q(3);
  for (int i = 0; i < 10; ++i) q.push(StreamId(0), Ppid(0), false, 0, bytes(10));
  auto first = q.produce(100);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->stream, StreamId(0));
  // Streams that become active join the rotation behind the busy one, and from then
  // on each gets one message per turn.
  q.push(StreamId(2), Ppid(0), false, 0, bytes(10));
  q.push(StreamId(1), Ppid(0), false, 0, bytes(10));
  q.push(StreamId(1), Ppid(0), false, 0, bytes(10));
  std::vector<uint16_t> order;
  for (int i = 0; i < 7; ++i) order.push_back(q.produce(100)->stream.value());
  EXPECT_EQ(order, (std::vector<uint16_t>{0, 2, 1, 0, 1, 0, 0}));
}

TEST(SendQueue, SsnPerStreamForOrderedMessagesOnly) {
  SendQueue q(3);
  q.push(StreamId(1), Ppid(0), false, 0, bytes(3000));  // ordered, 3 fragments
  q.push(StreamId(1), Ppid(0), true, 0, bytes(10));     // unordered
  q.push(StreamId(1), Ppid(0), false, 0, bytes(10));    // ordered
  q.push(StreamId(2), Ppid(0), false, 0, bytes(10));    // ordered, other stream
  q.push(StreamId(2), Ppid(0), false, 0, bytes(10));

  std::map<uint16_t, std::vector<std::pair<uint16_t, bool>>> seen;  // stream -> (ssn, U)
  while (auto d = q.produce(1200)) {
    if (d->unordered) {
      EXPECT_EQ(d->ssn, Ssn(0));
    }
    seen[d->stream.value()].emplace_back(d->ssn.value(), d->unordered);
  }
  using V = std::vector<std::pair<uint16_t, bool>>;
  // Three fragments with SSN 0, the unordered message (SSN 0, U), then SSN 1.
  EXPECT_EQ(seen[1], (V{{0, false}, {0, false}, {0, false}, {0, true}, {1, false}}));
  EXPECT_EQ(seen[2], (V{{0, false}, {1, false}}));
}

TEST(SendQueue, SsnWrapsAfter65535) {
  SendQueue q(1);
  for (int i = 0; i < 65537; ++i) q.push(StreamId(0), Ppid(0), false, 0, bytes(1));
  std::vector<uint16_t> ssns;
  while (auto d = q.produce(10)) ssns.push_back(d->ssn.value());
  ASSERT_EQ(ssns.size(), 65537u);
  EXPECT_EQ(ssns[65534], 65534);
  EXPECT_EQ(ssns[65535], 65535);
  EXPECT_EQ(ssns[65536], 0);
}

TEST(SendQueue, CountsBytesAndMessages) {
  SendQueue q(2);
  EXPECT_TRUE(q.empty());
  q.push(StreamId(0), Ppid(0), false, 0, bytes(2500));
  q.push(StreamId(1), Ppid(0), false, 0, bytes(100));
  EXPECT_EQ(q.queued_bytes(), 2600u);
  EXPECT_EQ(q.queued_messages(), 2u);
  q.produce(1000);
  EXPECT_EQ(q.queued_bytes(), 1600u);
  EXPECT_EQ(q.queued_messages(), 2u);  // half-produced message still queued
  q.produce(1000);
  q.produce(1000);
  EXPECT_EQ(q.queued_bytes(), 100u);
  EXPECT_EQ(q.queued_messages(), 1u);
  EXPECT_FALSE(q.produce(0).has_value());  // nothing fits in 0 bytes
  q.produce(1000);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued_messages(), 0u);
}

TEST(SendQueue, ShrinkingStreamCountKeepsQueuedMessages) {
  SendQueue q(10);
  EXPECT_EQ(q.stream_count(), 10);
  q.push(StreamId(9), Ppid(0), false, 0, bytes(5));
  q.push(StreamId(1), Ppid(0), false, 0, bytes(5));
  q.set_stream_count(4);  // the peer granted fewer streams than we asked for
  EXPECT_EQ(q.stream_count(), 4);
  EXPECT_EQ(q.queued_messages(), 2u);
  std::vector<uint16_t> streams;
  while (auto d = q.produce(100)) streams.push_back(d->stream.value());
  EXPECT_EQ(streams, (std::vector<uint16_t>{9, 1}));

  q.set_stream_count(20);
  EXPECT_EQ(q.stream_count(), 20);
  q.push(StreamId(19), Ppid(0), false, 0, bytes(5));
  q.push(StreamId(9), Ppid(0), false, 0, bytes(5));
  auto a = q.produce(100);
  auto b = q.produce(100);
  EXPECT_EQ(a->stream, StreamId(19));
  EXPECT_EQ(a->ssn, Ssn(0));
  // Stream 9 disappeared with the shrink and came back fresh.
  EXPECT_EQ(b->stream, StreamId(9));
  EXPECT_EQ(b->ssn, Ssn(0));
}

TEST(SendQueue, StreamsKeepSsnAcrossGrowth) {
  SendQueue q(2);
  q.push(StreamId(1), Ppid(0), false, 0, bytes(5));
  q.produce(100);
  q.set_stream_count(8);
  q.push(StreamId(1), Ppid(0), false, 0, bytes(5));
  EXPECT_EQ(q.produce(100)->ssn, Ssn(1));
}

}  // namespace
}  // namespace sctpp
