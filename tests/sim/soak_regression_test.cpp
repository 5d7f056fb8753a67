// Regression scenarios for bugs the soak found, reduced to the smallest setup that
// shows them. A test named DISABLED_ documents a bug that is not fixed yet: run it
// with --gtest_also_run_disabled_tests; enable it with the fix.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

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
  Endpoint& server = net.add_host(kServer, endpoint_config(5000, true));
  EndpointConfig ccfg = endpoint_config(40000, false);
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
  ASSERT_TRUE(net.run_until([&] { return up; }, seconds(10),
                            [&](Endpoint& ep, const Event& e) {
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
  net.run_until([] { return false; }, seconds(30),
                [&](Endpoint& ep, const Event& e) {
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
      << "(send buffer " << ccfg.assoc.send_buffer
      << "); AssocInfo says queued_bytes=" << info->queued_bytes
      << " outstanding_bytes=" << info->outstanding_bytes;
}

// Bug (soak seed 1196161 at commit 3d741fa: "hang: not every association closed
// within two virtual hours: [client SHUTDOWN-SENT queued=0] [server
// SHUTDOWN-RECEIVED queued=790809]").
//
// The server had data in flight to a client with a hole in it (a link flap) and
// the TSNs above the hole gap-acked, when the client shut down. The client, in
// SHUTDOWN-SENT, answers every DATA packet with a SACK and a SHUTDOWN (§9.2), and
// Association::handle_shutdown applied the SHUTDOWN's Cumulative TSN Ack as a SACK
// without Gap Ack Blocks. RetransmissionQueue::handle_sack takes a previously
// gap-acked TSN that a SACK no longer covers as reneged, so every SHUTDOWN put all
// the gap-acked bytes back in flight: far more than cwnd, so nothing more could be
// sent until T3-rtx expired, which then resent data the client already had, one
// cwnd at a time, with T3 backing off to RTO.max. Acked retransmissions and the
// client's heartbeats kept both error counters at zero, so it never ended either.
// RFC 9260 §3.3.8: the receiver of a SHUTDOWN MUST NOT take the lack of a Gap Ack
// Block as a renege.
//
// Here the client shuts down as soon as it is connected, so it receives all of the
// server's 300 one-chunk messages in SHUTDOWN-SENT. Eight consecutive DATA chunks in
// the middle are lost twice (first transmission and fast retransmission) while the
// chunks after them arrive and are gap-acked, so T3-rtx has to repair the hole from
// a one-MTU cwnd: the state the soak seed was in. Before the fix this took 200 s of
// virtual time (T3 at 1, 2, 4, ... s, each round resending a chunk or two) and resent
// a chunk the client had gap-acked; after it, about 1.5 s (one T3), nothing spurious.
TEST(SoakRegression, ShutdownCumAckDoesNotRenegeGapAckedData) {
  SimNetwork net(7);
  Endpoint& server = net.add_host(kServer, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kClient, endpoint_config(40000, false));
  LinkConditions link;
  link.delay = milliseconds(10);
  net.set_all_links(link);

  constexpr size_t kMessages = 300;
  constexpr uint32_t kHoleStart = 150, kHoleEnd = 158;  // TSN offsets lost twice
  std::optional<uint32_t> first_tsn;
  std::map<uint32_t, int> transmissions;  // server DATA TSN -> times sent
  std::set<uint32_t> dropped;
  int shutdowns_seen = 0;  // SHUTDOWN chunks from the client
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv) return true;
    bool drop = false;
    for (const auto& c : *pv) {
      if (from == kClient && c.type == static_cast<uint8_t>(wire::ChunkType::Shutdown))
        ++shutdowns_seen;
      if (from != kServer || c.type != static_cast<uint8_t>(wire::ChunkType::Data)) continue;
      auto d = wire::DataChunk::parse(c);
      if (!d) continue;
      const uint32_t tsn = d->tsn.value();
      if (!first_tsn) first_tsn = tsn;
      const uint32_t off = tsn - *first_tsn;
      if (++transmissions[tsn] <= 2 && off >= kHoleStart && off < kHoleEnd) {
        dropped.insert(tsn);
        drop = true;
      }
    }
    return !drop;
  });

  SocketAddress peer = net.address_of(kServer);
  auto cid = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  std::vector<uint8_t> msg(1000, 0x5a);
  size_t sent = 0, received = 0;
  bool client_closed = false, server_closed = false, client_in_shutdown_sent = false;
  AssocId sid{0};
  auto pump = [&] {
    while (sent < kMessages && server.send(net.now(), sid, SendInfo{}, msg).ok()) ++sent;
  };
  const Instant start = net.now();
  net.run_until([&] { return client_closed && server_closed; }, seconds(600),
                [&](Endpoint& ep, const Event& e) {
                  if (&ep == &server) {
                    if (e.kind == EventKind::Accepted) {
                      sid = e.assoc;
                      pump();
                    }
                    if (e.kind == EventKind::Writable) pump();
                    if (e.kind == EventKind::Closed) server_closed = true;
                  } else {
                    if (e.kind == EventKind::Connected) {
                      ASSERT_TRUE(client.shutdown(net.now(), *cid).ok());
                      auto info = client.info(*cid);
                      client_in_shutdown_sent = info && info->state == AssocState::ShutdownSent;
                    }
                    if (e.kind == EventKind::Readable)
                      while (client.receive(net.now(), *cid)) ++received;
                    if (e.kind == EventKind::Closed) client_closed = true;
                  }
                });
  const double took = std::chrono::duration<double>(net.now() - start).count();
  EXPECT_TRUE(client_in_shutdown_sent) << "the scenario needs the client in SHUTDOWN-SENT";
  EXPECT_EQ(sent, kMessages);
  EXPECT_EQ(received, kMessages);
  EXPECT_TRUE(client_closed && server_closed);
  EXPECT_EQ(dropped.size(), kHoleEnd - kHoleStart);
  EXPECT_GT(shutdowns_seen, 10) << "the client must answer DATA with SHUTDOWN (§9.2)";
  // Only the lost chunks are sent again: T3-rtx marks what is missing, not what the
  // client gap-acked.
  size_t spurious = 0;
  for (const auto& [tsn, n] : transmissions)
    if (n > 1 && !dropped.count(tsn)) ++spurious;
  EXPECT_EQ(spurious, 0u) << "chunks the client had gap-acked were sent again";
  EXPECT_LT(took, 5.0) << "transfer and shutdown took " << took << " s of virtual time";
}

// Bug (soak seed 150836 at 4c75c18: "hang: [client ESTABLISHED] [server
// SHUTDOWN-SENT]" for two virtual hours).
//
// In SHUTDOWN-SENT every packet from the peer restarted T2-shutdown (§9.2 "restart
// the T2-shutdown timer"). When the SHUTDOWN itself was lost and the idle peer sent
// only HEARTBEATs, each one arriving within the (backed-off) RTO pushed T2 further
// out: the SHUTDOWN was never sent again. §9.2's restart is for a peer still sending
// its queued DATA ("as the peer sends all of its queued DATA chunks"), and DATA
// packets are answered with a SHUTDOWN anyway; any packet still clears the
// retransmission count.
TEST(SoakRegression, ALostShutdownIsResentWhileThePeerOnlyHeartbeats) {
  SimNetwork net(150836);
  EndpointConfig scfg = endpoint_config(5000, true);
  scfg.assoc.rto_initial = seconds(40);  // T2 longer than the peer's HEARTBEAT period
  scfg.assoc.rto_min = seconds(40);
  Endpoint& server = net.add_host(kServer, scfg);
  Endpoint& client = net.add_host(kClient, endpoint_config(40000, false));
  SocketAddress peer = net.address_of(kServer);
  auto cid = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  AssocId sid{0};
  bool client_closed = false, server_closed = false;
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
    if (&ep == &server && e.kind == EventKind::Closed) server_closed = true;
    if (&ep == &client && e.kind == EventKind::Closed) client_closed = true;
  };
  ASSERT_TRUE(net.run_until([&] { return sid.value() != 0; }, seconds(5), on_event));
  int shutdowns = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    auto pv = wire::PacketView::parse(b);
    if (pv && from == kServer)
      for (const auto& c : *pv)
        if (c.type == static_cast<uint8_t>(wire::ChunkType::Shutdown) && ++shutdowns == 1)
          return false;  // the first SHUTDOWN is lost
    return true;
  });
  ASSERT_TRUE(server.shutdown(net.now(), sid).ok());
  EXPECT_TRUE(net.run_until([&] { return client_closed && server_closed; }, seconds(600), on_event))
      << shutdowns << " SHUTDOWN(s) sent";
  EXPECT_GE(shutdowns, 2);
}

}  // namespace
}  // namespace sctpp::sim
