#include "link.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "net/recv_stamped.h"
#include "plan.h"

namespace aviary::bench {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

int64_t ContextSwitches() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_nvcsw) + static_cast<int64_t>(ru.ru_nivcsw);
}

void Stats::Merge(const Stats& o) {
  latency.Merge(o.latency);
  send_lag.Merge(o.send_lag);
  cap_wait.Merge(o.cap_wait);
  gen_lag.Merge(o.gen_lag);
  service.Merge(o.service);
  reply_lag.Merge(o.reply_lag);
  arrival.Merge(o.arrival);
  ops += o.ops;
  errors += o.errors;
  lost += o.lost;
  bad += o.bad;
  late += o.late;
  for (auto [code, n] : o.codes) codes[code] += n;
  times.resize(n_times);
  times.insert(times.end(), o.times.begin(), o.times.begin() + static_cast<std::ptrdiff_t>(o.n_times));
  n_times = times.size();
  if (o.first_send_ns && (!first_send_ns || o.first_send_ns < first_send_ns)) first_send_ns = o.first_send_ns;
  if (o.last_reply_ns > last_reply_ns) last_reply_ns = o.last_reply_ns;
}

bool LinkAdd(int ep, Link& l, void* tag) {
  fcntl(l.fd, F_SETFL, fcntl(l.fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = tag;
  l.want_out = false;
  return epoll_ctl(ep, EPOLL_CTL_ADD, l.fd, &ev) == 0;
}

void LinkClose(int ep, Link& l) {
  if (l.fd < 0) return;
  epoll_ctl(ep, EPOLL_CTL_DEL, l.fd, nullptr);
  close(l.fd);
  l.fd = -1;
  l.in.clear();
  l.out.clear();
  l.out_off = 0;
}

bool LinkStampArrivals(Link& l) {
  int one = 1;
  l.stamped = setsockopt(l.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0;
  return l.stamped;
}

bool LinkRead(Link& l) {
  char buf[65536];
  l.arrived_real_ns = 0;
  for (;;) {
    ssize_t n = l.stamped ? net::RecvStamped(l.fd, buf, sizeof(buf), &l.arrived_real_ns) : read(l.fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    l.in.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof(buf)) return true;
  }
}

bool LinkFlush(int ep, Link& l, void* tag) {
  while (l.out_off < l.out.size()) {
    ssize_t n = write(l.fd, l.out.data() + l.out_off, l.out.size() - l.out_off);
    if (n > 0) {
      l.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;
  }
  if (l.out_off == l.out.size()) {
    l.out.clear();
    l.out_off = 0;
  }
  bool want = !l.out.empty();
  if (want != l.want_out) {
    epoll_event ev{};
    ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.ptr = tag;
    epoll_ctl(ep, EPOLL_CTL_MOD, l.fd, &ev);
    l.want_out = want;
  }
  return true;
}

}  // namespace aviary::bench
