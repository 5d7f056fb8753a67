/* udp_blast: the UDP ceiling on loopback, for bench/run.sh.
 *
 *   udp_blast [--mode sendto|gso] [--size 1472] [--time 3] [--check] [--json]
 *
 * A receiver thread (recvmmsg, with UDP_GRO in gso mode) counts the bytes that arrive;
 * the sender sends --size-byte datagrams as fast as it can for --time seconds:
 *   sendto  one sendto() per datagram;
 *   gso     sendmmsg() of 8 buffers of 44 datagrams each, segmented by the kernel
 *           (UDP_SEGMENT = --size): the best a UDP sender can do.
 * Reports what the receiver got (MB/s = 10^6 payload bytes per second).
 *
 * --check: the receiver also does what the receiver of any message transport that
 * checks its payload must do at the least: it copies every datagram into a 64 KiB
 * message buffer and compares each full buffer with what was sent. No checksum, no
 * protocol: what is left is the floor under an SCTP receiver, which on top of this
 * computes a CRC32c per packet and tracks TSNs. Without it the receiver never reads
 * the data (GRO hands it a 64 KB train in one copy), which is the UDP ceiling.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

static int gso, json, check;
static char* expected; /* --check: the sender's pattern, 64 KiB */
static uint64_t mismatches;
static size_t size = 1472;
static double secs = 3;
static atomic_int stop;
static uint64_t rx_bytes, rx_dgrams;
static double rx_first, rx_last;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --check: copies each datagram of a train into a message buffer, and compares the
 * buffer with the pattern whenever the next datagram would not fit. */
static void check_train(const char* data, size_t len, size_t seg) {
  static char msg[65536];
  size_t used = 0;
  for (size_t off = 0; off < len; off += seg) {
    size_t n = len - off < seg ? len - off : seg;
    memcpy(msg + used, data + off, n);
    used += n;
    if (used + seg > sizeof msg) {
      if (memcmp(msg, expected, used) != 0) mismatches++;
      used = 0;
    }
  }
  if (used && memcmp(msg, expected, used) != 0) mismatches++;
}

static void* receiver(void* arg) {
  int fd = *(int*)arg;
  enum { N = 64, BUF = 65536 };
  static char bufs[N][BUF];
  static char cbufs[N][64];
  struct mmsghdr msgs[N];
  struct iovec iov[N];
  struct timeval tv = {0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (!atomic_load(&stop)) {
    for (int i = 0; i < N; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = BUF;
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = cbufs[i];
      msgs[i].msg_hdr.msg_controllen = sizeof cbufs[i];
    }
    int n = recvmmsg(fd, msgs, N, 0, NULL);
    if (n <= 0) continue;
    double t = now_s();
    if (!rx_bytes) rx_first = t;
    rx_last = t;
    for (int i = 0; i < n; i++) {
      rx_bytes += msgs[i].msg_len;
      uint16_t seg = 0;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
           c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) memcpy(&seg, CMSG_DATA(c), 2);
      rx_dgrams += seg ? (msgs[i].msg_len + seg - 1) / seg : 1;
      if (check) check_train(bufs[i], msgs[i].msg_len, seg ? seg : msgs[i].msg_len);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--mode") && i + 1 < argc)
      gso = !strcmp(argv[++i], "gso");
    else if (!strcmp(argv[i], "--size") && i + 1 < argc)
      size = (size_t)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--time") && i + 1 < argc)
      secs = atof(argv[++i]);
    else if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!strcmp(argv[i], "--check"))
      check = 1;
    else {
      fprintf(stderr,
              "usage: udp_blast [--mode sendto|gso] [--size B] [--time S] [--check] [--json]\n");
      return 2;
    }
  }
  int rfd = socket(AF_INET, SOCK_DGRAM, 0), sfd = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 32 * 1024 * 1024, one = 1;
  if (setsockopt(rfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
    setsockopt(rfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (setsockopt(sfd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big) != 0)
    setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  if (gso) setsockopt(rfd, IPPROTO_UDP, UDP_GRO, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  bind(rfd, (struct sockaddr*)&a, sizeof a);
  getsockname(rfd, (struct sockaddr*)&a, &alen);
  if (connect(sfd, (struct sockaddr*)&a, sizeof a) != 0) {
    perror("connect");
    return 1;
  }
  pthread_t th;
  pthread_create(&th, NULL, receiver, &rfd);

  enum { BATCH = 8 };
  size_t per = gso ? 65000 / size : 1; /* datagrams per GSO buffer (<= 64) */
  if (per > 44) per = 44;
  char* buf = calloc(per * size, 1);
  memset(buf, 0xab, per * size);
  expected = malloc(65536);
  memset(expected, 0xab, 65536);
  if (gso) {
    int seg = (int)size;
    if (setsockopt(sfd, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) != 0) {
      perror("UDP_SEGMENT");
      return 1;
    }
  }
  struct iovec iov[BATCH];
  struct mmsghdr mm[BATCH];
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = buf;
    iov[i].iov_len = per * size;
    memset(&mm[i], 0, sizeof mm[i]);
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
  double t0 = now_s(), end = t0 + secs;
  uint64_t tx = 0, calls = 0;
  while (now_s() < end) {
    for (int k = 0; k < 64; k++) {
      if (gso) {
        int n = sendmmsg(sfd, mm, BATCH, 0);
        if (n > 0) tx += (uint64_t)n * per * size;
      } else {
        ssize_t n = send(sfd, buf, size, 0);
        if (n > 0) tx += (uint64_t)n;
      }
      calls++;
    }
  }
  usleep(100000);
  atomic_store(&stop, 1);
  pthread_join(th, NULL);
  double s = rx_last > rx_first ? rx_last - rx_first : secs;
  double mbps = (double)rx_bytes / s / 1e6;
  if (json)
    printf("{\"mode\":\"udp-%s\",\"size\":%zu,\"bytes\":%" PRIu64 ",\"datagrams\":%" PRIu64
           ",\"seconds\":%.6f,\"mbytes_per_s\":%.3f,\"sent_bytes\":%" PRIu64
           ",\"checked\":%s,\"mismatches\":%" PRIu64 "}\n",
           gso ? "gso" : "sendto", size, rx_bytes, rx_dgrams, s, mbps, tx, check ? "true" : "false",
           mismatches);
  else
    printf("udp %s %zu-byte datagrams: received %.2f MB in %.2f s = %.2f MB/s (sent %.2f MB)\n",
           gso ? "sendmmsg+GSO" : "sendto", size, (double)rx_bytes / 1e6, s, mbps,
           (double)tx / 1e6);
  if (mismatches) {
    fprintf(stderr, "udp_blast: %" PRIu64 " message buffers differed from what was sent\n",
            mismatches);
    return 1;
  }
  return 0;
}
