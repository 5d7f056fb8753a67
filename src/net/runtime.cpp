// The I/O thread, demultiplexing by SCTP port, and flushing endpoints to the socket.
#include "net/runtime.h"

#include <openssl/rand.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

namespace sctpp::net {
namespace {

// Room for two and a half full UDP GSO trains (44 packets of 1500 bytes each).
constexpr size_t kTxBatch = 112;
// Memory they are written into: many batches of 1500-byte packets, or ~30 of the
// largest; one more packet always fits after the last.
constexpr size_t kArenaBytes = 2 * 1024 * 1024 + Endpoint::kMaxPacketBytes;
constexpr int kMaxRxBatchesPerWakeup = 8;
// How long the sockets stay with user threads after the last one read them (runtime.h).
constexpr Duration kTakeover = std::chrono::milliseconds(1);
// How often a thread that only sends reads the peer's acknowledgements itself.
constexpr Duration kSenderReadGap = std::chrono::microseconds(20);
// Sends this close together, this many in a row, make a burst (flush_send).
constexpr Duration kBurstGap = std::chrono::microseconds(50);
constexpr int kBurstSends = 8;
// In a burst, packets are held for one system call until they fill whole trains (one
// UDP GSO buffer each), or this many without GSO, or until the first has waited
// kCoalesceDelay (runtime.h).
constexpr size_t kCoalescePackets = 16;
constexpr size_t kCoalesceBytes = 64 * 1024;
constexpr Duration kCoalesceDelay = std::chrono::microseconds(400);
// While a burst goes on, the I/O thread's check backs off to 2^this times that (1.6 ms):
// the bound then only applies to a sender that stops calling after a long burst.
constexpr int kCoalesceBackoffMax = 2;
// While the sending thread keeps calling, a partial train waits at most this long to
// be topped up: a sender limited by its window (not by its CPU) gets its packets out
// without adding more than this to each round trip.
constexpr Duration kTopUpDelay = std::chrono::microseconds(50);
constexpr Duration kMaxSpin = std::chrono::seconds(1);
constexpr uint16_t kEphemeralFirst = 49152;
constexpr uint16_t kEphemeralLast = 65535;

void random_bytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    // OpenSSL's generator failing is not recoverable in a meaningful way; fall back
    // to the OS generator through std::random_device rather than handing out zeros.
    std::random_device rd;
    for (auto& b : out) b = static_cast<uint8_t>(rd());
  }
}

timespec time_left(Instant deadline) {
  const auto left = std::max(Duration::zero(), deadline - Runtime::now());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

// The spin when RuntimeOptions leaves it unset: SCTPP_SPIN_US, else 50 us, or none when
// this process can run on one CPU only.
Result<Duration> default_spin() {
  if (const char* env = std::getenv("SCTPP_SPIN_US")) {
    char* end = nullptr;
    errno = 0;
    const long us = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || errno != 0 || us < 0 ||
        std::chrono::microseconds(us) > kMaxSpin)
      return Status(
          Errc::InvalidArgument,
          std::string("SCTPP_SPIN_US must be 0..1000000 microseconds, not '") + env + "'");
    return Duration(std::chrono::microseconds(us));
  }
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) < 2)
    return Duration::zero();
  return Duration(std::chrono::microseconds(50));
}

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::start(const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  if (!rt->loop_.status().ok()) return rt->loop_.status();
  rt->kind_ = options.transport;
  if (options.transport == TransportKind::RawIp) {
    RawIpTransportOptions ro;
    ro.local_addresses = options.local_addresses;
    ro.socket_buffer = options.socket_buffer;
    auto t = RawIpTransport::open(ro);
    if (!t.ok()) return t.status();
    rt->transport_ = std::move(*t);
  } else {
    UdpTransportOptions uo;
    uo.port = options.udp_port;
    uo.local_addresses = options.local_addresses;
    uo.socket_buffer = options.socket_buffer;
    auto t = UdpTransport::open(uo);
    if (!t.ok()) return t.status();
    rt->transport_ = std::make_unique<UdpPacketTransport>(std::move(*t));
  }
  rt->udp_port_ = rt->transport_->udp_port();
  rt->bound_ = rt->transport_->bound_addresses();
  rt->arena_.reset(new uint8_t[kArenaBytes]);
  rt->arena_size_ = kArenaBytes;
  rt->batch_.reserve(kTxBatch);
  rt->queued_.reserve(kTxBatch);
  uint16_t r;
  random_bytes(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&r), sizeof r));
  rt->next_ephemeral_ =
      static_cast<uint16_t>(kEphemeralFirst + r % (kEphemeralLast - kEphemeralFirst + 1));
  // Over UDP the first ephemeral SCTP port is our UDP port's number: the kernel keeps
  // that unique on the host, while a random pick per process collided (the UDP port
  // is no part of an association's identity, so two `sctpp cat` on one host with the
  // same SCTP port looked to the server like one peer restarting, and the older
  // association was aborted: ~7% of 50 concurrent clients).
  if (rt->udp_port_ != 0) rt->next_ephemeral_ = rt->udp_port_;
  const char* drive = std::getenv("SCTPP_DRIVE");
  rt->drive_enabled_ = !(drive && std::strcmp(drive, "0") == 0);
  rt->driver_wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (rt->driver_wake_fd_ < 0) rt->drive_enabled_ = false;
  if (options.spin) {
    if (*options.spin < Duration::zero() || *options.spin > kMaxSpin)
      return Status(Errc::InvalidArgument, "spin must be 0..1000000 microseconds");
    rt->spin_ = *options.spin;
  } else {
    auto spin = default_spin();
    if (!spin.ok()) return spin.status();
    rt->spin_ = *spin;
  }
  rt->fds_ = rt->transport_->fds();
  for (int fd : rt->fds_) rt->driver_poll_.push_back(pollfd{fd, POLLIN, 0});
  rt->driver_poll_.push_back(pollfd{rt->driver_wake_fd_, POLLIN, 0});
  Runtime* self = rt.get();
  for (int fd : rt->fds_) {
    Status st = rt->loop_.add(fd, EPOLLIN, [self, fd](uint32_t ev) { self->on_socket(fd, ev); });
    if (!st.ok()) return st;
  }
  rt->thread_ = std::thread([self] { self->loop_.run(); });
  return rt;
}

Runtime::~Runtime() {
  loop_.stop();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  send_batch();  // packets held for a train (a last SHUTDOWN COMPLETE, say) still go
  endpoints_.clear();
  if (driver_wake_fd_ >= 0) close(driver_wake_fd_);
}

Result<uint16_t> Runtime::add_endpoint(EndpointConfig config, EventSink sink) {
  uint16_t port = config.port;
  SctpPortClaim claim;
  if (port == 0) {
    const int range = kEphemeralLast - kEphemeralFirst + 1;
    for (int i = 0; i < range; ++i) {
      uint16_t p = next_ephemeral_;
      next_ephemeral_ = p == kEphemeralLast ? kEphemeralFirst : static_cast<uint16_t>(p + 1);
      if (!endpoints_.count(p) &&
          std::find(to_remove_.begin(), to_remove_.end(), p) == to_remove_.end()) {
        if (kind_ == TransportKind::RawIp) {
          auto c = SctpPortClaim::acquire(p);
          if (!c.ok() && c.status().code() == Errc::AddressInUse) continue;
          if (!c.ok()) return c.status();
          claim = std::move(*c);
        }
        port = p;
        break;
      }
    }
    if (port == 0) return Status(Errc::AddressInUse, "no free ephemeral SCTP port");
  } else if (endpoints_.count(port) ||
             std::find(to_remove_.begin(), to_remove_.end(), port) != to_remove_.end()) {
    return Status(Errc::AddressInUse, "SCTP port " + std::to_string(port) + " is already bound");
  } else if (kind_ == TransportKind::RawIp) {
    auto c = SctpPortClaim::acquire(port);
    if (!c.ok()) return c.status();
    claim = std::move(*c);
  }
  config.port = port;
  Entry e;
  e.claim = std::move(claim);
  e.endpoint = std::make_unique<Endpoint>(std::move(config), &random_bytes);
  e.sink = std::move(sink);
  endpoints_.emplace(port, std::move(e));
  return port;
}

void Runtime::remove_endpoint(uint16_t port) {
  if (flush_depth_ > 0) {
    if (std::find(to_remove_.begin(), to_remove_.end(), port) == to_remove_.end())
      to_remove_.push_back(port);
    return;
  }
  auto it = endpoints_.find(port);
  if (it == endpoints_.end()) return;
  endpoints_.erase(it);  // its queued deadlines are skipped when they come due
}

void Runtime::end_flush() {
  if (--flush_depth_ > 0) return;
  auto ports = std::move(to_remove_);
  to_remove_.clear();
  for (uint16_t p : ports) remove_endpoint(p);
}

Endpoint* Runtime::endpoint(uint16_t port) {
  auto it = endpoints_.find(port);
  return it == endpoints_.end() ? nullptr : it->second.endpoint.get();
}

RuntimeStats Runtime::stats() const {
  RuntimeStats s = stats_;
  s.udp = transport_->stats();
  return s;
}

void Runtime::flush(uint16_t port) {
  flush_port(port, false, Runtime::now());
}

void Runtime::flush_port(uint16_t port, bool may_hold, Instant now) {
  auto it = endpoints_.find(port);
  if (it == endpoints_.end()) return;
  begin_flush();
  flush_entry(port, it->second, now);
  send_batch(may_hold ? sendable_now(now) : batch_.size());
  end_flush();
}

void Runtime::flush_entry(uint16_t port, Entry& e, Instant now) {
  drain_transmits(e, now);
  while (auto ev = e.endpoint->poll_event()) {
    if (e.sink) e.sink(*e.endpoint, *ev);
  }
  // Sinks may have made the endpoint send something (e.g. an ABORT).
  drain_transmits(e, now);
  // A deadline that moved later (T3-rtx restarted by a SACK, the usual case while data
  // flows) keeps the queued one: that comes due early once, nothing is due, and the
  // endpoint's deadline then is queued (on_deadlines()).
  const std::optional<Instant> next = e.endpoint->next_timeout();
  if (next && (!e.armed || *next < *e.armed)) {
    e.armed = next;
    queue_deadline(*next, port);
  }
}

void Runtime::queue_deadline(Instant when, uint16_t port) {
  deadlines_.push(when, port);
  if (deadlines_.size() > 2 * endpoints_.size() + 64) {
    // Mostly stale entries (deadlines that moved earlier again and again): keep the
    // live ones only.
    deadlines_.clear();
    for (const auto& [p, e] : endpoints_)
      if (e.armed) deadlines_.push(*e.armed, p);
  }
  arm_deadline_timer();
}

void Runtime::arm_deadline_timer() {
  const std::optional<Instant> first = deadlines_.first();
  if (!first || (deadline_armed_ && *deadline_armed_ <= *first)) return;
  // One that fires anyway (already due, about to run) only finds nothing due.
  if (deadline_timer_) loop_.cancel_timer(deadline_timer_);
  deadline_armed_ = first;
  deadline_timer_ = loop_.add_timer(*first, [this] { on_deadlines(); });
}

void Runtime::drain_transmits(Entry& e, Instant now) {
  if (blocked_) return;  // the endpoint keeps its packets until the socket drains
  while (true) {
    if (batch_.size() == kTxBatch || arena_size_ - arena_used_ < Endpoint::kMaxPacketBytes) {
      // Full: the whole trains go, a partial one stays to be topped up.
      const size_t whole = whole_trains();
      send_batch(whole > 0 ? whole : batch_.size());
      if (blocked_) return;
      make_arena_room();
    }
    uint8_t* at = arena_.get() + arena_used_;
    auto t = e.endpoint->poll_transmit(now, std::span<uint8_t>(at, arena_size_ - arena_used_));
    if (!t) break;
    if (t->size == 0) continue;  // nothing fitted (Association::poll_transmit)
    arena_used_ += t->size;
    batch_.push_back(OutDatagram{t->to, t->from, std::span<const uint8_t>(at, t->size)});
    queued_.push_back(now);
  }
}

void Runtime::make_arena_room() {
  if (arena_size_ - arena_used_ >= Endpoint::kMaxPacketBytes) return;
  // Only a partial train is held here (whole ones have just left): move it to the front.
  const uint8_t* from = batch_.front().data.data();
  const size_t bytes = static_cast<size_t>(arena_.get() + arena_used_ - from);
  std::memmove(arena_.get(), from, bytes);
  const ptrdiff_t shift = from - arena_.get();
  for (OutDatagram& d : batch_)
    d.data = std::span<const uint8_t>(d.data.data() - shift, d.data.size());
  arena_used_ = bytes;
}

void Runtime::send_batch() {
  send_batch(batch_.size());
}

void Runtime::send_batch(size_t count) {
  const size_t n = batch_.size();
  count = std::min(count, n);
  if (count > 0) {
    ++io_calls_;
    const size_t sent = transport_->send(std::span<const OutDatagram>(batch_.data(), count));
    if (sent < count) {
      // The socket is full: what it refused, and what was held behind it, wait in order.
      ++stats_.send_blocked;
      for (size_t i = sent; i < n; ++i) {
        pending_.push_back(
            Pending{batch_[i].to, batch_[i].from,
                    std::vector<uint8_t>(batch_[i].data.begin(), batch_[i].data.end())});
      }
      count = n;
      if (!blocked_) {
        blocked_ = true;
        update_interest();
      }
    }
    // The held rest stays where it is in the arena; more packets join it there.
    batch_.erase(batch_.begin(), batch_.begin() + static_cast<ptrdiff_t>(count));
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<ptrdiff_t>(count));
  }
  if (batch_.empty()) {
    arena_used_ = 0;
    held_since_.clear(std::memory_order_relaxed);
  } else {
    hold_from(queued_.front());
  }
}

void Runtime::hold_from(Instant oldest) {
  if (held_since_.load(std::memory_order_relaxed) == oldest) return;
  // seq_cst store, then seq_cst exchange, against on_coalesce()'s clear-then-load:
  // either the timer sees this hold or this thread arms a new timer.
  held_since_.store(oldest);
  if (!coalesce_armed_.exchange(true))
    loop_.add_timer(oldest + kCoalesceDelay, [this] { on_coalesce(); });
}

void Runtime::update_interest() {
  // While user threads read the sockets, the I/O thread does not watch for input at
  // all: woken by the packets they read, it would only contend for the mutex.
  const uint32_t events =
      (io_reads_ ? uint32_t{EPOLLIN} : 0u) | (blocked_ ? uint32_t{EPOLLOUT} : 0u);
  for (int fd : fds_) loop_.modify(fd, events);
}

void Runtime::read_errors(int fd, Instant now) {
  transport_->read_errors(fd, [&](const Unreachable& u) {
    if (u.packet.size() < 12) return;
    // Our own packet: its source port is the endpoint that sent it.
    const uint16_t port = static_cast<uint16_t>(u.packet[0] << 8 | u.packet[1]);
    auto it = endpoints_.find(port);
    if (it == endpoints_.end()) return;
    it->second.endpoint->handle_unreachable(now, u.to, u.packet);
    flush_entry(port, it->second, now);  // its events (a failed connect) go out now
  });
}

void Runtime::receive_from(int fd, bool error) {
  const Instant now = Runtime::now();
  dirty_.clear();
  if (error) read_errors(fd, now);
  auto on_datagram = [&](const Datagram& d) {
    if (d.data.size() < 12) {
      ++stats_.malformed;
      return;
    }
    uint16_t port = static_cast<uint16_t>(d.data[2] << 8 | d.data[3]);
    auto it = endpoints_.find(port);
    if (it == endpoints_.end()) {
      if (kind_ == TransportKind::RawIp) {
        ++stats_.not_ours;  // maybe another process's port: never answer (runtime.h)
        return;
      }
      ++stats_.out_of_the_blue;
      if (auto reply = Endpoint::out_of_the_blue_reply(d.data)) {
        transport_->send_one(OutDatagram{d.from, d.to, *reply});
      }
      return;
    }
    it->second.endpoint->handle_packet(now, d.from, d.to, d.data);
    if (std::find(dirty_.begin(), dirty_.end(), port) == dirty_.end()) dirty_.push_back(port);
  };
  for (int round = 0; round < kMaxRxBatchesPerWakeup; ++round) {
    auto got = transport_->receive(fd, on_datagram);
    // An error (e.g. a pending ICMP error on a UDP socket) is consumed by reporting
    // it; datagrams may still wait behind it.
    if (!got.ok()) {
      if (got.status().code() == Errc::WouldBlock) return;
      read_errors(fd, now);  // a pending ICMP error: its details wait in the queue
      continue;
    }
    if (*got == 0) return;
    // Flush after every batch so acknowledgements are not held back too long.
    for (uint16_t port : dirty_) {
      auto it = endpoints_.find(port);
      if (it != endpoints_.end()) flush_entry(port, it->second, now);
    }
    dirty_.clear();
    // A burst sender reading its acknowledgements holds what they let it send, like
    // its own sends (read_while_sending()).
    send_batch(hold_in_burst_ ? sendable_now(now) : batch_.size());
    // A short batch emptied the socket: no read just to hear EAGAIN (one system call
    // per packet in a ping-pong). What arrives meanwhile is reported again (the
    // I/O thread's epoll and the driver's poll are level-triggered).
    if (*got < transport_->receive_batch()) return;
  }
}

void Runtime::wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                   std::optional<Instant> deadline, WaitFor what) {
  const bool yields = what == WaitFor::Rare;
  const bool drives = drive_enabled_ && !driving_ && !(yields && data_waiters_ > 0);
  if (!yields && driving_ && driver_yields_ && !successor_) {
    // The driver waits for something rare: it hands the drive to this thread, which
    // would otherwise get every packet through it, a wake-up each (wait(), runtime.h).
    successor_ = &cv;
    wake_driver();
  }
  // A burst sender that waits for room in its send buffer drives, and the SACKs it
  // reads let it send more: those packets are held to top up trains, like its own
  // sends, since it will send again as soon as there is room. The coalescing timer
  // bounds their wait if it does not. Any other wait sends all first, and what it
  // reads is answered at once: after a burst, a shutdown's SHUTDOWN COMPLETE must not
  // be left in a train when the call returns.
  const bool hold = what == WaitFor::Room && drives && burst_sends_ >= kBurstSends;
  if (!hold) send_batch();
  if (!yields) ++data_waiters_;
  if (!drives) {
    if (deadline)
      cv.wait_until(lock, *deadline);
    else
      cv.wait(lock);
    if (successor_ == &cv) successor_ = nullptr;
    if (!yields) --data_waiters_;
    return;
  }
  hold_in_burst_ = hold;
  driver_yields_ = yields;
  drive(lock, deadline);
  driver_yields_ = false;
  hold_in_burst_ = false;
  if (!yields) --data_waiters_;
  if (yields && successor_) successor_->notify_all();  // its turn to drive
  // Waiting for room does not end the burst: the next send comes as soon as there is.
  if (hold) last_send_ = Runtime::now();
}

void Runtime::take_sockets() {
  if (!io_reads_) return;
  io_reads_ = false;
  update_interest();
}

void Runtime::arm_takeover(Instant when) {
  if (takeover_armed_) return;
  takeover_armed_ = true;
  loop_.add_timer(when, [this] { on_takeover(); });
}

void Runtime::on_takeover() {
  // Looked at without the mutex first: a thread that sends or receives in a loop holds
  // mu_ most of the time, and queueing for it here would cost that thread a futex
  // wake-up (and this one a sleep) every time the timer fires. takeover_armed_ stays
  // set: a timer is still due.
  const Instant read = user_read_.load(std::memory_order_relaxed);
  if (Runtime::now() - read < kTakeover) {
    loop_.add_timer(read + kTakeover, [this] { on_takeover(); });
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  takeover_armed_ = false;
  if (io_reads_ || driving_) return;  // a driver arms the takeover again when it stops
  if (const Instant last = user_read_.load(std::memory_order_relaxed);
      Runtime::now() - last < kTakeover) {
    arm_takeover(last + kTakeover);
    return;
  }
  io_reads_ = true;
  update_interest();
}

void Runtime::flush_send(uint16_t port, bool will_wait, Instant now) {
  // The gap is the caller's time between sends: what the stack does inside a send
  // (packets to write, acknowledgements to read, room to wait for) does not count.
  burst_sends_ = now - last_send_ < kBurstGap ? burst_sends_ + 1 : 0;
  const bool burst = will_wait && burst_sends_ >= kBurstSends;
  const uint64_t calls = io_calls_;
  flush_port(port, burst, now);
  // Only a thread sending in a burst keeps the sockets: a lone send may be a request
  // whose answer an event loop waits for outside the stack, and that answer must not
  // wait for the takeover.
  if (burst) read_while_sending(now);
  // The next gap counts from the end of this send if it made system calls (a train
  // sent, acknowledgements read: long enough to matter), else from its start: a clock
  // read costs ~20 ns, and small messages made several per send (30% of a 64-byte
  // sender's time).
  last_send_ = io_calls_ != calls ? Runtime::now() : now;
}

void Runtime::flush_more(uint16_t port, Instant now) {
  flush_port(port, true, now);
}

size_t Runtime::sendable_now(Instant now) {
  const size_t n = batch_.size();
  if (n == 0 || blocked_) return n;
  if (now - queued_.front() >= kTopUpDelay) return n;  // the oldest waited enough
  return whole_trains();                               // send_batch() holds the rest
}

size_t Runtime::whole_trains() const {
  if (batch_.empty()) return 0;
  // The kernel's cost is per buffer more than per byte (a 64 KiB GSO buffer of 44
  // packets costs about as much as one of 4), so a train topped up by the next send is
  // worth the wait. The first packet's size stands for the train's: in a burst nearly
  // every packet is full. Without GSO only the system calls are shared, which is worth
  // nothing for packets of tens of kilobytes.
  const size_t size = std::max<size_t>(batch_.front().data.size(), 1);
  const size_t train = transport_->train_packets(size);
  const size_t unit =
      train > 1 ? train : std::clamp<size_t>(kCoalesceBytes / size, 1, kCoalescePackets);
  return batch_.size() / unit * unit;
}

void Runtime::on_coalesce() {
  coalesce_armed_.store(false);
  const Instant held = held_since_.load();
  if (held == Instant{}) {  // the sending thread sent them itself
    coalesce_backoff_ = 0;
    return;
  }
  const Duration delay = kCoalesceDelay * (1 << coalesce_backoff_);
  if (Runtime::now() - held < delay) {
    // A later batch than the one this timer was armed for: the sender is still
    // calling, and will send it itself. Wait for its own time, without the mutex (see
    // on_takeover()), and a little longer each time the sender turns out to be busy:
    // every check is a wake-up on another CPU, which in a sustained burst cost a bulk
    // sender ~10% at one per 400 us (A/B, 64 KiB at MTU 1500).
    coalesce_backoff_ = std::min(coalesce_backoff_ + 1, kCoalesceBackoffMax);
    if (!coalesce_armed_.exchange(true))
      loop_.add_timer(held + kCoalesceDelay * (1 << coalesce_backoff_), [this] { on_coalesce(); });
    return;
  }
  coalesce_backoff_ = 0;
  std::lock_guard<std::mutex> lock(mu_);
  begin_flush();
  send_batch();
  end_flush();
}

void Runtime::read_while_sending(Instant now) {
  if (!drive_enabled_ || driving_) return;
  if (now - user_read_.load(std::memory_order_relaxed) < kSenderReadGap) return;
  user_read_.store(now, std::memory_order_relaxed);
  ++io_calls_;
  take_sockets();
  begin_flush();
  hold_in_burst_ = true;
  for (int fd : fds_) receive_from(fd);
  hold_in_burst_ = false;
  end_flush();
  arm_takeover(now + kTakeover);
}

void Runtime::give_back_sockets() {
  send_batch();  // packets held for a burst: the caller may not call again soon
  if (io_reads_ || driving_) return;
  io_reads_ = true;
  update_interest();
}

void Runtime::drive(std::unique_lock<std::mutex>& lock, std::optional<Instant> deadline) {
  driving_ = true;
  take_sockets();
  driver_kicked_ = false;
  driver_ = std::this_thread::get_id();
  std::vector<pollfd>& pfds = driver_poll_;
  for (auto& p : pfds) p.revents = 0;
  lock.unlock();
  int n = 0;
  if (spin_ > Duration::zero()) {
    Instant until = Runtime::now() + spin_;
    if (deadline) until = std::min(until, *deadline);
    const timespec zero{};
    do {
      n = ppoll(pfds.data(), pfds.size(), &zero, nullptr);
    } while (n == 0 && Runtime::now() < until);
  }
  if (n <= 0) {  // nothing within the spin (or a signal): sleep until input or the deadline
    if (hold_in_burst_) {
      // Packets held for a train: the spin is as long as they may wait for more.
      lock.lock();
      send_batch();
      lock.unlock();
    }
    do {
      timespec ts = deadline ? time_left(*deadline) : timespec{};
      n = ppoll(pfds.data(), pfds.size(), deadline ? &ts : nullptr, nullptr);
    } while (n < 0 && errno == EINTR && !deadline);
  }
  lock.lock();
  if (driver_kicked_ || (pfds.back().revents & POLLIN)) {
    uint64_t v;
    (void)!read(driver_wake_fd_, &v, sizeof v);
  }
  // What arrived; more than a few batches are left to the next reader (the next
  // driver, or the I/O thread once it takes the sockets back).
  begin_flush();
  for (size_t i = 0; i + 1 < pfds.size(); ++i)
    if (pfds[i].revents) receive_from(pfds[i].fd, pfds[i].revents & POLLERR);
  end_flush();
  driving_ = false;
  const Instant read = Runtime::now();
  user_read_.store(read, std::memory_order_relaxed);
  arm_takeover(read + kTakeover);
}

void Runtime::wake_driver() {
  if (!driving_ || driver_kicked_ || driver_ == std::this_thread::get_id()) return;
  driver_kicked_ = true;
  const uint64_t one = 1;
  (void)!write(driver_wake_fd_, &one, sizeof one);
}

void Runtime::on_socket(int fd, uint32_t events) {
  std::unique_lock<std::mutex> lock(mu_);
  begin_flush();
  if ((events & EPOLLOUT) && blocked_) {
    // Retry what the socket refused, then let every endpoint send again.
    while (!pending_.empty()) {
      const Pending& p = pending_.front();
      Status st = transport_->send_one(OutDatagram{p.to, p.from, p.data});
      if (st.code() == Errc::WouldBlock) break;
      pending_.pop_front();
    }
    if (pending_.empty()) {
      blocked_ = false;
      update_interest();
      const Instant now = Runtime::now();
      // By port numbers taken first: a sink may add an endpoint, and a hash map that
      // grows moves its elements between buckets under the loop.
      std::vector<uint16_t> ports;
      ports.reserve(endpoints_.size());
      for (const auto& [port, e] : endpoints_) ports.push_back(port);
      for (uint16_t port : ports)
        if (auto it = endpoints_.find(port); it != endpoints_.end())
          flush_entry(port, it->second, now);
      send_batch();
    }
  }
  // While a user thread drives, the sockets are its to read.
  if ((events & (EPOLLIN | EPOLLERR)) && !driving_) receive_from(fd, events & EPOLLERR);
  end_flush();
}

void Runtime::on_deadlines() {
  std::lock_guard<std::mutex> lock(mu_);
  deadline_timer_ = 0;
  deadline_armed_.reset();
  begin_flush();
  const Instant now = Runtime::now();
  // Only what was due on entry: a deadline queued meanwhile waits for the next round,
  // so an endpoint whose deadline stayed due cannot keep this loop going.
  deadlines_.take_due(now, due_);
  for (const auto& d : due_) {
    auto it = endpoints_.find(d.id);
    if (it == endpoints_.end()) continue;  // removed
    Entry& e = it->second;
    if (e.armed != d.when) continue;  // stale: an earlier deadline replaced it
    e.armed.reset();
    if (const auto next = e.endpoint->next_timeout(); next && *next <= now)
      e.endpoint->handle_timeout(now);
    flush_entry(d.id, e, now);  // queues the endpoint's next deadline
  }
  send_batch();
  end_flush();
  arm_deadline_timer();
}

}  // namespace sctpp::net
