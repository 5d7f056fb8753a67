// IpAddress equality and the wildcard test: the stack compares addresses for every
// packet it sends and receives (socket choice, path lookup), so both must see every
// byte of the address and its family, and nothing else.
#include <gtest/gtest.h>

#include <cstring>

#include "sctpp/address.h"

namespace sctpp {
namespace {

IpAddress ip(const char* text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

TEST(IpAddress, EqualityComparesTheFamilyAndEveryByte) {
  EXPECT_EQ(ip("192.0.2.1"), ip("192.0.2.1"));
  EXPECT_NE(ip("192.0.2.1"), ip("192.0.2.2"));
  EXPECT_NE(ip("192.0.2.1"), ip("193.0.2.1"));
  EXPECT_NE(ip("0.0.0.0"), ip("::"));  // same bytes, other family
  EXPECT_EQ(ip("2001:db8::1"), ip("2001:db8::1"));
  for (int byte = 0; byte < 16; ++byte) {
    std::array<uint8_t, 16> b{};
    b[byte] = 0x80;
    EXPECT_NE(IpAddress::v6(b), IpAddress::any(IpAddress::Family::V6)) << "byte " << byte;
    EXPECT_EQ(IpAddress::v6(b), IpAddress::v6(b));
  }
  EXPECT_EQ((SocketAddress{ip("10.0.0.1"), 9899}), (SocketAddress{ip("10.0.0.1"), 9899}));
  EXPECT_NE((SocketAddress{ip("10.0.0.1"), 9899}), (SocketAddress{ip("10.0.0.1"), 9900}));
}

TEST(IpAddress, OnlyTheWildcardOfEitherFamilyIsAny) {
  EXPECT_TRUE(ip("0.0.0.0").is_any());
  EXPECT_TRUE(ip("::").is_any());
  EXPECT_TRUE(IpAddress{}.is_any());
  for (const char* t : {"0.0.0.1", "1.0.0.0", "0.0.1.0", "127.0.0.1", "::1",
                        "8000::", "::ffff:0.0.0.0", "0:0:0:1::"})
    EXPECT_FALSE(ip(t).is_any()) << t;
}

TEST(IpAddress, WordsHoldTheAddressBytesThenZeros) {
  const auto v4 = ip("192.0.2.1").words();
  uint8_t b[16];
  std::memcpy(b, v4.data(), sizeof b);
  const uint8_t want4[16] = {192, 0, 2, 1};
  EXPECT_EQ(std::memcmp(b, want4, 16), 0);
  const auto v6 = ip("2001:db8::ff").words();
  std::memcpy(b, v6.data(), sizeof b);
  const uint8_t want6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff};
  EXPECT_EQ(std::memcmp(b, want6, 16), 0);
}

TEST(IpAddress, OrderingStillSortsByFamilyThenBytes) {
  EXPECT_LT(ip("10.0.0.1"), ip("10.0.0.2"));
  EXPECT_LT(ip("255.255.255.255"), ip("::"));  // V4 before V6
}

}  // namespace
TEST(IpAddress, MulticastAndBroadcastAreRecognized) {
  for (const char* a : {"224.0.0.1", "239.255.255.250", "255.255.255.255", "ff02::1", "ff0e::5"})
    EXPECT_TRUE(IpAddress::parse(a)->is_multicast_or_broadcast()) << a;
  for (const char* a : {"223.255.255.255", "240.0.0.1", "10.0.0.255", "127.0.0.1", "::1", "fe80::1",
                        "2001:db8::ff"})
    EXPECT_FALSE(IpAddress::parse(a)->is_multicast_or_broadcast()) << a;
}

}  // namespace sctpp
