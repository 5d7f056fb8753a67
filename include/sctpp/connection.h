// sctpp::Connection: one SCTP association, one-to-one style (RFC 6458 §4, like a
// TCP socket), with message-level send/receive on streams and PPIDs.
//
//   auto conn = sctpp::Connection::connect(stack, {ip}, 5000);
//   conn->send(bytes, {.stream = 1, .ppid = 51});
//   auto msg = conn->receive(std::chrono::seconds(5));
//   conn->shutdown();
//
// Every method is thread-safe: one thread may block in receive() while another
// sends or shuts down. Blocking calls take a Deadline (default: wait forever) and
// report Errc::Timeout when it passes; the try_ variants never block and report
// Errc::WouldBlock instead.
//
// Errors (sctpp::Status, with a reason naming what happened):
//   Refused         setup answered with ABORT ("refused by peer: ...")
//   NoAnswer        no answer after InitOptions::max_attempts INITs
//   Aborted         ABORT sent or received; the reason carries the peer's cause
//   ConnectionLost  the peer stopped acknowledging (Association.Max.Retrans)
//   Closed          graceful shutdown finished, or the peer shut down (end of data)
//   InvalidStream   stream id >= outbound_streams()
//   MessageTooLarge message above Tuning::max_message_size
//   NotConnected    empty Connection object
//
// Notifications (RFC 6458 §6.1: address changes, remote errors, shutdown, send
// failures...) are delivered by next_notification() once subscribed, through
// ConnectOptions::events / ListenOptions::events (so that nothing is missed before
// the Connection exists) or subscribe().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sctpp/address.h"
#include "sctpp/deadline.h"
#include "sctpp/notification.h"
#include "sctpp/stack.h"
#include "sctpp/types.h"

namespace sctpp {

namespace detail {
struct ConnState;
}

struct ConnectOptions {
  InitOptions init{};               // streams, INIT attempts, INIT timeout cap
  uint16_t remote_udp_port = 9899;  // the peer's UDP encapsulation port
  EventSubscription events{};       // notifications for next_notification()
};

// One received message and how it arrived (stream, PPID, unordered, TSN...).
struct ReceivedMessage {
  std::vector<uint8_t> data{};
  ReceiveInfo info{};
  // The sender: the peer's address (its primary path when the message was taken
  // from the association) and SCTP port. Filled by PacketSocket::receive().
  SocketAddress from{};
  std::string_view text() const {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
  }
};

// One path (peer address) of an association (RFC 6458 SCTP_GET_PEER_ADDR_INFO).
struct PathStatus {
  SocketAddress address{};  // the peer's IP and UDP encapsulation port
  bool confirmed = false;   // answered a heartbeat (or carried the handshake)
  bool active = true;       // false once Path.Max.Retrans was exceeded
  bool primary = false;
  int error_count = 0;
  std::chrono::microseconds srtt{0};
  std::chrono::microseconds rto{0};
  size_t cwnd = 0;
};

// A snapshot of an association (RFC 6458 SCTP_STATUS and friends).
struct ConnectionInfo {
  uint32_t id = 0;
  std::string state{};  // "ESTABLISHED", "SHUTDOWN-PENDING", ...
  uint16_t outbound_streams = 0;
  uint16_t inbound_streams = 0;
  std::vector<SocketAddress> peer_addresses{};  // IP + the peer's UDP port
  SocketAddress primary{};                      // IP + UDP port of the primary path
  uint16_t peer_port = 0;                       // the peer's SCTP port
  std::chrono::microseconds srtt{0};
  std::chrono::microseconds rto{0};
  size_t cwnd = 0;
  size_t peer_rwnd = 0;
  size_t outstanding_bytes = 0;  // DATA chunk bytes in flight (header and padding included)
  size_t queued_bytes = 0;
  size_t pending_receive = 0;
  uint64_t retransmissions = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;
  std::vector<PathStatus> paths{};  // every peer address, primary flagged
};

class Connection {
 public:
  Connection();  // empty: every call reports NotConnected
  // An open association is shut down gracefully in the background; unread
  // messages are discarded.
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sets up an association with the peer at `addresses` (one or more IPs of the
  // same host, all with SCTP port `port`) from a new ephemeral SCTP port, and waits
  // until it is established.
  static Result<Connection> connect(const Stack& stack, std::span<const IpAddress> addresses,
                                    uint16_t port, const ConnectOptions& options = {},
                                    Deadline deadline = {});
  static Result<Connection> connect(const Stack& stack, const SocketAddress& address,
                                    const ConnectOptions& options = {}, Deadline deadline = {});

  bool valid() const { return state_ != nullptr; }
  explicit operator bool() const { return valid(); }
  uint32_t id() const;

  // Queues one message (copied). Blocks while the send buffer is full.
  // info.flags: SendFlags::Eof starts a graceful shutdown after the message (with no
  // data: just the shutdown); SendFlags::Abort aborts with the data as the reason.
  Status send(std::span<const uint8_t> data, const SendInfo& info = {}, Deadline deadline = {});
  Status send(std::string_view data, const SendInfo& info = {}, Deadline deadline = {});
  Status try_send(std::span<const uint8_t> data, const SendInfo& info = {});
  // The same without a copy: the stack keeps `message` until the peer has acknowledged
  // it (see SharedMessage; a null or empty one is InvalidArgument).
  Status send(SharedMessage message, const SendInfo& info = {}, Deadline deadline = {});

  // The next message. After the peer shut down (or the association closed) and
  // every message was read: Errc::Closed.
  Result<ReceivedMessage> receive(Deadline deadline = {});
  Result<ReceivedMessage> try_receive();
  // The same into `message`, whose old buffer goes back to the stack to hold a later
  // large message: a loop that receives into one ReceivedMessage does not allocate
  // (and fault in fresh pages) for every message. On failure `message` is unchanged.
  Status receive(ReceivedMessage& message, Deadline deadline = {});

  // Byte-stream convenience. write() sends `data` as one message on stream 0;
  // read() copies the next message into `buffer` (the rest of a message that does
  // not fit is returned by the next reads) and returns 0 at end of data.
  Result<size_t> write(std::span<const uint8_t> data, Deadline deadline = {});
  Result<size_t> read(std::span<uint8_t> buffer, Deadline deadline = {});

  // Graceful shutdown (RFC 9260 §9.2): queued data is delivered first. Waits until
  // the association is closed. Ok when it closed (also when the peer started it).
  Status shutdown(Deadline deadline = {});
  // Starts a graceful shutdown without waiting: Ok when already closed,
  // WouldBlock while it is in progress.
  Status try_shutdown();
  // Sends ABORT with a User-Initiated Abort cause carrying `reason`; queued and
  // unacknowledged data is dropped. Ok also when the association was already gone.
  Status abort(std::string_view reason = {});

  // Local addresses with our SCTP port; peer addresses with the peer's SCTP port.
  std::vector<SocketAddress> local_addresses() const;
  std::vector<SocketAddress> peer_addresses() const;
  uint16_t local_port() const;
  uint16_t peer_port() const;
  // Negotiated stream counts (0 on an empty Connection).
  uint16_t outbound_streams() const;
  uint16_t inbound_streams() const;
  // True once the peer has started a graceful shutdown.
  bool peer_shut_down() const;
  Result<ConnectionInfo> info() const;

  // Makes `peer_ip` (one of peer_addresses()) the primary path (SCTP_PRIMARY_ADDR);
  // a PeerAddrChange MadePrimary notification follows.
  Status set_primary(const IpAddress& peer_ip);

  // Chooses which notifications next_notification() delivers from now on.
  void subscribe(const EventSubscription& events);
  // The next subscribed notification, oldest first. Once the association has ended
  // and every notification was read: its end status (Closed, Aborted...).
  Result<Notification> next_notification(Deadline deadline = {});
  Result<Notification> try_next_notification();

 private:
  friend class Listener;
  friend class PacketSocket;
  Connection(std::shared_ptr<detail::StackState> stack, std::shared_ptr<detail::ConnState> state);
  void reset();
  // send() of `data`, which is `*shared` when that is given (then queued without a copy).
  Status send_message(std::span<const uint8_t> data, const SharedMessage* shared,
                      const SendInfo& info, Deadline deadline);

  std::shared_ptr<detail::StackState> stack_;
  std::shared_ptr<detail::ConnState> state_;
};

}  // namespace sctpp
