// Pipelined request workloads: the shared request/reply logic of Worker
// and its epoll loop (stream_worker.h), and RunStream, which sets up the
// nodes and sessions and runs `threads` workers.
#include <fcntl.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <mutex>
#include <thread>

#include "base/thread_slice.h"
#include "load.h"
#include "placement.h"
#include "proto/codec.h"
#include "reply_check.h"
#include "requests.h"
#include "setup.h"
#include "stream_worker.h"
#include "uring.h"
#include "wire.h"

namespace aviary::bench {

void Worker::Fill(Conn& c, int64_t now) {
  bool open = plan_->interval_ns > 0;
  while (c.count < static_cast<size_t>(plan_->depth)) {
    int64_t sent = open ? c.next_sched_ns : now;
    if (open && sent > now) break;
    // Ops mode counts by (scheduled) send time; time mode stops sending at the end.
    if (!plan_->MayIssue(plan_->ops_mode ? sent : now)) break;
    Slot slot;
    if (!NextRequest(*plan_, c, &slot)) break;
    slot.sent_ns = sent;
    slot.queued_ns = now;
    // A slot still unsent when the session was last at its cap was held
    // by the cap until then (this is the oldest unsent slot: no request
    // of the session went out between its slot and that reply).
    slot.ready_ns = open ? std::max(sent, c.cap_freed_ns) : now;
    if (open) {
      c.next_sched_ns += plan_->interval_ns;
      slot.late = now - sent > kLateNs;
    }
    if (stats_.first_send_ns == 0 && sent >= plan_->measure_start) stats_.first_send_ns = sent;
    c.ring[(c.head + c.count) % c.ring.size()] = slot;
    c.count++;
  }
}

void Worker::Lost(Conn& c) {
  if (c.dead) return;
  c.dead = true;
  stats_.lost++;
  c.count = 0;
}

bool Worker::OnReply(Conn& c, std::string_view payload, int64_t read_ns) {
  ReplyHead hdr;
  if (!ParseReplyHead(payload, &hdr)) return false;
  if (hdr.xid == -1) return true;                                   // a watch event: none are set
  if (c.count == 0 || hdr.xid != c.ring[c.head].xid) return false;  // replies come in order
  const Slot& s = c.ring[c.head];
  // When the reply arrived in the socket (kernel timestamp), where known.
  const int64_t arrived = c.arrival_ns > 0 ? std::clamp(c.arrival_ns, s.queued_ns, read_ns) : 0;
  // --reply-at arrival: the reply counts at its arrival (read time without a stamp).
  const int64_t now = plan_->reply_at_arrival && arrived > 0 ? arrived : read_ns;
  if (plan_->Measured(s.sent_ns, now)) {
    stats_.ops++;
    stats_.latency.Record(now - s.sent_ns);
    if (plan_->interval_ns > 0) {
      stats_.send_lag.Record(s.queued_ns - s.sent_ns);
      stats_.cap_wait.Record(s.ready_ns - s.sent_ns);
      stats_.gen_lag.Record(s.queued_ns - s.ready_ns);
      stats_.service.Record(now - s.queued_ns);
      if (arrived > 0) {
        stats_.reply_lag.Record(read_ns - arrived);
        stats_.arrival.Record(arrived - s.sent_ns);
      }
      if (stats_.n_times < stats_.times.size()) {
        stats_.times[stats_.n_times++] = ReqTimes{s.sent_ns, s.ready_ns, s.queued_ns, arrived, read_ns, now, c.index};
      }
    }
    feed_.Record(now - s.sent_ns);
    stats_.last_reply_ns = now;
    stats_.late += s.late;
    if (hdr.err != 0) {
      stats_.Error(hdr.err);
    } else if (!ReplyBodyRight(*plan_, c, s, hdr.body)) {
      stats_.bad++;
    }
  }
  // At the cap, this reply makes room: the next slot may go from here on.
  if (c.count >= static_cast<size_t>(plan_->depth)) c.cap_freed_ns = arrived > 0 ? arrived : read_ns;
  c.head = (c.head + 1) % c.ring.size();
  c.count--;
  return true;
}

bool Worker::OnBytes(Conn& c, int64_t now) {
  return LinkFrames(c.link, 16, [&](std::string_view p) { return OnReply(c, p, now); });
}

// Open loop: nanoseconds until the earliest session may send again.
int64_t Worker::NextDueNs(int64_t now) const {
  int64_t due = now + 20'000'000;
  for (const auto& c : conns_) {
    if (!c->dead && c->count < static_cast<size_t>(plan_->depth)) due = std::min(due, c->next_sched_ns);
  }
  return std::max<int64_t>(due - now, 0);
}

bool Worker::AnyAtDepth() const {
  return std::any_of(conns_.begin(), conns_.end(),
                     [&](const auto& c) { return !c->dead && c->count >= static_cast<size_t>(plan_->depth); });
}

int64_t Worker::WaitNs(int64_t now, int64_t drain_deadline) const {
  return plan_->interval_ns > 0 && drain_deadline < 0 ? NextDueNs(now) : 20'000'000;
}

void Worker::Yield() { sched_yield(); }

void Worker::Drain(int64_t now, int64_t* drain_deadline, bool* done) {
  if (plan_->MayIssueNoConsume(now) &&
      !(plan_->workload == Workload::kDelete &&
        plan_->delete_next.load(std::memory_order_relaxed) >= static_cast<int64_t>(plan_->key_paths.size()))) {
    return;
  }
  if (*drain_deadline < 0) *drain_deadline = now + 5'000'000'000;
  bool idle = std::all_of(conns_.begin(), conns_.end(), [](auto& c) { return c->dead || c->count == 0; });
  *done = idle || now > *drain_deadline;
}

void Worker::CloseSessions() {
  for (auto& c : conns_) {
    if (c->link.fd < 0) continue;
    if (c->dead) {
      close(c->link.fd);
    } else {
      fcntl(c->link.fd, F_SETFL, fcntl(c->link.fd, F_GETFL) & ~O_NONBLOCK);
      CloseSession(c->link.fd, c->next_xid);
    }
    c->link.fd = -1;
  }
}

void Worker::Kill(Conn& c) {
  Lost(c);
  LinkClose(ep_, c.link);
}

void Worker::Read(Conn& c) {
  if (!LinkRead(c.link)) return Kill(c);
  const int64_t now = NowNs();
  c.arrival_ns = 0;
  if (c.link.arrived_real_ns > 0) {  // the kernel's CLOCK_REALTIME stamp, on the steady clock
    c.arrival_ns = std::min(now, now - (RealNowNs() - c.link.arrived_real_ns));
  }
  if (!OnBytes(c, now)) Kill(c);
}

void Worker::Flush(Conn& c) {
  if (!c.dead && !c.link.out.empty() && !LinkFlush(ep_, c.link, &c)) Kill(c);
}

void Worker::RunEpoll() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  for (auto& c : conns_) {
    LinkAdd(ep_, c->link, c.get());
    // Open loop: when each reply arrived, to split the generator's
    // lateness in reading it from the latency (reply_lag / arrival).
    if (plan_->interval_ns > 0) LinkStampArrivals(c->link);
  }
  int64_t now = NowNs();
  for (auto& c : conns_) {
    Fill(*c, now);
    Flush(*c);
  }
  bool open = plan_->interval_ns > 0;
  // --reply-at arrival: replies carry their arrival time, so the loop need
  // not wake for them; it sleeps until its next slot and reads what came.
  const bool slots_only = open && plan_->reply_at_arrival &&
                          std::all_of(conns_.begin(), conns_.end(), [](auto& c) { return c->link.stamped; });
  int64_t drain_deadline = -1;
  epoll_event evs[64];
  std::vector<Conn*> touched;
  for (bool done = false; !done;) {
    now = NowNs();
    feed_.Tick(now);
    Drain(now, &drain_deadline, &done);
    if (done) break;
    int64_t wait_ns = WaitNs(now, drain_deadline);
    const bool spin = Spinning(wait_ns, drain_deadline);
    if (spin) wait_ns = 0;
    if (slots_only && wait_ns > 0 && drain_deadline < 0 && !AnyAtDepth()) {
      // A session at its depth cap needs a reply to send: then wake for it.
      timespec until{static_cast<time_t>((now + wait_ns) / 1'000'000'000),
                     static_cast<long>((now + wait_ns) % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
      }
      wait_ns = 0;
    }
    if (wait_ns > 0 && open && drain_deadline < 0) {
      // The wait ends at the slot itself (an absolute time): what this
      // pass spent since `now` was read does not push the wake-up later.
      wait_ns = std::max<int64_t>(0, now + wait_ns - NowNs());
    }
    timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    int n = epoll_pwait2(ep_, evs, 64, &ts, nullptr);
    if (spin && n <= 0 && NextDueNs(NowNs()) > 0) Yield();
    if (open && n > 0) {
      // Sends first: the sessions whose slot has come are filled and
      // flushed before this pass reads and checks the replies that woke
      // it, so a pass with many replies (after the generator or the
      // server was held up) does not make the due requests later still.
      now = NowNs();
      for (auto& c : conns_) {
        if (c->dead) continue;
        Fill(*c, now);
        Flush(*c);
      }
    }
    touched.clear();
    for (int i = 0; i < n; i++) {
      auto* c = static_cast<Conn*>(evs[i].data.ptr);
      if (c->dead) continue;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Read(*c);
      if (!c->dead && (evs[i].events & EPOLLOUT) && !LinkFlush(ep_, c->link, c)) Kill(*c);
      if (!c->dead) touched.push_back(c);
    }
    now = NowNs();
    if (open) {  // every session may be due
      touched.clear();
      for (auto& c : conns_) touched.push_back(c.get());
    }
    for (Conn* c : touched) {
      if (c->dead) continue;
      Fill(*c, now);
      Flush(*c);
    }
  }
  feed_.Flush();
  close(ep_);
  CloseSessions();
}

namespace {

// Dials and handshakes every session and deals them out to `threads` groups.
bool OpenConns(const Options& o, const std::vector<Endpoint>& servers, Plan& plan,
               std::vector<std::vector<std::unique_ptr<Conn>>>* groups, std::string* error) {
  int threads = std::min(o.threads, o.clients);
  groups->resize(static_cast<size_t>(threads));
  for (int i = 0; i < o.clients; i++) {
    auto c = std::make_unique<Conn>();
    c->index = i;
    c->link.fd = Dial(servers[static_cast<size_t>(i) % servers.size()], 10000, error);
    int64_t sid = 0;
    if (c->link.fd < 0 || !Handshake(c->link.fd, o.session_timeout_ms, &sid, error)) {
      if (c->link.fd >= 0) close(c->link.fd);
      for (auto& g : *groups) {
        for (auto& d : g) CloseSession(d->link.fd, d->next_xid);
      }
      return false;
    }
    c->rng = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i + 1);
    c->ring.resize(static_cast<size_t>(o.depth));
    InitRequests(plan, c.get());
    (*groups)[static_cast<size_t>(i % threads)].push_back(std::move(c));
  }
  return true;
}

}  // namespace

bool RunStream(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
               std::string* error) {
  Plan plan;
  plan.workload = o.workload;
  plan.depth = o.depth;
  plan.read_pct = o.read_pct;
  plan.multi_ops = o.multi_ops;
  plan.children = o.children;
  plan.payload.assign(static_cast<size_t>(o.payload), 'x');
  if (!PrepareNodes(o, servers[0], plan.payload, &plan, error)) return false;
  {
    Conn proto_conn;
    InitRequests(plan, &proto_conn);
    BuildFrames(&plan, proto_conn);
  }

  std::vector<std::vector<std::unique_ptr<Conn>>> groups;
  if (!OpenConns(o, servers, plan, &groups, error)) return false;
  std::vector<std::unique_ptr<Worker>> workers;
  for (auto& g : groups) workers.push_back(std::make_unique<Worker>(&plan, std::move(g), progress));
  bool deleting = o.workload == Workload::kDelete;
  int64_t start = NowNs();
  plan.measure_start = start + (deleting ? 0 : static_cast<int64_t>(o.warmup * 1e9));
  plan.measure_end = plan.measure_start + static_cast<int64_t>(o.seconds * 1e9);
  plan.ops_mode = o.ops > 0 || deleting;
  plan.budget = deleting ? static_cast<int64_t>(plan.key_paths.size()) : o.ops;
  if (o.rate > 0) {
    plan.interval_ns = std::max<int64_t>(1, static_cast<int64_t>(1e9 * o.clients / o.rate));
    plan.spin_ns = static_cast<int64_t>(o.spin_us) * 1000;
    plan.reply_at_arrival = o.reply_at_arrival;
    out->open_loop = true;
    out->rate_target = o.rate;
  }
  // Open loop: room for every measured request's times (ReqTimes), sized
  // now so that the loop neither allocates nor faults pages for it.
  if (o.rate > 0) {
    const double measured = std::max(o.rate * (o.seconds + 1), static_cast<double>(o.ops));
    const auto expect = static_cast<size_t>(measured * 1.2 / static_cast<double>(workers.size())) + 1024;
    for (auto& w : workers) w->stats().times.resize(std::min(expect, kMaxReqTimes));
  }
  // Open loop: the sessions' first slots are staggered evenly over one interval.
  int64_t k = 0;
  for (auto& w : workers) {
    for (auto& c : w->conns()) c->next_sched_ns = start + plan.interval_ns * (k++) / std::max(1, o.clients);
  }
  double cpu0 = CpuSeconds();
  const int64_t csw0 = ContextSwitches();
  {
    ProgressPrinter printer(progress, WorkloadName(o.workload));
    std::vector<std::thread> ts;
    size_t per_thread = workers.empty() ? 0 : workers[0]->conns().size();
    // Reply timestamps (--reply-at arrival) come with the epoll loop's reads only.
    bool uring = o.io != IoMode::kEpoll && !o.reply_at_arrival && per_thread * 2 + 8 <= 32768 && UringAvailable();
    out->io = uring ? "io_uring" : "epoll";
    const bool open = plan.interval_ns > 0;
    std::mutex place_mu;
    std::string place_error;
    for (auto& w : workers) {
      ts.emplace_back([&, uring, open] {
        // --cpus / --rt-priority (placement.h): a thread that cannot be
        // placed as asked stops the run (it would measure something else).
        if (std::string why; !PlaceThread(o.cpus, o.rt_priority, &why)) {
          std::lock_guard<std::mutex> lock(place_mu);
          place_error = why;
          plan.abort.store(true);
        }
        // Open loop: the sleep until the next slot ends on time, not up to
        // the default 50 us timer slack later (its lateness is charged to
        // the server measured); a short scheduler slice only when
        // AVIARY_SCHED_SLICE_US asks for one (base/thread_slice.h).
        if (open) {
          prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
          if (o.rt_priority == 0) base::RequestShortSlice();
        }
        if (!uring || !w->RunUring()) w->RunEpoll();
      });
    }
    for (auto& t : ts) t.join();
    if (!place_error.empty()) {
      *error = place_error;
      return false;
    }
  }
  out->client_cpu_s = CpuSeconds() - cpu0;
  out->client_csw = ContextSwitches() - csw0;
  Stats all;
  for (auto& w : workers) all.Merge(w->stats());
  FillResult(all, plan, out);
  if (!o.request_log.empty() && !WriteRequestLog(o.request_log, all, error)) return false;
  if (o.workload == Workload::kMulti) out->ops_in_multis = out->ops * o.multi_ops;
  // create-delete keeps the tree steady: remove the nodes whose delete was cut off by the end of the run.
  if (o.workload == Workload::kCreateDelete) return DeleteChildren(o, servers[0], plan.parent, error);
  return true;
}

}  // namespace aviary::bench
