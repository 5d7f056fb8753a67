// Parameter TLVs: the writer, typed reads, and validation of the walk.
#include "wire/parameters.h"

#include <gtest/gtest.h>

#include <vector>

#include "wire/byte_io.h"
#include "wire_test_util.h"

namespace sctpp::wire {
namespace {

using testing::inside;

std::vector<ParamView> all(const ParamList& l) {
  return {l.begin(), l.end()};
}

TEST(ParamWriter, EveryKnownParameterRoundTrips) {
  std::vector<uint8_t> region;
  ParamWriter w(region);
  auto v4 = *IpAddress::parse("192.0.2.1");
  auto v6 = *IpAddress::parse("2001:db8::7");
  const uint16_t addr_types[] = {5, 6};
  const uint8_t exts[] = {130, 192, 0x40};
  const uint8_t opaque[] = {1, 2, 3};
  w.add_address(v4);
  w.add_address(v6);
  w.add_cookie_preservative(5000);
  w.add_supported_address_types(addr_types);
  w.add_supported_extensions(exts);
  w.add_zero_checksum_acceptable(1);
  w.add_forward_tsn_supported();
  w.add_ecn_capable();
  w.add(ParamType::StateCookie, opaque);
  w.add(0x4242, opaque);
  ASSERT_EQ(region.size() % 4, 0u);

  auto list = ParamList::parse(region);
  ASSERT_TRUE(list);
  auto ps = all(*list);
  ASSERT_EQ(ps.size(), 10u);
  EXPECT_EQ(parse_ipv4_param(ps[0]), v4);
  EXPECT_EQ(parse_ipv6_param(ps[1]), v6);
  EXPECT_EQ(parse_cookie_preservative(ps[2]), 5000u);
  EXPECT_EQ(parse_supported_address_types(ps[3]), (std::vector<uint16_t>{5, 6}));
  auto e = parse_supported_extensions(ps[4]);
  EXPECT_EQ(std::vector<uint8_t>(e.begin(), e.end()), (std::vector<uint8_t>{130, 192, 0x40}));
  EXPECT_EQ(parse_zero_checksum_acceptable(ps[5]), 1u);
  EXPECT_EQ(ps[6].type, static_cast<uint16_t>(ParamType::ForwardTsnSupported));
  EXPECT_TRUE(ps[6].value.empty());
  EXPECT_EQ(ps[7].type, static_cast<uint16_t>(ParamType::EcnCapable));
  EXPECT_EQ(ps[8].type, static_cast<uint16_t>(ParamType::StateCookie));
  EXPECT_EQ(std::vector<uint8_t>(ps[8].value.begin(), ps[8].value.end()),
            (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(ps[8].whole.size(), 7u);
  EXPECT_EQ(ps[9].type, 0x4242);
  for (const auto& p : ps) {
    EXPECT_TRUE(inside(p.whole, region));
    EXPECT_EQ(p.whole.size(), p.value.size() + 4);
  }
}

TEST(ParamWriter, WireLayout) {
  std::vector<uint8_t> region;
  ParamWriter w(region);
  const uint16_t types[] = {5};
  w.add_supported_address_types(types);
  w.add_cookie_preservative(0x01020304);
  EXPECT_EQ(region, (std::vector<uint8_t>{0x00, 0x0c, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00, 0x00,
                                          0x09, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04}));
}

TEST(ParamWriter, AddRawPadsAndKeepsBytes) {
  std::vector<uint8_t> region;
  ParamWriter w(region);
  const uint8_t unknown[] = {0x80, 0x77, 0x00, 0x05, 0xEE};
  w.add_raw(unknown);
  EXPECT_EQ(region, (std::vector<uint8_t>{0x80, 0x77, 0x00, 0x05, 0xEE, 0, 0, 0}));
}

TEST(TypedReads, WrongSizeOrTypeIsNullopt) {
  const std::vector<uint8_t> five = {1, 2, 3, 4, 5};
  ParamView p{5, five, {}};
  EXPECT_FALSE(parse_ipv4_param(p));
  p = ParamView{6, std::span<const uint8_t>(five).first(4), {}};
  EXPECT_FALSE(parse_ipv4_param(p));  // IPv6 type with 4 bytes
  EXPECT_FALSE(parse_ipv6_param(p));
  p = ParamView{9, std::span<const uint8_t>(five).first(3), {}};
  EXPECT_FALSE(parse_cookie_preservative(p));
  p = ParamView{12, std::span<const uint8_t>(five).first(3), {}};
  EXPECT_FALSE(parse_supported_address_types(p));  // odd length
  p = ParamView{0x8001, std::span<const uint8_t>(five), {}};
  EXPECT_FALSE(parse_zero_checksum_acceptable(p));
  p = ParamView{0x8000, std::span<const uint8_t>(five), {}};
  EXPECT_TRUE(parse_supported_extensions(p).empty());
}

TEST(ParamList, EmptyRegionIsValid) {
  auto l = ParamList::parse({});
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->begin() == l->end());
}

TEST(ParamList, LastParameterMayLackPadding) {
  const std::vector<uint8_t> r = {0, 7, 0, 5, 0xAA, 0, 0, 0, 0, 7, 0, 6, 0xBB, 0xCC};
  auto l = ParamList::parse(r);
  ASSERT_TRUE(l);
  auto ps = all(*l);
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[1].value.size(), 2u);
}

TEST(ParamList, MalformedRegionsRejected) {
  using R = std::vector<uint8_t>;
  for (uint8_t len = 0; len < 4; ++len) {
    EXPECT_FALSE(ParamList::parse(R{0, 7, 0, len, 0, 0, 0, 0})) << int{len};
  }
  EXPECT_FALSE(ParamList::parse(R{0, 7, 0, 9, 1, 2, 3, 4}));           // past the end
  EXPECT_FALSE(ParamList::parse(R{0, 7, 0, 5, 1, 0, 7, 0, 4}));        // mis-padded
  EXPECT_FALSE(ParamList::parse(R{0, 7, 0, 4, 0, 0}));                 // partial header
  EXPECT_FALSE(ParamList::parse(R{0, 7, 0, 4, 0, 7, 0, 0xFF, 0, 0}));  // second too long
}

TEST(ParamList, EveryPrefixIsSafe) {
  std::vector<uint8_t> full;
  ParamWriter w(full);
  w.add_address(*IpAddress::parse("10.1.2.3"));
  const uint8_t odd[] = {1, 2, 3, 4, 5};
  w.add(ParamType::StateCookie, odd);
  w.add_ecn_capable();
  for (size_t n = 0; n <= full.size(); ++n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    auto l = ParamList::parse(b);
    if (!l) continue;
    for (const auto& p : *l) EXPECT_TRUE(inside(p.whole, b)) << n;
  }
  EXPECT_TRUE(ParamList::parse(full));
}

TEST(UnknownParam, ActionFromUpperTwoBits) {
  EXPECT_EQ(unknown_param_action(0x0010), UnknownParamAction::Stop);
  EXPECT_EQ(unknown_param_action(0x4001), UnknownParamAction::StopAndReport);
  EXPECT_EQ(unknown_param_action(0x8008), UnknownParamAction::Skip);
  EXPECT_EQ(unknown_param_action(0xC000), UnknownParamAction::SkipAndReport);
  EXPECT_EQ(unknown_param_action(0xFFFF), UnknownParamAction::SkipAndReport);
}

}  // namespace
}  // namespace sctpp::wire
