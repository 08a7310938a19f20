// Interop probe against one real Apache ZooKeeper 3.8 server (started by
// test_zookeeper_peer.py as member zk_id of a 3-member ensemble whose other
// two members are this process). It proves, step by step, that our election
// and quorum-port transports and codecs speak ZooKeeper's bytes:
//  1. our two ElectionTransports (ids below and above ZooKeeper's) complete
//     the handshake with it in both directions of the larger-id rule;
//  2. ZooKeeper's LOOKING notifications decode (its own id, zxid, epochs,
//     config text);
//  3. our notifications (voting for member `leader`) make it FOLLOW us;
//  4. it connects to our quorum port: FOLLOWERINFO/LearnerInfo decodes, it
//     answers our LEADERINFO with ACKEPOCH, our DIFF/NEWLEADER/UPTODATE with
//     ACKs, our PINGs with PING replies;
//  5. a client connecting to it makes it forward a REQUEST (createSession)
//     to us; a client reconnecting with a session id makes it send
//     REVALIDATE, and our REVALIDATE answer lets that client in; its session
//     touch then comes back in a PING reply.
// With --mode learner the roles turn: ZooKeeper (the largest id) leads and
// our member follows it (see LearnerProbe below).
// Prints "PROBE OK" and exits 0, or prints "PROBE FAIL: <step>" and exits 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "peer/election_transport.h"
#include "peer/quorum_transport.h"
#include "proto/jute.h"
#include "quorum/codec.h"

using namespace aviary;
using peer::ConnId;
using peer::QuorumEvent;
using quorum::MakeZxid;
using quorum::Notification;
using quorum::PacketType;
using quorum::QuorumPacket;

namespace {

struct Options {
  quorum::ServerId zk_id = 2, low_id = 1, high_id = 3;
  int zk_election = 0, zk_client = 0, zk_quorum = 0;
  std::string mode = "leader";                            // "leader": ZooKeeper follows us; "learner": we follow it
  std::map<quorum::ServerId, std::pair<int, int>> ports;  // id -> (election, quorum)
  int timeout_ms = 40000;
};

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

void Say(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--zk-election") o.zk_election = std::stoi(v);
    if (k == "--zk-client") o.zk_client = std::stoi(v);
    if (k == "--zk-quorum") o.zk_quorum = std::stoi(v);
    if (k == "--zk-id") o.zk_id = std::stoll(v);
    if (k == "--mode") o.mode = v;
    if (k == "--member") {  // id:election:quorum
      size_t a = v.find(':'), b = v.rfind(':');
      o.ports[std::stoll(v.substr(0, a))] = {std::stoi(v.substr(a + 1, b - a - 1)), std::stoi(v.substr(b + 1))};
    }
  }
  return o;
}

peer::ElectionConfig ElectionFor(const Options& o, quorum::ServerId id) {
  peer::ElectionConfig c;
  c.my_id = id;
  c.listen_port = o.ports.at(id).first;
  c.members.push_back({o.zk_id, "127.0.0.1", o.zk_election});
  for (auto& [other, p] : o.ports) c.members.push_back({other, "127.0.0.1", p.first});
  return c;
}

// Next notification from `from` accepted by `pred`, within the deadline.
Notification Await(peer::ElectionTransport& t, quorum::ServerId from, int timeout_ms,
                   const std::function<bool(const Notification&)>& pred, const std::string& what) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  peer::ReceivedNotification r;
  while (std::chrono::steady_clock::now() < end) {
    if (t.Poll(&r, 200) && r.from == from && pred(r.notification)) return r.notification;
  }
  throw std::runtime_error("no notification: " + what);
}

// Established TCP connections whose local port is `port` (/proc/net/tcp*).
int EstablishedAt(int port) {
  int count = 0;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    while (std::getline(f, line)) {
      std::istringstream in(line);
      std::string sl, local, remote, state;
      in >> sl >> local >> remote >> state;
      if (state == "01" && std::stoi(local.substr(local.rfind(':') + 1), nullptr, 16) == port) count++;
    }
  }
  return count;
}

// --- a minimal blocking ZooKeeper client for step 5 ---

int ClientConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  Check(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0, "client connect");
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void WriteAll(int fd, const std::string& s) {
  Check(send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()), "client write");
}

// java.util.Random(seed).nextBytes(16), as ZooKeeperServer.generatePasswd.
std::string JavaRandomBytes16(int64_t seed) {
  const uint64_t mult = 0x5DEECE66DULL, mask = (1ULL << 48) - 1;
  uint64_t s = (static_cast<uint64_t>(seed) ^ mult) & mask;
  std::string out;
  while (out.size() < 16) {
    s = (s * mult + 0xB) & mask;
    uint32_t rnd = static_cast<uint32_t>(s >> 16);
    for (int n = 0; n < 4 && out.size() < 16; ++n, rnd >>= 8) out.push_back(static_cast<char>(rnd & 0xff));
  }
  return out;
}

std::string ConnectRequestFrame(int64_t session_id, const std::string& passwd) {
  std::string out;
  proto::jute::Writer w(&out);
  size_t at = w.BeginFrame();
  w.WriteInt32(0);      // protocolVersion
  w.WriteInt64(0);      // lastZxidSeen
  w.WriteInt32(30000);  // timeOut
  w.WriteInt64(session_id);
  w.WriteBuffer(passwd);
  w.WriteBool(false);  // readOnly
  w.EndFrame(at);
  return out;
}

// Reads one length-prefixed ConnectResponse: returns (timeout, sessionId).
std::pair<int32_t, int64_t> ReadConnectResponse(int fd) {
  std::string buf;
  char tmp[512];
  while (true) {
    ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    Check(n > 0, "client: no ConnectResponse");
    buf.append(tmp, static_cast<size_t>(n));
    if (buf.size() < 4) continue;
    proto::jute::Reader r(buf);
    int32_t len = r.ReadInt32();
    if (buf.size() < 4 + static_cast<size_t>(len)) continue;
    r.ReadInt32();  // protocolVersion
    int32_t timeout = r.ReadInt32();
    int64_t sid = r.ReadInt64();
    return {timeout, sid};
  }
}

}  // namespace

namespace {

class Probe {
 public:
  explicit Probe(Options o) : o_(std::move(o)) {}
  void Run();

 private:
  void StartOurs();
  Notification Elect();
  void CheckHandshakes();
  ConnId Discovery();
  void Sync(ConnId conn, const std::string& config);
  void Clients(ConnId conn);
  void RejoinLow();
  QuorumPacket ExpectPacket(ConnId conn, PacketType type, const std::string& step);
  void Ping(ConnId conn);

  Options o_;
  std::unique_ptr<peer::ElectionTransport> low_, high_;
  peer::QuorumTransport quorum_;
  std::map<int64_t, int32_t> touches_;  // from PING replies
  int64_t zk_election_epoch_ = 0;
};

void Probe::StartOurs() {
  low_ = std::make_unique<peer::ElectionTransport>(ElectionFor(o_, o_.low_id));
  high_ = std::make_unique<peer::ElectionTransport>(ElectionFor(o_, o_.high_id));
  low_->Start();
  high_->Start();
  std::string err;
  Check(low_->WaitListening(5000, &err) > 0, "low election listener: " + err);
  Check(high_->WaitListening(5000, &err) > 0, "high election listener: " + err);
  quorum_.Start();
  Check(quorum_.Listen("127.0.0.1", o_.ports.at(o_.high_id).second, false, &err) > 0, "quorum listener: " + err);
  Say("READY");
}

Notification Probe::Elect() {
  // ZooKeeper starts LOOKING, voting for itself with a fresh history.
  auto own_vote = [&](const Notification& n) { return n.leader == o_.zk_id; };
  Notification z = Await(*high_, o_.zk_id, o_.timeout_ms, own_vote, "LOOKING vote to the high id");
  Await(*low_, o_.zk_id, 5000, own_vote, "LOOKING vote to the low id");
  Check(z.state == quorum::PeerState::kLooking, "state LOOKING");
  Check(z.zxid == 0 && z.peer_epoch == 0, "fresh zxid and peer epoch");
  Check(z.election_epoch >= 1, "election epoch >= 1");
  Check(z.version == quorum::kNotificationVersion, "notification version 2");
  Check(z.config.find("server." + std::to_string(o_.zk_id) + "=127.0.0.1:") != std::string::npos &&
            z.config.find("version=") != std::string::npos,
        "config text: " + z.config);
  zk_election_epoch_ = z.election_epoch;
  Say("ZK NOTIFICATION leader=" + std::to_string(z.leader) + " epoch=" + std::to_string(z.election_epoch));
  // Both of ours vote for the high id (same zxid and epoch: the larger id wins).
  Notification vote{quorum::PeerState::kLooking, o_.high_id, 0, z.election_epoch, 0, 2, z.config};
  high_->Send(o_.zk_id, vote);
  low_->Send(o_.zk_id, vote);
  Await(
      *high_, o_.zk_id, 10000, [&](const Notification& n) { return n.leader == o_.high_id; },
      "ZooKeeper adopting our vote");
  Say("ZK VOTES FOR US");
  return z;
}

void Probe::CheckHandshakes() {
  Check(low_->Connected(o_.zk_id) && high_->Connected(o_.zk_id), "both managers connected to ZooKeeper");
  // ZooKeeper (smaller than high) opened to high, was closed and called back.
  Check(high_->stats().challenges_won >= 1, "high id won a challenge from ZooKeeper");
  Check(high_->stats().handshakes_rejected == 0 && low_->stats().handshakes_rejected == 0, "no rejected handshake");
  Check(high_->stats().undecodable_messages == 0 && low_->stats().undecodable_messages == 0,
        "every ZooKeeper notification decoded");
  // One TCP connection per pair, opened by the larger id: ZooKeeper's to our
  // low id, our high id's to ZooKeeper, none accepted by our high id.
  auto layout_ok = [&] {
    return EstablishedAt(o_.ports.at(o_.low_id).first) == 1 && EstablishedAt(o_.zk_election) == 1 &&
           EstablishedAt(o_.ports.at(o_.high_id).first) == 0;
  };
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!layout_ok() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Check(layout_ok(), "one election connection per pair, opened by the larger id");
  Say("HANDSHAKES OK");
}

QuorumPacket Probe::ExpectPacket(ConnId conn, PacketType type, const std::string& step) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    QuorumEvent ev;
    if (!quorum_.Poll(&ev, 200)) continue;
    Check(ev.kind != QuorumEvent::Kind::kDisconnected || ev.conn != conn, step + ": follower disconnected");
    if (ev.kind != QuorumEvent::Kind::kPacket || ev.conn != conn) continue;
    if (ev.packet.type == PacketType::kPing) {
      auto t = quorum::DecodeSessionTouches(ev.packet.data);
      Check(t.has_value(), "PING reply payload");
      for (const quorum::SessionTouch& s : *t) touches_[s.session_id] = s.timeout_ms;
      if (type != PacketType::kPing) continue;
    }
    Check(ev.packet.type == type, step + ": got packet type " + std::to_string(static_cast<int>(ev.packet.type)));
    return ev.packet;
  }
  throw std::runtime_error(step + ": timed out");
}

ConnId Probe::Discovery() {
  QuorumEvent ev;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.timeout_ms);
  while (!(quorum_.Poll(&ev, 200) && ev.kind == QuorumEvent::Kind::kConnected)) {
    Check(std::chrono::steady_clock::now() < end, "ZooKeeper never connected to our quorum port");
  }
  ConnId conn = ev.conn;
  QuorumPacket fi = ExpectPacket(conn, PacketType::kFollowerInfo, "FOLLOWERINFO");
  auto li = quorum::DecodeLearnerInfo(fi.data);
  Check(li && li->server_id == o_.zk_id, "LearnerInfo sid");
  Check(li->protocol_version == quorum::kLearnerProtocolVersion, "LearnerInfo protocol version");
  Check(li->config_version == 0 && quorum::EpochOf(fi.zxid) == 0, "LearnerInfo config version / accepted epoch");
  Say("FOLLOWERINFO sid=" + std::to_string(li->server_id));
  quorum_.Send(conn, {PacketType::kLeaderInfo, MakeZxid(1, 0), quorum::EncodeLeaderInfo(0x10000), false, {}});
  QuorumPacket ack = ExpectPacket(conn, PacketType::kAckEpoch, "ACKEPOCH");
  Check(quorum::DecodeAckEpoch(ack.data) == 0 && ack.zxid == 0, "ACKEPOCH: current epoch 0, last zxid 0");
  Say("ACKEPOCH OK");
  return conn;
}

void Probe::Sync(ConnId conn, const std::string& config) {
  quorum_.Send(conn, {PacketType::kDiff, 0, "", true, {}});
  quorum_.Send(conn, {PacketType::kNewLeader, MakeZxid(1, 0), config, false, {}});
  QuorumPacket ack = ExpectPacket(conn, PacketType::kAck, "NEWLEADER ACK");
  Check(ack.zxid == MakeZxid(1, 0), "NEWLEADER ACK zxid");
  quorum_.Send(conn, {PacketType::kUpToDate, -1, "", true, {}});
  ack = ExpectPacket(conn, PacketType::kAck, "UPTODATE ACK");
  Check(ack.zxid == MakeZxid(1, 0), "UPTODATE ACK zxid");
  Ping(conn);
  ExpectPacket(conn, PacketType::kPing, "PING reply");
  Say("SYNCED");
}

void Probe::Ping(ConnId conn) { quorum_.Send(conn, {PacketType::kPing, MakeZxid(1, 0), "", true, {}}); }

void Probe::Clients(ConnId conn) {
  // A new client: the follower forwards createSession to its leader.
  int a = ClientConnect(o_.zk_client);
  WriteAll(a, ConnectRequestFrame(0, std::string(16, '\0')));
  QuorumPacket req = ExpectPacket(conn, PacketType::kRequest, "REQUEST createSession");
  auto fr = quorum::DecodeForwardedRequest(req.data);
  Check(fr && fr->type == -10 && fr->cxid == 0 && fr->session_id != 0, "REQUEST: createSession header");
  auto timeout = quorum::DecodeInt32(fr->body);
  Check(fr->body.size() == 4 && timeout && *timeout > 0, "REQUEST: createSession body (int timeout)");
  Say("REQUEST createSession session=" + std::to_string(fr->session_id) + " timeout=" + std::to_string(*timeout));
  // A client reconnecting to session S: the follower asks us to REVALIDATE.
  const int64_t s = 0x0300000000000abcLL;
  int b = ClientConnect(o_.zk_client);
  WriteAll(b, ConnectRequestFrame(s, JavaRandomBytes16(s ^ 0xB3415C00LL)));
  QuorumPacket rv = ExpectPacket(conn, PacketType::kRevalidate, "REVALIDATE");
  auto rr = quorum::DecodeRevalidateRequest(rv.data);
  Check(rr && rr->session_id == s && rr->timeout_ms > 0, "REVALIDATE request payload");
  quorum_.Send(conn, {PacketType::kRevalidate, rv.zxid, quorum::EncodeRevalidateReply({s, true}), false, {}});
  auto [to, sid] = ReadConnectResponse(b);
  Check(sid == s && to > 0, "client let in after our REVALIDATE reply");
  Say("REVALIDATE OK timeout=" + std::to_string(to));
  // A client ping; sent again while no PING reply carried the touch:
  // ZooKeeper can lose a touch that lands in the table it is swapping out
  // for a PING reply (LearnerSessionTracker keeps no lock between them),
  // which a real leader never notices (the client's next packet touches it).
  const std::string client_ping("\x00\x00\x00\x08\xff\xff\xff\xfe\x00\x00\x00\x0b", 12);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto resend = std::chrono::steady_clock::now();
  while (!touches_.count(s)) {
    const auto now = std::chrono::steady_clock::now();
    Check(now < end, "session touch in a PING reply");
    if (now >= resend) {
      WriteAll(b, client_ping);
      resend = now + std::chrono::milliseconds(500);
    }
    Ping(conn);
    ExpectPacket(conn, PacketType::kPing, "PING reply");
  }
  Say("PING TOUCH session=" + std::to_string(s) + " timeout=" + std::to_string(touches_[s]));
  close(a);
  close(b);
}

// Our low id opens to ZooKeeper (larger): it must send its handshake and
// drop; ZooKeeper connects back and, FOLLOWING, answers a LOOKING vote with
// its current one.
void Probe::RejoinLow() {
  low_->Stop();
  low_ = std::make_unique<peer::ElectionTransport>(ElectionFor(o_, o_.low_id));
  low_->Start();
  std::string err;
  Check(low_->WaitListening(5000, &err) > 0, "low listener again: " + err);
  // Distinctive values: the test finds them in ZooKeeper's log as decoded.
  low_->Send(o_.zk_id, {quorum::PeerState::kLooking, o_.low_id, MakeZxid(7, 9), zk_election_epoch_ + 1, 7, 2, ""});
  // ZooKeeper's new SendWorker first resends its last message to us (its
  // LOOKING vote from the election); its answer to our vote follows.
  Notification n = Await(
      *low_, o_.zk_id, 10000, [](const Notification& x) { return x.state != quorum::PeerState::kLooking; },
      "FOLLOWING reply to rejoin");
  Check(low_->stats().challenges_lost >= 1, "low id lost the challenge and was called back");
  Check(n.state == quorum::PeerState::kFollowing && n.leader == o_.high_id && n.peer_epoch == 1,
        "ZooKeeper reports FOLLOWING us in epoch 1");
  Say("REJOIN OK");
}

void Probe::Run() {
  StartOurs();
  Notification z = Elect();
  CheckHandshakes();
  ConnId conn = Discovery();
  Sync(conn, z.config);
  Clients(conn);
  RejoinLow();
}

// --mode learner: ZooKeeper is member zk_id (the largest); our members vote
// for it, and our member `follower` follows it over the quorum port:
// FOLLOWERINFO -> LEADERINFO, ACKEPOCH -> DIFF, NEWLEADER -> ACK, UPTODATE ->
// ACK, PINGs answered; a client session created on ZooKeeper arrives as a
// PROPOSAL (TxnHeader type createSession), our ACK lets ZooKeeper COMMIT it
// and the client gets its session.
class LearnerProbe {
 public:
  explicit LearnerProbe(Options o) : o_(std::move(o)) {}
  void Run();

 private:
  void Elect();
  ConnId ConnectToLeader();
  QuorumPacket Next(ConnId conn, const std::string& step);
  QuorumPacket Expect(ConnId conn, PacketType type, const std::string& step);
  void Sync(ConnId conn);
  void Broadcast(ConnId conn);

  Options o_;
  std::map<quorum::ServerId, std::unique_ptr<peer::ElectionTransport>> ours_;
  peer::QuorumTransport quorum_;
  quorum::ServerId follower_ = 0;
  int pings_ = 0;
};

void LearnerProbe::Elect() {
  for (auto& [id, p] : o_.ports) {
    ours_[id] = std::make_unique<peer::ElectionTransport>(ElectionFor(o_, id));
    ours_[id]->Start();
    std::string err;
    Check(ours_[id]->WaitListening(5000, &err) > 0, "election listener: " + err);
    if (follower_ == 0) follower_ = id;
  }
  quorum_.Start();
  Say("READY");
  for (auto& [id, t] : ours_) {
    Notification z = Await(
        *t, o_.zk_id, o_.timeout_ms, [&](const Notification& n) { return n.leader == o_.zk_id; },
        "ZooKeeper's own vote");
    t->Send(o_.zk_id, {quorum::PeerState::kLooking, o_.zk_id, z.zxid, z.election_epoch, z.peer_epoch, 2, z.config});
  }
  // ZooKeeper, now with a quorum of votes for itself, stops sending until
  // someone is LOOKING: a LOOKING vote from us gets its LEADING answer.
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.timeout_ms);
  bool leading = false;
  while (!leading && std::chrono::steady_clock::now() < end) {
    ours_[follower_]->Send(o_.zk_id, {quorum::PeerState::kLooking, o_.zk_id, 0, 1, 0, 2, ""});
    peer::ReceivedNotification r;
    while (!leading && ours_[follower_]->Poll(&r, 300)) {
      leading = r.from == o_.zk_id && r.notification.state == quorum::PeerState::kLeading &&
                r.notification.leader == o_.zk_id;
    }
  }
  Check(leading, "ZooKeeper reports LEADING");
  Say("ZK LEADING");
}

ConnId LearnerProbe::ConnectToLeader() {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    ConnId conn = quorum_.Connect("127.0.0.1", o_.zk_quorum);
    QuorumEvent ev;
    while (quorum_.Poll(&ev, 2000) && ev.conn != conn) {
    }
    if (ev.conn == conn && ev.kind == QuorumEvent::Kind::kConnected) return conn;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // its Leader binds a moment later
  }
  throw std::runtime_error("cannot connect to ZooKeeper's quorum port");
}

// The next packet from the leader; PINGs are answered (no touches) on the way.
QuorumPacket LearnerProbe::Next(ConnId conn, const std::string& step) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    QuorumEvent ev;
    if (!quorum_.Poll(&ev, 200) || ev.conn != conn) continue;
    Check(ev.kind != QuorumEvent::Kind::kDisconnected, step + ": leader closed: " + ev.reason);
    if (ev.kind != QuorumEvent::Kind::kPacket) continue;
    if (ev.packet.type == PacketType::kPing) {
      pings_++;
      quorum_.Send(conn, {PacketType::kPing, ev.packet.zxid, quorum::EncodeSessionTouches({}), false, {}});
      continue;
    }
    return ev.packet;
  }
  throw std::runtime_error(step + ": timed out");
}

QuorumPacket LearnerProbe::Expect(ConnId conn, PacketType type, const std::string& step) {
  QuorumPacket p = Next(conn, step);
  Check(p.type == type, step + ": got packet type " + std::to_string(static_cast<int>(p.type)));
  return p;
}

void LearnerProbe::Sync(ConnId conn) {
  quorum_.Send(conn, {PacketType::kFollowerInfo,
                      MakeZxid(0, 0),
                      quorum::EncodeLearnerInfo({follower_, quorum::kLearnerProtocolVersion, 0}),
                      false,
                      {}});
  QuorumPacket li = Expect(conn, PacketType::kLeaderInfo, "LEADERINFO");
  Check(quorum::DecodeLeaderInfo(li.data) == 0x10000, "LEADERINFO protocol version 0x10000");
  Check(quorum::EpochOf(li.zxid) == 1 && quorum::CounterOf(li.zxid) == 0, "LEADERINFO zxid = new epoch 1");
  Say("LEADERINFO OK");
  quorum_.Send(conn, {PacketType::kAckEpoch, 0, quorum::EncodeAckEpoch(0), false, {}});
  QuorumPacket diff = Expect(conn, PacketType::kDiff, "DIFF");
  Check(diff.zxid == 0, "empty DIFF at zxid 0");
  QuorumPacket nl = Expect(conn, PacketType::kNewLeader, "NEWLEADER");
  Check(nl.zxid == li.zxid, "NEWLEADER zxid");
  Check(nl.data.find("server." + std::to_string(o_.zk_id) + "=") != std::string::npos, "NEWLEADER carries config");
  quorum_.Send(conn, {PacketType::kAck, nl.zxid, "", true, {}});
  Expect(conn, PacketType::kUpToDate, "UPTODATE");
  quorum_.Send(conn, {PacketType::kAck, nl.zxid, "", true, {}});
  Say("SYNCED FROM ZK");
}

void LearnerProbe::Broadcast(ConnId conn) {
  int client = ClientConnect(o_.zk_client);
  WriteAll(client, ConnectRequestFrame(0, std::string(16, '\0')));
  QuorumPacket prop = Expect(conn, PacketType::kProposal, "PROPOSAL createSession");
  Check(prop.zxid == MakeZxid(1, 1), "first proposal of epoch 1");
  proto::jute::Reader r(prop.data);  // TxnHeader
  int64_t client_id = r.ReadInt64();
  r.ReadInt32();  // cxid
  int64_t zxid = r.ReadInt64();
  r.ReadInt64();  // time
  int32_t type = r.ReadInt32();
  int32_t timeout = r.ReadInt32();  // CreateSessionTxn
  Check(r.ok() && type == -10 && zxid == prop.zxid && timeout > 0, "PROPOSAL: TxnHeader createSession");
  quorum_.Send(conn, {PacketType::kAck, prop.zxid, "", true, {}});
  QuorumPacket commit = Expect(conn, PacketType::kCommit, "COMMIT");
  Check(commit.zxid == prop.zxid, "COMMIT of our ACKed proposal");
  auto [to, sid] = ReadConnectResponse(client);
  Check(sid == client_id && to > 0, "client session created through our ACK");
  Say("PROPOSAL/ACK/COMMIT OK session=" + std::to_string(sid));
  close(client);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pings_ == 0) {
    Check(std::chrono::steady_clock::now() < end, "no PING from the leader");
    QuorumEvent ev;
    if (quorum_.Poll(&ev, 200) && ev.kind == QuorumEvent::Kind::kPacket && ev.packet.type == PacketType::kPing) {
      pings_++;
    }
  }
  Say("PINGED");
}

void LearnerProbe::Run() {
  Elect();
  ConnId conn = ConnectToLeader();
  Sync(conn);
  Broadcast(conn);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = Parse(argc, argv);
  try {
    if (o.mode == "learner") {
      LearnerProbe(o).Run();
    } else {
      Probe(o).Run();
    }
  } catch (const std::exception& e) {
    Say(std::string("PROBE FAIL: ") + e.what());
    return 1;
  }
  Say("PROBE OK");
  return 0;
}
