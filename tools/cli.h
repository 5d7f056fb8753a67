// Command-line parsing of the sctpp tool (design.md §3): flags into plain structs,
// errors as one line and exit code 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "sctpp/address.h"
#include "sctpp/stack.h"

namespace sctpp::tool {

struct EchoArgs {
  AddressList listen;
  uint16_t udp_port = 9899;
  bool one_to_many = false;
  bool tcp = false;
  Transport transport = Transport::Udp;  // --transport udp|ip
};

struct CatArgs {
  AddressList connect;
  uint16_t remote_udp_port = 9899;
  uint16_t udp_port = 0;
  uint16_t stream = 0;
  uint32_t ppid = 0;
  bool unordered = false;
  uint16_t streams = 10;
  uint64_t replies = 0;
  Transport transport = Transport::Udp;  // --transport udp|ip
};

using Command = std::variant<EchoArgs, CatArgs>;

// Either a command to run, or an exit code (0 after --help, 2 after an error, whose
// one-line message has been printed to stderr).
struct ParseOutcome {
  std::optional<Command> command;
  int exit_code = 0;
};

ParseOutcome parse_command_line(int argc, char** argv);

// "1234" or "0x4d2" (0..2^32-1).
std::optional<uint32_t> parse_u32(const std::string& text);

// "10.0.0.1,10.1.0.1:5000" / "[::1]:5000" for messages.
std::string format_address_list(const AddressList& list);

}  // namespace sctpp::tool
