// Payload buffers of a `sctpp perf` throughput sender, reused once the transport lets
// go of them, so that large messages are sent without a copy.
//
// Each message is a buffer holding the pattern's template, stamped with its sequence
// number. An SCTP sender keeps it until the peer has acknowledged it (SharedMessage);
// its deleter puts it back here and a later message takes it again: only the stamps
// change. At most as many buffers live as messages were ever in flight and queued at
// once (bounded by the send buffer); those that come back after this object is gone
// are freed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "perf_common.h"
#include "sctpp/types.h"

namespace sctpp::tool::perf {

class PayloadBuffers {
 public:
  // `pattern` must outlive this object.
  PayloadBuffers(const Pattern& pattern, size_t size);
  // Message `seq`: a free buffer stamped with it, or a new one.
  SharedMessage next(uint64_t seq);

 private:
  // Shared with the deleters: buffers may come back after this object is gone.
  struct Shelf {
    std::mutex mu;
    std::vector<std::unique_ptr<std::vector<uint8_t>>> free;
  };
  const Pattern& pattern_;
  size_t size_;
  std::shared_ptr<Shelf> shelf_ = std::make_shared<Shelf>();
};

}  // namespace sctpp::tool::perf
