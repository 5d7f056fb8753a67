// End-to-end tests of the C++ API: two stacks on loopback, real UDP sockets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "sctpp/sctpp.h"

namespace sctpp {
namespace {

using namespace std::chrono_literals;

const IpAddress kV4 = IpAddress::loopback(IpAddress::Family::V4);
const IpAddress kV6 = IpAddress::loopback(IpAddress::Family::V6);
constexpr uint16_t kPort = 5000;

std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

Stack make_stack(std::vector<IpAddress> addrs = {}, Tuning tuning = {}) {
  StackOptions o;
  o.udp_port = 0;
  o.local_addresses = std::move(addrs);
  o.tuning = tuning;
  auto s = Stack::create(o);
  EXPECT_TRUE(s.ok()) << s.status().reason();
  return std::move(*s);
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Stack>(make_stack({kV4}));
    client_ = std::make_unique<Stack>(make_stack());
    auto l = Listener::bind(*server_, std::vector<IpAddress>{kV4}, kPort);
    ASSERT_TRUE(l.ok()) << l.status().reason();
    listener_ = std::move(*l);
  }

  ConnectOptions options(uint16_t ostreams = 10) {
    ConnectOptions o;
    o.init.num_ostreams = ostreams;
    o.remote_udp_port = server_->udp_port();
    return o;
  }

  // Connects a client and accepts it on the server side.
  std::pair<Connection, Connection> pair(uint16_t ostreams = 10) {
    auto c = Connection::connect(*client_, SocketAddress{kV4, kPort}, options(ostreams), 10s);
    EXPECT_TRUE(c.ok()) << c.status().reason();
    auto s = listener_.accept(10s);
    EXPECT_TRUE(s.ok()) << s.status().reason();
    if (!c.ok() || !s.ok()) return {};
    return {std::move(*c), std::move(*s)};
  }

  std::unique_ptr<Stack> server_;
  std::unique_ptr<Stack> client_;
  Listener listener_;
};

TEST_F(ApiTest, ConnectAcceptAndAddresses) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  EXPECT_EQ(c.outbound_streams(), 10);
  EXPECT_EQ(s.inbound_streams(), 10);
  EXPECT_EQ(c.peer_port(), kPort);
  EXPECT_EQ(s.local_port(), kPort);
  EXPECT_EQ(s.peer_port(), c.local_port());
  EXPECT_EQ(c.local_port(), client_->udp_port());  // ephemeral: see runtime.h
  auto peers = c.peer_addresses();
  ASSERT_FALSE(peers.empty());
  EXPECT_EQ(peers[0], (SocketAddress{kV4, kPort}));
  auto locals = s.local_addresses();
  ASSERT_EQ(locals.size(), 1u);
  EXPECT_EQ(locals[0], (SocketAddress{kV4, kPort}));
  auto info = c.info();
  ASSERT_TRUE(info.ok()) << info.status().reason();
  EXPECT_EQ(info->state, "ESTABLISHED");
  EXPECT_EQ(info->peer_port, kPort);
  EXPECT_EQ(info->primary.port, server_->udp_port());
}

TEST_F(ApiTest, MessagesOnSeveralStreamsWithPpidsAndUnordered) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  for (uint16_t stream = 0; stream < 10; ++stream) {
    SendInfo si;
    si.stream = stream;
    si.ppid = 1000 + stream;
    si.unordered = stream % 3 == 0;
    ASSERT_TRUE(c.send("message on stream " + std::to_string(stream), si, 5s).ok());
  }
  for (int i = 0; i < 10; ++i) {
    auto m = s.receive(5s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    uint16_t stream = m->info.stream;
    EXPECT_EQ(m->text(), "message on stream " + std::to_string(stream));
    EXPECT_EQ(m->info.ppid, 1000u + stream);
    EXPECT_EQ(m->info.unordered, stream % 3 == 0);
    // Echo back on the same stream.
    SendInfo si;
    si.stream = stream;
    si.ppid = m->info.ppid;
    ASSERT_TRUE(s.send(m->data, si, 5s).ok());
  }
  std::vector<bool> seen(10);
  for (int i = 0; i < 10; ++i) {
    auto m = c.receive(5s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    seen[m->info.stream] = true;
  }
  for (bool b : seen) EXPECT_TRUE(b);
}

TEST_F(ApiTest, OrderPreservedOnAStream) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  const int n = 2000;
  std::thread sender([&] {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(c.send(std::to_string(i), {}, 10s).ok());
  });
  for (int i = 0; i < n; ++i) {
    auto m = s.receive(10s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    ASSERT_EQ(m->text(), std::to_string(i));
  }
  sender.join();
}

TEST_F(ApiTest, OneMebibyteMessageBothWays) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  std::vector<uint8_t> big(1 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + i / 256);
  ASSERT_TRUE(c.send(big, {}, 10s).ok());
  auto m = s.receive(20s);
  ASSERT_TRUE(m.ok()) << m.status().reason();
  ASSERT_EQ(m->data.size(), big.size());
  EXPECT_TRUE(m->data == big);
  ASSERT_TRUE(s.send(m->data, {}, 10s).ok());
  auto back = c.receive(20s);
  ASSERT_TRUE(back.ok()) << back.status().reason();
  EXPECT_TRUE(back->data == big);
}

TEST_F(ApiTest, GracefulCloseFromClient) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  ASSERT_TRUE(c.send("last words", {}, 5s).ok());
  Status st = c.shutdown(10s);
  EXPECT_TRUE(st.ok()) << st.reason();
  // The server still gets the data, then end of data.
  auto m = s.receive(5s);
  ASSERT_TRUE(m.ok()) << m.status().reason();
  EXPECT_EQ(m->text(), "last words");
  auto end = s.receive(5s);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.status().code(), Errc::Closed) << end.status().reason();
  EXPECT_TRUE(s.peer_shut_down());
  EXPECT_TRUE(s.shutdown(5s).ok());
  // After close, sending reports Closed.
  EXPECT_EQ(c.send("x", {}, 1s).code(), Errc::Closed);
}

TEST_F(ApiTest, GracefulCloseFromServer) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  Status st = s.shutdown(10s);
  EXPECT_TRUE(st.ok()) << st.reason();
  auto end = c.receive(5s);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.status().code(), Errc::Closed);
  EXPECT_TRUE(c.shutdown(5s).ok());
}

TEST_F(ApiTest, ShutdownDeliversQueuedData) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  std::string payload(100000, 'q');
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.send(payload, {}, 10s).ok());
  std::thread closer([&] { EXPECT_TRUE(c.shutdown(20s).ok()); });
  for (int i = 0; i < 20; ++i) {
    auto m = s.receive(10s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    EXPECT_EQ(m->data.size(), payload.size());
  }
  closer.join();
}

TEST_F(ApiTest, AbortWithReasonIsSeenByPeer) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  ASSERT_TRUE(c.abort("going away").ok());
  auto r = s.receive(5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::Aborted);
  EXPECT_NE(r.status().reason().find("going away"), std::string::npos) << r.status().reason();
  EXPECT_EQ(c.send("x", {}, 1s).code(), Errc::Aborted);
  EXPECT_EQ(s.send("x", {}, 1s).code(), Errc::Aborted);
}

// Two client processes on one host must not pick the same ephemeral SCTP port (the
// UDP port is no part of an association's identity: the server would take the second
// for a restart of the first and abort it). Each stack's UDP port is unique on the
// host, so its first ephemeral SCTP port is that number.
TEST_F(ApiTest, EphemeralSctpPortIsTheStacksUdpPort) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  EXPECT_EQ(c.local_port(), client_->udp_port());
  Stack other = make_stack();
  auto c2 = Connection::connect(other, SocketAddress{kV4, kPort}, options(), 10s);
  ASSERT_TRUE(c2.ok()) << c2.status().reason();
  EXPECT_EQ(c2->local_port(), other.udp_port());
  EXPECT_NE(c2->local_port(), c.local_port());
}

TEST_F(ApiTest, ConnectToPortNobodyListensOnIsRefusedFast) {
  auto t0 = std::chrono::steady_clock::now();
  auto c = Connection::connect(*client_, SocketAddress{kV4, kPort + 1}, options(), 10s);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Errc::Refused) << c.status().reason();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
}

// A UDP port on loopback that exists but never answers (an SCTP peer that is gone).
class SilentUdpPort {
 public:
  SilentUdpPort() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) return;
    socklen_t len = sizeof sin;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) == 0) port_ = ntohs(sin.sin_port);
  }
  ~SilentUdpPort() {
    if (fd_ >= 0) close(fd_);
  }
  SilentUdpPort(const SilentUdpPort&) = delete;
  SilentUdpPort& operator=(const SilentUdpPort&) = delete;
  uint16_t port() const { return port_; }  // 0 if it could not be bound

 private:
  int fd_;
  uint16_t port_ = 0;
};

// A stack whose INITs are retransmitted after 50 ms, not the RFC's 1 s.
Stack quick_retransmit_stack() {
  Tuning fast;
  fast.rto_initial = 50ms;
  fast.rto_min = 50ms;
  return make_stack({}, fast);
}

// A UDP port nobody has: the kernel answers the INIT with ICMP port unreachable,
// which RFC 6951 §5.5 maps to protocol unreachable and RFC 9260 Appendix C lets us
// take as an ABORT. The connect is refused at once, not after 9 INITs (~4 minutes).
TEST_F(ApiTest, ConnectToAUdpPortNobodyHasIsRefusedAtOnce) {
  for (const IpAddress& ip : {kV4, kV6}) {
    uint16_t free_port = 0;
    {
      SilentUdpPort s;  // bound once to learn a free port, then closed
      free_port = s.port();
    }
    ASSERT_NE(free_port, 0);
    ConnectOptions o = options();
    o.remote_udp_port = free_port;
    const auto t0 = std::chrono::steady_clock::now();
    auto c = Connection::connect(*client_, SocketAddress{ip, kPort}, o, 10s);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), Errc::Refused) << ip.to_string() << ": " << c.status().reason();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
  }
}

TEST_F(ApiTest, ConnectWithoutAnswerGivesUpAfterMaxAttempts) {
  SilentUdpPort silent;
  ASSERT_NE(silent.port(), 0);
  Stack quick = quick_retransmit_stack();
  ConnectOptions o;
  o.remote_udp_port = silent.port();
  o.init.max_attempts = 3;
  o.init.max_init_timeout = 100ms;
  auto t0 = std::chrono::steady_clock::now();
  auto c = Connection::connect(quick, SocketAddress{kV4, kPort}, o, 20s);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Errc::NoAnswer) << c.status().reason();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// Every endpoint of a stack has its deadlines behind one timer of the runtime
// (runtime.h): many connections that each retransmit their INIT on their own clock
// must all give up on time, none left waiting for its deadline to be noticed.
TEST_F(ApiTest, ManyConnectionsWithoutAnswerEachGiveUpOnTheirOwnClock) {
  SilentUdpPort silent;
  ASSERT_NE(silent.port(), 0);
  Stack quick = quick_retransmit_stack();
  constexpr int kConnections = 24;
  std::vector<std::thread> threads;
  std::vector<Status> results(kConnections);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] {
      // Started a little apart, with different limits: the deadlines interleave.
      std::this_thread::sleep_for(std::chrono::milliseconds(3 * i));
      ConnectOptions o;
      o.remote_udp_port = silent.port();
      o.init.max_attempts = 2 + i % 3;
      o.init.max_init_timeout = 100ms;
      auto c = Connection::connect(quick, SocketAddress{kV4, kPort}, o, 20s);
      results[static_cast<size_t>(i)] = c.ok() ? Status() : c.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_EQ(st.code(), Errc::NoAnswer) << st.reason();
  // The longest: 4 attempts, 50 + 100 + 100 ms of waits, plus the last one's 100 ms.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_F(ApiTest, ConnectDeadlineReportsTimeout) {
  SilentUdpPort silent;
  ASSERT_NE(silent.port(), 0);
  ConnectOptions o;
  o.remote_udp_port = silent.port();
  auto c = Connection::connect(*client_, SocketAddress{kV4, kPort}, o, 200ms);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Errc::Timeout);
}

TEST_F(ApiTest, StreamOutOfRange) {
  auto [c, s] = pair(4);
  ASSERT_TRUE(c && s);
  EXPECT_EQ(c.outbound_streams(), 4);
  SendInfo si;
  si.stream = 4;
  Status st = c.send("x", si, 1s);
  EXPECT_EQ(st.code(), Errc::InvalidStream);
  EXPECT_NE(st.reason().find("4"), std::string::npos) << st.reason();
  si.stream = 3;
  EXPECT_TRUE(c.send("x", si, 1s).ok());
}

TEST_F(ApiTest, MessageTooLargeAndEmpty) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  std::vector<uint8_t> huge(server_->options().tuning.max_message_size + 1);
  EXPECT_EQ(c.send(huge, {}, 1s).code(), Errc::MessageTooLarge);
  EXPECT_EQ(c.send(std::span<const uint8_t>(), {}, 1s).code(), Errc::InvalidArgument);
}

// A receiver of large messages that receives into one ReceivedMessage gets each
// message intact, and the stack builds later messages in the buffers it handed back
// (rather than allocating and faulting in fresh pages for each, see BufferPool).
TEST_F(ApiTest, ReceivingIntoOneMessageReusesItsBufferAndKeepsEveryMessageIntact) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  auto message = [](int i) {
    std::vector<uint8_t> m(64 * 1024);
    for (size_t k = 0; k < m.size(); ++k) m[k] = static_cast<uint8_t>(k * 31 + i * 7 + k / 251);
    return m;
  };
  ReceivedMessage into;
  const uint8_t* first = nullptr;
  for (int i = 0; i < 6; ++i) {
    SendInfo si;
    si.ppid = static_cast<uint32_t>(100 + i);
    ASSERT_TRUE(c.send(message(i), si, 5s).ok());
    ASSERT_TRUE(s.receive(into, 5s).ok());
    EXPECT_TRUE(into.data == message(i)) << "message " << i << " damaged";
    EXPECT_EQ(into.info.ppid, static_cast<uint32_t>(100 + i));
    if (i == 0) first = into.data.data();
    // Message 0's buffer went back when message 1 was received into its place; the
    // next message was assembled in it.
    if (i == 2) {
      EXPECT_EQ(into.data.data(), first);
    }
  }
  // A receive that fails leaves the message it would have replaced alone.
  EXPECT_EQ(s.receive(into, Deadline::expired()).code(), Errc::Timeout);
  EXPECT_TRUE(into.data == message(5));
}

// Messages handed over without a copy arrive intact, and each comes back through its
// deleter once the peer has acknowledged it: a sender can reuse its buffers.
TEST_F(ApiTest, SharedMessagesArriveIntactAndComeBackThroughTheirDeleters) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  auto content = [](int i) {
    std::vector<uint8_t> m(100 * 1000 + static_cast<size_t>(i));
    for (size_t k = 0; k < m.size(); ++k) m[k] = static_cast<uint8_t>(k * 29 + i * 5 + k / 253);
    return m;
  };
  // Shared with the deleters: one that runs late (a failed run) finds it alive.
  auto returned = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 5; ++i) {
    SharedMessage m(new std::vector<uint8_t>(content(i)),
                    [returned](const std::vector<uint8_t>* p) {
                      delete p;
                      ++*returned;
                    });
    SendInfo si;
    si.stream = static_cast<uint16_t>(i % 3);
    ASSERT_TRUE(c.send(std::move(m), si, 5s).ok());
  }
  for (int i = 0; i < 5; ++i) {
    auto got = s.receive(5s);
    ASSERT_TRUE(got.ok()) << got.status().reason();
    EXPECT_TRUE(got->data == content(i)) << "message " << i << " damaged";
  }
  const auto limit = std::chrono::steady_clock::now() + 5s;
  while (*returned < 5 && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(returned->load(), 5) << "messages still held after the peer had them all";
  EXPECT_EQ(c.send(SharedMessage(), {}, 1s).code(), Errc::InvalidArgument);
}

TEST_F(ApiTest, NonBlockingAndDeadlines) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  EXPECT_EQ(s.try_receive().status().code(), Errc::WouldBlock);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.receive(50ms).status().code(), Errc::Timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
  EXPECT_EQ(listener_.try_accept().status().code(), Errc::WouldBlock);
  EXPECT_EQ(listener_.accept(20ms).status().code(), Errc::Timeout);
  ASSERT_TRUE(c.try_send(bytes("hi")).ok());
  Result<ReceivedMessage> m = Status(Errc::WouldBlock);
  for (int i = 0; i < 500 && !m.ok(); ++i) {
    m = s.try_receive();
    if (!m.ok()) std::this_thread::sleep_for(2ms);
  }
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text(), "hi");
}

TEST_F(ApiTest, ReadWriteConvenience) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  auto w = c.write(bytes("0123456789"), 5s);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, 10u);
  std::vector<uint8_t> buf(4);
  std::string got;
  while (got.size() < 10) {
    auto r = s.read(buf, 5s);
    ASSERT_TRUE(r.ok()) << r.status().reason();
    got.append(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(*r));
  }
  EXPECT_EQ(got, "0123456789");
  ASSERT_TRUE(c.shutdown(5s).ok());
  auto eof = s.read(buf, 5s);
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(*eof, 0u);
}

TEST_F(ApiTest, ListenerCloseWakesAccept) {
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    listener_.close();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = listener_.accept(60s);
  closer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::Closed);
  // The port is free again and nobody answers on it: refused.
  auto c = Connection::connect(*client_, SocketAddress{kV4, kPort}, options(), 5s);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Errc::Refused);
}

// A thread blocked in receive() reads the sockets itself (net::Runtime::wait): what
// another thread does to its association must still wake it.
TEST_F(ApiTest, AbortFromAnotherThreadWakesABlockedReceive) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  const auto t0 = std::chrono::steady_clock::now();
  std::thread aborter([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(s.abort("from another thread").ok());
  });
  auto r = s.receive(60s);
  aborter.join();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), Errc::Timeout) << r.status().reason();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  // The peer learns of it as well, while it too waits in receive().
  auto rc = c.receive(30s);
  ASSERT_FALSE(rc.ok());
  EXPECT_NE(rc.status().code(), Errc::Timeout) << rc.status().reason();
}

// After user threads have read the sockets themselves (a blocking receive, or sends
// that read the peer's acknowledgements), the I/O thread must take them back once those
// threads stop calling: here no thread calls into the server's stack while the
// client's SHUTDOWN waits for its answer.
TEST_F(ApiTest, PacketsAreHandledAfterTheThreadsThatReadStopCalling) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(c.send("m").ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(s.receive(10s).ok());
  // The server's user thread is gone from its stack; the client shuts down.
  std::this_thread::sleep_for(20ms);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.shutdown(10s).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  auto end = s.receive(10s);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.status().code(), Errc::Closed);
}

// The first quartile of `v`: load only ever adds delay, so the lower quarter of the
// rounds shows what the code does and the rest what else ran on the machine. (The
// median once failed by 12 us with two busy loops and another test beside this one.)
[[maybe_unused]] std::chrono::microseconds first_quartile(
    std::vector<std::chrono::steady_clock::duration> v) {
  std::sort(v.begin(), v.end());
  return std::chrono::duration_cast<std::chrono::microseconds>(v[v.size() / 4]);
}

// A burst of sends has its packets held for one system call with the next ones
// (runtime.h, coalescing). When the sending thread stops calling into its stack right
// after a burst, the held tail must still leave within about 400 us (the I/O thread's
// timer). Without that timer it would wait until the I/O thread takes the sockets back
// and reads an acknowledgement, 1 ms or more after the last send (measured with the
// timer taken out: 1.10-1.17 ms, against 0.44-0.49 ms with it). The bound is on top of
// the delay of a lone message, which nothing holds, measured in the same rounds: on a
// loaded machine (CI runs tests side by side) every delivery is slower, not only a
// held one. Under ASan or TSan only the messages are checked: too slow for the bound.
TEST_F(ApiTest, TheTailOfABurstLeavesSoonWhenTheSenderStopsCalling) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  // 8 sends start the burst; the next 5 are held (fewer than a full batch).
  constexpr int kSends = 13;
  std::vector<std::chrono::steady_clock::duration> tails, lone;
  for (int round = 0; round < 21; ++round) {
    const auto alone = std::chrono::steady_clock::now();
    ASSERT_TRUE(c.send("lone").ok());
    auto first = s.receive(10s);
    ASSERT_TRUE(first.ok()) << first.status().reason();
    EXPECT_EQ(first->data, bytes("lone"));
    lone.push_back(std::chrono::steady_clock::now() - alone);
    std::this_thread::sleep_for(2ms);
    for (int i = 0; i < kSends; ++i)
      ASSERT_TRUE(c.send(std::string(100, static_cast<char>('a' + i))).ok());
    // From here on nothing calls into the client's stack.
    const auto sent = std::chrono::steady_clock::now();
    for (int i = 0; i < kSends; ++i) {
      auto m = s.receive(10s);
      ASSERT_TRUE(m.ok()) << m.status().reason();
      EXPECT_EQ(m->data, bytes(std::string(100, static_cast<char>('a' + i))));
    }
    tails.push_back(std::chrono::steady_clock::now() - sent);
    std::this_thread::sleep_for(2ms);
  }
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  const auto tail = first_quartile(tails);
  EXPECT_LT(tail, 750us + first_quartile(lone)) << "first quartile of a burst's tail";
  RecordProperty("tail_q1_us", static_cast<int>(tail.count()));
#endif
}

// A graceful shutdown right after a burst of sends: when shutdown() returns, the
// SHUTDOWN COMPLETE has left (it was once held for a train like the burst's DATA, and
// lost when the program then ended), so the peer's association closes at once instead
// of retransmitting its SHUTDOWN ACK to a port nobody serves any more.
TEST_F(ApiTest, ShutdownRightAfterABurstClosesThePeerToo) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  constexpr int kMessages = 2000;
  for (int i = 0; i < kMessages; ++i)
    ASSERT_TRUE(c.send(std::string(1000, static_cast<char>('a' + i % 26))).ok());
  std::thread reader([&s] {
    for (int i = 0; i < kMessages; ++i) {
      auto m = s.receive(10s);
      ASSERT_TRUE(m.ok()) << m.status().reason();
      ASSERT_EQ(m->data, bytes(std::string(1000, static_cast<char>('a' + i % 26))));
    }
  });
  ASSERT_TRUE(c.shutdown(10s).ok());
  { auto gone = std::move(c); }
  client_.reset();  // the program ends: nothing is left to answer a retransmission
  reader.join();
  const auto until = std::chrono::steady_clock::now() + 500ms;
  std::string state;
  while (std::chrono::steady_clock::now() < until) {
    auto info = s.info();
    state = info.ok() ? info->state : "gone";
    if (state == "CLOSED" || state == "gone") break;
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(state == "CLOSED" || state == "gone") << "peer still in " << state;
}

TEST_F(ApiTest, BlockedReceiveHonoursItsDeadline) {
  auto [c, s] = pair();
  ASSERT_TRUE(c && s);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = s.receive(150ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::Timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
  // Still usable afterwards.
  ASSERT_TRUE(c.send("late").ok());
  auto m = s.receive(10s);
  ASSERT_TRUE(m.ok()) << m.status().reason();
  EXPECT_EQ(m->data, bytes("late"));
}

// Several threads blocked at once on one stack: one reads the sockets, the others
// sleep until it (or the I/O thread) hands them their message. Each must get exactly
// its own, round after round, in both directions.
TEST_F(ApiTest, ThreadsBlockedOnSeveralConnectionsEachGetTheirMessages) {
  constexpr int kPairs = 4;
  constexpr int kRounds = 200;
  std::vector<Connection> cs, ss;
  for (int i = 0; i < kPairs; ++i) {
    auto [c, s] = pair();
    ASSERT_TRUE(c && s);
    cs.push_back(std::move(c));
    ss.push_back(std::move(s));
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kPairs; ++i) {
    threads.emplace_back([&, i] {  // server side: echo with the pair's tag
      for (int r = 0; r < kRounds; ++r) {
        auto m = ss[i].receive(30s);
        if (!m.ok() || !ss[i].send(std::span<const uint8_t>(m->data)).ok()) {
          ++failures;
          return;
        }
      }
    });
    threads.emplace_back([&, i] {  // client side: ping, wait for the echo
      for (int r = 0; r < kRounds; ++r) {
        const std::string ping = std::to_string(i) + ":" + std::to_string(r);
        if (!cs[i].send(ping).ok()) {
          ++failures;
          return;
        }
        auto m = cs[i].receive(30s);
        if (!m.ok() || m->data != bytes(ping)) {
          ++failures;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ApiTest, SecondListenerOnSamePortFails) {
  auto l = Listener::bind(*server_, std::vector<IpAddress>{kV4}, kPort);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), Errc::AddressInUse);
}

TEST_F(ApiTest, ManyConcurrentAssociations) {
  const int n = 16;
  std::vector<std::thread> servers;
  std::thread acceptor([&] {
    for (int i = 0; i < n; ++i) {
      auto s = listener_.accept(10s);
      ASSERT_TRUE(s.ok());
      servers.emplace_back([conn = std::move(*s)]() mutable {
        while (true) {
          auto m = conn.receive(10s);
          if (!m.ok()) break;
          SendInfo si;
          si.stream = m->info.stream;
          if (!conn.send(m->data, si, 10s).ok()) break;
        }
      });
    }
  });
  std::vector<std::thread> clients;
  std::atomic<int> good{0};
  for (int i = 0; i < n; ++i) {
    clients.emplace_back([&, i] {
      auto c = Connection::connect(*client_, SocketAddress{kV4, kPort}, options(), 10s);
      ASSERT_TRUE(c.ok()) << c.status().reason();
      for (int k = 0; k < 20; ++k) {
        std::string msg = std::to_string(i) + ":" + std::to_string(k);
        SendInfo si;
        si.stream = static_cast<uint16_t>(k % 10);
        ASSERT_TRUE(c->send(msg, si, 10s).ok());
        auto m = c->receive(10s);
        ASSERT_TRUE(m.ok()) << m.status().reason();
        ASSERT_EQ(m->text(), msg);
      }
      EXPECT_TRUE(c->shutdown(10s).ok());
      ++good;
    });
  }
  for (auto& t : clients) t.join();
  acceptor.join();
  for (auto& t : servers) t.join();
  EXPECT_EQ(good, n);
}

TEST(ApiIpv6, ConnectOverIpv6Loopback) {
  Stack server = make_stack({kV6});
  Stack client = make_stack();
  auto l = Listener::bind(server, std::vector<IpAddress>{kV6}, kPort);
  ASSERT_TRUE(l.ok()) << l.status().reason();
  ConnectOptions o;
  o.remote_udp_port = server.udp_port();
  auto c = Connection::connect(client, SocketAddress{kV6, kPort}, o, 10s);
  ASSERT_TRUE(c.ok()) << c.status().reason();
  auto s = l->accept(5s);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(c->send("over v6", {}, 5s).ok());
  auto m = s->receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text(), "over v6");
  auto peers = s->peer_addresses();
  ASSERT_FALSE(peers.empty());
  EXPECT_EQ(peers[0].ip, kV6);
  EXPECT_TRUE(c->shutdown(5s).ok());
}

TEST(ApiStack, TinySocketBuffersStillDeliverEverything) {
  // UDP send buffers this small fill up at once: exercises the runtime's
  // blocked-socket path (pending datagrams, EPOLLOUT, resumed flushing).
  auto tiny = [](std::vector<IpAddress> addrs) {
    StackOptions o;
    o.udp_port = 0;
    o.local_addresses = std::move(addrs);
    o.socket_buffer = 4096;
    auto s = Stack::create(o);
    EXPECT_TRUE(s.ok());
    return std::move(*s);
  };
  Stack server = tiny({kV4});
  Stack client = tiny({});
  auto l = Listener::bind(server, std::vector<IpAddress>{kV4}, kPort);
  ASSERT_TRUE(l.ok());
  ConnectOptions o;
  o.remote_udp_port = server.udp_port();
  auto c = Connection::connect(client, SocketAddress{kV4, kPort}, o, 10s);
  ASSERT_TRUE(c.ok()) << c.status().reason();
  auto s = l->accept(5s);
  ASSERT_TRUE(s.ok());
  std::vector<uint8_t> big(2 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i % 251);
  std::thread sender([&] {
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(c->send(big, {}, 30s).ok());
  });
  for (int i = 0; i < 4; ++i) {
    auto m = s->receive(30s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    EXPECT_TRUE(m->data == big);
  }
  sender.join();
  EXPECT_TRUE(c->shutdown(10s).ok());
}

TEST(ApiStack, UdpPortInUse) {
  Stack a = make_stack({kV4});
  StackOptions o;
  o.udp_port = a.udp_port();
  o.local_addresses = {kV4};
  auto b = Stack::create(o);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Errc::AddressInUse);
}

// The spin before sleeping is a CPU-for-latency trade the user sets; a malformed
// setting must not silently become some other value.
TEST(ApiStack, MalformedSpinSettingIsRefusedByName) {
  StackOptions o;
  o.udp_port = 0;
  o.local_addresses = {kV4};
  ::setenv("SCTPP_SPIN_US", "50us", 1);
  auto bad_env = Stack::create(o);
  ::unsetenv("SCTPP_SPIN_US");
  ASSERT_FALSE(bad_env.ok());
  EXPECT_EQ(bad_env.status().code(), Errc::InvalidArgument);
  EXPECT_NE(bad_env.status().reason().find("SCTPP_SPIN_US"), std::string::npos)
      << bad_env.status().reason();
  o.spin = std::chrono::microseconds(-1);
  auto bad_option = Stack::create(o);
  ASSERT_FALSE(bad_option.ok());
  EXPECT_NE(bad_option.status().reason().find("spin"), std::string::npos);
}

// Spinning on or off, a blocked receive gets its message and a deadline shorter than
// the spin is still kept.
TEST(ApiStack, SpinSettingsKeepMessagesAndDeadlines) {
  for (auto spin : {std::chrono::microseconds(0), std::chrono::microseconds(1000000)}) {
    StackOptions o;
    o.udp_port = 0;
    o.local_addresses = {kV4};
    o.spin = spin;
    auto server = Stack::create(o);
    auto client = Stack::create(o);
    ASSERT_TRUE(server.ok() && client.ok());
    auto listener = Listener::bind(*server, std::vector<IpAddress>{kV4}, kPort + 7);
    ASSERT_TRUE(listener.ok()) << listener.status().reason();
    ConnectOptions co;
    co.remote_udp_port = server->udp_port();
    auto conn = Connection::connect(*client, SocketAddress{kV4, kPort + 7}, co, 10s);
    ASSERT_TRUE(conn.ok()) << conn.status().reason();
    auto peer = listener->accept(10s);
    ASSERT_TRUE(peer.ok()) << peer.status().reason();
    const auto t0 = std::chrono::steady_clock::now();
    auto none = peer->receive(20ms);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.status().code(), Errc::Timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms) << "spin " << spin.count();
    std::thread sender([&] {
      std::this_thread::sleep_for(5ms);
      EXPECT_TRUE(conn->send("spun").ok());
    });
    auto got = peer->receive(10s);
    sender.join();
    ASSERT_TRUE(got.ok()) << got.status().reason();
    EXPECT_EQ(got->data, bytes("spun"));
  }
}

TEST(ApiStack, TuningOutOfRangeIsRefusedByName) {
  struct Case {
    const char* field;
    void (*set)(Tuning&);
  };
  const Case cases[] = {
      {"path_mtu", [](Tuning& t) { t.path_mtu = 100; }},
      {"rto_initial", [](Tuning& t) { t.rto_initial = 10ms; }},  // below rto_min
      {"delayed_ack", [](Tuning& t) { t.delayed_ack = 600ms; }},
      {"sack_freq", [](Tuning& t) { t.sack_freq = 0; }},
      {"max_burst", [](Tuning& t) { t.max_burst = -1; }},
      {"receive_buffer", [](Tuning& t) { t.receive_buffer = 100; }},
      {"valid_cookie_life", [](Tuning& t) { t.valid_cookie_life = 0ms; }},
      {"cookie_secret_rotation", [](Tuning& t) { t.cookie_secret_rotation = 1s; }},
  };
  for (const Case& c : cases) {
    StackOptions o;
    o.udp_port = 0;
    c.set(o.tuning);
    auto s = Stack::create(o);
    ASSERT_FALSE(s.ok()) << c.field;
    EXPECT_EQ(s.status().code(), Errc::InvalidArgument) << c.field;
    EXPECT_NE(s.status().reason().find(c.field), std::string::npos) << s.status().reason();
  }
}

TEST(ApiStack, ListenerAssociationLimitRefusesTheNextPeer) {
  Stack server = make_stack({kV4});
  Stack client = make_stack();
  ListenOptions lo;
  lo.max_associations = 2;
  auto l = Listener::bind(server, std::vector<IpAddress>{kV4}, kPort, lo);
  ASSERT_TRUE(l.ok()) << l.status().reason();
  ConnectOptions o;
  o.remote_udp_port = server.udp_port();
  auto a = Connection::connect(client, SocketAddress{kV4, kPort}, o, 10s);
  auto b = Connection::connect(client, SocketAddress{kV4, kPort}, o, 10s);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = Connection::connect(client, SocketAddress{kV4, kPort}, o, 10s);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Errc::Refused) << c.status().reason();
  // Once one is closed and released on both sides, a new peer gets in. The server
  // side counts until its SHUTDOWN COMPLETE arrives, a moment after the client's
  // shutdown() returns: retry briefly.
  auto sa = l->accept(10s);
  ASSERT_TRUE(sa.ok());
  ASSERT_TRUE(a->shutdown(10s).ok());
  EXPECT_EQ(sa->receive(10s).status().code(), Errc::Closed);
  *sa = Connection();
  auto d = Connection::connect(client, SocketAddress{kV4, kPort}, o, 10s);
  for (auto until = std::chrono::steady_clock::now() + 5s;
       !d.ok() && d.status().code() == Errc::Refused && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(10ms);
    d = Connection::connect(client, SocketAddress{kV4, kPort}, o, 10s);
  }
  EXPECT_TRUE(d.ok()) << d.status().reason();
}

TEST(ApiStack, DroppedConnectionShutsDownInBackground) {
  Stack server = make_stack({kV4});
  auto l = Listener::bind(server, std::vector<IpAddress>{kV4}, kPort);
  ASSERT_TRUE(l.ok());
  {
    Stack client = make_stack();
    ConnectOptions o;
    o.remote_udp_port = server.udp_port();
    auto c = Connection::connect(client, SocketAddress{kV4, kPort}, o, 10s);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->send("bye", {}, 5s).ok());
    // c and client go out of scope: graceful shutdown during the stack's linger.
  }
  auto s = l->accept(5s);
  ASSERT_TRUE(s.ok());
  auto m = s->receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text(), "bye");
  auto end = s->receive(5s);
  EXPECT_EQ(end.status().code(), Errc::Closed) << end.status().reason();
}

}  // namespace
}  // namespace sctpp
