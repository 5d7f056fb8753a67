// UDP encapsulation transport (RFC 6951): the sockets SCTP packets travel in.
//
// Binds one local UDP port on every configured local address (or on the IPv4 and
// IPv6 wildcards when none is given), non-blocking, with large socket buffers.
// Receiving uses recvmmsg in batches and IP_PKTINFO / IPV6_RECVPKTINFO, so every
// datagram comes with the sender's IP + UDP port and the local IP it arrived on.
// Sending picks the socket by family and source address and batches with sendmmsg.
//
// Not thread-safe: one thread receives; sends are serialised by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "sctpp/types.h"
#include "util/ip_address.h"

namespace sctpp::net {

struct UdpTransportOptions {
  // Local UDP port; 0 picks any free port (the same on every socket).
  uint16_t port = 9899;
  // Addresses to bind. Empty, or a wildcard (0.0.0.0 / ::): bind the wildcard of
  // that family; with an empty list both IPv4 and IPv6 wildcards (IPv6 optional).
  std::vector<IpAddress> local_addresses;
  // SO_RCVBUF / SO_SNDBUF wanted (SO_*BUFFORCE is tried first, which works as root).
  int socket_buffer = 4 * 1024 * 1024;
  // Datagrams per recvmmsg call.
  size_t receive_batch = 32;
};

// One received datagram; `data` points into the transport's receive buffers and
// stays valid until the next receive call.
struct Datagram {
  SocketAddress from;  // sender IP + UDP source port
  IpAddress to;        // local IP it was sent to
  std::span<const uint8_t> data;
};

// One datagram to send.
struct OutDatagram {
  SocketAddress to;
  IpAddress from;  // any = let the OS choose
  std::span<const uint8_t> data;
};

// The kernel's report (IP_RECVERR) that a datagram we sent was refused: ICMP
// "port unreachable" or "protocol unreachable" (ICMPv6: port unreachable). `packet`
// is the start of the datagram as the kernel kept it (our SCTP packet); it stays
// valid only during the callback.
struct Unreachable {
  SocketAddress to;  // where the refused datagram went
  std::span<const uint8_t> packet;
};

struct UdpTransportStats {
  uint64_t datagrams_received = 0;
  uint64_t datagrams_sent = 0;
  uint64_t send_errors = 0;  // dropped by a send error other than WouldBlock
  uint64_t truncated = 0;    // received datagrams larger than the buffer
};

class UdpTransport {
 public:
  static Result<std::unique_ptr<UdpTransport>> open(const UdpTransportOptions& options);
  ~UdpTransport();
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // The bound UDP port (the chosen one when 0 was asked for).
  uint16_t port() const { return port_; }
  // The addresses actually bound (wildcards included).
  std::vector<IpAddress> bound_addresses() const;
  // File descriptors to watch for readability / writability.
  std::vector<int> fds() const;

  // Receives up to one batch from socket `fd` without blocking and calls `on` for
  // each datagram. Returns the number of datagrams (0 when nothing was waiting).
  Result<size_t> receive(int fd, const std::function<void(const Datagram&)>& on);
  // The most datagrams one receive() takes (UdpTransportOptions::receive_batch).
  size_t receive_batch() const;
  // Drains the error queue of socket `fd` (it reports POLLERR while it holds
  // anything, and its entries use the receive buffer): calls `on` for each
  // unreachable report, ignores other errors. Returns how many entries it took.
  size_t read_errors(int fd, const std::function<void(const Unreachable&)>& on);

  // Sends datagrams in order (sendmmsg per run of datagrams using one socket).
  // Returns how many were handed to the kernel or dropped on a hard error; fewer
  // than data.size() means the socket buffer is full (WouldBlock): retry the rest
  // when a socket becomes writable.
  size_t send(std::span<const OutDatagram> datagrams);
  // How many datagrams of `size` bytes one send() call hands to the kernel as one
  // buffer (a UDP GSO train): 1 without GSO.
  size_t train_datagrams(size_t size) const;
  // Convenience for one datagram: Ok, WouldBlock, or the error.
  Status send_one(const OutDatagram& datagram);

  const UdpTransportStats& stats() const { return stats_; }

 private:
  struct Socket {
    int fd = -1;
    IpAddress bound;
  };
  UdpTransport() = default;
  int pick_socket(const OutDatagram& d) const;

  struct Buffers;
  std::vector<Socket> sockets_;
  uint16_t port_ = 0;
  std::unique_ptr<Buffers> bufs_;
  UdpTransportStats stats_;
  // UDP GSO on send (SCTPP_UDP_GSO=1); cleared when the kernel refuses UDP_SEGMENT.
  bool gso_ = false;
};

}  // namespace sctpp::net
