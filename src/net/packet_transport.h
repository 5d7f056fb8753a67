// What the runtime needs of a transport: sockets to watch, batched receive with the
// sender and the local destination of every SCTP packet, batched send. Implemented
// by the UDP encapsulation transport (RFC 6951, udp_transport.h) and the raw IP
// transport (IP protocol 132, raw_ip_transport.h). Datagram / OutDatagram and the
// stats are the UDP transport's types; on raw IP the ports in them are 0.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "net/udp_transport.h"

namespace sctpp::net {

enum class TransportKind {
  Udp,    // SCTP over UDP (RFC 6951)
  RawIp,  // SCTP directly over IPv4/IPv6 (protocol 132) through raw sockets
};

using TransportStats = UdpTransportStats;

class PacketTransport {
 public:
  virtual ~PacketTransport() = default;
  virtual TransportKind kind() const = 0;
  // The local UDP encapsulation port; 0 on raw IP.
  virtual uint16_t udp_port() const = 0;
  virtual std::vector<IpAddress> bound_addresses() const = 0;
  virtual std::vector<int> fds() const = 0;
  // See UdpTransport::receive / send / send_one: same contracts.
  virtual Result<size_t> receive(int fd, const std::function<void(const Datagram&)>& on) = 0;
  // The most datagrams one receive() takes: fewer means the socket was empty.
  virtual size_t receive_batch() const = 0;
  // See UdpTransport::read_errors; transports without an error queue report none.
  virtual size_t read_errors(int /*fd*/, const std::function<void(const Unreachable&)>& /*on*/) {
    return 0;
  }
  virtual size_t send(std::span<const OutDatagram> datagrams) = 0;
  // How many packets of `size` bytes the kernel takes as one buffer: 1 unless the
  // transport segments trains (UDP GSO).
  virtual size_t train_packets(size_t /*size*/) const { return 1; }
  virtual Status send_one(const OutDatagram& datagram) = 0;
  virtual TransportStats stats() const = 0;
};

// The UDP encapsulation transport behind the PacketTransport interface.
class UdpPacketTransport final : public PacketTransport {
 public:
  explicit UdpPacketTransport(std::unique_ptr<UdpTransport> t) : t_(std::move(t)) {}
  TransportKind kind() const override { return TransportKind::Udp; }
  uint16_t udp_port() const override { return t_->port(); }
  std::vector<IpAddress> bound_addresses() const override { return t_->bound_addresses(); }
  std::vector<int> fds() const override { return t_->fds(); }
  Result<size_t> receive(int fd, const std::function<void(const Datagram&)>& on) override {
    return t_->receive(fd, on);
  }
  size_t receive_batch() const override { return t_->receive_batch(); }
  size_t read_errors(int fd, const std::function<void(const Unreachable&)>& on) override {
    return t_->read_errors(fd, on);
  }
  size_t send(std::span<const OutDatagram> datagrams) override { return t_->send(datagrams); }
  size_t train_packets(size_t size) const override { return t_->train_datagrams(size); }
  Status send_one(const OutDatagram& datagram) override { return t_->send_one(datagram); }
  TransportStats stats() const override { return t_->stats(); }

 private:
  std::unique_ptr<UdpTransport> t_;
};

}  // namespace sctpp::net
