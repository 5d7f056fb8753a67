// CRC32c: a slicing-by-8 table implementation and an SSE4.2 one, chosen once at run time.
#include "wire/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define SCTPP_CRC32C_X86 1
#endif

namespace sctpp::wire {
namespace {

// Castagnoli polynomial, bit-reflected (CRC32c is a reflected CRC).
constexpr uint32_t kPoly = 0x82F63B78;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] is the classic byte table; tables[k][b] is the register after b and then k
// zero bytes, which lets the loop below fold 8 input bytes with 8 independent lookups.
constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
  return t;
}
constexpr Tables kTables = make_tables();

// The functions below work on the raw register (no pre/post inversion), which is linear
// in its inputs; the public functions apply the standard ~0 init and final xor.
uint32_t portable_raw(const uint8_t* p, size_t n, uint32_t reg) {
  // Byte loads keep this independent of host endianness and alignment.
  while (n >= 8) {
    reg ^= uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    reg = kTables[7][reg & 0xFF] ^ kTables[6][(reg >> 8) & 0xFF] ^ kTables[5][(reg >> 16) & 0xFF] ^
          kTables[4][reg >> 24] ^ kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
          kTables[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) reg = kTables[0][(reg ^ *p++) & 0xFF] ^ (reg >> 8);
  return reg;
}

#ifdef SCTPP_CRC32C_X86

// Advancing a register over `len` zero bytes is a linear map; storing it as four
// byte-indexed tables makes it four lookups. Used to merge the three interleaved
// streams of the hardware path.
struct ZeroShift {
  std::array<std::array<uint32_t, 256>, 4> t;
  explicit ZeroShift(size_t len) {
    // Image of each single-bit register under `len` zero bytes.
    std::array<uint32_t, 32> basis;
    for (int bit = 0; bit < 32; ++bit) {
      uint32_t reg = uint32_t{1} << bit;
      for (size_t i = 0; i < len; ++i) reg = kTables[0][reg & 0xFF] ^ (reg >> 8);
      basis[bit] = reg;
    }
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int i = 0; i < 8; ++i) {
          if (b & (1u << i)) v ^= basis[8 * k + i];
        }
        t[k][b] = v;
      }
    }
  }
  uint32_t operator()(uint32_t reg) const {
    return t[0][reg & 0xFF] ^ t[1][(reg >> 8) & 0xFF] ^ t[2][(reg >> 16) & 0xFF] ^ t[3][reg >> 24];
  }
};

// Block sizes for the interleaved loop: long blocks amortize the merge for big buffers,
// short ones still give the 3x speedup on packet-sized data.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;

const ZeroShift& long_shift() {
  static const ZeroShift s(kLongBlock);
  return s;
}
const ZeroShift& short_shift() {
  static const ZeroShift s(kShortBlock);
  return s;
}

__attribute__((target("sse4.2"))) inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // unaligned-safe; x86 is little-endian, the order crc32 expects
  return v;
}

// The crc32 instruction has a latency of 3 cycles and a throughput of 1, so three
// independent streams over adjacent blocks keep the unit busy; the three partial
// registers are then merged with the zero-shift maps (CRC linearity).
__attribute__((target("sse4.2"))) size_t hw_interleaved(const uint8_t*& p, size_t n, uint64_t& reg,
                                                        size_t block, const ZeroShift& shift) {
  while (n >= 3 * block) {
    uint64_t r0 = reg, r1 = 0, r2 = 0;
    const uint8_t* end = p + block;
    do {
      r0 = _mm_crc32_u64(r0, load64(p));
      r1 = _mm_crc32_u64(r1, load64(p + block));
      r2 = _mm_crc32_u64(r2, load64(p + 2 * block));
      p += 8;
    } while (p < end);
    uint32_t merged = shift(static_cast<uint32_t>(r0)) ^ static_cast<uint32_t>(r1);
    reg = shift(merged) ^ static_cast<uint32_t>(r2);
    p += 2 * block;
    n -= 3 * block;
  }
  return n;
}

__attribute__((target("sse4.2"))) uint32_t hw_raw(const uint8_t* p, size_t n, uint32_t reg32) {
  uint64_t reg = reg32;
  if (n >= 3 * kShortBlock) {
    n = hw_interleaved(p, n, reg, kLongBlock, long_shift());
    n = hw_interleaved(p, n, reg, kShortBlock, short_shift());
  }
  while (n >= 8) {
    reg = _mm_crc32_u64(reg, load64(p));
    p += 8;
    n -= 8;
  }
  auto r = static_cast<uint32_t>(reg);
  while (n--) r = _mm_crc32_u8(r, *p++);
  return r;
}

#endif  // SCTPP_CRC32C_X86

using RawFn = uint32_t (*)(const uint8_t*, size_t, uint32_t);

RawFn pick() {
#ifdef SCTPP_CRC32C_X86
  if (crc32c_hw_available()) return &hw_raw;
#endif
  return &portable_raw;
}

}  // namespace

bool crc32c_hw_available() {
#ifdef SCTPP_CRC32C_X86
  // cpu_init makes this safe even when first called from a static initializer.
  static const bool available = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.2"));
  return available;
#else
  return false;
#endif
}

uint32_t crc32c_portable(std::span<const uint8_t> data, uint32_t crc) {
  return ~portable_raw(data.data(), data.size(), ~crc);
}

uint32_t crc32c_hw(std::span<const uint8_t> data, uint32_t crc) {
#ifdef SCTPP_CRC32C_X86
  if (crc32c_hw_available()) return ~hw_raw(data.data(), data.size(), ~crc);
#endif
  // Calling this without SSE4.2 is a caller bug; answer correctly rather than fault.
  return crc32c_portable(data, crc);
}

uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc) {
  static const RawFn fn = pick();
  return ~fn(data.data(), data.size(), ~crc);
}

}  // namespace sctpp::wire
