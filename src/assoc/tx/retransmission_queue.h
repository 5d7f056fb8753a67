// DATA chunks that have a TSN and are not yet acknowledged by the peer's cumulative
// TSN: what is in flight, what a SACK newly acknowledges (cumulative and gap blocks,
// with reneging), RTT samples under Karn's rule, miss indications and fast
// retransmit marking (RFC 9260 §7.2.4, with the HTNA rule), T3-rtx marking
// (§6.3.3), and the queue of chunks waiting to be sent again.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "assoc/tx/send_queue.h"
#include "util/lazy_deque.h"
#include "util/strong_types.h"
#include "util/time.h"
#include "wire/chunks.h"

namespace sctpp {

class RetransmissionQueue {
 public:
  // Path indices at or above this are never timed (an association has fewer paths).
  static constexpr size_t kMaxTimedPaths = 64;

  explicit RetransmissionQueue(Tsn initial_tsn);

  // TSN the next new chunk will get.
  Tsn next_tsn() const;
  // Highest TSN the peer has acknowledged cumulatively (initial_tsn - 1 at start).
  Tsn cum_tsn_ack() const;

  // Gives `d` the next TSN and records it as sent at `now` on path `path`. If no chunk
  // sent on that path is being timed, this one is (its acknowledgement gives the
  // path's next RTT sample).
  Tsn add(OutgoingData d, Instant now, size_t path);
  // The chunk add() stored last. Precondition: !empty().
  const OutgoingData& newest() const { return entries_.back().data; }

  // What a chunk counts in the flight: the whole DATA chunk, header and padding
  // included. Counting payload alone let senders of small messages put several times
  // cwnd on the wire (4-byte messages: 20 bytes each), against §6.1 B ("cwnd +
  // (PMTU - 1) or more bytes of data outstanding") and §7.2's SHOULD that the flight
  // and cwnd count DATA chunks with their header and padding.
  static size_t flight_size(const OutgoingData& d) {
    return wire::pad4(wire::DataChunk::kHeaderSize + d.length);
  }

  struct SackOutcome {
    bool accepted = false;  // false: SACK older than one already processed
    bool cum_advanced = false;
    size_t bytes_acked = 0;  // flight bytes newly acked, cumulative + gap
    // An RTT sample for path `rtt_path`: once per round trip per path (§6.3.1 C4), from
    // the one chunk timed on it, if that chunk was never retransmitted (C5, Karn).
    std::optional<Duration> rtt;
    size_t rtt_path = 0;
    bool fast_retransmit = false;        // some chunk newly reached 3 miss indications
    bool reached_recovery_exit = false;  // cum ack >= the fast recovery exit point
  };
  // Applies a SACK. Miss indications only count for TSNs below the highest TSN newly
  // acknowledged by this SACK (HTNA). A chunk reaching 3 is marked for fast
  // retransmission (once per chunk). A TSN acked by a gap block earlier and no
  // longer covered is reneged: it counts as outstanding again.
  SackOutcome handle_sack(const wire::SackChunk& sack, Instant now);
  // Applies the Cumulative TSN Ack of a SHUTDOWN (RFC 9260 §9.2): the cumulative
  // part of handle_sack only. A SHUTDOWN has no Gap Ack Blocks, so chunks gap-acked
  // earlier stay acked (§3.3.8: their absence there is not a renege), no miss
  // indication is counted and no RTT is sampled (a SHUTDOWN may be a T2-shutdown
  // retransmission, sent long after the data arrived).
  SackOutcome handle_cum_ack(Tsn cum);

  // T3-rtx expired: every outstanding (not gap-acked) chunk is marked for
  // retransmission and stops counting as in flight.
  void mark_all_for_retransmit();
  // The T3-rtx timer of `path` expired: the same for the chunks last sent on it
  // (RFC 9260 §6.3.3 E3: "DATA chunks that were sent to the address for which the
  // T3-rtx timer expired"); chunks out on other paths stay in flight.
  void mark_for_retransmit(size_t path);

  // Fast recovery: remember the highest outstanding TSN as the exit point
  // (§7.2.4 step 2). Called by the association when cwnd enters fast recovery.
  void enter_fast_recovery();
  bool in_fast_recovery() const;

  bool has_retransmissions() const;
  // Size of the next chunk waiting for retransmission (payload bytes).
  std::optional<size_t> next_retransmission_size() const;
  // The path the next chunk waiting for retransmission was last sent on.
  std::optional<size_t> next_retransmission_path() const;
  // Takes the next chunk marked for retransmission (lowest TSN first): it goes back
  // in flight at `now` on `path`, counted as retransmitted (no RTT sample from it).
  struct Retransmit {
    Tsn tsn;
    OutgoingData data;
  };
  std::optional<Retransmit> take_retransmission(Instant now, size_t path);

  // Bytes in flight (flight_size() of each chunk): sent, not acked (neither
  // cumulatively nor by gap), not waiting for retransmission. This is the flight
  // size of §7.2.
  size_t outstanding_bytes() const;
  // The payload bytes of the same chunks: what the peer's receive window is charged
  // with (§6.2.1 B and D "data size"; the peer advertises its buffer for user data).
  size_t outstanding_payload() const { return outstanding_payload_; }
  // The same for the chunks last sent on `path`: what RFC 9260 §6.1 B compares with
  // that destination's cwnd ("outstanding to that transport address").
  size_t outstanding_bytes(size_t path) const {
    return path < paths_.size() ? paths_[path].outstanding : 0;
  }

  // What the last accepted SACK (or SHUTDOWN cumulative ack) did to the chunks last
  // sent on `path`: the bytes it newly acknowledged of those in flight there (not
  // of chunks waiting for retransmission), the path's flight before it
  // (§7.2.1, §7.2.2 credit each destination's cwnd with its own), and whether it
  // marked one of them for fast retransmission (§7.2.4 step 2 adjusts the cwnd of
  // the destinations the missing chunks were last sent to).
  struct PathAck {
    size_t bytes_acked = 0;
    size_t flight_before = 0;
    bool fast_retransmit = false;
    // The cumulative ack passed a chunk in flight on the path, i.e. the path's
    // earliest outstanding TSN (§6.3.2 R3: restart its T3-rtx).
    bool earliest_acked = false;
    // A chunk last sent on the path and gap-acked before is missing from this SACK
    // (reneged; §6.3.2 R4: start the path's T3-rtx if it is not running).
    bool reneged = false;
  };
  PathAck path_ack(size_t path) const {
    return path < paths_.size() ? paths_[path].last_ack : PathAck{};
  }
  // Payload bytes not acked cumulatively (in flight, gap-acked or marked): what the
  // send buffer still holds for this queue.
  size_t unacked_bytes() const { return unacked_bytes_; }
  // Chunks not acked cumulatively (in flight, gap-acked or marked).
  size_t unacked_count() const;
  bool empty() const { return unacked_count() == 0; }
  // Earliest send time among chunks in flight (for restarting T3).
  std::optional<Instant> oldest_in_flight() const;
  uint64_t total_retransmissions() const;
  // The distinct user messages with at least one chunk not yet cumulatively acked,
  // lowest TSN first (for SEND_FAILED notifications when the association dies).
  std::vector<OutgoingData> unacked_messages() const;

 private:
  // Implementation-defined (the implementer may change the private part freely).
  // Every TSN from cum_ack_ + 1 to next_tsn_ - 1 has exactly one entry, in order, so
  // the entry of TSN t is entries_[distance(t, front TSN)]: O(1) lookup, and the
  // cumulative ack pops from the front.
  struct Entry {
    Tsn tsn;
    OutgoingData data;
    Instant sent_at;
    size_t path = 0;
    int transmissions = 1;
    int miss_indications = 0;
    bool gap_acked = false;
    bool marked = false;  // waiting for retransmission
    bool fast_rtx_done = false;
    bool timed = false;  // the RTT probe of its path (see timing_)
  };
  bool in_flight(const Entry& e) const { return !e.gap_acked && !e.marked; }
  // Every change to the flight goes through these two: the association's total
  // and the entry's path's share move together.
  void to_flight(const Entry& e);
  void from_flight(const Entry& e);
  // The part of SACK processing a Cumulative TSN Ack alone decides: checks `cum`,
  // removes every chunk up to it, leaves Fast Recovery at the exit point. Returns
  // false (out.accepted) when `cum` is out of date or beyond what was sent. Sets
  // `htna` and `rtt_sent` for the chunks it newly acknowledges.
  bool apply_cum_ack(Tsn cum, SackOutcome& out, std::optional<Tsn>& htna,
                     std::optional<Instant>& rtt_sent);
  // A chunk acknowledged for the first time (cumulatively or by a gap block).
  void newly_acked(Entry& e, SackOutcome& out, std::optional<Tsn>& htna,
                   std::optional<Instant>& rtt_sent);
  void mark(Entry& e);
  // The entry stops being its path's RTT probe (acknowledged, or retransmitted).
  void untime(Entry& e);
  // Index of the lowest marked entry, or entries_.size(). Scans from rtx_hint_.
  size_t first_marked() const;

  LazyDeque<Entry> entries_;  // ordered by TSN, front = lowest unacked
  Tsn next_tsn_;
  Tsn cum_ack_;
  size_t outstanding_ = 0;
  size_t outstanding_payload_ = 0;
  // Per path index: its share of outstanding_ and what the last SACK did to it.
  // Empty until the first chunk is sent (an idle association stays small).
  struct PathFlight {
    size_t outstanding = 0;
    PathAck last_ack;
    Tsn timed_tsn{0};  // the chunk timed on the path, while its timing_ bit is set
  };
  std::vector<PathFlight> paths_;
  size_t unacked_bytes_ = 0;
  size_t marked_count_ = 0;
  // No entry below this TSN is marked (a cache for first_marked()).
  mutable Tsn rtx_hint_;
  // Highest TSN currently gap-acked (bounds the reneging scan), if any.
  std::optional<Tsn> highest_gap_acked_;
  std::optional<Tsn> recovery_exit_;
  uint64_t retransmissions_ = 0;
  // Bit p: a chunk sent on path p is timed. RFC 9260 §6.3.1 C4: "new RTT
  // measurements SHOULD be made no more than once per round trip for a given
  // destination transport address". A sample per SACK (every second packet) would
  // also make RTO.Alpha/Beta smooth over a fraction of a round trip, and cost a bulk
  // sender an RTO update per SACK. A word, not a vector: an idle association must
  // stay small, and paths are fewer than kMaxTimedPaths.
  uint64_t timing_ = 0;
};

}  // namespace sctpp
