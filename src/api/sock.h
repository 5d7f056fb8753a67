// The RFC 6458 socket behind PacketSocket (one-to-many) and every socket of the C API
// (one-to-many, one-to-one and listening): an endpoint, the associations the socket
// owns on it, and one receive queue in which messages and notifications wait in
// order.
//
// Receive queue. Messages are taken from an association as soon as it reports them
// (so that notifications fall in line after the data that came before them) while
// the queue holds less than `rq_limit` bytes; beyond that an association is
// "stalled": its messages wait in the association (whose window then closes) and
// are taken round-robin as the reader makes room. Before a notification that ends
// an association's data (SHUTDOWN_EVENT, SHUTDOWN_COMP, COMM_LOST) everything left
// in that association is taken first, so it is always behind the last message.
//
// An association that ended is released from the endpoint when its last event comes
// (its final packets were sent before events are dispatched). One this socket aborts
// inside a sink (refused: backlog full, socket closed) is released at the next user
// call instead, since its ABORT is only sent once the sink returns.
//
// Every member is guarded by the runtime mutex (stack->rt->mutex()).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "api/state.h"
#include "sctpp/deadline.h"
#include "sctpp/notification.h"

namespace sctpp::detail {

using Lock = std::unique_lock<std::mutex>;

// Waits on `cv` until notified or the deadline passes (maybe reading the sockets
// meanwhile: net::Runtime::wait, which also says what `what` changes); false when it
// passed.
bool wait_until(net::Runtime& rt, std::condition_variable& cv, Lock& lock, const Deadline& deadline,
                net::Runtime::WaitFor what = net::Runtime::WaitFor::Data);

// wait_until() for a send that found its buffer full (WaitFor::Room); with
// SendFlags::More and a passed deadline it leaves held packets held.
bool wait_for_room(net::Runtime& rt, std::condition_variable& cv, Lock& lock,
                   const Deadline& deadline, const SendInfo& info);

struct SockItem {
  uint32_t assoc = 0;
  std::variant<ReceivedMessage, Notification> value;
  size_t bytes = 0;  // what it counts against rq_limit
  bool is_notification() const { return value.index() == 1; }
};

struct SockAssoc {
  AssocId id{0};
  bool up = false;             // COMM_UP seen
  bool terminal = false;       // ended; `failure` says how
  bool released = false;       // forgotten by the endpoint
  bool peer_shutdown = false;  // SHUTDOWN received
  bool we_shutdown = false;    // our shutdown started
  bool pending_eof = false;    // SCTP_EOF asked before COMM_UP: shut down once up
  bool send_blocked = false;   // a send found its buffer full; cleared by Writable
  bool stalled = false;        // messages may be waiting in the association
  Status failure;              // Ok after a graceful shutdown
  uint16_t outbound_streams = 0;
  uint16_t inbound_streams = 0;
  uint16_t peer_port = 0;
  std::vector<SocketAddress> peer_addresses;  // IP + UDP port
  SocketAddress primary;                      // IP + UDP port
  bool live() const { return !terminal; }
};

enum class SockKind {
  OneToMany,  // SOCK_SEQPACKET / PacketSocket
  OneToOne,   // SOCK_STREAM: at most one association
  Listening,  // SOCK_STREAM after listen(): accepted associations become OneToOne sockets
};

struct SockState : std::enable_shared_from_this<SockState> {
  StackState* stack = nullptr;
  SockKind kind = SockKind::OneToMany;
  std::shared_ptr<EndpointCtx> ctx;  // null until bound
  EndpointConfig config;             // what the endpoint is (re)created with
  bool open = true;                  // the user's handle is open
  bool owns_endpoint = false;        // created ctx (not branched off another socket)
  bool finalized = false;
  bool listening = false;  // accept associations peers start
  EventSubscription events;
  uint16_t remote_udp_port = 9899;
  size_t rq_limit = 1024 * 1024;
  size_t backlog = 128;  // Listening: established, not yet accepted

  // Add entries with add_assoc() and end them with end(), which keep live_count().
  std::map<uint32_t, SockAssoc> assocs;
  std::map<uint32_t, Status> ended;  // recently ended associations (OneToMany): how
  std::deque<SockItem> rq;
  size_t rq_bytes = 0;
  size_t rq_notes = 0;
  uint64_t notes_dropped = 0;
  std::deque<uint32_t> stalled;
  std::deque<std::shared_ptr<SockState>> accept_queue;
  bool send_blocked_any = false;  // OneToMany: a send found a full buffer
  std::vector<AssocId> refused;   // aborted at once (backlog, closed): to release
  std::condition_variable cv;
  // Called (mutex held) whenever readiness may have changed: the C API keeps its
  // descriptor's readable/writable state with it.
  std::function<void()> on_change;

  // ---- every function below: with the runtime mutex held ----
  Endpoint* endpoint();
  void flush();
  // After a send: coalesces a burst like a Connection does (net::Runtime::flush_send).
  void flush_send(bool will_wait, Instant now);
  // After a send with more to follow (MSG_MORE): net::Runtime::flush_more.
  void flush_more(Instant now);
  void changed();
  bool bound() const { return ctx != nullptr; }
  uint16_t port() const { return ctx ? ctx->port : config.port; }

  // Creates the endpoint on `port` (0: ephemeral) from `config`.
  Status create_endpoint(uint16_t port);
  // Re-creates the endpoint from `config` (same port); only while it has no
  // association. InvalidArgument otherwise.
  Status reconfigure();

  // Core events of an association this socket owns, and of a new association a
  // peer started (this socket is the endpoint's group).
  void handle(Endpoint& ep, const Event& ev);
  void accept_new(Endpoint& ep, const Event& ev);

  SockAssoc* find(uint32_t id);
  SockAssoc* live(uint32_t id);
  std::optional<uint32_t> find_peer(const SocketAddress& peer) const;  // IP + SCTP port
  SockAssoc* only();  // OneToOne: its association (null before connect)

  // Starts an association; `remote` carries IP + UDP encapsulation port.
  Result<uint32_t> start_assoc(std::span<const SocketAddress> remote, uint16_t port,
                               const InitOptions& init);
  // Sends on association `id` (flags: EOF, ABORT), blocking while its buffer is full.
  // `data` is `*shared` when that is given: then it is queued without a copy.
  Status send(Lock& lock, uint32_t id, std::span<const uint8_t> data, const SendInfo& info,
              Deadline deadline, const SharedMessage* shared = nullptr);
  // Graceful shutdown of one association (deferred until COMM_UP if needed).
  Status shutdown_assoc(uint32_t id);
  Status abort_assoc(uint32_t id, std::string_view reason);
  // Waits until association `id` is up; its failure otherwise.
  Status wait_up(Lock& lock, uint32_t id, Deadline deadline);
  // The next item; Closed/NotConnected/Timeout per kind and state.
  Result<SockItem> receive(Lock& lock, Deadline deadline);
  // Takes the front item (rq must not be empty) and refills from stalled associations.
  SockItem pop();
  // Takes messages from stalled associations while the queue has room.
  void top_up();
  // Listening: the next accepted socket.
  Result<std::shared_ptr<SockState>> accept(Lock& lock, Deadline deadline);

  // Moves association `id` and its queued items to a new OneToOne socket.
  std::shared_ptr<SockState> branch(uint32_t id);
  // Takes association `id` out of this socket: its entry and queued items.
  std::optional<SockAssoc> take(uint32_t id, std::deque<SockItem>* items);

  // Releases associations refused inside a sink (user calls only).
  void reap();
  // Starts a graceful shutdown of every live association (abort: ABORT them).
  void shutdown_all(bool abort, std::string_view reason);
  // The user's handle is gone (graceful: let live associations shut down).
  void close(bool graceful);
  // Associations not yet ended: O(1), since every new association checks it
  // against max_associations (counting them was O(n) per setup, O(n^2) to set up
  // 10,000).
  size_t live_count() const;
  void add_assoc(uint32_t id, SockAssoc a);

  struct Readiness {
    bool readable = false;
    bool writable = false;
  };
  Readiness readiness() const;

 private:
  void cache(Endpoint& ep, SockAssoc& a);
  bool pull_one(Endpoint& ep, SockAssoc& a);
  void pull_some(Endpoint& ep, SockAssoc& a);
  void pull_all(Endpoint& ep, SockAssoc& a);
  void refill(Endpoint& ep);
  void unstall(SockAssoc& a);
  void push(SockItem item);
  void note(const Event& ev, const SockAssoc& a);
  void end(Endpoint& ep, SockAssoc& a, const Event& ev);
  void finalize_if_done();
  void forget_ended(uint32_t id, Status why);

  size_t live_ = 0;  // entries of `assocs` that are live()
};

}  // namespace sctpp::detail
