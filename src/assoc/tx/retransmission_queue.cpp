#include "assoc/tx/retransmission_queue.h"

#include <algorithm>

namespace sctpp {

RetransmissionQueue::RetransmissionQueue(Tsn initial_tsn)
    : next_tsn_(initial_tsn), cum_ack_(initial_tsn.prev()), rtx_hint_(initial_tsn) {}

Tsn RetransmissionQueue::next_tsn() const {
  return next_tsn_;
}
Tsn RetransmissionQueue::cum_tsn_ack() const {
  return cum_ack_;
}
bool RetransmissionQueue::in_fast_recovery() const {
  return recovery_exit_.has_value();
}
bool RetransmissionQueue::has_retransmissions() const {
  return marked_count_ > 0;
}
size_t RetransmissionQueue::outstanding_bytes() const {
  return outstanding_;
}

void RetransmissionQueue::to_flight(const Entry& e) {
  if (e.path >= paths_.size()) paths_.resize(e.path + 1);
  const size_t size = flight_size(e.data);
  outstanding_ += size;
  outstanding_payload_ += e.data.length;
  paths_[e.path].outstanding += size;
}
void RetransmissionQueue::from_flight(const Entry& e) {
  const size_t size = flight_size(e.data);
  outstanding_ -= size;
  outstanding_payload_ -= e.data.length;
  paths_[e.path].outstanding -= size;  // to_flight() made the slot
}
size_t RetransmissionQueue::unacked_count() const {
  return entries_.size();
}
uint64_t RetransmissionQueue::total_retransmissions() const {
  return retransmissions_;
}

std::vector<OutgoingData> RetransmissionQueue::unacked_messages() const {
  std::vector<OutgoingData> out;
  const std::vector<uint8_t>* last = nullptr;
  for (const Entry& e : entries_) {
    // Fragments of one message are consecutive, so comparing with the previous one
    // finds each message once.
    if (e.data.message.get() == last) continue;
    last = e.data.message.get();
    out.push_back(e.data);
  }
  return out;
}

Tsn RetransmissionQueue::add(OutgoingData d, Instant now, size_t path) {
  Tsn tsn = next_tsn_;
  unacked_bytes_ += d.length;
  const uint64_t bit = path < kMaxTimedPaths ? uint64_t{1} << path : 0;
  const bool timed = bit != 0 && (timing_ & bit) == 0;
  timing_ |= bit;
  entries_.push_back(
      Entry{.tsn = tsn, .data = std::move(d), .sent_at = now, .path = path, .timed = timed});
  to_flight(entries_.back());
  if (timed) paths_[path].timed_tsn = tsn;
  next_tsn_ = next_tsn_.next();
  return tsn;
}

void RetransmissionQueue::untime(Entry& e) {
  e.timed = false;
  timing_ &= ~(uint64_t{1} << e.path);  // timed entries have path < kMaxTimedPaths
}

// Takes an in-flight chunk out of flight and queues it for retransmission.
void RetransmissionQueue::mark(Entry& e) {
  from_flight(e);
  e.marked = true;
  ++marked_count_;
  if (e.tsn < rtx_hint_) rtx_hint_ = e.tsn;
  // §6.3.1 C5 (Karn): its acknowledgement will be ambiguous; the next new chunk sent
  // on the path is timed instead.
  if (e.timed) untime(e);
}

size_t RetransmissionQueue::first_marked() const {
  if (marked_count_ == 0 || entries_.empty()) return entries_.size();
  auto d = distance(rtx_hint_, entries_.front().tsn);
  for (size_t i = d > 0 ? static_cast<size_t>(d) : 0; i < entries_.size(); ++i) {
    if (entries_[i].marked) {
      rtx_hint_ = entries_[i].tsn;
      return i;
    }
  }
  return entries_.size();
}

void RetransmissionQueue::newly_acked(Entry& e, SackOutcome& out, std::optional<Tsn>& htna,
                                      std::optional<Instant>& rtt_sent) {
  if (e.timed) {
    untime(e);
    // Timed chunks are never retransmitted (mark() untimes them): Karn holds.
    rtt_sent = e.sent_at;
    out.rtt_path = e.path;
  }
  out.bytes_acked += flight_size(e.data);
  if (e.marked) {
    // Acked while waiting to be sent again: it left its path's flight when it was
    // marked, and its delivery says nothing about that path now (after a T3-rtx
    // timeout, a late SACK for data sent before the path failed must not clear the
    // failed path's error counter and draw data back to it).
    e.marked = false;
    --marked_count_;
  } else {
    paths_[e.path].last_ack.bytes_acked += flight_size(e.data);
    from_flight(e);
  }
  htna = e.tsn;  // callers go in increasing TSN order
}

bool RetransmissionQueue::apply_cum_ack(Tsn cum, SackOutcome& out, std::optional<Tsn>& htna,
                                        std::optional<Instant>& rtt_sent) {
  // RFC 9260 §6.2.1 D-i: a SACK whose Cumulative TSN Ack is below the Cumulative TSN
  // Ack Point is out of order and is dropped. A cum ack of a TSN never sent is a
  // protocol violation: refused too (the association decides whether to abort).
  if (cum < cum_ack_ || cum > next_tsn_.prev()) return false;
  out.accepted = true;
  for (PathFlight& p : paths_) p.last_ack = PathAck{.flight_before = p.outstanding};
  out.cum_advanced = cum > cum_ack_;

  // Cumulative part: everything up to and including `cum` leaves the queue.
  while (!entries_.empty() && entries_.front().tsn <= cum) {
    Entry& e = entries_.front();
    // A gap-acked chunk is neither marked nor in flight.
    if (in_flight(e)) paths_[e.path].last_ack.earliest_acked = true;
    if (!e.gap_acked) newly_acked(e, out, htna, rtt_sent);
    unacked_bytes_ -= e.data.length;
    entries_.pop_front();
  }
  cum_ack_ = cum;
  if (highest_gap_acked_ && *highest_gap_acked_ <= cum) highest_gap_acked_.reset();

  // §7.2.4 step 6: Fast Recovery ends when the exit point is acknowledged.
  if (recovery_exit_ && cum >= *recovery_exit_) {
    out.reached_recovery_exit = true;
    recovery_exit_.reset();
  }
  return true;
}

RetransmissionQueue::SackOutcome RetransmissionQueue::handle_cum_ack(Tsn cum) {
  SackOutcome out;
  std::optional<Tsn> htna;
  std::optional<Instant> rtt_sent;
  // Nothing beyond the cumulative part: without Gap Ack Blocks there is nothing to
  // renege on and no TSN reported missing (RFC 9260 §3.3.8, §9.2).
  apply_cum_ack(cum, out, htna, rtt_sent);
  return out;
}

RetransmissionQueue::SackOutcome RetransmissionQueue::handle_sack(const wire::SackChunk& sack,
                                                                  Instant now) {
  SackOutcome out;
  std::optional<Tsn> htna;          // highest TSN newly acknowledged by this SACK
  std::optional<Instant> rtt_sent;  // send time of the chunk the RTT sample uses
  if (!apply_cum_ack(sack.cum_tsn_ack, out, htna, rtt_sent)) return out;

  // Gap Ack Blocks (§3.3.4): offsets from the cum ack, inclusive. Entry i holds TSN
  // cum + 1 + i, so a block [start, end] covers entries [start - 1, end - 1]. Blocks
  // must be ascending and disjoint; a malformed block is ignored, and a block's part
  // beyond the highest TSN sent is ignored. A previously gap-acked chunk not covered
  // any more was reneged by the peer (§6.2): it is in flight again.
  if (!entries_.empty()) {
    size_t scan_end = 0;  // exclusive: beyond it nothing is gap-acked from before
    if (highest_gap_acked_) {
      scan_end = static_cast<size_t>(distance(*highest_gap_acked_, entries_.front().tsn)) + 1;
    }
    auto renege = [&](size_t from, size_t to) {
      to = std::min(to, scan_end);
      for (size_t i = from; i < to; ++i) {
        Entry& e = entries_[i];
        if (e.gap_acked) {
          e.gap_acked = false;
          e.miss_indications = 0;
          to_flight(e);
          paths_[e.path].last_ack.reneged = true;
        }
      }
    };
    std::optional<Tsn> new_highest_gap;
    size_t pos = 0;
    uint32_t prev_end = 0;
    for (const wire::GapAckBlock& b : sack.gap_blocks) {
      if (b.start == 0 || b.start > b.end || b.start <= prev_end) continue;
      size_t first = b.start - 1u;
      if (first >= entries_.size()) break;                     // ascending: the rest is beyond too
      size_t last = std::min<size_t>(b.end, entries_.size());  // exclusive
      prev_end = b.end;
      renege(pos, first);
      for (size_t i = first; i < last; ++i) {
        Entry& e = entries_[i];
        if (!e.gap_acked) {
          newly_acked(e, out, htna, rtt_sent);
          e.gap_acked = true;
        }
      }
      new_highest_gap = entries_[last - 1].tsn;
      pos = last;
    }
    renege(pos, entries_.size());
    highest_gap_acked_ = new_highest_gap;
  }

  // §7.2.4: miss indications follow HTNA: for each SACK, only missing TSNs below the
  // highest TSN newly acknowledged in it get one. "If an endpoint is in Fast Recovery
  // and a SACK arrives that advances the Cumulative TSN Ack Point, the miss
  // indications are incremented for all TSNs reported missing in the SACK", i.e. all
  // holes below the highest gap-acked TSN. Chunks waiting for retransmission are not
  // in flight and are not counted.
  if (htna && !entries_.empty()) {
    Tsn limit = *htna;
    if (recovery_exit_ && out.cum_advanced && highest_gap_acked_ && *highest_gap_acked_ > limit) {
      limit = *highest_gap_acked_;
    }
    for (size_t i = 0; i < entries_.size() && entries_[i].tsn < limit; ++i) {
      Entry& e = entries_[i];
      if (!in_flight(e)) continue;
      // §7.2.4: on the third miss indication, mark for retransmission (step 1); a
      // chunk is fast retransmitted at most once (step 5).
      if (++e.miss_indications >= 3 && !e.fast_rtx_done) {
        paths_[e.path].last_ack.fast_retransmit = true;
        mark(e);
        e.fast_rtx_done = true;
        out.fast_retransmit = true;
      }
    }
  }

  if (rtt_sent) out.rtt = now - *rtt_sent;
  return out;
}

void RetransmissionQueue::mark_for_retransmit(size_t path) {
  for (Entry& e : entries_) {
    if (e.path == path && in_flight(e)) mark(e);
  }
  // Fast Recovery ends with the timeout as in mark_all_for_retransmit().
  recovery_exit_.reset();
}

void RetransmissionQueue::mark_all_for_retransmit() {
  // §6.3.3 E3: on T3-rtx expiry the chunks outstanding are retransmitted; gap-acked
  // ones are not (the peer has them, unless it reneges later).
  for (Entry& e : entries_) {
    if (in_flight(e)) mark(e);
  }
  // The congestion controller leaves Fast Recovery on T3 expiry (§7.2.3); so do we,
  // to keep the two in step.
  recovery_exit_.reset();
}

void RetransmissionQueue::enter_fast_recovery() {
  // §7.2.4 step 6: the highest outstanding TSN is the Fast Recovery exit point.
  recovery_exit_ = next_tsn_.prev();
}

std::optional<size_t> RetransmissionQueue::next_retransmission_size() const {
  size_t i = first_marked();
  if (i == entries_.size()) return std::nullopt;
  return entries_[i].data.length;
}

std::optional<size_t> RetransmissionQueue::next_retransmission_path() const {
  size_t i = first_marked();
  if (i == entries_.size()) return std::nullopt;
  return entries_[i].path;
}

std::optional<RetransmissionQueue::Retransmit> RetransmissionQueue::take_retransmission(
    Instant now, size_t path) {
  size_t i = first_marked();
  if (i == entries_.size()) return std::nullopt;
  Entry& e = entries_[i];
  e.marked = false;
  --marked_count_;
  ++e.transmissions;
  e.sent_at = now;
  e.path = path;  // its flight counts against the path it goes out on now
  e.miss_indications = 0;
  to_flight(e);
  ++retransmissions_;
  rtx_hint_ = e.tsn.next();
  // §6.3.1 C5: "RTT measurements SHOULD only be made using a chunk with TSN r if no
  // chunk with TSN less than or equal to r is retransmitted since the chunk with TSN
  // r was sent" (its SACK may have waited for this retransmission to fill the hole).
  for (size_t p = 0; timing_ != 0 && p < paths_.size() && p < kMaxTimedPaths; ++p) {
    if ((timing_ & (uint64_t{1} << p)) == 0 || paths_[p].timed_tsn < e.tsn) continue;
    untime(entries_[static_cast<size_t>(distance(paths_[p].timed_tsn, entries_.front().tsn))]);
  }
  return Retransmit{e.tsn, e.data};
}

std::optional<Instant> RetransmissionQueue::oldest_in_flight() const {
  // First transmissions are sent in TSN order, so the first in-flight chunk sent only
  // once bounds every chunk above it; below it only retransmitted chunks can be
  // earlier. The scan therefore stops there.
  std::optional<Instant> oldest;
  for (const Entry& e : entries_) {
    if (!in_flight(e)) continue;
    if (!oldest || e.sent_at < *oldest) oldest = e.sent_at;
    if (e.transmissions == 1) break;
  }
  return oldest;
}

}  // namespace sctpp
