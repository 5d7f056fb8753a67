// One soak scenario per seed. Everything below is derived from the seed through one
// generator (scenario) and the simulator's own generator (network), so a seed
// replays exactly: same packets, same events, same order (trace_hash).
//
// A scenario: one listening server and 1-3 clients, each client with one
// association at a time to the server, data both ways on 1-300 streams (ordered
// and unordered, 1 byte to 256 KiB per message) released in bursts over the
// "chaos" period. Per direction the link has loss (up to 30 %), duplication,
// reordering, corruption (bit flips), delay and maybe a bandwidth bottleneck with
// a drop-tail queue. Scheduled chaos: links that go down and come back (flaps),
// delay spikes, host restarts (crash: all state gone, then reconnect), user aborts
// and graceful shutdowns at random points, readers that stop reading for a while.
// Clients reconnect after an association ends. A quarter of the seeds are
// multi-homed: every host has an address on a second network with links of its own
// (the association has two paths), and a flap takes down one network or both.
// Then the "settle" period: links
// calm down, every association is shut down gracefully, and the run must reach a
// state where every association is closed and released.
//
// Invariants (each violation is a failure naming the seed):
//  * every delivered message was sent, is delivered once, is intact (size, every
//    byte, stream, PPID, unordered flag), and ordered messages arrive in send order
//    per stream (across association restarts too);
//  * a message accepted by send() and never delivered belongs to an association
//    whose sender was told (Aborted, Lost, Restarted, ConnectFailed) or whose
//    sender host crashed; a sender told only "Closed" lost nothing;
//  * events make sense: no event for an association the user does not know, no
//    state event after the terminal one, one Connected per connect;
//  * memory stays bounded: queued send bytes within the send buffer (or one
//    message), bytes a paused reader finds waiting within its receive buffer plus
//    the reassembly reserve;
//  * no packet whose bits were flipped passes the CRC32c;
//  * no livelock (a timer that fires without moving), no hang: after settling,
//    every association is closed and released, and every endpoint's
//    next_timeout() is nullopt (no timer left running).
#include "soak.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <ostream>
#include <random>
#include <sstream>

#include "assoc/rx/reassembly_queue.h"
#include "sim_network.h"

namespace sctpp::sim::soak {
namespace {

constexpr uint16_t kServerPort = 5000;
constexpr size_t kMaxFailures = 20;

struct Planned {
  uint32_t stream_hint;
  bool unordered;
  size_t size;
};

struct SentRecord {
  int session;  // sender's session
  uint16_t stream;
  bool unordered;
  size_t size;
  bool delivered = false;
  bool reported_unsent = false;  // SendFailed with sent == false (never transmitted)
  Instant sent_at{};
};

// One association incarnation as one side's user sees it.
struct Session {
  int pair;
  int side;  // 0 client, 1 server
  AssocId assoc{0};
  uint64_t endpoint_gen = 0;  // which incarnation of the host's endpoint
  bool up = false;            // Connected / Accepted / Restarted seen
  bool ended = false;         // terminal event seen, or host crashed
  bool told = false;          // Aborted / Lost / Restarted / ConnectFailed
  bool crashed = false;
  bool closed = false;  // graceful Closed
  bool released = false;
  bool superseded = false;  // ended by Restarted: the next session has the same id
  bool shutdown_called = false;
  int connected_events = 0;
  std::string end_reason;
};

struct Direction {
  std::vector<Planned> plan;
  size_t allowed = 0;  // released so far
  size_t next = 0;     // next plan index to send
  std::vector<SentRecord> sent;
  std::map<uint16_t, uint32_t> last_ordered;
  size_t max_message = 0;
};

struct Pair {
  IpAddress client_ip;
  IpAddress client_ip2;  // on the second network (multi-homed seeds)
  uint16_t client_port;
  EndpointConfig client_cfg;
  uint16_t client_ostreams;
  int client_session = -1;  // current (may be ended)
  int server_session = -1;
  int connects = 0;
  bool reconnect_pending = false;
  Direction dir[2];  // 0: client -> server, 1: server -> client
};

struct Host {
  IpAddress ip;
  uint64_t gen = 0;
  Instant paused_until{};
  bool paused = false;
  std::vector<Instant> crashes;
};

uint8_t pattern(uint64_t key, uint32_t index, size_t offset) {
  uint64_t x =
      key ^ (uint64_t{index} * 0x9E3779B97F4A7C15ull) ^ (offset >> 6) * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 31;
  return static_cast<uint8_t>((x >> ((offset & 7) * 8)) + offset);
}

class Scenario {
 public:
  Scenario(uint64_t seed, std::ostream* log, SoakOptions opt)
      : seed_(seed), rng_(seed * 0x2545F4914F6CDD1Dull + 1), net_(seed), log_(log), opt_(opt) {}

  SoakResult run();

 private:
  // ---- random helpers (scenario generator) ----
  uint64_t r(uint64_t n) { return n ? rng_() % n : 0; }
  double u() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool chance(double p) { return u() < p; }
  Duration ms(uint64_t lo, uint64_t hi) { return milliseconds(lo + r(hi - lo + 1)); }
  template <class T>
  T pick(std::initializer_list<T> v) {
    return *(v.begin() + r(v.size()));
  }

  void build();
  AssocConfig random_assoc_config();
  LinkConditions random_link();
  std::vector<Planned> make_plan(size_t max_message);
  void schedule_chaos();

  // ---- actions ----
  void log(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  void fail(const std::string& what);
  double t() const { return std::chrono::duration<double>(net_.now() - start_).count(); }
  double t_of(Instant w) const {
    return std::round(std::chrono::duration<double>(w - start_).count() * 1000) / 1000;
  }
  // Multi-homed seeds have a second network; its addresses are the *_ip2 ones.
  int networks() const { return multihomed_ ? 2 : 1; }
  IpAddress client_addr(int p, int n) const {
    return n == 0 ? pairs_[p].client_ip : pairs_[p].client_ip2;
  }
  IpAddress server_addr(int n) const { return n == 0 ? server_ip_ : server_ip2_; }
  // The link of pair p, direction d (0: client to server), on network n.
  void set_net_link(int p, int d, int n, LinkConditions c) {
    if (d == 0)
      net_.set_link(client_addr(p, n), server_addr(n), c);
    else
      net_.set_link(server_addr(n), client_addr(p, n), c);
  }
  void set_net_down(int p, int n, bool down) {
    for (int d = 0; d < 2; ++d) {
      IpAddress a = d == 0 ? client_addr(p, n) : server_addr(n);
      IpAddress b = d == 0 ? server_addr(n) : client_addr(p, n);
      auto c = net_.link(a, b);
      c.down = down;
      net_.set_link(a, b, c);
    }
  }
  Endpoint& server() { return *net_.host(server_ip_); }
  Endpoint& client(int p) { return *net_.host(pairs_[p].client_ip); }
  Endpoint& side_ep(int p, int side) { return side == 0 ? client(p) : server(); }
  Host& host_of(int p, int side) { return side == 0 ? client_hosts_[p] : server_host_; }

  void connect(int p);
  void maybe_reconnect(int p);
  void pump(int p, int dir);
  void drain(Session& s);
  void on_event(Endpoint& ep, const Event& e);
  void on_client_event(int p, const Event& e);
  void on_server_event(const Event& e);
  void end_session(Session& s, const std::string& why, bool told);
  void on_send_failed(int p, int side, const Event& e);
  void schedule_release(int sid);
  void crash(int p, int side);
  void resume_reader(int p, int side);
  void probe();
  void settle();
  bool all_done() const;
  void final_checks();
  int find_session(int p, int side, AssocId id) const;

  uint64_t seed_;
  std::mt19937_64 rng_;
  SimNetwork net_;
  std::ostream* log_;
  SoakOptions opt_;
  Instant start_;
  Instant chaos_end_;
  bool settling_ = false;
  Duration release_delay_max_{0};

  IpAddress server_ip_ = *IpAddress::parse("10.0.0.100");
  IpAddress server_ip2_ = *IpAddress::parse("10.9.0.100");
  bool multihomed_ = false;
  EndpointConfig server_cfg_;
  Host server_host_;
  std::vector<Host> client_hosts_;
  std::vector<Pair> pairs_;
  std::vector<Session> sessions_;
  std::map<std::pair<int, int>, LinkConditions> base_links_;   // (pair, dir)
  std::map<std::pair<int, int>, LinkConditions> base_links2_;  // the second network
  std::vector<std::string> failures_;
  std::ostringstream desc_;
  uint64_t delivered_ = 0, delivered_bytes_ = 0, sent_ = 0;
  int max_connects_ = 4;
};

// ---------------------------------------------------------------------------
// Building the scenario

AssocConfig Scenario::random_assoc_config() {
  AssocConfig a;
  if (chance(0.5)) {
    a.rto_initial = ms(100, 1000);
    a.rto_min = std::min<Duration>(a.rto_initial, ms(50, 1000));
    a.rto_max = pick<Duration>({seconds(5), seconds(10), seconds(30), seconds(60)});
  }
  a.assoc_max_retrans = static_cast<int>(pick<int>({10, 10, 8, 5}));
  a.path_max_retrans = std::min(a.assoc_max_retrans, 5);
  a.heartbeat_interval = pick<Duration>({seconds(30), seconds(5), seconds(10)});
  a.delayed_ack = pick<Duration>({milliseconds(200), milliseconds(50), milliseconds(10)});
  a.path_mtu = pick<size_t>({1500, 1500, 1280, 576, 9000});
  a.receive_buffer = pick<size_t>({4u << 20, 1u << 20, 256u << 10, 128u << 10, 64u << 10});
  a.send_buffer = pick<size_t>({4u << 20, 1u << 20, 256u << 10, 64u << 10});
  a.nodelay = chance(0.8);
  return a;
}

LinkConditions Scenario::random_link() {
  LinkConditions c;
  switch (r(6)) {
    case 0:
      c.loss = 0;
      break;
    case 1:
      c.loss = 0.001 * r(20);
      break;
    case 2:
    case 3:
      c.loss = 0.01 * (1 + r(10));
      break;
    default:
      c.loss = 0.01 * (5 + r(26));  // up to 30 %
  }
  c.duplicate = chance(0.5) ? 0.001 * r(50) : 0;
  c.reorder = chance(0.5) ? 0.001 * r(100) : 0;
  c.reorder_delay = ms(1, 100);
  c.delay = ms(1, 100);
  c.corrupt = chance(0.6) ? 0.001 * (1 + r(50)) : 0;
  if (chance(0.4)) {
    c.bandwidth = pick<uint64_t>({125'000, 1'250'000, 12'500'000, 125'000'000});
    c.queue_limit = chance(0.7) ? pick<uint64_t>({16'000, 64'000, 256'000}) : 0;
  }
  return c;
}

std::vector<Planned> Scenario::make_plan(size_t max_message) {
  std::vector<Planned> plan;
  size_t count = pick<size_t>({0, 50, 300, 1000, 3000, 10000});
  size_t budget = pick<size_t>({128u << 10, 1u << 20, 4u << 20, 8u << 20});
  double unordered = pick<double>({0.0, 0.25, 0.5, 1.0});
  size_t total = 0;
  for (size_t i = 0; i < count && total < budget; ++i) {
    Planned m;
    m.stream_hint = static_cast<uint32_t>(rng_());
    m.unordered = chance(unordered);
    uint64_t k = r(1000);
    if (k < 550)
      m.size = 1 + r(100);
    else if (k < 850)
      m.size = 100 + r(1500);
    else if (k < 960)
      m.size = 1500 + r(16 * 1024);
    else if (k < 993)
      m.size = 16 * 1024 + r(48 * 1024);
    else
      m.size = 64 * 1024 + r(192 * 1024 + 1);  // up to 256 KiB
    m.size = std::max<size_t>(1, std::min(m.size, max_message));
    total += m.size;
    plan.push_back(m);
  }
  return plan;
}

void Scenario::build() {
  start_ = net_.now();
  // Decided by a generator of its own, so that the single-homed seeds play exactly
  // the scenarios they played before multi-homing came to the soak.
  multihomed_ = std::mt19937_64(seed_ ^ 0x6d756c7469686f6dull)() % 4 == 0;
  int clients = 1 + static_cast<int>(r(3));
  server_cfg_.port = kServerPort;
  server_cfg_.accept_incoming = true;
  server_cfg_.init.num_ostreams = static_cast<uint16_t>(chance(0.5) ? 1 + r(16) : 1 + r(300));
  server_cfg_.assoc = random_assoc_config();
  server_host_.ip = server_ip_;
  if (multihomed_)
    net_.add_host({server_ip_, server_ip2_}, server_cfg_);
  else
    net_.add_host(server_ip_, server_cfg_);
  Duration chaos = pick<Duration>({seconds(10), seconds(30), seconds(60), seconds(120)});
  chaos_end_ = start_ + chaos;
  release_delay_max_ = pick<Duration>({milliseconds(0), milliseconds(0), seconds(2)});
  max_connects_ = 1 + static_cast<int>(r(5));
  desc_ << (multihomed_ ? "multihomed " : "") << "clients=" << clients
        << " chaos=" << chaos.count() / 1'000'000'000 << "s"
        << " srv{ostreams=" << server_cfg_.init.num_ostreams
        << " rbuf=" << server_cfg_.assoc.receive_buffer << " sbuf=" << server_cfg_.assoc.send_buffer
        << " mtu=" << server_cfg_.assoc.path_mtu << "}";
  for (int i = 0; i < clients; ++i) {
    Pair p;
    p.client_ip = *IpAddress::parse("10.0.1." + std::to_string(i + 1));
    p.client_ip2 = *IpAddress::parse("10.9.1." + std::to_string(i + 1));
    p.client_port = static_cast<uint16_t>(40000 + i);
    p.client_cfg.port = p.client_port;
    p.client_cfg.assoc = random_assoc_config();
    p.client_ostreams = static_cast<uint16_t>(chance(0.5) ? 1 + r(16) : 1 + r(300));
    Host h;
    h.ip = p.client_ip;
    client_hosts_.push_back(h);
    if (multihomed_)
      net_.add_host({p.client_ip, p.client_ip2}, p.client_cfg);
    else
      net_.add_host(p.client_ip, p.client_cfg);
    // A message is never larger than the receiver could ever hold (the stack would
    // rightly refuse it as too large).
    p.dir[0].max_message = std::min<size_t>(256 * 1024, server_cfg_.assoc.receive_buffer);
    p.dir[1].max_message = std::min<size_t>(256 * 1024, p.client_cfg.assoc.receive_buffer);
    p.dir[0].plan = make_plan(p.dir[0].max_message);
    p.dir[1].plan = make_plan(p.dir[1].max_message);
    for (int d = 0; d < 2; ++d) {
      LinkConditions c = random_link();
      base_links_[{i, d}] = c;
      if (d == 0)
        net_.set_link(p.client_ip, server_ip_, c);
      else
        net_.set_link(server_ip_, p.client_ip, c);
      desc_ << " c" << i << (d == 0 ? "->s" : "<-s") << "{loss=" << c.loss << " dup=" << c.duplicate
            << " reord=" << c.reorder << " corrupt=" << c.corrupt
            << " delay=" << std::chrono::duration_cast<milliseconds>(c.delay).count() << "ms"
            << " bw=" << c.bandwidth << " q=" << c.queue_limit << " msgs=" << p.dir[d].plan.size()
            << "}";
    }
    if (multihomed_) {
      // The second network has links of its own; the two networks do not reach each
      // other (a packet from one network's address to the other's is lost).
      for (int d = 0; d < 2; ++d) {
        LinkConditions c = random_link();
        base_links2_[{i, d}] = c;
        if (d == 0)
          net_.set_link(p.client_ip2, server_ip2_, c);
        else
          net_.set_link(server_ip2_, p.client_ip2, c);
        desc_ << " c" << i << (d == 0 ? "->s" : "<-s") << "#2{loss=" << c.loss
              << " delay=" << std::chrono::duration_cast<milliseconds>(c.delay).count() << "ms}";
      }
      LinkConditions cut;
      cut.down = true;
      for (auto [a, b] : {std::pair{p.client_ip, server_ip2_}, std::pair{server_ip2_, p.client_ip},
                          std::pair{p.client_ip2, server_ip_}, std::pair{server_ip_, p.client_ip2}})
        net_.set_link(a, b, cut);
    }
    desc_ << " c" << i << "{ostreams=" << p.client_ostreams
          << " rbuf=" << p.client_cfg.assoc.receive_buffer
          << " sbuf=" << p.client_cfg.assoc.send_buffer << " mtu=" << p.client_cfg.assoc.path_mtu
          << " max_retrans=" << p.client_cfg.assoc.assoc_max_retrans << "}";
    pairs_.push_back(std::move(p));
  }
}

void Scenario::schedule_chaos() {
  const int n = static_cast<int>(pairs_.size());
  const auto chaos = chaos_end_ - start_;
  auto at = [&](double lo = 0.02, double hi = 0.95) {
    double f = lo + (hi - lo) * u();
    return start_ + std::chrono::duration_cast<Duration>(chaos * f);
  };
  // Data released in bursts over the chaos period.
  for (int p = 0; p < n; ++p) {
    for (int d = 0; d < 2; ++d) {
      size_t total = pairs_[p].dir[d].plan.size();
      size_t bursts = 1 + r(8);
      size_t released = 0;
      for (size_t b = 0; b < bursts; ++b) {
        size_t k = b + 1 == bursts ? total - released : r(total - released + 1);
        released += k;
        Instant when = b == 0 ? start_ : at(0, 0.9);
        net_.schedule(when, [this, p, d, k] {
          pairs_[p].dir[d].allowed += k;
          pump(p, d);
        });
      }
    }
    connect(p);
  }
  int events = static_cast<int>(r(16));
  desc_ << " chaos_events=" << events << "[";
  for (int i = 0; i < events; ++i) {
    int p = static_cast<int>(r(n));
    Instant when = at();
    switch (r(8)) {
      case 0: {  // flap: both directions down, then up (multi-homed: one network or both)
        Duration down = chance(0.8) ? ms(200, 8000) : ms(10'000, 90'000);
        const int which = multihomed_ ? static_cast<int>(r(3)) : 0;  // 0, 1, 2 = both
        desc_ << " flap(c" << p << "," << t_of(when) << "s," << down.count() / 1'000'000 << "ms"
              << (which == 1   ? ",net2"
                  : which == 2 ? ",both"
                               : "")
              << ")";
        net_.schedule(when, [this, p, which] {
          log("flap: c%d link down (%s)", p, which == 2 ? "both" : which == 1 ? "net 2" : "net 1");
          for (int n = 0; n < networks(); ++n)
            if (which == 2 || which == n) set_net_down(p, n, true);
        });
        net_.schedule(when + down, [this, p, which] {
          if (settling_) return;
          log("flap: c%d link up", p);
          for (int n = 0; n < networks(); ++n)
            if (which == 2 || which == n) set_net_down(p, n, false);
        });
        break;
      }
      case 1: {  // delay spike on one direction
        int d = static_cast<int>(r(2));
        Duration extra = ms(200, 3000);
        Duration len = ms(300, 10'000);
        desc_ << " spike(c" << p << "," << d << "," << t_of(when) << "s,+"
              << extra.count() / 1'000'000 << "ms)";
        net_.schedule(when, [this, p, d, extra] {
          log("delay spike: c%d dir %d +%lldms", p, d,
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(extra).count()));
          IpAddress a = d == 0 ? pairs_[p].client_ip : server_ip_;
          IpAddress b = d == 0 ? server_ip_ : pairs_[p].client_ip;
          auto c = net_.link(a, b);
          c.delay = base_links_[{p, d}].delay + extra;
          net_.set_link(a, b, c);
        });
        net_.schedule(when + len, [this, p, d] {
          IpAddress a = d == 0 ? pairs_[p].client_ip : server_ip_;
          IpAddress b = d == 0 ? server_ip_ : pairs_[p].client_ip;
          auto c = net_.link(a, b);
          c.delay = base_links_[{p, d}].delay;
          net_.set_link(a, b, c);
        });
        break;
      }
      case 2: {  // host crash and restart
        int side = chance(0.7) ? 0 : 1;
        desc_ << " restart(" << (side ? "server" : "c" + std::to_string(p)) << "," << t_of(when)
              << "s)";
        net_.schedule(when, [this, p, side] { crash(p, side); });
        break;
      }
      case 3: {  // user abort
        int side = static_cast<int>(r(2));
        desc_ << " abort(c" << p << "," << (side ? "server" : "client") << "," << t_of(when)
              << "s)";
        net_.schedule(when, [this, p, side] {
          int sid = side == 0 ? pairs_[p].client_session : pairs_[p].server_session;
          if (sid < 0 || sessions_[sid].ended) return;
          log("user abort: c%d %s assoc %u", p, side ? "server" : "client",
              sessions_[sid].assoc.value());
          Status st = side_ep(p, side).abort(net_.now(), sessions_[sid].assoc, "soak abort");
          if (!st.ok()) fail("abort() of a live association failed: " + st.reason());
        });
        break;
      }
      case 4:
      case 5: {  // graceful shutdown
        int side = static_cast<int>(r(2));
        desc_ << " shutdown(c" << p << "," << (side ? "server" : "client") << "," << t_of(when)
              << "s)";
        net_.schedule(when, [this, p, side] {
          int sid = side == 0 ? pairs_[p].client_session : pairs_[p].server_session;
          if (sid < 0 || sessions_[sid].ended) return;
          log("user shutdown: c%d %s assoc %u", p, side ? "server" : "client",
              sessions_[sid].assoc.value());
          sessions_[sid].shutdown_called = true;
          Status st = side_ep(p, side).shutdown(net_.now(), sessions_[sid].assoc);
          if (!st.ok()) fail("shutdown() of a live association failed: " + st.reason());
        });
        break;
      }
      default: {  // reader stops reading for a while
        int side = static_cast<int>(r(2));
        Duration len = ms(500, 15'000);
        desc_ << " pause(" << (side ? "server" : "c" + std::to_string(p)) << "," << t_of(when)
              << "s," << len.count() / 1'000'000 << "ms)";
        net_.schedule(when, [this, p, side, len] {
          Host& h = host_of(p, side);
          if (h.paused) return;
          log("reader pause: %s", side ? "server" : ("c" + std::to_string(p)).c_str());
          h.paused = true;
          net_.schedule(net_.now() + len, [this, p, side] { resume_reader(p, side); });
        });
      }
    }
  }
  desc_ << " ]";
  net_.schedule(chaos_end_, [this] { settle(); });
  // Memory and sanity probes throughout.
  for (Instant w = start_ + milliseconds(250); w < chaos_end_ + seconds(600);
       w += milliseconds(500))
    net_.schedule(w, [this] { probe(); });
}

// ---------------------------------------------------------------------------

void Scenario::log(const char* fmt, ...) {
  if (!log_) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  char ts[32];
  snprintf(ts, sizeof ts, "%10.6f ", t());
  *log_ << ts << buf << "\n";
}

void Scenario::fail(const std::string& what) {
  char ts[32];
  snprintf(ts, sizeof ts, "t=%.6fs: ", t());
  if (log_) *log_ << "FAILURE " << ts << what << "\n";
  if (failures_.size() < kMaxFailures) failures_.push_back(ts + what);
}

int Scenario::find_session(int p, int side, AssocId id) const {
  for (int i = static_cast<int>(sessions_.size()) - 1; i >= 0; --i) {
    const Session& s = sessions_[i];
    if (s.pair == p && s.side == side && s.assoc == id && !s.crashed &&
        s.endpoint_gen == (side == 0 ? client_hosts_[p].gen : server_host_.gen))
      return i;
  }
  return -1;
}

void Scenario::connect(int p) {
  Pair& pair = pairs_[p];
  pair.reconnect_pending = false;
  if (settling_) return;
  const SocketAddress peers[] = {net_.address_of(server_ip_), net_.address_of(server_ip2_)};
  InitOptions init;
  init.num_ostreams = pair.client_ostreams;
  init.max_attempts = 8;
  auto id = client(p).connect(net_.now(), std::span(peers, networks()), kServerPort, init);
  if (!id.ok()) {
    fail("connect() failed: " + id.status().reason());
    return;
  }
  ++pair.connects;
  Session s;
  s.pair = p;
  s.side = 0;
  s.assoc = *id;
  s.endpoint_gen = client_hosts_[p].gen;
  sessions_.push_back(s);
  pair.client_session = static_cast<int>(sessions_.size()) - 1;
  log("c%d connect -> assoc %u (session %d)", p, id->value(), pair.client_session);
}

void Scenario::maybe_reconnect(int p) {
  Pair& pair = pairs_[p];
  if (settling_ || pair.reconnect_pending || pair.connects >= max_connects_) return;
  if (pair.client_session >= 0 && !sessions_[pair.client_session].released &&
      !sessions_[pair.client_session].crashed)
    return;  // still holding the previous association
  pair.reconnect_pending = true;
  uint64_t gen = client_hosts_[p].gen;
  net_.schedule(net_.now() + ms(0, 3000), [this, p, gen] {
    if (client_hosts_[p].gen != gen) return;  // crashed again meanwhile; crash() reconnects
    connect(p);
  });
}

void Scenario::pump(int p, int d) {
  Pair& pair = pairs_[p];
  int sid = d == 0 ? pair.client_session : pair.server_session;
  if (sid < 0) return;
  Session& s = sessions_[sid];
  if (!s.up || s.ended) return;
  Direction& dir = pair.dir[d];
  Endpoint& ep = side_ep(p, d);
  auto info = ep.info(s.assoc);
  if (!info || info->outbound_streams == 0) return;
  std::vector<uint8_t> data;
  while (dir.next < std::min(dir.allowed, dir.plan.size())) {
    const Planned& m = dir.plan[dir.next];
    uint32_t index = static_cast<uint32_t>(dir.next);
    data.resize(m.size);
    const uint64_t key = seed_ * 4 + static_cast<uint64_t>(p) * 2 + static_cast<uint64_t>(d);
    for (size_t i = 0; i < m.size; ++i) data[i] = pattern(key, index, i);
    SendInfo si;
    si.stream = static_cast<uint16_t>(m.stream_hint % info->outbound_streams);
    si.ppid = index;
    si.unordered = m.unordered;
    si.context = index;
    Status st = ep.send(net_.now(), s.assoc, si, data);
    if (st.code() == Errc::WouldBlock) {
      auto now_info = ep.info(s.assoc);
      if (now_info && now_info->queued_bytes == 0)
        fail("send() said WouldBlock with nothing queued");
      return;
    }
    if (st.code() == Errc::ShuttingDown || st.code() == Errc::Closed ||
        st.code() == Errc::NotConnected)
      return;
    if (!st.ok()) {
      fail("send() failed: " + st.reason());
      return;
    }
    dir.sent.resize(std::max(dir.sent.size(), size_t{index} + 1));
    dir.sent[index] = SentRecord{sid, si.stream, si.unordered, m.size};
    dir.sent[index].sent_at = net_.now();
    ++dir.next;
    ++sent_;
    net_.mix(0x5E7D, uint64_t{index} << 8 | static_cast<uint64_t>(p * 2 + d));
    // Memory: what is queued stays within the send buffer (or one message).
    // (Was broken until 4a96022: gap-acked and marked bytes were not counted; see
    // soak_regression_test.cpp, SendBufferCountsGapAckedAndMarkedBytes.)
    auto after = ep.info(s.assoc);
    size_t limit = std::max(side_ep(p, d).config().assoc.send_buffer, m.size);
    if (opt_.strict && after && after->queued_bytes > limit)
      fail("send side holds " + std::to_string(after->queued_bytes) + " bytes, buffer is " +
           std::to_string(limit));
  }
}

void Scenario::drain(Session& s) {
  const int p = s.pair;
  const int d = 1 - s.side;  // the direction this side receives
  Direction& dir = pairs_[p].dir[d];
  Endpoint& ep = side_ep(p, s.side);
  const uint64_t key = seed_ * 4 + static_cast<uint64_t>(p) * 2 + static_cast<uint64_t>(d);
  size_t burst = 0;
  while (auto m = ep.receive(net_.now(), s.assoc)) {
    burst += m->data.size();
    uint32_t index = m->info.ppid;
    std::string what = "c" + std::to_string(p) + (d == 0 ? "->server" : "<-server") + " message " +
                       std::to_string(index);
    net_.mix(0xDE1, uint64_t{index} << 8 | static_cast<uint64_t>(p * 2 + d));
    if (index >= dir.sent.size() || dir.sent[index].size == 0) {
      fail(what + ": delivered but never sent (size " + std::to_string(m->data.size()) + ")");
      continue;
    }
    SentRecord& rec = dir.sent[index];
    if (rec.delivered) {
      fail(what + ": delivered twice");
      continue;
    }
    rec.delivered = true;
    if (rec.reported_unsent) fail(what + ": delivered after SendFailed said it was never sent");
    ++delivered_;
    delivered_bytes_ += m->data.size();
    if (m->data.size() != rec.size) {
      fail(what + ": size " + std::to_string(m->data.size()) + ", sent " +
           std::to_string(rec.size));
      continue;
    }
    for (size_t i = 0; i < m->data.size(); ++i) {
      if (m->data[i] != pattern(key, index, i)) {
        fail(what + ": corrupt at byte " + std::to_string(i));
        break;
      }
    }
    if (m->info.stream != rec.stream)
      fail(what + ": arrived on stream " + std::to_string(m->info.stream) + ", sent on " +
           std::to_string(rec.stream));
    if (m->info.unordered != rec.unordered) fail(what + ": unordered flag changed");
    if (!rec.unordered) {
      auto [it, fresh] = dir.last_ordered.try_emplace(rec.stream, index);
      if (!fresh) {
        if (index < it->second)
          fail(what + " on stream " + std::to_string(rec.stream) + " delivered after message " +
               std::to_string(it->second) + " (out of order)");
        else
          it->second = index;
      }
    }
  }
  // Memory: what a reader finds waiting is bounded by its receive buffer plus the
  // reassembly reserve (a peer cannot make it hold more).
  size_t limit = ep.config().assoc.receive_buffer + ReassemblyQueue::kReserveBytes;
  if (burst > limit)
    fail("receiver held " + std::to_string(burst) + " bytes of complete messages, limit " +
         std::to_string(limit));
}

// RFC 6458 SCTP_SEND_FAILED_EVENT: a message that was never transmitted (sent ==
// false) cannot have been delivered, and the returned bytes are the message's.
void Scenario::on_send_failed(int p, int side, const Event& e) {
  Direction& dir = pairs_[p].dir[side];
  uint32_t index = e.send_info.ppid;
  std::string what = "c" + std::to_string(p) + (side == 0 ? "->server" : "<-server") + " message " +
                     std::to_string(index);
  if (index >= dir.sent.size() || dir.sent[index].size == 0) {
    fail("SendFailed for " + what + " that was never accepted");
    return;
  }
  SentRecord& rec = dir.sent[index];
  if (e.data.size() != rec.size) fail("SendFailed for " + what + " returned the wrong bytes");
  if (!e.sent) {
    if (rec.delivered) fail(what + " reported never sent (SendFailed) but was delivered");
    rec.reported_unsent = true;
  }
}

void Scenario::end_session(Session& s, const std::string& why, bool told) {
  s.ended = true;
  s.told = s.told || told;
  s.end_reason = why;
}

void Scenario::schedule_release(int sid) {
  Duration d = release_delay_max_.count()
                   ? ms(0, std::chrono::duration_cast<milliseconds>(release_delay_max_).count())
                   : Duration(0);
  auto release = [this, sid] {
    Session& s = sessions_[sid];
    if (s.released || s.crashed) return;
    drain(s);
    Endpoint& ep = side_ep(s.pair, s.side);
    auto info = ep.info(s.assoc);
    if (!info) {
      fail("association " + std::to_string(s.assoc.value()) + " vanished before release");
    } else {
      if (info->state != AssocState::Closed)
        fail(std::string("association ended by an event but its state is ") +
             assoc_state_name(info->state));
      // Buffers empty after close.
      if (info->pending_receive != 0) fail("messages left unread after draining a closed assoc");
      if (info->queued_bytes != 0 && !s.told)
        fail("closed association still holds " + std::to_string(info->queued_bytes) +
             " queued bytes");
    }
    ep.release(s.assoc);
    if (ep.info(s.assoc)) fail("release() left the association in place");
    s.released = true;
    log("%s c%d assoc %u released", s.side ? "server" : "client", s.pair, s.assoc.value());
    if (s.side == 0) maybe_reconnect(s.pair);
  };
  if (d.count() == 0)
    release();
  else
    net_.schedule(net_.now() + d, release);
}

void Scenario::crash(int p, int side) {
  if (settling_) return;
  log("CRASH and restart of %s", side ? "server" : ("c" + std::to_string(p)).c_str());
  Host& h = host_of(p, side);
  ++h.gen;
  h.paused = false;
  h.crashes.push_back(net_.now());
  for (auto& s : sessions_) {
    bool on_host = side == 1 ? s.side == 1 : (s.side == 0 && s.pair == p);
    if (!on_host || s.crashed || s.released || s.superseded) continue;
    s.crashed = true;
    if (!s.ended) end_session(s, "host crashed", false);
  }
  if (side == 1) {
    net_.restart_host(server_ip_, server_cfg_);
    for (auto& pair : pairs_) pair.server_session = -1;
  } else {
    net_.restart_host(pairs_[p].client_ip, pairs_[p].client_cfg);
    pairs_[p].client_session = -1;
    pairs_[p].reconnect_pending = false;
    maybe_reconnect(p);
  }
}

void Scenario::resume_reader(int p, int side) {
  Host& h = host_of(p, side);
  if (!h.paused) return;
  h.paused = false;
  log("reader resumes: %s", side ? "server" : ("c" + std::to_string(p)).c_str());
  for (auto& s : sessions_) {
    bool on_host = side == 1 ? s.side == 1 : (s.side == 0 && s.pair == p);
    if (on_host && !s.crashed && !s.released && !s.superseded) drain(s);
  }
}

void Scenario::on_event(Endpoint& ep, const Event& e) {
  if (&ep == net_.host(server_ip_)) {
    on_server_event(e);
    return;
  }
  for (int p = 0; p < static_cast<int>(pairs_.size()); ++p) {
    if (&ep == net_.host(pairs_[p].client_ip)) {
      on_client_event(p, e);
      return;
    }
  }
  fail("event from an unknown endpoint");
}

namespace {
const char* kind_name(EventKind k) {
  switch (k) {
    case EventKind::Connected:
      return "Connected";
    case EventKind::Accepted:
      return "Accepted";
    case EventKind::ConnectFailed:
      return "ConnectFailed";
    case EventKind::Readable:
      return "Readable";
    case EventKind::Writable:
      return "Writable";
    case EventKind::PeerShutdown:
      return "PeerShutdown";
    case EventKind::Closed:
      return "Closed";
    case EventKind::Aborted:
      return "Aborted";
    case EventKind::Lost:
      return "Lost";
    case EventKind::Restarted:
      return "Restarted";
    default:
      return "other";
  }
}
bool is_terminal(EventKind k) {
  return k == EventKind::Closed || k == EventKind::Aborted || k == EventKind::Lost ||
         k == EventKind::ConnectFailed;
}
}  // namespace

void Scenario::on_client_event(int p, const Event& e) {
  Pair& pair = pairs_[p];
  if (e.kind != EventKind::Readable && e.kind != EventKind::SendFailed)
    log("c%d event %s assoc %u %s", p, kind_name(e.kind), e.assoc.value(),
        e.status.reason().c_str());
  int sid = find_session(p, 0, e.assoc);
  if (sid < 0) {
    fail(std::string("client event ") + kind_name(e.kind) + " for unknown association " +
         std::to_string(e.assoc.value()));
    return;
  }
  Session& s = sessions_[sid];
  if (s.ended && e.kind != EventKind::Readable && e.kind != EventKind::Writable &&
      (is_terminal(e.kind) || e.kind == EventKind::Connected || e.kind == EventKind::Restarted ||
       e.kind == EventKind::PeerShutdown)) {
    fail(std::string("client event ") + kind_name(e.kind) + " after the association ended (" +
         s.end_reason + ")");
    return;
  }
  switch (e.kind) {
    case EventKind::Connected:
      if (++s.connected_events > 1) fail("Connected reported twice");
      s.up = true;
      pump(p, 0);
      break;
    case EventKind::Writable:
      pump(p, 0);
      break;
    case EventKind::SendFailed:
      on_send_failed(p, 0, e);
      break;
    case EventKind::Readable:
      if (!client_hosts_[p].paused) drain(s);
      break;
    case EventKind::Restarted:
      // The server never initiates, so a restart is not expected here; treat as
      // the end of one incarnation and the start of the next.
      end_session(s, "restarted", true);
      s.superseded = true;
      {
        Session n = s;
        n.ended = n.told = n.closed = n.released = n.superseded = false;
        n.up = true;
        n.connected_events = 1;
        sessions_.push_back(n);
        pair.client_session = static_cast<int>(sessions_.size()) - 1;
      }
      break;
    case EventKind::Closed:
      if (!s.up && !s.shutdown_called && !settling_) fail("Closed before the association was up");
      s.closed = true;
      drain(s);
      end_session(s, "closed", false);
      schedule_release(sid);
      break;
    case EventKind::Aborted:
    case EventKind::Lost:
    case EventKind::ConnectFailed:
      drain(s);
      end_session(s, kind_name(e.kind) + std::string(": ") + e.status.reason(), true);
      schedule_release(sid);
      break;
    default:
      break;
  }
}

void Scenario::on_server_event(const Event& e) {
  if (e.kind != EventKind::Readable && e.kind != EventKind::SendFailed)
    log("server event %s assoc %u %s", kind_name(e.kind), e.assoc.value(),
        e.status.reason().c_str());
  int p = -1;
  if (e.kind == EventKind::Accepted) {
    auto info = server().info(e.assoc);
    if (!info) {
      fail("Accepted for an association info() does not know");
      return;
    }
    for (int i = 0; i < static_cast<int>(pairs_.size()); ++i)
      if (info->primary.ip == pairs_[i].client_ip || info->primary.ip == pairs_[i].client_ip2)
        p = i;
    if (p < 0) {
      fail("Accepted from an unknown peer " + info->primary.to_string());
      return;
    }
    if (find_session(p, 1, e.assoc) >= 0) {
      fail("Accepted twice for association " + std::to_string(e.assoc.value()));
      return;
    }
    Session s;
    s.pair = p;
    s.side = 1;
    s.assoc = e.assoc;
    s.endpoint_gen = server_host_.gen;
    s.up = true;
    s.connected_events = 1;
    sessions_.push_back(s);
    int prev = pairs_[p].server_session;
    if (prev >= 0 && !sessions_[prev].ended && !sessions_[prev].crashed)
      fail("server accepted a second association from c" + std::to_string(p) +
           " while the first is alive");
    pairs_[p].server_session = static_cast<int>(sessions_.size()) - 1;
    pump(p, 1);
    return;
  }
  for (int i = 0; i < static_cast<int>(pairs_.size()) && p < 0; ++i)
    if (find_session(i, 1, e.assoc) >= 0) p = i;
  if (p < 0) {
    fail(std::string("server event ") + kind_name(e.kind) + " for unknown association " +
         std::to_string(e.assoc.value()));
    return;
  }
  int sid = find_session(p, 1, e.assoc);
  Session& s = sessions_[sid];
  if (s.ended && (is_terminal(e.kind) || e.kind == EventKind::Restarted ||
                  e.kind == EventKind::PeerShutdown)) {
    fail(std::string("server event ") + kind_name(e.kind) + " after the association ended (" +
         s.end_reason + ")");
    return;
  }
  switch (e.kind) {
    case EventKind::Writable:
      pump(p, 1);
      break;
    case EventKind::SendFailed:
      on_send_failed(p, 1, e);
      break;
    case EventKind::Readable:
      if (!server_host_.paused) drain(s);
      break;
    case EventKind::Restarted: {
      // §5.2.4 A: the peer restarted; the old incarnation is over (the user is told
      // by this event), a new one starts on the same association id.
      drain(s);
      end_session(s, "restarted", true);
      s.superseded = true;
      Session n;
      n.pair = p;
      n.side = 1;
      n.assoc = e.assoc;
      n.endpoint_gen = server_host_.gen;
      n.up = true;
      n.connected_events = 1;
      sessions_.push_back(n);
      pairs_[p].server_session = static_cast<int>(sessions_.size()) - 1;
      pump(p, 1);
      break;
    }
    case EventKind::Closed:
      s.closed = true;
      drain(s);
      end_session(s, "closed", false);
      schedule_release(sid);
      break;
    case EventKind::Aborted:
    case EventKind::Lost:
      drain(s);
      end_session(s, kind_name(e.kind) + std::string(": ") + e.status.reason(), true);
      schedule_release(sid);
      break;
    case EventKind::Connected:
    case EventKind::ConnectFailed:
      fail(std::string("server got ") + kind_name(e.kind) + " but never connected");
      break;
    default:
      break;
  }
}

void Scenario::probe() {
  for (auto& s : sessions_) {
    if (s.crashed || s.released || s.superseded) continue;
    Endpoint& ep = side_ep(s.pair, s.side);
    auto info = ep.info(s.assoc);
    if (!info) {
      fail("info() lost track of association " + std::to_string(s.assoc.value()) + " on " +
           (s.side ? "server" : "c" + std::to_string(s.pair)));
      continue;
    }
    const AssocConfig& cfg = ep.config().assoc;
    size_t limit = std::max(cfg.send_buffer, pairs_[s.pair].dir[s.side].max_message);
    if (opt_.strict && info->queued_bytes > limit)
      fail("send side holds " + std::to_string(info->queued_bytes) + " bytes (limit " +
           std::to_string(limit) + ")");
    // The flight counts each chunk's 16-byte header and up to 3 bytes of padding.
    if (info->outstanding_bytes > info->queued_bytes + 19 * info->unacked_chunks)
      fail("more bytes outstanding than queued");
    if (s.ended && info->state != AssocState::Closed)
      fail(std::string("association reported ended is in state ") + assoc_state_name(info->state));
  }
  // A timer in the past that nobody handles is a hang in the making.
  for (Endpoint* ep : {net_.host(server_ip_)}) {
    auto t = ep->next_timeout();
    if (t && *t + seconds(1) < net_.now()) fail("server timer deadline left in the past");
  }
}

void Scenario::settle() {
  settling_ = true;
  log("settle: links calm down, every association shuts down");
  for (int p = 0; p < static_cast<int>(pairs_.size()); ++p) {
    for (int n = 0; n < networks(); ++n) {
      for (int d = 0; d < 2; ++d) {
        LinkConditions c = n == 0 ? base_links_[{p, d}] : base_links2_[{p, d}];
        c.loss = std::min(c.loss, 0.05);
        c.corrupt = std::min(c.corrupt, 0.01);
        c.down = false;
        set_net_link(p, d, n, c);
      }
    }
    for (int side = 0; side < 2; ++side) resume_reader(p, side);
  }
  int who = static_cast<int>(r(3));  // 0 client, 1 server, 2 both
  for (int i = 0; i < static_cast<int>(sessions_.size()); ++i) {
    Session& s = sessions_[i];
    if (s.ended || s.crashed) continue;
    if (who != 2 && s.side != who && s.up) continue;  // connecting ones always stop
    s.shutdown_called = true;
    Status st = side_ep(s.pair, s.side).shutdown(net_.now(), s.assoc);
    if (!st.ok()) fail("shutdown() in settle failed: " + st.reason());
  }
}

bool Scenario::all_done() const {
  if (!settling_) return false;
  for (const auto& s : sessions_)
    if (!s.crashed && !s.released && !s.superseded) return false;
  return true;
}

void Scenario::final_checks() {
  for (int p = 0; p < static_cast<int>(pairs_.size()); ++p) {
    for (int d = 0; d < 2; ++d) {
      const Direction& dir = pairs_[p].dir[d];
      for (size_t i = 0; i < dir.sent.size(); ++i) {
        const SentRecord& rec = dir.sent[i];
        if (rec.size == 0 || rec.delivered) continue;
        const Session& s = sessions_[rec.session];
        if (s.told || s.crashed) continue;
        // The receiving host crashed after the message was sent: it may have been
        // acknowledged and waiting unread in the receiver's buffer (the sender
        // rightly saw a graceful close, or no end at all yet).
        const Host& rx = d == 0 ? server_host_ : client_hosts_[p];
        if (std::any_of(rx.crashes.begin(), rx.crashes.end(),
                        [&](Instant c) { return c >= rec.sent_at; }))
          continue;
        fail("c" + std::to_string(p) + (d == 0 ? "->server" : "<-server") + " message " +
             std::to_string(i) + " (" + std::to_string(rec.size) +
             " bytes) was accepted by send() and never delivered, and the sender was not told "
             "(its association ended: " +
             s.end_reason + ")");
      }
    }
  }
  std::vector<Endpoint*> eps = {net_.host(server_ip_)};
  for (auto& pair : pairs_) eps.push_back(net_.host(pair.client_ip));
  for (Endpoint* ep : eps) {
    if (!ep->associations().empty())
      fail("endpoint still has " + std::to_string(ep->associations().size()) +
           " associations after all were released");
    if (ep->next_timeout()) fail("timers still running after every association was released");
  }
  if (net_.corrupted_passing_crc() != 0)
    fail(std::to_string(net_.corrupted_passing_crc()) + " corrupted packets passed the CRC32c");
}

SoakResult Scenario::run() {
  if (opt_.packet_trace)
    net_.set_trace(opt_.packet_trace, std::chrono::duration_cast<Duration>(
                                          std::chrono::duration<double>(opt_.trace_from_seconds)));
  build();
  schedule_chaos();
  log("scenario: %s", desc_.str().c_str());
  auto on_ev = [this](Endpoint& ep, const Event& e) { on_event(ep, e); };
  // Chaos, then settle: at most two virtual hours in all.
  bool done = net_.run_until([this] { return all_done() || failures_.size() >= kMaxFailures; },
                             (chaos_end_ - start_) + seconds(7200), on_ev);
  if (net_.livelocked()) fail("livelock: the simulation kept waking at one instant");
  if (!done) {
    std::ostringstream open;
    for (size_t i = 0; i < sessions_.size(); ++i) {
      const Session& s = sessions_[i];
      if (s.crashed || s.released || s.superseded) continue;
      auto info = side_ep(s.pair, s.side).info(s.assoc);
      open << " [" << (s.side ? "server" : "client") << " c" << s.pair << " assoc "
           << s.assoc.value() << " " << (info ? assoc_state_name(info->state) : "?")
           << (s.ended ? " ended" : "") << " queued=" << (info ? info->queued_bytes : 0) << "]";
    }
    fail("hang: not every association closed within two virtual hours:" + open.str());
  } else if (failures_.empty()) {
    final_checks();
  }
  SoakResult res;
  res.seed = seed_;
  res.trace_hash = net_.trace_hash();
  res.failures = failures_;
  res.scenario = desc_.str();
  res.messages_sent = sent_;
  res.messages_delivered = delivered_;
  res.bytes_delivered = delivered_bytes_;
  res.messages_lost_told = sent_ - delivered_;
  res.sessions = sessions_.size();
  for (const auto& s : sessions_) res.abnormal_ends += s.told || s.crashed;
  res.packets = net_.packets_sent();
  res.corrupted = net_.packets_corrupted();
  res.corrupted_delivered = net_.corrupted_delivered();
  res.virtual_seconds = t();
  return res;
}

}  // namespace

SoakResult run_seed(uint64_t seed, std::ostream* log, SoakOptions opt) {
  Scenario s(seed, log, opt);
  return s.run();
}

std::string repro_command(uint64_t seed) {
  return "build/tests/sim/soak_tests --seed=" + std::to_string(seed) + " --verbose";
}

}  // namespace sctpp::sim::soak
