// INIT/INIT ACK parameter walking, typed parameter reads, and the parameter writer.
#include "wire/parameters.h"

#include <array>

#include "wire/byte_io.h"
#include "wire/tlv.h"

namespace sctpp::wire {
namespace {

bool is(const ParamView& p, ParamType t) {
  return p.type == static_cast<uint16_t>(t);
}

std::array<uint8_t, 4> be32(uint32_t v) {
  std::array<uint8_t, 4> b;
  store32(b.data(), v);
  return b;
}

}  // namespace

std::optional<ParamList> ParamList::parse(std::span<const uint8_t> region) {
  if (!detail::tlv_region_valid(region)) return std::nullopt;
  ParamList l;
  l.region_ = region;
  return l;
}

void ParamList::Iterator::load() {
  detail::Tlv t = detail::tlv_front(rest_);
  if (t.whole.empty()) rest_ = rest_.subspan(rest_.size());  // malformed: end here
  cur_ = ParamView{t.type, t.value, t.whole};
}

ParamList::Iterator& ParamList::Iterator::operator++() {
  rest_ = detail::tlv_after(rest_, cur_.whole.size());
  load();
  return *this;
}

std::optional<IpAddress> parse_ipv4_param(const ParamView& p) {
  if (!is(p, ParamType::Ipv4Address) || p.value.size() != 4) return std::nullopt;
  std::array<uint8_t, 4> b;
  for (size_t i = 0; i < 4; ++i) b[i] = p.value[i];
  return IpAddress::v4(b);
}

std::optional<IpAddress> parse_ipv6_param(const ParamView& p) {
  if (!is(p, ParamType::Ipv6Address) || p.value.size() != 16) return std::nullopt;
  std::array<uint8_t, 16> b;
  for (size_t i = 0; i < 16; ++i) b[i] = p.value[i];
  return IpAddress::v6(b);
}

std::optional<uint32_t> parse_cookie_preservative(const ParamView& p) {
  if (!is(p, ParamType::CookiePreservative) || p.value.size() != 4) return std::nullopt;
  return load32(p.value.data());
}

std::optional<std::vector<uint16_t>> parse_supported_address_types(const ParamView& p) {
  if (!is(p, ParamType::SupportedAddressTypes) || p.value.size() % 2 != 0) return std::nullopt;
  std::vector<uint16_t> types;
  types.reserve(p.value.size() / 2);
  for (size_t i = 0; i < p.value.size(); i += 2) types.push_back(load16(p.value.data() + i));
  return types;
}

std::span<const uint8_t> parse_supported_extensions(const ParamView& p) {
  if (!is(p, ParamType::SupportedExtensions)) return {};
  return p.value;
}

std::optional<uint32_t> parse_zero_checksum_acceptable(const ParamView& p) {
  if (!is(p, ParamType::ZeroChecksumAcceptable) || p.value.size() != 4) return std::nullopt;
  return load32(p.value.data());
}

void ParamWriter::add(uint16_t type, std::span<const uint8_t> value) {
  detail::tlv_append(out_, type, value);
}

void ParamWriter::add_address(const IpAddress& ip) {
  add(ip.is_v4() ? ParamType::Ipv4Address : ParamType::Ipv6Address,
      std::span<const uint8_t>(ip.data(), ip.size()));
}

void ParamWriter::add_cookie_preservative(uint32_t ms) {
  add(ParamType::CookiePreservative, be32(ms));
}

void ParamWriter::add_supported_address_types(std::span<const uint16_t> types) {
  std::vector<uint8_t> v(types.size() * 2);
  for (size_t i = 0; i < types.size(); ++i) store16(v.data() + 2 * i, types[i]);
  add(ParamType::SupportedAddressTypes, v);
}

void ParamWriter::add_supported_extensions(std::span<const uint8_t> chunk_types) {
  add(ParamType::SupportedExtensions, chunk_types);
}

void ParamWriter::add_zero_checksum_acceptable(uint32_t edmid) {
  add(ParamType::ZeroChecksumAcceptable, be32(edmid));
}

void ParamWriter::add_forward_tsn_supported() {
  add(ParamType::ForwardTsnSupported, {});
}

void ParamWriter::add_ecn_capable() {
  add(ParamType::EcnCapable, {});
}

void ParamWriter::add_raw(std::span<const uint8_t> whole) {
  detail::tlv_append_raw(out_, whole);
}

}  // namespace sctpp::wire
