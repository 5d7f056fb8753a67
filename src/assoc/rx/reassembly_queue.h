// Turns received DATA chunks into whole user messages and releases them in the
// order RFC 9260 §6.5/§6.6/§6.9 requires: fragments joined by TSN (B..E run of
// consecutive TSNs on one stream), ordered messages in SSN order per stream,
// unordered messages as soon as complete. Memory is bounded: bytes held here (both
// partial and complete-but-unread) never exceed the configured limit (plus a small
// fixed reserve, see add()).
//
// How fragments are held. Without I-DATA a sender gives the fragments of one
// message consecutive TSNs (§6.9), so:
//  * a B chunk starts an *assembly*: one growing buffer keyed by the next TSN it
//    expects; each following fragment that arrives in order is appended to it (the
//    common case: no per-chunk allocation beyond the buffer's geometric growth);
//  * a fragment that arrives before its predecessor is parked in a map by TSN. The
//    parked fragments form *segments* (maximal runs of consecutive TSNs that can
//    belong to one message: no E inside, no B after the first, same stream, U flag
//    and SSN), tracked with their byte totals so an over-long run is caught at once
//    (TooLarge) in O(log n);
//  * when an assembly reaches the first TSN of a segment it takes the whole segment
//    (one reserve, one copy per fragment), so every fragment is copied at most
//    twice and joining a message is linear in its size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "endpoint/options.h"
#include "util/buffer_pool.h"
#include "util/lazy_deque.h"
#include "util/strong_types.h"
#include "wire/chunks.h"

namespace sctpp {

class ReassemblyQueue {
 public:
  // Above the byte limit, a chunk that advances the cumulative TSN may still be
  // stored while no message is ready for the user, up to this many bytes (and
  // kReserveEntries entries) beyond the limit. See add().
  static constexpr size_t kReserveBytes = 64 * 1024;
  static constexpr size_t kReserveEntries = 64;

  // `max_message_size`: largest message accepted; `buffer_limit`: cap on bytes held.
  // A message larger than the buffer could never be completed, so the effective
  // maximum is min(max_message_size, buffer_limit): such a message is reported as
  // TooLarge instead of stalling the association.
  // `buffers` (may be null) lends the buffers of large messages.
  ReassemblyQueue(uint16_t inbound_streams, size_t max_message_size, size_t buffer_limit,
                  BufferPool* buffers = nullptr);

  enum class AddResult {
    Ok,
    NoSpace,    // buffer limit reached: chunk not stored (do not ack it)
    TooLarge,   // message would exceed max_message_size (abort-worthy)
    BadStream,  // stream id >= inbound_streams (caller sends Invalid Stream error)
  };
  // Stores one new (non-duplicate) DATA chunk, copying its payload. The caller
  // (DataTracker) guarantees each TSN is added at most once; ReceiveInfo::cumtsn is
  // left 0 for the association to fill in.
  //
  // Space rule. The chunk is stored when its payload fits under `buffer_limit`
  // and the number of entries held (parked fragments, assemblies, complete
  // messages) stays under max_entries() (so tiny chunks cannot make bookkeeping
  // outgrow the payload). Otherwise NoSpace, except: when `in_sequence` (its TSN
  // is the cumulative TSN + 1) and no message is ready for the user, it is stored
  // anyway as long as the excess stays within kReserveBytes / kReserveEntries.
  // A conforming sender never overruns a_rwnd = limit - buffered_bytes(), so the
  // limit alone is normally enough; the reserve guarantees that the buffer can
  // never end up full of data that waits for a TSN it refuses (a deadlock the
  // user could not clear by reading), e.g. after a zero-window probe or a sender
  // that rounds its window differently. Memory stays bounded by limit + reserve.
  AddResult add(const wire::DataChunk& chunk, uint32_t assoc_id, bool in_sequence = false);

  // Next deliverable message, if any.
  std::optional<Message> pop();
  bool has_message() const { return !ready_.empty(); }
  size_t ready_count() const { return ready_.size(); }
  // Bytes held (partial + ready): the receive window is the buffer minus this.
  size_t buffered_bytes() const { return buffered_; }

  // Introspection (tests, statistics).
  size_t max_message_size() const { return max_message_size_; }
  size_t max_entries() const { return max_entries_; }
  size_t entries() const;
  // Fragments waiting for their predecessor, and messages being assembled.
  size_t parked_fragments() const { return parked_.size(); }
  size_t partial_messages() const { return assemblies_.size(); }
  // Complete ordered messages waiting for an earlier SSN on their stream.
  size_t waiting_ordered() const { return waiting_.size(); }
  // Messages dropped because of a peer error: an ordered message whose SSN was
  // already delivered (or is already waiting), or a partial message whose next TSN
  // turned out to carry another message's chunk (§6.9 violated). Counted, freed.
  uint64_t discarded_messages() const { return discarded_; }

 private:
  struct Meta {
    uint16_t stream = 0;
    uint16_t ssn = 0;
    uint32_t ppid = 0;
    bool unordered = false;
    bool beginning = false;
    bool ending = false;
  };
  struct Parked {
    Meta meta;
    std::vector<uint8_t> data;
  };
  struct Segment {
    uint64_t last;  // TSN of the last fragment (inclusive)
    size_t bytes;
  };
  struct Assembly {
    Meta first;  // flags and PPID of the B fragment
    Meta last;   // flags of the newest fragment appended
    uint32_t first_tsn;
    uint32_t assoc_id;
    std::vector<uint8_t> data;
  };

  static bool continues(const Meta& prev, const Meta& next);
  static Meta meta_of(const wire::DataChunk& c);
  bool has_space(size_t bytes, bool in_sequence, size_t new_entries) const;
  void reserve_for(std::vector<uint8_t>& v, size_t need) const;
  void append(std::vector<uint8_t>& v, std::span<const uint8_t> bytes) const;
  // Bytes of the parked segment that would join a message whose newest fragment
  // (TSN `tsn`) is `m`; 0 when nothing parked continues it.
  size_t joinable_segment_bytes(uint64_t tsn, const Meta& m) const;

  AddResult add_to_assembly(std::map<uint64_t, Assembly>::iterator it, uint64_t tsn, const Meta& m,
                            std::span<const uint8_t> payload, bool in_sequence);
  AddResult start_assembly(uint64_t tsn, const Meta& m, std::span<const uint8_t> payload,
                           uint32_t first_tsn, uint32_t assoc_id, bool in_sequence);
  AddResult park(uint64_t tsn, const Meta& m, std::span<const uint8_t> payload, bool in_sequence);
  // Takes the assembly out of the map, appends the parked segment that continues
  // it (if any), then either completes the message (E reached) or re-inserts it
  // under its new next TSN.
  void absorb_and_finish(std::map<uint64_t, Assembly>::iterator it);
  void complete(const Meta& m, uint32_t first_tsn, uint32_t assoc_id, std::vector<uint8_t> data);

  uint16_t inbound_streams_;
  size_t max_message_size_;
  size_t buffer_limit_;
  size_t max_entries_;
  BufferPool* buffers_;
  size_t buffered_ = 0;
  size_t last_assembled_ = 0;  // size of the last message assembled from fragments
  uint64_t discarded_ = 0;
  TsnUnwrapper unwrap_;
  // Messages being assembled in TSN order, keyed by the next TSN each expects.
  std::map<uint64_t, Assembly> assemblies_;
  // Out-of-order fragments by unwrapped TSN, and the segments they form (keyed by
  // first TSN).
  std::map<uint64_t, Parked> parked_;
  std::map<uint64_t, Segment> segments_;
  // Per stream: next SSN to deliver, unwrapped (the wire SSN is its low 16 bits,
  // RFC 1982 wrap 65535 -> 0). Grown lazily up to the highest stream used.
  std::vector<uint64_t> next_ssn_;
  // Complete ordered messages waiting for an earlier SSN: (stream, unwrapped SSN).
  std::map<std::pair<uint16_t, uint64_t>, Message> waiting_;
  LazyDeque<Message> ready_;
};

}  // namespace sctpp
