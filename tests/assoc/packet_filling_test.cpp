// How DATA fills packets: with SCTP_NODELAY (the default) every message that fits in a
// packet travels whole; with it off (Nagle) packets are filled to the path MTU, messages
// split across them, and every message still arrives intact and in order.
#include <gtest/gtest.h>

#include "../sim/sim_network.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {
namespace {

const IpAddress kA = *IpAddress::parse("10.0.0.1");
const IpAddress kB = *IpAddress::parse("10.0.0.2");

struct WireCount {
  size_t data_packets = 0;
  size_t full_packets = 0;    // DATA packets within 32 bytes of the largest
  size_t split_messages = 0;  // DATA chunks without both the B and E bits
  size_t largest = 0;
};

// Sends `count` messages of `size` bytes as fast as the client lets them out and
// returns what went over the wire; every message must arrive intact and in order.
WireCount transfer(bool nodelay, size_t size, size_t count) {
  SimNetwork net(11);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  EndpointConfig cc = endpoint_config(40000, false);
  cc.assoc.nodelay = nodelay;
  Endpoint& client = net.add_host(kA, cc);
  LinkConditions link;
  link.delay = milliseconds(1);
  link.bandwidth = 100'000'000;
  net.set_all_links(link);

  std::vector<size_t> sizes;
  WireCount w;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv || from != kA) return true;
    bool data = false;
    for (const auto& c : *pv) {
      if (c.type != 0) continue;
      data = true;
      auto d = wire::DataChunk::parse(c);
      if (!(d->beginning && d->ending)) ++w.split_messages;
    }
    if (data) sizes.push_back(bytes.size());
    return true;
  });

  SocketAddress peer = net.address_of(kB);
  auto id = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  EXPECT_TRUE(id.ok());
  size_t sent = 0, received = 0;
  bool intact = true;
  AssocId sid{0};
  auto pump = [&] {
    while (sent < count) {
      std::vector<uint8_t> msg(size, static_cast<uint8_t>(sent));
      if (!client.send(net.now(), *id, SendInfo{}, msg).ok()) break;
      ++sent;
    }
  };
  net.run_until(
      [&] { return received == count; }, seconds(60),
      [&](Endpoint& ep, const Event& e) {
        if (&ep == &client && (e.kind == EventKind::Connected || e.kind == EventKind::Writable))
          pump();
        if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
        if (&ep != &server) return;
        while (auto m = server.receive(net.now(), sid)) {
          intact &= m->data.size() == size &&
                    std::all_of(m->data.begin(), m->data.end(),
                                [&](uint8_t b) { return b == static_cast<uint8_t>(received); });
          ++received;
        }
      });
  EXPECT_EQ(received, count);
  EXPECT_TRUE(intact) << "a message arrived changed or out of order";
  w.data_packets = sizes.size();
  for (size_t s : sizes) w.largest = std::max(w.largest, s);
  for (size_t s : sizes) w.full_packets += s + 32 >= w.largest;
  return w;
}

TEST(PacketFilling, WithNodelayAMessageThatFitsTravelsWhole) {
  WireCount w = transfer(true, 1024, 2000);
  EXPECT_EQ(w.split_messages, 0u);
  EXPECT_EQ(w.data_packets, 2000u);  // one 1 KiB message per packet at MTU 1500
}

TEST(PacketFilling, WithoutNodelayPacketsAreFilledToThePathMtu) {
  WireCount w = transfer(false, 1024, 2000);
  // 1500 - 20 (IPv4) - 8 (UDP) bytes of SCTP packet: the transport overhead assumed.
  EXPECT_GE(w.largest, 1400u);
  EXPECT_GT(w.split_messages, 1000u);
  // 2000 KiB in packets of ~1.4 KB of payload: about 1,460 packets, not 2,000.
  EXPECT_LT(w.data_packets, 1550u);
  // The rest end where the cwnd does (§6.1 B is checked before each chunk).
  EXPECT_GT(w.full_packets, w.data_packets * 3 / 4);
}

// RFC 9260 §6.1 B: no new DATA to an address with cwnd or more bytes outstanding
// there, the chunks counted as they go on the wire (§7.2). With the first window
// unanswered, a sender of 4-byte messages puts out at most one packet beyond its
// cwnd; counting payload alone let it put five times its cwnd on the wire.
TEST(PacketFilling, TinyMessagesKeepTheWireWithinTheCwnd) {
  SimNetwork net(12);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  EndpointConfig cc = endpoint_config(40000, false);
  cc.assoc.max_burst = 1000;  // the window alone limits this sender (not §6.1 D)
  Endpoint& client = net.add_host(kA, cc);
  LinkConditions link;
  link.delay = milliseconds(5);
  net.set_all_links(link);
  SocketAddress peer = net.address_of(kB);
  auto id = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(net.run_until(
      [&] { return client.info(*id) && client.info(*id)->state == AssocState::Established; },
      seconds(5)));
  (void)server;

  // From now on the server's answers are lost: only the first window goes out.
  size_t chunk_bytes = 0, chunks = 0, packets = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (from != kA) return false;
    auto pv = wire::PacketView::parse(bytes);
    bool data = false;
    for (const auto& c : *pv) {
      if (c.type != 0) continue;
      data = true;
      chunk_bytes += wire::pad4(c.whole.size());
      ++chunks;
    }
    packets += data;
    return true;
  });
  const size_t cwnd = client.info(*id)->cwnd;
  const size_t packet = 1500 - 20 - 8 - wire::kCommonHeaderSize;  // DATA bytes per packet
  const std::vector<uint8_t> msg(4, 0x5A);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(client.send(net.now(), *id, SendInfo{}, msg).ok());
  net.run_until([] { return false; }, milliseconds(100));  // well within the RTO

  EXPECT_GT(chunk_bytes, cwnd - packet) << "the window was not used";
  EXPECT_LT(chunk_bytes, cwnd + packet) << packets << " packets";
  // What SCTP_STATUS's sstat_unackdata reports (RFC 6458 §8.2.1: a chunk count).
  EXPECT_EQ(client.info(*id)->unacked_chunks, chunks);
}

}  // namespace
}  // namespace sctpp::sim
