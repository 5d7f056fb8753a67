// Strong types for the numbers SCTP puts on the wire, and RFC 1982 serial-number
// arithmetic for the ones that wrap (TSN, SSN). This is the only place that does
// wrap-around comparison; everything else compares through these types.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <type_traits>

namespace sctpp {

// A plain integer with a distinct type, so a stream id cannot be passed as a PPID.
template <class Tag, class Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }
  friend constexpr auto operator<=>(StrongInt, StrongInt) = default;

 private:
  Rep v_ = 0;
};

// A wrapping sequence number compared by RFC 1982 serial arithmetic: a < b when b is
// "ahead" of a by less than half the number space. Not a total order over the whole
// space, which is why containers keyed by TSN use unwrapped 64-bit values instead.
template <class Tag, class Rep>
class Serial {
  static_assert(std::is_unsigned_v<Rep>);
  using Signed = std::make_signed_t<Rep>;

 public:
  using rep = Rep;
  constexpr Serial() = default;
  constexpr explicit Serial(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }

  constexpr Serial next() const { return Serial(static_cast<Rep>(v_ + 1)); }
  constexpr Serial prev() const { return Serial(static_cast<Rep>(v_ - 1)); }
  constexpr Serial operator+(Rep n) const { return Serial(static_cast<Rep>(v_ + n)); }
  constexpr Serial operator-(Rep n) const { return Serial(static_cast<Rep>(v_ - n)); }
  // Signed distance from b to a (a - b) interpreted in serial space.
  friend constexpr Signed distance(Serial a, Serial b) {
    return static_cast<Signed>(static_cast<Rep>(a.v_ - b.v_));
  }

  friend constexpr bool operator==(Serial a, Serial b) { return a.v_ == b.v_; }
  friend constexpr bool operator<(Serial a, Serial b) { return distance(a, b) < 0; }
  friend constexpr bool operator>(Serial a, Serial b) { return distance(a, b) > 0; }
  friend constexpr bool operator<=(Serial a, Serial b) { return distance(a, b) <= 0; }
  friend constexpr bool operator>=(Serial a, Serial b) { return distance(a, b) >= 0; }

 private:
  Rep v_ = 0;
};

struct TsnTag {};
struct SsnTag {};
struct StreamIdTag {};
struct PpidTag {};
struct VerificationTagTag {};
struct AssocIdTag {};

using Tsn = Serial<TsnTag, uint32_t>;
using Ssn = Serial<SsnTag, uint16_t>;
using StreamId = StrongInt<StreamIdTag, uint16_t>;
using Ppid = StrongInt<PpidTag, uint32_t>;
using VerificationTag = StrongInt<VerificationTagTag, uint32_t>;
// Local handle of an association; never on the wire. 0 is never a valid id.
using AssocId = StrongInt<AssocIdTag, uint32_t>;

// Maps a wrapping TSN onto a monotonically increasing 64-bit value, relative to the
// last value seen, so that TSNs can key ordered containers without wrap-around bugs.
class TsnUnwrapper {
 public:
  constexpr uint64_t unwrap(Tsn tsn) {
    if (!init_) {
      init_ = true;
      last_ = (uint64_t{1} << 32) + tsn.value();
      return last_;
    }
    int64_t d = distance(tsn, Tsn(static_cast<uint32_t>(last_)));
    uint64_t r = static_cast<uint64_t>(static_cast<int64_t>(last_) + d);
    if (d > 0) last_ = r;
    return r;
  }
  // Unwraps without moving the reference point.
  constexpr uint64_t peek(Tsn tsn) const {
    if (!init_) return (uint64_t{1} << 32) + tsn.value();
    int64_t d = distance(tsn, Tsn(static_cast<uint32_t>(last_)));
    return static_cast<uint64_t>(static_cast<int64_t>(last_) + d);
  }

 private:
  bool init_ = false;
  uint64_t last_ = 0;
};

}  // namespace sctpp

template <class Tag, class Rep>
struct std::hash<sctpp::StrongInt<Tag, Rep>> {
  size_t operator()(sctpp::StrongInt<Tag, Rep> v) const noexcept {
    return std::hash<Rep>{}(v.value());
  }
};
