// sctpp::PacketSocket: the one-to-many style (RFC 6458 §3, SOCK_SEQPACKET): one
// socket, one SCTP port, many associations. Every message received carries the id
// of its association and the sender's address; every send names an association or a
// peer address, and sending to a peer without an association sets one up implicitly
// (RFC 6458 §3.1.5), the first message riding with the COOKIE ECHO.
//
//   auto sock = sctpp::PacketSocket::open(stack, {ip}, 5000);
//   for (;;) {
//     auto ev = sock->receive();
//     if (!ev) break;
//     if (auto* m = std::get_if<sctpp::ReceivedMessage>(&*ev))
//       sock->send_to(m->info.assoc_id, m->data, {.stream = m->info.stream});
//     else
//       std::puts(sctpp::describe(std::get<sctpp::Notification>(*ev)).c_str());
//   }
//
// Notifications subscribed to (PacketSocketOptions::events, subscribe()) come from
// receive() in order with the messages: an association's COMM_UP before its first
// message, its SHUTDOWN_EVENT and final ASSOC_CHANGE after its last one.
// peeloff() turns one association into a Connection; messages and notifications
// already queued for it move along, in order.
//
// Thread-safe like Connection. Errors: NotConnected (no such association, or it has
// ended), ShuttingDown, InvalidStream, MessageTooLarge, Timeout/WouldBlock, Closed
// (after close()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "sctpp/address.h"
#include "sctpp/connection.h"
#include "sctpp/deadline.h"
#include "sctpp/notification.h"
#include "sctpp/stack.h"
#include "sctpp/types.h"

namespace sctpp {

namespace detail {
struct SockState;
}

struct PacketSocketOptions {
  // Streams requested and accepted, INIT attempts (for associations this socket
  // starts) and the INIT timeout cap.
  InitOptions init{};
  // Accept associations that peers start (RFC 6458 listen()).
  bool listen = true;
  // The peers' UDP encapsulation port, for connect() and send_to(address).
  uint16_t remote_udp_port = 9899;
  // Notifications delivered by receive(); association changes by default.
  EventSubscription events{.association = true};
  // Shut an association down after this long without user data either way
  // (SCTP_AUTOCLOSE); zero = never.
  std::chrono::seconds autoclose{0};
  // Bytes of received messages held for receive() over all associations; beyond
  // it, messages wait in their association (and its window closes).
  size_t receive_queue = 1024 * 1024;
  size_t max_associations = 10000;
};

// What receive() returns: a message (with info.assoc_id and from) or a notification.
using PacketEvent = std::variant<ReceivedMessage, Notification>;

class PacketSocket {
 public:
  PacketSocket();  // empty
  // Shuts every association down gracefully in the background (see close()).
  ~PacketSocket();
  PacketSocket(PacketSocket&&) noexcept;
  PacketSocket& operator=(PacketSocket&&) noexcept;
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;

  // Binds SCTP port `port` (0: a free ephemeral port) on `addresses` (empty or a
  // wildcard: every address of the stack). AddressInUse when the port is taken on
  // this stack; InvalidArgument when an address is not one of the stack's.
  static Result<PacketSocket> open(const Stack& stack, std::span<const IpAddress> addresses,
                                   uint16_t port, const PacketSocketOptions& options = {});
  static Result<PacketSocket> open(const Stack& stack, uint16_t port = 0,
                                   const PacketSocketOptions& options = {});

  bool valid() const { return state_ != nullptr; }
  explicit operator bool() const { return valid(); }

  // Starts an association with the peer at `addresses` (IPs of one host, SCTP port
  // `port`) and waits until it is established; returns its id. With
  // Deadline::expired() it does not wait: the outcome comes as an AssocChange.
  Result<uint32_t> connect(std::span<const IpAddress> addresses, uint16_t port,
                           Deadline deadline = {});
  Result<uint32_t> connect(const SocketAddress& peer, Deadline deadline = {});

  // Sends one message on association `assoc_id`. Blocks while its send buffer is
  // full. info.flags: SendFlags::Eof shuts the association down gracefully after
  // the message (no data: only the shutdown); SendFlags::Abort aborts it with the
  // data as the User-Initiated Abort reason.
  Status send_to(uint32_t assoc_id, std::span<const uint8_t> data, const SendInfo& info = {},
                 Deadline deadline = {});
  Status send_to(uint32_t assoc_id, std::string_view data, const SendInfo& info = {},
                 Deadline deadline = {});
  Status try_send_to(uint32_t assoc_id, std::span<const uint8_t> data, const SendInfo& info = {});
  // The same without a copy (also below, to a peer address): the stack keeps `message`
  // until the peer has acknowledged it (see SharedMessage; a null or empty one is
  // InvalidArgument).
  Status send_to(uint32_t assoc_id, SharedMessage message, const SendInfo& info = {},
                 Deadline deadline = {});
  // Sends to the association with `peer` (IP and SCTP port), setting one up when
  // there is none (the message travels with the COOKIE ECHO); returns its id.
  Result<uint32_t> send_to(const SocketAddress& peer, std::span<const uint8_t> data,
                           const SendInfo& info = {}, Deadline deadline = {});
  Result<uint32_t> send_to(const SocketAddress& peer, std::string_view data,
                           const SendInfo& info = {}, Deadline deadline = {});
  Result<uint32_t> send_to(const SocketAddress& peer, SharedMessage message,
                           const SendInfo& info = {}, Deadline deadline = {});

  // The next message or notification. Errc::Closed after close().
  Result<PacketEvent> receive(Deadline deadline = {});
  Result<PacketEvent> try_receive();
  // The same into `event`: a message's buffer it held goes back to the stack to hold
  // a later large message (see Connection::receive). On failure `event` is unchanged.
  Status receive(PacketEvent& event, Deadline deadline = {});

  // Branches association `assoc_id` off into a one-to-one Connection (RFC 6458
  // §9.2). What was queued here for it moves to the Connection in order: its
  // messages to receive(), its notifications to next_notification() (same
  // subscription as this socket).
  Result<Connection> peeloff(uint32_t assoc_id);

  // Graceful shutdown of one association, without waiting (like send_to with
  // SendFlags::Eof and no data).
  Status shutdown(uint32_t assoc_id);
  // ABORT with a User-Initiated Abort cause carrying `reason`.
  Status abort(uint32_t assoc_id, std::string_view reason = {});
  // Primary path of an association (SCTP_PRIMARY_ADDR); `peer_ip` must be one of
  // its peer addresses.
  Status set_primary(uint32_t assoc_id, const IpAddress& peer_ip);
  Result<ConnectionInfo> info(uint32_t assoc_id) const;
  // Live associations (set up, established or shutting down).
  std::vector<uint32_t> associations() const;
  // The association with `peer` (IP and SCTP port), if any.
  std::optional<uint32_t> association_with(const SocketAddress& peer) const;
  // The peer's addresses with its SCTP port.
  std::vector<SocketAddress> peer_addresses(uint32_t assoc_id) const;

  void subscribe(const EventSubscription& events);
  uint16_t port() const;
  std::vector<SocketAddress> local_addresses() const;

  // Stops accepting, shuts every association down gracefully and waits for them
  // until `linger` passes, then aborts the rest. Blocked calls return Closed.
  Status close(Deadline linger = std::chrono::seconds(5));

 private:
  void reset();
  // send_to(peer, ...) of `data`, which is `*shared` when that is given (no copy).
  Result<uint32_t> send_to_peer(const SocketAddress& peer, std::span<const uint8_t> data,
                                const SharedMessage* shared, const SendInfo& info,
                                Deadline deadline);
  std::shared_ptr<detail::StackState> stack_;
  std::shared_ptr<detail::SockState> state_;
};

}  // namespace sctpp
