// Internal: the type-length-value walk shared by parameters and error causes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "wire/byte_io.h"

namespace sctpp::wire::detail {

// True when `region` is a sequence of TLVs whose 16-bit length at offset 2 is >= 4 and
// inside the region, each padded to 4 bytes except possibly the last. Trailing bytes
// too short for a header are malformed: the enclosing length should end on a TLV.
inline bool tlv_region_valid(std::span<const uint8_t> region) {
  size_t off = 0;
  while (off < region.size()) {
    size_t rest = region.size() - off;
    if (rest < 4) return false;
    size_t len = load16(region.data() + off + 2);
    if (len < 4 || len > rest) return false;
    off += pad4(len) > rest ? len : pad4(len);
  }
  return true;
}

// One TLV at the front of `rest`, or an empty `whole` when `rest` does not start with a
// complete one (re-checked so that iterators built by hand stay in bounds).
struct Tlv {
  uint16_t type = 0;
  std::span<const uint8_t> value;
  std::span<const uint8_t> whole;
};
inline Tlv tlv_front(std::span<const uint8_t> rest) {
  if (rest.size() < 4) return {};
  size_t len = load16(rest.data() + 2);
  if (len < 4 || len > rest.size()) return {};
  return {load16(rest.data()), rest.subspan(4, len - 4), rest.first(len)};
}
// The bytes after the TLV `whole` (its padding skipped when present).
inline std::span<const uint8_t> tlv_after(std::span<const uint8_t> rest, size_t whole_size) {
  if (whole_size == 0) return rest.subspan(rest.size());
  size_t step = pad4(whole_size);
  return rest.subspan(step > rest.size() ? rest.size() : step);
}

// Appends a TLV with the given value and its zero padding.
inline void tlv_append(std::vector<uint8_t>& out, uint16_t type, std::span<const uint8_t> value) {
  size_t at = out.size();
  size_t len = 4 + value.size();
  out.resize(at + pad4(len), 0);
  store16(out.data() + at, type);
  store16(out.data() + at + 2, static_cast<uint16_t>(len));
  for (size_t i = 0; i < value.size(); ++i) out[at + 4 + i] = value[i];
}
inline void tlv_append_raw(std::vector<uint8_t>& out, std::span<const uint8_t> whole) {
  out.insert(out.end(), whole.begin(), whole.end());
  out.resize(out.size() + (pad4(whole.size()) - whole.size()), 0);
}

}  // namespace sctpp::wire::detail
