// The one-to-many echo server with the C++ API: one sctpp::PacketSocket serves every
// association.
//
//   packet_echo_server [PORT]       (default 5000, UDP encapsulation port 9899 or
//                                    $SCTPP_UDP_PORT)
//
// receive() returns either a message (tagged with its association, stream, PPID...)
// or a notification; messages go back with send_to() on the same association,
// stream, PPID and ordering.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sctpp/sctpp.h"

namespace {
volatile std::sig_atomic_t stop = 0;
}

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  const uint16_t port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 5000);
  sctpp::StackOptions so;
  if (const char* p = std::getenv("SCTPP_UDP_PORT"))
    so.udp_port = static_cast<uint16_t>(std::atoi(p));
  auto stack = sctpp::Stack::create(so);
  if (!stack) {
    std::fprintf(stderr, "packet_echo_server: %s\n", stack.status().reason().c_str());
    return 1;
  }
  sctpp::PacketSocketOptions options;
  options.init.num_ostreams = 100;  // answer on any stream a peer is likely to use
  options.events.association = true;
  options.events.shutdown = true;
  auto sock = sctpp::PacketSocket::open(*stack, port, options);
  if (!sock) {
    std::fprintf(stderr, "packet_echo_server: %s\n", sock.status().reason().c_str());
    return 1;
  }
  std::signal(SIGINT, [](int) { stop = 1; });
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::printf("listening on port %u (sctp over udp %u)\n", sock->port(), stack->udp_port());
  std::fflush(stdout);

  while (!stop) {
    auto ev = sock->receive(200ms);
    if (!ev) {
      if (ev.status().code() == sctpp::Errc::Timeout) continue;
      std::fprintf(stderr, "packet_echo_server: %s\n", ev.status().reason().c_str());
      break;
    }
    if (auto* note = std::get_if<sctpp::Notification>(&*ev)) {
      std::printf("%s\n", sctpp::describe(*note).c_str());
      std::fflush(stdout);
      continue;
    }
    auto& msg = std::get<sctpp::ReceivedMessage>(*ev);
    sctpp::SendInfo back;
    back.stream = msg.info.stream;
    back.ppid = msg.info.ppid;
    back.unordered = msg.info.unordered;
    sctpp::Status st = sock->send_to(msg.info.assoc_id, msg.data, back, 5s);
    if (!st) std::fprintf(stderr, "packet_echo_server: send: %s\n", st.reason().c_str());
  }
  sock->close(5s);  // every association shut down gracefully
  return 0;
}
