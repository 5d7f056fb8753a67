// Helpers shared by the wire tests: serializing chunks and viewing raw chunk bytes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "wire/byte_io.h"
#include "wire/packet.h"

namespace sctpp::wire::testing {

// Bytes of one chunk as write() produces them (unpadded).
template <class C>
std::vector<uint8_t> serialize(const C& c) {
  std::vector<uint8_t> b(c.size());
  c.write(b.data());
  return b;
}

// A view over raw chunk bytes as the packet parser would produce it. The value length
// comes from the length field, clamped to the bytes given.
inline ChunkView view_of(std::span<const uint8_t> whole) {
  ChunkView v;
  if (whole.size() < 4) return v;
  v.type = whole[0];
  v.flags = whole[1];
  size_t len = std::clamp<size_t>(load16(whole.data() + 2), 4, whole.size());
  v.whole = whole.first(len);
  v.value = whole.subspan(4, len - 4);
  return v;
}

// Writes the chunk into a packet, parses the packet and parses the chunk back: the full
// path a chunk takes between two stacks. `storage` keeps the bytes alive.
template <class C>
std::optional<C> round_trip(const C& c, std::vector<uint8_t>& storage) {
  PacketWriter w(storage);
  w.begin(5000, 5001, VerificationTag(0xdeadbeef));
  if (!w.fits(c)) return std::nullopt;
  w.add(c);
  auto bytes = w.finish();
  auto pkt = PacketView::parse(bytes);
  if (!pkt || pkt->chunk_count() != 1) return std::nullopt;
  return C::parse(*pkt->begin());
}

// a followed by b. (A loop rather than vector::insert: GCC 12 at -O2 reports a false
// -Warray-bounds on inserting into a small vector built from an initializer list.)
inline std::vector<uint8_t> concat(std::vector<uint8_t> a, std::span<const uint8_t> b) {
  a.reserve(a.size() + b.size());
  for (uint8_t x : b) a.push_back(x);
  return a;
}

inline bool inside(std::span<const uint8_t> inner, std::span<const uint8_t> outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

}  // namespace sctpp::wire::testing
