// The runtime: one I/O thread that drives sans-IO endpoints over real sockets.
//
// It owns the UDP encapsulation transport, the event loop and a table of endpoints
// keyed by local SCTP port. Incoming datagrams are demultiplexed by the destination
// SCTP port (bytes 2..3 of the common header); a packet for a port no endpoint owns
// gets Endpoint::out_of_the_blue_reply() over UDP. After any input (packet, timer, user
// call) the endpoint's transmits are sent, its events handed to the endpoint's
// sink and its timer re-armed (flush()).
//
// Locking: one mutex, mutex(), guards every endpoint and the transport. The I/O
// thread takes it while it feeds packets and timers; user threads take it around
// endpoint calls and then call flush(port) before unlocking, which sends at once
// from the calling thread. Sinks run with the mutex held (on whichever thread
// flushed), so they may notify condition variables waiting on mutex() and call
// methods of the Endpoint they are given, but must not lock mutex() again.
//
// Driving: a user thread that blocks in wait() while no other thread does reads the
// sockets itself (poll) and handles what arrives on its own thread, instead of
// sleeping on its condition variable until the I/O thread has handled the packet. A
// blocked receiver then gets its message with one thread wake-up instead of two (the
// I/O thread's, then its own), the largest part of a ping-pong's round trip. The I/O
// thread keeps the timers and stops watching the sockets while a thread drives.
// SCTPP_DRIVE=0 in the environment turns driving off (for comparisons).
//
// The sockets stay with the user threads: after a driver returns, the I/O thread does
// not watch the sockets again at once, but only when no user thread has read them for
// 1 ms (a timer checks). A thread that receives in a loop thus drives call after call
// without two epoll_ctl calls each time, and the packets that arrive between its calls
// do not wake the I/O thread just to hand their data over. A thread that only sends
// in a burst (8 or more sends, each within 50 us of the last, no receive between)
// reads the peer's acknowledgements itself every 20 us or so (read_while_sending()),
// so the I/O thread sleeps through a bulk transfer too. Timers stay with the I/O
// thread; a packet waits at most 1 ms when the user threads stop reading. A call that
// will not wait (a try_ call, a deadline already passed: an event loop that waits
// outside the stack) hands the sockets back to the I/O thread at once
// (give_back_sockets()), and so does a lone send, so an event loop's answers are read
// as soon as they arrive.
//
// Coalescing: in such a burst, the packets of one send are not sent at once but held
// until they fill whole trains (sendable_now(): one UDP GSO buffer each, 44 packets of
// 1500 bytes; 16 packets, at most 64 KiB, without GSO), topped up by the next sends and
// by what the SACKs the sender reads let it send (flush_send(), read_while_sending(),
// and wait() while a burst sender waits for room). The kernel's cost is per buffer far
// more than per byte, and the peer reads a train in one go and acknowledges it in one
// batch. TCP's autocorking makes the same trade. While the thread keeps calling, a
// partial train waits at most 50 us for more (a window-limited sender then adds at most
// that to a round trip), and all of it leaves before the thread sleeps in drive(). Any
// other wait or flush sends them first; if the thread makes no further call, the I/O
// thread sends them once the oldest has waited 400 us (on_coalesce(); each check is a
// wake-up, which at 200 us cost ~8% of a bulk sender). Calls that will not wait (try_)
// never hold anything.
//
// Spinning: before the driver sleeps in poll it polls without sleeping for a short
// while (RuntimeOptions::spin, default 50 us, SCTPP_SPIN_US in the environment). A
// sleeping thread's wake-up costs 20-30 us on an idle virtual machine, more than the
// whole round trip of a loopback ping-pong; a reply that comes within the spin is
// handled without one. The spin is spent once per wait, so an idle receiver costs
// nothing more; with a single CPU there is no spin (the peer could not run meanwhile).
//
// Raw IP (RuntimeOptions::transport = RawIp): the raw sockets see every SCTP packet
// sent to the host, also those for ports of other processes. Packets for a port no
// endpoint of this runtime owns are dropped unanswered (counted in not_ours), never
// answered as out of the blue: another process may own that port, and an ABORT
// from us would kill its association. Each endpoint's port is claimed host-wide
// (per network namespace) with SctpPortClaim, so two sctpp stacks cannot both
// serve one port. Packets that do reach an endpoint are handled as over UDP, out of
// the blue ones for its own port included (§8.4).
#pragma once

#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "endpoint/endpoint.h"
#include "net/atomic_instant.h"
#include "net/event_loop.h"
#include "net/packet_transport.h"
#include "net/raw_ip_transport.h"
#include "net/udp_transport.h"
#include "util/deadline_heap.h"

namespace sctpp::net {

struct RuntimeOptions {
  TransportKind transport = TransportKind::Udp;
  uint16_t udp_port = 9899;                // 0 = any free port; unused on raw IP
  std::vector<IpAddress> local_addresses;  // empty = all (IPv4 and IPv6 wildcards)
  int socket_buffer = 4 * 1024 * 1024;
  // How long a driving thread polls before it sleeps (see above); unset = SCTPP_SPIN_US
  // from the environment, else 50 us when this process may run on more than one CPU.
  std::optional<std::chrono::microseconds> spin;
};

struct RuntimeStats {
  UdpTransportStats udp;
  uint64_t out_of_the_blue = 0;  // packets for a port nobody owns
  uint64_t malformed = 0;        // datagrams too short for an SCTP common header
  uint64_t send_blocked = 0;     // times the UDP socket buffer was full
  uint64_t not_ours = 0;         // raw IP: packets for a port nobody here owns (ignored)
};

class Runtime {
 public:
  using EventSink = std::function<void(Endpoint&, const Event&)>;

  // Binds the UDP port (or opens the raw IP sockets) and starts the I/O thread.
  static Result<std::unique_ptr<Runtime>> start(const RuntimeOptions& options);
  // Stops the I/O thread and destroys every endpoint (associations vanish silently).
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  uint16_t udp_port() const { return udp_port_; }  // 0 on raw IP
  TransportKind transport() const { return kind_; }
  std::vector<IpAddress> bound_addresses() const { return bound_; }
  std::mutex& mutex() { return mu_; }
  static Instant now() { return Clock::now(); }

  // ---- everything below: call with mutex() held ----
  // Creates an endpoint. config.port 0 picks a free ephemeral port: over UDP the UDP
  // port's number first (unique on the host), then on from there; 49152..65535
  // otherwise.
  // Returns the port; AddressInUse when another endpoint has it (on raw IP also
  // when another stack on the host has claimed it).
  Result<uint16_t> add_endpoint(EndpointConfig config, EventSink sink);
  // Destroys an endpoint (deferred until the current flush ends when called from a sink).
  void remove_endpoint(uint16_t port);
  Endpoint* endpoint(uint16_t port);
  // Sends the endpoint's pending packets, dispatches its events, re-arms its timer.
  void flush(uint16_t port);
  RuntimeStats stats() const;
  // What a thread waits for, which decides how it drives in wait().
  enum class WaitFor {
    Data,  // anything else: a message, a state change, the end of an association
    // Room in a send buffer: a burst sender's packets keep being held for trains while
    // it waits, since it sends again as soon as there is room.
    Room,
    // Something rare, like a listener's next association: the thread drives only while
    // no other thread waits, and hands the drive to the first that comes. As the
    // driver it would read that thread's packets and pass each on through a condition
    // variable, a wake-up (20-100 us on a VM) per message (the demo's echo round trip
    // was 60-120 us instead of ~10 when the server's accept thread won the drive).
    Rare,
  };
  // Waits on `cv` (lock holds mutex()) until notified, `deadline` or a spurious wake-up,
  // like cv.wait_until: callers re-check what they wait for. Drives (see above) when no
  // other thread does.
  void wait(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
            std::optional<Instant> deadline, WaitFor what = WaitFor::Data);
  // Wakes the driver, if any and not the calling thread, so it re-checks what it waits
  // for: call after notifying a condition variable.
  void wake_driver();
  // For a user thread that has just queued a message on the endpoint: flush(port),
  // except that in a burst of sends from a call that may wait (will_wait) the packets
  // may be held for one system call with the next ones, and the peer's
  // acknowledgements are read on this thread (see above).
  void flush_send(uint16_t port, bool will_wait, Instant now);
  // For a user thread that has just queued a message and says more follow at once
  // (SendFlags::More, MSG_MORE): flush(port), except that packets short of whole trains
  // are held for the next send, as in a burst. Never reads the sockets: the caller may
  // be an event loop waiting outside the stack.
  void flush_more(uint16_t port, Instant now);
  // For a user thread about to receive: its sends are requests that wait for answers,
  // not a burst (no packet is held, and acknowledgements are left to the driver).
  void note_receive() { burst_sends_ = 0; }
  // For a user thread about to return without waiting (WouldBlock, Timeout): the I/O
  // thread watches the sockets again at once.
  void give_back_sockets();

 private:
  struct Entry {
    std::unique_ptr<Endpoint> endpoint;
    EventSink sink;
    // The earliest deadline queued for it in deadlines_ (the live entry; others for
    // this port are stale and skipped).
    std::optional<Instant> armed;
    SctpPortClaim claim;  // raw IP only
  };

  Runtime() = default;
  void on_socket(int fd, uint32_t events);
  // The event loop's timer for deadlines_: handles every endpoint whose deadline is due.
  void on_deadlines();
  // Queues `when` as the endpoint's deadline and makes sure the timer fires by then.
  void queue_deadline(Instant when, uint16_t port);
  void arm_deadline_timer();
  // `now`: the caller's clock reading (a clock read costs ~20 ns, several per send).
  void flush_entry(uint16_t port, Entry& e, Instant now);
  void drain_transmits(Entry& e, Instant now);
  // Sends the batched datagrams; keeps what the socket refused in pending_.
  void send_batch();
  // Sends the first `count` and holds the rest (see sendable_now()).
  void send_batch(size_t count);
  // Marks the batch held since `oldest` (its first packet's time) for on_coalesce().
  void hold_from(Instant oldest);
  // Sets what the I/O thread watches the sockets for (from driving_ and blocked_).
  void update_interest();
  // Reads and handles a few batches from `fd` (level-triggered watchers come back for
  // the rest).
  // Reads what waits on socket `fd`; `error`: the socket reported an error (POLLERR),
  // so its error queue is drained first.
  void receive_from(int fd, bool error = false);
  // Hands ICMP unreachable reports for packets we sent to their endpoints.
  void read_errors(int fd, Instant now);
  void drive(std::unique_lock<std::mutex>& lock, std::optional<Instant> deadline);
  // Sends the endpoint's packets, or holds them for more when `may_hold` (a burst).
  void flush_port(uint16_t port, bool may_hold, Instant now);
  // Reads what has arrived when no thread drives and nothing was read for a little while.
  void read_while_sending(Instant now);
  // In a burst: how many of the batched packets to send now; the rest wait for more
  // (arms on_coalesce()).
  size_t sendable_now(Instant now);
  // How many of the batch's first packets make whole trains (see sendable_now()).
  size_t whole_trains() const;
  // The I/O thread sends a held batch that has waited kCoalesceDelay.
  void on_coalesce();
  // Stops the I/O thread reading the sockets, until on_takeover() finds them unread.
  void take_sockets();
  // Arms on_takeover() for `when` unless it is armed: after every user thread's read.
  void arm_takeover(Instant when);
  void on_takeover();
  void begin_flush() { ++flush_depth_; }
  void end_flush();

  std::mutex mu_;
  std::unique_ptr<PacketTransport> transport_;
  TransportKind kind_ = TransportKind::Udp;
  EventLoop loop_;
  std::thread thread_;
  uint16_t udp_port_ = 0;
  std::vector<IpAddress> bound_;
  // Hashed: a send looks its endpoint up several times, and a tree of 10,000 (one per
  // client association of bench/many_assoc) is ~14 dependent cache misses a lookup.
  // Element addresses are stable; iteration order means nothing.
  std::unordered_map<uint16_t, Entry> endpoints_;
  std::vector<uint16_t> to_remove_;
  int flush_depth_ = 0;
  uint16_t next_ephemeral_ = 0;

  // Transmit batching: packets are written back to back into arena_ (the first
  // arena_used_ bytes) and listed in batch_ until send_batch(), so that a train of
  // them is one piece of memory, one iovec for the kernel: 44 iovecs of one packet
  // each cost a UDP GSO blaster ~14% against one of 64 KiB. queued_[i]: when batch_[i]
  // was written.
  // Left uninitialized: pages are only touched (and counted in memory use) as packets
  // reach them; an idle stack costs no more than the first few.
  std::unique_ptr<uint8_t[]> arena_;
  size_t arena_size_ = 0;
  size_t arena_used_ = 0;
  std::vector<OutDatagram> batch_;
  std::vector<Instant> queued_;
  // Makes room at the end of arena_ for one more packet (moves the held ones to the
  // front when the end is reached).
  void make_arena_room();
  // Datagrams the socket refused (buffer full), sent first when it is writable.
  struct Pending {
    SocketAddress to;
    IpAddress from;
    std::vector<uint8_t> data;
  };
  std::deque<Pending> pending_;
  bool blocked_ = false;
  RuntimeStats stats_;
  std::vector<uint16_t> dirty_;
  // Every endpoint's deadline behind one event-loop timer: with an event-loop timer
  // per endpoint, each deadline that moved later fired early once through its own
  // callback (the mutex, a re-arm, two allocations): 10,000 busy associations made
  // ~10,000 such wake-ups a second, 6.6% of a sender's time (bench/many_assoc).
  DeadlineHeap<uint16_t> deadlines_;              // by port; live: equal to Entry::armed
  std::vector<DeadlineHeap<uint16_t>::Due> due_;  // on_deadlines()'s scratch
  std::optional<Instant> deadline_armed_;         // when the timer for deadlines_ fires
  EventLoop::TimerId deadline_timer_ = 0;

  // The driver: set and cleared with mu_ held.
  bool drive_enabled_ = true;
  Duration spin_{};
  bool driving_ = false;
  bool io_reads_ = true;         // the I/O thread watches the sockets for input
  bool takeover_armed_ = false;  // on_takeover() is due
  // When a user thread last read the sockets (on_takeover() reads it unlocked).
  AtomicInstant user_read_;
  Instant last_send_{};    // flush_send(): the burst being counted
  uint64_t io_calls_ = 0;  // sends and reads of the sockets by user threads (flush_send())
  int burst_sends_ = 0;
  // When the oldest packet held in batch_ for a burst was written, Instant{} when none
  // is held (on_coalesce() reads it unlocked).
  AtomicInstant held_since_;
  std::atomic<bool> coalesce_armed_{false};
  // How far on_coalesce() has backed off while the sender keeps calling (I/O thread only).
  int coalesce_backoff_ = 0;
  // A burst sender reads (read_while_sending(), or wait() for room): what the SACKs it
  // reads let it send is held like its own sends.
  bool hold_in_burst_ = false;
  bool driver_kicked_ = false;
  bool driver_yields_ = false;                    // the driver waits for something rare
  std::condition_variable* successor_ = nullptr;  // a waiter the yielding driver makes way for
  int data_waiters_ = 0;  // threads in wait() that do not yield: a yielding one only waits
  std::thread::id driver_;
  int driver_wake_fd_ = -1;          // eventfd: wake_driver() writes, the driver polls it
  std::vector<pollfd> driver_poll_;  // the transport sockets, then driver_wake_fd_
  std::vector<int> fds_;             // the transport's sockets, fixed at start
};

}  // namespace sctpp::net
