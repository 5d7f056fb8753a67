// Error causes: writer and walker round trip, validation, and descriptions in words.
#include "wire/error_causes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sctpp::wire {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(CauseWriter, EveryCauseRoundTripsAndIsDescribed) {
  std::vector<uint8_t> region;
  CauseWriter w(region);
  const uint16_t missing[] = {7, 9};
  const uint8_t addr_param[] = {0, 5, 0, 8, 10, 0, 0, 1};
  const uint8_t chunk[] = {0x4F, 0, 0, 4};
  const uint8_t params[] = {0x40, 0x10, 0, 4};
  w.invalid_stream(StreamId(7));
  w.missing_mandatory_params(missing);
  w.stale_cookie(1500);
  w.out_of_resource();
  w.unresolvable_address(addr_param);
  w.unrecognized_chunk(chunk);
  w.invalid_mandatory_param();
  w.unrecognized_params(params);
  w.no_user_data(Tsn(123));
  w.cookie_while_shutting_down();
  w.restart_with_new_addresses(addr_param);
  w.user_initiated_abort(bytes("bye"));
  w.protocol_violation("bad TSN");
  w.add(0x0100, {});
  ASSERT_EQ(region.size() % 4, 0u);

  auto list = CauseList::parse(region);
  ASSERT_TRUE(list);
  auto causes = list->all();
  ASSERT_EQ(causes.size(), 14u);
  for (uint16_t i = 0; i < 13; ++i) EXPECT_EQ(causes[i].code, i + 1);
  EXPECT_EQ(causes[0].value.size(), 4u);  // stream id + reserved
  EXPECT_EQ(causes[1].value.size(), 8u);  // count + 2 types
  EXPECT_EQ(causes[5].value.size(), 4u);
  EXPECT_EQ(std::string(causes[12].value.begin(), causes[12].value.end()), "bad TSN");

  const std::vector<std::string> expected = {
      "Invalid Stream Identifier (stream 7)",
      "Missing Mandatory Parameter (type 7, 9)",
      "Stale Cookie Error (staleness 1500 us)",
      "Out of Resource",
      "Unresolvable Address",
      "Unrecognized Chunk Type 0x4f",
      "Invalid Mandatory Parameter",
      "Unrecognized Parameters (type 0x4010)",
      "No User Data (TSN 123)",
      "Cookie Received While Shutting Down",
      "Restart of an Association with New Addresses",
      "User-Initiated Abort: bye",
      "Protocol Violation: bad TSN",
      "Unknown Error Cause 0x0100",
  };
  for (size_t i = 0; i < causes.size(); ++i) EXPECT_EQ(describe_cause(causes[i]), expected[i]);

  std::string joined;
  for (const auto& e : expected) joined += (joined.empty() ? "" : "; ") + e;
  EXPECT_EQ(describe_causes(region), joined);
}

TEST(DescribeCauses, EmptyAndMalformed) {
  EXPECT_EQ(describe_causes({}), "no cause given");
  const std::vector<uint8_t> bad = {0, 1, 0, 9, 0, 0};
  EXPECT_EQ(describe_causes(bad), "malformed error causes");
}

TEST(DescribeCause, UnprintableOrEmptyReasonNotShown) {
  std::vector<uint8_t> region;
  CauseWriter w(region);
  const uint8_t binary[] = {'o', 'k', 0x01, 0xFF};
  w.user_initiated_abort(binary);
  w.user_initiated_abort({});
  w.user_initiated_abort(bytes(std::string_view("done\0", 5)));  // C string with its NUL
  w.protocol_violation("line\nbreak");
  auto causes = CauseList::parse(region)->all();
  ASSERT_EQ(causes.size(), 4u);
  EXPECT_EQ(describe_cause(causes[0]), "User-Initiated Abort (4 bytes)");
  EXPECT_EQ(describe_cause(causes[1]), "User-Initiated Abort");
  EXPECT_EQ(describe_cause(causes[2]), "User-Initiated Abort: done");
  EXPECT_EQ(describe_cause(causes[3]), "Protocol Violation (10 bytes)");
}

TEST(DescribeCause, ShortValuesDoNotOverread) {
  const std::vector<uint8_t> one = {0x01};
  for (uint16_t code = 1; code <= 13; ++code) {
    EXPECT_FALSE(describe_cause(CauseView{code, {}}).empty());
    EXPECT_FALSE(describe_cause(CauseView{code, one}).empty());
  }
  // A Missing Mandatory Parameter count larger than the list.
  const std::vector<uint8_t> lying = {0, 0, 0, 50, 0, 7};
  EXPECT_EQ(describe_cause(CauseView{2, lying}), "Missing Mandatory Parameter (type 7)");
}

TEST(CauseList, MalformedRejectedEveryPrefixSafe) {
  std::vector<uint8_t> full;
  CauseWriter w(full);
  w.stale_cookie(1);
  w.protocol_violation("abcde");
  w.out_of_resource();
  for (size_t n = 0; n <= full.size(); ++n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + n);
    auto l = CauseList::parse(b);
    if (!l) continue;
    for (const auto& c : l->all()) {
      EXPECT_GE(c.value.data(), b.data());
      EXPECT_LE(c.value.data() + c.value.size(), b.data() + b.size());
    }
  }
  EXPECT_TRUE(CauseList::parse(full));
  EXPECT_FALSE(CauseList::parse(std::vector<uint8_t>{0, 3, 0, 2}));
  EXPECT_FALSE(CauseList::parse(std::vector<uint8_t>{0, 3, 0, 12, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace sctpp::wire
