/*
 * Server side of the one-to-many scale test (scale_test.cpp), in C against the
 * RFC 6458 API: one SOCK_SEQPACKET socket echoes every message of every association.
 * A message starting with "PEEL" is echoed, then its association is peeled off
 * (sctpp_peeloff) and served from the new one-to-one socket: whatever was already
 * queued for it moves along, so the client must see every echo, in order.
 *
 * Prints "ready SCTP_PORT UDP_PORT" when listening; runs until its standard input
 * closes, then prints "stats echoed=N peeled=K up=U" and exits.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sctpp/sctp.h"

enum { kMaxPeeled = 16 };

static long echoed, peeled, up;

/* Echoes everything waiting on `sd`; returns the association to peel off, 0, or
 * -1 at end of data (a one-to-one socket whose peer shut down). */
static long serve(int sd) {
  static char buf[65536];
  for (;;) {
    struct iovec iov = {buf, sizeof buf};
    struct sctpp_rcvinfo rcv;
    socklen_t infolen = sizeof rcv;
    unsigned int infotype = 0;
    int flags = MSG_DONTWAIT;
    ssize_t n = sctpp_recvv(sd, &iov, 1, NULL, NULL, &rcv, &infolen, &infotype, &flags);
    if (n < 0) {
      if (errno != EAGAIN) perror("scale_server: recvv");
      return 0;
    }
    if (n == 0) return -1; /* one-to-one: the peer shut down */
    if (flags & MSG_NOTIFICATION) {
      const union sctpp_notification* note = (const union sctpp_notification*)buf;
      if (note->sn_header.sn_type == SCTP_ASSOC_CHANGE &&
          note->sn_assoc_change.sac_state == SCTP_COMM_UP)
        ++up;
      continue;
    }
    if (infotype != SCTP_RECVV_RCVINFO) continue;
    struct sctpp_sndinfo snd;
    memset(&snd, 0, sizeof snd);
    snd.snd_sid = rcv.rcv_sid;
    snd.snd_ppid = rcv.rcv_ppid;
    snd.snd_assoc_id = rcv.rcv_assoc_id;
    iov.iov_len = (size_t)n;
    if (sctpp_sendv(sd, &iov, 1, NULL, 0, &snd, sizeof snd, SCTP_SENDV_SNDINFO, 0) < 0) {
      perror("scale_server: sendv");
      continue;
    }
    ++echoed;
    if (n >= 4 && memcmp(buf, "PEEL", 4) == 0) return rcv.rcv_assoc_id;
  }
}

int main(void) {
  if (sctpp_init(0) < 0) {
    perror("scale_server: sctpp_init");
    return 1;
  }
  int sd = sctpp_socket(AF_INET, SOCK_SEQPACKET, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct sctpp_event ev;
  memset(&ev, 0, sizeof ev);
  ev.se_type = SCTP_ASSOC_CHANGE;
  ev.se_on = 1;
  int on = 1;
  socklen_t len = sizeof addr;
  if (sd < 0 || sctpp_bind(sd, (struct sockaddr*)&addr, sizeof addr) < 0 ||
      sctpp_setsockopt(sd, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) < 0 ||
      sctpp_setsockopt(sd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) < 0 ||
      sctpp_listen(sd, 1024) < 0 || sctpp_getsockname(sd, (struct sockaddr*)&addr, &len) < 0) {
    perror("scale_server: setup");
    return 1;
  }
  printf("ready %u %d\n", ntohs(addr.sin_port), sctpp_udp_port());
  fflush(stdout);

  int peeled_sd[kMaxPeeled];
  int npeeled = 0;
  for (;;) {
    struct pollfd p[2 + kMaxPeeled];
    p[0].fd = STDIN_FILENO;
    p[0].events = POLLIN;
    p[1].fd = sctpp_fd(sd);
    p[1].events = POLLIN;
    for (int i = 0; i < npeeled; ++i) {
      p[2 + i].fd = sctpp_fd(peeled_sd[i]);
      p[2 + i].events = POLLIN;
    }
    if (poll(p, (nfds_t)(2 + npeeled), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents) {
      char c;
      if (read(STDIN_FILENO, &c, 1) <= 0) break;
    }
    if (p[1].revents & POLLIN) {
      long id = serve(sd);
      if (id > 0 && npeeled < kMaxPeeled) {
        int nsd = sctpp_peeloff(sd, (sctpp_assoc_t)id);
        if (nsd < 0) {
          perror("scale_server: peeloff");
        } else {
          sctpp_setsockopt(nsd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
          peeled_sd[npeeled++] = nsd;
          ++peeled;
        }
      }
    }
    for (int i = npeeled - 1; i >= 0; --i) {
      if ((p[2 + i].revents & POLLIN) && serve(peeled_sd[i]) < 0) {
        sctpp_close(peeled_sd[i]);
        peeled_sd[i] = peeled_sd[--npeeled];
      }
    }
  }
  printf("stats echoed=%ld peeled=%ld up=%ld\n", echoed, peeled, up);
  fflush(stdout);
  for (int i = 0; i < npeeled; ++i) sctpp_close(peeled_sd[i]);
  sctpp_close(sd);
  sctpp_finish();
  return 0;
}
