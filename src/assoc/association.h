// One SCTP association (RFC 9260): the state machine from COOKIE-WAIT to CLOSED, and
// the glue between its parts — handshake, send side (SendQueue, RetransmissionQueue,
// per-path congestion control and RTO), receive side (DataTracker, ReassemblyQueue),
// path management (heartbeats, error counters) and shutdown/abort. Sans-IO: it is
// fed chunks and time, and yields packets, events and a deadline.
//
// The Endpoint owns associations, checks nothing but demultiplexing and cookies, and
// hands each packet over with its verification tag still to be checked here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "assoc/path.h"
#include "assoc/rx/data_tracker.h"
#include "assoc/rx/reassembly_queue.h"
#include "assoc/timer.h"
#include "assoc/tx/retransmission_queue.h"
#include "assoc/tx/send_queue.h"
#include "assoc/tx/zero_window_probe.h"
#include "endpoint/options.h"
#include "endpoint/state_cookie.h"
#include "util/lazy_deque.h"
#include "wire/chunk_bytes.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp {

// What an association needs from its endpoint.
struct AssocContext {
  const EndpointConfig* config = nullptr;
  std::function<void(std::span<uint8_t>)> random;
  std::deque<Event>* events = nullptr;
};

class Association {
 public:
  // Active open: queues an INIT to `remote` (first address is the primary path).
  static std::unique_ptr<Association> connect(AssocId id, AssocContext ctx, Instant now,
                                              std::span<const SocketAddress> remote,
                                              uint16_t remote_port, const InitOptions& init);
  // Passive open from a verified State Cookie (§5.1.5): ESTABLISHED at once, with a
  // COOKIE ACK queued.
  static std::unique_ptr<Association> from_cookie(AssocId id, AssocContext ctx, Instant now,
                                                  const StateCookie& cookie,
                                                  const IpAddress& local = IpAddress());

  AssocId id() const { return id_; }
  AssocState state() const { return state_; }
  VerificationTag local_tag() const { return local_tag_; }
  VerificationTag peer_tag() const { return peer_tag_; }
  uint16_t peer_port() const { return peer_port_; }
  const std::vector<Path>& paths() const { return paths_; }
  // True once the association is gone (closed, aborted or lost): only its unread
  // messages remain.
  bool terminated() const { return state_ == AssocState::Closed; }

  // A packet from the peer. Verification tags are checked here (§8.5, §8.5.1).
  // `to` is the local address the packet arrived on (any when unknown).
  // ICMP said the peer's port or protocol is unreachable (Endpoint::handle_unreachable).
  void handle_unreachable(Instant now);
  void handle_packet(Instant now, const wire::PacketView& packet, const SocketAddress& from,
                     const IpAddress& to = IpAddress());
  // COOKIE ECHO for this association (§5.2.4): the endpoint verified the MAC and
  // lifetime, and found this association by the peer's address.
  void handle_cookie_echo(Instant now, const wire::PacketView& packet, const StateCookie& cookie,
                          const SocketAddress& from, const IpAddress& to = IpAddress());
  // An INIT from this association's peer (§5.2.1, §5.2.2). Fills the tags and TSN
  // the endpoint must use for its INIT ACK; returns false when the INIT is to be
  // discarded (e.g. SHUTDOWN-ACK-SENT retransmits its SHUTDOWN ACK instead).
  struct InitReply {
    VerificationTag local_tag{0};
    Tsn local_initial_tsn{0};
    VerificationTag local_tie_tag{0};
    VerificationTag peer_tie_tag{0};
    // The stream counts to offer, as in our own INIT (§5.2.1: "using the same
    // parameters it sent in its original INIT"); the endpoint's defaults otherwise.
    std::optional<uint16_t> num_ostreams;
    std::optional<uint16_t> max_instreams;
  };
  bool prepare_init_ack(Instant now, InitReply& reply);

  void handle_timeout(Instant now);
  std::optional<Instant> next_timeout() const;
  // Builds the next packet, if anything is due, into `buffer` or into `out` (at least
  // max_packet_size() bytes; Transmit::size says how many it took).
  std::optional<Transmit> poll_transmit(Instant now, std::vector<uint8_t>& buffer);
  std::optional<Transmit> poll_transmit(Instant now, std::span<uint8_t> out);

  // Queues a copy of `data`, or `message` itself (kept until acknowledged).
  Status send(Instant now, const SendInfo& info, std::span<const uint8_t> data);
  Status send(Instant now, const SendInfo& info, const SharedMessage& message);
  std::optional<Message> receive(Instant now);
  Status shutdown(Instant now);
  Status abort(Instant now, std::string_view reason);
  // Makes `ip` the primary path (RFC 6458 SCTP_PRIMARY_ADDR); data goes there
  // whenever it is usable.
  Status set_primary(Instant now, const IpAddress& ip);
  AssocInfo info() const;
  size_t send_buffer_free() const;
  // Bytes the send buffer is charged for: payload queued or unacknowledged plus a
  // fixed bookkeeping cost per message and per chunk.
  size_t buffered_send_bytes() const;

 private:
  // A control chunk waiting for a packet. `vtag` overrides the peer's tag (0 for
  // INIT, our own tag for a reflected ABORT); `alone` chunks may not be bundled
  // (INIT, SHUTDOWN COMPLETE: §6.10).
  struct Control {
    Control(std::vector<uint8_t> b, std::optional<size_t> p, std::optional<VerificationTag> t,
            bool a)
        : bytes(std::move(b)), path(p), vtag(t), alone(a) {}
    // A SACK stays a snapshot until its packet is built, and is written there: one
    // goes out per two DATA packets received, and serializing each into a vector of
    // its own cost the receiver a heap allocation and free per SACK.
    Control(wire::SackChunk s, size_t p) : path(p), sack(std::move(s)) {}

    std::vector<uint8_t> bytes;  // the chunk, padded; empty when `sack` holds it
    std::optional<size_t> path;
    std::optional<VerificationTag> vtag;
    bool alone = false;
    std::optional<wire::SackChunk> sack;
    size_t padded_size() const { return sack ? wire::pad4(sack->size()) : bytes.size(); }
    wire::ChunkType type() const {
      return sack ? wire::ChunkType::Sack : static_cast<wire::ChunkType>(bytes[0]);
    }
  };
  Association(AssocId id, AssocContext ctx);
  // Whether a message of `bytes` on `info.stream` may be queued now (state, stream,
  // size, send buffer), then the queueing itself.
  Status admit(const SendInfo& info, size_t bytes);
  void enqueue(Instant now, const SendInfo& info, SharedMessage message);

  // Handshake
  void send_init(Instant now);
  void handle_init_ack(Instant now, const wire::ChunkView& c, const SocketAddress& from);
  void handle_cookie_ack(Instant now);
  void handle_stale_cookie(Instant now, uint32_t staleness_us);
  void establish(Instant now, EventKind kind);
  void setup_after_handshake(uint16_t outbound, uint16_t inbound, Tsn local_tsn, Tsn peer_tsn,
                             uint32_t peer_rwnd);
  void add_peer_addresses(std::span<const IpAddress> ips, uint16_t udp_port);

  // Data
  bool handle_data(Instant now, const wire::ChunkView& c);
  void handle_sack(Instant now, const wire::SackChunk& sack);
  // What follows an accepted acknowledgement (a SACK's or a SHUTDOWN's Cumulative TSN
  // Ack): RTO, error counters, cwnd, fast retransmit, T3-rtx, Writable, SenderDry,
  // shutdown progress.
  void on_acked(Instant now, const RetransmissionQueue::SackOutcome& out);
  void handle_heartbeat(const wire::ChunkView& c, size_t path);
  void handle_heartbeat_ack(Instant now, const wire::ChunkView& c);
  void handle_error(Instant now, const wire::ChunkView& c);
  void handle_abort(const wire::ChunkView& c);

  // Shutdown
  void handle_shutdown(Instant now, const wire::ShutdownChunk& c);
  void handle_shutdown_ack(Instant now);
  void handle_shutdown_complete();
  void maybe_progress_shutdown(Instant now);

  // Timers
  void on_t1_expired(Instant now);
  void on_t2_expired(Instant now);
  void on_t3_expired(Instant now, size_t path);
  void on_heartbeat_timer(Instant now, size_t path);
  // When a confirmed path's next HEARTBEAT is due (§8.3, jittered).
  Duration heartbeat_delay(const Path& p);
  // An error on `path` (a T3-rtx, T2 or HEARTBEAT timeout); `for_association`: it also
  // counts against the association (§8.1). True when the association was lost.
  bool count_error(Instant now, size_t path, bool for_association);
  // The path new data and retransmissions go to: the primary while it is usable,
  // else an alternate (RFC 9260 §6.4, RFC 7829 potentially-failed handling).
  size_t data_path() const;
  // Where an answer to a packet from `path` goes (SACK, COOKIE ACK): there if it is
  // confirmed and active (§6.4), else the data path (§5.4).
  size_t answer_path(size_t path) const;
  // §8.3: HEARTBEATs from ESTABLISHED on, "discontinued after sending either a
  // SHUTDOWN chunk or SHUTDOWN ACK chunk".
  bool heartbeats_on() const {
    return state_ != AssocState::CookieWait && state_ != AssocState::CookieEchoed &&
           state_ != AssocState::ShutdownSent && state_ != AssocState::ShutdownAckSent;
  }
  bool path_usable(const Path& p) const;
  void emit_address_change(size_t path, AddressChange change);
  // Hands every unsent and unacknowledged message back to the user (SEND_FAILED).
  void fail_pending_sends();
  void note_user_data(Instant now);  // restarts the autoclose timer

  // Termination
  void terminate(EventKind kind, Status status);
  void queue_abort(std::span<const uint8_t> causes, bool t_bit = false);
  void queue_error(std::span<const uint8_t> causes);

  // Transmission
  size_t max_packet_size() const;
  size_t max_data_payload() const;
  size_t max_error_bytes() const;
  uint32_t advertised_rwnd() const;
  void queue_control(Control c);
  template <class C>
  void queue_chunk(const C& c, std::optional<size_t> path = std::nullopt) {
    queue_control(Control{wire::chunk_bytes(c), path, std::nullopt, false});
  }
  // A SHUTDOWN carrying the cumulative TSN of now (§9.2), to `path`.
  void queue_shutdown(size_t path);
  // Whether the peer's receive window takes new DATA (or a zero window probe) now.
  bool peer_window_open() const;
  // Whether the congestion window of `path` lets a new packet of DATA go to it.
  bool path_may_send(size_t path) const;
  // Returns true when new (never sent) DATA went into the packet.
  bool write_data(wire::PacketWriter& w, Instant now, bool ignore_cwnd, size_t path);
  // §7.2.1's cwnd decay for an address that sent no data for an RTO or more.
  void decay_idle_cwnd(Path& p, size_t path, Instant now);
  // poll_transmit() into either kind of writer.
  std::optional<Transmit> poll_transmit_into(Instant now, wire::PacketWriter& w);
  size_t path_for(const SocketAddress& from, const IpAddress& to = IpAddress());
  // The local address to send to `peer` from: the configured local address sharing
  // the longest prefix with it (any when no addresses are configured).
  IpAddress local_for(const IpAddress& peer) const;
  void emit(EventKind kind, Status status = {});

  AssocId id_;
  AssocContext ctx_;
  const AssocConfig& cfg_;
  AssocState state_ = AssocState::Closed;
  VerificationTag local_tag_{0};
  VerificationTag peer_tag_{0};
  uint16_t peer_port_ = 0;
  Tsn local_initial_tsn_{0};
  InitOptions init_;
  int init_attempts_ = 0;
  std::vector<uint8_t> cookie_;  // echoed in COOKIE-ECHOED
  std::optional<uint32_t> cookie_preservative_ms_;
  Instant cookie_echo_sent_{};  // last COOKIE ECHO transmission (§5.2.6 RTT)

  std::vector<Path> paths_;
  size_t primary_ = 0;
  // Where INIT and COOKIE ECHO go (the primary when connect() was called): the path
  // that becomes confirmed at establishment even if set_primary() moved meanwhile.
  uint32_t handshake_path_ = 0;
  // §5.2.2 Tie-Tags: random, made when the first unexpected INIT is answered with a
  // cookie, matched when a COOKIE ECHO comes back as a restart (§5.2.4 A).
  VerificationTag tie_local_{0};
  VerificationTag tie_peer_{0};
  int assoc_error_count_ = 0;

  std::unique_ptr<SendQueue> send_queue_;
  std::unique_ptr<RetransmissionQueue> rtx_;
  std::unique_ptr<DataTracker> tracker_;
  std::unique_ptr<ReassemblyQueue> reassembly_;
  LazyDeque<Message> carried_;  // unread messages from before a restart
  uint16_t outbound_streams_ = 0;
  uint16_t inbound_streams_ = 0;
  size_t peer_rwnd_ = 0;
  // The largest window the peer has offered (its "maximum window" for the sender's
  // silly window syndrome avoidance, RFC 1122 §4.2.3.4).
  uint32_t max_peer_rwnd_ = 0;
  ZeroWindowProbe zero_window_;
  bool send_blocked_ = false;      // a send() said WouldBlock: emit Writable later
  bool fast_rtx_pending_ = false;  // send one packet of fast retransmissions now
  size_t last_data_path_ = 0;      // where the last DATA came from: SACKs go there
  uint32_t last_advertised_rwnd_ = 0;
  std::vector<uint8_t> packet_errors_;  // error causes to report for this packet
  bool dropped_for_window_ = false;     // this packet had DATA refused for lack of room
  // §6.1 D Max.Burst: packets of new DATA still allowed in the current transmission
  // opportunity. Each received packet adds Max.Burst (a driver that feeds a batch of
  // SACKs before polling still gets Max.Burst per SACK, as one polled per packet
  // would), a timer or a send() makes it at least Max.Burst, and the opportunity
  // ends when poll_transmit has nothing more to send.
  int burst_left_ = 0;
  void burst_on_packet() {
    if (cfg_.max_burst > 0) burst_left_ = std::min(burst_left_ + cfg_.max_burst, 1 << 20);
  }
  void burst_on_event() { burst_left_ = std::max(burst_left_, cfg_.max_burst); }
  bool burst_exhausted() const { return cfg_.max_burst > 0 && burst_left_ <= 0; }
  // Until the peer has sent SHUTDOWN it may send DATA, so our window matters to it.
  bool peer_may_send_data() const {
    return state_ == AssocState::Established || state_ == AssocState::ShutdownPending ||
           state_ == AssocState::ShutdownSent;
  }

  Timer t1_;  // T1-init / T1-cookie
  Timer t2_;  // T2-shutdown
  Timer autoclose_;
  bool dry_ = true;  // nothing unsent or unacknowledged (SENDER_DRY reported)
  bool shutdown_requested_ = false;
  Tsn peer_last_cum_in_shutdown_{0};

  LazyDeque<Control> control_;
  uint64_t packets_sent_ = 0;
  uint64_t packets_received_ = 0;
};

}  // namespace sctpp
