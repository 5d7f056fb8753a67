// Loss recovery as a peer sees it on the wire: one lost DATA packet in a long
// transfer is retransmitted after three miss indications (RFC 9260 §7.2.4), before
// any new data (§6.1), without waiting for T3.
#include <gtest/gtest.h>

#include "../sim/sim_network.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {
namespace {

const IpAddress kA = *IpAddress::parse("10.0.0.1");
const IpAddress kB = *IpAddress::parse("10.0.0.2");

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
  std::vector<uint8_t> msg(1000, 7);
  size_t sent = 0, received = 0;
  AssocId sid{0};
  auto pump = [&] {
    while (sent < 3000 && client.send(net.now(), *id, SendInfo{}, msg).ok()) ++sent;
  };
  net.run_until(
      [&] { return received == 3000; }, seconds(60),
      [&](Endpoint& ep, const Event& e) {
        if (&ep == &client && (e.kind == EventKind::Connected || e.kind == EventKind::Writable))
          pump();
        if (&ep == &server && e.kind == EventKind::Accepted) sid = e.assoc;
        if (&ep == &server)
          while (server.receive(net.now(), sid)) ++received;
      });
  EXPECT_EQ(received, 3000u);
  ASSERT_TRUE(lost_tsn);
  EXPECT_TRUE(repaired);
  EXPECT_GE(sacks_reporting_loss, 3);
  // A packet or two may already be on its way when the third report arrives.
  EXPECT_LE(new_data_after_third_report, 2) << "new data sent before the fast retransmit";
  EXPECT_EQ(client.info(*id)->retransmissions, 1u) << "only the lost chunk is resent";
}

}  // namespace
}  // namespace sctpp::sim
