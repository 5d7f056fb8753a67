// Receive-side TSN bookkeeping for one association (RFC 9260 §6.2, §6.7): which
// TSNs have arrived, the cumulative TSN, gap blocks and duplicates for the next
// SACK, and when that SACK is due (delayed-ack timer, every second packet, at once
// on gaps or duplicates).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "util/strong_types.h"
#include "util/time.h"
#include "wire/chunks.h"

namespace sctpp {

class DataTracker {
 public:
  // `peer_initial_tsn` is the Initial TSN from the peer's INIT / INIT ACK; the
  // cumulative TSN starts one below it.
  DataTracker(Tsn peer_initial_tsn, Duration delayed_ack);

  // Records one received DATA TSN. Returns true when it is new (deliver it), false
  // when it is a duplicate (at or below the cumulative TSN, or already in a gap
  // block) — duplicates are reported in the next SACK (RFC 9260 §6.2). TSNs too
  // far ahead (more than `window` above the cumulative TSN) are refused (false)
  // and not recorded, which bounds memory.
  bool observe(Tsn tsn, uint32_t window = 1u << 20);
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
  // Gap blocks are capped so the chunk fits `max_bytes`.
  wire::SackChunk make_sack(uint32_t a_rwnd, size_t max_bytes = 1200);

  Tsn cumulative_tsn() const { return cum_; }
  // Number of TSNs held above the cumulative TSN (out of order).
  size_t gap_tsn_count() const { return above_.size(); }

 private:
  Tsn cum_;
  TsnUnwrapper unwrap_;
  std::set<uint64_t> above_;  // unwrapped TSNs > cum received
  std::vector<Tsn> dups_;
  Duration delayed_ack_;
  int packets_unacked_ = 0;
  bool sack_now_ = false;
  bool gaps_changed_ = false;
  std::optional<Instant> ack_deadline_;
};

}  // namespace sctpp
