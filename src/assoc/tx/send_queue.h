// Messages the user has handed to an association but that have not been given a TSN
// yet, one FIFO per outbound stream, with a round-robin scheduler across streams and
// fragmentation of each message into DATA-sized pieces (RFC 9260 §6.9). Without
// I-DATA, fragments of one message must get consecutive TSNs, so the scheduler only
// switches streams at message boundaries.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sctpp/types.h"
#include "util/lazy_deque.h"
#include "util/strong_types.h"

namespace sctpp {

// One DATA chunk's worth of a user message, before it has a TSN. The payload is a
// slice of the shared message buffer, so fragments never copy the message.
struct OutgoingData {
  StreamId stream{0};
  Ssn ssn{0};
  Ppid ppid{0};
  bool unordered = false;
  bool beginning = false;
  bool ending = false;
  // RFC 7053: the user asked for the SACK at once; set on the message's last
  // fragment only, whose DATA chunk then carries the I bit.
  bool sack_immediately = false;
  uint32_t context = 0;
  SharedMessage message;
  size_t offset = 0;
  size_t length = 0;
  const uint8_t* data() const { return message->data() + offset; }
};

class SendQueue {
 public:
  explicit SendQueue(uint16_t outbound_streams);
  // Changes the number of streams (after the handshake negotiated it). Messages
  // queued on streams that no longer exist stay (the caller validates on push).
  void set_stream_count(uint16_t n);
  uint16_t stream_count() const;

  // Queues one message. The caller has validated the stream id and size. Empty
  // messages are not allowed (RFC 9260: DATA must carry at least one byte).
  // `sack_immediately`: SCTP_SACK_IMMEDIATELY (RFC 7053 §4.2).
  void push(StreamId stream, Ppid ppid, bool unordered, uint32_t context, std::vector<uint8_t> data,
            bool sack_immediately = false);
  void push(StreamId stream, Ppid ppid, bool unordered, uint32_t context, SharedMessage data,
            bool sack_immediately = false);

  // Takes the next fragment of at most `max_payload` bytes (>= 1), choosing the stream
  // round-robin among those with data, staying on a stream until its current message
  // is fully produced. SSNs are assigned per stream to ordered messages when their
  // first fragment is produced (unordered messages carry SSN 0).
  std::optional<OutgoingData> produce(size_t max_payload);

  // Bytes left of the message produce() would continue or start next.
  std::optional<size_t> next_message_remaining() const;

  // Removes every queued message (whole messages, including the unsent rest of one
  // being fragmented), in stream order, for SEND_FAILED notifications.
  std::vector<OutgoingData> take_all();

  bool empty() const { return queued_bytes_ == 0; }
  // Payload bytes not yet produced.
  size_t queued_bytes() const { return queued_bytes_; }
  size_t queued_messages() const;

 private:
  // Implementation-defined. Streams with queued data take turns through `active_`, a
  // FIFO of stream ids: the front stream produces until its current message is
  // complete, then goes to the back if it has more messages. That is round-robin at
  // message boundaries in O(1) per fragment whatever the number of streams.
  //
  // Shrinking (set_stream_count): a stream id >= the new count keeps its queued
  // messages and SSN counter, and they are still produced (the peer will report an
  // Invalid Stream Identifier for them, RFC 9260 §6.5); nothing queued is dropped
  // silently. Such a stream's state is discarded once it has nothing left queued, so
  // a later grow starts it at SSN 0.
  struct Pending {
    Ppid ppid;
    bool unordered;
    bool sack_immediately;
    uint32_t context;
    SharedMessage data;
    size_t produced = 0;
  };
  struct Stream {
    LazyDeque<Pending> queue;
    Ssn next_ssn{0};
    Ssn current_ssn{0};  // SSN given to the message being fragmented
  };
  void trim_streams();

  // Only streams that have been used have state: a peer may grant 65535 streams, and
  // an idle association must not pay for them.
  std::unordered_map<uint16_t, Stream> streams_;
  uint16_t stream_count_ = 0;
  size_t queued_bytes_ = 0;
  size_t queued_messages_ = 0;
  LazyDeque<uint16_t> active_;  // streams with queued messages, in turn order
  // streams_[front_sid_], cached for produce(); null after an erase (map nodes are
  // stable otherwise).
  Stream* front_ = nullptr;
  uint16_t front_sid_ = 0;
};

}  // namespace sctpp
