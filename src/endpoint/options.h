// Configuration of an endpoint and its associations, and the values the endpoint
// hands to its driver: packets to transmit, user events, received messages and
// association snapshots. Every limit a peer could push on is here, explicit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sctpp/types.h"
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
  bool nodelay = true;
};

struct EndpointConfig {
  uint16_t port = 0;                       // local SCTP port
  std::vector<IpAddress> local_addresses;  // advertised in INIT / INIT ACK
  bool accept_incoming = false;            // listening: answer INITs
  size_t max_associations = 10000;
  InitOptions init;  // used for incoming associations
  AssocConfig assoc;
  // Cookie secrets rotate this often; a cookie stays verifiable for one rotation.
  Duration secret_rotation = seconds(60);
};

// A packet to send: written into the caller's buffer by poll_transmit.
struct Transmit {
  SocketAddress to;  // peer IP + UDP encapsulation port (0 on raw IP)
  IpAddress from;    // local source address to use (any = let the OS choose)
};

enum class EventKind {
  Connected,      // our connect() completed (COMM_UP)
  Accepted,       // a peer's association became established on a listening endpoint
  ConnectFailed,  // connect() gave up: NoAnswer, Refused (CANT_STR_ASSOC)
  Readable,       // one or more messages can be received
  Writable,       // send buffer space became available after a WouldBlock
  PeerShutdown,   // peer started a graceful shutdown (SHUTDOWN_EVENT)
  Closed,         // graceful shutdown finished (SHUTDOWN_COMP)
  Aborted,        // ABORT received or sent (COMM_LOST with abort cause)
  Lost,           // Association.Max.Retrans exceeded (COMM_LOST)
  Restarted,      // peer restarted the association (RESTART)
};

struct Event {
  AssocId assoc{0};
  EventKind kind = EventKind::Readable;
  Status status;  // for ConnectFailed/Aborted/Lost: why
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
  size_t outstanding_bytes = 0;
  size_t queued_bytes = 0;     // accepted by send() but not yet acknowledged
  size_t pending_receive = 0;  // complete messages waiting for receive()
  uint64_t retransmissions = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;
};

}  // namespace sctpp
