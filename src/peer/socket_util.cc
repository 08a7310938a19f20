// Socket helpers (socket_util.h).
#include "peer/socket_util.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "net/peer_address.h"

namespace aviary::peer {
namespace {

struct AddrInfoFree {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};
using AddrInfoPtr = std::unique_ptr<addrinfo, AddrInfoFree>;

AddrInfoPtr Resolve(const std::string& host, int port, bool passive, std::string* error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    *error = host + ": " + gai_strerror(rc);
    return nullptr;
  }
  return AddrInfoPtr(res);
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

SocketResult BindListen(int family, const sockaddr* addr, socklen_t len, bool dual_stack) {
  Fd fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {Fd(), Errno("socket")};
  int one = 1, zero = 0;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (dual_stack) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind(fd.get(), addr, len) != 0) return {Fd(), Errno("bind")};
  if (listen(fd.get(), 64) != 0) return {Fd(), Errno("listen")};
  return {std::move(fd), ""};
}

}  // namespace

void Fd::Reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

SocketResult ListenTcp(const std::string& host, int port, bool all_ips) {
  if (all_ips) {
    sockaddr_in6 a6{};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_any;
    a6.sin6_port = htons(static_cast<uint16_t>(port));
    SocketResult r = BindListen(AF_INET6, reinterpret_cast<sockaddr*>(&a6), sizeof a6, true);
    if (r.fd.valid()) return r;
    sockaddr_in a4{};
    a4.sin_family = AF_INET;
    a4.sin_addr.s_addr = htonl(INADDR_ANY);
    a4.sin_port = htons(static_cast<uint16_t>(port));
    return BindListen(AF_INET, reinterpret_cast<sockaddr*>(&a4), sizeof a4, false);
  }
  std::string error;
  AddrInfoPtr res = Resolve(host, port, true, &error);
  if (!res) return {Fd(), error};
  SocketResult last{Fd(), "no address for " + host};
  for (const addrinfo* ai : net::ListenOrder(res.get())) {
    last = BindListen(ai->ai_family, ai->ai_addr, ai->ai_addrlen, false);
    if (last.fd.valid()) return last;
  }
  return last;
}

int LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

SocketResult StartConnect(const std::string& host, int port) {
  std::string error;
  AddrInfoPtr res = Resolve(host, port, false, &error);
  if (!res) return {Fd(), error};
  std::vector<const addrinfo*> order = net::ListenOrder(res.get());
  if (order.empty()) return {Fd(), "no address for " + host};
  const addrinfo* ai = order.front();
  Fd fd(socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {Fd(), Errno("socket")};
  SetNoDelay(fd.get());
  if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) return {Fd(), Errno("connect")};
  return {std::move(fd), ""};
}

int ConnectError(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

Fd AcceptTcp(int listen_fd, std::string* peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  Fd fd(accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (fd.valid()) {
    SetNoDelay(fd.get());
    if (peer) *peer = net::PeerString(ss);
  }
  return fd;
}

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Wakeup::Wakeup() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void Wakeup::Wake() {
  uint64_t one = 1;
  ssize_t n = write(fd_.get(), &one, sizeof one);
  (void)n;  // EAGAIN: the counter is already non-zero, a wake is pending
}

void Wakeup::Drain() {
  uint64_t v;
  ssize_t n = read(fd_.get(), &v, sizeof v);  // an eventfd's read resets its counter: one is enough
  (void)n;
}

}  // namespace aviary::peer
