#include "assoc/rx/reassembly_queue.h"

#include <algorithm>
#include <iterator>

namespace sctpp {

ReassemblyQueue::ReassemblyQueue(uint16_t inbound_streams, size_t max_message_size,
                                 size_t buffer_limit, BufferPool* buffers)
    : inbound_streams_(inbound_streams),
      max_message_size_(std::min(max_message_size, buffer_limit)),
      buffer_limit_(buffer_limit),
      // About one entry per 128 buffered bytes: with MTU-sized chunks the byte
      // limit binds long before this; with 1-byte chunks this does, keeping the
      // bookkeeping (map nodes, vectors) in proportion to the buffer.
      max_entries_(std::max<size_t>(256, buffer_limit / 128)),
      buffers_(buffers) {}

// Assembly buffers grow geometrically (so alternating arrivals such as 2, 1, 4,
// 3, ... stay linear) but never past the largest message, so a buffer's capacity
// stays within max_message_size even though its size is only known at the end.
void ReassemblyQueue::reserve_for(std::vector<uint8_t>& v, size_t need) const {
  if (need <= v.capacity()) return;
  v.reserve(std::max(need, std::min(2 * v.capacity(), max_message_size_)));
}

void ReassemblyQueue::append(std::vector<uint8_t>& v, std::span<const uint8_t> bytes) const {
  reserve_for(v, v.size() + bytes.size());
  v.insert(v.end(), bytes.begin(), bytes.end());
}

size_t ReassemblyQueue::entries() const {
  return parked_.size() + assemblies_.size() + waiting_.size() + ready_.size();
}

ReassemblyQueue::Meta ReassemblyQueue::meta_of(const wire::DataChunk& c) {
  return Meta{c.stream.value(), c.ssn.value(), c.ppid.value(), c.unordered, c.beginning, c.ending};
}

// True when `next` can be the fragment right after `prev` in one message (§6.9:
// consecutive TSNs, same stream, same U flag; ordered fragments share the SSN).
bool ReassemblyQueue::continues(const Meta& prev, const Meta& next) {
  return !prev.ending && !next.beginning && prev.stream == next.stream &&
         prev.unordered == next.unordered && (prev.unordered || prev.ssn == next.ssn);
}

bool ReassemblyQueue::has_space(size_t bytes, bool in_sequence, size_t new_entries) const {
  size_t e = entries() + new_entries;
  if (buffered_ + bytes <= buffer_limit_ && e <= max_entries_) return true;
  // The reserve (see add()): only for the chunk that advances the cumulative TSN,
  // and only while the user has nothing to read (reading would free space).
  return in_sequence && ready_.empty() && buffered_ + bytes <= buffer_limit_ + kReserveBytes &&
         e <= max_entries_ + kReserveEntries;
}

size_t ReassemblyQueue::joinable_segment_bytes(uint64_t tsn, const Meta& m) const {
  if (m.ending) return 0;
  auto seg = segments_.find(tsn + 1);
  if (seg == segments_.end()) return 0;
  // A segment's first fragment is parked at its key.
  if (!continues(m, parked_.find(tsn + 1)->second.meta)) return 0;
  return seg->second.bytes;
}

ReassemblyQueue::AddResult ReassemblyQueue::add(const wire::DataChunk& chunk, uint32_t assoc_id,
                                                bool in_sequence) {
  if (chunk.stream.value() >= inbound_streams_) return AddResult::BadStream;
  const Meta m = meta_of(chunk);
  const size_t n = chunk.payload.size();
  const uint64_t tsn = unwrap_.unwrap(chunk.tsn);

  if (n > max_message_size_) return AddResult::TooLarge;

  if (auto it = assemblies_.find(tsn); it != assemblies_.end()) {
    if (continues(it->second.last, m))
      return add_to_assembly(it, tsn, m, chunk.payload, in_sequence);
    // The message being assembled expected its next fragment at this TSN, and this
    // chunk is something else: that message can never complete (§6.9 violated by
    // the peer). Free it rather than hold it forever.
    buffered_ -= it->second.data.size();
    assemblies_.erase(it);
    ++discarded_;
  }

  if (m.beginning && m.ending) {
    // Single-chunk message: the common case for small messages.
    if (!has_space(n, in_sequence, 1)) return AddResult::NoSpace;
    buffered_ += n;
    complete(m, chunk.tsn.value(), assoc_id,
             std::vector<uint8_t>(chunk.payload.begin(), chunk.payload.end()));
    return AddResult::Ok;
  }
  if (m.beginning)
    return start_assembly(tsn, m, chunk.payload, chunk.tsn.value(), assoc_id, in_sequence);
  return park(tsn, m, chunk.payload, in_sequence);
}

ReassemblyQueue::AddResult ReassemblyQueue::add_to_assembly(
    std::map<uint64_t, Assembly>::iterator it, uint64_t tsn, const Meta& m,
    std::span<const uint8_t> payload, bool in_sequence) {
  Assembly& a = it->second;
  size_t total = a.data.size() + payload.size() + joinable_segment_bytes(tsn, m);
  if (total > max_message_size_) return AddResult::TooLarge;
  if (!has_space(payload.size(), in_sequence, 0)) return AddResult::NoSpace;
  buffered_ += payload.size();
  append(a.data, payload);
  a.last = m;
  absorb_and_finish(it);
  return AddResult::Ok;
}

ReassemblyQueue::AddResult ReassemblyQueue::start_assembly(uint64_t tsn, const Meta& m,
                                                           std::span<const uint8_t> payload,
                                                           uint32_t first_tsn, uint32_t assoc_id,
                                                           bool in_sequence) {
  size_t total = payload.size() + joinable_segment_bytes(tsn, m);
  if (total > max_message_size_) return AddResult::TooLarge;
  if (!has_space(payload.size(), in_sequence, 1)) return AddResult::NoSpace;
  auto [it, inserted] = assemblies_.try_emplace(tsn);
  if (!inserted) return AddResult::Ok;  // cannot happen for a new TSN; ignore the chunk
  buffered_ += payload.size();
  Assembly& a = it->second;
  a.first = m;
  a.last = m;
  a.first_tsn = first_tsn;
  a.assoc_id = assoc_id;
  // Peers tend to send messages of one size: at the cumulative TSN, where only one
  // message can be in assembly at a time (its fragments take consecutive TSNs, §6.9),
  // start with room for one as large as the last, rather than doubling ~6 times
  // (copying the message ~1.4 times over) on the way to a 64 KiB one.
  if (in_sequence && last_assembled_ > payload.size()) {
    if (buffers_ != nullptr)
      a.data = buffers_->take(last_assembled_);
    else
      a.data.reserve(last_assembled_);
  }
  a.data.assign(payload.begin(), payload.end());
  absorb_and_finish(it);
  return AddResult::Ok;
}

void ReassemblyQueue::absorb_and_finish(std::map<uint64_t, Assembly>::iterator it) {
  // `it` is keyed by the TSN of the fragment just added; it becomes keyed by the
  // TSN it waits for next.
  uint64_t last_tsn = it->first;
  auto node = assemblies_.extract(it);
  Assembly& a = node.mapped();
  if (size_t extra = joinable_segment_bytes(last_tsn, a.last); extra > 0) {
    auto seg = segments_.find(last_tsn + 1);
    uint64_t seg_last = seg->second.last;
    reserve_for(a.data, a.data.size() + extra);
    auto p = parked_.find(last_tsn + 1);
    while (p != parked_.end() && p->first <= seg_last) {
      append(a.data, p->second.data);
      a.last = p->second.meta;
      p = parked_.erase(p);
    }
    segments_.erase(seg);
    last_tsn = seg_last;
  }
  if (a.last.ending) {
    last_assembled_ = std::min(a.data.size(), max_message_size_);
    complete(a.first, a.first_tsn, a.assoc_id, std::move(a.data));
    return;
  }
  node.key() = last_tsn + 1;
  auto r = assemblies_.insert(std::move(node));
  if (!r.inserted) {
    // Another message claims the same next TSN: impossible with unique TSNs.
    buffered_ -= r.node.mapped().data.size();
    ++discarded_;
  }
}

ReassemblyQueue::AddResult ReassemblyQueue::park(uint64_t tsn, const Meta& m,
                                                 std::span<const uint8_t> payload,
                                                 bool in_sequence) {
  // Find the segments this fragment joins: the one ending at tsn - 1 and the one
  // starting at tsn + 1, when the fragments on either side belong to its message.
  size_t bytes = payload.size();
  uint64_t last = tsn;
  auto left = segments_.end();
  if (auto p = parked_.find(tsn - 1); p != parked_.end() && continues(p->second.meta, m)) {
    left = std::prev(segments_.upper_bound(tsn - 1));
    bytes += left->second.bytes;
  }
  auto right = segments_.end();
  if (size_t r = joinable_segment_bytes(tsn, m); r > 0) {
    right = segments_.find(tsn + 1);
    bytes += r;
    last = right->second.last;
  }
  // A run of fragments longer than the largest message can never be a valid
  // message, whether or not its B fragment ever arrives.
  if (bytes > max_message_size_) return AddResult::TooLarge;
  if (!has_space(payload.size(), in_sequence, 1)) return AddResult::NoSpace;

  buffered_ += payload.size();
  parked_.emplace(tsn, Parked{m, std::vector<uint8_t>(payload.begin(), payload.end())});
  if (right != segments_.end()) segments_.erase(right);
  if (left != segments_.end()) {
    left->second = Segment{last, bytes};
  } else {
    segments_.emplace(tsn, Segment{last, bytes});
  }
  return AddResult::Ok;
}

void ReassemblyQueue::complete(const Meta& m, uint32_t first_tsn, uint32_t assoc_id,
                               std::vector<uint8_t> data) {
  Message msg;
  msg.info.stream = m.stream;
  msg.info.ssn = m.unordered ? 0 : m.ssn;
  msg.info.ppid = m.ppid;
  msg.info.tsn = first_tsn;
  msg.info.cumtsn = 0;
  msg.info.unordered = m.unordered;
  msg.info.assoc_id = assoc_id;
  msg.data = std::move(data);
  const size_t size = msg.data.size();

  // §6.6: unordered messages go to the user as soon as they are complete.
  if (m.unordered) {
    ready_.push_back(std::move(msg));
    return;
  }

  // §6.5: ordered messages in SSN order per stream, SSN compared by RFC 1982
  // serial arithmetic relative to the next expected one.
  if (next_ssn_.size() <= m.stream) next_ssn_.resize(size_t{m.stream} + 1, 0);
  uint64_t& next = next_ssn_[m.stream];
  auto d = distance(Ssn(m.ssn), Ssn(static_cast<uint16_t>(next)));
  if (d < 0) {
    // Already delivered that SSN: the peer reused it. It cannot be delivered in
    // order, and holding it would leak; drop it.
    buffered_ -= size;
    ++discarded_;
    return;
  }
  if (d > 0) {
    auto [it, inserted] =
        waiting_.try_emplace({m.stream, next + static_cast<uint64_t>(d)}, std::move(msg));
    if (!inserted) {
      buffered_ -= size;
      ++discarded_;
    }
    return;
  }
  ready_.push_back(std::move(msg));
  ++next;
  auto it = waiting_.find({m.stream, next});
  while (it != waiting_.end() && it->first.first == m.stream && it->first.second == next) {
    ready_.push_back(std::move(it->second));
    it = waiting_.erase(it);
    ++next;
  }
}

std::optional<Message> ReassemblyQueue::pop() {
  if (ready_.empty()) return std::nullopt;
  Message msg = std::move(ready_.front());
  ready_.pop_front();
  buffered_ -= msg.data.size();
  return msg;
}

}  // namespace sctpp
