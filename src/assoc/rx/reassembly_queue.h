// Turns received DATA chunks into whole user messages and releases them in the
// order RFC 9260 §6.5/§6.6/§6.9 requires: fragments joined by TSN (B..E run of
// consecutive TSNs on one stream), ordered messages in SSN order per stream,
// unordered messages as soon as complete. Memory is bounded: bytes held here (both
// partial and complete-but-unread) never exceed the configured limit.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "endpoint/options.h"
#include "util/strong_types.h"
#include "wire/chunks.h"

namespace sctpp {

class ReassemblyQueue {
 public:
  // `max_message_size`: largest message accepted; `buffer_limit`: cap on bytes held.
  ReassemblyQueue(uint16_t inbound_streams, size_t max_message_size, size_t buffer_limit);

  enum class AddResult {
    Ok,
    NoSpace,     // buffer limit reached: chunk not stored (do not ack it)
    TooLarge,    // message would exceed max_message_size (abort-worthy)
    BadStream,   // stream id >= inbound_streams (caller sends Invalid Stream error)
  };
  // Stores one new (non-duplicate) DATA chunk, copying its payload. `cum_tsn` is the
  // tracker's cumulative TSN after observing this chunk (recorded in ReceiveInfo).
  AddResult add(const wire::DataChunk& chunk, uint32_t assoc_id);

  // Next deliverable message, if any.
  std::optional<Message> pop();
  bool has_message() const { return !ready_.empty(); }
  size_t ready_count() const { return ready_.size(); }
  // Bytes held (partial + ready): the receive window is the buffer minus this.
  size_t buffered_bytes() const { return buffered_; }

 private:
  // ... implementation-defined containers
  struct Fragment {
    uint64_t tsn;  // unwrapped
    wire::DataChunk meta;  // payload span invalid after add(); use data
    std::vector<uint8_t> data;
  };
  uint16_t inbound_streams_;
  size_t max_message_size_;
  size_t buffer_limit_;
  size_t buffered_ = 0;
  TsnUnwrapper unwrap_;
  std::map<uint64_t, Fragment> fragments_;                // partial messages by TSN
  std::vector<std::map<uint16_t, Message>> ordered_;     // per stream: complete, waiting for SSN
  std::vector<Ssn> next_ssn_;                            // per stream
  std::deque<Message> ready_;
};

}  // namespace sctpp
