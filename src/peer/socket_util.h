// Small socket helpers shared by the peer transports: non-blocking TCP
// listen/connect on loopback or configured addresses, an fd owner, and a
// wake-up eventfd for poll loops.
//
// Owns: nothing beyond the fds it returns. Thread use: pure functions; Fd and
// Wakeup are single-owner values (Wakeup::Wake may be called from any thread).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <utility>

namespace aviary::peer {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) Reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Result of a socket call: a valid fd or an error text.
struct SocketResult {
  Fd fd;
  std::string error;
};

// Binds and listens on host:port (port 0 = any free port). `all_ips` listens
// on the wildcard address instead (quorumListenOnAllIPs): IPv6 dual-stack,
// IPv4 0.0.0.0 when IPv6 is unavailable. SO_REUSEADDR as Java's ServerSocket.
SocketResult ListenTcp(const std::string& host, int port, bool all_ips);
// The port a bound socket listens on.
int LocalPort(int fd);
// Starts a non-blocking connect to host:port (first resolution, IPv4 first).
// The fd becomes writable when the connect ends; check with ConnectError.
SocketResult StartConnect(const std::string& host, int port);
// 0 when a non-blocking connect succeeded, else the errno.
int ConnectError(int fd);
// accept4 non-blocking; sets TCP_NODELAY. Invalid Fd when nothing to accept.
Fd AcceptTcp(int listen_fd, std::string* peer);
void SetNoDelay(int fd);
// Steady clock in milliseconds (deadlines of the I/O loops).
int64_t NowMs();

// An eventfd a poll loop waits on; Wake() from any thread, Drain() in the loop.
class Wakeup {
 public:
  Wakeup();
  int fd() const { return fd_.get(); }
  void Wake();
  void Drain();

 private:
  Fd fd_;
};

}  // namespace aviary::peer
