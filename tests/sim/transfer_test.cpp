// Deterministic simulation of whole associations over a lossy, reordering,
// duplicating link: every message arrives exactly once, intact, ordered messages in
// order per stream; handshakes survive lost setup packets; graceful shutdown with
// data in flight loses nothing.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sim_network.h"
#include "wire/chunks.h"
#include "wire/packet.h"

namespace sctpp::sim {
namespace {

const IpAddress kClientIp = *IpAddress::parse("10.0.0.1");
const IpAddress kServerIp = *IpAddress::parse("10.0.0.2");
constexpr uint16_t kServerPort = 5000;

EndpointConfig server_config() {
  EndpointConfig c;
  c.port = kServerPort;
  c.accept_incoming = true;
  c.init.num_ostreams = 16;
  return c;
}

EndpointConfig client_config() {
  EndpointConfig c;
  c.port = 40000;
  return c;
}

uint8_t pattern(uint32_t index, size_t offset) {
  return static_cast<uint8_t>(index * 31 + offset * 7 + (offset >> 8));
}

struct PlannedMessage {
  uint16_t stream;
  bool unordered;
  size_t size;
};

// Sends a plan of messages from the client and checks what the server receives.
class TransferCheck {
 public:
  TransferCheck(std::vector<PlannedMessage> plan) : plan_(std::move(plan)) {}

  void on_event(SimNetwork& net, Endpoint& ep, const Event& e) {
    if (&ep == client_) {
      if (e.kind == EventKind::Connected || e.kind == EventKind::Writable) pump(net);
      if (e.kind == EventKind::Closed) client_closed_ = true;
      if (e.kind == EventKind::Aborted || e.kind == EventKind::Lost ||
          e.kind == EventKind::ConnectFailed)
        failures_.push_back("client: " + e.status.reason());
    } else {
      if (e.kind == EventKind::Accepted) server_assoc_ = e.assoc;
      if (e.kind == EventKind::Readable) drain(net, ep, e.assoc);
      if (e.kind == EventKind::Closed) server_closed_ = true;
      if (e.kind == EventKind::Aborted || e.kind == EventKind::Lost)
        failures_.push_back("server: " + e.status.reason());
    }
  }

  void pump(SimNetwork& net) {
    while (next_ < plan_.size()) {
      const auto& m = plan_[next_];
      std::vector<uint8_t> data(m.size);
      for (size_t i = 0; i < m.size; ++i) data[i] = pattern(static_cast<uint32_t>(next_), i);
      SendInfo si;
      si.stream = m.stream;
      si.ppid = static_cast<uint32_t>(next_);
      si.unordered = m.unordered;
      Status s = client_->send(net.now(), client_assoc_, si, data);
      if (s.code() == Errc::WouldBlock) return;
      ASSERT_TRUE(s.ok()) << s.reason();
      ++next_;
    }
    if (shutdown_after_send_ && !shutdown_started_) {
      shutdown_started_ = true;
      ASSERT_TRUE(client_->shutdown(net.now(), client_assoc_).ok());
    }
  }

  void drain(SimNetwork& net, Endpoint& ep, AssocId id) {
    while (auto m = ep.receive(net.now(), id)) {
      uint32_t index = m->info.ppid;
      ASSERT_LT(index, plan_.size());
      const auto& p = plan_[index];
      EXPECT_TRUE(received_.insert(index).second) << "message " << index << " delivered twice";
      EXPECT_EQ(m->info.stream, p.stream);
      EXPECT_EQ(m->info.unordered, p.unordered);
      ASSERT_EQ(m->data.size(), p.size) << "message " << index;
      for (size_t i = 0; i < m->data.size(); ++i) {
        if (m->data[i] != pattern(index, i)) {
          ADD_FAILURE() << "message " << index << " corrupt at byte " << i;
          break;
        }
      }
      if (!p.unordered) {
        auto [it, fresh] = last_ordered_.try_emplace(p.stream, index);
        if (!fresh) {
          EXPECT_GT(index, it->second) << "stream " << p.stream << " out of order";
          it->second = index;
        }
      }
    }
  }

  Endpoint* client_ = nullptr;
  AssocId client_assoc_{0};
  AssocId server_assoc_{0};
  std::vector<PlannedMessage> plan_;
  size_t next_ = 0;
  std::set<uint32_t> received_;
  std::map<uint16_t, uint32_t> last_ordered_;
  std::vector<std::string> failures_;
  bool shutdown_after_send_ = false;
  bool shutdown_started_ = false;
  bool client_closed_ = false;
  bool server_closed_ = false;
};

std::vector<PlannedMessage> make_plan(uint64_t seed, size_t count, uint16_t streams) {
  std::mt19937_64 rng(seed);
  std::vector<PlannedMessage> plan;
  for (size_t i = 0; i < count; ++i) {
    PlannedMessage m;
    m.stream = static_cast<uint16_t>(rng() % streams);
    m.unordered = rng() % 4 == 0;
    uint64_t r = rng() % 100;
    // Mostly small, some several packets, a few up to 64 KiB.
    if (r < 70)
      m.size = 1 + rng() % 1500;
    else if (r < 95)
      m.size = 1500 + rng() % (16 * 1024);
    else
      m.size = 16 * 1024 + rng() % (48 * 1024 + 1);
    plan.push_back(m);
  }
  return plan;
}

struct LossCase {
  double loss;
  uint64_t seed;
};

class TransferTest : public ::testing::TestWithParam<LossCase> {};

TEST_P(TransferTest, TenThousandMessagesOnSixteenStreamsArriveExactlyOnceInOrder) {
  const auto param = GetParam();
  SimNetwork net(param.seed);
  Endpoint& server = net.add_host(kServerIp, server_config());
  Endpoint& client = net.add_host(kClientIp, client_config());
  LinkConditions link;
  link.loss = param.loss;
  link.duplicate = param.loss > 0 ? 0.01 : 0;
  link.reorder = param.loss > 0 ? 0.02 : 0;
  link.bandwidth = 100'000'000;
  net.set_all_links(link);

  TransferCheck check(make_plan(param.seed, 10000, 16));
  check.client_ = &client;
  check.shutdown_after_send_ = true;
  SocketAddress peer = net.address_of(kServerIp);
  auto id = client.connect(net.now(), std::span(&peer, 1), kServerPort, InitOptions{16});
  ASSERT_TRUE(id.ok());
  check.client_assoc_ = *id;

  bool done =
      net.run_until([&] { return check.client_closed_ && check.server_closed_; }, seconds(3600),
                    [&](Endpoint& ep, const Event& e) { check.on_event(net, ep, e); });
  for (const auto& f : check.failures_) ADD_FAILURE() << f;
  EXPECT_TRUE(done) << "received " << check.received_.size() << " of " << check.plan_.size()
                    << " sent " << check.next_;
  EXPECT_EQ(check.received_.size(), check.plan_.size());
  auto info = client.info(check.client_assoc_);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->state, AssocState::Closed);
  EXPECT_EQ(info->queued_bytes, 0u);
  EXPECT_FALSE(client.next_timeout()) << "timers still running after close";
  EXPECT_FALSE(server.next_timeout()) << "timers still running after close";
}

INSTANTIATE_TEST_SUITE_P(Loss, TransferTest,
                         ::testing::Values(LossCase{0.0, 1}, LossCase{0.01, 2}, LossCase{0.10, 3}),
                         [](const auto& info) {
                           return "loss" + std::to_string(int(info.param.loss * 100)) + "pct";
                         });

// Drops the first packet carrying the given chunk type; the handshake must recover.
class HandshakeLossTest : public ::testing::TestWithParam<wire::ChunkType> {};

TEST_P(HandshakeLossTest, HandshakeCompletesWhenASetupPacketIsLost) {
  SimNetwork net(7);
  net.add_host(kServerIp, server_config());
  Endpoint& client = net.add_host(kClientIp, client_config());
  const auto lost_type = GetParam();
  int dropped = 0;
  net.set_filter([&](const IpAddress&, std::span<const uint8_t> bytes) {
    auto pv = wire::PacketView::parse(bytes);
    if (!pv || pv->chunk_count() == 0) return true;
    if (dropped == 0 && pv->begin()->type == static_cast<uint8_t>(lost_type)) {
      ++dropped;
      return false;
    }
    return true;
  });
  TransferCheck check(make_plan(11, 50, 4));
  check.client_ = &client;
  SocketAddress peer = net.address_of(kServerIp);
  auto id = client.connect(net.now(), std::span(&peer, 1), kServerPort, InitOptions{});
  ASSERT_TRUE(id.ok());
  check.client_assoc_ = *id;
  bool done = net.run_until([&] { return check.received_.size() == 50; }, seconds(120),
                            [&](Endpoint& ep, const Event& e) { check.on_event(net, ep, e); });
  EXPECT_EQ(dropped, 1);
  EXPECT_TRUE(done);
  for (const auto& f : check.failures_) ADD_FAILURE() << f;
}

INSTANTIATE_TEST_SUITE_P(Lost, HandshakeLossTest,
                         ::testing::Values(wire::ChunkType::Init, wire::ChunkType::InitAck,
                                           wire::ChunkType::CookieEcho, wire::ChunkType::CookieAck),
                         [](const auto& info) {
                           switch (info.param) {
                             case wire::ChunkType::Init:
                               return std::string("Init");
                             case wire::ChunkType::InitAck:
                               return std::string("InitAck");
                             case wire::ChunkType::CookieEcho:
                               return std::string("CookieEcho");
                             default:
                               return std::string("CookieAck");
                           }
                         });

TEST(ShutdownTest, GracefulShutdownWithDataInFlightLosesNothing) {
  SimNetwork net(5);
  net.add_host(kServerIp, server_config());
  Endpoint& client = net.add_host(kClientIp, client_config());
  LinkConditions link;
  link.loss = 0.05;
  link.delay = milliseconds(20);
  net.set_all_links(link);
  TransferCheck check(make_plan(5, 300, 8));
  check.client_ = &client;
  check.shutdown_after_send_ = true;  // shutdown() right after the last send()
  SocketAddress peer = net.address_of(kServerIp);
  auto id = client.connect(net.now(), std::span(&peer, 1), kServerPort, InitOptions{8});
  ASSERT_TRUE(id.ok());
  check.client_assoc_ = *id;
  bool done =
      net.run_until([&] { return check.client_closed_ && check.server_closed_; }, seconds(600),
                    [&](Endpoint& ep, const Event& e) { check.on_event(net, ep, e); });
  EXPECT_TRUE(done);
  EXPECT_EQ(check.received_.size(), 300u);
  for (const auto& f : check.failures_) ADD_FAILURE() << f;
}

TEST(ConnectTest, NoAnswerFailsAfterMaxAttempts) {
  SimNetwork net(9);
  Endpoint& client = net.add_host(kClientIp, client_config());
  // Nobody at kServerIp: every INIT vanishes.
  SocketAddress peer = net.address_of(kServerIp);
  InitOptions init;
  init.max_attempts = 3;
  auto id = client.connect(net.now(), std::span(&peer, 1), kServerPort, init);
  ASSERT_TRUE(id.ok());
  std::optional<Event> failed;
  net.run_until([&] { return failed.has_value(); }, seconds(600),
                [&](Endpoint&, const Event& e) {
                  if (e.kind == EventKind::ConnectFailed) failed = e;
                });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status.code(), Errc::NoAnswer);
  // 1 + 3 retransmissions with back-off 1+2+4+8 s.
  EXPECT_EQ(net.packets_sent(), 4u);
}

TEST(ConnectTest, RefusedByAbortWhenNobodyListens) {
  SimNetwork net(10);
  EndpointConfig closed = server_config();
  closed.accept_incoming = false;
  net.add_host(kServerIp, closed);
  Endpoint& client = net.add_host(kClientIp, client_config());
  SocketAddress peer = net.address_of(kServerIp);
  auto id = client.connect(net.now(), std::span(&peer, 1), kServerPort, InitOptions{});
  ASSERT_TRUE(id.ok());
  std::optional<Event> failed;
  net.run_until([&] { return failed.has_value(); }, seconds(10),
                [&](Endpoint&, const Event& e) {
                  if (e.kind == EventKind::ConnectFailed) failed = e;
                });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status.code(), Errc::Refused);
}

}  // namespace
}  // namespace sctpp::sim
