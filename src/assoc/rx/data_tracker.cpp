#include "assoc/rx/data_tracker.h"

#include <algorithm>
#include <iterator>

namespace sctpp {

namespace {
// Unwrapped TSNs start at 2^32 so that values one below the start never underflow.
constexpr uint64_t kUnwrapBase = uint64_t{1} << 32;
}  // namespace

DataTracker::DataTracker(Tsn peer_initial_tsn, Duration delayed_ack, int sack_freq)
    : cum_(peer_initial_tsn.prev()),
      cum64_(kUnwrapBase + peer_initial_tsn.prev().value()),
      delayed_ack_(delayed_ack),
      sack_freq_(static_cast<uint16_t>(std::clamp(sack_freq, 1, 65535))) {
  dups_.reserve(kMaxDuplicates);
}

uint64_t DataTracker::unwrap_ahead(Tsn tsn) const {
  return cum64_ + static_cast<uint32_t>(distance(tsn, cum_));
}

DataTracker::Verdict DataTracker::classify(Tsn tsn, uint32_t window) const {
  auto d = distance(tsn, cum_);
  if (d <= 0) return Verdict::Duplicate;
  if (static_cast<uint32_t>(d) > window) return Verdict::OutOfWindow;
  return is_received(tsn) ? Verdict::Duplicate : Verdict::New;
}

bool DataTracker::is_received(Tsn tsn) const {
  if (tsn <= cum_) return true;
  uint64_t t = unwrap_ahead(tsn);
  auto it = blocks_.upper_bound(t);
  if (it == blocks_.begin()) return false;
  --it;
  return t <= it->second;
}

bool DataTracker::range_limit_reached(Tsn tsn) const {
  if (blocks_.size() < kMaxGapRanges || tsn <= cum_) return false;
  uint64_t t = unwrap_ahead(tsn);
  if (t == cum64_ + 1) return false;
  auto next = blocks_.upper_bound(t);
  if (next != blocks_.end() && next->first == t + 1) return false;
  if (next != blocks_.begin() && std::prev(next)->second + 1 >= t) return false;
  return true;
}

Tsn DataTracker::highest_received() const {
  if (blocks_.empty()) return cum_;
  return Tsn(static_cast<uint32_t>(std::prev(blocks_.end())->second));
}

void DataTracker::begin_packet() {
  if (in_packet_) return;
  in_packet_ = true;
  gaps_at_packet_start_ = !blocks_.empty();
}

bool DataTracker::observe(Tsn tsn, uint32_t window) {
  begin_packet();
  auto d = distance(tsn, cum_);
  if (d > 0 && static_cast<uint32_t>(d) > window) return false;  // refused, not recorded
  if (d <= 0 || is_received(tsn)) {
    // RFC 9260 §6.2: duplicates are reported in the next SACK, which goes out at
    // once. The list is capped so a duplicate storm cannot grow memory.
    dup_in_packet_ = true;
    if (dups_.size() < kMaxDuplicates) dups_.push_back(tsn);
    return false;
  }

  uint64_t t = unwrap_ahead(tsn);
  if (t == cum64_ + 1) {
    cum64_ = t;
    // Filling the hole in front of the first gap block merges it into the
    // cumulative TSN (RFC 9260 §6.7: the gap is filled).
    if (!blocks_.empty() && blocks_.begin()->first == t + 1) {
      auto first = blocks_.begin();
      above_count_ -= first->second - first->first + 1;
      cum64_ = first->second;
      blocks_.erase(first);
    }
  } else {
    // Out of order: extend or merge neighbouring ranges, or start a new one.
    ++above_count_;
    auto next = blocks_.upper_bound(t);  // first range starting after t
    bool joins_prev = false;
    std::map<uint64_t, uint64_t>::iterator prev;
    if (next != blocks_.begin()) {
      prev = std::prev(next);
      joins_prev = prev->second + 1 == t;
    }
    bool joins_next = next != blocks_.end() && next->first == t + 1;
    if (joins_prev && joins_next) {
      prev->second = next->second;
      blocks_.erase(next);
    } else if (joins_prev) {
      prev->second = t;
    } else if (joins_next) {
      uint64_t end = next->second;
      blocks_.erase(next);
      blocks_.emplace(t, end);
    } else {
      if (blocks_.size() >= kMaxGapRanges) {
        --above_count_;
        return false;  // refused, not recorded
      }
      blocks_.emplace(t, t);
    }
  }
  cum_ = Tsn(static_cast<uint32_t>(cum64_));
  return true;
}

void DataTracker::on_packet_end(Instant now, bool immediate) {
  // RFC 9260 §6.7: a packet that arrives while TSNs are missing, whether it creates,
  // changes or fills the gap, is acknowledged at once ("the data receiver continues
  // sending a SACK after receipt of each SCTP packet that doesn't fill the gap",
  // and the packet that fills it tells the sender so without delay).
  bool gaps = (in_packet_ && gaps_at_packet_start_) || !blocks_.empty();
  ++packets_unacked_;
  // RFC 9260 §6.2: a SACK for at least every second packet with DATA (every
  // sack_freq-th when the user asked so), within the delayed-ack time (at most
  // 500 ms, 200 ms by default) of the first unacked one;
  // at once on duplicates. RFC 7053: at once when the I bit is set. The association's
  // first DATA is acknowledged at once too, as Linux and FreeBSD do (ETSI TS 102 369
  // A-V-9-1): the peer's first round trip then costs no delayed-ack time, and its
  // slow start begins a full delayed-ack period sooner.
  if (immediate || dup_in_packet_ || gaps || packets_unacked_ >= sack_freq_ || !sacked_ ||
      delayed_ack_ <= Duration::zero()) {
    sack_now_ = true;
    ack_deadline_.reset();
  } else if (!sack_now_ && !ack_deadline_) {
    ack_deadline_ = now + delayed_ack_;
  }
  in_packet_ = false;
  gaps_at_packet_start_ = false;
  dup_in_packet_ = false;
}

void DataTracker::handle_timeout(Instant now) {
  if (ack_deadline_ && now >= *ack_deadline_) {
    ack_deadline_.reset();
    sack_now_ = true;
  }
}

wire::SackChunk DataTracker::make_sack(uint32_t a_rwnd, size_t max_bytes) {
  wire::SackChunk sack;
  sack.cum_tsn_ack = cum_;
  sack.a_rwnd = a_rwnd;

  // RFC 9260 §3.3.4: Gap Ack Block start/end are offsets from the Cumulative TSN
  // Ack; §6.2: report as many blocks as fit in one SACK.
  constexpr size_t kFixed = 16;
  size_t room = max_bytes > kFixed ? (max_bytes - kFixed) / 4 : 0;
  sack.gap_blocks.reserve(std::min(room, blocks_.size()));
  for (const auto& [start, end] : blocks_) {
    if (sack.gap_blocks.size() >= room) break;
    uint64_t s = start - cum64_;
    if (s > 0xFFFF) break;
    uint64_t e = std::min<uint64_t>(end - cum64_, 0xFFFF);
    sack.gap_blocks.push_back({static_cast<uint16_t>(s), static_cast<uint16_t>(e)});
  }
  room -= sack.gap_blocks.size();
  size_t ndups = std::min(room, dups_.size());
  sack.dup_tsns.assign(dups_.begin(), dups_.begin() + static_cast<std::ptrdiff_t>(ndups));

  dups_.clear();
  sack_now_ = false;
  packets_unacked_ = 0;
  sacked_ = true;
  ack_deadline_.reset();
  return sack;
}

}  // namespace sctpp
