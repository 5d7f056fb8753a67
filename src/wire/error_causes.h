// Error causes carried in ABORT and ERROR chunks (RFC 9260 §3.3.10): walking a cause
// region, building one, and describing causes in words for users and logs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/strong_types.h"

namespace sctpp::wire {

enum class CauseCode : uint16_t {
  InvalidStreamIdentifier = 1,
  MissingMandatoryParameter = 2,
  StaleCookie = 3,
  OutOfResource = 4,
  UnresolvableAddress = 5,
  UnrecognizedChunkType = 6,
  InvalidMandatoryParameter = 7,
  UnrecognizedParameters = 8,
  NoUserData = 9,
  CookieReceivedWhileShuttingDown = 10,
  RestartWithNewAddresses = 11,
  UserInitiatedAbort = 12,
  ProtocolViolation = 13,
};

struct CauseView {
  uint16_t code = 0;
  std::span<const uint8_t> value;  // Length - 4 bytes
};

// Walks a cause region; parse() validates all lengths first. Causes are padded to 4
// bytes except possibly the last.
class CauseList {
 public:
  static std::optional<CauseList> parse(std::span<const uint8_t> region);
  std::vector<CauseView> all() const;

 private:
  std::span<const uint8_t> region_;
};

// Builds a cause region into `out`, each cause padded to 4 bytes.
class CauseWriter {
 public:
  explicit CauseWriter(std::vector<uint8_t>& out) : out_(out) {}
  void add(uint16_t code, std::span<const uint8_t> value);
  void invalid_stream(StreamId stream);                            // 1
  void missing_mandatory_params(std::span<const uint16_t> types);  // 2
  void stale_cookie(uint32_t staleness_us);                        // 3
  void out_of_resource();                                          // 4
  void unresolvable_address(std::span<const uint8_t> param);       // 5: whole address param
  void unrecognized_chunk(std::span<const uint8_t> chunk);         // 6: whole chunk
  void invalid_mandatory_param();                                  // 7
  void unrecognized_params(std::span<const uint8_t> params);       // 8: whole params
  void no_user_data(Tsn tsn);                                      // 9
  void cookie_while_shutting_down();                               // 10
  void restart_with_new_addresses(std::span<const uint8_t> address_params);  // 11
  void user_initiated_abort(std::span<const uint8_t> reason);                // 12
  void protocol_violation(std::string_view info);                            // 13

 private:
  std::vector<uint8_t>& out_;
};

// "Stale Cookie Error (staleness 1200 us)", "User-Initiated Abort: bye", ... One
// cause in words, for error messages and logs; bytes shown only when printable.
std::string describe_cause(const CauseView& cause);
// All causes of a region joined with "; " (or "no cause given").
std::string describe_causes(std::span<const uint8_t> region);

}  // namespace sctpp::wire
