// Blocking-with-deadline TCP helpers for the client: dial one host with a
// connect timeout, write a whole buffer, and a FrameReader that turns the
// byte stream into length-prefixed frames with a bounded frame size. Used by
// one thread (the Session's); every wait is bounded by the caller's timeout.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "client/connect_string.h"

namespace aviary::client {

// Connects to `hp` (first address that answers) within timeout_ms; returns
// the fd (blocking, TCP_NODELAY, close-on-exec) or -1 with *error set.
int DialTcp(const HostPort& hp, int timeout_ms, std::string* error);

// Writes all of `data` within timeout_ms; false on error or timeout.
bool SendAll(int fd, std::string_view data, int timeout_ms);

// Accumulates bytes and yields whole frame payloads. A declared length that
// is negative or above max_frame_bytes marks the stream broken (sticky).
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}
  // Reads what is available from fd (one recv). Returns false on EOF/error.
  bool Fill(int fd);
  // Bytes read elsewhere (a TLS connection's plaintext).
  void Append(const char* data, size_t n) { buf_.append(data, n); }
  // Pops the next complete payload into *out; false when none is complete.
  bool Next(std::string* out);
  bool broken() const { return broken_; }
  void Reset() {
    buf_.clear();
    broken_ = false;
  }

 private:
  size_t max_frame_bytes_;
  std::string buf_;
  bool broken_ = false;
};

}  // namespace aviary::client
