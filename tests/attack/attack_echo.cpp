// attack_echo: an echo server for the packet-level attack tests whose limits can be set
// from the command line. It is `sctpp echo` minus threads: the same runtime and endpoint
// (src/net, src/endpoint), with every limit of EndpointConfig / AssocConfig a flag
// (the public API has them as Tuning and ListenOptions fields). Test-only: it lets a
// test wait out a short cookie lifetime (Stale Cookie, RFC 9260 §5.1.5 step 3) or hit
// the association limit without 10,000 peers.
//
//   attack_echo --listen 127.0.0.1:PORT --udp-port 0 [--cookie-life-ms N]
//               [--secret-rotation-ms N] [--max-associations N] [--receive-buffer N] [--send-buffer
//               N]
//               [--max-message N] [--streams N]
//
// Prints "listening on ADDR:PORT (sctp over udp N)" when ready, logs "association N up:
// peer ..." on stderr for each accepted association (like sctpp echo), echoes every
// message on its stream with its PPID and ordering, and runs until SIGTERM/SIGINT.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <string>

#include "endpoint/endpoint.h"
#include "net/runtime.h"
#include "util/ip_address.h"

using namespace sctpp;

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "attack_echo: %s\n", why);
  std::exit(2);
}

unsigned long long number(const char* flag, const char* text) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (!end || *end != '\0') usage((std::string("bad number for ") + flag).c_str());
  return v;
}

// Messages an association could not send yet (send buffer full), in order.
std::map<uint32_t, std::deque<Message>> held;

void pump(Endpoint& ep, AssocId id) {
  auto& q = held[id.value()];
  while (true) {
    if (q.empty()) {
      auto m = ep.receive(Clock::now(), id);
      if (!m) break;
      q.push_back(std::move(*m));
    }
    Message& m = q.front();
    SendInfo si;
    si.stream = m.info.stream;
    si.ppid = m.info.ppid;
    si.unordered = m.info.unordered;
    Status st = ep.send(Clock::now(), id, si, m.data);
    if (st.code() == Errc::WouldBlock) break;  // wait for Writable; stop reading
    q.pop_front();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:5000";
  uint16_t udp_port = 9899;
  EndpointConfig cfg;
  cfg.accept_incoming = true;
  cfg.init.num_ostreams = 65535;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    if (a == "--listen") {
      listen = v;
    } else if (a == "--udp-port") {
      udp_port = static_cast<uint16_t>(number("--udp-port", v));
    } else if (a == "--cookie-life-ms") {
      cfg.assoc.valid_cookie_life = milliseconds(number("--cookie-life-ms", v));
    } else if (a == "--secret-rotation-ms") {
      cfg.secret_rotation = milliseconds(number("--secret-rotation-ms", v));
    } else if (a == "--max-associations") {
      cfg.max_associations = number("--max-associations", v);
    } else if (a == "--receive-buffer") {
      cfg.assoc.receive_buffer = number("--receive-buffer", v);
    } else if (a == "--send-buffer") {
      cfg.assoc.send_buffer = number("--send-buffer", v);
    } else if (a == "--max-message") {
      cfg.assoc.max_message_size = number("--max-message", v);
    } else if (a == "--streams") {
      cfg.init.num_ostreams = static_cast<uint16_t>(number("--streams", v));
      cfg.init.max_instreams = cfg.init.num_ostreams;
    } else {
      usage(("unknown flag " + a).c_str());
    }
  }
  auto list = parse_address_list(listen);
  if (!list) usage("bad --listen");
  cfg.port = list->port;
  cfg.local_addresses = list->ips;

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before the I/O thread starts

  net::RuntimeOptions ro;
  ro.udp_port = udp_port;
  ro.local_addresses = list->ips;
  auto rt = net::Runtime::start(ro);
  if (!rt.ok()) usage(("cannot start: " + rt.status().reason()).c_str());
  net::Runtime& runtime = **rt;
  {
    std::lock_guard<std::mutex> lock(runtime.mutex());
    auto port = runtime.add_endpoint(cfg, [](Endpoint& ep, const Event& ev) {
      switch (ev.kind) {
        case EventKind::Accepted: {
          auto info = ep.info(ev.assoc);
          std::string peer = info && !info->peer_addresses.empty()
                                 ? info->peer_addresses.front().to_string()
                                 : "?";
          std::fprintf(stderr, "attack_echo: association %u up: peer %s\n", ev.assoc.value(),
                       peer.c_str());
          pump(ep, ev.assoc);  // DATA bundled with the COOKIE ECHO
          break;
        }
        case EventKind::Readable:
        case EventKind::Writable:
          pump(ep, ev.assoc);
          break;
        case EventKind::PeerShutdown:
          pump(ep, ev.assoc);
          ep.shutdown(Clock::now(), ev.assoc);
          break;
        case EventKind::Closed:
        case EventKind::Aborted:
        case EventKind::Lost:
          std::fprintf(stderr, "attack_echo: association %u closed: %s\n", ev.assoc.value(),
                       ev.status.reason().c_str());
          held.erase(ev.assoc.value());
          ep.release(ev.assoc);
          break;
        default:
          break;
      }
    });
    if (!port.ok()) usage(("cannot listen: " + port.status().reason()).c_str());
  }
  std::printf("listening on %s (sctp over udp %u)\n", listen.c_str(), runtime.udp_port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&sigs, &sig);
  return 0;
}
