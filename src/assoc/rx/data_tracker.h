// Receive-side TSN bookkeeping for one association (RFC 9260 §6.2, §6.7): which
// TSNs have arrived, the cumulative TSN, gap blocks and duplicates for the next
// SACK, and when that SACK is due (delayed-ack timer, every second packet or every
// sack_freq-th, at once on gaps or duplicates).
//
// Typical use by the association, for each received packet carrying DATA:
//
//   for each DATA chunk c:
//     switch (tracker.classify(c.tsn)) {
//       case Duplicate:   tracker.observe(c.tsn);  // recorded for the SACK
//       case OutOfWindow: drop;
//       case New:         if (reassembly.add(c, id, c.tsn == cum+1) == Ok)
//                           tracker.observe(c.tsn);   // else: not acked
//     }
//   tracker.on_packet_end(now, any_i_bit);
//   if (tracker.sack_due()) send(tracker.make_sack(a_rwnd));
//
// Memory is bounded: TSNs above the cumulative TSN are held as ranges (one node
// per gap block, never more than `window` TSNs ahead), duplicates as a capped list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "util/strong_types.h"
#include "util/time.h"
#include "wire/chunks.h"

namespace sctpp {

class DataTracker {
 public:
  // Duplicate TSNs remembered for the next SACK; more are counted as "a duplicate
  // arrived" (the SACK still goes out at once) but not listed (RFC 9260 §3.3.4 lets
  // the receiver report fewer than it saw). Bounds memory under a duplicate storm.
  static constexpr size_t kMaxDuplicates = 32;
  // Separate gap ranges kept above the cumulative TSN. A TSN that would open one
  // more is refused (not acknowledged; the peer retransmits it later), so a peer
  // sending every other TSN cannot grow this without bound.
  static constexpr size_t kMaxGapRanges = 4096;
  static constexpr uint32_t kDefaultWindow = 1u << 20;

  // `peer_initial_tsn` is the Initial TSN from the peer's INIT / INIT ACK; the
  // cumulative TSN starts one below it. A SACK is due at once every `sack_freq`
  // packets with DATA (at least 1), otherwise `delayed_ack` after the first unacked.
  DataTracker(Tsn peer_initial_tsn, Duration delayed_ack, int sack_freq = 2);

  enum class Verdict {
    New,          // not yet received and within the window: store it, then observe()
    Duplicate,    // at or below the cumulative TSN, or already in a gap block
    OutOfWindow,  // more than `window` above the cumulative TSN: drop, do not ack
  };
  // Classifies `tsn` without recording anything (so the caller can try to store
  // the chunk first and observe() it only when it was stored).
  Verdict classify(Tsn tsn, uint32_t window = kDefaultWindow) const;

  // Records one received DATA TSN. Returns true when it is new (deliver it), false
  // when it is a duplicate (at or below the cumulative TSN, or already in a gap
  // block) — duplicates are reported in the next SACK (RFC 9260 §6.2). TSNs too
  // far ahead (more than `window` above the cumulative TSN) are refused (false)
  // and not recorded, which bounds memory.
  bool observe(Tsn tsn, uint32_t window = kDefaultWindow);
  // True when observe(tsn) would refuse a new TSN because it would open one gap
  // range too many (check before storing the chunk anywhere).
  bool range_limit_reached(Tsn tsn) const;
  // True if `tsn` was already received (at or below cum, or in a gap block).
  bool is_received(Tsn tsn) const;

  // Call once at the end of every received packet that carried DATA.
  // `immediate` is the I bit (RFC 7053) of any DATA in it.
  void on_packet_end(Instant now, bool immediate);
  // True when a SACK must go out now (every second DATA packet, gaps present or
  // changed, duplicates received, the I bit, or the delayed-ack timer expired).
  bool sack_due() const { return sack_now_; }
  // Delayed-ack deadline while a SACK is owed but not yet due.
  std::optional<Instant> deadline() const { return ack_deadline_; }
  void handle_timeout(Instant now);
  // Force the next SACK to go out now (e.g. when SHUTDOWN processing wants one).
  void request_sack() { sack_now_ = true; }

  // Builds the SACK to send now and resets the "owed" state and duplicate list.
  // Gap blocks are capped so the chunk fits `max_bytes` (gap blocks first, as many
  // as fit, RFC 9260 §6.2; then duplicates in the remaining room). Blocks whose
  // offset from the cumulative TSN does not fit 16 bits are left out (reporting
  // less is always safe: the peer just keeps that data outstanding).
  wire::SackChunk make_sack(uint32_t a_rwnd, size_t max_bytes = 1200);

  Tsn cumulative_tsn() const { return cum_; }
  // Highest TSN received so far (the cumulative TSN when nothing is out of order).
  Tsn highest_received() const;
  // Number of TSNs held above the cumulative TSN (out of order).
  size_t gap_tsn_count() const { return above_count_; }
  // Number of gap ack blocks the next SACK would carry without a size cap.
  size_t gap_block_count() const { return blocks_.size(); }
  size_t duplicate_count() const { return dups_.size(); }

 private:
  // Unwrapped (64-bit, monotonic) value of `tsn`, which must be ahead of cum_.
  uint64_t unwrap_ahead(Tsn tsn) const;
  void begin_packet();

  Tsn cum_;
  uint64_t cum64_;  // cum_ unwrapped; every value in blocks_ is above it + 1
  // Received TSNs above the cumulative TSN as disjoint, non-adjacent ranges
  // [start, end] (unwrapped, inclusive), keyed by start. A range never touches
  // cum64_ + 1: that TSN is missing by definition.
  std::map<uint64_t, uint64_t> blocks_;
  size_t above_count_ = 0;
  std::vector<Tsn> dups_;
  Duration delayed_ack_;
  int packets_unacked_ = 0;
  uint16_t sack_freq_;  // beside the int above: no padding added per association
  bool sack_now_ = false;
  bool sacked_ = false;  // a SACK was made: the first DATA is acknowledged at once
  std::optional<Instant> ack_deadline_;
  // State of the packet being processed (between the first observe() and
  // on_packet_end()).
  bool in_packet_ = false;
  bool gaps_at_packet_start_ = false;
  bool dup_in_packet_ = false;
};

}  // namespace sctpp
