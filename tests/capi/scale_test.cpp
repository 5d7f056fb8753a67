// One-to-many at scale: one server socket (scale_server, its own process) with
// 1,000 concurrent client associations exchanging messages; midway the server peels
// one association off and the conversation goes on over the new socket with nothing
// lost or reordered. The clients are 1,000 non-blocking C API sockets of this
// process driven by one epoll loop (an SCTP association is unique per pair of
// endpoints, so 1,000 associations to one server socket need 1,000 client
// endpoints). Prints the server's memory (VmRSS/VmHWM) and the message rate; the
// figures are never asserted.
//
// The same clients run against `sctpp echo --one-to-many` too (the C++ PacketSocket).
// SCTPP_SCALE_CLIENTS / SCTPP_SCALE_MESSAGES change the size (default 1000 x 40).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sctpp/sctp.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// The server's VmRSS and VmHWM in KiB.
std::pair<long, long> server_memory(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long rss = -1, hwm = -1;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::atol(line.c_str() + 6);
  }
  return {rss, hwm};
}

struct Server {
  pid_t pid = -1;
  int to = -1;  // its stdin: closing it stops the server
  FILE* from = nullptr;
  uint16_t port = 0;
  uint16_t udp_port = 0;

  // Starts `argv`, whose first line of output names its ports: "ready SCTP UDP"
  // (scale_server) or "listening on ADDR:PORT (sctp over udp UDP) ..." (sctpp echo).
  bool start(std::vector<std::string> args, bool quiet = false) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    if (quiet) posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) return false;
    to = in[1];
    from = fdopen(out[0], "r");
    unsigned p = 0, u = 0;
    char line[128];
    if (!std::fgets(line, sizeof line, from)) return false;
    if (std::sscanf(line, "ready %u %u", &p, &u) != 2) {
      const char* colon = std::strstr(line, ":");
      const char* udp = std::strstr(line, "udp ");
      if (!colon || !udp || std::sscanf(colon + 1, "%u", &p) != 1 ||
          std::sscanf(udp + 4, "%u", &u) != 1)
        return false;
    }
    port = static_cast<uint16_t>(p);
    udp_port = static_cast<uint16_t>(u);
    return true;
  }
  // Stops it (closing its input, or with `signal`); returns its last line.
  std::string stop(int signal = 0) {
    if (signal && pid > 0) kill(pid, signal);
    if (to >= 0) ::close(to);
    to = -1;
    char line[256] = {0};
    std::string last;
    while (from && std::fgets(line, sizeof line, from)) last = line;
    if (from) std::fclose(from);
    from = nullptr;
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    pid = -1;
    return last;
  }
  ~Server() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      stop();
    }
  }
};

struct Client {
  int sd = -1;
  int sent = 0;    // messages sent (sequence numbers 0..sent-1)
  int echoed = 0;  // echoes received, in order
  bool failed = false;
};

std::string message(int client, int seq, bool peel = false) {
  char buf[128];
  int n =
      std::snprintf(buf, sizeof buf, "%sclient %d message %d ", peel ? "PEEL " : "", client, seq);
  std::string s(buf, static_cast<size_t>(n));
  s.resize(100, '.');  // 100-byte messages
  return s;
}

ssize_t send_to(int sd, const std::string& data, sockaddr_in& to) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  return sctpp_sendv(sd, &iov, 1, reinterpret_cast<sockaddr*>(&to), 1, nullptr, 0,
                     SCTP_SENDV_NOINFO, 0);
}

struct Figures {
  long total = 0;
  double setup_s = 0, run_s = 0, rate = 0;
  long rss0 = 0, rss1 = 0, hwm1 = 0;
};

// kClients non-blocking one-to-many sockets exchange messages with `server`, each
// keeping kWindow in flight. With `peel`, one client sends a PEEL message mid-way
// followed by a burst (scale_server peels that association off on it).
Figures run_clients(Server& server, bool peel, const char* name) {
  Figures fig;
  const int kClients = env_int("SCTPP_SCALE_CLIENTS", 1000);
  const int kMessages = env_int("SCTPP_SCALE_MESSAGES", 40);  // per client
  constexpr int kWindow = 4;                                  // outstanding per client
  const int kPeelClient = peel ? kClients / 2 : -1;
  const int kPeelAt = kMessages / 2;
  constexpr int kPeelBurst = 30;  // sent at once after PEEL: queued at the switch

  fig.rss0 = server_memory(server.pid).first;
  EXPECT_EQ(sctpp_init(0), 0) << strerror(errno);
  EXPECT_EQ(sctpp_set_remote_udp_port(server.udp_port), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  EXPECT_GE(ep, 0);
  std::vector<Client> clients(static_cast<size_t>(kClients));
  const auto t_setup = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    Client& c = clients[static_cast<size_t>(i)];
    c.sd = sctpp_socket(AF_INET, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
    EXPECT_GE(c.sd, 0) << strerror(errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    EXPECT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, sctpp_fd(c.sd), &ev), 0);
    // The first message sets the association up (it travels with the COOKIE ECHO).
    EXPECT_EQ(send_to(c.sd, message(i, 0), to), 100) << strerror(errno);
    c.sent = 1;
  }

  // Until every client has all its echoes: keep kWindow messages in flight each.
  int done = 0;
  bool peel_sent = false;
  Clock::time_point t_all_up{}, t_end{};
  int first_echoes = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(45);
  std::vector<char> buf(4096);
  std::vector<epoll_event> evs(256);
  while (done < kClients && Clock::now() < deadline) {
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 1000);
    for (int k = 0; k < n; ++k) {
      const int i = static_cast<int>(evs[static_cast<size_t>(k)].data.u32);
      Client& c = clients[static_cast<size_t>(i)];
      while (!c.failed) {
        iovec iov{buf.data(), buf.size()};
        int flags = 0;
        ssize_t r = sctpp_recvv(c.sd, &iov, 1, nullptr, nullptr, nullptr, nullptr, nullptr, &flags);
        if (r < 0) {
          if (errno != EAGAIN) c.failed = true;
          break;
        }
        if (flags & MSG_NOTIFICATION) continue;
        const std::string got(buf.data(), static_cast<size_t>(r));
        const bool peel_msg = i == kPeelClient && c.echoed == kPeelAt;
        if (got != message(i, c.echoed, peel_msg)) {
          ADD_FAILURE() << "client " << i << ": expected echo " << c.echoed << ", got \""
                        << got.substr(0, 40) << "\"";
          c.failed = true;
          break;
        }
        if (c.echoed == 0 && ++first_echoes == kClients) t_all_up = Clock::now();
        ++c.echoed;
        ++fig.total;
        if (c.echoed == kMessages) {
          ++done;
          if (done == kClients) t_end = Clock::now();
        }
        // Refill the window; the peel client sends PEEL and then a burst.
        while (c.sent < kMessages && c.sent - c.echoed < kWindow) {
          const bool is_peel = i == kPeelClient && c.sent == kPeelAt;
          if (send_to(c.sd, message(i, c.sent, is_peel), to) != 100) c.failed = true;
          ++c.sent;
          if (is_peel) {
            peel_sent = true;
            for (int b = 0; b < kPeelBurst && c.sent < kMessages; ++b) {
              if (send_to(c.sd, message(i, c.sent), to) != 100) c.failed = true;
              ++c.sent;
            }
          }
        }
      }
    }
  }
  // Server memory with every association still up.
  const auto [rss1, hwm1] = server_memory(server.pid);
  fig.rss1 = rss1;
  fig.hwm1 = hwm1;
  EXPECT_EQ(done, kClients) << "clients finished before the deadline";
  EXPECT_EQ(peel_sent, peel);
  for (const Client& c : clients) EXPECT_FALSE(c.failed);

  if (done == kClients) {
    fig.setup_s = std::chrono::duration<double>(t_all_up - t_setup).count();
    fig.run_s = std::chrono::duration<double>(t_end - t_setup).count();
    fig.rate = static_cast<double>(fig.total) / fig.run_s;
  }
  std::printf(
      "scale [%s]: %d associations on one server socket; all up and echoing in %.2f s; "
      "%ld messages of 100 bytes echoed in %.2f s = %.0f messages/s (round trips)\n"
      "scale [%s]: server memory: VmRSS %ld KiB before, %ld KiB with %d associations "
      "(VmHWM %ld KiB): %.1f KiB per association\n",
      name, kClients, fig.setup_s, fig.total, fig.run_s, fig.rate, name, fig.rss0, fig.rss1,
      kClients, fig.hwm1, static_cast<double>(fig.rss1 - fig.rss0) / kClients);
  if (FILE* f = std::fopen((std::string("capi_scale_") + name + ".json").c_str(), "w")) {
    std::fprintf(f,
                 "{\"server\": \"%s\", \"associations\": %d, \"messages\": %ld, "
                 "\"seconds\": %.3f, \"messages_per_s\": %.0f, \"setup_seconds\": %.3f, "
                 "\"server_rss_kib_before\": %ld, \"server_rss_kib\": %ld, "
                 "\"server_hwm_kib\": %ld}\n",
                 name, kClients, fig.total, fig.run_s, fig.rate, fig.setup_s, fig.rss0, fig.rss1,
                 fig.hwm1);
    std::fclose(f);
  }
  // Graceful shutdown of every association.
  for (Client& c : clients) sctpp_close(c.sd);
  ::close(ep);
  sctpp_finish();
  return fig;
}

TEST(OneToManyScale, ThousandAssociationsAndPeeloff) {
  Server server;
  ASSERT_TRUE(server.start({SCALE_SERVER})) << "cannot start " << SCALE_SERVER;
  Figures fig = run_clients(server, true, "c_server");
  const std::string stats = server.stop();
  std::printf("scale [c_server]: server %s", stats.c_str());
  long echoed = -1, peeled = -1, up = -1;
  ASSERT_EQ(std::sscanf(stats.c_str(), "stats echoed=%ld peeled=%ld up=%ld", &echoed, &peeled, &up),
            3)
      << stats;
  EXPECT_EQ(echoed, fig.total);
  EXPECT_EQ(peeled, 1);
  EXPECT_EQ(up, env_int("SCTPP_SCALE_CLIENTS", 1000));
}

// The same against `sctpp echo --one-to-many` (the C++ PacketSocket).
TEST(OneToManyScale, ThousandAssociationsOnTheEchoTool) {
  // A free UDP port for the tool: bind port 0, note it, let it go.
  int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(probe);
  const std::string udp = std::to_string(ntohs(a.sin_port));
  Server server;
  ASSERT_TRUE(server.start(
      {SCTPP_TOOL, "echo", "--one-to-many", "--listen", "127.0.0.1:5790", "--udp-port", udp},
      /*quiet=*/true))
      << "cannot start " << SCTPP_TOOL;
  run_clients(server, false, "sctpp_echo");
  server.stop(SIGTERM);
}

}  // namespace
