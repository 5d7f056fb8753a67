// Parsing and serialization of the typed chunk structs of chunks.h.
#include "wire/chunks.h"

#include <cstring>

#include "wire/tlv.h"

namespace sctpp::wire {
namespace {

constexpr uint8_t kFlagImmediate = 0x08;
constexpr uint8_t kFlagUnordered = 0x04;
constexpr uint8_t kFlagBeginning = 0x02;
constexpr uint8_t kFlagEnding = 0x01;
constexpr uint8_t kFlagT = 0x01;

constexpr uint16_t kHeartbeatInfoParam = 1;

bool is(const ChunkView& c, ChunkType t) {
  return c.type == static_cast<uint8_t>(t);
}

// Chunk header; `length` is the unpadded chunk length. Sizes come from our own structs
// and are bounded by the packet size limit, so the narrowing is by contract.
void write_header(uint8_t* out, ChunkType type, uint8_t flags, size_t length) {
  out[0] = static_cast<uint8_t>(type);
  out[1] = flags;
  store16(out + 2, static_cast<uint16_t>(length));
}

void copy(uint8_t* out, std::span<const uint8_t> bytes) {
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
}

// INIT and INIT ACK: 16 fixed bytes then parameters.
bool parse_init_fields(const ChunkView& c, InitFields& f) {
  if (c.value.size() < 16) return false;
  const uint8_t* p = c.value.data();
  f.initiate_tag = VerificationTag(load32(p));
  f.a_rwnd = load32(p + 4);
  f.outbound_streams = load16(p + 8);
  f.inbound_streams = load16(p + 10);
  f.initial_tsn = Tsn(load32(p + 12));
  f.params = c.value.subspan(16);
  return true;
}

}  // namespace

size_t tlv_unpadded_size(std::span<const uint8_t> region) {
  // Well-formed means what ParamList/CauseList accept: a region that ends in part of
  // its last element's padding (e.g. a 5-byte parameter then 1 byte) is not, and is
  // kept whole rather than silently trimmed.
  if (!detail::tlv_region_valid(region)) return region.size();
  size_t off = 0, end = 0;
  while (off < region.size()) {
    size_t len = load16(region.data() + off + 2);
    end = off + len;
    off += pad4(len);
  }
  return end;
}

namespace {

void write_init_fields(uint8_t* out, ChunkType type, const InitFields& f) {
  write_header(out, type, 0, 20 + tlv_unpadded_size(f.params));
  store32(out + 4, f.initiate_tag.value());
  store32(out + 8, f.a_rwnd);
  store16(out + 12, f.outbound_streams);
  store16(out + 14, f.inbound_streams);
  store32(out + 16, f.initial_tsn.value());
  // Exactly size() bytes: the final parameter's padding is the writer's to add.
  copy(out + 20, f.params.first(tlv_unpadded_size(f.params)));
}

// HEARTBEAT and HEARTBEAT ACK: the value starts with a Heartbeat Info parameter whose
// length must fit in the value; whatever follows it (other TLVs) is kept as `rest`.
template <class C>
std::optional<C> parse_heartbeat(const ChunkView& c) {
  if (!is(c, C::kType) || c.value.size() < 4) return std::nullopt;
  const uint8_t* p = c.value.data();
  if (load16(p) != kHeartbeatInfoParam) return std::nullopt;
  size_t len = load16(p + 2);
  if (len < 4 || len > c.value.size()) return std::nullopt;
  return C{c.value.subspan(4, len - 4), c.value.subspan(std::min(pad4(len), c.value.size()))};
}

size_t heartbeat_size(std::span<const uint8_t> info, std::span<const uint8_t> rest) {
  return rest.empty() ? 8 + info.size() : pad4(8 + info.size()) + rest.size();
}

void write_heartbeat(uint8_t* out, ChunkType type, std::span<const uint8_t> info,
                     std::span<const uint8_t> rest) {
  write_header(out, type, 0, heartbeat_size(info, rest));
  store16(out + 4, kHeartbeatInfoParam);
  store16(out + 6, static_cast<uint16_t>(4 + info.size()));
  copy(out + 8, info);
  if (rest.empty()) return;
  const size_t at = pad4(8 + info.size());
  for (size_t i = 8 + info.size(); i < at; ++i) out[i] = 0;
  copy(out + at, rest);
}

}  // namespace

// DATA (RFC 9260 §3.3.1)

std::optional<DataChunk> DataChunk::parse(const ChunkView& c) {
  if (!is(c, kType) || c.value.size() < kHeaderSize - 4) return std::nullopt;
  const uint8_t* p = c.value.data();
  DataChunk d;
  d.immediate = c.flags & kFlagImmediate;
  d.unordered = c.flags & kFlagUnordered;
  d.beginning = c.flags & kFlagBeginning;
  d.ending = c.flags & kFlagEnding;
  d.tsn = Tsn(load32(p));
  d.stream = StreamId(load16(p + 4));
  d.ssn = Ssn(load16(p + 6));
  d.ppid = Ppid(load32(p + 8));
  d.payload = c.value.subspan(kHeaderSize - 4);
  return d;
}

void DataChunk::write_header(uint8_t* out) const {
  uint8_t flags = (immediate ? kFlagImmediate : 0) | (unordered ? kFlagUnordered : 0) |
                  (beginning ? kFlagBeginning : 0) | (ending ? kFlagEnding : 0);
  wire::write_header(out, kType, flags, size());
  store32(out + 4, tsn.value());
  store16(out + 8, stream.value());
  store16(out + 10, ssn.value());
  store32(out + 12, ppid.value());
}

void DataChunk::write(uint8_t* out) const {
  write_header(out);
  copy(out + kHeaderSize, payload);
}

// INIT / INIT ACK (§3.3.2, §3.3.3)

std::optional<InitChunk> InitChunk::parse(const ChunkView& c) {
  InitChunk i;
  if (!is(c, kType) || !parse_init_fields(c, i)) return std::nullopt;
  return i;
}
void InitChunk::write(uint8_t* out) const {
  write_init_fields(out, kType, *this);
}

std::optional<InitAckChunk> InitAckChunk::parse(const ChunkView& c) {
  InitAckChunk i;
  if (!is(c, kType) || !parse_init_fields(c, i)) return std::nullopt;
  return i;
}
void InitAckChunk::write(uint8_t* out) const {
  write_init_fields(out, kType, *this);
}

// SACK (§3.3.4)

std::optional<SackChunk> SackChunk::parse(const ChunkView& c) {
  if (!is(c, kType) || c.value.size() < 12) return std::nullopt;
  const uint8_t* p = c.value.data();
  size_t gaps = load16(p + 8);
  size_t dups = load16(p + 10);
  // The counts come from the peer: check them against the bytes before reserving.
  if (12 + 4 * (gaps + dups) > c.value.size()) return std::nullopt;
  SackChunk s;
  s.cum_tsn_ack = Tsn(load32(p));
  s.a_rwnd = load32(p + 4);
  s.gap_blocks.reserve(gaps);
  s.dup_tsns.reserve(dups);
  const uint8_t* q = p + 12;
  for (size_t i = 0; i < gaps; ++i, q += 4) s.gap_blocks.push_back({load16(q), load16(q + 2)});
  for (size_t i = 0; i < dups; ++i, q += 4) s.dup_tsns.push_back(Tsn(load32(q)));
  return s;
}

void SackChunk::write(uint8_t* out) const {
  write_header(out, kType, 0, size());
  store32(out + 4, cum_tsn_ack.value());
  store32(out + 8, a_rwnd);
  store16(out + 12, static_cast<uint16_t>(gap_blocks.size()));
  store16(out + 14, static_cast<uint16_t>(dup_tsns.size()));
  uint8_t* q = out + 16;
  for (const auto& g : gap_blocks) {
    store16(q, g.start);
    store16(q + 2, g.end);
    q += 4;
  }
  for (Tsn t : dup_tsns) {
    store32(q, t.value());
    q += 4;
  }
}

// HEARTBEAT / HEARTBEAT ACK (§3.3.5, §3.3.6)

std::optional<HeartbeatChunk> HeartbeatChunk::parse(const ChunkView& c) {
  return parse_heartbeat<HeartbeatChunk>(c);
}
size_t HeartbeatChunk::size() const {
  return heartbeat_size(info, rest);
}
void HeartbeatChunk::write(uint8_t* out) const {
  write_heartbeat(out, kType, info, rest);
}

std::optional<HeartbeatAckChunk> HeartbeatAckChunk::parse(const ChunkView& c) {
  return parse_heartbeat<HeartbeatAckChunk>(c);
}
size_t HeartbeatAckChunk::size() const {
  return heartbeat_size(info, rest);
}
void HeartbeatAckChunk::write(uint8_t* out) const {
  write_heartbeat(out, kType, info, rest);
}

// ABORT (§3.3.7)

std::optional<AbortChunk> AbortChunk::parse(const ChunkView& c) {
  if (!is(c, kType)) return std::nullopt;
  return AbortChunk{(c.flags & kFlagT) != 0, c.value};
}
void AbortChunk::write(uint8_t* out) const {
  write_header(out, kType, t_bit ? kFlagT : 0, size());
  copy(out + 4, causes.first(size() - 4));
}

// SHUTDOWN (§3.3.8): fixed length 8.

std::optional<ShutdownChunk> ShutdownChunk::parse(const ChunkView& c) {
  if (!is(c, kType) || c.value.size() != 4) return std::nullopt;
  return ShutdownChunk{Tsn(load32(c.value.data()))};
}
void ShutdownChunk::write(uint8_t* out) const {
  write_header(out, kType, 0, size());
  store32(out + 4, cum_tsn_ack.value());
}

// SHUTDOWN ACK (§3.3.9): fixed length 4.

std::optional<ShutdownAckChunk> ShutdownAckChunk::parse(const ChunkView& c) {
  if (!is(c, kType) || !c.value.empty()) return std::nullopt;
  return ShutdownAckChunk{};
}
void ShutdownAckChunk::write(uint8_t* out) const {
  write_header(out, kType, 0, size());
}

// ERROR (§3.3.10)

std::optional<ErrorChunk> ErrorChunk::parse(const ChunkView& c) {
  if (!is(c, kType)) return std::nullopt;
  return ErrorChunk{c.value};
}
void ErrorChunk::write(uint8_t* out) const {
  write_header(out, kType, 0, size());
  copy(out + 4, causes.first(size() - 4));
}

// COOKIE ECHO (§3.3.11)

std::optional<CookieEchoChunk> CookieEchoChunk::parse(const ChunkView& c) {
  if (!is(c, kType)) return std::nullopt;
  return CookieEchoChunk{c.value};
}
void CookieEchoChunk::write(uint8_t* out) const {
  write_header(out, kType, 0, size());
  copy(out + 4, cookie);
}

// COOKIE ACK (§3.3.12): fixed length 4.

std::optional<CookieAckChunk> CookieAckChunk::parse(const ChunkView& c) {
  if (!is(c, kType) || !c.value.empty()) return std::nullopt;
  return CookieAckChunk{};
}
void CookieAckChunk::write(uint8_t* out) const {
  write_header(out, kType, 0, size());
}

// SHUTDOWN COMPLETE (§3.3.13): fixed length 4, T bit.

std::optional<ShutdownCompleteChunk> ShutdownCompleteChunk::parse(const ChunkView& c) {
  if (!is(c, kType) || !c.value.empty()) return std::nullopt;
  return ShutdownCompleteChunk{(c.flags & kFlagT) != 0};
}
void ShutdownCompleteChunk::write(uint8_t* out) const {
  write_header(out, kType, t_bit ? kFlagT : 0, size());
}

// PAD (RFC 4820)

std::optional<PadChunk> PadChunk::parse(const ChunkView& c) {
  if (!is(c, kType)) return std::nullopt;
  return PadChunk{c.value.size()};
}
void PadChunk::write(uint8_t* out) const {
  write_header(out, kType, 0, size());
  std::memset(out + 4, 0, padding);
}

}  // namespace sctpp::wire
