// CRC32c: known vectors for every implementation, chaining, and hw / avx512 == portable.
#include "wire/crc32c.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <random>
#include <string_view>
#include <vector>

namespace sctpp::wire {
namespace {

using Fn = uint32_t (*)(std::span<const uint8_t>, uint32_t);

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Impl {
  const char* name;
  Fn fn;
  bool hw;
};

// crc32c_avx512 is not skipped without AVX-512: it then falls back, and must still be right.
class Crc32cVectors : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (GetParam().hw && !crc32c_hw_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  }
  uint32_t crc(std::span<const uint8_t> d, uint32_t prev = 0) { return GetParam().fn(d, prev); }
};

TEST_P(Crc32cVectors, CheckValue) {
  EXPECT_EQ(crc(bytes("123456789")), 0xE3069283u);
}

TEST_P(Crc32cVectors, EmptyIsZero) {
  EXPECT_EQ(crc({}), 0u);
}

// RFC 3720 Appendix B.4.
TEST_P(Crc32cVectors, Rfc3720Zeros) {
  std::vector<uint8_t> d(32, 0x00);
  EXPECT_EQ(crc(d), 0x8A9136AAu);
}

TEST_P(Crc32cVectors, Rfc3720Ones) {
  std::vector<uint8_t> d(32, 0xFF);
  EXPECT_EQ(crc(d), 0x62A8AB43u);
}

TEST_P(Crc32cVectors, Rfc3720Ascending) {
  std::vector<uint8_t> d(32);
  for (size_t i = 0; i < 32; ++i) d[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc(d), 0x46DD794Eu);
}

TEST_P(Crc32cVectors, Rfc3720Descending) {
  std::vector<uint8_t> d(32);
  for (size_t i = 0; i < 32; ++i) d[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc(d), 0x113FDB5Cu);
}

TEST_P(Crc32cVectors, Rfc3720IscsiReadPdu) {
  const std::vector<uint8_t> d = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                  0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(crc(d), 0xD9963A56u);
}

TEST_P(Crc32cVectors, ChainingEqualsWhole) {
  std::string_view s = "The quick brown fox jumps over the lazy dog, twice or thrice.";
  uint32_t whole = crc(bytes(s));
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(crc(bytes(s.substr(cut)), crc(bytes(s.substr(0, cut)))), whole) << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(All, Crc32cVectors,
                         ::testing::Values(Impl{"portable", &crc32c_portable, false},
                                           Impl{"hw", &crc32c_hw, true},
                                           Impl{"avx512", &crc32c_avx512, false},
                                           Impl{"dispatch", &crc32c, false}),
                         [](const auto& info) { return std::string(info.param.name); });

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> d(n);
  for (auto& b : d) b = static_cast<uint8_t>(rng());
  return d;
}

TEST(Crc32c, HwMatchesPortableAllShortLengthsAndAlignments) {
  if (!crc32c_hw_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  auto buf = random_bytes(300 + 8, 1);
  for (size_t start = 0; start < 8; ++start) {
    for (size_t len = 0; len <= 300; ++len) {
      std::span<const uint8_t> d(buf.data() + start, len);
      ASSERT_EQ(crc32c_hw(d), crc32c_portable(d)) << "start " << start << " len " << len;
      ASSERT_EQ(crc32c_hw(d, 0x12345678), crc32c_portable(d, 0x12345678));
    }
  }
}

// Lengths around the interleaving block boundaries of the hw path (3 x 256, 3 x 8192).
TEST(Crc32c, HwMatchesPortableLargeBuffers) {
  if (!crc32c_hw_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  auto buf = random_bytes(100000 + 8, 2);
  for (size_t len :
       {767u, 768u, 769u, 1500u, 9000u, 24575u, 24576u, 24577u, 24576u + 776u, 65535u, 99999u}) {
    for (size_t start : {0u, 1u, 3u}) {
      std::span<const uint8_t> d(buf.data() + start, len);
      ASSERT_EQ(crc32c_hw(d), crc32c_portable(d)) << "start " << start << " len " << len;
    }
  }
}

// The folding path starts at 128 bytes (four accumulators from 256) and folds 256, 64 and 16
// bytes at a time, so every
// length up to 4096 covers each combination of loop counts and tail; offsets up to 63 cover
// every alignment of the 64-byte loads. Runs against the fallback too when the CPU lacks
// AVX-512 / VPCLMULQDQ.
TEST(Crc32c, Avx512MatchesPortableAllLengthsAndAlignments) {
  if (!crc32c_avx512_available())
    std::cout << "[ INFO ] no AVX-512 + VPCLMULQDQ: testing fallback\n";
  auto buf = random_bytes(4096 + 64, 4);
  for (size_t start = 0; start < 64; ++start) {
    for (size_t len = 0; len <= 4096; ++len) {
      std::span<const uint8_t> d(buf.data() + start, len);
      ASSERT_EQ(crc32c_avx512(d), crc32c_portable(d)) << "start " << start << " len " << len;
    }
  }
}

// A nonzero previous value enters the fold through the first 32 bits: check it on its own,
// including all-ones and values with only the top or bottom bit set.
TEST(Crc32c, Avx512MatchesPortableWithInitialValue) {
  auto buf = random_bytes(2000, 5);
  for (uint32_t init : {0x00000001u, 0x80000000u, 0xFFFFFFFFu, 0x12345678u, 0xDEADBEEFu}) {
    for (size_t len :
         {127u, 128u, 129u, 191u, 255u, 256u, 257u, 319u, 320u, 511u, 512u, 1452u, 2000u}) {
      std::span<const uint8_t> d(buf.data(), len);
      ASSERT_EQ(crc32c_avx512(d, init), crc32c_portable(d, init)) << init << " len " << len;
    }
  }
}

TEST(Crc32c, Avx512MatchesPortableRandomLargeBuffers) {
  std::mt19937 rng(6);
  auto buf = random_bytes((1u << 20) + 64, 7);
  std::vector<size_t> lens = {1u << 20, (1u << 20) - 1, 65536, 65536 + 255, 100000};
  for (int i = 0; i < 20; ++i) lens.push_back(rng() % (1u << 20));
  for (size_t len : lens) {
    size_t start = rng() % 64;
    std::span<const uint8_t> d(buf.data() + start, len);
    ASSERT_EQ(crc32c_avx512(d), crc32c_portable(d)) << "start " << start << " len " << len;
  }
}

// Continuing from a crc must equal one pass, whichever side of the folding thresholds (128 and 256
// bytes) each piece falls on.
TEST(Crc32c, Avx512ChainingAcrossThreshold) {
  auto buf = random_bytes(3000, 8);
  std::span<const uint8_t> all(buf);
  const uint32_t whole = crc32c_portable(all);
  for (size_t cut : {0u, 1u, 15u, 16u, 127u, 128u, 129u, 200u, 255u, 256u, 257u, 1452u, 2743u,
                     2744u, 2745u, 3000u}) {
    uint32_t first = crc32c_avx512(all.first(cut));
    ASSERT_EQ(crc32c_avx512(all.subspan(cut), first), whole) << "cut " << cut;
  }
  // Three pieces, all above the threshold.
  uint32_t c = crc32c_avx512(all.first(700));
  c = crc32c_avx512(all.subspan(700, 1300), c);
  EXPECT_EQ(crc32c_avx512(all.subspan(2000), c), whole);
}

// The copying variant: the same sum, an exact copy, and nothing written around it. Every
// length up to 2048 (all loop counts and tails of the fold, a packet's payload sizes) at
// every source and destination alignment of the 64-byte vectors, with a previous value.
TEST(Crc32c, CopyCopiesExactlyAndSumsAsCrc32c) {
  auto src = random_bytes(2048 + 64, 9);
  std::vector<uint8_t> dst(2048 + 64 + 32);
  for (size_t start = 0; start < 64; start += 7) {
    for (size_t at : {0u, 5u, 16u, 63u}) {
      for (size_t len = 0; len <= 2048; ++len) {
        std::fill(dst.begin(), dst.end(), uint8_t{0xA5});
        std::span<const uint8_t> d(src.data() + start, len);
        ASSERT_EQ(crc32c_copy(dst.data() + 16 + at, d, 0x12345678), crc32c_portable(d, 0x12345678))
            << "start " << start << " at " << at << " len " << len;
        ASSERT_TRUE(std::equal(d.begin(), d.end(), dst.begin() + 16 + static_cast<ptrdiff_t>(at)))
            << "start " << start << " at " << at << " len " << len;
        for (size_t i = 0; i < 16 + at; ++i) ASSERT_EQ(dst[i], 0xA5) << "before, len " << len;
        for (size_t i = 16 + at + len; i < dst.size(); ++i)
          ASSERT_EQ(dst[i], 0xA5) << "after, len " << len;
      }
    }
  }
}

TEST(Crc32c, DispatchMatchesPortable) {
  auto buf = random_bytes(5000, 3);
  EXPECT_EQ(crc32c(buf), crc32c_portable(buf));
}

}  // namespace
}  // namespace sctpp::wire
