// A synchronous ZooKeeper client session over one TCP connection at a time:
// connect handshake (session id + password), pings, watch events, auth, and
// reconnection to the next host of the connect string with the same session
// (re-sending auth and re-registering watches with setWatches2, as
// ZooKeeper's ClientCnxn does). Single-threaded and poll-based: the owner
// calls Call() for one request at a time and Poll() while idle; events are
// delivered through on_event from inside those calls. Paths are mapped
// through the connect string's chroot both ways.
//
// Invariants: at most one request is in flight; fd() is -1 unless the state
// is kConnected; after kExpired / kAuthFailed / kClosed no reconnect is tried.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/connect_string.h"
#include "client/socket.h"
#include "client/tls_client.h"
#include "client/watches.h"
#include "proto/records.h"

namespace aviary::client {

enum class State { kNotConnected, kConnected, kConnectedReadOnly, kExpired, kAuthFailed, kClosed };
std::string_view StateName(State s);  // as ZooKeeper's States: CONNECTED, CLOSED, ...

struct SessionOptions {
  std::string connect_string = "localhost:2181";
  int session_timeout_ms = 30000;
  bool read_only = false;      // accept a read-only server (ConnectRequest.readOnly)
  int connect_timeout_ms = 0;  // per connect attempt over all hosts; 0 = session timeout
  ClientTlsOptions tls;        // zookeeper.client.secure + zookeeper.ssl.*
};

struct WatchEvent {
  proto::EventType type = proto::EventType::kNone;
  proto::KeeperState state = proto::KeeperState::kSyncConnected;
  std::string path;  // empty for state changes (ZooKeeper prints it as null)
};

struct Result {
  proto::Err err = proto::Err::kOk;
  int64_t zxid = 0;
  proto::ResponseBody body;
};

class Session {
 public:
  explicit Session(SessionOptions opts);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens a new session, trying the hosts in order until one accepts.
  bool Connect(std::string* error);
  // Sends `req` (xid assigned here, paths chrooted) and waits for its reply,
  // processing events and pings meanwhile. A lost connection yields
  // kConnectionLoss (after one reconnect attempt for the next call).
  Result Call(proto::Request req);
  // Sends an auth packet and waits for the server's answer; remembered and
  // re-sent after a reconnect.
  proto::Err AddAuth(const std::string& scheme, const std::string& auth);
  // Waits up to timeout_ms for incoming events, pinging when due. Returns
  // false when the session is no longer usable.
  bool Poll(int timeout_ms);
  // closeSession and disconnect.
  void Close();

  State state() const { return state_; }
  bool alive() const { return state_ == State::kConnected || state_ == State::kConnectedReadOnly; }
  int fd() const { return fd_; }
  int64_t session_id() const { return session_id_; }
  int negotiated_timeout_ms() const { return negotiated_timeout_ms_; }
  std::string current_host() const;
  const std::string& chroot() const { return cs_.chroot; }

  std::function<void(const WatchEvent&)> on_event;

 private:
  bool ConnectAny(bool fresh, std::string* error);
  bool Handshake(int fd, std::string* error);
  bool Prime();
  // Reads until the reply to `xid` arrives (true), the connection is lost
  // or nothing was received for the read timeout (false), or max_wait_ms
  // (>= 0) passed (false, connection kept).
  bool WaitReply(int32_t xid, proto::OpCode op, Result* out, int max_wait_ms = -1);
  bool Dispatch(const std::string& payload, int32_t want_xid, proto::OpCode op, Result* out);
  void Emit(proto::EventType type, proto::KeeperState state, const std::string& path);
  void Disconnect();
  void LoseConnection();
  void PingIfDue();
  bool Send(const proto::Request& req);
  // The connection's bytes, through TLS when it is on.
  bool SendBytes(int fd, std::string_view data, int timeout_ms);
  bool FillReader(int fd);

  SessionOptions opts_;
  ConnectString cs_;
  size_t host_index_ = 0;
  int fd_ = -1;
  std::unique_ptr<ClientTls> tls_;  // made at Connect when opts_.tls.enabled
  SSL* ssl_ = nullptr;              // the connection's TLS session (with fd_, or during Handshake)
  State state_ = State::kNotConnected;
  int64_t session_id_ = 0;
  std::string passwd_ = std::string(16, '\0');
  int negotiated_timeout_ms_ = 0;
  int64_t last_zxid_ = 0;
  int64_t last_send_ms_ = 0;
  int64_t last_recv_ms_ = 0;
  int32_t next_xid_ = 1;
  FrameReader reader_;
  std::vector<std::pair<std::string, std::string>> auths_;
  WatchRegistry watches_;
};

}  // namespace aviary::client
