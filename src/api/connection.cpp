// sctpp::Connection: blocking and non-blocking calls over one association.
#include <algorithm>
#include <cstring>

#include "api/sock.h"
#include "api/state.h"

namespace sctpp {
namespace {

using detail::ConnState;
using Phase = ConnState::Phase;
using Lock = std::unique_lock<std::mutex>;

Status not_connected() {
  return Status(Errc::NotConnected, "connection is not open");
}

bool wait(ConnState& c, Lock& lock, const Deadline& deadline) {
  return detail::wait_until(*c.stack->rt, c.cv, lock, deadline);
}

// What an operation on a finished association reports.
Status terminal_status(const ConnState& c) {
  if (c.phase == Phase::Failed) return c.failure;
  return Status(Errc::Closed, c.peer_shutdown && !c.we_shutdown ? "association shut down by peer"
                                                                : "association closed");
}

std::vector<SocketAddress> with_port(const std::vector<IpAddress>& ips, uint16_t port) {
  std::vector<SocketAddress> out;
  for (auto& ip : ips) out.push_back(SocketAddress{ip, port});
  return out;
}

}  // namespace

Connection::Connection() = default;

Connection::Connection(std::shared_ptr<detail::StackState> stack,
                       std::shared_ptr<detail::ConnState> state)
    : stack_(std::move(stack)), state_(std::move(state)) {}

Connection::~Connection() {
  reset();
}

Connection::Connection(Connection&& o) noexcept
    : stack_(std::move(o.stack_)), state_(std::move(o.state_)) {}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    reset();
    stack_ = std::move(o.stack_);
    state_ = std::move(o.state_);
  }
  return *this;
}

void Connection::reset() {
  if (state_) {
    Lock lock(stack_->rt->mutex());
    stack_->orphan(state_);
  }
  state_.reset();
  stack_.reset();  // may stop the stack: outside the lock
}

Result<Connection> Connection::connect(const Stack& stack, const SocketAddress& address,
                                       const ConnectOptions& options, Deadline deadline) {
  return connect(stack, std::span<const IpAddress>(&address.ip, 1), address.port, options,
                 deadline);
}

Result<Connection> Connection::connect(const Stack& stack, std::span<const IpAddress> addresses,
                                       uint16_t port, const ConnectOptions& options,
                                       Deadline deadline) {
  auto st = stack.state_;
  if (addresses.empty()) return Status(Errc::InvalidArgument, "no peer address given");
  if (port == 0) return Status(Errc::InvalidArgument, "peer SCTP port 0 is not valid");
  if (options.init.num_ostreams == 0)
    return Status(Errc::InvalidArgument, "at least one outbound stream is needed");
  std::vector<SocketAddress> remote;
  bool v6 = false;
  for (const IpAddress& ip : addresses) {
    if (ip.is_any()) return Status(Errc::InvalidArgument, "cannot connect to the wildcard address");
    remote.push_back(SocketAddress{ip, options.remote_udp_port});
    v6 = v6 || ip.is_v6();
  }

  Lock lock(st->rt->mutex());
  EndpointConfig cfg;
  cfg.port = 0;  // ephemeral
  for (const IpAddress& ip : st->options.local_addresses)
    if (!ip.is_any()) cfg.local_addresses.push_back(ip);
  cfg.accept_incoming = false;
  cfg.init = options.init;
  cfg.assoc = st->assoc_config(v6);
  auto ctx_r = st->add_endpoint(std::move(cfg));
  if (!ctx_r.ok()) return ctx_r.status();
  std::shared_ptr<detail::EndpointCtx> ctx = *ctx_r;
  Endpoint* ep = st->endpoint(*ctx);
  auto id = ep->connect(Clock::now(), remote, port, options.init);
  if (!id.ok()) {
    ctx->owner_alive = false;
    st->maybe_remove_endpoint(ctx);
    return id.status();
  }
  auto conn = std::make_shared<ConnState>();
  conn->stack = st.get();
  conn->ctx = ctx;
  conn->id = *id;
  conn->events = options.events;
  ctx->conns[id->value()] = conn;
  st->rt->flush(ctx->port);
  while (conn->phase == Phase::Connecting) {
    if (!wait(*conn, lock, deadline)) {
      st->abort_conn(conn, "connect timed out",
                     Status(Errc::Timeout, "no association within the deadline"));
      break;
    }
  }
  if (conn->phase != Phase::Established) {
    Status why = conn->failure;
    st->orphan(conn);
    return why;
  }
  lock.unlock();
  return Connection(st, conn);
}

uint32_t Connection::id() const {
  return state_ ? state_->id.value() : 0;
}

Status Connection::send(std::string_view data, const SendInfo& info, Deadline deadline) {
  return send(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
              info, deadline);
}

Status Connection::try_send(std::span<const uint8_t> data, const SendInfo& info) {
  Status st = send(data, info, Deadline::expired());
  if (st.code() == Errc::Timeout) return Status(Errc::WouldBlock, "send buffer full");
  return st;
}

Status Connection::send(std::span<const uint8_t> data, const SendInfo& info, Deadline deadline) {
  return send_message(data, nullptr, info, deadline);
}

Status Connection::send(SharedMessage message, const SendInfo& info, Deadline deadline) {
  if (!message) return Status(Errc::InvalidArgument, "no message (null SharedMessage)");
  return send_message(*message, &message, info, deadline);
}

Status Connection::send_message(std::span<const uint8_t> data, const SharedMessage* shared,
                                const SendInfo& info, Deadline deadline) {
  if (!state_) return not_connected();
  ConnState& c = *state_;
  if (has_flag(info.flags, SendFlags::Abort))
    return abort(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  const bool eof = has_flag(info.flags, SendFlags::Eof);
  if (data.empty() && eof) {
    Status st = try_shutdown();
    return st.code() == Errc::WouldBlock ? Status() : st;
  }
  if (data.empty())
    return Status(Errc::InvalidArgument, "empty message (SCTP needs 1 byte or more)");
  const size_t limit = stack_->options.tuning.max_message_size;
  if (data.size() > limit) {
    return Status(Errc::MessageTooLarge, "message of " + std::to_string(data.size()) +
                                             " bytes exceeds the limit of " +
                                             std::to_string(limit) + " bytes");
  }
  Lock lock(stack_->rt->mutex());
  if (c.outbound_streams != 0 && info.stream >= c.outbound_streams) {
    return Status(Errc::InvalidStream, "stream " + std::to_string(info.stream) +
                                           " out of range (peer accepts " +
                                           std::to_string(c.outbound_streams) + " streams)");
  }
  while (true) {
    if (c.terminal() || c.released) return terminal_status(c);
    if (c.we_shutdown) return Status(Errc::ShuttingDown, "shutdown in progress: no new data");
    if (c.peer_shutdown) return Status(Errc::ShuttingDown, "peer shut down the association");
    Endpoint* ep = stack_->endpoint(*c.ctx);
    if (!ep) return not_connected();
    const Instant now = Clock::now();
    Status st = shared ? ep->send(now, c.id, info, *shared) : ep->send(now, c.id, info, data);
    if (st.ok()) {
      if (eof) {
        c.we_shutdown = true;
        ep->shutdown(now, c.id);
      }
      // A try_ call's caller waits outside the stack: its packets go out at once,
      // unless it says more follow.
      if (has_flag(info.flags, SendFlags::More))
        stack_->rt->flush_more(c.ctx->port, now);
      else
        stack_->rt->flush_send(c.ctx->port, !deadline.passed(), now);
      return st;
    }
    if (st.code() != Errc::WouldBlock) {
      stack_->rt->flush(c.ctx->port);
      if (c.terminal()) return terminal_status(c);
      return st;
    }
    if (!detail::wait_for_room(*c.stack->rt, c.cv, lock, deadline, info))
      return Status(Errc::Timeout, "send buffer stayed full");
  }
}

Result<ReceivedMessage> Connection::receive(Deadline deadline) {
  if (!state_) return not_connected();
  ConnState& c = *state_;
  Lock lock(stack_->rt->mutex());
  stack_->rt->note_receive();
  while (true) {
    if (!c.partial.empty()) {
      ReceivedMessage m;
      m.info = c.partial_info;
      m.data.assign(c.partial.begin() + static_cast<ptrdiff_t>(c.partial_offset), c.partial.end());
      stack_->buffers.give(std::move(c.partial));
      c.partial_offset = 0;
      return m;
    }
    if (!c.prefix.empty()) {
      ReceivedMessage m = std::move(c.prefix.front());
      c.prefix.pop_front();
      return m;
    }
    Endpoint* ep = c.released ? nullptr : stack_->endpoint(*c.ctx);
    if (ep) {
      if (auto msg = ep->receive(Clock::now(), c.id)) {
        // Receiving frees window: the endpoint may want to send a window update.
        stack_->rt->flush(c.ctx->port);
        return ReceivedMessage{std::move(msg->data), msg->info};
      }
    }
    if (c.terminal() || c.released) return terminal_status(c);
    if (c.peer_shutdown) return Status(Errc::Closed, "association shut down by peer");
    if (!wait(c, lock, deadline)) return Status(Errc::Timeout, "no message within the deadline");
  }
}

Status Connection::receive(ReceivedMessage& message, Deadline deadline) {
  auto m = receive(deadline);
  if (!m.ok()) return m.status();
  stack_->buffers.give(std::move(message.data));
  message = std::move(*m);
  return Status();
}

Result<ReceivedMessage> Connection::try_receive() {
  auto r = receive(Deadline::expired());
  if (!r.ok() && r.status().code() == Errc::Timeout)
    return Status(Errc::WouldBlock, "no message waiting");
  return r;
}

Result<size_t> Connection::write(std::span<const uint8_t> data, Deadline deadline) {
  Status st = send(data, SendInfo{}, deadline);
  if (!st.ok()) return st;
  return data.size();
}

Result<size_t> Connection::read(std::span<uint8_t> buffer, Deadline deadline) {
  if (!state_) return not_connected();
  if (buffer.empty()) return size_t{0};
  {
    Lock lock(stack_->rt->mutex());
    ConnState& c = *state_;
    if (!c.partial.empty()) {
      size_t n = std::min(buffer.size(), c.partial.size() - c.partial_offset);
      std::memcpy(buffer.data(), c.partial.data() + c.partial_offset, n);
      c.partial_offset += n;
      if (c.partial_offset == c.partial.size()) {
        stack_->buffers.give(std::move(c.partial));
        c.partial_offset = 0;
      }
      return n;
    }
  }
  auto m = receive(deadline);
  if (!m.ok()) {
    if (m.status().code() == Errc::Closed) return size_t{0};
    return m.status();
  }
  size_t n = std::min(buffer.size(), m->data.size());
  std::memcpy(buffer.data(), m->data.data(), n);
  if (n < m->data.size()) {
    Lock lock(stack_->rt->mutex());
    state_->partial = std::move(m->data);
    state_->partial_offset = n;
    state_->partial_info = m->info;
  } else {
    stack_->buffers.give(std::move(m->data));
  }
  return n;
}

Status Connection::try_shutdown() {
  Status st = shutdown(Deadline::expired());
  if (st.code() == Errc::Timeout) return Status(Errc::WouldBlock, "shutdown in progress");
  return st;
}

Status Connection::shutdown(Deadline deadline) {
  if (!state_) return not_connected();
  ConnState& c = *state_;
  Lock lock(stack_->rt->mutex());
  if (!c.terminal() && !c.we_shutdown) {
    c.we_shutdown = true;
    if (Endpoint* ep = stack_->endpoint(*c.ctx)) {
      Status st = ep->shutdown(Clock::now(), c.id);
      stack_->rt->flush(c.ctx->port);
      if (!st.ok() && !c.terminal() && st.code() != Errc::ShuttingDown &&
          !(c.peer_shutdown && st.code() == Errc::NotConnected)) {
        return st;
      }
    }
  }
  while (!c.terminal()) {
    if (!wait(c, lock, deadline))
      return Status(Errc::Timeout, "shutdown not complete within the deadline");
  }
  if (c.phase == Phase::Closed) return Status();
  return c.failure;
}

Status Connection::abort(std::string_view reason) {
  if (!state_) return not_connected();
  Lock lock(stack_->rt->mutex());
  stack_->abort_conn(
      state_, reason,
      Status(Errc::Aborted,
             "aborted locally" + (reason.empty() ? std::string() : ": " + std::string(reason))));
  return Status();
}

std::vector<SocketAddress> Connection::local_addresses() const {
  if (!state_) return {};
  Lock lock(stack_->rt->mutex());
  const auto& ctx = *state_->ctx;
  if (!ctx.local_addresses.empty()) return with_port(ctx.local_addresses, ctx.port);
  return with_port(stack_->rt->bound_addresses(), ctx.port);
}

std::vector<SocketAddress> Connection::peer_addresses() const {
  if (!state_) return {};
  Lock lock(stack_->rt->mutex());
  const ConnState& c = *state_;
  std::vector<SocketAddress> out;
  for (const auto& a : c.peer_addresses) out.push_back(SocketAddress{a.ip, c.peer_port});
  return out;
}

uint16_t Connection::local_port() const {
  if (!state_) return 0;
  Lock lock(stack_->rt->mutex());
  return state_->ctx->port;
}

uint16_t Connection::peer_port() const {
  if (!state_) return 0;
  Lock lock(stack_->rt->mutex());
  return state_->peer_port;
}

uint16_t Connection::outbound_streams() const {
  if (!state_) return 0;
  Lock lock(stack_->rt->mutex());
  return state_->outbound_streams;
}

uint16_t Connection::inbound_streams() const {
  if (!state_) return 0;
  Lock lock(stack_->rt->mutex());
  return state_->inbound_streams;
}

bool Connection::peer_shut_down() const {
  if (!state_) return false;
  Lock lock(stack_->rt->mutex());
  return state_->peer_shutdown;
}

Result<ConnectionInfo> Connection::info() const {
  if (!state_) return not_connected();
  Lock lock(stack_->rt->mutex());
  const ConnState& c = *state_;
  Endpoint* ep = c.released ? nullptr : stack_->endpoint(*c.ctx);
  std::optional<AssocInfo> ai;
  if (ep) ai = ep->info(c.id);
  if (!ai) return terminal_status(c);
  return detail::to_connection_info(*ai);
}

Status Connection::set_primary(const IpAddress& peer_ip) {
  if (!state_) return not_connected();
  Lock lock(stack_->rt->mutex());
  ConnState& c = *state_;
  if (c.terminal() || c.released) return terminal_status(c);
  Endpoint* ep = stack_->endpoint(*c.ctx);
  if (!ep) return not_connected();
  Status st = ep->set_primary(Clock::now(), c.id, peer_ip);
  stack_->rt->flush(c.ctx->port);
  return st;
}

void Connection::subscribe(const EventSubscription& events) {
  if (!state_) return;
  Lock lock(stack_->rt->mutex());
  state_->events = events;
}

Result<Notification> Connection::next_notification(Deadline deadline) {
  if (!state_) return not_connected();
  ConnState& c = *state_;
  Lock lock(stack_->rt->mutex());
  while (true) {
    if (!c.notes.empty()) {
      Notification n = std::move(c.notes.front());
      c.notes.pop_front();
      return n;
    }
    if (c.terminal() || c.released) return terminal_status(c);
    if (!wait(c, lock, deadline))
      return Status(Errc::Timeout, "no notification within the deadline");
  }
}

Result<Notification> Connection::try_next_notification() {
  auto r = next_notification(Deadline::expired());
  if (!r.ok() && r.status().code() == Errc::Timeout)
    return Status(Errc::WouldBlock, "no notification waiting");
  return r;
}

}  // namespace sctpp
