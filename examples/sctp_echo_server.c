/*
 * The classic one-to-many SCTP echo server, in C against sctpp's RFC 6458 API.
 *
 *   sctp_echo_server [PORT]          (default 5000; UDP encapsulation port:
 *                                     $SCTPP_UDP_PORT, default 9899)
 *
 * One SOCK_SEQPACKET socket serves every association: each message is sent back on
 * its association, stream, PPID and ordering. Association changes are reported as
 * they come, in-band (MSG_NOTIFICATION). Stops on SIGINT/SIGTERM; closing the
 * socket shuts every association down gracefully.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctpp/sctp.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void print_notification(const union sctpp_notification* n) {
  switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      const struct sctpp_assoc_change* ac = &n->sn_assoc_change;
      const char* state = ac->sac_state == SCTP_COMM_UP         ? "up"
                          : ac->sac_state == SCTP_COMM_LOST     ? "lost"
                          : ac->sac_state == SCTP_RESTART       ? "restarted"
                          : ac->sac_state == SCTP_SHUTDOWN_COMP ? "shut down"
                                                                : "could not start";
      printf("association %u %s (%u out / %u in streams)\n", ac->sac_assoc_id, state,
             ac->sac_outbound_streams, ac->sac_inbound_streams);
      break;
    }
    case SCTP_SHUTDOWN_EVENT:
      printf("association %u: peer is shutting down\n", n->sn_shutdown_event.sse_assoc_id);
      break;
    default:
      printf("notification %u\n", n->sn_header.sn_type);
  }
  fflush(stdout);
}

int main(int argc, char** argv) {
  unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 5000;
  int sd = sctpp_socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
  if (sd < 0) {
    perror("sctpp_socket");
    return 1;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (sctpp_bind(sd, (struct sockaddr*)&addr, sizeof addr) < 0) {
    perror("sctpp_bind");
    return 1;
  }
  /* Answer on as many streams as a peer asks for. */
  struct sctpp_initmsg init;
  memset(&init, 0, sizeof init);
  init.sinit_num_ostreams = 100;
  init.sinit_max_instreams = 100;
  sctpp_setsockopt(sd, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init);
  /* Notifications wanted, and the receive info (stream, PPID) of each message. */
  uint16_t types[] = {SCTP_ASSOC_CHANGE, SCTP_SHUTDOWN_EVENT};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; ++i) {
    struct sctpp_event ev;
    memset(&ev, 0, sizeof ev);
    ev.se_type = types[i];
    ev.se_on = 1;
    sctpp_setsockopt(sd, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
  }
  int on = 1;
  sctpp_setsockopt(sd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
  if (sctpp_listen(sd, 128) < 0) {
    perror("sctpp_listen");
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("listening on port %u (sctp over udp %d)\n", port, sctpp_udp_port());
  fflush(stdout);

  char buf[65536];
  while (!stop) {
    /* The descriptor polls readable when a message or notification waits. */
    struct pollfd p = {sctpp_fd(sd), POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    struct iovec iov = {buf, sizeof buf};
    struct sctpp_rcvinfo rcv;
    socklen_t infolen = sizeof rcv;
    unsigned int infotype = 0;
    int flags = 0;
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t n = sctpp_recvv(sd, &iov, 1, (struct sockaddr*)&from, &fromlen, &rcv, &infolen,
                            &infotype, &flags);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      perror("sctpp_recvv");
      break;
    }
    if (flags & MSG_NOTIFICATION) {
      print_notification((const union sctpp_notification*)buf);
      continue;
    }
    if (infotype != SCTP_RECVV_RCVINFO) continue;
    /* Back on the same association, stream, PPID and ordering. */
    struct sctpp_sndinfo snd;
    memset(&snd, 0, sizeof snd);
    snd.snd_sid = rcv.rcv_sid;
    snd.snd_ppid = rcv.rcv_ppid;
    snd.snd_flags = rcv.rcv_flags & SCTP_UNORDERED;
    snd.snd_assoc_id = rcv.rcv_assoc_id;
    iov.iov_len = (size_t)n;
    if (sctpp_sendv(sd, &iov, 1, NULL, 0, &snd, sizeof snd, SCTP_SENDV_SNDINFO, 0) < 0)
      perror("sctpp_sendv");
  }
  sctpp_close(sd);
  sctpp_finish();
  return 0;
}
