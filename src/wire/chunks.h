// Typed codecs for the RFC 9260 chunks (plus PAD, RFC 4820). Each struct parses from
// a ChunkView (returning nullopt on any malformation, never reading past the view)
// and serializes through PacketWriter::add: size() is the unpadded chunk length
// including the 4-byte header, write() writes exactly that many bytes.
// Variable parts (payload, parameters, error causes, cookies) are spans that point
// into the parsed packet or into a buffer owned by the caller while building.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "util/strong_types.h"
#include "wire/packet.h"

namespace sctpp::wire {

enum class ChunkType : uint8_t {
  Data = 0,
  Init = 1,
  InitAck = 2,
  Sack = 3,
  Heartbeat = 4,
  HeartbeatAck = 5,
  Abort = 6,
  Shutdown = 7,
  ShutdownAck = 8,
  Error = 9,
  CookieEcho = 10,
  CookieAck = 11,
  Ecne = 12,
  Cwr = 13,
  ShutdownComplete = 14,
  Auth = 15,
  IData = 64,
  Asconf = 193,
  AsconfAck = 128,
  ReConfig = 130,
  Pad = 132,
  ForwardTsn = 192,
  IForwardTsn = 194,
};

// What to do with a chunk type we do not understand: the upper two bits of the
// type (RFC 9260 §3.2).
enum class UnknownAction : uint8_t {
  Stop = 0,           // 00: discard the packet
  StopAndReport = 1,  // 01: discard the packet, report in ERROR (Unrecognized Chunk Type)
  Skip = 2,           // 10: skip this chunk, continue
  SkipAndReport = 3,  // 11: skip, continue, report in ERROR
};
constexpr UnknownAction unknown_chunk_action(uint8_t type) {
  return static_cast<UnknownAction>(type >> 6);
}

struct DataChunk {
  static constexpr ChunkType kType = ChunkType::Data;
  static constexpr size_t kHeaderSize = 16;
  // Flags (RFC 9260 §3.3.1; I from RFC 7053).
  bool immediate = false;  // I
  bool unordered = false;  // U
  bool beginning = false;  // B
  bool ending = false;     // E
  Tsn tsn{0};
  StreamId stream{0};
  Ssn ssn{0};
  Ppid ppid{0};
  std::span<const uint8_t> payload;

  // nullopt when shorter than 16 bytes. An empty payload parses (the association
  // answers it with the No User Data error, §6.2).
  static std::optional<DataChunk> parse(const ChunkView& c);
  size_t size() const { return kHeaderSize + payload.size(); }
  void write(uint8_t* out) const;
  void write_header(uint8_t* out) const;  // the 16 bytes before the payload
};

// Length of a TLV region (parameters, error causes) without the padding after its
// last element: RFC 9260 §3.2 says a chunk's length counts the padding of every
// parameter but the last. Returns the region's size when it is not well-formed.
size_t tlv_unpadded_size(std::span<const uint8_t> region);

// INIT and INIT ACK share a layout (RFC 9260 §3.3.2, §3.3.3); `params` is the raw
// TLV region of optional/variable parameters (see parameters.h to walk or build it).
struct InitFields {
  VerificationTag initiate_tag{0};
  uint32_t a_rwnd = 0;
  uint16_t outbound_streams = 0;
  uint16_t inbound_streams = 0;
  Tsn initial_tsn{0};
  std::span<const uint8_t> params;
};

struct InitChunk : InitFields {
  static constexpr ChunkType kType = ChunkType::Init;
  static std::optional<InitChunk> parse(const ChunkView& c);  // nullopt if < 16 bytes of value
  size_t size() const { return 20 + tlv_unpadded_size(params); }
  void write(uint8_t* out) const;
};

struct InitAckChunk : InitFields {
  static constexpr ChunkType kType = ChunkType::InitAck;
  static std::optional<InitAckChunk> parse(const ChunkView& c);
  size_t size() const { return 20 + tlv_unpadded_size(params); }
  void write(uint8_t* out) const;
};

// Gap Ack Block offsets are relative to the Cumulative TSN Ack (RFC 9260 §3.3.4).
struct GapAckBlock {
  uint16_t start = 0;
  uint16_t end = 0;
  friend bool operator==(const GapAckBlock&, const GapAckBlock&) = default;
};

struct SackChunk {
  static constexpr ChunkType kType = ChunkType::Sack;
  Tsn cum_tsn_ack{0};
  uint32_t a_rwnd = 0;
  std::vector<GapAckBlock> gap_blocks;
  std::vector<Tsn> dup_tsns;

  // nullopt when the counts claim more blocks than the chunk holds.
  static std::optional<SackChunk> parse(const ChunkView& c);
  size_t size() const { return 16 + 4 * gap_blocks.size() + 4 * dup_tsns.size(); }
  void write(uint8_t* out) const;
};

// HEARTBEAT and HEARTBEAT ACK carry one Heartbeat Info parameter (type 1) whose value
// is opaque to the peer (RFC 9260 §3.3.5, §3.3.6). `info` is that value only.
// `info`: the Heartbeat Information parameter's value. `rest`: the TLVs after it, raw
// (RFC 9260 §8.3: a HEARTBEAT ACK copies them "unchanged" with the info).
struct HeartbeatChunk {
  static constexpr ChunkType kType = ChunkType::Heartbeat;
  std::span<const uint8_t> info;
  std::span<const uint8_t> rest{};
  // nullopt unless the value starts with a well-formed Heartbeat Info parameter.
  static std::optional<HeartbeatChunk> parse(const ChunkView& c);
  size_t size() const;
  void write(uint8_t* out) const;
};

struct HeartbeatAckChunk {
  static constexpr ChunkType kType = ChunkType::HeartbeatAck;
  std::span<const uint8_t> info;
  std::span<const uint8_t> rest{};
  static std::optional<HeartbeatAckChunk> parse(const ChunkView& c);
  size_t size() const;
  void write(uint8_t* out) const;
};

// `causes` is the raw region of error causes (see error_causes.h).
struct AbortChunk {
  static constexpr ChunkType kType = ChunkType::Abort;
  bool t_bit = false;  // tag reflected (§8.5.1)
  std::span<const uint8_t> causes;
  static std::optional<AbortChunk> parse(const ChunkView& c);
  size_t size() const { return 4 + tlv_unpadded_size(causes); }
  void write(uint8_t* out) const;
};

struct ShutdownChunk {
  static constexpr ChunkType kType = ChunkType::Shutdown;
  Tsn cum_tsn_ack{0};
  static std::optional<ShutdownChunk> parse(const ChunkView& c);  // value must be 4 bytes
  size_t size() const { return 8; }
  void write(uint8_t* out) const;
};

struct ShutdownAckChunk {
  static constexpr ChunkType kType = ChunkType::ShutdownAck;
  static std::optional<ShutdownAckChunk> parse(const ChunkView& c);
  size_t size() const { return 4; }
  void write(uint8_t* out) const;
};

struct ErrorChunk {
  static constexpr ChunkType kType = ChunkType::Error;
  std::span<const uint8_t> causes;
  static std::optional<ErrorChunk> parse(const ChunkView& c);
  size_t size() const { return 4 + tlv_unpadded_size(causes); }
  void write(uint8_t* out) const;
};

struct CookieEchoChunk {
  static constexpr ChunkType kType = ChunkType::CookieEcho;
  std::span<const uint8_t> cookie;
  static std::optional<CookieEchoChunk> parse(const ChunkView& c);
  size_t size() const { return 4 + cookie.size(); }
  void write(uint8_t* out) const;
};

struct CookieAckChunk {
  static constexpr ChunkType kType = ChunkType::CookieAck;
  static std::optional<CookieAckChunk> parse(const ChunkView& c);
  size_t size() const { return 4; }
  void write(uint8_t* out) const;
};

struct ShutdownCompleteChunk {
  static constexpr ChunkType kType = ChunkType::ShutdownComplete;
  bool t_bit = false;
  static std::optional<ShutdownCompleteChunk> parse(const ChunkView& c);
  size_t size() const { return 4; }
  void write(uint8_t* out) const;
};

// RFC 4820 padding chunk; its content is ignored by the receiver.
struct PadChunk {
  static constexpr ChunkType kType = ChunkType::Pad;
  size_t padding = 0;  // bytes of padding after the header
  static std::optional<PadChunk> parse(const ChunkView& c);
  size_t size() const { return 4 + padding; }
  void write(uint8_t* out) const;  // zero-filled
};

}  // namespace sctpp::wire
