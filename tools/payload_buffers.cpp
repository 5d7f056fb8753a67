// Payload buffers of a `sctpp perf` throughput sender (see payload_buffers.h).
#include "payload_buffers.h"

namespace sctpp::tool::perf {

PayloadBuffers::PayloadBuffers(const Pattern& pattern, size_t size)
    : pattern_(pattern), size_(size) {}

SharedMessage PayloadBuffers::next(uint64_t seq) {
  std::unique_ptr<std::vector<uint8_t>> buf;
  {
    std::lock_guard<std::mutex> lock(shelf_->mu);
    if (!shelf_->free.empty()) {
      buf = std::move(shelf_->free.back());
      shelf_->free.pop_back();
    }
  }
  if (!buf)
    buf = std::make_unique<std::vector<uint8_t>>(pattern_.templ(), pattern_.templ() + size_);
  pattern_.stamp(buf->data(), size_, seq);
  std::weak_ptr<Shelf> home = shelf_;
  return SharedMessage(buf.release(), [home](const std::vector<uint8_t>* p) {
    std::unique_ptr<std::vector<uint8_t>> back(const_cast<std::vector<uint8_t>*>(p));
    if (auto shelf = home.lock()) {
      std::lock_guard<std::mutex> lock(shelf->mu);
      shelf->free.push_back(std::move(back));
    }
  });
}

}  // namespace sctpp::tool::perf
