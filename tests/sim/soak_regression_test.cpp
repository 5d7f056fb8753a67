// Regression scenarios for bugs the soak found, reduced to the smallest setup that
// shows them. A test named DISABLED_ documents a bug that is not fixed yet: run it
// with --gtest_also_run_disabled_tests; enable it with the fix.
#include <gtest/gtest.h>

#include <optional>

#include "sim_network.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {
namespace {

const IpAddress kClient = *IpAddress::parse("10.0.1.1");
const IpAddress kServer = *IpAddress::parse("10.0.0.100");

// Bug (soak --strict, e.g. seeds 20, 46, 187, 206 at commit e1fa8e0: "send side
// holds N bytes (limit N)").
//
// AssocConfig::send_buffer is "bytes queued (unsent + unacknowledged) beyond which
// send() says WouldBlock", but Association::send() and send_buffer_free()
// (src/assoc/association.cpp) count send_queue_->queued_bytes() +
// rtx_->outstanding_bytes(), and outstanding_bytes() is the flight size of
// RFC 9260 §7.2: it leaves out chunks the peer acknowledged by a Gap Ack Block
// (which must still be held until the Cumulative TSN Ack passes them: §6.2.1 /
// the peer may renege) and chunks marked for retransmission by T3-rtx (§6.3.3 E3)
// or fast retransmit. Those bytes stay in the retransmission queue but free send
// buffer, so the user can queue more and the sender holds far more than
// send_buffer: a peer that keeps one TSN missing (or a lossy path) grows the
// sender's memory up to the peer's advertised window — a peer-controlled amount —
// instead of the configured send buffer (design.md §2 "a peer cannot make sctpp
// use unbounded memory"; issue 4 item 4). AssocInfo::queued_bytes under-reports
// the same way.
//
// Here the first DATA chunk never arrives; everything after it does and is
// gap-acked. With a 64 KiB send buffer the client accepted about 3.4 MiB before
// the fix (commit 4a96022: the send buffer counts all unacknowledged bytes).
TEST(SoakRegression, SendBufferCountsGapAckedAndMarkedBytes) {
  SimNetwork net(1);
  EndpointConfig scfg;
  scfg.port = 5000;
  scfg.accept_incoming = true;
  Endpoint& server = net.add_host(kServer, scfg);
  EndpointConfig ccfg;
  ccfg.port = 40000;
  ccfg.assoc.send_buffer = 64 * 1024;
  Endpoint& client = net.add_host(kClient, ccfg);
  std::optional<uint32_t> first_tsn;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (from != kClient) return true;
    auto pv = wire::PacketView::parse(bytes);
    if (!pv) return true;
    for (const auto& c : *pv) {
      if (c.type != static_cast<uint8_t>(wire::ChunkType::Data)) continue;
      auto d = wire::DataChunk::parse(c);
      if (!d) continue;
      if (!first_tsn) first_tsn = d->tsn.value();
      if (d->tsn.value() == *first_tsn) return false;  // this one is always lost
    }
    return true;
  });
  SocketAddress peer = net.address_of(kServer);
  auto cid = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  bool up = false;
  ASSERT_TRUE(net.run_until([&] { return up; }, seconds(10), [&](Endpoint& ep, const Event& e) {
    if (&ep == &client && e.kind == EventKind::Connected) up = true;
  }));
  // The user keeps the send buffer full; nothing is ever acknowledged cumulatively,
  // so everything accepted is still held by the client.
  std::vector<uint8_t> msg(1000, 0x42);
  size_t accepted = 0;
  auto fill = [&] {
    while (client.send(net.now(), *cid, SendInfo{}, msg).ok()) accepted += msg.size();
  };
  fill();
  net.run_until([] { return false; }, seconds(30), [&](Endpoint& ep, const Event& e) {
    if (&ep == &client && e.kind == EventKind::Writable) fill();
    if (&ep == &server && e.kind == EventKind::Readable)
      while (server.receive(net.now(), e.assoc)) {
      }
  });
  fill();
  auto info = client.info(*cid);
  ASSERT_TRUE(info);
  EXPECT_LE(accepted, ccfg.assoc.send_buffer)
      << "send() accepted " << accepted << " bytes while none was acknowledged cumulatively "
      << "(send buffer " << ccfg.assoc.send_buffer << "); AssocInfo says queued_bytes="
      << info->queued_bytes << " outstanding_bytes=" << info->outstanding_bytes;
}

}  // namespace
}  // namespace sctpp::sim
