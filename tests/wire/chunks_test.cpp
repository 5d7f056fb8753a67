// Chunk codecs: round trips through a packet, and rejection of malformed chunks.
#include "wire/chunks.h"

#include <gtest/gtest.h>

#include <vector>

#include "wire_test_util.h"

namespace sctpp::wire {
namespace {

using testing::inside;
using testing::round_trip;
using testing::serialize;
using testing::view_of;

std::vector<uint8_t> vec(std::span<const uint8_t> s) {
  return {s.begin(), s.end()};
}

TEST(DataChunk, RoundTripAllFlagCombinations) {
  const std::vector<uint8_t> payload = {'h', 'e', 'l', 'l', 'o'};
  for (int flags = 0; flags < 16; ++flags) {
    DataChunk d;
    d.immediate = flags & 8;
    d.unordered = flags & 4;
    d.beginning = flags & 2;
    d.ending = flags & 1;
    d.tsn = Tsn(0xFFFFFFFE);
    d.stream = StreamId(7);
    d.ssn = Ssn(65535);
    d.ppid = Ppid(0x01020304);
    d.payload = payload;
    auto bytes = serialize(d);
    EXPECT_EQ(bytes[1], flags);  // I=0x08, U=0x04, B=0x02, E=0x01
    std::vector<uint8_t> storage;
    auto p = round_trip(d, storage);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->immediate, d.immediate);
    EXPECT_EQ(p->unordered, d.unordered);
    EXPECT_EQ(p->beginning, d.beginning);
    EXPECT_EQ(p->ending, d.ending);
    EXPECT_EQ(p->tsn, d.tsn);
    EXPECT_EQ(p->stream, d.stream);
    EXPECT_EQ(p->ssn, d.ssn);
    EXPECT_EQ(p->ppid, d.ppid);
    EXPECT_EQ(vec(p->payload), payload);
  }
}

TEST(DataChunk, WireLayout) {
  const uint8_t payload[] = {0xAB};
  DataChunk d;
  d.beginning = d.ending = true;
  d.tsn = Tsn(0x11223344);
  d.stream = StreamId(0x5566);
  d.ssn = Ssn(0x7788);
  d.ppid = Ppid(0x99AABBCC);
  d.payload = payload;
  EXPECT_EQ(serialize(d), (std::vector<uint8_t>{0, 3, 0, 17, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                                0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xAB}));
}

TEST(DataChunk, EmptyPayloadParsesShortHeaderDoesNot) {
  DataChunk d;
  auto bytes = serialize(d);
  ASSERT_EQ(bytes.size(), 16u);
  auto p = DataChunk::parse(view_of(bytes));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->payload.empty());
  for (size_t n = 4; n < 16; ++n) {
    std::vector<uint8_t> b(bytes.begin(), bytes.begin() + n);
    b[3] = static_cast<uint8_t>(n);
    EXPECT_FALSE(DataChunk::parse(view_of(b))) << n;
  }
}

InitChunk sample_init() {
  static const std::vector<uint8_t> params = {0x00, 0x0c, 0x00, 0x06, 0x00, 0x05,
                                              0x00, 0x00, 0xC0, 0x00, 0x00, 0x04};
  InitChunk i;
  i.initiate_tag = VerificationTag(0xCAFEBABE);
  i.a_rwnd = 131072;
  i.outbound_streams = 10;
  i.inbound_streams = 2048;
  i.initial_tsn = Tsn(42);
  i.params = params;
  return i;
}

template <class C>
void expect_init_equal(const C& a, const C& b) {
  EXPECT_EQ(a.initiate_tag, b.initiate_tag);
  EXPECT_EQ(a.a_rwnd, b.a_rwnd);
  EXPECT_EQ(a.outbound_streams, b.outbound_streams);
  EXPECT_EQ(a.inbound_streams, b.inbound_streams);
  EXPECT_EQ(a.initial_tsn, b.initial_tsn);
  EXPECT_EQ(vec(a.params), vec(b.params));
}

TEST(InitChunk, RoundTrip) {
  InitChunk i = sample_init();
  std::vector<uint8_t> storage;
  auto p = round_trip(i, storage);
  ASSERT_TRUE(p);
  expect_init_equal(*p, i);
}

TEST(InitAckChunk, RoundTripAndTypeCode) {
  InitAckChunk a;
  static_cast<InitFields&>(a) = sample_init();
  auto bytes = serialize(a);
  EXPECT_EQ(bytes[0], 2);
  std::vector<uint8_t> storage;
  auto p = round_trip(a, storage);
  ASSERT_TRUE(p);
  expect_init_equal(*p, a);
  // An INIT ACK is not an INIT.
  EXPECT_FALSE(InitChunk::parse(view_of(bytes)));
}

TEST(InitChunk, ShortValueRejected) {
  InitChunk i = sample_init();
  i.params = {};
  auto bytes = serialize(i);
  ASSERT_EQ(bytes.size(), 20u);
  EXPECT_TRUE(InitChunk::parse(view_of(bytes)));
  for (size_t n = 4; n < 20; ++n) {
    std::vector<uint8_t> b(bytes.begin(), bytes.begin() + n);
    b[3] = static_cast<uint8_t>(n);
    EXPECT_FALSE(InitChunk::parse(view_of(b))) << n;
  }
}

TEST(SackChunk, RoundTrip) {
  SackChunk s;
  s.cum_tsn_ack = Tsn(1000);
  s.a_rwnd = 65535;
  s.gap_blocks = {{2, 5}, {7, 7}, {100, 65535}};
  s.dup_tsns = {Tsn(990), Tsn(995)};
  std::vector<uint8_t> storage;
  auto p = round_trip(s, storage);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->cum_tsn_ack, s.cum_tsn_ack);
  EXPECT_EQ(p->a_rwnd, s.a_rwnd);
  EXPECT_EQ(p->gap_blocks, s.gap_blocks);
  EXPECT_EQ(p->dup_tsns, s.dup_tsns);

  SackChunk empty;
  auto q = round_trip(empty, storage);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->gap_blocks.empty());
  EXPECT_TRUE(q->dup_tsns.empty());
}

TEST(SackChunk, CountsLargerThanDataRejected) {
  SackChunk s;
  s.gap_blocks = {{1, 2}};
  s.dup_tsns = {Tsn(5)};
  auto bytes = serialize(s);  // 24 bytes
  ASSERT_EQ(bytes.size(), 24u);
  auto claim = [&](uint16_t gaps, uint16_t dups) {
    auto b = bytes;
    store16(b.data() + 12, gaps);
    store16(b.data() + 14, dups);
    return SackChunk::parse(view_of(b)).has_value();
  };
  EXPECT_TRUE(claim(1, 1));
  EXPECT_TRUE(claim(2, 0));
  EXPECT_TRUE(claim(0, 2));
  EXPECT_FALSE(claim(2, 1));
  EXPECT_FALSE(claim(1, 2));
  EXPECT_FALSE(claim(0xFFFF, 0xFFFF));
  for (size_t n = 4; n < bytes.size(); ++n) {
    std::vector<uint8_t> b(bytes.begin(), bytes.begin() + n);
    b[3] = static_cast<uint8_t>(n);
    EXPECT_FALSE(SackChunk::parse(view_of(b))) << n;
  }
}

TEST(HeartbeatChunk, RoundTripBothKinds) {
  const std::vector<uint8_t> info = {1, 2, 3, 4, 5, 6, 7};
  std::vector<uint8_t> storage;
  auto hb = round_trip(HeartbeatChunk{info}, storage);
  ASSERT_TRUE(hb);
  EXPECT_EQ(vec(hb->info), info);
  auto ack = round_trip(HeartbeatAckChunk{info}, storage);
  ASSERT_TRUE(ack);
  EXPECT_EQ(vec(ack->info), info);
  auto bytes = serialize(HeartbeatChunk{info});
  EXPECT_EQ(bytes[0], 4);
  EXPECT_EQ(load16(bytes.data() + 4), 1);   // Heartbeat Info parameter
  EXPECT_EQ(load16(bytes.data() + 6), 11);  // its length
}

// RFC 9260 §8.3: TLVs after the Heartbeat Info are kept, and an ACK built from them
// carries the HEARTBEAT's value byte for byte (info padding included).
TEST(HeartbeatChunk, OtherTlvsAreKeptAndEchoedUnchanged) {
  const std::vector<uint8_t> value = {0,    1,    0, 7, 'a', 'b', 'c', 0,  // info, padded
                                      0x81, 0x23, 0, 6, 'x', 'y'};         // a TLV, unpadded
  const auto in = testing::concat({4, 0, 0, static_cast<uint8_t>(4 + value.size())}, value);
  auto hb = HeartbeatChunk::parse(view_of(in));
  ASSERT_TRUE(hb);
  EXPECT_EQ(vec(hb->info), (std::vector<uint8_t>{'a', 'b', 'c'}));
  EXPECT_EQ(hb->rest.size(), 6u);
  auto out = serialize(HeartbeatAckChunk{hb->info, hb->rest});
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(load16(out.data() + 2), 4 + value.size());
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 4, out.begin() + 4 + value.size()), value);
}

TEST(HeartbeatChunk, MalformedInfoRejected) {
  auto make = [](std::vector<uint8_t> value) {
    return testing::concat({4, 0, 0, static_cast<uint8_t>(4 + value.size())}, value);
  };
  EXPECT_FALSE(HeartbeatChunk::parse(view_of(make({}))));
  EXPECT_FALSE(HeartbeatChunk::parse(view_of(make({0, 1, 0}))));           // short header
  EXPECT_FALSE(HeartbeatChunk::parse(view_of(make({0, 2, 0, 4}))));        // wrong param type
  EXPECT_FALSE(HeartbeatChunk::parse(view_of(make({0, 1, 0, 3}))));        // length < 4
  EXPECT_FALSE(HeartbeatChunk::parse(view_of(make({0, 1, 0, 9, 1, 2}))));  // past the value
  auto ok = HeartbeatChunk::parse(view_of(make({0, 1, 0, 4})));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->info.empty());
}

TEST(AbortChunk, RoundTripWithTBitAndCauses) {
  const std::vector<uint8_t> causes = {0, 12, 0, 7, 'b', 'y', 'e'};
  for (bool t : {false, true}) {
    std::vector<uint8_t> storage;
    auto p = round_trip(AbortChunk{t, causes}, storage);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->t_bit, t);
    EXPECT_EQ(vec(p->causes), causes);
    EXPECT_EQ(serialize(AbortChunk{t, {}})[1], t ? 1 : 0);
  }
}

TEST(ShutdownChunk, RoundTripAndExactLength) {
  std::vector<uint8_t> storage;
  auto p = round_trip(ShutdownChunk{Tsn(0x89ABCDEF)}, storage);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->cum_tsn_ack, Tsn(0x89ABCDEF));
  EXPECT_FALSE(ShutdownChunk::parse(view_of(std::vector<uint8_t>{7, 0, 0, 4})));
  EXPECT_FALSE(ShutdownChunk::parse(view_of(std::vector<uint8_t>{7, 0, 0, 7, 1, 2, 3})));
  EXPECT_FALSE(
      ShutdownChunk::parse(view_of(std::vector<uint8_t>{7, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8})));
}

TEST(EmptyChunks, RoundTripAndRejectExtraBytes) {
  std::vector<uint8_t> storage;
  EXPECT_TRUE(round_trip(ShutdownAckChunk{}, storage));
  EXPECT_TRUE(round_trip(CookieAckChunk{}, storage));
  for (bool t : {false, true}) {
    auto p = round_trip(ShutdownCompleteChunk{t}, storage);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->t_bit, t);
  }
  const std::vector<uint8_t> long_ack = {8, 0, 0, 8, 0, 0, 0, 0};
  EXPECT_FALSE(ShutdownAckChunk::parse(view_of(long_ack)));
  auto b = long_ack;
  b[0] = 11;
  EXPECT_FALSE(CookieAckChunk::parse(view_of(b)));
  b[0] = 14;
  EXPECT_FALSE(ShutdownCompleteChunk::parse(view_of(b)));
}

TEST(ErrorChunk, RoundTrip) {
  const std::vector<uint8_t> causes = {0, 9, 0, 8, 0, 0, 0, 5};
  std::vector<uint8_t> storage;
  auto p = round_trip(ErrorChunk{causes}, storage);
  ASSERT_TRUE(p);
  EXPECT_EQ(vec(p->causes), causes);
}

TEST(CookieEchoChunk, RoundTripOddSize) {
  std::vector<uint8_t> cookie(37);
  for (size_t i = 0; i < cookie.size(); ++i) cookie[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> storage;
  auto p = round_trip(CookieEchoChunk{cookie}, storage);
  ASSERT_TRUE(p);
  EXPECT_EQ(vec(p->cookie), cookie);
  EXPECT_EQ(storage.size(), 12u + 44u);  // padded in the packet
}

TEST(PadChunk, RoundTripZeroFilled) {
  std::vector<uint8_t> storage;
  auto p = round_trip(PadChunk{13}, storage);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->padding, 13u);
  auto bytes = serialize(PadChunk{13});
  EXPECT_EQ(bytes[0], 132);
  for (size_t i = 4; i < bytes.size(); ++i) EXPECT_EQ(bytes[i], 0);
}

TEST(Chunks, WrongTypeRejected) {
  auto bytes = serialize(CookieAckChunk{});
  EXPECT_FALSE(ShutdownAckChunk::parse(view_of(bytes)));
  EXPECT_FALSE(AbortChunk::parse(view_of(bytes)));
  EXPECT_FALSE(PadChunk::parse(view_of(bytes)));
}

// Every chunk type parsed from every prefix of a valid chunk (length field adjusted):
// no crash, and any view returned lies inside the bytes.
template <class C>
void every_prefix_is_safe(const C& c) {
  auto full = serialize(c);
  for (size_t n = 4; n <= full.size(); ++n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    store16(b.data() + 2, static_cast<uint16_t>(n));
    auto p = C::parse(view_of(b));
    if constexpr (requires { p->payload; }) {
      if (p) {
        EXPECT_TRUE(inside(p->payload, b));
      }
    }
    if constexpr (requires { p->params; }) {
      if (p) {
        EXPECT_TRUE(inside(p->params, b));
      }
    }
    if constexpr (requires { p->info; }) {
      if (p) {
        EXPECT_TRUE(inside(p->info, b));
      }
    }
    if (n == full.size()) {
      EXPECT_TRUE(p);
    }
  }
}

TEST(Chunks, EveryPrefixIsSafe) {
  const std::vector<uint8_t> bytes(23, 0x5A);
  DataChunk d;
  d.payload = bytes;
  every_prefix_is_safe(d);
  every_prefix_is_safe(sample_init());
  InitAckChunk a;
  static_cast<InitFields&>(a) = sample_init();
  every_prefix_is_safe(a);
  SackChunk s;
  s.gap_blocks = {{1, 2}, {4, 4}};
  s.dup_tsns = {Tsn(1), Tsn(2), Tsn(3)};
  every_prefix_is_safe(s);
  every_prefix_is_safe(HeartbeatChunk{bytes});
  every_prefix_is_safe(HeartbeatAckChunk{bytes});
  every_prefix_is_safe(AbortChunk{true, bytes});
  every_prefix_is_safe(ShutdownChunk{Tsn(9)});
  every_prefix_is_safe(ErrorChunk{bytes});
  every_prefix_is_safe(CookieEchoChunk{bytes});
  every_prefix_is_safe(PadChunk{5});
}

TEST(UnknownChunk, ActionFromUpperTwoBits) {
  EXPECT_EQ(unknown_chunk_action(0x3F), UnknownAction::Stop);
  EXPECT_EQ(unknown_chunk_action(0x40), UnknownAction::StopAndReport);
  EXPECT_EQ(unknown_chunk_action(0x7F), UnknownAction::StopAndReport);
  EXPECT_EQ(unknown_chunk_action(0x80), UnknownAction::Skip);
  EXPECT_EQ(unknown_chunk_action(0xBF), UnknownAction::Skip);
  EXPECT_EQ(unknown_chunk_action(0xC0), UnknownAction::SkipAndReport);
  EXPECT_EQ(unknown_chunk_action(0xFF), UnknownAction::SkipAndReport);
  // The extension chunks' codes carry the action the RFCs intend.
  EXPECT_EQ(unknown_chunk_action(static_cast<uint8_t>(ChunkType::ForwardTsn)),
            UnknownAction::SkipAndReport);
  EXPECT_EQ(unknown_chunk_action(static_cast<uint8_t>(ChunkType::Pad)), UnknownAction::Skip);
  EXPECT_EQ(unknown_chunk_action(static_cast<uint8_t>(ChunkType::IData)),
            UnknownAction::StopAndReport);
}

}  // namespace
}  // namespace sctpp::wire
