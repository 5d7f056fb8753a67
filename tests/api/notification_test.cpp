// Core events -> typed notifications (RFC 6458 §6.1): every kind, the subscription
// filter, and the one-line descriptions.
#include "sctpp/notification.h"

#include <gtest/gtest.h>

#include "api/state.h"

namespace sctpp {
namespace {

using detail::make_notification;

Event event(EventKind k, Status st = {}) {
  return Event(AssocId(7), k, std::move(st));
}

TEST(Notifications, SubscriptionFilters) {
  const EventSubscription none;
  for (EventKind k :
       {EventKind::Connected, EventKind::Accepted, EventKind::Closed, EventKind::Aborted,
        EventKind::Lost, EventKind::ConnectFailed, EventKind::Restarted, EventKind::PeerShutdown,
        EventKind::PeerAddressChange, EventKind::RemoteError, EventKind::SendFailed,
        EventKind::SenderDry, EventKind::Readable, EventKind::Writable}) {
    EXPECT_FALSE(make_notification(event(k), none, 5000, 1, 1)) << static_cast<int>(k);
    auto n = make_notification(event(k), EventSubscription::all(), 5000, 1, 1);
    EXPECT_EQ(n.has_value(), k != EventKind::Readable && k != EventKind::Writable);
    if (n) {
      EXPECT_EQ(notification_assoc_id(*n), 7u);
    }
  }
}

TEST(Notifications, AssocChangeStates) {
  EventSubscription sub{.association = true};
  struct Case {
    EventKind kind;
    AssocChangeState state;
  } cases[] = {{EventKind::Connected, AssocChangeState::CommUp},
               {EventKind::Accepted, AssocChangeState::CommUp},
               {EventKind::Restarted, AssocChangeState::Restart},
               {EventKind::Closed, AssocChangeState::ShutdownComplete},
               {EventKind::Aborted, AssocChangeState::CommLost},
               {EventKind::Lost, AssocChangeState::CommLost},
               {EventKind::ConnectFailed, AssocChangeState::CantStartAssoc}};
  for (const auto& c : cases) {
    auto n = make_notification(event(c.kind), sub, 5000, 4, 6);
    ASSERT_TRUE(n);
    const auto& ac = std::get<AssocChange>(*n);
    EXPECT_EQ(ac.state, c.state);
    const bool up = c.state == AssocChangeState::CommUp || c.state == AssocChangeState::Restart;
    EXPECT_EQ(ac.outbound_streams, up ? 4 : 0);
    EXPECT_EQ(ac.inbound_streams, up ? 6 : 0);
  }
  auto lost = make_notification(
      event(EventKind::Aborted, Status(Errc::Aborted, "aborted by peer: x")), sub, 1, 1, 1);
  EXPECT_EQ(std::get<AssocChange>(*lost).status.reason(), "aborted by peer: x");
  EXPECT_EQ(describe(*lost), "assoc 7: ASSOC_CHANGE COMM_LOST: aborted by peer: x");
  auto gone = make_notification(event(EventKind::Lost), sub, 1, 1, 1);
  EXPECT_EQ(std::get<AssocChange>(*gone).status.code(), Errc::ConnectionLost);
}

TEST(Notifications, PeerAddressStates) {
  EventSubscription sub{.address = true};
  const std::pair<AddressChange, PeerAddrState> cases[] = {
      {AddressChange::Available, PeerAddrState::Available},
      {AddressChange::Unreachable, PeerAddrState::Unreachable},
      {AddressChange::Removed, PeerAddrState::Removed},
      {AddressChange::Added, PeerAddrState::Added},
      {AddressChange::MadePrimary, PeerAddrState::MadePrimary},
      {AddressChange::Confirmed, PeerAddrState::Confirmed}};
  for (const auto& [change, state] : cases) {
    Event ev = event(EventKind::PeerAddressChange);
    ev.address = SocketAddress{*IpAddress::parse("10.1.0.2"), 9899};  // IP + UDP port
    ev.change = change;
    auto n = make_notification(ev, sub, 5000, 1, 1);
    ASSERT_TRUE(n);
    const auto& pc = std::get<PeerAddrChange>(*n);
    EXPECT_EQ(pc.state, state);
    EXPECT_EQ(pc.address, (SocketAddress{*IpAddress::parse("10.1.0.2"), 5000}));  // SCTP port
  }
  Event ev = event(EventKind::PeerAddressChange);
  ev.address = SocketAddress{*IpAddress::parse("10.1.0.2"), 1};
  ev.change = AddressChange::Unreachable;
  EXPECT_EQ(describe(*make_notification(ev, sub, 5000, 1, 1)),
            "assoc 7: PEER_ADDR_CHANGE 10.1.0.2:5000 ADDR_UNREACHABLE");
}

TEST(Notifications, RemoteErrorSendFailedDryShutdown) {
  const auto all = EventSubscription::all();
  Event err = event(EventKind::RemoteError, Status(Errc::Ok, "Unrecognized Chunk Type"));
  err.causes = {0x00, 0x06, 0x00, 0x08, 0xc1, 0x00, 0x00, 0x04};
  auto re = std::get<RemoteError>(*make_notification(err, all, 1, 1, 1));
  EXPECT_EQ(re.error, 6);
  EXPECT_EQ(re.causes, err.causes);
  EXPECT_EQ(re.text, "Unrecognized Chunk Type");

  Event sf = event(EventKind::SendFailed);
  sf.send_info.stream = 3;
  sf.send_info.ppid = 51;
  sf.send_info.context = 9;
  sf.data = {'h', 'i'};
  sf.sent = true;
  auto f = std::get<SendFailedEvent>(*make_notification(sf, all, 1, 1, 1));
  EXPECT_TRUE(f.sent);
  EXPECT_EQ(f.info.stream, 3);
  EXPECT_EQ(f.info.ppid, 51u);
  EXPECT_EQ(f.info.context, 9u);
  EXPECT_EQ(f.data, sf.data);
  EXPECT_EQ(describe(f), "assoc 7: SEND_FAILED_EVENT DATA_SENT 2 bytes on stream 3");

  EXPECT_TRUE(std::holds_alternative<SenderDryEvent>(
      *make_notification(event(EventKind::SenderDry), all, 1, 1, 1)));
  EXPECT_TRUE(std::holds_alternative<ShutdownEvent>(
      *make_notification(event(EventKind::PeerShutdown), all, 1, 1, 1)));
  EXPECT_STREQ(to_string(AssocChangeState::CantStartAssoc), "CANT_STR_ASSOC");
  EXPECT_STREQ(to_string(PeerAddrState::MadePrimary), "ADDR_MADE_PRIM");
}

}  // namespace
}  // namespace sctpp
