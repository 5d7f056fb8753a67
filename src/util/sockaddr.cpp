// sctpp addresses <-> BSD socket addresses (include/sctpp/sockaddr.h).
#include "sctpp/sockaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

namespace sctpp {

socklen_t to_sockaddr(const SocketAddress& a, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  if (a.ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a.port);
    std::memcpy(&sin->sin_addr, a.ip.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(a.port);
  std::memcpy(&sin6->sin6_addr, a.ip.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<SocketAddress> from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (!sa || len < static_cast<socklen_t>(sizeof(sa_family_t))) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &sin.sin_addr, 4);
    return SocketAddress{IpAddress::v4(b), ntohs(sin.sin_port)};
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &sin6.sin6_addr, 16);
    return SocketAddress{IpAddress::v6(b), ntohs(sin6.sin6_port)};
  }
  return std::nullopt;
}

}  // namespace sctpp
