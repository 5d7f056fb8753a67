// Parameters of INIT / INIT ACK (and the Heartbeat Info inside HEARTBEAT): the TLV
// walk, typed helpers for each known parameter, and a writer that builds a TLV
// region (RFC 9260 §3.3.2.1, §3.3.3.1; RFC 6525/3758/9653 extension parameters).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "util/ip_address.h"

namespace sctpp::wire {

enum class ParamType : uint16_t {
  HeartbeatInfo = 1,
  Ipv4Address = 5,
  Ipv6Address = 6,
  StateCookie = 7,
  UnrecognizedParameter = 8,
  CookiePreservative = 9,
  HostNameAddress = 11,
  SupportedAddressTypes = 12,
  OutgoingSsnResetRequest = 13,
  IncomingSsnResetRequest = 14,
  SsnTsnResetRequest = 15,
  ReconfigurationResponse = 16,
  AddOutgoingStreamsRequest = 17,
  AddIncomingStreamsRequest = 18,
  EcnCapable = 0x8000,
  ZeroChecksumAcceptable = 0x8001,  // RFC 9653
  Random = 0x8002,
  ChunkList = 0x8003,
  RequestedHmacAlgorithm = 0x8004,
  Padding = 0x8005,
  SupportedExtensions = 0x8008,
  ForwardTsnSupported = 0xC000,
  AddIpAddress = 0xC001,
  DeleteIpAddress = 0xC002,
  ErrorCauseIndication = 0xC003,
  SetPrimaryAddress = 0xC004,
  SuccessIndication = 0xC005,
  AdaptationLayerIndication = 0xC006,
};

// Upper two bits of an unrecognized parameter type (RFC 9260 §3.2.1).
enum class UnknownParamAction : uint8_t {
  Stop = 0,           // 00: stop processing this chunk, discard it
  StopAndReport = 1,  // 01: stop, discard, report in Unrecognized Parameter
  Skip = 2,           // 10: skip this parameter, continue
  SkipAndReport = 3,  // 11: skip, continue, report
};
constexpr UnknownParamAction unknown_param_action(uint16_t type) {
  return static_cast<UnknownParamAction>(type >> 14);
}

// One parameter: `value` is Length - 4 bytes, padding excluded; `whole` includes
// the 4-byte header (what Unrecognized Parameter reports carry back).
struct ParamView {
  uint16_t type = 0;
  std::span<const uint8_t> value;
  std::span<const uint8_t> whole;
};

// Walks a TLV region. parse() validates every length first (each >= 4, inside the
// region; the final parameter's padding may be absent) so iteration is safe.
class ParamList {
 public:
  static std::optional<ParamList> parse(std::span<const uint8_t> region);
  std::span<const uint8_t> bytes() const { return region_; }

  class Iterator {
   public:
    using value_type = ParamView;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(std::span<const uint8_t> rest) : rest_(rest) { load(); }
    const ParamView& operator*() const { return cur_; }
    const ParamView* operator->() const { return &cur_; }
    Iterator& operator++();
    Iterator operator++(int) {
      auto t = *this;
      ++*this;
      return t;
    }
    bool operator==(const Iterator& o) const { return rest_.size() == o.rest_.size(); }

   private:
    void load();
    std::span<const uint8_t> rest_;
    ParamView cur_;
  };
  Iterator begin() const { return Iterator(region_); }
  Iterator end() const { return Iterator(region_.subspan(region_.size())); }

 private:
  std::span<const uint8_t> region_;
};

// Typed reads of known parameter values; nullopt when the value has the wrong size.
std::optional<IpAddress> parse_ipv4_param(const ParamView& p);
std::optional<IpAddress> parse_ipv6_param(const ParamView& p);
std::optional<uint32_t> parse_cookie_preservative(const ParamView& p);  // suggested ms
// Supported Address Types: list of parameter type codes (5, 6, 11).
std::optional<std::vector<uint16_t>> parse_supported_address_types(const ParamView& p);
// Supported Extensions: list of chunk type codes.
std::span<const uint8_t> parse_supported_extensions(const ParamView& p);
// RFC 9653: the Error Detection Method Identifier (1 = "SCTP over DTLS"); we only
// accept it for methods we implement.
std::optional<uint32_t> parse_zero_checksum_acceptable(const ParamView& p);

// Appends parameters to a byte region, each padded to 4 bytes.
class ParamWriter {
 public:
  explicit ParamWriter(std::vector<uint8_t>& out) : out_(out) {}
  void add(uint16_t type, std::span<const uint8_t> value);
  void add(ParamType type, std::span<const uint8_t> value) {
    add(static_cast<uint16_t>(type), value);
  }
  void add_address(const IpAddress& ip);  // Ipv4Address or Ipv6Address
  void add_cookie_preservative(uint32_t ms);
  void add_supported_address_types(std::span<const uint16_t> types);
  void add_supported_extensions(std::span<const uint8_t> chunk_types);
  void add_zero_checksum_acceptable(uint32_t edmid);
  void add_forward_tsn_supported();
  void add_ecn_capable();
  // Appends an already-serialized parameter (header included), padding it.
  void add_raw(std::span<const uint8_t> whole);

 private:
  std::vector<uint8_t>& out_;
};

}  // namespace sctpp::wire
