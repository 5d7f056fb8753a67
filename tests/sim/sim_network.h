// A deterministic simulated network for two (or more) sans-IO endpoints: virtual
// time, per-direction loss, duplication, reordering, delay and a packet filter, all
// driven by one seeded generator so that every run of a seed is identical.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <vector>

#include "endpoint/endpoint.h"

namespace sctpp::sim {

struct LinkConditions {
  double loss = 0;       // probability a packet is dropped
  double duplicate = 0;  // probability a packet is delivered twice
  double reorder = 0;    // probability a packet gets extra delay (overtaken)
  Duration delay = milliseconds(5);
  Duration reorder_delay = milliseconds(15);
  // Optional bottleneck: bytes per second (0 = unlimited).
  uint64_t bandwidth = 0;
};

class SimNetwork {
 public:
  explicit SimNetwork(uint64_t seed) : rng_(seed) {}

  // Adds a host with one IP; the endpoint is built with a seeded random source.
  Endpoint& add_host(const IpAddress& ip, EndpointConfig cfg) {
    uint64_t seed = rng_();
    auto gen = std::make_shared<std::mt19937_64>(seed);
    cfg.local_addresses = {ip};
    hosts_.push_back(Host{ip, std::make_unique<Endpoint>(cfg, [gen](std::span<uint8_t> out) {
                            for (auto& b : out) b = static_cast<uint8_t>((*gen)());
                          })});
    return *hosts_.back().ep;
  }

  // Replaces a host's endpoint with a fresh one (a crash and restart of the host:
  // all association state is gone, the address stays).
  Endpoint& restart_host(const IpAddress& ip, EndpointConfig cfg) {
    for (auto& h : hosts_) {
      if (h.ip != ip) continue;
      auto gen = std::make_shared<std::mt19937_64>(rng_());
      cfg.local_addresses = {ip};
      h.ep = std::make_unique<Endpoint>(cfg, [gen](std::span<uint8_t> out) {
        for (auto& b : out) b = static_cast<uint8_t>((*gen)());
      });
      return *h.ep;
    }
    return add_host(ip, cfg);
  }

  // Conditions for packets sent from `from` to `to` (default: clean link).
  void set_link(const IpAddress& from, const IpAddress& to, LinkConditions c) {
    links_[{from, to}] = c;
  }
  void set_all_links(LinkConditions c) {
    for (auto& a : hosts_)
      for (auto& b : hosts_)
        if (a.ip != b.ip) set_link(a.ip, b.ip, c);
  }
  // Return false to drop a packet (e.g. the first INIT); sees the SCTP bytes.
  using Filter = std::function<bool(const IpAddress& from, std::span<const uint8_t> bytes)>;
  void set_filter(Filter f) { filter_ = std::move(f); }

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
      for (auto& h : hosts_) {
        auto t = h.ep->next_timeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > end) return done();
      if (*next > now_) now_ = *next;
      // Deliver every packet due now, then fire timers.
      while (!in_flight_.empty() && in_flight_.top().at <= now_) {
        Packet p = in_flight_.top();
        in_flight_.pop();
        for (auto& h : hosts_)
          if (h.ip == p.to) h.ep->handle_packet(now_, address_of(p.from), p.to, p.bytes);
        ++delivered_;
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

  // Moves every pending transmit onto the wire and hands events to `on_event`.
  void flush(const std::function<void(Endpoint&, const Event&)>& on_event) {
    bool more = true;
    while (more) {
      more = false;
      for (auto& h : hosts_) {
        while (auto t = h.ep->poll_transmit(now_, buf_)) {
          more = true;
          send(h.ip, t->to.ip, buf_);
        }
        while (auto e = h.ep->poll_event()) {
          more = true;
          if (on_event) on_event(*h.ep, *e);
        }
      }
    }
  }

 private:
  struct Host {
    IpAddress ip;
    std::unique_ptr<Endpoint> ep;
  };
  struct Packet {
    Instant at;
    uint64_t seq;
    IpAddress from, to;
    std::vector<uint8_t> bytes;
    bool operator>(const Packet& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  void send(const IpAddress& from, const IpAddress& to, const std::vector<uint8_t>& bytes) {
    ++sent_;
    if (filter_ && !filter_(from, bytes)) {
      ++dropped_;
      return;
    }
    LinkConditions c;
    if (auto it = links_.find({from, to}); it != links_.end()) c = it->second;
    if (uniform() < c.loss) {
      ++dropped_;
      return;
    }
    Instant at = now_ + c.delay;
    if (c.bandwidth) {
      Instant& free_at = busy_until_[{from, to}];
      if (free_at < now_) free_at = now_;
      free_at += std::chrono::duration_cast<Duration>(
          std::chrono::nanoseconds(bytes.size() * 1'000'000'000ull / c.bandwidth));
      at = free_at + c.delay;
    }
    if (uniform() < c.reorder) at += c.reorder_delay;
    in_flight_.push(Packet{at, seq_++, from, to, bytes});
    if (uniform() < c.duplicate)
      in_flight_.push(Packet{at + microseconds(100), seq_++, from, to, bytes});
  }

  std::mt19937_64 rng_;
  Instant now_{seconds(1000)};
  std::vector<Host> hosts_;
  std::map<std::pair<IpAddress, IpAddress>, LinkConditions> links_;
  std::map<std::pair<IpAddress, IpAddress>, Instant> busy_until_;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<>> in_flight_;
  Filter filter_;
  std::vector<uint8_t> buf_;
  uint64_t seq_ = 0, sent_ = 0, dropped_ = 0, delivered_ = 0;
};

}  // namespace sctpp::sim
