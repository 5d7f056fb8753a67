// The State Cookie (RFC 9260 §5.1.3): everything needed to create an association
// from a COOKIE ECHO, so that nothing is stored when an INIT arrives. It is signed
// with HMAC-SHA256 under a secret that rotates (CookieSigner); a cookie is only
// accepted when its MAC verifies under the current or the previous secret and it
// has not outlived its lifetime.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "util/ip_address.h"
#include "util/strong_types.h"
#include "util/time.h"

namespace sctpp {

struct StateCookie {
  int64_t created_ns = 0;  // creation instant, clock epoch based
  uint32_t lifetime_ms = 0;
  VerificationTag local_tag{0};  // our Initiate Tag (sent in the INIT ACK)
  VerificationTag peer_tag{0};   // the peer's Initiate Tag (from its INIT)
  Tsn local_initial_tsn{0};
  Tsn peer_initial_tsn{0};
  uint32_t peer_a_rwnd = 0;
  uint16_t outbound_streams = 0;     // negotiated: min(our OS, peer's MIS)
  uint16_t inbound_streams = 0;      // negotiated: min(peer's OS, our MIS)
  VerificationTag local_tie_tag{0};  // §5.2.2: our tag of the existing association
  VerificationTag peer_tie_tag{0};   // §5.2.2: peer's tag of the existing association
  uint16_t local_port = 0;
  uint16_t peer_port = 0;
  SocketAddress peer_source;              // where the INIT came from (IP + UDP port)
  std::vector<IpAddress> peer_addresses;  // address parameters of the INIT (capped)

  static constexpr size_t kMaxAddresses = 16;
};

class CookieSigner {
 public:
  static constexpr size_t kMacSize = 32;
  CookieSigner() = default;
  // Installs fresh secret bytes; the old current secret becomes the previous one.
  void rotate(std::span<const uint8_t, 32> secret);
  bool has_secret() const { return have_current_; }

  std::vector<uint8_t> seal(const StateCookie& cookie) const;
  enum class Verdict { Ok, BadMac, Malformed };
  // Parses and authenticates. Lifetime is checked by the caller (which needs the
  // staleness for the Stale Cookie error).
  Verdict open(std::span<const uint8_t> bytes, StateCookie& out) const;

 private:
  // The current secret and the two before it, by generation. A cookie's lifetime
  // never exceeds one rotation period, so a cookie that fails to authenticate is
  // older than any cookie could live; one that authenticates but has expired gets
  // the Stale Cookie error (§5.1.5 step 3).
  static constexpr int kKept = 3;
  std::array<std::array<uint8_t, 32>, kKept> secrets_{};
  std::array<bool, kKept> have_{};
  uint8_t generation_ = 0;
  bool have_current_ = false;
};

}  // namespace sctpp
