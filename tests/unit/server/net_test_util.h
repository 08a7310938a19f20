// Loopback helpers for the network tests: a FrameSink that records frames
// (mutex + condition variable, bounded waits) and a blocking test client
// whose every read has a deadline.
// Thread use: RecordingSink::OnFrames runs on I/O threads; everything else on
// the test thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "net/connection_server.h"

namespace aviary::server::testing {

using Clock = std::chrono::steady_clock;
inline constexpr auto kWait = std::chrono::seconds(3);

class RecordingSink : public net::FrameSink {
 public:
  void OnFrames(std::vector<net::Frame>& frames) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& f : frames) {
        // A payload is a view valid only during this call: kept as data.
        if (f.kind == net::Frame::Kind::kPayload) f.data.assign(f.payload);
        f.payload = {};
        frames_.push_back(std::move(f));
      }
    }
    cv_.notify_all();
  }

  // Waits (bounded) until pred(frames) holds; returns whether it did.
  bool WaitFor(const std::function<bool(const std::vector<net::Frame>&)>& pred,
               std::chrono::milliseconds timeout = kWait) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(frames_); });
  }
  std::vector<net::Frame> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_;
  }

  static size_t Count(const std::vector<net::Frame>& fs, net::Frame::Kind kind, net::ConnId conn = 0) {
    size_t n = 0;
    for (const auto& f : fs)
      if (f.kind == kind && (conn == 0 || f.conn == conn)) ++n;
    return n;
  }
  // Waits for the n-th kOpened (1-based) and returns its connection id (0 on timeout).
  net::ConnId WaitOpened(size_t n) {
    net::ConnId id = 0;
    WaitFor([&](const auto& fs) {
      size_t seen = 0;
      for (const auto& f : fs)
        if (f.kind == net::Frame::Kind::kOpened && ++seen == n) {
          id = f.conn;
          return true;
        }
      return false;
    });
    return id;
  }
  std::vector<std::string> Payloads(net::ConnId conn) {
    std::vector<std::string> out;
    for (const auto& f : Snapshot())
      if (f.kind == net::Frame::Kind::kPayload && f.conn == conn) out.push_back(f.data);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<net::Frame> frames_;
};

// A blocking loopback client with deadline-bounded reads.
class TestClient {
 public:
  explicit TestClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TestClient() { Close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Write(std::string_view bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads exactly n bytes before the deadline; false on EOF, error or timeout.
  bool ReadExactly(size_t n, std::string* out, std::chrono::milliseconds timeout = kWait) {
    auto deadline = Clock::now() + timeout;
    out->clear();
    char buf[65536];
    while (out->size() < n) {
      if (!WaitReadable(deadline)) return false;
      ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - out->size()), 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      out->append(buf, static_cast<size_t>(r));
    }
    return true;
  }

  // Reads one length-prefixed frame's payload.
  bool ReadFrame(std::string* payload, std::chrono::milliseconds timeout = kWait) {
    std::string len;
    if (!ReadExactly(4, &len, timeout)) return false;
    auto* p = reinterpret_cast<const unsigned char*>(len.data());
    uint32_t n = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    return ReadExactly(n, payload, timeout);
  }

  // Reads until the peer closes (EOF or reset). Returns true if that happened
  // before the deadline; everything read is appended to *out.
  bool ReadUntilClosed(std::string* out = nullptr, std::chrono::milliseconds timeout = kWait) {
    auto deadline = Clock::now() + timeout;
    char buf[65536];
    while (true) {
      if (!WaitReadable(deadline)) return false;
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return true;
      if (out) out->append(buf, static_cast<size_t>(r));
    }
  }

 private:
  bool WaitReadable(Clock::time_point deadline) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
};

// int32 big-endian length prefix + payload.
inline std::string Framed(std::string_view payload) {
  std::string out(4, '\0');
  auto n = static_cast<uint32_t>(payload.size());
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  out.append(payload);
  return out;
}
inline std::string RawLength(int32_t len) {
  auto n = static_cast<uint32_t>(len);
  return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                     static_cast<char>(n)};
}

}  // namespace aviary::server::testing
