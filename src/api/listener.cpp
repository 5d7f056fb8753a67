// sctpp::Listener: one listening endpoint and its queue of established associations.
#include <algorithm>

#include "api/sock.h"
#include "api/state.h"

namespace sctpp {
namespace {
using Lock = std::unique_lock<std::mutex>;
}

Listener::Listener() = default;
Listener::~Listener() {
  reset();
}

Listener::Listener(Listener&& o) noexcept : stack_(std::move(o.stack_)), ctx_(std::move(o.ctx_)) {}

Listener& Listener::operator=(Listener&& o) noexcept {
  if (this != &o) {
    reset();
    stack_ = std::move(o.stack_);
    ctx_ = std::move(o.ctx_);
  }
  return *this;
}

void Listener::reset() {
  close();
  ctx_.reset();
  stack_.reset();
}

Result<Listener> Listener::bind(const Stack& stack, std::span<const IpAddress> addresses,
                                uint16_t port, const ListenOptions& options) {
  auto st = stack.state_;
  bool v6 = false;
  auto local_r = st->endpoint_addresses(addresses, &v6);
  if (!local_r.ok()) return local_r.status();
  std::vector<IpAddress> locals = std::move(*local_r);
  Lock lock(st->rt->mutex());
  EndpointConfig cfg;
  cfg.port = port;
  cfg.local_addresses = locals;
  cfg.accept_incoming = true;
  cfg.init = options.init;
  cfg.assoc = st->assoc_config(v6);
  cfg.max_associations = options.max_associations;
  auto ctx = st->add_endpoint(std::move(cfg));
  if (!ctx.ok()) return ctx.status();
  (*ctx)->is_listener = true;
  (*ctx)->listening = true;
  (*ctx)->backlog = std::max<size_t>(1, options.backlog);
  (*ctx)->accept_events = options.events;
  lock.unlock();
  Listener l;
  l.stack_ = st;
  l.ctx_ = *ctx;
  return l;
}

Result<Connection> Listener::accept(Deadline deadline) {
  if (!ctx_) return Status(Errc::NotConnected, "listener is not open");
  Lock lock(stack_->rt->mutex());
  detail::EndpointCtx& ctx = *ctx_;
  while (true) {
    stack_->release_refused(ctx);
    if (!ctx.listening) return Status(Errc::Closed, "listener closed");
    if (!ctx.accept_queue.empty()) {
      auto conn = ctx.accept_queue.front();
      ctx.accept_queue.pop_front();
      lock.unlock();
      return Connection(stack_, std::move(conn));
    }
    // Gives way to threads that wait for data (net::Runtime::wait): a server's accept
    // thread waits for ever, and as the driver it would hand each of its connections'
    // messages to the thread serving it.
    if (!detail::wait_until(*stack_->rt, ctx.accept_cv, lock, deadline,
                            net::Runtime::WaitFor::Rare))
      return Status(Errc::Timeout, "no association within the deadline");
  }
}

Result<Connection> Listener::try_accept() {
  auto r = accept(Deadline::expired());
  if (!r.ok() && r.status().code() == Errc::Timeout)
    return Status(Errc::WouldBlock, "no association waiting");
  return r;
}

uint16_t Listener::port() const {
  return ctx_ ? ctx_->port : 0;
}

std::vector<SocketAddress> Listener::local_addresses() const {
  if (!ctx_) return {};
  std::vector<SocketAddress> out;
  auto ips = ctx_->local_addresses.empty() ? stack_->rt->bound_addresses() : ctx_->local_addresses;
  for (auto& ip : ips) out.push_back(SocketAddress{ip, ctx_->port});
  return out;
}

void Listener::close() {
  if (!ctx_) return;
  Lock lock(stack_->rt->mutex());
  detail::EndpointCtx& ctx = *ctx_;
  if (!ctx.listening && !ctx.owner_alive) return;
  ctx.listening = false;
  ctx.owner_alive = false;
  auto queued = std::move(ctx.accept_queue);
  ctx.accept_queue.clear();
  for (auto& conn : queued) {
    conn->orphaned = true;
    stack_->abort_conn(conn, "listener closed",
                       Status(Errc::Aborted, "aborted locally: listener closed"));
    stack_->collect(conn);
  }
  stack_->release_refused(ctx);
  ctx.accept_cv.notify_all();
  stack_->rt->wake_driver();
  stack_->maybe_remove_endpoint(ctx_);
}

}  // namespace sctpp
