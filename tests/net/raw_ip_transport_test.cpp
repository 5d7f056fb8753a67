// Raw IP transport (IP protocol 132) on loopback: the transport itself, the
// runtime's handling of packets for ports it does not own, the SCTP port claim, two
// stacks talking over IPv4 and IPv6, and the error without CAP_NET_RAW.
//
// Needs root. main() moves the process into a network namespace of its own (only
// `lo`, brought up) before any test runs: a raw socket sees every SCTP packet of its
// namespace, and other programs on the host that open raw SCTP sockets (usrsctp does
// when it runs as root) would answer our packets as out of the blue. Without
// CAP_NET_RAW the tests that need it are skipped, the capability test still runs.
#include "net/raw_ip_transport.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "endpoint/endpoint.h"
#include "net/runtime.h"
#include "sctpp/sctpp.h"

namespace sctpp::net {
namespace {

using namespace std::chrono_literals;

const IpAddress kV4 = IpAddress::loopback(IpAddress::Family::V4);
const IpAddress kV6 = IpAddress::loopback(IpAddress::Family::V6);
const IpAddress kV4b = *IpAddress::parse("127.0.0.2");

bool have_raw() {
  RawIpTransportOptions o;
  o.local_addresses = {kV4};
  return RawIpTransport::open(o).ok();
}

#define REQUIRE_RAW() \
  if (!have_raw()) GTEST_SKIP() << "no CAP_NET_RAW: raw IP tests skipped"

std::unique_ptr<RawIpTransport> open_raw(std::vector<IpAddress> addrs) {
  RawIpTransportOptions o;
  o.local_addresses = std::move(addrs);
  auto t = RawIpTransport::open(o);
  EXPECT_TRUE(t.ok()) << t.status().reason();
  return t.ok() ? std::move(*t) : nullptr;
}

struct Received {
  SocketAddress from;
  IpAddress to;
  std::vector<uint8_t> data;
};

// Everything that arrives on `t` within `window`, or until `want` packets arrived.
std::vector<Received> receive_for(RawIpTransport& t, std::chrono::milliseconds window,
                                  size_t want = SIZE_MAX) {
  std::vector<Received> out;
  const auto end = std::chrono::steady_clock::now() + window;
  while (out.size() < want && std::chrono::steady_clock::now() < end) {
    std::vector<pollfd> pfds;
    for (int fd : t.fds()) pfds.push_back(pollfd{fd, POLLIN, 0});
    ::poll(pfds.data(), pfds.size(), 10);
    for (auto& p : pfds) {
      if (!(p.revents & POLLIN)) continue;
      auto r = t.receive(p.fd, [&](const Datagram& d) {
        out.push_back(Received{d.from, d.to, {d.data.begin(), d.data.end()}});
      });
      EXPECT_TRUE(r.ok());
    }
  }
  return out;
}

// An SCTP-looking packet: common header with the given ports and a marker after it.
// The transport does not parse SCTP, so the checksum does not matter here.
std::vector<uint8_t> fake_packet(uint16_t src, uint16_t dst, const std::string& marker) {
  // Sized up front: GCC 12 -O2 reports a false -Warray-bounds for insert() after a
  // brace-initialized vector.
  std::vector<uint8_t> p(12 + marker.size(), 0);
  p[0] = static_cast<uint8_t>(src >> 8);
  p[1] = static_cast<uint8_t>(src);
  p[2] = static_cast<uint8_t>(dst >> 8);
  p[3] = static_cast<uint8_t>(dst);
  p[4] = 1;
  p[5] = 2;
  p[6] = 3;
  p[7] = 4;
  std::copy(marker.begin(), marker.end(), p.begin() + 12);
  return p;
}

Status send_to(RawIpTransport& t, const IpAddress& to, const IpAddress& from,
               const std::vector<uint8_t>& p) {
  return t.send_one(OutDatagram{SocketAddress{to, 0}, from, std::span<const uint8_t>(p)});
}

std::vector<Received> with_marker(const std::vector<Received>& all, const std::string& m) {
  std::vector<Received> out;
  for (auto& r : all) {
    std::string s(r.data.begin(), r.data.end());
    if (s.find(m) != std::string::npos) out.push_back(r);
  }
  return out;
}

TEST(RawIpTransport, Ipv4PacketsArriveWithoutIpHeaderAndWithAddresses) {
  REQUIRE_RAW();
  auto a = open_raw({kV4});
  auto b = open_raw({kV4});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->udp_port(), 0);
  EXPECT_EQ(a->bound_addresses(), std::vector<IpAddress>{kV4});
  auto p = fake_packet(1111, 2222, "v4-hello");
  ASSERT_TRUE(send_to(*a, kV4, IpAddress(), p).ok());
  // Both raw sockets see the packet (that is how raw sockets work): the runtime's
  // port demultiplexing is what keeps stacks apart.
  for (auto* t : {a.get(), b.get()}) {
    auto got = with_marker(receive_for(*t, 1s, 1), "v4-hello");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data, p);  // exactly the SCTP packet, IPv4 header stripped
    EXPECT_EQ(got[0].from, (SocketAddress{kV4, 0}));
    EXPECT_EQ(got[0].to, kV4);
  }
  EXPECT_EQ(a->stats().datagrams_sent, 1u);
}

TEST(RawIpTransport, Ipv6PacketsCarryTheLocalDestination) {
  REQUIRE_RAW();
  auto a = open_raw({});  // wildcards: IPv4 and IPv6
  ASSERT_TRUE(a);
  auto bound = a->bound_addresses();
  if (std::find(bound.begin(), bound.end(), IpAddress::any(IpAddress::Family::V6)) == bound.end())
    GTEST_SKIP() << "no IPv6";
  auto p = fake_packet(1111, 2222, "v6-hello");
  ASSERT_TRUE(send_to(*a, kV6, IpAddress::any(IpAddress::Family::V6), p).ok());
  auto got = with_marker(receive_for(*a, 1s, 1), "v6-hello");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, p);
  EXPECT_EQ(got[0].from, (SocketAddress{kV6, 0}));
  EXPECT_EQ(got[0].to, kV6);  // from IPV6_PKTINFO on the wildcard socket
}

TEST(RawIpTransport, SourceAddressChosenOnWildcardSocket) {
  REQUIRE_RAW();
  auto a = open_raw({IpAddress::any(IpAddress::Family::V4)});
  ASSERT_TRUE(a);
  auto p = fake_packet(1, 2, "from-127.0.0.2");
  ASSERT_TRUE(send_to(*a, kV4, kV4b, p).ok());
  auto got = with_marker(receive_for(*a, 1s, 1), "from-127.0.0.2");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from.ip, kV4b);
  EXPECT_EQ(got[0].to, kV4);
}

TEST(RawIpTransport, BoundSocketOnlySeesItsAddress) {
  REQUIRE_RAW();
  auto only1 = open_raw({kV4});
  auto all = open_raw({IpAddress::any(IpAddress::Family::V4)});
  ASSERT_TRUE(only1 && all);
  auto p = fake_packet(1, 2, "to-127.0.0.2");
  ASSERT_TRUE(send_to(*all, kV4b, IpAddress(), p).ok());
  auto on_all = with_marker(receive_for(*all, 1s, 1), "to-127.0.0.2");
  ASSERT_EQ(on_all.size(), 1u);
  EXPECT_EQ(on_all[0].to, kV4b);
  EXPECT_TRUE(with_marker(receive_for(*only1, 200ms), "to-127.0.0.2").empty());
}

TEST(RawIpTransport, LargePacketsAndBatches) {
  REQUIRE_RAW();
  auto a = open_raw({kV4});
  ASSERT_TRUE(a);
  std::vector<std::vector<uint8_t>> packets;
  for (int i = 0; i < 100; ++i) {
    auto p = fake_packet(9, 10, "batch-" + std::to_string(i) + "-");
    p.resize(i == 7 ? 65000 : 1200 + i, static_cast<uint8_t>(i));  // one over the IPv4 MTU of lo
    packets.push_back(std::move(p));
  }
  std::vector<OutDatagram> out;
  for (auto& p : packets) out.push_back(OutDatagram{SocketAddress{kV4, 0}, IpAddress(), p});
  size_t done = 0;
  for (int spins = 0; done < out.size() && spins < 100; ++spins) {
    done += a->send(std::span<const OutDatagram>(out).subspan(done));
    if (done < out.size()) std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(done, out.size());
  auto got = with_marker(receive_for(*a, 2s, packets.size()), "batch-");
  ASSERT_EQ(got.size(), packets.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].data, packets[i]) << i;
}

TEST(RawIpTransport, NonLocalAddressIsAnError) {
  REQUIRE_RAW();
  RawIpTransportOptions o;
  o.local_addresses = {*IpAddress::parse("192.0.2.1")};
  auto t = RawIpTransport::open(o);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Errc::InvalidArgument) << t.status().reason();
}

TEST(SctpPortClaim, OnePortOneOwner) {
  auto a = SctpPortClaim::acquire(5000);
  ASSERT_TRUE(a.ok()) << a.status().reason();
  auto b = SctpPortClaim::acquire(5000);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Errc::AddressInUse);
  EXPECT_EQ(b.status().reason(), "SCTP port 5000 is in use by another sctpp stack on this host");
  EXPECT_TRUE(SctpPortClaim::acquire(5001).ok());
  *a = SctpPortClaim();  // released
  EXPECT_TRUE(SctpPortClaim::acquire(5000).ok());
}

// ---------------------------------------------------------------------------
// The runtime over raw IP

void no_random(std::span<uint8_t> out) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7 + 1);
}

// A real INIT from port `src` to `dst` at 127.0.0.1, made by a sans-IO endpoint.
std::vector<uint8_t> make_init(uint16_t src, uint16_t dst) {
  EndpointConfig cfg;
  cfg.port = src;
  Endpoint ep(cfg, &no_random);
  std::vector<SocketAddress> remote = {SocketAddress{kV4, 0}};
  auto id = ep.connect(Instant{}, remote, dst, InitOptions{});
  EXPECT_TRUE(id.ok());
  std::vector<uint8_t> packet;
  auto t = ep.poll_transmit(Instant{}, packet);
  EXPECT_TRUE(t.has_value());
  EXPECT_GE(packet.size(), 16u);
  EXPECT_EQ(packet[12], 1);  // INIT
  return packet;
}

std::vector<int> chunk_types_between(const std::vector<Received>& all, uint16_t src, uint16_t dst) {
  std::vector<int> out;
  for (auto& r : all) {
    if (r.data.size() < 16) continue;
    uint16_t s = static_cast<uint16_t>(r.data[0] << 8 | r.data[1]);
    uint16_t d = static_cast<uint16_t>(r.data[2] << 8 | r.data[3]);
    if (s == src && d == dst) out.push_back(r.data[12]);
  }
  return out;
}

TEST(RawIpRuntime, NeverAnswersPacketsForPortsItDoesNotOwn) {
  REQUIRE_RAW();
  RuntimeOptions ro;
  ro.transport = TransportKind::RawIp;
  ro.local_addresses = {kV4};
  auto rt = Runtime::start(ro);
  ASSERT_TRUE(rt.ok()) << rt.status().reason();
  EXPECT_EQ((*rt)->udp_port(), 0);
  EXPECT_EQ((*rt)->transport(), TransportKind::RawIp);
  auto peer = open_raw({kV4});
  ASSERT_TRUE(peer);

  // INIT for port 6000, which nobody here owns: over UDP the runtime would answer
  // with an ABORT (§8.4); over raw IP another process may own the port: silence.
  auto init = make_init(40000, 6000);
  ASSERT_TRUE(send_to(*peer, kV4, IpAddress(), init).ok());
  auto seen = receive_for(*peer, 500ms);
  EXPECT_EQ(chunk_types_between(seen, 6000, 40000), std::vector<int>{});
  EXPECT_EQ(chunk_types_between(seen, 40000, 6000), std::vector<int>{1});  // our INIT only
  {
    std::lock_guard<std::mutex> lock((*rt)->mutex());
    EXPECT_EQ((*rt)->stats().not_ours, 1u);
    EXPECT_EQ((*rt)->stats().out_of_the_blue, 0u);
    // Now the runtime owns port 6000 and listens: the same INIT gets an INIT ACK.
    EndpointConfig cfg;
    cfg.port = 6000;
    cfg.accept_incoming = true;
    auto port = (*rt)->add_endpoint(cfg, nullptr);
    ASSERT_TRUE(port.ok()) << port.status().reason();
  }
  ASSERT_TRUE(send_to(*peer, kV4, IpAddress(), init).ok());
  seen = receive_for(*peer, 2s, 2);
  EXPECT_EQ(chunk_types_between(seen, 6000, 40000), std::vector<int>{2});  // INIT ACK
}

TEST(RawIpRuntime, PortsAreClaimedAcrossStacks) {
  REQUIRE_RAW();
  RuntimeOptions ro;
  ro.transport = TransportKind::RawIp;
  auto a = Runtime::start(ro);
  auto b = Runtime::start(ro);
  ASSERT_TRUE(a.ok() && b.ok());
  EndpointConfig cfg;
  cfg.port = 7000;
  {
    std::lock_guard<std::mutex> lock((*a)->mutex());
    ASSERT_TRUE((*a)->add_endpoint(cfg, nullptr).ok());
  }
  {
    std::lock_guard<std::mutex> lock((*b)->mutex());
    auto r = (*b)->add_endpoint(cfg, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Errc::AddressInUse);
    EXPECT_NE(r.status().reason().find("another sctpp stack"), std::string::npos);
    // Ephemeral ports skip what another stack holds.
    std::set<uint16_t> mine;
    for (int i = 0; i < 50; ++i) {
      EndpointConfig e;
      auto p = (*b)->add_endpoint(e, nullptr);
      ASSERT_TRUE(p.ok());
      mine.insert(*p);
      EXPECT_FALSE(SctpPortClaim::acquire(*p).ok()) << "port " << *p << " not claimed";
    }
    EXPECT_EQ(mine.size(), 50u);
    for (uint16_t p : mine) (*b)->remove_endpoint(p);
    for (uint16_t p : mine) EXPECT_TRUE(SctpPortClaim::acquire(p).ok()) << "port " << p;
  }
  {
    std::lock_guard<std::mutex> lock((*a)->mutex());
    (*a)->remove_endpoint(7000);
  }
  std::lock_guard<std::mutex> lock((*b)->mutex());
  EXPECT_TRUE((*b)->add_endpoint(cfg, nullptr).ok());
}

// ---------------------------------------------------------------------------
// Two stacks over raw IP through the public API

Stack raw_stack(std::vector<IpAddress> addrs = {}, size_t path_mtu = 1500) {
  StackOptions o;
  o.transport = Transport::Ip;
  o.local_addresses = std::move(addrs);
  o.tuning.path_mtu = path_mtu;
  auto s = Stack::create(o);
  EXPECT_TRUE(s.ok()) << s.status().reason();
  return std::move(*s);
}

void exchange(const IpAddress& server_ip, uint16_t port) {
  Stack server = raw_stack({server_ip});
  Stack client = raw_stack();
  EXPECT_EQ(server.udp_port(), 0);
  auto l = Listener::bind(server, std::vector<IpAddress>{server_ip}, port);
  ASSERT_TRUE(l.ok()) << l.status().reason();
  // The port is taken for every other sctpp stack of the namespace.
  auto l2 = Listener::bind(client, std::vector<IpAddress>{}, port);
  ASSERT_FALSE(l2.ok());
  EXPECT_EQ(l2.status().code(), Errc::AddressInUse);

  ConnectOptions co;
  co.init.num_ostreams = 16;
  auto c = Connection::connect(client, SocketAddress{server_ip, port}, co, 10s);
  ASSERT_TRUE(c.ok()) << c.status().reason();
  auto s = l->accept(10s);
  ASSERT_TRUE(s.ok()) << s.status().reason();
  EXPECT_EQ(s->outbound_streams(), 10);
  EXPECT_EQ(c->outbound_streams(), 16);

  // Small messages on several streams, and messages far larger than the path MTU
  // (fragmented by SCTP into IP packets of at most 1500 bytes).
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) sent.push_back("message " + std::to_string(i));
  sent.push_back(std::string(100000, 'x'));
  sent.push_back(std::string(3000, 'y'));
  for (size_t i = 0; i < sent.size(); ++i) {
    SendInfo info;
    info.stream = static_cast<uint16_t>(i % 16);
    info.ppid = 51;
    ASSERT_TRUE(c->send(sent[i], info, 10s).ok());
  }
  std::vector<std::string> per_stream[16];
  for (size_t i = 0; i < sent.size(); ++i) {
    auto m = s->receive(10s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    EXPECT_EQ(m->info.ppid, 51u);
    per_stream[m->info.stream].push_back(std::string(m->text()));
    // Echo it back on the server's side (stream modulo its 10 outbound streams).
    SendInfo back;
    back.stream = static_cast<uint16_t>(m->info.stream % 10);
    ASSERT_TRUE(s->send(m->data, back, 10s).ok());
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    const auto& v = per_stream[i % 16];
    const size_t k = i / 16;
    ASSERT_LT(k, v.size());
    EXPECT_EQ(v[k], sent[i]);  // in order per stream, intact
  }
  size_t back_bytes = 0, expect_bytes = 0;
  for (auto& m : sent) expect_bytes += m.size();
  for (size_t i = 0; i < sent.size(); ++i) {
    auto m = c->receive(10s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    back_bytes += m->data.size();
  }
  EXPECT_EQ(back_bytes, expect_bytes);
  auto info = c->info();
  ASSERT_TRUE(info.ok());
  ASSERT_FALSE(info->peer_addresses.empty());
  EXPECT_EQ(info->peer_addresses[0].ip, server_ip);

  ASSERT_TRUE(c->shutdown(10s).ok());
  auto end = s->receive(10s);
  EXPECT_EQ(end.status().code(), Errc::Closed);
}

TEST(RawIpStack, TwoStacksExchangeMessagesOverIpv4) {
  REQUIRE_RAW();
  exchange(kV4, 5000);
}

TEST(RawIpStack, TwoStacksExchangeMessagesOverIpv6) {
  REQUIRE_RAW();
  {
    auto t = open_raw({});
    auto b = t ? t->bound_addresses() : std::vector<IpAddress>{};
    if (std::find(b.begin(), b.end(), IpAddress::any(IpAddress::Family::V6)) == b.end())
      GTEST_SKIP() << "no IPv6";
  }
  exchange(kV6, 5001);
}

TEST(RawIpStack, ConnectingToAPortNobodyOwnsGetsNoAbort) {
  REQUIRE_RAW();
  Stack other = raw_stack({kV4});  // sees the INITs, owns nothing
  Stack client = raw_stack();
  ConnectOptions co;
  co.init.max_attempts = 1;
  co.init.max_init_timeout = 300ms;
  auto c = Connection::connect(client, SocketAddress{kV4, 5999}, co, 10s);
  ASSERT_FALSE(c.ok());
  // Not Refused: nobody may answer for a port that could be another process's.
  EXPECT_EQ(c.status().code(), Errc::NoAnswer) << c.status().reason();
}

// ---------------------------------------------------------------------------
// Without CAP_NET_RAW

// Runs `fn` in a child process without CAP_NET_RAW; returns what it wrote to a pipe.
std::string without_net_raw(const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    std::string out;
    if (syscall(SYS_capget, &hdr, data) != 0) {
      out = "capget failed";
    } else {
      const unsigned bit = 1u << (CAP_NET_RAW % 32);
      data[CAP_NET_RAW / 32].effective &= ~bit;
      data[CAP_NET_RAW / 32].permitted &= ~bit;
      data[CAP_NET_RAW / 32].inheritable &= ~bit;
      out = syscall(SYS_capset, &hdr, data) != 0 ? "capset failed" : fn();
    }
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

TEST(RawIpCapability, WithoutNetRawCreatingTheStackFailsWithOneLine) {
  const std::string transport_result = without_net_raw([] {
    auto t = RawIpTransport::open(RawIpTransportOptions{});
    if (t.ok()) return std::string("opened");
    return std::string(t.status().code() == Errc::PermissionDenied ? "PermissionDenied: "
                                                                   : "other: ") +
           t.status().reason();
  });
  EXPECT_EQ(transport_result, std::string("PermissionDenied: ") + kRawIpNeedsCapability);

  const std::string stack_result = without_net_raw([] {
    StackOptions o;
    o.transport = Transport::Ip;
    auto s = Stack::create(o);
    if (s.ok()) return std::string("created");
    return std::string(s.status().code() == Errc::PermissionDenied ? "PermissionDenied: "
                                                                   : "other: ") +
           s.status().reason();
  });
  EXPECT_EQ(stack_result,
            "PermissionDenied: raw IP transport needs CAP_NET_RAW (run as root or grant the "
            "capability)");
  EXPECT_EQ(stack_result.find('\n'), std::string::npos);

  // UDP encapsulation still works without it.
  const std::string udp_result = without_net_raw([] {
    StackOptions o;
    o.udp_port = 0;
    auto s = Stack::create(o);
    return s.ok() ? std::string("ok") : s.status().reason();
  });
  EXPECT_EQ(udp_result, "ok");
}

}  // namespace
}  // namespace sctpp::net

namespace {

// A network namespace of our own with `lo` up (see the top of the file).
void enter_private_network_namespace() {
  if (geteuid() != 0) return;
  if (unshare(CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "raw_ip_tests: unshare(CLONE_NEWNET): %s; using the host namespace\n",
                 std::strerror(errno));
    return;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ||
      (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)) {
    std::fprintf(stderr, "raw_ip_tests: cannot bring lo up: %s\n", std::strerror(errno));
  }
  if (fd >= 0) close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!::testing::GTEST_FLAG(list_tests)) enter_private_network_namespace();
  return RUN_ALL_TESTS();
}
