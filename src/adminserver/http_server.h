// The AdminServer's HTTP listener (ZooKeeper's JettyAdminServer), on
// cpp-httplib: GET <commandURL> lists the commands as links (Jetty's
// CommandServlet), GET <commandURL>/<name> runs a command and answers JSON,
// POST <commandURL>/<name> runs a POST command (restore) with the body;
// snapshot streams a file. Commands run through an AdminBackend (the server
// posts them to its core thread and waits, bounded).
//
// Owns: the listening socket, its accept thread and a small pool of request
// threads (httplib's). Bounds: request bodies (max_body_bytes), idle
// connections (idle_timeout_ms), request threads (threads).
// Thread use: Start/Stop from one controlling thread; the backend is called
// on the request threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "adminserver/command_result.h"

namespace httplib {
class Server;
}

namespace aviary::adminserver {

struct HttpOptions {
  std::string address = "0.0.0.0";  // admin.serverAddress
  uint16_t port = 8080;             // admin.serverPort (0: the OS picks)
  std::string command_url = "/commands";
  int64_t idle_timeout_ms = 30000;     // admin.idleTimeout
  int64_t max_body_bytes = 1LL << 30;  // restore bodies larger than this are refused (413)
  int threads = 2;
};

class AdminHttpServer {
 public:
  AdminHttpServer(HttpOptions opts, AdminBackend* backend);
  ~AdminHttpServer();

  // Binds and starts serving. False + *error when the address cannot be
  // bound (the caller logs it and runs without an AdminServer, as ZooKeeper).
  bool Start(std::string* error);
  void Stop();
  uint16_t port() const { return bound_port_; }

 private:
  void Install();

  HttpOptions opts_;
  AdminBackend* backend_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  uint16_t bound_port_ = 0;
};

}  // namespace aviary::adminserver
