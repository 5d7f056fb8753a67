// CRC32c: a slicing-by-8 table implementation, an SSE4.2 one and an AVX-512 + VPCLMULQDQ
// folding one, the best the CPU supports chosen once at run time.
#include "wire/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
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

// The folding path: carry-less multiplication folds the input, 64 bytes per vector, onto a
// running remainder (Intel, "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ").
// Unlike the crc32 instruction, the folds of different vectors are independent, so four
// accumulators keep the multipliers busy; the final 16 bytes go through crc32.
//
// Representation: a little-endian 128-bit lane holds message bits in order, bit i of the
// lane being the coefficient of x^(127-i) (reflected); a 64-bit half holds x^(63-i). A
// carry-less product of two reflected 64-bit values, read as a reflected 128-bit value, is
// their polynomial product times x, so a constant meant to multiply by x^n holds x^(n-1).

// x^n mod P as a reflected CRC register (bit i is the coefficient of x^(31-i)): start from
// x^0 (bit 31) and multiply by x n times, the same step as the bitwise CRC.
constexpr uint32_t xpow_mod(size_t n) {
  uint32_t r = 0x80000000u;
  for (size_t i = 0; i < n; ++i) r = (r & 1) ? (r >> 1) ^ kPoly : r >> 1;
  return r;
}

// A remainder (degree < 32) as a reflected 64-bit multiplier: x^d goes to bit 63-d.
constexpr uint64_t reflected64(uint32_t reg) {
  return uint64_t{reg} << 32;
}

// Constants to move a 128-bit lane `bits` further along the message. The lane is H*x^64 + L
// (H its low, earlier, half); H*x^(bits+64) + L*x^bits is congruent to it shifted, and each
// multiplier is reduced mod P first so the products stay within 96 bits.
struct FoldConst {
  uint64_t early;  // multiplies H (lane bits 0..63) by x^(bits+64): holds x^(bits+63) mod P
  uint64_t late;   // multiplies L (lane bits 64..127) by x^bits: holds x^(bits-1) mod P
};
constexpr FoldConst fold_const(size_t bits) {
  return {reflected64(xpow_mod(bits + 63)), reflected64(xpow_mod(bits - 1))};
}

constexpr FoldConst kFold256Bytes = fold_const(256 * 8);  // main loop, 4 x 64-byte vectors
constexpr FoldConst kFold64Bytes = fold_const(64 * 8);    // one vector onto the next
constexpr FoldConst kFold48Bytes = fold_const(48 * 8);    // lanes 0..2 of a vector onto lane 3
constexpr FoldConst kFold32Bytes = fold_const(32 * 8);
constexpr FoldConst kFold16Bytes = fold_const(16 * 8);

// Measured on Zen 5: from 128 bytes folding beats the crc32 path (12.8 vs 10.8 GB/s at
// 128, 44 vs 16 at 1452); below, the setup and final reduction cost more than they save.
constexpr size_t kFoldMin = 128;

__attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"))) inline __m512i broadcast(
    const FoldConst& k) {
  const auto e = static_cast<int64_t>(k.early), l = static_cast<int64_t>(k.late);
  return _mm512_set_epi64(l, e, l, e, l, e, l, e);
}

// acc * x^bits (congruent mod P) plus next, per 128-bit lane; k from fold_const(bits).
__attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"))) inline __m512i fold(
    __m512i acc, __m512i k, __m512i next) {
  __m512i h = _mm512_clmulepi64_epi128(acc, k, 0x00);  // H * (x^(bits+64) mod P)
  __m512i l = _mm512_clmulepi64_epi128(acc, k, 0x11);  // L * (x^bits mod P)
  return _mm512_ternarylogic_epi64(h, l, next, 0x96);  // h ^ l ^ next
}

__attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"))) inline __m128i fold(
    __m128i acc, __m128i k, __m128i next) {
  __m128i h = _mm_clmulepi64_si128(acc, k, 0x00);
  __m128i l = _mm_clmulepi64_si128(acc, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(h, l), next);
}

// A 64- or 16-byte piece of the input, also stored at the same offset of `d` when copying.
template <bool kCopy>
__attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"))) inline __m512i load_vec(
    const uint8_t* p, uint8_t* d, size_t i) {
  const __m512i v = _mm512_loadu_si512(p + i);
  if constexpr (kCopy) _mm512_storeu_si512(d + i, v);
  return v;
}
template <bool kCopy>
__attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"))) inline __m128i load_lane(
    const uint8_t* p, uint8_t* d, size_t i) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
  if constexpr (kCopy) _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), v);
  return v;
}

// The fold over p[0, n). With kCopy it also copies p to d in the same pass: every byte is
// loaded once for both, which is what a packet's payload needs (copied in, then summed).
template <bool kCopy>
__attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"))) uint32_t fold_impl(
    const uint8_t* p, uint8_t* d, size_t n, uint32_t reg) {
  if (n < kFoldMin) {
    if constexpr (kCopy) {
      if (n > 0) std::memcpy(d, p, n);  // an empty span may have no data pointer
    }
    return hw_raw(p, n, reg);
  }
  size_t i = 0;

  // The register is a CRC of what came before; xoring it into the first 32 message bits
  // accounts for it (init * x^len == those bits' contribution), so the fold starts from 0.
  const __m512i init = _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(reg)));
  const __m512i k64 = broadcast(kFold64Bytes);
  __m512i acc;
  if (n >= 256) {
    __m512i a0 = _mm512_xor_si512(load_vec<kCopy>(p, d, 0), init);
    __m512i a1 = load_vec<kCopy>(p, d, 64);
    __m512i a2 = load_vec<kCopy>(p, d, 128);
    __m512i a3 = load_vec<kCopy>(p, d, 192);
    i = 256;
    const __m512i k256 = broadcast(kFold256Bytes);
    while (n - i >= 256) {
      a0 = fold(a0, k256, load_vec<kCopy>(p, d, i));
      a1 = fold(a1, k256, load_vec<kCopy>(p, d, i + 64));
      a2 = fold(a2, k256, load_vec<kCopy>(p, d, i + 128));
      a3 = fold(a3, k256, load_vec<kCopy>(p, d, i + 192));
      i += 256;
    }
    // Four accumulators into one.
    acc = fold(a0, k64, a1);
    acc = fold(acc, k64, a2);
    acc = fold(acc, k64, a3);
  } else {
    // Too short for four independent chains: one, folding a vector at a time.
    acc = _mm512_xor_si512(load_vec<kCopy>(p, d, 0), init);
    i = 64;
  }
  while (n - i >= 64) {
    acc = fold(acc, k64, load_vec<kCopy>(p, d, i));
    i += 64;
  }

  // Lanes 0, 1, 2 move 48, 32, 16 bytes to line up with lane 3; lane 3 gets a zero
  // multiplier and is added unchanged.
  const __m512i k_lanes = _mm512_set_epi64(
      0, 0, static_cast<int64_t>(kFold16Bytes.late), static_cast<int64_t>(kFold16Bytes.early),
      static_cast<int64_t>(kFold32Bytes.late), static_cast<int64_t>(kFold32Bytes.early),
      static_cast<int64_t>(kFold48Bytes.late), static_cast<int64_t>(kFold48Bytes.early));
  const __m512i lanes = fold(acc, k_lanes, _mm512_setzero_si512());
  // Zero-masked extracts: the plain ones (and the 512->128 cast) trip a GCC 12
  // -Wmaybe-uninitialized false positive inside its own header.
  __m128i r = _mm_xor_si128(_mm_xor_si128(_mm512_maskz_extracti32x4_epi32(0xF, lanes, 0),
                                          _mm512_maskz_extracti32x4_epi32(0xF, lanes, 1)),
                            _mm_xor_si128(_mm512_maskz_extracti32x4_epi32(0xF, lanes, 2),
                                          _mm512_maskz_extracti32x4_epi32(0xF, acc, 3)));

  const __m128i k16 = _mm_set_epi64x(static_cast<int64_t>(kFold16Bytes.late),
                                     static_cast<int64_t>(kFold16Bytes.early));
  while (n - i >= 16) {
    r = fold(r, k16, load_lane<kCopy>(p, d, i));
    i += 16;
  }

  // r is congruent mod P to everything so far (register included), as a 128-bit message;
  // its CRC from a zero register is therefore the register after everything so far.
  uint64_t crc = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(r)));
  crc = _mm_crc32_u64(crc, static_cast<uint64_t>(_mm_extract_epi64(r, 1)));
  if constexpr (kCopy) std::memcpy(d + i, p + i, n - i);
  return hw_raw(p + i, n - i, static_cast<uint32_t>(crc));
}

__attribute__((target("avx512f,avx512vl,vpclmulqdq,pclmul,sse4.2"))) uint32_t fold_raw(
    const uint8_t* p, size_t n, uint32_t reg) {
  return fold_impl<false>(p, nullptr, n, reg);
}

#endif  // SCTPP_CRC32C_X86

using RawFn = uint32_t (*)(const uint8_t*, size_t, uint32_t);

RawFn pick() {
#ifdef SCTPP_CRC32C_X86
  if (crc32c_avx512_available()) return &fold_raw;
  if (crc32c_hw_available()) return &hw_raw;
#endif
  return &portable_raw;
}

}  // namespace

bool crc32c_avx512_available() {
#ifdef SCTPP_CRC32C_X86
  // avx512f also means the OS saves the zmm state (libgcc checks XCR0). avx512vl because
  // the target lets the compiler use EVEX encodings for xmm/ymm; pclmul for the 128-bit
  // folds; sse4.2 for crc32 on the final bytes.
  static const bool available = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f") &&
                                                           __builtin_cpu_supports("avx512vl") &&
                                                           __builtin_cpu_supports("vpclmulqdq") &&
                                                           __builtin_cpu_supports("pclmul") &&
                                                           __builtin_cpu_supports("sse4.2"));
  return available;
#else
  return false;
#endif
}

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

uint32_t crc32c_avx512(std::span<const uint8_t> data, uint32_t crc) {
#ifdef SCTPP_CRC32C_X86
  if (crc32c_avx512_available()) return ~fold_raw(data.data(), data.size(), ~crc);
#endif
  // As crc32c_hw: without the instructions, the best available path gives the same answer.
  return crc32c_hw(data, crc);
}

uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc) {
  static const RawFn fn = pick();
  return ~fn(data.data(), data.size(), ~crc);
}

uint32_t crc32c_copy(uint8_t* dst, std::span<const uint8_t> src, uint32_t crc) {
#ifdef SCTPP_CRC32C_X86
  if (crc32c_avx512_available()) return ~fold_impl<true>(src.data(), dst, src.size(), ~crc);
#endif
  // The other paths read less than a vector per step: copy first, then sum the copy
  // while it is in the cache.
  if (!src.empty()) std::memcpy(dst, src.data(), src.size());
  return crc32c(std::span<const uint8_t>(dst, src.size()), crc);
}

}  // namespace sctpp::wire
