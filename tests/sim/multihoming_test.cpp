// Congestion control per destination address on multi-homed hosts, in simulation:
// each path's cwnd limits what is outstanding to that address (RFC 9260 §6.1 B) and
// grows only with acknowledgements of the data sent to it (§7.2.1, §7.2.2); an
// address that sent nothing for a while starts again from a decayed cwnd (§7.2.1).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "sim_network.h"

namespace sctpp::sim {
namespace {

// Two networks: 10.1/16 and 10.2/16. Each host has an address on both, so each
// association has two paths, one per network.
const IpAddress kClient1 = *IpAddress::parse("10.1.0.1");
const IpAddress kClient2 = *IpAddress::parse("10.2.0.1");
const IpAddress kServer1 = *IpAddress::parse("10.1.0.2");
const IpAddress kServer2 = *IpAddress::parse("10.2.0.2");

// The client's send buffer: its default lets a transfer queue megabytes, which a
// slow path takes long to drain.
EndpointConfig client_config(size_t send_buffer) {
  EndpointConfig c = endpoint_config(40000, false);
  if (send_buffer) c.assoc.send_buffer = send_buffer;
  return c;
}

struct TwoHomedHosts {
  explicit TwoHomedHosts(size_t send_buffer = 0)
      : client(net.add_host({kClient1, kClient2}, client_config(send_buffer))) {
    LinkConditions link;
    link.delay = milliseconds(50);
    link.bandwidth = 20'000'000;
    net.set_all_links(link);
  }

  SimNetwork net{7};
  Endpoint& server = net.add_host({kServer1, kServer2}, endpoint_config(5000, true));
  Endpoint& client;
  AssocId cid{0}, sid{0};
  std::vector<uint8_t> msg = std::vector<uint8_t>(1000, 0x5a);
  uint64_t received = 0;
  bool sending = true;

  void pump() {
    while (sending && client.send(net.now(), cid, SendInfo{}, msg).ok()) {
    }
    if (sid.value() != 0)
      while (server.receive(net.now(), sid)) ++received;
  }
  void on_event(Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
    if (&ep == &client && e.kind == EventKind::PeerAddressChange)
      address_changes.push_back({e.address.ip, e.change});
    if (&ep == &client && e.kind == EventKind::Lost) lost = true;
    pump();
  }
  std::vector<std::pair<IpAddress, AddressChange>> address_changes;  // the client's
  bool lost = false;
  // Runs for `d` of virtual time, keeping the client's send buffer full.
  void run_for(Duration d) {
    const Instant until = net.now() + d;
    pump();
    net.run_until([&] { return net.now() >= until; }, d + seconds(1),
                  [&](Endpoint& ep, const Event& e) { on_event(ep, e); });
  }
  // The client's view of its path to `ip`, now.
  PathInfo path(const IpAddress& ip) {
    const auto i = client.info(cid);
    for (const auto& p : i->paths)
      if (p.address.ip == ip) return p;
    ADD_FAILURE() << "no path to " << ip.to_string();
    return PathInfo{};
  }

  // Both directions of one network's link up or down.
  void set_network_down(const IpAddress& client_ip, const IpAddress& server_ip, bool down) {
    for (auto [a, b] : {std::pair{client_ip, server_ip}, std::pair{server_ip, client_ip}}) {
      LinkConditions c = net.link(a, b);
      c.down = down;
      net.set_link(a, b, c);
    }
  }

  // A bulk transfer on the primary path for 3 s opens its window far beyond the
  // initial one, which the second path (no data sent on it yet) still has.
  struct Windows {
    size_t primary, initial;
  };
  Windows open_primary_window() {
    run_for(seconds(3));
    Windows w{path(kServer1).cwnd, path(kServer2).cwnd};
    EXPECT_GT(w.primary, 20 * w.initial);
    return w;
  }

  // Connects to both server addresses (the first is the primary) and runs until both
  // paths are confirmed (§5.4: by heartbeats on the one the handshake did not use).
  void establish() {
    const SocketAddress peers[] = {net.address_of(kServer1), net.address_of(kServer2)};
    auto id = client.connect(net.now(), std::span(peers), 5000, InitOptions{});
    ASSERT_TRUE(id.ok()) << id.status().reason();
    cid = *id;
    sending = false;
    net.run_until(
        [&] {
          auto i = client.info(cid);
          return sid.value() != 0 && i && i->paths.size() == 2 && i->paths[0].confirmed &&
                 i->paths[1].confirmed;
        },
        seconds(30), [&](Endpoint& ep, const Event& e) { on_event(ep, e); });
    ASSERT_NE(sid.value(), 0u);
    ASSERT_TRUE(path(kServer1).confirmed && path(kServer2).confirmed);
    ASSERT_TRUE(path(kServer1).primary);
    sending = true;
  }
};

TEST(Multihoming, ANewPrimaryIsLimitedByItsOwnWindowNotTheOldPathsFlight) {
  TwoHomedHosts h;
  h.establish();
  ASSERT_FALSE(testing::Test::HasFailure());
  const size_t initial = h.open_primary_window().initial;
  ASSERT_FALSE(testing::Test::HasFailure());
  ASSERT_GT(h.client.info(h.cid)->outstanding_bytes, 10 * initial);

  // Data moves to the second path while the first still has a full window in flight.
  std::optional<Instant> first_data_on_new_path;
  h.net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (from != kClient2 || first_data_on_new_path) return true;
    auto pv = wire::PacketView::parse(bytes);
    if (pv)
      for (const auto& c : *pv)
        if (c.type == static_cast<uint8_t>(wire::ChunkType::Data))
          first_data_on_new_path = h.net.now();
    return true;
  });
  const Instant switched = h.net.now();
  ASSERT_TRUE(h.client.set_primary(switched, h.cid, kServer2).ok());
  h.run_for(milliseconds(90));  // less than a round trip (100 ms): nothing on it acked yet

  // §6.1 B: what is outstanding to the old address does not count against the new
  // one, so it sends at once (at the next SACK on the old path), not a round trip
  // later when the old flight has drained below the new path's window.
  ASSERT_TRUE(first_data_on_new_path.has_value());
  EXPECT_LT(*first_data_on_new_path - switched, milliseconds(5));
  // §7.2.1: the acknowledgements of the old path's data, arriving all along, are not
  // the new path's: its window has not grown (none of its own data is acked yet).
  EXPECT_EQ(h.path(kServer2).cwnd, initial);

  // The transfer goes on over the new path, which then opens its own window.
  const uint64_t before = h.received;
  h.run_for(seconds(3));
  EXPECT_GT(h.received, before + 1000);
  EXPECT_GT(h.path(kServer2).cwnd, 10 * initial);
}

TEST(Multihoming, ATimeoutOnOneAddressResendsOnlyWhatWasSentThere) {
  // §6.3.2-6.3.3: each address has its own T3-rtx; when it expires, the chunks sent
  // to that address are retransmitted, not those in flight on another one.
  TwoHomedHosts h;
  // The first network: 50 ms each way. The second: 1 s each way, so that its chunks
  // are still in flight, unacknowledged, when the first address's T3-rtx (RTO 1 s)
  // expires; and none of them is acknowledged early enough to fast-retransmit the
  // first path's losses (§7.2.4), which would repair them without any timeout.
  LinkConditions fast, slow;
  fast.delay = milliseconds(50);
  slow.delay = seconds(1);
  for (auto [a, b] : {std::pair{kClient1, kServer1}, std::pair{kServer1, kClient1}})
    h.net.set_link(a, b, fast);
  for (auto [a, b] : {std::pair{kClient2, kServer2}, std::pair{kServer2, kClient2}})
    h.net.set_link(a, b, slow);
  h.establish();
  ASSERT_FALSE(testing::Test::HasFailure());

  // One message every 10 ms: each goes out in a packet of its own.
  h.sending = false;
  const Instant cut = h.net.now() + seconds(2);
  std::function<void()> tick = [&] {
    EXPECT_TRUE(h.client.send(h.net.now(), h.cid, SendInfo{}, h.msg).ok());
    if (h.net.now() < cut + seconds(3)) h.net.schedule(h.net.now() + milliseconds(10), tick);
  };
  tick();

  // From `cut` on the first network loses every DATA packet, and 30 ms later data
  // moves to the second address: the last three packets sent on the first path never
  // arrive, and its T3-rtx must repair them.
  std::map<uint32_t, int> sends;  // TSN -> times sent, from the cut on
  std::set<uint32_t> lost, on_second;
  h.net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (h.net.now() < cut) return true;
    bool data = false;
    if (auto pv = wire::PacketView::parse(bytes))
      for (const auto& c : *pv) {
        auto d = wire::DataChunk::parse(c);
        if (!d) continue;
        data = true;
        const uint32_t tsn = d->tsn.value();
        ++sends[tsn];
        if (from == kClient1) lost.insert(tsn);
        if (from == kClient2 && !lost.count(tsn)) on_second.insert(tsn);
      }
    return !(data && from == kClient1);
  });
  h.net.schedule(cut + milliseconds(30),
                 [&] { EXPECT_TRUE(h.client.set_primary(h.net.now(), h.cid, kServer2).ok()); });
  h.run_for(seconds(60));

  ASSERT_FALSE(lost.empty());
  ASSERT_GT(on_second.size(), 100u);
  EXPECT_EQ(h.client.info(h.cid)->queued_bytes, 0u) << "not everything was acknowledged";
  // The first path's T3-rtx resent its lost chunks on the second path, the primary
  // now. The chunks in flight on the second path were left alone: each went once.
  for (uint32_t tsn : lost) EXPECT_GE(sends[tsn], 2) << "TSN " << tsn << " never resent";
  size_t resent = 0;
  for (uint32_t tsn : on_second) resent += sends[tsn] > 1;
  EXPECT_EQ(resent, 0u) << "of " << on_second.size() << " chunks first sent on the second path";
}

// §6.4: "when its peer is multi-homed, an endpoint SHOULD send fast retransmissions
// on the same destination transport address where the original data was sent to".
// A chunk lost on the first path, fast-retransmitted after data moved to the second,
// goes again to the first address (the path it was lost on still works: the loss was
// a single drop; its cwnd, cut by the recovery, governs it).
TEST(Multihoming, AFastRetransmissionGoesWhereTheChunkWasSent) {
  TwoHomedHosts h;
  h.establish();
  ASSERT_FALSE(testing::Test::HasFailure());
  h.sending = false;
  const Instant cut = h.net.now() + seconds(1);
  std::function<void()> tick = [&] {
    EXPECT_TRUE(h.client.send(h.net.now(), h.cid, SendInfo{}, h.msg).ok());
    if (h.net.now() < cut + seconds(2)) h.net.schedule(h.net.now() + milliseconds(10), tick);
  };
  tick();
  std::optional<uint32_t> dropped;
  std::vector<IpAddress> resent_from;
  h.net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (h.net.now() < cut) return true;
    if (auto pv = wire::PacketView::parse(bytes))
      for (const auto& c : *pv) {
        auto d = wire::DataChunk::parse(c);
        if (!d) continue;
        if (!dropped && from == kClient1) {
          dropped = d->tsn.value();
          return false;  // this one packet is lost
        }
        if (dropped && d->tsn.value() == *dropped) resent_from.push_back(from);
      }
    return true;
  });
  h.net.schedule(cut + milliseconds(25),
                 [&] { EXPECT_TRUE(h.client.set_primary(h.net.now(), h.cid, kServer2).ok()); });
  h.run_for(seconds(5));
  ASSERT_TRUE(dropped.has_value());
  ASSERT_EQ(resent_from.size(), 1u) << "resent by a timeout, or more than once";
  EXPECT_EQ(resent_from[0], kClient1) << "fast retransmission left the original address";
  EXPECT_EQ(h.client.info(h.cid)->queued_bytes, 0u);
  EXPECT_GT(h.client.info(h.cid)->retransmissions, 0u);
}

TEST(Multihoming, AnAddressIdleForSeveralRtosStartsAgainFromADecayedWindow) {
  TwoHomedHosts h;
  h.establish();
  ASSERT_FALSE(testing::Test::HasFailure());
  const size_t initial = h.open_primary_window().initial;
  ASSERT_FALSE(testing::Test::HasFailure());

  // Stop, let everything be acknowledged, then stay idle for many RTOs (heartbeats
  // keep the association up but carry no data).
  h.sending = false;
  h.run_for(seconds(60));
  ASSERT_EQ(h.client.info(h.cid)->outstanding_bytes, 0u);
  // One message: before it goes out the window is halved per idle RTO, down to the
  // floor of 4*MTU (§7.2.1), and one message cannot grow it by more than an MTU. The
  // initial window (4380 bytes at this MTU) is below that floor, twice it above.
  ASSERT_TRUE(h.client.send(h.net.now(), h.cid, SendInfo{}, h.msg).ok());
  h.run_for(seconds(1));
  EXPECT_LT(h.path(kServer1).cwnd, 2 * initial);
  EXPECT_GE(h.path(kServer1).cwnd, initial);
}

TEST(Multihoming, TheTransferFailsOverWhenThePrimarysNetworkGoesDownAndComesBack) {
  // RFC 9260 §6.4, §8.2, RFC 7829: the primary's T3-rtx timeouts make it potentially
  // failed and then unreachable; data moves to the other address at once and the
  // association lives on. When the network returns, a heartbeat finds the address
  // again and data goes back to the primary.
  TwoHomedHosts h;
  h.establish();
  ASSERT_FALSE(testing::Test::HasFailure());
  h.run_for(seconds(2));
  ASSERT_GT(h.received, 1000u);

  uint64_t from_first = 0, from_second = 0;  // DATA packets the client sent on each
  h.net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (pv && pv->chunk_count() > 0 && (*pv->begin()).type == 0)
      ++(from == kClient1 ? from_first : from_second);
    return true;
  });
  h.set_network_down(kClient1, kServer1, true);
  const uint64_t at_cut = h.received;
  h.run_for(seconds(10));
  // Data kept flowing over the second network, within a few RTOs of the cut.
  EXPECT_GT(h.received, at_cut + 10'000u);
  EXPECT_GT(from_second, 5'000u);
  EXPECT_FALSE(h.lost);
  // Declared unreachable once Path.Max.Retrans (5) more probes went unanswered, with
  // the RTO doubling each time (1 + 2 + ... + 32 s): within two minutes. The
  // transfer pauses meanwhile, only heartbeats go out.
  h.sending = false;
  h.run_for(seconds(120));
  EXPECT_EQ(std::count(h.address_changes.begin(), h.address_changes.end(),
                       std::pair{kServer1, AddressChange::Unreachable}),
            1);
  EXPECT_FALSE(h.path(kServer1).active);
  EXPECT_TRUE(h.path(kServer2).active);

  h.set_network_down(kClient1, kServer1, false);
  // The next heartbeat finds it: HB.interval (30 s) plus the RTO, backed off to
  // RTO.Max (60 s) by the unanswered probes.
  h.run_for(seconds(100));
  EXPECT_EQ(std::count(h.address_changes.begin(), h.address_changes.end(),
                       std::pair{kServer1, AddressChange::Available}),
            1);
  EXPECT_TRUE(h.path(kServer1).active);
  // Back on the primary, from a window that grows in slow start again (a late SACK
  // for data sent before the cut must not have revived the dead address, sent data
  // there and collapsed its ssthresh with a second timeout).
  h.sending = true;
  from_first = from_second = 0;
  const uint64_t before = h.received;
  h.run_for(seconds(2));
  EXPECT_GT(h.received, before + 1000u);
  EXPECT_GT(from_first, 1000u);
  EXPECT_LT(from_second, 10u);
  EXPECT_FALSE(h.lost);
}

}  // namespace
}  // namespace sctpp::sim
