// Worker's io_uring loop (stream_worker.h). Every live session has one
// receive armed into its own buffer and at most one send in flight (what
// Fill queued meanwhile goes in the next one). A pass handles the
// completions, refills the sessions that got replies (or all, open loop),
// queues their sends and re-armed receives, and one io_uring_enter
// submits them all and sleeps until the next completion.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "stream_worker.h"
#include "uring.h"

namespace aviary::bench {

namespace {

enum Tag : uint64_t { kRecv = 0, kSend = 1, kCancel = 2 };

uint64_t Data(size_t conn, Tag tag) { return (static_cast<uint64_t>(conn) << 2) | tag; }

struct Io {
  std::string buf;  // receive buffer (fixed size)
  bool recv_armed = false;
  bool send_busy = false;
  std::string sending;  // bytes of the send in flight
  size_t sent = 0;
};

class UringLoop {
 public:
  UringLoop(std::vector<std::unique_ptr<Conn>>& conns, Uring& ring) : conns_(conns), ring_(ring), io_(conns.size()) {
    size_t per = std::clamp<size_t>((size_t{64} << 20) / std::max<size_t>(conns.size(), 1), 4096, 65536);
    for (auto& x : io_) x.buf.resize(per);
  }
  Io& io(size_t i) { return io_[i]; }
  // Queues what the connection needs: a receive if none is armed, a send
  // if bytes wait and none is in flight.
  void Arm(size_t i) {
    Conn& c = *conns_[i];
    Io& x = io_[i];
    if (c.dead) return;
    if (!x.recv_armed) {
      io_uring_sqe* sqe = Get(Data(i, kRecv));
      sqe->opcode = IORING_OP_RECV;
      sqe->fd = c.link.fd;
      sqe->addr = reinterpret_cast<uint64_t>(x.buf.data());
      sqe->len = static_cast<uint32_t>(x.buf.size());
      x.recv_armed = true;
    }
    if (!x.send_busy && x.sending.size() == x.sent && !c.link.out.empty()) {
      x.sending.swap(c.link.out);
      c.link.out.clear();
      x.sent = 0;
    }
    if (!x.send_busy && x.sent < x.sending.size()) {
      io_uring_sqe* sqe = Get(Data(i, kSend));
      sqe->opcode = IORING_OP_SEND;
      sqe->fd = c.link.fd;
      sqe->addr = reinterpret_cast<uint64_t>(x.sending.data() + x.sent);
      sqe->len = static_cast<uint32_t>(x.sending.size() - x.sent);
      sqe->msg_flags = MSG_NOSIGNAL | MSG_WAITALL;  // the ring retries a short send itself
      x.send_busy = true;
      sends_++;
    }
  }
  void Cancel(size_t i) {
    io_uring_sqe* sqe = Get(Data(i, kCancel));
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->addr = Data(i, kRecv);
  }
  // Sends queued since the last call. A send to loopback usually completes
  // as it is submitted, so the loop waits for that many completions plus
  // one: the next reply, not just its own sends.
  unsigned TakeSends() { return std::exchange(sends_, 0u); }
  bool Busy() const {
    return std::any_of(io_.begin(), io_.end(), [](const Io& x) { return x.recv_armed || x.send_busy; });
  }

 private:
  io_uring_sqe* Get(uint64_t data) {
    io_uring_sqe* sqe = ring_.Sqe(data);
    while (sqe == nullptr) {  // every slot queued: hand them to the kernel first
      ring_.Enter(0, 0);
      sqe = ring_.Sqe(data);
    }
    return sqe;
  }

  std::vector<std::unique_ptr<Conn>>& conns_;
  Uring& ring_;
  std::vector<Io> io_;
  unsigned sends_ = 0;
};

}  // namespace

bool Worker::RunUring() {
  unsigned entries = 64;
  while (entries < 2 * conns_.size() + 8) entries *= 2;
  Uring ring;
  std::string error;
  if (entries > 32768 || !ring.Init(entries, &error)) return false;
  UringLoop loop(conns_, ring);
  int64_t now = NowNs();
  for (size_t i = 0; i < conns_.size(); i++) {
    Fill(*conns_[i], now);
    loop.Arm(i);
  }
  bool open = plan_->interval_ns > 0;
  int64_t drain_deadline = -1;
  std::vector<size_t> touched;
  auto on_completion = [&](const io_uring_cqe& cqe) {
    size_t i = cqe.user_data >> 2;
    Conn& c = *conns_[i];
    Io& x = loop.io(i);
    switch (static_cast<Tag>(cqe.user_data & 3)) {
      case kRecv:
        x.recv_armed = false;
        if (c.dead || cqe.res == -ECANCELED) return;
        if (cqe.res <= 0) return Lost(c);
        c.link.in.append(x.buf.data(), static_cast<size_t>(cqe.res));
        if (!OnBytes(c, now)) return Lost(c);
        touched.push_back(i);
        return;
      case kSend:
        x.send_busy = false;
        if (c.dead) return;
        if (cqe.res < 0) return Lost(c);
        x.sent += static_cast<size_t>(cqe.res);
        touched.push_back(i);
        return;
      case kCancel:
        return;
    }
  };
  for (bool done = false; !done;) {
    now = NowNs();
    feed_.Tick(now);
    Drain(now, &drain_deadline, &done);
    if (done) break;
    const int64_t wait_ns = WaitNs(now, drain_deadline);
    const unsigned sends = loop.TakeSends();
    const bool spin = Spinning(wait_ns, drain_deadline);
    // Spinning: submit and reap without waiting (GETEVENTS with wait_nr 0).
    if (!ring.Enter(spin ? 0 : sends + 1, wait_ns)) break;
    now = NowNs();
    touched.clear();
    ring.Completions(on_completion);
    if (spin && touched.empty() && NextDueNs(now) > 0) Yield();
    if (open) {
      touched.clear();
      for (size_t i = 0; i < conns_.size(); i++) touched.push_back(i);
    }
    for (size_t i : touched) {
      Conn& c = *conns_[i];
      if (c.dead) continue;
      Fill(c, now);
      loop.Arm(i);
    }
  }
  feed_.Flush();
  // Stop the armed receives (a dead session's socket is shut down so that
  // its requests end too), then close every session as the epoll loop does.
  for (size_t i = 0; i < conns_.size(); i++) {
    if (conns_[i]->dead) {
      shutdown(conns_[i]->link.fd, SHUT_RDWR);
    } else if (loop.io(i).recv_armed) {
      loop.Cancel(i);
    }
  }
  for (int64_t end = NowNs() + 2'000'000'000; loop.Busy() && NowNs() < end;) {
    ring.Enter(loop.TakeSends() + 1, 100'000'000);
    ring.Completions(on_completion);
  }
  CloseSessions();
  return true;
}

}  // namespace aviary::bench
