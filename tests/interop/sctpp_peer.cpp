// sctpp_peer: an SCTP peer on sctpp's public C++ API (Stack, Listener, Connection), used by
// run_interop.py where the sctpp side must start an ABORT or a graceful shutdown itself,
// and by bench/informal/throughput.sh.
//
//   sctpp_peer client --connect IP:PORT --remote-udp-port R [--udp-port U]
//                     --then abort|shutdown [--reason TEXT] [--count M --size S]
//       Connects (16 outbound streams requested), sends a fixed set of messages on streams
//       0..3 with several PPIDs (some unordered, some larger than the path MTU), checks
//       every echo (stream, PPID, unordered flag, content, per-stream order of ordered
//       messages), then aborts with TEXT as the User-Initiated Abort reason or shuts down
//       gracefully. With --count/--size: throughput mode instead, M messages of S bytes on
//       stream 0, sent by one thread while another receives and checks the echoes; prints
//       one `RESULT ...` line with the elapsed time from established to last echo.
//   sctpp_peer server --listen IP:PORT --udp-port U --then abort|shutdown|none --after N
//                     [--reason TEXT]
//       Prints `listening ...` (flushed) when ready, accepts one association, echoes N
//       messages (same stream, PPID, unordered flag), then aborts with TEXT or shuts down
//       gracefully (`none`: echoes until the peer ends the association).
//
// Common: --timeout S (overall deadline, default 20 s; exit 3 when it passes), --quiet.
// Exit codes: 0 success, 1 failure (one line "sctpp_peer ...: error: ..." on stderr),
// 2 usage, 3 timeout.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sctpp/sctpp.h"

using namespace sctpp;
using Clock = std::chrono::steady_clock;

namespace {

const char* g_role = "sctpp_peer";
bool g_quiet = false;

void logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void logf(const char* fmt, ...) {
  std::va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "%s: ", g_role);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::fflush(stderr);
}

[[noreturn]] void usage(const char* why = nullptr) {
  if (why) std::fprintf(stderr, "sctpp_peer: %s\n", why);
  std::fprintf(stderr,
               "usage: sctpp_peer client --connect IP:PORT --remote-udp-port R [--udp-port U]\n"
               "                  --then abort|shutdown [--reason TEXT] [--streams N]\n"
               "                  [--count M --size S] [--timeout S] [--quiet]\n"
               "       sctpp_peer server --listen IP:PORT --udp-port U --then "
               "abort|shutdown|none\n"
               "                  [--after N] [--reason TEXT] [--timeout S] [--quiet]\n");
  std::exit(2);
}

std::string describe(const Status& st) {
  std::string r = errc_name(st.code());
  if (!st.reason().empty()) r += ": " + st.reason();
  return r;
}

enum class Then { None, Shutdown, Abort };

struct Options {
  bool server = false;
  std::optional<AddressList> addr;  // --connect / --listen
  uint16_t udp_port = 0;
  uint16_t remote_udp_port = 0;
  std::optional<Then> then;
  std::string reason = "sctpp_peer abort";
  uint64_t after = 0;
  uint16_t streams = 16;
  uint64_t count = 0;
  size_t size = 0;
  double timeout = 20;
};

uint64_t parse_num(const char* s, uint64_t lo, uint64_t hi, const char* what) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 0);
  if (errno || end == s || *end != '\0' || v < lo || v > hi) {
    std::string m = std::string("bad value '") + s + "' for " + what;
    usage(m.c_str());
  }
  return v;
}

Options parse(int argc, char** argv) {
  if (argc < 2) usage();
  Options o;
  std::string mode = argv[1];
  if (mode == "server") {
    o.server = true;
    g_role = "sctpp_peer server";
  } else if (mode == "client") {
    g_role = "sctpp_peer client";
  } else {
    usage();
  }
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if ((a == "--connect" && !o.server) || (a == "--listen" && o.server)) {
      std::string err;
      o.addr = parse_address_list(value(), &err);
      if (!o.addr) usage((a + ": " + err).c_str());
    } else if (a == "--udp-port") {
      o.udp_port = static_cast<uint16_t>(parse_num(value(), 0, 65535, "--udp-port"));
    } else if (a == "--remote-udp-port" && !o.server) {
      o.remote_udp_port = static_cast<uint16_t>(parse_num(value(), 1, 65535, a.c_str()));
    } else if (a == "--then") {
      std::string v = value();
      if (v == "abort")
        o.then = Then::Abort;
      else if (v == "shutdown")
        o.then = Then::Shutdown;
      else if (v == "none" && o.server)
        o.then = Then::None;
      else
        usage(("--then: unexpected '" + v + "'").c_str());
    } else if (a == "--reason") {
      o.reason = value();
    } else if (a == "--after" && o.server) {
      o.after = parse_num(value(), 0, 1000000000, "--after");
    } else if (a == "--streams") {
      o.streams = static_cast<uint16_t>(parse_num(value(), 1, 65535, "--streams"));
    } else if (a == "--count" && !o.server) {
      o.count = parse_num(value(), 1, 100000000, "--count");
    } else if (a == "--size" && !o.server) {
      o.size = parse_num(value(), 16, 4 * 1024 * 1024, "--size");
    } else if (a == "--timeout") {
      o.timeout = static_cast<double>(parse_num(value(), 1, 3600, "--timeout"));
    } else if (a == "--quiet") {
      g_quiet = true;
    } else {
      usage(("unknown argument '" + a + "'").c_str());
    }
  }
  if (!o.addr) usage(o.server ? "server needs --listen" : "client needs --connect");
  if (!o.then) usage("--then is required");
  if (o.server && o.udp_port == 0) usage("server needs --udp-port");
  if (!o.server && o.remote_udp_port == 0) usage("client needs --remote-udp-port");
  if ((o.count == 0) != (o.size == 0)) usage("--count and --size go together");
  if (o.server && o.then != Then::None && o.after == 0) usage("--then needs --after N");
  return o;
}

void start_watchdog(double secs) {
  std::thread([secs] {
    std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    std::fprintf(stderr, "%s: error: timeout after %.1f s\n", g_role, secs);
    std::fflush(stderr);
    _exit(3);
  }).detach();
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- messages: printable, position-dependent pattern with a header naming the message

struct Message {
  uint16_t stream = 0;
  uint32_t ppid = 0;
  bool unordered = false;
  std::vector<uint8_t> data;
  bool echoed = false;
};

std::vector<uint8_t> make_payload(uint64_t index, size_t len, const char* tag) {
  std::vector<uint8_t> d(len);
  for (size_t j = 0; j < len; j++)
    d[j] = static_cast<uint8_t>('A' + (j * 7 + index * 13 + j / 26) % 26);
  char hdr[64];
  int h = std::snprintf(hdr, sizeof hdr, "m%" PRIu64 " %s|", index, tag);
  if (h > 0) std::memcpy(d.data(), hdr, std::min<size_t>(static_cast<size_t>(h), len));
  return d;
}

// Index named by the header "m<index> ", or -1.
int64_t header_index(const std::vector<uint8_t>& d) {
  if (d.size() < 2 || d[0] != 'm') return -1;
  int64_t v = 0;
  size_t i = 1;
  for (; i < d.size() && i < 21 && d[i] >= '0' && d[i] <= '9'; i++) v = v * 10 + (d[i] - '0');
  if (i == 1 || i >= d.size() || (d[i] != ' ' && d[i] != '|')) return -1;
  return v;
}

// The functional set: streams 0..3, PPIDs 0, 51, 0xFFFFFFFF and others, every third message
// unordered, sizes from 1 byte to well above the path MTU.
std::vector<Message> functional_messages() {
  static const size_t sizes[] = {1, 17, 100, 1000, 1452, 1500, 4000, 16384, 65535, 100000};
  std::vector<Message> out;
  for (unsigned k = 0; k < 24; k++) {
    Message m;
    m.stream = static_cast<uint16_t>(k % 4);
    static const uint32_t ppids[] = {0, 51, 0xFFFFFFFFu, 0x01020300u};
    m.ppid = ppids[k % 4] + (k % 4 == 3 ? k : 0);
    m.unordered = k % 3 == 2;
    size_t len = sizes[k % (sizeof sizes / sizeof sizes[0])];
    char tag[48];
    std::snprintf(tag, sizeof tag, "s%u p%u %c", m.stream, m.ppid, m.unordered ? 'u' : 'o');
    m.data = make_payload(k, std::max<size_t>(len, 1), tag);
    if (len < 8) m.data = make_payload(k, 8, "");  // keep the header parseable
    out.push_back(std::move(m));
  }
  return out;
}

Result<Stack> make_stack(const Options& o, bool bind_addresses) {
  StackOptions so;
  so.udp_port = o.udp_port;
  if (bind_addresses) so.local_addresses = o.addr->ips;
  return Stack::create(so);
}

// ---- client

int finish_client(Connection& conn, const Options& o) {
  if (*o.then == Then::Abort) {
    logf("aborting the association (reason '%s')", o.reason.c_str());
    Status st = conn.abort(o.reason);
    if (!st) {
      logf("error: abort failed: %s", describe(st).c_str());
      return 1;
    }
    return 0;
  }
  logf("shutting the association down");
  Status st = conn.shutdown(std::chrono::seconds(10));
  if (!st) {
    logf("error: graceful shutdown failed: %s", describe(st).c_str());
    return 1;
  }
  logf("association closed gracefully");
  return 0;
}

int run_client_functional(Connection& conn, const Options& o) {
  if (conn.outbound_streams() < 4) {
    logf("error: peer granted %u outbound streams, need 4", conn.outbound_streams());
    return 1;
  }
  std::vector<Message> msgs = functional_messages();
  size_t bytes = 0;
  for (auto& m : msgs) {
    SendInfo si;
    si.stream = m.stream;
    si.ppid = m.ppid;
    si.unordered = m.unordered;
    Status st = conn.send(m.data, si, std::chrono::seconds(10));
    if (!st) {
      logf("error: send of message on stream %u failed: %s", m.stream, describe(st).c_str());
      return 1;
    }
    bytes += m.data.size();
  }
  logf("sent %zu messages (%zu bytes) on streams 0..3", msgs.size(), bytes);
  std::map<uint16_t, int64_t> last_ordered;  // per stream: index of the last ordered echo
  for (size_t got = 0; got < msgs.size(); got++) {
    auto r = conn.receive(std::chrono::seconds(10));
    if (!r) {
      logf("error: receive after %zu of %zu echoes: %s", got, msgs.size(),
           describe(r.status()).c_str());
      return 1;
    }
    const ReceivedMessage& rm = *r;
    int64_t idx = header_index(rm.data);
    if (idx < 0 || static_cast<size_t>(idx) >= msgs.size()) {
      logf("error: unexpected echo (%zu bytes, stream %u)", rm.data.size(), rm.info.stream);
      return 1;
    }
    Message& m = msgs[static_cast<size_t>(idx)];
    if (m.echoed) {
      logf("error: message %" PRId64 " echoed twice", idx);
      return 1;
    }
    if (rm.data != m.data) {
      logf("error: echo of message %" PRId64 " differs (%zu bytes, sent %zu)", idx, rm.data.size(),
           m.data.size());
      return 1;
    }
    if (rm.info.stream != m.stream || rm.info.ppid != m.ppid || rm.info.unordered != m.unordered) {
      logf("error: echo of message %" PRId64
           " came back on stream %u ppid %u %s, sent on stream "
           "%u ppid %u %s",
           idx, rm.info.stream, rm.info.ppid, rm.info.unordered ? "unordered" : "ordered", m.stream,
           m.ppid, m.unordered ? "unordered" : "ordered");
      return 1;
    }
    if (!m.unordered) {
      auto it = last_ordered.find(m.stream);
      if (it != last_ordered.end() && it->second > idx) {
        logf("error: ordered message %" PRId64 " on stream %u arrived after message %" PRId64, idx,
             m.stream, it->second);
        return 1;
      }
      last_ordered[m.stream] = idx;
    }
    m.echoed = true;
    if (!g_quiet) {
      logf("echo %" PRId64 ": stream=%u ppid=%u %s len=%zu ok", idx, rm.info.stream, rm.info.ppid,
           rm.info.unordered ? "unordered" : "ordered", rm.data.size());
    }
  }
  std::printf("echoes ok: %zu messages, %zu bytes\n", msgs.size(), bytes);
  std::fflush(stdout);
  return finish_client(conn, o);
}

int run_client_throughput(Connection& conn, const Options& o) {
  std::vector<std::vector<uint8_t>> msgs(o.count);
  for (uint64_t i = 0; i < o.count; i++) msgs[i] = make_payload(i, o.size, "tp");
  // Timed from the first send to the last echo (payload generation is not timed).
  const Clock::time_point t_up = Clock::now();
  std::atomic<bool> failed{false};
  Clock::time_point t_last{};
  std::thread reader([&] {
    for (uint64_t i = 0; i < o.count; i++) {
      auto r = conn.receive(std::chrono::seconds(30));
      if (!r) {
        logf("error: receive after %" PRIu64 " of %" PRIu64 " echoes: %s", i, o.count,
             describe(r.status()).c_str());
        failed = true;
        return;
      }
      if (r->info.stream != 0 || r->info.unordered || r->data != msgs[i]) {
        logf("error: echo %" PRIu64 " is not message %" PRIu64 " (stream %u, %zu bytes)", i, i,
             r->info.stream, r->data.size());
        failed = true;
        return;
      }
    }
    t_last = Clock::now();
  });
  SendInfo si;
  for (uint64_t i = 0; i < o.count && !failed; i++) {
    Status st = conn.send(msgs[i], si, std::chrono::seconds(30));
    if (!st) {
      logf("error: send %" PRIu64 " failed: %s", i, describe(st).c_str());
      failed = true;
      conn.abort("sender failed");
      break;
    }
  }
  reader.join();
  if (failed) return 1;
  double secs = std::chrono::duration<double>(t_last - t_up).count();
  double mb = static_cast<double>(o.count) * static_cast<double>(o.size) / 1e6;
  auto info = conn.info();
  std::printf("RESULT impl=sctpp count=%" PRIu64 " size=%zu seconds=%.4f mbytes_per_s=%.2f",
              o.count, o.size, secs, mb / secs);
  if (info) {
    std::printf(" retransmissions=%" PRIu64 " packets_sent=%" PRIu64 " packets_received=%" PRIu64,
                info->retransmissions, info->packets_sent, info->packets_received);
  }
  std::printf("\n");
  std::fflush(stdout);
  return finish_client(conn, o);
}

int run_client(const Options& o) {
  auto stack = make_stack(o, false);
  if (!stack) {
    logf("error: cannot open UDP port %u: %s", o.udp_port, describe(stack.status()).c_str());
    return 1;
  }
  ConnectOptions co;
  co.init.num_ostreams = o.streams;
  co.remote_udp_port = o.remote_udp_port;
  auto t0 = Clock::now();
  auto c = Connection::connect(*stack, o.addr->ips, o.addr->port, co, std::chrono::seconds(10));
  if (!c) {
    logf("error: connect: %s", describe(c.status()).c_str());
    return 1;
  }
  logf("connected in %.1f ms: %u out / %u in streams", since(t0) * 1e3, c->outbound_streams(),
       c->inbound_streams());
  return o.count ? run_client_throughput(*c, o) : run_client_functional(*c, o);
}

// ---- server

int run_server(const Options& o) {
  auto stack = make_stack(o, true);
  if (!stack) {
    logf("error: cannot open UDP port %u: %s", o.udp_port, describe(stack.status()).c_str());
    return 1;
  }
  ListenOptions lo;
  lo.init.num_ostreams = o.streams;
  auto listener = Listener::bind(*stack, o.addr->ips, o.addr->port, lo);
  if (!listener) {
    logf("error: cannot listen: %s", describe(listener.status()).c_str());
    return 1;
  }
  std::printf("listening on port %u (sctp over udp %u)\n", o.addr->port, stack->udp_port());
  std::fflush(stdout);
  auto accepted = listener->accept(std::chrono::duration<double>(o.timeout));
  if (!accepted) {
    logf("error: accept: %s", describe(accepted.status()).c_str());
    return 1;
  }
  Connection conn = std::move(*accepted);
  listener->close();
  logf("accepted association %u: %u out / %u in streams", conn.id(), conn.outbound_streams(),
       conn.inbound_streams());
  uint64_t echoed = 0;
  while (*o.then == Then::None || echoed < o.after) {
    auto r = conn.receive();
    if (!r) {
      Status st = r.status();
      if (st.code() == Errc::Closed) {
        // The peer shut down before we acted: finish its handshake.
        conn.shutdown(std::chrono::seconds(10));
        if (*o.then == Then::None) {
          logf("peer shut down after %" PRIu64 " echoes", echoed);
          return 0;
        }
      }
      logf("error: association ended after %" PRIu64 " of %" PRIu64 " echoes: %s", echoed, o.after,
           describe(st).c_str());
      return 1;
    }
    SendInfo si;
    si.stream = r->info.stream;
    si.ppid = r->info.ppid;
    si.unordered = r->info.unordered;
    Status st = conn.send(r->data, si, std::chrono::seconds(10));
    if (!st) {
      logf("error: echo failed: %s", describe(st).c_str());
      return 1;
    }
    ++echoed;
    if (!g_quiet) {
      logf("echoed message %" PRIu64 ": stream=%u ppid=%u %s len=%zu", echoed, r->info.stream,
           r->info.ppid, r->info.unordered ? "unordered" : "ordered", r->data.size());
    }
  }
  if (*o.then == Then::Abort) {
    logf("aborting the association after %" PRIu64 " echoes (reason '%s')", echoed,
         o.reason.c_str());
    Status st = conn.abort(o.reason);
    if (!st) {
      logf("error: abort failed: %s", describe(st).c_str());
      return 1;
    }
    return 0;
  }
  logf("shutting the association down after %" PRIu64 " echoes", echoed);
  Status st = conn.shutdown(std::chrono::seconds(10));
  if (!st) {
    logf("error: graceful shutdown failed: %s", describe(st).c_str());
    return 1;
  }
  logf("association closed gracefully");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  start_watchdog(o.timeout);
  return o.server ? run_server(o) : run_client(o);
}
