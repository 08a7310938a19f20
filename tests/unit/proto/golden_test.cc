// Golden byte vectors, written by hand from zookeeper.jute and
// docs/format/wire.md (not produced by this codec).
#include <gtest/gtest.h>

#include "proto/codec.h"
#include "test_util.h"

namespace aviary::proto {
namespace {

using testing::Hex;
using testing::Payload;
using testing::ToHex;

// protocolVersion 0, lastZxidSeen 0, timeOut 30000, sessionId 0,
// passwd = 16 zero bytes, readOnly false. 45 bytes of payload.
const char* kConnectRequest =
    "0000002d"
    "00000000"
    "0000000000000000"
    "00007530"
    "0000000000000000"
    "00000010 00000000000000000000000000000000"
    "00";

TEST(Golden, ConnectRequestDecode) {
  std::string frame = Hex(kConnectRequest);
  ConnectRequest req;
  ASSERT_TRUE(DecodeConnectRequest(Payload(frame), &req));
  EXPECT_EQ(req.protocolVersion, 0);
  EXPECT_EQ(req.lastZxidSeen, 0);
  EXPECT_EQ(req.timeOut, 30000);
  EXPECT_EQ(req.sessionId, 0);
  EXPECT_EQ(req.passwd, std::string(16, '\0'));
  EXPECT_FALSE(req.readOnly);

  std::string out;
  EncodeConnectRequest(req, &out);
  EXPECT_EQ(ToHex(out), ToHex(frame));
}

TEST(Golden, ConnectRequestWithoutReadOnlyByte) {
  std::string payload = Payload(Hex(kConnectRequest));
  payload.pop_back();
  ConnectRequest req;
  req.readOnly = true;
  ASSERT_TRUE(DecodeConnectRequest(payload, &req));
  EXPECT_FALSE(req.readOnly);
  EXPECT_FALSE(req.has_read_only);
  EXPECT_EQ(req.timeOut, 30000);
}

TEST(Golden, ConnectResponseOmitsReadOnlyWhenClientDid) {
  ConnectResponse rsp;
  rsp.timeOut = 4000;
  rsp.sessionId = 1;
  rsp.passwd = std::string("\x01\x02", 2);
  rsp.has_read_only = false;
  std::string out;
  EncodeConnectResponse(rsp, &out);
  EXPECT_EQ(ToHex(out), ToHex(Hex("00000016 00000000 00000fa0 0000000000000001 00000002 0102")));
}

// create("/n", null data, [world:anyone:31], PERSISTENT): data length -1.
TEST(Golden, NullDataSurvivesCreateAndGetData) {
  std::string payload =
      Hex("00000001 00000001 00000002 2f6e ffffffff"
          "00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000000");
  Request req;
  ASSERT_EQ(DecodeRequest(payload, &req), Err::kOk);
  const auto& c = std::get<CreateRequest>(req.body);
  EXPECT_TRUE(c.data_null);
  EXPECT_EQ(c.data, "");
  std::string re;
  EncodeRequest(req, &re);
  EXPECT_EQ(ToHex(Payload(re)), ToHex(payload));

  GetDataResponse rsp;
  rsp.data_null = true;
  std::string out;
  EncodeReply(ReplyHeader{2, 5, 0}, rsp, &out);
  // header, then buffer length -1, then the 68-byte Stat.
  EXPECT_EQ(ToHex(out).substr(0, 48), ToHex(Hex("00000058 00000002 0000000000000005 00000000 ffffffff")));
}

TEST(Golden, ConnectResponseEncode) {
  ConnectResponse rsp;
  rsp.protocolVersion = 0;
  rsp.timeOut = 4000;
  rsp.sessionId = 0x0100000abcdef012LL;
  rsp.passwd = std::string("\x01\x02\x03\x04", 4);
  rsp.readOnly = false;
  std::string out;
  EncodeConnectResponse(rsp, &out);
  EXPECT_EQ(ToHex(out), ToHex(Hex("00000019 00000000 00000fa0 0100000abcdef012 00000004 01020304 00")));
}

// create("/a", "hi", [{31, world:anyone}], PERSISTENT), xid 1.
const char* kCreate =
    "00000001 00000001"
    "00000002 2f61"
    "00000002 6869"
    "00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65"
    "00000000";

TEST(Golden, CreateRequest) {
  std::string payload = Hex(kCreate);
  Request req;
  ASSERT_EQ(DecodeRequest(payload, &req), Err::kOk);
  EXPECT_EQ(req.header.xid, 1);
  EXPECT_EQ(req.op(), OpCode::kCreate);
  const auto& c = std::get<CreateRequest>(req.body);
  EXPECT_EQ(c.path, "/a");
  EXPECT_EQ(c.data, "hi");
  ASSERT_EQ(c.acl.size(), 1u);
  EXPECT_EQ(c.acl[0], (Acl{perms::kAll, Id{"world", "anyone"}}));
  EXPECT_EQ(c.flags, 0);
  EXPECT_EQ(c.ttl, -1);

  std::string out;
  EncodeRequest(req, &out);
  EXPECT_EQ(ToHex(Payload(out)), ToHex(payload));
}

// multi xid 7: create("/x", "", [], EPHEMERAL); setData("/y", "v", 3);
// delete("/z", -1); terminator.
const char* kMulti3 =
    "00000007 0000000e"
    "00000001 00 ffffffff | 00000002 2f78 | 00000000 | 00000000 | 00000001"
    "00000005 00 ffffffff | 00000002 2f79 | 00000001 76 | 00000003"
    "00000002 00 ffffffff | 00000002 2f7a | ffffffff"
    "ffffffff 01 ffffffff";

TEST(Golden, MultiWithThreeOps) {
  std::string payload = Hex(kMulti3);
  Request req;
  ASSERT_EQ(DecodeRequest(payload, &req), Err::kOk);
  EXPECT_EQ(req.header.xid, 7);
  EXPECT_EQ(req.op(), OpCode::kMulti);
  const auto& m = std::get<MultiRequest>(req.body);
  ASSERT_EQ(m.ops.size(), 3u);
  EXPECT_EQ(m.ops[0].type, OpCode::kCreate);
  const auto& c = std::get<CreateRequest>(m.ops[0].body);
  EXPECT_EQ(c.path, "/x");
  EXPECT_EQ(c.data, "");
  EXPECT_TRUE(c.acl.empty());
  EXPECT_EQ(c.flags, static_cast<int32_t>(CreateMode::kEphemeral));
  EXPECT_EQ(m.ops[1].type, OpCode::kSetData);
  const auto& s = std::get<SetDataRequest>(m.ops[1].body);
  EXPECT_EQ(s.path, "/y");
  EXPECT_EQ(s.data, "v");
  EXPECT_EQ(s.version, 3);
  EXPECT_EQ(m.ops[2].type, OpCode::kDelete);
  const auto& d = std::get<DeleteRequest>(m.ops[2].body);
  EXPECT_EQ(d.path, "/z");
  EXPECT_EQ(d.version, -1);

  std::string out;
  EncodeRequest(req, &out);
  EXPECT_EQ(ToHex(Payload(out)), ToHex(payload));
}

// A failed multi as ZooKeeper answers it: header err 0, every result an
// error result: ops before the failure OK (0), the failing op NONODE (-101),
// ops after it RUNTIMEINCONSISTENCY (-2). MultiHeader.err = the error code.
const char* kFailedMultiReply =
    "00000007 0000000000000010 00000000"
    "ffffffff 00 00000000 | 00000000"
    "ffffffff 00 ffffff9b | ffffff9b"
    "ffffffff 00 fffffffe | fffffffe"
    "ffffffff 01 ffffffff";

TEST(Golden, FailedMultiResponse) {
  MultiResponse m;
  for (Err e : {Err::kOk, Err::kNoNode, Err::kRuntimeInconsistency}) {
    MultiResult r;
    r.type = OpCode::kError;
    r.err = static_cast<int32_t>(e);
    m.results.push_back(r);
  }
  std::string out;
  EncodeReply(ReplyHeader{7, 0x10, 0}, m, &out);
  EXPECT_EQ(ToHex(Payload(out)), ToHex(Hex(kFailedMultiReply)));

  ReplyHeader hdr;
  ResponseBody body;
  ASSERT_TRUE(DecodeReply(Hex(kFailedMultiReply), OpCode::kMulti, &hdr, &body));
  const auto& back = std::get<MultiResponse>(body);
  ASSERT_EQ(back.results.size(), 3u);
  EXPECT_EQ(back.results[1].type, OpCode::kError);
  EXPECT_EQ(back.results[1].err, -101);
}

TEST(Golden, SuccessfulMultiResponse) {
  MultiResponse m;
  m.results.push_back(MultiResult{OpCode::kCreate, 0, "/x", {}, {}, {}});
  MultiResult sd{OpCode::kSetData, 0, {}, {}, {}, {}};
  sd.stat.version = 4;
  m.results.push_back(sd);
  m.results.push_back(MultiResult{OpCode::kDelete, 0, {}, {}, {}, {}});
  std::string out;
  EncodeReply(ReplyHeader{7, 0x11, 0}, m, &out);
  std::string stat =
      "0000000000000000 0000000000000000 0000000000000000 0000000000000000"
      "00000004 00000000 00000000 0000000000000000 00000000 00000000 0000000000000000";
  EXPECT_EQ(ToHex(Payload(out)), ToHex(Hex("00000007 0000000000000011 00000000"
                                           "00000001 00 00000000 | 00000002 2f78"
                                           "00000005 00 00000000 | " +
                                           stat +
                                           "00000002 00 00000000"
                                           "ffffffff 01 ffffffff")));
}

TEST(Golden, ErrorReplyIsHeaderOnly) {
  GetDataResponse data;
  data.data = "ignored";
  std::string out;
  EncodeReply(ReplyHeader{5, 0x20, static_cast<int32_t>(Err::kNoNode)}, data, &out);
  EXPECT_EQ(ToHex(out), ToHex(Hex("00000010 00000005 0000000000000020 ffffff9b")));
}

TEST(Golden, Notification) {
  WatcherEvent ev{static_cast<int32_t>(EventType::kNodeDataChanged), static_cast<int32_t>(KeeperState::kSyncConnected),
                  "/n"};
  std::string out;
  EncodeReply(ReplyHeader{xid::kNotification, -1, 0}, ev, &out);
  EXPECT_EQ(ToHex(out), ToHex(Hex("0000001e ffffffff ffffffffffffffff 00000000 00000003 00000003 00000002 2f6e")));
}

TEST(Golden, GetChildren2Response) {
  GetChildren2Response rsp;
  rsp.children = {"a", "bc"};
  rsp.stat.czxid = 1;
  rsp.stat.numChildren = 2;
  std::string out;
  EncodeReply(ReplyHeader{3, 9, 0}, rsp, &out);
  EXPECT_EQ(ToHex(Payload(out)),
            ToHex(Hex("00000003 0000000000000009 00000000"
                      "00000002 00000001 61 00000002 6263"
                      "0000000000000001 0000000000000000 0000000000000000 0000000000000000"
                      "00000000 00000000 00000000 0000000000000000 00000000 00000002 0000000000000000")));
}

TEST(Golden, SetWatchesDecodesIntoSetWatches2) {
  std::string payload =
      Hex("fffffff8 00000065 0000000000000042"
          "00000001 00000002 2f61"
          "00000000"
          "00000002 00000002 2f62 00000002 2f63");
  Request req;
  ASSERT_EQ(DecodeRequest(payload, &req), Err::kOk);
  EXPECT_EQ(req.header.xid, xid::kSetWatches);
  const auto& sw = std::get<SetWatches2>(req.body);
  EXPECT_EQ(sw.relativeZxid, 0x42);
  EXPECT_EQ(sw.dataWatches, (std::vector<std::string>{"/a"}));
  EXPECT_TRUE(sw.existWatches.empty());
  EXPECT_EQ(sw.childWatches, (std::vector<std::string>{"/b", "/c"}));
  EXPECT_TRUE(sw.persistentWatches.empty());
  EXPECT_TRUE(sw.persistentRecursiveWatches.empty());
  std::string out;
  EncodeRequest(req, &out);
  EXPECT_EQ(ToHex(Payload(out)), ToHex(payload));
}

TEST(Golden, AuthPacket) {
  std::string payload = Hex("fffffffc 00000064 00000000 00000006 646967657374 00000003 613a62");
  Request req;
  ASSERT_EQ(DecodeRequest(payload, &req), Err::kOk);
  const auto& a = std::get<AuthPacket>(req.body);
  EXPECT_EQ(a.type, 0);
  EXPECT_EQ(a.scheme, "digest");
  EXPECT_EQ(a.auth, "a:b");
}

TEST(Golden, CreateTtlCarriesTtl) {
  std::string payload = Hex("00000002 00000015 00000002 2f74 ffffffff 00000000 00000005 00000000000003e8");
  Request req;
  ASSERT_EQ(DecodeRequest(payload, &req), Err::kOk);
  const auto& c = std::get<CreateRequest>(req.body);
  EXPECT_EQ(c.data, "");  // null buffer reads as empty
  EXPECT_EQ(c.flags, static_cast<int32_t>(CreateMode::kPersistentWithTtl));
  EXPECT_EQ(c.ttl, 1000);
}

TEST(Golden, PingAndWhoAmIHaveNoBody) {
  Request req;
  ASSERT_EQ(DecodeRequest(Hex("fffffffe 0000000b"), &req), Err::kOk);
  EXPECT_TRUE(std::holds_alternative<Empty>(req.body));
  EXPECT_EQ(req.header.xid, xid::kPing);
  ASSERT_EQ(DecodeRequest(Hex("00000009 0000006b"), &req), Err::kOk);
  EXPECT_EQ(req.op(), OpCode::kWhoAmI);
  EXPECT_TRUE(std::holds_alternative<Empty>(req.body));
}

TEST(Golden, WhoAmIResponse) {
  WhoAmIResponse w;
  w.clientInfo = {{"ip", "127.0.0.1"}};
  std::string out;
  EncodeReply(ReplyHeader{9, 5, 0}, w, &out);
  EXPECT_EQ(ToHex(Payload(out)), ToHex(Hex("00000009 0000000000000005 00000000"
                                           "00000001 00000002 6970 00000009 3132372e302e302e31")));
}

}  // namespace
}  // namespace aviary::proto

namespace aviary::proto {
namespace {

// deleteContainer (20) carries its path as raw bytes, not a jute string
// (found by the fuzzer: the re-encoding must keep that form).
TEST(Golden, DeleteContainerRawPathRoundTrips) {
  std::string payload = testing::Hex("00000001 00000014 2f6100");
  Request req;
  ASSERT_EQ(DecodeRequest(payload, &req), Err::kOk);
  EXPECT_EQ(std::get<DeleteRequest>(req.body).path, std::string("/a\0", 3));
  std::string out;
  EncodeRequest(req, &out);
  EXPECT_EQ(testing::ToHex(testing::Payload(out)), testing::ToHex(payload));
}

}  // namespace
}  // namespace aviary::proto
