// sctpp::Stack: the running SCTP stack of a process (or of a part of it).
//
// A Stack owns one I/O thread and one UDP encapsulation port (RFC 6951) on which
// every association it makes or accepts is carried. Listeners and connections are
// created on a stack. A Stack is a cheap, copyable handle; the stack runs until the
// last handle, listener and connection referring to it is gone. Associations still
// shutting down at that point get `StackOptions::linger` to finish, then are
// aborted.
//
//   auto stack = sctpp::Stack::create({.udp_port = 0});
//   if (!stack) { fprintf(stderr, "%s\n", stack.status().reason().c_str()); ... }
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "sctpp/address.h"
#include "sctpp/types.h"

namespace sctpp {

namespace detail {
struct StackState;
}

// Protocol tuning applied to every association of a stack (RFC 9260 §16 defaults).
struct Tuning {
  std::chrono::milliseconds rto_initial{1000};
  std::chrono::milliseconds rto_min{1000};
  std::chrono::milliseconds rto_max{60000};
  int assoc_max_retrans = 10;  // Association.Max.Retrans
  int path_max_retrans = 5;    // Path.Max.Retrans
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds delayed_ack{200};
  // Packets with DATA after which the SACK goes at once rather than after delayed_ack
  // (RFC 9260 §6.2: 2); 1 acknowledges every packet (SCTP_DELAYED_SACK sack_freq).
  int sack_freq = 2;
  // Packets of new DATA sent at one opportunity (RFC 9260 §6.1 D Max.Burst, 4);
  // 0 = no limit (SCTP_MAX_BURST).
  int max_burst = 4;
  size_t path_mtu = 1500;                     // IP packet size assumed on every path
  size_t max_message_size = 4 * 1024 * 1024;  // largest message sent or received
  size_t receive_buffer = 4 * 1024 * 1024;    // advertised window, reassembly memory
  size_t send_buffer = 4 * 1024 * 1024;       // queued bytes before send() blocks
  // Send at once (SCTP_NODELAY). Off (Nagle): with data in flight, small messages wait
  // for a packet's worth, and messages are split across packets to fill them.
  bool nodelay = true;
  // How long a state cookie handed out in an INIT ACK stays valid (Valid.Cookie.Life);
  // a COOKIE ECHO older than this is answered with a Stale Cookie error.
  std::chrono::milliseconds valid_cookie_life{60000};
  // The secret that signs state cookies is replaced this often; a cookie verifies only
  // under secrets still kept, so this also caps a cookie's lifetime, including what a
  // peer's Cookie Preservative asks to add. At least valid_cookie_life.
  std::chrono::milliseconds cookie_secret_rotation{120000};
};

// How a stack's SCTP packets travel.
enum class Transport {
  Udp,  // UDP encapsulation (RFC 6951) on StackOptions::udp_port: no privileges needed
  Ip,   // raw IP, protocol 132, IPv4 and IPv6: for hosts whose kernel has no SCTP;
        // needs CAP_NET_RAW (else create() fails with PermissionDenied). udp_port and
        // ConnectOptions::remote_udp_port are unused. The stack answers no packet for
        // SCTP ports it does not own (other processes may own them).
};

struct StackOptions {
  // Local UDP encapsulation port; 0 = any free port (see Stack::udp_port()).
  uint16_t udp_port = 9899;
  // Local IP addresses to use; empty = every address (IPv4 and IPv6 wildcards).
  std::vector<IpAddress> local_addresses{};
  Tuning tuning{};
  // UDP socket buffer size asked of the kernel.
  int socket_buffer = 4 * 1024 * 1024;
  // How long a destroyed stack waits for associations that are still closing.
  std::chrono::milliseconds linger{2000};
  Transport transport = Transport::Udp;
  // How long a thread that is about to sleep in a blocking call first polls the sockets
  // without sleeping: a reply within it is handled without a thread wake-up (tens of
  // microseconds on a virtual machine). Unset = SCTPP_SPIN_US from the environment, else
  // 50 us when the process may use more than one CPU. 0 turns spinning off.
  std::optional<std::chrono::microseconds> spin{};
};

class Stack {
 public:
  // Binds the UDP port (or opens the raw IP sockets) and starts the I/O thread.
  // Fails with AddressInUse, PermissionDenied, InvalidArgument (address not local, or
  // a Tuning value out of range: the reason names the field) or IoError.
  static Result<Stack> create(const StackOptions& options = {});

  // The bound UDP encapsulation port (the chosen one when 0 was asked for); 0 over
  // Transport::Ip.
  uint16_t udp_port() const;
  // The local addresses the UDP sockets are bound to (wildcards included).
  std::vector<IpAddress> local_addresses() const;
  const StackOptions& options() const;

 private:
  friend class Connection;
  friend class Listener;
  friend class PacketSocket;
  explicit Stack(std::shared_ptr<detail::StackState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::StackState> state_;
};

}  // namespace sctpp
