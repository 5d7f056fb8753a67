// SockState: associations owned by one socket and its ordered receive queue.
#include "api/sock.h"

#include <algorithm>

namespace sctpp::detail {
namespace {

constexpr size_t kItemOverhead = 64;  // bookkeeping counted per queued item
constexpr size_t kMaxEnded = 1024;    // ended associations remembered (OneToMany)

Status no_assoc(uint32_t id) {
  return Status(Errc::NotConnected, "no association with id " + std::to_string(id));
}

Status ended_status(EventKind kind, const Status& st) {
  if (kind == EventKind::Closed) return Status();
  if (!st.ok()) return st;
  switch (kind) {
    case EventKind::ConnectFailed:
      return Status(Errc::NoAnswer, "association could not be set up");
    case EventKind::Lost:
      return Status(Errc::ConnectionLost, "association lost");
    default:
      return Status(Errc::Aborted, "association aborted");
  }
}

}  // namespace

bool wait_until(net::Runtime& rt, std::condition_variable& cv, Lock& lock, const Deadline& deadline,
                net::Runtime::WaitFor what) {
  if (deadline.is_never()) {
    rt.wait(lock, cv, std::nullopt, what);
    return true;
  }
  if (deadline.passed()) {
    rt.give_back_sockets();  // the caller waits elsewhere, if at all (runtime.h)
    return false;
  }
  rt.wait(lock, cv, deadline.when(), what);
  return true;
}

bool wait_for_room(net::Runtime& rt, std::condition_variable& cv, Lock& lock,
                   const Deadline& deadline, const SendInfo& info) {
  // A caller that said more follow (MSG_MORE) comes back to send it, here or on
  // another socket: what is held waits for that, for the acknowledgements the I/O
  // thread reads (which send everything), or for the coalescing bound. Other callers
  // that will not wait hand everything over (wait_until()).
  if (deadline.passed() && has_flag(info.flags, SendFlags::More)) return false;
  return wait_until(rt, cv, lock, deadline, net::Runtime::WaitFor::Room);
}

Endpoint* SockState::endpoint() {
  return ctx ? stack->endpoint(*ctx) : nullptr;
}

void SockState::flush() {
  if (ctx && !ctx->removed) stack->rt->flush(ctx->port);
}

void SockState::flush_send(bool will_wait, Instant now) {
  if (ctx && !ctx->removed) stack->rt->flush_send(ctx->port, will_wait, now);
}

void SockState::flush_more(Instant now) {
  if (ctx && !ctx->removed) stack->rt->flush_more(ctx->port, now);
}

void SockState::changed() {
  cv.notify_all();
  stack->rt->wake_driver();
  if (on_change) on_change();
}

Status SockState::create_endpoint(uint16_t port) {
  EndpointConfig cfg = config;
  cfg.port = port;
  cfg.accept_incoming = listening;
  auto r = stack->add_endpoint(std::move(cfg));
  if (!r.ok()) return r.status();
  ctx = *r;
  ctx->is_listener = true;
  ctx->owner_alive = true;
  owns_endpoint = true;
  if (kind != SockKind::OneToOne) ctx->group = this;
  config.port = ctx->port;
  return Status();
}

Status SockState::reconfigure() {
  if (!ctx) return Status();
  if (!owns_endpoint)
    return Status(Errc::InvalidArgument, "the endpoint belongs to the socket this one came from");
  if (!assocs.empty() || !ctx->owners.empty() || !ctx->conns.empty() || !accept_queue.empty())
    return Status(Errc::InvalidArgument,
                  "the socket has associations: its endpoint settings can no longer change");
  const uint16_t port = ctx->port;
  if (ctx->group == this) ctx->group = nullptr;
  ctx->owner_alive = false;
  stack->maybe_remove_endpoint(ctx);  // also forgets associations refused so far
  refused.clear();
  ctx.reset();
  return create_endpoint(port);
}

SockAssoc* SockState::find(uint32_t id) {
  auto it = assocs.find(id);
  return it == assocs.end() ? nullptr : &it->second;
}

SockAssoc* SockState::live(uint32_t id) {
  SockAssoc* a = find(id);
  return a && a->live() ? a : nullptr;
}

SockAssoc* SockState::only() {
  return assocs.empty() ? nullptr : &assocs.begin()->second;
}

std::optional<uint32_t> SockState::find_peer(const SocketAddress& peer) const {
  // The endpoint's peer index, not a walk over every association: sending by address
  // on a socket with 10,000 associations must not cost 10,000 comparisons.
  Endpoint* ep = ctx ? stack->endpoint(*ctx) : nullptr;
  if (!ep) return std::nullopt;
  auto id = ep->association_with(peer.ip, peer.port);
  if (!id) return std::nullopt;
  auto it = assocs.find(id->value());
  if (it == assocs.end() || !it->second.live()) return std::nullopt;
  return it->first;
}

size_t SockState::live_count() const {
  return live_;
}

void SockState::add_assoc(uint32_t id, SockAssoc a) {
  if (a.live()) ++live_;
  assocs.emplace(id, std::move(a));
}

void SockState::cache(Endpoint& ep, SockAssoc& a) {
  auto info = ep.info(a.id);
  if (!info) return;
  a.outbound_streams = info->outbound_streams;
  a.inbound_streams = info->inbound_streams;
  a.peer_port = info->peer_port;
  a.peer_addresses = info->peer_addresses;
  a.primary = info->primary;
}

void SockState::push(SockItem item) {
  if (item.is_notification()) {
    if (rq_notes >= kMaxQueuedNotifications) {
      ++notes_dropped;
      return;
    }
    ++rq_notes;
  }
  rq_bytes += item.bytes;
  rq.push_back(std::move(item));
}

bool SockState::pull_one(Endpoint& ep, SockAssoc& a) {
  auto m = ep.receive(Clock::now(), a.id);
  if (!m) return false;
  // Closed by its user: nobody will read; keep the window open so that the
  // association can finish its shutdown.
  if (!open) return true;
  SockItem item;
  item.assoc = a.id.value();
  item.bytes = m->data.size() + kItemOverhead;
  ReceivedMessage msg;
  msg.data = std::move(m->data);
  msg.info = m->info;
  msg.from = SocketAddress{a.primary.ip, a.peer_port};
  item.value = std::move(msg);
  push(std::move(item));
  return true;
}

void SockState::pull_some(Endpoint& ep, SockAssoc& a) {
  if (!open) return pull_all(ep, a);
  if (a.stalled) return;  // taken in turn by refill()
  while (rq_bytes < rq_limit) {
    if (!pull_one(ep, a)) return;
  }
  a.stalled = true;
  stalled.push_back(a.id.value());
}

void SockState::unstall(SockAssoc& a) {
  if (!a.stalled) return;
  a.stalled = false;
  stalled.erase(std::remove(stalled.begin(), stalled.end(), a.id.value()), stalled.end());
}

void SockState::pull_all(Endpoint& ep, SockAssoc& a) {
  while (pull_one(ep, a)) {
  }
  unstall(a);
}

void SockState::refill(Endpoint& ep) {
  while (rq_bytes < rq_limit && !stalled.empty()) {
    uint32_t id = stalled.front();
    stalled.pop_front();
    SockAssoc* a = find(id);
    if (!a || a->released) continue;
    if (pull_one(ep, *a)) {
      stalled.push_back(id);  // round-robin: it may have more
    } else {
      a->stalled = false;
    }
  }
}

void SockState::top_up() {
  if (stalled.empty() || rq_bytes >= rq_limit) return;
  if (Endpoint* ep = endpoint()) {
    refill(*ep);
    flush();
  }
}

void SockState::note(const Event& ev, const SockAssoc& a) {
  if (!open) return;
  auto n = make_notification(ev, events, a.peer_port, a.outbound_streams, a.inbound_streams);
  if (!n) return;
  SockItem item;
  item.assoc = a.id.value();
  item.bytes = kItemOverhead;
  if (auto* sf = std::get_if<SendFailedEvent>(&*n)) item.bytes += sf->data.size();
  item.value = std::move(*n);
  push(std::move(item));
}

void SockState::forget_ended(uint32_t id, Status why) {
  ended[id] = std::move(why);
  while (ended.size() > kMaxEnded) ended.erase(ended.begin());
}

void SockState::end(Endpoint& ep, SockAssoc& a, const Event& ev) {
  if (!a.terminal) --live_;
  a.terminal = true;
  a.send_blocked = false;
  a.pending_eof = false;
  a.failure = ended_status(ev.kind, ev.status);
  // Safe inside the sink: whatever the association queued before this event (ABORT,
  // SHUTDOWN COMPLETE) was sent before events were dispatched.
  ep.release(a.id);
  a.released = true;
  if (kind == SockKind::OneToMany) forget_ended(a.id.value(), a.failure);
}

void SockState::handle(Endpoint& ep, const Event& ev) {
  SockAssoc* ap = find(ev.assoc.value());
  if (!ap || ap->released) return;
  SockAssoc& a = *ap;
  switch (ev.kind) {
    case EventKind::Connected:
    case EventKind::Accepted:
    case EventKind::Restarted:
      a.up = true;
      cache(ep, a);
      note(ev, a);
      if (a.pending_eof) {
        a.pending_eof = false;
        a.we_shutdown = true;
        ep.shutdown(Clock::now(), a.id);
      }
      break;
    case EventKind::Readable:
      pull_some(ep, a);
      break;
    case EventKind::Writable:
      a.send_blocked = false;
      send_blocked_any = false;
      break;
    case EventKind::PeerShutdown:
      a.peer_shutdown = true;
      pull_all(ep, a);
      note(ev, a);
      break;
    case EventKind::Closed:
    case EventKind::Aborted:
    case EventKind::Lost:
    case EventKind::ConnectFailed: {
      if (a.terminal) break;
      pull_all(ep, a);
      note(ev, a);
      end(ep, a, ev);
      const uint32_t id = a.id.value();
      if (kind == SockKind::OneToMany) {
        send_blocked_any = false;
        assocs.erase(id);
      }
      // Last: the owners entry may be what keeps this socket alive (the caller
      // holds another reference while it runs).
      if (ctx) ctx->owners.erase(id);
      break;
    }
    case EventKind::PeerAddressChange:
      cache(ep, a);
      note(ev, a);
      break;
    default:  // RemoteError, SendFailed, SenderDry
      note(ev, a);
      break;
  }
  changed();
  if (!open) finalize_if_done();
}

void SockState::accept_new(Endpoint& ep, const Event& ev) {
  const uint32_t id = ev.assoc.value();
  auto refuse = [&](const char* why) {
    // Released at the next user call (or with the endpoint): its ABORT is sent
    // only after this sink returns.
    ep.abort(Clock::now(), ev.assoc, why);
    refused.push_back(ev.assoc);
    // Bounded even if the user never calls again: the oldest were refused in
    // earlier flushes (their ABORTs are out) or, at worst, the peer's next packet
    // gets an out-of-the-blue ABORT instead.
    if (refused.size() > kMaxRefused) {
      const size_t n = refused.size() - kMaxRefused / 2;
      for (size_t i = 0; i < n; ++i) ep.release(refused[i]);
      refused.erase(refused.begin(), refused.begin() + static_cast<ptrdiff_t>(n));
    }
  };
  if (!open || !listening) return refuse("socket closed");
  SockAssoc a;
  a.id = ev.assoc;
  if (kind == SockKind::OneToMany) {
    if (live_count() >= config.max_associations) return refuse("too many associations");
    add_assoc(id, std::move(a));
    ctx->owners[id] = shared_from_this();
    handle(ep, ev);
    return;
  }
  // Listening (one-to-one style): a new socket per association, queued for accept.
  if (accept_queue.size() >= backlog) return refuse("listen backlog full");
  auto child = std::make_shared<SockState>();
  child->stack = stack;
  child->kind = SockKind::OneToOne;
  child->ctx = ctx;
  child->config = config;
  child->events = events;
  child->remote_udp_port = remote_udp_port;
  child->rq_limit = rq_limit;
  child->add_assoc(id, std::move(a));
  ctx->owners[id] = child;
  child->handle(ep, ev);
  accept_queue.push_back(child);
  changed();
}

Result<uint32_t> SockState::start_assoc(std::span<const SocketAddress> remote, uint16_t port,
                                        const InitOptions& init) {
  Endpoint* ep = endpoint();
  if (!ep) return Status(Errc::NotConnected, "socket is not bound");
  if (!open) return Status(Errc::Closed, "socket closed");
  if (kind == SockKind::OneToMany && live_count() >= config.max_associations)
    return Status(Errc::TooManyAssociations, "association limit reached");
  auto id = ep->connect(Clock::now(), remote, port, init);
  if (!id.ok()) return id.status();
  SockAssoc a;
  a.id = *id;
  a.peer_port = port;
  a.peer_addresses.assign(remote.begin(), remote.end());
  a.primary = remote.front();
  a.outbound_streams = init.num_ostreams;
  add_assoc(id->value(), std::move(a));
  ctx->owners[id->value()] = shared_from_this();
  return id->value();
}

Status SockState::shutdown_assoc(uint32_t id) {
  SockAssoc* a = live(id);
  if (!a) return no_assoc(id);
  if (a->we_shutdown || a->pending_eof) return Status();
  Endpoint* ep = endpoint();
  if (!ep) return no_assoc(id);
  if (!a->up) {
    a->pending_eof = true;
    changed();
    return Status();
  }
  a->we_shutdown = true;
  Status st = ep->shutdown(Clock::now(), a->id);
  flush();
  changed();
  if (!st.ok() && st.code() != Errc::ShuttingDown && !(a->peer_shutdown)) return st;
  return Status();
}

Status SockState::abort_assoc(uint32_t id, std::string_view reason) {
  SockAssoc* a = live(id);
  if (!a) return no_assoc(id);
  Endpoint* ep = endpoint();
  if (!ep) return no_assoc(id);
  ep->abort(Clock::now(), a->id, reason);
  flush();  // sends the ABORT; the Aborted event ends the association here
  changed();
  return Status();
}

Status SockState::send(Lock& lock, uint32_t id, std::span<const uint8_t> data, const SendInfo& info,
                       Deadline deadline, const SharedMessage* shared) {
  const bool eof = has_flag(info.flags, SendFlags::Eof);
  if (has_flag(info.flags, SendFlags::Abort)) {
    reap();
    return abort_assoc(id,
                       std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  }
  if (data.empty()) {
    reap();
    if (eof) return shutdown_assoc(id);
    return Status(Errc::InvalidArgument, "empty message (SCTP needs 1 byte or more)");
  }
  const size_t limit = config.assoc.max_message_size;
  if (data.size() > limit) {
    return Status(Errc::MessageTooLarge, "message of " + std::to_string(data.size()) +
                                             " bytes exceeds the limit of " +
                                             std::to_string(limit) + " bytes");
  }
  while (true) {
    reap();
    if (!open) return Status(Errc::Closed, "socket closed");
    SockAssoc* a = find(id);
    if (!a) return no_assoc(id);
    if (a->terminal) {
      if (kind == SockKind::OneToOne && !a->failure.ok()) return a->failure;
      return Status(Errc::Closed, "association " + std::to_string(id) + " has ended");
    }
    if (a->we_shutdown || a->pending_eof)
      return Status(Errc::ShuttingDown, "shutdown in progress: no new data");
    if (a->peer_shutdown) return Status(Errc::ShuttingDown, "peer shut down the association");
    if (a->up && info.stream >= a->outbound_streams) {
      return Status(Errc::InvalidStream, "stream " + std::to_string(info.stream) +
                                             " out of range (peer accepts " +
                                             std::to_string(a->outbound_streams) + " streams)");
    }
    Endpoint* ep = endpoint();
    if (!ep) return no_assoc(id);
    const Instant now = Clock::now();
    Status st = shared ? ep->send(now, a->id, info, *shared) : ep->send(now, a->id, info, data);
    if (st.ok()) {
      if (eof) {
        if (a->up) {
          a->we_shutdown = true;
          ep->shutdown(Clock::now(), a->id);
        } else {
          a->pending_eof = true;
        }
      }
      // A one-to-one socket sends like a Connection: a burst is coalesced into trains
      // and reads its own acknowledgements (runtime.h); 1 KiB messages move 2.5x
      // faster. Not yet one-to-many: reading while sending makes one association
      // ~30% faster but not 10,000 of them (bench/run.sh "many tput"), so the scaling
      // would fall from ~1.0x to ~0.65x of one; find why first (issue 5).
      if (has_flag(info.flags, SendFlags::More))
        flush_more(now);
      else if (kind == SockKind::OneToOne)
        flush_send(!deadline.passed(), now);
      else
        flush();
      return st;
    }
    if (st.code() != Errc::WouldBlock) {
      flush();
      return st;
    }
    a->send_blocked = true;
    send_blocked_any = true;
    changed();
    if (!wait_for_room(*stack->rt, cv, lock, deadline, info))
      return Status(Errc::Timeout, "send buffer stayed full");
  }
}

Status SockState::wait_up(Lock& lock, uint32_t id, Deadline deadline) {
  while (true) {
    SockAssoc* a = find(id);
    if (a && a->up && !a->terminal) return Status();
    if (a && a->terminal)
      return a->failure.ok() ? Status(Errc::Closed, "association closed") : a->failure;
    if (!a) {
      auto e = ended.find(id);
      if (e != ended.end())
        return e->second.ok() ? Status(Errc::Closed, "association closed") : e->second;
      return no_assoc(id);
    }
    if (!open) return Status(Errc::Closed, "socket closed");
    if (!wait_until(*stack->rt, cv, lock, deadline))
      return Status(Errc::Timeout, "no association within the deadline");
  }
}

SockItem SockState::pop() {
  SockItem item = std::move(rq.front());
  rq.pop_front();
  rq_bytes -= item.bytes;
  if (item.is_notification()) --rq_notes;
  if (Endpoint* ep = endpoint(); ep && !stalled.empty()) {
    refill(*ep);
    flush();
  }
  changed();
  return item;
}

Result<SockItem> SockState::receive(Lock& lock, Deadline deadline) {
  stack->rt->note_receive();  // a request and its answer are not a burst of sends
  while (true) {
    reap();
    top_up();
    if (!rq.empty()) return pop();
    if (!open) return Status(Errc::Closed, "socket closed");
    if (kind == SockKind::Listening)
      return Status(Errc::InvalidArgument, "a listening socket has no data");
    if (kind == SockKind::OneToOne) {
      SockAssoc* a = only();
      if (!a) return Status(Errc::NotConnected, "socket is not connected");
      if (a->terminal)
        return a->failure.ok() ? Status(Errc::Closed, "association closed") : a->failure;
      if (a->peer_shutdown) return Status(Errc::Closed, "association shut down by peer");
    }
    if (!wait_until(*stack->rt, cv, lock, deadline))
      return Status(Errc::Timeout, "nothing received within the deadline");
  }
}

Result<std::shared_ptr<SockState>> SockState::accept(Lock& lock, Deadline deadline) {
  while (true) {
    reap();
    if (!open) return Status(Errc::Closed, "socket closed");
    if (kind != SockKind::Listening || !listening)
      return Status(Errc::InvalidArgument, "socket is not listening");
    if (!accept_queue.empty()) {
      auto child = accept_queue.front();
      accept_queue.pop_front();
      changed();
      return child;
    }
    // Gives way to threads that wait for data (net::Runtime::wait).
    if (!wait_until(*stack->rt, cv, lock, deadline, net::Runtime::WaitFor::Rare))
      return Status(Errc::Timeout, "no association within the deadline");
  }
}

std::optional<SockAssoc> SockState::take(uint32_t id, std::deque<SockItem>* items) {
  auto node = assocs.extract(id);
  if (node.empty()) return std::nullopt;
  SockAssoc a = std::move(node.mapped());
  if (a.live()) --live_;
  std::deque<SockItem> keep;
  for (auto& it : rq) {
    if (it.assoc == id) {
      rq_bytes -= it.bytes;
      if (it.is_notification()) --rq_notes;
      if (items) items->push_back(std::move(it));
    } else {
      keep.push_back(std::move(it));
    }
  }
  rq = std::move(keep);
  if (a.stalled) {
    stalled.erase(std::remove(stalled.begin(), stalled.end(), id), stalled.end());
    a.stalled = false;
  }
  if (ctx) ctx->owners.erase(id);
  top_up();  // room was made: other associations' messages may come in
  return a;
}

std::shared_ptr<SockState> SockState::branch(uint32_t id) {
  std::deque<SockItem> items;
  auto a = take(id, &items);
  if (!a) return nullptr;
  auto child = std::make_shared<SockState>();
  child->stack = stack;
  child->kind = SockKind::OneToOne;
  child->ctx = ctx;
  child->config = config;
  child->events = events;
  child->remote_udp_port = remote_udp_port;
  child->rq_limit = rq_limit;
  for (auto& it : items) child->push(std::move(it));
  // Messages still in the association come after the moved ones.
  a->stalled = true;
  child->stalled.push_back(id);
  child->add_assoc(id, std::move(*a));
  ctx->owners[id] = child;
  child->top_up();
  changed();
  return child;
}

void SockState::reap() {
  if (refused.empty()) return;
  if (Endpoint* ep = endpoint())
    for (AssocId id : refused) ep->release(id);
  refused.clear();
}

void SockState::shutdown_all(bool abort, std::string_view reason) {
  Endpoint* ep = endpoint();
  if (!ep) return;
  const Instant now = Clock::now();
  std::vector<AssocId> ids;
  for (auto& [id, a] : assocs)
    if (a.live()) ids.push_back(a.id);
  for (AssocId id : ids) {
    SockAssoc* a = live(id.value());
    if (!a) continue;
    if (abort || !a->up) {
      ep->abort(now, id, reason);
    } else if (!a->we_shutdown) {
      a->we_shutdown = true;
      a->pending_eof = false;
      Status st = ep->shutdown(now, id);
      if (!st.ok() && st.code() != Errc::ShuttingDown && !a->peer_shutdown)
        ep->abort(now, id, reason);
    }
  }
  flush();
}

void SockState::close(bool graceful) {
  if (!open) return;
  open = false;
  listening = false;
  auto queued = std::move(accept_queue);
  accept_queue.clear();
  for (auto& child : queued) child->close(false);
  rq.clear();
  rq_bytes = 0;
  rq_notes = 0;
  stalled.clear();
  // Unread messages are dropped (and so are later ones): the windows stay open
  // and the shutdowns can finish.
  Endpoint* ep = endpoint();
  for (auto& [id, a] : assocs) {
    a.stalled = false;
    if (ep && a.live()) pull_all(*ep, a);
  }
  if (ctx && ctx->group == this) ctx->group = nullptr;
  shutdown_all(!graceful, "socket closed");
  changed();
  finalize_if_done();
}

void SockState::finalize_if_done() {
  if (open || !ctx || finalized) return;
  if (live_count() > 0) return;
  // Every association has ended and was released. The endpoint goes once nobody
  // else (a peeled-off connection, an accepted socket) uses it; removal inside a
  // sink waits until the flush has sent what is queued.
  finalized = true;
  if (ctx->group == this) ctx->group = nullptr;
  if (!refused.empty()) {
    if (Endpoint* ep = endpoint())
      for (AssocId id : refused) ep->release(id);
    refused.clear();
  }
  if (owns_endpoint) ctx->owner_alive = false;
  auto keep = ctx;  // maybe_remove_endpoint may drop the last other reference
  stack->maybe_remove_endpoint(keep);
}

SockState::Readiness SockState::readiness() const {
  Readiness r;
  switch (kind) {
    case SockKind::Listening:
      r.readable = !accept_queue.empty() || !open;
      break;
    case SockKind::OneToMany:
      r.readable = !rq.empty() || !open;
      r.writable = open && !send_blocked_any;
      break;
    case SockKind::OneToOne: {
      r.readable = !rq.empty() || !open;
      if (!assocs.empty()) {
        const SockAssoc& a = assocs.begin()->second;
        r.readable = r.readable || a.terminal || a.peer_shutdown;
        r.writable = a.terminal || (a.up && !a.send_blocked);
      }
      break;
    }
  }
  return r;
}

}  // namespace sctpp::detail
