/* usrsctp_many: memory per idle association on usrsctp (Debian libusrsctp-dev), the
 * same measurement as many_assoc --mode idle, for bench/run.sh.
 *
 *   usrsctp_many --server [--listen ADDR:PORT] [--udp-port N]
 *   usrsctp_many --connect ADDR:PORT --remote-udp-port N --assocs N
 *
 * The server is ONE one-to-many socket (SOCK_SEQPACKET) that takes every association
 * and answers "MARK" on a control association with its VmRSS and the number of live
 * associations (from SCTP_ASSOC_CHANGE). The client marks, sets up N associations
 * from N sockets (one per client endpoint), waits until the server has them all,
 * lets it settle for a second and marks again; it prints one JSON line with
 * bytes_per_assoc = (VmRSS after - VmRSS before) / N. Stream counts are usrsctp's
 * defaults, as sctpp's are its own. Checksums are computed on loopback too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <usrsctp.h>

#define CTL_PPID 0x6374726cu

static struct {
  int server;
  char addr[64];
  uint16_t port, udp_port, remote_udp_port;
  long assocs;
} opt = {.addr = "127.0.0.1", .port = 5301, .remote_udp_port = 9899, .assocs = 1};

static void die(const char* what) {
  fprintf(stderr, "usrsctp_many: error: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long self_rss_kib(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long rss = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) rss = atol(line + 6);
  if (f) fclose(f);
  return rss;
}

static struct sockaddr_in server_addr;

static void send_ctl(struct socket* so, sctp_assoc_t id, const char* text) {
  struct sctp_sndinfo si;
  memset(&si, 0, sizeof si);
  si.snd_ppid = htonl(CTL_PPID);
  si.snd_assoc_id = id;
  while (usrsctp_sendv(so, text, strlen(text), NULL, 0, &si, sizeof si, SCTP_SENDV_SNDINFO, 0) < 0)
    if (errno != EINTR && errno != EAGAIN) die("usrsctp_sendv");
}

/* ---- server ---- */

static void serve(struct socket* so) {
  static char buf[65536];
  long live = 0;
  for (;;) {
    struct sctp_rcvinfo ri;
    socklen_t rilen = sizeof ri;
    unsigned int infotype = 0;
    int flags = 0;
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    ssize_t n = usrsctp_recvv(so, buf, sizeof buf - 1, (struct sockaddr*)&from, &fromlen, &ri,
                              &rilen, &infotype, &flags);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      die("usrsctp_recvv");
    }
    if (flags & MSG_NOTIFICATION) {
      const union sctp_notification* note = (const void*)buf;
      if (note->sn_header.sn_type == SCTP_ASSOC_CHANGE) {
        uint16_t st = note->sn_assoc_change.sac_state;
        if (st == SCTP_COMM_UP || st == SCTP_RESTART) live += st == SCTP_COMM_UP;
        if (st == SCTP_COMM_LOST || st == SCTP_SHUTDOWN_COMP) --live;
      }
      continue;
    }
    if (infotype != SCTP_RECVV_RCVINFO || ntohl(ri.rcv_ppid) != CTL_PPID) continue;
    char reply[128];
    snprintf(reply, sizeof reply, "%ld %ld", self_rss_kib(), live);
    send_ctl(so, ri.rcv_assoc_id, reply);
  }
}

/* ---- client ---- */

static struct socket* connect_one(void) {
  struct socket* so = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (!so) die("usrsctp_socket");
  struct sctp_udpencaps enc;
  memset(&enc, 0, sizeof enc);
  ((struct sockaddr_in*)&enc.sue_address)->sin_family = AF_INET;
  enc.sue_assoc_id = SCTP_FUTURE_ASSOC;
  enc.sue_port = htons(opt.remote_udp_port);
  if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof enc) < 0)
    die("SCTP_REMOTE_UDP_ENCAPS_PORT");
  struct sockaddr_in local;
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  if (usrsctp_bind(so, (struct sockaddr*)&local, sizeof local) < 0) die("usrsctp_bind");
  if (usrsctp_connect(so, (struct sockaddr*)&server_addr, sizeof server_addr) < 0)
    die("usrsctp_connect");
  return so;
}

/* Sends MARK; the server's VmRSS (KiB) and live associations. */
static void mark(struct socket* ctl, long* rss, long* live) {
  send_ctl(ctl, 0, "MARK");
  char buf[256];
  for (;;) {
    struct sctp_rcvinfo ri;
    socklen_t rilen = sizeof ri;
    unsigned int infotype = 0;
    int flags = 0;
    ssize_t n = usrsctp_recvv(ctl, buf, sizeof buf - 1, NULL, NULL, &ri, &rilen, &infotype, &flags);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      die("usrsctp_recvv (control)");
    }
    if (n == 0) die("control association closed");
    if (flags & MSG_NOTIFICATION) continue;
    buf[n] = 0;
    if (sscanf(buf, "%ld %ld", rss, live) == 2) return;
  }
}

static int client(void) {
  struct socket* ctl = connect_one();
  const int on = 1;
  usrsctp_setsockopt(ctl, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
  long rss0, rss1, live;
  mark(ctl, &rss0, &live);
  double t0 = now_s();
  for (long i = 0; i < opt.assocs; i++) connect_one(); /* blocking: established when it returns */
  double setup = now_s() - t0;
  double tw = now_s();
  do {
    mark(ctl, &rss1, &live);
  } while (live < opt.assocs + 1 && now_s() - tw < 10);
  if (live < opt.assocs + 1) {
    fprintf(stderr, "usrsctp_many: server has %ld associations\n", live);
    return 1;
  }
  sleep(1);
  mark(ctl, &rss1, &live);
  printf(
      "{\"assocs\": %ld, \"size\": null, \"setup_seconds\": %.3f, \"mode\": \"idle\", "
      "\"seconds\": null, \"messages\": 0, \"bytes\": 0, \"mbytes_per_s\": null, \"errors\": 0, "
      "\"rss_before_kib\": %ld, \"rss_after_kib\": %ld, \"bytes_per_assoc\": %.1f}\n",
      opt.assocs, setup, rss0, rss1, (double)(rss1 - rss0) * 1024.0 / (double)opt.assocs);
  fflush(stdout);
  _exit(0); /* thousands of shutdowns are not part of the measurement */
}

static void usage(void) {
  fprintf(stderr,
          "usage: usrsctp_many --server [--listen ADDR:PORT] [--udp-port N]\n"
          "       usrsctp_many --connect ADDR:PORT --remote-udp-port N --assocs N\n");
  exit(2);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--server")) {
      opt.server = 1;
    } else if ((!strcmp(a, "--listen") || !strcmp(a, "--connect")) && v) {
      const char* colon = strrchr(v, ':');
      if (!colon || (size_t)(colon - v) >= sizeof opt.addr) usage();
      memcpy(opt.addr, v, (size_t)(colon - v));
      opt.addr[colon - v] = 0;
      opt.port = (uint16_t)atoi(colon + 1);
      i++;
    } else if (!strcmp(a, "--udp-port") && v) {
      opt.udp_port = (uint16_t)atoi(v);
      i++;
    } else if (!strcmp(a, "--remote-udp-port") && v) {
      opt.remote_udp_port = (uint16_t)atoi(v);
      i++;
    } else if (!strcmp(a, "--assocs") && v) {
      opt.assocs = atol(v);
      i++;
    } else {
      usage();
    }
  }
  if (opt.assocs < 1) usage();
  /* usrsctp_init with port 0 would disable UDP encapsulation: pick a free port. */
  usrsctp_init(opt.udp_port ? opt.udp_port : (uint16_t)(20000 + getpid() % 40000), NULL, NULL);
  usrsctp_sysctl_set_sctp_no_csum_on_loopback(0);
  usrsctp_sysctl_set_sctp_blackhole(2);
  memset(&server_addr, 0, sizeof server_addr);
  server_addr.sin_family = AF_INET;
  server_addr.sin_port = htons(opt.port);
  if (inet_pton(AF_INET, opt.addr, &server_addr.sin_addr) != 1) usage();
  if (!opt.server) return client();

  struct socket* so = usrsctp_socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP, NULL, NULL, 0, NULL);
  if (!so) die("usrsctp_socket");
  const int on = 1;
  usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
  struct sctp_event ev;
  memset(&ev, 0, sizeof ev);
  ev.se_assoc_id = SCTP_FUTURE_ASSOC;
  ev.se_type = SCTP_ASSOC_CHANGE;
  ev.se_on = 1;
  if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) < 0) die("SCTP_EVENT");
  if (usrsctp_bind(so, (struct sockaddr*)&server_addr, sizeof server_addr) < 0) die("usrsctp_bind");
  if (usrsctp_listen(so, 1) < 0) die("usrsctp_listen");
  printf("listening on %s:%u (usrsctp over udp %u) one-to-many\n", opt.addr, opt.port,
         opt.udp_port);
  fflush(stdout);
  serve(so);
  return 0;
}
