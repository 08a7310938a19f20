// Non-blocking framed I/O on one client connection, shared by every
// aviary-bench workload loop: buffered reads split into frames (length
// prefix checked against [min_len, 16 MiB]) and batched writes with the
// epoll interest switched to EPOLLOUT only while output is pending.
// Owned and used by one load thread; buffers are reused, so a steady state
// does not allocate.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::bench {

struct Link {
  int fd = -1;
  std::string in, out;
  size_t out_off = 0;
  bool want_out = false;
  // LinkStampArrivals: reads take the kernel's receive timestamp of the
  // data (SO_TIMESTAMPNS, CLOCK_REALTIME), the last one of the last read
  // in `arrived_real_ns` (0: none came with it).
  bool stamped = false;
  int64_t arrived_real_ns = 0;
};

// Registers fd (made non-blocking) with epoll for EPOLLIN, tag = data.ptr.
bool LinkAdd(int ep, Link& l, void* tag);
// Removes from epoll and closes; fd becomes -1.
void LinkClose(int ep, Link& l);
// Asks the kernel to timestamp l.fd's incoming data (SO_TIMESTAMPNS): each
// LinkRead then notes when the last byte it read arrived in the socket.
// False (and no stamps) where the socket refuses.
bool LinkStampArrivals(Link& l);
// Drains the socket into l.in. False on EOF or error.
bool LinkRead(Link& l);
// Writes pending output; false on a write error.
bool LinkFlush(int ep, Link& l, void* tag);

// Calls f(payload) for every whole frame in l.in and drops them. False if a
// frame length is out of bounds or f returns false (the rest is left).
template <typename F>
bool LinkFrames(Link& l, int64_t min_len, F&& f) {
  size_t off = 0;
  bool ok = true;
  while (l.in.size() - off >= 4) {
    const auto* p = reinterpret_cast<const unsigned char*>(l.in.data() + off);
    int64_t len = (int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    if (len < min_len || len > (16 << 20)) {
      ok = false;
      break;
    }
    if (l.in.size() - off - 4 < static_cast<size_t>(len)) break;
    std::string_view payload(l.in.data() + off + 4, static_cast<size_t>(len));
    off += 4 + static_cast<size_t>(len);
    if (!f(payload)) {
      ok = false;
      break;
    }
  }
  l.in.erase(0, off);
  return ok;
}

}  // namespace aviary::bench
