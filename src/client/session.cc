#include "client/session.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "proto/codec.h"

namespace aviary::client {

using proto::Err;
using proto::KeeperState;
using proto::OpCode;

namespace {

// Frames larger than this are refused (ZooKeeper's default jute.maxbuffer is
// 1 MiB; replies such as getChildren of a huge node may exceed it slightly).
constexpr size_t kMaxFrameBytes = 64u << 20;

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string_view StateName(State s) {
  switch (s) {
    case State::kNotConnected:
      return "CONNECTING";
    case State::kConnected:
      return "CONNECTED";
    case State::kConnectedReadOnly:
      return "CONNECTEDREADONLY";
    case State::kExpired:
    case State::kClosed:
      return "CLOSED";
    case State::kAuthFailed:
      return "AUTH_FAILED";
  }
  return "UNKNOWN";
}

Session::Session(SessionOptions opts) : opts_(std::move(opts)), reader_(kMaxFrameBytes) {}

Session::~Session() { Disconnect(); }

std::string Session::current_host() const {
  if (cs_.hosts.empty()) return opts_.connect_string;
  return cs_.hosts[host_index_ % cs_.hosts.size()].ToString();
}

bool Session::Connect(std::string* error) {
  if (opts_.tls.enabled && tls_ == nullptr) {
    std::string why;
    tls_ = ClientTls::Create(opts_.tls, &why);
    if (tls_ == nullptr) {
      if (error) *error = why;
      return false;
    }
  }
  auto cs = ParseConnectString(opts_.connect_string, error);
  if (!cs) return false;
  cs_ = std::move(*cs);
  Disconnect();
  session_id_ = 0;
  passwd_.assign(16, '\0');
  last_zxid_ = 0;
  watches_ = WatchRegistry();
  auths_.clear();
  host_index_ = 0;
  return ConnectAny(/*fresh=*/true, error);
}

bool Session::ConnectAny(bool fresh, std::string* error) {
  int budget_ms = opts_.connect_timeout_ms > 0 ? opts_.connect_timeout_ms : opts_.session_timeout_ms;
  int64_t deadline = NowMs() + budget_ms;
  std::string why = "no host answered";
  size_t tried = 0;
  if (!fresh) host_index_++;  // ZooKeeper moves on to the next host after a loss
  while (NowMs() < deadline) {
    const HostPort& hp = cs_.hosts[host_index_ % cs_.hosts.size()];
    int left = static_cast<int>(std::max<int64_t>(1, deadline - NowMs()));
    int fd = DialTcp(hp, std::min(left, 5000), &why);
    if (fd >= 0 && tls_ != nullptr) {
      ssl_ = tls_->Handshake(fd, hp.host, std::min(left, 5000), &why);
      if (ssl_ == nullptr) {
        close(fd);
        fd = -1;
      }
    }
    if (fd >= 0) {
      if (Handshake(fd, &why)) return Prime();
      if (ssl_ != nullptr) SSL_free(ssl_);
      ssl_ = nullptr;
      close(fd);
      if (state_ == State::kExpired) break;
    }
    host_index_++;
    if (++tried % cs_.hosts.size() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (error) *error = "Unable to connect to " + opts_.connect_string + ": " + why;
  return false;
}

bool Session::Handshake(int fd, std::string* error) {
  proto::ConnectRequest req;
  req.lastZxidSeen = last_zxid_;
  req.timeOut = opts_.session_timeout_ms;
  req.sessionId = session_id_;
  req.passwd = passwd_;
  req.readOnly = opts_.read_only;
  std::string frame, payload;
  proto::EncodeConnectRequest(req, &frame);
  int64_t deadline = NowMs() + std::max(opts_.session_timeout_ms, 2000);
  reader_.Reset();
  if (!SendBytes(fd, frame, 5000)) {
    *error = "handshake: write failed";
    return false;
  }
  while (!reader_.Next(&payload)) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(deadline - NowMs());
    if (left <= 0 || poll(&p, 1, left) <= 0 || !FillReader(fd) || reader_.broken()) {
      *error = "handshake: connection closed by server";
      return false;
    }
  }
  proto::ConnectResponse rsp;
  if (!proto::DecodeConnectResponse(payload, &rsp)) {
    *error = "handshake: malformed ConnectResponse";
    return false;
  }
  if (rsp.timeOut <= 0) {
    *error = "session expired";
    state_ = State::kExpired;
    Emit(proto::EventType::kNone, KeeperState::kExpired, "");
    return false;
  }
  fd_ = fd;
  session_id_ = rsp.sessionId;
  passwd_ = rsp.passwd;
  negotiated_timeout_ms_ = rsp.timeOut;
  state_ = rsp.readOnly ? State::kConnectedReadOnly : State::kConnected;
  last_send_ms_ = last_recv_ms_ = NowMs();
  return true;
}

// Re-registers watches and auth after (re)connecting, then reports the state.
bool Session::Prime() {
  if (!watches_.empty()) {
    proto::Request sw;
    sw.header = {proto::xid::kSetWatches, static_cast<int32_t>(OpCode::kSetWatches2)};
    sw.body = watches_.ToSetWatches(last_zxid_);
    if (!Send(sw)) return false;
  }
  for (const auto& [scheme, auth] : auths_) {
    proto::Request a;
    a.header = {proto::xid::kAuth, static_cast<int32_t>(OpCode::kAuth)};
    a.body = proto::AuthPacket{0, scheme, auth};
    if (!Send(a)) return false;
  }
  bool ro = state_ == State::kConnectedReadOnly;
  Emit(proto::EventType::kNone, ro ? KeeperState::kConnectedReadOnly : KeeperState::kSyncConnected, "");
  return true;
}

bool Session::Send(const proto::Request& req) {
  proto::Request wire = req;
  ChrootRequest(cs_.chroot, &wire);
  std::string frame;
  proto::EncodeRequest(wire, &frame);
  if (fd_ < 0 || !SendBytes(fd_, frame, std::max(negotiated_timeout_ms_, 1000))) {
    LoseConnection();
    return false;
  }
  last_send_ms_ = NowMs();
  return true;
}

Result Session::Call(proto::Request req) {
  Result res;
  // Never connected (the first attempt failed): try afresh; lost: resume the session.
  if (state_ == State::kNotConnected && !cs_.hosts.empty()) ConnectAny(/*fresh=*/session_id_ == 0, nullptr);
  if (!alive()) {
    res.err = state_ == State::kExpired      ? Err::kSessionExpired
              : state_ == State::kAuthFailed ? Err::kAuthFailed
                                             : Err::kConnectionLoss;
    return res;
  }
  req.header.xid = next_xid_++;
  if (!Send(req) || !WaitReply(req.header.xid, req.op(), &res)) {
    res.err = Err::kConnectionLoss;
    return res;
  }
  watches_.OnReply(req, res.err);
  if (const auto* rw = std::get_if<proto::RemoveWatchesRequest>(&req.body); rw && res.err == Err::kOk) {
    watches_.OnRemoved(rw->path, rw->type);
  }
  return res;
}

Err Session::AddAuth(const std::string& scheme, const std::string& auth) {
  auths_.emplace_back(scheme, auth);
  if (!alive()) return Err::kConnectionLoss;
  proto::Request a;
  a.header = {proto::xid::kAuth, static_cast<int32_t>(OpCode::kAuth)};
  a.body = proto::AuthPacket{0, scheme, auth};
  Result res;
  if (!Send(a) || !WaitReply(proto::xid::kAuth, OpCode::kAuth, &res)) return Err::kConnectionLoss;
  return res.err;
}

bool Session::Poll(int timeout_ms) {
  if (state_ == State::kNotConnected && session_id_ != 0) ConnectAny(/*fresh=*/false, nullptr);
  if (!alive()) return false;
  Result unused;
  WaitReply(/*xid=*/0, OpCode::kPing, &unused, timeout_ms);
  return alive() || state_ == State::kNotConnected;
}

void Session::Close() {
  if (alive()) {
    proto::Request req;
    req.header = {next_xid_++, static_cast<int32_t>(OpCode::kCloseSession)};
    Result res;
    if (Send(req)) WaitReply(req.header.xid, OpCode::kCloseSession, &res, 2000);
  }
  bool was_open = state_ != State::kClosed;
  Disconnect();
  state_ = State::kClosed;
  if (was_open) Emit(proto::EventType::kNone, KeeperState::kClosed, "");  // as ClientCnxn's close
}

void Session::Disconnect() {
  if (ssl_ != nullptr) {
    if (fd_ >= 0) SSL_shutdown(ssl_);  // one close_notify, best effort
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  reader_.Reset();
}

bool Session::SendBytes(int fd, std::string_view data, int timeout_ms) {
  return ssl_ != nullptr ? TlsSendAll(ssl_, fd, data, timeout_ms) : SendAll(fd, data, timeout_ms);
}

bool Session::FillReader(int fd) { return ssl_ != nullptr ? TlsFill(ssl_, &reader_) : reader_.Fill(fd); }

void Session::LoseConnection() {
  if (fd_ < 0) return;
  Disconnect();
  if (alive()) state_ = State::kNotConnected;
  Emit(proto::EventType::kNone, KeeperState::kDisconnected, "");
}

void Session::Emit(proto::EventType type, KeeperState state, const std::string& path) {
  if (on_event) on_event(WatchEvent{type, state, path});
}

}  // namespace aviary::client
