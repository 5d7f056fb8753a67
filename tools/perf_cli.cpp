// `sctpp perf` command line (design.md §3).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli.h"
#include "cli_checks.h"
#include "perf_common.h"

namespace sctpp::tool::perf {

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::Throughput:
      return "throughput";
    case Mode::Latency:
      return "latency";
    case Mode::Connect:
      return "connect";
  }
  return "?";
}

namespace {

int fail(const std::string& message) {
  std::string line = message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  while (!line.empty() && line.back() == ' ') line.pop_back();
  std::fprintf(stderr, "sctpp: error: %s\n", line.c_str());
  return 2;
}

std::optional<AddressList> address(const std::string& flag, const std::string& text,
                                   std::string* error) {
  int depth = 0, colons = 0;
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ':' && depth == 0) ++colons;
  }
  if (colons > 1) {
    *error = flag + ": IPv6 addresses need brackets, e.g. [::1]:5000 (got '" + text + "')";
    return std::nullopt;
  }
  std::string why;
  auto list = parse_address_list(text, &why);
  if (!list) *error = flag + ": " + why;
  return list;
}

}  // namespace

std::optional<PerfArgs> parse_perf_args(int argc, char** argv, int* exit_code) {
  CLI::App app{"Measurement tool, like iperf: throughput, latency or association setup rate",
               "sctpp perf"};
  app.footer(
      "The server learns --mode, --size, --streams, --unordered, --time and --mtu from the "
      "client\n(one control message per test) and opens a data endpoint with that path MTU "
      "for each test.\nMB/s are 10^6 bytes of payload per second, measured at the receiver.");
  bool server = false, tcp = false, unordered = false, json = false;
  std::string listen = "127.0.0.1:5201", connect, mode = "throughput";
  int udp_port = -1, remote_udp = 9899, streams = 1;
  long long size = 0;
  double time = 10.0;
  int mtu = 1500;
  app.add_flag("--server", server, "Run the server (answers any number of clients)");
  auto* o_listen =
      app.add_option("--listen", listen, "Server: addresses and port, ADDR[,ADDR...]:PORT")
          ->capture_default_str();
  auto* o_connect =
      app.add_option("--connect", connect, "Client: the server's addresses and port, ADDR:PORT");
  app.add_option("--udp-port", udp_port,
                 "Local UDP encapsulation port (server default 9899, client default 0 = any)")
      ->check(integer_in(0, 65535));
  auto* o_rudp =
      app.add_option("--remote-udp-port", remote_udp, "Client: the server's UDP encapsulation port")
          ->check(integer_in(1, 65535))
          ->capture_default_str();
  auto* o_mode = app.add_option("--mode", mode, "Client: throughput, latency or connect")
                     ->check(CLI::IsMember({"throughput", "latency", "connect"}))
                     ->capture_default_str();
  auto* o_size = app.add_option("--size", size,
                                "Client: message size in bytes (default 1024 for throughput, "
                                "64 for latency)")
                     ->check(integer_in(1, 4LL * 1024 * 1024));
  auto* o_streams =
      app.add_option("--streams", streams, "Client: streams used round-robin (SCTP only)")
          ->check(integer_in(1, 65535))
          ->capture_default_str();
  auto* o_unordered = app.add_flag("--unordered", unordered, "Client: send unordered (SCTP only)");
  auto* o_time = app.add_option("--time", time, "Client: seconds to run")
                     ->check(real_in(0.1, 86400.0, "0.1..86400"))
                     ->capture_default_str();
  auto* o_mtu = app.add_option("--mtu", mtu,
                               "Client: path MTU (IP packet size) both ends use; with --tcp "
                               "it sets TCP_MAXSEG to MTU-40")
                    ->check(integer_in(576, 65535))
                    ->capture_default_str();
  auto* o_json = app.add_flag("--json", json, "Client: print one JSON object, no interval reports");
  app.add_flag("--tcp", tcp, "Run the same workloads over TCP (both ends)");

  try {
    app.parse(argc - 1, argv + 1);
  } catch (const CLI::Success& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    *exit_code = fail(e.what());
    return std::nullopt;
  }

  PerfArgs a;
  std::string err;
  if (server == !o_connect->empty()) {
    *exit_code = fail(server ? "--server and --connect exclude each other"
                             : "give --server or --connect ADDR:PORT (see --help)");
    return std::nullopt;
  }
  a.server = server;
  a.tcp = tcp;
  if (server) {
    for (CLI::Option* o : {o_rudp, o_mode, o_size, o_streams, o_unordered, o_time, o_mtu, o_json}) {
      if (!o->empty()) {
        *exit_code = fail(o->get_name() + " applies to the client (--connect) only");
        return std::nullopt;
      }
    }
    auto l = address("--listen", listen, &err);
    if (!l) {
      *exit_code = fail(err);
      return std::nullopt;
    }
    if (l->port == 0) {
      *exit_code = fail("--listen: port 0 is not valid");
      return std::nullopt;
    }
    a.listen = *l;
    a.udp_port = static_cast<uint16_t>(udp_port < 0 ? 9899 : udp_port);
    return a;
  }
  if (!o_listen->empty()) {
    *exit_code = fail("--listen applies to the server (--server) only");
    return std::nullopt;
  }
  auto c = address("--connect", connect, &err);
  if (!c) {
    *exit_code = fail(err);
    return std::nullopt;
  }
  for (const IpAddress& ip : c->ips) {
    if (ip.is_any()) {
      *exit_code = fail("--connect: cannot connect to the wildcard address " + ip.to_string());
      return std::nullopt;
    }
  }
  if (c->port == 0) {
    *exit_code = fail("--connect: SCTP port 0 is not valid");
    return std::nullopt;
  }
  a.connect = *c;
  a.udp_port = static_cast<uint16_t>(udp_port < 0 ? 0 : udp_port);
  a.remote_udp_port = static_cast<uint16_t>(remote_udp);
  a.mode = mode == "latency" ? Mode::Latency : mode == "connect" ? Mode::Connect : Mode::Throughput;
  a.size = size > 0 ? static_cast<uint32_t>(size) : (a.mode == Mode::Latency ? 64u : 1024u);
  a.streams = static_cast<uint16_t>(streams);
  a.unordered = unordered;
  a.time = time;
  a.mtu = static_cast<uint32_t>(mtu);
  a.json = json;
  if (tcp && (a.streams != 1 || a.unordered)) {
    *exit_code = fail(std::string(a.unordered ? "--unordered" : "--streams") +
                      " does not apply to --tcp (TCP has one ordered byte stream)");
    return std::nullopt;
  }
  return a;
}

}  // namespace sctpp::tool::perf
