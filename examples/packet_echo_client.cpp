// An echo client with the C++ one-to-many API (sctpp::PacketSocket).
//
//   packet_echo_client [ADDR:PORT]   (default 127.0.0.1:5000; the server's UDP
//                                    encapsulation port: $SCTPP_REMOTE_UDP_PORT or
//                                    9899)
//
// send_to() an address with no association sets one up implicitly: the first
// message travels with the COOKIE ECHO. Once every echo is back, a send with
// SendFlags::Eof (and no data) shuts the association down gracefully.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sctpp/sctpp.h"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  std::string error;
  auto target = sctpp::parse_address_list(argc > 1 ? argv[1] : "127.0.0.1:5000", &error);
  if (!target) {
    std::fprintf(stderr, "packet_echo_client: %s\n", error.c_str());
    return 2;
  }
  sctpp::StackOptions so;
  so.udp_port = 0;  // any free local UDP port
  auto stack = sctpp::Stack::create(so);
  if (!stack) {
    std::fprintf(stderr, "packet_echo_client: %s\n", stack.status().reason().c_str());
    return 1;
  }
  sctpp::PacketSocketOptions options;
  options.listen = false;
  if (const char* p = std::getenv("SCTPP_REMOTE_UDP_PORT"))
    options.remote_udp_port = static_cast<uint16_t>(std::atoi(p));
  auto sock = sctpp::PacketSocket::open(*stack, 0, options);
  if (!sock) {
    std::fprintf(stderr, "packet_echo_client: %s\n", sock.status().reason().c_str());
    return 1;
  }
  const sctpp::SocketAddress server{target->ips.front(), target->port};
  constexpr int kMessages = 4;
  uint32_t assoc = 0;
  for (int i = 0; i < kMessages; ++i) {
    sctpp::SendInfo info;
    info.stream = static_cast<uint16_t>(i);
    info.ppid = 51;
    auto id = sock->send_to(server, "hello on stream " + std::to_string(i), info, 5s);
    if (!id) {
      std::fprintf(stderr, "packet_echo_client: send: %s\n", id.status().reason().c_str());
      return 1;
    }
    assoc = *id;
  }
  int echoed = 0;
  while (true) {
    auto ev = sock->receive(10s);
    if (!ev) {
      std::fprintf(stderr, "packet_echo_client: %s\n", ev.status().reason().c_str());
      return 1;
    }
    if (auto* msg = std::get_if<sctpp::ReceivedMessage>(&*ev)) {
      std::printf("echo on stream %u: %.*s\n", msg->info.stream, static_cast<int>(msg->data.size()),
                  reinterpret_cast<const char*>(msg->data.data()));
      if (++echoed == kMessages) {
        // SendFlags::Eof with no data: shut the association down gracefully.
        sctpp::SendInfo eof;
        eof.flags = sctpp::SendFlags::Eof;
        sock->send_to(assoc, std::string_view(), eof);
      }
      continue;
    }
    const auto& note = std::get<sctpp::Notification>(*ev);
    std::printf("%s\n", sctpp::describe(note).c_str());
    if (auto* ac = std::get_if<sctpp::AssocChange>(&note); ac && ac->assoc_id == assoc) {
      if (ac->state == sctpp::AssocChangeState::ShutdownComplete) break;
      if (ac->state != sctpp::AssocChangeState::CommUp) return 1;
    }
  }
  return echoed == kMessages ? 0 : 1;
}
