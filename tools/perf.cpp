// `sctpp perf`: iperf-like measurements over sctpp (or TCP with --tcp).
//
// Protocol (see perf_common.h): control channel -> Hello(params) -> Ready(data port)
// -> the test on a data endpoint opened for it with the client's path MTU ->
// Done(sent) -> Result(received, checked, timed at the receiver).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <list>
#include <mutex>
#include <thread>

#include "commands.h"
#include "payload_buffers.h"
#include "perf_channel.h"
#include "perf_common.h"
#include "sctpp/sockaddr.h"

namespace sctpp::tool {

int run_perf_command(int argc, char** argv) {
  int code = 0;
  auto args = perf::parse_perf_args(argc, argv, &code);
  if (!args) return code;
  return args->server ? perf::run_perf_server(*args) : perf::run_perf_client(*args);
}

namespace perf {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

void log(const std::string& line) {
  std::fprintf(stderr, "sctpp perf: %s\n", line.c_str());
}

// ---------------------------------------------------------------------------------
// Server

struct TestResult {
  uint64_t messages = 0, bytes = 0, nanos = 0, errors = 0;
  std::string first_error;
};

// Receives and checks a throughput test until the client closes.
TestResult receive_throughput(Channel& data, const ControlMsg& p, Clock::time_point t0) {
  TestResult r;
  Pattern pat(p.size);
  const uint16_t streams = static_cast<uint16_t>(std::max<uint32_t>(1, p.streams));
  std::vector<uint64_t> next(streams);
  for (uint16_t s = 0; s < streams; ++s) next[s] = s;
  InMsg in;
  Rx rx;
  while ((rx = data.receive(p.size, &in)) == Rx::Ok) {
    bool ok = in.size == p.size;
    if (ok) {
      if (p.unordered) {
        uint64_t seq = Pattern::seq_of(in.data, in.size);
        ok = pat.check(in.data, in.size, seq) && (p.size < 6 || seq % streams == in.stream);
      } else if (in.stream >= streams) {
        ok = false;
      } else {
        ok = pat.check(in.data, in.size, next[in.stream]);
        next[in.stream] += streams;
      }
    }
    if (!ok && r.errors++ == 0) {
      r.first_error = "message " + std::to_string(r.messages) + " on stream " +
                      std::to_string(in.stream) + " (" + std::to_string(in.size) +
                      " bytes) does not match the pattern";
    }
    ++r.messages;
    r.bytes += in.size;
  }
  r.nanos = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  if (rx == Rx::Error && r.errors++ == 0) r.first_error = data.error();
  return r;
}

TestResult echo_latency(Channel& data, const ControlMsg& p, Clock::time_point t0) {
  TestResult r;
  InMsg in;
  Rx rx;
  while ((rx = data.receive(p.size, &in)) == Rx::Ok) {
    ++r.messages;
    r.bytes += in.size;
    if (!data.send(in.data, in.size, in.stream, in.unordered, in.ppid)) {
      rx = Rx::Error;
      break;
    }
  }
  r.nanos = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  if (rx == Rx::Error && r.errors++ == 0) r.first_error = data.error();
  return r;
}

// Why the control channel gave no Done: its error, or (a plain close has none) that
// the client went away, typically because its test failed on its side.
std::string control_lost(const Channel& ctl) {
  return ctl.error().empty() ? "the client closed the control channel before reporting"
                             : ctl.error();
}

// Longest wait for the acceptor of a connect test to take the associations (or TCP
// connections) the client reports; the client gives up on the result after --time
// plus 60 s.
constexpr auto kDrainLimit = std::chrono::seconds(30);

struct ServerCtx {
  PerfArgs args;
};

bool valid_hello(const ControlMsg& m, std::string* why) {
  if (m.type != static_cast<uint32_t>(MsgType::Hello))
    *why = "expected a Hello message";
  else if (m.mode < 1 || m.mode > 3)
    *why = "unknown mode";
  else if (m.size < 1 || m.size > 4 * 1024 * 1024)
    *why = "size out of range";
  else if (m.streams < 1 || m.streams > 65535)
    *why = "streams out of range";
  else if (m.mtu < 576 || m.mtu > 65535)
    *why = "mtu out of range";
  else
    return true;
  return false;
}

void serve_sctp_test(const ServerCtx& ctx, Channel& ctl, const ControlMsg& hello,
                     const std::string& who) {
  StackOptions so;
  so.udp_port = 0;
  so.local_addresses = ctx.args.listen.ips;
  so.tuning.path_mtu = hello.mtu;
  so.linger = 1000ms;
  auto stack = Stack::create(so);
  ControlMsg ready;
  ready.type = static_cast<uint32_t>(MsgType::Ready);
  if (!stack) {
    ready.b = 1;
    ctl.send_control(ready);
    log(who + ": cannot open a data stack: " + describe(stack.status()));
    return;
  }
  ListenOptions lo;
  lo.init.num_ostreams = 65535;
  lo.backlog = 4096;
  auto listener = Listener::bind(*stack, ctx.args.listen.ips, ctx.args.listen.port, lo);
  if (!listener) {
    ready.b = 1;
    ctl.send_control(ready);
    log(who + ": cannot listen for data: " + describe(listener.status()));
    return;
  }
  ready.a = stack->udp_port();
  if (!ctl.send_control(ready)) return;

  const Mode mode = static_cast<Mode>(hello.mode);
  TestResult r;
  if (mode == Mode::Connect) {
    std::atomic<uint64_t> accepted{0};
    Listener* lst = &*listener;
    std::thread acceptor([&] {
      std::vector<Connection> held;
      while (true) {
        auto c = lst->accept();
        if (!c) break;
        ++accepted;
        held.push_back(std::move(*c));
        if (held.size() >= 1024) {
          // Drop the associations the client has shut down already.
          std::erase_if(held, [](Connection& k) {
            auto m = k.try_receive();
            return !m && m.status().code() == Errc::Closed;
          });
        }
      }
    });
    ControlMsg done;
    Rx rx = ctl.receive_control(&done);
    // Every association the client counts was queued here before its COOKIE ACK went
    // out, but the acceptor may still be taking the last ones: wait for them before
    // closing (closing aborts them). How long that takes depends only on how busy the
    // machine is (a sanitizer build on a loaded CI runner lagged past an earlier 2 s
    // bound), so the bound is a safety net against a lying client, not a measurement.
    const auto until = Clock::now() + kDrainLimit;
    while (rx == Rx::Ok && accepted.load() < done.a && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    listener->close();
    acceptor.join();
    r.messages = accepted;
    if (rx != Rx::Ok) r.errors = 1, r.first_error = control_lost(ctl);
  } else {
    auto conn = listener->accept(std::chrono::seconds(15));
    if (!conn) {
      log(who + ": no data association: " + describe(conn.status()));
      return;
    }
    const auto t0 = Clock::now();
    auto data = sctp_channel(std::move(*conn));
    r = mode == Mode::Throughput ? receive_throughput(*data, hello, t0)
                                 : echo_latency(*data, hello, t0);
    ControlMsg done;
    if (ctl.receive_control(&done) != Rx::Ok) {
      log(who + ": control channel lost: " + control_lost(ctl));
      return;
    }
    if (mode == Mode::Throughput && done.a != r.messages && r.errors++ == 0) {
      r.first_error =
          "received " + std::to_string(r.messages) + " of " + std::to_string(done.a) + " messages";
    }
  }
  ControlMsg res;
  res.type = static_cast<uint32_t>(MsgType::Result);
  res.a = r.messages;
  res.b = r.bytes;
  res.c = r.nanos;
  res.d = r.errors;
  ctl.send_control(res);
  log(who + ": " + mode_name(mode) + " size " + std::to_string(hello.size) + " streams " +
      std::to_string(hello.streams) + " mtu " + std::to_string(hello.mtu) + ": " +
      std::to_string(r.messages) + (mode == Mode::Connect ? " associations" : " messages") +
      (r.errors ? ", " + std::to_string(r.errors) + " errors (first: " + r.first_error + ")" : ""));
}

// Waits for a connection on `fd` or for `stop_fd`; -1 on stop or timeout.
int tcp_accept(int fd, int stop_fd, int timeout_ms) {
  pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  int n = poll(p, stop_fd >= 0 ? 2 : 1, timeout_ms);
  if (n <= 0 || (stop_fd >= 0 && p[1].revents)) return -1;
  return accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
}

// `local`: the server address the client's control connection reached; the client
// opens its data connections to that same address, so the data listener binds there
// (not to the first --listen address, which may be of the other family).
void serve_tcp_test(const IpAddress& local, Channel& ctl, const ControlMsg& hello,
                    const std::string& who) {
  std::string err;
  const int mss = static_cast<int>(hello.mtu) - 40;
  int lfd = tcp_listen(local, 0, mss, &err);
  ControlMsg ready;
  ready.type = static_cast<uint32_t>(MsgType::Ready);
  if (lfd < 0) {
    ready.b = 1;
    ctl.send_control(ready);
    log(who + ": cannot listen for data: " + err);
    return;
  }
  ready.a = tcp_local_port(lfd);
  if (!ctl.send_control(ready)) {
    close(lfd);
    return;
  }
  const Mode mode = static_cast<Mode>(hello.mode);
  TestResult r;
  if (mode == Mode::Connect) {
    int stop[2];
    if (pipe2(stop, O_CLOEXEC) != 0) {
      close(lfd);
      return;
    }
    std::atomic<uint64_t> accepted{0};
    std::thread acceptor([&] {
      uint8_t tmp[512];
      while (true) {
        int fd = tcp_accept(lfd, stop[0], -1);
        if (fd < 0) break;
        ++accepted;
        while (true) {
          ssize_t n = read(fd, tmp, sizeof tmp);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
        }
        close(fd);
      }
    });
    ControlMsg done;
    Rx rx = ctl.receive_control(&done);
    const auto until = Clock::now() + kDrainLimit;  // as for SCTP above
    while (rx == Rx::Ok && accepted.load() < done.a && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    char c = 1;
    if (write(stop[1], &c, 1) != 1) log("cannot stop the acceptor");
    acceptor.join();
    close(stop[0]);
    close(stop[1]);
    r.messages = accepted;
    if (rx != Rx::Ok) r.errors = 1, r.first_error = control_lost(ctl);
  } else {
    int fd = tcp_accept(lfd, -1, 15000);
    if (fd < 0) {
      log(who + ": no data connection");
      close(lfd);
      return;
    }
    const auto t0 = Clock::now();
    auto data = tcp_channel(fd);
    r = mode == Mode::Throughput ? receive_throughput(*data, hello, t0)
                                 : echo_latency(*data, hello, t0);
    data.reset();  // closes: the client waits for our FIN
    ControlMsg done;
    if (ctl.receive_control(&done) != Rx::Ok) {
      log(who + ": control channel lost: " + control_lost(ctl));
      close(lfd);
      return;
    }
    if (mode == Mode::Throughput && done.a != r.messages && r.errors++ == 0) {
      r.first_error =
          "received " + std::to_string(r.messages) + " of " + std::to_string(done.a) + " messages";
    }
  }
  close(lfd);
  ControlMsg res;
  res.type = static_cast<uint32_t>(MsgType::Result);
  res.a = r.messages;
  res.b = r.bytes;
  res.c = r.nanos;
  res.d = r.errors;
  ctl.send_control(res);
  log(who + ": tcp " + mode_name(mode) + " size " + std::to_string(hello.size) + " mtu " +
      std::to_string(hello.mtu) + ": " + std::to_string(r.messages) +
      (mode == Mode::Connect ? " connections" : " messages") +
      (r.errors ? ", " + std::to_string(r.errors) + " errors (first: " + r.first_error + ")" : ""));
}

// `tcp_local`: with --tcp, the local address of the control connection.
void serve_control(const ServerCtx& ctx, std::unique_ptr<Channel> ctl, const std::string& who,
                   const IpAddress& tcp_local = {}) {
  ControlMsg hello;
  if (ctl->receive_control(&hello) != Rx::Ok) {
    log(who + ": " + (ctl->error().empty() ? "closed before a test" : ctl->error()));
    return;
  }
  std::string why;
  if (!valid_hello(hello, &why)) {
    log(who + ": bad test request: " + why);
    ctl->abort();
    return;
  }
  if (ctx.args.tcp) {
    serve_tcp_test(tcp_local, *ctl, hello, who);
  } else {
    serve_sctp_test(ctx, *ctl, hello, who);
  }
  ctl->close_gracefully();
}

// Control-connection threads; finished ones are joined as new ones start.
class Threads {
 public:
  template <class F>
  void spawn(F&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = list_.begin(); it != list_.end();) {
      if (it->done) {
        it->t.join();
        it = list_.erase(it);
      } else {
        ++it;
      }
    }
    auto& e = list_.emplace_back();
    e.t = std::thread([&e, fn = std::forward<F>(fn)]() mutable {
      fn();
      e.done = true;
    });
  }

 private:
  struct Entry {
    std::thread t;
    std::atomic<bool> done{false};
  };
  std::mutex mu_;
  std::list<Entry> list_;
};

}  // namespace

int run_perf_server(const PerfArgs& args) {
  block_termination_signals();
  ServerCtx ctx{args};
  Threads threads;
  if (args.tcp) {
    std::vector<int> lfds;
    for (const IpAddress& ip : args.listen.ips) {
      std::string err;
      int fd = tcp_listen(ip, args.listen.port, 0, &err);
      if (fd < 0) {
        log("cannot listen on TCP " + SocketAddress{ip, args.listen.port}.to_string() + ": " + err);
        return 1;
      }
      lfds.push_back(fd);
    }
    int stop[2];
    if (pipe2(stop, O_CLOEXEC) != 0) return 1;
    handle_termination_signals([&](int) {
      char c = 1;
      ssize_t w = write(stop[1], &c, 1);
      (void)w;
    });
    std::printf("listening on %s (tcp)\n", format_address_list(args.listen).c_str());
    std::fflush(stdout);
    while (true) {
      std::vector<pollfd> p{{stop[0], POLLIN, 0}};
      for (int fd : lfds) p.push_back({fd, POLLIN, 0});
      if (poll(p.data(), p.size(), -1) < 0) continue;
      if (p[0].revents) break;
      for (size_t i = 1; i < p.size(); ++i) {
        if (!(p[i].revents & POLLIN)) continue;
        int fd = accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        std::optional<SocketAddress> local;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
          local = from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
        if (!local) {
          log("tcp client: cannot read the local address of its connection");
          close(fd);
          continue;
        }
        threads.spawn(
            [&ctx, fd, ip = local->ip] { serve_control(ctx, tcp_channel(fd), "tcp client", ip); });
      }
    }
    std::fflush(stdout);
    _exit(0);  // tests in progress end with the process
  }

  StackOptions so;
  so.udp_port = args.udp_port;
  so.local_addresses = args.listen.ips;
  auto stack = Stack::create(so);
  if (!stack) {
    log("cannot open UDP port " + std::to_string(args.udp_port) + ": " + describe(stack.status()));
    return 1;
  }
  ListenOptions lo;
  lo.init.num_ostreams = 16;
  auto listener = Listener::bind(*stack, args.listen.ips, args.listen.port, lo);
  if (!listener) {
    log("cannot listen on " + format_address_list(args.listen) + ": " +
        describe(listener.status()));
    return 1;
  }
  Listener* lst = &*listener;
  handle_termination_signals([lst](int) { lst->close(); });
  std::printf("listening on %s (sctp over udp %u)\n", format_address_list(args.listen).c_str(),
              stack->udp_port());
  std::fflush(stdout);
  while (true) {
    auto c = listener->accept();
    if (!c) break;
    std::string who = "association " + std::to_string(c->id());
    auto peers = c->peer_addresses();
    if (!peers.empty()) who += " from " + peers.front().to_string();
    auto ch = std::make_shared<std::unique_ptr<Channel>>(sctp_channel(std::move(*c)));
    threads.spawn([&ctx, ch, who] { serve_control(ctx, std::move(*ch), who); });
  }
  std::fflush(stdout);
  _exit(0);
}

// ---------------------------------------------------------------------------------
// Client

namespace {

struct Outcome {
  uint64_t sent = 0;
  uint64_t messages = 0, bytes = 0;
  double seconds = 0;
  uint64_t errors = 0;
  std::optional<double> mbps, mps, p50, p99, assoc_per_s;
};

class Client {
 public:
  explicit Client(const PerfArgs& a) : a_(a) {}

  int run() {
    signal(SIGPIPE, SIG_IGN);
    const Mode mode = a_.mode;
    const std::string target = format_address_list(a_.connect);
    // Never hang: the whole run gets --time plus a minute.
    std::thread([secs = a_.time + 60] {
      std::this_thread::sleep_for(std::chrono::duration<double>(secs));
      log("error: no result after " + std::to_string(static_cast<int>(secs)) + " s");
      _exit(1);
    }).detach();

    std::unique_ptr<Channel> ctl;
    if (a_.tcp) {
      std::string err;
      int fd = tcp_connect({a_.connect.ips.front(), a_.connect.port}, 0, &err);
      if (fd < 0) return fail("cannot connect to " + target + " (tcp): " + err);
      ctl = tcp_channel(fd);
    } else {
      StackOptions so;
      so.udp_port = a_.udp_port;
      so.tuning.path_mtu = a_.mtu;
      // A throughput sender bundles small messages (Nagle, SCTP_NODELAY off), as a
      // bulk TCP sender does; latency and connect runs send each message at once.
      so.tuning.nodelay = a_.mode != Mode::Throughput;
      auto st = Stack::create(so);
      if (!st)
        return fail("cannot open UDP port " + std::to_string(a_.udp_port) + ": " +
                    describe(st.status()));
      stack_ = std::move(*st);
      ConnectOptions co;
      co.remote_udp_port = a_.remote_udp_port;
      co.init.num_ostreams = 1;
      co.init.max_attempts = 4;
      auto c = Connection::connect(*stack_, a_.connect.ips, a_.connect.port, co, 15s);
      if (!c) return fail("cannot connect to " + target + ": " + describe(c.status()));
      ctl = sctp_channel(std::move(*c));
    }
    ControlMsg hello;
    hello.type = static_cast<uint32_t>(MsgType::Hello);
    hello.mode = static_cast<uint32_t>(mode);
    hello.size = a_.size;
    hello.streams = a_.streams;
    hello.unordered = a_.unordered;
    hello.time_ms = static_cast<uint32_t>(a_.time * 1000);
    hello.mtu = a_.mtu;
    ControlMsg ready;
    if (!ctl->send_control(hello) || ctl->receive_control(&ready) != Rx::Ok)
      return fail("control channel to " + target + " failed: " + ctl->error());
    if (ready.type != static_cast<uint32_t>(MsgType::Ready) || ready.b != 0)
      return fail("the server could not start the test (see its log)");
    data_port_ = static_cast<uint16_t>(ready.a);

    if (!a_.json && mode == Mode::Connect) {
      // No messages in this mode: size and streams do not apply.
      std::printf("sctpp perf: connect over %s to %s, %s, path MTU %u, %.1f s\n",
                  a_.tcp ? "tcp" : "sctp", target.c_str(),
                  a_.tcp ? "connections + closes" : "association setups + graceful shutdowns",
                  a_.mtu, a_.time);
      std::fflush(stdout);
    } else if (!a_.json) {
      std::printf(
          "sctpp perf: %s over %s to %s, %u-byte messages, %u stream%s%s, path MTU %u, "
          "%.1f s\n",
          mode_name(mode), a_.tcp ? "tcp" : "sctp", target.c_str(), a_.size, a_.streams,
          a_.streams == 1 ? "" : "s", a_.unordered ? ", unordered" : "", a_.mtu, a_.time);
      std::fflush(stdout);
    }
    Outcome o;
    std::string err;
    bool ok = mode == Mode::Throughput ? throughput(o, &err)
              : mode == Mode::Latency  ? latency(o, &err)
                                       : connect_rate(o, &err);
    if (!ok) return fail(err);
    ControlMsg done, res;
    done.type = static_cast<uint32_t>(MsgType::Done);
    done.a = o.sent;
    if (!ctl->send_control(done) || ctl->receive_control(&res) != Rx::Ok ||
        res.type != static_cast<uint32_t>(MsgType::Result))
      return fail("no result from the server: " + ctl->error());
    ctl->close_gracefully();

    o.errors = res.d;
    if (mode == Mode::Throughput) {
      o.messages = res.a;
      o.bytes = res.b;
      o.seconds = static_cast<double>(res.c) / 1e9;
      o.mbps = o.seconds > 0 ? static_cast<double>(o.bytes) / o.seconds / 1e6 : 0;
      o.mps = o.seconds > 0 ? static_cast<double>(o.messages) / o.seconds : 0;
    } else if (mode == Mode::Connect) {
      if (res.a < o.sent && o.errors == 0) o.errors = 1;
    } else if (res.a != o.sent && o.errors == 0) {
      o.errors = 1;
    }
    report(o);
    if (o.errors) {
      log("error: " + std::to_string(o.errors) +
          " errors at the receiver (payload mismatch or lost messages; see the server log)");
      return 1;
    }
    return 0;
  }

 private:
  int fail(const std::string& what) {
    log("error: " + what);
    return 1;
  }

  SocketAddress data_tcp() const { return {a_.connect.ips.front(), data_port_}; }

  std::unique_ptr<Channel> open_data(uint16_t streams, std::string* err) {
    if (a_.tcp) {
      int fd = tcp_connect(data_tcp(), static_cast<int>(a_.mtu) - 40, err);
      if (fd < 0) return nullptr;
      return tcp_channel(fd);
    }
    ConnectOptions co;
    co.remote_udp_port = data_port_;
    co.init.num_ostreams = streams;
    co.init.max_attempts = 4;
    auto c = Connection::connect(*stack_, a_.connect.ips, a_.connect.port, co, 15s);
    if (!c) {
      *err = "data association failed: " + describe(c.status());
      return nullptr;
    }
    if (c->outbound_streams() < streams) {
      *err = "the server accepts only " + std::to_string(c->outbound_streams()) + " streams";
      return nullptr;
    }
    return sctp_channel(std::move(*c));
  }

  // Whether an interval report is due at `now`: each full second, and the partial
  // last interval at the end (as iperf3 prints it), unless it is a sliver under a
  // tenth of an interval, whose rate would mean little.
  static bool report_due(Clock::time_point now, Clock::time_point next_report,
                         Clock::time_point end, Clock::time_point t0, double last_t) {
    if (now >= next_report) return true;
    return now >= end && std::chrono::duration<double>(now - t0).count() - last_t >= 0.1;
  }

  void interval(double from, double to, const std::string& what) {
    if (a_.json) return;
    std::printf("[%6.2f-%6.2f s] %s\n", from, to, what.c_str());
    std::fflush(stdout);
  }

  bool throughput(Outcome& o, std::string* err) {
    auto data = open_data(a_.streams, err);
    if (!data) return false;
    Pattern pat(a_.size);
    std::vector<uint8_t> buf(pat.templ(), pat.templ() + a_.size);
    // Large messages go without a copy (a user of a zero-copy API would do the same);
    // small ones cost less to copy than to hand over.
    const bool shared = a_.size >= kSharedFrom;
    PayloadBuffers buffers(pat, a_.size);
    const auto t0 = Clock::now();
    const auto end =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a_.time));
    auto next_report = t0 + 1s;
    uint64_t seq = 0, last_seq = 0;
    double last_t = 0;
    // The clock is read every few small messages, not every one: a read costs ~20 ns,
    // 8% of a 64-byte send, the same for every transport measured.
    const uint64_t clock_every = a_.size >= 4096 ? 1 : 16;
    auto now = t0;
    while (true) {
      if (seq % clock_every == 0) now = Clock::now();
      if (report_due(now, next_report, end, t0, last_t)) {
        double t = std::chrono::duration<double>(now - t0).count();
        double mb = static_cast<double>((seq - last_seq) * a_.size) / 1e6;
        char line[160];
        std::snprintf(line, sizeof line, "sent %10.2f MB  %9.2f MB/s  %10.0f msg/s", mb,
                      mb / (t - last_t), static_cast<double>(seq - last_seq) / (t - last_t));
        interval(last_t, t, line);
        last_t = t;
        last_seq = seq;
        next_report += 1s;
      }
      if (now >= end) break;
      const auto stream = static_cast<uint16_t>(seq % a_.streams);
      bool ok;
      if (shared) {
        ok = data->send_shared(buffers.next(seq), stream, a_.unordered, kDataPpid);
      } else {
        pat.stamp(buf.data(), a_.size, seq);
        ok = data->send(buf.data(), a_.size, stream, a_.unordered, kDataPpid);
      }
      if (!ok) {
        *err = "send failed: " + data->error();
        return false;
      }
      ++seq;
    }
    o.sent = seq;
    if (!data->close_gracefully()) {
      *err = "shutdown failed: " + data->error();
      return false;
    }
    return true;
  }

  bool latency(Outcome& o, std::string* err) {
    auto data = open_data(a_.streams, err);
    if (!data) return false;
    Pattern pat(a_.size);
    std::vector<uint8_t> buf(pat.templ(), pat.templ() + a_.size);
    std::vector<double> rtts, window;
    rtts.reserve(1 << 20);
    const auto t0 = Clock::now();
    const auto end =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a_.time));
    auto next_report = t0 + 1s;
    double last_t = 0;
    uint64_t seq = 0;
    while (true) {
      pat.stamp(buf.data(), a_.size, seq);
      const auto s = Clock::now();
      if (!data->send(buf.data(), a_.size, static_cast<uint16_t>(seq % a_.streams), a_.unordered,
                      kDataPpid)) {
        *err = "send failed: " + data->error();
        return false;
      }
      InMsg in;
      if (data->receive(a_.size, &in) != Rx::Ok) {
        *err = "no echo: " + (data->error().empty() ? "closed" : data->error());
        return false;
      }
      const auto e = Clock::now();
      if (in.size != a_.size || !pat.check(in.data, in.size, seq)) ++o.errors;
      double us = std::chrono::duration<double, std::micro>(e - s).count();
      rtts.push_back(us);
      window.push_back(us);
      ++seq;
      if (report_due(e, next_report, end, t0, last_t)) {
        double t = std::chrono::duration<double>(e - t0).count();
        std::sort(window.begin(), window.end());
        char line[160];
        std::snprintf(line, sizeof line, "%8zu round trips  p50 %8.1f us  p99 %8.1f us",
                      window.size(), window[window.size() / 2],
                      window[std::min(window.size() - 1, window.size() * 99 / 100)]);
        interval(last_t, t, line);
        last_t = t;
        window.clear();
        next_report += 1s;
      }
      if (e >= end) break;
    }
    o.seconds = seconds_since(t0);
    o.sent = seq;
    o.messages = seq;
    o.bytes = seq * a_.size;
    std::sort(rtts.begin(), rtts.end());
    o.p50 = rtts[rtts.size() / 2];
    o.p99 =
        rtts[std::min(rtts.size() - 1,
                      static_cast<size_t>(std::ceil(static_cast<double>(rtts.size()) * 0.99)) - 1)];
    uint64_t echo_errors = o.errors;
    if (!data->close_gracefully()) {
      *err = "shutdown failed: " + data->error();
      return false;
    }
    if (echo_errors) {
      *err = std::to_string(echo_errors) + " echoes did not match what was sent";
      return false;
    }
    return true;
  }

  bool connect_rate(Outcome& o, std::string* err) {
    const auto t0 = Clock::now();
    const auto end =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a_.time));
    auto next_report = t0 + 1s;
    double last_t = 0;
    uint64_t n = 0, last_n = 0;
    while (true) {
      const auto now = Clock::now();
      if (report_due(now, next_report, end, t0, last_t)) {
        double t = std::chrono::duration<double>(now - t0).count();
        char line[160];
        std::snprintf(line, sizeof line, "%8" PRIu64 " setups+shutdowns  %9.0f /s", n - last_n,
                      static_cast<double>(n - last_n) / (t - last_t));
        interval(last_t, t, line);
        last_t = t;
        last_n = n;
        next_report += 1s;
      }
      if (now >= end) break;
      if (a_.tcp) {
        int fd = tcp_connect(data_tcp(), static_cast<int>(a_.mtu) - 40, err);
        if (fd < 0) {
          *err = "connection " + std::to_string(n + 1) + " failed: " + *err;
          return false;
        }
        tcp_channel(fd)->close_gracefully();
      } else {
        ConnectOptions co;
        co.remote_udp_port = data_port_;
        co.init.num_ostreams = 1;
        co.init.max_attempts = 4;
        auto c = Connection::connect(*stack_, a_.connect.ips, a_.connect.port, co, 15s);
        if (!c) {
          *err = "association " + std::to_string(n + 1) + " failed: " + describe(c.status());
          return false;
        }
        Status st = c->shutdown(15s);
        if (!st && st.code() != Errc::Closed) {
          *err = "shutdown of association " + std::to_string(n + 1) + " failed: " + describe(st);
          return false;
        }
      }
      ++n;
    }
    o.seconds = seconds_since(t0);
    o.sent = n;
    o.messages = n;
    o.assoc_per_s = static_cast<double>(n) / o.seconds;
    return true;
  }

  static std::string num(const std::optional<double>& v, int prec) {
    if (!v) return "null";
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, *v);
    return b;
  }

  void report(const Outcome& o) {
    const Mode mode = a_.mode;
    if (a_.json) {
      // A connect run sends no messages: its message fields do not apply (null, as the
      // contract says), rather than the unused defaults of --size and --streams.
      const bool msgs = mode != Mode::Connect;
      auto count = [&](uint64_t v) { return msgs ? std::to_string(v) : std::string("null"); };
      std::printf(
          "{\"mode\":\"%s\",\"transport\":\"%s\",\"size\":%s,\"streams\":%s,\"unordered\":%s,"
          "\"mtu\":%u,\"messages\":%s,\"bytes\":%s"
          ",\"seconds\":%.6f,\"mbytes_per_s\":%s,\"messages_per_s\":%s,\"rtt_p50_us\":%s,"
          "\"rtt_p99_us\":%s,\"assoc_per_s\":%s,\"sent\":%" PRIu64 ",\"errors\":%" PRIu64 "}\n",
          mode_name(mode), a_.tcp ? "tcp" : "sctp", count(a_.size).c_str(),
          count(a_.streams).c_str(),
          !msgs          ? "null"
          : a_.unordered ? "true"
                         : "false",
          a_.mtu, count(o.messages).c_str(), count(o.bytes).c_str(), o.seconds,
          num(o.mbps, 3).c_str(), num(o.mps, 1).c_str(), num(o.p50, 2).c_str(),
          num(o.p99, 2).c_str(), num(o.assoc_per_s, 1).c_str(), o.sent, o.errors);
    } else if (mode == Mode::Throughput) {
      std::printf(
          "- - - - - - - - - - - - - - - - - - - - - - - - -\n"
          "receiver: %" PRIu64
          " messages, %.2f MB in %.2f s = %.2f MB/s, %.0f msg/s, "
          "%" PRIu64 " errors (sent %" PRIu64 ")\n",
          o.messages, static_cast<double>(o.bytes) / 1e6, o.seconds, *o.mbps, *o.mps, o.errors,
          o.sent);
    } else if (mode == Mode::Latency) {
      std::printf(
          "- - - - - - - - - - - - - - - - - - - - - - - - -\n"
          "%" PRIu64 " round trips in %.2f s: p50 %.1f us, p99 %.1f us\n",
          o.messages, o.seconds, *o.p50, *o.p99);
    } else {
      std::printf(
          "- - - - - - - - - - - - - - - - - - - - - - - - -\n"
          "%" PRIu64 " %s in %.2f s: %.0f per second\n",
          o.messages, a_.tcp ? "connections+closes" : "association setups+graceful shutdowns",
          o.seconds, *o.assoc_per_s);
    }
    std::fflush(stdout);
  }

  const PerfArgs& a_;
  std::optional<Stack> stack_;
  uint16_t data_port_ = 0;
};

}  // namespace

int run_perf_client(const PerfArgs& args) {
  Client c(args);
  int code = c.run();
  std::fflush(stdout);
  std::fflush(stderr);
  // Skip the stack's linger on exit: everything was acknowledged already.
  _exit(code);
}

}  // namespace perf
}  // namespace sctpp::tool
