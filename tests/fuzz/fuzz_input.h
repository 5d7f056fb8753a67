// The input languages of fuzz_receive and fuzz_endpoint: opcodes and an encoder that
// the seed generator (make_corpus.cpp) and regression tests use to write inputs by
// hand. Opcodes are taken modulo the count, so every byte string is a valid input.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sctpp::fuzz {

// ---- fuzz_receive ----
enum ReceiveOp : uint8_t {
  kRxData,          // i16 TSN - (cum+1), u8 flags (I U B E), u8 stream, u16 SSN, u8 PPID, u16 len
  kRxDataAbsolute,  // u32 TSN, u8 flags, u8 stream, u16 SSN, u8 len
  kRxMessage,  // u8 TSN - (cum+1), u8 stream, u16 SSN, u8 unordered, u8 fragments-1, u8 size/4, u8
               // reverse
  kRxPacketEnd,  // u8 I bit
  kRxReceiveOne,
  kRxReceiveAll,
  kRxTime,  // u16 ms
  kRxSack,  // u16 max bytes
  kReceiveOps
};

// ---- fuzz_endpoint ----
// Header: u8 mode/buffers, u8 limits/MTU, u8 random seed (see fuzz_endpoint.cpp).
enum EndpointOp : uint8_t {
  kEpDeliver,         // u8 index: deliver that in-flight packet (reordering)
  kEpDeliverAll,      // deliver everything in flight (and what it provokes), bounded
  kEpDrop,            // u8 index
  kEpDuplicate,       // u8 index: deliver a copy, keep the original in flight
  kEpMutate,          // u8 index, u8 count, count x (u16 pos, u8 xor), u8 fix CRC: deliver it
  kEpInjectRaw,       // route, blob: chunk bytes after a common header built by the harness
  kEpInjectChunks,    // route, u8 count, count x (u8 type, u8 flags, blob value)
  kEpInjectTemplate,  // route, u8 template, template arguments (see fuzz_endpoint.cpp)
  kEpSend,            // u8 host, u8 assoc, u8 stream, u8 ppid, u8 unordered, u16 size
  kEpReceive,         // u8 host
  kEpShutdown,        // u8 host, u8 assoc
  kEpAbort,           // u8 host, u8 assoc
  kEpConnect,         // u8 host
  kEpRelease,         // u8 host
  kEpTime,            // u8 step
  kEpRun,             // u8 seconds: run the network with timers for up to that long
  kEpRestart,         // host A crashes and comes back with a fresh endpoint (no state)
  kEndpointOps
};
// Route of an injected packet: u8 source (A, B or C: a third host), u8 destination
// (A or B), u8 vtag mode (below), u8 flags (bit 0: leave the CRC32c wrong, bit 1: odd
// UDP source port, bit 2: raw SCTP ports from the next 4 bytes), [u32 raw vtag].
enum VtagMode : uint8_t {
  kTagExpected,  // the tag the destination expects from the source
  kTagOwn,       // the source's own tag (right for ABORT / SHUTDOWN COMPLETE with T)
  kTagZero,
  kTagRaw,  // u32 follows
  kTagModes
};
enum Template : uint8_t {
  kTData,          // i8 TSN delta, u8 flags, u8 stream, u16 SSN, u8 PPID, u16 len
  kTSack,          // i8 cum delta, u8 a_rwnd choice, u8 gaps, gaps x (u16, u16), u8 dups
  kTHeartbeat,     // blob info
  kTHeartbeatAck,  // u8 use snooped info, u8 xor at byte 0
  kTAbort,         // u8 T bit, blob causes
  kTShutdown,      // i8 cum delta
  kTShutdownAck,
  kTShutdownComplete,  // u8 T bit
  kTCookieEcho,        // u8 xor at byte (u16 pos), u8 bundle DATA after it
  kTCookieAck,
  kTInit,     // u32 initiate tag, u32 a_rwnd, u16 OS, u16 MIS, u32 initial TSN, blob params
  kTInitAck,  // as INIT, then blob cookie
  kTError,    // u8 stale cookie?, u32 staleness | blob causes
  kTUnknown,  // u8 type, u8 flags, blob value
  kTemplates
};
enum Host : uint8_t { kHostA, kHostB, kHostC };

class Encoder {
 public:
  Encoder& u8(uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  Encoder& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Encoder& u32(uint32_t v) {
    return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v));
  }
  Encoder& bytes(std::span<const uint8_t> b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  Encoder& blob(std::span<const uint8_t> b) {
    u16(static_cast<uint16_t>(b.size()));
    return bytes(b.first(b.size() > 65535 ? 65535 : b.size()));
  }
  Encoder& blob(std::string_view s) {
    return blob(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  // Route header of an injected packet (flags 0: right ports, CRC fixed up).
  Encoder& route(Host src, Host dst, VtagMode mode, uint8_t flags = 0, uint32_t raw_tag = 0) {
    u8(src).u8(dst).u8(mode).u8(flags);
    if (mode == kTagRaw) u32(raw_tag);
    return *this;
  }
  const std::vector<uint8_t>& data() const { return out_; }

 private:
  std::vector<uint8_t> out_;
};

}  // namespace sctpp::fuzz
