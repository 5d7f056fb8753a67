// The sctpp command-line contract (design.md §3), exercised on the real binary.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "child_process.h"
#include "sctpp/sctpp.h"

namespace sctpp::test {
namespace {

using namespace std::chrono_literals;

const std::string kBin = SCTPP_BINARY;

size_t count_lines(const std::string& s) {
  return std::count(s.begin(), s.end(), '\n');
}

// The command failed as a usage error: exit 2 and exactly one line on stderr.
void expect_usage_error(const std::vector<std::string>& args, const std::string& mention = {}) {
  std::vector<std::string> argv{kBin};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  std::string joined;
  for (auto& a : args) joined += a + " ";
  EXPECT_EQ(r.code, 2) << joined << "\nstderr: " << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << joined << "\nstderr: " << r.err;
  EXPECT_EQ(r.err.rfind("sctpp: error: ", 0), 0u) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  if (!mention.empty()) {
    EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
  }
}

// A running `sctpp echo` with its UDP port read from the `listening` line.
class EchoServer {
 public:
  explicit EchoServer(std::vector<std::string> extra = {}, std::string listen = "127.0.0.1:5000")
      : listen_(listen) {
    std::vector<std::string> argv{kBin, "echo", "--listen", listen, "--udp-port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<ChildProcess>(argv);
    auto line = proc_->read_line(10s);
    if (!line) return;
    first_line_ = *line;
    std::smatch m;
    if (std::regex_search(*line, m, std::regex("udp ([0-9]+)"))) udp_port_ = std::stoi(m[1]);
  }
  const std::string& first_line() const { return first_line_; }
  std::string udp_port() const { return std::to_string(udp_port_); }
  ChildProcess& proc() { return *proc_; }
  int stop() {
    proc_->signal(SIGTERM);
    return proc_->wait(20s).value_or(-1);
  }

 private:
  std::string listen_;
  std::unique_ptr<ChildProcess> proc_;
  std::string first_line_;
  int udp_port_ = 0;
};

TEST(Cli, HelpExitsZero) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--help"}, {"-h"}, {"echo", "--help"}, {"cat", "-h"}}) {
    args.insert(args.begin(), kBin);
    RunResult r = run(args);
    EXPECT_EQ(r.code, 0) << args[1];
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
  }
  RunResult r = run({kBin, "cat", "--help"});
  for (const char* flag : {"--connect", "--remote-udp-port", "--udp-port", "--stream", "--ppid",
                           "--unordered", "--streams", "--replies"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
  r = run({kBin, "echo", "--help"});
  for (const char* flag : {"--listen", "--udp-port", "--one-to-many", "--tcp"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
  // The top-level help names every subcommand of the contract.
  r = run({kBin, "--help"});
  for (const char* sub : {"echo", "cat", "perf"}) {
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub << " in\n" << r.out;
  }
}

TEST(Cli, UsageErrorsAreOneLineAndExitTwo) {
  expect_usage_error({}, "subcommand");
  expect_usage_error({"frobnicate"}, "frobnicate");
  expect_usage_error({"frobnicate"}, "echo, cat or perf");
  expect_usage_error({"echo", "--bogus"}, "--bogus");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--nope"}, "--nope");
  expect_usage_error({"cat"}, "--connect");
  expect_usage_error({"echo", "--udp-port", "70000"}, "--udp-port");
  expect_usage_error({"echo", "--udp-port", "abc"}, "--udp-port: 'abc' is not a number");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--streams", "x"}, "not a number");
  // CLI11 alone reads "-1" as 2^64-1 for an unsigned flag: cat would wait forever.
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--replies", "-1"}, "--replies");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--replies", "18446744073709551616"},
                     "--replies");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--replies", "1x"}, "--replies");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--ppid", "0xzz"}, "--ppid");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--ppid", "4294967296"}, "--ppid");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--streams", "0"}, "--streams");
  expect_usage_error({"cat", "--connect", "127.0.0.1:5000", "--stream", "10"}, "--stream");
}

TEST(Cli, MalformedAddressesAreOneLineAndExitTwo) {
  expect_usage_error({"echo", "--listen", "x:5000"}, "invalid IP address 'x'");
  expect_usage_error({"echo", "--listen", "127.0.0.1"}, "--listen");
  expect_usage_error({"echo", "--listen", "127.0.0.1:99999"}, "--listen");
  expect_usage_error({"echo", "--listen", "127.0.0.1,:5000"}, "--listen");
  // SCTP port 0 is not valid (RFC 9260 §3.1); cat and perf already said so.
  expect_usage_error({"echo", "--listen", "127.0.0.1:0"}, "--listen");
  expect_usage_error({"cat", "--connect", "::1:5000"}, "--connect");
  expect_usage_error({"cat", "--connect", "[::1:5000"}, "--connect");
  expect_usage_error({"cat", "--connect", "300.1.1.1:5000"}, "--connect");
  expect_usage_error({"cat", "--connect", "0.0.0.0:5000"}, "--connect");
  expect_usage_error({"cat", "--connect", "127.0.0.1:0"}, "--connect");
}

TEST(Cli, EchoAcceptsBracketedIpv6AndStopsOnSigterm) {
  EchoServer server({}, "[::1]:5000");
  EXPECT_EQ(server.first_line().rfind("listening", 0), 0u) << server.first_line();
  EXPECT_NE(server.first_line().find("[::1]:5000"), std::string::npos);
  EXPECT_EQ(server.stop(), 0) << server.proc().err();
}

// timeout(1) signals the child and then its process group: the same SIGINT arrives
// twice within microseconds. That is one request to stop, so the echo still shuts its
// associations down gracefully (the peer sees Closed, not silence) and exits 0.
TEST(Cli, EchoSignalDeliveredTwiceAtOnceStillShutsDownGracefully) {
  for (bool one_to_many : {false, true}) {
    SCOPED_TRACE(one_to_many ? "--one-to-many" : "one-to-one");
    EchoServer echo(one_to_many ? std::vector<std::string>{"--one-to-many"}
                                : std::vector<std::string>{});
    ASSERT_FALSE(echo.first_line().empty()) << echo.proc().err();
    StackOptions so;
    so.udp_port = 0;
    auto stack = Stack::create(so);
    ASSERT_TRUE(stack.ok());
    ConnectOptions co;
    co.remote_udp_port = static_cast<uint16_t>(std::stoi(echo.udp_port()));
    auto conn = Connection::connect(
        *stack, SocketAddress{IpAddress::loopback(IpAddress::Family::V4), 5000}, co, 10s);
    ASSERT_TRUE(conn.ok()) << conn.status().reason();
    ASSERT_TRUE(conn->send("ping").ok());
    auto m = conn->receive(10s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    echo.proc().signal(SIGINT);
    // Late enough for the first one to have been taken (pending signals merge).
    std::this_thread::sleep_for(20ms);
    echo.proc().signal(SIGINT);
    auto end = conn->receive(5s);
    ASSERT_FALSE(end.ok());
    EXPECT_EQ(end.status().code(), Errc::Closed) << end.status().reason();
    EXPECT_EQ(echo.proc().wait(10s).value_or(-1), 0) << echo.proc().err();
  }
}

TEST(Cli, EchoAcceptsAddressListAndOneToMany) {
  EchoServer server({"--one-to-many"}, "127.0.0.1,127.0.0.2:5001");
  EXPECT_EQ(server.first_line().rfind("listening", 0), 0u) << server.proc().err();
  EXPECT_EQ(server.stop(), 0);
}

TEST(Cli, CatThroughEchoServer) {
  EchoServer server;
  ASSERT_EQ(server.first_line().rfind("listening", 0), 0u) << server.proc().err();
  std::string input;
  for (int i = 0; i < 50; ++i) input += "line " + std::to_string(i) + "\n";
  input += std::string(300 * 1024, 'L') + "\n";  // one 300 KiB message
  input += "last";                               // no newline at the end
  RunResult r = run({kBin, "cat", "--connect", "127.0.0.1:5000", "--remote-udp-port",
                     server.udp_port(), "--replies", "52"},
                    input);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, input + "\n");
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.proc().err().find("association"), std::string::npos);
}

TEST(Cli, CatWithStreamPpidUnorderedIpv6) {
  EchoServer server({}, "[::1]:5000");
  ASSERT_EQ(server.first_line().rfind("listening", 0), 0u) << server.proc().err();
  RunResult r =
      run({kBin, "cat", "--connect", "[::1]:5000", "--remote-udp-port", server.udp_port(),
           "--stream", "7", "--streams", "8", "--ppid", "0x33", "--unordered", "--replies", "2"},
          "a\nb\n");
  EXPECT_EQ(r.code, 0) << r.err;
  // Unordered: both lines come back, in either order.
  EXPECT_TRUE(r.out == "a\nb\n" || r.out == "b\na\n") << r.out;
  EXPECT_EQ(server.stop(), 0);
}

TEST(Cli, CatSkipsEmptyLinesWithOneWarning) {
  EchoServer server;
  ASSERT_EQ(server.first_line().rfind("listening", 0), 0u) << server.proc().err();
  RunResult r = run({kBin, "cat", "--connect", "127.0.0.1:5000", "--remote-udp-port",
                     server.udp_port(), "--replies", "2"},
                    "a\n\n\nb\n\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "a\nb\n");
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(run({kBin, "cat", "--help"}).out.find("mpty"), std::string::npos);
}

// A stack of our own on 127.0.0.1 (any UDP port) for the tool under test to talk to.
Result<Stack> loopback_stack() {
  StackOptions so;
  so.udp_port = 0;
  so.local_addresses = {IpAddress::loopback(IpAddress::Family::V4)};
  return Stack::create(so);
}

// SIGINT or SIGTERM must not leave the peer with an open association: cat sends ABORT
// (the peer sees Aborted at once) and exits 128 + the signal, with one line saying so.
TEST(Cli, CatAbortsItsAssociationOnSignal) {
  for (int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
    auto stack = loopback_stack();
    ASSERT_TRUE(stack.ok());
    auto listener = Listener::bind(*stack, stack->options().local_addresses, 5000);
    ASSERT_TRUE(listener.ok());
    ChildProcess cat({kBin, "cat", "--connect", "127.0.0.1:5000", "--remote-udp-port",
                      std::to_string(stack->udp_port())});
    auto conn = listener->accept(10s);
    ASSERT_TRUE(conn.ok()) << conn.status().reason();
    cat.write_stdin("hello\n");
    auto m = conn->receive(10s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    cat.signal(sig);
    auto end = conn->receive(3s);
    ASSERT_FALSE(end.ok());
    EXPECT_EQ(end.status().code(), Errc::Aborted) << end.status().reason();
    EXPECT_EQ(cat.wait(10s).value_or(-1), 128 + sig);
    EXPECT_EQ(count_lines(cat.err()), 1u) << cat.err();
    EXPECT_NE(cat.err().find("interrupted"), std::string::npos) << cat.err();
  }
}

TEST(Cli, CatRefusedWhenNobodyListens) {
  EchoServer server;
  ASSERT_FALSE(server.first_line().empty());
  RunResult r =
      run({kBin, "cat", "--connect", "127.0.0.1:5999", "--remote-udp-port", server.udp_port()},
          "x\n", 10s);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
  EXPECT_EQ(server.stop(), 0);
}

TEST(Cli, CatExitsZeroWhenServerStopsGracefully) {
  EchoServer server;
  ASSERT_FALSE(server.first_line().empty());
  ChildProcess cat(
      {kBin, "cat", "--connect", "127.0.0.1:5000", "--remote-udp-port", server.udp_port()});
  cat.write_stdin("ping\n");
  EXPECT_EQ(cat.read_line(10s).value_or(""), "ping");
  EXPECT_EQ(server.stop(), 0);
  // stdin stays open: the peer's shutdown ends cat.
  EXPECT_EQ(cat.wait(10s).value_or(-1), 0) << cat.err();
}

TEST(Cli, CatFailsWhenPeerClosesBeforeTheReplies) {
  EchoServer server;
  ASSERT_FALSE(server.first_line().empty());
  ChildProcess cat({kBin, "cat", "--connect", "127.0.0.1:5000", "--remote-udp-port",
                    server.udp_port(), "--replies", "5"});
  cat.write_stdin("one\n");
  EXPECT_EQ(cat.read_line(10s).value_or(""), "one");
  cat.close_stdin();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(server.stop(), 0);
  EXPECT_EQ(cat.wait(10s).value_or(-1), 1);
  EXPECT_EQ(count_lines(cat.err()), 1u) << cat.err();
  EXPECT_NE(cat.err().find("1 of 5"), std::string::npos) << cat.err();
}

TEST(Cli, CatReportsAbortByPeer) {
  auto stack = loopback_stack();
  ASSERT_TRUE(stack.ok());
  auto listener = Listener::bind(*stack, stack->options().local_addresses, 5000);
  ASSERT_TRUE(listener.ok());
  std::thread aborter([&] {
    auto conn = listener->accept(10s);
    ASSERT_TRUE(conn.ok());
    auto m = conn->receive(10s);
    ASSERT_TRUE(m.ok());
    conn->abort("test says bye");
  });
  ChildProcess cat({kBin, "cat", "--connect", "127.0.0.1:5000", "--remote-udp-port",
                    std::to_string(stack->udp_port())});
  cat.write_stdin("hello\n");
  auto code = cat.wait(10s);
  aborter.join();
  EXPECT_EQ(code.value_or(-1), 1);
  EXPECT_EQ(count_lines(cat.err()), 1u) << cat.err();
  EXPECT_NE(cat.err().find("abort"), std::string::npos) << cat.err();
  EXPECT_NE(cat.err().find("test says bye"), std::string::npos) << cat.err();
}

// A peer that accepts fewer inbound streams than it sends on: the echo cannot answer
// on that stream. Both server styles say so on stderr and keep the association (and
// its other streams) going.
TEST(Cli, EchoReportsAMessageItCannotAnswerOnItsStreamAndGoesOn) {
  for (bool one_to_many : {false, true}) {
    SCOPED_TRACE(one_to_many ? "--one-to-many" : "one-to-one");
    EchoServer echo(one_to_many ? std::vector<std::string>{"--one-to-many"}
                                : std::vector<std::string>{});
    ASSERT_FALSE(echo.first_line().empty());
    StackOptions so;
    so.udp_port = 0;
    auto stack = Stack::create(so);
    ASSERT_TRUE(stack.ok());
    ConnectOptions co;
    co.remote_udp_port = static_cast<uint16_t>(std::stoi(echo.udp_port()));
    co.init.num_ostreams = 10;
    co.init.max_instreams = 2;
    auto conn = Connection::connect(
        *stack, SocketAddress{IpAddress::loopback(IpAddress::Family::V4), 5000}, co, 10s);
    ASSERT_TRUE(conn.ok()) << conn.status().reason();
    SendInfo far, near;
    far.stream = 5;
    near.stream = 1;
    ASSERT_TRUE(conn->send("on stream 5", far).ok());
    ASSERT_TRUE(conn->send("on stream 1", near).ok());
    auto m = conn->receive(10s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    EXPECT_EQ(std::string(m->data.begin(), m->data.end()), "on stream 1");
    EXPECT_EQ(m->info.stream, 1);
    EXPECT_TRUE(conn->shutdown(10s).ok());
    EXPECT_EQ(echo.stop(), 0);
    EXPECT_NE(echo.proc().err().find("message not echoed"), std::string::npos) << echo.proc().err();
  }
}

TEST(Cli, CatNoAnswer) {
  // Nobody answers on this UDP port; the default INIT schedule is long, so only
  // check that cat is still trying (then kill it) rather than failing early.
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  socklen_t len = sizeof sin;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  ChildProcess cat({kBin, "cat", "--connect", "127.0.0.1:5000", "--remote-udp-port",
                    std::to_string(ntohs(sin.sin_port))});
  EXPECT_FALSE(cat.wait(500ms).has_value());
  cat.signal(SIGKILL);
  close(fd);
}

TEST(Cli, TcpEcho) {
  // A TCP port that is free right now.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  socklen_t len = sizeof sin;
  getsockname(probe, reinterpret_cast<sockaddr*>(&sin), &len);
  close(probe);
  const int port = ntohs(sin.sin_port);
  EchoServer tcp({"--tcp"}, "127.0.0.1:" + std::to_string(port));
  ASSERT_EQ(tcp.first_line().rfind("listening", 0), 0u) << tcp.proc().err();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  std::string msg(100000, 't');
  ASSERT_EQ(send(fd, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
  std::string got;
  char buf[65536];
  while (got.size() < msg.size()) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, msg);
  EXPECT_EQ(tcp.stop(), 0);
  close(fd);
}

}  // namespace
}  // namespace sctpp::test
