// The `sctpp perf` payload pattern: a receiver must accept exactly the message it
// expects, byte for byte, and the stamps keep the layout bench/usrsctp_perf.c shares.
#include "pattern.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace sctpp::tool::perf {
namespace {

std::vector<uint8_t> message(const Pattern& p, size_t size, uint64_t seq) {
  std::vector<uint8_t> m(p.templ(), p.templ() + size);
  p.stamp(m.data(), m.size(), seq);
  return m;
}

constexpr size_t kSizes[] = {1, 5, 6, 7, 8, 9, 511, 512, 513, 520, 1024, 1500, 65536};

TEST(Pattern, AMessageChecksAsItsOwnSequenceNumberOnly) {
  for (size_t size : kSizes) {
    Pattern p(size);
    for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{0x123456789abc}}) {
      auto m = message(p, size, seq);
      EXPECT_TRUE(p.check(m.data(), size, seq)) << "size " << size << " seq " << seq;
      EXPECT_FALSE(p.check(m.data(), size, seq + 1)) << "size " << size << " seq " << seq;
    }
  }
}

TEST(Pattern, AnyChangedByteFailsTheCheck) {
  for (size_t size : kSizes) {
    Pattern p(size);
    const auto good = message(p, size, 42);
    for (size_t at : {size_t{0}, size_t{7}, size_t{8}, size / 2, size - 1}) {
      if (at >= size) continue;
      auto m = good;
      m[at] ^= 0x01;
      EXPECT_FALSE(p.check(m.data(), size, 42)) << "size " << size << " byte " << at;
    }
  }
}

TEST(Pattern, BlocksInTheWrongPlaceFailTheCheck) {
  // Two fragments delivered in each other's place: each block's stamp names its index.
  Pattern p(4096);
  auto m = message(p, 4096, 7);
  std::swap_ranges(m.begin(), m.begin() + 512, m.begin() + 1024);
  EXPECT_FALSE(p.check(m.data(), m.size(), 7));
}

TEST(Pattern, StampsAreLittleEndianSequenceAndBlockIndex) {
  Pattern p(1100);
  const auto m = message(p, 1100, 0x0000a1b2c3d4e5f6);
  const uint8_t block0[8] = {0xf6, 0xe5, 0xd4, 0xc3, 0xb2, 0xa1, 0x00, 0x00};
  const uint8_t block2[8] = {0xf6, 0xe5, 0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00};
  EXPECT_TRUE(std::equal(block0, block0 + 8, m.begin()));
  EXPECT_TRUE(std::equal(block2, block2 + 8, m.begin() + 1024));
  EXPECT_EQ(Pattern::seq_of(m.data(), m.size()), 0x0000a1b2c3d4e5f6u);
  // The rest of each block is the template.
  EXPECT_TRUE(std::equal(m.begin() + 8, m.begin() + 512, p.templ() + 8));
}

TEST(Pattern, AShortLastBlockCarriesATruncatedStamp) {
  Pattern p(515);  // block 1 is 3 bytes: the first 3 bytes of its stamp
  const auto m = message(p, 515, 0x010203);
  EXPECT_EQ(m[512], 0x03);
  EXPECT_EQ(m[513], 0x02);
  EXPECT_EQ(m[514], 0x01);
  EXPECT_TRUE(p.check(m.data(), m.size(), 0x010203));
}

}  // namespace
}  // namespace sctpp::tool::perf
