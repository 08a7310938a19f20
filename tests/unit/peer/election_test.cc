// ElectionTransport on loopback: notifications between in-process servers,
// the larger-id rule (one TCP connection per pair, opened by the larger id),
// the one-slot send queue, and hostile peers dropped without harm to others.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "peer/election_transport.h"
#include "peer_test_util.h"
#include "quorum/codec.h"

namespace aviary::peer {
namespace {

using quorum::Notification;
using quorum::PeerState;
using testing::EstablishedAt;
using testing::FreePort;
using testing::WaitFor;

struct Ensemble {
  std::map<ServerId, int> ports;
  std::map<ServerId, std::unique_ptr<ElectionTransport>> t;

  explicit Ensemble(std::vector<ServerId> ids) {
    for (ServerId id : ids) ports[id] = FreePort();
  }
  ElectionConfig ConfigFor(ServerId id) const {
    ElectionConfig c;
    c.my_id = id;
    c.listen_port = ports.at(id);
    c.handshake_timeout_ms = 500;
    for (auto& [other, port] : ports) c.members.push_back({other, "127.0.0.1", port});
    return c;
  }
  void Start(ServerId id, bool report_channels = false) {
    ElectionConfig c = ConfigFor(id);
    c.report_channels = report_channels;
    t[id] = std::make_unique<ElectionTransport>(c);
    t[id]->Start();
    std::string err;
    ASSERT_EQ(t[id]->WaitListening(5000, &err), ports[id]) << err;
  }
};

Notification Vote(ServerId leader, int64_t epoch) {
  return Notification{PeerState::kLooking, leader, quorum::MakeZxid(1, 5), epoch, 1, 2, "version=0"};
}

// Receives until `from` sent something, skipping others; returns it.
bool ReceiveFrom(ElectionTransport& t, ServerId from, Notification* out) {
  ReceivedNotification r;
  while (t.Poll(&r, 5000)) {
    if (r.from == from) {
      *out = r.notification;
      return true;
    }
  }
  return false;
}

TEST(Election, ThreeServersExchangeAndOneConnectionPerPair) {
  Ensemble e({1, 2, 3});
  for (ServerId id : {1, 2, 3}) e.Start(id);
  for (ServerId from : {1, 2, 3}) {
    for (ServerId to : {1, 2, 3}) {
      if (from != to) e.t[from]->Send(to, Vote(from, 10 + from));
    }
  }
  for (ServerId to : {1, 2, 3}) {
    std::map<ServerId, Notification> got;
    ReceivedNotification r;
    while (got.size() < 2 && e.t[to]->Poll(&r, 5000)) got[r.from] = r.notification;
    ASSERT_EQ(got.size(), 2u) << to;
    for (auto& [from, n] : got) EXPECT_EQ(n, Vote(from, 10 + from)) << from << "->" << to;
  }
  for (ServerId id : {1, 2, 3}) {
    ASSERT_TRUE(WaitFor([&] { return e.t[id]->ConnectedPeers().size() == 2; })) << id;
  }
  // Connection i<j is opened by j and accepted on i's port: 2 at 1, 1 at 2, 0 at 3.
  // A connection the larger-id rule replaces closes while its successor opens,
  // and /proc/net/tcp is not read atomically, so wait for the settled counts.
  EXPECT_TRUE(WaitFor([&] {
    return EstablishedAt(e.ports[1]) == 2 && EstablishedAt(e.ports[2]) == 1 && EstablishedAt(e.ports[3]) == 0;
  })) << EstablishedAt(e.ports[1])
      << " " << EstablishedAt(e.ports[2]) << " " << EstablishedAt(e.ports[3]);
  EXPECT_GE(e.t[1]->stats().challenges_lost + e.t[2]->stats().challenges_lost, 1u);
}

TEST(Election, LoopbackToSelf) {
  Ensemble e({4});
  e.Start(4);
  e.t[4]->Send(4, Vote(4, 1));
  ReceivedNotification r;
  ASSERT_TRUE(e.t[4]->Poll(&r, 1000));
  EXPECT_EQ(r.from, 4);
  EXPECT_EQ(r.notification, Vote(4, 1));
}

// SEND_CAPACITY 1: messages queued for an absent peer are replaced by newer
// ones; only the newest arrives once the peer is up.
TEST(Election, SendSlotKeepsNewest) {
  Ensemble e({1, 2});
  e.Start(2);
  for (int epoch = 1; epoch <= 3; ++epoch) e.t[2]->Send(1, Vote(2, epoch));
  EXPECT_EQ(e.t[2]->stats().sends_replaced, 2u);
  e.Start(1);
  e.t[2]->ConnectAll();
  Notification n;
  ASSERT_TRUE(ReceiveFrom(*e.t[1], 2, &n));
  EXPECT_EQ(n.election_epoch, 3);
  // Only the newest ever goes out. It may arrive twice: a connection the
  // larger-id rule replaces resends the last message (lastMessageSent).
  ReceivedNotification more;
  while (e.t[1]->Poll(&more, 300)) EXPECT_EQ(more.notification.election_epoch, 3);
}

// After a peer restarts, the last message sent to it is sent again on the
// new connection (SendWorker's lastMessageSent).
TEST(Election, LastMessageResentOnReconnect) {
  Ensemble e({1, 2});
  e.Start(1);
  e.Start(2);
  e.t[2]->Send(1, Vote(2, 7));
  Notification n;
  ASSERT_TRUE(ReceiveFrom(*e.t[1], 2, &n));
  e.t[1]->Stop();
  ASSERT_TRUE(WaitFor([&] { return !e.t[2]->Connected(1); }));
  e.Start(1);
  e.t[1]->ConnectAll();  // 1 challenges 2, 2 connects back and resends
  ASSERT_TRUE(ReceiveFrom(*e.t[1], 2, &n));
  EXPECT_EQ(n.election_epoch, 7);
}

using Kind = ReceivedNotification::Kind;

// The next item from `from` (channel event or notification), skipping others.
bool NextFrom(ElectionTransport& t, ServerId from, ReceivedNotification* out, int timeout_ms = 5000) {
  while (t.Poll(out, timeout_ms)) {
    if (out->from == from) return true;
  }
  return false;
}

// The channel events the consensus core uses to stop waiting for a dead
// voter: a refused connect and a closed connection report down; a
// connection (ours or theirs) reports up, before the peer's notifications.
TEST(Election, ChannelEventsReportADeadPeerAndItsReturn) {
  Ensemble e({1, 2});
  e.Start(1, true);
  e.t[1]->Send(2, Vote(1, 3));  // 2 is not running: refused
  ReceivedNotification r;
  ASSERT_TRUE(NextFrom(*e.t[1], 2, &r));
  EXPECT_EQ(r.kind, Kind::kChannelDown);
  e.Start(2);
  e.t[2]->Send(1, Vote(2, 4));  // the larger id connects: it stays
  ASSERT_TRUE(NextFrom(*e.t[1], 2, &r));
  EXPECT_EQ(r.kind, Kind::kChannelUp);
  ASSERT_TRUE(NextFrom(*e.t[1], 2, &r));
  EXPECT_EQ(r.kind, Kind::kNotification);
  EXPECT_EQ(r.notification.election_epoch, 4);
  e.t[2]->Stop();
  ASSERT_TRUE(NextFrom(*e.t[1], 2, &r));
  EXPECT_EQ(r.kind, Kind::kChannelDown);
}

// The larger-id rule closes connections while both ends live (the smaller
// id's handshake-then-close, a stale connection replaced): never "down".
TEST(Election, TheLargerIdRuleReportsNoChannelDown) {
  Ensemble e({1, 2});
  e.Start(1, true);
  e.Start(2, true);
  e.t[1]->Send(2, Vote(1, 5));  // 1 opens, loses the challenge, 2 connects back
  Notification n;
  ASSERT_TRUE(ReceiveFrom(*e.t[2], 1, &n));
  e.t[2]->Send(1, Vote(2, 6));
  std::vector<Kind> at1;
  ReceivedNotification r;
  while (e.t[1]->Poll(&r, 300)) at1.push_back(r.kind);
  EXPECT_EQ(std::count(at1.begin(), at1.end(), Kind::kChannelDown), 0);
  EXPECT_GE(std::count(at1.begin(), at1.end(), Kind::kChannelUp), 1);
  EXPECT_EQ(std::count(at1.begin(), at1.end(), Kind::kNotification), 1);
  EXPECT_EQ(e.t[1]->stats().challenges_lost, 1u);
}

TEST(Election, HostilePeersDroppedOthersServed) {
  Ensemble e({1, 2});
  e.Start(1);
  e.Start(2);
  int port = e.ports[1];
  // Garbage handshake (unknown protocol version).
  int a = testing::RawConnect(port);
  testing::WriteAll(a, std::string("\xff\xff\xff\xff\x00\x00\x00\x07 garbage garbage", 24));
  EXPECT_TRUE(testing::ClosedByPeer(a));
  // Handshake with an address length of 2 GiB.
  int b = testing::RawConnect(port);
  std::string hs;
  quorum::EncodeInitialMessage({quorum::kElectionProtocolV1, 9, {{"127.0.0.1", 1}}}, &hs);
  std::string huge = hs.substr(0, 16) + std::string("\x7f\xff\xff\xff", 4);
  testing::WriteAll(b, huge);
  EXPECT_TRUE(testing::ClosedByPeer(b));
  // A valid handshake as id 9 (kept: 9 > 1), then a 2 GiB frame length.
  int c = testing::RawConnect(port);
  testing::WriteAll(c, hs + std::string("\x7f\xff\xff\xff", 4));
  EXPECT_TRUE(testing::ClosedByPeer(c));
  // Silent connection: closed by the handshake timeout.
  int d = testing::RawConnect(port);
  EXPECT_TRUE(testing::ClosedByPeer(d));
  // An undecodable (short) notification is skipped; the connection stays.
  int f = testing::RawConnect(port);
  testing::WriteAll(f, hs + std::string("\x00\x00\x00\x04"
                                        "abcd",
                                        8));
  ASSERT_TRUE(WaitFor([&] { return e.t[1]->stats().undecodable_messages == 1; }));
  for (int fd : {a, b, c, d, f}) close(fd);
  EXPECT_GE(e.t[1]->stats().bad_frames, 1u);
  EXPECT_GE(e.t[1]->stats().handshakes_rejected, 2u);
  e.t[2]->Send(1, Vote(2, 99));
  Notification n;
  ASSERT_TRUE(ReceiveFrom(*e.t[1], 2, &n));
  EXPECT_EQ(n.election_epoch, 99);
}

// A V2 handshake with several addresses is accepted. An old-style observer
// announcing Long.MAX_VALUE gets a negative id (QuorumCnxManager's
// observerCounter), hence smaller than ours: we close its connection and
// connect back to the first address of its handshake, sending ours.
TEST(Election, V2HandshakeAndObserverConnectBack) {
  Ensemble e({5});
  e.Start(5);
  int c = testing::RawConnect(e.ports[5]);
  std::string bytes;
  quorum::EncodeInitialMessage({quorum::kElectionProtocolV2, 8, {{"127.0.0.1", 4}, {"127.0.0.2", 4}}}, &bytes);
  quorum::EncodeNotificationFrame(Vote(8, 1), &bytes);
  testing::WriteAll(c, bytes);
  ReceivedNotification r;
  ASSERT_TRUE(e.t[5]->Poll(&r, 5000));
  EXPECT_EQ(r.from, 8);

  SocketResult observer = ListenTcp("127.0.0.1", 0, false);
  ASSERT_TRUE(observer.fd.valid());
  int obs_port = LocalPort(observer.fd.get());
  int o = testing::RawConnect(e.ports[5]);
  bytes.clear();
  quorum::EncodeInitialMessage({quorum::kElectionProtocolV1, quorum::kObserverAnnouncedId, {{"127.0.0.1", obs_port}}},
                               &bytes);
  testing::WriteAll(o, bytes);
  EXPECT_TRUE(testing::ClosedByPeer(o));
  Fd back;
  ASSERT_TRUE(WaitFor([&] { return (back = AcceptTcp(observer.fd.get(), nullptr)).valid(); }));
  std::string got;
  quorum::InitialMessage m;
  size_t used = 0;
  ASSERT_TRUE(WaitFor([&] {
    char buf[256];
    ssize_t n = recv(back.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    return quorum::DecodeInitialMessage(got, &m, &used) == quorum::ParseStatus::kOk;
  }));
  EXPECT_EQ(m.sid, 5);
  ASSERT_EQ(m.addresses.size(), 1u);
  EXPECT_EQ(m.addresses[0].port, e.ports[5]);
  EXPECT_EQ(e.t[5]->stats().challenges_won, 1u);
  close(c);
  close(o);
}

// Silent connections are bounded: beyond max_pending_handshakes a new one is
// closed at once; peers are served once the silent ones are gone.
TEST(Election, PendingHandshakesBounded) {
  Ensemble e({1, 2});
  ElectionConfig c1 = e.ConfigFor(1);
  c1.max_pending_handshakes = 4;
  c1.handshake_timeout_ms = 3000;
  e.t[1] = std::make_unique<ElectionTransport>(c1);
  e.t[1]->Start();
  std::string err;
  ASSERT_EQ(e.t[1]->WaitListening(5000, &err), e.ports[1]) << err;
  std::vector<int> silent;
  for (int i = 0; i < 4; ++i) silent.push_back(testing::RawConnect(e.ports[1]));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int extra = testing::RawConnect(e.ports[1]);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(testing::ClosedByPeer(extra));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  close(extra);
  for (int fd : silent) close(fd);
  e.Start(2);
  // As the election algorithm does, send again until a notification arrives.
  ReceivedNotification r;
  bool got = false;
  for (int i = 0; i < 20 && !got; ++i) {
    e.t[2]->Send(1, Vote(2, 3));
    got = e.t[1]->Poll(&r, 250);
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(r.from, 2);
}

// quorumListenOnAllIPs: the listener takes the wildcard address, so a peer
// reaches it through loopback even when the configured host is another name.
TEST(Election, ListenOnAllIps) {
  Ensemble e({1, 2});
  ElectionConfig c1 = e.ConfigFor(1);
  c1.listen_host = "192.0.2.1";  // TEST-NET: not ours; ignored with all IPs
  c1.listen_on_all_ips = true;
  c1.advertised_host = "127.0.0.1";
  e.t[1] = std::make_unique<ElectionTransport>(c1);
  e.t[1]->Start();
  std::string err;
  ASSERT_EQ(e.t[1]->WaitListening(5000, &err), e.ports[1]) << err;
  e.Start(2);
  e.t[2]->Send(1, Vote(2, 5));
  Notification n;
  ASSERT_TRUE(ReceiveFrom(*e.t[1], 2, &n));
  EXPECT_EQ(n.election_epoch, 5);
}

TEST(Election, BindRetryGivesUp) {
  int port = FreePort();
  Ensemble holder({1});
  holder.ports[1] = port;
  holder.Start(1);
  ElectionConfig c = holder.ConfigFor(1);
  c.my_id = 2;
  c.bind_retries = 2;
  c.bind_retry_interval_ms = 50;
  // SO_REUSEADDR does not allow two listeners on one port.
  ElectionTransport t(c);
  t.Start();
  std::string err;
  EXPECT_EQ(t.WaitListening(5000, &err), -1);
  EXPECT_FALSE(err.empty());
}

}  // namespace
}  // namespace aviary::peer
