// The AdminServer's HTTP listener (ZooKeeper's JettyAdminServer), on
// cpp-httplib: GET <commandURL> lists the commands as links (Jetty's
// CommandServlet), GET <commandURL>/<name> runs a command and answers JSON,
// POST <commandURL>/<name> runs a POST command (restore) with the body;
// snapshot streams a file. Commands run through an AdminBackend (the server
// posts them to its core thread and waits, bounded).
//
// HTTPS as JettyAdminServer: admin.forceHttps = TLS only (a plaintext
// request fails its handshake), admin.portUnification = HTTP and HTTPS on
// the one port, told apart by the first byte (0x16, a TLS handshake record,
// as ZooKeeper's UnifiedConnectionFactory); the context (ssl.quorum.* stores,
// client certificates required with admin.needClientAuth) comes from a
// tls::ContextSource, so its reload applies to new connections.
//
// Connections: httplib accepts and parses requests; everything before a
// request (the first byte, the TLS handshake, idle keep-alive time) waits
// in one epoll thread, the gate, each connection with a deadline
// (handshake_timeout_ms, idle_timeout_ms) and at most max_pending of them
// (over that the oldest is closed). The gate also reads each request's
// head (request line and headers, at most 64 KiB): only a connection whose
// whole head is in takes one of the `threads` request threads, so slow or
// silent peers, heads sent a byte at a time, garbage and floods of
// connections cannot hold the request threads.
//
// Owns: the listening socket and its accept thread (httplib's), the gate
// thread, the request threads, every connection. Bounds: request heads
// (64 KiB) and bodies (max_body_bytes), waiting connections
// (max_pending), their time (handshake_timeout_ms, idle_timeout_ms), one
// request's reads and one write (idle_timeout_ms), request threads
// (threads).
// Thread use: Start/Stop from one controlling thread; the backend is called
// on the request threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adminserver/command_result.h"

namespace aviary::tls {
class ContextSource;
}

namespace aviary::adminserver {

struct HttpOptions {
  std::string address = "0.0.0.0";  // admin.serverAddress
  uint16_t port = 8080;             // admin.serverPort (0: the OS picks)
  std::string command_url = "/commands";
  int64_t idle_timeout_ms = 30000;     // admin.idleTimeout
  int64_t max_body_bytes = 1LL << 30;  // restore bodies larger than this are refused (413)
  int threads = 2;                     // request threads
  // HTTPS (admin.forceHttps / admin.portUnification); null: plain HTTP.
  std::shared_ptr<tls::ContextSource> tls;
  bool unified = false;                  // with tls: plaintext HTTP too, told by the first byte
  int64_t handshake_timeout_ms = 10000;  // the first byte and the TLS handshake must arrive within this
  size_t max_pending = 256;              // connections waiting before a request; over it the oldest is closed
  std::function<void()> on_plaintext;    // a plaintext connection on a unified port (insecure_admin_count)
};

namespace detail {
struct Conn;
class Httplib;
}  // namespace detail

class AdminHttpServer {
 public:
  AdminHttpServer(HttpOptions opts, AdminBackend* backend);
  ~AdminHttpServer();

  // Binds and starts serving. False + *error when the address cannot be
  // bound (the caller logs it and runs without an AdminServer, as ZooKeeper).
  bool Start(std::string* error);
  void Stop();
  uint16_t port() const { return bound_port_; }

  // Called by httplib's accept thread with each accepted socket.
  void Accepted(int fd);

 private:
  void Install();
  // The gate: connections waiting for their first byte, TLS handshake or
  // next request (keep-alive), each until its deadline.
  void GateLoop();
  void ToGate(std::unique_ptr<detail::Conn> c);
  // Connections with a request to read, served by the request threads.
  void ToWorkers(std::unique_ptr<detail::Conn> c);
  void WorkerLoop();
  void Serve(std::unique_ptr<detail::Conn> c);

  HttpOptions opts_;
  AdminBackend* backend_;
  std::unique_ptr<detail::Httplib> http_;
  std::thread thread_;
  uint16_t bound_port_ = 0;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread gate_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<std::unique_ptr<detail::Conn>> to_gate_;     // handed to the gate thread
  std::deque<std::unique_ptr<detail::Conn>> to_workers_;  // ready for a request thread
  std::vector<int> active_;                               // sockets a request thread serves now
};

}  // namespace aviary::adminserver
