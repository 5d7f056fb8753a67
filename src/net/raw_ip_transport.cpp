// Raw IP sockets for protocol 132: binding, batched receive (IPv4 header parsing,
// IPv6 packet info), batched send with the source address chosen per packet; and
// the per-namespace SCTP port claim.
#include "net/raw_ip_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "sctpp/sockaddr.h"

namespace sctpp::net {
namespace {

constexpr int kProtoSctp = 132;  // IPPROTO_SCTP (not every libc header names it)
constexpr size_t kMaxPacket = 65536;
constexpr size_t kControlSize = 128;
constexpr size_t kSendBatch = 64;

Status errno_status(const std::string& what, int err) {
  if (err == EPERM || err == EACCES) return Status(Errc::PermissionDenied, kRawIpNeedsCapability);
  Errc code = Errc::IoError;
  if (err == EADDRNOTAVAIL || err == EINVAL) code = Errc::InvalidArgument;
  if (err == EAGAIN || err == EWOULDBLOCK) code = Errc::WouldBlock;
  return Status(code, what + ": " + std::strerror(err));
}

void set_buffer(int fd, int force_opt, int opt, int size) {
  if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof size) == 0) return;
  (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

Result<int> open_socket(const IpAddress& ip, int buffer) {
  int family = ip.is_v4() ? AF_INET : AF_INET6;
  int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kProtoSctp);
  if (fd < 0)
    return errno_status(std::string("raw ") + (ip.is_v4() ? "IPv4" : "IPv6") + " SCTP socket",
                        errno);
  int one = 1;
  if (ip.is_v6()) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, buffer);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, buffer);
  if (!ip.is_any()) {
    sockaddr_storage ss;
    // The port of a raw socket address is unused (0; IPv6 insists on 0 or the protocol).
    socklen_t len = to_sockaddr(SocketAddress{ip, 0}, &ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      int err = errno;
      close(fd);
      return errno_status("bind raw IP " + ip.to_string(), err);
    }
  }
  return fd;
}

bool is_multicast(const IpAddress& ip) {
  if (ip.is_v4()) return (ip.data()[0] & 0xf0) == 0xe0 || ip == IpAddress::v4({255, 255, 255, 255});
  return ip.data()[0] == 0xff;
}

}  // namespace

struct RawIpTransport::Buffers {
  explicit Buffers(size_t n)
      : data(n * kMaxPacket), control(n * kControlSize), addrs(n), iov(n), msgs(n) {}
  std::vector<uint8_t> data;
  std::vector<uint8_t> control;
  std::vector<sockaddr_storage> addrs;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::array<mmsghdr, kSendBatch> tx_msgs{};
  std::array<iovec, kSendBatch> tx_iov{};
  std::array<sockaddr_storage, kSendBatch> tx_addrs{};
  std::array<std::array<uint8_t, kControlSize>, kSendBatch> tx_control{};
};

Result<std::unique_ptr<RawIpTransport>> RawIpTransport::open(const RawIpTransportOptions& options) {
  std::unique_ptr<RawIpTransport> t(new RawIpTransport());
  t->bufs_ = std::make_unique<Buffers>(std::max<size_t>(1, options.receive_batch));

  std::vector<IpAddress> addrs = options.local_addresses;
  bool v6_optional = false;
  if (addrs.empty()) {
    addrs = {IpAddress::any(IpAddress::Family::V4), IpAddress::any(IpAddress::Family::V6)};
    v6_optional = true;
  }
  std::sort(addrs.begin(), addrs.end());
  addrs.erase(std::unique(addrs.begin(), addrs.end()), addrs.end());
  for (auto fam : {IpAddress::Family::V4, IpAddress::Family::V6}) {
    IpAddress any = IpAddress::any(fam);
    if (std::find(addrs.begin(), addrs.end(), any) != addrs.end()) {
      std::erase_if(addrs, [&](const IpAddress& a) { return a.family() == fam && a != any; });
    }
  }
  for (const IpAddress& ip : addrs) {
    auto fd = open_socket(ip, options.socket_buffer);
    if (!fd.ok()) {
      if (v6_optional && ip.is_v6() && !t->sockets_.empty() &&
          fd.status().code() != Errc::PermissionDenied) {
        continue;  // no IPv6 on this host: IPv4 alone is fine
      }
      return fd.status();  // the destructor closes what was opened
    }
    t->sockets_.push_back(Socket{*fd, ip});
  }
  return t;
}

RawIpTransport::~RawIpTransport() {
  for (auto& s : sockets_) close(s.fd);
}

std::vector<IpAddress> RawIpTransport::bound_addresses() const {
  std::vector<IpAddress> out;
  for (auto& s : sockets_) out.push_back(s.bound);
  return out;
}

std::vector<int> RawIpTransport::fds() const {
  std::vector<int> out;
  for (auto& s : sockets_) out.push_back(s.fd);
  return out;
}

size_t RawIpTransport::receive_batch() const {
  return bufs_->msgs.size();
}

Result<size_t> RawIpTransport::receive(int fd, const std::function<void(const Datagram&)>& on) {
  const Socket* sock = nullptr;
  for (auto& s : sockets_)
    if (s.fd == fd) sock = &s;
  if (!sock) return Status(Errc::InvalidArgument, "unknown socket");
  Buffers& b = *bufs_;
  const size_t n = b.msgs.size();
  for (size_t i = 0; i < n; ++i) {
    b.iov[i] = iovec{b.data.data() + i * kMaxPacket, kMaxPacket};
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
    const uint8_t* p = b.data.data() + i * kMaxPacket;
    size_t len = b.msgs[i].msg_len;
    Datagram d;
    d.to = sock->bound;
    if (sock->bound.is_v4()) {
      // IPv4 raw sockets deliver the IP header (reassembled, in network order).
      if (len < 20 || (p[0] >> 4) != 4 || p[9] != kProtoSctp) {
        ++raw_stats_.bad_ip_header;
        continue;
      }
      const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
      const size_t total = static_cast<size_t>(p[2]) << 8 | p[3];
      if (ihl < 20 || ihl > len || total < ihl) {
        ++raw_stats_.bad_ip_header;
        continue;
      }
      if (total < len) len = total;  // link-layer padding
      d.from.ip = IpAddress::v4({p[12], p[13], p[14], p[15]});
      d.to = IpAddress::v4({p[16], p[17], p[18], p[19]});
      p += ihl;
      len -= ihl;
    } else {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&b.addrs[i]);
      std::array<uint8_t, 16> a;
      std::memcpy(a.data(), &sin6->sin6_addr, 16);
      d.from.ip = IpAddress::v6(a);
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
          std::memcpy(a.data(), &pi.ipi6_addr, 16);
          d.to = IpAddress::v6(a);
        }
      }
    }
    d.from.port = 0;
    if (is_multicast(d.to)) {
      ++raw_stats_.multicast;
      continue;
    }
    d.data = std::span<const uint8_t>(p, len);
    ++stats_.datagrams_received;
    on(d);
  }
  return static_cast<size_t>(got);
}

int RawIpTransport::pick_socket(const OutDatagram& d) const {
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

size_t RawIpTransport::send(std::span<const OutDatagram> datagrams) {
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
    size_t count = 0;
    while (done + count < datagrams.size() && count < kSendBatch &&
           pick_socket(datagrams[done + count]) == si) {
      const OutDatagram& d = datagrams[done + count];
      mmsghdr& m = b.tx_msgs[count];
      std::memset(&m, 0, sizeof m);
      b.tx_iov[count] = iovec{const_cast<uint8_t*>(d.data.data()), d.data.size()};
      m.msg_hdr.msg_name = &b.tx_addrs[count];
      m.msg_hdr.msg_namelen = to_sockaddr(SocketAddress{d.to.ip, 0}, &b.tx_addrs[count]);
      m.msg_hdr.msg_iov = &b.tx_iov[count];
      m.msg_hdr.msg_iovlen = 1;
      if (sock.bound.is_any() && !d.from.is_any()) {
        // The source address of the IP header the kernel builds.
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
      // Hard error on the first packet of the run (unreachable, too big, filtered):
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

Status RawIpTransport::send_one(const OutDatagram& datagram) {
  uint64_t errors = stats_.send_errors;
  if (send(std::span<const OutDatagram>(&datagram, 1)) == 0)
    return Status(Errc::WouldBlock, "raw IP send buffer full");
  if (stats_.send_errors != errors) return Status(Errc::IoError, "raw IP send failed");
  return Status();
}

// ---------------------------------------------------------------------------
// SctpPortClaim

Result<SctpPortClaim> SctpPortClaim::acquire(uint16_t port) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(Errc::IoError, std::string("AF_UNIX socket: ") + std::strerror(errno));
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  const std::string name = "sctpp/raw-ip/sctp-port/" + std::to_string(port);
  // Abstract namespace: a leading NUL, no file, gone when the socket closes.
  std::memcpy(sun.sun_path + 1, name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&sun), len) != 0) {
    int err = errno;
    close(fd);
    if (err == EADDRINUSE) {
      return Status(Errc::AddressInUse, "SCTP port " + std::to_string(port) +
                                            " is in use by another sctpp stack on this host");
    }
    return Status(Errc::IoError,
                  "claim SCTP port " + std::to_string(port) + ": " + std::strerror(err));
  }
  return SctpPortClaim(fd);
}

SctpPortClaim::~SctpPortClaim() {
  if (fd_ >= 0) close(fd_);
}

SctpPortClaim& SctpPortClaim::operator=(SctpPortClaim&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

}  // namespace sctpp::net
