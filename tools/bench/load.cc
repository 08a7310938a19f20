#include "load.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>

#include "proto/codec.h"
#include "setup.h"
#include "wire.h"

namespace aviary::bench {

namespace {

using proto::OpCode;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// Shared, read-mostly run parameters plus the op budget of --ops mode.
struct Plan {
  Workload workload;
  int depth;
  int read_pct;
  std::vector<std::string> key_paths;  // set/get/mixed/exists
  std::string create_prefix;           // create: parent + "/n-"
  std::string payload;
  int64_t measure_start = 0;
  int64_t measure_end = 0;  // time mode
  bool ops_mode = false;
  std::atomic<int64_t> budget{0};
  std::atomic<bool> abort{false};

  bool MayIssue(int64_t now) {
    if (abort.load(std::memory_order_relaxed)) return false;
    if (!ops_mode) return now < measure_end;
    if (now < measure_start) return true;
    return budget.fetch_sub(1, std::memory_order_relaxed) > 0;
  }
  bool MayIssueNoConsume(int64_t now) const {
    if (abort.load(std::memory_order_relaxed)) return false;
    if (!ops_mode) return now < measure_end;
    return now < measure_start || budget.load(std::memory_order_relaxed) > 0;
  }
  bool Measured(int64_t sent, int64_t received) const {
    if (ops_mode) return sent >= measure_start;
    return received >= measure_start && received < measure_end;
  }
};

struct Slot {
  int32_t xid;
  OpCode op;
  int64_t sent_ns;
};

struct Conn {
  int fd = -1;
  uint64_t rng = 0;
  int32_t next_xid = 1;
  std::string in, out;
  size_t out_off = 0;
  std::vector<Slot> ring;  // FIFO of in-flight requests, capacity = depth
  size_t head = 0, count = 0;
  bool want_out = false;
  bool dead = false;
  proto::Request get, set, exists, create;  // reused so steady state does not allocate
};

struct Stats {
  Histogram latency;
  int64_t ops = 0, errors = 0, lost = 0, bad = 0;
  int64_t last_reply_ns = 0;
  std::map<int32_t, int64_t> codes;
};

class Worker {
 public:
  Worker(Plan* plan, std::vector<std::unique_ptr<Conn>> conns) : plan_(plan), conns_(std::move(conns)) {}
  void Run();
  Stats& stats() { return stats_; }

 private:
  void Fill(Conn& c, int64_t now);
  void Flush(Conn& c);
  void Read(Conn& c);
  void Kill(Conn& c);
  // A successful getData must carry the payload; a create, the new path.
  bool BodyLooksRight(OpCode op) const {
    if (op == OpCode::kGetData) {
      auto* b = std::get_if<proto::GetDataResponse>(&body_);
      return b && b->data.size() == plan_->payload.size();
    }
    if (op == OpCode::kCreate) {
      auto* b = std::get_if<proto::CreateResponse>(&body_);
      return b && b->path.starts_with(plan_->create_prefix);
    }
    return true;
  }
  uint64_t Next(Conn& c) {
    c.rng ^= c.rng << 13;
    c.rng ^= c.rng >> 7;
    c.rng ^= c.rng << 17;
    return c.rng;
  }

  Plan* plan_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int ep_ = -1;
  Stats stats_;
  proto::ResponseBody body_;
};

void Worker::Fill(Conn& c, int64_t now) {
  while (c.count < static_cast<size_t>(plan_->depth) && plan_->MayIssue(now)) {
    proto::Request* req = nullptr;
    switch (plan_->workload) {
      case Workload::kCreate:
        req = &c.create;
        break;
      case Workload::kSet:
        req = &c.set;
        break;
      case Workload::kGet:
        req = &c.get;
        break;
      case Workload::kExists:
        req = &c.exists;
        break;
      case Workload::kMixed:
        req = static_cast<int>(Next(c) % 100) < plan_->read_pct ? &c.get : &c.set;
        break;
    }
    if (req != &c.create) {
      const std::string& key = plan_->key_paths[Next(c) % plan_->key_paths.size()];
      std::visit(
          [&](auto& b) {
            if constexpr (requires { b.path; }) b.path.assign(key);
          },
          req->body);
    }
    req->header.xid = c.next_xid++;
    if (c.next_xid <= 0) c.next_xid = 1;
    proto::EncodeRequest(*req, &c.out);
    c.ring[(c.head + c.count) % c.ring.size()] = Slot{req->header.xid, req->op(), now};
    c.count++;
  }
}

void Worker::Flush(Conn& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n = write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Kill(c);
    return;
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  bool want = !c.out.empty();
  if (want != c.want_out) {
    epoll_event ev{};
    ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_out = want;
  }
}

void Worker::Kill(Conn& c) {
  if (c.dead) return;
  c.dead = true;
  stats_.lost++;
  epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
  c.fd = -1;
  c.count = 0;
}

void Worker::Read(Conn& c) {
  char buf[65536];
  size_t off = 0;
  for (;;) {
    ssize_t n = read(c.fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      Kill(c);
      return;
    }
    c.in.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof(buf)) break;
  }
  int64_t now = NowNs();
  while (c.in.size() - off >= 4) {
    const auto* p = reinterpret_cast<const unsigned char*>(c.in.data() + off);
    int64_t len = (int64_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
    if (len < 16 || len > (16 << 20)) {
      Kill(c);
      return;
    }
    if (c.in.size() - off - 4 < static_cast<size_t>(len)) break;
    std::string_view payload(c.in.data() + off + 4, static_cast<size_t>(len));
    off += 4 + static_cast<size_t>(len);
    OpCode op = c.count > 0 ? c.ring[c.head].op : OpCode::kNotification;
    proto::ReplyHeader hdr;
    bool ok = proto::DecodeReply(payload, op, &hdr, &body_);
    if (ok && hdr.xid == -1) continue;  // watch event: none are set
    if (!ok || c.count == 0 || hdr.xid != c.ring[c.head].xid) {
      Kill(c);  // replies must come back in request order
      return;
    }
    const Slot& s = c.ring[c.head];
    if (plan_->Measured(s.sent_ns, now)) {
      stats_.ops++;
      stats_.latency.Record(now - s.sent_ns);
      stats_.last_reply_ns = now;
      if (hdr.err != 0) {
        stats_.errors++;
        stats_.codes[hdr.err]++;
      } else if (!BodyLooksRight(s.op)) {
        stats_.bad++;
      }
    }
    c.head = (c.head + 1) % c.ring.size();
    c.count--;
  }
  c.in.erase(0, off);
}

void Worker::Run() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  for (auto& c : conns_) {
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c.get();
    epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd, &ev);
  }
  int64_t now = NowNs();
  for (auto& c : conns_) {
    Fill(*c, now);
    Flush(*c);
  }
  int64_t drain_deadline = -1;
  epoll_event evs[64];
  std::vector<Conn*> touched;
  for (;;) {
    now = NowNs();
    if (!plan_->MayIssueNoConsume(now)) {
      if (drain_deadline < 0) drain_deadline = now + 5'000'000'000;
      bool idle = std::all_of(conns_.begin(), conns_.end(), [](auto& c) { return c->dead || c->count == 0; });
      if (idle || now > drain_deadline) break;
    }
    int n = epoll_wait(ep_, evs, 64, 20);
    touched.clear();
    for (int i = 0; i < n; i++) {
      auto* c = static_cast<Conn*>(evs[i].data.ptr);
      if (c->dead) continue;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Read(*c);
      if (!c->dead && (evs[i].events & EPOLLOUT)) Flush(*c);
      if (!c->dead) touched.push_back(c);
    }
    now = NowNs();
    for (Conn* c : touched) {
      Fill(*c, now);
      if (!c->out.empty()) Flush(*c);
    }
  }
  for (auto& c : conns_) {
    if (c->dead) continue;
    epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
    CloseSession(c->fd, c->next_xid);
    c->fd = -1;
  }
  close(ep_);
}

void InitRequests(const Plan& plan, Conn* c) {
  c->get.header.type = static_cast<int32_t>(OpCode::kGetData);
  c->get.body.emplace<proto::GetDataRequest>();
  c->exists.header.type = static_cast<int32_t>(OpCode::kExists);
  c->exists.body.emplace<proto::ExistsRequest>();
  c->set.header.type = static_cast<int32_t>(OpCode::kSetData);
  c->set.body.emplace<proto::SetDataRequest>().data = plan.payload;
  c->create.header.type = static_cast<int32_t>(OpCode::kCreate);
  auto& cr = c->create.body.emplace<proto::CreateRequest>();
  cr.path = plan.create_prefix;
  cr.data = plan.payload;
  cr.acl = OpenAcl();
  cr.flags = 2;  // PERSISTENT_SEQUENTIAL
}

}  // namespace

bool RunLoad(const Options& o, const std::vector<Endpoint>& servers, RunResult* out, std::string* error) {
  Plan plan;
  plan.workload = o.workload;
  plan.depth = o.depth;
  plan.read_pct = o.read_pct;
  plan.payload.assign(static_cast<size_t>(o.payload), 'x');
  if (!PrepareNodes(o, servers[0], plan.payload, &plan.key_paths, &plan.create_prefix, error)) return false;

  int threads = std::min(o.threads, o.clients);
  std::vector<std::vector<std::unique_ptr<Conn>>> groups(static_cast<size_t>(threads));
  for (int i = 0; i < o.clients; i++) {
    auto c = std::make_unique<Conn>();
    c->fd = Dial(servers[static_cast<size_t>(i) % servers.size()], 10000, error);
    int64_t sid = 0;
    if (c->fd < 0 || !Handshake(c->fd, o.session_timeout_ms, &sid, error)) {
      if (c->fd >= 0) close(c->fd);
      for (auto& g : groups) {
        for (auto& d : g) CloseSession(d->fd, d->next_xid);
      }
      return false;
    }
    c->rng = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i + 1);
    c->ring.resize(static_cast<size_t>(o.depth));
    InitRequests(plan, c.get());
    groups[static_cast<size_t>(i % threads)].push_back(std::move(c));
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (auto& g : groups) workers.push_back(std::make_unique<Worker>(&plan, std::move(g)));
  int64_t start = NowNs();
  plan.measure_start = start + static_cast<int64_t>(o.warmup * 1e9);
  plan.measure_end = plan.measure_start + static_cast<int64_t>(o.seconds * 1e9);
  plan.ops_mode = o.ops > 0;
  plan.budget = o.ops;
  double cpu0 = CpuSeconds();
  std::vector<std::thread> ts;
  for (auto& w : workers) ts.emplace_back([&w] { w->Run(); });
  for (auto& t : ts) t.join();
  out->client_cpu_s = CpuSeconds() - cpu0;

  int64_t last = 0;
  for (auto& w : workers) {
    Stats& st = w->stats();
    out->latency.Merge(st.latency);
    out->ops += st.ops;
    out->errors += st.errors;
    out->lost_connections += st.lost;
    out->bad_replies += st.bad;
    for (auto [code, n] : st.codes) out->error_codes[code] += n;
    last = std::max(last, st.last_reply_ns);
  }
  int64_t window = plan.ops_mode ? last - plan.measure_start : plan.measure_end - plan.measure_start;
  out->elapsed_s = static_cast<double>(std::max<int64_t>(window, 1)) / 1e9;
  out->ops_per_sec = static_cast<double>(out->ops) / out->elapsed_s;
  return true;
}

}  // namespace aviary::bench
