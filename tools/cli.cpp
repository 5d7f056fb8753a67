// CLI11 setup for `sctpp echo` and `sctpp cat`, with one-line errors.
#include "cli.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>

#include "cli_checks.h"

namespace sctpp::tool {

std::optional<uint32_t> parse_u32(const std::string& text) {
  std::string_view s = text;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || v > 0xffffffffull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::string format_address_list(const AddressList& list) {
  std::string out;
  for (size_t i = 0; i < list.ips.size(); ++i) {
    if (i) out += ",";
    out += list.ips[i].is_v6() ? "[" + list.ips[i].to_string() + "]" : list.ips[i].to_string();
  }
  return out + ":" + std::to_string(list.port);
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

struct AddressError {
  std::string message;
};

AddressList address_or_throw(const std::string& flag, const std::string& text) {
  // "::1:5000" is ambiguous (an IPv6 address, or ::1 and port 5000): require brackets.
  int depth = 0, colons = 0;
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ':' && depth == 0) ++colons;
  }
  if (colons > 1) {
    throw AddressError{flag + ": IPv6 addresses need brackets, e.g. [::1]:5000 (got '" + text +
                       "')"};
  }
  std::string why;
  auto list = parse_address_list(text, &why);
  if (!list) throw AddressError{flag + ": " + why};
  return *list;
}

}  // namespace

ParseOutcome parse_command_line(int argc, char** argv) {
  CLI::App app{"sctpp: SCTP (RFC 9260) over UDP encapsulation, in userspace", "sctpp"};
  app.require_subcommand(1);
  app.fallthrough(false);

  std::string listen = "127.0.0.1:5000";
  int echo_udp = 9899;
  bool one_to_many = false, tcp = false;
  CLI::App* echo = app.add_subcommand("echo", "Echo server: sends every message back");
  echo->add_option("--listen", listen, "Addresses and SCTP port, ADDR[,ADDR...]:PORT")
      ->capture_default_str();
  echo->add_option("--udp-port", echo_udp, "Local UDP encapsulation port")
      ->check(integer_in(0, 65535))
      ->capture_default_str();
  echo->add_flag("--one-to-many", one_to_many, "Serve with a one-to-many socket");
  echo->add_flag("--tcp", tcp, "Serve TCP on the same address instead");
  std::string echo_transport = "udp";
  CLI::Option* echo_udp_opt = echo->get_option("--udp-port");
  echo->add_option("--transport", echo_transport,
                   "udp: SCTP over UDP (RFC 6951); ip: raw IP, protocol 132 (needs CAP_NET_RAW)")
      ->check(CLI::IsMember({"udp", "ip"}))
      ->capture_default_str();

  std::string connect, ppid = "0", replies = "0";
  int remote_udp = 9899, cat_udp = 0, stream = 0, streams = 10;
  bool unordered = false;
  CLI::App* cat = app.add_subcommand("cat", "Netcat for SCTP: stdin lines out, messages in");
  cat->add_option("--connect", connect, "Peer addresses and SCTP port, ADDR[,ADDR...]:PORT")
      ->required();
  cat->add_option("--remote-udp-port", remote_udp, "Peer UDP encapsulation port")
      ->check(integer_in(1, 65535))
      ->capture_default_str();
  cat->add_option("--udp-port", cat_udp, "Local UDP encapsulation port (0 = any)")
      ->check(integer_in(0, 65535))
      ->capture_default_str();
  cat->add_option("--stream", stream, "Stream to send on")
      ->check(integer_in(0, 65535))
      ->capture_default_str();
  cat->add_option("--ppid", ppid, "Payload protocol identifier (decimal or 0x hex)")
      ->capture_default_str();
  cat->add_flag("--unordered", unordered, "Send unordered messages");
  cat->add_option("--streams", streams, "Outbound streams requested")
      ->check(integer_in(1, 65535))
      ->capture_default_str();
  // Taken as text: CLI11 would turn "-1" into 2^64-1 (wait forever).
  cat->add_option("--replies", replies, "Messages to wait for after end of input")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return parse_u64(text) ? std::string()
                                   : "'" + text +
                                         "' is not a whole number (expected "
                                         "0..18446744073709551615)";
          },
          "UINT"))
      ->capture_default_str();
  std::string cat_transport = "udp";
  cat->add_option("--transport", cat_transport,
                  "udp: SCTP over UDP (RFC 6951); ip: raw IP, protocol 132 (needs CAP_NET_RAW)")
      ->check(CLI::IsMember({"udp", "ip"}))
      ->capture_default_str();

  cat->footer(
      "Exit status: 0 after a graceful shutdown with every reply received; 1 on failure (one "
      "line on\nstderr; the association is aborted if still open); 128+N (130, 143) after "
      "SIGINT or SIGTERM,\nwhich abort the association (ABORT on the wire) first.\n"
      "Empty input lines are skipped, with one warning on stderr: SCTP cannot send an empty "
      "message.");
  // `sctpp perf` parses its own flags (main.cpp sends it to run_perf_command); it is
  // here so that --help lists it.
  app.add_subcommand("perf", "Measurement tool, like iperf (see sctpp perf --help)");

  if (argc > 1 && argv[1][0] != '-' && std::string(argv[1]) != "echo" &&
      std::string(argv[1]) != "cat") {
    return ParseOutcome{std::nullopt, fail(std::string("unknown subcommand '") + argv[1] +
                                           "' (expected echo, cat or perf; see --help)")};
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return ParseOutcome{std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    return ParseOutcome{std::nullopt, fail(e.what())};
  }

  try {
    if (echo->parsed()) {
      EchoArgs a;
      a.listen = address_or_throw("--listen", listen);
      // Port 0 is not a valid SCTP port (RFC 9260 §3.1), and no peer could reach it.
      if (a.listen.port == 0)
        return ParseOutcome{std::nullopt, fail("--listen: port 0 is not valid")};
      a.udp_port = static_cast<uint16_t>(echo_udp);
      a.one_to_many = one_to_many;
      a.tcp = tcp;
      a.transport = echo_transport == "ip" ? Transport::Ip : Transport::Udp;
      if (a.transport == Transport::Ip && tcp)
        return ParseOutcome{std::nullopt, fail("--transport ip does not apply to --tcp")};
      if (a.transport == Transport::Ip && !echo_udp_opt->empty())
        return ParseOutcome{std::nullopt, fail("--udp-port does not apply to --transport ip")};
      return ParseOutcome{Command(a), 0};
    }
    CatArgs a;
    a.connect = address_or_throw("--connect", connect);
    for (const IpAddress& ip : a.connect.ips) {
      if (ip.is_any())
        return ParseOutcome{
            std::nullopt,
            fail("--connect: cannot connect to the wildcard address " + ip.to_string())};
    }
    if (a.connect.port == 0)
      return ParseOutcome{std::nullopt, fail("--connect: SCTP port 0 is not valid")};
    auto p = parse_u32(ppid);
    if (!p)
      return ParseOutcome{std::nullopt, fail("--ppid: invalid value '" + ppid +
                                             "' (expected 0..4294967295, decimal or 0x hex)")};
    a.ppid = *p;
    a.remote_udp_port = static_cast<uint16_t>(remote_udp);
    a.udp_port = static_cast<uint16_t>(cat_udp);
    a.stream = static_cast<uint16_t>(stream);
    a.unordered = unordered;
    a.streams = static_cast<uint16_t>(streams);
    a.replies = *parse_u64(replies);
    a.transport = cat_transport == "ip" ? Transport::Ip : Transport::Udp;
    if (a.transport == Transport::Ip) {
      for (const char* flag : {"--udp-port", "--remote-udp-port"}) {
        if (!cat->get_option(flag)->empty())
          return ParseOutcome{std::nullopt,
                              fail(std::string(flag) + " does not apply to --transport ip")};
      }
    }
    if (a.stream >= a.streams)
      return ParseOutcome{std::nullopt, fail("--stream: stream " + std::to_string(a.stream) +
                                             " out of range (only " + std::to_string(a.streams) +
                                             " outbound streams requested, see --streams)")};
    return ParseOutcome{Command(a), 0};
  } catch (const AddressError& e) {
    return ParseOutcome{std::nullopt, fail(e.message)};
  }
}

}  // namespace sctpp::tool
