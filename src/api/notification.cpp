// Core events -> RFC 6458 notifications, and their names.
#include "sctpp/notification.h"

#include "api/state.h"

namespace sctpp {

uint32_t notification_assoc_id(const Notification& n) {
  return std::visit([](const auto& e) { return e.assoc_id; }, n);
}

const char* to_string(AssocChangeState s) {
  switch (s) {
    case AssocChangeState::CommUp:
      return "COMM_UP";
    case AssocChangeState::CommLost:
      return "COMM_LOST";
    case AssocChangeState::Restart:
      return "RESTART";
    case AssocChangeState::ShutdownComplete:
      return "SHUTDOWN_COMP";
    case AssocChangeState::CantStartAssoc:
      return "CANT_STR_ASSOC";
  }
  return "?";
}

const char* to_string(PeerAddrState s) {
  switch (s) {
    case PeerAddrState::Available:
      return "ADDR_AVAILABLE";
    case PeerAddrState::Unreachable:
      return "ADDR_UNREACHABLE";
    case PeerAddrState::Removed:
      return "ADDR_REMOVED";
    case PeerAddrState::Added:
      return "ADDR_ADDED";
    case PeerAddrState::MadePrimary:
      return "ADDR_MADE_PRIM";
    case PeerAddrState::Confirmed:
      return "ADDR_CONFIRMED";
  }
  return "?";
}

namespace {
struct Describe {
  std::string operator()(const AssocChange& e) const {
    std::string s = "ASSOC_CHANGE " + std::string(to_string(e.state));
    if (e.state == AssocChangeState::CommUp || e.state == AssocChangeState::Restart) {
      s += " (" + std::to_string(e.outbound_streams) + " out / " +
           std::to_string(e.inbound_streams) + " in streams)";
    }
    if (!e.status.ok() && !e.status.reason().empty()) s += ": " + e.status.reason();
    return s;
  }
  std::string operator()(const PeerAddrChange& e) const {
    return "PEER_ADDR_CHANGE " + e.address.to_string() + " " + to_string(e.state);
  }
  std::string operator()(const RemoteError& e) const {
    return "REMOTE_ERROR cause " + std::to_string(e.error) + (e.text.empty() ? "" : ": " + e.text);
  }
  std::string operator()(const ShutdownEvent&) const { return "SHUTDOWN_EVENT"; }
  std::string operator()(const SendFailedEvent& e) const {
    return std::string("SEND_FAILED_EVENT ") + (e.sent ? "DATA_SENT" : "DATA_UNSENT") + " " +
           std::to_string(e.data.size()) + " bytes on stream " + std::to_string(e.info.stream);
  }
  std::string operator()(const SenderDryEvent&) const { return "SENDER_DRY_EVENT"; }
};
}  // namespace

std::string describe(const Notification& n) {
  return "assoc " + std::to_string(notification_assoc_id(n)) + ": " + std::visit(Describe{}, n);
}

namespace detail {

std::optional<Notification> make_notification(const Event& ev, const EventSubscription& sub,
                                              uint16_t peer_port, uint16_t outbound_streams,
                                              uint16_t inbound_streams) {
  const uint32_t id = ev.assoc.value();
  auto change = [&](AssocChangeState state) -> std::optional<Notification> {
    if (!sub.association) return std::nullopt;
    AssocChange c;
    c.assoc_id = id;
    c.state = state;
    if (state == AssocChangeState::CommUp || state == AssocChangeState::Restart) {
      c.outbound_streams = outbound_streams;
      c.inbound_streams = inbound_streams;
    }
    if (state == AssocChangeState::CommLost || state == AssocChangeState::CantStartAssoc) {
      c.status = ev.status;
      if (c.status.ok()) {
        c.status = Status(ev.kind == EventKind::Lost            ? Errc::ConnectionLost
                          : ev.kind == EventKind::ConnectFailed ? Errc::NoAnswer
                                                                : Errc::Aborted);
      }
    }
    return c;
  };
  switch (ev.kind) {
    case EventKind::Connected:
    case EventKind::Accepted:
      return change(AssocChangeState::CommUp);
    case EventKind::Restarted:
      return change(AssocChangeState::Restart);
    case EventKind::Closed:
      return change(AssocChangeState::ShutdownComplete);
    case EventKind::Aborted:
    case EventKind::Lost:
      return change(AssocChangeState::CommLost);
    case EventKind::ConnectFailed:
      return change(AssocChangeState::CantStartAssoc);
    case EventKind::PeerShutdown:
      if (!sub.shutdown) return std::nullopt;
      return ShutdownEvent{id};
    case EventKind::PeerAddressChange: {
      if (!sub.address) return std::nullopt;
      PeerAddrChange c;
      c.assoc_id = id;
      c.address = SocketAddress{ev.address.ip, peer_port};
      switch (ev.change) {
        case AddressChange::Available:
          c.state = PeerAddrState::Available;
          break;
        case AddressChange::Unreachable:
          c.state = PeerAddrState::Unreachable;
          break;
        case AddressChange::Removed:
          c.state = PeerAddrState::Removed;
          break;
        case AddressChange::Added:
          c.state = PeerAddrState::Added;
          break;
        case AddressChange::MadePrimary:
          c.state = PeerAddrState::MadePrimary;
          break;
        case AddressChange::Confirmed:
          c.state = PeerAddrState::Confirmed;
          break;
      }
      return c;
    }
    case EventKind::RemoteError: {
      if (!sub.remote_error) return std::nullopt;
      RemoteError e;
      e.assoc_id = id;
      e.causes = ev.causes;
      if (e.causes.size() >= 2) e.error = static_cast<uint16_t>(e.causes[0] << 8 | e.causes[1]);
      e.text = ev.status.reason();
      return e;
    }
    case EventKind::SendFailed: {
      if (!sub.send_failure) return std::nullopt;
      SendFailedEvent e;
      e.assoc_id = id;
      e.sent = ev.sent;
      e.info = ev.send_info;
      e.data = ev.data;
      return e;
    }
    case EventKind::SenderDry:
      if (!sub.sender_dry) return std::nullopt;
      return SenderDryEvent{id};
    case EventKind::Readable:
    case EventKind::Writable:
      return std::nullopt;
  }
  return std::nullopt;
}

ConnectionInfo to_connection_info(const AssocInfo& ai) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  ConnectionInfo out;
  out.id = ai.id.value();
  out.state = assoc_state_name(ai.state);
  out.outbound_streams = ai.outbound_streams;
  out.inbound_streams = ai.inbound_streams;
  out.peer_addresses = ai.peer_addresses;
  out.primary = ai.primary;
  out.peer_port = ai.peer_port;
  out.srtt = duration_cast<microseconds>(ai.srtt);
  out.rto = duration_cast<microseconds>(ai.rto);
  out.cwnd = ai.cwnd;
  out.peer_rwnd = ai.peer_rwnd;
  out.outstanding_bytes = ai.outstanding_bytes;
  out.queued_bytes = ai.queued_bytes;
  out.pending_receive = ai.pending_receive;
  out.retransmissions = ai.retransmissions;
  out.packets_sent = ai.packets_sent;
  out.packets_received = ai.packets_received;
  for (const PathInfo& p : ai.paths) {
    PathStatus ps;
    ps.address = p.address;
    ps.confirmed = p.confirmed;
    ps.active = p.active;
    ps.primary = p.primary;
    ps.error_count = p.error_count;
    ps.srtt = duration_cast<microseconds>(p.srtt);
    ps.rto = duration_cast<microseconds>(p.rto);
    ps.cwnd = p.cwnd;
    out.paths.push_back(ps);
  }
  return out;
}

}  // namespace detail
}  // namespace sctpp
