// Configuration of an endpoint and its associations, and the values the endpoint
// hands to its driver: packets to transmit, user events, received messages and
// association snapshots. Every limit a peer could push on is here, explicit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sctpp/types.h"
#include "util/buffer_pool.h"
#include "util/ip_address.h"
#include "util/strong_types.h"
#include "util/time.h"

namespace sctpp {

// Protocol parameters of one association (RFC 9260 §16 defaults unless noted).
struct AssocConfig {
  Duration rto_initial = seconds(1);
  Duration rto_min = seconds(1);
  Duration rto_max = seconds(60);
  int assoc_max_retrans = 10;
  int path_max_retrans = 5;
  Duration heartbeat_interval = seconds(30);
  Duration delayed_ack = milliseconds(200);
  // Packets with DATA received before a SACK goes without waiting for delayed_ack
  // (RFC 9260 §6.2 "SHOULD ... at least every second packet"; RFC 6458
  // SCTP_DELAYED_SACK sack_freq): 1 acknowledges every packet at once.
  int sack_freq = 2;
  Duration valid_cookie_life = seconds(60);
  // Path MTU assumed for every path (IP packet size). Payload per packet is this
  // minus IP, UDP (when encapsulated) and SCTP common headers.
  size_t path_mtu = 1500;
  // Bytes of IP + UDP header in front of each SCTP packet on this transport.
  size_t transport_overhead = 20 + 8;
  // Largest user message accepted for sending and for reassembly.
  size_t max_message_size = 4 * 1024 * 1024;
  // Receive buffer: the advertised window (a_rwnd) and the bound on memory held
  // for undelivered and reassembling data.
  size_t receive_buffer = 4 * 1024 * 1024;
  // Bytes queued (unsent + unacknowledged) beyond which send() says WouldBlock.
  size_t send_buffer = 4 * 1024 * 1024;
  // Send without waiting to fill packets (SCTP_NODELAY); bundling still happens.
  // Off (Nagle): with data in flight, small messages wait until a packet's worth is
  // queued, and messages are split across packets to fill them.
  bool nodelay = true;
  // RFC 9260 §6.1 D, §16 Max.Burst: packets of new DATA sent in one go (on one
  // received packet, timer expiry or send call); 0 = no limit.
  int max_burst = 4;
  // Errors on a path before it counts as potentially failed and data moves to an
  // alternate path (RFC 7829 PFMR; 0 = at the first timeout).
  int pf_max_retrans = 0;
  // Shut an association down after this long without user data either way
  // (RFC 6458 SCTP_AUTOCLOSE); zero = never.
  Duration autoclose{0};

  bool operator==(const AssocConfig&) const = default;
};

struct EndpointConfig {
  uint16_t port = 0;                       // local SCTP port
  std::vector<IpAddress> local_addresses;  // advertised in INIT / INIT ACK
  bool accept_incoming = false;            // listening: answer INITs
  size_t max_associations = 10000;
  InitOptions init;  // used for incoming associations
  AssocConfig assoc;
  // Cookie secrets rotate this often; a secret is still honoured for one rotation
  // after it is replaced, so a cookie's lifetime (Valid.Cookie.Life plus what a
  // Cookie Preservative adds) is capped at this.
  Duration secret_rotation = seconds(120);
  // Where large messages get their buffers (reassembly, and the copy of a message
  // queued to send) and where they go back; null: plain allocation. Shared by the
  // endpoints of one stack, which must not outlive it.
  BufferPool* buffers = nullptr;

  // Field by field, so a setting added here can never be missed by a comparison.
  bool operator==(const EndpointConfig&) const = default;
};

// A packet to send: written into the caller's buffer by poll_transmit.
struct Transmit {
  SocketAddress to;  // peer IP + UDP encapsulation port (0 on raw IP)
  IpAddress from;    // local source address to use (any = let the OS choose)
  size_t size = 0;   // bytes of the packet (the caller's buffer or memory holds them)
};

enum class EventKind {
  Connected,          // our connect() completed (COMM_UP)
  Accepted,           // a peer's association became established on a listening endpoint
  ConnectFailed,      // connect() gave up: NoAnswer, Refused (CANT_STR_ASSOC)
  Readable,           // one or more messages can be received
  Writable,           // send buffer space became available after a WouldBlock
  PeerShutdown,       // peer started a graceful shutdown (SHUTDOWN_EVENT)
  Closed,             // graceful shutdown finished (SHUTDOWN_COMP)
  Aborted,            // ABORT received or sent (COMM_LOST with abort cause)
  Lost,               // Association.Max.Retrans exceeded (COMM_LOST)
  Restarted,          // peer restarted the association (RESTART)
  PeerAddressChange,  // a peer address changed state (SCTP_PEER_ADDR_CHANGE)
  RemoteError,        // the peer sent an ERROR chunk (SCTP_REMOTE_ERROR)
  SendFailed,         // a message could not be delivered (SCTP_SEND_FAILED_EVENT)
  SenderDry,          // everything sent has been acknowledged (SCTP_SENDER_DRY_EVENT)
};

// RFC 6458 §6.1.2 spp_state values.
enum class AddressChange { Available, Unreachable, Removed, Added, MadePrimary, Confirmed };

struct Event {
  Event() = default;
  Event(AssocId a, EventKind k, Status s = {}) : assoc(a), kind(k), status(std::move(s)) {}
  AssocId assoc{0};
  EventKind kind = EventKind::Readable;
  Status status;  // for ConnectFailed/Aborted/Lost: why
  // PeerAddressChange: which address, and what happened to it.
  SocketAddress address;
  AddressChange change = AddressChange::Available;
  // RemoteError: the raw error-cause region of the ERROR chunk.
  std::vector<uint8_t> causes;
  // SendFailed: the message and how it was sent; `sent` when some of it was
  // transmitted (RFC 6458 SCTP_DATA_SENT) rather than never (SCTP_DATA_UNSENT).
  SendInfo send_info;
  std::vector<uint8_t> data;
  bool sent = false;
};

struct Message {
  ReceiveInfo info;
  std::vector<uint8_t> data;
};

enum class AssocState {
  Closed,
  CookieWait,
  CookieEchoed,
  Established,
  ShutdownPending,
  ShutdownSent,
  ShutdownReceived,
  ShutdownAckSent,
};
const char* assoc_state_name(AssocState s);

struct PathInfo {
  SocketAddress address;
  bool confirmed = false;
  bool active = true;
  bool primary = false;
  int error_count = 0;
  Duration srtt{0};
  Duration rto{0};
  size_t cwnd = 0;
};

struct AssocInfo {
  AssocId id{0};
  AssocState state = AssocState::Closed;
  uint16_t outbound_streams = 0;
  uint16_t inbound_streams = 0;
  uint16_t peer_port = 0;
  std::vector<SocketAddress> peer_addresses;
  SocketAddress primary;
  Duration srtt{0};
  Duration rto{0};
  size_t cwnd = 0;
  size_t peer_rwnd = 0;
  size_t outstanding_bytes = 0;  // the flight: DATA chunk bytes sent, not yet acked
  size_t unacked_chunks = 0;     // DATA chunks sent and not cumulatively acked
  size_t queued_bytes = 0;       // accepted by send() but not yet acknowledged
  size_t pending_receive = 0;    // complete messages waiting for receive()
  uint64_t retransmissions = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;
  std::vector<PathInfo> paths;
};

}  // namespace sctpp
