// PacketView / PacketWriter: header, checksum convention, chunk-length validation.
#include "wire/packet.h"

#include <gtest/gtest.h>

#include <vector>

#include "wire/chunks.h"
#include "wire/crc32c.h"
#include "wire/parameters.h"
#include "wire_test_util.h"

namespace sctpp::wire {
namespace {

using testing::inside;

// An INIT from 5000 to 5000 with one Supported Address Types parameter (IPv4), as a
// real stack sends it. The checksum bytes were checked with Wireshark's dissector
// ("Checksum (CRC32C): 0x9a4d4392 [correct]").
const std::vector<uint8_t> kInitPacket = {
    0x13, 0x88, 0x13, 0x88,  // ports 5000 -> 5000
    0x00, 0x00, 0x00, 0x00,  // verification tag 0 (INIT)
    0x9a, 0x4d, 0x43, 0x92,  // CRC32c 0x92434d9a, low byte first
    0x01, 0x00, 0x00, 0x1a,  // INIT, flags 0, length 26
    0x5c, 0x7e, 0x3a, 0x01,  // initiate tag
    0x00, 0x01, 0xa0, 0x00,  // a_rwnd 106496
    0x00, 0x0a, 0xff, 0xff,  // 10 outbound, 65535 inbound streams
    0x2f, 0x1b, 0x0e, 0x42,  // initial TSN
    0x00, 0x0c, 0x00, 0x06,  // Supported Address Types, length 6
    0x00, 0x05, 0x00, 0x00,  // IPv4, padding
};

TEST(PacketView, ParsesCapturedInit) {
  ParseError err{};
  auto pkt = PacketView::parse(kInitPacket, ChecksumPolicy::Verify, &err);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(pkt->header().src_port, 5000);
  EXPECT_EQ(pkt->header().dst_port, 5000);
  EXPECT_EQ(pkt->header().vtag, VerificationTag(0));
  EXPECT_EQ(pkt->header().checksum, 0x92434d9au);
  EXPECT_EQ(pkt->header().checksum, packet_checksum(kInitPacket));
  ASSERT_EQ(pkt->chunk_count(), 1u);

  ChunkView c = *pkt->begin();  // a copy: the iterator owns the view it returns
  EXPECT_EQ(c.type, 1);
  EXPECT_EQ(c.value.size(), 22u);
  EXPECT_EQ(c.whole.size(), 26u);
  auto init = InitChunk::parse(c);
  ASSERT_TRUE(init);
  EXPECT_EQ(init->initiate_tag, VerificationTag(0x5c7e3a01));
  EXPECT_EQ(init->a_rwnd, 106496u);
  EXPECT_EQ(init->outbound_streams, 10);
  EXPECT_EQ(init->inbound_streams, 65535);
  EXPECT_EQ(init->initial_tsn, Tsn(790302274));

  auto params = ParamList::parse(init->params);
  ASSERT_TRUE(params);
  int n = 0;
  for (const ParamView& p : *params) {
    ++n;
    auto types = parse_supported_address_types(p);
    ASSERT_TRUE(types);
    EXPECT_EQ(*types, std::vector<uint16_t>{5});
  }
  EXPECT_EQ(n, 1);
}

TEST(PacketWriter, RebuildsCapturedInitByteForByte) {
  std::vector<uint8_t> params;
  ParamWriter pw(params);
  const uint16_t types[] = {5};
  pw.add_supported_address_types(types);
  InitChunk init;
  init.initiate_tag = VerificationTag(0x5c7e3a01);
  init.a_rwnd = 106496;
  init.outbound_streams = 10;
  init.inbound_streams = 65535;
  init.initial_tsn = Tsn(790302274);
  // The chunk length excludes the padding of the last parameter (RFC 9260 §3.2).
  init.params = std::span<const uint8_t>(params).first(6);

  std::vector<uint8_t> buf;
  PacketWriter w(buf);
  w.begin(5000, 5000, VerificationTag(0));
  ASSERT_TRUE(w.fits(init));
  w.add(init);
  auto out = w.finish();
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.end()), kInitPacket);
}

TEST(PacketWriter, ChecksumStoredLowByteFirst) {
  std::vector<uint8_t> buf;
  PacketWriter w(buf);
  w.begin(1, 2, VerificationTag(3));
  w.add(CookieAckChunk{});
  auto out = w.finish();
  uint32_t crc = packet_checksum(out);
  EXPECT_EQ(out[8], crc & 0xff);
  EXPECT_EQ(out[11], crc >> 24);
  // Over the finished packet with the field zeroed, CRC32c equals the stored value.
  std::vector<uint8_t> zeroed(out.begin(), out.end());
  zeroed[8] = zeroed[9] = zeroed[10] = zeroed[11] = 0;
  EXPECT_EQ(crc32c(zeroed), crc);
}

// DATA payloads are copied in and summed in one pass, the rest at finish(): the stored
// checksum must still be CRC32c over the whole packet, whatever comes before and after
// the DATA, in a vector or in fixed memory, and for the next packet the writer begins.
TEST(PacketWriter, ChecksumCoversDataSummedOnTheWayIn) {
  std::vector<uint8_t> payload(3000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7 + 1);
  const uint8_t raw[] = {0x80, 0x00, 0x00, 0x05, 0x42};  // an unknown chunk, 5 bytes
  std::vector<uint8_t> vec;
  std::vector<uint8_t> fixed(4000, 0xEE);
  auto write = [&](PacketWriter& w, size_t first, size_t second) {
    w.begin(5000, 5001, VerificationTag(0x01020304));
    w.add(ShutdownChunk{Tsn(9)});
    DataChunk d;
    d.tsn = Tsn(100);
    d.payload = std::span<const uint8_t>(payload).first(first);
    w.add(d);
    d.tsn = Tsn(101);
    d.payload = std::span<const uint8_t>(payload).subspan(first, second);
    w.add(d);
    w.add_raw(raw);
    auto p = w.finish();
    return std::vector<uint8_t>(p.begin(), p.end());
  };
  PacketWriter vw(vec, 4000);
  PacketWriter fw(std::span<uint8_t>(fixed), 4000);
  for (auto [first, second] : {std::pair<size_t, size_t>{1001, 1444}, {1, 2}, {200, 0}}) {
    for (PacketWriter* w : {&vw, &fw}) {
      auto packet = write(*w, first, second);
      std::vector<uint8_t> zeroed = packet;
      zeroed[8] = zeroed[9] = zeroed[10] = zeroed[11] = 0;
      const uint32_t stored = uint32_t{packet[8]} | uint32_t{packet[9]} << 8 |
                              uint32_t{packet[10]} << 16 | uint32_t{packet[11]} << 24;
      EXPECT_EQ(stored, crc32c(zeroed))
          << first << "+" << second << (w == &vw ? " vector" : " fixed");
      ParseError why{};
      auto view = PacketView::parse(packet, ChecksumPolicy::Verify, &why);
      ASSERT_TRUE(view) << first << "+" << second << " error " << static_cast<int>(why);
      std::vector<std::vector<uint8_t>> payloads;
      for (const auto& c : *view)
        if (auto d = DataChunk::parse(c))
          payloads.emplace_back(d->payload.begin(), d->payload.end());
      ASSERT_EQ(payloads.size(), 2u);
      EXPECT_EQ(payloads[0], std::vector<uint8_t>(payload.begin(), payload.begin() + first));
      EXPECT_EQ(payloads[1],
                std::vector<uint8_t>(payload.begin() + first, payload.begin() + first + second));
    }
  }
}

TEST(PacketWriter, BeginResetsAndFinishIsRepeatable) {
  std::vector<uint8_t> buf(100, 0xAA);
  PacketWriter w(buf, 1500);
  w.begin(1, 2, VerificationTag(3));
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), kCommonHeaderSize);
  EXPECT_EQ(w.remaining(), 1500 - kCommonHeaderSize);
  w.add(ShutdownChunk{Tsn(7)});
  EXPECT_FALSE(w.empty());
  auto a = w.finish();
  std::vector<uint8_t> first(a.begin(), a.end());
  auto b = w.finish();
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.end()), first);
  EXPECT_TRUE(PacketView::parse(b));
}

TEST(PacketWriter, FitsRespectsMaxSizeWithPadding) {
  std::vector<uint8_t> buf;
  PacketWriter w(buf, 12 + 20);
  w.begin(1, 2, VerificationTag(3));
  std::vector<uint8_t> cookie(16);
  EXPECT_TRUE(w.fits(CookieEchoChunk{cookie}));  // 20 bytes exactly
  cookie.resize(17);
  EXPECT_FALSE(w.fits(CookieEchoChunk{cookie}));  // 21, padded to 24
}

TEST(PacketWriter, AddRawPads) {
  std::vector<uint8_t> buf;
  PacketWriter w(buf);
  w.begin(1, 2, VerificationTag(3));
  const uint8_t unknown[] = {0xC7, 0x00, 0x00, 0x05, 0x42};
  w.add_raw(unknown);
  EXPECT_EQ(w.size(), 12u + 8u);
  auto pkt = PacketView::parse(w.finish());
  ASSERT_TRUE(pkt);
  ASSERT_EQ(pkt->chunk_count(), 1u);
  EXPECT_EQ(pkt->begin()->type, 0xC7);
  EXPECT_EQ(pkt->begin()->value.size(), 1u);
}

TEST(PacketWriter, ZeroChecksum) {
  std::vector<uint8_t> buf;
  PacketWriter w(buf);
  w.begin(1, 2, VerificationTag(3));
  w.add(CookieAckChunk{});
  auto out = w.finish(/*zero_checksum=*/true);
  EXPECT_EQ(out[8] | out[9] | out[10] | out[11], 0);

  ParseError err{};
  EXPECT_FALSE(PacketView::parse(out, ChecksumPolicy::Verify, &err));
  EXPECT_EQ(err, ParseError::BadChecksum);
  auto pkt = PacketView::parse(out, ChecksumPolicy::AllowZero);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(pkt->header().checksum, 0u);
  EXPECT_TRUE(PacketView::parse(out, ChecksumPolicy::Skip));
}

TEST(PacketView, AllowZeroStillRejectsWrongNonZeroChecksum) {
  auto bad = kInitPacket;
  bad[8] ^= 0x01;
  ParseError err{};
  EXPECT_FALSE(PacketView::parse(bad, ChecksumPolicy::AllowZero, &err));
  EXPECT_EQ(err, ParseError::BadChecksum);
  EXPECT_TRUE(PacketView::parse(kInitPacket, ChecksumPolicy::AllowZero));
}

TEST(PacketView, AnySingleBitFlipFailsChecksum) {
  for (size_t i = 0; i < kInitPacket.size() * 8; ++i) {
    auto bad = kInitPacket;
    bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    ParseError err{};
    EXPECT_FALSE(PacketView::parse(bad, ChecksumPolicy::Verify, &err)) << "bit " << i;
    EXPECT_EQ(err, ParseError::BadChecksum);
  }
}

TEST(PacketView, TooShort) {
  for (size_t n = 0; n < kCommonHeaderSize; ++n) {
    std::vector<uint8_t> b(kInitPacket.begin(), kInitPacket.begin() + n);
    ParseError err{};
    EXPECT_FALSE(PacketView::parse(b, ChecksumPolicy::Skip, &err));
    EXPECT_EQ(err, ParseError::TooShort);
  }
}

TEST(PacketView, HeaderOnlyIsValidWithNoChunks) {
  std::vector<uint8_t> buf;
  PacketWriter w(buf);
  w.begin(1, 2, VerificationTag(3));
  auto pkt = PacketView::parse(w.finish());
  ASSERT_TRUE(pkt);
  EXPECT_EQ(pkt->chunk_count(), 0u);
  EXPECT_TRUE(pkt->begin() == pkt->end());
}

// A packet with several chunks of odd lengths (so padding is present) to cut up.
std::vector<uint8_t> multi_chunk_packet() {
  std::vector<uint8_t> buf;
  PacketWriter w(buf);
  w.begin(5000, 5001, VerificationTag(0x01020304));
  const uint8_t payload[] = {1, 2, 3, 4, 5};
  DataChunk d;
  d.tsn = Tsn(100);
  d.beginning = d.ending = true;
  d.payload = payload;
  w.add(d);
  SackChunk s;
  s.gap_blocks = {{2, 3}};
  w.add(s);
  const uint8_t info[] = {9, 9, 9};
  w.add(HeartbeatChunk{info});
  w.add(CookieAckChunk{});
  w.finish();
  return buf;
}

TEST(PacketView, IteratesAllChunks) {
  auto b = multi_chunk_packet();
  auto pkt = PacketView::parse(b);
  ASSERT_TRUE(pkt);
  ASSERT_EQ(pkt->chunk_count(), 4u);
  std::vector<uint8_t> types;
  for (const auto& c : *pkt) types.push_back(c.type);
  EXPECT_EQ(types, (std::vector<uint8_t>{0, 3, 4, 11}));
  auto it = pkt->begin();
  EXPECT_EQ(it->value.size(), 17u);  // 12 fixed + 5 payload
  EXPECT_EQ((it++)->type, 0);
  EXPECT_EQ(it->type, 3);
  EXPECT_EQ(std::distance(pkt->begin(), pkt->end()), 4);
}

// Every prefix: either rejected, or accepted with every view inside the bytes and a
// chunk count equal to what iteration yields. Each prefix lives in its own exactly-sized
// heap buffer so that a sanitizer build catches any read past the end.
TEST(PacketView, EveryPrefixIsSafe) {
  auto full = multi_chunk_packet();
  for (size_t n = 0; n <= full.size(); ++n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    for (auto policy : {ChecksumPolicy::Skip, ChecksumPolicy::Verify}) {
      auto pkt = PacketView::parse(b, policy);
      if (policy == ChecksumPolicy::Verify && n != full.size()) {
        EXPECT_FALSE(pkt) << n;
        continue;
      }
      if (!pkt) continue;
      size_t count = 0;
      for (const auto& c : *pkt) {
        ++count;
        EXPECT_TRUE(inside(c.whole, b));
        EXPECT_TRUE(inside(c.value, b));
        EXPECT_EQ(c.whole.size(), c.value.size() + 4);
      }
      EXPECT_EQ(count, pkt->chunk_count());
    }
  }
}

TEST(PacketView, PrefixBoundariesAcceptedWhereTheRfcAllows) {
  auto full = multi_chunk_packet();
  // Chunks: DATA 21 (padded 24), SACK 20, HEARTBEAT 11 (padded 12), COOKIE ACK 4.
  ASSERT_EQ(full.size(), 12u + 24 + 20 + 12 + 4);
  auto accepted = [&](size_t n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    auto p = PacketView::parse(b, ChecksumPolicy::Skip);
    return p ? static_cast<int>(p->chunk_count()) : -1;
  };
  EXPECT_EQ(accepted(12), 0);
  EXPECT_EQ(accepted(13), 0);  // 1..3 trailing bytes ignored
  EXPECT_EQ(accepted(15), 0);
  EXPECT_EQ(accepted(16), -1);  // a chunk header whose length runs past the end
  EXPECT_EQ(accepted(32), -1);
  EXPECT_EQ(accepted(33), 1);  // DATA without its padding, as the last chunk
  EXPECT_EQ(accepted(35), 1);
  EXPECT_EQ(accepted(36), 1);
  EXPECT_EQ(accepted(39), 1);
  EXPECT_EQ(accepted(40), -1);
  EXPECT_EQ(accepted(56), 2);
  EXPECT_EQ(accepted(67), 3);  // HEARTBEAT unpadded
  EXPECT_EQ(accepted(68), 3);
  EXPECT_EQ(accepted(71), 3);
  EXPECT_EQ(accepted(72), 4);
}

std::vector<uint8_t> with_chunk(std::vector<uint8_t> chunk_bytes) {
  return testing::concat({0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0}, chunk_bytes);
}

TEST(PacketView, ChunkLengthBelowFourRejected) {
  for (uint8_t len = 0; len < 4; ++len) {
    auto b = with_chunk({11, 0, 0, len, 0, 0, 0, 0});
    ParseError err{};
    EXPECT_FALSE(PacketView::parse(b, ChecksumPolicy::Skip, &err)) << int{len};
    EXPECT_EQ(err, ParseError::BadChunkLength);
  }
}

TEST(PacketView, OverlongChunkLengthRejected) {
  for (uint16_t len : {9, 12, 13, 100, 0xFFFF}) {
    auto b =
        with_chunk({10, 0, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 1, 2, 3, 4});
    ParseError err{};
    EXPECT_FALSE(PacketView::parse(b, ChecksumPolicy::Skip, &err)) << len;
    EXPECT_EQ(err, ParseError::BadChunkLength);
  }
  // A second chunk whose length is too long, after a good one.
  auto b = with_chunk({11, 0, 0, 4, 10, 0, 0, 9, 1, 2, 3, 4});
  EXPECT_FALSE(PacketView::parse(b, ChecksumPolicy::Skip));
}

TEST(PacketView, MisPaddedChunkInTheMiddleRejected) {
  // COOKIE ECHO of length 5 followed directly (no padding) by a COOKIE ECHO of length 8:
  // the parser reads the next header at offset 8, where it finds garbage.
  auto b = with_chunk({10, 0, 0, 5, 0xAA, 10, 0, 0, 8, 1, 2, 3, 4});
  ParseError err{};
  EXPECT_FALSE(PacketView::parse(b, ChecksumPolicy::Skip, &err));
  EXPECT_EQ(err, ParseError::BadChunkLength);
  // With the padding in place it is two chunks.
  auto good = with_chunk({10, 0, 0, 5, 0xAA, 0, 0, 0, 11, 0, 0, 4});
  auto pkt = PacketView::parse(good, ChecksumPolicy::Skip);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(pkt->chunk_count(), 2u);
}

TEST(PacketView, IteratorOverMalformedRegionStops) {
  // Iterators are public; one built over garbage ends instead of running off.
  const std::vector<uint8_t> garbage = {1, 0, 0xFF, 0xFF, 0, 0};
  PacketView::Iterator it(garbage);
  PacketView::Iterator end(std::span<const uint8_t>(garbage).subspan(garbage.size()));
  EXPECT_TRUE(it == end);
}

}  // namespace
}  // namespace sctpp::wire
