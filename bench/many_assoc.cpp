// many_assoc: the many-association cells of the benchmark (issue 5), for bench/run.sh.
//
//   many_assoc --server [--listen ADDR:PORT] [--udp-port N] [--max-assocs N] [--mtu B]
//   many_assoc --connect ADDR:PORT --remote-udp-port N --assocs N
//              [--mode idle|throughput] [--size B] [--time S] [--budget BYTES]
//              [--first-port P]
//
// The server is ONE one-to-many socket (sctpp::PacketSocket) that takes every
// association, checks every payload (same pattern as `sctpp perf`: a stamp every 512
// bytes, a fixed template in between, in sequence per association) and answers
// "MARK" requests on a control association with its counters and its own VmRSS.
// Figures therefore come from the receiver: bytes checked between two marks, and
// the server's resident memory before and after the associations were set up.
//
// The client opens N associations from N one-to-many sockets of the C API (an
// association is unique per pair of endpoints, so N associations to one server
// socket need N client endpoints), driven by one epoll loop:
//  * idle: mark, set up N associations, wait until the server has them all, let it
//    settle, mark again: (VmRSS after - VmRSS before) / N is the memory per idle
//    association on the server.
//  * throughput: every association sends --size messages on stream 0. The client
//    keeps at most --budget bytes queued or unacknowledged over all associations
//    (per-socket SO_SNDBUF), as an application with many peers must: UDP on
//    loopback drops what the receiver's socket buffer cannot hold, and 10,000
//    initial congestion windows (~43 MB) would not fit. When every association
//    gets at least 4 messages of the budget, all send all the time; beyond that
//    they take turns: 4 messages (4 packets, the last with SCTP_SACK_IMMEDIATELY so
//    no delayed ack holds the turn), then the association waits for SENDER_DRY and the
//    next one in line sends. At 80 MB/s that is ~20,000 turns a second: each of
//    10,000 associations sends twice a second or so, all through the run.
//
// Output: one JSON line (mode, assocs, size, seconds, messages, bytes, mbytes_per_s,
// errors, setup_seconds, rss_before_kib, rss_after_kib, bytes_per_assoc).
#include <arpa/inet.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pattern.h"  // tools/: the payload pattern sctpp perf sends and checks
#include "sctpp/sctp.h"
#include "sctpp/sctpp.h"

namespace {

using Clock = std::chrono::steady_clock;
using sctpp::tool::perf::Pattern;
constexpr uint32_t kDataPpid = 0x64617461;  // "data"
constexpr uint32_t kCtlPpid = 0x6374726c;   // "ctrl"
// Messages an association sends per turn when associations take turns: an even
// number of full packets, so the receiver's SACKs are not delayed (RFC 9260 §6.2).
constexpr size_t kTurnMessages = 4;
// Sending before the first mark: congestion windows open, queues fill.
constexpr double kWarmup = 0.5;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "many_assoc: error: %s\n", what.c_str());
  std::exit(1);
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

long self_rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

struct Options {
  bool server = false;
  std::string addr = "127.0.0.1";
  uint16_t port = 5300;
  uint16_t udp_port = 0;
  uint16_t remote_udp_port = 9899;
  size_t max_assocs = 20000;
  size_t assocs = 1;
  bool idle = false;
  size_t size = 1024;
  double time = 3;
  size_t budget = 1024 * 1024;
  uint16_t first_port = 10000;
  size_t mtu = 1500;
  bool more = false;  // --more: MSG_MORE on all but a turn's last send
};

// ---- server -----------------------------------------------------------------------

// Per association: the sequence number the next message must carry.
struct Checker {
  explicit Checker(size_t size) : size(size), pattern(size) {}
  size_t size;
  Pattern pattern;
  std::unordered_map<uint32_t, uint64_t> next;
  uint64_t messages = 0, bytes = 0, errors = 0;

  void on_data(uint32_t assoc, const std::vector<uint8_t>& data) {
    uint64_t& seq = next[assoc];
    if (data.size() != size || !pattern.check(data.data(), data.size(), seq)) ++errors;
    ++seq;
    ++messages;
    bytes += data.size();
  }
};

int run_server(const Options& o) {
  sctpp::StackOptions so;
  so.udp_port = o.udp_port;
  so.tuning.path_mtu = o.mtu;
  auto ip = sctpp::IpAddress::parse(o.addr);
  if (!ip) die("bad address " + o.addr);
  auto stack = sctpp::Stack::create(so);
  if (!stack) die(stack.status().reason());
  sctpp::PacketSocketOptions po;
  po.max_associations = o.max_assocs;
  po.events = {};  // the server only counts data
  const sctpp::IpAddress addrs[] = {*ip};
  auto sock = sctpp::PacketSocket::open(*stack, addrs, o.port, po);
  if (!sock) die(sock.status().reason());
  std::printf("listening on %s:%u (sctpp over udp %u) one-to-many\n", o.addr.c_str(), sock->port(),
              stack->udp_port());
  std::fflush(stdout);

  const auto t0 = Clock::now();
  std::unordered_map<size_t, Checker> by_size;  // one pattern per message size
  for (;;) {
    auto ev = sock->receive();
    if (!ev) die(ev.status().reason());
    auto* m = std::get_if<sctpp::ReceivedMessage>(&*ev);
    if (!m) continue;
    if (m->info.ppid == kDataPpid) {
      by_size.try_emplace(m->data.size(), m->data.size())
          .first->second.on_data(m->info.assoc_id, m->data);
      continue;
    }
    if (m->info.ppid != kCtlPpid) continue;
    uint64_t msgs = 0, bytes = 0, errors = 0;
    for (const auto& [size, c] : by_size) {
      msgs += c.messages;
      bytes += c.bytes;
      errors += c.errors;
    }
    char reply[256];
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
    const int n = std::snprintf(
        reply, sizeof reply, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %lld %ld %zu", msgs, bytes,
        errors, static_cast<long long>(ns), self_rss_kib(), sock->associations().size());
    sock->send_to(m->info.assoc_id, std::string_view(reply, static_cast<size_t>(n)),
                  {.ppid = kCtlPpid});
  }
}

// ---- client -----------------------------------------------------------------------

struct Mark {
  uint64_t messages = 0, bytes = 0, errors = 0;
  long long ns = 0;
  long rss_kib = 0;
  size_t live = 0;
};

sockaddr_in server_address(const Options& o) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(o.port);
  if (inet_pton(AF_INET, o.addr.c_str(), &to.sin_addr) != 1) die("bad address " + o.addr);
  return to;
}

// The SCTP port of client endpoint k (0: the control socket). Client endpoints of
// all processes need distinct SCTP ports: the server tells associations apart by
// peer IP and SCTP port only (the UDP port is not part of an association's
// identity, RFC 6951 §5.1), so two worker stacks picking the same ephemeral port
// would look like one peer restarting.
uint16_t client_port(const Options& o, size_t k) {
  size_t p = o.first_port + k;
  if (o.first_port <= o.port && p >= o.port) ++p;  // not the server's own port
  if (p > 65535) die("too many associations for the SCTP ports from --first-port");
  return static_cast<uint16_t>(p);
}

void bind_port(int sd, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (sctpp_bind(sd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    die("bind SCTP port " + std::to_string(port) + ": " + std::strerror(errno));
}

// The control association: MARK requests, answered with the server's counters.
class Control {
 public:
  explicit Control(const Options& o) {
    sd_ = sctpp_socket(AF_INET, SOCK_SEQPACKET, 0);
    if (sd_ < 0) die(std::string("control socket: ") + std::strerror(errno));
    bind_port(sd_, client_port(o, 0));
    sockaddr_in to = server_address(o);
    sctpp_assoc_t id = 0;
    if (sctpp_connectx(sd_, reinterpret_cast<sockaddr*>(&to), 1, &id) < 0)
      die(std::string("cannot connect to the server: ") + std::strerror(errno));
    id_ = id;
  }
  Mark mark() {
    sctpp_sndinfo snd{};
    snd.snd_ppid = htonl(kCtlPpid);  // the C API's PPIDs are wire bytes (sctp.h)
    snd.snd_assoc_id = id_;
    char req[] = "MARK";
    iovec iov{req, 4};
    if (sctpp_sendv(sd_, &iov, 1, nullptr, 0, &snd, sizeof snd, SCTP_SENDV_SNDINFO, 0) < 0)
      die(std::string("control send: ") + std::strerror(errno));
    char buf[512];
    for (;;) {
      iovec riov{buf, sizeof buf - 1};
      sctpp_rcvinfo rcv{};
      socklen_t len = sizeof rcv;
      unsigned int type = 0;
      int flags = 0;
      ssize_t n = sctpp_recvv(sd_, &riov, 1, nullptr, nullptr, &rcv, &len, &type, &flags);
      if (n < 0) die(std::string("control receive: ") + std::strerror(errno));
      if (flags & MSG_NOTIFICATION) continue;
      buf[n] = 0;
      Mark m;
      if (std::sscanf(buf, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %lld %ld %zu", &m.messages,
                      &m.bytes, &m.errors, &m.ns, &m.rss_kib, &m.live) != 6)
        die(std::string("bad control reply: ") + buf);
      return m;
    }
  }

 private:
  int sd_ = -1;
  sctpp_assoc_t id_ = 0;
};

// One client endpoint with its one association.
struct Peer {
  int sd = -1;
  sctpp_assoc_t id = 0;
  bool up = false;
  uint64_t seq = 0;          // next message
  size_t turn_left = 0;      // messages left in this turn (taking turns)
  bool waiting_dry = false;  // turn sent, waiting for SENDER_DRY
  bool dry = false;          // SENDER_DRY seen since the turn started
  bool want_out = false;     // EPOLLOUT registered
};

class Client {
 public:
  // `assocs` associations sharing `budget` bytes.
  // `assocs` associations from client endpoints first_endpoint, first_endpoint + 1...
  Client(const Options& o, size_t assocs, size_t budget, size_t first_endpoint)
      : o_(o), pattern_(o.size), peers_(assocs), first_endpoint_(first_endpoint) {
    msg_.assign(pattern_.templ(), pattern_.templ() + o.size);
    // Per association: its share of the budget, at least kTurnMessages messages.
    const size_t per_msg = o.size + 64;  // payload + the stack's bookkeeping charge
    share_ = std::max(budget / assocs, kTurnMessages * per_msg);
    const size_t in_flight = std::max<size_t>(1, budget / share_);
    taking_turns_ = in_flight < assocs;
    active_limit_ = taking_turns_ ? in_flight : assocs;
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
  }

  // Sets every association up, at most `window` handshakes at a time (an INIT
  // flood would overflow the server's socket buffer and wait for T1 retransmits).
  double connect_all() {
    const auto t0 = Clock::now();
    const sockaddr_in to = server_address(o_);
    const size_t window = 256;
    size_t started = 0, up = 0;
    auto start_one = [&] {
      Peer& p = peers_[started];
      p.sd = sctpp_socket(AF_INET, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
      if (p.sd < 0) die(std::string("socket: ") + std::strerror(errno));
      bind_port(p.sd, client_port(o_, first_endpoint_ + started));
      // Taking turns, the turn itself bounds what is queued; a buffer of two turns
      // keeps the socket writable throughout, which spares the C API a readiness
      // change (two syscalls on its socketpair) per turn.
      const int sndbuf =
          static_cast<int>(taking_turns_ ? 2 * kTurnMessages * (o_.size + 64) : share_);
      sctpp_setsockopt(p.sd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
      for (uint16_t type : {uint16_t{SCTP_ASSOC_CHANGE}, uint16_t{SCTP_SENDER_DRY_EVENT}}) {
        sctpp_event e{};
        e.se_assoc_id = SCTP_FUTURE_ASSOC;
        e.se_type = type;
        e.se_on = 1;
        if (sctpp_setsockopt(p.sd, IPPROTO_SCTP, SCTP_EVENT, &e, sizeof e) < 0)
          die(std::string("SCTP_EVENT: ") + std::strerror(errno));
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = started;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, sctpp_fd(p.sd), &ev) < 0) die("epoll_ctl");
      sockaddr_in addr = to;
      if (sctpp_connectx(p.sd, reinterpret_cast<sockaddr*>(&addr), 1, &p.id) < 0 &&
          errno != EINPROGRESS)
        die(std::string("connect: ") + std::strerror(errno));
      ++started;
    };
    while (started < peers_.size() && started < window) start_one();
    std::vector<epoll_event> evs(512);
    while (up < peers_.size()) {
      if (since(t0) > 60) die("associations not up after 60 s");
      const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 1000);
      for (int k = 0; k < n; ++k) {
        Peer& p = peers_[evs[static_cast<size_t>(k)].data.u64];
        const bool was_up = p.up;
        drain(p);
        if (!was_up && p.up) {
          ++up;
          if (started < peers_.size()) start_one();
        }
      }
    }
    return since(t0);
  }

  // Sends until `stop_fd` (the controller's pipe) becomes readable.
  void send_until(int stop_fd) {
    epoll_event sev{};
    sev.events = EPOLLIN;
    sev.data.u64 = kStopKey;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, stop_fd, &sev) < 0) die("epoll_ctl");
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (i < active_limit_) {
        activate(i);
      } else {
        waiting_.push_back(i);
      }
    }
    std::vector<epoll_event> evs(512);
    for (;;) {
      const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 1000);
      for (int k = 0; k < n; ++k) {
        const uint64_t key = evs[static_cast<size_t>(k)].data.u64;
        if (key == kStopKey) return;
        Peer& p = peers_[key];
        if (evs[static_cast<size_t>(k)].events & EPOLLIN) drain(p);
        if (p.waiting_dry && p.dry) {
          // Its turn is over and acknowledged: the next association in line sends.
          p.waiting_dry = false;
          p.dry = false;
          waiting_.push_back(key);
          activate(waiting_.front());
          waiting_.pop_front();
        } else if (!p.waiting_dry) {
          pump(key);
        }
      }
    }
  }

  size_t send_errors() const { return send_errors_; }
  bool taking_turns() const { return taking_turns_; }
  size_t active_limit() const { return active_limit_; }

 private:
  void activate(size_t i) {
    Peer& p = peers_[i];
    p.turn_left = taking_turns_ ? kTurnMessages : SIZE_MAX;
    p.dry = false;
    pump(i);
  }
  // Sends until the turn ends or the send buffer is full.
  void pump(size_t i) {
    Peer& p = peers_[i];
    sctpp_sndinfo snd{};
    snd.snd_ppid = htonl(kDataPpid);
    snd.snd_assoc_id = p.id;
    while (p.turn_left > 0) {
      pattern_.stamp(msg_.data(), msg_.size(), p.seq);
      iovec iov{msg_.data(), msg_.size()};
      // More follow unless this is the turn's last: the stack may hold the packets for
      // one system call with the next ones (a full send buffer sends them anyway).
      const int more = p.turn_left > 1 && o_.more ? MSG_MORE : 0;
      // The turn's last message asks for its SACK at once (RFC 7053): the turn ends
      // when everything is acknowledged, and the receiver's every-second-packet rule
      // leaves an odd last packet (the association's first DATA is acknowledged on
      // its own) waiting for the 200 ms delayed-ack timer otherwise.
      snd.snd_flags = taking_turns_ && p.turn_left == 1 ? SCTP_SACK_IMMEDIATELY : 0;
      if (sctpp_sendv(p.sd, &iov, 1, nullptr, 0, &snd, sizeof snd, SCTP_SENDV_SNDINFO, more) < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          set_out(i, true);
          return;
        }
        ++send_errors_;
        return;
      }
      ++p.seq;
      --p.turn_left;
    }
    set_out(i, false);
    if (taking_turns_) p.waiting_dry = true;
  }
  void set_out(size_t i, bool on) {
    Peer& p = peers_[i];
    if (p.want_out == on) return;
    p.want_out = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_MOD, sctpp_fd(p.sd), &ev);
  }
  // Reads notifications: COMM_UP and SENDER_DRY.
  void drain(Peer& p) {
    alignas(8) char buf[2048];
    for (;;) {
      iovec iov{buf, sizeof buf};
      int flags = 0;
      ssize_t n = sctpp_recvv(p.sd, &iov, 1, nullptr, nullptr, nullptr, nullptr, nullptr, &flags);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          die(std::string("receive: ") + std::strerror(errno));
        return;
      }
      if (!(flags & MSG_NOTIFICATION)) continue;
      const auto* note = reinterpret_cast<const sctpp_notification*>(buf);
      if (note->sn_header.sn_type == SCTP_ASSOC_CHANGE) {
        if (note->sn_assoc_change.sac_state == SCTP_COMM_UP) {
          p.up = true;
          p.id = note->sn_assoc_change.sac_assoc_id;
        } else {
          die("an association ended (sac_state " + std::to_string(note->sn_assoc_change.sac_state) +
              ")");
        }
      } else if (note->sn_header.sn_type == SCTP_SENDER_DRY_EVENT) {
        p.dry = true;
      }
    }
  }

  static constexpr uint64_t kStopKey = UINT64_MAX;
  const Options& o_;
  Pattern pattern_;
  std::vector<uint8_t> msg_;
  std::vector<Peer> peers_;
  size_t first_endpoint_;
  std::deque<size_t> waiting_;  // taking turns: associations waiting for theirs
  size_t share_ = 0;
  size_t active_limit_ = 0;
  bool taking_turns_ = false;
  size_t send_errors_ = 0;
  int ep_ = -1;
};

// Each C API socket holds two descriptors (sctp.h): raises the soft limit as needed.
void raise_fd_limit(size_t sockets) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  const rlim_t need = static_cast<rlim_t>(sockets * 2 + 256);
  if (rl.rlim_cur >= need) return;
  rl.rlim_cur = std::min(need, rl.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
    die("need " + std::to_string(need) + " file descriptors: raise `ulimit -Hn`");
}

// A worker process: its own stack and `assocs` client endpoints. Talks to the
// controller through pipes: "connect" -> "up SECONDS"; "go" -> sends until "stop"
// -> "done SEND_ERRORS".
[[noreturn]] void worker_main(const Options& o, size_t assocs, size_t first_endpoint, size_t budget,
                              FILE* in, FILE* out) {
  raise_fd_limit(assocs);
  if (sctpp_init(o.udp_port) < 0) die(std::string("sctpp_init: ") + std::strerror(errno));
  sctpp_set_remote_udp_port(o.remote_udp_port);
  Client client(o, assocs, budget, first_endpoint);
  char line[64];
  if (!std::fgets(line, sizeof line, in)) _exit(0);
  std::fprintf(out, "up %.3f\n", client.connect_all());
  std::fflush(out);
  if (!std::fgets(line, sizeof line, in)) _exit(0);  // "go", or the controller is done
  client.send_until(fileno(in));
  std::fprintf(out, "done %zu\n", client.send_errors());
  std::fflush(out);
  _exit(0);
}

struct Worker {
  pid_t pid = -1;
  FILE* to = nullptr;
  FILE* from = nullptr;
};

// Workers share the associations and the budget. Each C API socket holds two
// descriptors (sctp.h), so a process gets at most kPerWorker associations and the
// bench needs no raised descriptor limit.
constexpr size_t kPerWorker = 8000;

std::vector<Worker> start_workers(const Options& o) {
  const size_t procs = (o.assocs + kPerWorker - 1) / kPerWorker;
  std::vector<Worker> ws;
  size_t first_endpoint = 1;  // 0 is the control socket
  for (size_t w = 0; w < procs; ++w) {
    const size_t n = o.assocs / procs + (w < o.assocs % procs ? 1 : 0);
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) die("pipe");
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      ::close(down[1]);
      ::close(up[0]);
      for (const Worker& other : ws) {
        std::fclose(other.to);
        std::fclose(other.from);
      }
      worker_main(o, n, first_endpoint, o.budget / procs, fdopen(down[0], "r"), fdopen(up[1], "w"));
    }
    first_endpoint += n;
    ::close(down[0]);
    ::close(up[1]);
    ws.push_back(Worker{pid, fdopen(down[1], "w"), fdopen(up[0], "r")});
  }
  return ws;
}

void tell(std::vector<Worker>& ws, const char* what) {
  for (Worker& w : ws) {
    std::fputs(what, w.to);
    std::fflush(w.to);
  }
}

// Reads one "WORD VALUE" line from every worker; the largest value.
double hear(std::vector<Worker>& ws, const char* word) {
  double most = 0;
  for (Worker& w : ws) {
    char line[64];
    double v = 0;
    char got[16];
    if (!std::fgets(line, sizeof line, w.from) || std::sscanf(line, "%15s %lf", got, &v) != 2 ||
        std::strcmp(got, word) != 0)
      die(std::string("a worker failed before '") + word + "' (see above)");
    most = std::max(most, v);
  }
  return most;
}

// The controller: the control association and the marks; workers do the load.
int run_client(const Options& o) {
  auto workers = start_workers(o);  // before this process starts threads
  if (sctpp_init(0) < 0) die(std::string("sctpp_init: ") + std::strerror(errno));
  sctpp_set_remote_udp_port(o.remote_udp_port);
  Control ctl(o);
  const Mark before = ctl.mark();
  tell(workers, "connect\n");
  const double setup = hear(workers, "up");
  // The server counts an association once its COMM_UP is read, maybe after the
  // client saw its own.
  Mark after;
  const auto t_wait = Clock::now();
  do {
    after = ctl.mark();
  } while (after.live < o.assocs + 1 && since(t_wait) < 10);
  if (after.live < o.assocs + 1) die("server has " + std::to_string(after.live) + " associations");

  char buf[512];
  if (o.idle) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // let timers and queues settle
    after = ctl.mark();
    const double per = static_cast<double>(after.rss_kib - before.rss_kib) * 1024.0 /
                       static_cast<double>(o.assocs);
    std::snprintf(buf, sizeof buf,
                  "\"mode\": \"idle\", \"seconds\": null, \"messages\": 0, \"bytes\": 0, "
                  "\"mbytes_per_s\": null, \"errors\": 0, \"rss_before_kib\": %ld, "
                  "\"rss_after_kib\": %ld, \"bytes_per_assoc\": %.1f",
                  before.rss_kib, after.rss_kib, per);
  } else {
    tell(workers, "go\n");
    std::this_thread::sleep_for(std::chrono::duration<double>(kWarmup));
    const Mark a = ctl.mark();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.time));
    const Mark b = ctl.mark();
    tell(workers, "stop\n");
    const double send_errors = hear(workers, "done");
    const double secs = static_cast<double>(b.ns - a.ns) / 1e9;
    const uint64_t bytes = b.bytes - a.bytes;
    std::snprintf(buf, sizeof buf,
                  "\"mode\": \"throughput\", \"seconds\": %.3f, \"messages\": %" PRIu64
                  ", \"bytes\": %" PRIu64 ", \"mbytes_per_s\": %.2f, \"errors\": %" PRIu64
                  ", \"rss_before_kib\": %ld, \"rss_after_kib\": %ld, \"bytes_per_assoc\": null, "
                  "\"workers\": %zu",
                  secs, b.messages - a.messages, bytes, static_cast<double>(bytes) / secs / 1e6,
                  b.errors + static_cast<uint64_t>(send_errors), before.rss_kib, b.rss_kib,
                  workers.size());
  }
  std::printf("{\"assocs\": %zu, \"size\": %zu, \"setup_seconds\": %.3f, %s}\n", o.assocs, o.size,
              setup, buf);
  std::fflush(stdout);
  for (const Worker& w : workers) kill(w.pid, SIGKILL);
  _exit(0);  // thousands of graceful shutdowns are not part of the measurement
}

void usage() {
  std::fprintf(stderr,
               "usage: many_assoc --server [--listen ADDR:PORT] [--udp-port N] [--max-assocs N] "
               "[--mtu B]\n"
               "       many_assoc --connect ADDR:PORT --remote-udp-port N --assocs N "
               "[--mode idle|throughput] [--size B] [--time S] [--budget BYTES] [--first-port P] "
               "[--more]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    auto number = [&]() -> unsigned long {
      const std::string v = value();
      char* end = nullptr;
      const unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end) usage();
      return n;
    };
    if (a == "--server") {
      o.server = true;
    } else if (a == "--listen" || a == "--connect") {
      const std::string v = value();
      const auto colon = v.rfind(':');
      if (colon == std::string::npos) usage();
      o.addr = v.substr(0, colon);
      o.port = static_cast<uint16_t>(std::atoi(v.c_str() + colon + 1));
    } else if (a == "--udp-port") {
      o.udp_port = static_cast<uint16_t>(number());
    } else if (a == "--remote-udp-port") {
      o.remote_udp_port = static_cast<uint16_t>(number());
    } else if (a == "--max-assocs") {
      o.max_assocs = number();
    } else if (a == "--assocs") {
      o.assocs = number();
    } else if (a == "--mode") {
      const std::string m = value();
      if (m != "idle" && m != "throughput") usage();
      o.idle = m == "idle";
    } else if (a == "--size") {
      o.size = number();
    } else if (a == "--time") {
      o.time = std::atof(value().c_str());
    } else if (a == "--budget") {
      o.budget = number();
    } else if (a == "--first-port") {
      o.first_port = static_cast<uint16_t>(number());
    } else if (a == "--mtu") {
      o.mtu = number();
    } else if (a == "--more") {
      o.more = true;
    } else {
      usage();
    }
  }
  if (o.assocs == 0 || o.size == 0) usage();
  return o.server ? run_server(o) : run_client(o);
}
