// Regression (fuzz_packet, found by its round-trip check): write() of INIT, INIT ACK,
// ABORT and ERROR must write exactly size() bytes (chunks.h). Since the chunk length
// leaves out the last parameter's padding (RFC 9260 §3.2), size() is up to 3 bytes
// shorter than the header plus the parameter region; write() still copied the whole
// region, i.e. past size(), and copied the peer's padding bytes onto the wire.
#include <gtest/gtest.h>

#include <vector>

#include "wire/chunks.h"
#include "wire/error_causes.h"
#include "wire/parameters.h"

namespace sctpp::wire {
namespace {

template <class C>
void expect_writes_exactly_size(const C& chunk, const char* name) {
  std::vector<uint8_t> buf(chunk.size() + 8, 0xA5);
  chunk.write(buf.data());
  for (size_t i = chunk.size(); i < buf.size(); ++i)
    EXPECT_EQ(buf[i], 0xA5) << name << ": write() wrote byte " << i << " past size() "
                            << chunk.size();
}

TEST(FuzzRegression, ChunkWriteStopsAtSizeWhenTheLastParameterIsPadded) {
  std::vector<uint8_t> params;
  const uint8_t five[] = {1, 2, 3, 4, 5};
  ParamWriter(params).add(uint16_t{0x8123}, five);  // 9-byte parameter + 3 bytes of padding
  params[params.size() - 1] = 0xEE;                 // a peer's non-zero padding
  InitChunk init;
  init.params = params;
  ASSERT_EQ(init.size(), 20u + 9u);
  expect_writes_exactly_size(init, "INIT");
  InitAckChunk ack;
  ack.params = params;
  expect_writes_exactly_size(ack, "INIT ACK");

  std::vector<uint8_t> causes;
  CauseWriter(causes).user_initiated_abort(five);
  causes.back() = 0xEE;
  AbortChunk abort;
  abort.causes = causes;
  ASSERT_EQ(abort.size(), 4u + 9u);
  expect_writes_exactly_size(abort, "ABORT");
  ErrorChunk error;
  error.causes = causes;
  expect_writes_exactly_size(error, "ERROR");
}

// Regression (fuzz_packet input regressions/fuzz_packet/abort-partial-padding): a cause
// region made of a 5-byte cause and 1 byte of its padding is malformed for CauseList,
// but tlv_unpadded_size() treated it as well-formed and cut the stray byte, so an ABORT
// re-serialized with that region came out different (and well-formed). A region the
// walkers reject must be kept whole (tlv_unpadded_size's contract).
TEST(FuzzRegression, TlvRegionEndingInPartialPaddingIsKeptWhole) {
  const uint8_t region[] = {0x01, 0x08, 0x00, 0x05, 0x00, 0x06};
  ASSERT_FALSE(CauseList::parse(region));
  EXPECT_EQ(tlv_unpadded_size(region), sizeof region);
  AbortChunk abort;
  abort.causes = region;
  EXPECT_EQ(abort.size(), 4 + sizeof region);
  // Well-formed regions: the last element's padding is left out, whether present or not.
  const uint8_t padded[] = {0x01, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(tlv_unpadded_size(padded), 5u);
  EXPECT_EQ(tlv_unpadded_size(std::span(padded).first(5)), 5u);
}

}  // namespace
}  // namespace sctpp::wire
