// The payload of `sctpp perf` messages: what a sender writes and every receiver checks.
//
// A message with sequence number s (sent on stream s % streams) is a fixed
// pseudo-random template with an 8-byte stamp (s | block << 48, little endian,
// truncated at the end of the message) at the start of every 512-byte block. A
// receiver checks every stamp and memcmp's the rest against the template, so a lost,
// duplicated, reordered or misplaced fragment (fragments are >= ~500 bytes) is caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sctpp::tool::perf {

constexpr uint64_t kSeqMask = (uint64_t{1} << 48) - 1;

class Pattern {
 public:
  explicit Pattern(size_t size);
  // Writes the stamps of message `seq` into `buf` (which holds the template already).
  void stamp(uint8_t* buf, size_t size, uint64_t seq) const;
  const uint8_t* templ() const { return templ_.data(); }
  // Whether `p` is exactly message `seq`.
  bool check(const uint8_t* p, size_t size, uint64_t seq) const;
  // The sequence number a message carries (low bits only when size < 6).
  static uint64_t seq_of(const uint8_t* p, size_t size);

 private:
  std::vector<uint8_t> templ_;
};

}  // namespace sctpp::tool::perf
