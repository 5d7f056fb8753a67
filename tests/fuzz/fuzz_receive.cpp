// fuzz_receive: the receive side of an association (DataTracker + ReassemblyQueue)
// driven by arbitrary DATA chunk sequences, exactly as Association::handle_data uses
// them (classify by TSN, store, observe only what was stored).
//
// Input (fuzz_input.h has the encoder the seed generator uses):
//   u8  inbound streams - 1 (mod 8)
//   u8  buffer limit / 256 - 1        (256 B .. 64 KiB)
//   u8  max message size / 64 - 1     (64 B .. 16 KiB)
//   u32 peer initial TSN
//   then operations until the input ends: u8 opcode (mod kReceiveOps), arguments.
//
// Invariants:
//  * memory: buffered_bytes() <= limit + kReserveBytes, entries() <= max_entries() +
//    kReserveEntries; bytes held never exceed what was accepted and not delivered;
//    once nothing is parked, assembling or waiting, nothing is buffered;
//  * delivery: every message is the concatenation of accepted fragments of
//    consecutive TSNs, B..E, one stream, one U flag (and SSN when ordered), with the
//    first fragment's PPID; each TSN is delivered at most once; ordered messages of a
//    stream come in SSN order 0, 1, 2, ... without gaps; no message over the limit;
//  * tracking: the cumulative TSN never goes back; every stored TSN reads as
//    received; SACKs fit their byte budget, have sorted, disjoint, non-adjacent gap
//    blocks over received TSNs with a missing TSN before each, at most
//    kMaxDuplicates duplicates, and survive a wire round trip.
#include <cstring>
#include <map>
#include <vector>

#include "assoc/rx/data_tracker.h"
#include "assoc/rx/reassembly_queue.h"
#include "fuzz_input.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"
#include "wire/byte_io.h"
#include "wire/chunk_bytes.h"
#include "wire/chunks.h"

namespace sctpp::fuzz {
namespace {

constexpr uint32_t kWindow = 1u << 20;  // as Association (kTrackerWindow)

struct Fragment {
  wire::DataChunk meta;  // payload span not kept
  size_t length = 0;
};

class ReceiveHarness {
 public:
  ReceiveHarness(Input& in)
      : in_(in),
        inbound_(static_cast<uint16_t>(1 + in.u8() % 8)),
        limit_(256 * (size_t{in.u8()} + 1)),
        max_message_(64 * (size_t{in.u8()} + 1)),
        initial_(Tsn(in.u32())),
        tracker_(initial_, milliseconds(200)),
        rq_(inbound_, max_message_, limit_),
        next_ssn_(inbound_, 0) {}

  void run() {
    while (!in_.empty() && !aborted_) {
      step();
      check_memory();
    }
    // Drain what the user can read, then check nothing leaked.
    deliver_all();
    check_memory();
    if (rq_.parked_fragments() == 0 && rq_.partial_messages() == 0 && rq_.waiting_ordered() == 0)
      FUZZ_CHECK(rq_.buffered_bytes() == 0, "bytes held with nothing parked, partial or waiting");
  }

 private:
  void step() {
    switch (in_.u8() % kReceiveOps) {
      case kRxData: {
        int16_t delta = static_cast<int16_t>(in_.u16());
        uint8_t flags = in_.u8();
        uint16_t stream = in_.u8();
        uint16_t ssn = in_.u16();
        uint32_t ppid = in_.u8();
        size_t len = in_.u16() % 2048;
        data(tracker_.cumulative_tsn() + 1 + static_cast<uint32_t>(static_cast<int32_t>(delta)),
             flags, stream, ssn, ppid, len);
        break;
      }
      case kRxDataAbsolute: {
        uint32_t tsn = in_.u32();
        uint8_t flags = in_.u8();
        data(Tsn(tsn), flags, in_.u8(), in_.u16(), 0, in_.u8());
        break;
      }
      case kRxMessage: {
        // A whole message in consecutive fragments: TSN offset, stream, SSN, U flag,
        // fragment count and size, and the order they arrive in (reversed or not).
        int16_t delta = static_cast<int16_t>(in_.u8());
        uint16_t stream = in_.u8();
        uint16_t ssn = in_.u16();
        bool unordered = in_.flag();
        size_t count = 1 + in_.u8() % 16;
        size_t size = 1 + in_.u8() * 4u;
        bool reverse = in_.flag();
        Tsn first = tracker_.cumulative_tsn() + 1 + static_cast<uint32_t>(delta);
        for (size_t k = 0; k < count; ++k) {
          size_t i = reverse ? count - 1 - k : k;
          uint8_t f = (unordered ? 4 : 0) | (i == 0 ? 2 : 0) | (i + 1 == count ? 1 : 0);
          data(first + static_cast<uint32_t>(i), f, stream, ssn, 7, size);
        }
        break;
      }
      case kRxPacketEnd:
        tracker_.on_packet_end(now_, in_.flag());
        break;
      case kRxReceiveOne:
        deliver_one();
        break;
      case kRxReceiveAll:
        deliver_all();
        break;
      case kRxTime:
        now_ += milliseconds(in_.u16());
        tracker_.handle_timeout(now_);
        break;
      case kRxSack: {
        size_t max_bytes = in_.u16() % 1500;
        sack(max_bytes);
        break;
      }
    }
  }

  void data(Tsn tsn, uint8_t flags, uint16_t stream, uint16_t ssn, uint32_t ppid, size_t len) {
    stream = static_cast<uint16_t>(stream % (inbound_ + 2));  // sometimes out of range
    auto fill = pattern(tsn.value(), len);
    std::vector<uint8_t> payload(fill.begin(), fill.end());
    wire::DataChunk d;
    d.immediate = flags & 8;
    d.unordered = flags & 4;
    d.beginning = flags & 2;
    d.ending = flags & 1;
    d.tsn = tsn;
    d.stream = StreamId(stream);
    d.ssn = Ssn(ssn);
    d.ppid = Ppid(ppid);
    d.payload = payload;
    if (payload.empty()) return;  // the association aborts (No User Data)

    const Tsn cum_before = tracker_.cumulative_tsn();
    auto verdict = tracker_.classify(tsn, kWindow);
    FUZZ_CHECK(verdict != DataTracker::Verdict::New || !tracker_.is_received(tsn), "classify New");
    if (tracker_.is_received(tsn)) {
      FUZZ_CHECK(verdict == DataTracker::Verdict::Duplicate,
                 "received TSN not classified Duplicate");
      FUZZ_CHECK(!tracker_.observe(tsn, kWindow), "duplicate observed as new");
      FUZZ_CHECK(tracker_.duplicate_count() <= DataTracker::kMaxDuplicates,
                 "duplicate list unbounded");
      return;
    }
    if (distance(tsn, tracker_.cumulative_tsn()) > static_cast<int32_t>(kWindow)) {
      FUZZ_CHECK(verdict == DataTracker::Verdict::OutOfWindow, "far TSN not OutOfWindow");
      return;
    }
    FUZZ_CHECK(verdict == DataTracker::Verdict::New, "in-window TSN not New");
    if (stream >= inbound_) {
      FUZZ_CHECK(tracker_.observe(tsn, kWindow), "observe refused an in-window TSN");
      return;
    }
    bool in_sequence = tsn == tracker_.cumulative_tsn().next();
    auto r = rq_.add(d, 1, in_sequence);
    FUZZ_CHECK(r != ReassemblyQueue::AddResult::BadStream, "BadStream for a valid stream");
    if (r == ReassemblyQueue::AddResult::TooLarge) {
      aborted_ = true;  // the association aborts (Out of Resource)
      return;
    }
    if (r != ReassemblyQueue::AddResult::Ok) return;
    FUZZ_CHECK(tracker_.observe(tsn, kWindow), "observe refused a stored TSN");
    FUZZ_CHECK(tracker_.is_received(tsn), "stored TSN not received");
    FUZZ_CHECK(distance(tracker_.cumulative_tsn(), cum_before) >= 0, "cumulative TSN went back");
    Fragment f;
    f.meta = d;
    f.meta.payload = {};
    f.length = len;
    FUZZ_CHECK(fragments_.emplace(tsn.value(), f).second, "TSN stored twice");
    accepted_bytes_ += len;
  }

  void deliver_one() {
    auto m = rq_.pop();
    if (!m) return;
    check_message(*m);
  }
  void deliver_all() {
    for (int guard = 0; auto m = rq_.pop(); ++guard) {
      FUZZ_CHECK(guard < 1'000'000, "pop() never ends");
      check_message(*m);
    }
  }

  void check_message(const Message& m) {
    FUZZ_CHECK(!m.data.empty() && m.data.size() <= rq_.max_message_size(), "message size");
    FUZZ_CHECK(m.info.assoc_id == 1, "assoc id");
    uint32_t t = m.info.tsn;
    size_t at = 0;
    bool first = true;
    for (;; ++t) {
      auto it = fragments_.find(t);
      FUZZ_CHECK(it != fragments_.end(),
                 "delivered bytes of a TSN never stored (or delivered twice)");
      const Fragment& f = it->second;
      const auto& d = f.meta;
      FUZZ_CHECK(d.beginning == first, "B flag only on the first fragment");
      FUZZ_CHECK(d.stream.value() == m.info.stream, "fragment on another stream");
      FUZZ_CHECK(d.unordered == m.info.unordered, "fragment with another U flag");
      if (!d.unordered) FUZZ_CHECK(d.ssn.value() == m.info.ssn, "fragment with another SSN");
      if (first) FUZZ_CHECK(d.ppid.value() == m.info.ppid, "PPID of the first fragment");
      FUZZ_CHECK(at + f.length <= m.data.size(), "message shorter than its fragments");
      auto expect = pattern(t, f.length);
      FUZZ_CHECK(std::memcmp(m.data.data() + at, expect.data(), f.length) == 0,
                 "message bytes differ from the fragments");
      at += f.length;
      bool end = d.ending;
      delivered_bytes_ += f.length;
      fragments_.erase(it);
      first = false;
      if (end) break;
    }
    FUZZ_CHECK(at == m.data.size(), "message longer than its fragments");
    if (m.info.unordered) {
      FUZZ_CHECK(m.info.ssn == 0, "unordered message with an SSN");
    } else {
      FUZZ_CHECK(m.info.ssn == next_ssn_.at(m.info.stream),
                 "ordered message out of SSN order: got " + std::to_string(m.info.ssn) +
                     " expected " + std::to_string(next_ssn_.at(m.info.stream)));
      ++next_ssn_[m.info.stream];
    }
  }

  void sack(size_t max_bytes) {
    Tsn cum = tracker_.cumulative_tsn();
    size_t dups = tracker_.duplicate_count();
    wire::SackChunk s = tracker_.make_sack(static_cast<uint32_t>(limit_), max_bytes);
    FUZZ_CHECK(s.cum_tsn_ack == cum, "SACK cumulative TSN");
    if (max_bytes >= 16) FUZZ_CHECK(s.size() <= max_bytes, "SACK over its byte budget");
    FUZZ_CHECK(s.dup_tsns.size() <= dups && dups <= DataTracker::kMaxDuplicates, "SACK duplicates");
    uint32_t prev_end = 0;
    for (size_t i = 0; i < s.gap_blocks.size(); ++i) {
      const auto& g = s.gap_blocks[i];
      FUZZ_CHECK(g.start >= 2 && g.start <= g.end, "gap block bounds");
      FUZZ_CHECK(i == 0 || g.start > prev_end + 1, "gap blocks overlap, touch or are unsorted");
      FUZZ_CHECK(!tracker_.is_received(cum + (g.start - 1u)), "no missing TSN before a gap block");
      FUZZ_CHECK(tracker_.is_received(cum + g.start) && tracker_.is_received(cum + g.end),
                 "gap block over TSNs not received");
      prev_end = g.end;
    }
    auto bytes = wire::chunk_bytes(s);
    wire::ChunkView v;
    v.type = bytes[0];
    v.flags = bytes[1];
    v.whole = std::span<const uint8_t>(bytes.data(), s.size());
    v.value = v.whole.subspan(4);
    auto again = wire::SackChunk::parse(v);
    FUZZ_CHECK(again && again->gap_blocks == s.gap_blocks && again->dup_tsns == s.dup_tsns &&
                   again->cum_tsn_ack == s.cum_tsn_ack,
               "SACK wire round trip");
    FUZZ_CHECK(!tracker_.sack_due() && tracker_.duplicate_count() == 0, "make_sack did not reset");
  }

  void check_memory() {
    FUZZ_CHECK(rq_.buffered_bytes() <= limit_ + ReassemblyQueue::kReserveBytes,
               "reassembly holds " + std::to_string(rq_.buffered_bytes()) + " bytes, limit " +
                   std::to_string(limit_));
    FUZZ_CHECK(rq_.entries() <= rq_.max_entries() + ReassemblyQueue::kReserveEntries,
               "reassembly entries over the limit");
    FUZZ_CHECK(rq_.buffered_bytes() <= accepted_bytes_ - delivered_bytes_,
               "reassembly holds more bytes than were stored and not delivered");
    FUZZ_CHECK(tracker_.gap_tsn_count() <= kWindow, "tracker holds TSNs beyond its window");
    FUZZ_CHECK(tracker_.gap_block_count() <= tracker_.gap_tsn_count(), "more gap blocks than TSNs");
    FUZZ_CHECK(tracker_.duplicate_count() <= DataTracker::kMaxDuplicates, "duplicates unbounded");
  }

  Input& in_;
  const uint16_t inbound_;
  const size_t limit_;
  const size_t max_message_;
  const Tsn initial_;
  DataTracker tracker_;
  ReassemblyQueue rq_;
  std::vector<uint16_t> next_ssn_;
  std::map<uint32_t, Fragment> fragments_;  // stored, not yet delivered
  size_t accepted_bytes_ = 0;
  size_t delivered_bytes_ = 0;
  Instant now_{seconds(1000)};
  bool aborted_ = false;
};

}  // namespace

int fuzz_receive(const uint8_t* data, size_t size) {
  Input in(data, size);
  ReceiveHarness h(in);
  h.run();
  return 0;
}

}  // namespace sctpp::fuzz
