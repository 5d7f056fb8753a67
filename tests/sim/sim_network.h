// A deterministic simulated network for two (or more) sans-IO endpoints: virtual
// time, per-direction loss, duplication, reordering, delay, corruption (bit flips),
// a bandwidth bottleneck with a drop-tail queue, links that go down, scheduled
// actions (link flaps, delay spikes, host restarts) and a packet filter, all driven
// by one seeded generator so that every run of a seed is identical. A running hash
// of every packet and event (trace_hash) lets tests assert that. set_trace prints
// every packet with what became of it, for debugging a seed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "endpoint/endpoint.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {

struct LinkConditions {
  double loss = 0;       // probability a packet is dropped
  double duplicate = 0;  // probability a packet is delivered twice
  double reorder = 0;    // probability a packet gets extra delay (overtaken)
  Duration delay = milliseconds(5);
  Duration reorder_delay = milliseconds(15);
  // Optional bottleneck: bytes per second (0 = unlimited).
  uint64_t bandwidth = 0;
  // Drop-tail: bytes waiting at the bottleneck beyond which packets are dropped
  // (0 = unlimited). Only with a bandwidth.
  uint64_t queue_limit = 0;
  // Probability a packet has bits flipped in flight (1-3 single bits, or a burst of
  // up to 4 bytes overwritten). CRC32c detects every such error, so none of them
  // may ever be accepted.
  double corrupt = 0;
  // Link down: every packet is dropped (a flap is down, then up again).
  bool down = false;
};

// An endpoint on SCTP port `port` that accepts associations (a server) or not.
inline EndpointConfig endpoint_config(uint16_t port, bool listening) {
  EndpointConfig c;
  c.port = port;
  c.accept_incoming = listening;
  return c;
}

class SimNetwork {
 public:
  explicit SimNetwork(uint64_t seed) : rng_(seed) {}

  // Adds a host with one IP; the endpoint is built with a seeded random source.
  Endpoint& add_host(const IpAddress& ip, EndpointConfig cfg) {
    return add_host(std::vector<IpAddress>{ip}, std::move(cfg));
  }
  // Adds a multi-homed host: every address is the endpoint's (advertised in its INIT
  // or INIT ACK). A packet leaves from the local address the endpoint chose for it,
  // or from the first address when it leaves the choice to the OS. Links are per
  // address pair, so each path can be set (or taken down) on its own.
  Endpoint& add_host(std::vector<IpAddress> ips, EndpointConfig cfg) {
    auto ep = make_endpoint(ips, std::move(cfg));
    hosts_.push_back(Host{ips.front(), std::move(ips), std::move(ep)});
    return *hosts_.back().ep;
  }

  // Replaces a host's endpoint with a fresh one (a crash and restart of the host:
  // all association state is gone, the address stays).
  Endpoint& restart_host(const IpAddress& ip, EndpointConfig cfg) {
    for (auto& h : hosts_) {
      if (!h.has(ip)) continue;
      h.ep = make_endpoint(h.ips, std::move(cfg));
      return *h.ep;
    }
    return add_host(ip, cfg);
  }

  // Conditions for packets sent from `from` to `to` (default: clean link).
  void set_link(const IpAddress& from, const IpAddress& to, LinkConditions c) {
    links_[{from, to}] = c;
  }
  LinkConditions link(const IpAddress& from, const IpAddress& to) const {
    auto it = links_.find({from, to});
    return it == links_.end() ? LinkConditions{} : it->second;
  }
  // The endpoint at `ip`, or nullptr. Hold it only until the next restart_host.
  Endpoint* host(const IpAddress& ip) {
    for (auto& h : hosts_)
      if (h.has(ip)) return h.ep.get();
    return nullptr;
  }

  // Runs `fn` when virtual time reaches `at` (in order of `at`, then of scheduling),
  // after the packets due at that instant and before the timers.
  void schedule(Instant at, std::function<void()> fn) {
    actions_.push(Action{at, seq_++, std::make_shared<std::function<void()>>(std::move(fn))});
  }
  void set_all_links(LinkConditions c) {
    for (auto& a : hosts_)
      for (auto& b : hosts_)
        if (&a != &b)
          for (const auto& x : a.ips)
            for (const auto& y : b.ips) set_link(x, y, c);
  }
  // Return false to drop a packet (e.g. the first INIT); sees the SCTP bytes.
  using Filter = std::function<bool(const IpAddress& from, std::span<const uint8_t> bytes)>;
  void set_filter(Filter f) { filter_ = std::move(f); }

  // Packet trace: from virtual time `from` on (measured from the network's start),
  // one line per packet handed to the network: time, fate (sent, dup, corr, filt,
  // lost, down, full: see send()), addresses, length, tag and chunks (DATA as TSN ranges, SACK with
  // cumulative TSN, a_rwnd and gap blocks, SHUTDOWN with its cumulative TSN).
  // nullptr turns it off.
  void set_trace(std::ostream* out, Duration from = Duration(0)) {
    trace_ = out;
    trace_from_ = from;
  }

  Instant now() const { return now_; }
  static constexpr uint16_t kUdpPort = 9899;
  SocketAddress address_of(const IpAddress& ip) const { return SocketAddress{ip, kUdpPort}; }

  // Runs until `done` is true or virtual time passes `limit`. `on_events` is called
  // for every endpoint event. Returns whether `done` became true.
  bool run_until(const std::function<bool()>& done, Duration limit,
                 const std::function<void(Endpoint&, const Event&)>& on_event = {}) {
    Instant end = now_ + limit;
    while (!done()) {
      flush(on_event);
      if (done()) return true;
      std::optional<Instant> next;
      if (!in_flight_.empty()) next = in_flight_.top().at;
      if (!actions_.empty() && (!next || actions_.top().at < *next)) next = actions_.top().at;
      for (auto& h : hosts_) {
        auto t = h.ep->next_timeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > end) return done();
      if (*next > now_) {
        now_ = *next;
        steps_at_now_ = 0;
      } else if (++steps_at_now_ > kMaxStepsAtOneInstant) {
        // Something keeps asking to be woken now and never makes progress.
        livelock_ = true;
        return done();
      }
      // Deliver every packet due now, then fire timers.
      while (!in_flight_.empty() && in_flight_.top().at <= now_) {
        Packet p = in_flight_.top();
        in_flight_.pop();
        mix(0xD1, p.seq);
        for (auto& h : hosts_)
          if (h.has(p.to)) h.ep->handle_packet(now_, address_of(p.from), p.to, p.bytes);
        ++delivered_;
        if (p.corrupted) ++corrupted_delivered_;
      }
      while (!actions_.empty() && actions_.top().at <= now_) {
        auto fn = actions_.top().fn;
        actions_.pop();
        mix(0xAC, 0);
        (*fn)();
      }
      for (auto& h : hosts_) {
        auto t = h.ep->next_timeout();
        if (t && *t <= now_) h.ep->handle_timeout(now_);
      }
    }
    return true;
  }

  uint64_t packets_sent() const { return sent_; }
  uint64_t packets_dropped() const { return dropped_; }
  uint64_t packets_delivered() const { return delivered_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  // Packets whose bits were flipped in flight, how many of those reached an
  // endpoint, and how many still passed the CRC32c check (must be 0).
  uint64_t packets_corrupted() const { return corrupted_; }
  uint64_t corrupted_delivered() const { return corrupted_delivered_; }
  uint64_t corrupted_passing_crc() const { return corrupted_passing_crc_; }
  // True once run_until saw the same instant come back too often (a timer that
  // fires without moving its deadline): the run was stopped.
  bool livelocked() const { return livelock_; }
  // A hash of everything that happened so far: each packet sent (time, addresses,
  // bytes), each delivery, each event and each scheduled action. Two runs of the
  // same seed must end with the same hash.
  uint64_t trace_hash() const { return hash_; }
  // Mixes a caller's observation (e.g. a delivered message) into the trace hash.
  void mix(uint64_t tag, uint64_t value) {
    hash_ ^= tag + 0x9e3779b97f4a7c15ull + (hash_ << 6) + (hash_ >> 2);
    hash_ = (hash_ ^ value) * 0x100000001b3ull;
  }

  // Moves every pending transmit onto the wire and hands events to `on_event`.
  void flush(const std::function<void(Endpoint&, const Event&)>& on_event) {
    bool more = true;
    while (more) {
      more = false;
      for (auto& h : hosts_) {
        while (auto t = h.ep->poll_transmit(now_, buf_)) {
          more = true;
          send(h.has(t->from) ? t->from : h.ip, t->to.ip, buf_);
        }
        while (auto e = h.ep->poll_event()) {
          more = true;
          mix(0xE0 + static_cast<uint64_t>(e->kind), e->assoc.value());
          // The handler may restart hosts: re-find this one afterwards.
          Endpoint* ep = h.ep.get();
          if (on_event) on_event(*ep, *e);
        }
      }
    }
  }

 private:
  // The host's endpoint, with a random source seeded from the network's seed.
  std::unique_ptr<Endpoint> make_endpoint(const std::vector<IpAddress>& ips, EndpointConfig cfg) {
    auto gen = std::make_shared<std::mt19937_64>(rng_());
    cfg.local_addresses = ips;
    return std::make_unique<Endpoint>(cfg, [gen](std::span<uint8_t> out) {
      for (auto& b : out) b = static_cast<uint8_t>((*gen)());
    });
  }

  struct Host {
    IpAddress ip;                // the first of ips
    std::vector<IpAddress> ips;  // every address of the host
    std::unique_ptr<Endpoint> ep;
    bool has(const IpAddress& a) const { return std::find(ips.begin(), ips.end(), a) != ips.end(); }
  };
  struct Packet {
    Instant at;
    uint64_t seq;
    IpAddress from, to;
    std::vector<uint8_t> bytes;
    bool corrupted = false;
    bool operator>(const Packet& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Action {
    Instant at;
    uint64_t seq;
    std::shared_ptr<std::function<void()>> fn;
    bool operator>(const Action& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  static constexpr uint64_t kMaxStepsAtOneInstant = 100000;

  uint64_t host_index(const IpAddress& ip) const {
    for (size_t i = 0; i < hosts_.size(); ++i)
      if (hosts_[i].has(ip)) return i;
    return 0xff;
  }

  void mix_bytes(std::span<const uint8_t> b) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i = 0;
    for (; i + 8 <= b.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, b.data() + i, 8);
      h = (h ^ w) * 0x100000001b3ull;
      h ^= h >> 29;
    }
    for (; i < b.size(); ++i) h = (h ^ b[i]) * 0x100000001b3ull;
    mix(0xB0, h ^ b.size());
  }

  // Flips bits the way a bad link would: 1-3 single bits anywhere, or a burst of
  // up to 4 bytes overwritten with random values. CRC32c (Hamming distance >= 4 at
  // these sizes, every burst <= 32 bits) detects all of them.
  void corrupt(std::vector<uint8_t>& b) {
    if (b.empty()) return;
    if (rng_() % 4 != 0) {
      int flips = 1 + static_cast<int>(rng_() % 3);
      std::vector<size_t> done;
      for (int i = 0; i < flips; ++i) {
        size_t bit = rng_() % (b.size() * 8);
        if (std::find(done.begin(), done.end(), bit) != done.end()) continue;
        done.push_back(bit);
        b[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      }
    } else {
      size_t len = 1 + rng_() % 4;
      size_t at = rng_() % b.size();
      for (size_t i = at; i < std::min(b.size(), at + len); ++i) {
        uint8_t v = static_cast<uint8_t>(rng_());
        if (i == at && v == b[i]) v ^= 0x80;  // at least one bit changes
        b[i] = v;
      }
    }
  }

  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  static const char* chunk_name(uint8_t type) {
    switch (static_cast<wire::ChunkType>(type)) {
      case wire::ChunkType::Init:
        return "INIT";
      case wire::ChunkType::InitAck:
        return "INIT-ACK";
      case wire::ChunkType::Heartbeat:
        return "HB";
      case wire::ChunkType::HeartbeatAck:
        return "HB-ACK";
      case wire::ChunkType::Abort:
        return "ABORT";
      case wire::ChunkType::ShutdownAck:
        return "SHUTDOWN-ACK";
      case wire::ChunkType::Error:
        return "ERROR";
      case wire::ChunkType::CookieEcho:
        return "COOKIE-ECHO";
      case wire::ChunkType::CookieAck:
        return "COOKIE-ACK";
      case wire::ChunkType::ShutdownComplete:
        return "SHUTDOWN-COMPLETE";
      default:
        return nullptr;
    }
  }

  void trace(const char* fate, const IpAddress& from, const IpAddress& to,
             std::span<const uint8_t> bytes) {
    if (!trace_ || now_ - start_ < trace_from_) return;
    char b[160];
    snprintf(b, sizeof b, "%11.6f %-4s %s>%s len=%zu",
             std::chrono::duration<double>(now_ - start_).count(), fate, from.to_string().c_str(),
             to.to_string().c_str(), bytes.size());
    std::string line = b;
    auto pv = wire::PacketView::parse(bytes, wire::ChecksumPolicy::Skip);
    if (!pv) {
      *trace_ << line << " (unparsable)\n";
      return;
    }
    snprintf(b, sizeof b, " tag=%08x:", pv->header().vtag.value());
    line += b;
    uint32_t first = 0, last = 0, n = 0;  // a run of DATA chunks
    auto end_run = [&] {
      if (n == 0) return;
      snprintf(b, sizeof b, n == 1 ? " DATA %u" : " DATA %u..%u(%u)", first, last, n);
      line += b;
      n = 0;
    };
    for (const auto& c : *pv) {
      if (c.type == static_cast<uint8_t>(wire::ChunkType::Data)) {
        if (auto d = wire::DataChunk::parse(c)) {
          const uint32_t tsn = d->tsn.value();
          if (n > 0 && tsn != last + 1) end_run();
          if (n++ == 0) first = tsn;
          last = tsn;
        }
        continue;
      }
      end_run();
      if (c.type == static_cast<uint8_t>(wire::ChunkType::Sack)) {
        if (auto sk = wire::SackChunk::parse(c)) {
          snprintf(b, sizeof b, " SACK(cum=%u a_rwnd=%u", sk->cum_tsn_ack.value(), sk->a_rwnd);
          line += b;
          for (size_t i = 0; i < sk->gap_blocks.size() && i < 4; ++i) {
            snprintf(b, sizeof b, " +%u-%u", sk->gap_blocks[i].start, sk->gap_blocks[i].end);
            line += b;
          }
          if (sk->gap_blocks.size() > 4) line += " ...";
          if (!sk->dup_tsns.empty()) line += " dups=" + std::to_string(sk->dup_tsns.size());
          line += ")";
        }
      } else if (c.type == static_cast<uint8_t>(wire::ChunkType::Shutdown)) {
        if (auto sh = wire::ShutdownChunk::parse(c)) {
          snprintf(b, sizeof b, " SHUTDOWN(cum=%u)", sh->cum_tsn_ack.value());
          line += b;
        }
      } else if (const char* name = chunk_name(c.type)) {
        line += std::string(" ") + name;
      } else {
        line += " type" + std::to_string(c.type);
      }
    }
    end_run();
    *trace_ << line << "\n";
  }

  void send(const IpAddress& from, const IpAddress& to, const std::vector<uint8_t>& bytes) {
    ++sent_;
    bytes_sent_ += bytes.size();
    mix(0x5E, static_cast<uint64_t>(now_.time_since_epoch().count()));
    mix(0x5F, host_index(from) << 8 | host_index(to));
    mix_bytes(bytes);
    if (filter_ && !filter_(from, bytes)) {
      ++dropped_;
      trace("filt", from, to, bytes);
      return;
    }
    LinkConditions c;
    if (auto it = links_.find({from, to}); it != links_.end()) c = it->second;
    if (c.down || uniform() < c.loss) {
      ++dropped_;
      trace(c.down ? "down" : "lost", from, to, bytes);
      return;
    }
    Instant at = now_ + c.delay;
    if (c.bandwidth) {
      Instant& free_at = busy_until_[{from, to}];
      if (free_at < now_) free_at = now_;
      if (c.queue_limit) {
        auto backlog_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(free_at - now_);
        if (static_cast<uint64_t>(backlog_ns.count()) * c.bandwidth / 1'000'000'000ull >
            c.queue_limit) {
          ++dropped_;
          trace("full", from, to, bytes);  // drop-tail queue
          return;
        }
      }
      free_at += std::chrono::duration_cast<Duration>(
          std::chrono::nanoseconds(bytes.size() * 1'000'000'000ull / c.bandwidth));
      at = free_at + c.delay;
    }
    if (uniform() < c.reorder) at += c.reorder_delay;
    Packet p{at, seq_++, from, to, bytes};
    if (c.corrupt > 0 && uniform() < c.corrupt) {
      corrupt(p.bytes);
      p.corrupted = true;
      ++corrupted_;
      if (wire::PacketView::parse(p.bytes, wire::ChecksumPolicy::Verify)) ++corrupted_passing_crc_;
    }
    bool dup = uniform() < c.duplicate;
    // Decoded from the bytes as sent; "corr" arrives with bits flipped, "dup" twice.
    trace(p.corrupted ? "corr" : dup ? "dup" : "sent", from, to, bytes);
    in_flight_.push(p);
    if (dup) {
      p.at += microseconds(100);
      p.seq = seq_++;
      in_flight_.push(std::move(p));
    }
  }

  std::mt19937_64 rng_;
  Instant now_{seconds(1000)};
  const Instant start_ = now_;
  std::ostream* trace_ = nullptr;
  Duration trace_from_{0};
  std::vector<Host> hosts_;
  std::map<std::pair<IpAddress, IpAddress>, LinkConditions> links_;
  std::map<std::pair<IpAddress, IpAddress>, Instant> busy_until_;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<>> in_flight_;
  std::priority_queue<Action, std::vector<Action>, std::greater<>> actions_;
  Filter filter_;
  std::vector<uint8_t> buf_;
  uint64_t seq_ = 0, sent_ = 0, dropped_ = 0, delivered_ = 0, bytes_sent_ = 0;
  uint64_t corrupted_ = 0, corrupted_delivered_ = 0, corrupted_passing_crc_ = 0;
  uint64_t steps_at_now_ = 0;
  bool livelock_ = false;
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

}  // namespace sctpp::sim
