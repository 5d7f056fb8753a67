// IP addresses and (address, port) pairs of the public API: sctpp::IpAddress,
// sctpp::SocketAddress and sctpp::parse_address_list ("ADDR[,ADDR...]:PORT"). Plain
// values with parsing and printing; no socket or I/O. Every layer of sctpp uses them.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sctpp {

class IpAddress {
 public:
  enum class Family : uint8_t { V4, V6 };
  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(std::array<uint8_t, 4> b);
  static IpAddress v6(std::array<uint8_t, 16> b);
  // "127.0.0.1", "::1" or "[::1]"; nullopt when malformed.
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress any(Family f);
  static IpAddress loopback(Family f);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::V4; }
  bool is_v6() const { return family_ == Family::V6; }
  // 4 bytes for IPv4, 16 for IPv6, network order.
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }
  // The 16 address bytes as two words (IPv4: its 4 bytes, then zeros): what equality
  // and hashing read, two loads instead of a byte loop.
  std::array<uint64_t, 2> words() const {
    std::array<uint64_t, 2> w;
    std::memcpy(w.data(), bytes_.data(), sizeof w);
    return w;
  }
  bool is_any() const {
    const auto w = words();
    return (w[0] | w[1]) == 0;  // the bytes past an IPv4 address are zero
  }
  bool is_loopback() const;
  // Multicast (224/4, ff00::/8) or the IPv4 limited broadcast 255.255.255.255: not
  // an address an SCTP peer can have (RFC 9260 §8.4 rule 1).
  bool is_multicast_or_broadcast() const;
  std::string to_string() const;  // no brackets

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  // Inline, two words at a time: addresses are compared for every packet sent and
  // received, and the memberwise default called memcmp each time (~2% of a bulk
  // sender's instructions).
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    const auto x = a.words(), y = b.words();
    return a.family_ == b.family_ && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }

 private:
  Family family_ = Family::V4;
  std::array<uint8_t, 16> bytes_{};
};

// An IP address with a port: the UDP port for encapsulated SCTP, the SCTP port in
// user-facing addresses.
struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;
  std::string to_string() const;  // "1.2.3.4:5" or "[::1]:5"
  friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
};

// "ADDR[,ADDR...]:PORT" as the command line takes it; IPv6 in brackets.
struct AddressList {
  std::vector<IpAddress> ips;
  uint16_t port = 0;
};
// On failure returns nullopt and sets *error to a one-line reason when given.
std::optional<AddressList> parse_address_list(std::string_view text, std::string* error = nullptr);

}  // namespace sctpp
