// SCTP_SACK_IMMEDIATELY (RFC 7053 §4.2) as the peer sees it: the DATA chunk that
// ends a flagged message carries the I bit, and the peer acknowledges it at once, so
// a sender that waits for everything to be acknowledged (SENDER_DRY) does not wait
// for the peer's delayed-ack timer after an odd number of packets.
#include <gtest/gtest.h>

#include <optional>

#include "../sim/sim_network.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {
namespace {

const IpAddress kA = *IpAddress::parse("10.0.0.1");
const IpAddress kB = *IpAddress::parse("10.0.0.2");

struct DryResult {
  Duration until_dry{};
  int data_chunks = 0;
  int with_i_bit = 0;
  bool last_has_i_bit = false;
};

// Sets up an association over 5 ms links, lets its first message (acknowledged at
// once by the peer) settle, then sends a message of three packets with `flags` and
// measures how long until the sender is dry.
DryResult send_three_packets_and_wait_for_dry(SendFlags flags) {
  SimNetwork net(7);
  Endpoint& server = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& client = net.add_host(kA, endpoint_config(40000, false));
  LinkConditions link;
  link.delay = milliseconds(5);
  net.set_all_links(link);
  DryResult r;
  bool counting = false;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv || from != kA || !counting) return true;
    for (const auto& c : *pv) {
      if (c.type != static_cast<uint8_t>(wire::ChunkType::Data)) continue;
      const auto d = wire::DataChunk::parse(c);
      ++r.data_chunks;
      r.with_i_bit += d->immediate;
      r.last_has_i_bit = d->immediate && d->ending;
    }
    return true;
  });
  SocketAddress peer = net.address_of(kB);
  auto id = client.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  EXPECT_TRUE(id.ok());
  AssocId sid{0};
  bool dry = false;
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
    if (&ep == &server)
      while (server.receive(net.now(), sid)) {
      }
    if (&ep == &client && e.kind == EventKind::SenderDry) dry = true;
  };
  auto established = [&] {
    auto i = client.info(*id);
    return i && i->state == AssocState::Established;
  };
  EXPECT_TRUE(net.run_until(established, seconds(5), on_event));
  EXPECT_TRUE(client.send(net.now(), *id, SendInfo{}, std::vector<uint8_t>(100, 1)).ok());
  net.run_until([] { return false; }, seconds(1), on_event);
  // Three packets at the default MTU: the peer acknowledges the first two at once
  // (every second packet) and would hold the third for its delayed-ack time.
  dry = false;
  counting = true;
  SendInfo info;
  info.flags = flags;
  const Instant sent = net.now();
  EXPECT_TRUE(client.send(net.now(), *id, info, std::vector<uint8_t>(3500, 2)).ok());
  EXPECT_TRUE(net.run_until([&] { return dry; }, seconds(5), on_event));
  r.until_dry = net.now() - sent;
  return r;
}

TEST(SackImmediately, TheFlaggedMessagesLastChunkIsAcknowledgedAtOnce) {
  const DryResult flagged = send_three_packets_and_wait_for_dry(SendFlags::SackImmediately);
  EXPECT_EQ(flagged.data_chunks, 3);
  EXPECT_EQ(flagged.with_i_bit, 1) << "only the message's last fragment asks";
  EXPECT_TRUE(flagged.last_has_i_bit);
  EXPECT_LT(flagged.until_dry, milliseconds(50)) << "a few round trips of 10 ms";

  const DryResult plain = send_three_packets_and_wait_for_dry(SendFlags::None);
  EXPECT_EQ(plain.data_chunks, 3);
  EXPECT_EQ(plain.with_i_bit, 0);
  EXPECT_GE(plain.until_dry, milliseconds(200)) << "the peer's delayed-ack time";
}

}  // namespace
}  // namespace sctpp::sim
