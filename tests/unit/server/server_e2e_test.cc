// server::Server end to end over loopback: a hand-encoded client built on the
// proto codec's client-side functions.
#include <gtest/gtest.h>

#include "config/four_letter_whitelist.h"
#include "net_test_util.h"
#include "proto/codec.h"
#include "server/server.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;

class ServerE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.net.port = 0;
    o.net.io_threads = 2;
    o.core.tick_ms = 200;
    o.core.min_session_timeout_ms = 400;
    o.core.max_session_timeout_ms = 4000;
    o.core.password_secret = 42;
    o.core.config.four_letter_whitelist = config::ParseFourLetterWhitelist("*");
    srv_ = std::make_unique<Server>(o);
    std::string err;
    ASSERT_TRUE(srv_->Start(&err)) << err;
    ASSERT_NE(srv_->port(), 0);
  }
  void TearDown() override { srv_->Stop(); }

  static proto::ConnectResponse Handshake(TestClient& c, int32_t timeout_ms = 3000) {
    proto::ConnectRequest req;
    req.timeOut = timeout_ms;
    req.passwd.assign(16, '\0');
    std::string wire;
    proto::EncodeConnectRequest(req, &wire);
    EXPECT_TRUE(c.Write(wire));
    std::string payload;
    proto::ConnectResponse rsp;
    EXPECT_TRUE(c.ReadFrame(&payload));
    EXPECT_TRUE(proto::DecodeConnectResponse(payload, &rsp));
    return rsp;
  }
  static std::string Encode(int32_t xid, OpCode op, proto::RequestBody body) {
    proto::Request r;
    r.header = proto::RequestHeader{xid, static_cast<int32_t>(op)};
    r.body = std::move(body);
    std::string wire;
    proto::EncodeRequest(r, &wire);
    return wire;
  }
  static bool ReadReply(TestClient& c, OpCode op, proto::ReplyHeader* hdr, proto::ResponseBody* body) {
    std::string payload;
    if (!c.ReadFrame(&payload)) return false;
    return proto::DecodeReply(payload, op, hdr, body);
  }
  static proto::CreateRequest Create(std::string path, std::string data, int32_t flags = 0) {
    proto::CreateRequest r;
    r.path = std::move(path);
    r.data = std::move(data);
    r.flags = flags;
    r.acl.push_back(proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}});
    return r;
  }

  std::unique_ptr<Server> srv_;
};

TEST_F(ServerE2E, HandshakeCreateGetData) {
  TestClient c(srv_->port());
  ASSERT_TRUE(c.connected());
  proto::ConnectResponse rsp = Handshake(c);
  EXPECT_NE(rsp.sessionId, 0);
  EXPECT_EQ(rsp.timeOut, 3000);
  EXPECT_EQ(rsp.passwd.size(), 16u);

  ASSERT_TRUE(c.Write(Encode(1, OpCode::kCreate, Create("/e2e", "hello"))));
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  ASSERT_TRUE(ReadReply(c, OpCode::kCreate, &hdr, &body));
  EXPECT_EQ(hdr.xid, 1);
  EXPECT_EQ(hdr.err, 0);
  EXPECT_EQ(hdr.zxid, 2);
  EXPECT_EQ(std::get<proto::CreateResponse>(body).path, "/e2e");

  ASSERT_TRUE(c.Write(Encode(2, OpCode::kGetData, proto::GetDataRequest{"/e2e", false})));
  ASSERT_TRUE(ReadReply(c, OpCode::kGetData, &hdr, &body));
  EXPECT_EQ(hdr.xid, 2);
  ASSERT_EQ(hdr.err, 0);
  const auto& gd = std::get<proto::GetDataResponse>(body);
  EXPECT_EQ(gd.data, "hello");
  EXPECT_EQ(gd.stat.czxid, 2);
  EXPECT_EQ(gd.stat.dataLength, 5);
}

TEST_F(ServerE2E, PipelinedRequestsAnsweredInOrderAndWatchFires) {
  TestClient a(srv_->port());
  TestClient b(srv_->port());
  Handshake(a);
  Handshake(b);
  // Many requests in one write, replies strictly in xid order.
  std::string wire;
  for (int i = 1; i <= 50; ++i) wire += Encode(i, OpCode::kCreate, Create("/n" + std::to_string(i), ""));
  wire += Encode(51, OpCode::kGetData, proto::GetDataRequest{"/n50", true});
  ASSERT_TRUE(a.Write(wire));
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(ReadReply(a, OpCode::kCreate, &hdr, &body)) << i;
    EXPECT_EQ(hdr.xid, i);
    EXPECT_EQ(hdr.err, 0);
  }
  ASSERT_TRUE(ReadReply(a, OpCode::kGetData, &hdr, &body));
  EXPECT_EQ(hdr.xid, 51);
  EXPECT_EQ(hdr.err, 0);

  proto::SetDataRequest sd;
  sd.path = "/n50";
  sd.data = "changed";
  ASSERT_TRUE(b.Write(Encode(1, OpCode::kSetData, sd)));
  ASSERT_TRUE(ReadReply(b, OpCode::kSetData, &hdr, &body));
  EXPECT_EQ(hdr.err, 0);
  ASSERT_TRUE(ReadReply(a, OpCode::kNotification, &hdr, &body));
  EXPECT_EQ(hdr.xid, proto::xid::kNotification);
  const auto& ev = std::get<proto::WatcherEvent>(body);
  EXPECT_EQ(ev.type, static_cast<int32_t>(proto::EventType::kNodeDataChanged));
  EXPECT_EQ(ev.path, "/n50");
}

TEST_F(ServerE2E, CloseSessionThenConnectionCloses) {
  TestClient c(srv_->port());
  Handshake(c);
  ASSERT_TRUE(c.Write(Encode(1, OpCode::kCreate, Create("/eph", "", 1))));
  ASSERT_TRUE(c.Write(Encode(2, OpCode::kCloseSession, proto::Empty{})));
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  ASSERT_TRUE(ReadReply(c, OpCode::kCreate, &hdr, &body));
  EXPECT_EQ(hdr.err, 0);
  ASSERT_TRUE(ReadReply(c, OpCode::kCloseSession, &hdr, &body));
  EXPECT_EQ(hdr.xid, 2);
  EXPECT_EQ(hdr.err, 0);
  EXPECT_TRUE(c.ReadUntilClosed());

  TestClient d(srv_->port());
  Handshake(d);
  ASSERT_TRUE(d.Write(Encode(1, OpCode::kExists, proto::ExistsRequest{"/eph", false})));
  ASSERT_TRUE(ReadReply(d, OpCode::kExists, &hdr, &body));
  EXPECT_EQ(hdr.err, static_cast<int32_t>(proto::Err::kNoNode));
}

TEST_F(ServerE2E, FourLetterWordOverSocket) {
  TestClient c(srv_->port());
  ASSERT_TRUE(c.Write("ruok"));
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(&got));
  EXPECT_EQ(got, "imok");

  TestClient s(srv_->port());
  ASSERT_TRUE(s.Write("srvr"));
  got.clear();
  EXPECT_TRUE(s.ReadUntilClosed(&got));
  EXPECT_NE(got.find("Zxid: 0x"), std::string::npos) << got;
}

TEST_F(ServerE2E, SessionExpiresWhenClientGoesSilent) {
  TestClient a(srv_->port());
  proto::ConnectResponse rsp = Handshake(a, 400);
  EXPECT_EQ(rsp.timeOut, 400);
  ASSERT_TRUE(a.Write(Encode(1, OpCode::kCreate, Create("/short", "", 1))));
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  ASSERT_TRUE(ReadReply(a, OpCode::kCreate, &hdr, &body));
  ASSERT_EQ(hdr.err, 0);
  // No pings: the server expires the session and closes the connection.
  EXPECT_TRUE(a.ReadUntilClosed(nullptr, std::chrono::milliseconds(3000)));

  TestClient b(srv_->port());
  Handshake(b);
  ASSERT_TRUE(b.Write(Encode(1, OpCode::kExists, proto::ExistsRequest{"/short", false})));
  ASSERT_TRUE(ReadReply(b, OpCode::kExists, &hdr, &body));
  EXPECT_EQ(hdr.err, static_cast<int32_t>(proto::Err::kNoNode));
}

TEST_F(ServerE2E, StopWithConnectedClientIsPrompt) {
  TestClient c(srv_->port());
  Handshake(c);
  auto t0 = Clock::now();
  srv_->Stop();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  EXPECT_TRUE(c.ReadUntilClosed());
}

}  // namespace
}  // namespace aviary::server::testing
