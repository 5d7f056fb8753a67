// A short tour of the sctpp C++ API: connect to an `sctpp echo` server, send a
// message on each of a few streams, read the echoes, and shut down gracefully.
//
//   sctpp echo --listen 127.0.0.1:5000 &
//   echo_client 127.0.0.1:5000
#include <chrono>
#include <cstdio>
#include <string>

#include "sctpp/sctpp.h"

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  std::string error;
  auto target = sctpp::parse_address_list(argc > 1 ? argv[1] : "127.0.0.1:5000", &error);
  if (!target) {
    std::fprintf(stderr, "echo_client: %s\n", error.c_str());
    return 2;
  }

  // One stack per process is typical: it owns the UDP encapsulation socket and an
  // I/O thread. Port 0 = any free local UDP port.
  sctpp::StackOptions stack_options;
  stack_options.udp_port = 0;
  auto stack = sctpp::Stack::create(stack_options);
  if (!stack) {
    std::fprintf(stderr, "echo_client: %s\n", stack.status().reason().c_str());
    return 1;
  }

  sctpp::ConnectOptions options;
  options.init.num_ostreams = 4;   // ask for 4 outbound streams
  options.remote_udp_port = 9899;  // the server's UDP encapsulation port
  auto conn = sctpp::Connection::connect(*stack, target->ips, target->port, options, 10s);
  if (!conn) {
    std::fprintf(stderr, "echo_client: connect: %s\n", conn.status().reason().c_str());
    return 1;
  }
  std::printf("connected: %u outbound / %u inbound streams\n", conn->outbound_streams(),
              conn->inbound_streams());

  for (uint16_t stream = 0; stream < conn->outbound_streams(); ++stream) {
    sctpp::SendInfo info;
    info.stream = stream;
    info.ppid = 51;  // WebRTC string, for example
    sctpp::Status sent = conn->send("hello on stream " + std::to_string(stream), info, 5s);
    if (!sent) {
      std::fprintf(stderr, "echo_client: send: %s\n", sent.reason().c_str());
      return 1;
    }
  }
  for (uint16_t i = 0; i < conn->outbound_streams(); ++i) {
    auto msg = conn->receive(5s);
    if (!msg) {
      std::fprintf(stderr, "echo_client: receive: %s\n", msg.status().reason().c_str());
      return 1;
    }
    std::printf("stream %u ppid %u: %.*s\n", msg->info.stream, msg->info.ppid,
                static_cast<int>(msg->data.size()),
                reinterpret_cast<const char*>(msg->data.data()));
  }
  if (auto info = conn->info()) {
    std::printf("smoothed RTT %lld us, %llu packets sent\n",
                static_cast<long long>(info->srtt.count()),
                static_cast<unsigned long long>(info->packets_sent));
  }
  // Graceful shutdown: returns once the peer acknowledged everything.
  sctpp::Status closed = conn->shutdown(5s);
  if (!closed) {
    std::fprintf(stderr, "echo_client: shutdown: %s\n", closed.reason().c_str());
    return 1;
  }
  return 0;
}
