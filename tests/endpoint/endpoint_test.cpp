// Packet-level behaviour of an endpoint as a peer sees it: stateless INIT handling,
// cookie authentication and staleness, verification-tag rules (RFC 9260 §8.5,
// §8.5.1), out-of-the-blue replies (§8.4) and unknown chunks and parameters (§3.2).
#include "endpoint/endpoint.h"

#include <gtest/gtest.h>

#include <random>

#include "wire/byte_io.h"
#include "wire/chunk_bytes.h"
#include "wire/chunks.h"
#include "wire/error_causes.h"
#include "wire/packet.h"
#include "wire/parameters.h"

namespace sctpp {
namespace {

const SocketAddress kPeer{*IpAddress::parse("192.0.2.1"), 9899};
const IpAddress kLocal = *IpAddress::parse("192.0.2.2");
constexpr uint16_t kPort = 5000;
constexpr uint16_t kPeerPort = 6000;
constexpr uint32_t kPeerTag = 0x11223344;

// Range-for over `*parse(...)` would iterate a destroyed temporary; these copy the
// views out first.
std::vector<wire::ParamView> params_of(std::span<const uint8_t> region) {
  auto list = wire::ParamList::parse(region);
  return list ? std::vector<wire::ParamView>(list->begin(), list->end())
              : std::vector<wire::ParamView>{};
}
std::vector<wire::ChunkView> chunks_of(std::span<const uint8_t> packet) {
  auto pv = wire::PacketView::parse(packet);
  return pv ? std::vector<wire::ChunkView>(pv->begin(), pv->end()) : std::vector<wire::ChunkView>{};
}

// A hand-driven peer: builds packets with the wire codecs and reads the replies.
class EndpointTest : public ::testing::Test {
 protected:
  EndpointTest() { make_endpoint(); }

  // A listening endpoint on kLocal:kPort, its config first changed by `adjust`.
  void make_endpoint(void (*adjust)(EndpointConfig&) = nullptr) {
    EndpointConfig c;
    c.port = kPort;
    c.accept_incoming = true;
    c.local_addresses = {kLocal};
    if (adjust) adjust(c);
    ep_ = std::make_unique<Endpoint>(c, [this](std::span<uint8_t> out) {
      for (auto& b : out) b = static_cast<uint8_t>(rng_());
    });
  }

  template <class... C>
  std::vector<uint8_t> packet(uint32_t vtag, const C&... chunks) {
    std::vector<uint8_t> buf;
    wire::PacketWriter w(buf);
    w.begin(kPeerPort, kPort, VerificationTag(vtag));
    (w.add(chunks), ...);
    w.finish();
    return buf;
  }

  void deliver(const std::vector<uint8_t>& bytes) {
    ep_->handle_packet(now_, kPeer, kLocal, bytes);
  }

  // All packets the endpoint wants to send now.
  std::vector<std::vector<uint8_t>> replies() {
    std::vector<std::vector<uint8_t>> out;
    std::vector<uint8_t> buf;
    while (ep_->poll_transmit(now_, buf)) out.push_back(buf);
    return out;
  }

  wire::InitChunk init_chunk(std::span<const uint8_t> params = {}) {
    wire::InitChunk init;
    init.initiate_tag = VerificationTag(kPeerTag);
    init.a_rwnd = 100000;
    init.outbound_streams = 10;
    init.inbound_streams = 10;
    init.initial_tsn = Tsn(1000);
    init.params = params;
    return init;
  }

  // Sends an INIT and returns the State Cookie and our local tag from the INIT ACK.
  std::pair<std::vector<uint8_t>, uint32_t> get_cookie() {
    deliver(packet(0, init_chunk()));
    auto r = replies();
    EXPECT_EQ(r.size(), 1u);
    auto pv = wire::PacketView::parse(r.at(0));
    EXPECT_TRUE(pv);
    EXPECT_EQ(pv->header().vtag.value(), kPeerTag);
    auto ack = wire::InitAckChunk::parse(*pv->begin());
    EXPECT_TRUE(ack);
    std::vector<uint8_t> cookie;
    for (const auto& p : params_of(ack->params))
      if (p.type == static_cast<uint16_t>(wire::ParamType::StateCookie))
        cookie.assign(p.value.begin(), p.value.end());
    return {cookie, ack->initiate_tag.value()};
  }

  std::optional<Event> next_event() { return ep_->poll_event(); }

  std::mt19937_64 rng_{42};
  Instant now_{seconds(100)};
  std::unique_ptr<Endpoint> ep_;
};

uint8_t first_type(const std::vector<uint8_t>& p) {
  auto pv = wire::PacketView::parse(p);
  return pv && pv->chunk_count() ? pv->begin()->type : 0xff;
}

TEST_F(EndpointTest, InitIsAnsweredWithoutKeepingState) {
  auto [cookie, tag] = get_cookie();
  EXPECT_FALSE(cookie.empty());
  EXPECT_NE(tag, 0u);
  EXPECT_TRUE(ep_->associations().empty()) << "INIT must not create state (§5.1.3)";
}

TEST_F(EndpointTest, InitWithNonZeroVerificationTagIsDropped) {
  deliver(packet(1234, init_chunk()));
  EXPECT_TRUE(replies().empty());
}

TEST_F(EndpointTest, InitWithZeroInitiateTagIsSilentlyDiscarded) {
  auto init = init_chunk();
  init.initiate_tag = VerificationTag(0);
  deliver(packet(0, init));
  EXPECT_TRUE(replies().empty());
}

TEST_F(EndpointTest, InitWithZeroStreamsIsAbortedWithItsInitiateTag) {
  auto init = init_chunk();
  init.inbound_streams = 0;
  deliver(packet(0, init));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  auto pv = wire::PacketView::parse(r[0]);
  ASSERT_TRUE(pv);
  EXPECT_EQ(pv->header().vtag.value(), kPeerTag);
  auto abort = wire::AbortChunk::parse(*pv->begin());
  ASSERT_TRUE(abort);
  EXPECT_FALSE(abort->t_bit);
  auto causes = wire::CauseList::parse(abort->causes)->all();
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].code, static_cast<uint16_t>(wire::CauseCode::InvalidMandatoryParameter));
}

TEST_F(EndpointTest, InitBundledWithAnotherChunkIsDiscarded) {
  deliver(packet(0, init_chunk(), wire::CookieAckChunk{}));
  EXPECT_TRUE(replies().empty());
}

TEST_F(EndpointTest, ValidCookieEchoEstablishesTheAssociation) {
  auto [cookie, tag] = get_cookie();
  wire::CookieEchoChunk echo;
  echo.cookie = cookie;
  deliver(packet(tag, echo));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(first_type(r[0]), static_cast<uint8_t>(wire::ChunkType::CookieAck));
  auto e = next_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::Accepted);
  auto info = ep_->info(e->assoc);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state, AssocState::Established);
  EXPECT_EQ(info->outbound_streams, 10);
}

TEST_F(EndpointTest, ForgedCookieIsSilentlyDiscarded) {
  auto [cookie, tag] = get_cookie();
  for (size_t i : {size_t{0}, cookie.size() / 2, cookie.size() - 1}) {
    auto forged = cookie;
    forged[i] ^= 0x01;
    wire::CookieEchoChunk echo;
    echo.cookie = forged;
    deliver(packet(tag, echo));
    EXPECT_TRUE(replies().empty()) << "byte " << i;
  }
  EXPECT_TRUE(ep_->associations().empty());
}

TEST_F(EndpointTest, CookieEchoWithWrongVerificationTagIsDiscarded) {
  auto [cookie, tag] = get_cookie();
  wire::CookieEchoChunk echo;
  echo.cookie = cookie;
  deliver(packet(tag + 1, echo));
  EXPECT_TRUE(replies().empty());
  EXPECT_TRUE(ep_->associations().empty());
}

TEST_F(EndpointTest, StaleCookieIsAnsweredWithStaleCookieError) {
  auto [cookie, tag] = get_cookie();
  now_ += seconds(61);  // default Valid.Cookie.Life is 60 s
  wire::CookieEchoChunk echo;
  echo.cookie = cookie;
  deliver(packet(tag, echo));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  auto pv = wire::PacketView::parse(r[0]);
  ASSERT_TRUE(pv);
  EXPECT_EQ(pv->header().vtag.value(), kPeerTag);
  auto err = wire::ErrorChunk::parse(*pv->begin());
  ASSERT_TRUE(err);
  auto causes = wire::CauseList::parse(err->causes)->all();
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].code, static_cast<uint16_t>(wire::CauseCode::StaleCookie));
  ASSERT_EQ(causes[0].value.size(), 4u);
  EXPECT_NEAR(wire::load32(causes[0].value.data()), 1'000'000u, 1000u);
  EXPECT_TRUE(ep_->associations().empty());
}

TEST_F(EndpointTest, CookieFromBeforeTwoSecretRotationsIsRejected) {
  auto [cookie, tag] = get_cookie();
  // Two rotations later the secret that signed the cookie is gone.
  now_ += seconds(59);
  get_cookie();
  now_ += seconds(61);
  get_cookie();
  wire::CookieEchoChunk echo;
  echo.cookie = cookie;
  deliver(packet(tag, echo));
  for (const auto& r : replies())
    EXPECT_NE(first_type(r), static_cast<uint8_t>(wire::ChunkType::CookieAck));
  EXPECT_TRUE(ep_->associations().empty());
}

TEST_F(EndpointTest, ReplayedCookieDoesNotCreateASecondAssociation) {
  auto [cookie, tag] = get_cookie();
  wire::CookieEchoChunk echo;
  echo.cookie = cookie;
  deliver(packet(tag, echo));
  replies();
  deliver(packet(tag, echo));
  auto r = replies();
  // A duplicate COOKIE ECHO is answered (our COOKIE ACK may have been lost) but
  // maps onto the same association (§5.2.4 D).
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(first_type(r[0]), static_cast<uint8_t>(wire::ChunkType::CookieAck));
  EXPECT_EQ(ep_->associations().size(), 1u);
}

// Local tags are random 32-bit numbers, so two associations in a cookie's lifetime may
// draw the same one (at thousands of setups per second, every few seconds). Only a
// replay of the same cookie may be refused: a fresh handshake from another peer port
// that happens to draw a spent local tag must still succeed.
TEST_F(EndpointTest, ASpentLocalTagDrawnAgainDoesNotRefuseAnotherPeer) {
  get_cookie();  // the endpoint draws its first cookie secret now, not in the handshakes
  const auto before = rng_;
  auto handshake = [&](uint16_t peer_port, uint32_t peer_tag) {
    std::vector<uint8_t> buf;
    wire::PacketWriter w(buf);
    w.begin(peer_port, kPort, VerificationTag(0));
    wire::InitChunk init = init_chunk();
    init.initiate_tag = VerificationTag(peer_tag);
    w.add(init);
    w.finish();
    deliver(buf);
    auto r = replies();
    EXPECT_EQ(r.size(), 1u);
    if (r.empty()) return std::pair<uint32_t, bool>{0, false};
    auto pv = wire::PacketView::parse(r[0]);
    auto ack = wire::InitAckChunk::parse(*pv->begin());
    std::vector<uint8_t> cookie;
    for (const auto& p : params_of(ack->params))
      if (p.type == static_cast<uint16_t>(wire::ParamType::StateCookie))
        cookie.assign(p.value.begin(), p.value.end());
    wire::CookieEchoChunk echo;
    echo.cookie = cookie;
    buf.clear();
    wire::PacketWriter w2(buf);
    w2.begin(peer_port, kPort, ack->initiate_tag);
    w2.add(echo);
    w2.finish();
    deliver(buf);
    auto r2 = replies();
    const bool acked =
        r2.size() == 1 && first_type(r2[0]) == static_cast<uint8_t>(wire::ChunkType::CookieAck);
    return std::pair<uint32_t, bool>{ack->initiate_tag.value(), acked};
  };
  auto [tag1, ok1] = handshake(6000, 0x01010101);
  ASSERT_TRUE(ok1);
  rng_ = before;  // the same random numbers again: the same local tag
  auto [tag2, ok2] = handshake(6001, 0x02020202);
  ASSERT_EQ(tag1, tag2) << "the test needs the local tag to repeat";
  EXPECT_TRUE(ok2) << "COOKIE ECHO of a fresh handshake was discarded";
  EXPECT_EQ(ep_->associations().size(), 2u);
}

class EstablishedTest : public EndpointTest {
 protected:
  void SetUp() override {
    auto [cookie, tag] = get_cookie();
    local_tag_ = tag;
    wire::CookieEchoChunk echo;
    echo.cookie = cookie;
    deliver(packet(tag, echo));
    replies();
    auto e = next_event();
    ASSERT_TRUE(e);
    id_ = e->assoc;
  }
  wire::DataChunk data(uint32_t tsn, std::span<const uint8_t> payload) {
    wire::DataChunk d;
    d.tsn = Tsn(tsn);
    d.ssn = Ssn(static_cast<uint16_t>(tsn - 1000));  // one message per TSN on stream 0
    d.beginning = d.ending = true;
    d.immediate = true;  // ask for the SACK at once
    d.payload = payload;
    return d;
  }
  uint32_t local_tag_ = 0;
  AssocId id_{0};
};

// The RTT of a HEARTBEAT is measured from when it left, not from the time copied into
// its info, which the peer echoes and may change (fuzz_endpoint found the RTO
// arithmetic overflowing on a forged time: regressions/fuzz_endpoint/
// heartbeat-ack-forged-time). A replayed ACK gives no second sample.
TEST_F(EstablishedTest, HeartbeatAckRttIgnoresTheEchoedTime) {
  std::vector<uint8_t> hb_packet;
  for (int i = 0; i < 200 && hb_packet.empty(); ++i) {
    now_ += seconds(1);
    ep_->handle_timeout(now_);
    for (auto& p : replies())
      if (first_type(p) == static_cast<uint8_t>(wire::ChunkType::Heartbeat)) hb_packet = p;
  }
  ASSERT_FALSE(hb_packet.empty()) << "no HEARTBEAT within 200 s";
  auto pv = wire::PacketView::parse(hb_packet);
  ASSERT_TRUE(pv);
  auto hb = wire::HeartbeatChunk::parse(*pv->begin());
  ASSERT_TRUE(hb);
  std::vector<uint8_t> info(hb->info.begin(), hb->info.end());
  ASSERT_GE(info.size(), 20u);
  for (size_t i = 12; i < 20; ++i) info[i] = i == 12 ? 0x80 : 0;  // a time far in the past

  now_ += milliseconds(30);
  wire::HeartbeatAckChunk ack;
  ack.info = info;
  deliver(packet(local_tag_, ack));
  auto ai = ep_->info(id_);
  ASSERT_TRUE(ai);
  ASSERT_FALSE(ai->paths.empty());
  EXPECT_EQ(ai->paths[0].srtt, milliseconds(30));

  now_ += seconds(5);
  deliver(packet(local_tag_, ack));  // replayed
  ai = ep_->info(id_);
  EXPECT_EQ(ai->paths[0].srtt, milliseconds(30));
}

// An established association whose receive buffer holds only 4 KiB.
class SmallWindowTest : public EstablishedTest {
 protected:
  SmallWindowTest() {
    make_endpoint([](EndpointConfig& c) { c.assoc.receive_buffer = 4096; });
  }
};

// RFC 9260 §6.2: DATA dropped because the window is full MUST be answered at once by
// a SACK showing the current window and not the dropped TSN (it used to go
// unanswered until some later packet).
TEST_F(SmallWindowTest, DataDroppedForLackOfWindowIsSackedAtOnce) {
  const std::vector<uint8_t> kilo(1000, 0x5a);
  // TSN 1000 never arrives, and the messages after it are each the second (SSN 1)
  // of their stream: held, unreadable, and never the in-sequence TSN the reserve
  // admits beyond the window.
  auto first_fragment = [&](uint32_t tsn) {
    wire::DataChunk d = data(tsn, kilo);
    d.stream = StreamId(static_cast<uint16_t>(tsn - 1000));
    d.ssn = Ssn(1);
    d.immediate = false;
    return d;
  };
  uint32_t tsn = 1001;
  for (; tsn < 1001 + 4; ++tsn) {
    deliver(packet(local_tag_, first_fragment(tsn)));
    ASSERT_EQ(replies().size(), 1u) << "gap SACK for " << tsn;
  }
  deliver(packet(local_tag_, first_fragment(tsn)));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u) << "no SACK for DATA dropped for lack of window";
  auto sack = wire::SackChunk::parse(*wire::PacketView::parse(r[0])->begin());
  ASSERT_TRUE(sack);
  EXPECT_EQ(sack->cum_tsn_ack.value(), 999u);
  ASSERT_EQ(sack->gap_blocks.size(), 1u);
  EXPECT_EQ(sack->gap_blocks[0].start, 2);
  EXPECT_EQ(sack->gap_blocks[0].end, 5) << "the dropped TSN 1005 must not be reported";
  EXPECT_LT(sack->a_rwnd, 1000u);
  EXPECT_EQ(ep_->info(id_)->state, AssocState::Established);
}

// An established association allowed one packet of new DATA per event.
class BurstOfOneTest : public EstablishedTest {
 protected:
  BurstOfOneTest() {
    make_endpoint([](EndpointConfig& c) { c.assoc.max_burst = 1; });
  }
  size_t data_chunks(const std::vector<std::vector<uint8_t>>& packets) {
    size_t n = 0;
    for (const auto& p : packets)
      for (const auto& c : chunks_of(p)) n += c.type == static_cast<uint8_t>(wire::ChunkType::Data);
    return n;
  }
};

// RFC 9260 §6.1 D: Max.Burst limits the packets of new DATA sent in one go even when
// the cwnd (4380 bytes initially: three packets here) would allow more; each event
// (here a SACK) opens another burst. It used to send the whole cwnd at once.
TEST_F(BurstOfOneTest, MaxBurstLimitsPacketsPerEvent) {
  const std::vector<uint8_t> message(4000, 0x42);
  ASSERT_TRUE(ep_->send(now_, id_, SendInfo{}, message).ok());
  auto first = replies();
  ASSERT_EQ(data_chunks(first), 1u) << "one packet of new DATA per event";
  EXPECT_EQ(data_chunks(replies()), 0u);
  auto d = wire::DataChunk::parse(chunks_of(first[0]).at(0));
  ASSERT_TRUE(d);
  wire::SackChunk sack;
  sack.cum_tsn_ack = d->tsn;
  sack.a_rwnd = 1 << 20;
  deliver(packet(local_tag_, sack));
  EXPECT_EQ(data_chunks(replies()), 1u);
}

TEST_F(EstablishedTest, DefaultMaxBurstStillFillsTheInitialWindow) {
  const std::vector<uint8_t> message(4000, 0x42);
  ASSERT_TRUE(ep_->send(now_, id_, SendInfo{}, message).ok());
  size_t n = 0;
  for (const auto& p : replies())
    for (const auto& c : chunks_of(p)) n += c.type == static_cast<uint8_t>(wire::ChunkType::Data);
  EXPECT_EQ(n, 3u);
}

TEST_F(EstablishedTest, DataWithWrongVerificationTagIsDropped) {
  const uint8_t payload[] = {1, 2, 3};
  deliver(packet(local_tag_ ^ 1, data(1000, payload)));
  EXPECT_TRUE(replies().empty());
  EXPECT_FALSE(ep_->receive(now_, id_));
  deliver(packet(local_tag_, data(1000, payload)));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(first_type(r[0]), static_cast<uint8_t>(wire::ChunkType::Sack));
  auto m = ep_->receive(now_, id_);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, std::vector<uint8_t>(payload, payload + 3));
}

TEST_F(EstablishedTest, BadChecksumIsDropped) {
  const uint8_t payload[] = {1, 2, 3};
  auto p = packet(local_tag_, data(1000, payload));
  p[8] ^= 0xff;
  deliver(p);
  EXPECT_TRUE(replies().empty());
  EXPECT_FALSE(ep_->receive(now_, id_));
}

TEST_F(EstablishedTest, ZeroChecksumIsRejectedWithoutNegotiation) {
  const uint8_t payload[] = {1, 2, 3};
  auto p = packet(local_tag_, data(1000, payload));
  p[8] = p[9] = p[10] = p[11] = 0;
  deliver(p);
  EXPECT_FALSE(ep_->receive(now_, id_));
}

TEST_F(EstablishedTest, AbortNeedsTheRightTagForItsTBit) {
  wire::AbortChunk a;
  a.t_bit = true;  // reflected: must carry the peer's own tag
  deliver(packet(local_tag_, a));
  EXPECT_EQ(ep_->info(id_)->state, AssocState::Established);
  deliver(packet(kPeerTag, a));
  EXPECT_EQ(ep_->info(id_)->state, AssocState::Closed);
  auto e = next_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::Aborted);
}

TEST_F(EstablishedTest, AbortCauseReachesTheUser) {
  std::vector<uint8_t> causes;
  const char reason[] = "going away";
  wire::CauseWriter(causes).user_initiated_abort(
      std::span(reinterpret_cast<const uint8_t*>(reason), sizeof reason - 1));
  wire::AbortChunk a;
  a.causes = causes;
  deliver(packet(local_tag_, a));
  auto e = next_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::Aborted);
  EXPECT_NE(e->status.reason().find("going away"), std::string::npos) << e->status.reason();
}

TEST_F(EstablishedTest, DataWithoutPayloadIsAbortedWithNoUserData) {
  deliver(packet(local_tag_, data(1000, {})));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  auto pv = wire::PacketView::parse(r[0]);
  auto abort = wire::AbortChunk::parse(*pv->begin());
  ASSERT_TRUE(abort);
  auto causes = wire::CauseList::parse(abort->causes)->all();
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].code, static_cast<uint16_t>(wire::CauseCode::NoUserData));
}

TEST_F(EstablishedTest, DataOnInvalidStreamIsReportedAndAcknowledged) {
  const uint8_t payload[] = {7};
  auto d = data(1000, payload);
  d.stream = StreamId(200);
  deliver(packet(local_tag_, d));
  auto r = replies();
  ASSERT_FALSE(r.empty());
  bool saw_error = false, saw_sack = false;
  for (const auto& p : r) {
    for (const auto& c : chunks_of(p)) {
      if (c.type == static_cast<uint8_t>(wire::ChunkType::Error)) {
        auto causes = wire::CauseList::parse(wire::ErrorChunk::parse(c)->causes)->all();
        saw_error =
            causes.at(0).code == static_cast<uint16_t>(wire::CauseCode::InvalidStreamIdentifier);
      }
      if (c.type == static_cast<uint8_t>(wire::ChunkType::Sack))
        saw_sack = wire::SackChunk::parse(c)->cum_tsn_ack == Tsn(1000);
    }
  }
  EXPECT_TRUE(saw_error);
  EXPECT_TRUE(saw_sack);
  EXPECT_FALSE(ep_->receive(now_, id_));
}

// A raw chunk with an arbitrary type, for the §3.2 upper-two-bit rules.
struct RawChunk {
  uint8_t type;
  size_t size() const { return 8; }
  void write(uint8_t* out) const {
    out[0] = type;
    out[1] = 0;
    wire::store16(out + 2, 8);
    wire::store32(out + 4, 0xdeadbeef);
  }
};

TEST_F(EstablishedTest, UnknownChunkTypesFollowTheirUpperTwoBits) {
  const uint8_t payload[] = {9};
  struct Case {
    uint8_t type;
    bool reported;
    bool continues;
  };
  uint32_t tsn = 1000;
  for (Case c : {Case{0x3f, false, false}, Case{0x7f, true, false}, Case{0xbf, false, true},
                 Case{0xff, true, true}}) {
    deliver(packet(local_tag_, RawChunk{c.type}, data(tsn, payload)));
    bool reported = false;
    for (const auto& p : replies()) {
      for (const auto& ch : chunks_of(p)) {
        if (ch.type != static_cast<uint8_t>(wire::ChunkType::Error)) continue;
        for (const auto& cause : wire::CauseList::parse(wire::ErrorChunk::parse(ch)->causes)->all())
          reported |= cause.code == static_cast<uint16_t>(wire::CauseCode::UnrecognizedChunkType);
      }
    }
    EXPECT_EQ(reported, c.reported) << std::hex << int(c.type);
    bool delivered = ep_->receive(now_, id_).has_value();
    EXPECT_EQ(delivered, c.continues) << std::hex << int(c.type);
    if (delivered) ++tsn;
  }
}

TEST_F(EndpointTest, UnknownInitParameterIsReportedInInitAck) {
  std::vector<uint8_t> params;
  const uint8_t value[] = {1, 2, 3, 4};
  wire::ParamWriter(params).add(uint16_t{0xC0FE}, value);  // 11: skip and report
  deliver(packet(0, init_chunk(params)));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  auto ack = wire::InitAckChunk::parse(*wire::PacketView::parse(r[0])->begin());
  ASSERT_TRUE(ack);
  bool reported = false;
  for (const auto& p : params_of(ack->params))
    if (p.type == static_cast<uint16_t>(wire::ParamType::UnrecognizedParameter))
      reported = p.value.size() >= 4 && wire::load16(p.value.data()) == 0xC0FE;
  EXPECT_TRUE(reported);
}

TEST(OutOfTheBlue, RepliesFollowSection84) {
  auto make = [](uint32_t vtag, auto chunk) {
    std::vector<uint8_t> buf;
    wire::PacketWriter w(buf);
    w.begin(kPeerPort, kPort, VerificationTag(vtag));
    w.add(chunk);
    w.finish();
    return buf;
  };
  // (2) ABORT and (6) SHUTDOWN COMPLETE and (7) COOKIE ACK: no reply.
  EXPECT_FALSE(Endpoint::out_of_the_blue_reply(make(5, wire::AbortChunk{})));
  EXPECT_FALSE(Endpoint::out_of_the_blue_reply(make(5, wire::ShutdownCompleteChunk{})));
  EXPECT_FALSE(Endpoint::out_of_the_blue_reply(make(5, wire::CookieAckChunk{})));
  // (5) SHUTDOWN ACK: SHUTDOWN COMPLETE with the T bit and the reflected tag.
  auto sc = Endpoint::out_of_the_blue_reply(make(77, wire::ShutdownAckChunk{}));
  ASSERT_TRUE(sc);
  auto pv = wire::PacketView::parse(*sc);
  EXPECT_EQ(pv->header().vtag.value(), 77u);
  EXPECT_EQ(pv->header().src_port, kPort);
  EXPECT_EQ(pv->header().dst_port, kPeerPort);
  auto sc_chunk = wire::ShutdownCompleteChunk::parse(*pv->begin());
  ASSERT_TRUE(sc_chunk);
  EXPECT_TRUE(sc_chunk->t_bit);
  // (8) anything else: ABORT with the T bit.
  wire::ShutdownChunk sd;
  auto ab = Endpoint::out_of_the_blue_reply(make(99, sd));
  ASSERT_TRUE(ab);
  pv = wire::PacketView::parse(*ab);
  EXPECT_EQ(pv->header().vtag.value(), 99u);
  EXPECT_TRUE(wire::AbortChunk::parse(*pv->begin())->t_bit);
  // (3) INIT: ABORT with the Initiate Tag, T bit clear.
  wire::InitChunk init;
  init.initiate_tag = VerificationTag(0xabcdef);
  init.outbound_streams = init.inbound_streams = 1;
  auto ai = Endpoint::out_of_the_blue_reply(make(0, init));
  ASSERT_TRUE(ai);
  pv = wire::PacketView::parse(*ai);
  EXPECT_EQ(pv->header().vtag.value(), 0xabcdefu);
  EXPECT_FALSE(wire::AbortChunk::parse(*pv->begin())->t_bit);
}

}  // namespace
}  // namespace sctpp

namespace sctpp {
namespace {

// The client side of a handshake: only an ABORT carrying our own Initiate Tag may
// refuse it; a reflected tag (T bit) is meaningless before we know the peer's.
TEST(ConnectingEndpoint, OnlyAnAbortWithOurInitiateTagRefusesTheSetup) {
  std::mt19937_64 rng(7);
  EndpointConfig c;
  c.port = kPeerPort;
  Endpoint ep(c, [&](std::span<uint8_t> out) {
    for (auto& b : out) b = static_cast<uint8_t>(rng());
  });
  Instant now{seconds(5)};
  SocketAddress server{kLocal, 9899};
  auto id = ep.connect(now, std::span(&server, 1), kPort, InitOptions{});
  ASSERT_TRUE(id.ok());
  std::vector<uint8_t> buf;
  ASSERT_TRUE(ep.poll_transmit(now, buf));
  auto init = wire::InitChunk::parse(*wire::PacketView::parse(buf)->begin());
  ASSERT_TRUE(init);
  auto abort_with = [&](uint32_t vtag, bool t_bit) {
    std::vector<uint8_t> p;
    wire::PacketWriter w(p);
    w.begin(kPort, kPeerPort, VerificationTag(vtag));
    wire::AbortChunk a;
    a.t_bit = t_bit;
    w.add(a);
    w.finish();
    ep.handle_packet(now, server, kPeer.ip, p);
  };
  abort_with(0, true);
  abort_with(init->initiate_tag.value() + 1, false);
  EXPECT_EQ(ep.info(*id)->state, AssocState::CookieWait);
  abort_with(init->initiate_tag.value(), false);
  EXPECT_EQ(ep.info(*id)->state, AssocState::Closed);
  auto e = ep.poll_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::ConnectFailed);
  EXPECT_EQ(e->status.code(), Errc::Refused);
}

// A client endpoint driven through INIT / INIT ACK to COOKIE-ECHOED by hand.
class ClientHandshake : public ::testing::Test {
 protected:
  ClientHandshake() {
    EndpointConfig c;
    c.port = kPeerPort;
    ep_ = std::make_unique<Endpoint>(c, [this](std::span<uint8_t> out) {
      for (auto& b : out) b = static_cast<uint8_t>(rng_());
    });
  }
  template <class C>
  void deliver(uint32_t vtag, const C& chunk, std::optional<SocketAddress> from = std::nullopt) {
    std::vector<uint8_t> p;
    wire::PacketWriter w(p);
    w.begin(kPort, kPeerPort, VerificationTag(vtag));
    w.add(chunk);
    w.finish();
    ep_->handle_packet(now_, from.value_or(server_), kPeer.ip, p);
  }
  std::vector<uint8_t> next_packet(SocketAddress* to = nullptr) {
    std::vector<uint8_t> buf;
    auto t = ep_->poll_transmit(now_, buf);
    if (t && to) *to = t->to;
    return t ? buf : std::vector<uint8_t>{};
  }
  // Connects and answers the INIT; returns the INIT (the COOKIE ECHO is sent).
  wire::InitChunk to_cookie_echoed() {
    id_ = *ep_->connect(now_, std::span(&server_, 1), kPort, InitOptions{});
    init_bytes_ = next_packet();
    auto init = *wire::InitChunk::parse(*wire::PacketView::parse(init_bytes_)->begin());
    std::vector<uint8_t> params;
    const uint8_t cookie[] = {'c', 'o', 'o', 'k', 'i', 'e'};
    wire::ParamWriter(params).add(wire::ParamType::StateCookie, cookie);
    wire::InitAckChunk ack;
    ack.initiate_tag = VerificationTag(kServerTag);
    ack.a_rwnd = 100000;
    ack.outbound_streams = ack.inbound_streams = 10;
    ack.initial_tsn = Tsn(1);
    ack.params = params;
    deliver(init.initiate_tag.value(), ack);
    auto echo = next_packet();
    EXPECT_EQ(first_type(echo), static_cast<uint8_t>(wire::ChunkType::CookieEcho));
    return init;
  }
  static constexpr uint32_t kServerTag = 0x55667788;
  std::mt19937_64 rng_{11};
  Instant now_{seconds(5)};
  SocketAddress server_{kLocal, 9899};
  std::unique_ptr<Endpoint> ep_;
  AssocId id_{0};
  std::vector<uint8_t> init_bytes_;
};

// RFC 9260 §5.2.6: after a Stale Cookie error the new INIT's Cookie Preservative asks
// for the RTT of the COOKIE ECHO / ERROR exchange plus at most 1 s, however stale
// the peer says the cookie was (it used to ask for twice the staleness: 60 s here).
TEST_F(ClientHandshake, StaleCookiePreservativeIsRttPlusAtMostOneSecond) {
  auto init = to_cookie_echoed();
  now_ += milliseconds(250);  // the round trip of COOKIE ECHO and ERROR
  std::vector<uint8_t> causes;
  wire::CauseWriter(causes).stale_cookie(30'000'000);  // 30 s stale
  wire::ErrorChunk err;
  err.causes = causes;
  deliver(init.initiate_tag.value(), err);
  auto again = next_packet();
  auto init2 = wire::InitChunk::parse(*wire::PacketView::parse(again)->begin());
  ASSERT_TRUE(init2);
  std::optional<uint32_t> ms;
  for (const auto& p : params_of(init2->params))
    if (p.type == static_cast<uint16_t>(wire::ParamType::CookiePreservative))
      ms = wire::parse_cookie_preservative(p);
  ASSERT_TRUE(ms);
  EXPECT_GE(*ms, 250u);
  EXPECT_LE(*ms, 1250u);
  EXPECT_EQ(ep_->info(id_)->state, AssocState::CookieWait);
}

// A barely stale cookie asks for the round trip plus twice the staleness.
TEST_F(ClientHandshake, StaleCookiePreservativeForASmallStaleness) {
  auto init = to_cookie_echoed();
  now_ += milliseconds(40);
  std::vector<uint8_t> causes;
  wire::CauseWriter(causes).stale_cookie(100'000);  // 100 ms
  wire::ErrorChunk err;
  err.causes = causes;
  deliver(init.initiate_tag.value(), err);
  const auto again = next_packet();  // the views below point into it
  auto init2 = wire::InitChunk::parse(*wire::PacketView::parse(again)->begin());
  ASSERT_TRUE(init2);
  std::optional<uint32_t> ms;
  for (const auto& p : params_of(init2->params))
    if (p.type == static_cast<uint16_t>(wire::ParamType::CookiePreservative))
      ms = wire::parse_cookie_preservative(p);
  EXPECT_EQ(ms, std::optional<uint32_t>(240u));
}

// RFC 9260 §8.5.1 E: a SHUTDOWN ACK while connecting is out of the blue (§8.4 (5)):
// SHUTDOWN COMPLETE with the T bit and the received tag reflected, whatever that tag
// is (the peer is closing an older association; it cannot know our new tag). The
// setup is not disturbed.
TEST_F(ClientHandshake, ShutdownAckWhileConnectingIsOutOfTheBlue) {
  id_ = *ep_->connect(now_, std::span(&server_, 1), kPort, InitOptions{});
  const auto first = next_packet();  // the views below point into it
  auto init = *wire::InitChunk::parse(*wire::PacketView::parse(first)->begin());
  // From another UDP port: the answer goes there, but the unchecked packet must not
  // move the peer's encapsulation port (RFC 6951 §5.4: only after the tag check).
  const SocketAddress elsewhere{server_.ip, 4444};
  for (uint32_t vtag : {0x0DDBA11u, init.initiate_tag.value()}) {
    deliver(vtag, wire::ShutdownAckChunk{}, elsewhere);
    SocketAddress to;
    auto reply = next_packet(&to);
    EXPECT_EQ(to, elsewhere);
    auto pv = wire::PacketView::parse(reply);
    ASSERT_TRUE(pv) << std::hex << vtag;
    EXPECT_EQ(pv->header().vtag.value(), vtag);
    ASSERT_EQ(pv->chunk_count(), 1u);
    auto sc = wire::ShutdownCompleteChunk::parse(*pv->begin());
    ASSERT_TRUE(sc);
    EXPECT_TRUE(sc->t_bit);
    EXPECT_EQ(ep_->info(id_)->state, AssocState::CookieWait);
  }
  // T1-init: the INIT goes again to where it went first.
  now_ += seconds(2);
  ep_->handle_timeout(now_);
  SocketAddress to;
  auto again = next_packet(&to);
  EXPECT_EQ(first_type(again), static_cast<uint8_t>(wire::ChunkType::Init));
  EXPECT_EQ(to, server_);
}

}  // namespace
}  // namespace sctpp
