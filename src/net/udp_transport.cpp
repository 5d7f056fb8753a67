// UDP encapsulation sockets: binding, batched receive with packet info, batched send.
#include "net/udp_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace sctpp::net {
namespace {

constexpr size_t kMaxDatagram = 65536;
constexpr size_t kControlSize = 128;
constexpr size_t kSendBatch = 64;

Status errno_status(const std::string& what, int err) {
  Errc code = Errc::IoError;
  if (err == EADDRINUSE) code = Errc::AddressInUse;
  if (err == EACCES || err == EPERM) code = Errc::PermissionDenied;
  if (err == EADDRNOTAVAIL || err == EINVAL) code = Errc::InvalidArgument;
  if (err == EAGAIN || err == EWOULDBLOCK) code = Errc::WouldBlock;
  return Status(code, what + ": " + std::strerror(err));
}

socklen_t to_sockaddr(const SocketAddress& a, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (a.ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port);
    std::memcpy(&sin->sin_addr, a.ip.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(a.port);
  std::memcpy(&sin6->sin6_addr, a.ip.data(), 16);
  return sizeof(sockaddr_in6);
}

SocketAddress from_sockaddr(const sockaddr_storage& ss) {
  SocketAddress out;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &sin->sin_addr, 4);
    out.ip = IpAddress::v4(b);
    out.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &sin6->sin6_addr, 16);
    out.ip = IpAddress::v6(b);
    out.port = ntohs(sin6->sin6_port);
  }
  return out;
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
  if (ip.is_v6()) {
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  } else {
    (void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  }
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
  return from_sockaddr(ss).port;
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
  std::array<iovec, kSendBatch> tx_iov{};
  std::array<sockaddr_storage, kSendBatch> tx_addrs{};
  std::array<std::array<uint8_t, kControlSize>, kSendBatch> tx_control{};
};

Result<std::unique_ptr<UdpTransport>> UdpTransport::open(const UdpTransportOptions& options) {
  std::unique_ptr<UdpTransport> t(new UdpTransport());
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
    d.from = from_sockaddr(b.addrs[i]);
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
    d.data = std::span<const uint8_t>(b.data.data() + i * kMaxDatagram, b.msgs[i].msg_len);
    ++stats_.datagrams_received;
    on(d);
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
  while (done < datagrams.size()) {
    int si = pick_socket(datagrams[done]);
    if (si < 0) {  // no socket of that family: unroutable
      ++stats_.send_errors;
      ++done;
      continue;
    }
    const Socket& sock = sockets_[si];
    // Gather a run of datagrams that go out of the same socket.
    size_t count = 0;
    while (done + count < datagrams.size() && count < kSendBatch &&
           pick_socket(datagrams[done + count]) == si) {
      const OutDatagram& d = datagrams[done + count];
      mmsghdr& m = b.tx_msgs[count];
      std::memset(&m, 0, sizeof m);
      b.tx_iov[count] = iovec{const_cast<uint8_t*>(d.data.data()), d.data.size()};
      m.msg_hdr.msg_name = &b.tx_addrs[count];
      m.msg_hdr.msg_namelen = to_sockaddr(d.to, &b.tx_addrs[count]);
      m.msg_hdr.msg_iov = &b.tx_iov[count];
      m.msg_hdr.msg_iovlen = 1;
      if (sock.bound.is_any() && !d.from.is_any()) {
        // Choose the source address on a wildcard socket.
        uint8_t* ctrl = b.tx_control[count].data();
        std::memset(ctrl, 0, kControlSize);
        m.msg_hdr.msg_control = ctrl;
        if (d.from.is_v4()) {
          m.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
          cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
          c->cmsg_level = IPPROTO_IP;
          c->cmsg_type = IP_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
          in_pktinfo pi{};
          std::memcpy(&pi.ipi_spec_dst, d.from.data(), 4);
          std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        } else {
          m.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
          cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
          c->cmsg_level = IPPROTO_IPV6;
          c->cmsg_type = IPV6_PKTINFO;
          c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
          in6_pktinfo pi{};
          std::memcpy(&pi.ipi6_addr, d.from.data(), 16);
          std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
      }
      ++count;
    }
    int sent;
    do {
      sent = sendmmsg(sock.fd, b.tx_msgs.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return done;
      // Hard error on the first datagram of the run (unreachable, too big...):
      // drop it, as the network would, and go on with the rest.
      ++stats_.send_errors;
      ++done;
      continue;
    }
    stats_.datagrams_sent += static_cast<uint64_t>(sent);
    done += static_cast<size_t>(sent);
  }
  return done;
}

Status UdpTransport::send_one(const OutDatagram& datagram) {
  uint64_t errors = stats_.send_errors;
  if (send(std::span<const OutDatagram>(&datagram, 1)) == 0)
    return Status(Errc::WouldBlock, "UDP send buffer full");
  if (stats_.send_errors != errors) return Status(Errc::IoError, "UDP send failed");
  return Status();
}

}  // namespace sctpp::net
