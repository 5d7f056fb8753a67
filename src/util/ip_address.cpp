// Parsing and printing of IP addresses; inet_pton/ntop do the byte work.
#include "util/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sctpp {

IpAddress IpAddress::v4(std::array<uint8_t, 4> b) {
  IpAddress a;
  a.family_ = Family::V4;
  std::memcpy(a.bytes_.data(), b.data(), 4);
  return a;
}

IpAddress IpAddress::v6(std::array<uint8_t, 16> b) {
  IpAddress a;
  a.family_ = Family::V6;
  a.bytes_ = b;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= 64) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> b{};
  if (inet_pton(AF_INET, buf, b.data()) == 1) return v4({b[0], b[1], b[2], b[3]});
  if (inet_pton(AF_INET6, buf, b.data()) == 1) return v6(b);
  return std::nullopt;
}

IpAddress IpAddress::any(Family f) {
  return f == Family::V4 ? v4({0, 0, 0, 0}) : v6({});
}

IpAddress IpAddress::loopback(Family f) {
  if (f == Family::V4) return v4({127, 0, 0, 1});
  std::array<uint8_t, 16> b{};
  b[15] = 1;
  return v6(b);
}

bool IpAddress::is_loopback() const {
  if (is_v4()) return bytes_[0] == 127;
  for (size_t i = 0; i < 15; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[15] == 1;
}

bool IpAddress::is_multicast_or_broadcast() const {
  if (is_v4()) {
    return (bytes_[0] & 0xF0) == 0xE0 ||
           (bytes_[0] == 255 && bytes_[1] == 255 && bytes_[2] == 255 && bytes_[3] == 255);
  }
  return bytes_[0] == 0xFF;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

std::string SocketAddress::to_string() const {
  // Appending in place (rather than chaining operator+) also avoids a GCC 12 -O3
  // false -Wrestrict positive inside std::string.
  std::string out;
  if (ip.is_v6()) out += '[';
  out += ip.to_string();
  if (ip.is_v6()) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<AddressList> parse_address_list(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<AddressList> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  // The port follows the last ':' that is not inside brackets.
  size_t colon = std::string_view::npos;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '[') ++depth;
    if (text[i] == ']') --depth;
    if (text[i] == ':' && depth == 0) colon = i;
  }
  if (colon == std::string_view::npos)
    return fail("address '" + std::string(text) + "' has no port (expected ADDR[,ADDR...]:PORT)");
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty())
    return fail("invalid port '" + std::string(port_text) + "' in '" + std::string(text) + "'");
  AddressList out;
  out.port = static_cast<uint16_t>(port);
  std::string_view list = text.substr(0, colon);
  if (list.empty()) return fail("address list is empty in '" + std::string(text) + "'");
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    auto ip = IpAddress::parse(one);
    if (!ip) return fail("invalid IP address '" + std::string(one) + "'");
    out.ips.push_back(*ip);
    if (comma == std::string_view::npos) break;
    list = list.substr(comma + 1);
    if (list.empty()) return fail("trailing comma in address list '" + std::string(text) + "'");
  }
  return out;
}

}  // namespace sctpp
