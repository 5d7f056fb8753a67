// Large message buffers handed back by their readers, kept for the next messages that
// need as much room.
//
// Why: a receiver of large fragmented messages reserves one buffer per message and
// gives it to the user, who frees it. glibc returns the top of its heap to the kernel
// when a chunk of 64 KiB or more is freed next to it (its trim threshold is 128 KiB),
// so the next reservation faults fresh, zeroed pages in: 44,000 page faults a second
// for a `sctpp perf` receiver of 64 KiB messages, 13% of its time. A buffer that
// comes back here is reused with its pages.
//
// Senders copy large messages into them too (the copy is held until acknowledged),
// for the same reason.
//
// Bounded: at most kMaxBuffers buffers and kMaxBytes of capacity; smaller buffers are
// not worth keeping (malloc serves them from its bins). Thread-safe: buffers come
// back from user threads while the stack takes them under its own lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace sctpp {

class BufferPool {
 public:
  static constexpr size_t kMinBytes = 16 * 1024;
  static constexpr size_t kMaxBytes = 4 * 1024 * 1024;
  static constexpr size_t kMaxBuffers = 16;

  // An empty buffer with room for at least `bytes`: a kept one if one is large
  // enough, else a new one with that room reserved.
  std::vector<uint8_t> take(size_t bytes);
  // Keeps `buffer`'s memory for a later take() when it is worth it and fits the bounds;
  // frees it otherwise.
  void give(std::vector<uint8_t>&& buffer);
  // A shared copy of `data` (a message queued to send, held until acknowledged) whose
  // buffer comes back to `pool` when the last holder lets go. `pool` may be null, and
  // must outlive the copy.
  static std::shared_ptr<const std::vector<uint8_t>> share_copy(BufferPool* pool,
                                                                std::span<const uint8_t> data);

  size_t buffers() const;
  size_t bytes() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::vector<uint8_t>> kept_;  // most recently given last (warmest)
  size_t bytes_ = 0;                        // capacity of the kept buffers
};

}  // namespace sctpp
