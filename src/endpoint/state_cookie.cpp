// State Cookie serialization and its HMAC-SHA256 seal (OpenSSL).
#include "endpoint/state_cookie.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

#include "wire/byte_io.h"

namespace sctpp {
namespace {

constexpr uint8_t kVersion = 1;

void put8(std::vector<uint8_t>& b, uint8_t v) {
  b.push_back(v);
}
void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.resize(b.size() + 2);
  wire::store16(b.data() + b.size() - 2, v);
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  b.resize(b.size() + 4);
  wire::store32(b.data() + b.size() - 4, v);
}
void put64(std::vector<uint8_t>& b, uint64_t v) {
  put32(b, static_cast<uint32_t>(v >> 32));
  put32(b, static_cast<uint32_t>(v));
}
void put_ip(std::vector<uint8_t>& b, const IpAddress& ip) {
  put8(b, ip.is_v4() ? 4 : 6);
  b.insert(b.end(), ip.data(), ip.data() + ip.size());
}

// Bounds-checked reader over the cookie body.
struct Reader {
  std::span<const uint8_t> s;
  size_t at = 0;
  bool ok = true;
  bool need(size_t n) {
    if (s.size() - at < n) ok = false;
    return ok;
  }
  uint8_t u8() { return need(1) ? s[at++] : 0; }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t v = wire::load16(&s[at]);
    at += 2;
    return v;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = wire::load32(&s[at]);
    at += 4;
    return v;
  }
  uint64_t u64() {
    uint64_t hi = u32();
    return hi << 32 | u32();
  }
  std::optional<IpAddress> ip() {
    uint8_t fam = u8();
    if (fam == 4 && need(4)) {
      std::array<uint8_t, 4> a;
      std::memcpy(a.data(), &s[at], 4);
      at += 4;
      return IpAddress::v4(a);
    }
    if (fam == 6 && need(16)) {
      std::array<uint8_t, 16> a;
      std::memcpy(a.data(), &s[at], 16);
      at += 16;
      return IpAddress::v6(a);
    }
    ok = false;
    return std::nullopt;
  }
};

void hmac(std::span<const uint8_t, 32> key, std::span<const uint8_t> data, uint8_t* out) {
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out, &len);
}

}  // namespace

void CookieSigner::rotate(std::span<const uint8_t, 32> secret) {
  ++generation_;
  const int slot = generation_ % kKept;
  std::memcpy(secrets_[slot].data(), secret.data(), 32);
  have_[slot] = true;
  have_current_ = true;
}

std::vector<uint8_t> CookieSigner::seal(const StateCookie& c) const {
  std::vector<uint8_t> b;
  b.reserve(128);
  put8(b, kVersion);
  put8(b, generation_);
  put64(b, static_cast<uint64_t>(c.created_ns));
  put32(b, c.lifetime_ms);
  put32(b, c.local_tag.value());
  put32(b, c.peer_tag.value());
  put32(b, c.local_initial_tsn.value());
  put32(b, c.peer_initial_tsn.value());
  put32(b, c.peer_a_rwnd);
  put16(b, c.outbound_streams);
  put16(b, c.inbound_streams);
  put32(b, c.local_tie_tag.value());
  put32(b, c.peer_tie_tag.value());
  put16(b, c.local_port);
  put16(b, c.peer_port);
  put_ip(b, c.peer_source.ip);
  put16(b, c.peer_source.port);
  size_t n = std::min(c.peer_addresses.size(), StateCookie::kMaxAddresses);
  put8(b, static_cast<uint8_t>(n));
  for (size_t i = 0; i < n; ++i) put_ip(b, c.peer_addresses[i]);
  size_t body = b.size();
  b.resize(body + kMacSize);
  hmac(secrets_[generation_ % kKept], std::span(b.data(), body), b.data() + body);
  return b;
}

CookieSigner::Verdict CookieSigner::open(std::span<const uint8_t> bytes, StateCookie& c) const {
  if (bytes.size() < 2 + kMacSize || bytes[0] != kVersion) return Verdict::Malformed;
  // The generation byte picks the secret: the current one or one of the two before.
  const uint8_t age = static_cast<uint8_t>(generation_ - bytes[1]);
  if (!have_current_ || age >= kKept || !have_[bytes[1] % kKept]) return Verdict::BadMac;
  const std::array<uint8_t, 32>* key = &secrets_[bytes[1] % kKept];
  size_t body = bytes.size() - kMacSize;
  uint8_t mac[kMacSize];
  hmac(*key, bytes.first(body), mac);
  if (CRYPTO_memcmp(mac, bytes.data() + body, kMacSize) != 0) return Verdict::BadMac;

  Reader r{bytes.first(body), 2};
  c.created_ns = static_cast<int64_t>(r.u64());
  c.lifetime_ms = r.u32();
  c.local_tag = VerificationTag(r.u32());
  c.peer_tag = VerificationTag(r.u32());
  c.local_initial_tsn = Tsn(r.u32());
  c.peer_initial_tsn = Tsn(r.u32());
  c.peer_a_rwnd = r.u32();
  c.outbound_streams = r.u16();
  c.inbound_streams = r.u16();
  c.local_tie_tag = VerificationTag(r.u32());
  c.peer_tie_tag = VerificationTag(r.u32());
  c.local_port = r.u16();
  c.peer_port = r.u16();
  if (auto ip = r.ip()) c.peer_source.ip = *ip;
  c.peer_source.port = r.u16();
  uint8_t n = r.u8();
  c.peer_addresses.clear();
  for (uint8_t i = 0; i < n && r.ok && i < StateCookie::kMaxAddresses; ++i) {
    if (auto ip = r.ip()) c.peer_addresses.push_back(*ip);
  }
  if (!r.ok || r.at != body) return Verdict::Malformed;
  return Verdict::Ok;
}

}  // namespace sctpp
