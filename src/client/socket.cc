#include "client/socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace aviary::client {

namespace {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Non-blocking connect bounded by timeout_ms; the fd is left blocking.
int ConnectOne(const addrinfo* a, int timeout_ms, std::string* error) {
  int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
  if (fd < 0) {
    *error = std::strerror(errno);
    return -1;
  }
  int rc = connect(fd, a->ai_addr, a->ai_addrlen);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, timeout_ms);
    if (rc == 0) {
      *error = "connect timed out";
      close(fd);
      return -1;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (rc < 0 || soerr != 0) {
      *error = std::strerror(rc < 0 ? errno : soerr);
      close(fd);
      return -1;
    }
  } else if (rc != 0) {
    *error = std::strerror(errno);
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

int DialTcp(const HostPort& hp, int timeout_ms, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(hp.port);
  if (int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    *error = hp.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  std::string why;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) fd = ConnectOne(a, timeout_ms, &why);
  freeaddrinfo(res);
  if (fd < 0) *error = hp.ToString() + ": " + why;
  return fd;
}

bool SendAll(int fd, std::string_view data, int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  while (!data.empty()) {
    int left = static_cast<int>(deadline - NowMs());
    pollfd p{fd, POLLOUT, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) return false;
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool FrameReader::Fill(int fd) {
  char chunk[65536];
  for (;;) {
    ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

bool FrameReader::Next(std::string* out) {
  if (broken_ || buf_.size() < 4) return false;
  const auto* b = reinterpret_cast<const unsigned char*>(buf_.data());
  int64_t len = static_cast<int32_t>(uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3]);
  if (len < 0 || static_cast<size_t>(len) > max_frame_bytes_) {
    broken_ = true;
    return false;
  }
  if (buf_.size() < 4 + static_cast<size_t>(len)) return false;
  out->assign(buf_, 4, static_cast<size_t>(len));
  buf_.erase(0, 4 + static_cast<size_t>(len));
  return true;
}

}  // namespace aviary::client
