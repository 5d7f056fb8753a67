// Internal state behind the public Stack / Listener / Connection handles.
//
// Ownership: user handles hold the StackState strongly; the runtime's event sinks
// and the association table hold only ConnState/EndpointCtx, never the stack, so
// the stack (and its I/O thread) is always destroyed by a user thread.
// Every field below is guarded by the runtime mutex (rt->mutex()).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "endpoint/endpoint.h"
#include "net/runtime.h"
#include "sctpp/connection.h"
#include "sctpp/listener.h"
#include "sctpp/notification.h"
#include "sctpp/stack.h"

namespace sctpp::detail {

struct EndpointCtx;
struct SockState;

struct ConnState {
  enum class Phase { Connecting, Established, Closed, Failed };

  StackState* stack = nullptr;
  std::shared_ptr<EndpointCtx> ctx;
  AssocId id{0};
  Phase phase = Phase::Connecting;
  bool peer_shutdown = false;
  bool we_shutdown = false;
  bool orphaned = false;  // no user handle left: release when terminal
  bool released = false;  // forgotten by the endpoint
  Status failure;         // why, when phase == Failed
  std::condition_variable cv;

  // Cached when established, still answerable after release.
  uint16_t outbound_streams = 0;
  uint16_t inbound_streams = 0;
  uint16_t peer_port = 0;
  std::vector<SocketAddress> peer_addresses;  // IP + UDP port

  // read(): the rest of a message that did not fit the caller's buffer.
  std::vector<uint8_t> partial;
  size_t partial_offset = 0;
  ReceiveInfo partial_info;

  // Messages queued before this Connection owned the association (peeloff from a
  // PacketSocket): receive() returns them first.
  std::deque<ReceivedMessage> prefix;
  // Subscribed notifications for next_notification(), oldest first (bounded).
  EventSubscription events;
  std::deque<Notification> notes;

  bool terminal() const { return phase == Phase::Closed || phase == Phase::Failed; }
};

// One endpoint (SCTP port) of the stack: a listener's, one outgoing connection's, or
// a socket's (PacketSocket / C API).
struct EndpointCtx {
  uint16_t port = 0;
  std::vector<IpAddress> local_addresses;  // configured (may be empty = all)
  // Several associations share the endpoint: one going away does not end it.
  bool is_listener = false;
  bool owner_alive = true;  // listener or socket open, or the connection handle alive
  bool removed = false;     // taken out of the runtime: never touch the port again
  bool listening = false;
  size_t backlog = 0;
  std::map<uint32_t, std::shared_ptr<ConnState>> conns;
  std::deque<std::shared_ptr<ConnState>> accept_queue;
  std::condition_variable accept_cv;
  EventSubscription accept_events;  // Listener: subscription of accepted connections
  std::vector<AssocId> refused;     // Listener: aborted in a sink, to release later
  // Sockets (sock.h): associations owned by a socket, and the socket that takes
  // the associations peers start. Events of an association in `conns` go to its
  // Connection, of one in `owners` to that socket.
  std::unordered_map<uint32_t, std::shared_ptr<SockState>> owners;
  SockState* group = nullptr;
};

struct StackState {
  StackOptions options;
  // Buffers of large received messages, given back by their readers (before `rt`:
  // its endpoints take from it until they are gone).
  BufferPool buffers;
  std::unique_ptr<net::Runtime> rt;
  std::map<uint16_t, std::shared_ptr<EndpointCtx>> endpoints;
  std::condition_variable terminal_cv;  // any association reached a terminal phase

  ~StackState();

  // ---- with rt->mutex() held ----
  AssocConfig assoc_config(bool ipv6) const;
  // The addresses an endpoint binds for a user's list: each must be one of the
  // stack's (InvalidArgument names the first that is not); wildcards and an empty
  // list mean the stack's own. *ipv6 tells whether IPv6 may be used.
  Result<std::vector<IpAddress>> endpoint_addresses(std::span<const IpAddress> addresses,
                                                    bool* ipv6) const;
  // Creates an endpoint and its context; the sink routes events to ConnStates.
  Result<std::shared_ptr<EndpointCtx>> add_endpoint(EndpointConfig config);
  Endpoint* endpoint(const EndpointCtx& ctx) {
    return ctx.removed ? nullptr : rt->endpoint(ctx.port);
  }
  void on_event(const std::shared_ptr<EndpointCtx>& ctx, Endpoint& ep, const Event& ev);
  // Releases a terminal, orphaned association and drops an endpoint nobody needs.
  void collect(std::shared_ptr<ConnState> conn);
  void maybe_remove_endpoint(std::shared_ptr<EndpointCtx> ctx);
  // The user handle is gone: shuts down (or aborts) and collects when possible.
  void orphan(std::shared_ptr<ConnState> conn);
  // Aborts locally with `why` as the association's failure reason, then flushes.
  void abort_conn(const std::shared_ptr<ConnState>& conn, std::string_view reason, Status why);
  void cache_info(ConnState& conn, const Endpoint& ep);
  // Releases the associations a listener refused (user calls only).
  void release_refused(EndpointCtx& ctx);
  void mark_terminal(ConnState& conn);
};

inline bool is_terminal_event(EventKind k) {
  return k == EventKind::Closed || k == EventKind::Aborted || k == EventKind::Lost ||
         k == EventKind::ConnectFailed;
}

// Creates a stack (runtime started) as Stack::create does.
Result<std::shared_ptr<StackState>> create_stack(const StackOptions& options);

// Snapshot of an association for the public API (ConnectionInfo with paths).
ConnectionInfo to_connection_info(const AssocInfo& ai);

// The notification the API reports for core event `ev` when `sub` subscribes to
// it. `peer_port` is the peer's SCTP port; the stream counts are the association's
// (after the event).
std::optional<Notification> make_notification(const Event& ev, const EventSubscription& sub,
                                              uint16_t peer_port, uint16_t outbound_streams,
                                              uint16_t inbound_streams);
// Associations refused inside a sink kept for release at the next user call.
constexpr size_t kMaxRefused = 256;

// Most notifications kept for a reader that does not read them; later ones are
// dropped (counted), as a kernel drops them when the receive buffer is full.
constexpr size_t kMaxQueuedNotifications = 65536;

}  // namespace sctpp::detail
