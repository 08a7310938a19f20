// Blocking socket helpers for aviary-bench: dialing, the session handshake,
// whole-frame reads, and SyncSession, a small pipelined blocking client used
// to set up the benchmark nodes and to close sessions. Every blocking read
// has a receive timeout, so nothing here can hang forever.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "options.h"
#include "proto/records.h"

namespace aviary::bench {

// The ACL every benchmark node gets: world:anyone with all permissions.
proto::AclList OpenAcl();

// TCP connect with TCP_NODELAY and a receive timeout; -1 on failure.
int Dial(const Endpoint& ep, int timeout_ms, std::string* error);

// A server address resolved once, for dialing many connections to it.
struct SockAddr {
  sockaddr_storage addr{};
  socklen_t len = 0;
};
bool Resolve(const Endpoint& ep, SockAddr* out, std::string* error);
// Starts a non-blocking connect (TCP_NODELAY set): the fd turns writable
// when connected, or reports EPOLLERR when the connect failed. -1 with
// *error when it failed at once. To an IPv4 loopback server, connection n
// comes from source address 127.0.0.(1 + n % 8): past ~14,000 connections
// to one address the kernel's ephemeral-port search scans every port in use
// on each connect (19,000 sessions took 30 s of mostly client CPU); eight
// sources keep each one's share of the port range small.
int DialStart(const SockAddr& a, int n, std::string* error);
bool WriteAll(int fd, std::string_view data);
// Reads one frame payload (length prefix stripped); false on EOF, timeout or
// a length outside [0, 16 MiB].
bool ReadFrame(int fd, std::string* payload);
// Sends a ConnectRequest for a new session and reads the response.
bool Handshake(int fd, int session_timeout_ms, int64_t* session_id, std::string* error);
// Sends closeSession and waits (bounded) for its reply; closes fd.
void CloseSession(int fd, int32_t xid);

class SyncSession {
 public:
  SyncSession() = default;
  ~SyncSession();
  SyncSession(const SyncSession&) = delete;
  SyncSession& operator=(const SyncSession&) = delete;

  bool Open(const Endpoint& ep, int session_timeout_ms, std::string* error);
  // Sends `reqs` with at most `window` in flight (xids are assigned here) and
  // stores each reply's error code, in order. False if the connection fails.
  bool Run(std::vector<proto::Request>& reqs, int window, std::vector<int32_t>* errs, std::string* error);
  // One request, its reply header and body (watch events are skipped).
  bool Call(proto::Request& req, proto::ReplyHeader* hdr, proto::ResponseBody* body, std::string* error);
  void Close();

 private:
  int fd_ = -1;
  int32_t next_xid_ = 1;
};

}  // namespace aviary::bench
