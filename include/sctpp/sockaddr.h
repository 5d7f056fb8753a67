// Conversions between sctpp addresses and BSD socket addresses (sockaddr_in,
// sockaddr_in6), for programs that mix sctpp with ordinary sockets.
#pragma once

#include <sys/socket.h>

#include <optional>

#include "sctpp/address.h"

namespace sctpp {

// Writes `a` into `out` (zeroing the rest) and returns the length to pass to bind(),
// connect() or sendto().
socklen_t to_sockaddr(const SocketAddress& a, sockaddr_storage* out);

// The address and port in `sa`; nullopt when the family is neither AF_INET nor
// AF_INET6 or `len` is too short for it. IPv4-mapped IPv6 addresses stay IPv6.
std::optional<SocketAddress> from_sockaddr(const sockaddr* sa, socklen_t len);

}  // namespace sctpp
