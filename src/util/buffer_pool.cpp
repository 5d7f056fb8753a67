// Kept message buffers: see buffer_pool.h.
#include "util/buffer_pool.h"

#include <utility>

namespace sctpp {

std::vector<uint8_t> BufferPool::take(size_t bytes) {
  std::vector<uint8_t> out;
  if (bytes >= kMinBytes) {
    std::lock_guard<std::mutex> lock(mu_);
    // The warmest that fits. A much larger one would do too, but it would hold its
    // memory for a small message while a large one allocates anew.
    for (size_t i = kept_.size(); i-- > 0;) {
      const size_t cap = kept_[i].capacity();
      if (cap >= bytes && cap / 2 <= bytes) {
        out = std::move(kept_[i]);
        kept_.erase(kept_.begin() + static_cast<std::ptrdiff_t>(i));
        bytes_ -= cap;
        return out;
      }
    }
  }
  out.reserve(bytes);
  return out;
}

void BufferPool::give(std::vector<uint8_t>&& buffer) {
  std::vector<uint8_t> b = std::move(buffer);  // the caller's vector is left empty
  const size_t cap = b.capacity();
  if (cap < kMinBytes) return;
  b.clear();
  std::lock_guard<std::mutex> lock(mu_);
  if (kept_.size() >= kMaxBuffers || bytes_ + cap > kMaxBytes) return;  // freed on return
  bytes_ += cap;
  kept_.push_back(std::move(b));
}

std::shared_ptr<const std::vector<uint8_t>> BufferPool::share_copy(BufferPool* pool,
                                                                   std::span<const uint8_t> data) {
  if (pool == nullptr || data.size() < kMinBytes)
    return std::make_shared<const std::vector<uint8_t>>(data.begin(), data.end());
  auto* v = new std::vector<uint8_t>(pool->take(data.size()));
  v->assign(data.begin(), data.end());
  return std::shared_ptr<const std::vector<uint8_t>>(v, [pool](std::vector<uint8_t>* p) {
    pool->give(std::move(*p));
    delete p;
  });
}

size_t BufferPool::buffers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kept_.size();
}

size_t BufferPool::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace sctpp
