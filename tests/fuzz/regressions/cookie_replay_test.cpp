// Regression (fuzz_endpoint input regressions/fuzz_endpoint/cookie-replay-after-abort):
// a COOKIE ECHO, with DATA bundled after it, that the network duplicates and that
// arrives again after the association it created was aborted. The endpoint no longer
// sees the closed association (terminated associations are gone to the network), so
// the still-valid cookie creates a second association with the same tags and the
// bundled DATA is delivered to the user a second time.
//
// RFC 9260 allows a cookie to be used for its whole lifetime; issue 4 asks for
// replayed cookies to be rejected. Either remember the tags of cookies already used
// (for one cookie lifetime), or keep a closed association findable for its cookie's
// lifetime so that §5.2.4 handles the duplicate. DISABLED_ until decided.
#include <gtest/gtest.h>

#include <random>

#include "endpoint/endpoint.h"
#include "wire/chunks.h"
#include "wire/packet.h"
#include "wire/parameters.h"

namespace sctpp {
namespace {

const SocketAddress kPeer{*IpAddress::parse("192.0.2.1"), 9899};
const IpAddress kLocal = *IpAddress::parse("192.0.2.2");
constexpr uint32_t kPeerTag = 0x11223344;

TEST(FuzzRegression, CookieReplayedAfterAbortDoesNotDeliverDataTwice) {
  std::mt19937_64 rng(1);
  EndpointConfig c;
  c.port = 5000;
  c.accept_incoming = true;
  c.local_addresses = {kLocal};
  Endpoint ep(c, [&](std::span<uint8_t> out) {
    for (auto& b : out) b = static_cast<uint8_t>(rng());
  });
  Instant now{seconds(100)};
  auto packet = [](uint32_t vtag, auto... chunks) {
    std::vector<uint8_t> buf;
    wire::PacketWriter w(buf);
    w.begin(6000, 5000, VerificationTag(vtag));
    (w.add(chunks), ...);
    w.finish();
    return buf;
  };
  auto drain = [&] {
    std::vector<uint8_t> buf;
    while (ep.poll_transmit(now, buf)) {
    }
  };

  // INIT -> INIT ACK: take the cookie and our tag.
  wire::InitChunk init;
  init.initiate_tag = VerificationTag(kPeerTag);
  init.a_rwnd = 100000;
  init.outbound_streams = init.inbound_streams = 4;
  init.initial_tsn = Tsn(1000);
  ep.handle_packet(now, kPeer, kLocal, packet(0, init));
  std::vector<uint8_t> reply;
  ASSERT_TRUE(ep.poll_transmit(now, reply));
  auto pv = wire::PacketView::parse(reply);
  auto ack = wire::InitAckChunk::parse(*pv->begin());
  ASSERT_TRUE(ack);
  std::vector<uint8_t> cookie;
  auto params = wire::ParamList::parse(ack->params);
  for (const auto& p : *params)
    if (p.type == static_cast<uint16_t>(wire::ParamType::StateCookie))
      cookie.assign(p.value.begin(), p.value.end());
  const uint32_t local_tag = ack->initiate_tag.value();

  // COOKIE ECHO + DATA (the packet the network will duplicate).
  wire::CookieEchoChunk echo;
  echo.cookie = cookie;
  const uint8_t payload[] = {'o', 'n', 'c', 'e'};
  wire::DataChunk data;
  data.tsn = Tsn(1000);
  data.beginning = data.ending = true;
  data.payload = payload;
  const auto echo_packet = packet(local_tag, echo, data);

  int delivered = 0;
  auto read_all = [&] {
    for (AssocId id : ep.associations())
      while (ep.receive(now, id)) ++delivered;
    while (ep.poll_event()) {
    }
  };
  ep.handle_packet(now, kPeer, kLocal, echo_packet);
  drain();
  read_all();
  ASSERT_EQ(delivered, 1);

  // The peer aborts (right tag), then the duplicate COOKIE ECHO arrives 1 ms later.
  ep.handle_packet(now, kPeer, kLocal, packet(local_tag, wire::AbortChunk{}));
  drain();
  read_all();
  now += milliseconds(1);
  ep.handle_packet(now, kPeer, kLocal, echo_packet);
  drain();
  read_all();
  EXPECT_EQ(delivered, 1) << "the replayed COOKIE ECHO delivered its DATA again";
  size_t live = 0;
  for (AssocId id : ep.associations())
    if (ep.info(id)->state != AssocState::Closed) ++live;
  EXPECT_EQ(live, 0u) << "the replayed COOKIE ECHO created a new association";
}

}  // namespace
}  // namespace sctpp
