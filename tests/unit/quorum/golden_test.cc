// Byte vectors written by hand from the Java sources' write order
// (ZooKeeper branch-3.8), not produced by our encoders. Each vector's
// comment names the Java code whose writes it spells out.
#include <gtest/gtest.h>

#include "hex.h"
#include "quorum/codec.h"

namespace aviary::quorum {
namespace {

using testing::Hex;
using testing::ToHex;

// Learner.registerWithLeader: QuorumPacket(FOLLOWERINFO=11,
// zxid=makeZxid(acceptedEpoch 1, 0), data=LearnerInfo(sid 2, 0x10000,
// config version 0), authinfo null) through BinaryOutputArchive.writeRecord:
// int type, long zxid, buffer (int len + bytes), vector (null = int -1).
const char* kFollowerInfo =
    "0000000b"                                    // type 11
    "0000000100000000"                            // zxid epoch 1 counter 0
    "00000014"                                    // data length 20
    "0000000000000002 00010000 0000000000000000"  // LearnerInfo
    "ffffffff";                                   // authinfo null

TEST(Golden, FollowerInfoPacket) {
  std::string bytes = Hex(kFollowerInfo);
  QuorumPacket p;
  size_t used = 0;
  ASSERT_EQ(DecodePacket(bytes, &p, &used), ParseStatus::kOk);
  EXPECT_EQ(used, bytes.size());
  EXPECT_EQ(p.type, PacketType::kFollowerInfo);
  EXPECT_EQ(p.zxid, MakeZxid(1, 0));
  EXPECT_TRUE(p.authinfo.empty());
  auto li = DecodeLearnerInfo(p.data);
  ASSERT_TRUE(li);
  EXPECT_EQ(li->server_id, 2);
  EXPECT_EQ(li->protocol_version, 0x10000);
  EXPECT_EQ(li->config_version, 0);
  QuorumPacket mine{PacketType::kFollowerInfo, MakeZxid(1, 0), EncodeLearnerInfo({2, 0x10000, 0}), false, {}};
  EXPECT_EQ(ToHex(EncodePacket(mine)), ToHex(bytes));
}

// LearnerHandler.run: QuorumPacket(LEADERINFO=17, makeZxid(newEpoch 2, 0),
// ver = ByteBuffer.putInt(0x10000), null).
TEST(Golden, LeaderInfoPacket) {
  std::string bytes = Hex("00000011 0000000200000000 00000004 00010000 ffffffff");
  QuorumPacket mine{PacketType::kLeaderInfo, MakeZxid(2, 0), EncodeLeaderInfo(0x10000), false, {}};
  EXPECT_EQ(ToHex(EncodePacket(mine)), ToHex(bytes));
  QuorumPacket p;
  size_t used = 0;
  ASSERT_EQ(DecodePacket(bytes, &p, &used), ParseStatus::kOk);
  EXPECT_EQ(DecodeLeaderInfo(p.data), 0x10000);
}

// Learner.registerWithLeader: ACKEPOCH=18, zxid = lastLoggedZxid (0x100000005),
// data = putInt(currentEpoch 1); and the -1 "already accepted" form.
TEST(Golden, AckEpochPacket) {
  std::string bytes = Hex("00000012 0000000100000005 00000004 00000001 ffffffff");
  QuorumPacket mine{PacketType::kAckEpoch, MakeZxid(1, 5), EncodeAckEpoch(1), false, {}};
  EXPECT_EQ(ToHex(EncodePacket(mine)), ToHex(bytes));
  EXPECT_EQ(DecodeAckEpoch(Hex("ffffffff")), -1);
  EXPECT_FALSE(DecodeAckEpoch(Hex("000000")));
}

// LearnerHandler: QuorumPacket(UPTODATE=12, -1, null, null): null data is -1.
TEST(Golden, NullDataPacket) {
  std::string bytes = Hex("0000000c ffffffffffffffff ffffffff ffffffff");
  QuorumPacket p;
  size_t used = 0;
  ASSERT_EQ(DecodePacket(bytes, &p, &used), ParseStatus::kOk);
  EXPECT_TRUE(p.data_null);
  EXPECT_EQ(p.zxid, -1);
  EXPECT_EQ(ToHex(EncodePacket(p)), ToHex(bytes));
}

// Learner.request: DataOutputStream writeLong(sessionId), writeInt(cxid),
// writeInt(type), then the request bytes (here a sync request body, jute
// string "/a"); QuorumPacket(REQUEST=1, -1, data, authInfo [digest:u:h]).
TEST(Golden, RequestPacket) {
  std::string bytes =
      Hex("00000001 ffffffffffffffff"
          "00000016"                            // data length 22
          "0123456789abcdef 00000007 00000009"  // session, cxid 7, type sync(9)
          "00000002 2f61"                       // body: ustring "/a"
          "00000001"                            // authinfo: one Id
          "00000006 646967657374"               // "digest"
          "00000003 753a68");                   // "u:h"
  QuorumPacket p;
  size_t used = 0;
  ASSERT_EQ(DecodePacket(bytes, &p, &used), ParseStatus::kOk);
  ASSERT_EQ(p.authinfo.size(), 1u);
  EXPECT_EQ(p.authinfo[0].scheme, "digest");
  auto req = DecodeForwardedRequest(p.data);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->session_id, 0x0123456789abcdefLL);
  EXPECT_EQ(req->cxid, 7);
  EXPECT_EQ(req->type, 9);
  EXPECT_EQ(ToHex(req->body), "000000022f61");
  EXPECT_EQ(ToHex(EncodePacket(p)), ToHex(bytes));
}

// Learner.ping: for each touch writeLong(session) writeInt(timeout).
TEST(Golden, PingTouches) {
  std::string data = Hex("0000000000000011 00007530  0000000000000022 00001388");
  auto t = DecodeSessionTouches(data);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0], (SessionTouch{0x11, 30000}));
  EXPECT_EQ((*t)[1], (SessionTouch{0x22, 5000}));
  EXPECT_EQ(ToHex(EncodeSessionTouches(*t)), ToHex(data));
  EXPECT_EQ(DecodeSessionTouches("")->size(), 0u);
}

// Learner.validateSession writes long + int; Leader.revalidateSession
// answers long + DataOutputStream.writeBoolean (one byte 0/1).
TEST(Golden, Revalidate) {
  EXPECT_EQ(ToHex(EncodeRevalidateRequest({0x55, 4000})), "000000000000005500000fa0");
  auto rep = DecodeRevalidateReply(Hex("0000000000000055 01"));
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->session_id, 0x55);
  EXPECT_TRUE(rep->valid);
  EXPECT_EQ(ToHex(EncodeRevalidateReply({0x55, false})), "000000000000005500");
}

// Leader.commitAndActivate: putLong(designatedLeader);
// buildInformAndActivePacket: putLong(designatedLeader) + proposal bytes.
TEST(Golden, ActivatePayloads) {
  EXPECT_EQ(ToHex(EncodeCommitAndActivate(3)), "0000000000000003");
  auto ia = DecodeInformAndActivate(Hex("0000000000000003 cafe"));
  ASSERT_TRUE(ia);
  EXPECT_EQ(ia->designated_leader, 3);
  EXPECT_EQ(ToHex(ia->proposal), "cafe");
}

// FastLeaderElection.buildMsg(state, leader, zxid, electionEpoch, epoch,
// configData): putInt state, putLong x4, putInt CURRENTVERSION (2), putInt
// config length, config bytes; SendWorker.send prefixes writeInt(capacity).
TEST(Golden, NotificationCurrent) {
  std::string frame =
      Hex("00000031"               // 49 = 44 + 5
          "00000000"               // LOOKING
          "0000000000000003"       // proposed leader 3
          "0000000100000007"       // zxid
          "0000000000000002"       // election epoch (logicalclock)
          "0000000000000001"       // peer epoch
          "00000002"               // version
          "00000005 7665723d30");  // "ver=0"
  Notification n{PeerState::kLooking, 3, MakeZxid(1, 7), 2, 1, 2, "ver=0"};
  std::string mine;
  EncodeNotificationFrame(n, &mine);
  EXPECT_EQ(ToHex(mine), ToHex(frame));
  auto back = DecodeNotification(std::string_view(frame).substr(4));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, n);
}

// The 40-byte form (buildMsg without config: ... putLong epoch, putInt 1):
// WorkerReceiver reads peerEpoch but not the version (stays 0).
TEST(Golden, Notification40) {
  std::string body = Hex("00000002 0000000000000001 0000000300000000 0000000000000004 0000000000000003 00000001");
  auto n = DecodeNotification(body);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->state, PeerState::kLeading);
  EXPECT_EQ(n->peer_epoch, 3);
  EXPECT_EQ(n->version, 0);
  EXPECT_TRUE(n->config.empty());
}

// The 28-byte pre-ZK-107 form: no peer epoch; it is the zxid's epoch.
TEST(Golden, Notification28) {
  std::string body = Hex("00000001 0000000000000005 0000000900000010 0000000000000004");
  auto n = DecodeNotification(body);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->state, PeerState::kFollowing);
  EXPECT_EQ(n->leader, 5);
  EXPECT_EQ(n->peer_epoch, 9);
  EXPECT_EQ(n->version, 0);
  Notification old{PeerState::kFollowing, 5, MakeZxid(9, 16), 4, 0, 0, ""};
  EXPECT_EQ(ToHex(EncodeNotification(old)), ToHex(body));
}

// QuorumCnxManager.startConnection: writeLong(PROTOCOL_VERSION_V1 =
// -65536), writeLong(myId), writeInt(len), "host:port" bytes.
TEST(Golden, InitialMessageV1) {
  std::string bytes =
      Hex("ffffffffffff0000"                // -65536
          "0000000000000002"                // sid 2
          "0000000e"                        // 14
          "3132372e302e302e313a33383838");  // "127.0.0.1:3888"
  InitialMessage m{kElectionProtocolV1, 2, {{"127.0.0.1", 3888}}};
  std::string mine;
  EncodeInitialMessage(m, &mine);
  EXPECT_EQ(ToHex(mine), ToHex(bytes));
  InitialMessage back;
  size_t used = 0;
  ASSERT_EQ(DecodeInitialMessage(bytes, &back, &used), ParseStatus::kOk);
  EXPECT_EQ(used, bytes.size());
  EXPECT_EQ(back, m);
}

// V2 (-65535) joins addresses with '|'; NetUtils.formatInetAddr brackets v6;
// InitialMessage.parse drops wildcard addresses.
TEST(Golden, InitialMessageV2) {
  std::string text = "[::1]:3888|0.0.0.0:3888|10.0.0.1:3889";
  std::string bytes = Hex("ffffffffffff0001 0000000000000007") + Hex("00000025") + text;  // 37 bytes of text
  InitialMessage back;
  size_t used = 0;
  ASSERT_EQ(DecodeInitialMessage(bytes, &back, &used), ParseStatus::kOk);
  EXPECT_EQ(back.sid, 7);
  ASSERT_EQ(back.addresses.size(), 2u);
  EXPECT_EQ(back.addresses[0], (ElectionAddress{"::1", 3888}));
  EXPECT_EQ(back.addresses[1], (ElectionAddress{"10.0.0.1", 3889}));
}

// handleConnection: a first long >= 0 is a pre-3.5 server's bare sid.
TEST(Golden, InitialMessageLegacy) {
  InitialMessage back;
  size_t used = 0;
  ASSERT_EQ(DecodeInitialMessage(Hex("0000000000000004 ffff"), &back, &used), ParseStatus::kOk);
  EXPECT_EQ(used, 8u);
  EXPECT_EQ(back.sid, 4);
  EXPECT_TRUE(back.addresses.empty());
}

// LearnerHandler/Learner: after SNAP's body, writeString("BenWasHere").
TEST(Golden, SnapSignature) {
  std::string out;
  EncodeSnapSignature(&out);
  EXPECT_EQ(ToHex(out), "0000000a42656e57617348657265");
}

}  // namespace
}  // namespace aviary::quorum
