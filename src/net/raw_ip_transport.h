// Raw IP transport: SCTP packets directly over IPv4 and IPv6 (IP protocol 132), for
// hosts whose kernel has no SCTP. Needs CAP_NET_RAW.
//
// One raw socket per configured local address (bound to it, so the kernel only
// hands us packets addressed to it), or one per family on the wildcards when none is
// given (IPv6 optional). IPv4 raw sockets deliver the IP header, which gives the
// sender and the local destination; IPv6 raw sockets deliver the SCTP packet alone,
// with the sender in msg_name and the destination from IPV6_RECVPKTINFO. The kernel
// builds the IP header on send; a chosen source address goes in IP_PKTINFO /
// IPV6_PKTINFO. Ports in Datagram / OutDatagram are 0 (there is no UDP).
//
// A raw socket sees every SCTP packet that reaches the host (or the bound address),
// including packets for other processes' SCTP ports: the runtime only feeds packets
// for ports it owns and never answers the others (runtime.h), and SctpPortClaim
// keeps two sctpp stacks of one network namespace off the same port.
//
// Not thread-safe: one thread receives; sends are serialised by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "net/packet_transport.h"

namespace sctpp::net {

// The one-line error when the process lacks CAP_NET_RAW.
inline constexpr const char* kRawIpNeedsCapability =
    "raw IP transport needs CAP_NET_RAW (run as root or grant the capability)";

struct RawIpTransportOptions {
  // Addresses to bind. Empty: the IPv4 and IPv6 wildcards (IPv6 optional). A
  // wildcard covers the specific addresses of its family.
  std::vector<IpAddress> local_addresses;
  // SO_RCVBUF / SO_SNDBUF wanted (SO_*BUFFORCE first, which works as root).
  int socket_buffer = 4 * 1024 * 1024;
  // Packets per recvmmsg call.
  size_t receive_batch = 32;
};

struct RawIpTransportStats {
  uint64_t bad_ip_header = 0;  // IPv4 packets whose header did not parse
  uint64_t multicast = 0;      // dropped: sent to a multicast address (RFC 9260 §8.4 (1))
};

class RawIpTransport final : public PacketTransport {
 public:
  // PermissionDenied with kRawIpNeedsCapability without CAP_NET_RAW; InvalidArgument
  // when an address is not local; IoError otherwise.
  static Result<std::unique_ptr<RawIpTransport>> open(const RawIpTransportOptions& options);
  ~RawIpTransport() override;
  RawIpTransport(const RawIpTransport&) = delete;
  RawIpTransport& operator=(const RawIpTransport&) = delete;

  TransportKind kind() const override { return TransportKind::RawIp; }
  uint16_t udp_port() const override { return 0; }
  std::vector<IpAddress> bound_addresses() const override;
  std::vector<int> fds() const override;
  // Every SCTP packet that arrived on socket `fd` (up to one batch), without the IP
  // header; from.port is 0.
  Result<size_t> receive(int fd, const std::function<void(const Datagram&)>& on) override;
  size_t receive_batch() const override;
  // Sends SCTP packets in order (sendmmsg per run on one socket); to.port is ignored.
  // Returns how many were handed to the kernel or dropped on a hard error; fewer
  // than asked means the socket buffer is full: retry the rest when writable.
  size_t send(std::span<const OutDatagram> datagrams) override;
  Status send_one(const OutDatagram& datagram) override;
  TransportStats stats() const override { return stats_; }
  const RawIpTransportStats& raw_stats() const { return raw_stats_; }

 private:
  struct Socket {
    int fd = -1;
    IpAddress bound;
  };
  RawIpTransport() = default;
  int pick_socket(const OutDatagram& d) const;

  struct Buffers;
  std::vector<Socket> sockets_;
  std::unique_ptr<Buffers> bufs_;
  TransportStats stats_;
  RawIpTransportStats raw_stats_;
};

// A claim on one SCTP port in raw IP mode, shared by every sctpp stack in the same
// network namespace: with no kernel SCTP nothing else reserves SCTP ports, so two
// processes could otherwise both serve port 5000 off the same raw packets. The claim
// is an abstract AF_UNIX socket named "sctpp/raw-ip/sctp-port/<port>" (abstract
// names are per network namespace and vanish with the process). Other raw SCTP
// software (usrsctp's raw mode, say) does not know about it.
class SctpPortClaim {
 public:
  SctpPortClaim() = default;
  // AddressInUse when another stack holds the port; IoError when AF_UNIX fails.
  static Result<SctpPortClaim> acquire(uint16_t port);
  ~SctpPortClaim();
  SctpPortClaim(SctpPortClaim&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  SctpPortClaim& operator=(SctpPortClaim&& o) noexcept;
  bool held() const { return fd_ >= 0; }

 private:
  explicit SctpPortClaim(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace sctpp::net
