// `sctpp echo`: SCTP (or TCP) echo server: one thread per association, or with
// --one-to-many every association served from one PacketSocket by one thread.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "commands.h"
#include "sctpp/sctpp.h"
#include "sctpp/sockaddr.h"

namespace sctpp::tool {
namespace {

void log(const std::string& line) {
  std::fprintf(stderr, "sctpp echo: %s\n", line.c_str());
}

// Threads that serve one connection each; joined when they finish.
class Workers {
 public:
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  template <class F>
  void spawn(F&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    reap_locked();
    auto& w = workers_.emplace_back();
    w.thread = std::thread([this, &w, fn = std::forward<F>(fn)]() mutable {
      fn();
      std::lock_guard<std::mutex> lock(mu_);
      w.done = true;
      cv_.notify_all();
    });
  }
  // Waits until every worker finished or the deadline passed; true when all did.
  bool wait_all(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] {
      for (auto& w : workers_)
        if (!w.done) return false;
      return true;
    });
  }
  void join_all() {
    std::list<Worker> all;
    {
      std::lock_guard<std::mutex> lock(mu_);
      all.splice(all.end(), workers_);
    }
    // Without the lock: a finishing worker takes it to mark itself done.
    for (auto& w : all) w.thread.join();
  }

 private:
  void reap_locked() {
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->done) {
        it->thread.join();
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<Worker> workers_;
};

std::string describe(const Status& st) {
  return st.reason().empty() ? std::string(errc_name(st.code())) : st.reason();
}

// A message that cannot go back the way it came (typically: on a stream the peer's
// inbound stream count does not cover) is reported, and the association goes on: one
// such message is no reason to end a peer's other traffic.
template <class Id>
void log_unechoed(Id id, const Status& why) {
  log("association " + std::to_string(id) + ": message not echoed: " + describe(why));
}

std::string peers_of(const Connection& c) {
  std::string out;
  for (auto& a : c.peer_addresses()) out += (out.empty() ? "" : ",") + a.to_string();
  return out.empty() ? "?" : out;
}

std::string transport_name(const EchoArgs& args, const Stack& stack) {
  return args.transport == Transport::Ip ? std::string("sctp over ip")
                                         : "sctp over udp " + std::to_string(stack.udp_port());
}

// --one-to-many: one PacketSocket, one thread, every association.
int run_one_to_many_echo(const EchoArgs& args, Stack& stack) {
  using namespace std::chrono_literals;
  PacketSocketOptions po;
  po.init.num_ostreams = 65535;  // answer on whichever stream a peer uses
  po.events = EventSubscription{};
  po.events.association = true;
  auto sock = PacketSocket::open(stack, args.listen.ips, args.listen.port, po);
  if (!sock) {
    log("cannot listen on " + format_address_list(args.listen) + ": " + describe(sock.status()));
    return 1;
  }
  std::atomic<bool> stopping{false};
  // The live associations, for the signal thread to abort on a forced exit.
  std::mutex live_mu;
  std::set<uint32_t> live;
  PacketSocket* s = &*sock;
  handle_termination_signals([&](int) { stopping = true; },
                             [&] {
                               std::lock_guard<std::mutex> lock(live_mu);
                               for (uint32_t id : live) s->abort(id, "server stopped");
                             });
  std::printf("listening on %s (%s) one-to-many\n", format_address_list(args.listen).c_str(),
              transport_name(args, stack).c_str());
  std::fflush(stdout);

  std::map<uint32_t, uint64_t> echoed;  // per live association
  PacketEvent ev;                       // received into, so that large messages reuse their buffers
  while (!stopping) {
    if (Status rs = sock->receive(ev, 200ms); !rs) {
      if (rs.code() == Errc::Timeout) continue;
      log("receive failed: " + describe(rs));
      break;
    }
    if (auto* note = std::get_if<Notification>(&ev)) {
      auto* ac = std::get_if<AssocChange>(note);
      if (!ac) continue;
      if (ac->state == AssocChangeState::CommUp || ac->state == AssocChangeState::Restart) {
        std::string peers;
        for (const auto& a : sock->peer_addresses(ac->assoc_id))
          peers += (peers.empty() ? "" : ",") + a.to_string();
        log("association " + std::to_string(ac->assoc_id) + " up: peer " +
            (peers.empty() ? "?" : peers) + ", " + std::to_string(ac->outbound_streams) +
            " out / " + std::to_string(ac->inbound_streams) + " in streams");
        echoed.emplace(ac->assoc_id, 0);
        std::lock_guard<std::mutex> lock(live_mu);
        live.insert(ac->assoc_id);
      } else {
        const Status why = ac->state == AssocChangeState::ShutdownComplete
                               ? Status(Errc::Closed, "shut down")
                               : ac->status;
        log("association " + std::to_string(ac->assoc_id) + " closed after " +
            std::to_string(echoed[ac->assoc_id]) + " messages: " + describe(why));
        echoed.erase(ac->assoc_id);
        std::lock_guard<std::mutex> lock(live_mu);
        live.erase(ac->assoc_id);
      }
      continue;
    }
    auto& msg = std::get<ReceivedMessage>(ev);
    SendInfo si;
    si.stream = msg.info.stream;
    si.ppid = msg.info.ppid;
    si.unordered = msg.info.unordered;
    Status st = sock->send_to(msg.info.assoc_id, msg.data, si, 5s);
    if (st) {
      ++echoed[msg.info.assoc_id];
    } else if (st.code() == Errc::Timeout) {
      // A peer that does not read must not stall everyone else.
      sock->abort(msg.info.assoc_id, "echo server: peer does not read");
    } else {
      log_unechoed(msg.info.assoc_id, st);
    }
  }
  // Stop: shut every association down gracefully, abort what does not finish.
  sock->close(5s);
  return 0;
}

int run_sctp_echo(const EchoArgs& args) {
  StackOptions so;
  so.udp_port = args.udp_port;
  so.local_addresses = args.listen.ips;
  so.transport = args.transport;
  auto stack = Stack::create(so);
  if (!stack) {
    if (args.transport == Transport::Ip)
      log(describe(stack.status()));
    else
      log("cannot open UDP port " + std::to_string(args.udp_port) + ": " +
          describe(stack.status()));
    return 1;
  }
  if (args.one_to_many) return run_one_to_many_echo(args, *stack);
  ListenOptions lo;
  lo.init.num_ostreams = 65535;  // answer on whichever stream a peer uses
  lo.backlog = 1024;
  auto listener = Listener::bind(*stack, args.listen.ips, args.listen.port, lo);
  if (!listener) {
    log("cannot listen on " + format_address_list(args.listen) + ": " +
        describe(listener.status()));
    return 1;
  }

  std::mutex conns_mu;
  std::list<std::shared_ptr<Connection>> conns;
  std::atomic<bool> stopping{false};
  Listener* lst = &*listener;
  handle_termination_signals(
      [&](int) {
        stopping = true;
        lst->close();
      },
      [&] {
        std::lock_guard<std::mutex> lock(conns_mu);
        for (auto& c : conns) c->abort("server stopped");
      });

  std::printf("listening on %s (%s)\n", format_address_list(args.listen).c_str(),
              transport_name(args, *stack).c_str());
  std::fflush(stdout);

  Workers workers;
  while (true) {
    auto accepted = listener->accept();
    if (!accepted) {
      if (!stopping) log("accept failed: " + describe(accepted.status()));
      break;
    }
    auto conn = std::make_shared<Connection>(std::move(*accepted));
    {
      std::lock_guard<std::mutex> lock(conns_mu);
      conns.push_back(conn);
    }
    workers.spawn([conn, &conns, &conns_mu] {
      const uint32_t id = conn->id();
      log("association " + std::to_string(id) + " up: peer " + peers_of(*conn) + ", " +
          std::to_string(conn->outbound_streams()) + " out / " +
          std::to_string(conn->inbound_streams()) + " in streams");
      Status end;
      uint64_t echoed = 0;
      ReceivedMessage msg;  // received into, so that large messages reuse their buffers
      while (true) {
        if (Status rs = conn->receive(msg); !rs) {
          end = rs;
          break;
        }
        SendInfo si;
        si.stream = msg.info.stream;
        si.ppid = msg.info.ppid;
        si.unordered = msg.info.unordered;
        Status st = conn->send(msg.data, si);
        if (st.code() == Errc::InvalidStream) {
          log_unechoed(id, st);
          continue;
        }
        if (!st) {
          end = st;
          break;
        }
        ++echoed;
      }
      if (end.code() == Errc::Closed) {
        // The peer shut down: let the shutdown handshake finish.
        conn->shutdown(std::chrono::seconds(10));
      }
      log("association " + std::to_string(id) + " closed after " + std::to_string(echoed) +
          " messages: " + describe(end));
      std::lock_guard<std::mutex> lock(conns_mu);
      conns.remove(conn);
    });
  }

  // Stop: shut every association down gracefully, abort what does not finish.
  {
    std::lock_guard<std::mutex> lock(conns_mu);
    for (auto& c : conns) c->try_shutdown();
  }
  if (!workers.wait_all(std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    std::lock_guard<std::mutex> lock(conns_mu);
    for (auto& c : conns) c->abort("server stopped");
  }
  workers.join_all();
  return 0;
}

// ---- TCP ----

int tcp_listen(const IpAddress& ip, uint16_t port, std::string* error) {
  int fd = socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ip.is_v6()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(SocketAddress{ip, port}, &ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 1024) != 0) {
    *error = std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int run_tcp_echo(const EchoArgs& args) {
  std::vector<int> listeners;
  for (const IpAddress& ip : args.listen.ips) {
    std::string error;
    int fd = tcp_listen(ip, args.listen.port, &error);
    if (fd < 0) {
      log("cannot listen on TCP " + SocketAddress{ip, args.listen.port}.to_string() + ": " + error);
      return 1;
    }
    listeners.push_back(fd);
  }
  int stop_pipe[2];
  if (pipe2(stop_pipe, O_CLOEXEC) != 0) return 1;
  handle_termination_signals([&](int) {
    char c = 1;
    ssize_t r = write(stop_pipe[1], &c, 1);
    (void)r;
  });
  std::printf("listening on %s (tcp)\n", format_address_list(args.listen).c_str());
  std::fflush(stdout);

  std::mutex conns_mu;
  std::list<int> conns;
  Workers workers;
  bool stop = false;
  while (!stop) {
    std::vector<pollfd> pfds;
    pfds.push_back(pollfd{stop_pipe[0], POLLIN, 0});
    for (int fd : listeners) pfds.push_back(pollfd{fd, POLLIN, 0});
    if (poll(pfds.data(), pfds.size(), -1) < 0) continue;
    if (pfds[0].revents) break;
    for (size_t i = 1; i < pfds.size(); ++i) {
      if (!(pfds[i].revents & POLLIN)) continue;
      int fd = accept4(pfds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      {
        std::lock_guard<std::mutex> lock(conns_mu);
        conns.push_back(fd);
      }
      workers.spawn([fd, &conns, &conns_mu] {
        std::vector<char> buf(256 * 1024);
        while (true) {
          ssize_t n = read(fd, buf.data(), buf.size());
          if (n <= 0) break;
          ssize_t off = 0;
          while (off < n) {
            ssize_t w = send(fd, buf.data() + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
            if (w <= 0) break;
            off += w;
          }
          if (off < n) break;
        }
        std::lock_guard<std::mutex> lock(conns_mu);
        conns.remove(fd);
        shutdown(fd, SHUT_RDWR);
        close(fd);
      });
    }
  }
  {
    std::lock_guard<std::mutex> lock(conns_mu);
    // Ends the reads; each worker closes its own socket.
    for (int fd : conns) shutdown(fd, SHUT_RD);
  }
  workers.join_all();
  for (int fd : listeners) close(fd);
  return 0;
}

}  // namespace

int run_echo(const EchoArgs& args) {
  block_termination_signals();
  if (args.tcp) return run_tcp_echo(args);
  return run_sctp_echo(args);
}

}  // namespace sctpp::tool
