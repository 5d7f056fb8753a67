// SCTP packet parsing (common header, checksum, chunk boundaries) and building.
#include "wire/packet.h"

#include <algorithm>

#include "wire/chunks.h"
#include "wire/crc32c.h"

namespace sctpp::wire {
namespace {

// The checksum field holds the CRC32c with its low byte first (RFC 9260 Appendix A),
// i.e. little-endian, unlike every other field of the packet.
uint32_t load32_le(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
void store32_le(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

constexpr size_t kChecksumOffset = 8;

std::optional<PacketView> fail(ParseError* error, ParseError e) {
  if (error) *error = e;
  return std::nullopt;
}

}  // namespace

uint32_t packet_checksum(std::span<const uint8_t> packet) {
  if (packet.size() < kCommonHeaderSize) return crc32c(packet);
  static constexpr uint8_t kZeros[4] = {0, 0, 0, 0};
  uint32_t crc = crc32c(packet.first(kChecksumOffset));
  crc = crc32c(kZeros, crc);
  return crc32c(packet.subspan(kCommonHeaderSize), crc);
}

std::optional<PacketView> PacketView::parse(std::span<const uint8_t> bytes, ChecksumPolicy policy,
                                            ParseError* error) {
  if (bytes.size() < kCommonHeaderSize) return fail(error, ParseError::TooShort);

  PacketView v;
  const uint8_t* p = bytes.data();
  v.header_.src_port = load16(p);
  v.header_.dst_port = load16(p + 2);
  v.header_.vtag = VerificationTag(load32(p + 4));
  v.header_.checksum = load32_le(p + kChecksumOffset);

  // The checksum is checked before the chunk walk so that a corrupted packet is
  // reported as corrupted rather than as malformed.
  switch (policy) {
    case ChecksumPolicy::Verify:
      if (v.header_.checksum != packet_checksum(bytes)) {
        return fail(error, ParseError::BadChecksum);
      }
      break;
    case ChecksumPolicy::AllowZero:
      if (v.header_.checksum != 0 && v.header_.checksum != packet_checksum(bytes)) {
        return fail(error, ParseError::BadChecksum);
      }
      break;
    case ChecksumPolicy::Skip:
      break;
  }

  // Walk every chunk once so that iteration later can trust the lengths.
  size_t off = kCommonHeaderSize;
  size_t count = 0;
  while (bytes.size() - off >= kChunkHeaderSize) {
    size_t rest = bytes.size() - off;
    size_t len = load16(p + off + 2);
    if (len < kChunkHeaderSize || len > rest) return fail(error, ParseError::BadChunkLength);
    ++count;
    if (pad4(len) > rest) {
      // The last chunk may come without its padding; nothing can follow it.
      off += len;
      break;
    }
    off += pad4(len);
  }
  // Fewer than 4 bytes after the last chunk cannot be a chunk; they are ignored.
  v.bytes_ = bytes;
  v.chunks_ = bytes.subspan(kCommonHeaderSize, off - kCommonHeaderSize);
  v.chunk_count_ = count;
  return v;
}

void PacketView::Iterator::load() {
  // The region was validated by parse(), but the constructor is public: re-check so a
  // hand-made iterator ends instead of reading out of bounds.
  if (rest_.size() < kChunkHeaderSize) {
    rest_ = rest_.subspan(rest_.size());
    cur_ = ChunkView{};
    return;
  }
  size_t len = load16(rest_.data() + 2);
  if (len < kChunkHeaderSize || len > rest_.size()) {
    rest_ = rest_.subspan(rest_.size());
    cur_ = ChunkView{};
    return;
  }
  cur_.type = rest_[0];
  cur_.flags = rest_[1];
  cur_.whole = rest_.first(len);
  cur_.value = rest_.subspan(kChunkHeaderSize, len - kChunkHeaderSize);
}

PacketView::Iterator& PacketView::Iterator::operator++() {
  if (rest_.empty()) return *this;
  rest_ = rest_.subspan(std::min(pad4(cur_.whole.size()), rest_.size()));
  load();
  return *this;
}

PacketWriter::PacketWriter(std::vector<uint8_t>& buffer, size_t max_size)
    : vector_(&buffer),
      data_(buffer.data()),
      capacity_(buffer.size()),
      max_size_(max_size),
      size_(buffer.size()) {}

PacketWriter::PacketWriter(std::span<uint8_t> out, size_t max_size)
    : data_(out.data()), capacity_(out.size()), max_size_(std::min(max_size, out.size())) {}

void PacketWriter::begin(uint16_t src_port, uint16_t dst_port, VerificationTag vtag) {
  if (!reserve_to(kCommonHeaderSize)) return;
  size_ = kCommonHeaderSize;
  uint8_t* p = data_;
  store16(p, src_port);
  store16(p + 2, dst_port);
  store32(p + 4, vtag.value());
  store32(p + kChecksumOffset, 0);
  summed_ = 0;
  crc_ = 0;
}

void PacketWriter::add_data(const DataChunk& chunk, size_t at) {
  chunk.write_header(data_ + at);
  const size_t payload_at = at + DataChunk::kHeaderSize;
  crc_ = crc32c(std::span<const uint8_t>(data_ + summed_, payload_at - summed_), crc_);
  crc_ = crc32c_copy(data_ + payload_at, chunk.payload, crc_);
  summed_ = payload_at + chunk.payload.size();
}

void PacketWriter::add_raw(std::span<const uint8_t> chunk_bytes) {
  const size_t at = size_;
  if (!reserve_to(at + pad4(chunk_bytes.size()))) return;
  size_ = at + pad4(chunk_bytes.size());
  std::copy(chunk_bytes.begin(), chunk_bytes.end(), data_ + at);
  std::fill(data_ + at + chunk_bytes.size(), data_ + size_, uint8_t{0});
}

std::span<const uint8_t> PacketWriter::finish(bool zero_checksum) {
  if (vector_) {
    vector_->resize(size_);
    // A next packet begun on this writer grows the vector again (zero-filled) before
    // writing past its end, instead of writing there and being zeroed by this resize.
    capacity_ = size_;
  }
  if (overflow_) return {};
  const std::span<const uint8_t> packet(data_, size_);
  if (size_ < kCommonHeaderSize) return packet;  // begin() was not called
  store32(data_ + kChecksumOffset, 0);
  if (!zero_checksum) {
    // Bytes 8-11 were zero while summed (begin()); the rest is summed here (all of it
    // when the packet carries no DATA: summed_ and crc_ are then 0).
    store32_le(data_ + kChecksumOffset,
               crc32c(std::span<const uint8_t>(data_ + summed_, size_ - summed_), crc_));
  }
  return packet;
}

}  // namespace sctpp::wire
