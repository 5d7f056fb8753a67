// One destination transport address of the peer (RFC 9260 §8.2): its RTO, congestion
// window, error counter, reachability and heartbeat state.
#pragma once

#include <cstdint>

#include "assoc/timer.h"
#include "assoc/tx/congestion_control.h"
#include "assoc/tx/rto_estimator.h"
#include "endpoint/options.h"
#include "util/ip_address.h"

namespace sctpp {

struct Path {
  Path(SocketAddress addr, const AssocConfig& cfg, size_t mtu, size_t initial_ssthresh)
      : address(addr), rto(cfg.rto_initial, cfg.rto_min, cfg.rto_max), cc(mtu, initial_ssthresh) {}

  SocketAddress address;  // peer IP + UDP encapsulation port (0 on raw IP)
  // Our source address for this path: packets from a multi-homed endpoint must
  // leave from the address on the path's own network, or the peer's answers come
  // back over another (maybe dead) link (RFC 9260 §6.4).
  IpAddress local;
  RtoEstimator rto;
  CongestionControl cc;
  int error_count = 0;
  bool confirmed = false;   // §8.3: a HEARTBEAT ACK (or the handshake) proved it
  bool active = true;       // false once error_count exceeds Path.Max.Retrans
  bool one_packet = false;  // after a T3-rtx timeout, until something is acknowledged
  Timer heartbeat;          // next HEARTBEAT, or HEARTBEAT ACK timeout
  // T3-rtx of this address (RFC 9260 §6.3.2): runs while DATA sent here is in flight.
  Timer t3;
  bool heartbeat_outstanding = false;
  uint64_t heartbeat_nonce = 0;
  // When the outstanding HEARTBEAT left: the RTT sample of its ACK is measured from
  // here, never from the time echoed in the ACK, which the peer controls.
  Instant heartbeat_sent{};
  // When DATA last went out here (advanced by whole RTOs as the idle decay of
  // §7.2.1 is applied); the epoch while none has.
  Instant last_data_sent{};
};

}  // namespace sctpp
