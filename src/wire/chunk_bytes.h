// Serializes one chunk into its own padded byte vector, for chunks that are queued
// before the packet that will carry them is built (control chunks, replies).
#pragma once

#include <cstdint>
#include <vector>

#include "wire/byte_io.h"

namespace sctpp::wire {

template <class C>
std::vector<uint8_t> chunk_bytes(const C& chunk) {
  std::vector<uint8_t> out(pad4(chunk.size()), 0);
  chunk.write(out.data());
  return out;
}

}  // namespace sctpp::wire
