#include "assoc/tx/send_queue.h"

#include <algorithm>
#include <cassert>

namespace sctpp {

SendQueue::SendQueue(uint16_t outbound_streams) : stream_count_(outbound_streams) {}

void SendQueue::set_stream_count(uint16_t n) {
  stream_count_ = n;
  trim_streams();
}

// Drops the state of streams beyond stream_count_ that have nothing queued.
void SendQueue::trim_streams() {
  front_ = nullptr;
  std::erase_if(streams_, [&](const auto& kv) {
    return kv.first >= stream_count_ && kv.second.queue.empty();
  });
}

uint16_t SendQueue::stream_count() const {
  return stream_count_;
}

size_t SendQueue::queued_messages() const {
  return queued_messages_;
}

void SendQueue::push(StreamId stream, Ppid ppid, bool unordered, uint32_t context,
                     std::vector<uint8_t> data, bool sack_immediately) {
  push(stream, ppid, unordered, context,
       std::make_shared<const std::vector<uint8_t>>(std::move(data)), sack_immediately);
}

void SendQueue::push(StreamId stream, Ppid ppid, bool unordered, uint32_t context,
                     SharedMessage data, bool sack_immediately) {
  assert(data && !data->empty() && "DATA must carry at least one byte (RFC 9260 §3.3.1)");
  if (!data || data->empty()) return;  // Nothing could carry it; the caller rejects empty sends.
  uint16_t sid = stream.value();
  Stream& s = streams_[sid];
  if (s.queue.empty()) active_.push_back(sid);
  queued_bytes_ += data->size();
  ++queued_messages_;
  s.queue.push_back(Pending{ppid, unordered, sack_immediately, context, std::move(data)});
}

std::optional<OutgoingData> SendQueue::produce(size_t max_payload) {
  if (active_.empty() || max_payload == 0) return std::nullopt;
  const uint16_t sid = active_.front();
  // The stream in turn stays the same for every fragment of a message: one lookup each.
  if (front_ == nullptr || front_sid_ != sid) {
    front_ = &streams_[sid];
    front_sid_ = sid;
  }
  Stream& s = *front_;
  Pending& m = s.queue.front();

  OutgoingData out;
  out.stream = StreamId(sid);
  out.ppid = m.ppid;
  out.unordered = m.unordered;
  out.context = m.context;
  out.beginning = m.produced == 0;
  if (out.beginning && !m.unordered) {
    // RFC 9260 §6.6: SSNs count ordered messages per stream; every fragment of a
    // message carries the same SSN. Unordered messages carry SSN 0 (ignored, §3.3.1).
    s.current_ssn = s.next_ssn;
    s.next_ssn = s.next_ssn.next();
  }
  out.ssn = m.unordered ? Ssn(0) : s.current_ssn;
  out.message = m.data;
  out.offset = m.produced;
  out.length = std::min(max_payload, m.data->size() - m.produced);
  m.produced += out.length;
  queued_bytes_ -= out.length;
  out.ending = m.produced == m.data->size();
  out.sack_immediately = out.ending && m.sack_immediately;

  if (out.ending) {
    // Message boundary: the next stream in turn goes next (RFC 9260 §6.9: without
    // I-DATA, fragments of one message get consecutive TSNs, so no interleaving).
    s.queue.pop_front();
    --queued_messages_;
    active_.pop_front();
    if (!s.queue.empty()) {
      active_.push_back(sid);
    } else if (sid >= stream_count_) {
      front_ = nullptr;
      streams_.erase(sid);
    }
  }
  return out;
}

std::optional<size_t> SendQueue::next_message_remaining() const {
  if (active_.empty()) return std::nullopt;
  const Pending& m = streams_.at(active_.front()).queue.front();
  return m.data->size() - m.produced;
}

std::vector<OutgoingData> SendQueue::take_all() {
  std::vector<OutgoingData> out;
  for (auto& [sid, s] : streams_) {
    for (auto& m : s.queue) {
      OutgoingData d;
      d.stream = StreamId(sid);
      d.ppid = m.ppid;
      d.unordered = m.unordered;
      d.context = m.context;
      d.message = m.data;
      d.offset = 0;
      d.length = m.data->size();
      d.beginning = m.produced == 0;  // false: part of it is already in flight
      out.push_back(std::move(d));
    }
    s.queue.clear();
  }
  active_.clear();
  front_ = nullptr;
  queued_bytes_ = 0;
  queued_messages_ = 0;
  return out;
}

}  // namespace sctpp
