// Path management on multi-homed associations, in simulation: what may be sent to an
// address not yet confirmed (RFC 9260 §5.4), which errors count against the whole
// association (§8.1) and against a path (§8.2, §8.3), and when HEARTBEATs stop (§8.3).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "sim_network.h"

namespace sctpp::sim {
namespace {

const IpAddress kC1 = *IpAddress::parse("10.1.0.1");
const IpAddress kC2 = *IpAddress::parse("10.2.0.1");
const IpAddress kS1 = *IpAddress::parse("10.1.0.2");
const IpAddress kS2 = *IpAddress::parse("10.2.0.2");
const IpAddress kS3 = *IpAddress::parse("10.3.0.2");
const IpAddress kS4 = *IpAddress::parse("10.4.0.2");

bool has_chunk(std::span<const uint8_t> bytes, wire::ChunkType t) {
  auto pv = wire::PacketView::parse(bytes);
  if (!pv) return false;
  for (const auto& c : *pv)
    if (c.type == static_cast<uint8_t>(t)) return true;
  return false;
}

PathInfo path_of(Endpoint& ep, AssocId id, const IpAddress& ip) {
  const auto i = ep.info(id);
  if (i)
    for (const auto& p : i->paths)
      if (p.address.ip == ip) return p;
  ADD_FAILURE() << "no path to " << ip.to_string();
  return PathInfo{};
}

void cut(SimNetwork& net, const IpAddress& a, const IpAddress& b) {
  LinkConditions down;
  down.down = true;
  net.set_link(a, b, down);
  net.set_link(b, a, down);
}

// Runs `net` for `d` of virtual time.
void run_for(SimNetwork& net, Duration d,
             const std::function<void(Endpoint&, const Event&)>& on_event = {}) {
  const Instant until = net.now() + d;
  net.run_until([&] { return net.now() >= until; }, d + seconds(1), on_event);
}

TEST(PathManagement, NoSackGoesToAnAddressThatIsNotConfirmed) {
  // §5.4: "An endpoint MUST NOT send any chunks to an UNCONFIRMED address" but a
  // HEARTBEAT (or its ACK). The client sends DATA from its second address, which the
  // server has not confirmed (its HEARTBEAT ACKs from there are lost): the SACKs must
  // go to a confirmed address instead, or a peer could aim them at anyone it lists.
  SimNetwork net{1};
  // The server probes late (RTO.Initial 3 s), so the client's own HEARTBEAT has
  // confirmed the client's side before, and the client's HEARTBEAT ACKs go alone.
  EndpointConfig scfg = endpoint_config(5000, true);
  scfg.assoc.rto_initial = seconds(3);
  Endpoint& server = net.add_host({kS1, kS2}, scfg);
  Endpoint& client = net.add_host({kC1, kC2}, endpoint_config(40000, false));
  AssocId sid{0};
  int sacks_to_unconfirmed = 0, data_from_second = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    if (from == kC2 && has_chunk(b, wire::ChunkType::HeartbeatAck) &&
        !has_chunk(b, wire::ChunkType::Heartbeat))
      return false;
    if (from == kC2 && has_chunk(b, wire::ChunkType::Data)) ++data_from_second;
    if (from == kS2 && has_chunk(b, wire::ChunkType::Sack)) ++sacks_to_unconfirmed;
    return true;
  });
  const SocketAddress peers[] = {net.address_of(kS1), net.address_of(kS2)};
  auto cid = client.connect(net.now(), std::span(peers), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
  };
  net.run_until([&] { return sid.value() != 0 && path_of(client, *cid, kS2).confirmed; },
                seconds(20), on_event);
  ASSERT_TRUE(path_of(client, *cid, kS2).confirmed);
  ASSERT_FALSE(path_of(server, sid, kC2).confirmed);

  ASSERT_TRUE(client.set_primary(net.now(), *cid, kS2).ok());
  std::vector<uint8_t> msg(500, 1);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client.send(net.now(), *cid, SendInfo{}, msg).ok());
  int received = 0;
  net.run_until(
      [&] {
        while (server.receive(net.now(), sid)) ++received;
        return received == 10 && client.info(*cid)->outstanding_bytes == 0;
      },
      seconds(10), on_event);
  EXPECT_EQ(received, 10);
  EXPECT_GT(data_from_second, 0);
  EXPECT_EQ(client.info(*cid)->outstanding_bytes, 0u) << "the data was never acknowledged";
  EXPECT_FALSE(path_of(server, sid, kC2).confirmed);
  EXPECT_EQ(sacks_to_unconfirmed, 0);
}

TEST(PathManagement, NoDataGoesToAPrimaryThatIsNotConfirmed) {
  // §5.4 again: the user made an unconfirmed address the primary (its HEARTBEAT ACKs
  // are lost), then the confirmed path fails. Retransmissions must stay on confirmed
  // addresses.
  SimNetwork net{3};
  Endpoint& server = net.add_host({kS1, kS2}, endpoint_config(5000, true));
  Endpoint& client = net.add_host({kC1, kC2}, endpoint_config(40000, false));
  AssocId sid{0};
  int data_to_unconfirmed = 0;
  bool drop_first = false;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    if (from == kS2 && has_chunk(b, wire::ChunkType::HeartbeatAck)) return false;
    if (from == kC2 && has_chunk(b, wire::ChunkType::Data)) ++data_to_unconfirmed;
    return !(from == kC1 && drop_first && has_chunk(b, wire::ChunkType::Data));
  });
  const SocketAddress peers[] = {net.address_of(kS1), net.address_of(kS2)};
  auto cid = client.connect(net.now(), std::span(peers), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
  };
  net.run_until([&] { return sid.value() != 0; }, seconds(20), on_event);
  ASSERT_FALSE(path_of(client, *cid, kS2).confirmed);
  ASSERT_TRUE(client.set_primary(net.now(), *cid, kS2).ok());
  drop_first = true;
  std::vector<uint8_t> msg(500, 1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.send(net.now(), *cid, SendInfo{}, msg).ok());
  run_for(net, seconds(10), on_event);
  EXPECT_FALSE(path_of(client, *cid, kS2).confirmed);
  EXPECT_EQ(data_to_unconfirmed, 0);
}

TEST(PathManagement, DeadAlternatesDoNotEndAnIdleAssociationWhosePrimaryWorks) {
  // §8.1: "Unacknowledged HEARTBEAT chunks observed on paths different from the path
  // currently used for data transfer SHOULD NOT increment the association error
  // counter". Three of the server's four addresses become unreachable while the
  // association is idle; the primary path works all along.
  SimNetwork net{2};
  Endpoint& server = net.add_host({kS1, kS2, kS3, kS4}, endpoint_config(5000, true));
  Endpoint& client = net.add_host({kC1}, endpoint_config(40000, false));
  AssocId sid{0};
  bool ended = false;
  int unreachable = 0;
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
    if (&ep != &client) return;
    if (e.kind == EventKind::Lost || e.kind == EventKind::Aborted) ended = true;
    if (e.kind == EventKind::PeerAddressChange && e.change == AddressChange::Unreachable)
      ++unreachable;
  };
  const SocketAddress peer = net.address_of(kS1);
  auto cid = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  net.run_until(
      [&] {
        auto i = client.info(*cid);
        return i && i->paths.size() == 4 &&
               std::all_of(i->paths.begin(), i->paths.end(),
                           [](const PathInfo& p) { return p.confirmed; });
      },
      seconds(30), on_event);
  ASSERT_EQ(client.info(*cid)->paths.size(), 4u);
  for (const IpAddress& s : {kS2, kS3, kS4}) cut(net, kC1, s);
  run_for(net, seconds(600), on_event);
  EXPECT_FALSE(ended) << "the association ended although its primary path worked";
  EXPECT_EQ(unreachable, 3);
  // §8.3: an inactive address is still probed, but its counter stops at the limit.
  const int limit = AssocConfig{}.path_max_retrans;
  for (const IpAddress& s : {kS2, kS3, kS4}) {
    EXPECT_FALSE(path_of(client, *cid, s).active);
    EXPECT_EQ(path_of(client, *cid, s).error_count, limit + 1);
  }
  EXPECT_TRUE(path_of(client, *cid, kS1).active);
}

TEST(PathManagement, UnconfirmedAddressesAreProbedOneAtATime) {
  // §5.4: probes of unconfirmed addresses, "sent at each RTO SHOULD be limited by the
  // 'HB.Max.Burst' parameter" (1): a peer with four addresses gets its three
  // unconfirmed ones probed one RTO apart, not all in the same instant.
  SimNetwork net{8};
  Endpoint& server = net.add_host({kS1, kS2, kS3, kS4}, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kC1, endpoint_config(40000, false));
  std::vector<Instant> confirmed;  // when each unconfirmed address answered its probe
  AssocId sid{0};
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
    if (&ep == &client && e.kind == EventKind::PeerAddressChange &&
        e.change == AddressChange::Confirmed) {
      confirmed.push_back(net.now());
    }
  };
  const SocketAddress peer = net.address_of(kS1);
  auto cid = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  run_for(net, seconds(10), on_event);
  ASSERT_EQ(confirmed.size(), 3u) << "every address confirmed";
  const Duration rto = AssocConfig{}.rto_initial;
  for (size_t i = 1; i < confirmed.size(); ++i)
    EXPECT_GE(confirmed[i] - confirmed[i - 1], rto * 9 / 10)
        << "confirmations " << i - 1 << ", " << i;
}

TEST(PathManagement, HeartbeatsStopOnceTheShutdownIsSent) {
  // §8.3: HEARTBEATs are "discontinued after sending either a SHUTDOWN chunk or
  // SHUTDOWN ACK chunk". The peer's SHUTDOWN ACKs are lost, so the client stays in
  // SHUTDOWN-SENT, retransmitting its SHUTDOWN, until it gives up.
  SimNetwork net{4};
  Endpoint& server = net.add_host(kS1, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kC1, endpoint_config(40000, false));
  AssocId sid{0};
  bool shutdown_sent = false;
  int heartbeats_after = 0, shutdowns = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    if (from == kC1 && has_chunk(b, wire::ChunkType::Shutdown)) {
      shutdown_sent = true;
      ++shutdowns;
    }
    if (from == kC1 && shutdown_sent && has_chunk(b, wire::ChunkType::Heartbeat))
      ++heartbeats_after;
    return !(from == kS1 && has_chunk(b, wire::ChunkType::ShutdownAck));
  });
  const SocketAddress peer = net.address_of(kS1);
  auto cid = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
  };
  net.run_until([&] { return sid.value() != 0; }, seconds(20), on_event);
  run_for(net, seconds(25), on_event);
  ASSERT_TRUE(client.shutdown(net.now(), *cid).ok());
  run_for(net, seconds(300), on_event);
  EXPECT_GT(shutdowns, 3);
  EXPECT_EQ(heartbeats_after, 0);
}

TEST(PathManagement, AcknowledgedDataBringsAnUnreachableAddressBack) {
  // §8.2: when an outstanding TSN sent to an address is acknowledged, its error
  // counter is cleared and the upper layer told if it was inactive. The server's
  // HEARTBEAT ACKs are lost, so the idle client declares its one path unreachable
  // (Path.Max.Retrans 5 < Association.Max.Retrans 10); DATA and SACKs still pass.
  SimNetwork net{6};
  Endpoint& server = net.add_host(kS1, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kC1, endpoint_config(40000, false));
  AssocId sid{0};
  bool drop_hb_acks = false, ended = false;
  int available = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> b) {
    return !(from == kS1 && drop_hb_acks && has_chunk(b, wire::ChunkType::HeartbeatAck));
  });
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
    if (&ep != &client) return;
    if (e.kind == EventKind::PeerAddressChange && e.change == AddressChange::Available) ++available;
    if (e.kind == EventKind::Lost || e.kind == EventKind::Aborted) ended = true;
  };
  const SocketAddress peer = net.address_of(kS1);
  auto cid = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(cid.ok());
  net.run_until([&] { return sid.value() != 0; }, seconds(20), on_event);
  drop_hb_acks = true;
  net.run_until([&] { return !path_of(client, *cid, kS1).active; }, seconds(600), on_event);
  ASSERT_FALSE(path_of(client, *cid, kS1).active);
  ASSERT_FALSE(ended);

  std::vector<uint8_t> msg(500, 1);
  // (Not at the instant of a HEARTBEAT probe, whose lost ACK would take the SACK
  // bundled with it along.)
  run_for(net, seconds(1), on_event);
  ASSERT_TRUE(client.send(net.now(), *cid, SendInfo{}, msg).ok());
  run_for(net, seconds(1), on_event);
  EXPECT_EQ(client.info(*cid)->queued_bytes, 0u) << "the message was never acknowledged";
  EXPECT_EQ(available, 1);
  EXPECT_TRUE(path_of(client, *cid, kS1).active);
  EXPECT_EQ(path_of(client, *cid, kS1).error_count, 0);
  EXPECT_FALSE(ended);
}

}  // namespace
}  // namespace sctpp::sim
