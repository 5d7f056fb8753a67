// The sans-IO SCTP endpoint: one local SCTP port with its local addresses and every
// association on it. It is fed packets, timer expiries and user calls, each with the
// current time, and in return yields packets to send, user events and its next
// deadline. No sockets, threads or clocks in here (design.md §2), which is what lets
// the same code run in the simulator, under a fuzzer and in the real runtime.
//
// Driving it:  handle_packet()/handle_timeout()/user calls  ->  then drain
// poll_transmit() until nullopt, drain poll_event(), and re-arm a timer for
// next_timeout().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "endpoint/options.h"
#include "util/ip_address.h"
#include "util/strong_types.h"
#include "util/time.h"

namespace sctpp {

class EndpointImpl;

class Endpoint {
 public:
  // `random` fills a buffer with unpredictable bytes (verification tags, initial
  // TSNs, cookie secrets). The runtime passes OpenSSL's RAND_bytes; the simulator a
  // seeded generator, which keeps runs reproducible.
  using RandomSource = std::function<void(std::span<uint8_t>)>;
  Endpoint(EndpointConfig config, RandomSource random);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointConfig& config() const;
  uint16_t port() const;

  // ---- network side ----
  // One received SCTP packet (the UDP payload with UDP encapsulation). `from` is the
  // sender's IP and UDP source port (port 0 on raw IP); `to` is the local IP it
  // arrived on. Malformed or unauthorised packets are dropped or answered as
  // RFC 9260 says (§8.4, §8.5).
  void handle_packet(Instant now, const SocketAddress& from, const IpAddress& to,
                     std::span<const uint8_t> packet);
  // The network refused a packet this endpoint sent to `to` (ICMP port or protocol
  // unreachable; `packet`: its start, as the kernel returned it). An association
  // still setting up fails at once ("refused") instead of after every INIT
  // retransmission; any other is left to its timers (RFC 9260 Appendix C).
  void handle_unreachable(Instant now, const SocketAddress& to, std::span<const uint8_t> packet);
  // Call when next_timeout() has passed (calling early is harmless).
  void handle_timeout(Instant now);
  std::optional<Instant> next_timeout() const;
  // Writes the next packet to send into `packet` (replacing its contents) and
  // returns where to send it (peer IP and UDP port). nullopt when nothing is due.
  std::optional<Transmit> poll_transmit(Instant now, std::vector<uint8_t>& packet);
  // The same into fixed memory of at least kMaxPacketBytes (Transmit::size: how many
  // bytes the packet took): a sender can write packets back to back.
  std::optional<Transmit> poll_transmit(Instant now, std::span<uint8_t> out);
  static constexpr size_t kMaxPacketBytes = 65536 + 64;
  std::optional<Event> poll_event();

  // ---- user side ----
  // Starts an association to `remote` (one or more peer addresses, each IP + UDP
  // encapsulation port; `remote_port` is the peer's SCTP port).
  Result<AssocId> connect(Instant now, std::span<const SocketAddress> remote, uint16_t remote_port,
                          const InitOptions& init);
  // Queues one message: a copy of `data`, or `message` itself, which the association
  // keeps until the peer has acknowledged it. Errors: unknown association, not
  // established/shutting down, stream out of range, message over the limit, send
  // buffer full (WouldBlock: retry after a SendSpace event).
  Status send(Instant now, AssocId id, const SendInfo& info, std::span<const uint8_t> data);
  Status send(Instant now, AssocId id, const SendInfo& info, const SharedMessage& message);
  // Next complete message for the user, in delivery order.
  std::optional<Message> receive(Instant now, AssocId id);
  // Graceful shutdown (RFC 9260 §9.2): queued data is delivered first.
  Status shutdown(Instant now, AssocId id);
  // ABORT with a User-Initiated Abort cause carrying `reason`.
  Status abort(Instant now, AssocId id, std::string_view reason);
  // Makes `ip` the association's primary path (RFC 6458 SCTP_PRIMARY_ADDR).
  Status set_primary(Instant now, AssocId id, const IpAddress& ip);
  // Snapshot of an association; nullopt if the id is unknown.
  std::optional<AssocInfo> info(AssocId id) const;
  // Bytes of send buffer free right now (0 when unknown/closed).
  size_t send_buffer_free(AssocId id) const;
  // Forgets a closed association (after its Closed/Aborted/Lost event was handled
  // and its messages read). Live associations are not released.
  void release(AssocId id);
  std::vector<AssocId> associations() const;
  // The live association with the peer at `ip` (any of its addresses) and SCTP port
  // `peer_port`, found without a walk over all associations.
  std::optional<AssocId> association_with(const IpAddress& ip, uint16_t peer_port) const;

  // Response to a packet that arrived for an SCTP port no endpoint owns
  // (RFC 9260 §8.4): ABORT or SHUTDOWN COMPLETE with the T bit, or nothing.
  static std::optional<std::vector<uint8_t>> out_of_the_blue_reply(std::span<const uint8_t> packet);

 private:
  template <class Out>
  std::optional<Transmit> poll_transmit_to(Instant now, Out& packet);
  template <class Payload>
  Status send_payload(Instant now, AssocId id, const SendInfo& info, const Payload& payload);
  std::unique_ptr<EndpointImpl> impl_;
};

}  // namespace sctpp
