// Stack creation and the event routing shared by listeners and connections.
#include <algorithm>

#include "api/sock.h"
#include "api/state.h"

namespace sctpp {
namespace detail {

StackState::~StackState() {
  if (!rt) return;
  {
    std::unique_lock<std::mutex> lock(rt->mutex());
    auto live = [&] {
      std::vector<std::shared_ptr<ConnState>> out;
      for (auto& [port, ctx] : endpoints)
        for (auto& [id, conn] : ctx->conns)
          if (!conn->terminal()) out.push_back(conn);
      return out;
    };
    // Sockets' associations (sock.h) too.
    auto live_socks = [&] {
      std::vector<std::pair<std::shared_ptr<SockState>, uint32_t>> out;
      for (auto& [port, ctx] : endpoints)
        for (auto& [id, sock] : ctx->owners)
          if (sock->live(id)) out.emplace_back(sock, id);
      return out;
    };
    const auto deadline = Clock::now() + options.linger;
    while ((!live().empty() || !live_socks().empty()) && Clock::now() < deadline)
      rt->wait(lock, terminal_cv, deadline);
    for (auto& conn : live()) {
      abort_conn(conn, "stack shut down",
                 Status(Errc::Aborted, "aborted locally: stack shut down"));
    }
    for (auto& [sock, id] : live_socks()) sock->abort_assoc(id, "stack shut down");
    auto all = endpoints;
    for (auto& [port, ctx] : all) {
      ctx->conns.clear();
      ctx->accept_queue.clear();
      ctx->owners.clear();
      ctx->group = nullptr;
    }
  }
  rt.reset();  // stops the I/O thread and destroys the endpoints and their sinks
  endpoints.clear();
}

AssocConfig StackState::assoc_config(bool ipv6) const {
  const Tuning& t = options.tuning;
  AssocConfig c;
  c.rto_initial = t.rto_initial;
  c.rto_min = t.rto_min;
  c.rto_max = t.rto_max;
  c.assoc_max_retrans = t.assoc_max_retrans;
  c.path_max_retrans = t.path_max_retrans;
  c.heartbeat_interval = t.heartbeat_interval;
  c.delayed_ack = t.delayed_ack;
  c.sack_freq = t.sack_freq;
  c.max_burst = t.max_burst;
  c.path_mtu = t.path_mtu;
  c.transport_overhead = (ipv6 ? 40 : 20) + (options.transport == Transport::Ip ? 0 : 8);
  c.max_message_size = t.max_message_size;
  c.receive_buffer = t.receive_buffer;
  c.send_buffer = t.send_buffer;
  c.nodelay = t.nodelay;
  c.valid_cookie_life = t.valid_cookie_life;
  return c;
}

Result<std::vector<IpAddress>> StackState::endpoint_addresses(std::span<const IpAddress> addresses,
                                                              bool* ipv6) const {
  const auto bound = rt->bound_addresses();
  std::vector<IpAddress> locals;
  *ipv6 = addresses.empty();
  for (const IpAddress& ip : addresses) {
    *ipv6 = *ipv6 || ip.is_v6();
    if (ip.is_any()) continue;
    bool ok = std::any_of(bound.begin(), bound.end(), [&](const IpAddress& b) {
      return b == ip || (b.is_any() && b.family() == ip.family());
    });
    if (!ok) {
      return Status(Errc::InvalidArgument,
                    "address " + ip.to_string() + " is not one of the stack's local addresses");
    }
    locals.push_back(ip);
  }
  if (locals.empty()) {
    for (const IpAddress& ip : options.local_addresses)
      if (!ip.is_any()) locals.push_back(ip);
  }
  return locals;
}

Result<std::shared_ptr<EndpointCtx>> StackState::add_endpoint(EndpointConfig config) {
  auto ctx = std::make_shared<EndpointCtx>();
  ctx->local_addresses = config.local_addresses;
  config.secret_rotation = options.tuning.cookie_secret_rotation;
  config.buffers = &buffers;
  auto port = rt->add_endpoint(
      std::move(config), [this, ctx](Endpoint& ep, const Event& ev) { on_event(ctx, ep, ev); });
  if (!port.ok()) return port.status();
  ctx->port = *port;
  endpoints[*port] = ctx;
  return ctx;
}

void StackState::cache_info(ConnState& conn, const Endpoint& ep) {
  auto info = ep.info(conn.id);
  if (!info) return;
  conn.outbound_streams = info->outbound_streams;
  conn.inbound_streams = info->inbound_streams;
  conn.peer_port = info->peer_port;
  conn.peer_addresses = info->peer_addresses;
}

void StackState::mark_terminal(ConnState& conn) {
  rt->wake_driver();
  conn.cv.notify_all();
  terminal_cv.notify_all();
  if (conn.ctx) conn.ctx->accept_cv.notify_all();
}

void StackState::on_event(const std::shared_ptr<EndpointCtx>& ctx, Endpoint& ep, const Event& ev) {
  // Any event may be what a thread waits for: the driver (net::Runtime::wait) sleeps in
  // poll, not on the condition variables notified below.
  rt->wake_driver();
  const uint32_t key = ev.assoc.value();
  auto it = ctx->conns.find(key);
  if (it == ctx->conns.end()) {
    // Sockets (PacketSocket, C API): the owner of the association, or the socket
    // that takes new ones. The copy keeps the socket alive while it handles.
    if (auto o = ctx->owners.find(key); o != ctx->owners.end()) {
      std::shared_ptr<SockState> sock = o->second;
      sock->handle(ep, ev);
      if (is_terminal_event(ev.kind)) terminal_cv.notify_all();
      return;
    }
    if (ev.kind == EventKind::Accepted && ctx->group) {
      std::shared_ptr<SockState> sock = ctx->group->shared_from_this();
      sock->accept_new(ep, ev);
      return;
    }
  }
  if (ev.kind == EventKind::Accepted && it == ctx->conns.end()) {
    if (!ctx->listening || ctx->accept_queue.size() >= ctx->backlog) {
      // Refused. The ABORT is only sent once this sink returns, so the association
      // is released later (release_refused), not when its Aborted event comes.
      ep.abort(Clock::now(), ev.assoc, ctx->listening ? "listen backlog full" : "listener closed");
      ctx->refused.push_back(ev.assoc);
      if (ctx->refused.size() > kMaxRefused) {
        // Bounded even if nobody calls accept(): the oldest were refused in
        // earlier flushes (or, at worst, their peers get an out-of-the-blue ABORT).
        const size_t n = ctx->refused.size() - kMaxRefused / 2;
        for (size_t i = 0; i < n; ++i) ep.release(ctx->refused[i]);
        ctx->refused.erase(ctx->refused.begin(), ctx->refused.begin() + static_cast<ptrdiff_t>(n));
      }
      maybe_remove_endpoint(ctx);  // a closed listener's: removed after this flush
      return;
    }
    auto conn = std::make_shared<ConnState>();
    conn->stack = this;
    conn->ctx = ctx;
    conn->id = ev.assoc;
    conn->phase = ConnState::Phase::Established;
    conn->events = ctx->accept_events;
    cache_info(*conn, ep);
    ctx->conns[key] = conn;
    if (auto n = make_notification(ev, conn->events, conn->peer_port, conn->outbound_streams,
                                   conn->inbound_streams))
      conn->notes.push_back(std::move(*n));
    ctx->accept_queue.push_back(conn);
    ctx->accept_cv.notify_all();
    return;
  }
  if (it == ctx->conns.end()) return;
  std::shared_ptr<ConnState> conn = it->second;
  using Phase = ConnState::Phase;
  switch (ev.kind) {
    case EventKind::Accepted:
    case EventKind::Connected:
      if (conn->phase == Phase::Connecting) conn->phase = Phase::Established;
      cache_info(*conn, ep);
      conn->cv.notify_all();
      break;
    case EventKind::Restarted:
      cache_info(*conn, ep);
      conn->cv.notify_all();
      break;
    case EventKind::Readable:
    case EventKind::Writable:
      conn->cv.notify_all();
      break;
    case EventKind::PeerShutdown:
      conn->peer_shutdown = true;
      conn->cv.notify_all();
      break;
    case EventKind::PeerAddressChange:
      cache_info(*conn, ep);
      break;
    default:
      break;
  }
  // Subscribed notifications for next_notification().
  if (auto n = make_notification(ev, conn->events, conn->peer_port, conn->outbound_streams,
                                 conn->inbound_streams)) {
    if (conn->notes.size() < kMaxQueuedNotifications) conn->notes.push_back(std::move(*n));
    conn->cv.notify_all();
  }
  switch (ev.kind) {
    case EventKind::Closed:
      if (!conn->terminal()) conn->phase = Phase::Closed;
      mark_terminal(*conn);
      collect(conn);
      break;
    case EventKind::ConnectFailed:
    case EventKind::Aborted:
    case EventKind::Lost:
      if (!conn->terminal()) {
        conn->phase = Phase::Failed;
        conn->failure = ev.status;
        if (conn->failure.ok()) {
          Errc code = ev.kind == EventKind::ConnectFailed ? Errc::NoAnswer
                      : ev.kind == EventKind::Lost        ? Errc::ConnectionLost
                                                          : Errc::Aborted;
          conn->failure =
              Status(code, ev.kind == EventKind::Lost ? "association lost" : "association aborted");
        }
      }
      mark_terminal(*conn);
      collect(conn);
      break;
    default:
      break;
  }
}

void StackState::release_refused(EndpointCtx& ctx) {
  if (ctx.refused.empty()) return;
  if (Endpoint* ep = endpoint(ctx))
    for (AssocId id : ctx.refused) ep->release(id);
  ctx.refused.clear();
}

void StackState::collect(std::shared_ptr<ConnState> conn) {
  if (!conn->terminal() || !conn->orphaned || conn->released) return;
  std::shared_ptr<EndpointCtx> ctx = conn->ctx;
  if (Endpoint* ep = endpoint(*ctx)) ep->release(conn->id);
  conn->released = true;
  ctx->conns.erase(conn->id.value());
  maybe_remove_endpoint(ctx);
}

void StackState::maybe_remove_endpoint(std::shared_ptr<EndpointCtx> ctx) {
  if (ctx->owner_alive || !ctx->conns.empty() || !ctx->accept_queue.empty() || !ctx->owners.empty())
    return;
  auto it = endpoints.find(ctx->port);
  if (it == endpoints.end() || it->second != ctx) return;
  rt->remove_endpoint(ctx->port);
  ctx->removed = true;
  endpoints.erase(it);
}

void StackState::abort_conn(const std::shared_ptr<ConnState>& conn, std::string_view reason,
                            Status why) {
  if (conn->terminal() || conn->released) return;
  conn->phase = ConnState::Phase::Failed;
  conn->failure = std::move(why);
  if (Endpoint* ep = endpoint(*conn->ctx)) {
    ep->abort(Clock::now(), conn->id, reason);
    rt->flush(conn->ctx->port);
  }
  mark_terminal(*conn);
  collect(conn);  // in case no Aborted event came for a local abort
}

void StackState::orphan(std::shared_ptr<ConnState> conn) {
  conn->orphaned = true;
  std::shared_ptr<EndpointCtx> ctx = conn->ctx;
  if (!ctx->is_listener) ctx->owner_alive = false;
  if (conn->terminal()) {
    collect(conn);
    maybe_remove_endpoint(ctx);
    return;
  }
  if (conn->phase == ConnState::Phase::Connecting) {
    abort_conn(conn, "connection closed", Status(Errc::Aborted, "aborted locally"));
    return;
  }
  if (!conn->we_shutdown && !conn->peer_shutdown) {
    conn->we_shutdown = true;
    if (Endpoint* ep = endpoint(*ctx)) {
      Status st = ep->shutdown(Clock::now(), conn->id);
      rt->flush(ctx->port);
      if (!st.ok() && !conn->terminal() && st.code() != Errc::ShuttingDown) {
        abort_conn(conn, "connection closed", Status(Errc::Aborted, "aborted locally"));
      }
    }
  }
}

}  // namespace detail

namespace detail {

// A Tuning value that the stack cannot honour, named so the user can fix it.
Status check_tuning(const Tuning& t) {
  auto bad = [](const std::string& why) { return Status(Errc::InvalidArgument, "tuning: " + why); };
  using std::chrono::milliseconds;
  if (t.rto_min <= milliseconds(0)) return bad("rto_min must be positive");
  if (t.rto_initial < t.rto_min || t.rto_initial > t.rto_max)
    return bad("rto_initial must lie between rto_min and rto_max");
  if (t.assoc_max_retrans < 0 || t.path_max_retrans < 0)
    return bad("assoc_max_retrans and path_max_retrans must not be negative");
  if (t.heartbeat_interval <= milliseconds(0)) return bad("heartbeat_interval must be positive");
  if (t.delayed_ack < milliseconds(0) || t.delayed_ack > milliseconds(500))
    return bad("delayed_ack must be 0..500 ms (RFC 9260 §6.2)");
  if (t.sack_freq < 1 || t.sack_freq > 65535) return bad("sack_freq must be 1..65535");
  if (t.max_burst < 0 || t.max_burst > 65535) return bad("max_burst must be 0..65535");
  if (t.path_mtu < 576 || t.path_mtu > 65535) return bad("path_mtu must be 576..65535");
  if (t.max_message_size == 0) return bad("max_message_size must be positive");
  if (t.receive_buffer < 1500) return bad("receive_buffer must be at least 1500 bytes");
  if (t.send_buffer == 0) return bad("send_buffer must be positive");
  if (t.valid_cookie_life <= milliseconds(0)) return bad("valid_cookie_life must be positive");
  if (t.cookie_secret_rotation < t.valid_cookie_life)
    return bad("cookie_secret_rotation must be at least valid_cookie_life");
  return {};
}

Result<std::shared_ptr<StackState>> create_stack(const StackOptions& options) {
  if (Status s = check_tuning(options.tuning); !s.ok()) return s;
  auto state = std::make_shared<detail::StackState>();
  state->options = options;
  net::RuntimeOptions ro;
  ro.transport =
      options.transport == Transport::Ip ? net::TransportKind::RawIp : net::TransportKind::Udp;
  ro.udp_port = options.udp_port;
  ro.local_addresses = options.local_addresses;
  ro.socket_buffer = options.socket_buffer;
  ro.spin = options.spin;
  auto rt = net::Runtime::start(ro);
  if (!rt.ok()) return rt.status();
  state->rt = std::move(*rt);
  return state;
}

}  // namespace detail

Result<Stack> Stack::create(const StackOptions& options) {
  auto state = detail::create_stack(options);
  if (!state.ok()) return state.status();
  return Stack(std::move(*state));
}

uint16_t Stack::udp_port() const {
  return state_->rt->udp_port();
}

std::vector<IpAddress> Stack::local_addresses() const {
  return state_->rt->bound_addresses();
}

const StackOptions& Stack::options() const {
  return state_->options;
}

}  // namespace sctpp
