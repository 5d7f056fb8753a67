// UDP encapsulation sockets: binding, batched receive with packet info, batched send.
#include "net/udp_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "sctpp/sockaddr.h"

namespace sctpp::net {
namespace {

constexpr size_t kMaxDatagram = 65536;
constexpr size_t kControlSize = 128;
constexpr size_t kSendBatch = 64;
// UDP GSO limits: segments per send and bytes per UDP payload.
constexpr size_t kMaxGsoSegments = 64;
constexpr size_t kMaxGsoBytes = 65000;

Status errno_status(const std::string& what, int err) {
  Errc code = Errc::IoError;
  if (err == EADDRINUSE) code = Errc::AddressInUse;
  if (err == EACCES || err == EPERM) code = Errc::PermissionDenied;
  if (err == EADDRNOTAVAIL || err == EINVAL) code = Errc::InvalidArgument;
  if (err == EAGAIN || err == EWOULDBLOCK) code = Errc::WouldBlock;
  return Status(code, what + ": " + std::strerror(err));
}

void set_buffer(int fd, int force_opt, int opt, int size) {
  if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof size) == 0) return;
  (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

// Opens and binds one non-blocking UDP socket.
Result<int> open_socket(const IpAddress& ip, uint16_t port, int buffer) {
  int family = ip.is_v4() ? AF_INET : AF_INET6;
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status("socket", errno);
  int one = 1;
  // *_RECVERR: ICMP errors for datagrams we sent are queued for read_errors() (an
  // unconnected UDP socket reports none otherwise), so a connect to a host where
  // nothing listens on the UDP port fails at once instead of after every INIT
  // retransmission (RFC 6951 §5.5).
  if (ip.is_v6()) {
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
  } else {
    (void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    (void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
  }
  // UDP GRO: the kernel may hand over a train of equal-sized datagrams from one
  // sender as one buffer (split again in receive()), one wakeup and copy for many.
  (void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, buffer);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, buffer);
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(SocketAddress{ip, port}, &ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    close(fd);
    return errno_status("bind UDP " + SocketAddress{ip, port}.to_string(), err);
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len).value_or(SocketAddress{}).port;
}

}  // namespace

struct UdpTransport::Buffers {
  explicit Buffers(size_t n)
      : data(n * kMaxDatagram), control(n * kControlSize), addrs(n), iov(n), msgs(n) {}
  std::vector<uint8_t> data;
  std::vector<uint8_t> control;
  std::vector<sockaddr_storage> addrs;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  // Send side.
  std::array<mmsghdr, kSendBatch> tx_msgs{};
  std::array<size_t, kSendBatch> tx_segments{};  // datagrams carried by each message
  std::array<iovec, kSendBatch * kMaxGsoSegments> tx_iov{};
  std::array<sockaddr_storage, kSendBatch> tx_addrs{};
  std::array<std::array<uint8_t, kControlSize>, kSendBatch> tx_control{};
};

Result<std::unique_ptr<UdpTransport>> UdpTransport::open(const UdpTransportOptions& options) {
  std::unique_ptr<UdpTransport> t(new UdpTransport());
  // UDP GSO is opt-in: packet captures on the sending host (tshark on lo, or on a
  // NIC with segmentation offload) show each train as one oversized datagram, which
  // looks like a malformed SCTP packet although the wire carries correct ones.
  const char* gso = std::getenv("SCTPP_UDP_GSO");
  t->gso_ = gso && std::string_view(gso) == "1";
  t->bufs_ = std::make_unique<Buffers>(std::max<size_t>(1, options.receive_batch));

  std::vector<IpAddress> addrs = options.local_addresses;
  bool v6_optional = false;
  if (addrs.empty()) {
    addrs = {IpAddress::any(IpAddress::Family::V4), IpAddress::any(IpAddress::Family::V6)};
    v6_optional = true;
  }
  std::sort(addrs.begin(), addrs.end());
  addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
  // A wildcard of a family covers the specific addresses of that family.
  for (auto fam : {IpAddress::Family::V4, IpAddress::Family::V6}) {
    IpAddress any = IpAddress::any(fam);
    if (std::find(addrs.begin(), addrs.end(), any) != addrs.end()) {
      std::erase_if(addrs, [&](const IpAddress& a) { return a.family() == fam && a != any; });
    }
  }

  // With port 0 the first socket picks the port and the others must get the same;
  // retry a few times if another process holds it on some address.
  const int attempts = options.port == 0 ? 16 : 1;
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    std::vector<Socket> socks;
    uint16_t port = options.port;
    bool failed = false;
    for (const IpAddress& ip : addrs) {
      auto fd = open_socket(ip, port, options.socket_buffer);
      if (!fd.ok()) {
        if (v6_optional && ip.is_v6() && !socks.empty() &&
            fd.status().code() != Errc::AddressInUse) {
          continue;  // no IPv6 on this host: IPv4 alone is fine
        }
        last = fd.status();
        failed = true;
        break;
      }
      if (port == 0) port = bound_port(*fd);
      socks.push_back(Socket{*fd, ip});
    }
    if (!failed) {
      t->sockets_ = std::move(socks);
      t->port_ = port;
      return t;
    }
    for (auto& s : socks) close(s.fd);
  }
  return last;
}

UdpTransport::~UdpTransport() {
  for (auto& s : sockets_) close(s.fd);
}

std::vector<IpAddress> UdpTransport::bound_addresses() const {
  std::vector<IpAddress> out;
  for (auto& s : sockets_) out.push_back(s.bound);
  return out;
}

std::vector<int> UdpTransport::fds() const {
  std::vector<int> out;
  for (auto& s : sockets_) out.push_back(s.fd);
  return out;
}

size_t UdpTransport::train_datagrams(size_t size) const {
  if (!gso_ || size == 0) return 1;
  return std::clamp<size_t>(kMaxGsoBytes / size, 1, kMaxGsoSegments);
}

size_t UdpTransport::receive_batch() const {
  return bufs_->msgs.size();
}

Result<size_t> UdpTransport::receive(int fd, const std::function<void(const Datagram&)>& on) {
  const Socket* sock = nullptr;
  for (auto& s : sockets_)
    if (s.fd == fd) sock = &s;
  if (!sock) return Status(Errc::InvalidArgument, "unknown socket");
  Buffers& b = *bufs_;
  const size_t n = b.msgs.size();
  for (size_t i = 0; i < n; ++i) {
    b.iov[i] = iovec{b.data.data() + i * kMaxDatagram, kMaxDatagram};
    std::memset(&b.msgs[i], 0, sizeof(mmsghdr));
    msghdr& h = b.msgs[i].msg_hdr;
    h.msg_name = &b.addrs[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &b.iov[i];
    h.msg_iovlen = 1;
    h.msg_control = b.control.data() + i * kControlSize;
    h.msg_controllen = kControlSize;
  }
  int got;
  do {
    got = recvmmsg(fd, b.msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return errno_status("recvmmsg", errno);
  }
  for (int i = 0; i < got; ++i) {
    msghdr& h = b.msgs[i].msg_hdr;
    if (h.msg_flags & MSG_TRUNC) {
      ++stats_.truncated;
      continue;
    }
    Datagram d;
    d.from =
        from_sockaddr(reinterpret_cast<const sockaddr*>(&b.addrs[i]), b.msgs[i].msg_hdr.msg_namelen)
            .value_or(SocketAddress{});
    d.to = sock->bound;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        std::array<uint8_t, 4> a;
        std::memcpy(a.data(), &pi.ipi_addr, 4);
        d.to = IpAddress::v4(a);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        std::array<uint8_t, 16> a;
        std::memcpy(a.data(), &pi.ipi6_addr, 16);
        d.to = IpAddress::v6(a);
      }
    }
    const uint8_t* base = b.data.data() + i * kMaxDatagram;
    size_t len = b.msgs[i].msg_len;
    size_t segment = len;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int gso = 0;
        std::memcpy(&gso, CMSG_DATA(c), sizeof gso);
        if (gso > 0) segment = static_cast<size_t>(gso);
      }
    }
    // A GRO train: every datagram but the last has exactly `segment` bytes.
    for (size_t off = 0; off < len; off += segment) {
      d.data = std::span<const uint8_t>(base + off, std::min(segment, len - off));
      ++stats_.datagrams_received;
      on(d);
    }
  }
  return static_cast<size_t>(got);
}

int UdpTransport::pick_socket(const OutDatagram& d) const {
  int best = -1;
  for (size_t i = 0; i < sockets_.size(); ++i) {
    const Socket& s = sockets_[i];
    if (s.bound.family() != d.to.ip.family()) continue;
    if (!d.from.is_any() && s.bound == d.from) return static_cast<int>(i);
    if (best < 0 || (s.bound.is_any() && !sockets_[best].bound.is_any())) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

size_t UdpTransport::send(std::span<const OutDatagram> datagrams) {
  Buffers& b = *bufs_;
  size_t done = 0;
  bool retried = false;  // the run at `done` failed once already
  while (done < datagrams.size()) {
    int si = pick_socket(datagrams[done]);
    if (si < 0) {  // no socket of that family: unroutable
      ++stats_.send_errors;
      ++done;
      continue;
    }
    const Socket& sock = sockets_[si];
    // Gather a run of datagrams that go out of the same socket: one message each,
    // or, with UDP GSO, one message per train of equal-sized datagrams to the same
    // peer (the kernel splits it again), which saves a trip through the stack for
    // every datagram after the first.
    size_t msgs = 0, used = 0;
    while (done + used < datagrams.size() && msgs < kSendBatch &&
           pick_socket(datagrams[done + used]) == si) {
      const OutDatagram& first = datagrams[done + used];
      size_t segs = 1;
      size_t total = first.data.size();
      if (gso_) {
        while (done + used + segs < datagrams.size() && segs < kMaxGsoSegments) {
          const OutDatagram& d = datagrams[done + used + segs];
          const OutDatagram& prev = datagrams[done + used + segs - 1];
          // All but the last segment must be exactly the first one's size.
          if (prev.data.size() != first.data.size() || d.data.size() > first.data.size() ||
              d.to != first.to || d.from != first.from || total + d.data.size() > kMaxGsoBytes)
            break;
          total += d.data.size();
          ++segs;
        }
      }
      mmsghdr& m = b.tx_msgs[msgs];
      std::memset(&m, 0, sizeof m);
      // Datagrams that lie back to back in memory (the runtime writes them so) make
      // one iovec: the kernel's cost is per iovec too.
      size_t iovs = 0;
      for (size_t k = 0; k < segs; ++k) {
        const OutDatagram& d = datagrams[done + used + k];
        if (iovs > 0) {
          iovec& last = b.tx_iov[used + iovs - 1];
          if (static_cast<uint8_t*>(last.iov_base) + last.iov_len == d.data.data()) {
            last.iov_len += d.data.size();
            continue;
          }
        }
        b.tx_iov[used + iovs++] = iovec{const_cast<uint8_t*>(d.data.data()), d.data.size()};
      }
      m.msg_hdr.msg_name = &b.tx_addrs[msgs];
      m.msg_hdr.msg_namelen = to_sockaddr(first.to, &b.tx_addrs[msgs]);
      m.msg_hdr.msg_iov = &b.tx_iov[used];
      m.msg_hdr.msg_iovlen = iovs;
      uint8_t* ctrl = b.tx_control[msgs].data();
      std::memset(ctrl, 0, kControlSize);
      m.msg_hdr.msg_control = ctrl;
      size_t ctrl_len = 0;
      if (sock.bound.is_any() && !first.from.is_any()) {
        // Choose the source address on a wildcard socket.
        cmsghdr* c = reinterpret_cast<cmsghdr*>(ctrl);
        if (first.from.is_v4()) {
          c->cmsg_level = IPPROTO_IP;
          c->cmsg_type = IP_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
          in_pktinfo pi{};
          std::memcpy(&pi.ipi_spec_dst, first.from.data(), 4);
          std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
          ctrl_len += CMSG_SPACE(sizeof(in_pktinfo));
        } else {
          c->cmsg_level = IPPROTO_IPV6;
          c->cmsg_type = IPV6_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
          in6_pktinfo pi{};
          std::memcpy(&pi.ipi6_addr, first.from.data(), 16);
          std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
          ctrl_len += CMSG_SPACE(sizeof(in6_pktinfo));
        }
      }
      if (segs > 1) {
        cmsghdr* c = reinterpret_cast<cmsghdr*>(ctrl + ctrl_len);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t gso_size = static_cast<uint16_t>(first.data.size());
        std::memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
        ctrl_len += CMSG_SPACE(sizeof(uint16_t));
      }
      m.msg_hdr.msg_controllen = ctrl_len;
      if (ctrl_len == 0) m.msg_hdr.msg_control = nullptr;
      b.tx_segments[msgs] = segs;
      used += segs;
      ++msgs;
    }
    int sent;
    do {
      sent = sendmmsg(sock.fd, b.tx_msgs.data(), static_cast<unsigned>(msgs), MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return done;
      if (b.tx_segments[0] > 1 && (errno == EINVAL || errno == EIO || errno == EOPNOTSUPP)) {
        // The kernel or the route cannot segment: send datagram by datagram from now.
        gso_ = false;
        continue;
      }
      // An ICMP error for an earlier datagram (IP_RECVERR), or the error of the message
      // a previous sendmmsg stopped at, is reported once by the next send, to whomever
      // it goes: try that message once more before taking the error as its own. Not
      // ENOBUFS: with IP_RECVERR the kernel reports a datagram its queue or a down
      // device dropped (it said nothing before), which is a loss like the network's,
      // not a full socket buffer: waiting for writability on it stalled every other
      // path behind a dead link (a 100 ms failover took up to 1.2 s).
      if (!retried && errno != ENOBUFS) {
        retried = true;
        continue;
      }
      // Hard error on the first message of the run (unreachable, too big...): drop
      // it, as the network would, and go on with the rest.
      stats_.send_errors += b.tx_segments[0];
      done += b.tx_segments[0];
      retried = false;
      continue;
    }
    retried = false;
    for (int k = 0; k < sent; ++k) {
      stats_.datagrams_sent += b.tx_segments[k];
      done += b.tx_segments[k];
    }
    // Fewer sent: the socket buffer is full (the next call says EAGAIN) or the next
    // message failed (the next call reports its error, handled above).
  }
  return done;
}

size_t UdpTransport::read_errors(int fd, const std::function<void(const Unreachable&)>& on) {
  size_t n = 0;
  // Bounded: the queue is drained, but a flood of ICMP must not hold the loop.
  for (; n < 64; ++n) {
    uint8_t data[256];  // the SCTP common header and the first chunk are enough
    alignas(cmsghdr) uint8_t control[512];
    sockaddr_storage to{};
    iovec iov{data, sizeof data};
    msghdr h{};
    h.msg_name = &to;
    h.msg_namelen = sizeof to;
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    h.msg_control = control;
    h.msg_controllen = sizeof control;
    const ssize_t got = recvmsg(fd, &h, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: empty
    }
    bool unreachable = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
      if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
        continue;
      sock_extended_err e;
      std::memcpy(&e, CMSG_DATA(c), sizeof e);
      // ICMP destination unreachable, port (3) or protocol (2) unreachable; ICMPv6
      // destination unreachable (1), port unreachable (4).
      unreachable = (e.ee_origin == SO_EE_ORIGIN_ICMP && e.ee_type == 3 &&
                     (e.ee_code == 3 || e.ee_code == 2)) ||
                    (e.ee_origin == SO_EE_ORIGIN_ICMP6 && e.ee_type == 1 && e.ee_code == 4);
    }
    if (!unreachable) continue;
    auto dest = from_sockaddr(reinterpret_cast<const sockaddr*>(&to), h.msg_namelen);
    if (dest) on(Unreachable{*dest, std::span<const uint8_t>(data, static_cast<size_t>(got))});
  }
  return n;
}

Status UdpTransport::send_one(const OutDatagram& datagram) {
  uint64_t errors = stats_.send_errors;
  if (send(std::span<const OutDatagram>(&datagram, 1)) == 0)
    return Status(Errc::WouldBlock, "UDP send buffer full");
  if (stats_.send_errors != errors) return Status(Errc::IoError, "UDP send failed");
  return Status();
}

}  // namespace sctpp::net
