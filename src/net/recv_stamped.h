// recv with the kernel's receive timestamp (SO_TIMESTAMPNS must be on for
// the socket): used by the server's I/O threads when AVIARY_LATENCY_TRACE
// is on and by aviary-bench's open loop. Header-only, so the load
// generator needs no network library of the server's.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <ctime>

namespace aviary::net {

// recv into buf; when the data carried a receive timestamp (TCP: that of
// the last segment consumed) *real_ns is set to it (CLOCK_REALTIME ns),
// otherwise left alone.
inline ssize_t RecvStamped(int fd, char* buf, size_t len, int64_t* real_ns) {
  iovec iov{buf, len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd, &msg, 0);
  if (n <= 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      *real_ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return n;
}

}  // namespace aviary::net
