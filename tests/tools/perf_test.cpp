// `sctpp perf` (design.md §3): the CLI contract and short real runs on loopback with
// --json parsed and sanity-checked. Figures are never asserted (design.md §5), only
// that every mode measures something and the receiver found no error.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <thread>

#include "child_process.h"

namespace sctpp::test {
namespace {

using namespace std::chrono_literals;

const std::string kBin = SCTPP_BINARY;

size_t count_lines(const std::string& s) {
  return std::count(s.begin(), s.end(), '\n');
}

void expect_usage_error(std::vector<std::string> args, const std::string& mention) {
  args.insert(args.begin(), {kBin, "perf"});
  RunResult r = run(args);
  std::string joined;
  for (auto& a : args) joined += a + " ";
  EXPECT_EQ(r.code, 2) << joined << "\nstderr: " << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << joined << "\nstderr: " << r.err;
  EXPECT_EQ(r.err.rfind("sctpp: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(mention), std::string::npos) << joined << "\nstderr: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// One flat JSON object: key -> raw value text ("null", "12.5", "\"sctp\"", "true").
std::optional<std::map<std::string, std::string>> parse_flat_json(const std::string& text) {
  std::string s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
  if (std::count(s.begin(), s.end(), '{') != 1) return std::nullopt;
  std::map<std::string, std::string> out;
  std::regex kv("\"([a-z0-9_]+)\":(null|true|false|-?[0-9.]+(?:e[-+]?[0-9]+)?|\"[^\"]*\")");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kv); it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = (*it)[2];
  return out;
}

double num(const std::map<std::string, std::string>& j, const std::string& key) {
  auto it = j.find(key);
  if (it == j.end() || it->second == "null") return -1;
  return std::stod(it->second);
}

class PerfServer {
 public:
  // `addresses`: the address part of --listen ("127.0.0.1,[::1]").
  explicit PerfServer(bool tcp, const std::string& addresses = "127.0.0.1") {
    // The tool takes no port 0, and a port picked from the pid may be in use (another
    // test's connection took it as its ephemeral port): the next ones are tried.
    for (int attempt = 0; attempt < 8; ++attempt) {
      port_ = std::to_string(20000 + (getpid() + 97 * attempt) % 20000 + (tcp ? 1 : 0));
      std::vector<std::string> argv{kBin, "perf", "--server", "--listen", addresses + ":" + port_};
      if (tcp)
        argv.push_back("--tcp");
      else
        argv.insert(argv.end(), {"--udp-port", "0"});
      proc_ = std::make_unique<ChildProcess>(argv);
      line_ = proc_->read_line(10s).value_or("");
      if (line_.rfind("listening", 0) == 0) break;
    }
    std::smatch m;
    if (std::regex_search(line_, m, std::regex("udp ([0-9]+)"))) udp_ = m[1];
  }
  const std::string& line() const { return line_; }
  std::vector<std::string> client(std::vector<std::string> extra,
                                  const std::string& address = "127.0.0.1") const {
    std::vector<std::string> argv{kBin, "perf", "--connect", address + ":" + port_};
    if (!udp_.empty())
      argv.insert(argv.end(), {"--remote-udp-port", udp_});
    else
      argv.push_back("--tcp");
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  int stop() {
    proc_->signal(SIGTERM);
    return proc_->wait(20s).value_or(-1);
  }
  std::string err() { return proc_->err(); }

 private:
  std::string port_, udp_, line_;
  std::unique_ptr<ChildProcess> proc_;
};

std::map<std::string, std::string> run_json(PerfServer& s, std::vector<std::string> extra,
                                            const std::string& address = "127.0.0.1") {
  extra.insert(extra.end(), {"--time", "1", "--json"});
  RunResult r = run(s.client(extra, address), {}, 60s);
  if (r.code != 0) {
    // The receiver's own account of what went wrong is in the server's log, which it
    // writes just after answering the client.
    std::this_thread::sleep_for(300ms);
    ADD_FAILURE() << "client exited " << r.code << ": " << r.err << "server log:\n" << s.err();
  }
  EXPECT_EQ(count_lines(r.out), 1u) << r.out;
  auto j = parse_flat_json(r.out);
  EXPECT_TRUE(j.has_value()) << r.out;
  if (!j) return {};
  for (const char* key : {"mode", "size", "streams", "messages", "bytes", "seconds", "mbytes_per_s",
                          "rtt_p50_us", "rtt_p99_us", "assoc_per_s"}) {
    EXPECT_TRUE(j->count(key)) << key << " missing in " << r.out;
  }
  EXPECT_EQ(num(*j, "errors"), 0) << r.out;
  return *j;
}

void check_throughput(const std::map<std::string, std::string>& j, double size) {
  EXPECT_EQ(j.at("mode"), "\"throughput\"");
  EXPECT_EQ(num(j, "size"), size);
  EXPECT_GT(num(j, "messages"), 0);
  EXPECT_EQ(num(j, "bytes"), num(j, "messages") * size);
  EXPECT_GT(num(j, "seconds"), 0.5);
  EXPECT_LT(num(j, "seconds"), 10);
  EXPECT_NEAR(num(j, "mbytes_per_s"), num(j, "bytes") / num(j, "seconds") / 1e6,
              num(j, "mbytes_per_s") * 0.01 + 0.01);
  EXPECT_EQ(j.at("rtt_p50_us"), "null");
  EXPECT_EQ(j.at("assoc_per_s"), "null");
}

void check_latency(const std::map<std::string, std::string>& j) {
  EXPECT_EQ(j.at("mode"), "\"latency\"");
  EXPECT_GT(num(j, "messages"), 10);
  EXPECT_GT(num(j, "rtt_p50_us"), 0);
  EXPECT_GE(num(j, "rtt_p99_us"), num(j, "rtt_p50_us"));
  EXPECT_EQ(j.at("mbytes_per_s"), "null");
  EXPECT_EQ(j.at("assoc_per_s"), "null");
}

void check_connect(const std::map<std::string, std::string>& j) {
  EXPECT_EQ(j.at("mode"), "\"connect\"");
  EXPECT_GT(num(j, "sent"), 1);
  EXPECT_GT(num(j, "assoc_per_s"), 1);
  // No messages in this mode: the message fields do not apply (contract: null).
  for (const char* key : {"size", "streams", "messages", "bytes"})
    EXPECT_EQ(j.at(key), "null") << key;
  EXPECT_EQ(j.at("mbytes_per_s"), "null");
  EXPECT_EQ(j.at("rtt_p50_us"), "null");
}

TEST(PerfCli, Help) {
  for (const char* h : {"--help", "-h"}) {
    RunResult r = run({kBin, "perf", h});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.out;
    for (const char* flag :
         {"--server", "--listen", "--udp-port", "--connect", "--remote-udp-port", "--mode",
          "--size", "--streams", "--unordered", "--time", "--mtu", "--json", "--tcp"}) {
      EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
    }
  }
}

TEST(PerfCli, UsageErrorsAreOneLineAndExitTwo) {
  expect_usage_error({}, "--connect");
  expect_usage_error({"--bogus"}, "--bogus");
  expect_usage_error({"--server", "--connect", "127.0.0.1:5201"}, "--connect");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--mode", "fast"}, "--mode");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--size", "0"}, "--size");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--size", "abc"}, "--size");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--streams", "0"}, "--streams");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--time", "0"}, "--time");
  // Every comparison with NaN is false: a plain range check lets it through.
  expect_usage_error({"--connect", "127.0.0.1:5201", "--time", "nan"},
                     "--time: 'nan' is not a number");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--time", "inf"}, "--time");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--time", "1s"}, "--time");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--udp-port", "abc"},
                     "--udp-port: 'abc' is not a number");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--mtu", "100"}, "--mtu");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--mtu", "70000"}, "--mtu");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--udp-port", "70000"}, "--udp-port");
  expect_usage_error({"--server", "--mode", "latency"}, "--mode");
  expect_usage_error({"--connect", "127.0.0.1:5201", "--listen", "127.0.0.1:1"}, "--listen");
  expect_usage_error({"--tcp", "--connect", "127.0.0.1:5201", "--streams", "4"}, "--streams");
}

TEST(PerfCli, MalformedAddressesAreOneLineAndExitTwo) {
  expect_usage_error({"--connect", "::1:5201"}, "brackets");
  expect_usage_error({"--connect", "x:5201"}, "--connect");
  expect_usage_error({"--connect", "127.0.0.1"}, "--connect");
  expect_usage_error({"--connect", "127.0.0.1:0"}, "--connect");
  expect_usage_error({"--connect", "0.0.0.0:5201"}, "--connect");
  expect_usage_error({"--server", "--listen", "300.1.1.1:5201"}, "--listen");
}

TEST(PerfRun, SctpThroughputLatencyConnect) {
  PerfServer server(false);
  ASSERT_EQ(server.line().rfind("listening", 0), 0u) << server.err();
  check_throughput(run_json(server, {"--mode", "throughput", "--size", "1024"}), 1024);
  // Many streams, unordered, messages larger than the path MTU, a path MTU of 9000.
  auto j = run_json(server, {"--size", "20000", "--streams", "4", "--unordered", "--mtu", "9000"});
  check_throughput(j, 20000);
  EXPECT_EQ(num(j, "streams"), 4);
  EXPECT_EQ(num(j, "mtu"), 9000);
  check_latency(run_json(server, {"--mode", "latency"}));
  check_connect(run_json(server, {"--mode", "connect"}));
  EXPECT_EQ(server.stop(), 0);
}

TEST(PerfRun, TcpThroughputLatencyConnect) {
  PerfServer server(true);
  ASSERT_EQ(server.line().rfind("listening", 0), 0u) << server.err();
  auto j = run_json(server, {"--size", "16384"});
  check_throughput(j, 16384);
  EXPECT_EQ(j.at("transport"), "\"tcp\"");
  check_latency(run_json(server, {"--mode", "latency"}));
  check_connect(run_json(server, {"--mode", "connect"}));
  EXPECT_EQ(server.stop(), 0);
}

TEST(PerfRun, IntervalReportsAndSummaryWithoutJson) {
  PerfServer server(false);
  ASSERT_EQ(server.line().rfind("listening", 0), 0u) << server.err();
  RunResult r = run(server.client({"--time", "2.5", "--size", "512"}), {}, 60s);
  EXPECT_EQ(r.code, 0) << r.err;
  std::regex interval(R"(\[\s*0\.00-\s*1\.0\d s\].*MB/s)");
  EXPECT_TRUE(std::regex_search(r.out, interval)) << r.out;
  EXPECT_NE(r.out.find("[  1.0"), std::string::npos) << r.out;
  // The partial last interval is reported too, as iperf3 does.
  std::regex last(R"(\[\s*2\.0\d-\s*2\.5\d s\].*MB/s)");
  EXPECT_TRUE(std::regex_search(r.out, last)) << r.out;
  EXPECT_NE(r.out.find("receiver:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0 errors"), std::string::npos) << r.out;
  EXPECT_EQ(server.stop(), 0);
}

// A connect run has no messages: its header says what it measures, not a message size.
TEST(PerfRun, ConnectHeaderWithoutMessages) {
  PerfServer server(false);
  ASSERT_EQ(server.line().rfind("listening", 0), 0u) << server.err();
  RunResult r = run(server.client({"--mode", "connect", "--time", "0.5"}), {}, 60s);
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string header = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(header.find("byte messages"), std::string::npos) << header;
  EXPECT_EQ(header.find("stream"), std::string::npos) << header;
  EXPECT_NE(header.find("setups"), std::string::npos) << header;
  EXPECT_EQ(server.stop(), 0);
}

// The TCP server opens each test's data listener where the client's control connection
// arrived: with IPv4 and IPv6 listen addresses, a client on the second one works.
TEST(PerfRun, TcpServerOnTwoFamiliesServesEither) {
  PerfServer server(true, "127.0.0.1,[::1]");
  ASSERT_EQ(server.line().rfind("listening", 0), 0u) << server.err();
  check_throughput(run_json(server, {"--size", "4096"}, "[::1]"), 4096);
  check_latency(run_json(server, {"--mode", "latency"}, "[::1]"));
  check_throughput(run_json(server, {"--size", "4096"}, "127.0.0.1"), 4096);
  // A client that dies during a test: the server says why the test ended, not "()".
  ChildProcess client(server.client({"--mode", "connect", "--time", "5"}, "[::1]"));
  EXPECT_TRUE(client.read_line(10s).has_value());  // the header: the test runs
  std::this_thread::sleep_for(300ms);
  client.signal(SIGKILL);
  client.wait(5s);
  std::this_thread::sleep_for(500ms);
  EXPECT_NE(server.err().find("closed the control channel"), std::string::npos) << server.err();
  EXPECT_EQ(server.err().find("(first: )"), std::string::npos) << server.err();
  EXPECT_EQ(server.stop(), 0);
}

TEST(PerfRun, NoServerIsAOneLineError) {
  RunResult r = run(
      {kBin, "perf", "--connect", "127.0.0.1:9", "--remote-udp-port", "9", "--time", "1"}, {}, 60s);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:9"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sctpp::test
