// `sctpp cat`: stdin lines out as messages, received messages out as lines.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "commands.h"
#include "sctpp/sctpp.h"

namespace sctpp::tool {
namespace {

std::string describe(const Status& st) {
  const std::string& r = st.reason();
  switch (st.code()) {
    case Errc::Aborted:
      if (r.rfind("aborted", 0) == 0) return "association " + r;
      return "association aborted: " + r;
    case Errc::ConnectionLost:
      return r.empty() ? "association lost (peer stopped answering)" : "association lost: " + r;
    case Errc::Timeout:
      return "timeout: " + r;
    default:
      return r.empty() ? errc_name(st.code()) : r;
  }
}

// Decides the exit code once, from whichever thread sees the end first.
class Finisher {
 public:
  // From now on a failure aborts `conn`, and every exit lingers (see finish()).
  void set_connection(Connection* conn) { conn_ = conn; }

  [[noreturn]] void finish(int code, const std::string& error = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    Connection* conn = conn_.load();
    // A failed cat never leaves its peer with an open association: ABORT (a no-op
    // when the association is gone already).
    if (conn && code != 0) conn->abort(error.empty() ? "sctpp cat failed" : error);
    std::fflush(stdout);
    if (!error.empty()) std::fprintf(stderr, "sctpp cat: %s\n", error.c_str());
    std::fflush(stderr);
    // The association has ended, but the peer may still send for it (a HEARTBEAT,
    // a retransmitted SHUTDOWN ACK); RFC 9260 §8.4 wants those answered (ABORT,
    // SHUTDOWN COMPLETE), which the stack does only while it runs.
    if (conn) std::this_thread::sleep_for(kLinger);
    // Other threads may be blocked reading stdin: end the process here.
    _exit(code);
  }

 private:
  static constexpr std::chrono::milliseconds kLinger{500};
  std::mutex mu_;
  std::atomic<Connection*> conn_{nullptr};
};

// How long a shutdown the peer started may take before cat aborts the association.
constexpr std::chrono::seconds kPeerShutdownLimit{30};

const char* signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

}  // namespace

int run_cat(const CatArgs& args) {
  Finisher finisher;
  std::atomic<bool> connected_once{false};
  // Before the stack's thread exists, so that only the handler's thread takes them.
  handle_termination_signals([&](int sig) {
    finisher.finish(128 + sig, std::string("interrupted by ") + signal_name(sig) +
                                   (connected_once ? ": association aborted" : ""));
  });
  StackOptions so;
  so.udp_port = args.udp_port;
  so.transport = args.transport;
  auto stack = Stack::create(so);
  if (!stack) {
    if (args.transport == Transport::Ip) finisher.finish(1, describe(stack.status()));
    finisher.finish(1, "cannot open UDP port " + std::to_string(args.udp_port) + ": " +
                           describe(stack.status()));
  }
  ConnectOptions co;
  co.init.num_ostreams = args.streams;
  co.remote_udp_port = args.remote_udp_port;
  const std::string target = format_address_list(args.connect);
  auto connected = Connection::connect(*stack, args.connect.ips, args.connect.port, co);
  if (!connected) {
    const Status& st = connected.status();
    std::string what = st.code() == Errc::NoAnswer  ? "no answer from " + target
                       : st.code() == Errc::Refused ? "connection to " + target + " refused"
                                                    : "cannot connect to " + target;
    finisher.finish(1, what + ": " + describe(st));
  }
  Connection& conn = *connected;
  finisher.set_connection(&conn);
  connected_once = true;
  if (args.stream >= conn.outbound_streams()) {
    conn.abort("stream out of range");
    finisher.finish(1, "stream " + std::to_string(args.stream) + " out of range (peer accepts " +
                           std::to_string(conn.outbound_streams()) + " streams)");
  }

  std::mutex mu;
  std::condition_variable cv;
  uint64_t received = 0;
  bool receiver_done = false;

  std::thread receiver([&] {
    while (true) {
      auto msg = conn.receive();
      if (!msg) {
        Status st = msg.status();
        {
          std::lock_guard<std::mutex> lock(mu);
          receiver_done = true;
          cv.notify_all();
        }
        if (st.code() != Errc::Closed) finisher.finish(1, describe(st));
        // The peer shut down: complete the handshake, then judge the replies.
        Status closed = conn.shutdown(kPeerShutdownLimit);
        uint64_t got;
        {
          std::lock_guard<std::mutex> lock(mu);
          got = received;
        }
        if (got < args.replies) {
          finisher.finish(1, "peer shut down the association after " + std::to_string(got) +
                                 " of " + std::to_string(args.replies) + " replies");
        }
        if (closed.code() == Errc::Timeout) {
          finisher.finish(1, "shutdown started by the peer not complete after " +
                                 std::to_string(kPeerShutdownLimit.count()) +
                                 " s: association aborted");
        }
        if (!closed && closed.code() != Errc::Closed) finisher.finish(1, describe(closed));
        finisher.finish(0);
      }
      std::fwrite(msg->data.data(), 1, msg->data.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
      std::lock_guard<std::mutex> lock(mu);
      ++received;
      cv.notify_all();
    }
  });
  receiver.detach();

  SendInfo si;
  si.stream = args.stream;
  si.ppid = args.ppid;
  si.unordered = args.unordered;
  char* line = nullptr;
  size_t cap = 0;
  bool warned_empty = false;
  while (true) {
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) break;
    if (n > 0 && line[n - 1] == '\n') --n;
    if (n == 0) {
      // SCTP cannot carry an empty message (a DATA chunk needs user data, RFC 9260
      // §3.3.1): skipped, and said once so that a missing reply does not puzzle.
      if (!warned_empty) {
        std::fprintf(stderr,
                     "sctpp cat: skipping empty line(s): SCTP cannot send an empty message\n");
        warned_empty = true;
      }
      continue;
    }
    Status st = conn.send(
        std::span<const uint8_t>(reinterpret_cast<uint8_t*>(line), static_cast<size_t>(n)), si);
    if (!st) {
      if (st.code() == Errc::Closed || st.code() == Errc::ShuttingDown) {
        // The peer is shutting down: the receiver decides how this ends.
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return receiver_done; });
        lock.unlock();
        pause();
      }
      finisher.finish(1, describe(st));
    }
  }
  std::free(line);

  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return received >= args.replies || receiver_done; });
    if (receiver_done) {
      lock.unlock();
      pause();  // the receiver is finishing the process
    }
  }
  Status st = conn.shutdown();
  if (!st) finisher.finish(1, "shutdown failed: " + describe(st));
  finisher.finish(0);
}

}  // namespace sctpp::tool
