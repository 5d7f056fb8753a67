// An SCTP packet: the common header and the chunks after it (RFC 9260 §3).
// PacketView parses untrusted bytes without copying; PacketWriter builds a packet
// into a caller-owned buffer and fills in the checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "util/strong_types.h"
#include "wire/byte_io.h"

namespace sctpp::wire {

constexpr size_t kCommonHeaderSize = 12;
constexpr size_t kChunkHeaderSize = 4;

struct CommonHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  VerificationTag vtag{0};
  uint32_t checksum = 0;  // as read from the wire (CRC32c value, host order)
};

// One chunk as it sits in the packet. `value` is what follows the 4-byte chunk
// header, exactly (Chunk Length - 4) bytes; padding is not included. `whole` is the
// chunk including its header (for reporting unrecognized chunks in an ERROR).
struct ChunkView {
  uint8_t type = 0;
  uint8_t flags = 0;
  std::span<const uint8_t> value;
  std::span<const uint8_t> whole;
};

enum class ParseError {
  TooShort,        // fewer than 12 bytes
  BadChecksum,     // CRC32c mismatch (or zero checksum not allowed)
  BadChunkLength,  // a chunk length < 4 or past the end of the packet
};

// How a zero checksum field is treated. RFC 9653: only accepted when the peer
// negotiated zero checksum; never by default.
enum class ChecksumPolicy { Verify, AllowZero, Skip };

class PacketView {
 public:
  // Validates header, checksum and every chunk's length before returning, so that
  // iteration afterwards cannot go out of bounds. A packet with no chunks is valid
  // here (the caller decides what to do with it).
  static std::optional<PacketView> parse(std::span<const uint8_t> bytes,
                                         ChecksumPolicy policy = ChecksumPolicy::Verify,
                                         ParseError* error = nullptr);

  const CommonHeader& header() const { return header_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  size_t chunk_count() const { return chunk_count_; }

  class Iterator {
   public:
    using value_type = ChunkView;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(std::span<const uint8_t> rest) : rest_(rest) { load(); }
    const ChunkView& operator*() const { return cur_; }
    const ChunkView* operator->() const { return &cur_; }
    Iterator& operator++();
    Iterator operator++(int) {
      auto t = *this;
      ++*this;
      return t;
    }
    bool operator==(const Iterator& o) const { return rest_.size() == o.rest_.size(); }

   private:
    void load();
    std::span<const uint8_t> rest_;
    ChunkView cur_;
  };
  Iterator begin() const { return Iterator(chunks_); }
  Iterator end() const { return Iterator(chunks_.subspan(chunks_.size())); }

 private:
  CommonHeader header_;
  std::span<const uint8_t> bytes_;
  std::span<const uint8_t> chunks_;  // the validated chunk region
  size_t chunk_count_ = 0;
};

// Builds one packet into `buffer` (resized as needed, capacity kept between uses), or
// into fixed memory (`out`: a sender writing packets back to back, so that a train of
// them is one piece of memory for the kernel). Usage: begin(); while (fits(c)) add(c);
// finish().
struct DataChunk;  // chunks.h

class PacketWriter {
 public:
  explicit PacketWriter(std::vector<uint8_t>& buffer, size_t max_size = 65535);
  // max_size is capped to out.size(). A chunk that would still not fit (a control
  // chunk alone in a packet may exceed max_size) is left out, and finish() then
  // returns an empty packet.
  PacketWriter(std::span<uint8_t> out, size_t max_size);

  void begin(uint16_t src_port, uint16_t dst_port, VerificationTag vtag);
  size_t size() const { return size_; }
  size_t max_size() const { return max_size_; }
  size_t remaining() const { return max_size_ > size_ ? max_size_ - size_ : 0; }
  bool empty() const { return size_ <= kCommonHeaderSize; }

  // Any chunk type from chunks.h: has size() (unpadded, header included) and
  // write(uint8_t*) writing exactly size() bytes.
  template <class C>
  bool fits(const C& chunk) const {
    return pad4(chunk.size()) <= remaining();
  }
  // Appends the chunk and its padding. Precondition: fits(chunk).
  template <class C>
  void add(const C& chunk) {
    const size_t n = chunk.size();
    const size_t at = size_;
    if (!reserve_to(at + pad4(n))) return;
    size_ = at + pad4(n);
    if constexpr (std::is_same_v<C, DataChunk>) {
      add_data(chunk, at);
    } else {
      chunk.write(data_ + at);
    }
    for (size_t i = at + n; i < size_; ++i) data_[i] = 0;
  }
  // Appends an already-serialized chunk (e.g. an unrecognized one being bounced).
  void add_raw(std::span<const uint8_t> chunk_bytes);

  // Cuts the buffer to the packet, writes the checksum (CRC32c, or 0 when
  // zero_checksum is set per RFC 9653) and returns the finished packet.
  std::span<const uint8_t> finish(bool zero_checksum = false);

 private:
  // DATA's payload is copied in and summed in one pass (crc32c_copy); the checksum of
  // what precedes it is taken first, so summed_ only moves over bytes that are final.
  void add_data(const DataChunk& chunk, size_t at);

  // Room for n bytes. A vector is only ever grown while writing (growing zero-fills,
  // and a reused buffer that held a full packet has room for the next one without
  // that); fixed memory has what it has (false: it does not fit).
  bool reserve_to(size_t n) {
    if (n <= capacity_) return true;
    if (vector_ == nullptr) {
      overflow_ = true;
      return false;
    }
    vector_->resize(n);
    data_ = vector_->data();
    capacity_ = n;
    return true;
  }
  std::vector<uint8_t>* vector_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
  size_t max_size_;
  size_t size_ = 0;
  bool overflow_ = false;
  size_t summed_ = 0;  // bytes [0, summed_) are in crc_ (the checksum field as zero)
  uint32_t crc_ = 0;
};

// Checksum helpers on a whole packet (checksum field treated as zero).
uint32_t packet_checksum(std::span<const uint8_t> packet);

}  // namespace sctpp::wire
