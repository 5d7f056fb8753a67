// Loss recovery as a peer sees it on the wire: one lost DATA packet in a long
// transfer is retransmitted after three miss indications (RFC 9260 §7.2.4), before
// any new data (§6.1), without waiting for T3.
#include <gtest/gtest.h>

#include <map>

#include "../sim/sim_network.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {
namespace {

const IpAddress kA = *IpAddress::parse("10.0.0.1");
const IpAddress kB = *IpAddress::parse("10.0.0.2");

// Sends `count` messages of 1000 bytes from `client` (association `id`, connecting)
// to `server`, which reads them as they come, for at most 60 s of virtual time.
// Returns how many arrived.
size_t transfer(SimNetwork& net, Endpoint& client, AssocId id, Endpoint& server, size_t count) {
  std::vector<uint8_t> msg(1000, 7);
  size_t sent = 0, received = 0;
  AssocId sid{0};
  auto pump = [&] {
    while (sent < count && client.send(net.now(), id, SendInfo{}, msg).ok()) ++sent;
  };
  net.run_until(
      [&] { return received == count; }, seconds(60),
      [&](Endpoint& ep, const Event& e) {
        if (&ep == &client && (e.kind == EventKind::Connected || e.kind == EventKind::Writable))
          pump();
        if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
        if (&ep == &server)
          while (server.receive(net.now(), sid)) ++received;
      });
  return received;
}

TEST(FastRetransmit, SingleLossIsRepairedAfterThreeMissReportsBeforeNewData) {
  SimNetwork net(31);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  // All delay on the way out, none on the way back: a SACK arrives the instant it
  // is sent, so counting reports in the filter counts what the sender has seen.
  LinkConditions out;
  out.delay = milliseconds(20);
  out.bandwidth = 50'000'000;
  net.set_link(kA, kB, out);
  LinkConditions back;
  back.delay = Duration(0);
  net.set_link(kB, kA, back);

  // Drop the 200th DATA packet from the client once; record the TSN order sent.
  int data_packets = 0;
  std::optional<uint32_t> lost_tsn;
  std::vector<uint32_t> sent_after_loss;  // first TSN of each DATA packet after the loss
  int sacks_reporting_loss = 0;
  int new_data_after_third_report = 0;
  bool repaired = false;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv) return true;
    for (const auto& c : *pv) {
      if (from == kA && c.type == 0) {
        auto d = wire::DataChunk::parse(c);
        if (!lost_tsn && ++data_packets == 200) {
          lost_tsn = d->tsn.value();
          return false;
        }
        if (lost_tsn && !repaired) {
          if (d->tsn.value() == *lost_tsn) {
            repaired = true;
          } else if (sacks_reporting_loss >= 3) {
            ++new_data_after_third_report;
          }
        }
        break;
      }
      if (from == kB && c.type == 3 && lost_tsn && !repaired) {
        auto s = wire::SackChunk::parse(c);
        if (s->cum_tsn_ack.value() + 1 == *lost_tsn && !s->gap_blocks.empty())
          ++sacks_reporting_loss;
      }
    }
    return true;
  });

  SocketAddress peer = net.address_of(kB);
  auto id = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(transfer(net, client, *id, server, 3000), 3000u);
  ASSERT_TRUE(lost_tsn);
  EXPECT_TRUE(repaired);
  EXPECT_GE(sacks_reporting_loss, 3);
  // A packet or two may already be on its way when the third report arrives.
  EXPECT_LE(new_data_after_third_report, 2) << "new data sent before the fast retransmit";
  EXPECT_EQ(client.info(*id)->retransmissions, 1u) << "only the lost chunk is resent";
}

// RFC 9260 §7.2.4: the packet sent on entering Fast Recovery may ignore cwnd (step
// 3); chunks marked for fast retransmission later in the same recovery go "as soon as
// cwnd allows" (step 5, §6.1 C). Two packets are lost twelve apart: the second loss
// is detected while in Fast Recovery and must be resent within cwnd.
TEST(FastRetransmit, ASecondLossInFastRecoveryIsResentWithinCwnd) {
  SimNetwork net(9);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  LinkConditions link;
  link.delay = milliseconds(20);
  link.bandwidth = 1'250'000;
  net.set_all_links(link);
  SocketAddress peer = net.address_of(kB);
  auto id = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());

  int data_packets = 0, retransmission_packets = 0, over_cwnd = 0;
  std::map<uint32_t, int> sends;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv || from != kA) return true;
    bool data = false, resent = false;
    size_t payload = 0;
    for (const auto& c : *pv) {
      auto d = wire::DataChunk::parse(c);
      if (!d) continue;
      data = true;
      resent |= ++sends[d->tsn.value()] > 1;
      payload += d->payload.size();
    }
    if (!data) return true;
    ++data_packets;
    if (resent && ++retransmission_packets > 1) {
      // The flight before this packet (info() already counts it) left room in cwnd.
      const auto i = client.info(*id);
      if (i->outstanding_bytes - payload >= i->cwnd) ++over_cwnd;
    }
    return data_packets != 300 && data_packets != 312;
  });
  EXPECT_EQ(transfer(net, client, *id, server, 2000), 2000u);
  EXPECT_EQ(retransmission_packets, 2) << "each loss repaired once, by fast retransmit";
  EXPECT_EQ(over_cwnd, 0);
}

// §7.2.1: "The initial cwnd after a retransmission timeout MUST be no more than PMDCS,
// and only one packet is allowed to be in flight until successful acknowledgement."
// The whole first flight is lost; after the timeout one packet goes, then nothing
// until its SACK.
TEST(T3Restart, OnlyOnePacketIsInFlightAfterATimeout) {
  SimNetwork net(7);
  net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  LinkConditions link;
  link.delay = milliseconds(50);
  net.set_all_links(link);
  SocketAddress peer = net.address_of(kB);
  auto id = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  net.run_until([&] { return client.info(*id)->state == AssocState::Established; }, seconds(5));
  bool losing = true, sacked = false;
  int lost = 0, packets_before_sack = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv) return true;
    bool data = false, sack = false;
    for (const auto& c : *pv) {
      data |= c.type == static_cast<uint8_t>(wire::ChunkType::Data);
      sack |= c.type == static_cast<uint8_t>(wire::ChunkType::Sack);
    }
    if (from == kA && data) {
      if (losing) {
        ++lost;
        return false;
      }
      if (!sacked) ++packets_before_sack;
    }
    if (from == kB && sack && !losing) sacked = true;
    return true;
  });
  std::vector<uint8_t> msg(1400, 7);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.send(net.now(), *id, SendInfo{}, msg).ok());
  net.run_until([] { return false; }, milliseconds(500));
  ASSERT_GT(lost, 1);
  losing = false;
  net.run_until([&] { return sacked; }, seconds(5));
  ASSERT_TRUE(sacked);
  EXPECT_EQ(packets_before_sack, 1);
}

// After a T3-rtx timeout the cwnd lets one packet out. A receiver that has acked
// everything SACKs every second packet or after its 200 ms delayed-ack timer, so unless
// that lone packet asks for an immediate SACK (RFC 7053 I bit) the restart waits 200 ms
// per round trip, and with RTO.Min below that (the netns failover test tunes it to
// 100 ms) the next T3 fires spuriously. The same holds for a path that comes back
// after an outage, whose cwnd is one packet.
TEST(T3Restart, APacketAloneInTheWindowAsksForAnImmediateSack) {
  SimNetwork net(5);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  EndpointConfig cc = endpoint_config(40000, false);
  cc.assoc.rto_initial = milliseconds(100);
  cc.assoc.rto_min = milliseconds(100);
  Endpoint& client = net.add_host(kA, cc);
  LinkConditions link;
  link.delay = milliseconds(5);
  net.set_all_links(link);

  int to_drop = 0;       // DATA packets from the client still to drop
  bool dropped = false;  // all of them were
  std::optional<Instant> restart_sent, restart_sacked;  // the first DATA packet after
  bool restart_immediate = false;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv) return true;
    for (const auto& c : *pv) {
      if (from == kB && c.type == 3 && restart_sent && !restart_sacked) restart_sacked = net.now();
      if (from != kA || c.type != 0) continue;
      if (to_drop > 0) {
        dropped = --to_drop == 0;
        return false;
      }
      if (dropped && !restart_sent) {
        restart_sent = net.now();
        restart_immediate = wire::DataChunk::parse(c)->immediate;
      }
      break;
    }
    return true;
  });

  SocketAddress peer = net.address_of(kB);
  auto id = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  std::vector<uint8_t> msg(1400, 7);
  size_t received = 0;
  AssocId sid{0};
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
    if (&ep == &server)
      while (server.receive(net.now(), sid)) ++received;
  };
  auto established = [&] {
    auto i = client.info(*id);
    return i && i->state == AssocState::Established;
  };
  ASSERT_TRUE(net.run_until(established, seconds(5), on_event));
  // One message, acknowledged, then quiet: the receiver owes no SACK.
  ASSERT_TRUE(client.send(net.now(), *id, SendInfo{}, msg).ok());
  net.run_until([] { return false; }, seconds(1), on_event);
  ASSERT_EQ(received, 1u);
  // A window of three packets, all lost: T3 fires and cwnd is one packet.
  to_drop = 3;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.send(net.now(), *id, SendInfo{}, msg).ok());
  ASSERT_TRUE(net.run_until([&] { return received == 4; }, seconds(30), on_event));
  ASSERT_TRUE(restart_sent && restart_sacked);
  EXPECT_TRUE(restart_immediate) << "the lone packet after T3 did not ask for a SACK";
  // Its SACK comes back after a round trip (10 ms), not after the delayed-ack timer.
  EXPECT_LT(*restart_sacked - *restart_sent, milliseconds(100));
}

}  // namespace
}  // namespace sctpp::sim
