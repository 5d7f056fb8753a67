// The floor under SCTP over UDP on this host (bench/run.sh, issue 5): a GSO/GRO
// blaster that does only the per-byte work a stack of sctpp's shape cannot avoid, and
// no protocol at all. It follows what sctpp itself does per byte (so that the gap
// between the two is the protocol's own cost): Sender: each 1444-byte piece of a
// 64 KiB message is copied from the caller's buffer (sctpp's zero-copy send queues the
// caller's buffer itself) into a 1472-byte packet behind a 28-byte header and summed
// on the way (CRC32c of the header, then sctpp's fused copy-and-sum of the payload),
// one 44-packet GSO buffer per send; the acknowledgements that come back are read and
// their CRC checked. Receiver: GRO, CRC32c check, copy into a reassembly buffer (a
// whole message is handed over as that buffer, as sctpp's receive(ReceivedMessage&)
// does), one 28-byte acknowledgement per two packets (RFC 9260 §6.2), sent per batch
// in one GSO buffer. No congestion control, retransmission queue, timers, locks or
// threads between caller and socket.
//
//   udp_floor [--time S] [--json]
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "wire/crc32c.h"

namespace {

constexpr size_t kPacket = 1472, kHeader = 28, kPayload = kPacket - kHeader;
constexpr size_t kTrain = 44, kMessage = 65536, kAck = 28, kRxBuf = 65536, kRxBatch = 8;

uint32_t crc(const uint8_t* p, size_t n) {
  return sctpp::wire::crc32c(std::span<const uint8_t>(p, n));
}

// SCTP's way: the checksum field (bytes 8-11) is zero while the CRC is computed.
void seal(uint8_t* p, size_t n) {
  std::memset(p + 8, 0, 4);
  const uint32_t c = crc(p, n);
  std::memcpy(p + 8, &c, 4);
}
bool intact(uint8_t* p, size_t n) {
  uint32_t stored;
  std::memcpy(&stored, p + 8, 4);
  std::memset(p + 8, 0, 4);
  return crc(p, n) == stored;
}

// One sendmsg of `n` equal segments of `seg` bytes at `p`.
void send_gso(int fd, const uint8_t* p, size_t n, uint16_t seg, int flags) {
  iovec v{const_cast<uint8_t*>(p), n * seg};
  msghdr h{};
  h.msg_iov = &v;
  h.msg_iovlen = 1;
  alignas(cmsghdr) char c[CMSG_SPACE(sizeof(uint16_t))] = {};
  h.msg_control = c;
  h.msg_controllen = sizeof c;
  cmsghdr* cm = CMSG_FIRSTHDR(&h);
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof seg);
  std::memcpy(CMSG_DATA(cm), &seg, sizeof seg);
  (void)sendmsg(fd, &h, flags);
}

// Receives up to kRxBatch GRO buffers into `buf`; calls on(segment, length) for each
// datagram. Returns false when nothing came.
template <class F>
bool receive(int fd, std::vector<uint8_t>& buf, int flags, timespec* timeout, F on) {
  mmsghdr mm[kRxBatch] = {};
  iovec iov[kRxBatch];
  alignas(cmsghdr) char ctl[kRxBatch][64];
  for (size_t i = 0; i < kRxBatch; ++i) {
    iov[i] = {buf.data() + i * kRxBuf, kRxBuf};
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
    mm[i].msg_hdr.msg_control = ctl[i];
    mm[i].msg_hdr.msg_controllen = sizeof ctl[i];
  }
  const int n = recvmmsg(fd, mm, kRxBatch, flags, timeout);
  if (n <= 0) return false;
  for (int i = 0; i < n; ++i) {
    size_t len = mm[i].msg_len, seg = len;
    for (cmsghdr* c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c; c = CMSG_NXTHDR(&mm[i].msg_hdr, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int g = 0;
        std::memcpy(&g, CMSG_DATA(c), sizeof g);
        if (g > 0) seg = static_cast<size_t>(g);
      }
    }
    for (size_t off = 0; off < len; off += seg)
      on(buf.data() + i * kRxBuf + off, std::min(seg, len - off));
  }
  return true;
}

int bound_socket() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1, big = 8 << 20;
  setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    perror("udp_floor: bind");
    exit(1);
  }
  return fd;
}

void join(int a, int b) {
  sockaddr_in x{};
  socklen_t l = sizeof x;
  getsockname(b, reinterpret_cast<sockaddr*>(&x), &l);
  connect(a, reinterpret_cast<sockaddr*>(&x), l);
}

}  // namespace

int main(int argc, char** argv) {
  double secs = 3;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--time" && i + 1 < argc)
      secs = atof(argv[++i]);
    else if (a == "--json")
      json = true;
    else {
      fprintf(stderr, "usage: udp_floor [--time S] [--json]\n");
      return 2;
    }
  }
  const int rx_fd = bound_socket(), tx_fd = bound_socket();
  join(tx_fd, rx_fd);
  join(rx_fd, tx_fd);

  std::atomic<bool> stop{false};
  uint64_t received = 0, bad = 0;
  std::thread receiver([&] {
    std::vector<uint8_t> buf(kRxBuf * kRxBatch), reassembly(kMessage * 4);
    std::vector<uint8_t> acks(kRxBatch * kRxBuf / kPacket * kAck);
    size_t at = 0, packets = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      size_t n_acks = 0;
      timespec wait{0, 1000000};
      receive(rx_fd, buf, MSG_WAITFORONE, &wait, [&](uint8_t* p, size_t len) {
        if (len < kHeader || !intact(p, len)) ++bad;
        const size_t piece = len - kHeader;
        if (at + piece > reassembly.size()) at = 0;
        std::memcpy(reassembly.data() + at, p + kHeader, piece);
        at += piece;
        received += piece;
        if (++packets % 2 == 0 && n_acks * kAck + kAck <= acks.size()) {
          uint8_t* a = acks.data() + kAck * n_acks++;
          std::memset(a, 0, kAck);
          std::memcpy(a + 16, &packets, sizeof packets);
          seal(a, kAck);
        }
      });
      if (n_acks > 0) send_gso(rx_fd, acks.data(), n_acks, kAck, MSG_DONTWAIT);
    }
  });

  std::vector<uint8_t> source(kMessage), train(kTrain * kPacket);
  std::vector<uint8_t> ack_buf(kRxBuf * kRxBatch);
  for (size_t i = 0; i < kMessage; ++i) source[i] = static_cast<uint8_t>(i * 7);
  uint64_t sent = 0, acks = 0;
  size_t offset = kMessage;
  uint32_t seq = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while ((elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) <
         secs) {
    for (size_t k = 0; k < kTrain; ++k) {
      if (offset == kMessage) {
        std::memcpy(&source[0], &seq, sizeof seq);  // a new message each time
        ++seq;
        offset = 0;
      }
      const size_t piece = std::min(kPayload, kMessage - offset);
      uint8_t* p = train.data() + k * kPacket;
      std::memset(p, 0, kHeader);
      std::memcpy(p + 12, &seq, sizeof seq);
      uint32_t c = crc(p, kHeader);
      c = sctpp::wire::crc32c_copy(p + kHeader,
                                   std::span<const uint8_t>(source.data() + offset, piece), c);
      if (piece < kPayload) {
        std::memset(p + kHeader + piece, 0, kPayload - piece);
        c = sctpp::wire::crc32c(std::span<const uint8_t>(p + kHeader + piece, kPayload - piece), c);
      }
      std::memcpy(p + 8, &c, 4);
      offset += piece;
    }
    send_gso(tx_fd, train.data(), kTrain, kPacket, 0);
    sent += kTrain * kPayload;
    while (receive(tx_fd, ack_buf, MSG_DONTWAIT, nullptr, [&](uint8_t* p, size_t len) {
      if (!intact(p, len)) ++bad;
      ++acks;
    })) {
    }
  }
  stop = true;
  receiver.join();
  const double mbs = static_cast<double>(received) / elapsed / 1e6;
  if (json)
    printf(
        "{\"mode\":\"floor\",\"size\":%zu,\"mbytes_per_s\":%.1f,\"sent_mbytes\":%.1f,"
        "\"acks\":%llu,\"bad\":%llu}\n",
        kPacket, mbs, static_cast<double>(sent) / 1e6, static_cast<unsigned long long>(acks),
        static_cast<unsigned long long>(bad));
  else
    printf(
        "udp floor (copies, CRC32c, an ack per 2 packets) %zu-byte datagrams: %.1f MB/s "
        "payload received, %llu acks, %llu bad\n",
        kPacket, mbs, static_cast<unsigned long long>(acks), static_cast<unsigned long long>(bad));
  return bad == 0 ? 0 : 1;
}
