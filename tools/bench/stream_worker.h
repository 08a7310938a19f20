// One load thread of the pipelined workloads (get, exists, set, mixed,
// create, create-delete, delete, children, multi): drives its share of the
// sessions until the Plan says the run is over, then closes them with
// closeSession. Closed loop refills a session up to `depth` in flight as
// replies arrive; open loop sends each session's requests at fixed
// intervals, measuring from the scheduled time. Two I/O loops share the
// request and reply logic (stream.cc): epoll (a read and a write per ready
// connection and pass) and io_uring (stream_uring.cc: one system call per
// pass submits every send and receive and waits). Owned by one thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "plan.h"
#include "progress.h"
#include "requests.h"

namespace aviary::bench {

class Worker {
 public:
  Worker(Plan* plan, std::vector<std::unique_ptr<Conn>> conns, Progress* progress)
      : plan_(plan), conns_(std::move(conns)), feed_(progress) {}
  void RunEpoll();
  // False (nothing done) when no ring could be set up: run RunEpoll instead.
  bool RunUring();
  Stats& stats() { return stats_; }
  std::vector<std::unique_ptr<Conn>>& conns() { return conns_; }

 private:
  // Shared by both loops (stream.cc).
  // Queues requests in c.link.out up to depth (closed) or as scheduled (open).
  void Fill(Conn& c, int64_t now);
  // Marks c dead (a lost session); the loop closes its socket.
  void Lost(Conn& c);
  // Handles the whole frames in c.link.in; false on a protocol error.
  bool OnBytes(Conn& c, int64_t now);
  // read_ns: when the generator read it (c.arrival_ns: when it arrived).
  bool OnReply(Conn& c, std::string_view payload, int64_t read_ns);
  int64_t NextDueNs(int64_t now) const;
  // A live session has `depth` requests in flight (needs a reply to send).
  bool AnyAtDepth() const;
  // Sets *done once nothing may be sent and everything sent was answered
  // (or 5 s have passed since sending stopped).
  void Drain(int64_t now, int64_t* drain_deadline, bool* done);
  // How long the loop may sleep now.
  int64_t WaitNs(int64_t now, int64_t drain_deadline) const;
  // Open loop, sending: the next slot is closer than plan_->spin_ns, so the
  // loop polls (a non-blocking I/O check, then Yield) instead of sleeping.
  bool Spinning(int64_t wait_ns, int64_t drain_deadline) const {
    return plan_->interval_ns > 0 && drain_deadline < 0 && wait_ns < plan_->spin_ns;
  }
  // A polling pass that found nothing: let another runnable thread of this
  // CPU (the server's, on a shared machine) go first.
  static void Yield();
  // closeSession on every live session, blocking; closes every socket.
  void CloseSessions();

  // epoll loop (stream.cc)
  void Kill(Conn& c);  // Lost and closed
  void Read(Conn& c);
  void Flush(Conn& c);

  Plan* plan_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int ep_ = -1;
  Stats stats_;
  ProgressFeed feed_;
};

}  // namespace aviary::bench
