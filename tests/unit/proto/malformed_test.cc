// Malformed input: truncation at every offset, bad lengths and counts,
// invalid multi records. Every case must fail cleanly (no crash, no
// over-read; run under -DAVIARY_SANITIZE=ON to check the latter).
#include <gtest/gtest.h>

#include "proto/codec.h"
#include "samples.h"
#include "test_util.h"

namespace aviary::proto {
namespace {

using testing::Hex;
using testing::Payload;

TEST(Malformed, EveryTruncatedRequestFails) {
  for (const Request& req : testing::SampleRequests()) {
    SCOPED_TRACE(std::string(OpName(req.op())));
    std::string frame;
    EncodeRequest(req, &frame);
    std::string payload = Payload(frame);
    for (size_t n = 0; n < payload.size(); ++n) {
      // A copy into an exactly-sized heap buffer lets ASan see over-reads.
      std::string cut = payload.substr(0, n);
      Request out;
      EXPECT_EQ(DecodeRequest(cut, &out), Err::kMarshallingError) << "prefix " << n;
    }
  }
}

TEST(Malformed, EveryTruncatedReplyFails) {
  for (const auto& s : testing::SampleReplies()) {
    SCOPED_TRACE(std::string(OpName(s.op)));
    std::string frame;
    EncodeReply(s.header, s.body, &frame);
    std::string payload = Payload(frame);
    for (size_t n = 0; n < payload.size(); ++n) {
      std::string cut = payload.substr(0, n);
      ReplyHeader hdr;
      ResponseBody body;
      EXPECT_FALSE(DecodeReply(cut, s.op, &hdr, &body)) << "prefix " << n;
    }
  }
}

TEST(Malformed, TruncatedConnectRequest) {
  ConnectRequest req{0, 5, 30000, 6, std::string(16, 'p'), true};
  std::string frame;
  EncodeConnectRequest(req, &frame);
  std::string payload = Payload(frame);
  // Only the trailing readOnly byte is optional.
  for (size_t n = 0; n + 1 < payload.size(); ++n) {
    std::string cut = payload.substr(0, n);
    ConnectRequest out;
    EXPECT_FALSE(DecodeConnectRequest(cut, &out)) << "prefix " << n;
  }
  ConnectRequest out;
  EXPECT_TRUE(DecodeConnectRequest(payload.substr(0, payload.size() - 1), &out));
  EXPECT_TRUE(DecodeConnectRequest(payload, &out));
  EXPECT_TRUE(out.readOnly);
}

TEST(Malformed, TruncatedConnectResponse) {
  std::string frame;
  EncodeConnectResponse(ConnectResponse{0, 1, 2, std::string(16, 'p'), false}, &frame);
  std::string payload = Payload(frame);
  for (size_t n = 0; n + 1 < payload.size(); ++n) {
    ConnectResponse out;
    EXPECT_FALSE(DecodeConnectResponse(payload.substr(0, n), &out)) << "prefix " << n;
  }
}

// getData with the path length replaced by `len`.
std::string GetDataWithPathLen(const char* len) { return Hex(std::string("00000001 00000004") + len + "2f61 00"); }

TEST(Malformed, HugeAndNegativeStringLengths) {
  Request out;
  for (const char* len : {"7fffffff", "00100000", "00000004", "80000000", "fffffffe", "ffffff00"}) {
    EXPECT_EQ(DecodeRequest(GetDataWithPathLen(len), &out), Err::kMarshallingError) << len;
  }
  EXPECT_EQ(DecodeRequest(GetDataWithPathLen("00000002"), &out), Err::kOk);
  // -1 = null string: reads as "", then the rest ("/a" bytes) as the bool.
  EXPECT_EQ(DecodeRequest(Hex("00000001 00000004 ffffffff 01"), &out), Err::kOk);
  EXPECT_EQ(std::get<GetDataRequest>(out.body).path, "");
}

TEST(Malformed, HugeBufferLengthInSetData) {
  Request out;
  EXPECT_EQ(DecodeRequest(Hex("00000001 00000005 00000002 2f61 7ffffff0 00 00000000"), &out), Err::kMarshallingError);
}

TEST(Malformed, VectorCountLargerThanPayload) {
  Request out;
  // setACL "/a" with an ACL count of 1000 but one ACL present.
  std::string one_acl = "0000001f 00000005 776f726c64 00000006 616e796f6e65";
  EXPECT_EQ(DecodeRequest(Hex("00000001 00000007 00000002 2f61 000003e8" + one_acl + "00000000"), &out),
            Err::kMarshallingError);
  EXPECT_EQ(DecodeRequest(Hex("00000001 00000007 00000002 2f61 7fffffff" + one_acl + "00000000"), &out),
            Err::kMarshallingError);
  EXPECT_EQ(DecodeRequest(Hex("00000001 00000007 00000002 2f61 fffffffe" + one_acl + "00000000"), &out),
            Err::kMarshallingError);
  // The right count works; -1 (null) is an empty list.
  EXPECT_EQ(DecodeRequest(Hex("00000001 00000007 00000002 2f61 00000001" + one_acl + "00000000"), &out), Err::kOk);
  EXPECT_EQ(DecodeRequest(Hex("00000001 00000007 00000002 2f61 ffffffff 00000000"), &out), Err::kOk);
  EXPECT_TRUE(std::get<SetAclRequest>(out.body).acl.empty());
  // setWatches with a huge watch-list count.
  EXPECT_EQ(DecodeRequest(Hex("fffffff8 00000065 0000000000000000 40000000 00000000 00000000"), &out),
            Err::kMarshallingError);
}

TEST(Malformed, VectorCountInReplies) {
  ReplyHeader hdr;
  ResponseBody body;
  EXPECT_FALSE(
      DecodeReply(Hex("00000001 0000000000000001 00000000 7fffffff 00000000"), OpCode::kGetChildren, &hdr, &body));
  EXPECT_FALSE(DecodeReply(Hex("00000001 0000000000000001 00000000 80000000"), OpCode::kGetEphemerals, &hdr, &body));
  EXPECT_FALSE(
      DecodeReply(Hex("00000001 0000000000000001 00000000 00000002 00000000 00000000"), OpCode::kWhoAmI, &hdr, &body));
}

TEST(Malformed, MultiWithoutTerminatorFails) {
  Request out;
  EXPECT_EQ(DecodeRequest(Hex("00000007 0000000e 00000002 00 ffffffff 00000002 2f7a ffffffff"), &out),
            Err::kMarshallingError);
}

TEST(Malformed, MultiWithUnknownOpFails) {
  Request out;
  // setACL (7) is not allowed inside a multi.
  EXPECT_EQ(DecodeRequest(Hex("00000007 0000000e 00000007 00 ffffffff 00000002 2f7a 00000000 ffffffff"
                              "ffffffff 01 ffffffff"),
                          &out),
            Err::kMarshallingError);
}

TEST(Malformed, MultiMixingReadAndWriteFails) {
  Request out;
  EXPECT_EQ(DecodeRequest(Hex("00000007 00000016"
                              "00000004 00 ffffffff 00000002 2f61 00"
                              "00000002 00 ffffffff 00000002 2f61 ffffffff"
                              "ffffffff 01 ffffffff"),
                          &out),
            Err::kMarshallingError);
}

TEST(Malformed, MultiTerminatorIsDoneFlag) {
  // Any header with done=true ends the list, whatever its type and err.
  Request out;
  ASSERT_EQ(DecodeRequest(Hex("00000007 0000000e 00000005 01 00000000"), &out), Err::kOk);
  EXPECT_TRUE(std::get<MultiRequest>(out.body).ops.empty());
}

TEST(Malformed, MultiResponseWithUnknownTypeFails) {
  ReplyHeader hdr;
  ResponseBody body;
  EXPECT_FALSE(DecodeReply(Hex("00000001 0000000000000001 00000000 00000007 00 00000000 ffffffff 01 ffffffff"),
                           OpCode::kMulti, &hdr, &body));
}

TEST(Malformed, UnknownOpcodeDecodesToEmpty) {
  Request out;
  out.body = SyncRequest{"/x"};
  ASSERT_EQ(DecodeRequest(Hex("00000003 000003e7 01020304"), &out), Err::kOk);
  EXPECT_EQ(out.header.type, 999);
  EXPECT_TRUE(std::holds_alternative<Empty>(out.body));
  // sasl (102): GetSASLRequest, one buffer; a truncated one does not decode.
  ASSERT_EQ(DecodeRequest(Hex("00000003 00000066 00000002 abcd"), &out), Err::kOk);
  EXPECT_EQ(std::get<GetSaslRequest>(out.body).token, "\xab\xcd");
  EXPECT_NE(DecodeRequest(Hex("00000003 00000066 00000009 abcd"), &out), Err::kOk);
}

TEST(Malformed, TrailingBytesAreIgnored) {
  Request out;
  ASSERT_EQ(DecodeRequest(Hex("00000001 00000009 00000002 2f61 deadbeef"), &out), Err::kOk);
  EXPECT_EQ(std::get<SyncRequest>(out.body).path, "/a");
}

TEST(Malformed, ShortHeader) {
  Request out;
  EXPECT_EQ(DecodeRequest(std::string_view{}, &out), Err::kMarshallingError);
  EXPECT_EQ(DecodeRequest(Hex("00000001 000000"), &out), Err::kMarshallingError);
  ReplyHeader hdr;
  ResponseBody body;
  EXPECT_FALSE(DecodeReply(Hex("00000001 0000000000000001 000000"), OpCode::kPing, &hdr, &body));
}

}  // namespace
}  // namespace aviary::proto
