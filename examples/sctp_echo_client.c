/*
 * An SCTP echo client in C against sctpp's RFC 6458 API, one-to-many style.
 *
 *   sctp_echo_client [IP [PORT]]     (default 127.0.0.1 5000; the server's UDP
 *                                     encapsulation port: $SCTPP_REMOTE_UDP_PORT,
 *                                     default 9899; ours: $SCTPP_UDP_PORT)
 *
 * The first message to the server sets the association up implicitly (it rides
 * with the COOKIE ECHO); one message goes out on each of 4 streams, the echoes are
 * checked, and the last message carries SCTP_EOF: a graceful shutdown.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctpp/sctp.h"

int main(int argc, char** argv) {
  const char* ip = argc > 1 ? argv[1] : "127.0.0.1";
  unsigned port = argc > 2 ? (unsigned)atoi(argv[2]) : 5000;
  struct sockaddr_in server;
  memset(&server, 0, sizeof server);
  server.sin_family = AF_INET;
  server.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, ip, &server.sin_addr) != 1) {
    fprintf(stderr, "sctp_echo_client: bad address %s\n", ip);
    return 2;
  }
  int sd = sctpp_socket(AF_INET, SOCK_SEQPACKET, 0);
  if (sd < 0) {
    perror("sctpp_socket");
    return 1;
  }
  struct sctpp_event ev;
  memset(&ev, 0, sizeof ev);
  ev.se_type = SCTP_ASSOC_CHANGE;
  ev.se_on = 1;
  sctpp_setsockopt(sd, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
  int on = 1;
  sctpp_setsockopt(sd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);

  enum { kMessages = 4 };
  char text[kMessages][64];
  for (int i = 0; i < kMessages; ++i) {
    snprintf(text[i], sizeof text[i], "hello on stream %d", i);
    struct sctpp_sndinfo snd;
    memset(&snd, 0, sizeof snd);
    snd.snd_sid = (uint16_t)i;
    snd.snd_ppid = htonl(51);
    struct iovec iov = {text[i], strlen(text[i])};
    /* Addressed by the peer's address: the first send sets the association up. */
    if (sctpp_sendv(sd, &iov, 1, (struct sockaddr*)&server, 1, &snd, sizeof snd, SCTP_SENDV_SNDINFO,
                    0) < 0) {
      perror("sctpp_sendv");
      return 1;
    }
  }

  int echoed = 0;
  sctpp_assoc_t assoc = 0;
  while (echoed < kMessages) {
    struct pollfd p = {sctpp_fd(sd), POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) {
      fprintf(stderr, "sctp_echo_client: no answer\n");
      return 1;
    }
    char buf[1024];
    struct iovec iov = {buf, sizeof buf - 1};
    struct sctpp_rcvinfo rcv;
    socklen_t infolen = sizeof rcv;
    unsigned int infotype = 0;
    int flags = 0;
    ssize_t n = sctpp_recvv(sd, &iov, 1, NULL, NULL, &rcv, &infolen, &infotype, &flags);
    if (n < 0) {
      perror("sctpp_recvv");
      return 1;
    }
    if (flags & MSG_NOTIFICATION) {
      const union sctpp_notification* note = (const union sctpp_notification*)buf;
      if (note->sn_header.sn_type == SCTP_ASSOC_CHANGE) {
        if (note->sn_assoc_change.sac_state != SCTP_COMM_UP) {
          fprintf(stderr, "sctp_echo_client: association failed (state %u)\n",
                  note->sn_assoc_change.sac_state);
          return 1;
        }
        assoc = note->sn_assoc_change.sac_assoc_id;
        printf("association %u up: %u out / %u in streams\n", assoc,
               note->sn_assoc_change.sac_outbound_streams,
               note->sn_assoc_change.sac_inbound_streams);
      }
      continue;
    }
    buf[n] = '\0';
    if (rcv.rcv_sid >= kMessages || strcmp(buf, text[rcv.rcv_sid]) != 0 ||
        ntohl(rcv.rcv_ppid) != 51) {
      fprintf(stderr, "sctp_echo_client: unexpected echo \"%s\" on stream %u\n", buf, rcv.rcv_sid);
      return 1;
    }
    printf("echo on stream %u: %s\n", rcv.rcv_sid, buf);
    ++echoed;
  }

  /* SCTP_EOF with no data: graceful shutdown of the association. */
  struct sctpp_sndinfo eof;
  memset(&eof, 0, sizeof eof);
  eof.snd_flags = SCTP_EOF;
  eof.snd_assoc_id = assoc;
  if (sctpp_sendv(sd, NULL, 0, NULL, 0, &eof, sizeof eof, SCTP_SENDV_SNDINFO, 0) < 0) {
    perror("sctpp_sendv(SCTP_EOF)");
    return 1;
  }
  for (;;) {
    struct pollfd p = {sctpp_fd(sd), POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) break;
    union {
      union sctpp_notification n;
      char raw[512];
    } buf;
    struct iovec iov = {buf.raw, sizeof buf.raw};
    int flags = 0;
    if (sctpp_recvv(sd, &iov, 1, NULL, NULL, NULL, NULL, NULL, &flags) < 0) break;
    if ((flags & MSG_NOTIFICATION) && buf.n.sn_header.sn_type == SCTP_ASSOC_CHANGE &&
        buf.n.sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP) {
      printf("association %u shut down\n", assoc);
      break;
    }
  }
  sctpp_close(sd);
  sctpp_finish();
  return 0;
}
