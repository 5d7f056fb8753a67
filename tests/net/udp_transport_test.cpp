// UDP encapsulation transport on loopback: binding, packet info, IPv6, batching.
#include "net/udp_transport.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <string>
#include <vector>

namespace sctpp::net {
namespace {

const IpAddress kV4 = IpAddress::loopback(IpAddress::Family::V4);
const IpAddress kV6 = IpAddress::loopback(IpAddress::Family::V6);

std::unique_ptr<UdpTransport> open_on(std::vector<IpAddress> addrs) {
  UdpTransportOptions o;
  o.port = 0;
  o.local_addresses = std::move(addrs);
  auto t = UdpTransport::open(o);
  EXPECT_TRUE(t.ok()) << t.status().reason();
  return t.ok() ? std::move(*t) : nullptr;
}

struct Received {
  SocketAddress from;
  IpAddress to;
  std::string data;
};

// Receives until `want` datagrams arrived on any socket of `t` or 2 s passed.
std::vector<Received> receive_n(UdpTransport& t, size_t want) {
  std::vector<Received> out;
  auto fds = t.fds();
  for (int spins = 0; spins < 200 && out.size() < want; ++spins) {
    std::vector<pollfd> pfds;
    for (int fd : fds) pfds.push_back(pollfd{fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 10);
    for (auto& p : pfds) {
      if (!(p.revents & POLLIN)) continue;
      auto r = t.receive(p.fd, [&](const Datagram& d) {
        out.push_back(Received{d.from, d.to, std::string(d.data.begin(), d.data.end())});
      });
      EXPECT_TRUE(r.ok());
    }
  }
  return out;
}

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(UdpTransport, PortZeroPicksAFreePort) {
  auto t = open_on({kV4});
  ASSERT_TRUE(t);
  EXPECT_NE(t->port(), 0);
  EXPECT_EQ(t->bound_addresses(), std::vector<IpAddress>{kV4});
}

TEST(UdpTransport, SecondBindOfSamePortFails) {
  auto a = open_on({kV4});
  ASSERT_TRUE(a);
  UdpTransportOptions o;
  o.port = a->port();
  o.local_addresses = {kV4};
  auto b = UdpTransport::open(o);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Errc::AddressInUse);
}

TEST(UdpTransport, SendReceiveIPv4WithPacketInfo) {
  auto a = open_on({kV4});
  auto b = open_on({});  // wildcards: destination comes from IP_PKTINFO
  ASSERT_TRUE(a && b);
  std::string msg = "hello sctp";
  ASSERT_TRUE(a->send_one(OutDatagram{{kV4, b->port()}, {}, bytes(msg)}).ok());
  auto got = receive_n(*b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, msg);
  EXPECT_EQ(got[0].from, (SocketAddress{kV4, a->port()}));
  EXPECT_EQ(got[0].to, kV4);
}

TEST(UdpTransport, SendReceiveIPv6) {
  auto a = open_on({kV6});
  auto b = open_on({});
  ASSERT_TRUE(a && b);
  std::string msg(3000, 'x');
  ASSERT_TRUE(a->send_one(OutDatagram{{kV6, b->port()}, {}, bytes(msg)}).ok());
  auto got = receive_n(*b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, msg);
  EXPECT_EQ(got[0].from, (SocketAddress{kV6, a->port()}));
  EXPECT_EQ(got[0].to, kV6);
}

TEST(UdpTransport, ChosenSourceAddressOnWildcardSocket) {
  auto a = open_on({});
  auto b = open_on({kV4});
  ASSERT_TRUE(a && b);
  std::string msg = "from loopback";
  ASSERT_TRUE(a->send_one(OutDatagram{{kV4, b->port()}, kV4, bytes(msg)}).ok());
  auto got = receive_n(*b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, (SocketAddress{kV4, a->port()}));
  EXPECT_EQ(got[0].to, kV4);
}

TEST(UdpTransport, BatchedSendAndReceive) {
  auto a = open_on({kV4});
  auto b = open_on({kV4});
  ASSERT_TRUE(a && b);
  const size_t n = 200;
  std::vector<std::string> payloads;
  for (size_t i = 0; i < n; ++i) payloads.push_back("datagram " + std::to_string(i));
  std::vector<OutDatagram> out;
  for (auto& p : payloads) out.push_back(OutDatagram{{kV4, b->port()}, {}, bytes(p)});
  EXPECT_EQ(a->send(out), n);
  auto got = receive_n(*b, n);
  ASSERT_EQ(got.size(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(got[i].data, payloads[i]);
  EXPECT_EQ(a->stats().datagrams_sent, n);
  EXPECT_EQ(b->stats().datagrams_received, n);
}

// With UDP GSO a run of equal-sized datagrams to one peer leaves as one message (the
// kernel splits it), and datagrams that lie back to back in memory as one iovec. Every
// datagram must still arrive once, intact and in order: trains longer than the kernel
// takes at once, a shorter last one, one lying elsewhere in memory, other sizes.
TEST(UdpTransport, GsoTrainsArriveAsTheirDatagrams) {
  setenv("SCTPP_UDP_GSO", "1", 1);
  auto a = open_on({kV4});
  unsetenv("SCTPP_UDP_GSO");
  auto b = open_on({kV4});
  ASSERT_TRUE(a && b);
  std::vector<size_t> sizes(100, 1200);  // 120 KB: more than one GSO message
  sizes[60] = 700;                       // ends a train
  sizes.insert(sizes.end(), {300, 300, 1200, 1200, 1200, 1000, 28, 28, 28});
  std::string arena;
  std::vector<size_t> offsets;
  for (size_t i = 0; i < sizes.size(); ++i) {
    offsets.push_back(arena.size());
    for (size_t k = 0; k < sizes[i]; ++k) arena.push_back(static_cast<char>(i * 31 + k));
  }
  // Datagram 30 lies elsewhere (same size and content): its train has two iovecs.
  const std::string elsewhere = arena.substr(offsets[30], sizes[30]);
  std::vector<OutDatagram> out;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string_view d = i == 30 ? std::string_view(elsewhere)
                                       : std::string_view(arena).substr(offsets[i], sizes[i]);
    out.push_back(
        OutDatagram{{kV4, b->port()}, {}, {reinterpret_cast<const uint8_t*>(d.data()), d.size()}});
  }
  EXPECT_EQ(a->send(out), sizes.size());
  auto got = receive_n(*b, sizes.size());
  ASSERT_EQ(got.size(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i)
    EXPECT_EQ(got[i].data, arena.substr(offsets[i], sizes[i])) << "datagram " << i;
  EXPECT_EQ(a->stats().datagrams_sent, sizes.size());
  EXPECT_EQ(b->stats().datagrams_received, sizes.size());
}

TEST(UdpTransport, UnroutableFamilyIsDropped) {
  auto a = open_on({kV4});
  ASSERT_TRUE(a);
  std::string msg = "x";
  Status st = a->send_one(OutDatagram{{kV6, 9}, {}, bytes(msg)});
  EXPECT_EQ(st.code(), Errc::IoError);
  EXPECT_EQ(a->stats().send_errors, 1u);
}

TEST(UdpTransport, LargeDatagram) {
  auto a = open_on({kV4});
  auto b = open_on({kV4});
  ASSERT_TRUE(a && b);
  std::string msg(65000, 'z');
  ASSERT_TRUE(a->send_one(OutDatagram{{kV4, b->port()}, {}, bytes(msg)}).ok());
  auto got = receive_n(*b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data.size(), msg.size());
}

}  // namespace
}  // namespace sctpp::net
