/*
 * sctpp/sctp.h: the SCTP sockets API of RFC 6458 over the sctpp userspace stack, for
 * C and C++.
 *
 * Names are RFC 6458's with an `sctpp_` prefix on functions, types and structures
 * (sctp_sendv -> sctpp_sendv, struct sctp_sndinfo -> struct sctpp_sndinfo,
 * sctp_assoc_t -> sctpp_assoc_t); constants keep the RFC's names (SCTP_EOF,
 * SCTP_SENDV_SNDINFO, SCTP_INITMSG, MSG_NOTIFICATION...), with the values FreeBSD and
 * usrsctp use. This header replaces the kernel's <netinet/sctp.h>: do not include
 * both. Porting code written for the kernel API is mostly renaming.
 *
 * Descriptors. sctpp_socket() returns a real file descriptor of the process (one end
 * of a socketpair the library drives): it is readable when a message, a notification
 * or (listening) an association is waiting, or at end of data; writable when a send
 * would not block. Hand it to poll/select/epoll (level- or edge-triggered), but do
 * every I/O with the sctpp_ functions and close it with sctpp_close(); never read,
 * write or close() it directly. sctpp_fd(sd) returns the same number.
 *
 * The stack. All sockets of a process share one sctpp stack, started by the first
 * call that needs it (or explicitly by sctpp_init): one I/O thread and one UDP
 * encapsulation socket (RFC 6951) on local UDP port $SCTPP_UDP_PORT, or 9899 when
 * that is unset ($SCTPP_TRANSPORT=ip: raw IP, protocol 132, instead of UDP; needs
 * CAP_NET_RAW). The peers' UDP encapsulation port is $SCTPP_REMOTE_UDP_PORT, or
 * 9899, unless set with sctpp_set_remote_udp_port() or, per socket, with the
 * SCTP_REMOTE_UDP_ENCAPS_PORT option (struct sctpp_udpencaps, as usrsctp).
 *
 * Association ids are 3 and up (0, 1 and 2 are SCTP_FUTURE_ASSOC,
 * SCTP_CURRENT_ASSOC and SCTP_ALL_ASSOC); on one-to-one sockets they are ignored.
 * PPIDs (snd_ppid, rcv_ppid...) are copied unchanged to and from the wire, as RFC
 * 6458 says: use htonl()/ntohl().
 *
 * Errors: -1 and errno, with the values RFC 6458 and POSIX name: EBADF (not an sctpp
 * descriptor), EINVAL, EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, EISCONN, ENOTCONN,
 * EOPNOTSUPP (call not for this socket style), EINPROGRESS (non-blocking connect),
 * EAGAIN/EWOULDBLOCK (non-blocking call would block), ETIMEDOUT (no answer),
 * ECONNREFUSED (setup refused by ABORT), ECONNRESET (association aborted), EPIPE
 * (sending after shutdown), EMSGSIZE (message too large), ENOENT (no such
 * association), ENOPROTOOPT (unknown option), ENOMEM, EIO.
 *
 * Not supported: PR-SCTP (SCTP_PRINFO, SCTP_DEFAULT_PRINFO), AUTH (SCTP_AUTHINFO),
 * ASCONF (sctpp_bindx on sockets with live associations), partial delivery (events,
 * SCTP_PARTIAL_DELIVERY_POINT: messages are delivered whole),
 * stream reset, SCTP_SENDALL's per-association results.
 */
#ifndef SCTPP_SCTP_H
#define SCTPP_SCTP_H

#include <fcntl.h> /* O_NONBLOCK, F_GETFL, F_SETFL for sctpp_fcntl */
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t sctpp_assoc_t;

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
#ifndef SOL_SCTP
#define SOL_SCTP IPPROTO_SCTP
#endif
/* recvv/recvmsg flag: the data is a notification (union sctpp_notification). */
#ifndef MSG_NOTIFICATION
#define MSG_NOTIFICATION 0x8000
#endif

#define SCTP_FUTURE_ASSOC 0
#define SCTP_CURRENT_ASSOC 1
#define SCTP_ALL_ASSOC 2

/* ---- the stack ---- */

/* Starts the process-wide stack on local UDP port `udp_port` (0: any free port).
 * -1/EALREADY when it runs already, EADDRINUSE when the port is taken. Optional. */
int sctpp_init(uint16_t udp_port);
/* The local UDP encapsulation port of the stack (starting it if needed); -1 on error. */
int sctpp_udp_port(void);
/* Default UDP encapsulation port of peers, for sockets created afterwards. */
int sctpp_set_remote_udp_port(uint16_t port);
/* Aborts every association, closes every socket and stops the stack (a later call
 * starts a new one). */
int sctpp_finish(void);

/* ---- sockets (RFC 6458 §3, §4, §9) ---- */

/* domain AF_INET or AF_INET6 (an AF_INET6 socket takes IPv4 addresses as well);
 * type SOCK_SEQPACKET (one-to-many) or SOCK_STREAM (one-to-one), optionally with
 * SOCK_NONBLOCK; protocol 0 or IPPROTO_SCTP. */
int sctpp_socket(int domain, int type, int protocol);
/* The pollable file descriptor of `sd` (sd itself), or -1/EBADF. */
int sctpp_fd(int sd);
/* F_GETFL and F_SETFL (O_NONBLOCK). */
int sctpp_fcntl(int sd, int cmd, int arg);
int sctpp_bind(int sd, const struct sockaddr* addr, socklen_t addrlen);
#define SCTP_BINDX_ADD_ADDR 0x00008001
#define SCTP_BINDX_REM_ADDR 0x00008002
int sctpp_bindx(int sd, struct sockaddr* addrs, int addrcnt, int flags);
int sctpp_listen(int sd, int backlog);
int sctpp_accept(int sd, struct sockaddr* addr, socklen_t* addrlen);
int sctpp_connect(int sd, const struct sockaddr* addr, socklen_t addrlen);
/* `addrs`: addrcnt packed sockaddr_in / sockaddr_in6 of one peer (same port). */
int sctpp_connectx(int sd, struct sockaddr* addrs, int addrcnt, sctpp_assoc_t* id);
/* One association of a one-to-many socket as a new one-to-one socket (RFC 6458
 * §9.2); what was queued for it moves along. */
int sctpp_peeloff(int sd, sctpp_assoc_t id);
/* SHUT_WR / SHUT_RDWR: graceful shutdown of a one-to-one socket's association. */
int sctpp_shutdown(int sd, int how);
/* Closes the socket: its associations are shut down gracefully in the background
 * (with SO_LINGER on and a zero time: aborted). */
int sctpp_close(int sd);
int sctpp_getsockname(int sd, struct sockaddr* addr, socklen_t* addrlen);
int sctpp_getpeername(int sd, struct sockaddr* addr, socklen_t* addrlen);

/* Packed arrays of sockaddr_in / sockaddr_in6 (RFC 6458 §9.3-§9.6); the count is
 * returned, -1 on error. */
int sctpp_getpaddrs(int sd, sctpp_assoc_t id, struct sockaddr** addrs);
void sctpp_freepaddrs(struct sockaddr* addrs);
int sctpp_getladdrs(int sd, sctpp_assoc_t id, struct sockaddr** addrs);
void sctpp_freeladdrs(struct sockaddr* addrs);

/* ---- sending and receiving (RFC 6458 §5.3, §9.12, §9.13) ---- */

/* sctpp_sndinfo.snd_flags, sctpp_rcvinfo.rcv_flags, sctpp_nxtinfo.nxt_flags */
#define SCTP_NOTIFICATION 0x0010     /* nxt: the next message is a notification */
#define SCTP_COMPLETE 0x0020         /* nxt: the next message is complete */
#define SCTP_EOF 0x0100              /* graceful shutdown after this message */
#define SCTP_ABORT 0x0200            /* abort; the data is the reason */
#define SCTP_UNORDERED 0x0400        /* unordered delivery */
#define SCTP_ADDR_OVER 0x0800        /* (ignored) */
#define SCTP_SENDALL 0x1000          /* one-to-many: send on every association */
#define SCTP_EOR 0x2000              /* (ignored: messages are always complete) */
#define SCTP_SACK_IMMEDIATELY 0x4000 /* ask the peer to SACK this message at once */

struct sctpp_sndinfo {
  uint16_t snd_sid;
  uint16_t snd_flags;
  uint32_t snd_ppid;
  uint32_t snd_context;
  sctpp_assoc_t snd_assoc_id;
};

struct sctpp_rcvinfo {
  uint16_t rcv_sid;
  uint16_t rcv_ssn;
  uint16_t rcv_flags;
  uint32_t rcv_ppid;
  uint32_t rcv_tsn;
  uint32_t rcv_cumtsn;
  uint32_t rcv_context;
  sctpp_assoc_t rcv_assoc_id;
};

struct sctpp_nxtinfo {
  uint16_t nxt_sid;
  uint16_t nxt_flags;
  uint32_t nxt_ppid;
  uint32_t nxt_length;
  sctpp_assoc_t nxt_assoc_id;
};

struct sctpp_recvv_rn {
  struct sctpp_rcvinfo recvv_rcvinfo;
  struct sctpp_nxtinfo recvv_nxtinfo;
};

/* PR-SCTP and AUTH are not implemented: SCTP_SENDV_PRINFO/AUTHINFO fail with
 * EINVAL unless they ask for nothing (PR_SCTP_NONE). */
struct sctpp_prinfo {
  uint16_t pr_policy;
  uint32_t pr_value;
};
#define SCTP_PR_SCTP_NONE 0x0000

struct sctpp_authinfo {
  uint16_t auth_keynumber;
};

#define SCTP_SEND_SNDINFO_VALID 0x00000001
#define SCTP_SEND_PRINFO_VALID 0x00000002
#define SCTP_SEND_AUTHINFO_VALID 0x00000004

struct sctpp_sendv_spa {
  uint32_t sendv_flags;
  struct sctpp_sndinfo sendv_sndinfo;
  struct sctpp_prinfo sendv_prinfo;
  struct sctpp_authinfo sendv_authinfo;
};

/* sctpp_sendv infotype */
#define SCTP_SENDV_NOINFO 0
#define SCTP_SENDV_SNDINFO 1
#define SCTP_SENDV_PRINFO 2
#define SCTP_SENDV_AUTHINFO 3
#define SCTP_SENDV_SPA 4
/* sctpp_recvv *infotype */
#define SCTP_RECVV_NOINFO 0
#define SCTP_RECVV_RCVINFO 1
#define SCTP_RECVV_NXTINFO 2
#define SCTP_RECVV_RN 3

/* Sends one message. `addrs` (one-to-many): the peer; a new peer gets an association
 * set up implicitly, the message riding with its COOKIE ECHO (RFC 6458 §3.1.5).
 * flags: MSG_DONTWAIT; MSG_MORE: more messages follow at once, so this one's packets
 * may wait (at most ~400 us; 1.6 ms in a long run) to leave in one system call with
 * theirs, until a send without it, a receive or a wait (an event loop over
 * non-blocking sockets otherwise pays a system call per message). Returns the bytes
 * sent. */
ssize_t sctpp_sendv(int sd, const struct iovec* iov, int iovcnt, struct sockaddr* addrs,
                    int addrcnt, void* info, socklen_t infolen, unsigned int infotype, int flags);
/* Receives one message or notification (*flags & MSG_NOTIFICATION). A message longer
 * than the buffer is returned over several calls, MSG_EOR marking its last part.
 * *info: sctpp_rcvinfo with SCTP_RECVRCVINFO on, sctpp_nxtinfo with SCTP_RECVNXTINFO
 * on, sctpp_recvv_rn with both. flags in: MSG_DONTWAIT, MSG_PEEK. Returns 0 at end
 * of data (one-to-one, peer shut down). */
ssize_t sctpp_recvv(int sd, const struct iovec* iov, int iovlen, struct sockaddr* from,
                    socklen_t* fromlen, void* info, socklen_t* infolen, unsigned int* infotype,
                    int* flags);

/* Deprecated RFC 6458 §5.3.2 structure, for sctpp_sendmsg / sctpp_recvmsg. */
struct sctpp_sndrcvinfo {
  uint16_t sinfo_stream;
  uint16_t sinfo_ssn;
  uint16_t sinfo_flags;
  uint32_t sinfo_ppid;
  uint32_t sinfo_context;
  uint32_t sinfo_timetolive;
  uint32_t sinfo_tsn;
  uint32_t sinfo_cumtsn;
  sctpp_assoc_t sinfo_assoc_id;
};
ssize_t sctpp_sendmsg(int sd, const void* msg, size_t len, const struct sockaddr* to,
                      socklen_t tolen, uint32_t ppid, uint32_t flags, uint16_t stream_no,
                      uint32_t timetolive, uint32_t context);
ssize_t sctpp_recvmsg(int sd, void* msg, size_t len, struct sockaddr* from, socklen_t* fromlen,
                      struct sctpp_sndrcvinfo* sinfo, int* msg_flags);
/* Plain send/recv on a one-to-one socket (stream 0, PPID 0). send flags as sendv's. */
ssize_t sctpp_send(int sd, const void* buf, size_t len, int flags);
ssize_t sctpp_recv(int sd, void* buf, size_t len, int flags);

/* ---- notifications (RFC 6458 §6.1) ---- */

#define SCTP_ASSOC_CHANGE 0x0001
#define SCTP_PEER_ADDR_CHANGE 0x0002
#define SCTP_REMOTE_ERROR 0x0003
#define SCTP_SEND_FAILED 0x0004 /* deprecated; never delivered */
#define SCTP_SHUTDOWN_EVENT 0x0005
#define SCTP_ADAPTATION_INDICATION 0x0006
#define SCTP_PARTIAL_DELIVERY_EVENT 0x0007
#define SCTP_AUTHENTICATION_EVENT 0x0008
#define SCTP_STREAM_RESET_EVENT 0x0009
#define SCTP_SENDER_DRY_EVENT 0x000a
#define SCTP_NOTIFICATIONS_STOPPED_EVENT 0x000b
#define SCTP_ASSOC_RESET_EVENT 0x000c
#define SCTP_STREAM_CHANGE_EVENT 0x000d
#define SCTP_SEND_FAILED_EVENT 0x000e

struct sctpp_assoc_change {
  uint16_t sac_type;
  uint16_t sac_flags;
  uint32_t sac_length;
  uint16_t sac_state;
  uint16_t sac_error;
  uint16_t sac_outbound_streams;
  uint16_t sac_inbound_streams;
  sctpp_assoc_t sac_assoc_id;
  uint8_t sac_info[];
};
/* sac_state */
#define SCTP_COMM_UP 0x0001
#define SCTP_COMM_LOST 0x0002
#define SCTP_RESTART 0x0003
#define SCTP_SHUTDOWN_COMP 0x0004
#define SCTP_CANT_STR_ASSOC 0x0005

struct sctpp_paddr_change {
  uint16_t spc_type;
  uint16_t spc_flags;
  uint32_t spc_length;
  struct sockaddr_storage spc_aaddr;
  uint32_t spc_state;
  uint32_t spc_error;
  sctpp_assoc_t spc_assoc_id;
};
/* spc_state */
#define SCTP_ADDR_AVAILABLE 0x0001
#define SCTP_ADDR_UNREACHABLE 0x0002
#define SCTP_ADDR_REMOVED 0x0003
#define SCTP_ADDR_ADDED 0x0004
#define SCTP_ADDR_MADE_PRIM 0x0005
#define SCTP_ADDR_CONFIRMED 0x0006

/* sre_error: the first error cause's code, in network byte order; sre_data: the
 * whole ERROR chunk. */
struct sctpp_remote_error {
  uint16_t sre_type;
  uint16_t sre_flags;
  uint32_t sre_length;
  uint16_t sre_error;
  sctpp_assoc_t sre_assoc_id;
  uint8_t sre_data[];
};

struct sctpp_shutdown_event {
  uint16_t sse_type;
  uint16_t sse_flags;
  uint32_t sse_length;
  sctpp_assoc_t sse_assoc_id;
};

struct sctpp_sender_dry_event {
  uint16_t sender_dry_type;
  uint16_t sender_dry_flags;
  uint32_t sender_dry_length;
  sctpp_assoc_t sender_dry_assoc_id;
};

/* ssfe_flags */
#define SCTP_DATA_UNSENT 0x0001
#define SCTP_DATA_SENT 0x0002
struct sctpp_send_failed_event {
  uint16_t ssfe_type;
  uint16_t ssfe_flags;
  uint32_t ssfe_length;
  uint32_t ssfe_error;
  struct sctpp_sndinfo ssfe_info;
  sctpp_assoc_t ssfe_assoc_id;
  uint8_t ssfe_data[];
};

union sctpp_notification {
  struct sctpp_tlv {
    uint16_t sn_type;
    uint16_t sn_flags;
    uint32_t sn_length;
  } sn_header;
  struct sctpp_assoc_change sn_assoc_change;
  struct sctpp_paddr_change sn_paddr_change;
  struct sctpp_remote_error sn_remote_error;
  struct sctpp_shutdown_event sn_shutdown_event;
  struct sctpp_sender_dry_event sn_sender_dry_event;
  struct sctpp_send_failed_event sn_send_failed_event;
};

/* SCTP_EVENT: one notification type on or off (RFC 6458 §6.2.2). */
struct sctpp_event {
  sctpp_assoc_t se_assoc_id;
  uint16_t se_type;
  uint8_t se_on;
};

/* SCTP_EVENTS (deprecated, RFC 6458 §6.2.1): every type at once. */
struct sctpp_event_subscribe {
  uint8_t sctp_data_io_event; /* = SCTP_RECVRCVINFO */
  uint8_t sctp_association_event;
  uint8_t sctp_address_event;
  uint8_t sctp_send_failure_event;
  uint8_t sctp_peer_error_event;
  uint8_t sctp_shutdown_event;
  uint8_t sctp_partial_delivery_event;
  uint8_t sctp_adaptation_layer_event;
  uint8_t sctp_authentication_event;
  uint8_t sctp_sender_dry_event;
  uint8_t sctp_stream_reset_event;
};

/* ---- socket options (RFC 6458 §8), level IPPROTO_SCTP ---- */

#define SCTP_RTOINFO 0x00000001
#define SCTP_ASSOCINFO 0x00000002
#define SCTP_INITMSG 0x00000003
#define SCTP_NODELAY 0x00000004
#define SCTP_AUTOCLOSE 0x00000005
#define SCTP_PRIMARY_ADDR 0x00000007
#define SCTP_PEER_ADDR_PARAMS 0x0000000a
#define SCTP_EVENTS 0x0000000c
#define SCTP_DISABLE_FRAGMENTS 0x00000009
#define SCTP_MAXSEG 0x0000000e
#define SCTP_DELAYED_SACK 0x0000000f
#define SCTP_FRAGMENT_INTERLEAVE 0x00000010
#define SCTP_MAX_BURST 0x00000019
#define SCTP_CONTEXT 0x0000001a
#define SCTP_EVENT 0x0000001e
#define SCTP_RECVRCVINFO 0x0000001f
#define SCTP_RECVNXTINFO 0x00000020
#define SCTP_DEFAULT_SNDINFO 0x00000021
#define SCTP_REMOTE_UDP_ENCAPS_PORT 0x00000024
#define SCTP_STATUS 0x00000100
#define SCTP_GET_PEER_ADDR_INFO 0x00000101
#define SCTP_GET_ASSOC_NUMBER 0x00000104
#define SCTP_GET_ASSOC_ID_LIST 0x00000105

/* Milliseconds. Set on the socket (before its associations exist) only. */
struct sctpp_rtoinfo {
  sctpp_assoc_t srto_assoc_id;
  uint32_t srto_initial;
  uint32_t srto_max;
  uint32_t srto_min;
};

struct sctpp_assocparams {
  sctpp_assoc_t sasoc_assoc_id;
  uint32_t sasoc_peer_rwnd;
  uint32_t sasoc_local_rwnd;
  uint32_t sasoc_cookie_life; /* ms */
  uint16_t sasoc_asocmaxrxt;
  uint16_t sasoc_number_peer_destinations;
};

struct sctpp_initmsg {
  uint16_t sinit_num_ostreams;
  uint16_t sinit_max_instreams;
  uint16_t sinit_max_attempts;
  uint16_t sinit_max_init_timeo; /* ms */
};

struct sctpp_setprim {
  struct sockaddr_storage ssp_addr;
  sctpp_assoc_t ssp_assoc_id;
};

struct sctpp_paddrparams {
  struct sockaddr_storage spp_address;
  sctpp_assoc_t spp_assoc_id;
  uint32_t spp_hbinterval; /* ms */
  uint32_t spp_pathmtu;
  uint32_t spp_flags;
  uint32_t spp_ipv6_flowlabel;
  uint16_t spp_pathmaxrxt;
  uint8_t spp_dscp;
};
#define SPP_HB_ENABLE 0x00000001
#define SPP_HB_DISABLE 0x00000002
#define SPP_HB_DEMAND 0x00000004
#define SPP_PMTUD_ENABLE 0x00000008
#define SPP_PMTUD_DISABLE 0x00000010

/* SCTP_AUTOCLOSE takes an int (seconds); SCTP_NODELAY, SCTP_RECVRCVINFO,
 * SCTP_RECVNXTINFO and SCTP_DISABLE_FRAGMENTS an int (boolean: on, a message larger
 * than SCTP_MAXSEG fails with EMSGSIZE instead of being fragmented).
 * SCTP_FRAGMENT_INTERLEAVE an int, 0, 1 or 2: the level an application allows;
 * sctpp hands each message over whole, so reads never interleave at any level.
 * SCTP_MAXSEG, SCTP_MAX_BURST (packets of new DATA sent at one opportunity,
 * RFC 9260 Max.Burst; 0 = no limit) and SCTP_CONTEXT (the default snd_context of
 * sends, also handed back as rcv_context of every message received) take: */
struct sctpp_assoc_value {
  sctpp_assoc_t assoc_id;
  uint32_t assoc_value;
};

/* SCTP_DELAYED_SACK: the delayed-SACK timer (1-500 ms, RFC 9260 §6.2) and the
 * number of packets with DATA after which a SACK goes at once (1 = no delayed
 * SACK; default 2). A 0 leaves that value as it is. */
struct sctpp_sack_info {
  sctpp_assoc_t sack_assoc_id;
  uint32_t sack_delay; /* ms */
  uint32_t sack_freq;
};

struct sctpp_paddrinfo {
  struct sockaddr_storage spinfo_address;
  sctpp_assoc_t spinfo_assoc_id;
  int32_t spinfo_state;
  uint32_t spinfo_cwnd;
  uint32_t spinfo_srtt; /* ms */
  uint32_t spinfo_rto;  /* ms */
  uint32_t spinfo_mtu;
};
/* spinfo_state */
#define SCTP_ACTIVE 0x0001
#define SCTP_INACTIVE 0x0002
#define SCTP_UNCONFIRMED 0x0200

struct sctpp_status {
  sctpp_assoc_t sstat_assoc_id;
  int32_t sstat_state;
  uint32_t sstat_rwnd;
  uint16_t sstat_unackdata;
  uint16_t sstat_penddata;
  uint16_t sstat_instrms;
  uint16_t sstat_outstrms;
  uint32_t sstat_fragmentation_point;
  struct sctpp_paddrinfo sstat_primary;
};
/* sstat_state */
#define SCTP_CLOSED 0x0000
#define SCTP_BOUND 0x1000
#define SCTP_LISTEN 0x2000
#define SCTP_COOKIE_WAIT 0x0002
#define SCTP_COOKIE_ECHOED 0x0004
#define SCTP_ESTABLISHED 0x0008
#define SCTP_SHUTDOWN_SENT 0x0010
#define SCTP_SHUTDOWN_RECEIVED 0x0020
#define SCTP_SHUTDOWN_ACK_SENT 0x0040
#define SCTP_SHUTDOWN_PENDING 0x0080

struct sctpp_assoc_ids {
  uint32_t gaids_number_of_ids;
  sctpp_assoc_t gaids_assoc_id[];
};

/* SCTP_REMOTE_UDP_ENCAPS_PORT (as usrsctp): the peers' UDP encapsulation port,
 * sue_port in network byte order, 0 = the default. Set for future associations
 * (sue_assoc_id SCTP_FUTURE_ASSOC, or a one-to-one socket before connecting). */
struct sctpp_udpencaps {
  struct sockaddr_storage sue_address;
  uint32_t sue_assoc_id;
  uint16_t sue_port;
};

/* Level SOL_SOCKET: SO_RCVBUF (receive window of each association, and the bytes of
 * received messages the socket holds), SO_SNDBUF (send buffer of each association),
 * SO_ERROR, SO_LINGER (on with time 0: close aborts), SO_TYPE.
 * Settings that shape associations (SCTP_RTOINFO, SCTP_ASSOCINFO, SCTP_INITMSG,
 * SCTP_PEER_ADDR_PARAMS, SCTP_NODELAY, SCTP_AUTOCLOSE, SCTP_MAXSEG, SCTP_DELAYED_SACK,
 * SCTP_MAX_BURST, SO_RCVBUF, SO_SNDBUF) apply to the whole socket and can change only
 * until its first association exists (EINVAL after; SCTP_INITMSG still applies to
 * later connects). SCTP_CONTEXT, SCTP_DISABLE_FRAGMENTS and SCTP_FRAGMENT_INTERLEAVE
 * can change at any time; accepted and peeled-off sockets take them over. */
int sctpp_setsockopt(int sd, int level, int optname, const void* optval, socklen_t optlen);
int sctpp_getsockopt(int sd, int level, int optname, void* optval, socklen_t* optlen);
/* RFC 6458 §9.7: getsockopt with the association id in the structure. */
int sctpp_opt_info(int sd, sctpp_assoc_t id, int opt, void* arg, socklen_t* size);

#ifdef __cplusplus
}
#endif

#endif /* SCTPP_SCTP_H */
