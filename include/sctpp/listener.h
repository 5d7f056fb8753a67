// sctpp::Listener: accepts associations on one SCTP port (RFC 6458 one-to-one
// listen/accept).
//
//   auto lst = sctpp::Listener::bind(stack, {ip}, 5000);
//   while (auto conn = lst->accept()) { ... }
//
// Thread-safe; close() from another thread wakes a blocked accept() with
// Errc::Closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "sctpp/address.h"
#include "sctpp/connection.h"
#include "sctpp/deadline.h"
#include "sctpp/stack.h"
#include "sctpp/types.h"

namespace sctpp {

namespace detail {
struct EndpointCtx;
}

struct ListenOptions {
  // Streams offered and accepted for incoming associations (max_attempts and
  // max_init_timeout do not apply).
  InitOptions init{};
  // Associations established but not yet accepted; more are aborted.
  size_t backlog = 128;
  // Associations at once (accepted or waiting to be); an INIT or COOKIE ECHO beyond
  // this is answered with ABORT (Out of Resource).
  size_t max_associations = 10000;
  // Notifications recorded for next_notification() of accepted connections, from
  // the moment each association is up (COMM_UP included).
  EventSubscription events{};
};

class Listener {
 public:
  Listener();   // empty
  ~Listener();  // closes; associations not yet accepted are aborted
  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds SCTP port `port` on `addresses` (empty, or a wildcard: every address of
  // the stack) and starts listening. AddressInUse when the port is taken on this
  // stack; InvalidArgument when an address is not one of the stack's addresses.
  static Result<Listener> bind(const Stack& stack, std::span<const IpAddress> addresses,
                               uint16_t port, const ListenOptions& options = {});

  // The next established association. Errc::Closed after close().
  Result<Connection> accept(Deadline deadline = {});
  Result<Connection> try_accept();

  uint16_t port() const;
  std::vector<SocketAddress> local_addresses() const;
  // Stops listening: queued and new associations are aborted ("listener closed").
  void close();

 private:
  void reset();
  std::shared_ptr<detail::StackState> stack_;
  std::shared_ptr<detail::EndpointCtx> ctx_;
};

}  // namespace sctpp
