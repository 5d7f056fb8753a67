// Association life-cycle cases in simulation: flow control against a receiver that
// stops reading, loss of the peer (Association.Max.Retrans), heartbeats on an idle
// association, RTT tracking through a bulk transfer, INIT collision (§5.2.1) and peer
// restart (§5.2.2, §5.2.4 A).
#include <gtest/gtest.h>

#include <set>

#include "sim_network.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {
namespace {

const IpAddress kA = *IpAddress::parse("10.0.0.1");
const IpAddress kB = *IpAddress::parse("10.0.0.2");

// Collects the events of a run for later assertions.
struct Recorder {
  std::vector<std::pair<Endpoint*, Event>> events;
  void operator()(Endpoint& ep, const Event& e) { events.push_back({&ep, e}); }
  std::optional<Event> find(const Endpoint& ep, EventKind kind) const {
    for (const auto& [who, e] : events)
      if (who == &ep && e.kind == kind) return e;
    return std::nullopt;
  }
  int count(const Endpoint& ep, EventKind kind) const {
    int n = 0;
    for (const auto& [who, e] : events) n += (who == &ep && e.kind == kind);
    return n;
  }
};

AssocId connect(SimNetwork& net, Endpoint& from, const IpAddress& to, uint16_t port,
                InitOptions init = {}) {
  SocketAddress peer = net.address_of(to);
  auto id = from.connect(net.now(), std::span(&peer, 1), port, init);
  EXPECT_TRUE(id.ok()) << id.status().reason();
  return id.ok() ? *id : AssocId(0);
}

// Connects `client` to kB port 5000 and runs until the client reports it connected:
// its id, 0 if it never did.
AssocId connect_and_wait(SimNetwork& net, Endpoint& client, Recorder& rec) {
  AssocId cid = connect(net, client, kB, 5000);
  const bool up = net.run_until([&] { return rec.find(client, EventKind::Connected).has_value(); },
                                seconds(5), std::ref(rec));
  return up ? cid : AssocId(0);
}

// Connects `client` to `server` (at kB, port 5000) and runs until both ends report the
// association: its ids at the client and at the server (0 at the server if it never came).
std::pair<AssocId, AssocId> establish(SimNetwork& net, Endpoint& client, Endpoint& server,
                                      Recorder& rec) {
  AssocId cid = connect(net, client, kB, 5000);
  bool up = net.run_until(
      [&] {
        return rec.find(server, EventKind::Accepted) && rec.find(client, EventKind::Connected);
      },
      seconds(5), std::ref(rec));
  EXPECT_TRUE(up) << "association not established";
  auto accepted = rec.find(server, EventKind::Accepted);
  return {cid, accepted ? accepted->assoc : AssocId(0)};
}

// A client at kA connected to a server at kB whose receive buffer (its window) is 64 KiB.
template <uint64_t kSeed>
class SmallWindowPair : public ::testing::Test {
 protected:
  static constexpr size_t kWindow = 64 * 1024;
  static EndpointConfig server_config() {
    EndpointConfig c = endpoint_config(5000, true);
    c.assoc.receive_buffer = kWindow;
    return c;
  }
  SimNetwork net{kSeed};
  Endpoint& server = net.add_host(kB, server_config());
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  Recorder rec;
  std::pair<AssocId, AssocId> ids = establish(net, client, server, rec);
  AssocId cid = ids.first, sid = ids.second;
};
// The client keeps 512 messages of 4 KiB (2 MiB) queued against the small window;
// the server reads when the test says.
class FlowControl : public SmallWindowPair<21> {
 protected:
  static constexpr size_t kMessages = 512;
  std::vector<uint8_t> msg = std::vector<uint8_t>(4096, 0x5a);
  size_t queued = 0;
  void pump() {
    while (queued < kMessages && client.send(net.now(), cid, SendInfo{}, msg).ok()) ++queued;
  }
  // Events while the reader sleeps: recorded, and the client's queue kept full.
  void on_event(Endpoint& ep, const Event& e) {
    rec(ep, e);
    if (&ep == &client && e.kind == EventKind::Writable) pump();
  }
  // The reader wakes up and reads until every message arrived (or `limit` passed).
  size_t read_all(Duration limit) {
    size_t received = 0;
    while (server.receive(net.now(), sid)) ++received;
    net.run_until([&] { return received == kMessages; }, limit,
                  [&](Endpoint& ep, const Event& e) {
                    on_event(ep, e);
                    while (server.receive(net.now(), sid)) ++received;
                  });
    return received;
  }
};
using Shutdown = SmallWindowPair<24>;
using SharedSend = SmallWindowPair<27>;

// A message handed over without a copy (SharedMessage) stays with the association
// while any of it is unacknowledged, goes out again unchanged when its packets are
// lost, and is let go once the peer has acknowledged all of it.
TEST_F(SharedSend, AMessageIsKeptUntilAcknowledgedAndResentAsItIsAfterLoss) {
  ASSERT_FALSE(HasFailure());  // the association came up
  std::vector<uint8_t> bytes(10000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 13 + i / 97);
  auto message = std::make_shared<const std::vector<uint8_t>>(bytes);
  std::weak_ptr<const std::vector<uint8_t>> held = message;
  // The first three DATA packets from the client are lost.
  int dropped = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    const bool data = from == kA && b.size() > 12 && b[12] == 0;  // first chunk DATA
    if (data && dropped < 3) {
      ++dropped;
      return false;
    }
    return true;
  });
  ASSERT_TRUE(client.send(net.now(), cid, SendInfo{}, message).ok());
  message.reset();
  ASSERT_TRUE(net.run_until([&] { return dropped == 3; }, seconds(1), std::ref(rec)));
  EXPECT_FALSE(held.expired()) << "let go of a message whose packets were lost";

  std::optional<Message> got;
  ASSERT_TRUE(net.run_until([&] { return (got = server.receive(net.now(), sid)).has_value(); },
                            seconds(10), std::ref(rec)));
  EXPECT_TRUE(got->data == bytes) << "the retransmission changed the message";
  EXPECT_TRUE(net.run_until([&] { return held.expired(); }, seconds(5), std::ref(rec)))
      << "still held after the peer acknowledged all of it";

  // A null or empty one is refused, as an empty span is.
  EXPECT_EQ(client.send(net.now(), cid, SendInfo{}, SharedMessage()).code(), Errc::InvalidArgument);
  EXPECT_EQ(client.send(net.now(), cid, SendInfo{}, std::make_shared<const std::vector<uint8_t>>())
                .code(),
            Errc::InvalidArgument);
}

TEST_F(FlowControl, SenderStopsAtTheReceiveWindowAndResumesWhenTheReaderReads) {
  ASSERT_FALSE(HasFailure());  // the association came up

  // 2 MiB in 4 KiB messages, while the server does not read for 30 s.
  pump();
  Instant stop_reading_until = net.now() + seconds(30);
  size_t peak_pending = 0;
  net.run_until([&] { return net.now() >= stop_reading_until; }, seconds(31),
                [&](Endpoint& ep, const Event& e) {
                  on_event(ep, e);
                  auto info = server.info(sid);
                  peak_pending = std::max(peak_pending, info->pending_receive * msg.size());
                });
  // Nothing read: the server holds at most its window (plus the one-chunk probe
  // reserve), however much the client has queued.
  EXPECT_LE(peak_pending, kWindow + 64 * 1024);
  EXPECT_GT(client.info(cid)->queued_bytes, 1'000'000u) << "client kept its data queued";
  EXPECT_EQ(read_all(seconds(120)), kMessages);
}

// RFC 9260 §6.1 A, zero window probing: a reader that stops for half an hour must
// not cost the association. The first probe goes an RTO after the window closed (not
// at once), later ones back off, and probes the peer answers with SACKs do not count
// as errors: the association was declared lost after ten unacknowledged probes
// (~6 minutes) although the peer answered every one.
TEST_F(FlowControl, ZeroWindowProbesBackOffAndNeverEndAnAnsweredAssociation) {
  ASSERT_FALSE(HasFailure());  // the association came up
  pump();
  // On the wire: the highest TSN the client sent, when a SACK closed the window with
  // all of it acknowledged, and the DATA packets (probes) after that.
  std::optional<Tsn> highest_sent;
  std::optional<Instant> closed_at;
  std::vector<Instant> probes;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    auto pv = wire::PacketView::parse(b);
    if (!pv) return true;
    for (const auto& c : *pv) {
      if (from == kA && c.type == static_cast<uint8_t>(wire::ChunkType::Data)) {
        const Tsn tsn = wire::DataChunk::parse(c)->tsn;
        if (!highest_sent || *highest_sent < tsn) highest_sent = tsn;
        if (closed_at) probes.push_back(net.now());
      }
      if (from == kB && c.type == static_cast<uint8_t>(wire::ChunkType::Sack)) {
        auto sack = wire::SackChunk::parse(c);
        if (!closed_at && sack->a_rwnd == 0 && highest_sent && sack->cum_tsn_ack == *highest_sent)
          closed_at = net.now();
      }
    }
    return true;
  });
  const Instant stop_reading_until = net.now() + std::chrono::minutes(30);
  net.run_until([&] { return net.now() >= stop_reading_until; }, std::chrono::minutes(31),
                [&](Endpoint& ep, const Event& e) { on_event(ep, e); });
  ASSERT_FALSE(rec.find(client, EventKind::Lost))
      << rec.find(client, EventKind::Lost)->status.reason();
  ASSERT_EQ(client.info(cid)->state, AssocState::Established);
  ASSERT_TRUE(closed_at) << "the window never closed";
  ASSERT_FALSE(probes.empty()) << "no zero window probe";
  const Duration rto = client.info(cid)->rto;
  EXPECT_GE(probes.front() - *closed_at, std::min<Duration>(rto, seconds(1)))
      << "the first probe went before an RTO had passed";
  // Backing off to RTO.Max (60 s): about 35 probes in 30 minutes, not one per RTO.
  EXPECT_LT(probes.size(), 60u);
  EXPECT_GE(probes.back() - probes[probes.size() - 2], seconds(30)) << "no back-off";
  EXPECT_EQ(read_all(seconds(300)), kMessages);
}

// The other half of §6.1 A's rule: probes nobody answers are errors as usual, so a
// peer that vanishes while its window is shut is still detected.
TEST_F(FlowControl, UnansweredZeroWindowProbesStillEndTheAssociation) {
  ASSERT_FALSE(HasFailure());  // the association came up
  pump();
  auto events = [&](Endpoint& ep, const Event& e) { on_event(ep, e); };
  // The server does not read; after ten minutes of probing it goes away.
  net.run_until([] { return false; }, std::chrono::minutes(10), events);
  ASSERT_EQ(client.info(cid)->state, AssocState::Established);
  LinkConditions down;
  down.down = true;
  net.set_all_links(down);
  EXPECT_TRUE(net.run_until([&] { return rec.find(client, EventKind::Lost).has_value(); },
                            std::chrono::minutes(20), events))
      << "probes into the void never ended the association";
}

// The peer that sent SHUTDOWN has no data left, and once it has the SHUTDOWN ACK it
// forgets the association: any packet but SHUTDOWN ACK from us after that is out of
// the blue there and answered with an ABORT (§8.4 (8)). So a reader that opens its
// window after our SHUTDOWN ACK went out must not announce it. Here the SHUTDOWN
// COMPLETE is lost, so the ABORT such a SACK draws would arrive while the server still
// waits: a graceful close would end as "aborted by peer" (seen in `sctpp perf` under
// load). Our T2-shutdown retransmission of SHUTDOWN ACK must close it instead.
TEST_F(Shutdown, ReadingAfterOurShutdownAckDoesNotProvokeAnAbort) {
  ASSERT_FALSE(HasFailure());  // the association came up

  // Most of the window, unread, then the client shuts down.
  std::vector<uint8_t> msg(4096, 0x5a);
  constexpr size_t kMessages = 12;
  for (size_t i = 0; i < kMessages; ++i)
    ASSERT_TRUE(client.send(net.now(), cid, SendInfo{}, msg).ok());
  ASSERT_TRUE(client.shutdown(net.now(), cid).ok());
  bool dropped_complete = false;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (from == kA && bytes.size() > 12 &&
        bytes[12] == static_cast<uint8_t>(wire::ChunkType::ShutdownComplete) && !dropped_complete) {
      dropped_complete = true;
      return false;
    }
    return true;
  });
  ASSERT_TRUE(net.run_until([&] { return rec.find(client, EventKind::Closed).has_value(); },
                            seconds(10), std::ref(rec)));
  ASSERT_TRUE(dropped_complete);
  client.release(cid);  // as the API does once the user has seen the close

  // The server's reader catches up: its window opens by the whole buffer.
  size_t received = 0;
  while (server.receive(net.now(), sid)) ++received;
  EXPECT_EQ(received, kMessages);
  ASSERT_TRUE(net.run_until(
      [&] { return rec.find(server, EventKind::Closed) || rec.find(server, EventKind::Aborted); },
      seconds(60), std::ref(rec)));
  EXPECT_TRUE(rec.find(server, EventKind::Closed).has_value());
  EXPECT_FALSE(rec.find(server, EventKind::Aborted).has_value())
      << rec.find(server, EventKind::Aborted)->status.reason();
}

// RFC 9260 §6.3.3 E2 and §8.1 on a single path the peer stopped answering (ETSI TS
// 102 369 RT-I-11-1): the DATA goes Association.Max.Retrans (10) more times, each wait
// double the last (up to RTO.Max), and only then is the association lost. No HEARTBEAT
// goes beside the retransmissions: the address is not idle (§8.3), and each
// unanswered one counted an error and doubled the same RTO again.
TEST(PeerLoss, RetransmissionsBackOffAlonePastMaxRetrans) {
  SimNetwork net(25);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  Recorder rec;
  AssocId cid = establish(net, client, server, rec).first;
  ASSERT_FALSE(HasFailure());
  std::vector<Instant> data_sent;
  int heartbeats = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    if (from != kA) return false;  // the peer answers nothing from now on
    auto pv = wire::PacketView::parse(b);
    for (const auto& c : *pv) {
      if (c.type == static_cast<uint8_t>(wire::ChunkType::Data)) data_sent.push_back(net.now());
      if (c.type == static_cast<uint8_t>(wire::ChunkType::Heartbeat)) ++heartbeats;
    }
    return true;
  });
  std::vector<uint8_t> msg(100, 1);
  ASSERT_TRUE(client.send(net.now(), cid, SendInfo{}, msg).ok());
  ASSERT_TRUE(net.run_until([&] { return rec.find(client, EventKind::Lost).has_value(); },
                            seconds(3600), std::ref(rec)));
  ASSERT_EQ(data_sent.size(), 11u);  // the original and 10 retransmissions
  for (size_t i = 2; i < data_sent.size(); ++i) {
    const double ratio = std::chrono::duration<double>(data_sent[i] - data_sent[i - 1]) /
                         std::chrono::duration<double>(data_sent[i - 1] - data_sent[i - 2]);
    EXPECT_GE(ratio, 0.95) << i;
    EXPECT_LE(ratio, 2.05) << i;
  }
  EXPECT_EQ(heartbeats, 0);
}

// shutdown() while the association is still being set up: the messages queued for
// the COOKIE ECHO are delivered and the association then closes gracefully (they
// were dropped without a SendFailed, and the peer, holding our COOKIE ECHO, was left
// with a half-open association).
TEST(ShutdownWhileConnecting, QueuedMessagesAreDeliveredFirst) {
  SimNetwork net(26);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  Recorder rec;
  AssocId cid = connect(net, client, kB, 5000);
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> msg(100, static_cast<uint8_t>(i));
    ASSERT_TRUE(client.send(net.now(), cid, SendInfo{}, msg).ok());
  }
  ASSERT_TRUE(client.shutdown(net.now(), cid).ok());
  std::vector<uint8_t> late(10, 9);
  EXPECT_EQ(client.send(net.now(), cid, SendInfo{}, late).code(), Errc::ShuttingDown);
  int received = 0;
  AssocId sid{0};
  ASSERT_TRUE(net.run_until(
      [&] { return rec.find(client, EventKind::Closed) && rec.find(server, EventKind::Closed); },
      seconds(10),
      [&](Endpoint& ep, const Event& e) {
        rec(ep, e);
        if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
        if (&ep == &server)
          while (auto m = server.receive(net.now(), sid)) received += m->data.size() == 100;
      }));
  EXPECT_EQ(received, 3);
  EXPECT_TRUE(rec.find(client, EventKind::Connected).has_value());
  EXPECT_FALSE(rec.find(client, EventKind::SendFailed).has_value());
  EXPECT_FALSE(rec.find(server, EventKind::Aborted).has_value());
}

TEST(PeerLoss, AssociationIsReportedLostAfterMaxRetransmissions) {
  SimNetwork net(22);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  Recorder rec;
  AssocId cid = establish(net, client, server, rec).first;
  ASSERT_FALSE(HasFailure());
  // The peer vanishes; the client keeps sending.
  LinkConditions dead;
  dead.loss = 1.0;
  net.set_all_links(dead);
  std::vector<uint8_t> msg(100, 1);
  ASSERT_TRUE(client.send(net.now(), cid, SendInfo{}, msg).ok());
  ASSERT_TRUE(net.run_until([&] { return rec.find(client, EventKind::Lost).has_value(); },
                            seconds(3600), std::ref(rec)));
  auto lost = rec.find(client, EventKind::Lost);
  EXPECT_EQ(lost->status.code(), Errc::ConnectionLost);
  EXPECT_EQ(client.info(cid)->state, AssocState::Closed);
  EXPECT_FALSE(client.next_timeout());
  // The server, idle, finds out through unanswered heartbeats.
  ASSERT_TRUE(net.run_until([&] { return rec.find(server, EventKind::Lost).has_value(); },
                            seconds(7200), std::ref(rec)));
}

TEST(Heartbeat, IdleAssociationStaysUpAndHeartbeatsFlow) {
  SimNetwork net(23);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  Recorder rec;
  AssocId cid = connect_and_wait(net, client, rec);
  ASSERT_NE(cid.value(), 0u);
  uint64_t before = net.packets_sent();
  net.run_until([] { return false; }, seconds(600), std::ref(rec));
  // RTO.Initial + HB.interval (30 s) apart: roughly 2 x 19 heartbeats + acks in 10 min.
  uint64_t packets = net.packets_sent() - before;
  EXPECT_GE(packets, 40u);
  EXPECT_LE(packets, 100u);
  EXPECT_EQ(client.info(cid)->state, AssocState::Established);
  EXPECT_EQ(rec.count(client, EventKind::Lost) + rec.count(server, EventKind::Lost), 0);
  EXPECT_GT(client.info(cid)->srtt.count(), 0);
}

// §8.3: HEARTBEATs to an idle address go every RTO + HB.interval, "with jittering of
// +/- 50% of the RTO value": spread within that band, not at one fixed period.
TEST(Heartbeat, IntervalsAreJitteredByHalfAnRto) {
  SimNetwork net(29);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  Recorder rec;
  AssocId cid = connect_and_wait(net, client, rec);
  ASSERT_NE(cid.value(), 0u);
  std::vector<Instant> sent;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    auto pv = wire::PacketView::parse(b);
    if (pv && from == kA)
      for (const auto& c : *pv)
        if (c.type == static_cast<uint8_t>(wire::ChunkType::Heartbeat)) sent.push_back(net.now());
    return true;
  });
  net.run_until([] { return false; }, seconds(1200), std::ref(rec));
  ASSERT_GE(sent.size(), 20u);
  const Duration rto = client.info(cid)->rto;  // 1 s (RTO.Min) on this fast link
  std::set<int64_t> distinct;
  for (size_t i = 1; i < sent.size(); ++i) {
    const Duration gap = sent[i] - sent[i - 1];
    EXPECT_GE(gap, seconds(30) + rto / 2 - milliseconds(1)) << i;
    EXPECT_LE(gap, seconds(30) + rto * 3 / 2 + milliseconds(1)) << i;
    distinct.insert(std::chrono::duration_cast<milliseconds>(gap).count());
  }
  EXPECT_GT(distinct.size(), sent.size() / 2) << "no jitter";
  (void)server;
}

// RFC 9260 §6.3.1 C4: while data is in flight, a new RTT measurement each round trip
// (and no more). The smoothed RTT must then follow a path whose delay changes in the
// middle of a bulk transfer, on both sides of the change.
TEST(Rtt, SmoothedRttFollowsThePathThroughABulkTransfer) {
  SimNetwork net(31);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  LinkConditions link;
  link.delay = milliseconds(25);
  net.set_all_links(link);
  Recorder rec;
  const auto ids = establish(net, client, server, rec);
  ASSERT_FALSE(HasFailure());
  const AssocId cid = ids.first, sid = ids.second;  // named: lambdas below capture them

  std::vector<uint8_t> msg(4096, 0x3c);
  uint64_t received = 0;
  auto transfer_for = [&](Duration d) {
    const Instant until = net.now() + d;
    auto pump = [&] {
      while (client.send(net.now(), cid, SendInfo{}, msg).ok()) {
      }
      while (server.receive(net.now(), sid)) ++received;
    };
    pump();
    net.run_until([&] { return net.now() >= until; }, d + seconds(1),
                  [&](Endpoint&, const Event&) { pump(); });
  };

  transfer_for(seconds(10));
  const auto near = client.info(cid)->srtt;
  EXPECT_GE(near, milliseconds(50));  // the path's round trip, 2 x 25 ms
  EXPECT_LE(near, milliseconds(75));

  link.delay = milliseconds(100);
  net.set_all_links(link);
  const uint64_t before = received;
  transfer_for(seconds(20));
  const auto far = client.info(cid)->srtt;
  EXPECT_GE(far, milliseconds(180));
  EXPECT_LE(far, milliseconds(260));
  EXPECT_GT(received, before + 100) << "the transfer did not go on";
  EXPECT_EQ(rec.count(client, EventKind::Lost), 0);
}

TEST(Collision, SimultaneousConnectsYieldOneAssociationEachSide) {
  SimNetwork net(24);
  Endpoint& a = net.add_host(kA, endpoint_config(5000, false));
  Endpoint& b = net.add_host(kB, endpoint_config(6000, false));
  Recorder rec;
  AssocId aid = connect(net, a, kB, 6000);
  AssocId bid = connect(net, b, kA, 5000);
  ASSERT_TRUE(net.run_until(
      [&] {
        return rec.find(a, EventKind::Connected).has_value() &&
               rec.find(b, EventKind::Connected).has_value();
      },
      seconds(30), std::ref(rec)));
  EXPECT_EQ(a.associations().size(), 1u);
  EXPECT_EQ(b.associations().size(), 1u);
  // Data flows both ways on the collided association.
  std::vector<uint8_t> msg = {1, 2, 3};
  ASSERT_TRUE(a.send(net.now(), aid, SendInfo{}, msg).ok());
  ASSERT_TRUE(b.send(net.now(), bid, SendInfo{}, msg).ok());
  std::optional<Message> at_a, at_b;
  net.run_until([&] { return at_a && at_b; }, seconds(10),
                [&](Endpoint&, const Event&) {
                  if (!at_a) at_a = a.receive(net.now(), aid);
                  if (!at_b) at_b = b.receive(net.now(), bid);
                });
  EXPECT_TRUE(at_a && at_a->data == msg);
  EXPECT_TRUE(at_b && at_b->data == msg);
}

TEST(Restart, PeerThatRestartsIsRecognizedAndTheAssociationContinues) {
  SimNetwork net(25);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint* client = &net.add_host(kA, endpoint_config(40000, false));
  Recorder rec;
  connect(net, *client, kB, 5000);
  ASSERT_TRUE(net.run_until([&] { return rec.find(server, EventKind::Accepted).has_value(); },
                            seconds(5), std::ref(rec)));
  AssocId sid = rec.find(server, EventKind::Accepted)->assoc;

  // The client host crashes and comes back with the same address and port.
  client = &net.restart_host(kA, endpoint_config(40000, false));
  rec.events.clear();
  AssocId cid = connect(net, *client, kB, 5000);
  ASSERT_TRUE(net.run_until([&] { return rec.find(*client, EventKind::Connected).has_value(); },
                            seconds(30), std::ref(rec)));
  auto restarted = rec.find(server, EventKind::Restarted);
  ASSERT_TRUE(restarted) << "server did not report the restart";
  EXPECT_EQ(restarted->assoc, sid);
  EXPECT_EQ(server.associations().size(), 1u);

  std::vector<uint8_t> msg = {4, 5, 6};
  ASSERT_TRUE(client->send(net.now(), cid, SendInfo{}, msg).ok());
  std::optional<Message> got;
  net.run_until([&] { return got.has_value(); }, seconds(10),
                [&](Endpoint&, const Event&) { got = server.receive(net.now(), sid); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, msg);
}

}  // namespace
}  // namespace sctpp::sim
