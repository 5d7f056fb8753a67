/* usrsctp_peer: an SCTP peer built on usrsctp, carried over UDP encapsulation (RFC 6951).
 *
 * Used by run_interop.py to test sctpp against a stack written by others.
 *
 *   usrsctp_peer server --port P --udp-port U [--remote-udp-port R] [options]
 *       Echo server: every message is sent back on the same stream with the same PPID and
 *       the same unordered flag. Prints "listening" on stdout when ready.
 *   usrsctp_peer client --connect ADDR:P --udp-port U --remote-udp-port R [options]
 *       Sends a scenario of messages and checks every echo. Prints one summary line on
 *       stdout; exits 0 only if every echo matched and the association ended as expected.
 *
 * Events go to stderr, one line each. Every run has an overall deadline (--timeout).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <usrsctp.h>

#define BIG_MESSAGE 307200u
#define BUF_BYTES (4 * 1024 * 1024)

enum then_action { THEN_NONE, THEN_SHUTDOWN, THEN_ABORT };
enum end_kind { END_NONE = 0, END_GRACEFUL = 1, END_ABORT = 2 };

struct options {
  int is_server;
  uint16_t port;            /* server: SCTP port to listen on */
  char connect_addr[64];    /* client: peer address */
  uint16_t connect_port;    /* client: peer SCTP port */
  char bind_addr[64];       /* local address to bind (both roles) */
  uint16_t udp_port;        /* local UDP encapsulation port */
  uint16_t remote_udp_port; /* remote UDP encapsulation port (0: not set) */
  int streams;              /* outbound streams requested */
  enum then_action then;
  unsigned after;  /* server: act on --then after this many echoed messages */
  int loop;        /* server: keep accepting associations */
  int seqpacket;   /* use SOCK_SEQPACKET (one-to-many) instead of SOCK_STREAM */
  int expect_end;  /* server: END_NONE (any), END_GRACEFUL or END_ABORT */
  int expect_peer; /* client: peer ends the association this way (END_NONE: we end it) */
  double hold;     /* client: seconds to wait for the peer to end the association */
  double timeout;  /* overall deadline */
  const char* script;
  const char* builtin;
  int debug;
  uint16_t stream;                 /* cat: stream of every message */
  uint32_t ppid;                   /* cat: PPID of every message */
  int unordered;                   /* cat: send unordered */
  unsigned replies;                /* cat: messages to receive before shutting down */
  const char* expect_abort_reason; /* text the peer's ABORT must carry (cause 12 info) */
  int quiet;                       /* no line per echoed message */
  unsigned long count;             /* client throughput: --count M messages ... */
  unsigned long size;              /* ... of --size S bytes, stream 0, PPID 0, ordered */
  unsigned hb_interval_ms;         /* heartbeat interval of every path (0: usrsctp's 30 s) */
};

static struct options opt;
static const char* role = "usrsctp_peer";
/* Printable rendering of the error causes of the last ABORT received (from the ABORT chunk
 * that usrsctp appends to SCTP_COMM_LOST / SCTP_CANT_STR_ASSOC in sac_info). */
static char abort_causes[512];

static void logf_(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", role);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
}

static void debug_printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

static void usage(void) {
  fprintf(
      stderr,
      "usage: usrsctp_peer server --port P --udp-port U [--remote-udp-port R] [--bind A[,A...]]\n"
      "                    [--then shutdown|abort|none] [--after N] [--loop] [--seqpacket]\n"
      "                    [--expect-end shutdown|abort|any] [--streams N] [--timeout S] "
      "[--debug]\n"
      "       usrsctp_peer client --connect ADDR:P --udp-port U --remote-udp-port R [--bind "
      "A[,A...]]\n"
      "                    [--streams N] [--script FILE|--builtin mixed|single|big|small]\n"
      "                    [--then shutdown|abort|none] [--hold S] [--hb-interval MS] "
      "[--expect-peer shutdown|abort]\n"
      "                    [--seqpacket] [--timeout S] [--debug]\n"
      "                    [--count M --size S] (throughput: M messages of S bytes, stream 0)\n"
      "       both: [--expect-abort-reason TEXT] (the peer's ABORT must carry TEXT) "
      "[--quiet]\n");
  exit(2);
}

/* ---- watchdog: never hang forever ---- */

static void* watchdog(void* arg) {
  double secs = *(double*)arg;
  struct timespec ts;
  ts.tv_sec = (time_t)secs;
  ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  fprintf(stderr, "%s: error: timeout after %.1f s\n", role, secs);
  fflush(stderr);
  _exit(3);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- socket setup ---- */

static int set_opt(struct socket* so, int level, int name, const void* val, socklen_t len,
                   const char* what) {
  if (usrsctp_setsockopt(so, level, name, val, len) < 0) {
    logf_("setsockopt %s: %s", what, strerror(errno));
    return -1;
  }
  return 0;
}

static int configure_socket(struct socket* so) {
  const int on = 1;
  const int bufsize = BUF_BYTES;
  if (set_opt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on, "SCTP_RECVRCVINFO") < 0 ||
      set_opt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on, "SCTP_NODELAY") < 0 ||
      set_opt(so, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize, "SO_SNDBUF") < 0 ||
      set_opt(so, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize, "SO_RCVBUF") < 0)
    return -1;

  const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE, SCTP_REMOTE_ERROR,
                             SCTP_SHUTDOWN_EVENT, SCTP_SEND_FAILED_EVENT};
  for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
    struct sctp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.se_assoc_id = SCTP_FUTURE_ASSOC;
    ev.se_type = events[i];
    ev.se_on = 1;
    if (set_opt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev, "SCTP_EVENT") < 0) return -1;
  }

  struct sctp_initmsg init;
  memset(&init, 0, sizeof init);
  init.sinit_num_ostreams = (uint16_t)opt.streams;
  init.sinit_max_instreams = 2048;
  init.sinit_max_attempts = 4;
  init.sinit_max_init_timeo = 1000;
  if (set_opt(so, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init, "SCTP_INITMSG") < 0) return -1;

  if (opt.hb_interval_ms != 0) {
    /* A short interval makes every idle path heartbeat within a test's time. */
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
    pp.spp_hbinterval = opt.hb_interval_ms;
    pp.spp_flags = SPP_HB_ENABLE;
    if (set_opt(so, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp, "SCTP_PEER_ADDR_PARAMS") <
        0)
      return -1;
  }
  if (opt.remote_udp_port != 0) {
    struct sctp_udpencaps enc;
    memset(&enc, 0, sizeof enc);
    struct sockaddr_in* sin = (struct sockaddr_in*)&enc.sue_address;
    sin->sin_family = AF_INET; /* wildcard address: applies to every peer address */
    enc.sue_assoc_id = SCTP_FUTURE_ASSOC;
    enc.sue_port = htons(opt.remote_udp_port);
    if (set_opt(so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc,
                "SCTP_REMOTE_UDP_ENCAPS_PORT") < 0)
      return -1;
  }
  return 0;
}

static int make_addr(const char* addr, uint16_t port, struct sockaddr_in* sin) {
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
    logf_("bad IPv4 address '%s'", addr);
    return -1;
  }
  return 0;
}

/* Binds the socket to every address of --bind (a comma-separated list; several
 * addresses make a multi-homed endpoint: usrsctp_bindx, RFC 6458 §9.1). */
static int bind_local(struct socket* so, uint16_t port) {
  struct sockaddr_in addrs[8];
  int n = 0;
  char list[sizeof opt.bind_addr];
  strcpy(list, opt.bind_addr);
  for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
    if (n == 8 || make_addr(a, port, &addrs[n]) < 0) return -1;
    n++;
  }
  if (n == 0) return -1;
  if (n == 1) return usrsctp_bind(so, (struct sockaddr*)&addrs[0], sizeof addrs[0]);
  /* The first address fixes the port (an ephemeral one for port 0); the others follow. */
  if (usrsctp_bind(so, (struct sockaddr*)&addrs[0], sizeof addrs[0]) < 0) return -1;
  struct sockaddr_in bound;
  struct sockaddr* got = NULL;
  if (usrsctp_getladdrs(so, 0, &got) > 0) {
    memcpy(&bound, got, sizeof bound);
    usrsctp_freeladdrs(got);
    for (int i = 1; i < n; i++) addrs[i].sin_port = bound.sin_port;
  }
  return usrsctp_bindx(so, (struct sockaddr*)&addrs[1], n - 1, SCTP_BINDX_ADD_ADDR);
}

static struct socket* open_socket(void) {
  struct socket* so = usrsctp_socket(AF_INET, opt.seqpacket ? SOCK_SEQPACKET : SOCK_STREAM,
                                     IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (so == NULL) {
    logf_("usrsctp_socket: %s", strerror(errno));
    return NULL;
  }
  if (configure_socket(so) < 0) {
    usrsctp_close(so);
    return NULL;
  }
  return so;
}

/* ---- receiving whole messages ---- */

struct msgbuf {
  char* data;
  size_t len;
  size_t cap;
};

enum recv_result { RECV_DATA, RECV_NOTIFICATION, RECV_EOF, RECV_ERROR };

/* Receives one whole message (accumulating partial deliveries until MSG_EOR). */
static enum recv_result recv_message(struct socket* so, struct msgbuf* buf,
                                     struct sctp_rcvinfo* rcv, int* err) {
  buf->len = 0;
  int have_info = 0;
  for (;;) {
    if (buf->cap - buf->len < 65536) {
      size_t ncap = buf->cap ? buf->cap * 2 : 1024 * 1024;
      char* n = realloc(buf->data, ncap);
      if (n == NULL) {
        logf_("out of memory");
        exit(4);
      }
      buf->data = n;
      buf->cap = ncap;
    }
    struct sctp_rcvinfo info;
    socklen_t infolen = sizeof info;
    unsigned int infotype = 0;
    int flags = 0;
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    memset(&info, 0, sizeof info);
    ssize_t n =
        usrsctp_recvv(so, buf->data + buf->len, buf->cap - buf->len, (struct sockaddr*)&from,
                      &fromlen, &info, &infolen, &infotype, &flags);
    if (n < 0) {
      *err = errno;
      return RECV_ERROR;
    }
    if (n == 0) {
      if (buf->len != 0) logf_("warning: connection closed in the middle of a message");
      return RECV_EOF;
    }
    buf->len += (size_t)n;
    if (!have_info && infotype == SCTP_RECVV_RCVINFO && infolen >= sizeof info) {
      *rcv = info;
      have_info = 1;
    }
    if (flags & MSG_EOR) {
      if (flags & MSG_NOTIFICATION) return RECV_NOTIFICATION;
      if (!have_info) memset(rcv, 0, sizeof *rcv);
      return RECV_DATA;
    }
  }
}

/* Decodes the ABORT chunk usrsctp appends to an SCTP_COMM_LOST notification: logs each
 * error cause and keeps a printable copy in abort_causes. */
static void log_abort_chunk(const uint8_t* p, size_t len) {
  if (len < 4 || p[0] != 6 /* ABORT */) return;
  size_t clen = (size_t)(p[2] << 8 | p[3]);
  if (clen > len) clen = len;
  size_t off = 4;
  abort_causes[0] = '\0';
  size_t used = 0;
  while (off + 4 <= clen) {
    unsigned code = (unsigned)(p[off] << 8 | p[off + 1]);
    size_t l = (size_t)(p[off + 2] << 8 | p[off + 3]);
    if (l < 4 || off + l > clen) break;
    char text[256];
    size_t n = 0;
    for (size_t i = off + 4; i < off + l && n + 1 < sizeof text; i++)
      text[n++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.';
    text[n] = '\0';
    logf_("event: ABORT T=%u cause=%u info='%s'", p[1] & 1u, code, text);
    int w = snprintf(abort_causes + used, sizeof abort_causes - used, "%scause=%u '%s'",
                     used ? "; " : "", code, text);
    if (w > 0 && (size_t)w < sizeof abort_causes - used) used += (size_t)w;
    off += (l + 3) & ~(size_t)3;
  }
  if (off == 4) logf_("event: ABORT T=%u without error causes", p[1] & 1u);
}

/* Logs a notification; returns the association end it signals, if any. *assoc gets its id. */
static int handle_notification(const struct msgbuf* buf, sctp_assoc_t* assoc) {
  const union sctp_notification* n = (const union sctp_notification*)buf->data;
  if (buf->len < sizeof(n->sn_header)) return END_NONE;
  switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      const struct sctp_assoc_change* c = &n->sn_assoc_change;
      *assoc = c->sac_assoc_id;
      switch (c->sac_state) {
        case SCTP_COMM_UP:
          logf_("event: COMM_UP assoc=%u outbound_streams=%u inbound_streams=%u",
                (unsigned)c->sac_assoc_id, c->sac_outbound_streams, c->sac_inbound_streams);
          return END_NONE;
        case SCTP_COMM_LOST:
          logf_("event: COMM_LOST assoc=%u error=%u (abort)", (unsigned)c->sac_assoc_id,
                c->sac_error);
          if (buf->len > sizeof *c) log_abort_chunk(c->sac_info, buf->len - sizeof *c);
          return END_ABORT;
        case SCTP_RESTART:
          logf_("event: RESTART assoc=%u", (unsigned)c->sac_assoc_id);
          return END_NONE;
        case SCTP_SHUTDOWN_COMP:
          logf_("event: SHUTDOWN_COMP assoc=%u", (unsigned)c->sac_assoc_id);
          return END_GRACEFUL;
        case SCTP_CANT_STR_ASSOC:
          logf_("event: CANT_STR_ASSOC assoc=%u", (unsigned)c->sac_assoc_id);
          return END_ABORT;
        default:
          logf_("event: ASSOC_CHANGE state=%u", c->sac_state);
          return END_NONE;
      }
    }
    case SCTP_SHUTDOWN_EVENT:
      *assoc = n->sn_shutdown_event.sse_assoc_id;
      logf_("event: SHUTDOWN_EVENT assoc=%u (peer shut down)",
            (unsigned)n->sn_shutdown_event.sse_assoc_id);
      return END_NONE; /* SHUTDOWN_COMP or EOF follows */
    case SCTP_PEER_ADDR_CHANGE: {
      const struct sctp_paddr_change* p = &n->sn_paddr_change;
      char a[64] = "?";
      if (p->spc_aaddr.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in*)&p->spc_aaddr)->sin_addr, a, sizeof a);
      logf_("event: PEER_ADDR_CHANGE %s state=%u error=%u", a, p->spc_state, p->spc_error);
      return END_NONE;
    }
    case SCTP_REMOTE_ERROR:
      /* usrsctp fills sre_error in host order (cause 8 on the wire arrives as 8). */
      logf_("event: REMOTE_ERROR cause=%u", n->sn_remote_error.sre_error);
      return END_NONE;
    case SCTP_SEND_FAILED_EVENT:
      logf_("event: SEND_FAILED error=%u", n->sn_send_failed_event.ssfe_error);
      return END_NONE;
    default:
      logf_("event: notification type %u", n->sn_header.sn_type);
      return END_NONE;
  }
}

static ssize_t send_message(struct socket* so, const void* data, size_t len, uint16_t sid,
                            uint32_t ppid_net, int unordered, sctp_assoc_t assoc,
                            struct sockaddr* to) {
  struct sctp_sndinfo snd;
  memset(&snd, 0, sizeof snd);
  snd.snd_sid = sid;
  snd.snd_ppid = ppid_net;
  snd.snd_flags = unordered ? SCTP_UNORDERED : 0;
  snd.snd_assoc_id = assoc;
  return usrsctp_sendv(so, data, len, to, to ? 1 : 0, &snd, sizeof snd, SCTP_SENDV_SNDINFO, 0);
}

/* Sends SCTP_EOF/SCTP_ABORT on a one-to-many socket. */
static int send_flag(struct socket* so, sctp_assoc_t assoc, uint16_t flag) {
  struct sctp_sndinfo snd;
  memset(&snd, 0, sizeof snd);
  snd.snd_flags = flag;
  snd.snd_assoc_id = assoc;
  char dummy = 0;
  if (usrsctp_sendv(so, &dummy, 0, NULL, 0, &snd, sizeof snd, SCTP_SENDV_SNDINFO, 0) < 0) {
    logf_("sendv(%s) on assoc %u: %s", flag == SCTP_EOF ? "SCTP_EOF" : "SCTP_ABORT",
          (unsigned)assoc, strerror(errno));
    return -1;
  }
  return 0;
}

static void abort_socket(struct socket* so) {
  struct linger l;
  l.l_onoff = 1;
  l.l_linger = 0;
  set_opt(so, SOL_SOCKET, SO_LINGER, &l, sizeof l, "SO_LINGER");
  usrsctp_close(so); /* sends ABORT */
}

static const char* end_name(int e) {
  return e == END_GRACEFUL ? "shutdown" : e == END_ABORT ? "abort" : "none";
}

/* ---- server ---- */

/* Serves one association on a one-to-one socket; returns how it ended. */
static int serve_stream(struct socket* conn, unsigned* echoed) {
  struct msgbuf buf = {NULL, 0, 0};
  int end = END_NONE;
  int acted = 0;
  for (;;) {
    struct sctp_rcvinfo rcv;
    int err = 0;
    enum recv_result r = recv_message(conn, &buf, &rcv, &err);
    if (r == RECV_EOF) {
      if (end == END_NONE) end = END_GRACEFUL;
      logf_("association closed (%s)", end_name(end));
      break;
    }
    if (r == RECV_ERROR) {
      if (err == ECONNRESET || end == END_ABORT) {
        end = END_ABORT;
        logf_("association aborted by peer (%s)", strerror(err));
      } else {
        logf_("recv error: %s", strerror(err));
        end = END_ABORT;
      }
      break;
    }
    if (r == RECV_NOTIFICATION) {
      sctp_assoc_t a = 0;
      int e = handle_notification(&buf, &a);
      if (e != END_NONE) end = e;
      continue;
    }
    if (acted) continue; /* after our SHUTDOWN we cannot send; just drain */
    ssize_t s = send_message(conn, buf.data, buf.len, rcv.rcv_sid, rcv.rcv_ppid,
                             (rcv.rcv_flags & SCTP_UNORDERED) != 0, 0, NULL);
    if (s < 0) {
      logf_("send error: %s", strerror(errno));
      end = END_ABORT;
      break;
    }
    (*echoed)++;
    if (!opt.quiet)
      logf_("echoed message %u: stream=%u ppid=%u %s len=%zu", *echoed, rcv.rcv_sid,
            ntohl(rcv.rcv_ppid), (rcv.rcv_flags & SCTP_UNORDERED) ? "unordered" : "ordered",
            buf.len);
    if (opt.after != 0 && *echoed >= opt.after && opt.then != THEN_NONE) {
      acted = 1;
      if (opt.then == THEN_ABORT) {
        logf_("aborting the association (SO_LINGER 0 + close)");
        abort_socket(conn);
        free(buf.data);
        return -END_ABORT; /* we aborted; socket is gone */
      }
      logf_("shutting the association down (shutdown SHUT_WR)");
      if (usrsctp_shutdown(conn, SHUT_WR) < 0) logf_("shutdown: %s", strerror(errno));
    }
  }
  free(buf.data);
  usrsctp_close(conn);
  return acted ? -end : end;
}

static int run_server(void) {
  struct socket* ls = open_socket();
  if (ls == NULL) return 1;
  if (bind_local(ls, opt.port) < 0) {
    logf_("bind %s:%u: %s", opt.bind_addr, opt.port, strerror(errno));
    return 1;
  }
  if (usrsctp_listen(ls, 8) < 0) {
    logf_("listen: %s", strerror(errno));
    return 1;
  }
  printf("listening on %s:%u udp %u\n", opt.bind_addr, opt.port, opt.udp_port);
  fflush(stdout);

  int status = 0;
  unsigned echoed = 0;
  if (!opt.seqpacket) {
    do {
      struct sockaddr_in peer;
      socklen_t plen = sizeof peer;
      struct socket* conn = usrsctp_accept(ls, (struct sockaddr*)&peer, &plen);
      if (conn == NULL) {
        logf_("accept: %s", strerror(errno));
        return 1;
      }
      char a[64];
      inet_ntop(AF_INET, &peer.sin_addr, a, sizeof a);
      logf_("accepted association from %s:%u", a, ntohs(peer.sin_port));
      echoed = 0;
      int end = serve_stream(conn, &echoed);
      int by_us = end < 0;
      if (by_us) end = -end;
      logf_("association ended: %s (%s), %u messages echoed", end_name(end),
            by_us ? "initiated here" : "initiated by peer", echoed);
      if (opt.expect_end != END_NONE && end != opt.expect_end) {
        logf_("error: expected the association to end with %s, got %s", end_name(opt.expect_end),
              end_name(end));
        status = 1;
      }
      if (opt.expect_abort_reason != NULL &&
          strstr(abort_causes, opt.expect_abort_reason) == NULL) {
        logf_("error: expected an ABORT carrying '%s', got causes [%s]", opt.expect_abort_reason,
              abort_causes);
        status = 1;
      }
    } while (opt.loop);
    usrsctp_close(ls);
    return status;
  }

  /* One-to-many: one socket, every association on it. */
  struct msgbuf buf = {NULL, 0, 0};
  for (;;) {
    struct sctp_rcvinfo rcv;
    int err = 0;
    enum recv_result r = recv_message(ls, &buf, &rcv, &err);
    if (r == RECV_ERROR) {
      logf_("recv error: %s", strerror(err));
      status = 1;
      break;
    }
    if (r == RECV_EOF) continue;
    if (r == RECV_NOTIFICATION) {
      sctp_assoc_t a = 0;
      int e = handle_notification(&buf, &a);
      if (e != END_NONE) {
        logf_("association %u ended: %s, %u messages echoed", (unsigned)a, end_name(e), echoed);
        if (opt.expect_end != END_NONE && e != opt.expect_end) {
          logf_("error: expected the association to end with %s, got %s", end_name(opt.expect_end),
                end_name(e));
          status = 1;
        }
        echoed = 0;
        if (!opt.loop) break;
      }
      continue;
    }
    if (send_message(ls, buf.data, buf.len, rcv.rcv_sid, rcv.rcv_ppid,
                     (rcv.rcv_flags & SCTP_UNORDERED) != 0, rcv.rcv_assoc_id, NULL) < 0) {
      logf_("send error: %s", strerror(errno));
      continue;
    }
    echoed++;
    logf_("echoed message %u: assoc=%u stream=%u ppid=%u %s len=%zu", echoed,
          (unsigned)rcv.rcv_assoc_id, rcv.rcv_sid, ntohl(rcv.rcv_ppid),
          (rcv.rcv_flags & SCTP_UNORDERED) ? "unordered" : "ordered", buf.len);
    if (opt.after != 0 && echoed == opt.after && opt.then != THEN_NONE) {
      logf_("%s association %u", opt.then == THEN_ABORT ? "aborting" : "shutting down",
            (unsigned)rcv.rcv_assoc_id);
      send_flag(ls, rcv.rcv_assoc_id, opt.then == THEN_ABORT ? SCTP_ABORT : SCTP_EOF);
    }
  }
  free(buf.data);
  usrsctp_close(ls);
  return status;
}

/* ---- client ---- */

struct message {
  uint16_t sid;
  uint32_t ppid; /* host order; sent as htonl(ppid) so the wire carries this value */
  int unordered;
  size_t len;
  char* data;
  int echoed;
};

static struct message* msgs;
static size_t nmsgs;

static void add_message(uint16_t sid, uint32_t ppid, int unordered, size_t len) {
  msgs = realloc(msgs, (nmsgs + 1) * sizeof *msgs);
  if (msgs == NULL) exit(4);
  struct message* m = &msgs[nmsgs];
  m->sid = sid;
  m->ppid = ppid;
  m->unordered = unordered;
  m->len = len;
  m->echoed = 0;
  m->data = malloc(len ? len : 1);
  if (m->data == NULL) exit(4);
  /* Printable, position-dependent pattern, distinct per message. */
  for (size_t j = 0; j < len; j++) m->data[j] = (char)('A' + (j * 7 + nmsgs * 13 + j / 26) % 26);
  char hdr[48];
  int h = snprintf(hdr, sizeof hdr, "m%zu s%u p%u %c|", nmsgs, sid, ppid, unordered ? 'u' : 'o');
  if (h > 0) memcpy(m->data, hdr, (size_t)h < len ? (size_t)h : len);
  nmsgs++;
}

static int build_scenario(void) {
  if (opt.script != NULL) {
    FILE* f = fopen(opt.script, "r");
    if (f == NULL) {
      logf_("cannot open script %s: %s", opt.script, strerror(errno));
      return -1;
    }
    char line[256];
    int lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
      lineno++;
      char* p = line;
      while (*p == ' ' || *p == '\t') p++;
      if (*p == '#' || *p == '\n' || *p == '\0') continue;
      unsigned sid;
      unsigned long ppid;
      char mode;
      unsigned long len;
      if (sscanf(p, "%u %lu %c %lu", &sid, &ppid, &mode, &len) != 4 || sid > 65535 ||
          ppid > 0xFFFFFFFFul || (mode != 'o' && mode != 'u') || len == 0 ||
          len > 16 * 1024 * 1024) {
        logf_("%s:%d: expected 'STREAM PPID o|u LENGTH'", opt.script, lineno);
        fclose(f);
        return -1;
      }
      add_message((uint16_t)sid, (uint32_t)ppid, mode == 'u', len);
    }
    fclose(f);
  } else if (opt.count != 0) {
    for (unsigned long k = 0; k < opt.count; k++) add_message(0, 0, 0, opt.size);
  } else {
    const char* b = opt.builtin ? opt.builtin : "mixed";
    if (strcmp(b, "mixed") == 0) {
      static const size_t sizes[] = {1,    17,   100,  512,  1000,  1200,  1452,
                                     1500, 2000, 4000, 9000, 16384, 65535, 100000};
      for (unsigned k = 0; k < 32; k++) {
        size_t len = sizes[k % (sizeof sizes / sizeof sizes[0])];
        add_message((uint16_t)(k % 8), k % 8, k % 3 == 2, len);
      }
      add_message(5, 0xFFFFFFFFu, 0, 64);
      add_message(3, 51, 0, BIG_MESSAGE);
      add_message(7, 7, 1, 40);
    } else if (strcmp(b, "single") == 0) {
      add_message(0, 0, 0, 32);
    } else if (strcmp(b, "big") == 0) {
      add_message(0, 0, 0, BIG_MESSAGE);
    } else if (strcmp(b, "small") == 0) {
      for (unsigned k = 0; k < 200; k++) add_message((uint16_t)(k % 16), k, k % 2, 20 + k % 50);
    } else {
      logf_("unknown builtin scenario '%s' (mixed, single, big, small)", b);
      return -1;
    }
  }
  if (nmsgs == 0) {
    logf_("scenario has no messages");
    return -1;
  }
  for (size_t i = 0; i < nmsgs; i++) {
    if (msgs[i].sid >= opt.streams) {
      logf_("message %zu uses stream %u but only %d outbound streams were requested", i,
            msgs[i].sid, opt.streams);
      return -1;
    }
  }
  return 0;
}

struct sender_ctx {
  struct socket* so;
  struct sockaddr_in peer;
  int failed;
  int sent;
};

static void* sender(void* arg) {
  struct sender_ctx* ctx = arg;
  for (size_t i = 0; i < nmsgs; i++) {
    struct message* m = &msgs[i];
    ssize_t n = send_message(ctx->so, m->data, m->len, m->sid, htonl(m->ppid), m->unordered, 0,
                             opt.seqpacket ? (struct sockaddr*)&ctx->peer : NULL);
    if (n < 0 || (size_t)n != m->len) {
      logf_("send of message %zu failed: %s", i, n < 0 ? strerror(errno) : "short send");
      ctx->failed = 1;
      return NULL;
    }
    ctx->sent++;
  }
  return NULL;
}

static int match_echo(const struct msgbuf* buf, const struct sctp_rcvinfo* rcv) {
  int unordered = (rcv->rcv_flags & SCTP_UNORDERED) != 0;
  /* Echoes on different streams (and unordered ones) may overtake each other, and the
   * scenario holds messages with equal bytes on different streams: an echo is the first
   * outstanding message with the same bytes *and* the same stream, PPID and flag. Only when
   * none matches, a message with the same bytes names the mismatch. */
  static size_t hint; /* echoes mostly come back in order: try the next one first */
  size_t same_bytes = nmsgs;
  for (size_t k = 0; k < nmsgs; k++) {
    size_t i = (hint + k) % nmsgs;
    struct message* m = &msgs[i];
    if (m->echoed || m->len != buf->len || memcmp(m->data, buf->data, buf->len) != 0) continue;
    if (m->sid != rcv->rcv_sid || htonl(m->ppid) != rcv->rcv_ppid || m->unordered != unordered) {
      if (same_bytes == nmsgs) same_bytes = i;
      continue;
    }
    m->echoed = 1;
    hint = i + 1;
    return (int)i;
  }
  if (same_bytes != nmsgs) {
    const struct message* m = &msgs[same_bytes];
    logf_(
        "error: echo of message %zu came back on stream %u ppid %u %s, sent on stream %u "
        "ppid %u %s",
        same_bytes, rcv->rcv_sid, ntohl(rcv->rcv_ppid), unordered ? "unordered" : "ordered", m->sid,
        m->ppid, m->unordered ? "unordered" : "ordered");
    return -1;
  }
  logf_("error: unexpected or corrupted echo: stream %u ppid %u %s len %zu", rcv->rcv_sid,
        ntohl(rcv->rcv_ppid), unordered ? "unordered" : "ordered", buf->len);
  return -1;
}

static int run_client(void) {
  if (build_scenario() < 0) return 2;
  struct socket* so = open_socket();
  if (so == NULL) return 1;
  struct sockaddr_in peer;
  if (make_addr(opt.connect_addr, opt.connect_port, &peer) < 0) return 2;
  if (bind_local(so, 0) < 0) {
    logf_("bind %s: %s", opt.bind_addr, strerror(errno));
    return 1;
  }
  double t0 = now_s();
  if (usrsctp_connect(so, (struct sockaddr*)&peer, sizeof peer) < 0) {
    logf_("error: connect %s:%u: %s", opt.connect_addr, opt.connect_port, strerror(errno));
    printf("FAIL connect %s\n", strerror(errno));
    return 1;
  }
  logf_("connected to %s:%u in %.1f ms", opt.connect_addr, opt.connect_port, (now_s() - t0) * 1e3);
  double t_up = now_s(), t_last_echo = t_up;

  struct sender_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.so = so;
  ctx.peer = peer;
  pthread_t th;
  if (pthread_create(&th, NULL, sender, &ctx) != 0) {
    logf_("pthread_create failed");
    return 1;
  }

  struct msgbuf buf = {NULL, 0, 0};
  size_t matched = 0;
  int bad = 0;
  int end = END_NONE;
  int shutdown_seen = 0;
  int we_closed = 0;
  size_t bytes = 0;
  int holding = 0;
  int initiated = 0;
  sctp_assoc_t assoc = 0;

  for (;;) {
    if (matched == nmsgs && !initiated && end == END_NONE) {
      /* Every echo is back: end the association the requested way. */
      if (opt.hold > 0 || opt.expect_peer != END_NONE) {
        if (!holding) {
          holding = 1;
          printf("holding\n");
          fflush(stdout);
          logf_("all %zu echoes received; waiting for the peer to end the association", nmsgs);
        }
      } else if (opt.then == THEN_ABORT) {
        logf_("aborting the association");
        if (opt.seqpacket) {
          send_flag(so, assoc, SCTP_ABORT);
        } else {
          abort_socket(so);
          we_closed = 1;
        }
        end = END_ABORT;
        initiated = 1;
        break;
      } else if (opt.then == THEN_SHUTDOWN) {
        logf_("shutting the association down");
        initiated = 1;
        if (opt.seqpacket)
          send_flag(so, assoc, SCTP_EOF);
        else if (usrsctp_shutdown(so, SHUT_WR) < 0)
          logf_("shutdown: %s", strerror(errno));
      } else {
        break;
      }
    }
    struct sctp_rcvinfo rcv;
    int err = 0;
    enum recv_result r = recv_message(so, &buf, &rcv, &err);
    if (r == RECV_EOF) {
      if (end == END_NONE) end = END_GRACEFUL;
      break;
    }
    if (r == RECV_ERROR) {
      if (err == ECONNRESET || end == END_ABORT) {
        end = END_ABORT;
        logf_("association aborted (%s)", strerror(err));
      } else {
        logf_("recv error: %s", strerror(err));
        end = END_ABORT;
      }
      break;
    }
    if (r == RECV_NOTIFICATION) {
      sctp_assoc_t a = 0;
      int e = handle_notification(&buf, &a);
      if (a != 0) assoc = a;
      const union sctp_notification* n = (const union sctp_notification*)buf.data;
      if (n->sn_header.sn_type == SCTP_SHUTDOWN_EVENT) shutdown_seen = 1;
      if (e != END_NONE) {
        end = e;
        if (opt.seqpacket) break; /* no EOF on one-to-many sockets */
      }
      continue;
    }
    if (match_echo(&buf, &rcv) < 0) {
      bad++;
      continue;
    }
    matched++;
    bytes += buf.len;
    if (matched == nmsgs) t_last_echo = now_s();
  }
  if (shutdown_seen && end == END_NONE) end = END_GRACEFUL;
  double secs = now_s() - t0;

  pthread_join(th, NULL);
  if (!we_closed) usrsctp_close(so);
  free(buf.data);

  int ok = 1;
  char why[256] = "";
  if (bad) {
    ok = 0;
    snprintf(why, sizeof why, "%d bad echoes", bad);
  } else if (opt.expect_peer != END_NONE) {
    if (end != opt.expect_peer) {
      ok = 0;
      snprintf(why, sizeof why, "expected the peer to end with %s, got %s",
               end_name(opt.expect_peer), end_name(end));
    } else if (opt.expect_peer == END_GRACEFUL && matched != nmsgs) {
      ok = 0;
      snprintf(why, sizeof why, "graceful end before every echo arrived");
    }
  } else if (matched != nmsgs) {
    ok = 0;
    snprintf(why, sizeof why, "association ended (%s) before every echo arrived", end_name(end));
  } else if (opt.then == THEN_SHUTDOWN && end != END_GRACEFUL) {
    ok = 0;
    snprintf(why, sizeof why, "our graceful shutdown ended with %s", end_name(end));
  }
  if (ctx.failed && ok && opt.expect_peer != END_ABORT) {
    ok = 0;
    snprintf(why, sizeof why, "send failed");
  }
  if (ok && opt.expect_abort_reason != NULL &&
      strstr(abort_causes, opt.expect_abort_reason) == NULL) {
    ok = 0;
    snprintf(why, sizeof why, "expected an ABORT carrying '%s', got causes [%.150s]",
             opt.expect_abort_reason, abort_causes);
  }
  if (opt.count != 0 && matched == nmsgs) {
    double ds = t_last_echo - t_up;
    printf("RESULT impl=usrsctp count=%lu size=%lu seconds=%.4f mbytes_per_s=%.2f\n", opt.count,
           opt.size, ds, (double)opt.count * (double)opt.size / 1e6 / ds);
  }
  printf("%s messages=%zu echoed=%zu bytes=%zu end=%s seconds=%.3f%s%s\n", ok ? "PASS" : "FAIL",
         nmsgs, matched, bytes, end_name(end), secs, why[0] ? " reason=" : "", why);
  fflush(stdout);
  return ok ? 0 : 1;
}

/* ---- cat: a usrsctp reference for `sctpp cat` (lines in, messages out) ---- */

static int run_cat(void) {
  /* Read all of standard input first: one message per line, without its newline. */
  char** lines = NULL;
  size_t* lens = NULL;
  size_t nlines = 0;
  char* line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    if (n > 0 && line[n - 1] == '\n') n--;
    lines = realloc(lines, (nlines + 1) * sizeof *lines);
    lens = realloc(lens, (nlines + 1) * sizeof *lens);
    if (lines == NULL || lens == NULL) exit(4);
    lines[nlines] = malloc((size_t)n + 1);
    if (lines[nlines] == NULL) exit(4);
    memcpy(lines[nlines], line, (size_t)n);
    lens[nlines++] = (size_t)n;
  }
  free(line);

  struct socket* so = open_socket();
  if (so == NULL) return 1;
  struct sockaddr_in peer;
  if (make_addr(opt.connect_addr, opt.connect_port, &peer) < 0) return 2;
  if (bind_local(so, 0) < 0 || usrsctp_connect(so, (struct sockaddr*)&peer, sizeof peer) < 0) {
    fprintf(stderr, "usrsctp_peer cat: error: connect %s:%u: %s\n", opt.connect_addr,
            opt.connect_port, strerror(errno));
    return 1;
  }
  for (size_t i = 0; i < nlines; i++) {
    if (send_message(so, lines[i], lens[i], opt.stream, htonl(opt.ppid), opt.unordered, 0, NULL) <
        0) {
      fprintf(stderr, "usrsctp_peer cat: error: send: %s\n", strerror(errno));
      return 1;
    }
  }
  struct msgbuf buf = {NULL, 0, 0};
  unsigned replies = 0;
  int end = END_NONE, initiated = 0;
  for (;;) {
    if (replies >= opt.replies && !initiated && end == END_NONE) {
      initiated = 1;
      if (usrsctp_shutdown(so, SHUT_WR) < 0) logf_("shutdown: %s", strerror(errno));
    }
    struct sctp_rcvinfo rcv;
    int err = 0;
    enum recv_result r = recv_message(so, &buf, &rcv, &err);
    if (r == RECV_EOF) {
      if (end == END_NONE) end = END_GRACEFUL;
      break;
    }
    if (r == RECV_ERROR) {
      end = END_ABORT;
      break;
    }
    if (r == RECV_NOTIFICATION) {
      sctp_assoc_t a = 0;
      int e = handle_notification(&buf, &a);
      if (e != END_NONE) end = e;
      continue;
    }
    fwrite(buf.data, 1, buf.len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    replies++;
  }
  usrsctp_close(so);
  free(buf.data);
  if (end != END_GRACEFUL) {
    fprintf(stderr, "usrsctp_peer cat: error: association aborted\n");
    return 1;
  }
  if (replies < opt.replies) {
    fprintf(stderr, "usrsctp_peer cat: error: peer closed after %u of %u replies\n", replies,
            opt.replies);
    return 1;
  }
  return 0;
}

/* ---- command line ---- */

static long parse_num(const char* s, long lo, long hi, const char* what) {
  char* end;
  errno = 0;
  long v = strtol(s, &end, 0);
  if (errno || *end != '\0' || v < lo || v > hi) {
    fprintf(stderr, "usrsctp_peer: bad value '%s' for %s\n", s, what);
    usage();
  }
  return v;
}

static long long parse_num64(const char* s, long long hi, const char* what) {
  char* end;
  errno = 0;
  long long v = strtoll(s, &end, 0);
  if (errno || *end != '\0' || v < 0 || v > hi) {
    fprintf(stderr, "usrsctp_peer: bad value '%s' for %s\n", s, what);
    usage();
  }
  return v;
}

static int parse_end(const char* s) {
  if (strcmp(s, "shutdown") == 0) return END_GRACEFUL;
  if (strcmp(s, "abort") == 0) return END_ABORT;
  if (strcmp(s, "any") == 0 || strcmp(s, "none") == 0) return END_NONE;
  fprintf(stderr, "usrsctp_peer: expected shutdown|abort|any, got '%s'\n", s);
  usage();
  return END_NONE;
}

int main(int argc, char** argv) {
  if (argc < 2) usage();
  memset(&opt, 0, sizeof opt);
  strcpy(opt.bind_addr, "127.0.0.1");
  opt.streams = 16;
  opt.then = THEN_NONE;
  opt.timeout = 20;
  int then_given = 0;
  int is_cat = 0;
  if (strcmp(argv[1], "server") == 0) {
    opt.is_server = 1;
    role = "usrsctp_peer server";
  } else if (strcmp(argv[1], "client") == 0) {
    role = "usrsctp_peer client";
  } else if (strcmp(argv[1], "cat") == 0) {
    role = "usrsctp_peer cat";
    is_cat = 1;
  } else {
    usage();
  }
  for (int i = 2; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE                                            \
  do {                                                        \
    if (v == NULL) {                                          \
      fprintf(stderr, "usrsctp_peer: %s needs a value\n", a); \
      usage();                                                \
    }                                                         \
    i++;                                                      \
  } while (0)
    if (strcmp(a, "--port") == 0) {
      NEED_VALUE;
      opt.port = (uint16_t)parse_num(v, 1, 65535, a);
    } else if (strcmp(a, "--udp-port") == 0) {
      NEED_VALUE;
      opt.udp_port = (uint16_t)parse_num(v, 1, 65535, a);
    } else if (strcmp(a, "--remote-udp-port") == 0) {
      NEED_VALUE;
      opt.remote_udp_port = (uint16_t)parse_num(v, 0, 65535, a);
    } else if (strcmp(a, "--connect") == 0) {
      NEED_VALUE;
      const char* colon = strrchr(v, ':');
      if (colon == NULL || (size_t)(colon - v) >= sizeof opt.connect_addr) {
        fprintf(stderr, "usrsctp_peer: --connect expects ADDR:PORT\n");
        usage();
      }
      memcpy(opt.connect_addr, v, (size_t)(colon - v));
      opt.connect_addr[colon - v] = '\0';
      opt.connect_port = (uint16_t)parse_num(colon + 1, 1, 65535, a);
    } else if (strcmp(a, "--bind") == 0) {
      NEED_VALUE;
      if (strlen(v) >= sizeof opt.bind_addr) usage();
      strcpy(opt.bind_addr, v);
    } else if (strcmp(a, "--streams") == 0) {
      NEED_VALUE;
      opt.streams = (int)parse_num(v, 1, 65535, a);
    } else if (strcmp(a, "--then") == 0) {
      NEED_VALUE;
      then_given = 1;
      int e = parse_end(v);
      opt.then = e == END_GRACEFUL ? THEN_SHUTDOWN : e == END_ABORT ? THEN_ABORT : THEN_NONE;
    } else if (strcmp(a, "--after") == 0) {
      NEED_VALUE;
      opt.after = (unsigned)parse_num(v, 0, 1000000000, a);
    } else if (strcmp(a, "--loop") == 0) {
      opt.loop = 1;
    } else if (strcmp(a, "--seqpacket") == 0) {
      opt.seqpacket = 1;
    } else if (strcmp(a, "--expect-end") == 0) {
      NEED_VALUE;
      opt.expect_end = parse_end(v);
    } else if (strcmp(a, "--expect-peer") == 0) {
      NEED_VALUE;
      opt.expect_peer = parse_end(v);
    } else if (strcmp(a, "--hb-interval") == 0) {
      NEED_VALUE;
      opt.hb_interval_ms = (unsigned)parse_num(v, 1, 3600000, a);
    } else if (strcmp(a, "--hold") == 0) {
      NEED_VALUE;
      opt.hold = (double)parse_num(v, 1, 3600, a);
    } else if (strcmp(a, "--timeout") == 0) {
      NEED_VALUE;
      opt.timeout = (double)parse_num(v, 1, 3600, a);
    } else if (strcmp(a, "--script") == 0) {
      NEED_VALUE;
      opt.script = v;
    } else if (strcmp(a, "--builtin") == 0) {
      NEED_VALUE;
      opt.builtin = v;
    } else if (strcmp(a, "--stream") == 0) {
      NEED_VALUE;
      opt.stream = (uint16_t)parse_num(v, 0, 65535, a);
    } else if (strcmp(a, "--ppid") == 0) {
      NEED_VALUE;
      opt.ppid = (uint32_t)parse_num64(v, 0xFFFFFFFFll, a);
    } else if (strcmp(a, "--unordered") == 0) {
      opt.unordered = 1;
    } else if (strcmp(a, "--replies") == 0) {
      NEED_VALUE;
      opt.replies = (unsigned)parse_num(v, 0, 1000000000, a);
    } else if (strcmp(a, "--debug") == 0) {
      opt.debug = 1;
    } else if (strcmp(a, "--expect-abort-reason") == 0) {
      NEED_VALUE;
      opt.expect_abort_reason = v;
    } else if (strcmp(a, "--quiet") == 0) {
      opt.quiet = 1;
    } else if (strcmp(a, "--count") == 0) {
      NEED_VALUE;
      opt.count = (unsigned long)parse_num(v, 1, 100000000, a);
    } else if (strcmp(a, "--size") == 0) {
      NEED_VALUE;
      opt.size = (unsigned long)parse_num(v, 1, 16 * 1024 * 1024, a);
    } else {
      fprintf(stderr, "usrsctp_peer: unknown argument '%s'\n", a);
      usage();
    }
#undef NEED_VALUE
  }
  if (opt.udp_port == 0) {
    fprintf(stderr, "usrsctp_peer: --udp-port is required\n");
    usage();
  }
  if (opt.is_server && opt.port == 0) {
    fprintf(stderr, "usrsctp_peer: server needs --port\n");
    usage();
  }
  if (!opt.is_server) {
    if (opt.connect_port == 0 || opt.remote_udp_port == 0) {
      fprintf(stderr, "usrsctp_peer: client needs --connect and --remote-udp-port\n");
      usage();
    }
    if (opt.hold > 0 && opt.expect_peer == END_NONE) opt.expect_peer = END_GRACEFUL;
    if (!then_given && opt.expect_peer == END_NONE) opt.then = THEN_SHUTDOWN;
  }
  if ((opt.script != NULL) + (opt.builtin != NULL) + (opt.count != 0) > 1) {
    fprintf(stderr, "usrsctp_peer: --script, --builtin and --count are exclusive\n");
    usage();
  }
  if ((opt.count == 0) != (opt.size == 0)) {
    fprintf(stderr, "usrsctp_peer: --count and --size go together\n");
    usage();
  }

  pthread_t wd;
  double deadline = opt.timeout + (opt.hold > 0 ? opt.hold : 0);
  if (pthread_create(&wd, NULL, watchdog, &deadline) != 0) return 1;
  pthread_detach(wd);

  usrsctp_init(opt.udp_port, NULL, opt.debug ? debug_printf : NULL);
  /* Always put a real CRC32c in packets, even on loopback (sctpp rejects zero checksums). */
  usrsctp_sysctl_set_sctp_no_csum_on_loopback(0);
  /* Answer quickly on loopback; no delayed-SACK stalls in short tests. */
  usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
#ifdef SCTP_DEBUG
  if (opt.debug) usrsctp_sysctl_set_sctp_debug_on(SCTP_DEBUG_ALL);
#endif

  int rc = opt.is_server ? run_server() : is_cat ? run_cat() : run_client();

  /* usrsctp_finish fails while associations linger; give them a moment, then exit anyway. */
  for (int i = 0; i < 50 && usrsctp_finish() != 0; i++) usleep(100 * 1000);
  return rc;
}
