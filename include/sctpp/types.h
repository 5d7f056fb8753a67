// Value types shared by the sctpp C++ API and the protocol core: association setup
// options (RFC 6458 sctp_initmsg), per-message send and receive information (RFC 6458
// sctp_sndinfo / sctp_rcvinfo), and error codes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sctpp {

// Association setup parameters (RFC 6458 §8.1.3, SCTP_INITMSG).
struct InitOptions {
  uint16_t num_ostreams = 10;                         // outbound streams requested
  uint16_t max_instreams = 65535;                     // most inbound streams accepted
  uint16_t max_attempts = 8;                          // INIT retransmissions (Max.Init.Retransmits)
  std::chrono::milliseconds max_init_timeout{60000};  // RTO cap while setting up

  bool operator==(const InitOptions&) const = default;
};

// Per-message send flags of the API (RFC 6458 snd_flags; values as there).
enum class SendFlags : uint16_t {
  None = 0,
  Eof = 0x0100,    // SCTP_EOF: shut the association down gracefully after this message
                   // (with no data: just shut down)
  Abort = 0x0200,  // SCTP_ABORT: abort the association; the data is the reason
                   // (User-Initiated Abort cause)
  // SCTP_SACK_IMMEDIATELY (RFC 7053 §4.2): the DATA chunk that ends this message asks
  // the peer to acknowledge it at once instead of after its delayed-ack time, e.g.
  // before waiting for everything sent to be acknowledged (SENDER_DRY).
  SackImmediately = 0x4000,
  // Not an RFC 6458 flag: more messages follow at once (MSG_MORE in the C API's
  // sctpp_sendv and sctpp_send flags). The packets of this one may wait, at most 400 us
  // (1.6 ms in a long run), to leave in one system call with those of the next; a send
  // without it, a receive or a wait sends them. For event loops over non-blocking
  // sockets, which otherwise pay a system call per message.
  More = 0x8000,
};
constexpr SendFlags operator|(SendFlags a, SendFlags b) {
  return static_cast<SendFlags>(static_cast<uint16_t>(a) | static_cast<uint16_t>(b));
}
constexpr bool has_flag(SendFlags set, SendFlags f) {
  return (static_cast<uint16_t>(set) & static_cast<uint16_t>(f)) != 0;
}

// How to send one message (RFC 6458 §5.3.4, sctp_sndinfo).
struct SendInfo {
  uint16_t stream = 0;
  uint32_t ppid = 0;                  // host order here; on the wire it is opaque bytes
  bool unordered = false;             // SCTP_UNORDERED
  uint32_t context = 0;               // returned in send-failure notifications
  SendFlags flags = SendFlags::None;  // all but SackImmediately act in the API, not the core
};

// A message sent without a copy (Connection::send(SharedMessage, ...)). The stack keeps
// a reference until the peer has acknowledged all of it or the association ends; the
// bytes must not change while it does (a retransmission sends them again). A custom
// deleter tells the owner when the stack let go, so a sender can reuse its buffers.
using SharedMessage = std::shared_ptr<const std::vector<uint8_t>>;

// What arrived with one message (RFC 6458 §5.3.5, sctp_rcvinfo).
struct ReceiveInfo {
  uint16_t stream = 0;
  uint16_t ssn = 0;  // stream sequence number (0 for unordered)
  uint32_t ppid = 0;
  uint32_t tsn = 0;     // TSN of the first fragment
  uint32_t cumtsn = 0;  // cumulative TSN acknowledged when it was delivered
  bool unordered = false;
  uint32_t assoc_id = 0;
};

enum class Errc {
  Ok = 0,
  WouldBlock,       // non-blocking call could not complete now
  Timeout,          // deadline passed
  NotConnected,     // no such association, or not established
  ShuttingDown,     // shutdown in progress: no new data accepted
  Closed,           // association is gone (graceful close completed)
  Aborted,          // peer or user aborted; reason() has the cause
  ConnectionLost,   // Association.Max.Retrans reached (RFC 9260 §8.1)
  Refused,          // setup answered with ABORT
  NoAnswer,         // setup got no answer after max_attempts INITs
  InvalidStream,    // stream id >= negotiated outbound streams
  MessageTooLarge,  // message over the configured limit
  InvalidArgument,
  AddressInUse,
  PermissionDenied,
  TooManyAssociations,
  IoError,
};

// A status with a human-readable reason, e.g. "refused by peer: User-Initiated
// Abort: bye" or "stream 12 out of range (peer accepts 10 streams)".
class Status {
 public:
  Status() = default;
  Status(Errc code, std::string reason = {}) : code_(code), reason_(std::move(reason)) {}
  bool ok() const { return code_ == Errc::Ok; }
  explicit operator bool() const { return ok(); }
  Errc code() const { return code_; }
  const std::string& reason() const { return reason_; }

 private:
  Errc code_ = Errc::Ok;
  std::string reason_;
};

// A value or a failed Status.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

const char* errc_name(Errc code);

}  // namespace sctpp
