// sctpp::PacketSocket: the one-to-many style over SockState.
#include "sctpp/packet_socket.h"

#include <algorithm>

#include "api/sock.h"

namespace sctpp {
namespace {

using detail::Lock;
using detail::SockAssoc;
using detail::SockState;

Status not_open() {
  return Status(Errc::NotConnected, "socket is not open");
}

Status no_assoc(uint32_t id) {
  return Status(Errc::NotConnected, "no association with id " + std::to_string(id));
}

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

PacketSocket::PacketSocket() = default;

PacketSocket::~PacketSocket() {
  reset();
}

PacketSocket::PacketSocket(PacketSocket&& o) noexcept
    : stack_(std::move(o.stack_)), state_(std::move(o.state_)) {}

PacketSocket& PacketSocket::operator=(PacketSocket&& o) noexcept {
  if (this != &o) {
    reset();
    stack_ = std::move(o.stack_);
    state_ = std::move(o.state_);
  }
  return *this;
}

void PacketSocket::reset() {
  if (state_) {
    Lock lock(stack_->rt->mutex());
    state_->close(true);
  }
  state_.reset();
  stack_.reset();  // may stop the stack: outside the lock
}

Result<PacketSocket> PacketSocket::open(const Stack& stack, uint16_t port,
                                        const PacketSocketOptions& options) {
  return open(stack, std::span<const IpAddress>(), port, options);
}

Result<PacketSocket> PacketSocket::open(const Stack& stack, std::span<const IpAddress> addresses,
                                        uint16_t port, const PacketSocketOptions& options) {
  auto st = stack.state_;
  if (options.init.num_ostreams == 0 || options.init.max_instreams == 0)
    return Status(Errc::InvalidArgument, "stream counts must be at least 1");
  bool v6 = false;
  auto local_r = st->endpoint_addresses(addresses, &v6);
  if (!local_r.ok()) return local_r.status();
  std::vector<IpAddress> locals = std::move(*local_r);
  auto sock = std::make_shared<SockState>();
  sock->stack = st.get();
  sock->kind = detail::SockKind::OneToMany;
  sock->listening = options.listen;
  sock->events = options.events;
  sock->remote_udp_port = options.remote_udp_port;
  sock->rq_limit = std::max<size_t>(1, options.receive_queue);
  EndpointConfig cfg;
  cfg.local_addresses = locals;
  cfg.init = options.init;
  cfg.assoc = st->assoc_config(v6);
  cfg.assoc.autoclose = options.autoclose;
  cfg.max_associations = options.max_associations;
  sock->config = cfg;
  Lock lock(st->rt->mutex());
  Status s = sock->create_endpoint(port);
  if (!s.ok()) return s;
  lock.unlock();
  PacketSocket p;
  p.stack_ = std::move(st);
  p.state_ = std::move(sock);
  return p;
}

Result<uint32_t> PacketSocket::connect(const SocketAddress& peer, Deadline deadline) {
  return connect(std::span<const IpAddress>(&peer.ip, 1), peer.port, deadline);
}

Result<uint32_t> PacketSocket::connect(std::span<const IpAddress> addresses, uint16_t port,
                                       Deadline deadline) {
  if (!state_) return not_open();
  if (addresses.empty()) return Status(Errc::InvalidArgument, "no peer address given");
  if (port == 0) return Status(Errc::InvalidArgument, "peer SCTP port 0 is not valid");
  Lock lock(stack_->rt->mutex());
  SockState& s = *state_;
  std::vector<SocketAddress> remote;
  for (const IpAddress& ip : addresses) {
    if (ip.is_any()) return Status(Errc::InvalidArgument, "cannot connect to the wildcard address");
    remote.push_back(SocketAddress{ip, s.remote_udp_port});
  }
  s.reap();
  auto id = s.start_assoc(remote, port, s.config.init);
  if (!id.ok()) return id.status();
  s.flush();
  if (deadline.passed()) return id;
  Status up = s.wait_up(lock, *id, deadline);
  if (!up.ok()) {
    if (up.code() == Errc::Timeout) s.abort_assoc(*id, "connect timed out");
    return up;
  }
  return id;
}

Status PacketSocket::send_to(uint32_t assoc_id, std::string_view data, const SendInfo& info,
                             Deadline deadline) {
  return send_to(assoc_id, as_bytes(data), info, deadline);
}

Status PacketSocket::send_to(uint32_t assoc_id, std::span<const uint8_t> data, const SendInfo& info,
                             Deadline deadline) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  return state_->send(lock, assoc_id, data, info, deadline);
}

Status PacketSocket::send_to(uint32_t assoc_id, SharedMessage message, const SendInfo& info,
                             Deadline deadline) {
  if (!state_) return not_open();
  if (!message) return Status(Errc::InvalidArgument, "no message (null SharedMessage)");
  Lock lock(stack_->rt->mutex());
  return state_->send(lock, assoc_id, *message, info, deadline, &message);
}

Status PacketSocket::try_send_to(uint32_t assoc_id, std::span<const uint8_t> data,
                                 const SendInfo& info) {
  Status st = send_to(assoc_id, data, info, Deadline::expired());
  if (st.code() == Errc::Timeout) return Status(Errc::WouldBlock, "send buffer full");
  return st;
}

Result<uint32_t> PacketSocket::send_to(const SocketAddress& peer, std::string_view data,
                                       const SendInfo& info, Deadline deadline) {
  return send_to(peer, as_bytes(data), info, deadline);
}

Result<uint32_t> PacketSocket::send_to(const SocketAddress& peer, std::span<const uint8_t> data,
                                       const SendInfo& info, Deadline deadline) {
  return send_to_peer(peer, data, nullptr, info, deadline);
}

Result<uint32_t> PacketSocket::send_to(const SocketAddress& peer, SharedMessage message,
                                       const SendInfo& info, Deadline deadline) {
  if (!message) return Status(Errc::InvalidArgument, "no message (null SharedMessage)");
  return send_to_peer(peer, *message, &message, info, deadline);
}

Result<uint32_t> PacketSocket::send_to_peer(const SocketAddress& peer,
                                            std::span<const uint8_t> data,
                                            const SharedMessage* shared, const SendInfo& info,
                                            Deadline deadline) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  SockState& s = *state_;
  s.reap();
  if (auto id = s.find_peer(peer)) {
    Status st = s.send(lock, *id, data, info, deadline, shared);
    if (!st.ok()) return st;
    return *id;
  }
  // Implicit setup (RFC 6458 §3.1.5): the message rides with the COOKIE ECHO.
  if (has_flag(info.flags, SendFlags::Abort) || data.empty())
    return Status(Errc::NotConnected, "no association with " + peer.to_string());
  if (peer.port == 0) return Status(Errc::InvalidArgument, "peer SCTP port 0 is not valid");
  if (peer.ip.is_any()) return Status(Errc::InvalidArgument, "cannot send to the wildcard address");
  if (info.stream >= s.config.init.num_ostreams) {
    return Status(Errc::InvalidStream, "stream " + std::to_string(info.stream) + " out of range (" +
                                           std::to_string(s.config.init.num_ostreams) +
                                           " streams requested)");
  }
  if (data.size() > s.config.assoc.max_message_size) {
    return Status(Errc::MessageTooLarge,
                  "message of " + std::to_string(data.size()) + " bytes exceeds the limit of " +
                      std::to_string(s.config.assoc.max_message_size) + " bytes");
  }
  const SocketAddress remote{peer.ip, s.remote_udp_port};
  auto id = s.start_assoc(std::span<const SocketAddress>(&remote, 1), peer.port, s.config.init);
  if (!id.ok()) return id.status();
  Status st = s.send(lock, *id, data, info, deadline, shared);
  if (!st.ok()) {
    s.abort_assoc(*id, "");
    return st;
  }
  return id;
}

Result<PacketEvent> PacketSocket::receive(Deadline deadline) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  auto item = state_->receive(lock, deadline);
  if (!item.ok()) return item.status();
  if (item->is_notification()) return PacketEvent(std::move(std::get<1>(item->value)));
  return PacketEvent(std::move(std::get<0>(item->value)));
}

Status PacketSocket::receive(PacketEvent& event, Deadline deadline) {
  auto e = receive(deadline);
  if (!e.ok()) return e.status();
  if (auto* m = std::get_if<ReceivedMessage>(&event)) stack_->buffers.give(std::move(m->data));
  event = std::move(*e);
  return Status();
}

Result<PacketEvent> PacketSocket::try_receive() {
  auto r = receive(Deadline::expired());
  if (!r.ok() && r.status().code() == Errc::Timeout)
    return Status(Errc::WouldBlock, "nothing waiting");
  return r;
}

Result<Connection> PacketSocket::peeloff(uint32_t assoc_id) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  SockState& s = *state_;
  s.reap();
  SockAssoc* a = s.live(assoc_id);
  if (!a) return no_assoc(assoc_id);
  if (a->pending_eof)
    return Status(Errc::ShuttingDown,
                  "association " + std::to_string(assoc_id) + " is shutting down before it is up");
  std::deque<detail::SockItem> items;
  auto sa = s.take(assoc_id, &items);
  auto conn = std::make_shared<detail::ConnState>();
  conn->stack = stack_.get();
  conn->ctx = s.ctx;
  conn->id = sa->id;
  conn->phase =
      sa->up ? detail::ConnState::Phase::Established : detail::ConnState::Phase::Connecting;
  conn->peer_shutdown = sa->peer_shutdown;
  conn->we_shutdown = sa->we_shutdown;
  conn->outbound_streams = sa->outbound_streams;
  conn->inbound_streams = sa->inbound_streams;
  conn->peer_port = sa->peer_port;
  conn->peer_addresses = sa->peer_addresses;
  conn->events = s.events;
  if (Endpoint* ep = s.endpoint()) stack_->cache_info(*conn, *ep);
  for (auto& it : items) {
    if (it.is_notification())
      conn->notes.push_back(std::move(std::get<1>(it.value)));
    else
      conn->prefix.push_back(std::move(std::get<0>(it.value)));
  }
  s.ctx->conns[assoc_id] = conn;
  s.changed();
  lock.unlock();
  return Connection(stack_, std::move(conn));
}

Status PacketSocket::shutdown(uint32_t assoc_id) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  state_->reap();
  return state_->shutdown_assoc(assoc_id);
}

Status PacketSocket::abort(uint32_t assoc_id, std::string_view reason) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  state_->reap();
  return state_->abort_assoc(assoc_id, reason);
}

Status PacketSocket::set_primary(uint32_t assoc_id, const IpAddress& peer_ip) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  SockState& s = *state_;
  SockAssoc* a = s.live(assoc_id);
  Endpoint* ep = s.endpoint();
  if (!a || !ep) return no_assoc(assoc_id);
  Status st = ep->set_primary(Clock::now(), a->id, peer_ip);
  s.flush();
  return st;
}

Result<ConnectionInfo> PacketSocket::info(uint32_t assoc_id) const {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  SockState& s = *state_;
  SockAssoc* a = s.live(assoc_id);
  Endpoint* ep = s.endpoint();
  if (!a || !ep) return no_assoc(assoc_id);
  auto ai = ep->info(a->id);
  if (!ai) return no_assoc(assoc_id);
  return detail::to_connection_info(*ai);
}

std::vector<uint32_t> PacketSocket::associations() const {
  std::vector<uint32_t> out;
  if (!state_) return out;
  Lock lock(stack_->rt->mutex());
  for (const auto& [id, a] : state_->assocs)
    if (a.live()) out.push_back(id);
  return out;
}

std::optional<uint32_t> PacketSocket::association_with(const SocketAddress& peer) const {
  if (!state_) return std::nullopt;
  Lock lock(stack_->rt->mutex());
  return state_->find_peer(peer);
}

std::vector<SocketAddress> PacketSocket::peer_addresses(uint32_t assoc_id) const {
  std::vector<SocketAddress> out;
  if (!state_) return out;
  Lock lock(stack_->rt->mutex());
  if (SockAssoc* a = state_->live(assoc_id))
    for (const auto& p : a->peer_addresses) out.push_back(SocketAddress{p.ip, a->peer_port});
  return out;
}

void PacketSocket::subscribe(const EventSubscription& events) {
  if (!state_) return;
  Lock lock(stack_->rt->mutex());
  state_->events = events;
}

uint16_t PacketSocket::port() const {
  if (!state_) return 0;
  Lock lock(stack_->rt->mutex());
  return state_->port();
}

std::vector<SocketAddress> PacketSocket::local_addresses() const {
  std::vector<SocketAddress> out;
  if (!state_) return out;
  Lock lock(stack_->rt->mutex());
  const auto& ips = state_->config.local_addresses.empty() ? stack_->rt->bound_addresses()
                                                           : state_->config.local_addresses;
  for (const auto& ip : ips) out.push_back(SocketAddress{ip, state_->port()});
  return out;
}

Status PacketSocket::close(Deadline linger) {
  if (!state_) return not_open();
  Lock lock(stack_->rt->mutex());
  SockState& s = *state_;
  if (!s.open) return Status();
  s.listening = false;
  s.reap();
  s.shutdown_all(false, "socket closed");
  while (s.live_count() > 0) {
    if (!detail::wait_until(*stack_->rt, s.cv, lock, linger)) break;
  }
  const bool all_closed = s.live_count() == 0;
  s.close(false);  // aborts what is left; wakes blocked calls with Closed
  if (!all_closed) return Status(Errc::Timeout, "associations aborted after the linger time");
  return Status();
}

}  // namespace sctpp
