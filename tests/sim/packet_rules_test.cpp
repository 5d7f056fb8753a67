// Rules about which packets an endpoint answers, in simulation: out-of-the-blue
// packets with Verification Tag 0 (RFC 9260 §8.5.1 A) and packets carrying an ABORT
// (§9.1).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "sim_network.h"
#include "wire/byte_io.h"
#include "wire/parameters.h"

namespace sctpp::sim {
namespace {

const IpAddress kA = *IpAddress::parse("10.0.0.1");
const IpAddress kB = *IpAddress::parse("10.0.0.2");
const IpAddress kX = *IpAddress::parse("10.0.0.9");  // someone else

// One packet of the given chunks, ports and tag, checksum set.
template <class... C>
std::vector<uint8_t> packet(uint16_t sport, uint16_t dport, uint32_t vtag, const C&... chunks) {
  std::vector<uint8_t> buf;
  wire::PacketWriter w(buf);
  w.begin(sport, dport, VerificationTag(vtag));
  (w.add(chunks), ...);
  auto s = w.finish();
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(PacketRules, AnOutOfTheBluePacketWithTagZeroIsDiscarded) {
  // §8.5.1 A: a packet with Verification Tag 0 must contain only an INIT, "Otherwise,
  // the receiver MUST silently discard the packet". Answering would send a T-bit
  // ABORT (or SHUTDOWN COMPLETE) with tag 0 to the address the packet claims.
  SimNetwork net(102);
  Endpoint& b = net.add_host(kB, endpoint_config(5000, true));
  int replies = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t>) {
    replies += from == kB;
    return true;
  });
  const std::vector<uint8_t> payload = {1, 2, 3, 4};
  wire::DataChunk d;
  d.tsn = Tsn(1);
  d.beginning = d.ending = true;
  d.payload = payload;
  b.handle_packet(net.now(), SocketAddress{kX, 9899}, kB, packet(40000, 5000, 0, d));
  b.handle_packet(net.now(), SocketAddress{kX, 9899}, kB,
                  packet(40000, 5000, 0, wire::ShutdownAckChunk{}));
  net.run_until([] { return false; }, milliseconds(50));
  EXPECT_EQ(replies, 0);
  // With a tag the same packets are answered (§8.4 rules 5 and 8).
  b.handle_packet(net.now(), SocketAddress{kX, 9899}, kB, packet(40000, 5000, 1234, d));
  net.run_until([] { return false; }, milliseconds(50));
  EXPECT_EQ(replies, 1);
}

TEST(PacketRules, NothingAnswersAPacketThatCarriesAnAbort) {
  // §9.1: "An endpoint MUST NOT respond to any received packet that contains an ABORT
  // chunk". A HEARTBEAT in front of the ABORT would otherwise get its ACK.
  SimNetwork net(106);
  net.add_host(kB, endpoint_config(5000, true));
  Endpoint& a = net.add_host(kA, endpoint_config(40000, false));
  SocketAddress peer = net.address_of(kB);
  auto id = a.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  uint32_t tag_at_a = 0;  // the tag B's packets carry
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (from == kB && bytes.size() >= 8) tag_at_a = wire::load32(bytes.data() + 4);
    return true;
  });
  bool aborted = false;
  net.run_until([&] { return a.info(*id)->state == AssocState::Established && tag_at_a != 0; },
                seconds(5));
  ASSERT_EQ(a.info(*id)->state, AssocState::Established);

  int sent_by_a = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t>) {
    sent_by_a += from == kA;
    return true;
  });
  const uint8_t info[8] = {0, 1, 0, 8, 1, 2, 3, 4};  // a Heartbeat Info parameter
  wire::HeartbeatChunk hb;
  hb.info = std::span<const uint8_t>(info + 4, 4);
  a.handle_packet(net.now(), SocketAddress{kB, 9899}, kA,
                  packet(5000, 40000, tag_at_a, hb, wire::AbortChunk{}));
  net.run_until(
      [] { return false; }, milliseconds(100),
      [&](Endpoint& ep, const Event& e) { aborted |= &ep == &a && e.kind == EventKind::Aborted; });
  EXPECT_TRUE(aborted);
  EXPECT_EQ(sent_by_a, 0);
}

TEST(PacketRules, AnInitAckForAnExistingAssociationDoesNotRevealItsTags) {
  // §5.2.2: the Tie-Tags of a cookie for an existing association are random values,
  // not its verification tags. The cookie is signed, not encrypted, and whoever sends
  // an INIT from the peer's IP (from any UDP port: another process, another host
  // behind the same NAT) gets it; with the tags it could abort the association.
  SimNetwork net(103);
  Endpoint& b = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& a = net.add_host(kA, endpoint_config(40000, false));
  SocketAddress peer = net.address_of(kB);
  auto id = a.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  uint32_t tag_at_a = 0, tag_at_b = 0;  // tags of packets B -> A and A -> B
  std::optional<std::vector<uint8_t>> init_ack;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (bytes.size() > 12 && bytes[12] == static_cast<uint8_t>(wire::ChunkType::InitAck) &&
        tag_at_a != 0)
      init_ack.emplace(bytes.begin(), bytes.end());
    else if (from == kB)
      tag_at_a = wire::load32(bytes.data() + 4);
    else if (from == kA)
      tag_at_b = wire::load32(bytes.data() + 4);
    return !init_ack;
  });
  net.run_until(
      [&] {
        return tag_at_a != 0 && tag_at_b != 0 && a.info(*id)->state == AssocState::Established;
      },
      seconds(5));
  ASSERT_EQ(a.info(*id)->state, AssocState::Established);

  wire::InitChunk init;
  init.initiate_tag = VerificationTag(0x1234);
  init.a_rwnd = 65536;
  init.outbound_streams = init.inbound_streams = 10;
  init.initial_tsn = Tsn(1000);
  b.handle_packet(net.now(), SocketAddress{kA, 7777}, kB, packet(40000, 5000, 0, init));
  net.run_until([&] { return init_ack.has_value(); }, seconds(1));
  ASSERT_TRUE(init_ack);
  auto contains = [&](uint32_t tag) {
    uint8_t be[4];
    wire::store32(be, tag);
    return std::search(init_ack->begin(), init_ack->end(), be, be + 4) != init_ack->end();
  };
  EXPECT_FALSE(contains(tag_at_b)) << "B's own tag is in the INIT ACK";
  EXPECT_FALSE(contains(tag_at_a)) << "A's tag is in the INIT ACK";
  // And the association is not disturbed by any of it.
  EXPECT_EQ(a.info(*id)->state, AssocState::Established);
}

TEST(PacketRules, AnInitListingAPeersAddressBelongsToThatPeersAssociation) {
  // §5.1.2 D: an INIT is treated as belonging to an existing association if any of
  // its address parameters identifies it. Someone at another address who lists A's
  // address (and uses A's port) must neither get a second association with A's
  // address nor take that address away from A's association.
  SimNetwork net(101);
  Endpoint& b = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& a = net.add_host(kA, endpoint_config(40000, false));
  SocketAddress peer = net.address_of(kB);
  auto id = a.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  AssocId sid{0};
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &b && e.kind == EventKind::Accepted) sid = e.assoc;
  };
  net.run_until([&] { return sid.value() != 0 && a.info(*id)->state == AssocState::Established; },
                seconds(5), on_event);
  ASSERT_NE(sid.value(), 0u);

  std::optional<std::vector<uint8_t>> answer;  // what B sends back to the INIT
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (from == kB && bytes.size() > 12 && wire::load32(bytes.data() + 4) == 0xA77AC4) {
      answer.emplace(bytes.begin(), bytes.end());
      return false;
    }
    return true;
  });
  std::vector<uint8_t> params;
  wire::ParamWriter pw(params);
  pw.add_address(kX);
  pw.add_address(kA);
  wire::InitChunk init;
  init.initiate_tag = VerificationTag(0xA77AC4);
  init.a_rwnd = 65536;
  init.outbound_streams = init.inbound_streams = 10;
  init.initial_tsn = Tsn(1000);
  init.params = params;
  b.handle_packet(net.now(), SocketAddress{kX, 9899}, kB, packet(40000, 5000, 0, init));
  net.run_until([&] { return answer.has_value(); }, seconds(1), on_event);
  ASSERT_TRUE(answer);
  // §5.2.2: it adds an address (kX) to A's association: ABORT, "Restart of an
  // Association with New Addresses", no cookie.
  EXPECT_EQ((*answer)[12], static_cast<uint8_t>(wire::ChunkType::Abort));
  EXPECT_EQ(b.associations().size(), 1u);
  EXPECT_EQ(b.association_with(kA, 40000), sid);

  // A's association goes on.
  std::vector<uint8_t> msg(100, 7);
  ASSERT_TRUE(a.send(net.now(), *id, SendInfo{}, msg).ok());
  std::optional<Message> got;
  net.run_until([&] { return (got = b.receive(net.now(), sid)).has_value(); }, seconds(5),
                on_event);
  EXPECT_TRUE(got.has_value());
}

TEST(PacketRules, AResentCookieEchoPastItsLifeIsStillAcknowledged) {
  // §5.2.4 step 3: a COOKIE ECHO whose tags both match the association is valid even
  // past its lifespan: our COOKIE ACKs were lost, the peer kept resending the echo.
  // A Stale Cookie error would send it back to an INIT that the existing association
  // then keeps answering with cookies the peer cannot use: it never connects.
  SimNetwork net(104);
  EndpointConfig sc = endpoint_config(5000, true);
  sc.assoc.valid_cookie_life = seconds(3);
  net.add_host(kB, sc);
  Endpoint& a = net.add_host(kA, endpoint_config(40000, false));
  const Instant start = net.now();
  int cookie_acks_lost = 0, errors = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    if (from != kB || bytes.size() <= 12) return true;
    if (bytes[12] == static_cast<uint8_t>(wire::ChunkType::CookieAck) &&
        net.now() - start < seconds(5)) {
      ++cookie_acks_lost;
      return false;
    }
    errors += bytes[12] == static_cast<uint8_t>(wire::ChunkType::Error);
    return true;
  });
  SocketAddress peer = net.address_of(kB);
  auto id = a.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(id.ok());
  bool connected = false, failed = false;
  net.run_until([&] { return connected || failed; }, seconds(600),
                [&](Endpoint& ep, const Event& e) {
                  connected |= &ep == &a && e.kind == EventKind::Connected;
                  failed |= &ep == &a && e.kind == EventKind::ConnectFailed;
                });
  EXPECT_GT(cookie_acks_lost, 1);
  EXPECT_EQ(errors, 0) << "a Stale Cookie error for the association's own cookie";
  EXPECT_TRUE(connected);
  EXPECT_LT(net.now() - start, seconds(10));
}

TEST(PacketRules, CrossingInitsAgreeOnTheStreamsEachSideAskedFor) {
  // §5.2.1: an INIT received in COOKIE-WAIT is answered by an INIT ACK "using the
  // same parameters it sent in its original INIT". A asked for 3 streams each way
  // while B connects to A at the same time: both ends must end up with at most 3,
  // and agree, so that every message A may send is one B accepts.
  SimNetwork net(107);
  Endpoint& a = net.add_host(kA, endpoint_config(5000, false));
  Endpoint& b = net.add_host(kB, endpoint_config(6000, false));
  InitOptions three;
  three.num_ostreams = 3;
  three.max_instreams = 3;
  SocketAddress to_b = net.address_of(kB), to_a = net.address_of(kA);
  auto aid = a.connect(net.now(), std::span(&to_b, 1), 6000, three);
  auto bid = b.connect(net.now(), std::span(&to_a, 1), 5000, InitOptions{});
  ASSERT_TRUE(aid.ok() && bid.ok());
  net.run_until(
      [&] {
        return a.info(*aid)->state == AssocState::Established &&
               b.info(*bid)->state == AssocState::Established;
      },
      seconds(30));
  const auto ia = a.info(*aid), ib = b.info(*bid);
  ASSERT_EQ(ia->state, AssocState::Established);
  EXPECT_LE(ia->outbound_streams, 3);
  EXPECT_LE(ia->inbound_streams, 3);
  EXPECT_EQ(ia->outbound_streams, ib->inbound_streams);
  EXPECT_EQ(ia->inbound_streams, ib->outbound_streams);
}

TEST(PacketRules, InShutdownSentEveryDataPacketGetsAShutdownAndKeepsThePeerAlive) {
  // §9.2: in SHUTDOWN-SENT "respond to each received packet containing one or more
  // DATA chunks with a SHUTDOWN chunk and restart the T2-shutdown timer", and any
  // packet from the peer "SHOULD clear the endpoint's retransmission count". A shuts
  // down without reading, B has 400 kB queued and probes A's closed window: A must
  // answer each DATA packet, and must not declare B lost, which is alive all along.
  SimNetwork net(105);
  EndpointConfig ac = endpoint_config(40000, false);
  ac.assoc.receive_buffer = 64 * 1024;
  Endpoint& b = net.add_host(kB, endpoint_config(5000, true));
  Endpoint& a = net.add_host(kA, ac);
  SocketAddress peer = net.address_of(kB);
  auto aid = a.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(aid.ok());
  AssocId sid{0};
  bool a_lost = false;
  auto on_event = [&](Endpoint& ep, const Event& e) {
    if (&ep == &b && e.kind == EventKind::Accepted) sid = e.assoc;
    a_lost |= &ep == &a && (e.kind == EventKind::Lost || e.kind == EventKind::Aborted);
  };
  net.run_until([&] { return sid.value() != 0 && a.info(*aid)->state == AssocState::Established; },
                seconds(5), on_event);
  ASSERT_NE(sid.value(), 0u);
  std::vector<uint8_t> msg(4096, 3);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(b.send(net.now(), sid, SendInfo{}, msg).ok());
  ASSERT_TRUE(a.shutdown(net.now(), *aid).ok());
  // Counted from the start: the first burst reaches A in batches fed at one instant,
  // and each of their packets needs its own SHUTDOWN too.
  int data_packets_to_a = 0, shutdown_packets_from_a = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv) return true;
    bool data = false, shutdown = false;
    for (const auto& c : *pv) {
      data |= c.type == static_cast<uint8_t>(wire::ChunkType::Data);
      shutdown |= c.type == static_cast<uint8_t>(wire::ChunkType::Shutdown);
    }
    data_packets_to_a += from == kB && data;
    shutdown_packets_from_a += from == kA && shutdown;
    return true;
  });
  net.run_until([&] { return a_lost; }, seconds(1800), on_event);
  EXPECT_FALSE(a_lost) << "the peer was alive and probing all along";
  EXPECT_GT(data_packets_to_a, 10);
  EXPECT_GE(shutdown_packets_from_a, data_packets_to_a);
}

TEST(PacketRules, PacketsToOrFromNonUnicastAddressesAreDiscarded) {
  // §8.4 rule 1: "If the OOTB packet is to or from a non-unicast address, a receiver
  // SHOULD silently discard the packet." An INIT from a multicast source, or sent to
  // the broadcast address, would otherwise be answered with an INIT ACK.
  SimNetwork net(108);
  Endpoint& b = net.add_host(kB, endpoint_config(5000, true));
  int replies = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t>) {
    replies += from == kB;
    return true;
  });
  wire::InitChunk init;
  init.initiate_tag = VerificationTag(0x4321);
  init.a_rwnd = 65536;
  init.outbound_streams = init.inbound_streams = 10;
  init.initial_tsn = Tsn(1);
  const auto bytes = packet(40000, 5000, 0, init);
  b.handle_packet(net.now(), SocketAddress{*IpAddress::parse("224.0.0.1"), 9899}, kB, bytes);
  b.handle_packet(net.now(), SocketAddress{kX, 9899}, *IpAddress::parse("255.255.255.255"), bytes);
  b.handle_packet(net.now(), SocketAddress{kX, 9899}, *IpAddress::parse("239.1.2.3"), bytes);
  net.run_until([] { return false; }, milliseconds(50));
  EXPECT_EQ(replies, 0);
  b.handle_packet(net.now(), SocketAddress{kX, 9899}, kB, bytes);  // unicast: answered
  net.run_until([] { return false; }, milliseconds(50));
  EXPECT_EQ(replies, 1);
}

TEST(PacketRules, TheSenderDoesNotFillASmallWindowWithSlivers) {
  // §6.1 A: the sender MUST avoid silly window syndrome (RFC 1122 §4.2.3.4). The
  // receiver's buffer holds 8 messages of 1000 bytes and its reader takes one every
  // 20 ms: as the window opens by a few bytes at a time, the sender must wait for a
  // useful window instead of splitting messages into slivers that fit it.
  SimNetwork net(10);
  EndpointConfig sc = endpoint_config(5000, true);
  sc.assoc.receive_buffer = 8004;
  Endpoint& b = net.add_host(kB, sc);
  Endpoint& a = net.add_host(kA, endpoint_config(40000, false));
  SocketAddress peer = net.address_of(kB);
  auto aid = a.connect(net.now(), std::span(&peer, 1), 5000, InitOptions{});
  ASSERT_TRUE(aid.ok());
  AssocId sid{0};
  net.run_until([&] { return sid.value() != 0 && a.info(*aid)->state == AssocState::Established; },
                seconds(5),
                [&](Endpoint& ep, const Event& e) {
                  if (&ep == &b && e.kind == EventKind::Accepted) sid = e.assoc;
                });
  ASSERT_NE(sid.value(), 0u);
  int slivers = 0, chunks = 0;
  net.set_filter([&](const IpAddress& from, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv || from != kA) return true;
    for (const auto& c : *pv)
      if (auto d = wire::DataChunk::parse(c)) {
        ++chunks;
        slivers += d->payload.size() < 200;
      }
    return true;
  });
  std::vector<uint8_t> msg(1000, 7);
  size_t sent = 0, read = 0;
  auto pump = [&] {
    while (sent < 200 && a.send(net.now(), *aid, SendInfo{}, msg).ok()) ++sent;
  };
  pump();
  std::function<void()> reader = [&] {
    if (b.receive(net.now(), sid)) ++read;
    net.schedule(net.now() + milliseconds(20), reader);
  };
  net.schedule(net.now() + milliseconds(20), reader);
  net.run_until([&] { return read == 200; }, seconds(30),
                [&](Endpoint& ep, const Event& e) {
                  if (&ep == &a && e.kind == EventKind::Writable) pump();
                });
  EXPECT_EQ(read, 200u);
  EXPECT_GE(chunks, 200);
  EXPECT_EQ(slivers, 0);
}

}  // namespace
}  // namespace sctpp::sim
