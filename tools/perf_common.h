// Shared pieces of `sctpp perf`: the arguments, the control protocol between client
// and server, the payload pattern every receiver checks (pattern.h), and the two
// transports (SCTP over sctpp::Connection, TCP over a stream socket) behind one
// interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pattern.h"
#include "sctpp/address.h"

namespace sctpp::tool::perf {

enum class Mode : uint32_t { Throughput = 1, Latency = 2, Connect = 3 };
const char* mode_name(Mode m);

struct PerfArgs {
  bool server = false;
  bool tcp = false;
  // server
  AddressList listen;
  uint16_t udp_port = 9899;
  // client
  AddressList connect;
  uint16_t remote_udp_port = 9899;
  Mode mode = Mode::Throughput;
  uint32_t size = 0;  // 0: the mode's default
  uint16_t streams = 1;
  bool unordered = false;
  double time = 10.0;
  uint32_t mtu = 1500;
  bool json = false;
};

// Parses `sctpp perf ...` (argv[1] == "perf"); nullopt with *exit_code set (0 after
// --help, 2 after a one-line error on stderr).
std::optional<PerfArgs> parse_perf_args(int argc, char** argv, int* exit_code);

int run_perf_server(const PerfArgs& args);
int run_perf_client(const PerfArgs& args);

// ---- control protocol --------------------------------------------------------------
// The client opens a control channel (an SCTP association to the server's listener,
// or a TCP connection), sends Hello with the test parameters (mode, size, streams,
// unordered, time, path MTU); the server opens a data endpoint for this test (a new
// sctpp Stack with Tuning::path_mtu = the client's --mtu on an ephemeral UDP port, or
// an ephemeral TCP listener with TCP_MAXSEG = mtu - 40) and answers Ready with its
// port. The test runs on data associations/connections; then the client sends Done
// (what it sent) and the server answers Result (what it received and checked).
constexpr uint32_t kMagic = 0x46525053;        // "SPRF"
constexpr uint32_t kControlPpid = 0x70657266;  // "perf"
constexpr uint32_t kDataPpid = 0x64617461;     // "data"
// Throughput messages of this size or more are sent without a copy (PayloadBuffers).
constexpr size_t kSharedFrom = 16 * 1024;

enum class MsgType : uint32_t { Hello = 1, Ready = 2, Done = 3, Result = 4 };

struct ControlMsg {
  uint32_t magic = kMagic;
  uint32_t type = 0;
  uint32_t mode = 0;
  uint32_t size = 0;
  uint32_t streams = 0;
  uint32_t unordered = 0;
  uint32_t time_ms = 0;
  uint32_t mtu = 0;
  // Ready: a = data port, b = status (0 ok). Done: a = messages, b = bytes.
  // Result: a = messages, b = bytes, c = nanoseconds, d = payload errors.
  uint64_t a = 0, b = 0, c = 0, d = 0;
};
static_assert(sizeof(ControlMsg) == 64);

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace sctpp::tool::perf
