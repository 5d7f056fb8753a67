// End-to-end tests of the one-to-many C++ API (PacketSocket), notifications and
// peeloff, and of Connection notifications / set_primary / paths: real UDP sockets
// on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sctpp/sctpp.h"

namespace sctpp {
namespace {

using namespace std::chrono_literals;

const IpAddress kV4 = IpAddress::loopback(IpAddress::Family::V4);
constexpr uint16_t kPort = 5100;

Stack make_stack(Tuning tuning = {}) {
  StackOptions o;
  o.udp_port = 0;
  o.tuning = tuning;
  auto s = Stack::create(o);
  EXPECT_TRUE(s.ok()) << s.status().reason();
  return std::move(*s);
}

std::string text(const std::vector<uint8_t>& d) {
  return {d.begin(), d.end()};
}

// The next event that is a message (notifications are collected in *notes).
ReceivedMessage next_message(PacketSocket& s, std::vector<Notification>* notes = nullptr,
                             Deadline dl = 10s) {
  while (true) {
    auto ev = s.receive(dl);
    EXPECT_TRUE(ev.ok()) << ev.status().reason();
    if (!ev.ok()) return {};
    if (auto* m = std::get_if<ReceivedMessage>(&*ev)) return std::move(*m);
    if (notes) notes->push_back(std::get<Notification>(*ev));
  }
}

// The next notification (messages are not expected: they fail the test).
Notification next_note(PacketSocket& s, Deadline dl = 10s) {
  auto ev = s.receive(dl);
  EXPECT_TRUE(ev.ok()) << ev.status().reason();
  if (!ev.ok()) return ShutdownEvent{};
  auto* n = std::get_if<Notification>(&*ev);
  EXPECT_NE(n, nullptr) << "a message where a notification was expected";
  return n ? *n : Notification(ShutdownEvent{});
}

// Waits for an AssocChange with `state` on association `id` (other events skipped).
AssocChange wait_change(PacketSocket& s, uint32_t id, AssocChangeState state, Deadline dl = 10s) {
  while (true) {
    auto ev = s.receive(dl);
    EXPECT_TRUE(ev.ok()) << ev.status().reason();
    if (!ev.ok()) return {};
    if (auto* n = std::get_if<Notification>(&*ev)) {
      if (auto* c = std::get_if<AssocChange>(n); c && c->assoc_id == id && c->state == state)
        return *c;
    }
  }
}

class PacketSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_stack_ = std::make_unique<Stack>(make_stack());
    client_stack_ = std::make_unique<Stack>(make_stack());
    PacketSocketOptions so;
    so.events = EventSubscription::all();
    so.events.sender_dry = false;
    auto s = PacketSocket::open(*server_stack_, std::vector<IpAddress>{kV4}, kPort, so);
    ASSERT_TRUE(s.ok()) << s.status().reason();
    server_ = std::move(*s);
  }
  PacketSocketOptions client_options(EventSubscription ev = {.association = true}) {
    PacketSocketOptions o;
    o.listen = false;
    o.remote_udp_port = server_stack_->udp_port();
    o.events = ev;
    return o;
  }
  PacketSocket client(EventSubscription ev = {.association = true}) {
    auto c = PacketSocket::open(*client_stack_, 0, client_options(ev));
    EXPECT_TRUE(c.ok()) << c.status().reason();
    return std::move(*c);
  }
  SocketAddress server_address() const { return {kV4, kPort}; }

  std::unique_ptr<Stack> server_stack_;
  std::unique_ptr<Stack> client_stack_;
  PacketSocket server_;
};

TEST_F(PacketSocketTest, ImplicitSetupEchoAndReceiveInfo) {
  PacketSocket c = client();
  SendInfo si;
  si.stream = 3;
  si.ppid = 51;
  si.unordered = true;
  auto id = c.send_to(server_address(), "hello", si);
  ASSERT_TRUE(id.ok()) << id.status().reason();
  EXPECT_EQ(c.association_with(server_address()), *id);

  // Server: COMM_UP first, then the message tagged with its association.
  Notification up = next_note(server_);
  auto* ac = std::get_if<AssocChange>(&up);
  ASSERT_NE(ac, nullptr) << describe(up);
  EXPECT_EQ(ac->state, AssocChangeState::CommUp);
  EXPECT_EQ(ac->outbound_streams, 10);
  EXPECT_EQ(ac->inbound_streams, 10);
  ReceivedMessage m = next_message(server_);
  EXPECT_EQ(m.text(), "hello");
  EXPECT_EQ(m.info.stream, 3);
  EXPECT_EQ(m.info.ppid, 51u);
  EXPECT_TRUE(m.info.unordered);
  EXPECT_EQ(m.info.assoc_id, ac->assoc_id);
  EXPECT_EQ(m.from.ip, kV4);
  EXPECT_EQ(m.from.port, c.port());
  EXPECT_EQ(server_.associations(), std::vector<uint32_t>{ac->assoc_id});

  // Echo on the association; the client sees COMM_UP, then the echo.
  SendInfo back;
  back.stream = m.info.stream;
  back.ppid = m.info.ppid;
  ASSERT_TRUE(server_.send_to(m.info.assoc_id, m.data, back, 5s).ok());
  std::vector<Notification> notes;
  ReceivedMessage echo = next_message(c, &notes);
  EXPECT_EQ(echo.text(), "hello");
  EXPECT_EQ(echo.info.assoc_id, *id);
  EXPECT_EQ(echo.info.stream, 3);
  EXPECT_EQ(echo.from, server_address());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(std::get<AssocChange>(notes[0]).state, AssocChangeState::CommUp);
}

// Messages handed over without a copy, both ways: the client's first one sets the
// association up (it travels with the COOKIE ECHO), the server answers on the
// association. Each arrives intact and comes back through its deleter once
// acknowledged.
TEST_F(PacketSocketTest, SharedMessagesArriveAndComeBackThroughTheirDeleters) {
  auto pattern = [](size_t n, int seed) {
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 11 + i / 301 + seed);
    return b;
  };
  // Shared with the deleters: one that runs late (a failed run) finds it alive.
  auto returned = std::make_shared<std::atomic<int>>(0);
  auto shared = [&](const std::vector<uint8_t>& bytes) {
    return SharedMessage(new std::vector<uint8_t>(bytes),
                         [returned](const std::vector<uint8_t>* p) {
                           delete p;
                           ++*returned;
                         });
  };
  const std::vector<uint8_t> hello = pattern(3000, 1), answer = pattern(40000, 2);
  PacketSocket c = client();
  auto id = c.send_to(server_address(), shared(hello));
  ASSERT_TRUE(id.ok()) << id.status().reason();
  ReceivedMessage m = next_message(server_);
  EXPECT_TRUE(m.data == hello);

  SendInfo si;
  si.stream = 2;
  ASSERT_TRUE(server_.send_to(m.info.assoc_id, shared(answer), si, 5s).ok());
  ReceivedMessage got = next_message(c);
  EXPECT_TRUE(got.data == answer);
  EXPECT_EQ(got.info.stream, 2);
  const auto limit = std::chrono::steady_clock::now() + 5s;
  while (*returned < 2 && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(returned->load(), 2) << "still held after the peer had it";
  EXPECT_EQ(server_.send_to(m.info.assoc_id, SharedMessage(), {}, 1s).code(),
            Errc::InvalidArgument);
  EXPECT_EQ(c.send_to(server_address(), SharedMessage()).status().code(), Errc::InvalidArgument);
}

TEST_F(PacketSocketTest, FirstMessageTravelsWithCookieEcho) {
  PacketSocket c = client();
  auto id = c.send_to(server_address(), "first");
  ASSERT_TRUE(id.ok()) << id.status().reason();
  wait_change(c, *id, AssocChangeState::CommUp);
  // INIT, then COOKIE ECHO with the DATA bundled: two packets, not three.
  auto info = c.info(*id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->packets_sent, 2u);
  EXPECT_EQ(next_message(server_).text(), "first");
}

TEST_F(PacketSocketTest, ExplicitConnectAndManyAssociations) {
  std::vector<PacketSocket> clients;
  std::vector<uint32_t> ids;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(client());
    auto id = clients.back().connect(server_address(), 10s);
    ASSERT_TRUE(id.ok()) << id.status().reason();
    ids.push_back(*id);
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(clients[i].send_to(ids[i], "msg " + std::to_string(i)).ok());
  }
  std::set<std::string> got;
  std::set<uint32_t> assocs;
  for (int i = 0; i < 20; ++i) {
    ReceivedMessage m = next_message(server_);
    got.insert(std::string(m.text()));
    assocs.insert(m.info.assoc_id);
    ASSERT_TRUE(server_.send_to(m.info.assoc_id, m.data).ok());
  }
  EXPECT_EQ(got.size(), 20u);
  EXPECT_EQ(assocs.size(), 20u);
  EXPECT_EQ(server_.associations().size(), 20u);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(next_message(clients[i]).text(), "msg " + std::to_string(i));
}

TEST_F(PacketSocketTest, EofShutsDownGracefullyAfterTheMessage) {
  PacketSocket c = client();
  SendInfo si;
  si.flags = SendFlags::Eof;
  auto id = c.send_to(server_address(), "last words", si);  // EOF before COMM_UP
  ASSERT_TRUE(id.ok()) << id.status().reason();
  std::vector<Notification> notes;
  ReceivedMessage m = next_message(server_, &notes);
  EXPECT_EQ(m.text(), "last words");
  // Then SHUTDOWN_EVENT and SHUTDOWN_COMP, after the data.
  Notification n1 = next_note(server_);
  EXPECT_TRUE(std::holds_alternative<ShutdownEvent>(n1)) << describe(n1);
  AssocChange done = wait_change(server_, m.info.assoc_id, AssocChangeState::ShutdownComplete);
  EXPECT_TRUE(done.status.ok());
  wait_change(c, *id, AssocChangeState::ShutdownComplete);
  EXPECT_TRUE(c.associations().empty());
  EXPECT_TRUE(server_.associations().empty());
  // The association is gone: sending on it fails.
  EXPECT_EQ(c.send_to(*id, "more").code(), Errc::NotConnected);
}

TEST_F(PacketSocketTest, AbortCarriesTheMessageAsReason) {
  PacketSocket c = client();
  auto id = c.send_to(server_address(), "hi");
  ASSERT_TRUE(id.ok());
  ReceivedMessage m = next_message(server_);
  SendInfo si;
  si.flags = SendFlags::Abort;
  ASSERT_TRUE(c.send_to(*id, "going away", si).ok());
  AssocChange lost = wait_change(server_, m.info.assoc_id, AssocChangeState::CommLost);
  EXPECT_EQ(lost.status.code(), Errc::Aborted);
  EXPECT_NE(lost.status.reason().find("going away"), std::string::npos) << lost.status.reason();
  AssocChange mine = wait_change(c, *id, AssocChangeState::CommLost);
  EXPECT_NE(mine.status.reason().find("going away"), std::string::npos);
}

TEST_F(PacketSocketTest, SendFailedCarriesUndeliveredData) {
  // A peer that never answers (a plain UDP socket swallows the INITs); abort while
  // the data waits.
  int sink = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(sink, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sink, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(::getsockname(sink, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  PacketSocketOptions o = client_options({.association = true, .send_failure = true});
  o.remote_udp_port = ntohs(sa.sin_port);
  auto opened = PacketSocket::open(*client_stack_, 0, o);
  ASSERT_TRUE(opened.ok());
  PacketSocket c = std::move(*opened);
  auto id = c.send_to(SocketAddress{kV4, 5999}, "never delivered");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(c.abort(*id, "give up").ok());
  bool failed = false, lost = false;
  for (int i = 0; i < 2; ++i) {
    Notification n = next_note(c);
    if (auto* sf = std::get_if<SendFailedEvent>(&n)) {
      failed = true;
      EXPECT_EQ(text(sf->data), "never delivered");
      EXPECT_FALSE(sf->sent);
    } else if (auto* ac = std::get_if<AssocChange>(&n)) {
      lost =
          ac->state == AssocChangeState::CommLost || ac->state == AssocChangeState::CantStartAssoc;
    }
  }
  EXPECT_TRUE(failed);
  EXPECT_TRUE(lost);
  ::close(sink);
}

TEST_F(PacketSocketTest, ConnectToNobodyFails) {
  PacketSocketOptions o = client_options();
  o.init.max_attempts = 1;
  o.init.max_init_timeout = 200ms;
  auto c = PacketSocket::open(*client_stack_, 0, o);
  ASSERT_TRUE(c.ok());
  // Port 5998 has no endpoint on the server stack: ABORT (out of the blue).
  auto r = c->connect(SocketAddress{kV4, 5998}, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::Refused) << r.status().reason();
}

TEST_F(PacketSocketTest, AutocloseShutsIdleAssociationsDown) {
  PacketSocketOptions so;
  so.autoclose = 1s;
  auto srv = PacketSocket::open(*server_stack_, std::vector<IpAddress>{kV4}, kPort + 1, so);
  ASSERT_TRUE(srv.ok());
  PacketSocket c = client();
  auto id = c.send_to(SocketAddress{kV4, kPort + 1}, "ping");
  ASSERT_TRUE(id.ok());
  ReceivedMessage m = next_message(*srv);
  const auto t0 = std::chrono::steady_clock::now();
  wait_change(*srv, m.info.assoc_id, AssocChangeState::ShutdownComplete, 10s);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 500ms);
  wait_change(c, *id, AssocChangeState::ShutdownComplete, 10s);
}

TEST_F(PacketSocketTest, PeeloffKeepsEveryMessageInOrder) {
  PacketSocket c = client();
  auto id = c.send_to(server_address(), "0");
  ASSERT_TRUE(id.ok());
  constexpr int kCount = 300;
  for (int i = 1; i < kCount; ++i) {
    SendInfo si;
    si.stream = static_cast<uint16_t>(i % 2);
    ASSERT_TRUE(c.send_to(*id, std::to_string(i), si, 5s).ok());
  }
  ReceivedMessage first = next_message(server_);
  EXPECT_EQ(first.text(), "0");
  // Let more arrive and queue up in the socket, then branch the association off.
  std::this_thread::sleep_for(50ms);
  auto conn = server_.peeloff(first.info.assoc_id);
  ASSERT_TRUE(conn.ok()) << conn.status().reason();
  EXPECT_TRUE(server_.associations().empty());
  EXPECT_EQ(server_.send_to(first.info.assoc_id, "x").code(), Errc::NotConnected);
  int expected[2] = {2, 1};  // next per stream: evens on 0, odds on 1
  for (int i = 1; i < kCount; ++i) {
    auto m = conn->receive(5s);
    ASSERT_TRUE(m.ok()) << m.status().reason() << " after " << i;
    int v = std::stoi(std::string(m->text()));
    EXPECT_EQ(v, expected[m->info.stream]);
    expected[m->info.stream] += 2;
  }
  // The conversation goes on, on the new connection.
  ASSERT_TRUE(conn->send("after peeloff").ok());
  EXPECT_EQ(next_message(c).text(), "after peeloff");
  ASSERT_TRUE(c.send_to(*id, "to the connection").ok());
  auto m = conn->receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text(), "to the connection");
  // Nothing of it reaches the socket any more.
  EXPECT_EQ(server_.try_receive().status().code(), Errc::WouldBlock);
  EXPECT_TRUE(conn->shutdown(5s).ok());
  wait_change(c, *id, AssocChangeState::ShutdownComplete);
}

TEST_F(PacketSocketTest, PeeloffMovesQueuedNotifications) {
  PacketSocket c = client();
  auto id = c.send_to(server_address(), "a");
  ASSERT_TRUE(id.ok());
  // COMM_UP and the message are queued on the server socket, unread.
  std::this_thread::sleep_for(100ms);
  auto ids = server_.associations();
  ASSERT_EQ(ids.size(), 1u);
  auto conn = server_.peeloff(ids[0]);
  ASSERT_TRUE(conn.ok());
  auto n = conn->try_next_notification();
  ASSERT_TRUE(n.ok()) << n.status().reason();
  EXPECT_EQ(std::get<AssocChange>(*n).state, AssocChangeState::CommUp);
  auto m = conn->receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text(), "a");
  // Subscription carried over: the peer's shutdown is reported on the connection.
  ASSERT_TRUE(c.shutdown(*id).ok());
  auto sd = conn->next_notification(5s);
  ASSERT_TRUE(sd.ok()) << sd.status().reason();
  EXPECT_TRUE(std::holds_alternative<ShutdownEvent>(*sd)) << describe(*sd);
}

TEST_F(PacketSocketTest, CloseShutsEveryAssociationDown) {
  PacketSocket c1 = client(), c2 = client();
  auto id1 = c1.send_to(server_address(), "1");
  auto id2 = c2.send_to(server_address(), "2");
  ASSERT_TRUE(id1.ok() && id2.ok());
  next_message(server_);
  next_message(server_);
  EXPECT_TRUE(server_.close(5s).ok());
  EXPECT_EQ(server_.receive(1s).status().code(), Errc::Closed);
  wait_change(c1, *id1, AssocChangeState::ShutdownComplete);
  wait_change(c2, *id2, AssocChangeState::ShutdownComplete);
}

TEST_F(PacketSocketTest, NotListeningRefusesAssociations) {
  // Two sockets on the client stack (it reaches itself on its own UDP port); the
  // target does not listen, so its INIT is answered with ABORT.
  auto quiet = PacketSocket::open(*client_stack_, 0, client_options());  // listen = false
  ASSERT_TRUE(quiet.ok());
  PacketSocketOptions o = client_options();
  o.remote_udp_port = client_stack_->udp_port();
  auto c = PacketSocket::open(*client_stack_, 0, o);
  ASSERT_TRUE(c.ok());
  auto r = c->connect(SocketAddress{kV4, quiet->port()}, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::Refused) << r.status().reason();
}

TEST_F(PacketSocketTest, ReceiveQueueLimitStallsWithoutLoss) {
  // A tiny receive queue: messages wait in their associations and come in turn.
  PacketSocketOptions so;
  so.receive_queue = 1;
  so.events = {};
  auto srv = PacketSocket::open(*server_stack_, std::vector<IpAddress>{kV4}, kPort + 2, so);
  ASSERT_TRUE(srv.ok());
  std::vector<PacketSocket> cs;
  std::vector<uint32_t> ids;
  for (int k = 0; k < 3; ++k) {
    cs.push_back(client({}));
    auto id = cs.back().send_to(SocketAddress{kV4, kPort + 2}, "0");
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  constexpr int kCount = 200;
  for (int i = 1; i < kCount; ++i)
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(cs[k].send_to(ids[k], std::to_string(i), {}, 5s).ok());
  std::map<uint32_t, int> next;
  for (int i = 0; i < 3 * kCount; ++i) {
    ReceivedMessage m = next_message(*srv);
    EXPECT_EQ(std::stoi(std::string(m.text())), next[m.info.assoc_id]);
    ++next[m.info.assoc_id];
  }
  EXPECT_EQ(next.size(), 3u);
}

TEST_F(PacketSocketTest, PeeloffWithOthersStalledLosesNothing) {
  // The queue holds about one message: A's fill it, B's wait in B's association.
  // Branching A off empties the queue; B's messages must still come.
  PacketSocketOptions so;
  so.receive_queue = 1;
  so.events = {};
  auto srv = PacketSocket::open(*server_stack_, std::vector<IpAddress>{kV4}, kPort + 3, so);
  ASSERT_TRUE(srv.ok());
  PacketSocket a = client({}), b = client({});
  auto ida = a.send_to(SocketAddress{kV4, kPort + 3}, "a0");
  ASSERT_TRUE(ida.ok());
  ReceivedMessage first = next_message(*srv);
  ASSERT_EQ(first.text(), "a0");
  for (int i = 1; i < 50; ++i) ASSERT_TRUE(a.send_to(*ida, "a" + std::to_string(i)).ok());
  auto idb = b.send_to(SocketAddress{kV4, kPort + 3}, "b0");
  ASSERT_TRUE(idb.ok());
  for (int i = 1; i < 50; ++i) ASSERT_TRUE(b.send_to(*idb, "b" + std::to_string(i)).ok());
  std::this_thread::sleep_for(100ms);
  auto conn = srv->peeloff(first.info.assoc_id);
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(next_message(*srv).text(), "b" + std::to_string(i));
  for (int i = 1; i < 50; ++i) {
    auto m = conn->receive(5s);
    ASSERT_TRUE(m.ok()) << m.status().reason();
    EXPECT_EQ(m->text(), "a" + std::to_string(i));
  }
}

// ---- one-to-one Connection: notifications, set_primary, paths ----

TEST(ConnectionNotifications, AddressEventsSetPrimaryAndPaths) {
  Stack server = make_stack();
  Stack client_stack = make_stack();
  ListenOptions lo;
  lo.events = EventSubscription::all();
  auto l = Listener::bind(server, {}, 5200, lo);
  ASSERT_TRUE(l.ok()) << l.status().reason();
  ConnectOptions co;
  co.remote_udp_port = server.udp_port();
  co.events = {.association = true, .address = true};
  const IpAddress second = *IpAddress::parse("127.0.0.2");
  std::vector<IpAddress> peers{kV4, second};
  auto c = Connection::connect(client_stack, peers, 5200, co, 10s);
  ASSERT_TRUE(c.ok()) << c.status().reason();
  auto s = l->accept(5s);
  ASSERT_TRUE(s.ok());
  // COMM_UP was recorded on both sides, the server's before accept().
  auto up = c->next_notification(5s);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(std::get<AssocChange>(*up).state, AssocChangeState::CommUp);
  auto sup = s->try_next_notification();
  ASSERT_TRUE(sup.ok()) << sup.status().reason();
  EXPECT_EQ(std::get<AssocChange>(*sup).state, AssocChangeState::CommUp);

  // The second address is confirmed by heartbeat.
  auto conf = c->next_notification(10s);
  ASSERT_TRUE(conf.ok()) << conf.status().reason();
  auto* pc = std::get_if<PeerAddrChange>(&*conf);
  ASSERT_NE(pc, nullptr) << describe(*conf);
  EXPECT_EQ(pc->state, PeerAddrState::Confirmed);
  EXPECT_EQ(pc->address, (SocketAddress{second, 5200}));

  ASSERT_TRUE(c->set_primary(second).ok());
  auto prim = c->next_notification(5s);
  ASSERT_TRUE(prim.ok());
  pc = std::get_if<PeerAddrChange>(&*prim);
  ASSERT_NE(pc, nullptr) << describe(*prim);
  EXPECT_EQ(pc->state, PeerAddrState::MadePrimary);
  EXPECT_EQ(pc->address.ip, second);
  EXPECT_FALSE(c->set_primary(*IpAddress::parse("127.0.0.3")).ok());

  auto info = c->info();
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->paths.size(), 2u);
  EXPECT_EQ(info->primary.ip, second);
  for (const auto& p : info->paths) {
    EXPECT_TRUE(p.confirmed);
    EXPECT_TRUE(p.active);
    EXPECT_EQ(p.primary, p.address.ip == second);
  }
  // Data still flows over the new primary.
  ASSERT_TRUE(c->send("via .2").ok());
  auto m = s->receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text(), "via .2");
  EXPECT_EQ(c->try_next_notification().status().code(), Errc::WouldBlock);

  // The peer's shutdown: SHUTDOWN_EVENT then SHUTDOWN_COMP on the server side.
  ASSERT_TRUE(c->shutdown(5s).ok());
  auto e1 = s->next_notification(5s);
  ASSERT_TRUE(e1.ok());
  EXPECT_TRUE(std::holds_alternative<ShutdownEvent>(*e1)) << describe(*e1);
  auto e2 = s->next_notification(5s);
  ASSERT_TRUE(e2.ok()) << e2.status().reason();
  EXPECT_EQ(std::get<AssocChange>(*e2).state, AssocChangeState::ShutdownComplete);
  EXPECT_EQ(s->next_notification(1s).status().code(), Errc::Closed);
}

TEST(ConnectionNotifications, SendFlagsOnConnection) {
  Stack server = make_stack();
  Stack client_stack = make_stack();
  auto l = Listener::bind(server, {}, 5201);
  ASSERT_TRUE(l.ok());
  ConnectOptions co;
  co.remote_udp_port = server.udp_port();
  auto c = Connection::connect(client_stack, SocketAddress{kV4, 5201}, co, 10s);
  ASSERT_TRUE(c.ok());
  auto s = l->accept(5s);
  ASSERT_TRUE(s.ok());
  SendInfo si;
  si.flags = SendFlags::Eof;
  ASSERT_TRUE(c->send("bye", si).ok());
  auto m = s->receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->text(), "bye");
  EXPECT_EQ(s->receive(5s).status().code(), Errc::Closed);
  EXPECT_TRUE(c->shutdown(5s).ok());
}

}  // namespace
}  // namespace sctpp

namespace sctpp {
namespace {

// A Listener whose backlog is full aborts the extra association; the ABORT must
// reach the peer (it is queued inside an event sink: released only afterwards).
TEST(ListenerBacklog, ExtraAssociationIsAbortedAtOnce) {
  Stack server = make_stack();
  Stack client_stack = make_stack();
  ListenOptions lo;
  lo.backlog = 1;
  auto l = Listener::bind(server, {}, 5202, lo);
  ASSERT_TRUE(l.ok());
  ConnectOptions co;
  co.remote_udp_port = server.udp_port();
  co.events.association = true;
  auto c1 = Connection::connect(client_stack, SocketAddress{kV4, 5202}, co, 10s);
  ASSERT_TRUE(c1.ok());
  auto c2 = Connection::connect(client_stack, SocketAddress{kV4, 5202}, co, 10s);
  if (c2.ok()) {
    // Up, then aborted: it learns at once, not after retransmissions time out.
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c2->receive(5s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Errc::Aborted) << r.status().reason();
    EXPECT_NE(r.status().reason().find("backlog"), std::string::npos) << r.status().reason();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  } else {
    EXPECT_EQ(c2.status().code(), Errc::Aborted) << c2.status().reason();
  }
  auto s1 = l->accept(5s);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(l->try_accept().status().code(), Errc::WouldBlock);
}

}  // namespace
}  // namespace sctpp
