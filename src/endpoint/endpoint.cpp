// The endpoint: demultiplexing to associations, stateless INIT handling with signed
// cookies (RFC 9260 §5.1), COOKIE ECHO acceptance, and out-of-the-blue replies
// (§8.4).
#include "endpoint/endpoint.h"

#include <algorithm>
#include <array>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "assoc/association.h"
#include "endpoint/state_cookie.h"
#include "util/deadline_heap.h"
#include "wire/chunk_bytes.h"
#include "wire/chunks.h"
#include "wire/error_causes.h"
#include "wire/packet.h"
#include "wire/parameters.h"

namespace sctpp {

namespace {

// Unrecognized Parameter parameters reported in one INIT ACK (§3.2.2): with a cookie
// of a few hundred bytes the INIT ACK still fits a 1500-byte path.
constexpr size_t kMaxReportedParamBytes = 1024;

struct PeerKey {
  IpAddress ip;
  uint16_t port;
  friend auto operator<=>(const PeerKey&, const PeerKey&) = default;
};

// Every packet received looks its association up by the peer's address and port: a
// hash table, not an ordered map (with 10,000 associations a lookup there was ~14
// three-way address comparisons). Seeded per endpoint from its random source, so that
// peers cannot choose addresses that all land in one bucket.
struct PeerKeyHash {
  uint64_t seed = 0;
  static uint64_t mix(uint64_t x) {  // splitmix64's finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  size_t operator()(const PeerKey& k) const {
    const auto w = k.ip.words();
    const uint64_t h = mix(seed ^ w[0] ^ (uint64_t{k.port} << 1) ^ (k.ip.is_v6() ? 1u : 0u));
    return static_cast<size_t>(mix(h ^ w[1]));
  }
};

// A packet built outside any association (INIT ACK, stale-cookie ERROR, ABORT).
struct Reply {
  Transmit to;
  std::vector<uint8_t> bytes;
};

template <class C>
std::vector<uint8_t> single_chunk_packet(uint16_t src, uint16_t dst, VerificationTag vtag,
                                         const C& chunk) {
  std::vector<uint8_t> buf;
  wire::PacketWriter w(buf);
  w.begin(src, dst, vtag);
  w.add(chunk);
  w.finish();
  return buf;
}

std::vector<uint8_t> abort_packet(uint16_t src, uint16_t dst, VerificationTag vtag, bool t_bit,
                                  std::span<const uint8_t> causes = {}) {
  wire::AbortChunk a;
  a.t_bit = t_bit;
  a.causes = causes;
  return single_chunk_packet(src, dst, vtag, a);
}

uint64_t random_u64(const Endpoint::RandomSource& random) {
  uint64_t v = 0;
  random(std::span(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v;
}

}  // namespace

class EndpointImpl {
 public:
  EndpointImpl(EndpointConfig c, Endpoint::RandomSource r)
      : cfg(std::move(c)), random(std::move(r)), by_peer(0, PeerKeyHash{random_u64(random)}) {}

  EndpointConfig cfg;
  Endpoint::RandomSource random;
  CookieSigner signer;
  std::optional<Instant> next_rotation;
  // Per association: whether it may have a packet to send (it is then in `ready`),
  // and the deadline it has in the timer heap. Only touched associations are
  // visited, so idle ones cost nothing per packet or per timer tick.
  struct Slot {
    std::unique_ptr<Association> assoc;
    bool queued = false;
    std::optional<Instant> armed;
    bool rearm_due = false;  // listed in rearms: its deadline may have changed
  };
  std::unordered_map<uint32_t, Slot> assocs;
  // assocs[id], or null. A send looks its association up ~5 times (send, touch, poll,
  // rearm, heap), nearly always the same one: the last found is kept (map nodes stay
  // where they are until erased; erase() below forgets it).
  Slot* slot_of(uint32_t id) {
    if (cached_slot_ != nullptr && cached_id_ == id) return cached_slot_;
    auto it = assocs.find(id);
    if (it == assocs.end()) return nullptr;
    cached_id_ = id;
    cached_slot_ = &it->second;
    return cached_slot_;
  }
  void erase(uint32_t id) {
    cached_slot_ = nullptr;
    assocs.erase(id);
  }
  Slot* cached_slot_ = nullptr;
  uint32_t cached_id_ = 0;
  std::unordered_map<PeerKey, uint32_t, PeerKeyHash> by_peer;
  std::deque<Event> events;
  std::deque<Reply> replies;
  std::deque<uint32_t> ready;     // round-robin order of associations that may transmit
  DeadlineHeap<uint32_t> timers;  // live entries: those equal to their slot's `armed`
  // Associations whose deadline is looked at again before the heap is next read.
  std::vector<uint32_t> rearms;
  uint32_t next_id = 1;
  // The tag pairs (local, peer) of associations made from a cookie, until that cookie
  // expires: a replayed COOKIE ECHO for an association that has since closed must not
  // create it (and deliver its bundled DATA) a second time. The pair, not the local
  // tag alone: two fresh handshakes draw the same random local tag every few seconds
  // at thousands of setups per second, and the second must not be taken for a replay.
  // Bounded by kMaxUsedTags.
  static constexpr size_t kMaxUsedTags = 65536;
  std::deque<std::pair<int64_t, uint64_t>> used_tag_order;  // (expiry ns, tag pair)
  std::unordered_set<uint64_t> used_tags;
  static uint64_t tag_pair(const StateCookie& c) {
    return uint64_t{c.local_tag.value()} << 32 | c.peer_tag.value();
  }
  void forget_expired_tags(int64_t now_ns) {
    while (!used_tag_order.empty() &&
           (used_tag_order.front().first <= now_ns || used_tag_order.size() > kMaxUsedTags)) {
      used_tags.erase(used_tag_order.front().second);
      used_tag_order.pop_front();
    }
  }

  // Call after anything that may have changed what an association wants to send or
  // when it wants to be woken.
  void touch(uint32_t id) {
    Slot* found = slot_of(id);
    if (found == nullptr) return;
    Slot& slot = *found;
    if (!slot.queued) {
      slot.queued = true;
      ready.push_back(id);
    }
    rearm(id, slot);
  }
  // Deferred until the heap is read (prune_timers()): an association's deadline
  // changes with almost every packet it handles or sends, and working it out each
  // time cost ~5% of a bulk transfer; a batch of packets now pays it once.
  void rearm(uint32_t id, Slot& slot) {
    if (slot.rearm_due) return;
    slot.rearm_due = true;
    rearms.push_back(id);
  }
  void apply_rearms() {
    for (uint32_t id : rearms) {
      Slot* found = slot_of(id);
      if (found == nullptr || !found->rearm_due) continue;  // gone meanwhile
      Slot& slot = *found;
      slot.rearm_due = false;
      auto d = slot.assoc->next_timeout();
      if (d == slot.armed) continue;
      slot.armed = d;
      if (d) timers.push(*d, id);
    }
    rearms.clear();
  }
  // Drops heap entries that no longer match their association's deadline.
  void prune_timers() {
    apply_rearms();
    while (!timers.empty()) {
      const auto [t, id] = timers.top();
      const Slot* slot = slot_of(id);
      if (slot != nullptr && slot->armed == t) return;
      timers.pop();
    }
  }

  AssocContext context() { return AssocContext{&cfg, random, &events}; }

  void rotate_secret(Instant now) {
    if (next_rotation && now < *next_rotation) return;
    std::array<uint8_t, 32> secret;
    random(secret);
    signer.rotate(secret);
    next_rotation = now + cfg.secret_rotation;
  }

  Association* find(const SocketAddress& from, uint16_t peer_port) {
    auto it = by_peer.find(PeerKey{from.ip, peer_port});
    if (it == by_peer.end()) return nullptr;
    const Slot* a = slot_of(it->second);
    // A closed association only waits for its user to read what is left: to the
    // network it no longer exists, so its packets are out of the blue (§8.4) and a
    // new INIT from the same peer starts afresh.
    if (a == nullptr || a->assoc->terminated()) return nullptr;
    return a->assoc.get();
  }

  // §5.1.2 D: an INIT (or its cookie) "MUST be treated as belonging to an already
  // established association ... if the use of any of the valid address parameters
  // contained within the chunk would identify an existing TCB". Looking up only the
  // packet's source let an INIT from elsewhere that lists a peer's address set up a
  // second association and take that address over (registered over the first).
  Association* find_any(std::span<const IpAddress> addresses, uint16_t peer_port) {
    for (const auto& ip : addresses)
      if (Association* a = find(SocketAddress{ip, 0}, peer_port)) return a;
    return nullptr;
  }

  void register_paths(Association& a) {
    for (const auto& p : a.paths()) {
      const PeerKey key{p.address.ip, a.peer_port()};
      // Never take an address from another live association (one per peer address).
      if (Association* other = find(p.address, a.peer_port()); other && other != &a) continue;
      by_peer[key] = a.id().value();
    }
  }

  void reply(const SocketAddress& to, const IpAddress& from, std::vector<uint8_t> bytes) {
    // Replies are bounded: a flood of INITs must not queue unbounded answers.
    if (replies.size() >= 1024) return;
    replies.push_back(Reply{Transmit{to, from}, std::move(bytes)});
  }

  void handle_init(Instant now, const wire::PacketView& pv, const SocketAddress& from,
                   const IpAddress& to, Association* existing);
  void handle_cookie_echo(Instant now, const wire::PacketView& pv, const wire::ChunkView& c,
                          const SocketAddress& from, const IpAddress& to, Association* existing);
};

Endpoint::Endpoint(EndpointConfig config, RandomSource random)
    : impl_(std::make_unique<EndpointImpl>(std::move(config), std::move(random))) {}
Endpoint::~Endpoint() = default;

const EndpointConfig& Endpoint::config() const {
  return impl_->cfg;
}
uint16_t Endpoint::port() const {
  return impl_->cfg.port;
}

void Endpoint::handle_packet(Instant now, const SocketAddress& from, const IpAddress& to,
                             std::span<const uint8_t> bytes) {
  auto& s = *impl_;
  s.rotate_secret(now);
  auto pv = wire::PacketView::parse(bytes, wire::ChecksumPolicy::Verify);
  if (!pv || pv->chunk_count() == 0) return;  // bad CRC or malformed: drop (§6.8)
  const auto& hdr = pv->header();
  if (hdr.dst_port != s.cfg.port || hdr.src_port == 0) return;
  // §8.4 rule 1: a packet to or from a non-unicast address is silently discarded (no
  // association can have such a peer, and an answer would go to many or to nobody).
  if (from.ip.is_multicast_or_broadcast() || from.ip.is_any() || to.is_multicast_or_broadcast())
    return;
  const wire::ChunkView first = *pv->begin();
  const auto type = static_cast<wire::ChunkType>(first.type);
  Association* a = s.find(from, hdr.src_port);

  if (type == wire::ChunkType::Init) {
    // §6.10: INIT is never bundled; such a packet is discarded.
    if (pv->chunk_count() != 1) return;
    s.handle_init(now, *pv, from, to, a);
    return;
  }
  if (type == wire::ChunkType::CookieEcho) {
    s.handle_cookie_echo(now, *pv, first, from, to, a);
    return;
  }
  if (a && type == wire::ChunkType::ShutdownAck &&
      (a->state() == AssocState::CookieWait || a->state() == AssocState::CookieEchoed)) {
    // §8.5.1 E: a SHUTDOWN ACK while connecting is treated as out of the blue, whatever
    // its tag (the peer is typically closing an older association with us, whose tag
    // is not our new one): §8.4 (5), SHUTDOWN COMPLETE with the T bit reflecting the
    // tag, to the packet's source. The association is left untouched.
    if (auto r = out_of_the_blue_reply(bytes)) s.reply(from, to, std::move(*r));
    return;
  }
  if (a) {
    const size_t paths_before = a->paths().size();
    a->handle_packet(now, *pv, from, to);
    // The INIT ACK may have told us more addresses of the peer: packets from them
    // must find this association too.
    if (a->paths().size() != paths_before) s.register_paths(*a);
    s.touch(a->id().value());
    return;
  }
  // Out of the blue (§8.4).
  if (auto r = out_of_the_blue_reply(bytes)) s.reply(from, to, std::move(*r));
}

void Endpoint::handle_unreachable(Instant now, const SocketAddress& to,
                                  std::span<const uint8_t> packet) {
  auto& s = *impl_;
  if (packet.size() < 16) return;
  const uint16_t src_port = wire::load16(packet.data());
  const uint16_t dst_port = wire::load16(packet.data() + 2);
  const VerificationTag vtag(wire::load32(packet.data() + 4));
  if (src_port != s.cfg.port) return;
  Association* a = s.find(to, dst_port);
  if (!a) return;
  // Appendix C ICMP6: the echoed packet must be one of ours: the peer's tag, or tag 0
  // with an INIT carrying our Initiate Tag. Anything else may be forged.
  if (vtag.value() != 0) {
    if (vtag != a->peer_tag()) return;
  } else if (packet.size() < 20 || packet[12] != static_cast<uint8_t>(wire::ChunkType::Init) ||
             VerificationTag(wire::load32(packet.data() + 16)) != a->local_tag()) {
    return;
  }
  a->handle_unreachable(now);
}

void EndpointImpl::handle_init(Instant now, const wire::PacketView& pv, const SocketAddress& from,
                               const IpAddress& to, Association* existing) {
  const auto& hdr = pv.header();
  auto init = wire::InitChunk::parse(*pv.begin());
  if (!init) return;
  if (hdr.vtag.value() != 0) return;            // §8.5.1 A
  if (init->initiate_tag.value() == 0) return;  // §3.3.2: silently discard
  std::vector<uint8_t> causes;
  wire::CauseWriter cw(causes);
  if (init->outbound_streams == 0 || init->inbound_streams == 0) {
    // §3.3.2: zero OS or MIS: discard, answer ABORT with the Initiate Tag.
    cw.invalid_mandatory_param();
    reply(from, to, abort_packet(cfg.port, hdr.src_port, init->initiate_tag, false, causes));
    return;
  }
  if (!existing && !cfg.accept_incoming) {
    // §8.4 (3): not listening: ABORT, tagged with the INIT's Initiate Tag, T bit 0.
    reply(from, to, abort_packet(cfg.port, hdr.src_port, init->initiate_tag, false));
    return;
  }
  if (!existing && assocs.size() >= cfg.max_associations) {
    cw.out_of_resource();
    reply(from, to, abort_packet(cfg.port, hdr.src_port, init->initiate_tag, false, causes));
    return;
  }

  StateCookie cookie;
  cookie.peer_tag = init->initiate_tag;
  cookie.peer_initial_tsn = init->initial_tsn;
  cookie.peer_a_rwnd = init->a_rwnd;
  cookie.local_port = cfg.port;
  cookie.peer_port = hdr.src_port;
  cookie.peer_source = from;
  uint32_t lifetime_ms = static_cast<uint32_t>(
      std::chrono::duration_cast<milliseconds>(cfg.assoc.valid_cookie_life).count());

  std::vector<uint8_t> unrecognized;                     // whole Unrecognized Parameter params
  std::optional<std::vector<uint16_t>> supported_types;  // §5.1.2, if the INIT has them
  wire::ParamWriter unrec_writer(unrecognized);
  if (auto params = wire::ParamList::parse(init->params)) {
    for (const auto& p : *params) {
      bool stop = false;
      switch (static_cast<wire::ParamType>(p.type)) {
        case wire::ParamType::Ipv4Address:
          if (auto ip = wire::parse_ipv4_param(p)) cookie.peer_addresses.push_back(*ip);
          break;
        case wire::ParamType::Ipv6Address:
          if (auto ip = wire::parse_ipv6_param(p)) cookie.peer_addresses.push_back(*ip);
          break;
        case wire::ParamType::CookiePreservative:
          // §5.2.6: grant the extra life asked for, within reason (one more lifetime).
          if (auto ms = wire::parse_cookie_preservative(p))
            lifetime_ms += std::min(*ms, lifetime_ms);
          break;
        case wire::ParamType::HostNameAddress: {
          // §3.3.2.1: Host Name addresses are not supported: ABORT, Unresolvable Address.
          cw.unresolvable_address(p.whole);
          reply(from, to, abort_packet(cfg.port, hdr.src_port, init->initiate_tag, false, causes));
          return;
        }
        case wire::ParamType::SupportedAddressTypes:
          if (auto types = wire::parse_supported_address_types(p)) supported_types = *types;
          break;
        default: {
          // §3.2.1: report per the upper two bits inside the INIT ACK. Parameters of
          // extensions we do not implement (PR-SCTP, AUTH, ECN...) land here too, so
          // a peer asking for Forward-TSN learns we lack it (RFC 3758 §3.3.1).
          auto action = wire::unknown_param_action(p.type);
          if (action == wire::UnknownParamAction::StopAndReport ||
              action == wire::UnknownParamAction::SkipAndReport) {
            // §3.2.2 MUST report them; a bound keeps the INIT ACK within a usual PMTU
            // next to the cookie (a flood of unknown parameters is not worth echoing).
            if (unrecognized.size() + 4 + wire::pad4(p.whole.size()) <= kMaxReportedParamBytes)
              unrec_writer.add(wire::ParamType::UnrecognizedParameter, p.whole);
          }
          stop = action == wire::UnknownParamAction::Stop ||
                 action == wire::UnknownParamAction::StopAndReport;
        }
      }
      if (stop) break;
    }
  }

  // A secret is honoured for one rotation after it was replaced, so no cookie may
  // outlive one rotation period, whatever the Cookie Preservative asked for.
  lifetime_ms = std::min<uint32_t>(
      lifetime_ms,
      static_cast<uint32_t>(std::chrono::duration_cast<milliseconds>(cfg.secret_rotation).count()));

  if (!existing) existing = find_any(cookie.peer_addresses, hdr.src_port);
  if (existing && existing->state() != AssocState::CookieWait) {
    // §5.2.1, §5.2.2: an INIT that brings addresses the association does not have
    // is refused with "Restart of an Association with New Addresses", listing them.
    std::vector<uint8_t> fresh;
    wire::ParamWriter fw(fresh);
    auto consider = [&](const IpAddress& ip) {
      // Addresses we would never use for this peer do not count as new.
      if (ip.is_any() || ip.family() != from.ip.family() ||
          ip.is_loopback() != from.ip.is_loopback())
        return;
      for (const auto& p : existing->paths())
        if (p.address.ip == ip) return;
      fw.add_address(ip);
    };
    consider(from.ip);
    for (const auto& ip : cookie.peer_addresses) consider(ip);
    if (!fresh.empty()) {
      cw.restart_with_new_addresses(fresh);
      reply(from, to, abort_packet(cfg.port, hdr.src_port, init->initiate_tag, false, causes));
      return;
    }
  }

  Association::InitReply r;
  if (existing) {
    bool answer = existing->prepare_init_ack(now, r);
    touch(existing->id().value());
    if (!answer) return;
  } else {
    uint32_t tag = 0;
    while (tag == 0) random(std::span(reinterpret_cast<uint8_t*>(&tag), sizeof tag));
    uint32_t tsn = 0;
    random(std::span(reinterpret_cast<uint8_t*>(&tsn), sizeof tsn));
    r.local_tag = VerificationTag(tag);
    r.local_initial_tsn = Tsn(tsn);
  }
  cookie.local_tag = r.local_tag;
  cookie.local_initial_tsn = r.local_initial_tsn;
  cookie.local_tie_tag = r.local_tie_tag;
  cookie.peer_tie_tag = r.peer_tie_tag;
  const uint16_t ostreams = r.num_ostreams.value_or(cfg.init.num_ostreams);
  const uint16_t instreams = r.max_instreams.value_or(cfg.init.max_instreams);
  cookie.outbound_streams = std::min(ostreams, init->inbound_streams);
  cookie.inbound_streams = std::min(instreams, init->outbound_streams);
  cookie.created_ns = now.time_since_epoch().count();
  cookie.lifetime_ms = lifetime_ms;

  std::vector<uint8_t> params;
  wire::ParamWriter pw(params);
  std::vector<uint8_t> sealed = signer.seal(cookie);
  pw.add(wire::ParamType::StateCookie, sealed);
  if (cfg.local_addresses.size() > 1) {
    // §5.1.2: with a Supported Address Types parameter, the INIT ACK lists only the
    // families the peer can use: those it names, the one its INIT came over, and any
    // it listed addresses of (the implementation note).
    bool v4 = !supported_types, v6 = !supported_types;
    if (supported_types) {
      for (uint16_t t : *supported_types) {
        v4 |= t == static_cast<uint16_t>(wire::ParamType::Ipv4Address);
        v6 |= t == static_cast<uint16_t>(wire::ParamType::Ipv6Address);
      }
      v4 |= from.ip.is_v4();
      v6 |= from.ip.is_v6();
      for (const auto& ip : cookie.peer_addresses) {
        v4 |= ip.is_v4();
        v6 |= ip.is_v6();
      }
    }
    for (const auto& ip : cfg.local_addresses)
      if (!ip.is_any() && ip.is_loopback() == from.ip.is_loopback() && (ip.is_v4() ? v4 : v6))
        pw.add_address(ip);
  }
  params.insert(params.end(), unrecognized.begin(), unrecognized.end());

  wire::InitAckChunk ack;
  ack.initiate_tag = r.local_tag;
  ack.a_rwnd = static_cast<uint32_t>(std::min<size_t>(cfg.assoc.receive_buffer, UINT32_MAX));
  // §3.3.3: the INIT ACK's OS "MUST NOT be greater than the MIS value sent in the INIT
  // chunk" (the streams the association will use either way, as in the cookie).
  ack.outbound_streams = cookie.outbound_streams;
  ack.inbound_streams = instreams;
  ack.initial_tsn = r.local_initial_tsn;
  ack.params = params;
  reply(from, to, single_chunk_packet(cfg.port, hdr.src_port, init->initiate_tag, ack));
}

void EndpointImpl::handle_cookie_echo(Instant now, const wire::PacketView& pv,
                                      const wire::ChunkView& c, const SocketAddress& from,
                                      const IpAddress& to, Association* existing) {
  auto echo = wire::CookieEchoChunk::parse(c);
  if (!echo) return;
  StateCookie cookie;
  // §5.1.5 step 1: a cookie that does not authenticate is silently discarded.
  if (signer.open(echo->cookie, cookie) != CookieSigner::Verdict::Ok) return;
  const auto& hdr = pv.header();
  if (cookie.local_port != cfg.port || cookie.peer_port != hdr.src_port) return;
  // §5.1.5 step 2: the packet's tag must be the one we put in the cookie.
  if (hdr.vtag != cookie.local_tag) return;
  int64_t age_ns = now.time_since_epoch().count() - cookie.created_ns;
  int64_t life_ns = int64_t{cookie.lifetime_ms} * 1'000'000;
  if (!existing) existing = find_any(cookie.peer_addresses, hdr.src_port);
  // §5.2.4 step 3: "If both Verification Tags in the State Cookie match the
  // Verification Tags of the current association, consider the State Cookie valid
  // ... even if the lifespan is exceeded" (a COOKIE ECHO resent because our COOKIE
  // ACK was lost; refusing it as stale would leave the peer unable to ever connect).
  const bool ours = existing && existing->local_tag() == cookie.local_tag &&
                    existing->peer_tag() == cookie.peer_tag;
  if (age_ns > life_ns && !ours) {
    // §5.1.5 step 3: Stale Cookie error, staleness in microseconds.
    std::vector<uint8_t> causes;
    uint64_t stale_us = static_cast<uint64_t>(age_ns - life_ns) / 1000;
    wire::CauseWriter(causes).stale_cookie(
        static_cast<uint32_t>(std::min<uint64_t>(stale_us, UINT32_MAX)));
    wire::ErrorChunk e;
    e.causes = causes;
    reply(from, to, single_chunk_packet(cfg.port, hdr.src_port, cookie.peer_tag, e));
    return;
  }
  if (existing) {
    existing->handle_cookie_echo(now, pv, cookie, from, to);
    register_paths(*existing);
    touch(existing->id().value());
    return;
  }
  if (assocs.size() >= cfg.max_associations) {
    std::vector<uint8_t> causes;
    wire::CauseWriter(causes).out_of_resource();
    reply(from, to, abort_packet(cfg.port, hdr.src_port, cookie.peer_tag, false, causes));
    return;
  }
  forget_expired_tags(now.time_since_epoch().count());
  if (!used_tags.insert(tag_pair(cookie)).second) return;  // replay of a spent cookie
  used_tag_order.emplace_back(cookie.created_ns + life_ns, tag_pair(cookie));
  AssocId id(next_id++);
  auto a = Association::from_cookie(id, context(), now, cookie, to);
  Association& ref = *a;
  assocs.emplace(id.value(), Slot{std::move(a), false, std::nullopt});
  register_paths(ref);
  ref.handle_packet(now, pv, from, to);  // DATA bundled after the COOKIE ECHO
  touch(id.value());
}

void Endpoint::handle_timeout(Instant now) {
  auto& s = *impl_;
  for (;;) {
    s.prune_timers();
    if (s.timers.empty() || s.timers.top().when > now) break;
    const uint32_t id = s.timers.top().id;
    s.timers.pop();
    auto& slot = s.assocs.at(id);
    slot.armed.reset();
    slot.assoc->handle_timeout(now);
    s.touch(id);
  }
}

std::optional<Instant> Endpoint::next_timeout() const {
  impl_->prune_timers();
  return impl_->timers.first();
}

namespace {

// A reply leaves in the caller's buffer, or is copied into its memory. Returns its
// size (0: it did not fit, and is dropped like a packet lost on the way).
size_t take_reply(Reply& r, std::vector<uint8_t>& packet) {
  packet = std::move(r.bytes);
  return packet.size();
}
size_t take_reply(Reply& r, std::span<uint8_t> out) {
  if (r.bytes.size() > out.size()) return 0;
  std::copy(r.bytes.begin(), r.bytes.end(), out.begin());
  return r.bytes.size();
}

}  // namespace

std::optional<Transmit> Endpoint::poll_transmit(Instant now, std::vector<uint8_t>& packet) {
  return poll_transmit_to(now, packet);
}

std::optional<Transmit> Endpoint::poll_transmit(Instant now, std::span<uint8_t> out) {
  return poll_transmit_to(now, out);
}

template <class Out>
std::optional<Transmit> Endpoint::poll_transmit_to(Instant now, Out& packet) {
  auto& s = *impl_;
  if (!s.replies.empty()) {
    Reply r = std::move(s.replies.front());
    s.replies.pop_front();
    Transmit t = r.to;
    t.size = take_reply(r, packet);
    return t;
  }
  // Round-robin over associations that may have something to send, so that one
  // busy association cannot starve the others.
  while (!s.ready.empty()) {
    uint32_t id = s.ready.front();
    s.ready.pop_front();
    EndpointImpl::Slot* found = s.slot_of(id);
    if (found == nullptr) continue;
    auto& slot = *found;
    auto t = slot.assoc->poll_transmit(now, packet);
    s.rearm(id, slot);  // sending may have started a timer
    if (t) {
      s.ready.push_back(id);  // it may have more
      return t;
    }
    slot.queued = false;
  }
  return std::nullopt;
}

std::optional<Event> Endpoint::poll_event() {
  if (impl_->events.empty()) return std::nullopt;
  Event e = std::move(impl_->events.front());
  impl_->events.pop_front();
  return e;
}

Result<AssocId> Endpoint::connect(Instant now, std::span<const SocketAddress> remote,
                                  uint16_t remote_port, const InitOptions& init) {
  auto& s = *impl_;
  if (remote.empty()) return Status(Errc::InvalidArgument, "no peer address given");
  if (remote_port == 0) return Status(Errc::InvalidArgument, "peer port 0 is not valid");
  if (init.num_ostreams == 0 || init.max_instreams == 0)
    return Status(Errc::InvalidArgument, "stream counts must be at least 1");
  for (const auto& r : remote) {
    if (s.find(r, remote_port))
      return Status(Errc::AddressInUse, "an association to " + r.ip.to_string() + " port " +
                                            std::to_string(remote_port) + " already exists");
  }
  if (s.assocs.size() >= s.cfg.max_associations)
    return Status(Errc::TooManyAssociations, "association limit reached");
  s.rotate_secret(now);
  AssocId id(s.next_id++);
  auto a = Association::connect(id, s.context(), now, remote, remote_port, init);
  Association& ref = *a;
  s.assocs.emplace(id.value(), EndpointImpl::Slot{std::move(a), false, std::nullopt});
  s.register_paths(ref);
  s.touch(id.value());
  return id;
}

namespace {
Association* lookup(EndpointImpl& s, AssocId id) {
  EndpointImpl::Slot* slot = s.slot_of(id.value());
  return slot == nullptr ? nullptr : slot->assoc.get();
}
Status unknown(AssocId id) {
  return Status(Errc::NotConnected, "no association with id " + std::to_string(id.value()));
}
}  // namespace

// A copy (span) or the message itself (SharedMessage): the association takes either.
template <class Payload>
Status Endpoint::send_payload(Instant now, AssocId id, const SendInfo& info,
                              const Payload& payload) {
  Association* a = lookup(*impl_, id);
  if (!a) return unknown(id);
  Status st = a->send(now, info, payload);
  impl_->touch(id.value());
  return st;
}

Status Endpoint::send(Instant now, AssocId id, const SendInfo& info,
                      std::span<const uint8_t> data) {
  return send_payload(now, id, info, data);
}

Status Endpoint::send(Instant now, AssocId id, const SendInfo& info, const SharedMessage& message) {
  return send_payload(now, id, info, message);
}

std::optional<Message> Endpoint::receive(Instant now, AssocId id) {
  Association* a = lookup(*impl_, id);
  if (!a) return std::nullopt;
  auto m = a->receive(now);
  if (m) impl_->touch(id.value());  // reading may open the window: a SACK may be due
  return m;
}

Status Endpoint::shutdown(Instant now, AssocId id) {
  Association* a = lookup(*impl_, id);
  if (!a) return unknown(id);
  Status st = a->shutdown(now);
  impl_->touch(id.value());
  return st;
}

Status Endpoint::abort(Instant now, AssocId id, std::string_view reason) {
  Association* a = lookup(*impl_, id);
  if (!a) return unknown(id);
  Status st = a->abort(now, reason);
  impl_->touch(id.value());
  return st;
}

Status Endpoint::set_primary(Instant now, AssocId id, const IpAddress& ip) {
  Association* a = lookup(*impl_, id);
  if (!a) return unknown(id);
  Status st = a->set_primary(now, ip);
  impl_->touch(id.value());
  return st;
}

std::optional<AssocInfo> Endpoint::info(AssocId id) const {
  Association* a = lookup(*impl_, id);
  if (!a) return std::nullopt;
  return a->info();
}

size_t Endpoint::send_buffer_free(AssocId id) const {
  Association* a = lookup(*impl_, id);
  return a ? a->send_buffer_free() : 0;
}

void Endpoint::release(AssocId id) {
  auto& s = *impl_;
  auto it = s.assocs.find(id.value());
  if (it == s.assocs.end() || !it->second.assoc->terminated()) return;
  for (auto p = s.by_peer.begin(); p != s.by_peer.end();) {
    if (p->second == id.value())
      p = s.by_peer.erase(p);
    else
      ++p;
  }
  s.erase(id.value());
}

std::vector<AssocId> Endpoint::associations() const {
  std::vector<AssocId> ids;
  for (const auto& [id, slot] : impl_->assocs) ids.push_back(AssocId(id));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<AssocId> Endpoint::association_with(const IpAddress& ip, uint16_t peer_port) const {
  Association* a = impl_->find(SocketAddress{ip, 0}, peer_port);
  return a ? std::optional<AssocId>(a->id()) : std::nullopt;
}

std::optional<std::vector<uint8_t>> Endpoint::out_of_the_blue_reply(
    std::span<const uint8_t> packet) {
  auto pv = wire::PacketView::parse(packet, wire::ChecksumPolicy::Verify);
  if (!pv || pv->chunk_count() == 0) return std::nullopt;
  const auto& hdr = pv->header();
  // §3.1: "The port number 0 MUST NOT be used": nothing to answer (and no reply from
  // or to port 0).
  if (hdr.src_port == 0 || hdr.dst_port == 0) return std::nullopt;
  bool shutdown_ack = false;
  for (const auto& c : *pv) {
    switch (static_cast<wire::ChunkType>(c.type)) {
      case wire::ChunkType::Abort:             // §8.4 (2)
      case wire::ChunkType::ShutdownComplete:  // §8.4 (6)
      case wire::ChunkType::CookieAck:         // §8.4 (7)
        return std::nullopt;
      case wire::ChunkType::Error: {
        // §8.4 (7): an ERROR with Stale Cookie is discarded.
        auto e = wire::ErrorChunk::parse(c);
        if (!e) break;
        if (auto causes = wire::CauseList::parse(e->causes)) {
          for (const auto& cause : causes->all())
            if (cause.code == static_cast<uint16_t>(wire::CauseCode::StaleCookie))
              return std::nullopt;
        }
        break;
      }
      case wire::ChunkType::Init: {
        // §8.4 (3): the ABORT carries the INIT's Initiate Tag, T bit clear. §6.10: an
        // INIT bundled with anything is discarded, wherever it sits in the packet.
        auto init = wire::InitChunk::parse(c);
        if (!init || init->initiate_tag.value() == 0 || hdr.vtag.value() != 0 ||
            pv->chunk_count() != 1)
          return std::nullopt;
        return abort_packet(hdr.dst_port, hdr.src_port, init->initiate_tag, false);
      }
      case wire::ChunkType::ShutdownAck:
        shutdown_ack = true;
        break;
      default:
        break;
    }
  }
  // §8.5.1 A: a packet with Verification Tag 0 must hold only an INIT ("Otherwise,
  // the receiver MUST silently discard the packet"); an INIT was answered above. A
  // reflected tag 0 would aim a T-bit ABORT at whoever the packet claims to be from.
  if (hdr.vtag.value() == 0) return std::nullopt;
  if (shutdown_ack) {
    // §8.4 (5): SHUTDOWN COMPLETE with the T bit, reflecting the tag.
    wire::ShutdownCompleteChunk sc;
    sc.t_bit = true;
    return single_chunk_packet(hdr.dst_port, hdr.src_port, hdr.vtag, sc);
  }
  // §8.4 (8): ABORT with the T bit, reflecting the packet's tag.
  return abort_packet(hdr.dst_port, hdr.src_port, hdr.vtag, true);
}

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::Ok:
      return "ok";
    case Errc::WouldBlock:
      return "would block";
    case Errc::Timeout:
      return "timed out";
    case Errc::NotConnected:
      return "not connected";
    case Errc::ShuttingDown:
      return "shutting down";
    case Errc::Closed:
      return "closed";
    case Errc::Aborted:
      return "aborted";
    case Errc::ConnectionLost:
      return "connection lost";
    case Errc::Refused:
      return "refused";
    case Errc::NoAnswer:
      return "no answer";
    case Errc::InvalidStream:
      return "invalid stream";
    case Errc::MessageTooLarge:
      return "message too large";
    case Errc::InvalidArgument:
      return "invalid argument";
    case Errc::AddressInUse:
      return "address in use";
    case Errc::PermissionDenied:
      return "permission denied";
    case Errc::TooManyAssociations:
      return "too many associations";
    case Errc::IoError:
      return "I/O error";
  }
  return "unknown";
}

}  // namespace sctpp
