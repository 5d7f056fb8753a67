// Regression tests for bugs the fuzzers found, each with the exact packet that shows
// it. A test named DISABLED_... documents a bug that is not fixed yet: run it with
// --gtest_also_run_disabled_tests; enable it with the fix.
#include <gtest/gtest.h>

#include <random>

#include "endpoint/endpoint.h"
#include "wire/chunks.h"
#include "wire/error_causes.h"
#include "wire/packet.h"
#include "wire/parameters.h"

namespace sctpp {
namespace {

const IpAddress kA = *IpAddress::parse("10.0.0.1");
const IpAddress kB = *IpAddress::parse("10.0.0.2");

// A client endpoint in COOKIE-WAIT, and its INIT.
struct CookieWait {
  CookieWait() {
    EndpointConfig c;
    c.port = 40000;
    c.local_addresses = {kA};
    ep = std::make_unique<Endpoint>(c, [this](std::span<uint8_t> out) {
      for (auto& b : out) b = static_cast<uint8_t>(rng());
    });
    SocketAddress remote{kB, 9899};
    ep->connect(now, std::span(&remote, 1), 5000, InitOptions{});
    std::vector<uint8_t> buf;
    EXPECT_TRUE(ep->poll_transmit(now, buf));
    auto pv = wire::PacketView::parse(buf);
    auto init = wire::InitChunk::parse(*pv->begin());
    local_tag = init->initiate_tag.value();
  }
  std::mt19937_64 rng{7};
  Instant now{seconds(1000)};
  std::unique_ptr<Endpoint> ep;
  uint32_t local_tag = 0;
};

// fuzz_endpoint input regressions/fuzz_endpoint/abort-tag0-bad-init-ack.
// An INIT ACK that must be refused (here: no State Cookie, §5.1 / §3.3.3 "MUST send an
// ABORT ... Missing Mandatory Parameter") is answered with an ABORT whose verification
// tag is 0 and whose T bit is clear: no peer accepts that (§8.5.1 B: the tag must be
// the receiver's own, or its peer's with the T bit). The ABORT must carry the Initiate
// Tag of the INIT ACK (or, reflected, our own tag with the T bit).
// Where: Association::handle_init_ack calls queue_abort() before peer_tag_ is set.
TEST(FuzzRegression, AbortForBadInitAckCarriesThePeersTag) {
  CookieWait cw;
  constexpr uint32_t kPeerTag = 0x55667788;
  wire::InitAckChunk ack;
  ack.initiate_tag = VerificationTag(kPeerTag);
  ack.a_rwnd = 65536;
  ack.outbound_streams = ack.inbound_streams = 10;
  ack.initial_tsn = Tsn(1);
  std::vector<uint8_t> pkt;
  wire::PacketWriter w(pkt);
  w.begin(5000, 40000, VerificationTag(cw.local_tag));
  w.add(ack);
  w.finish();
  cw.ep->handle_packet(cw.now, SocketAddress{kB, 9899}, kA, pkt);

  std::vector<uint8_t> out;
  ASSERT_TRUE(cw.ep->poll_transmit(cw.now, out)) << "no ABORT for an INIT ACK without cookie";
  auto pv = wire::PacketView::parse(out);
  ASSERT_TRUE(pv);
  auto abort = wire::AbortChunk::parse(*pv->begin());
  ASSERT_TRUE(abort);
  uint32_t vtag = pv->header().vtag.value();
  EXPECT_TRUE((vtag == kPeerTag && !abort->t_bit) || (vtag == cw.local_tag && abort->t_bit))
      << "ABORT tag " << std::hex << vtag << " T=" << abort->t_bit << ", peer's tag " << kPeerTag;
}

// fuzz_endpoint input regressions/fuzz_endpoint/heartbeat-ack-tag0-cookie-wait.
// In COOKIE-WAIT the association has no peer tag yet (0). A HEARTBEAT carrying our tag
// is answered with a HEARTBEAT ACK tagged 0, which no peer accepts (§8.5: only INIT
// may carry tag 0). Nothing but INIT ACK, ABORT (and an INIT for a collision) means
// anything in COOKIE-WAIT; such a HEARTBEAT should be discarded, and in any case no
// packet other than INIT (or a reflected reply) should leave with tag 0.
// Where: Association::handle_packet dispatches HEARTBEAT in every state
// (handle_heartbeat queues the ACK with peer_tag_ == 0).
TEST(FuzzRegression, NoHeartbeatAckWithTagZeroInCookieWait) {
  CookieWait cw;
  wire::HeartbeatChunk hb;
  const uint8_t info[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  hb.info = info;
  std::vector<uint8_t> pkt;
  wire::PacketWriter w(pkt);
  w.begin(5000, 40000, VerificationTag(cw.local_tag));
  w.add(hb);
  w.finish();
  cw.ep->handle_packet(cw.now, SocketAddress{kB, 9899}, kA, pkt);
  std::vector<uint8_t> out;
  while (cw.ep->poll_transmit(cw.now, out)) {
    auto pv = wire::PacketView::parse(out);
    ASSERT_TRUE(pv);
    EXPECT_NE(pv->header().vtag.value(), 0u)
        << "packet with tag 0, first chunk type " << int(pv->begin()->type);
  }
}

}  // namespace
}  // namespace sctpp
