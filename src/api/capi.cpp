// The RFC 6458 C API (include/sctpp/sctp.h) over SockState.
//
// Every socket is a SockState plus a socketpair: the user holds one end (the
// descriptor number is the socket's id) and the library keeps it readable/writable
// in step with the socket: a byte from the other end makes it readable; bytes sent
// from it into the other end, unread, make it unwritable (a small SO_SNDBUF). An
// eventfd cannot be "neither readable nor writable", which a socket often is.
//
// Locking: `table_mu` guards the descriptor table and the stack pointer; every
// socket operation then runs under the stack's runtime mutex, which also guards the
// CSock fields below. table_mu is never taken with the runtime mutex held.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "api/sock.h"
#include "sctpp/sctp.h"
#include "sctpp/sockaddr.h"

namespace {

using namespace sctpp;
using detail::Lock;
using detail::SockAssoc;
using detail::SockItem;
using detail::SockKind;
using detail::SockState;
using detail::StackState;

constexpr uint32_t kIdOffset = 2;  // C ids: core id + 2 (0..2 are FUTURE/CURRENT/ALL)

struct CSock {
  int fd = -1;    // the user's end: the descriptor
  int peer = -1;  // the library's end
  int domain = AF_INET;
  int type = SOCK_SEQPACKET;
  std::shared_ptr<StackState> stack;
  std::shared_ptr<SockState> s;
  // ---- guarded by the runtime mutex ----
  bool nonblock = false;
  bool recv_rcvinfo = false;
  bool recv_nxtinfo = false;
  bool linger_abort = false;
  sctpp_sndinfo default_snd{};    // snd_context is also SCTP_CONTEXT
  bool no_fragments = false;      // SCTP_DISABLE_FRAGMENTS
  int fragment_interleave = 0;    // SCTP_FRAGMENT_INTERLEAVE: what the user allows
  bool failure_reported = false;  // the association's failure was returned once
  size_t partial_off = 0;         // bytes of the front item already returned
  bool fd_readable = false;       // what the descriptor shows now
  bool fd_writable = true;
};

struct Global {
  std::mutex table_mu;
  std::shared_ptr<StackState> stack;
  std::atomic<uint16_t> remote_udp_port{0};  // 0: not chosen yet (read without table_mu)
  std::unordered_map<int, std::shared_ptr<CSock>> table;
};

// Never destroyed: the I/O thread may still run while static objects go away.
Global& g() {
  static Global* global = new Global;
  return *global;
}

int fail(int e) {
  errno = e;
  return -1;
}

uint16_t env_port(const char* name, uint16_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long p = std::strtol(v, &end, 10);
  if (*end || p < 0 || p > 65535) return fallback;
  return static_cast<uint16_t>(p);
}

int errno_of(const Status& st) {
  switch (st.code()) {
    case Errc::Ok:
      return 0;
    case Errc::WouldBlock:
      return EAGAIN;
    case Errc::Timeout:
      return ETIMEDOUT;
    case Errc::NotConnected:
      return ENOTCONN;
    case Errc::ShuttingDown:
    case Errc::Closed:
      return EPIPE;
    case Errc::Aborted:
      return ECONNRESET;
    case Errc::ConnectionLost:
    case Errc::NoAnswer:
      return ETIMEDOUT;
    case Errc::Refused:
      return ECONNREFUSED;
    case Errc::InvalidStream:
    case Errc::InvalidArgument:
      return EINVAL;
    case Errc::MessageTooLarge:
      return EMSGSIZE;
    case Errc::AddressInUse:
      return EADDRINUSE;
    case Errc::PermissionDenied:
      return EACCES;
    case Errc::TooManyAssociations:
      return ENOBUFS;
    case Errc::IoError:
      return EIO;
  }
  return EIO;
}

int fail(const Status& st) {
  return fail(errno_of(st));
}

StackOptions default_stack_options(uint16_t udp_port) {
  StackOptions o;
  o.udp_port = udp_port;
  const char* t = std::getenv("SCTPP_TRANSPORT");
  if (t && std::strcmp(t, "ip") == 0) o.transport = Transport::Ip;
  return o;
}

// Starts the process-wide stack if needed (table_mu held).
int ensure_stack_locked() {
  Global& G = g();
  if (G.stack) return 0;
  StackOptions o = default_stack_options(env_port("SCTPP_UDP_PORT", 9899));
  auto st = detail::create_stack(o);
  if (!st.ok()) return fail(st.status());
  G.stack = std::move(*st);
  if (G.remote_udp_port == 0) G.remote_udp_port = env_port("SCTPP_REMOTE_UDP_PORT", 9899);
  return 0;
}

std::shared_ptr<CSock> lookup(int sd) {
  Global& G = g();
  std::lock_guard<std::mutex> lock(G.table_mu);
  auto it = G.table.find(sd);
  return it == G.table.end() ? nullptr : it->second;
}

// ---- addresses ----

struct Addr {
  IpAddress ip;
  uint16_t port = 0;
};

// One sockaddr of `len` bytes (len 0: trust the family). EINVAL/EAFNOSUPPORT.
int parse_sockaddr(const sockaddr* sa, socklen_t len, int domain, Addr* out) {
  if (!sa) return EINVAL;
  if (sa->sa_family == AF_INET) {
    if (len != 0 && len < sizeof(sockaddr_in)) return EINVAL;
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &sin.sin_addr, 4);
    out->ip = IpAddress::v4(b);
    out->port = ntohs(sin.sin_port);
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    if (domain != AF_INET6) return EAFNOSUPPORT;
    if (len != 0 && len < sizeof(sockaddr_in6)) return EINVAL;
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
      std::array<uint8_t, 4> b;
      std::memcpy(b.data(), reinterpret_cast<const uint8_t*>(&sin6.sin6_addr) + 12, 4);
      out->ip = IpAddress::v4(b);
    } else {
      std::array<uint8_t, 16> b;
      std::memcpy(b.data(), &sin6.sin6_addr, 16);
      out->ip = IpAddress::v6(b);
    }
    out->port = ntohs(sin6.sin6_port);
    return 0;
  }
  return EAFNOSUPPORT;
}

// `count` packed sockaddrs (RFC 6458 §9.1 layout).
int parse_packed(const sockaddr* addrs, int count, int domain, std::vector<Addr>* out) {
  if (!addrs || count <= 0) return EINVAL;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(addrs);
  for (int i = 0; i < count; ++i) {
    sa_family_t fam;
    std::memcpy(&fam, p + offsetof(sockaddr, sa_family), sizeof fam);
    Addr a;
    int e = parse_sockaddr(reinterpret_cast<const sockaddr*>(p), 0, domain, &a);
    if (e) return e;
    out->push_back(a);
    p += fam == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  }
  return 0;
}

socklen_t write_sockaddr(const IpAddress& ip, uint16_t port, sockaddr_storage* ss) {
  return to_sockaddr(SocketAddress{ip, port}, ss);
}

void copy_out_addr(const IpAddress& ip, uint16_t port, sockaddr* addr, socklen_t* len) {
  if (!addr || !len) return;
  sockaddr_storage ss;
  socklen_t n = write_sockaddr(ip, port, &ss);
  std::memcpy(addr, &ss, std::min(*len, n));
  *len = n;
}

// Whether `ip` is an address of this host (binding a throwaway UDP socket to it).
bool is_local(const IpAddress& ip) {
  if (ip.is_any()) return true;
  int fd = socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_storage ss;
  socklen_t n = write_sockaddr(ip, 0, &ss);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), n) == 0;
  ::close(fd);
  return ok;
}

// The host's addresses (for a wildcard-bound socket).
std::vector<IpAddress> host_addresses(int domain) {
  std::vector<IpAddress> out;
  ifaddrs* ifa = nullptr;
  if (getifaddrs(&ifa) != 0) return out;
  for (ifaddrs* i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & 0x1 /* IFF_UP */)) continue;
    Addr a;
    if (i->ifa_addr->sa_family == AF_INET6 && domain != AF_INET6) continue;
    if (parse_sockaddr(i->ifa_addr, 0, AF_INET6, &a) != 0) continue;
    if (a.ip.is_v6() && (a.ip.data()[0] == 0xfe && (a.ip.data()[1] & 0xc0) == 0x80))
      continue;  // link-local needs a scope id
    if (std::find(out.begin(), out.end(), a.ip) == out.end()) out.push_back(a.ip);
  }
  freeifaddrs(ifa);
  return out;
}

int packed_addresses(const std::vector<IpAddress>& ips, uint16_t port, sockaddr** out) {
  size_t total = 0;
  for (const auto& ip : ips) total += ip.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (ips.empty()) {
    *out = nullptr;
    return 0;
  }
  auto* buf = static_cast<uint8_t*>(std::malloc(total));
  if (!buf) return fail(ENOMEM);
  uint8_t* p = buf;
  for (const auto& ip : ips) {
    sockaddr_storage ss;
    socklen_t n = write_sockaddr(ip, port, &ss);
    std::memcpy(p, &ss, n);
    p += n;
  }
  *out = reinterpret_cast<sockaddr*>(buf);
  return static_cast<int>(ips.size());
}

// ---- descriptor readiness ----

void update_fd(CSock& c) {
  const auto r = c.s->readiness();
  if (r.readable != c.fd_readable) {
    if (r.readable) {
      char b = 1;
      (void)::send(c.peer, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      // Only the one byte above is ever there: one read, not a second one that says
      // EAGAIN (a system call per notification a busy one-to-many socket reads).
      char b;
      (void)::recv(c.fd, &b, 1, MSG_DONTWAIT);
    }
    c.fd_readable = r.readable;
  }
  if (r.writable != c.fd_writable) {
    if (r.writable) {
      char buf[64];
      while (::recv(c.peer, buf, sizeof buf, MSG_DONTWAIT) > 0) {
      }
    } else {
      char b = 0;
      for (int i = 0; i < 256; ++i) {
        pollfd p{c.fd, POLLOUT, 0};
        if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT)) break;
        if (::send(c.fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) break;
      }
    }
    c.fd_writable = r.writable;
  }
}

// Wraps `s` in a new descriptor and registers it. Runtime mutex held.
int make_csock(const std::shared_ptr<StackState>& stack, std::shared_ptr<SockState> s, int domain,
               int type, bool nonblock, std::shared_ptr<CSock>* out) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return errno;
  int small = 1;  // the minimum: a few bytes make it unwritable
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  auto c = std::make_shared<CSock>();
  c->fd = sv[0];
  c->peer = sv[1];
  c->domain = domain;
  c->type = type;
  c->stack = stack;
  c->s = std::move(s);
  c->nonblock = nonblock;
  CSock* raw = c.get();
  c->s->on_change = [raw] { update_fd(*raw); };
  update_fd(*c);
  *out = c;
  return 0;
}

void register_csock(const std::shared_ptr<CSock>& c) {
  Global& G = g();
  std::lock_guard<std::mutex> lock(G.table_mu);
  G.table[c->fd] = c;
}

Deadline deadline_for(const CSock& c, int flags) {
  if (c.nonblock || (flags & MSG_DONTWAIT)) return Deadline::expired();
  return Deadline::never();
}

uint32_t core_id(sctpp_assoc_t id) {
  return id > kIdOffset ? id - kIdOffset : 0;
}
sctpp_assoc_t c_id(uint32_t core) {
  return core + kIdOffset;
}

// A one-to-one socket's association failed (aborted, lost, refused...): its errno,
// once (recv, send and SO_ERROR report it; later calls see end of data / EPIPE).
int take_error(CSock& c) {
  if (c.s->kind != SockKind::OneToOne || c.failure_reported) return 0;
  SockAssoc* a = c.s->only();
  if (!a || !a->terminal || a->failure.ok()) return 0;
  c.failure_reported = true;
  return errno_of(a->failure);
}

// The association a call names: a one-to-one socket's own, or `id`.
SockAssoc* assoc_for(CSock& c, sctpp_assoc_t id) {
  if (c.s->kind == SockKind::OneToOne) return c.s->only();
  return c.s->find(core_id(id));
}

// Binds an unbound socket to the wildcard and an ephemeral port.
int autobind(CSock& c) {
  if (c.s->bound()) return 0;
  Status st = c.s->create_endpoint(0);
  return st.ok() ? 0 : fail(st);
}

std::vector<SocketAddress> remote_of(const CSock& c, const std::vector<Addr>& addrs) {
  std::vector<SocketAddress> out;
  for (const auto& a : addrs) out.push_back(SocketAddress{a.ip, c.s->remote_udp_port});
  return out;
}

// ---- notifications as RFC 6458 bytes ----

template <class T>
void append(std::vector<uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

struct NoteBytes {
  std::vector<uint8_t> operator()(const AssocChange& e) const {
    sctpp_assoc_change n{};
    n.sac_type = SCTP_ASSOC_CHANGE;
    n.sac_length = sizeof n;
    n.sac_state = static_cast<uint16_t>(e.state);
    n.sac_error = e.error;
    n.sac_outbound_streams = e.outbound_streams;
    n.sac_inbound_streams = e.inbound_streams;
    n.sac_assoc_id = c_id(e.assoc_id);
    std::vector<uint8_t> out;
    append(out, n);
    return out;
  }
  std::vector<uint8_t> operator()(const PeerAddrChange& e) const {
    sctpp_paddr_change n{};
    n.spc_type = SCTP_PEER_ADDR_CHANGE;
    n.spc_length = sizeof n;
    write_sockaddr(e.address.ip, e.address.port, &n.spc_aaddr);
    n.spc_state = static_cast<uint32_t>(e.state);
    n.spc_error = e.error;
    n.spc_assoc_id = c_id(e.assoc_id);
    std::vector<uint8_t> out;
    append(out, n);
    return out;
  }
  std::vector<uint8_t> operator()(const RemoteError& e) const {
    sctpp_remote_error n{};
    const size_t chunk_len = 4 + e.causes.size();
    n.sre_type = SCTP_REMOTE_ERROR;
    n.sre_length = static_cast<uint32_t>(sizeof n + chunk_len);
    n.sre_error = htons(e.error);
    n.sre_assoc_id = c_id(e.assoc_id);
    std::vector<uint8_t> out;
    append(out, n);
    out.push_back(9);  // ERROR chunk: type, flags, length, causes
    out.push_back(0);
    out.push_back(static_cast<uint8_t>(chunk_len >> 8));
    out.push_back(static_cast<uint8_t>(chunk_len));
    out.insert(out.end(), e.causes.begin(), e.causes.end());
    return out;
  }
  std::vector<uint8_t> operator()(const ShutdownEvent& e) const {
    sctpp_shutdown_event n{};
    n.sse_type = SCTP_SHUTDOWN_EVENT;
    n.sse_length = sizeof n;
    n.sse_assoc_id = c_id(e.assoc_id);
    std::vector<uint8_t> out;
    append(out, n);
    return out;
  }
  std::vector<uint8_t> operator()(const SendFailedEvent& e) const {
    sctpp_send_failed_event n{};
    n.ssfe_type = SCTP_SEND_FAILED_EVENT;
    n.ssfe_flags = e.sent ? SCTP_DATA_SENT : SCTP_DATA_UNSENT;
    n.ssfe_length = static_cast<uint32_t>(sizeof n + e.data.size());
    n.ssfe_error = e.error;
    n.ssfe_info.snd_sid = e.info.stream;
    n.ssfe_info.snd_flags = e.info.unordered ? SCTP_UNORDERED : 0;
    n.ssfe_info.snd_ppid = htonl(e.info.ppid);
    n.ssfe_info.snd_context = e.info.context;
    n.ssfe_info.snd_assoc_id = c_id(e.assoc_id);
    n.ssfe_assoc_id = c_id(e.assoc_id);
    std::vector<uint8_t> out;
    append(out, n);
    out.insert(out.end(), e.data.begin(), e.data.end());
    return out;
  }
  std::vector<uint8_t> operator()(const SenderDryEvent& e) const {
    sctpp_sender_dry_event n{};
    n.sender_dry_type = SCTP_SENDER_DRY_EVENT;
    n.sender_dry_length = sizeof n;
    n.sender_dry_assoc_id = c_id(e.assoc_id);
    std::vector<uint8_t> out;
    append(out, n);
    return out;
  }
};

size_t item_length(const SockItem& it) {
  if (it.is_notification()) return std::visit(NoteBytes{}, std::get<1>(it.value)).size();
  return std::get<0>(it.value).data.size();
}

bool set_event(EventSubscription& ev, uint16_t type, bool on) {
  switch (type) {
    case SCTP_ASSOC_CHANGE:
      ev.association = on;
      return true;
    case SCTP_PEER_ADDR_CHANGE:
      ev.address = on;
      return true;
    case SCTP_REMOTE_ERROR:
      ev.remote_error = on;
      return true;
    case SCTP_SHUTDOWN_EVENT:
      ev.shutdown = on;
      return true;
    case SCTP_SEND_FAILED_EVENT:
      ev.send_failure = on;
      return true;
    case SCTP_SENDER_DRY_EVENT:
      ev.sender_dry = on;
      return true;
    case SCTP_SEND_FAILED:
    case SCTP_ADAPTATION_INDICATION:
    case SCTP_PARTIAL_DELIVERY_EVENT:
    case SCTP_AUTHENTICATION_EVENT:
    case SCTP_STREAM_RESET_EVENT:
    case SCTP_NOTIFICATIONS_STOPPED_EVENT:
    case SCTP_ASSOC_RESET_EVENT:
    case SCTP_STREAM_CHANGE_EVENT:
      return !on;  // never generated: turning them off is fine
    default:
      return false;
  }
}

bool get_event(const EventSubscription& ev, uint16_t type, bool* on) {
  switch (type) {
    case SCTP_ASSOC_CHANGE:
      *on = ev.association;
      return true;
    case SCTP_PEER_ADDR_CHANGE:
      *on = ev.address;
      return true;
    case SCTP_REMOTE_ERROR:
      *on = ev.remote_error;
      return true;
    case SCTP_SHUTDOWN_EVENT:
      *on = ev.shutdown;
      return true;
    case SCTP_SEND_FAILED_EVENT:
      *on = ev.send_failure;
      return true;
    case SCTP_SENDER_DRY_EVENT:
      *on = ev.sender_dry;
      return true;
    default:
      *on = false;
      return type >= SCTP_ASSOC_CHANGE && type <= SCTP_SEND_FAILED_EVENT;
  }
}

int32_t state_code(AssocState s) {
  switch (s) {
    case AssocState::Closed:
      return SCTP_CLOSED;
    case AssocState::CookieWait:
      return SCTP_COOKIE_WAIT;
    case AssocState::CookieEchoed:
      return SCTP_COOKIE_ECHOED;
    case AssocState::Established:
      return SCTP_ESTABLISHED;
    case AssocState::ShutdownPending:
      return SCTP_SHUTDOWN_PENDING;
    case AssocState::ShutdownSent:
      return SCTP_SHUTDOWN_SENT;
    case AssocState::ShutdownReceived:
      return SCTP_SHUTDOWN_RECEIVED;
    case AssocState::ShutdownAckSent:
      return SCTP_SHUTDOWN_ACK_SENT;
  }
  return SCTP_CLOSED;
}

uint32_t ms(Duration d) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

size_t fragmentation_point(const AssocConfig& a) {
  size_t packet = a.path_mtu > a.transport_overhead ? a.path_mtu - a.transport_overhead : 512;
  return packet - 12 - 16;  // common header, DATA chunk header
}

void fill_paddrinfo(const PathInfo& p, uint16_t peer_port, sctpp_assoc_t id, size_t mtu,
                    sctpp_paddrinfo* out) {
  std::memset(out, 0, sizeof *out);
  write_sockaddr(p.address.ip, peer_port, &out->spinfo_address);
  out->spinfo_assoc_id = id;
  out->spinfo_state = !p.confirmed ? SCTP_UNCONFIRMED : (p.active ? SCTP_ACTIVE : SCTP_INACTIVE);
  out->spinfo_cwnd = static_cast<uint32_t>(std::min<size_t>(p.cwnd, UINT32_MAX));
  out->spinfo_srtt = ms(p.srtt);
  out->spinfo_rto = ms(p.rto);
  out->spinfo_mtu = static_cast<uint32_t>(mtu);
}

// Applies a changed endpoint configuration: re-creates the endpoint when the socket
// is bound and has no association; otherwise the old one is restored (EINVAL). The
// core has no way to change the settings of live associations.
int apply_config(CSock& c, const EndpointConfig& before) {
  SockState& s = *c.s;
  if (before == s.config || !s.bound()) return 0;
  Status st = s.reconfigure();
  if (!st.ok()) {
    s.config = before;
    return fail(EINVAL);
  }
  return 0;
}

template <class T>
bool read_opt(const void* optval, socklen_t optlen, T* out) {
  if (!optval || optlen < sizeof(T)) return false;
  std::memcpy(out, optval, sizeof(T));
  return true;
}

template <class T>
int write_opt(const T& v, void* optval, socklen_t* optlen) {
  if (!optval || !optlen || *optlen < sizeof(T)) return fail(EINVAL);
  std::memcpy(optval, &v, sizeof(T));
  *optlen = sizeof(T);
  return 0;
}

// An sctp_assoc_value, or (as Linux and FreeBSD still accept for the older options)
// a plain int.
bool read_assoc_value(const void* optval, socklen_t optlen, uint32_t* out) {
  sctpp_assoc_value v{};
  int iv;
  if (read_opt(optval, optlen, &v)) {
    *out = v.assoc_value;
  } else if (read_opt(optval, optlen, &iv) && iv >= 0) {
    *out = static_cast<uint32_t>(iv);
  } else {
    return false;
  }
  return true;
}

// Answers in the form asked: an sctp_assoc_value (its assoc_id kept), or an int.
int write_assoc_value(uint32_t value, void* optval, socklen_t* optlen) {
  sctpp_assoc_value v{};
  if (*optlen < sizeof v) return write_opt(static_cast<int>(value), optval, optlen);
  std::memcpy(&v, optval, sizeof v);
  v.assoc_value = value;
  return write_opt(v, optval, optlen);
}

int read_bool(const void* optval, socklen_t optlen, bool* out) {
  int v;
  if (!read_opt(optval, optlen, &v)) return fail(EINVAL);
  *out = v != 0;
  return 0;
}

// ---- send / receive ----

ssize_t do_send(CSock& c, Lock& lock, std::span<const uint8_t> data, const std::vector<Addr>& to,
                const sctpp_sndinfo& snd, int flags) {
  SockState& s = *c.s;
  if (c.no_fragments && data.size() > fragmentation_point(s.config.assoc)) return fail(EMSGSIZE);
  SendInfo si;
  si.stream = snd.snd_sid;
  si.ppid = ntohl(snd.snd_ppid);
  si.unordered = (snd.snd_flags & SCTP_UNORDERED) != 0;
  si.context = snd.snd_context;
  if (snd.snd_flags & SCTP_EOF) si.flags = si.flags | SendFlags::Eof;
  if (snd.snd_flags & SCTP_ABORT) si.flags = si.flags | SendFlags::Abort;
  if (snd.snd_flags & SCTP_SACK_IMMEDIATELY) si.flags = si.flags | SendFlags::SackImmediately;
  if (flags & MSG_MORE) si.flags = si.flags | SendFlags::More;
  const Deadline dl = deadline_for(c, flags);
  const ssize_t done = static_cast<ssize_t>(data.size());
  auto map_send = [&](const Status& st) -> ssize_t {
    if (st.code() == Errc::Timeout) return fail(EAGAIN);
    return fail(st);
  };

  if (s.kind == SockKind::Listening) return fail(ENOTCONN);
  if (s.kind == SockKind::OneToOne) {
    SockAssoc* a = s.only();
    if (!a) return fail(ENOTCONN);
    if (a->terminal) {
      int e = take_error(c);
      return fail(e ? e : EPIPE);
    }
    Status st = s.send(lock, a->id.value(), data, si, dl);
    if (!st.ok()) return map_send(st);
    return done;
  }
  // One-to-many.
  if (snd.snd_flags & SCTP_SENDALL) {
    std::vector<uint32_t> ids;
    for (const auto& [id, a] : s.assocs)
      if (a.live()) ids.push_back(id);
    SendInfo each = si;
    for (uint32_t id : ids) s.send(lock, id, data, each, Deadline::expired());
    return done;
  }
  uint32_t id = 0;
  if (!to.empty()) {
    for (const auto& a : to) {
      if (auto found = s.find_peer(SocketAddress{a.ip, a.port})) {
        id = *found;
        break;
      }
    }
    if (id == 0) {
      // Implicit setup (RFC 6458 §3.1.5).
      if ((snd.snd_flags & SCTP_ABORT) || data.empty()) return fail(ENOENT);
      if (autobind(c) < 0) return -1;
      for (const auto& a : to)
        if (a.port != to.front().port || a.port == 0 || a.ip.is_any()) return fail(EINVAL);
      if (si.stream >= s.config.init.num_ostreams) return fail(EINVAL);
      if (data.size() > s.config.assoc.max_message_size) return fail(EMSGSIZE);
      auto r = s.start_assoc(remote_of(c, to), to.front().port, s.config.init);
      if (!r.ok()) return fail(r.status());
      Status st = s.send(lock, *r, data, si, dl);
      if (!st.ok()) {
        s.abort_assoc(*r, "");
        return map_send(st);
      }
      return done;
    }
  } else {
    id = core_id(snd.snd_assoc_id);
    if (id == 0) return fail(EINVAL);
  }
  if (!s.live(id)) {
    if (s.find(id) || s.ended.count(id)) return fail(EPIPE);
    return fail(ENOENT);
  }
  Status st = s.send(lock, id, data, si, dl);
  if (!st.ok()) {
    if (st.code() == Errc::NotConnected) return fail(ENOENT);
    return map_send(st);
  }
  return done;
}

struct RecvOut {
  const iovec* iov = nullptr;
  int iovlen = 0;
  sockaddr* from = nullptr;
  socklen_t* fromlen = nullptr;
  void* info = nullptr;
  socklen_t* infolen = nullptr;
  unsigned int* infotype = nullptr;
  int* flags = nullptr;
  bool rcvinfo = false;  // fill rcvinfo (recvv: option; recvmsg: always)
  bool nxtinfo = false;
  sctpp_sndrcvinfo* sndrcv = nullptr;  // recvmsg
};

// RFC 6458 §5.3.5: rcv_context is the context the user set with SCTP_CONTEXT.
void fill_rcvinfo(const SockItem& it, uint32_t context, sctpp_rcvinfo* r) {
  std::memset(r, 0, sizeof *r);
  r->rcv_assoc_id = c_id(it.assoc);
  if (it.is_notification()) return;
  r->rcv_context = context;
  const ReceiveInfo& i = std::get<0>(it.value).info;
  r->rcv_sid = i.stream;
  r->rcv_ssn = i.ssn;
  r->rcv_flags = i.unordered ? SCTP_UNORDERED : 0;
  r->rcv_ppid = htonl(i.ppid);
  r->rcv_tsn = i.tsn;
  r->rcv_cumtsn = i.cumtsn;
}

void fill_nxtinfo(const SockItem& it, sctpp_nxtinfo* n) {
  std::memset(n, 0, sizeof *n);
  n->nxt_assoc_id = c_id(it.assoc);
  n->nxt_flags = SCTP_COMPLETE;
  n->nxt_length = static_cast<uint32_t>(item_length(it));
  if (it.is_notification()) {
    n->nxt_flags |= SCTP_NOTIFICATION;
    return;
  }
  const ReceiveInfo& i = std::get<0>(it.value).info;
  n->nxt_sid = i.stream;
  n->nxt_ppid = htonl(i.ppid);
  if (i.unordered) n->nxt_flags |= SCTP_UNORDERED;
}

ssize_t do_recv(CSock& c, Lock& lock, RecvOut& out, int in_flags) {
  SockState& s = *c.s;
  const bool peek = (in_flags & MSG_PEEK) != 0;
  const Deadline dl = deadline_for(c, in_flags);
  if (out.infotype) *out.infotype = SCTP_RECVV_NOINFO;
  s.stack->rt->note_receive();  // a request and its answer are not a burst of sends
  while (true) {
    s.reap();
    s.top_up();
    if (!s.rq.empty()) {
      const SockItem& it = s.rq.front();
      std::vector<uint8_t> note;
      const std::vector<uint8_t>* bytes;
      if (it.is_notification()) {
        note = std::visit(NoteBytes{}, std::get<1>(it.value));
        bytes = &note;
      } else {
        bytes = &std::get<0>(it.value).data;
      }
      size_t off = std::min(c.partial_off, bytes->size());
      size_t copied = 0;
      for (int i = 0; i < out.iovlen && off + copied < bytes->size(); ++i) {
        size_t n = std::min(out.iov[i].iov_len, bytes->size() - off - copied);
        if (n) std::memcpy(out.iov[i].iov_base, bytes->data() + off + copied, n);
        copied += n;
      }
      const bool complete = off + copied >= bytes->size();
      int fl = 0;
      if (it.is_notification()) fl |= MSG_NOTIFICATION;
      if (complete) fl |= MSG_EOR;
      if (out.flags) *out.flags = fl;
      // The sender: the association's primary address.
      if (out.from && out.fromlen) {
        if (!it.is_notification()) {
          const auto& from = std::get<0>(it.value).from;
          copy_out_addr(from.ip, from.port, out.from, out.fromlen);
        } else if (SockAssoc* a = s.find(it.assoc)) {
          copy_out_addr(a->primary.ip, a->peer_port, out.from, out.fromlen);
        } else {
          *out.fromlen = 0;
        }
      }
      const SockItem* next = s.rq.size() > 1 ? &s.rq[1] : nullptr;
      const bool want_rcv = out.rcvinfo && !it.is_notification();
      const bool want_nxt = out.nxtinfo && next != nullptr;
      if (out.info && out.infolen && out.infotype) {
        if (want_rcv && want_nxt && *out.infolen >= sizeof(sctpp_recvv_rn)) {
          auto* rn = static_cast<sctpp_recvv_rn*>(out.info);
          fill_rcvinfo(it, c.default_snd.snd_context, &rn->recvv_rcvinfo);
          fill_nxtinfo(*next, &rn->recvv_nxtinfo);
          *out.infolen = sizeof(sctpp_recvv_rn);
          *out.infotype = SCTP_RECVV_RN;
        } else if (want_rcv && *out.infolen >= sizeof(sctpp_rcvinfo)) {
          fill_rcvinfo(it, c.default_snd.snd_context, static_cast<sctpp_rcvinfo*>(out.info));
          *out.infolen = sizeof(sctpp_rcvinfo);
          *out.infotype = SCTP_RECVV_RCVINFO;
        } else if (want_nxt && *out.infolen >= sizeof(sctpp_nxtinfo)) {
          fill_nxtinfo(*next, static_cast<sctpp_nxtinfo*>(out.info));
          *out.infolen = sizeof(sctpp_nxtinfo);
          *out.infotype = SCTP_RECVV_NXTINFO;
        } else {
          *out.infolen = 0;
        }
      }
      if (out.sndrcv) {
        sctpp_rcvinfo r;
        fill_rcvinfo(it, c.default_snd.snd_context, &r);
        std::memset(out.sndrcv, 0, sizeof *out.sndrcv);
        out.sndrcv->sinfo_stream = r.rcv_sid;
        out.sndrcv->sinfo_ssn = r.rcv_ssn;
        out.sndrcv->sinfo_flags = r.rcv_flags;
        out.sndrcv->sinfo_ppid = r.rcv_ppid;
        out.sndrcv->sinfo_tsn = r.rcv_tsn;
        out.sndrcv->sinfo_cumtsn = r.rcv_cumtsn;
        out.sndrcv->sinfo_assoc_id = r.rcv_assoc_id;
      }
      if (!peek) {
        if (complete) {
          c.partial_off = 0;
          SockItem done = s.pop();
          // Copied out: its buffer can hold a later large message.
          if (!done.is_notification())
            s.stack->buffers.give(std::move(std::get<0>(done.value).data));
        } else {
          c.partial_off = off + copied;
        }
      }
      return static_cast<ssize_t>(copied);
    }
    switch (s.kind) {
      case SockKind::Listening:
        return fail(ENOTCONN);
      case SockKind::OneToOne: {
        SockAssoc* a = s.only();
        if (!a) return fail(ENOTCONN);
        if (a->terminal || a->peer_shutdown) {
          if (int e = take_error(c)) return fail(e);
          return 0;  // end of data
        }
        break;
      }
      case SockKind::OneToMany:
        break;
    }
    if (!s.open) return fail(EBADF);
    if (!detail::wait_until(*s.stack->rt, s.cv, lock, dl)) return fail(EAGAIN);
  }
}

int wait_connected(CSock& c, Lock& lock, uint32_t id) {
  Status st = c.s->wait_up(lock, id, Deadline::never());
  if (!st.ok()) {
    if (c.s->kind == SockKind::OneToOne) c.failure_reported = true;
    return fail(st);
  }
  return 0;
}

int do_connect(CSock& c, Lock& lock, const std::vector<Addr>& addrs, sctpp_assoc_t* id_out) {
  SockState& s = *c.s;
  if (addrs.empty()) return fail(EINVAL);
  for (const auto& a : addrs)
    if (a.port != addrs.front().port || a.port == 0 || a.ip.is_any()) return fail(EINVAL);
  if (s.kind == SockKind::Listening) return fail(EISCONN);
  if (s.kind == SockKind::OneToOne) {
    if (SockAssoc* a = s.only()) {
      if (a->live() && !a->up) return fail(EALREADY);
      return fail(EISCONN);
    }
  } else if (s.find_peer(SocketAddress{addrs.front().ip, addrs.front().port})) {
    return fail(EISCONN);
  }
  if (autobind(c) < 0) return -1;
  auto r = s.start_assoc(remote_of(c, addrs), addrs.front().port, s.config.init);
  if (!r.ok()) {
    if (r.status().code() == Errc::AddressInUse) return fail(EISCONN);
    return fail(r.status());
  }
  s.flush();
  s.changed();
  if (id_out) *id_out = c_id(*r);
  if (c.nonblock) return fail(EINPROGRESS);
  return wait_connected(c, lock, *r);
}

// What a socket made by accept or peeloff takes over from its parent: the options
// that shape its reads and sends, as kernel SCTP sockets do.
void inherit_settings(const CSock& from, CSock* to) {
  to->recv_rcvinfo = from.recv_rcvinfo;
  to->recv_nxtinfo = from.recv_nxtinfo;
  to->default_snd = from.default_snd;
  to->no_fragments = from.no_fragments;
  to->fragment_interleave = from.fragment_interleave;
}

}  // namespace

// =====================================================================
extern "C" {

int sctpp_init(uint16_t udp_port) {
  Global& G = g();
  std::lock_guard<std::mutex> lock(G.table_mu);
  if (G.stack) return fail(EALREADY);
  StackOptions o = default_stack_options(udp_port);
  auto st = detail::create_stack(o);
  if (!st.ok()) return fail(st.status());
  G.stack = std::move(*st);
  if (G.remote_udp_port == 0) G.remote_udp_port = env_port("SCTPP_REMOTE_UDP_PORT", 9899);
  return 0;
}

int sctpp_udp_port(void) {
  Global& G = g();
  std::lock_guard<std::mutex> lock(G.table_mu);
  if (ensure_stack_locked() < 0) return -1;
  return G.stack->rt->udp_port();
}

int sctpp_set_remote_udp_port(uint16_t port) {
  Global& G = g();
  std::lock_guard<std::mutex> lock(G.table_mu);
  G.remote_udp_port = port;
  return 0;
}

int sctpp_finish(void) {
  Global& G = g();
  std::shared_ptr<StackState> stack;
  std::unordered_map<int, std::shared_ptr<CSock>> table;
  {
    std::lock_guard<std::mutex> lock(G.table_mu);
    stack = std::move(G.stack);
    G.stack.reset();
    table = std::move(G.table);
    G.table.clear();
  }
  if (stack) {
    Lock lock(stack->rt->mutex());
    for (auto& [sd, c] : table) {
      c->s->on_change = nullptr;
      c->s->close(false);
    }
  }
  for (auto& [sd, c] : table) {
    ::close(c->fd);
    ::close(c->peer);
  }
  table.clear();
  stack.reset();  // stops the I/O thread (the last reference once sockets are gone)
  return 0;
}

int sctpp_socket(int domain, int type, int protocol) {
  if (domain != AF_INET && domain != AF_INET6) return fail(EAFNOSUPPORT);
  const bool nonblock = (type & SOCK_NONBLOCK) != 0;
  type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET) return fail(EPROTONOSUPPORT);
  if (protocol != 0 && protocol != IPPROTO_SCTP) return fail(EPROTONOSUPPORT);
  Global& G = g();
  std::shared_ptr<StackState> stack;
  uint16_t remote;
  {
    std::lock_guard<std::mutex> lock(G.table_mu);
    if (ensure_stack_locked() < 0) return -1;
    stack = G.stack;
    remote = G.remote_udp_port;
  }
  auto s = std::make_shared<SockState>();
  s->stack = stack.get();
  s->kind = type == SOCK_STREAM ? SockKind::OneToOne : SockKind::OneToMany;
  s->remote_udp_port = remote;
  s->events = EventSubscription::none();
  s->config.assoc = stack->assoc_config(domain == AF_INET6);
  s->config.init = InitOptions{};
  std::shared_ptr<CSock> c;
  {
    Lock lock(stack->rt->mutex());
    int e = make_csock(stack, s, domain, type, nonblock, &c);
    if (e) return fail(e);
  }
  register_csock(c);
  return c->fd;
}

int sctpp_fd(int sd) {
  return lookup(sd) ? sd : fail(EBADF);
}

int sctpp_fcntl(int sd, int cmd, int arg) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  Lock lock(c->stack->rt->mutex());
  switch (cmd) {
    case F_GETFL:
      return O_RDWR | (c->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
      c->nonblock = (arg & O_NONBLOCK) != 0;
      return 0;
    default:
      return fail(EINVAL);
  }
}

static int bind_list(CSock& c, const std::vector<Addr>& addrs) {
  SockState& s = *c.s;
  uint16_t port = addrs.front().port;
  std::vector<IpAddress> ips;
  bool wildcard = false;
  for (const auto& a : addrs) {
    if (a.port != port) return fail(EINVAL);
    if (a.ip.is_any()) {
      wildcard = true;
      continue;
    }
    if (!is_local(a.ip)) return fail(EADDRNOTAVAIL);
    if (std::find(ips.begin(), ips.end(), a.ip) == ips.end()) ips.push_back(a.ip);
  }
  if (wildcard) ips.clear();
  s.config.local_addresses = ips;
  Status st = s.create_endpoint(port);
  if (!st.ok()) {
    s.config.local_addresses.clear();
    return fail(st);
  }
  s.changed();
  return 0;
}

int sctpp_bind(int sd, const struct sockaddr* addr, socklen_t addrlen) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  Addr a;
  if (int e = parse_sockaddr(addr, addrlen, c->domain, &a)) return fail(e);
  Lock lock(c->stack->rt->mutex());
  if (c->s->bound()) return fail(EINVAL);
  return bind_list(*c, {a});
}

int sctpp_bindx(int sd, struct sockaddr* addrs, int addrcnt, int flags) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  std::vector<Addr> list;
  if (int e = parse_packed(addrs, addrcnt, c->domain, &list)) return fail(e);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  if (flags == SCTP_BINDX_ADD_ADDR) {
    if (!s.bound()) return bind_list(*c, list);
    for (const auto& a : list)
      if (a.port != 0 && a.port != s.port()) return fail(EINVAL);
    if (s.config.local_addresses.empty()) return 0;  // wildcard covers everything
    const EndpointConfig before = s.config;
    for (const auto& a : list) {
      if (a.ip.is_any()) {
        s.config.local_addresses.clear();
        break;
      }
      if (!is_local(a.ip)) return fail(EADDRNOTAVAIL);
      auto& l = s.config.local_addresses;
      if (std::find(l.begin(), l.end(), a.ip) == l.end()) l.push_back(a.ip);
    }
    if (before == s.config) return 0;
    if (!s.assocs.empty() || !s.ctx->owners.empty() || !s.ctx->conns.empty()) {
      s.config = before;
      return fail(EOPNOTSUPP);  // adding addresses to live associations needs ASCONF
    }
    return apply_config(*c, before);
  }
  if (flags == SCTP_BINDX_REM_ADDR) {
    if (!s.bound()) return fail(EINVAL);
    const EndpointConfig before = s.config;
    auto& l = s.config.local_addresses;
    for (const auto& a : list) {
      auto it = std::find(l.begin(), l.end(), a.ip);
      if (it == l.end()) {
        s.config = before;
        return fail(EINVAL);
      }
      l.erase(it);
    }
    if (l.empty()) {  // the last address cannot go
      s.config = before;
      return fail(EINVAL);
    }
    if (!s.assocs.empty() || !s.ctx->owners.empty() || !s.ctx->conns.empty()) {
      s.config = before;
      return fail(EOPNOTSUPP);
    }
    return apply_config(*c, before);
  }
  return fail(EINVAL);
}

int sctpp_listen(int sd, int backlog) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  if (s.kind == SockKind::OneToOne) {
    if (!s.assocs.empty()) return fail(EINVAL);
    s.kind = SockKind::Listening;
  }
  s.backlog = backlog > 0 ? static_cast<size_t>(backlog) : 128;
  if (s.listening) return 0;
  s.listening = true;
  if (!s.bound()) {
    if (s.kind == SockKind::Listening || s.kind == SockKind::OneToMany) {
      Status st = s.create_endpoint(0);
      if (!st.ok()) {
        s.listening = false;
        return fail(st);
      }
    }
  } else {
    if (s.ctx->group == nullptr) s.ctx->group = &s;
    Status st = s.reconfigure();
    if (!st.ok()) {
      s.listening = false;
      return fail(EOPNOTSUPP);  // associations exist: listen() must come first
    }
  }
  s.changed();
  return 0;
}

int sctpp_accept(int sd, struct sockaddr* addr, socklen_t* addrlen) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  std::shared_ptr<CSock> nc;
  {
    Lock lock(c->stack->rt->mutex());
    SockState& s = *c->s;
    if (s.kind == SockKind::OneToMany) return fail(EOPNOTSUPP);
    if (s.kind != SockKind::Listening) return fail(EINVAL);
    auto child = s.accept(lock, deadline_for(*c, 0));
    if (!child.ok()) {
      if (child.status().code() == Errc::Timeout) return fail(EAGAIN);
      if (child.status().code() == Errc::Closed) return fail(EBADF);
      return fail(child.status());
    }
    // Like accept(2): the new socket is blocking whatever the listener is.
    if (int e = make_csock(c->stack, *child, c->domain, SOCK_STREAM, false, &nc)) {
      (*child)->close(false);
      return fail(e);
    }
    inherit_settings(*c, nc.get());
    if (SockAssoc* a = nc->s->only()) copy_out_addr(a->primary.ip, a->peer_port, addr, addrlen);
  }
  register_csock(nc);
  return nc->fd;
}

int sctpp_connect(int sd, const struct sockaddr* addr, socklen_t addrlen) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  Addr a;
  if (int e = parse_sockaddr(addr, addrlen, c->domain, &a)) return fail(e);
  Lock lock(c->stack->rt->mutex());
  return do_connect(*c, lock, {a}, nullptr);
}

int sctpp_connectx(int sd, struct sockaddr* addrs, int addrcnt, sctpp_assoc_t* id) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  std::vector<Addr> list;
  if (int e = parse_packed(addrs, addrcnt, c->domain, &list)) return fail(e);
  Lock lock(c->stack->rt->mutex());
  return do_connect(*c, lock, list, id);
}

int sctpp_peeloff(int sd, sctpp_assoc_t id) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  std::shared_ptr<CSock> nc;
  {
    Lock lock(c->stack->rt->mutex());
    SockState& s = *c->s;
    if (s.kind != SockKind::OneToMany) return fail(EOPNOTSUPP);
    s.reap();
    const uint32_t core = core_id(id);
    if (!s.live(core)) return fail(EINVAL);
    // A message half read from this socket continues on the new one.
    size_t carried = 0;
    if (!s.rq.empty() && s.rq.front().assoc == core) {
      carried = c->partial_off;
      c->partial_off = 0;
    }
    auto child = s.branch(core);
    if (!child) return fail(EINVAL);
    if (int e = make_csock(c->stack, child, c->domain, SOCK_STREAM, false, &nc)) {
      child->close(false);
      return fail(e);
    }
    nc->partial_off = carried;
    inherit_settings(*c, nc.get());
  }
  register_csock(nc);
  return nc->fd;
}

int sctpp_shutdown(int sd, int how) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return fail(EINVAL);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  if (s.kind == SockKind::OneToMany) return fail(EOPNOTSUPP);
  SockAssoc* a = s.only();
  if (!a || s.kind == SockKind::Listening) return fail(ENOTCONN);
  if (how == SHUT_RD) return 0;
  if (a->terminal) return 0;
  Status st = s.shutdown_assoc(a->id.value());
  return st.ok() ? 0 : fail(st);
}

int sctpp_close(int sd) {
  Global& G = g();
  std::shared_ptr<CSock> c;
  {
    std::lock_guard<std::mutex> lock(G.table_mu);
    auto it = G.table.find(sd);
    if (it == G.table.end()) return fail(EBADF);
    c = it->second;
    G.table.erase(it);
  }
  {
    Lock lock(c->stack->rt->mutex());
    c->s->on_change = nullptr;
    c->s->close(!c->linger_abort);
  }
  ::close(c->fd);
  ::close(c->peer);
  return 0;
}

int sctpp_getsockname(int sd, struct sockaddr* addr, socklen_t* addrlen) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (!addr || !addrlen) return fail(EINVAL);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  IpAddress ip =
      s.config.local_addresses.empty()
          ? IpAddress::any(c->domain == AF_INET6 ? IpAddress::Family::V6 : IpAddress::Family::V4)
          : s.config.local_addresses.front();
  copy_out_addr(ip, s.bound() ? s.port() : 0, addr, addrlen);
  return 0;
}

int sctpp_getpeername(int sd, struct sockaddr* addr, socklen_t* addrlen) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (!addr || !addrlen) return fail(EINVAL);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  if (s.kind != SockKind::OneToOne) return fail(ENOTCONN);
  SockAssoc* a = s.only();
  if (!a || !a->live()) return fail(ENOTCONN);
  copy_out_addr(a->primary.ip, a->peer_port, addr, addrlen);
  return 0;
}

int sctpp_getpaddrs(int sd, sctpp_assoc_t id, struct sockaddr** addrs) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (!addrs) return fail(EINVAL);
  Lock lock(c->stack->rt->mutex());
  SockAssoc* a = assoc_for(*c, id);
  if (!a || !a->live()) {
    *addrs = nullptr;
    return 0;
  }
  std::vector<IpAddress> ips;
  for (const auto& p : a->peer_addresses) ips.push_back(p.ip);
  return packed_addresses(ips, a->peer_port, addrs);
}

void sctpp_freepaddrs(struct sockaddr* addrs) {
  std::free(addrs);
}

int sctpp_getladdrs(int sd, sctpp_assoc_t id, struct sockaddr** addrs) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (!addrs) return fail(EINVAL);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  if (!s.bound()) {
    *addrs = nullptr;
    return 0;
  }
  if (id != 0 && s.kind == SockKind::OneToMany && !s.live(core_id(id))) return fail(EINVAL);
  std::vector<IpAddress> ips = s.config.local_addresses;
  if (ips.empty()) ips = host_addresses(c->domain);
  return packed_addresses(ips, s.port(), addrs);
}

void sctpp_freeladdrs(struct sockaddr* addrs) {
  std::free(addrs);
}

ssize_t sctpp_sendv(int sd, const struct iovec* iov, int iovcnt, struct sockaddr* addrs,
                    int addrcnt, void* info, socklen_t infolen, unsigned int infotype, int flags) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (iovcnt < 0 || (iovcnt > 0 && !iov)) return fail(EINVAL);
  std::vector<Addr> to;
  if (addrs && addrcnt > 0) {
    if (int e = parse_packed(addrs, addrcnt, c->domain, &to)) return fail(e);
  } else if (addrcnt < 0) {
    return fail(EINVAL);
  }
  // One buffer: the stack copies the message once more anyway.
  std::vector<uint8_t> gathered;
  std::span<const uint8_t> data;
  if (iovcnt == 1) {
    data = std::span<const uint8_t>(static_cast<const uint8_t*>(iov[0].iov_base), iov[0].iov_len);
  } else {
    for (int i = 0; i < iovcnt; ++i) {
      const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
      gathered.insert(gathered.end(), p, p + iov[i].iov_len);
    }
    data = gathered;
  }
  Lock lock(c->stack->rt->mutex());
  sctpp_sndinfo snd = c->default_snd;
  switch (infotype) {
    case SCTP_SENDV_NOINFO:
      break;
    case SCTP_SENDV_SNDINFO:
      if (!info || infolen < sizeof(sctpp_sndinfo)) return fail(EINVAL);
      std::memcpy(&snd, info, sizeof snd);
      break;
    case SCTP_SENDV_PRINFO: {
      sctpp_prinfo pr;
      if (!read_opt(info, infolen, &pr) || pr.pr_policy != SCTP_PR_SCTP_NONE) return fail(EINVAL);
      break;
    }
    case SCTP_SENDV_SPA: {
      sctpp_sendv_spa spa;
      if (!read_opt(info, infolen, &spa)) return fail(EINVAL);
      if (spa.sendv_flags & SCTP_SEND_SNDINFO_VALID) snd = spa.sendv_sndinfo;
      if ((spa.sendv_flags & SCTP_SEND_PRINFO_VALID) &&
          spa.sendv_prinfo.pr_policy != SCTP_PR_SCTP_NONE)
        return fail(EINVAL);
      if (spa.sendv_flags & SCTP_SEND_AUTHINFO_VALID) return fail(EINVAL);
      break;
    }
    default:  // SCTP_SENDV_AUTHINFO: no AUTH
      return fail(EINVAL);
  }
  return do_send(*c, lock, data, to, snd, flags);
}

ssize_t sctpp_recvv(int sd, const struct iovec* iov, int iovlen, struct sockaddr* from,
                    socklen_t* fromlen, void* info, socklen_t* infolen, unsigned int* infotype,
                    int* flags) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (iovlen < 0 || (iovlen > 0 && !iov)) return fail(EINVAL);
  RecvOut out;
  out.iov = iov;
  out.iovlen = iovlen;
  out.from = from;
  out.fromlen = fromlen;
  out.info = info;
  out.infolen = infolen;
  out.infotype = infotype;
  out.flags = flags;
  const int in_flags = flags ? *flags : 0;
  Lock lock(c->stack->rt->mutex());
  out.rcvinfo = c->recv_rcvinfo;
  out.nxtinfo = c->recv_nxtinfo;
  return do_recv(*c, lock, out, in_flags);
}

ssize_t sctpp_sendmsg(int sd, const void* msg, size_t len, const struct sockaddr* to,
                      socklen_t tolen, uint32_t ppid, uint32_t flags, uint16_t stream_no,
                      uint32_t timetolive, uint32_t context) {
  (void)timetolive;  // PR-SCTP is not implemented: always reliable
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  std::vector<Addr> dest;
  if (to && tolen > 0) {
    Addr a;
    if (int e = parse_sockaddr(to, tolen, c->domain, &a)) return fail(e);
    dest.push_back(a);
  }
  sctpp_sndinfo snd{};
  snd.snd_sid = stream_no;
  snd.snd_flags = static_cast<uint16_t>(flags);
  snd.snd_ppid = ppid;
  snd.snd_context = context;
  Lock lock(c->stack->rt->mutex());
  return do_send(*c, lock, {static_cast<const uint8_t*>(msg), msg ? len : 0}, dest, snd, 0);
}

ssize_t sctpp_recvmsg(int sd, void* msg, size_t len, struct sockaddr* from, socklen_t* fromlen,
                      struct sctpp_sndrcvinfo* sinfo, int* msg_flags) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  iovec iov{msg, len};
  RecvOut out;
  out.iov = &iov;
  out.iovlen = 1;
  out.from = from;
  out.fromlen = fromlen;
  out.flags = msg_flags;
  out.sndrcv = sinfo;
  const int in_flags = msg_flags ? *msg_flags : 0;
  Lock lock(c->stack->rt->mutex());
  return do_recv(*c, lock, out, in_flags);
}

ssize_t sctpp_send(int sd, const void* buf, size_t len, int flags) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  Lock lock(c->stack->rt->mutex());
  if (c->s->kind != SockKind::OneToOne)
    return fail(c->s->kind == SockKind::Listening ? ENOTCONN : EOPNOTSUPP);
  return do_send(*c, lock, {static_cast<const uint8_t*>(buf), buf ? len : 0}, {}, c->default_snd,
                 flags);
}

ssize_t sctpp_recv(int sd, void* buf, size_t len, int flags) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  iovec iov{buf, len};
  RecvOut out;
  out.iov = &iov;
  out.iovlen = 1;
  int fl = flags;
  out.flags = &fl;
  Lock lock(c->stack->rt->mutex());
  return do_recv(*c, lock, out, flags);
}

// ---- socket options ----

int sctpp_setsockopt(int sd, int level, int optname, const void* optval, socklen_t optlen) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  const EndpointConfig before = s.config;
  AssocConfig& ac = s.config.assoc;
  if (level == SOL_SOCKET) {
    int v;
    switch (optname) {
      case SO_RCVBUF:
        if (!read_opt(optval, optlen, &v) || v <= 0) return fail(EINVAL);
        ac.receive_buffer = static_cast<size_t>(std::max(v, 4096));
        s.rq_limit = ac.receive_buffer;
        return apply_config(*c, before);
      case SO_SNDBUF:
        if (!read_opt(optval, optlen, &v) || v <= 0) return fail(EINVAL);
        ac.send_buffer = static_cast<size_t>(std::max(v, 4096));
        return apply_config(*c, before);
      case SO_LINGER: {
        linger l;
        if (!read_opt(optval, optlen, &l)) return fail(EINVAL);
        c->linger_abort = l.l_onoff && l.l_linger == 0;
        return 0;
      }
      default:
        return fail(ENOPROTOOPT);
    }
  }
  if (level != IPPROTO_SCTP) return fail(ENOPROTOOPT);
  switch (optname) {
    case SCTP_INITMSG: {
      sctpp_initmsg m;
      if (!read_opt(optval, optlen, &m)) return fail(EINVAL);
      if (m.sinit_num_ostreams) s.config.init.num_ostreams = m.sinit_num_ostreams;
      if (m.sinit_max_instreams) s.config.init.max_instreams = m.sinit_max_instreams;
      if (m.sinit_max_attempts) s.config.init.max_attempts = m.sinit_max_attempts;
      if (m.sinit_max_init_timeo)
        s.config.init.max_init_timeout = std::chrono::milliseconds(m.sinit_max_init_timeo);
      // Later connects use it even when the endpoint (incoming associations) can
      // no longer change.
      const InitOptions init = s.config.init;
      if (apply_config(*c, before) < 0) s.config.init = init;
      return 0;
    }
    case SCTP_NODELAY: {
      bool on;
      if (read_bool(optval, optlen, &on) < 0) return -1;
      ac.nodelay = on;
      return apply_config(*c, before);
    }
    case SCTP_AUTOCLOSE: {
      int v;
      if (s.kind != SockKind::OneToMany) return fail(EOPNOTSUPP);
      if (!read_opt(optval, optlen, &v) || v < 0) return fail(EINVAL);
      ac.autoclose = std::chrono::seconds(v);
      return apply_config(*c, before);
    }
    case SCTP_RTOINFO: {
      sctpp_rtoinfo r;
      if (!read_opt(optval, optlen, &r)) return fail(EINVAL);
      if (r.srto_initial) ac.rto_initial = milliseconds(r.srto_initial);
      if (r.srto_max) ac.rto_max = milliseconds(r.srto_max);
      if (r.srto_min) ac.rto_min = milliseconds(r.srto_min);
      if (ac.rto_min > ac.rto_max) {
        s.config = before;
        return fail(EINVAL);
      }
      return apply_config(*c, before);
    }
    case SCTP_ASSOCINFO: {
      sctpp_assocparams p;
      if (!read_opt(optval, optlen, &p)) return fail(EINVAL);
      if (p.sasoc_asocmaxrxt) ac.assoc_max_retrans = p.sasoc_asocmaxrxt;
      if (p.sasoc_cookie_life) ac.valid_cookie_life = milliseconds(p.sasoc_cookie_life);
      return apply_config(*c, before);
    }
    case SCTP_PEER_ADDR_PARAMS: {
      sctpp_paddrparams p;
      if (!read_opt(optval, optlen, &p)) return fail(EINVAL);
      if (p.spp_flags & SPP_HB_DISABLE) {
        ac.heartbeat_interval = std::chrono::hours(24);  // the core always heartbeats
      } else if ((p.spp_flags & SPP_HB_ENABLE) || p.spp_hbinterval) {
        if (p.spp_hbinterval) ac.heartbeat_interval = milliseconds(p.spp_hbinterval);
      }
      if (p.spp_pathmaxrxt) ac.path_max_retrans = p.spp_pathmaxrxt;
      if ((p.spp_flags & SPP_PMTUD_DISABLE) && p.spp_pathmtu) {
        if (p.spp_pathmtu < 576) {
          s.config = before;
          return fail(EINVAL);
        }
        ac.path_mtu = p.spp_pathmtu;
      }
      return apply_config(*c, before);
    }
    case SCTP_MAXSEG: {
      uint32_t v;
      if (!read_assoc_value(optval, optlen, &v)) return fail(EINVAL);
      if (v == 0) {
        ac.path_mtu = c->stack->options.tuning.path_mtu;
      } else {
        if (v < 64 || v > 65535) return fail(EINVAL);
        ac.path_mtu = v + ac.transport_overhead + 12 + 16;
      }
      return apply_config(*c, before);
    }
    case SCTP_MAX_BURST: {
      uint32_t v;
      if (!read_assoc_value(optval, optlen, &v) || v > 65535) return fail(EINVAL);
      ac.max_burst = static_cast<int>(v);
      return apply_config(*c, before);
    }
    case SCTP_DELAYED_SACK: {
      sctpp_sack_info si;
      if (!read_opt(optval, optlen, &si)) return fail(EINVAL);
      // RFC 9260 §6.2: the delay "MUST NOT be more than 500 ms".
      if (si.sack_delay > 500 || si.sack_freq > 65535) return fail(EINVAL);
      if (si.sack_delay) ac.delayed_ack = milliseconds(si.sack_delay);
      if (si.sack_freq) ac.sack_freq = static_cast<int>(si.sack_freq);
      return apply_config(*c, before);
    }
    case SCTP_CONTEXT: {
      uint32_t v;
      if (!read_assoc_value(optval, optlen, &v)) return fail(EINVAL);
      c->default_snd.snd_context = v;
      return 0;
    }
    case SCTP_DISABLE_FRAGMENTS:
      return read_bool(optval, optlen, &c->no_fragments);
    case SCTP_FRAGMENT_INTERLEAVE: {
      int v;
      if (!read_opt(optval, optlen, &v) || v < 0 || v > 2) return fail(EINVAL);
      c->fragment_interleave = v;
      return 0;
    }
    case SCTP_DEFAULT_SNDINFO: {
      sctpp_sndinfo d;
      if (!read_opt(optval, optlen, &d)) return fail(EINVAL);
      c->default_snd = d;
      return 0;
    }
    case SCTP_PRIMARY_ADDR: {
      sctpp_setprim p;
      if (!read_opt(optval, optlen, &p)) return fail(EINVAL);
      Addr a;
      if (int e = parse_sockaddr(reinterpret_cast<const sockaddr*>(&p.ssp_addr), 0, c->domain, &a))
        return fail(e);
      SockAssoc* as = assoc_for(*c, p.ssp_assoc_id);
      Endpoint* ep = s.endpoint();
      if (!as || !as->live() || !ep) return fail(EINVAL);
      Status st = ep->set_primary(Clock::now(), as->id, a.ip);
      s.flush();
      return st.ok() ? 0 : fail(EINVAL);
    }
    case SCTP_EVENT: {
      sctpp_event e;
      if (!read_opt(optval, optlen, &e)) return fail(EINVAL);
      if (!set_event(s.events, e.se_type, e.se_on != 0)) return fail(EINVAL);
      return 0;
    }
    case SCTP_EVENTS: {
      sctpp_event_subscribe e{};
      if (!optval || optlen == 0) return fail(EINVAL);
      std::memcpy(&e, optval, std::min<size_t>(optlen, sizeof e));
      c->recv_rcvinfo = e.sctp_data_io_event != 0;
      s.events.association = e.sctp_association_event != 0;
      s.events.address = e.sctp_address_event != 0;
      s.events.send_failure = e.sctp_send_failure_event != 0;
      s.events.remote_error = e.sctp_peer_error_event != 0;
      s.events.shutdown = e.sctp_shutdown_event != 0;
      s.events.sender_dry = e.sctp_sender_dry_event != 0;
      return 0;
    }
    case SCTP_RECVRCVINFO:
      return read_bool(optval, optlen, &c->recv_rcvinfo);
    case SCTP_RECVNXTINFO:
      return read_bool(optval, optlen, &c->recv_nxtinfo);
    case SCTP_REMOTE_UDP_ENCAPS_PORT: {
      sctpp_udpencaps u;
      if (!read_opt(optval, optlen, &u)) return fail(EINVAL);
      if (s.kind == SockKind::OneToMany && u.sue_assoc_id != SCTP_FUTURE_ASSOC)
        return fail(EINVAL);  // a live association learns the port from its peer
      if (s.kind == SockKind::OneToOne && !s.assocs.empty()) return fail(EINVAL);
      uint16_t port = ntohs(u.sue_port);
      if (port == 0) port = g().remote_udp_port.load();
      s.remote_udp_port = port;
      return 0;
    }
    case SCTP_STATUS:
    case SCTP_GET_PEER_ADDR_INFO:
    case SCTP_GET_ASSOC_NUMBER:
    case SCTP_GET_ASSOC_ID_LIST:
      return fail(EINVAL);  // read-only
    default:
      return fail(ENOPROTOOPT);
  }
}

int sctpp_getsockopt(int sd, int level, int optname, void* optval, socklen_t* optlen) {
  auto c = lookup(sd);
  if (!c) return fail(EBADF);
  if (!optval || !optlen) return fail(EINVAL);
  Lock lock(c->stack->rt->mutex());
  SockState& s = *c->s;
  const AssocConfig& ac = s.config.assoc;
  if (level == SOL_SOCKET) {
    switch (optname) {
      case SO_RCVBUF:
        return write_opt(static_cast<int>(ac.receive_buffer), optval, optlen);
      case SO_SNDBUF:
        return write_opt(static_cast<int>(ac.send_buffer), optval, optlen);
      case SO_ERROR:
        return write_opt(take_error(*c), optval, optlen);
      case SO_LINGER: {
        linger l{c->linger_abort ? 1 : 0, 0};
        return write_opt(l, optval, optlen);
      }
      case SO_TYPE:
        return write_opt(c->type, optval, optlen);
      default:
        return fail(ENOPROTOOPT);
    }
  }
  if (level != IPPROTO_SCTP) return fail(ENOPROTOOPT);
  switch (optname) {
    case SCTP_INITMSG: {
      sctpp_initmsg m{};
      m.sinit_num_ostreams = s.config.init.num_ostreams;
      m.sinit_max_instreams = s.config.init.max_instreams;
      m.sinit_max_attempts = s.config.init.max_attempts;
      m.sinit_max_init_timeo = static_cast<uint16_t>(
          std::min<int64_t>(s.config.init.max_init_timeout.count(), UINT16_MAX));
      return write_opt(m, optval, optlen);
    }
    case SCTP_NODELAY:
      return write_opt(ac.nodelay ? 1 : 0, optval, optlen);
    case SCTP_AUTOCLOSE:
      if (s.kind != SockKind::OneToMany) return fail(EOPNOTSUPP);
      return write_opt(
          static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(ac.autoclose).count()),
          optval, optlen);
    case SCTP_RTOINFO: {
      sctpp_rtoinfo r{};
      if (*optlen >= sizeof r) std::memcpy(&r, optval, sizeof r);
      r.srto_initial = ms(ac.rto_initial);
      r.srto_max = ms(ac.rto_max);
      r.srto_min = ms(ac.rto_min);
      return write_opt(r, optval, optlen);
    }
    case SCTP_ASSOCINFO: {
      sctpp_assocparams p{};
      if (*optlen >= sizeof p) std::memcpy(&p, optval, sizeof p);
      p.sasoc_asocmaxrxt = static_cast<uint16_t>(ac.assoc_max_retrans);
      p.sasoc_cookie_life = ms(ac.valid_cookie_life);
      p.sasoc_local_rwnd = static_cast<uint32_t>(ac.receive_buffer);
      p.sasoc_peer_rwnd = 0;
      p.sasoc_number_peer_destinations = 0;
      SockAssoc* a = assoc_for(*c, p.sasoc_assoc_id);
      Endpoint* ep = s.endpoint();
      if (a && a->live() && ep) {
        if (auto info = ep->info(a->id)) {
          p.sasoc_peer_rwnd = static_cast<uint32_t>(std::min<size_t>(info->peer_rwnd, UINT32_MAX));
          p.sasoc_number_peer_destinations = static_cast<uint16_t>(info->paths.size());
        }
      } else if (s.kind == SockKind::OneToMany && p.sasoc_assoc_id > kIdOffset) {
        return fail(EINVAL);
      }
      return write_opt(p, optval, optlen);
    }
    case SCTP_PEER_ADDR_PARAMS: {
      sctpp_paddrparams p{};
      if (*optlen >= sizeof p) std::memcpy(&p, optval, sizeof p);
      p.spp_hbinterval = ms(ac.heartbeat_interval);
      p.spp_pathmaxrxt = static_cast<uint16_t>(ac.path_max_retrans);
      p.spp_pathmtu = static_cast<uint32_t>(ac.path_mtu);
      p.spp_flags =
          (ac.heartbeat_interval >= std::chrono::hours(24) ? SPP_HB_DISABLE : SPP_HB_ENABLE) |
          SPP_PMTUD_DISABLE;
      return write_opt(p, optval, optlen);
    }
    case SCTP_MAXSEG:
      return write_assoc_value(static_cast<uint32_t>(fragmentation_point(ac)), optval, optlen);
    case SCTP_MAX_BURST:
      return write_assoc_value(static_cast<uint32_t>(ac.max_burst), optval, optlen);
    case SCTP_CONTEXT:
      return write_assoc_value(c->default_snd.snd_context, optval, optlen);
    case SCTP_DELAYED_SACK: {
      sctpp_sack_info si{};
      if (*optlen >= sizeof si) std::memcpy(&si, optval, sizeof si);
      si.sack_delay = ms(ac.delayed_ack);
      si.sack_freq = static_cast<uint32_t>(ac.sack_freq);
      return write_opt(si, optval, optlen);
    }
    case SCTP_DISABLE_FRAGMENTS:
      return write_opt(c->no_fragments ? 1 : 0, optval, optlen);
    case SCTP_FRAGMENT_INTERLEAVE:
      return write_opt(c->fragment_interleave, optval, optlen);
    case SCTP_DEFAULT_SNDINFO:
      return write_opt(c->default_snd, optval, optlen);
    case SCTP_PRIMARY_ADDR: {
      sctpp_setprim p{};
      if (*optlen >= sizeof p) std::memcpy(&p, optval, sizeof p);
      SockAssoc* a = assoc_for(*c, p.ssp_assoc_id);
      Endpoint* ep = s.endpoint();
      if (!a || !a->live() || !ep) return fail(EINVAL);
      auto info = ep->info(a->id);
      if (!info) return fail(EINVAL);
      write_sockaddr(info->primary.ip, a->peer_port, &p.ssp_addr);
      p.ssp_assoc_id = c_id(a->id.value());
      return write_opt(p, optval, optlen);
    }
    case SCTP_STATUS: {
      sctpp_status st{};
      if (*optlen >= sizeof st) std::memcpy(&st, optval, sizeof st);
      SockAssoc* a = assoc_for(*c, st.sstat_assoc_id);
      Endpoint* ep = s.endpoint();
      if (!a || !a->live() || !ep) return fail(EINVAL);
      auto info = ep->info(a->id);
      if (!info) return fail(EINVAL);
      st.sstat_assoc_id = c_id(a->id.value());
      st.sstat_state = state_code(info->state);
      st.sstat_rwnd = static_cast<uint32_t>(std::min<size_t>(info->peer_rwnd, UINT32_MAX));
      // RFC 6458 §8.2.1: "the number of unacknowledged DATA chunks" (a count, not bytes).
      st.sstat_unackdata = static_cast<uint16_t>(std::min<size_t>(info->unacked_chunks, 65535));
      st.sstat_penddata = static_cast<uint16_t>(std::min<size_t>(info->pending_receive, 65535));
      st.sstat_instrms = info->inbound_streams;
      st.sstat_outstrms = info->outbound_streams;
      st.sstat_fragmentation_point = static_cast<uint32_t>(fragmentation_point(ac));
      for (const auto& p : info->paths)
        if (p.primary)
          fill_paddrinfo(p, info->peer_port, st.sstat_assoc_id, ac.path_mtu, &st.sstat_primary);
      return write_opt(st, optval, optlen);
    }
    case SCTP_GET_PEER_ADDR_INFO: {
      sctpp_paddrinfo pi;
      if (*optlen < sizeof pi) return fail(EINVAL);
      std::memcpy(&pi, optval, sizeof pi);
      Addr want;
      if (int e = parse_sockaddr(reinterpret_cast<const sockaddr*>(&pi.spinfo_address), 0,
                                 c->domain, &want))
        return fail(e);
      SockAssoc* a = assoc_for(*c, pi.spinfo_assoc_id);
      if (!a && s.kind == SockKind::OneToMany) {
        if (auto id = s.find_peer(SocketAddress{want.ip, want.port})) a = s.find(*id);
      }
      Endpoint* ep = s.endpoint();
      if (!a || !a->live() || !ep) return fail(EINVAL);
      auto info = ep->info(a->id);
      if (!info) return fail(EINVAL);
      for (const auto& p : info->paths) {
        if (p.address.ip == want.ip) {
          fill_paddrinfo(p, info->peer_port, c_id(a->id.value()), ac.path_mtu, &pi);
          return write_opt(pi, optval, optlen);
        }
      }
      return fail(EINVAL);
    }
    case SCTP_EVENT: {
      sctpp_event e;
      if (*optlen < sizeof e) return fail(EINVAL);
      std::memcpy(&e, optval, sizeof e);
      bool on;
      if (!get_event(s.events, e.se_type, &on)) return fail(EINVAL);
      e.se_on = on ? 1 : 0;
      return write_opt(e, optval, optlen);
    }
    case SCTP_EVENTS: {
      sctpp_event_subscribe e{};
      e.sctp_data_io_event = c->recv_rcvinfo;
      e.sctp_association_event = s.events.association;
      e.sctp_address_event = s.events.address;
      e.sctp_send_failure_event = s.events.send_failure;
      e.sctp_peer_error_event = s.events.remote_error;
      e.sctp_shutdown_event = s.events.shutdown;
      e.sctp_sender_dry_event = s.events.sender_dry;
      const socklen_t n = std::min<socklen_t>(*optlen, sizeof e);
      std::memcpy(optval, &e, n);
      *optlen = n;
      return 0;
    }
    case SCTP_RECVRCVINFO:
      return write_opt(c->recv_rcvinfo ? 1 : 0, optval, optlen);
    case SCTP_RECVNXTINFO:
      return write_opt(c->recv_nxtinfo ? 1 : 0, optval, optlen);
    case SCTP_REMOTE_UDP_ENCAPS_PORT: {
      sctpp_udpencaps u{};
      if (*optlen >= sizeof u) std::memcpy(&u, optval, sizeof u);
      u.sue_port = htons(s.remote_udp_port);
      if (SockAssoc* a = assoc_for(*c, u.sue_assoc_id); a && a->live())
        u.sue_port = htons(a->primary.port);  // learned from the peer's packets
      return write_opt(u, optval, optlen);
    }
    case SCTP_GET_ASSOC_NUMBER: {
      if (s.kind != SockKind::OneToMany) return fail(EOPNOTSUPP);
      return write_opt(static_cast<uint32_t>(s.live_count()), optval, optlen);
    }
    case SCTP_GET_ASSOC_ID_LIST: {
      if (s.kind != SockKind::OneToMany) return fail(EOPNOTSUPP);
      std::vector<sctpp_assoc_t> ids;
      for (const auto& [id, a] : s.assocs)
        if (a.live()) ids.push_back(c_id(id));
      const size_t need = sizeof(uint32_t) + ids.size() * sizeof(sctpp_assoc_t);
      if (*optlen < need) return fail(EINVAL);
      auto* out = static_cast<sctpp_assoc_ids*>(optval);
      out->gaids_number_of_ids = static_cast<uint32_t>(ids.size());
      std::memcpy(out->gaids_assoc_id, ids.data(), ids.size() * sizeof(sctpp_assoc_t));
      *optlen = static_cast<socklen_t>(need);
      return 0;
    }
    default:
      return fail(ENOPROTOOPT);
  }
}

int sctpp_opt_info(int sd, sctpp_assoc_t id, int opt, void* arg, socklen_t* size) {
  if (!arg || !size) return fail(EINVAL);
  // Every structure taken here starts with its association id, except these two.
  switch (opt) {
    case SCTP_RTOINFO:
    case SCTP_ASSOCINFO:
    case SCTP_STATUS:
    case SCTP_MAXSEG:
      if (*size >= sizeof(sctpp_assoc_t)) std::memcpy(arg, &id, sizeof id);
      break;
    case SCTP_PRIMARY_ADDR:
      if (*size >= sizeof(sctpp_setprim)) static_cast<sctpp_setprim*>(arg)->ssp_assoc_id = id;
      break;
    case SCTP_GET_PEER_ADDR_INFO:
      if (*size >= sizeof(sctpp_paddrinfo))
        static_cast<sctpp_paddrinfo*>(arg)->spinfo_assoc_id = id;
      break;
    case SCTP_PEER_ADDR_PARAMS:
      if (*size >= sizeof(sctpp_paddrparams))
        static_cast<sctpp_paddrparams*>(arg)->spp_assoc_id = id;
      break;
    case SCTP_EVENT:
      if (*size >= sizeof(sctpp_event)) static_cast<sctpp_event*>(arg)->se_assoc_id = id;
      break;
    default:
      break;
  }
  return sctpp_getsockopt(sd, IPPROTO_SCTP, opt, arg, size);
}

}  // extern "C"
