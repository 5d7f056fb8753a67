// SCTP and TCP message channels for `sctpp perf`.
#include "perf_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sctpp/sockaddr.h"

namespace sctpp::tool::perf {

std::string describe(const Status& st) {
  std::string name = errc_name(st.code());
  return st.reason().empty() ? name : st.reason();
}

namespace {

class SctpChannel final : public Channel {
 public:
  explicit SctpChannel(Connection c) : conn_(std::move(c)) {}
  bool send(const uint8_t* p, size_t n, uint16_t stream, bool unordered, uint32_t ppid) override {
    return sent(conn_.send(std::span<const uint8_t>(p, n), info(stream, unordered, ppid)));
  }
  bool send_shared(SharedMessage m, uint16_t stream, bool unordered, uint32_t ppid) override {
    return sent(conn_.send(std::move(m), info(stream, unordered, ppid)));
  }
  static SendInfo info(uint16_t stream, bool unordered, uint32_t ppid) {
    SendInfo si;
    si.stream = stream;
    si.unordered = unordered;
    si.ppid = ppid;
    return si;
  }
  bool sent(const Status& st) {
    if (!st) error_ = describe(st);
    return st.ok();
  }
  Rx receive(size_t, InMsg* out) override {
    // Into the last message: its buffer is reused for a later one.
    if (Status st = conn_.receive(last_); !st) {
      if (st.code() == Errc::Closed) return Rx::Eof;
      error_ = describe(st);
      return Rx::Error;
    }
    out->data = last_.data.data();
    out->size = last_.data.size();
    out->stream = last_.info.stream;
    out->unordered = last_.info.unordered;
    out->ppid = last_.info.ppid;
    return Rx::Ok;
  }
  bool close_gracefully() override {
    Status st = conn_.shutdown(std::chrono::seconds(60));
    if (!st && st.code() != Errc::Closed) {
      error_ = describe(st);
      return false;
    }
    return true;
  }
  void abort() override { conn_.abort("sctpp perf stopped"); }

 private:
  Connection conn_;
  ReceivedMessage last_;
};

bool write_all(int fd, const uint8_t* p, size_t n, std::string* err) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = std::string("TCP send: ") + std::strerror(errno);
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

class TcpChannel final : public Channel {
 public:
  explicit TcpChannel(int fd) : fd_(fd), buf_(256 * 1024) {}
  ~TcpChannel() override {
    if (fd_ >= 0) ::close(fd_);
  }
  bool send(const uint8_t* p, size_t n, uint16_t, bool, uint32_t) override {
    return write_all(fd_, p, n, &error_);
  }
  Rx receive(size_t expect, InMsg* out) override {
    if (end_ - begin_ < expect) {
      if (buf_.size() < expect * 2) buf_.resize(expect * 2);
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      while (end_ < expect) {
        ssize_t r = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
          error_ = std::string("TCP read: ") + std::strerror(errno);
          return Rx::Error;
        }
        if (r == 0) {
          if (end_ == 0) return Rx::Eof;
          error_ = "TCP connection closed in the middle of a message";
          return Rx::Error;
        }
        end_ += static_cast<size_t>(r);
      }
    }
    out->data = buf_.data() + begin_;
    out->size = expect;
    out->stream = 0;
    out->unordered = false;
    // Control messages are recognised by their magic on TCP.
    out->ppid = kDataPpid;
    if (expect == sizeof(ControlMsg)) {
      uint32_t magic;
      std::memcpy(&magic, out->data, 4);
      if (magic == kMagic) out->ppid = kControlPpid;
    }
    begin_ += expect;
    return Rx::Ok;
  }
  bool close_gracefully() override {
    ::shutdown(fd_, SHUT_WR);
    uint8_t tmp[4096];
    while (true) {
      ssize_t r = ::read(fd_, tmp, sizeof tmp);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
    }
    ::close(fd_);
    fd_ = -1;
    return true;
  }
  void abort() override {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }

 private:
  int fd_;
  std::vector<uint8_t> buf_;
  size_t begin_ = 0, end_ = 0;
};

}  // namespace

std::unique_ptr<Channel> sctp_channel(Connection conn) {
  return std::make_unique<SctpChannel>(std::move(conn));
}
std::unique_ptr<Channel> tcp_channel(int fd) {
  return std::make_unique<TcpChannel>(fd);
}

int tcp_listen(const IpAddress& ip, uint16_t port, int mss, std::string* error) {
  int fd = socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (ip.is_v6()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (mss > 0) setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(SocketAddress{ip, port}, &ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 4096) != 0) {
    *error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t tcp_local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

int tcp_connect(const SocketAddress& to, int mss, std::string* error) {
  int fd = socket(to.ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (mss > 0) setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(to, &ss);
  while (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno == EINTR) continue;
    *error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace sctpp::tool::perf
