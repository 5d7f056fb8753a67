// Error causes of ABORT and ERROR chunks: walking, building and describing in words.
#include "wire/error_causes.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "wire/byte_io.h"
#include "wire/tlv.h"

namespace sctpp::wire {
namespace {

void add_code(CauseWriter& w, CauseCode code, std::span<const uint8_t> value) {
  w.add(static_cast<uint16_t>(code), value);
}

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string hex(unsigned v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*x", digits, v);
  return buf;
}

// Peer-supplied text is shown only when it is plain printable ASCII, so logs cannot be
// corrupted by control characters. Trailing NULs (C strings sent as-is) are dropped.
std::optional<std::string_view> printable(std::span<const uint8_t> bytes) {
  while (!bytes.empty() && bytes.back() == 0) bytes = bytes.first(bytes.size() - 1);
  for (uint8_t b : bytes) {
    if (b < 0x20 || b > 0x7e) return std::nullopt;
  }
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// " : text" when the bytes are printable, " (N bytes)" otherwise, "" when empty.
std::string text_suffix(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return "";
  if (auto s = printable(bytes)) return s->empty() ? "" : ": " + std::string(*s);
  return " (" + std::to_string(bytes.size()) + " bytes)";
}

}  // namespace

std::optional<CauseList> CauseList::parse(std::span<const uint8_t> region) {
  if (!detail::tlv_region_valid(region)) return std::nullopt;
  CauseList l;
  l.region_ = region;
  return l;
}

std::vector<CauseView> CauseList::all() const {
  std::vector<CauseView> out;
  for (auto rest = region_; !rest.empty();) {
    detail::Tlv t = detail::tlv_front(rest);
    if (t.whole.empty()) break;
    out.push_back({t.type, t.value});
    rest = detail::tlv_after(rest, t.whole.size());
  }
  return out;
}

void CauseWriter::add(uint16_t code, std::span<const uint8_t> value) {
  detail::tlv_append(out_, code, value);
}

void CauseWriter::invalid_stream(StreamId stream) {
  std::array<uint8_t, 4> v{};  // stream id, then 2 reserved bytes
  store16(v.data(), stream.value());
  add_code(*this, CauseCode::InvalidStreamIdentifier, v);
}

void CauseWriter::missing_mandatory_params(std::span<const uint16_t> types) {
  std::vector<uint8_t> v(4 + 2 * types.size());
  store32(v.data(), static_cast<uint32_t>(types.size()));
  for (size_t i = 0; i < types.size(); ++i) store16(v.data() + 4 + 2 * i, types[i]);
  add_code(*this, CauseCode::MissingMandatoryParameter, v);
}

void CauseWriter::stale_cookie(uint32_t staleness_us) {
  std::array<uint8_t, 4> v;
  store32(v.data(), staleness_us);
  add_code(*this, CauseCode::StaleCookie, v);
}

void CauseWriter::out_of_resource() {
  add_code(*this, CauseCode::OutOfResource, {});
}

void CauseWriter::unresolvable_address(std::span<const uint8_t> param) {
  add_code(*this, CauseCode::UnresolvableAddress, param);
}

void CauseWriter::unrecognized_chunk(std::span<const uint8_t> chunk) {
  add_code(*this, CauseCode::UnrecognizedChunkType, chunk);
}

void CauseWriter::invalid_mandatory_param() {
  add_code(*this, CauseCode::InvalidMandatoryParameter, {});
}

void CauseWriter::unrecognized_params(std::span<const uint8_t> params) {
  add_code(*this, CauseCode::UnrecognizedParameters, params);
}

void CauseWriter::no_user_data(Tsn tsn) {
  std::array<uint8_t, 4> v;
  store32(v.data(), tsn.value());
  add_code(*this, CauseCode::NoUserData, v);
}

void CauseWriter::cookie_while_shutting_down() {
  add_code(*this, CauseCode::CookieReceivedWhileShuttingDown, {});
}

void CauseWriter::restart_with_new_addresses(std::span<const uint8_t> address_params) {
  add_code(*this, CauseCode::RestartWithNewAddresses, address_params);
}

void CauseWriter::user_initiated_abort(std::span<const uint8_t> reason) {
  add_code(*this, CauseCode::UserInitiatedAbort, reason);
}

void CauseWriter::protocol_violation(std::string_view info) {
  add_code(*this, CauseCode::ProtocolViolation, as_bytes(info));
}

std::string describe_cause(const CauseView& cause) {
  const auto& v = cause.value;
  switch (static_cast<CauseCode>(cause.code)) {
    case CauseCode::InvalidStreamIdentifier:
      if (v.size() < 2) return "Invalid Stream Identifier";
      return "Invalid Stream Identifier (stream " + std::to_string(load16(v.data())) + ")";
    case CauseCode::MissingMandatoryParameter: {
      std::string s = "Missing Mandatory Parameter";
      if (v.size() < 4) return s;
      // Trust the count only as far as the bytes go.
      size_t n = std::min<size_t>(load32(v.data()), (v.size() - 4) / 2);
      for (size_t i = 0; i < n; ++i) {
        s += (i == 0 ? " (type " : ", ") + std::to_string(load16(v.data() + 4 + 2 * i));
      }
      if (n > 0) s += ")";
      return s;
    }
    case CauseCode::StaleCookie:
      if (v.size() < 4) return "Stale Cookie Error";
      return "Stale Cookie Error (staleness " + std::to_string(load32(v.data())) + " us)";
    case CauseCode::OutOfResource:
      return "Out of Resource";
    case CauseCode::UnresolvableAddress:
      return "Unresolvable Address";
    case CauseCode::UnrecognizedChunkType:
      if (v.empty()) return "Unrecognized Chunk Type";
      return "Unrecognized Chunk Type " + hex(v[0], 2);
    case CauseCode::InvalidMandatoryParameter:
      return "Invalid Mandatory Parameter";
    case CauseCode::UnrecognizedParameters:
      if (v.size() < 2) return "Unrecognized Parameters";
      return "Unrecognized Parameters (type " + hex(load16(v.data()), 4) + ")";
    case CauseCode::NoUserData:
      if (v.size() < 4) return "No User Data";
      return "No User Data (TSN " + std::to_string(load32(v.data())) + ")";
    case CauseCode::CookieReceivedWhileShuttingDown:
      return "Cookie Received While Shutting Down";
    case CauseCode::RestartWithNewAddresses:
      return "Restart of an Association with New Addresses";
    case CauseCode::UserInitiatedAbort:
      return "User-Initiated Abort" + text_suffix(v);
    case CauseCode::ProtocolViolation:
      return "Protocol Violation" + text_suffix(v);
  }
  return "Unknown Error Cause " + hex(cause.code, 4);
}

std::string describe_causes(std::span<const uint8_t> region) {
  auto list = CauseList::parse(region);
  if (!list) return "malformed error causes";
  std::string s;
  for (const CauseView& c : list->all()) {
    if (!s.empty()) s += "; ";
    s += describe_cause(c);
  }
  return s.empty() ? "no cause given" : s;
}

}  // namespace sctpp::wire
