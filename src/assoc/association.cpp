// The association state machine (RFC 9260 §4) and the glue between its parts.
#include "assoc/association.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "wire/byte_io.h"
#include "wire/error_causes.h"
#include "wire/parameters.h"

namespace sctpp {

// Every path can time its own RTT probe (RetransmissionQueue, RFC 9260 §6.3.1 C4).
static_assert(StateCookie::kMaxAddresses <= RetransmissionQueue::kMaxTimedPaths);
namespace {

using wire::pad4;

constexpr size_t kHeartbeatInfoSize = 20;  // path index, nonce, send time
// What a queued message and an unacknowledged chunk cost beyond their payload; the
// send buffer charges it so that a peer that never acknowledges cannot make tiny
// messages grow memory far past the configured buffer.
constexpr size_t kMessageOverhead = 128;
constexpr size_t kChunkOverhead = 96;
constexpr uint32_t kTrackerWindow = 1u << 20;

template <class T>
T random_value(const std::function<void(std::span<uint8_t>)>& random) {
  T v{};
  random(std::span(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v;
}

// Verification tags are never 0 (§5.3.1).
VerificationTag random_tag(const std::function<void(std::span<uint8_t>)>& random) {
  uint32_t v = 0;
  while (v == 0) v = random_value<uint32_t>(random);
  return VerificationTag(v);
}

std::string causes_text(std::span<const uint8_t> causes) {
  return wire::describe_causes(causes);
}

}  // namespace

const char* assoc_state_name(AssocState s) {
  switch (s) {
    case AssocState::Closed:
      return "CLOSED";
    case AssocState::CookieWait:
      return "COOKIE-WAIT";
    case AssocState::CookieEchoed:
      return "COOKIE-ECHOED";
    case AssocState::Established:
      return "ESTABLISHED";
    case AssocState::ShutdownPending:
      return "SHUTDOWN-PENDING";
    case AssocState::ShutdownSent:
      return "SHUTDOWN-SENT";
    case AssocState::ShutdownReceived:
      return "SHUTDOWN-RECEIVED";
    case AssocState::ShutdownAckSent:
      return "SHUTDOWN-ACK-SENT";
  }
  return "?";
}

Association::Association(AssocId id, AssocContext ctx)
    : id_(id), ctx_(std::move(ctx)), cfg_(ctx_.config->assoc) {
  burst_on_event();
}

size_t Association::max_packet_size() const {
  return cfg_.path_mtu > cfg_.transport_overhead ? cfg_.path_mtu - cfg_.transport_overhead : 512;
}

size_t Association::max_error_bytes() const {
  // The error causes reported for one packet (unrecognized chunks, invalid streams):
  // what fits in one ERROR chunk in a packet of its own; the rest of a flood is not
  // worth answering.
  return max_packet_size() - wire::kCommonHeaderSize - 4;
}

size_t Association::max_data_payload() const {
  return max_packet_size() - wire::kCommonHeaderSize - wire::DataChunk::kHeaderSize;
}

uint32_t Association::advertised_rwnd() const {
  size_t held = reassembly_ ? reassembly_->buffered_bytes() : 0;
  return held >= cfg_.receive_buffer ? 0 : static_cast<uint32_t>(cfg_.receive_buffer - held);
}

void Association::emit(EventKind kind, Status status) {
  ctx_.events->push_back(Event{id_, kind, std::move(status)});
}

void Association::queue_control(Control c) {
  control_.push_back(std::move(c));
}

// ---------------------------------------------------------------------------
// Handshake

std::unique_ptr<Association> Association::connect(AssocId id, AssocContext ctx, Instant now,
                                                  std::span<const SocketAddress> remote,
                                                  uint16_t remote_port, const InitOptions& init) {
  std::unique_ptr<Association> a(new Association(id, std::move(ctx)));
  a->init_ = init;
  a->peer_port_ = remote_port;
  a->local_tag_ = random_tag(a->ctx_.random);
  a->local_initial_tsn_ = Tsn(random_value<uint32_t>(a->ctx_.random));
  for (const auto& r : remote) {
    a->paths_.emplace_back(r, a->cfg_, a->max_packet_size(), a->cfg_.receive_buffer);
    a->paths_.back().local = a->local_for(r.ip);
  }
  // The send side exists from the start: messages sent before the handshake
  // completes ride with the COOKIE ECHO (RFC 9260 §5.1 D), e.g. for the implicit
  // setup of RFC 6458 §3.1.5.
  a->outbound_streams_ = init.num_ostreams;
  a->send_queue_ = std::make_unique<SendQueue>(init.num_ostreams);
  a->rtx_ = std::make_unique<RetransmissionQueue>(a->local_initial_tsn_);
  a->state_ = AssocState::CookieWait;
  a->send_init(now);
  return a;
}

void Association::send_init(Instant now) {
  std::vector<uint8_t> params;
  wire::ParamWriter pw(params);
  // Advertise our addresses only when there is a choice to make: with one address
  // the peer uses the packet's source (§5.1.2), which is also right behind NAT.
  const auto& local = ctx_.config->local_addresses;
  if (local.size() > 1) {
    for (const auto& ip : local)
      if (!ip.is_any()) pw.add_address(ip);
  }
  const uint16_t types[] = {static_cast<uint16_t>(wire::ParamType::Ipv4Address),
                            static_cast<uint16_t>(wire::ParamType::Ipv6Address)};
  pw.add_supported_address_types(types);
  if (cookie_preservative_ms_) pw.add_cookie_preservative(*cookie_preservative_ms_);
  wire::InitChunk init;
  init.initiate_tag = local_tag_;
  init.a_rwnd = advertised_rwnd();
  init.outbound_streams = init_.num_ostreams;
  init.inbound_streams = init_.max_instreams;
  init.initial_tsn = local_initial_tsn_;
  init.params = params;
  // INIT goes alone, with verification tag 0 (§8.5.1 A).
  queue_control(Control{wire::chunk_bytes(init), handshake_path_, VerificationTag(0), true});
  Path& p = paths_[handshake_path_];
  Duration rto = std::min<Duration>(p.rto.rto(), init_.max_init_timeout);
  t1_.start(now, rto);
}

void Association::handle_init_ack(Instant now, const wire::ChunkView& c,
                                  const SocketAddress& from) {
  if (state_ != AssocState::CookieWait) return;  // §5.2.3: discard otherwise
  auto ack = wire::InitAckChunk::parse(c);
  if (!ack) return;
  std::vector<uint8_t> causes;
  wire::CauseWriter cw(causes);
  // An ABORT refusing this INIT ACK must carry the peer's new tag; with none (0) it
  // reflects ours with the T bit (§8.5.1 B), or the peer would drop it.
  if (ack->initiate_tag.value() != 0) peer_tag_ = ack->initiate_tag;
  const bool reflect = ack->initiate_tag.value() == 0;
  // §3.3.3: a zero Initiate Tag, or zero streams, make the INIT ACK unusable.
  if (ack->initiate_tag.value() == 0 || ack->outbound_streams == 0 || ack->inbound_streams == 0) {
    cw.invalid_mandatory_param();
    queue_abort(causes, reflect);
    terminate(EventKind::ConnectFailed,
              Status(Errc::Refused, "peer sent an invalid INIT ACK (zero tag or streams)"));
    return;
  }
  auto params = wire::ParamList::parse(ack->params);
  std::span<const uint8_t> cookie;
  std::vector<IpAddress> addresses;
  std::vector<uint8_t> unrecognized;
  bool stop = false;
  if (params) {
    for (const auto& p : *params) {
      if (stop) break;
      switch (static_cast<wire::ParamType>(p.type)) {
        case wire::ParamType::StateCookie:
          cookie = p.value;
          break;
        case wire::ParamType::Ipv4Address:
          if (auto ip = wire::parse_ipv4_param(p)) addresses.push_back(*ip);
          break;
        case wire::ParamType::Ipv6Address:
          if (auto ip = wire::parse_ipv6_param(p)) addresses.push_back(*ip);
          break;
        case wire::ParamType::HostNameAddress:
          // §3.3.2.1: Host Name addresses are not supported: abort.
          cw.unresolvable_address(p.whole);
          queue_abort(causes);
          terminate(EventKind::ConnectFailed,
                    Status(Errc::Refused, "peer uses a Host Name address (unsupported)"));
          return;
        case wire::ParamType::UnrecognizedParameter:
        case wire::ParamType::SupportedAddressTypes:
        case wire::ParamType::CookiePreservative:
          break;  // known, nothing we act on
        default: {
          // §3.2.1: the upper two bits say whether to go on and whether to report.
          auto action = wire::unknown_param_action(p.type);
          if (action == wire::UnknownParamAction::StopAndReport ||
              action == wire::UnknownParamAction::SkipAndReport) {
            // Each one whole and padded (§3.2.1), or the next would start misaligned.
            unrecognized.insert(unrecognized.end(), p.whole.begin(), p.whole.end());
            unrecognized.resize(wire::pad4(unrecognized.size()), 0);
          }
          if (action == wire::UnknownParamAction::Stop ||
              action == wire::UnknownParamAction::StopAndReport)
            stop = true;
        }
      }
    }
  }
  if (cookie.empty()) {
    const uint16_t missing[] = {static_cast<uint16_t>(wire::ParamType::StateCookie)};
    cw.missing_mandatory_params(missing);
    queue_abort(causes);
    terminate(EventKind::ConnectFailed,
              Status(Errc::Refused, "peer's INIT ACK has no State Cookie"));
    return;
  }
  peer_tag_ = ack->initiate_tag;
  uint16_t outbound = std::min(init_.num_ostreams, ack->inbound_streams);
  uint16_t inbound = std::min(init_.max_instreams, ack->outbound_streams);
  setup_after_handshake(outbound, inbound, local_initial_tsn_, ack->initial_tsn, ack->a_rwnd);
  // The INIT ACK's source is where the peer is reachable (its UDP port included).
  paths_[handshake_path_].address = from;
  add_peer_addresses(addresses, from.port);
  cookie_.assign(cookie.begin(), cookie.end());

  state_ = AssocState::CookieEchoed;
  wire::CookieEchoChunk echo;
  echo.cookie = cookie_;
  queue_chunk(echo, handshake_path_);
  if (!unrecognized.empty()) {
    std::vector<uint8_t> err;
    wire::CauseWriter(err).unrecognized_params(unrecognized);
    queue_error(err);
  }
  init_attempts_ = 0;
  t1_.start(now, std::min<Duration>(paths_[handshake_path_].rto.rto(), init_.max_init_timeout));
}

void Association::setup_after_handshake(uint16_t outbound, uint16_t inbound, Tsn local_tsn,
                                        Tsn peer_tsn, uint32_t peer_rwnd) {
  outbound_streams_ = outbound;
  inbound_streams_ = inbound;
  local_initial_tsn_ = local_tsn;
  if (send_queue_) {
    send_queue_->set_stream_count(outbound);
  } else {
    send_queue_ = std::make_unique<SendQueue>(outbound);
  }
  if (!rtx_) rtx_ = std::make_unique<RetransmissionQueue>(local_tsn);
  // After a restart, complete messages the user has not read yet stay readable:
  // they were delivered and acknowledged under the old tags.
  if (reassembly_) {
    while (auto m = reassembly_->pop()) carried_.push_back(std::move(*m));
  }
  tracker_ = std::make_unique<DataTracker>(peer_tsn, cfg_.delayed_ack, cfg_.sack_freq);
  reassembly_ = std::make_unique<ReassemblyQueue>(inbound, cfg_.max_message_size,
                                                  cfg_.receive_buffer, ctx_.config->buffers);
  peer_rwnd_ = peer_rwnd;
  max_peer_rwnd_ = peer_rwnd;
  last_advertised_rwnd_ = advertised_rwnd();
  // §7.2.1: initial ssthresh MAY be arbitrarily high; use the peer's window.
  for (auto& p : paths_)
    p.cc = CongestionControl(max_packet_size(), std::max<size_t>(peer_rwnd, 4 * max_packet_size()));
}

void Association::add_peer_addresses(std::span<const IpAddress> ips, uint16_t udp_port) {
  for (const auto& ip : ips) {
    bool known = std::any_of(paths_.begin(), paths_.end(),
                             [&](const Path& p) { return p.address.ip == ip; });
    if (known || ip.is_any()) continue;
    // A loopback address is only reachable when we talk over loopback already.
    if (ip.is_loopback() != paths_[primary_].address.ip.is_loopback()) continue;
    if (ip.family() != paths_[primary_].address.ip.family()) continue;
    if (paths_.size() >= StateCookie::kMaxAddresses) break;
    paths_.emplace_back(SocketAddress{ip, udp_port}, cfg_, max_packet_size(),
                        std::max<size_t>(peer_rwnd_, 4 * max_packet_size()));
    paths_.back().local = local_for(ip);
  }
}

std::unique_ptr<Association> Association::from_cookie(AssocId id, AssocContext ctx, Instant now,
                                                      const StateCookie& cookie,
                                                      const IpAddress& local) {
  std::unique_ptr<Association> a(new Association(id, std::move(ctx)));
  a->init_ = a->ctx_.config->init;
  a->local_tag_ = cookie.local_tag;
  a->peer_tag_ = cookie.peer_tag;
  a->peer_port_ = cookie.peer_port;
  a->paths_.emplace_back(cookie.peer_source, a->cfg_, a->max_packet_size(), a->cfg_.receive_buffer);
  a->paths_[0].confirmed = true;
  a->paths_[0].local = local.is_any() ? a->local_for(cookie.peer_source.ip) : local;
  a->setup_after_handshake(cookie.outbound_streams, cookie.inbound_streams,
                           cookie.local_initial_tsn, cookie.peer_initial_tsn, cookie.peer_a_rwnd);
  a->add_peer_addresses(cookie.peer_addresses, cookie.peer_source.port);
  a->queue_chunk(wire::CookieAckChunk{}, 0);
  a->establish(now, EventKind::Accepted);
  return a;
}

void Association::establish(Instant now, EventKind kind) {
  state_ = AssocState::Established;
  t1_.stop();
  // §5.4: the address the handshake ran over is confirmed (not the primary, which
  // the user may have moved to another address meanwhile).
  paths_[handshake_path_].confirmed = true;
  // DATA bundled with the COOKIE ECHO was timed by T1-cookie until now (§6.3.2 R1).
  for (size_t k = 0; rtx_ && k < paths_.size(); ++k)
    if (rtx_->outstanding_bytes(k) > 0) paths_[k].t3.start(now, paths_[k].rto.rto());
  // Unconfirmed addresses are probed soon (§5.4), one per RTO: "The number of packets
  // containing HEARTBEAT chunks sent at each RTO SHOULD be limited by the
  // 'HB.Max.Burst' parameter" (1, §16). Confirmed ones at the interval (§8.3).
  int unconfirmed = 0;
  for (Path& p : paths_) {
    const Duration first = p.confirmed ? heartbeat_delay(p) : p.rto.rto() * ++unconfirmed;
    p.heartbeat.start(now, first);
  }
  emit(kind);
  if (shutdown_requested_) {  // shutdown() came while connecting
    state_ = AssocState::ShutdownPending;
    maybe_progress_shutdown(now);
  }
}

void Association::handle_cookie_ack(Instant now) {
  if (state_ != AssocState::CookieEchoed) return;
  cookie_.clear();
  establish(now, EventKind::Connected);
}

void Association::handle_stale_cookie(Instant now, uint32_t staleness_us) {
  if (state_ != AssocState::CookieEchoed) return;
  // §5.2.6: start over with a Cookie Preservative asking for that much more life.
  if (++init_attempts_ > init_.max_attempts) {
    terminate(EventKind::ConnectFailed,
              Status(Errc::NoAnswer, "peer kept rejecting the cookie as stale"));
    return;
  }
  // RFC 9260 §5.2.6: the extension SHOULD be based on the RTT of the COOKIE ECHO /
  // ERROR exchange and SHOULD add no more than 1 second beyond it (a long cookie
  // life makes the peer easier to replay against). The next cookie is made fresh
  // for the new INIT, so it only has to outlive one round trip; twice the reported
  // staleness, capped at that second, is the margin.
  const Duration rtt = now > cookie_echo_sent_ ? now - cookie_echo_sent_ : Duration(0);
  const uint64_t rtt_ms = static_cast<uint64_t>(std::chrono::ceil<milliseconds>(rtt).count());
  const uint64_t margin_ms = std::clamp<uint64_t>(uint64_t{staleness_us} / 1000 * 2, 1, 1000);
  cookie_preservative_ms_ =
      static_cast<uint32_t>(std::min<uint64_t>(rtt_ms + margin_ms, UINT32_MAX));
  state_ = AssocState::CookieWait;
  peer_tag_ = VerificationTag(0);
  cookie_.clear();
  send_init(now);
}

bool Association::prepare_init_ack(Instant now, InitReply& reply) {
  switch (state_) {
    case AssocState::CookieWait:
    case AssocState::CookieEchoed:
      // §5.2.1: answer with the parameters of our own INIT, tag unchanged. The
      // tie-tags only serve a restart (§5.2.4 A), which these states never take.
      reply.local_tag = local_tag_;
      reply.local_initial_tsn = local_initial_tsn_;
      reply.num_ostreams = init_.num_ostreams;
      reply.max_instreams = init_.max_instreams;
      return true;
    case AssocState::ShutdownAckSent:
      // §9.2: the peer lost our SHUTDOWN COMPLETE exchange; repeat SHUTDOWN ACK.
      queue_chunk(wire::ShutdownAckChunk{});
      t2_.start(now, paths_[data_path()].rto.rto());
      return false;
    case AssocState::Closed:
      return false;
    default: {
      // §5.2.2: a new tag that differs from both current tags; the tie-tags let
      // the COOKIE ECHO be recognized as a restart.
      VerificationTag t = random_tag(ctx_.random);
      while (t == local_tag_ || t == peer_tag_) t = random_tag(ctx_.random);
      reply.local_tag = t;
      reply.local_initial_tsn = Tsn(random_value<uint32_t>(ctx_.random));
      // §5.2.2: the Tie-Tags are "populated with a random value other than 0", kept in
      // the TCB and compared when the cookie comes back. Not the verification tags
      // themselves: the cookie is signed, not encrypted, and goes to whoever sent the
      // INIT from the peer's address (any UDP port), who could then forge packets.
      if (tie_local_.value() == 0) {
        tie_local_ = random_tag(ctx_.random);
        tie_peer_ = random_tag(ctx_.random);
      }
      reply.local_tie_tag = tie_local_;
      reply.peer_tie_tag = tie_peer_;
      return true;
    }
  }
}

void Association::handle_cookie_echo(Instant now, const wire::PacketView& packet,
                                     const StateCookie& c, const SocketAddress& from,
                                     const IpAddress& to) {
  if (state_ == AssocState::Closed) return;
  bool local_match = c.local_tag == local_tag_;
  bool peer_match = c.peer_tag == peer_tag_;
  bool tie_match =
      tie_local_.value() != 0 && c.local_tie_tag == tie_local_ && c.peer_tie_tag == tie_peer_;
  if (!local_match && !peer_match && tie_match && state_ != AssocState::CookieWait &&
      state_ != AssocState::CookieEchoed) {
    // §5.2.4 action A: the peer restarted.
    if (state_ == AssocState::ShutdownAckSent) {
      std::vector<uint8_t> causes;
      wire::CauseWriter(causes).cookie_while_shutting_down();
      queue_chunk(wire::ShutdownAckChunk{});
      queue_error(causes);
      return;
    }
    fail_pending_sends();
    send_queue_.reset();
    rtx_.reset();
    local_tag_ = c.local_tag;
    peer_tag_ = c.peer_tag;
    peer_port_ = c.peer_port;
    t2_.stop();
    control_.clear();
    paths_.clear();
    primary_ = 0;
    // §5.4 rule 2: the one CONFIRMED address is the one the INIT ACK went to (the
    // cookie's), not necessarily the COOKIE ECHO's source.
    paths_.emplace_back(c.peer_source, cfg_, max_packet_size(), cfg_.receive_buffer);
    paths_.back().confirmed = true;
    paths_.back().local =
        !to.is_any() && from.ip == c.peer_source.ip ? to : local_for(c.peer_source.ip);
    assoc_error_count_ = 0;
    tie_local_ = tie_peer_ = VerificationTag(0);  // the next restart gets new ones
    setup_after_handshake(c.outbound_streams, c.inbound_streams, c.local_initial_tsn,
                          c.peer_initial_tsn, c.peer_a_rwnd);
    add_peer_addresses(c.peer_addresses, from.port);
    queue_chunk(wire::CookieAckChunk{}, 0);
    establish(now, EventKind::Restarted);
  } else if (local_match && !peer_match) {
    // §5.2.4 action B: setup collision; take the peer's tag from the cookie.
    peer_tag_ = c.peer_tag;
    if (state_ == AssocState::CookieWait || state_ == AssocState::CookieEchoed) {
      setup_after_handshake(c.outbound_streams, c.inbound_streams, c.local_initial_tsn,
                            c.peer_initial_tsn, c.peer_a_rwnd);
      queue_chunk(wire::CookieAckChunk{}, answer_path(path_for(from, to)));
      establish(now, EventKind::Connected);
    } else {
      queue_chunk(wire::CookieAckChunk{}, answer_path(path_for(from, to)));
    }
  } else if (local_match && peer_match) {
    // §5.2.4 action D: both tags match; a duplicate or a crossing COOKIE ECHO.
    if (state_ == AssocState::CookieWait || state_ == AssocState::CookieEchoed) {
      setup_after_handshake(c.outbound_streams, c.inbound_streams, c.local_initial_tsn,
                            c.peer_initial_tsn, c.peer_a_rwnd);
      queue_chunk(wire::CookieAckChunk{}, answer_path(path_for(from, to)));
      establish(now, EventKind::Connected);
    } else {
      queue_chunk(wire::CookieAckChunk{}, answer_path(path_for(from, to)));
    }
  } else {
    return;  // §5.2.4 action C (or no match at all): silently discard
  }
  handle_packet(now, packet, from, to);
}

// ---------------------------------------------------------------------------
// Packet dispatch

size_t Association::path_for(const SocketAddress& from, const IpAddress& to) {
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i].address.ip == from.ip) {
      // RFC 6951 §5.4: the peer's encapsulation port is learned from what arrives.
      paths_[i].address.port = from.port;
      // And the local address it reaches us on is the one to answer from.
      if (!to.is_any() && to.family() == from.ip.family()) paths_[i].local = to;
      return i;
    }
  }
  return primary_;
}

IpAddress Association::local_for(const IpAddress& peer) const {
  IpAddress best;
  int best_bits = -1;
  for (const auto& ip : ctx_.config->local_addresses) {
    if (ip.family() != peer.family() || ip.is_any()) continue;
    int bits = 0;
    for (size_t k = 0; k < ip.size(); ++k) {
      uint8_t x = ip.data()[k] ^ peer.data()[k];
      if (x == 0) {
        bits += 8;
        continue;
      }
      bits += __builtin_clz(static_cast<unsigned>(x)) - 24;
      break;
    }
    if (bits > best_bits) {
      best_bits = bits;
      best = ip;
    }
  }
  return best;
}

void Association::handle_packet(Instant now, const wire::PacketView& packet,
                                const SocketAddress& from, const IpAddress& to) {
  if (state_ == AssocState::Closed || packet.chunk_count() == 0) return;
  burst_on_packet();
  const VerificationTag vtag = packet.header().vtag;
  const auto first = *packet.begin();
  const auto first_type = static_cast<wire::ChunkType>(first.type);
  if (first_type == wire::ChunkType::ShutdownAck &&
      (state_ == AssocState::CookieWait || state_ == AssocState::CookieEchoed)) {
    // §8.5.1 E: out of the blue; the endpoint answers it (Endpoint::handle_packet).
    // Nothing here may change: its tag is unchecked, so it must not even move the
    // peer's UDP port (RFC 6951 §5.4 learns it only after the tag check).
    return;
  }
  // §8.5.1: the exceptions to "vtag must be our tag".
  if (first_type == wire::ChunkType::Abort || first_type == wire::ChunkType::ShutdownComplete) {
    bool t = first.flags & 1;
    // A reflected tag is only credible once we know the peer's tag (in COOKIE-WAIT
    // it is unknown, and 0 must not match).
    if (t && peer_tag_.value() == 0) return;
    if (vtag != (t ? peer_tag_ : local_tag_)) return;
  } else if (first_type == wire::ChunkType::InitAck) {
    if (vtag != local_tag_) return;
  } else if (vtag != local_tag_) {
    return;  // §8.5: silently discard
  }

  ++packets_received_;
  const size_t path = path_for(from, to);
  if (state_ == AssocState::ShutdownSent) {
    // §9.2: "The reception of any packet from its peer (i.e., as the peer sends all
    // of its queued DATA chunks) SHOULD clear the endpoint's retransmission count and
    // restart the T2-shutdown timer": a peer still busy sending (maybe against our
    // closed window) is alive, and its queued data is no reason to give up on it.
    // The restart is for DATA (below, with the SHUTDOWN that answers it): restarted
    // by the HEARTBEATs of an idle peer whose SHUTDOWN was lost, T2 never fired and
    // the SHUTDOWN never went again (soak seed 150836).
    assoc_error_count_ = 0;
  }
  bool saw_data = false;  // any DATA chunk, accepted or not
  bool had_data = false;
  bool immediate = false;
  size_t ready_before = reassembly_ ? reassembly_->ready_count() : 0;
  packet_errors_.clear();
  dropped_for_window_ = false;

  for (const auto& c : packet) {
    if (state_ == AssocState::Closed) break;
    // In COOKIE-WAIT the peer has no association yet: only INIT ACK and ABORT (and
    // an ERROR) can be meant for us; answering anything else would need a peer tag
    // we do not have.
    if (state_ == AssocState::CookieWait &&
        c.type != static_cast<uint8_t>(wire::ChunkType::InitAck) &&
        c.type != static_cast<uint8_t>(wire::ChunkType::Abort) &&
        c.type != static_cast<uint8_t>(wire::ChunkType::Error))
      continue;
    switch (static_cast<wire::ChunkType>(c.type)) {
      case wire::ChunkType::Data:
        saw_data = true;
        if (handle_data(now, c)) {
          had_data = true;
          last_data_path_ = path;
          immediate = immediate || (c.flags & 0x08);
        }
        break;
      case wire::ChunkType::Init:
        break;  // handled by the endpoint; an INIT bundled with others is dropped there
      case wire::ChunkType::InitAck:
        handle_init_ack(now, c, from);
        break;
      case wire::ChunkType::Sack:
        if (auto s = wire::SackChunk::parse(c)) handle_sack(now, *s);
        break;
      case wire::ChunkType::Heartbeat:
        handle_heartbeat(c, path);
        break;
      case wire::ChunkType::HeartbeatAck:
        handle_heartbeat_ack(now, c);
        break;
      case wire::ChunkType::Abort: {
        bool t = c.flags & 1;
        if ((!t || peer_tag_.value() != 0) && vtag == (t ? peer_tag_ : local_tag_)) handle_abort(c);
        break;
      }
      case wire::ChunkType::Shutdown:
        if (auto s = wire::ShutdownChunk::parse(c)) handle_shutdown(now, *s);
        break;
      case wire::ChunkType::ShutdownAck:
        handle_shutdown_ack(now);
        break;
      case wire::ChunkType::Error:
        handle_error(now, c);
        break;
      case wire::ChunkType::CookieEcho:
        break;  // the endpoint authenticated it and called handle_cookie_echo
      case wire::ChunkType::CookieAck:
        handle_cookie_ack(now);
        break;
      case wire::ChunkType::ShutdownComplete:
        handle_shutdown_complete();
        break;
      case wire::ChunkType::Pad:
        break;  // RFC 4820: ignored
      default: {
        auto action = wire::unknown_chunk_action(c.type);
        if ((action == wire::UnknownAction::StopAndReport ||
             action == wire::UnknownAction::SkipAndReport) &&
            packet_errors_.size() + 4 + wire::pad4(c.whole.size()) <= max_error_bytes()) {
          wire::CauseWriter(packet_errors_).unrecognized_chunk(c.whole);
        }
        if (action == wire::UnknownAction::Stop || action == wire::UnknownAction::StopAndReport)
          goto done;
      }
    }
  }
done:
  if (had_data && tracker_) {
    note_user_data(now);
    tracker_->on_packet_end(now, immediate);
  }
  if (dropped_for_window_ && tracker_) tracker_->request_sack();
  if ((had_data || dropped_for_window_) && tracker_) {
    if (tracker_->sack_due() && state_ != AssocState::Closed) {
      // §6.2: a SACK for at least every second DATA packet. Taking the snapshot now,
      // rather than when the driver next polls, keeps that true when the driver
      // feeds a whole batch of received packets before transmitting.
      uint32_t rwnd = advertised_rwnd();
      // §6.2: "as many Gap Ack Blocks as can fit in a single SACK chunk such that the
      // size of the SCTP packet does not exceed the current PMTU".
      auto sack = tracker_->make_sack(rwnd, max_packet_size() - wire::kCommonHeaderSize);
      last_advertised_rwnd_ = rwnd;
      queue_control(Control(std::move(sack), answer_path(path)));
    }
  }
  if (!packet_errors_.empty() && state_ != AssocState::Closed && state_ != AssocState::CookieWait) {
    // One ERROR per packet, whole causes only, bounded by max_error_bytes(); after
    // the SACK (§6.5).
    queue_error(packet_errors_);
  }
  if (saw_data && state_ == AssocState::ShutdownSent) {
    // §9.2: "MUST immediately respond to each received packet containing one or more
    // DATA chunks with a SHUTDOWN chunk and restart the T2-shutdown timer", whether
    // or not the data fit in the window. Queued now, not when the driver next polls,
    // so a batch of DATA packets fed at one instant gets one SHUTDOWN each.
    queue_shutdown(answer_path(path));
    t2_.start(now, paths_[data_path()].rto.rto());
  }
  if (reassembly_ && reassembly_->ready_count() > ready_before) emit(EventKind::Readable);
}

bool Association::handle_data(Instant now, const wire::ChunkView& c) {
  (void)now;
  if (state_ != AssocState::Established && state_ != AssocState::ShutdownPending &&
      state_ != AssocState::ShutdownSent)
    return false;
  auto d = wire::DataChunk::parse(c);
  if (!d) return false;
  std::vector<uint8_t> causes;
  wire::CauseWriter cw(causes);
  if (d->payload.empty()) {
    // §6.2: DATA without user data is answered with ABORT (No User Data).
    cw.no_user_data(d->tsn);
    queue_abort(causes);
    terminate(EventKind::Aborted,
              Status(Errc::Aborted, "peer sent a DATA chunk with no user data"));
    return false;
  }
  if (tracker_->is_received(d->tsn)) {
    tracker_->observe(d->tsn, kTrackerWindow);  // reported as duplicate
    return true;
  }
  if (distance(d->tsn, tracker_->cumulative_tsn()) > static_cast<int32_t>(kTrackerWindow))
    return false;  // far beyond anything we could have been sent: drop
  if (tracker_->range_limit_reached(d->tsn)) return false;  // not acknowledged
  if (d->stream.value() >= inbound_streams_) {
    // §6.5: report the bad stream, acknowledge the TSN, discard the data.
    if (packet_errors_.size() + 8 <= max_error_bytes())
      wire::CauseWriter(packet_errors_).invalid_stream(d->stream);
    tracker_->observe(d->tsn, kTrackerWindow);
    // The SACK goes at once and ahead of the ERROR: "The endpoint MAY bundle the
    // ERROR chunk in the same packet as the SACK chunk as long as the ERROR chunk
    // follows the SACK chunk."
    tracker_->request_sack();
    return true;
  }
  switch (reassembly_->add(*d, id_.value(), d->tsn == tracker_->cumulative_tsn().next())) {
    case ReassemblyQueue::AddResult::Ok:
      tracker_->observe(d->tsn, kTrackerWindow);
      return true;
    case ReassemblyQueue::AddResult::NoSpace:
      // Not acknowledged; the peer retransmits once we have room. RFC 9260 §6.2: a
      // chunk dropped for lack of window MUST be answered at once with a SACK showing
      // the current window and only what was accepted.
      dropped_for_window_ = true;
      return false;
    case ReassemblyQueue::AddResult::BadStream:
      return false;
    case ReassemblyQueue::AddResult::TooLarge:
      cw.out_of_resource();
      queue_abort(causes);
      terminate(EventKind::Aborted, Status(Errc::MessageTooLarge,
                                           "peer sent a message larger than the receive limit (" +
                                               std::to_string(cfg_.max_message_size) + " bytes)"));
      return false;
  }
  return false;
}

void Association::handle_sack(Instant now, const wire::SackChunk& sack) {
  if (!rtx_ || (state_ != AssocState::Established && state_ != AssocState::ShutdownPending &&
                state_ != AssocState::ShutdownSent && state_ != AssocState::ShutdownReceived))
    return;
  auto out = rtx_->handle_sack(sack, now);
  if (!out.accepted) return;
  // §6.2.1 D: the peer's window minus what is still in flight.
  const size_t flight = rtx_->outstanding_payload();
  peer_rwnd_ = sack.a_rwnd > flight ? sack.a_rwnd - flight : 0;
  max_peer_rwnd_ = std::max(max_peer_rwnd_, sack.a_rwnd);
  on_acked(now, out);
  zero_window_.on_sack(now, peer_rwnd_, rtx_->outstanding_bytes(), out.bytes_acked > 0,
                       paths_[data_path()].rto.rto(), cfg_.rto_max);
}

void Association::on_acked(Instant now, const RetransmissionQueue::SackOutcome& out) {
  // The sample belongs to the path its chunk went out on.
  if (out.rtt && out.rtt_path < paths_.size()) paths_[out.rtt_path].rto.observe(*out.rtt);
  // §8.1: acknowledged data proves the peer alive.
  if (out.bytes_acked > 0) assoc_error_count_ = 0;
  // §7.2.4 step 2: entering Fast Recovery cuts the cwnd of the destinations the
  // missing chunks were last sent to.
  const bool enter_recovery = out.fast_retransmit && !rtx_->in_fast_recovery();
  // Each destination's cwnd grows with what was acknowledged of the data sent to it,
  // against its own flight (§7.2.1, §7.2.2): after a failover or a retransmission to
  // an alternate address, the other path's SACKs must not open this one's window.
  for (size_t k = 0; k < paths_.size(); ++k) {
    const RetransmissionQueue::PathAck a = rtx_->path_ack(k);
    Path& p = paths_[k];
    // §8.2: clear the error counter of the address the acknowledged data went to, and
    // report it active again if it was not.
    if (a.bytes_acked > 0) {
      p.error_count = 0;
      p.one_packet = false;
      if (!p.active) {
        p.active = true;
        emit_address_change(k, AddressChange::Available);
      }
    }
    p.cc.on_ack(a.bytes_acked, out.cum_advanced, a.flight_before, out.reached_recovery_exit);
    if (enter_recovery && a.fast_retransmit) p.cc.on_fast_retransmit();
    // §6.3.2 R2/R3: stop the address's T3-rtx once nothing sent to it is outstanding
    // (chunks waiting for retransmission start it again when they go out, R1),
    // restart it when its earliest outstanding chunk is acknowledged; R4: start it
    // when the peer reneged on a chunk sent there.
    if (rtx_->outstanding_bytes(k) == 0) {
      p.t3.stop();
    } else if (a.earliest_acked) {
      p.t3.start(now, p.rto.rto());
    } else if (a.reneged && !p.t3.running()) {
      p.t3.start(now, p.rto.rto());  // R4
    }
  }
  if (enter_recovery) rtx_->enter_fast_recovery();
  // §7.2.4 step 3: only the packet sent on entering Fast Recovery ignores cwnd; chunks
  // marked later in it go "as soon as cwnd allows" (step 5, §6.1 C).
  if (enter_recovery) fast_rtx_pending_ = true;
  // A low-water mark: waking a blocked writer for every SACK that frees one chunk
  // would cost a thread hand-off per message.
  if (send_blocked_ && send_buffer_free() >= cfg_.send_buffer / 4) {
    send_blocked_ = false;
    emit(EventKind::Writable);
  }
  if (!dry_ && rtx_->empty() && send_queue_->empty()) {
    dry_ = true;
    emit(EventKind::SenderDry);
  }
  maybe_progress_shutdown(now);
}

void Association::handle_unreachable(Instant now) {
  (void)now;
  // RFC 6951 §5.5 maps ICMP port unreachable to protocol unreachable, which RFC 9260
  // Appendix C (ICMP7, after RFC 4960's) lets us treat as an ABORT. Only while the
  // INIT is unanswered, like Linux: later a stray ICMP (a NAT rebinding, a peer
  // restarting its socket) must not end an association that its timers still keep.
  if (state_ != AssocState::CookieWait) return;
  terminate(
      EventKind::ConnectFailed,
      Status(Errc::Refused, "nothing listens at " + paths_[handshake_path_].address.to_string() +
                                " (ICMP port unreachable)"));
}

void Association::handle_heartbeat(const wire::ChunkView& c, size_t path) {
  auto hb = wire::HeartbeatChunk::parse(c);
  if (!hb) return;
  // §8.3: echo the info, "together with any other received TLVs, copied unchanged",
  // to the address the HEARTBEAT came from.
  wire::HeartbeatAckChunk ack;
  ack.info = hb->info;
  ack.rest = hb->rest;
  queue_chunk(ack, path);
}

void Association::handle_heartbeat_ack(Instant now, const wire::ChunkView& c) {
  auto ack = wire::HeartbeatAckChunk::parse(c);
  if (!ack || ack->info.size() != kHeartbeatInfoSize) return;
  uint32_t idx = wire::load32(ack->info.data());
  uint64_t nonce =
      uint64_t{wire::load32(ack->info.data() + 4)} << 32 | wire::load32(ack->info.data() + 8);
  if (idx >= paths_.size()) return;
  Path& p = paths_[idx];
  if (nonce != p.heartbeat_nonce) return;  // not ours, or stale
  // §8.3: the RTT sample is from the time the HEARTBEAT was sent. The copy of that time
  // in the echoed info is only for the peer's eyes: a peer can change it while keeping
  // the nonce, and a forged one made the RTO arithmetic overflow (fuzz_endpoint,
  // regressions/fuzz_endpoint/heartbeat-ack-forged-time). One sample per HEARTBEAT: a
  // replayed ACK measures nothing.
  if (p.heartbeat_outstanding && p.heartbeat_sent <= now) p.rto.observe(now - p.heartbeat_sent);
  const bool was_confirmed = p.confirmed, was_active = p.active;
  p.heartbeat_outstanding = false;
  p.error_count = 0;
  p.confirmed = true;
  p.active = true;
  if (!was_confirmed) {
    emit_address_change(idx, AddressChange::Confirmed);
  } else if (!was_active) {
    emit_address_change(idx, AddressChange::Available);
  }
  assoc_error_count_ = 0;
  p.heartbeat.start(now, heartbeat_delay(p));
}

Duration Association::heartbeat_delay(const Path& p) {
  // §8.3: "it is RECOMMENDED that a HEARTBEAT chunk is sent once per RTO of that
  // destination address plus the protocol parameter 'HB.interval', with jittering of
  // +/- 50% of the RTO value": many associations set up together do not all probe
  // in the same instant, forever.
  const Duration rto = p.rto.rto();
  const int64_t span = rto.count() + 1;  // [-rto/2, +rto/2]
  const auto r =
      static_cast<int64_t>(random_value<uint64_t>(ctx_.random) % static_cast<uint64_t>(span));
  return rto + cfg_.heartbeat_interval + Duration(r - rto.count() / 2);
}

void Association::handle_error(Instant now, const wire::ChunkView& c) {
  auto e = wire::ErrorChunk::parse(c);
  if (!e) return;
  auto causes = wire::CauseList::parse(e->causes);
  if (!causes) return;
  for (const auto& cause : causes->all()) {
    if (cause.code == static_cast<uint16_t>(wire::CauseCode::StaleCookie) &&
        cause.value.size() >= 4) {
      handle_stale_cookie(now, wire::load32(cause.value.data()));
      return;
    }
  }
  Event ev{id_, EventKind::RemoteError, Status()};
  ev.causes.assign(e->causes.begin(), e->causes.end());
  ev.status = Status(Errc::Ok, wire::describe_causes(e->causes));
  ctx_.events->push_back(std::move(ev));
}

void Association::handle_abort(const wire::ChunkView& c) {
  // §9.1: "An endpoint MUST NOT respond to any received packet that contains an ABORT
  // chunk": whatever earlier chunks of this packet queued (a HEARTBEAT ACK, a SACK)
  // stays unsent.
  control_.clear();
  auto a = wire::AbortChunk::parse(c);
  std::string why = a ? causes_text(a->causes) : "no cause given";
  if (state_ == AssocState::CookieWait || state_ == AssocState::CookieEchoed) {
    terminate(EventKind::ConnectFailed, Status(Errc::Refused, "refused by peer: " + why));
  } else {
    terminate(EventKind::Aborted, Status(Errc::Aborted, "aborted by peer: " + why));
  }
}

// ---------------------------------------------------------------------------
// Shutdown (§9.2)

void Association::handle_shutdown(Instant now, const wire::ShutdownChunk& c) {
  switch (state_) {
    case AssocState::Established:
    case AssocState::ShutdownPending:
    case AssocState::ShutdownReceived: {
      // The Cumulative TSN Ack acknowledges like a SACK's, and only that: RFC 9260
      // §3.3.8, a SHUTDOWN has no Gap Ack Blocks, so its receiver MUST NOT take their
      // absence as a renege. (Applied as a SACK without gaps, every SHUTDOWN the peer
      // sends in SHUTDOWN-SENT, one per DATA packet by §9.2, put all gap-acked bytes
      // back in flight, over cwnd, and stalled the repair of a hole until T3-rtx.) It
      // carries no a_rwnd either: the peer's window stays as the last SACK left it,
      // as what it acknowledges is still held by the peer until read.
      if (rtx_) {
        auto out = rtx_->handle_cum_ack(c.cum_tsn_ack);
        if (out.accepted) on_acked(now, out);
      }
      if (state_ != AssocState::ShutdownReceived) {
        state_ = AssocState::ShutdownReceived;
        emit(EventKind::PeerShutdown);
      }
      maybe_progress_shutdown(now);
      break;
    }
    case AssocState::ShutdownSent:
      // Both sides shut down at once: answer with SHUTDOWN ACK.
      state_ = AssocState::ShutdownAckSent;
      queue_chunk(wire::ShutdownAckChunk{});
      t2_.start(now, paths_[data_path()].rto.rto());
      break;
    default:
      break;
  }
}

void Association::queue_shutdown(size_t path) {
  wire::ShutdownChunk s;  // SHUTDOWN-SENT comes only after establishment: tracker_ is set
  s.cum_tsn_ack = tracker_->cumulative_tsn();
  queue_chunk(s, path);
}

void Association::handle_shutdown_ack(Instant now) {
  (void)now;
  if (state_ != AssocState::ShutdownSent && state_ != AssocState::ShutdownAckSent) return;
  wire::ShutdownCompleteChunk sc;
  queue_control(Control{wire::chunk_bytes(sc), data_path(), std::nullopt, true});
  terminate(EventKind::Closed, Status());
}

void Association::handle_shutdown_complete() {
  if (state_ != AssocState::ShutdownAckSent) return;
  terminate(EventKind::Closed, Status());
}

void Association::maybe_progress_shutdown(Instant now) {
  if (!send_queue_ || !send_queue_->empty() || !rtx_->empty()) return;
  if (state_ == AssocState::ShutdownPending) {
    state_ = AssocState::ShutdownSent;
    queue_shutdown(data_path());
    t2_.start(now, paths_[data_path()].rto.rto());
  } else if (state_ == AssocState::ShutdownReceived) {
    state_ = AssocState::ShutdownAckSent;
    queue_chunk(wire::ShutdownAckChunk{});
    t2_.start(now, paths_[data_path()].rto.rto());
  }
}

// ---------------------------------------------------------------------------
// Timers

std::optional<Instant> Association::next_timeout() const {
  if (state_ == AssocState::Closed) return std::nullopt;
  std::optional<Instant> d;
  earliest(d, t1_.deadline());
  earliest(d, t2_.deadline());
  if (tracker_) earliest(d, tracker_->deadline());
  earliest(d, zero_window_.deadline());
  earliest(d, autoclose_.deadline());
  for (const auto& p : paths_) earliest(d, p.t3.deadline());
  if (heartbeats_on()) {
    for (const auto& p : paths_) earliest(d, p.heartbeat.deadline());
  }
  return d;
}

void Association::handle_timeout(Instant now) {
  if (state_ == AssocState::Closed) return;
  burst_on_event();
  if (t1_.fire(now)) on_t1_expired(now);
  if (state_ == AssocState::Closed) return;
  if (t2_.fire(now)) on_t2_expired(now);
  if (state_ == AssocState::Closed) return;
  for (size_t k = 0; k < paths_.size() && state_ != AssocState::Closed; ++k)
    if (paths_[k].t3.fire(now)) on_t3_expired(now, k);
  if (state_ == AssocState::Closed) return;
  if (tracker_) tracker_->handle_timeout(now);
  zero_window_.handle_timeout(now);
  if (autoclose_.fire(now) && state_ == AssocState::Established) shutdown(now);
  if (heartbeats_on()) {
    for (size_t i = 0; i < paths_.size() && state_ != AssocState::Closed; ++i) {
      if (paths_[i].heartbeat.fire(now)) on_heartbeat_timer(now, i);
    }
  }
}

void Association::on_t1_expired(Instant now) {
  Path& p = paths_[handshake_path_];
  if (++init_attempts_ > init_.max_attempts) {
    terminate(
        EventKind::ConnectFailed,
        Status(Errc::NoAnswer,
               "no answer from peer after " + std::to_string(init_.max_attempts + 1) +
                   (state_ == AssocState::CookieWait ? " INIT" : " COOKIE ECHO") + " attempts"));
    return;
  }
  p.rto.back_off();
  Duration rto = std::min<Duration>(p.rto.rto(), init_.max_init_timeout);
  if (state_ == AssocState::CookieWait) {
    control_.clear();
    send_init(now);
  } else if (state_ == AssocState::CookieEchoed) {
    wire::CookieEchoChunk echo;
    echo.cookie = cookie_;
    queue_chunk(echo, handshake_path_);
    // DATA bundled with the lost COOKIE ECHO goes again with the new one.
    if (rtx_) rtx_->mark_all_for_retransmit();
    t1_.start(now, rto);
  }
}

void Association::on_t2_expired(Instant now) {
  size_t path = data_path();
  if (count_error(now, path, true)) return;
  Path& p = paths_[path];
  p.rto.back_off();
  if (state_ == AssocState::ShutdownSent) {
    queue_shutdown(path);
  } else if (state_ == AssocState::ShutdownAckSent) {
    queue_chunk(wire::ShutdownAckChunk{});
  }
  t2_.start(now, p.rto.rto());
}

void Association::on_t3_expired(Instant now, size_t path) {
  if (!rtx_ || rtx_->outstanding_bytes(path) == 0) return;
  // §6.3.3 E1-E3. The timeout counts against its own address, and only the chunks
  // sent there are resent; once the address is potentially failed, data_path()
  // picks an alternate for them (§6.4), whose T3-rtx starts when they go out (R1).
  Path& p = paths_[path];
  // §6.1 A: a zero window probe the peer keeps answering (with SACKs that show the
  // window still shut) is no error; the receiver may keep its window closed for an
  // indefinite time. The timer still backs off, which spaces the probes.
  const bool answered_probe = zero_window_.probing() && zero_window_.take_answered();
  if (!answered_probe && count_error(now, path, true)) return;
  p.rto.back_off();
  zero_window_.back_off(cfg_.rto_max);
  p.cc.on_timeout();
  p.one_packet = true;
  rtx_->mark_for_retransmit(path);
  fast_rtx_pending_ = false;
}

void Association::on_heartbeat_timer(Instant now, size_t idx) {
  Path& p = paths_[idx];
  // §8.3 heartbeats an *idle* address: one with no chunk "sent to it within the
  // current heartbeat period". An address with DATA outstanding is probed by its
  // T3-rtx retransmissions; a HEARTBEAT beside them would count a second error per
  // round and back the same RTO off twice (retransmission gaps of 1, 2, 4, 16 s and an
  // association given up after 6 of its Association.Max.Retrans retransmissions).
  // A potentially failed address without DATA outstanding is probed once per RTO
  // whatever it carried before (RFC 7829 §5.2).
  const bool potentially_failed = p.error_count > cfg_.pf_max_retrans;
  if (!p.heartbeat_outstanding && p.confirmed) {
    if (p.t3.running()) {
      p.heartbeat.start(now, heartbeat_delay(p));
      return;
    }
    if (!potentially_failed && p.last_data_sent != Instant{} &&
        now - p.last_data_sent < cfg_.heartbeat_interval) {
      // Due one period after the last DATA, when the address has become idle.
      p.heartbeat.start(p.last_data_sent, heartbeat_delay(p));
      return;
    }
  }
  if (p.heartbeat_outstanding) {
    // §8.3: an unanswered HEARTBEAT counts as an error on the path.
    p.heartbeat_outstanding = false;
    if (count_error(now, idx, idx == data_path())) return;
    p.rto.back_off();
  }
  p.heartbeat_nonce = random_value<uint64_t>(ctx_.random);
  uint8_t info[kHeartbeatInfoSize];
  wire::store32(info, static_cast<uint32_t>(idx));
  wire::store32(info + 4, static_cast<uint32_t>(p.heartbeat_nonce >> 32));
  wire::store32(info + 8, static_cast<uint32_t>(p.heartbeat_nonce));
  uint64_t t = static_cast<uint64_t>(now.time_since_epoch().count());
  wire::store32(info + 12, static_cast<uint32_t>(t >> 32));
  wire::store32(info + 16, static_cast<uint32_t>(t));
  wire::HeartbeatChunk hb;
  hb.info = std::span<const uint8_t>(info, sizeof info);
  queue_chunk(hb, idx);
  p.heartbeat_outstanding = true;
  p.heartbeat_sent = now;
  p.heartbeat.start(now, p.rto.rto());
}

bool Association::count_error(Instant now, size_t path, bool for_association) {
  Path& p = paths_[path];
  // §5.4: "When probing UNCONFIRMED addresses, however, the association overall error
  // count is not incremented." §8.1: neither by unanswered HEARTBEATs on a path other
  // than the one data goes to, "as this could lead to association closure even if the
  // path that is currently used for data transfer is available (but idle)".
  for_association = for_association && p.confirmed;
  const bool counted = for_association && p.active;
  // §8.3: once the address is inactive the counter stops growing (probes go on).
  if (p.active) ++p.error_count;
  if (p.error_count > cfg_.pf_max_retrans && !p.heartbeat_outstanding) {
    // RFC 7829: probe a potentially failed path once per RTO, not per interval.
    p.heartbeat.start(now, p.rto.rto());
  }
  if (p.error_count > cfg_.path_max_retrans && p.active) {
    p.active = false;  // §8.2
    emit_address_change(path, AddressChange::Unreachable);
  }
  // Errors on unconfirmed or already unreachable paths do not count against the
  // association while another path works; when none does, every error counts.
  bool any_active = std::any_of(paths_.begin(), paths_.end(),
                                [](const Path& q) { return q.confirmed && q.active; });
  if (!for_association || (!counted && any_active)) return false;
  if (++assoc_error_count_ > cfg_.assoc_max_retrans) {
    // §8.1: the peer is unreachable. Tell it, in case only our direction failed.
    std::vector<uint8_t> causes;
    wire::CauseWriter(causes).protocol_violation("association retransmission limit reached");
    queue_abort(causes);
    terminate(
        EventKind::Lost,
        Status(Errc::ConnectionLost, "peer unreachable: " + std::to_string(cfg_.assoc_max_retrans) +
                                         " retransmissions unanswered"));
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Termination

void Association::queue_abort(std::span<const uint8_t> causes, bool t_bit) {
  wire::AbortChunk a;
  a.t_bit = t_bit;
  a.causes = causes;
  // ABORT goes alone with the peer's tag (ours if reflected, §8.5.1).
  control_.clear();
  VerificationTag tag = t_bit ? local_tag_ : peer_tag_;
  queue_control(Control{wire::chunk_bytes(a), data_path(), tag, true});
}

void Association::queue_error(std::span<const uint8_t> causes) {
  wire::ErrorChunk e;
  e.causes = causes;
  queue_chunk(e);
}

void Association::terminate(EventKind kind, Status status) {
  if (kind != EventKind::Closed) fail_pending_sends();
  autoclose_.stop();
  state_ = AssocState::Closed;
  t1_.stop();
  t2_.stop();
  for (auto& p : paths_) {
    p.heartbeat.stop();
    p.t3.stop();
  }
  send_queue_.reset();
  rtx_.reset();
  emit(kind, std::move(status));
}

// ---------------------------------------------------------------------------
// User calls

Status Association::send(Instant now, const SendInfo& info, std::span<const uint8_t> data) {
  Status st = admit(info, data.size());
  if (st.ok()) enqueue(now, info, BufferPool::share_copy(ctx_.config->buffers, data));
  return st;
}

Status Association::send(Instant now, const SendInfo& info, const SharedMessage& message) {
  Status st = admit(info, message ? message->size() : 0);
  if (st.ok()) enqueue(now, info, message);
  return st;
}

Status Association::admit(const SendInfo& info, size_t bytes) {
  switch (state_) {
    case AssocState::Established:
    case AssocState::CookieWait:  // queued; goes out with the COOKIE ECHO
    case AssocState::CookieEchoed:
      if (shutdown_requested_) return Status(Errc::ShuttingDown, "association is shutting down");
      break;
    case AssocState::Closed:
      return Status(Errc::Closed, "association is closed");
    default:
      return Status(Errc::ShuttingDown, "association is shutting down");
  }
  if (info.stream >= outbound_streams_)
    return Status(Errc::InvalidStream, "stream " + std::to_string(info.stream) +
                                           " out of range (peer accepts " +
                                           std::to_string(outbound_streams_) + " streams)");
  if (bytes == 0) return Status(Errc::InvalidArgument, "empty message (SCTP needs >= 1 byte)");
  if (bytes > cfg_.max_message_size)
    return Status(Errc::MessageTooLarge, "message of " + std::to_string(bytes) +
                                             " bytes exceeds the limit of " +
                                             std::to_string(cfg_.max_message_size));
  size_t queued = buffered_send_bytes();
  if (queued > 0 && queued + bytes + kMessageOverhead > cfg_.send_buffer) {
    send_blocked_ = true;
    return Status(Errc::WouldBlock, "send buffer full");
  }
  return Status();
}

void Association::enqueue(Instant now, const SendInfo& info, SharedMessage message) {
  send_queue_->push(StreamId(info.stream), Ppid(info.ppid), info.unordered, info.context,
                    std::move(message), has_flag(info.flags, SendFlags::SackImmediately));
  burst_on_event();
  dry_ = false;
  note_user_data(now);
}

std::optional<Message> Association::receive(Instant now) {
  (void)now;
  if (!carried_.empty()) {
    Message m = std::move(carried_.front());
    carried_.pop_front();
    return m;
  }
  if (!reassembly_) return std::nullopt;
  auto m = reassembly_->pop();
  if (!m) return m;
  if (tracker_) m->info.cumtsn = tracker_->cumulative_tsn().value();
  m->info.assoc_id = id_.value();
  // §6.2: tell the peer when reading opened the window a lot (it may be stalled). A
  // peer that sent SHUTDOWN has nothing more to send; once it has our SHUTDOWN ACK it
  // has forgotten the association and would answer the SACK with an ABORT (§8.4 (8)),
  // which, if its SHUTDOWN COMPLETE was lost, ends our graceful close as aborted.
  uint32_t rwnd = advertised_rwnd();
  if (tracker_ && peer_may_send_data() && rwnd > last_advertised_rwnd_ &&
      rwnd - last_advertised_rwnd_ >=
          std::max<size_t>(cfg_.receive_buffer / 4, max_packet_size())) {
    tracker_->request_sack();
  }
  return m;
}

Status Association::shutdown(Instant now) {
  switch (state_) {
    case AssocState::Established:
      state_ = AssocState::ShutdownPending;
      maybe_progress_shutdown(now);
      return Status();
    case AssocState::CookieWait:
    case AssocState::CookieEchoed:
      // Nothing queued and no COOKIE ECHO sent: the peer holds no state, so there is
      // nobody to tell. Otherwise the shutdown waits for the association to come up:
      // queued messages (an implicit setup with SCTP_EOF, RFC 6458 §3.1.5) are
      // delivered, and a peer that has our COOKIE ECHO is not left half-open.
      if (state_ == AssocState::CookieWait && send_queue_->empty() && rtx_->empty()) {
        terminate(EventKind::Closed, Status());
        return Status();
      }
      shutdown_requested_ = true;
      return Status();
    case AssocState::Closed:
      return Status(Errc::Closed, "association is closed");
    default:
      return Status();  // already shutting down
  }
}

Status Association::abort(Instant now, std::string_view reason) {
  (void)now;
  if (state_ == AssocState::Closed) return Status(Errc::Closed, "association is closed");
  std::vector<uint8_t> causes;
  wire::CauseWriter(causes).user_initiated_abort(
      std::span(reinterpret_cast<const uint8_t*>(reason.data()), reason.size()));
  bool had_peer_tag = peer_tag_.value() != 0;
  if (had_peer_tag) queue_abort(causes);
  terminate(EventKind::Aborted, Status(Errc::Aborted, "aborted locally: " + std::string(reason)));
  return Status();
}

size_t Association::send_buffer_free() const {
  if (!send_queue_ || (state_ != AssocState::Established && state_ != AssocState::CookieWait &&
                       state_ != AssocState::CookieEchoed))
    return 0;
  size_t queued = buffered_send_bytes();
  return queued >= cfg_.send_buffer ? 0 : cfg_.send_buffer - queued;
}

AssocInfo Association::info() const {
  AssocInfo i;
  i.id = id_;
  i.state = state_;
  i.outbound_streams = outbound_streams_;
  i.inbound_streams = inbound_streams_;
  i.peer_port = peer_port_;
  for (const auto& p : paths_) i.peer_addresses.push_back(p.address);
  if (!paths_.empty()) {
    const Path& p = paths_[primary_];
    i.primary = p.address;
    i.srtt = p.rto.srtt();
    i.rto = p.rto.rto();
    i.cwnd = p.cc.cwnd();
  }
  i.peer_rwnd = peer_rwnd_;
  if (rtx_) {
    i.outstanding_bytes = rtx_->outstanding_bytes();
    i.unacked_chunks = rtx_->unacked_count();
    i.retransmissions = rtx_->total_retransmissions();
  }
  i.queued_bytes =
      (send_queue_ ? send_queue_->queued_bytes() : 0) + (rtx_ ? rtx_->unacked_bytes() : 0);
  i.pending_receive = carried_.size() + (reassembly_ ? reassembly_->ready_count() : 0);
  i.packets_sent = packets_sent_;
  i.packets_received = packets_received_;
  for (size_t k = 0; k < paths_.size(); ++k) {
    const Path& p = paths_[k];
    i.paths.push_back(PathInfo{p.address, p.confirmed, p.active, k == primary_, p.error_count,
                               p.rto.srtt(), p.rto.rto(), p.cc.cwnd()});
  }
  return i;
}

size_t Association::buffered_send_bytes() const {
  return send_queue_->queued_bytes() + send_queue_->queued_messages() * kMessageOverhead +
         rtx_->unacked_bytes() + rtx_->unacked_count() * kChunkOverhead;
}

Status Association::set_primary(Instant now, const IpAddress& ip) {
  (void)now;
  for (size_t k = 0; k < paths_.size(); ++k) {
    if (paths_[k].address.ip != ip) continue;
    if (k != primary_) {
      primary_ = k;
      emit_address_change(k, AddressChange::MadePrimary);
    }
    return Status();
  }
  return Status(Errc::InvalidArgument, ip.to_string() + " is not an address of the peer");
}

void Association::note_user_data(Instant now) {
  if (cfg_.autoclose.count() > 0) autoclose_.start(now, cfg_.autoclose);
}

void Association::emit_address_change(size_t path, AddressChange change) {
  Event ev{id_, EventKind::PeerAddressChange, Status()};
  ev.address = paths_[path].address;
  ev.change = change;
  ctx_.events->push_back(std::move(ev));
}

void Association::fail_pending_sends() {
  auto report = [&](const OutgoingData& d, bool sent) {
    Event ev{id_, EventKind::SendFailed, Status(Errc::Aborted, "message not delivered")};
    ev.send_info.stream = d.stream.value();
    ev.send_info.ppid = d.ppid.value();
    ev.send_info.unordered = d.unordered;
    ev.send_info.context = d.context;
    ev.data.assign(d.message->begin(), d.message->end());
    ev.sent = sent;
    ctx_.events->push_back(std::move(ev));
  };
  // Unacknowledged first (lowest TSN first), then never sent, each message once.
  const std::vector<uint8_t>* in_flight_tail = nullptr;
  if (rtx_) {
    for (const auto& d : rtx_->unacked_messages()) {
      report(d, true);
      in_flight_tail = d.message.get();
    }
  }
  if (send_queue_) {
    for (const auto& d : send_queue_->take_all())
      if (d.message.get() != in_flight_tail) report(d, !d.beginning);
  }
}

bool Association::path_usable(const Path& p) const {
  return p.confirmed && p.active && p.error_count <= cfg_.pf_max_retrans;
}

size_t Association::data_path() const {
  if (paths_.empty() || path_usable(paths_[primary_])) return primary_;
  for (size_t k = 0; k < paths_.size(); ++k)
    if (path_usable(paths_[k])) return k;
  // Nothing fully healthy: the confirmed active path with the fewest errors (RFC 7829
  // §5: keep trying the least-failed one), else a confirmed one, the primary first. Never
  // an UNCONFIRMED address, even a primary the user chose (§5.4: no chunk but a
  // HEARTBEAT may go there); path 0, where the handshake ran, is always confirmed.
  size_t best = paths_[primary_].confirmed ? primary_ : 0;
  for (size_t k = 0; k < paths_.size(); ++k) {
    const Path& p = paths_[k];
    if (p.confirmed && p.active &&
        (!paths_[best].active || p.error_count < paths_[best].error_count))
      best = k;
  }
  return best;
}

size_t Association::answer_path(size_t path) const {
  const Path& p = paths_[path];
  return p.confirmed && p.active ? path : data_path();
}

// ---------------------------------------------------------------------------
// Transmission

void Association::decay_idle_cwnd(Path& p, size_t path, Instant now) {
  // RFC 9260 §7.2.1: "When the endpoint does not transmit data on a given transport
  // address, the cwnd of the transport address SHOULD be adjusted to max(cwnd/2,
  // 4*MTU) per RTO." Applied when the address is about to be used again, once for
  // each whole RTO it sat idle with nothing in flight; a window opened long ago would
  // otherwise be emptied into a network whose state nobody has sampled since.
  if (p.last_data_sent == Instant{} || rtx_->outstanding_bytes(path) != 0) return;
  const Duration rto = p.rto.rto();
  if (rto <= Duration(0) || now - p.last_data_sent < rto) return;
  const auto periods = (now - p.last_data_sent) / rto;
  p.cc.on_idle(static_cast<uint64_t>(periods));
  p.last_data_sent += periods * rto;
}

bool Association::peer_window_open() const {
  // §6.1 A: new DATA only into the peer's window, except that with the window shut
  // and nothing in flight one chunk probes it, once the probe's time has come.
  return peer_rwnd_ > 0 || (rtx_->outstanding_bytes() == 0 && !zero_window_.waiting());
}

bool Association::path_may_send(size_t path) const {
  const Path& p = paths_[path];
  const size_t flight = rtx_->outstanding_bytes(path);
  // §6.1 B: no new packet to an address with its cwnd or more outstanding to it.
  // §7.2.1: after a T3-rtx timeout "only one packet is allowed to be in flight until
  // successful acknowledgement" (cwnd is one MTU, and a packet a little smaller than
  // that would otherwise let a second one out).
  return flight < p.cc.cwnd() && !(p.one_packet && flight > 0);
}

bool Association::write_data(wire::PacketWriter& w, Instant now, bool ignore_cwnd, size_t path) {
  Path& p = paths_[path];
  // Once started, a packet is filled up to cwnd (checked per chunk below).
  if (!ignore_cwnd && !path_may_send(path)) return false;
  auto room = [&](size_t payload) {
    return pad4(wire::DataChunk::kHeaderSize + payload) <= w.remaining();
  };
  auto put = [&](Tsn tsn, const OutgoingData& d) {
    wire::DataChunk dc;
    dc.tsn = tsn;
    dc.stream = d.stream;
    dc.ssn = d.ssn;
    dc.ppid = d.ppid;
    dc.unordered = d.unordered;
    dc.beginning = d.beginning;
    dc.ending = d.ending;
    // RFC 7053 §4.1: ask for the SACK at once where the peer's delayed-ack timer would
    // only stall us: while shutting down (the SHUTDOWN waits for it), and when this
    // packet is all the cwnd lets out (after a T3-rtx timeout, or on a path that just
    // came back): one packet in flight never makes the peer's every-second-packet SACK,
    // so each round trip would cost its delayed-ack time (200 ms), longer than an RTO
    // tuned low, and the T3-rtx timeout that then fires spuriously shrinks cwnd again
    // and moves the data to another path (RFC 7829).
    const size_t flight = rtx_->outstanding_bytes(path);
    const size_t packet = max_packet_size() - wire::kCommonHeaderSize;
    dc.immediate = d.sack_immediately || state_ == AssocState::ShutdownPending ||
                   state_ == AssocState::ShutdownReceived ||
                   (flight <= packet && flight + packet > p.cc.cwnd());
    dc.payload = std::span<const uint8_t>(d.data(), d.length);
    w.add(dc);
    peer_rwnd_ = peer_rwnd_ > d.length ? peer_rwnd_ - d.length : 0;
    p.last_data_sent = now;
    // §6.3.2 R1, on the address it goes to. DATA bundled with a COOKIE ECHO is
    // timed by T1-cookie until established.
    if (!p.t3.running() && state_ != AssocState::CookieEchoed)
      p.t3.start(now, zero_window_.timeout(p.rto.rto()));
  };
  // Retransmissions first (§6.1: before new data), then new data, within cwnd.
  // §7.2.4 step 4: the first fast-retransmit packet ignores cwnd.
  while (rtx_->has_retransmissions()) {
    auto size = rtx_->next_retransmission_size();
    if (!size || !room(*size)) break;
    if (!ignore_cwnd && rtx_->outstanding_bytes(path) >= p.cc.cwnd()) break;
    auto r = rtx_->take_retransmission(now, path);
    if (!r) break;
    put(r->tsn, r->data);
    // §6.1, §7.2.4 step 4: "the sender MUST restart the timer if the earliest (i.e.,
    // lowest TSN) outstanding DATA chunk sent to that address is being retransmitted"
    // (its old timer would fire before the retransmission could be acknowledged).
    if (r->tsn == rtx_->cum_tsn_ack().next() && state_ != AssocState::CookieEchoed)
      p.t3.start(now, zero_window_.timeout(p.rto.rto()));
  }
  if (ignore_cwnd) return false;
  if (state_ != AssocState::Established && state_ != AssocState::ShutdownPending &&
      state_ != AssocState::ShutdownReceived && state_ != AssocState::CookieEchoed)
    return false;
  // §6.1 D: Max.Burst packets of new DATA per transmission opportunity, so that a
  // large cwnd opened by an idle period or a big cumulative ack is not emptied into
  // the network at line rate.
  if (burst_exhausted()) return false;
  // Only when new DATA waits: the decay moves last_data_sent along, which must keep
  // meaning "DATA went here" (§8.3 heartbeats only addresses idle for a period).
  if (!send_queue_->empty()) decay_idle_cwnd(p, path, now);
  bool sent_new = false;
  while (!send_queue_->empty()) {
    // §6.1 B: no new data to an address with its cwnd or more outstanding to it.
    if (rtx_->outstanding_bytes(path) >= p.cc.cwnd()) break;
    // The peer's window and Nagle look at the whole association's flight.
    const size_t flight = rtx_->outstanding_bytes();
    if (w.remaining() < pad4(wire::DataChunk::kHeaderSize + 1)) break;
    size_t max_payload =
        std::min(max_data_payload(), w.remaining() - wire::DataChunk::kHeaderSize) & ~size_t{3};
    if (max_payload == 0) break;
    // §6.1 A: respect the peer's window, but one chunk may always probe a zero
    // window when nothing is in flight.
    if (!peer_window_open()) break;
    // Nagle (SCTP_NODELAY off, RFC 6458 §8.1.5): with data in flight, only send when
    // a full packet's worth is queued, so that small messages are bundled.
    if (!cfg_.nodelay && flight > 0 && send_queue_->queued_bytes() < max_payload) break;
    // A message that would fit whole in a packet of its own is not split just to
    // top up this one: fragments cost reassembly, and a loss then hits two messages.
    // With SCTP_NODELAY off the user has traded that for throughput, so packets are
    // filled like TCP segments (the sender may fragment any message, RFC 9260 §6.9):
    // 1 KiB messages at MTU 1500 then take 27% fewer packets.
    if (cfg_.nodelay && !w.empty()) {  // looked up only when it matters (2.6% of a bulk sender)
      const size_t rest = send_queue_->next_message_remaining().value_or(0);
      if (rest > max_payload && rest <= max_data_payload()) break;
    }
    if (peer_rwnd_ > 0 && peer_rwnd_ < max_payload && flight > 0) {
      // §6.1 A: "The sender MUST also have an algorithm for sending new DATA chunks to
      // avoid silly window syndrome (SWS) as described in [RFC1122]": with data in
      // flight (its SACKs will open the window), a window smaller than a full chunk
      // is only used if it is at least half the largest the peer offered, or if all
      // that is queued fits in it; otherwise wait rather than send slivers.
      if (peer_rwnd_ < max_peer_rwnd_ / 2 && send_queue_->queued_bytes() > peer_rwnd_) break;
      max_payload = peer_rwnd_;
    }
    auto d = send_queue_->produce(std::max<size_t>(max_payload, 1));
    if (!d) break;
    const Tsn tsn = rtx_->add(std::move(*d), now, path);
    put(tsn, rtx_->newest());
    sent_new = true;
  }
  if (sent_new) --burst_left_;
  return sent_new;
}

std::optional<Transmit> Association::poll_transmit(Instant now, std::vector<uint8_t>& buffer) {
  wire::PacketWriter w(buffer, max_packet_size());
  return poll_transmit_into(now, w);
}

std::optional<Transmit> Association::poll_transmit(Instant now, std::span<uint8_t> out) {
  wire::PacketWriter w(out, max_packet_size());
  return poll_transmit_into(now, w);
}

std::optional<Transmit> Association::poll_transmit_into(Instant now, wire::PacketWriter& w) {
  if (paths_.empty()) return std::nullopt;
  const bool data_ok = rtx_ != nullptr && state_ != AssocState::Closed &&
                       state_ != AssocState::CookieWait && state_ != AssocState::CookieEchoed;
  const size_t new_data_path = data_path();
  size_t dpath = new_data_path;
  if (fast_rtx_pending_ && rtx_ && rtx_->has_retransmissions()) {
    // §6.4: "when its peer is multi-homed, an endpoint SHOULD send fast
    // retransmissions on the same destination transport address where the original
    // data was sent to" (its loss says nothing against that address, unlike a
    // timeout), if that address still works: not to one potentially failed (RFC 7829:
    // that moved the retransmissions of an outage back onto the dead link, and a
    // failover that took 100 ms took up to 1.2 s in netns_failover_udp).
    const auto original = rtx_->next_retransmission_path();
    if (original && *original < paths_.size() && path_usable(paths_[*original])) dpath = *original;
  }
  // SACKs answer the address the DATA came from (§6.4), unless it stopped working or
  // was never confirmed.
  const size_t sack_path = answer_path(last_data_path_);
  const bool cwnd_open = rtx_ && path_may_send(dpath);
  // After our SHUTDOWN ACK only SHUTDOWN ACK may reach the peer (see receive()): no
  // SACK, alone or bundled.
  const bool may_sack = tracker_ && state_ != AssocState::ShutdownAckSent;
  bool sack_due = may_sack && data_ok && tracker_->sack_due();
  bool data_due =
      data_ok && ((rtx_->has_retransmissions() && (fast_rtx_pending_ || cwnd_open)) ||
                  (!send_queue_->empty() && !burst_exhausted() && cwnd_open && peer_window_open() &&
                   (state_ == AssocState::Established || state_ == AssocState::ShutdownPending ||
                    state_ == AssocState::ShutdownReceived)));
  if (control_.empty() && !sack_due && !data_due) {
    burst_left_ = 0;  // this transmission opportunity is over (§6.1 D)
    return std::nullopt;
  }

  size_t path = sack_due ? sack_path : dpath;
  VerificationTag vtag = peer_tag_;
  if (!control_.empty()) {
    path = control_.front().path.value_or(dpath);
    vtag = control_.front().vtag.value_or(peer_tag_);
  }
  w.begin(ctx_.config->port, peer_port_, vtag);
  bool alone = false;
  bool has_cookie_echo = false;
  bool has_sack = false;
  bool has_shutdown = false;
  while (!control_.empty()) {
    const Control& c = control_.front();
    const wire::ChunkType type = c.type();
    const bool is_shutdown = type == wire::ChunkType::Shutdown;
    if (is_shutdown && state_ != AssocState::ShutdownSent) {
      // SHUTDOWN goes out only in SHUTDOWN-SENT. One queued for a DATA packet before
      // the peer's SHUTDOWN crossed ours, or before its SHUTDOWN ACK closed the
      // association in the same batch, would only be answered again (or, at a peer
      // that has closed, as out of the blue). Dropped here, where every exit from
      // SHUTDOWN-SENT is covered.
      control_.pop_front();
      continue;
    }
    if (c.path.value_or(dpath) != path || c.vtag.value_or(peer_tag_) != vtag) break;
    // One SACK per packet: each queued SACK is a separate acknowledgement. Likewise
    // each queued SHUTDOWN answers a packet of its own (§9.2).
    const bool is_sack = type == wire::ChunkType::Sack;
    if ((is_sack && has_sack) || (is_shutdown && has_shutdown)) break;
    if (c.alone && !w.empty()) break;
    if (c.padded_size() > w.remaining() && !w.empty()) break;
    if (c.sack)
      w.add(*c.sack);
    else
      w.add_raw(c.bytes);
    has_sack |= is_sack;
    has_shutdown |= is_shutdown;
    alone = c.alone;
    if (type == wire::ChunkType::CookieEcho) {
      has_cookie_echo = true;
      cookie_echo_sent_ = now;
    }
    control_.pop_front();
    if (alone) break;
  }
  if (!alone && vtag == peer_tag_ && data_ok) {
    // A SACK rides along whenever one is owed (§6.2: bundle with outgoing data).
    if (!has_sack && may_sack && (tracker_->sack_due() || tracker_->deadline()) &&
        path == sack_path) {
      uint32_t rwnd = advertised_rwnd();
      auto sack = tracker_->make_sack(rwnd, w.remaining());
      if (w.fits(sack)) {
        w.add(sack);
        last_advertised_rwnd_ = rwnd;
      }
    }
    if (path == dpath) {
      if (fast_rtx_pending_) {
        fast_rtx_pending_ = false;
        write_data(w, now, true, path);
      }
      // New data stays on the data path; after a fast retransmission elsewhere it
      // goes in the next packet.
      if (path == new_data_path) write_data(w, now, false, path);
    }
  } else if (has_cookie_echo && rtx_) {
    // §5.1: DATA may ride behind the COOKIE ECHO.
    write_data(w, now, false, path);
  }
  if (w.empty()) {
    burst_left_ = 0;
    return std::nullopt;
  }
  // Empty only if a chunk did not fit fixed memory (never with max_packet_size()
  // bytes): what it held is lost as if on the network.
  const size_t size = w.finish().size();
  ++packets_sent_;
  return Transmit{paths_[path].address, paths_[path].local, size};
}

}  // namespace sctpp
