// Notifications (RFC 6458 §6.1) as typed C++ events, and which of them to deliver
// (RFC 6458 §6.2.1, SCTP_EVENT).
//
// A PacketSocket delivers the subscribed notifications in-band from receive(), in
// order with the messages of the association they concern; a Connection delivers
// them from next_notification() when subscribed.
//
//   for (;;) {
//     auto ev = sock.receive();
//     if (auto* n = std::get_if<sctpp::Notification>(&*ev)) {
//       if (auto* ac = std::get_if<sctpp::AssocChange>(n);
//           ac && ac->state == sctpp::AssocChangeState::CommUp) { ... }
//     }
//   }
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "sctpp/address.h"
#include "sctpp/types.h"

namespace sctpp {

// Which notifications are delivered. None by default (as RFC 6458 says), except where
// an API documents another default (PacketSocketOptions subscribes to association
// changes).
struct EventSubscription {
  bool association = false;   // AssocChange        (SCTP_ASSOC_CHANGE)
  bool address = false;       // PeerAddrChange     (SCTP_PEER_ADDR_CHANGE)
  bool remote_error = false;  // RemoteError        (SCTP_REMOTE_ERROR)
  bool shutdown = false;      // ShutdownEvent      (SCTP_SHUTDOWN_EVENT)
  bool send_failure = false;  // SendFailedEvent    (SCTP_SEND_FAILED_EVENT)
  bool sender_dry = false;    // SenderDryEvent     (SCTP_SENDER_DRY_EVENT)
  static EventSubscription all() { return {true, true, true, true, true, true}; }
  static EventSubscription none() { return {}; }
  friend bool operator==(const EventSubscription&, const EventSubscription&) = default;
};

// sac_state (RFC 6458 §6.1.1); values as usrsctp/FreeBSD.
enum class AssocChangeState : uint16_t {
  CommUp = 1,            // SCTP_COMM_UP: established (either side started it)
  CommLost = 2,          // SCTP_COMM_LOST: aborted (either side) or peer unreachable
  Restart = 3,           // SCTP_RESTART: the peer restarted
  ShutdownComplete = 4,  // SCTP_SHUTDOWN_COMP: graceful shutdown finished
  CantStartAssoc = 5,    // SCTP_CANT_STR_ASSOC: setup failed (ABORT or no answer)
};

struct AssocChange {
  uint32_t assoc_id = 0;
  AssocChangeState state = AssocChangeState::CommUp;
  uint16_t error = 0;  // protocol error cause code when one is known, else 0
  uint16_t outbound_streams = 0;
  uint16_t inbound_streams = 0;
  // For CommLost / CantStartAssoc: why, e.g. Errc::Aborted "aborted by peer:
  // User-Initiated Abort: bye", Errc::ConnectionLost, Errc::Refused, Errc::NoAnswer.
  Status status{};
};

// spc_state (RFC 6458 §6.1.2); values as usrsctp/FreeBSD.
enum class PeerAddrState : uint32_t {
  Available = 1,    // SCTP_ADDR_AVAILABLE: reachable again
  Unreachable = 2,  // SCTP_ADDR_UNREACHABLE: Path.Max.Retrans exceeded
  Removed = 3,      // SCTP_ADDR_REMOVED
  Added = 4,        // SCTP_ADDR_ADDED
  MadePrimary = 5,  // SCTP_ADDR_MADE_PRIM
  Confirmed = 6,    // SCTP_ADDR_CONFIRMED: first heartbeat answered
};

struct PeerAddrChange {
  uint32_t assoc_id = 0;
  SocketAddress address{};  // the peer's IP address and SCTP port
  PeerAddrState state = PeerAddrState::Available;
  uint32_t error = 0;
};

// The peer sent an ERROR chunk (RFC 6458 §6.1.3).
struct RemoteError {
  uint32_t assoc_id = 0;
  uint16_t error = 0;             // code of the first error cause (host order)
  std::vector<uint8_t> causes{};  // every error cause, as on the wire
  std::string text{};             // the causes, described
};

// The peer started a graceful shutdown: it sends no more data (RFC 6458 §6.1.5).
struct ShutdownEvent {
  uint32_t assoc_id = 0;
};

// A message that will never be delivered (RFC 6458 §6.1.11).
struct SendFailedEvent {
  uint32_t assoc_id = 0;
  bool sent = false;  // true: SCTP_DATA_SENT (was on the wire); false: SCTP_DATA_UNSENT
  uint32_t error = 0;
  SendInfo info{};  // as it was sent (stream, PPID, context, unordered)
  std::vector<uint8_t> data{};
};

// Everything sent has been acknowledged (RFC 6458 §6.1.9).
struct SenderDryEvent {
  uint32_t assoc_id = 0;
};

using Notification = std::variant<AssocChange, PeerAddrChange, RemoteError, ShutdownEvent,
                                  SendFailedEvent, SenderDryEvent>;

uint32_t notification_assoc_id(const Notification& n);
const char* to_string(AssocChangeState s);  // "COMM_UP", ...
const char* to_string(PeerAddrState s);     // "ADDR_AVAILABLE", ...
// One line for logs, e.g. "assoc 3: ASSOC_CHANGE COMM_UP (10 out / 10 in streams)".
std::string describe(const Notification& n);

}  // namespace sctpp
