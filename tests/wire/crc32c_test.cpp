// CRC32c: known vectors for both implementations, chaining, and hw == portable.
#include "wire/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
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

TEST(Crc32c, DispatchMatchesPortable) {
  auto buf = random_bytes(5000, 3);
  EXPECT_EQ(crc32c(buf), crc32c_portable(buf));
}

}  // namespace
}  // namespace sctpp::wire
