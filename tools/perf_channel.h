// Message channels for `sctpp perf`: an SCTP association (sctpp::Connection) or a TCP
// connection carrying fixed-size messages, behind one interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "perf_common.h"
#include "sctpp/sctpp.h"

namespace sctpp::tool::perf {

struct InMsg {
  const uint8_t* data = nullptr;
  size_t size = 0;
  uint16_t stream = 0;
  bool unordered = false;
  uint32_t ppid = 0;
};

enum class Rx { Ok, Eof, Error };

class Channel {
 public:
  virtual ~Channel() = default;
  virtual bool send(const uint8_t* p, size_t n, uint16_t stream, bool unordered, uint32_t ppid) = 0;
  // The same for a message the channel may keep instead of copying (SCTP does).
  virtual bool send_shared(SharedMessage m, uint16_t stream, bool unordered, uint32_t ppid) {
    return send(m->data(), m->size(), stream, unordered, ppid);
  }
  // The next message; `expect` is its size (TCP frames by size). The data stays valid
  // until the next call.
  virtual Rx receive(size_t expect, InMsg* out) = 0;
  // Graceful close that waits until the peer has everything (SCTP SHUTDOWN; TCP FIN,
  // then the peer's FIN).
  virtual bool close_gracefully() = 0;
  virtual void abort() = 0;
  const std::string& error() const { return error_; }

  bool send_control(const ControlMsg& m) {
    return send(reinterpret_cast<const uint8_t*>(&m), sizeof m, 0, false, kControlPpid);
  }
  // Rx::Ok only for a well-formed control message.
  Rx receive_control(ControlMsg* m) {
    InMsg in;
    Rx r = receive(sizeof(ControlMsg), &in);
    if (r != Rx::Ok) return r;
    if (in.size != sizeof(ControlMsg) || in.ppid != kControlPpid) {
      error_ = "unexpected message on the control channel";
      return Rx::Error;
    }
    std::memcpy(m, in.data, sizeof *m);
    if (m->magic != kMagic) {
      error_ = "not an sctpp perf peer (bad control message)";
      return Rx::Error;
    }
    return Rx::Ok;
  }

 protected:
  std::string error_;
};

std::unique_ptr<Channel> sctp_channel(Connection conn);
// Takes ownership of the connected socket `fd`.
std::unique_ptr<Channel> tcp_channel(int fd);

// TCP helpers: a listener (port 0 = ephemeral, mss 0 = default) and a client socket.
int tcp_listen(const IpAddress& ip, uint16_t port, int mss, std::string* error);
uint16_t tcp_local_port(int fd);
int tcp_connect(const SocketAddress& to, int mss, std::string* error);

std::string describe(const Status& st);

}  // namespace sctpp::tool::perf
