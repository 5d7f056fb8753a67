/* usrsctp_perf: the `sctpp perf` workloads on usrsctp (Debian libusrsctp-dev), over UDP
 * encapsulation, for bench/run.sh.
 *
 *   usrsctp_perf --server [--listen ADDR:PORT] [--udp-port N] [--udp-buffer BYTES]
 *   usrsctp_perf --connect ADDR:PORT [--remote-udp-port N] [--udp-port N]
 *                [--mode throughput|latency|connect] [--size BYTES] [--streams N]
 *                [--unordered] [--time SECONDS] [--mtu BYTES] [--json] [--udp-buffer BYTES]
 *
 * Same flags, same payload pattern and check, same JSON fields as `sctpp perf`. Throughput
 * and latency run on the control association itself (control messages carry their own
 * PPID); connect mode opens associations to the same listener, and a last one carrying a
 * STOP message ends the test. The server runs one test at a time. Checksums are computed
 * on loopback too (no_csum_on_loopback = 0), like sctpp.
 *
 * --mtu is the path MTU as sctpp means it: the size of the IP packet, IPv4 and UDP headers
 * included (an SCTP packet of at most MTU - 28 bytes in each UDP datagram). How it is set
 * on usrsctp 0.9.5 matters, see set_mtu_before_assoc(): the client sets it on its socket
 * before it connects, which fixes the MTU of the client's packets (the data, in throughput
 * mode). An association the server accepts starts at 1500 whatever the listener says and
 * can only be lowered (see ACCEPTED_MTU), so the server lowers it to the client's --mtu
 * (sent in the first control message) or leaves it at 1500, and says which in its READY
 * message; the client reports it as "server_mtu" in its JSON. Both ends check the
 * fragmentation point usrsctp reports. A packet usrsctp itself drops because its mbuf
 * chain is too long (see on_usrsctp_printf()) ends the run with an error at once, rather
 * than a silent stall.
 *
 * --udp-buffer (not in `sctpp perf`; default: leave usrsctp's own) sets SO_RCVBUF/SO_SNDBUF
 * of the kernel UDP socket usrsctp opens for encapsulation, see set_udp_buffers(); the
 * client's JSON says which ("udp_buffer", 0 for usrsctp's own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <usrsctp.h>

#define MAGIC 0x46525053u
#define CTL_PPID 0x70657266u
#define DATA_PPID 0x64617461u
#define STOP_PPID 0x73746f70u
enum { MODE_THROUGHPUT = 1, MODE_LATENCY = 2, MODE_CONNECT = 3 };
enum { T_HELLO = 1, T_READY = 2, T_DONE = 3, T_RESULT = 4 };

struct ctl {
  uint32_t magic, type, mode, size, streams, unordered, time_ms, mtu;
  uint64_t a, b, c, d;
};

static struct {
  int server, json, unordered, mode;
  char addr[64];
  uint16_t port, udp_port, remote_udp_port, streams;
  uint32_t size, mtu;
  int udp_buffer;
  double time;
} opt = {.port = 5202,
         .udp_port = 9899,
         .remote_udp_port = 9899,
         .streams = 1,
         .mtu = 1500,
         .time = 10,
         .mode = MODE_THROUGHPUT};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char* fmt, const char* arg) {
  fprintf(stderr, "usrsctp_perf: error: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  exit(1);
}

/* ---- pattern (same as tools/perf_cli.cpp) ---- */
static uint8_t* templ;
static void make_template(size_t size) {
  templ = malloc(size + 8);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < size + 8; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    templ[i] = (uint8_t)(x >> 24);
  }
}
static const uint64_t SEQ_MASK = (1ull << 48) - 1;
static void le_stamp(uint8_t le[8], uint64_t seq, size_t k) {
  uint64_t s = (seq & SEQ_MASK) | ((uint64_t)(k & 0xffff) << 48);
  for (int i = 0; i < 8; i++) le[i] = (uint8_t)(s >> (8 * i));
}
static void stamp(uint8_t* buf, size_t size, uint64_t seq) {
  for (size_t off = 0, k = 0; off < size; off += 512, k++) {
    uint8_t le[8];
    le_stamp(le, seq, k);
    memcpy(buf + off, le, size - off < 8 ? size - off : 8);
  }
}
static int check(const uint8_t* p, size_t size, uint64_t seq) {
  for (size_t off = 0, k = 0; off < size; off += 512, k++) {
    uint8_t le[8];
    le_stamp(le, seq, k);
    size_t block = size - off < 512 ? size - off : 512;
    size_t sl = block < 8 ? block : 8;
    if (memcmp(p + off, le, sl) != 0) return 0;
    if (block > 8 && memcmp(p + off + 8, templ + off + 8, block - 8) != 0) return 0;
  }
  return 1;
}
static uint64_t seq_of(const uint8_t* p, size_t size) {
  uint64_t s = 0;
  for (size_t i = 0; i < size && i < 6; i++) s |= (uint64_t)p[i] << (8 * i);
  return s;
}

/* ---- sockets ---- */

static void setopt(struct socket* so, int level, int name, const void* v, socklen_t len,
                   const char* what) {
  if (usrsctp_setsockopt(so, level, name, v, len) < 0) die("setsockopt %s failed", what);
}

static struct socket* new_socket(uint16_t ostreams) {
  struct socket* so = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (!so) die("usrsctp_socket: %s", strerror(errno));
  const int on = 1, buf = 4 * 1024 * 1024;
  setopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on, "SCTP_RECVRCVINFO");
  setopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY");
  setopt(so, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf, "SO_SNDBUF");
  setopt(so, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf, "SO_RCVBUF");
  struct sctp_initmsg init;
  memset(&init, 0, sizeof init);
  init.sinit_num_ostreams = ostreams;
  init.sinit_max_instreams = 65535;
  setopt(so, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG");
  if (!opt.server) {
    struct sctp_udpencaps enc;
    memset(&enc, 0, sizeof enc);
    ((struct sockaddr_in*)&enc.sue_address)->sin_family = AF_INET;
    enc.sue_assoc_id = SCTP_FUTURE_ASSOC;
    enc.sue_port = htons(opt.remote_udp_port);
    setopt(so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc,
           "SCTP_REMOTE_UDP_ENCAPS_PORT");
  }
  return so;
}

/* How spp_pathmtu maps to packets on usrsctp 0.9.5 (usrsctplib/netinet/sctp_pcb.c,
 * sctp_add_remote_addr(), and the SCTP_PEER_ADDR_PARAMS case of sctp_setopt() in
 * sctp_usrreq.c): the path gets net->mtu = spp_pathmtu + SCTP_MIN_V4_OVERHEAD (IPv4 20 +
 * SCTP common header 12), and for a UDP-encapsulated path net->mtu also leaves out the UDP
 * header, so the IP packet on the wire is spp_pathmtu + 40 bytes. Measured here: with
 * spp_pathmtu = 1500 usrsctp sends 1512-byte UDP payloads (1540-byte IP packets); with
 * 1460 it sends at most 1472 (1500), as sctpp does at --mtu 1500. */
enum { USRSCTP_SPP_OVERHEAD = 20 + 8 + 12 };

/* The fragmentation point (largest DATA payload) a path MTU allows over UDP/IPv4: MTU -
 * IPv4 20 - UDP 8 - SCTP common header 12 - DATA chunk header 16, 4-byte aligned, as sctpp
 * computes it. usrsctp 0.9.5 reports exactly this in SCTP_STATUS when the MTU was set before
 * the association (1444 at 1500, 61384 at 61440). */
static uint32_t expected_frag_point(uint32_t mtu) {
  return (mtu - 20 - 8 - 12 - 16) & ~3u;
}

static void set_paddrparams(struct socket* so, sctp_assoc_t id, uint32_t mtu) {
  struct sctp_paddrparams pp;
  memset(&pp, 0, sizeof pp);
  pp.spp_assoc_id = id;
  ((struct sockaddr_in*)&pp.spp_address)->sin_family = AF_INET; /* wildcard: every path */
  pp.spp_flags = SPP_PMTUD_DISABLE;
  pp.spp_pathmtu = mtu - USRSCTP_SPP_OVERHEAD;
  if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp) < 0) {
    fprintf(stderr, "usrsctp_perf: error: SCTP_PEER_ADDR_PARAMS (mtu %u): %s\n", mtu,
            strerror(errno));
    exit(1);
  }
}

/* The path MTU of the associations this socket will make or accept. It has to be set
 * before the association exists: only then does usrsctp size its fragmentation point
 * (asoc.smallest_mtu, taken from the first path in sctp_add_remote_addr()) from it. Set on
 * an established association, SCTP_PEER_ADDR_PARAMS raises net->mtu but never raises
 * smallest_mtu (sctp_pathmtu_adjustment() is only called to lower it), so the
 * fragmentation point stays at the 1500-byte default (1444) while packets are filled up to
 * the new MTU with 1444-byte fragments. That is what made the peer stall at large MTUs: a
 * packet of many fragments is a chain of more than 32 mbufs, which
 * sctp_userspace_ip_output() (user_socket.c, MAXLEN_MBUF_CHAIN 32) drops without a word,
 * and the retransmission of the same chunks is dropped again. */
static void set_mtu_before_assoc(struct socket* so, uint32_t mtu) {
  set_paddrparams(so, SCTP_FUTURE_ASSOC, mtu);
}

/* Lowers the path MTU of the socket's (established) association: lowering does move the
 * fragmentation point (sctp_pathmtu_adjustment()); raising it would not, see above. */
static void lower_mtu(struct socket* so, uint32_t mtu) {
  set_paddrparams(so, 0, mtu);
}

/* 0 if usrsctp fragments at the point the MTU implies, else -1 with a message. */
static int check_mtu(struct socket* so, uint32_t mtu, const char* who) {
  struct sctp_status st;
  socklen_t len = sizeof st;
  memset(&st, 0, sizeof st);
  if (usrsctp_getsockopt(so, IPPROTO_SCTP, SCTP_STATUS, &st, &len) < 0) {
    fprintf(stderr, "usrsctp_perf: %s: SCTP_STATUS: %s\n", who, strerror(errno));
    return -1;
  }
  if (st.sstat_fragmentation_point != expected_frag_point(mtu)) {
    fprintf(stderr,
            "usrsctp_perf: error: %s: path MTU %u: usrsctp fragments at %u bytes, "
            "expected %u\n",
            who, mtu, st.sstat_fragmentation_point, expected_frag_point(mtu));
    return -1;
  }
  return 0;
}

/* usrsctp's own messages (SCTP_PRINTF; usrsctp_init's debug_printf). One of them means a
 * packet was lost inside usrsctp: sctp_userspace_ip_output() copies a packet's mbuf chain
 * into at most MAXLEN_MBUF_CHAIN (32) iovecs for sendmsg() on its UDP socket and drops a
 * longer chain with "mbuf chain couldn't be copied completely". Its data mbufs hold at
 * most MCLBYTES (2048) bytes each, often less, so large packets can need more than 32.
 * The retransmission is usually the same chain, dropped again: the association stalls.
 * Stop at once with the reason instead. */
static void on_usrsctp_printf(const char* format, ...) {
  char line[512];
  va_list ap;
  va_start(ap, format);
  vsnprintf(line, sizeof line, format, ap);
  va_end(ap);
  fprintf(stderr, "usrsctp_perf: usrsctp says: %s%s", line,
          line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
  if (strstr(line, "mbuf chain couldn't be copied")) {
    fprintf(stderr,
            "usrsctp_perf: error: usrsctp dropped an outgoing packet of more than 32 "
            "mbufs (MAXLEN_MBUF_CHAIN in sctp_userspace_ip_output); path MTU %u is "
            "too large for usrsctp over UDP with %u-byte messages\n",
            opt.mtu, opt.size);
    fflush(stderr);
    _exit(4);
  }
}

static void send_msg(struct socket* so, const void* p, size_t n, uint16_t stream, int unordered,
                     uint32_t ppid) {
  struct sctp_sndinfo si;
  memset(&si, 0, sizeof si);
  si.snd_sid = stream;
  si.snd_flags = unordered ? SCTP_UNORDERED : 0;
  si.snd_ppid = htonl(ppid);
  while (usrsctp_sendv(so, p, n, NULL, 0, &si, sizeof si, SCTP_SENDV_SNDINFO, 0) < 0) {
    if (errno == EINTR || errno == EAGAIN) continue;
    die("usrsctp_sendv: %s", strerror(errno));
  }
}

struct msg {
  uint8_t* data;
  size_t len, cap;
  uint16_t stream;
  uint32_t ppid;
  int unordered;
};

/* 1 = message, 0 = end of association, -1 = error. */
static int recv_msg(struct socket* so, struct msg* m) {
  m->len = 0;
  for (;;) {
    if (m->cap - m->len < 65536) {
      m->cap = m->cap ? m->cap * 2 : 1 << 20;
      m->data = realloc(m->data, m->cap);
    }
    struct sctp_rcvinfo ri;
    socklen_t rilen = sizeof ri;
    unsigned int infotype = 0;
    int flags = 0;
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    ssize_t n = usrsctp_recvv(so, m->data + m->len, m->cap - m->len, (struct sockaddr*)&from,
                              &fromlen, &ri, &rilen, &infotype, &flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return 0;
    if (flags & MSG_NOTIFICATION) {
      if (flags & MSG_EOR) m->len = 0;
      continue;
    }
    if (m->len == 0 && infotype == SCTP_RECVV_RCVINFO) {
      m->stream = ri.rcv_sid;
      m->ppid = ntohl(ri.rcv_ppid);
      m->unordered = (ri.rcv_flags & SCTP_UNORDERED) != 0;
    }
    m->len += (size_t)n;
    if (flags & MSG_EOR) return 1;
  }
}

static int recv_ctl(struct socket* so, struct msg* m, struct ctl* c) {
  int r;
  while ((r = recv_msg(so, m)) == 1) {
    if (m->ppid == CTL_PPID && m->len == sizeof *c) {
      memcpy(c, m->data, sizeof *c);
      return c->magic == MAGIC ? 1 : -1;
    }
  }
  return r;
}

/* ---- server ---- */

/* The path MTU every association the server accepts starts at on usrsctp 0.9.5: the
 * default (SCTP_DEFAULT_MTU), or the listener's SCTP_PEER_ADDR_PARAMS if smaller; a larger
 * one is not taken (measured: a listener set to 3000 gives accepted associations 1500, one
 * set to 1200 gives 1200). Only lowering works afterwards. So at a client --mtu above 1500
 * the server's own packets (SACKs and control messages in throughput mode, the echoes in
 * latency mode) stay within 1500 bytes, fragmented at 1444; raising only net->mtu with
 * SCTP_PEER_ADDR_PARAMS would bundle those fragments into packets usrsctp may drop (see
 * set_mtu_before_assoc()). */
enum { ACCEPTED_MTU = 1500 };

static void serve(struct socket* listener) {
  struct msg m = {0};
  for (;;) {
    struct socket* so = usrsctp_accept(listener, NULL, NULL);
    if (!so) continue;
    struct ctl hello;
    if (recv_ctl(so, &m, &hello) != 1 || hello.type != T_HELLO) {
      usrsctp_close(so);
      continue;
    }
    uint32_t server_mtu = hello.mtu < ACCEPTED_MTU ? hello.mtu : ACCEPTED_MTU;
    opt.mtu = server_mtu;
    opt.size = hello.size;
    if (hello.mtu < ACCEPTED_MTU) lower_mtu(so, hello.mtu);
    if (check_mtu(so, server_mtu, "server") < 0) {
      usrsctp_close(so);
      continue;
    }
    if (server_mtu != hello.mtu)
      fprintf(stderr,
              "usrsctp_perf: server: the client sends at path MTU %u, the server at %u "
              "(usrsctp cannot raise an accepted association)\n",
              hello.mtu, server_mtu);
    struct ctl ready = {.magic = MAGIC, .type = T_READY, .mtu = server_mtu};
    send_msg(so, &ready, sizeof ready, 0, 0, CTL_PPID);
    double t0 = now_s(), tlast = t0;
    uint64_t msgs = 0, bytes = 0, errors = 0, expect = UINT64_MAX;
    if (hello.mode == MODE_CONNECT) {
      for (;;) {
        struct socket* c = usrsctp_accept(listener, NULL, NULL);
        if (!c) continue;
        int r = recv_msg(c, &m);
        if (r == 1 && m.ppid == STOP_PPID) {
          usrsctp_close(c);
          break;
        }
        usrsctp_close(c);
        msgs++;
      }
      struct ctl done;
      if (recv_ctl(so, &m, &done) != 1) errors++;
    } else {
      make_template(hello.size);
      uint16_t streams = hello.streams ? (uint16_t)hello.streams : 1;
      uint64_t* next = calloc(streams, sizeof *next);
      for (uint16_t s = 0; s < streams; s++) next[s] = s;
      while (msgs < expect) {
        int r = recv_msg(so, &m);
        if (r != 1) {
          errors++;
          break;
        }
        if (m.ppid == CTL_PPID && m.len == sizeof(struct ctl)) {
          struct ctl done;
          memcpy(&done, m.data, sizeof done);
          expect = done.a;
          continue;
        }
        msgs++;
        bytes += m.len;
        tlast = now_s();
        if (hello.mode == MODE_LATENCY) {
          send_msg(so, m.data, m.len, m.stream, m.unordered, m.ppid);
          continue;
        }
        int ok = m.len == hello.size;
        if (ok && hello.unordered) {
          uint64_t s = seq_of(m.data, m.len);
          ok = check(m.data, m.len, s);
        } else if (ok) {
          ok = m.stream < streams && check(m.data, m.len, next[m.stream]);
          if (m.stream < streams) next[m.stream] += streams;
        }
        if (!ok) errors++;
      }
      free(next);
      free(templ);
    }
    struct ctl res = {.magic = MAGIC,
                      .type = T_RESULT,
                      .a = msgs,
                      .b = bytes,
                      .c = (uint64_t)((tlast - t0) * 1e9),
                      .d = errors};
    send_msg(so, &res, sizeof res, 0, 0, CTL_PPID);
    fprintf(stderr,
            "usrsctp_perf: mode %u size %u streams %u mtu %u: %" PRIu64 " (%" PRIu64 " errors)\n",
            hello.mode, hello.size, hello.streams, hello.mtu, msgs, errors);
    while (recv_msg(so, &m) == 1) {
    }
    usrsctp_close(so);
  }
}

/* ---- client ---- */

static struct sockaddr_in server_addr;

static struct socket* connect_one(uint16_t ostreams) {
  struct socket* so = new_socket(ostreams);
  struct sockaddr_in local;
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  if (usrsctp_bind(so, (struct sockaddr*)&local, sizeof local) < 0)
    die("usrsctp_bind: %s", strerror(errno));
  set_mtu_before_assoc(so, opt.mtu);
  if (usrsctp_connect(so, (struct sockaddr*)&server_addr, sizeof server_addr) < 0)
    die("usrsctp_connect: %s", strerror(errno));
  return so;
}

static void close_gracefully(struct socket* so, struct msg* m) {
  usrsctp_shutdown(so, SHUT_WR);
  while (recv_msg(so, m) == 1) {
  }
  usrsctp_close(so);
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static int client(void) {
  struct msg m = {0};
  struct socket* so = connect_one(opt.streams);
  if (check_mtu(so, opt.mtu, "client") < 0) exit(1);
  struct ctl hello = {.magic = MAGIC,
                      .type = T_HELLO,
                      .mode = (uint32_t)opt.mode,
                      .size = opt.size,
                      .streams = opt.streams,
                      .unordered = (uint32_t)opt.unordered,
                      .time_ms = (uint32_t)(opt.time * 1000),
                      .mtu = opt.mtu};
  send_msg(so, &hello, sizeof hello, 0, 0, CTL_PPID);
  struct ctl ready;
  if (recv_ctl(so, &m, &ready) != 1 || ready.type != T_READY)
    die("no answer from the %s", "server");
  uint32_t server_mtu = ready.mtu;
  make_template(opt.size);
  uint8_t* buf = malloc(opt.size);
  memcpy(buf, templ, opt.size);
  double t0 = now_s(), end = t0 + opt.time, next_report = t0 + 1, last_t = t0;
  uint64_t seq = 0, last_seq = 0;
  double* rtts = NULL;
  size_t nrtt = 0, caprtt = 0;
  for (;;) {
    double now = now_s();
    if (now >= next_report && !opt.json) {
      double d = now - last_t;
      if (opt.mode == MODE_THROUGHPUT)
        printf("[%6.2f-%6.2f s] sent %10.2f MB  %9.2f MB/s\n", last_t - t0, now - t0,
               (double)((seq - last_seq) * opt.size) / 1e6,
               (double)((seq - last_seq) * opt.size) / 1e6 / d);
      else
        printf("[%6.2f-%6.2f s] %8" PRIu64 " %s/s\n", last_t - t0, now - t0,
               (uint64_t)((double)(seq - last_seq) / d),
               opt.mode == MODE_LATENCY ? "round trips" : "setups+shutdowns");
      fflush(stdout);
      last_t = now;
      last_seq = seq;
      next_report += 1;
    }
    if (now >= end) break;
    if (opt.mode == MODE_THROUGHPUT) {
      stamp(buf, opt.size, seq);
      send_msg(so, buf, opt.size, (uint16_t)(seq % opt.streams), opt.unordered, DATA_PPID);
    } else if (opt.mode == MODE_LATENCY) {
      stamp(buf, opt.size, seq);
      double s = now_s();
      send_msg(so, buf, opt.size, (uint16_t)(seq % opt.streams), opt.unordered, DATA_PPID);
      if (recv_msg(so, &m) != 1) die("no echo%s", "");
      double e = now_s();
      if (m.len != opt.size || !check(m.data, m.len, seq)) die("echo mismatch%s", "");
      if (nrtt == caprtt)
        rtts = realloc(rtts, (caprtt = caprtt ? caprtt * 2 : 65536) * sizeof *rtts);
      rtts[nrtt++] = (e - s) * 1e6;
    } else {
      struct socket* c = connect_one(1);
      close_gracefully(c, &m);
    }
    seq++;
  }
  double elapsed = now_s() - t0;
  if (opt.mode == MODE_CONNECT) {
    struct socket* c = connect_one(1);
    send_msg(c, "stop", 4, 0, 0, STOP_PPID);
    close_gracefully(c, &m);
  }
  struct ctl done = {.magic = MAGIC, .type = T_DONE, .a = seq};
  send_msg(so, &done, sizeof done, 0, 0, CTL_PPID);
  struct ctl res;
  if (recv_ctl(so, &m, &res) != 1 || res.type != T_RESULT) die("no result from the %s", "server");
  close_gracefully(so, &m);

  char mbps[32] = "null", mps[32] = "null", p50[32] = "null", p99[32] = "null", aps[32] = "null";
  uint64_t messages = seq, bytes = seq * opt.size;
  double seconds = elapsed;
  if (opt.mode == MODE_THROUGHPUT) {
    messages = res.a;
    bytes = res.b;
    seconds = (double)res.c / 1e9;
    snprintf(mbps, sizeof mbps, "%.3f", (double)bytes / seconds / 1e6);
    snprintf(mps, sizeof mps, "%.1f", (double)messages / seconds);
  } else if (opt.mode == MODE_LATENCY) {
    qsort(rtts, nrtt, sizeof *rtts, cmp_double);
    snprintf(p50, sizeof p50, "%.2f", rtts[nrtt / 2]);
    size_t i99 = (size_t)ceil((double)nrtt * 0.99);
    snprintf(p99, sizeof p99, "%.2f", rtts[i99 ? i99 - 1 : 0]);
  } else {
    bytes = 0;
    snprintf(aps, sizeof aps, "%.1f", (double)seq / elapsed);
  }
  uint64_t errors = res.d + (opt.mode != MODE_CONNECT && res.a != seq) +
                    (opt.mode == MODE_CONNECT && res.a != seq);
  const char* modes[] = {"", "throughput", "latency", "connect"};
  if (opt.json) {
    printf(
        "{\"mode\":\"%s\",\"transport\":\"usrsctp\",\"size\":%u,\"streams\":%u,"
        "\"unordered\":%s,\"mtu\":%u,\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
        ",\"seconds\":%.6f,\"mbytes_per_s\":%s,\"messages_per_s\":%s,\"rtt_p50_us\":%s,"
        "\"rtt_p99_us\":%s,\"assoc_per_s\":%s,\"sent\":%" PRIu64 ",\"errors\":%" PRIu64
        ",\"server_mtu\":%u,\"udp_buffer\":%d}\n",
        modes[opt.mode], opt.size, opt.streams, opt.unordered ? "true" : "false", opt.mtu, messages,
        bytes, seconds, mbps, mps, p50, p99, aps, seq, errors, server_mtu, opt.udp_buffer);
  } else {
    printf("%s: %" PRIu64 " messages, %" PRIu64
           " bytes, %.2f s, MB/s %s, p50 %s us, p99 %s us, "
           "assoc/s %s, errors %" PRIu64 "\n",
           modes[opt.mode], messages, bytes, seconds, mbps, p50, p99, aps, errors);
  }
  fflush(stdout);
  return errors ? 1 : 0;
}

/* ---- main ---- */

static int parse_addr(const char* text, char* addr, uint16_t* port) {
  const char* colon = strrchr(text, ':');
  if (!colon || (size_t)(colon - text) >= 64) return -1;
  memcpy(addr, text, (size_t)(colon - text));
  addr[colon - text] = 0;
  *port = (uint16_t)atoi(colon + 1);
  return *port ? 0 : -1;
}

/* usrsctp opens its UDP encapsulation sockets itself in usrsctp_init() and gives them
 * SO_RCVBUF = SO_SNDBUF = SB_RAW, 128 KiB (user_recv_thread.c, recv_thread_init();
 * user_socketvar.h), which Linux doubles to 256 KiB: about four datagrams of 61 KB. There
 * is no API to change that, so this finds the sockets (UDP, bound to our port) and sets
 * them like sctpp's own UDP socket (4 MiB, SO_*BUFFORCE first). For experiments: at large
 * path MTUs the receiving side's kernel drops datagrams (Udp RcvbufErrors) with usrsctp's
 * 256 KiB and none with 4 MiB. */
static void set_udp_buffers(int bytes) {
  int n = 0;
  for (int fd = 0; fd < 1024; fd++) {
    int type = 0, proto = 0;
    socklen_t tl = sizeof type, pl = sizeof proto;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM) continue;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) < 0 || proto != IPPROTO_UDP) continue;
    if (getsockname(fd, (struct sockaddr*)&ss, &sl) < 0) continue;
    uint16_t port = ss.ss_family == AF_INET6 ? ((struct sockaddr_in6*)&ss)->sin6_port
                                             : ((struct sockaddr_in*)&ss)->sin_port;
    if (ntohs(port) != usrsctp_sysctl_get_sctp_udp_tunneling_port()) continue;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    n++;
  }
  if (n == 0) die("--udp-buffer: usrsctp's UDP socket not found%s", "");
}

static void usage(void) {
  fprintf(stderr,
          "usage: usrsctp_perf --server [--listen ADDR:PORT] [--udp-port N] [--udp-buffer B]\n"
          "       usrsctp_perf --connect ADDR:PORT [--remote-udp-port N] [--udp-port N]"
          " [--mode throughput|latency|connect] [--size B] [--streams N] [--unordered]"
          " [--time S] [--mtu B] [--json] [--udp-buffer B]\n");
  exit(2);
}

static void* watchdog(void* arg) {
  (void)arg;
  usleep((useconds_t)((opt.time + 60) * 1e6));
  fprintf(stderr, "usrsctp_perf: error: no result in time\n");
  _exit(3);
  return NULL;
}

int main(int argc, char** argv) {
  int have_udp = 0;
  strcpy(opt.addr, "127.0.0.1");
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL() (v ? (i++, v) : (usage(), ""))
    if (!strcmp(a, "--server"))
      opt.server = 1;
    else if (!strcmp(a, "--json"))
      opt.json = 1;
    else if (!strcmp(a, "--unordered"))
      opt.unordered = 1;
    else if (!strcmp(a, "--listen") || !strcmp(a, "--connect")) {
      if (parse_addr(VAL(), opt.addr, &opt.port) < 0) usage();
    } else if (!strcmp(a, "--udp-port"))
      opt.udp_port = (uint16_t)atoi(VAL()), have_udp = 1;
    else if (!strcmp(a, "--remote-udp-port"))
      opt.remote_udp_port = (uint16_t)atoi(VAL());
    else if (!strcmp(a, "--udp-buffer"))
      opt.udp_buffer = atoi(VAL());
    else if (!strcmp(a, "--size"))
      opt.size = (uint32_t)atoi(VAL());
    else if (!strcmp(a, "--streams"))
      opt.streams = (uint16_t)atoi(VAL());
    else if (!strcmp(a, "--time"))
      opt.time = atof(VAL());
    else if (!strcmp(a, "--mtu"))
      opt.mtu = (uint32_t)atoi(VAL());
    else if (!strcmp(a, "--mode")) {
      const char* mv = VAL();
      opt.mode = !strcmp(mv, "latency")      ? MODE_LATENCY
                 : !strcmp(mv, "connect")    ? MODE_CONNECT
                 : !strcmp(mv, "throughput") ? MODE_THROUGHPUT
                                             : (usage(), 0);
    } else
      usage();
  }
  if (!opt.size) opt.size = opt.mode == MODE_LATENCY ? 64 : 1024;
  if (!opt.server && !have_udp) opt.udp_port = 0;
  if (!opt.streams) usage();
  /* 65535: the largest IPv4 packet (a UDP payload of 65507); 576: sctpp's smallest. */
  if (opt.mtu < 576 || opt.mtu > 65535) usage();

  /* usrsctp_init with port 0 would disable UDP encapsulation: pick a free port. */
  usrsctp_init(opt.udp_port ? opt.udp_port : (uint16_t)(20000 + getpid() % 40000), NULL,
               on_usrsctp_printf);
  usrsctp_sysctl_set_sctp_no_csum_on_loopback(0);
  usrsctp_sysctl_set_sctp_blackhole(2);
  if (opt.udp_buffer > 0) set_udp_buffers(opt.udp_buffer);

  memset(&server_addr, 0, sizeof server_addr);
  server_addr.sin_family = AF_INET;
  server_addr.sin_port = htons(opt.port);
  if (inet_pton(AF_INET, opt.addr, &server_addr.sin_addr) != 1) usage();

  if (opt.server) {
    struct socket* l = new_socket(65535);
    if (usrsctp_bind(l, (struct sockaddr*)&server_addr, sizeof server_addr) < 0)
      die("usrsctp_bind: %s", strerror(errno));
    if (usrsctp_listen(l, 1024) < 0) die("usrsctp_listen: %s", strerror(errno));
    printf("listening on %s:%u (usrsctp over udp %u)\n", opt.addr, opt.port, opt.udp_port);
    fflush(stdout);
    serve(l);
    return 0;
  }
  pthread_t wd;
  pthread_create(&wd, NULL, watchdog, NULL);
  int rc = client();
  fflush(stdout);
  _exit(rc);
}
