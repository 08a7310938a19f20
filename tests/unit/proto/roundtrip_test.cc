// Encode -> decode -> encode round trips for every request and reply body.
#include <gtest/gtest.h>

#include "proto/codec.h"
#include "samples.h"
#include "test_util.h"

namespace aviary::proto {
namespace {

using testing::Payload;
using testing::SampleReplies;
using testing::SampleRequests;
using testing::SampleStat;
using testing::ToHex;

TEST(RoundTrip, EveryRequest) {
  for (const Request& req : SampleRequests()) {
    SCOPED_TRACE(std::string(OpName(req.op())));
    std::string frame;
    EncodeRequest(req, &frame);
    Request back;
    ASSERT_EQ(DecodeRequest(Payload(frame), &back), Err::kOk);
    EXPECT_EQ(back.header.xid, req.header.xid);
    EXPECT_EQ(back.header.type, req.header.type);
    EXPECT_EQ(back.body.index(), req.body.index());
    std::string again;
    EncodeRequest(back, &again);
    EXPECT_EQ(ToHex(again), ToHex(frame));
  }
}

TEST(RoundTrip, RequestFieldsSurvive) {
  auto reqs = SampleRequests();
  auto find = [&](int32_t xid) -> const Request& {
    for (const Request& r : reqs)
      if (r.header.xid == xid) return r;
    ADD_FAILURE() << "no sample with xid " << xid;
    return reqs[0];
  };
  auto decode = [](const Request& in) {
    std::string frame;
    EncodeRequest(in, &frame);
    Request out;
    EXPECT_EQ(DecodeRequest(Payload(frame), &out), Err::kOk);
    return out;
  };

  Request ttl = decode(find(4));
  EXPECT_EQ(std::get<CreateRequest>(ttl.body).ttl, 60000);
  EXPECT_EQ(std::get<CreateRequest>(ttl.body).acl, testing::SampleAcl());

  Request create2 = decode(find(2));
  EXPECT_EQ(std::get<CreateRequest>(create2.body).data, std::string("d\0ta", 4));
  EXPECT_EQ(std::get<CreateRequest>(create2.body).ttl, -1);  // not on the wire

  Request multi = decode(find(15));
  const auto& ops = std::get<MultiRequest>(multi.body).ops;
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_EQ(ops[3].type, OpCode::kCreateTtl);
  EXPECT_EQ(std::get<CreateRequest>(ops[3].body).ttl, 60000);
  EXPECT_EQ(ops[6].type, OpCode::kCheck);
  EXPECT_EQ(std::get<CheckVersionRequest>(ops[6].body).version, 9);

  Request sw2 = decode(find(-8));  // the first -8 sample: setWatches
  EXPECT_EQ(sw2.op(), OpCode::kSetWatches);
  EXPECT_EQ(std::get<SetWatches2>(sw2.body).dataWatches, (std::vector<std::string>{"/d1", "/d2"}));

  Request rc = decode(find(23));
  EXPECT_EQ(std::get<ReconfigRequest>(rc.body).curConfigId, 0x300000000);
}

TEST(RoundTrip, SetWatchesDropsPersistentLists) {
  SetWatches2 sw{1, {"/d"}, {}, {}, {"/p"}, {"/r"}};
  std::string frame;
  EncodeRequest(testing::MakeRequest(-8, OpCode::kSetWatches, sw), &frame);
  Request back;
  ASSERT_EQ(DecodeRequest(Payload(frame), &back), Err::kOk);
  EXPECT_TRUE(std::get<SetWatches2>(back.body).persistentWatches.empty());
  EXPECT_TRUE(std::get<SetWatches2>(back.body).persistentRecursiveWatches.empty());

  frame.clear();
  EncodeRequest(testing::MakeRequest(-8, OpCode::kSetWatches2, sw), &frame);
  ASSERT_EQ(DecodeRequest(Payload(frame), &back), Err::kOk);
  EXPECT_EQ(std::get<SetWatches2>(back.body).persistentWatches, (std::vector<std::string>{"/p"}));
  EXPECT_EQ(std::get<SetWatches2>(back.body).persistentRecursiveWatches, (std::vector<std::string>{"/r"}));
}

TEST(RoundTrip, EveryReply) {
  for (const auto& s : SampleReplies()) {
    SCOPED_TRACE(std::string(OpName(s.op)));
    std::string frame;
    EncodeReply(s.header, s.body, &frame);
    ReplyHeader hdr;
    ResponseBody body;
    ASSERT_TRUE(DecodeReply(Payload(frame), s.op, &hdr, &body));
    EXPECT_EQ(hdr.xid, s.header.xid);
    EXPECT_EQ(hdr.zxid, s.header.zxid);
    EXPECT_EQ(hdr.err, s.header.err);
    EXPECT_EQ(body.index(), s.body.index());
    std::string again;
    EncodeReply(hdr, body, &again);
    EXPECT_EQ(ToHex(again), ToHex(frame));
  }
}

TEST(RoundTrip, ReplyFieldsSurvive) {
  ReplyHeader hdr;
  ResponseBody body;
  std::string frame;
  GetAclResponse acl{testing::SampleAcl(), SampleStat()};
  EncodeReply(ReplyHeader{1, 2, 0}, acl, &frame);
  ASSERT_TRUE(DecodeReply(Payload(frame), OpCode::kGetAcl, &hdr, &body));
  EXPECT_EQ(std::get<GetAclResponse>(body).acl, acl.acl);
  EXPECT_EQ(std::get<GetAclResponse>(body).stat, SampleStat());

  frame.clear();
  MultiResponse m;
  m.results.push_back({OpCode::kGetData, 0, {}, SampleStat(), "v", {}});
  m.results.push_back({OpCode::kError, -101, {}, {}, {}, {}});
  EncodeReply(ReplyHeader{3, 4, 0}, m, &frame);
  ASSERT_TRUE(DecodeReply(Payload(frame), OpCode::kMultiRead, &hdr, &body));
  const auto& res = std::get<MultiResponse>(body).results;
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0].data, "v");
  EXPECT_EQ(res[0].stat, SampleStat());
  EXPECT_EQ(res[1].err, -101);
}

TEST(RoundTrip, ErrorReplyDecodesToEmpty) {
  std::string frame;
  EncodeReply(ReplyHeader{4, 5, static_cast<int32_t>(Err::kNoNode)}, GetDataResponse{"x", SampleStat()}, &frame);
  ReplyHeader hdr;
  ResponseBody body = GetDataResponse{};
  ASSERT_TRUE(DecodeReply(Payload(frame), OpCode::kGetData, &hdr, &body));
  EXPECT_EQ(hdr.err, -101);
  EXPECT_TRUE(std::holds_alternative<Empty>(body));
}

TEST(RoundTrip, MultiBodyIsWrittenEvenWithHeaderError) {
  MultiResponse m;
  m.results.push_back({OpCode::kError, -101, {}, {}, {}, {}});
  std::string frame;
  EncodeReply(ReplyHeader{4, 5, -101}, m, &frame);
  ReplyHeader hdr;
  ResponseBody body;
  ASSERT_TRUE(DecodeReply(Payload(frame), OpCode::kMulti, &hdr, &body));
  EXPECT_EQ(std::get<MultiResponse>(body).results.size(), 1u);
}

TEST(RoundTrip, ConnectResponse) {
  ConnectResponse rsp{0, 30000, 0x1234567890, std::string(16, '\x5a'), true};
  std::string frame;
  EncodeConnectResponse(rsp, &frame);
  ConnectResponse back;
  ASSERT_TRUE(DecodeConnectResponse(Payload(frame), &back));
  EXPECT_EQ(back.timeOut, 30000);
  EXPECT_EQ(back.sessionId, 0x1234567890);
  EXPECT_EQ(back.passwd, rsp.passwd);
  EXPECT_TRUE(back.readOnly);
}

TEST(RoundTrip, EncodersAppendFrames) {
  std::string buf = "prefix";
  EncodeReply(ReplyHeader{1, 2, 0}, SyncResponse{"/a"}, &buf);
  size_t first = buf.size();
  EncodeReply(ReplyHeader{-2, 3, 0}, Empty{}, &buf);
  EXPECT_EQ(buf.substr(0, 6), "prefix");
  EXPECT_EQ(buf.size() - first, 4u + 16u);
  ReplyHeader hdr;
  ResponseBody body;
  ASSERT_TRUE(DecodeReply(Payload(std::string_view(buf).substr(6, first - 6)), OpCode::kSync, &hdr, &body));
  EXPECT_EQ(std::get<SyncResponse>(body).path, "/a");
}

TEST(Codes, Names) {
  EXPECT_EQ(ErrName(Err::kNoNode), "NONODE");
  EXPECT_EQ(ErrName(Err::kOk), "OK");
  EXPECT_EQ(ErrName(Err::kSessionClosedRequireSaslAuth), "SESSIONCLOSEDREQUIRESASLAUTH");
  EXPECT_EQ(ErrName(Err::kThrottledOp), "THROTTLEDOP");
  EXPECT_EQ(ErrName(static_cast<Err>(-999)), "UNKNOWN");
  EXPECT_EQ(OpName(OpCode::kGetAcl), "getACL");
  EXPECT_EQ(OpName(OpCode::kCreateTtl), "createTTL");
  EXPECT_EQ(OpName(OpCode::kCloseSession), "closeSession");
  EXPECT_EQ(OpName(static_cast<OpCode>(555)), "unknown");
}

}  // namespace
}  // namespace aviary::proto
