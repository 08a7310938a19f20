// Session against in-process fake servers speaking the client protocol:
// handshake, request/reply, pings, watch events, auth, and reconnection to
// the next host with the same session id and password, re-sending auth and
// re-registering watches (setWatches2), and session expiry.
#include "client/session.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "proto/codec.h"

namespace aviary::client {
namespace {

using proto::Err;
using proto::OpCode;

bool ReadFrame(int fd, std::string* out) {
  unsigned char h[4];
  size_t got = 0;
  while (got < 4) {
    ssize_t n = recv(fd, h + got, 4 - got, 0);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  size_t len = size_t{h[0]} << 24 | size_t{h[1]} << 16 | size_t{h[2]} << 8 | h[3];
  out->assign(len, '\0');
  for (got = 0; got < len;) {
    ssize_t n = recv(fd, out->data() + got, len - got, 0);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

// One listening socket served by a thread, one connection at a time.
class FakeServer {
 public:
  explicit FakeServer(int32_t timeout_ms = 3000) : timeout_ms_(timeout_ms) {
    lfd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(lfd_, 4);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    shutdown(lfd_, SHUT_RDWR);
    close(lfd_);
    thread_.join();
  }
  std::string hostport() const { return "127.0.0.1:" + std::to_string(port_); }

  std::mutex mu;
  std::vector<proto::ConnectRequest> connects;
  std::vector<proto::Request> requests;
  std::atomic<int> pings{0};
  std::atomic<bool> expire{false};

 private:
  void Serve() {
    while (!stop_) {
      int fd = accept(lfd_, nullptr, nullptr);
      if (fd < 0) return;
      Session(fd);
      close(fd);
    }
  }
  void Reply(int fd, int32_t xid, Err err, const proto::ResponseBody& body) {
    std::string out;
    proto::EncodeReply({xid, 7, static_cast<int32_t>(err)}, body, &out);
    send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  }
  void Session(int fd) {
    std::string payload;
    proto::ConnectRequest cr;
    if (!ReadFrame(fd, &payload) || !proto::DecodeConnectRequest(payload, &cr)) return;
    {
      std::lock_guard<std::mutex> l(mu);
      connects.push_back(cr);
    }
    proto::ConnectResponse rsp{0, expire ? 0 : timeout_ms_, 0x1234, "0123456789abcdef", false, true};
    std::string out;
    proto::EncodeConnectResponse(rsp, &out);
    send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (expire) return;
    while (ReadFrame(fd, &payload)) {
      proto::Request req;
      if (proto::DecodeRequest(payload, &req) != Err::kOk) return;
      if (!Handle(fd, req)) return;
    }
  }
  bool Handle(int fd, const proto::Request& req) {
    {
      std::lock_guard<std::mutex> l(mu);
      requests.push_back(req);
    }
    switch (req.op()) {
      case OpCode::kPing:
        pings++;
        Reply(fd, req.header.xid, Err::kOk, proto::Empty{});
        return true;
      case OpCode::kGetData: {
        const auto& g = std::get<proto::GetDataRequest>(req.body);
        if (g.path == "/drop") return false;  // close without answering
        Reply(fd, req.header.xid, Err::kOk, proto::GetDataResponse{"fake:" + g.path, {}, false});
        if (g.path.ends_with("/fire")) Reply(fd, -1, Err::kOk, proto::WatcherEvent{3, 3, g.path});
        return true;
      }
      case OpCode::kAuth: {
        bool bad = std::get<proto::AuthPacket>(req.body).scheme == "bad";
        Reply(fd, -4, bad ? Err::kAuthFailed : Err::kOk, proto::Empty{});
        return !bad;
      }
      case OpCode::kSetWatches2:
        Reply(fd, -8, Err::kOk, proto::Empty{});
        return true;
      case OpCode::kCloseSession:
        Reply(fd, req.header.xid, Err::kOk, proto::Empty{});
        return false;
      default:
        Reply(fd, req.header.xid, Err::kUnimplemented, proto::Empty{});
        return true;
    }
  }

  int32_t timeout_ms_;
  int lfd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

proto::Request GetData(const std::string& path, bool watch) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(OpCode::kGetData);
  r.body = proto::GetDataRequest{path, watch};
  return r;
}

TEST(Session, CallsAndDeliversEvents) {
  FakeServer srv;
  Session s({srv.hostport() + "/root", 3000, false, 2000, {}});
  std::vector<WatchEvent> events;
  s.on_event = [&](const WatchEvent& e) { events.push_back(e); };
  std::string error;
  ASSERT_TRUE(s.Connect(&error)) << error;
  EXPECT_EQ(s.session_id(), 0x1234);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].state, proto::KeeperState::kSyncConnected);
  Result r = s.Call(GetData("/x", false));
  ASSERT_EQ(r.err, Err::kOk);
  EXPECT_EQ(std::get<proto::GetDataResponse>(r.body).data, "fake:/root/x");  // chroot applied
  r = s.Call(GetData("/fire", true));
  ASSERT_EQ(r.err, Err::kOk);
  ASSERT_TRUE(s.Poll(200));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, proto::EventType::kNodeDataChanged);
  EXPECT_EQ(events[1].path, "/fire");  // the chroot stripped again
  s.Close();
  EXPECT_EQ(s.state(), State::kClosed);
  EXPECT_EQ(events.back().state, proto::KeeperState::kClosed);
}

TEST(Session, PingsWhileIdle) {
  FakeServer srv(/*timeout_ms=*/300);
  Session s({srv.hostport(), 300, false, 2000, {}});
  std::string error;
  ASSERT_TRUE(s.Connect(&error)) << error;
  for (int i = 0; i < 10; i++) ASSERT_TRUE(s.Poll(60));
  EXPECT_GE(srv.pings.load(), 2);
  EXPECT_TRUE(s.alive());
}

TEST(Session, ReconnectsToNextHostWithSameSession) {
  FakeServer a, b;
  Session s({a.hostport() + "," + b.hostport(), 3000, false, 3000, {}});
  std::vector<proto::KeeperState> states;
  s.on_event = [&](const WatchEvent& e) { states.push_back(e.state); };
  std::string error;
  ASSERT_TRUE(s.Connect(&error)) << error;
  ASSERT_EQ(s.AddAuth("digest", "u:p"), Err::kOk);
  ASSERT_EQ(s.Call(GetData("/watched", true)).err, Err::kOk);
  EXPECT_EQ(s.Call(GetData("/drop", false)).err, Err::kConnectionLoss);
  EXPECT_EQ(states.back(), proto::KeeperState::kDisconnected);
  Result r = s.Call(GetData("/after", false));  // reconnects to b first
  ASSERT_EQ(r.err, Err::kOk);
  EXPECT_EQ(std::get<proto::GetDataResponse>(r.body).data, "fake:/after");
  std::lock_guard<std::mutex> l(b.mu);
  ASSERT_EQ(b.connects.size(), 1u);
  EXPECT_EQ(b.connects[0].sessionId, 0x1234);
  EXPECT_EQ(b.connects[0].passwd, "0123456789abcdef");
  EXPECT_EQ(b.connects[0].lastZxidSeen, 7);
  ASSERT_GE(b.requests.size(), 3u);
  EXPECT_EQ(b.requests[0].op(), OpCode::kSetWatches2);
  EXPECT_EQ(std::get<proto::SetWatches2>(b.requests[0].body).dataWatches, std::vector<std::string>{"/watched"});
  EXPECT_EQ(b.requests[1].op(), OpCode::kAuth);
  EXPECT_EQ(std::get<proto::AuthPacket>(b.requests[1].body).auth, "u:p");
}

TEST(Session, ExpiredOnReconnect) {
  FakeServer a;
  Session s({a.hostport(), 3000, false, 1000, {}});
  std::string error;
  ASSERT_TRUE(s.Connect(&error)) << error;
  a.expire = true;
  EXPECT_EQ(s.Call(GetData("/drop", false)).err, Err::kConnectionLoss);
  EXPECT_EQ(s.Call(GetData("/x", false)).err, Err::kSessionExpired);
  EXPECT_EQ(s.state(), State::kExpired);
}

TEST(Session, AuthFailedIsReported) {
  FakeServer a;
  Session s({a.hostport(), 3000, false, 1000, {}});
  std::string error;
  ASSERT_TRUE(s.Connect(&error)) << error;
  EXPECT_EQ(s.AddAuth("bad", "x"), Err::kAuthFailed);
  EXPECT_EQ(s.state(), State::kAuthFailed);
  EXPECT_EQ(s.Call(GetData("/x", false)).err, Err::kAuthFailed);
}

TEST(Session, UnreachableHostFailsWithinTimeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string hp = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  close(fd);  // nothing listens there now
  Session s({hp, 3000, false, 400, {}});
  std::string error;
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(s.Connect(&error));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_NE(error.find("Unable to connect"), std::string::npos);
}

}  // namespace
}  // namespace aviary::client
