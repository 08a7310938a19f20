// Session churn: every session slot loops connect + handshake, create an
// EPHEMERAL node, closeSession; one op = one full cycle, measured from the
// start of the connect to the closeSession reply. After the run the parent
// must have no children left (the server deletes a session's ephemerals
// before answering its closeSession). `threads` epoll loops.
#include <sys/epoll.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "link.h"
#include "load.h"
#include "proto/codec.h"
#include "setup.h"
#include "wire.h"

namespace aviary::bench {

namespace {

using proto::OpCode;

enum class Phase { kIdle, kHandshake, kCreate, kClose, kDone };

struct ChurnSlot {
  Link link;
  int index = 0;
  Phase phase = Phase::kIdle;
  int64_t cycle = 0;
  int64_t start_ns = 0;
};

class Churner {
 public:
  Churner(const Options& o, Plan* plan, const std::vector<Endpoint>& servers, Progress* progress)
      : o_(o), plan_(plan), servers_(servers), feed_(progress) {}
  void Add(int index) {
    slots_.push_back(std::make_unique<ChurnSlot>());
    slots_.back()->index = index;
  }
  void Run();
  Stats& stats() { return stats_; }

 private:
  void Start(ChurnSlot& s, int64_t now);
  bool OnFrame(ChurnSlot& s, std::string_view payload, int64_t now);
  void Fail(ChurnSlot& s) {
    stats_.lost++;
    LinkClose(ep_, s.link);
    s.phase = Phase::kIdle;
  }
  void Path(const ChurnSlot& s, std::string* out) {
    out->assign(plan_->parent);
    out->append("/e" + std::to_string(s.index) + "-" + std::to_string(s.cycle));
  }

  const Options& o_;
  Plan* plan_;
  const std::vector<Endpoint>& servers_;
  ProgressFeed feed_;
  std::vector<std::unique_ptr<ChurnSlot>> slots_;
  int ep_ = -1;
  Stats stats_;
  proto::ResponseBody body_;
  proto::Request create_, close_;
  std::string expect_;
};

void Churner::Start(ChurnSlot& s, int64_t now) {
  s.phase = Phase::kIdle;
  if (!plan_->MayIssue(now)) return;
  std::string error;
  s.start_ns = now;
  s.cycle++;
  s.link.fd = Dial(servers_[static_cast<size_t>(s.index) % servers_.size()], 10000, &error);
  if (s.link.fd < 0) {
    stats_.lost++;
    return;
  }
  LinkAdd(ep_, s.link, &s);
  proto::ConnectRequest req;
  req.timeOut = o_.session_timeout_ms;
  req.passwd.assign(16, '\0');
  proto::EncodeConnectRequest(req, &s.link.out);
  s.phase = Phase::kHandshake;
  if (!LinkFlush(ep_, s.link, &s)) Fail(s);
}

bool Churner::OnFrame(ChurnSlot& s, std::string_view payload, int64_t now) {
  proto::ReplyHeader hdr;
  switch (s.phase) {
    case Phase::kHandshake: {
      proto::ConnectResponse rsp;
      if (!proto::DecodeConnectResponse(payload, &rsp) || rsp.timeOut <= 0) return false;
      create_.header.xid = 1;
      Path(s, &std::get<proto::CreateRequest>(create_.body).path);
      proto::EncodeRequest(create_, &s.link.out);
      s.phase = Phase::kCreate;
      return LinkFlush(ep_, s.link, &s);
    }
    case Phase::kCreate: {
      if (!proto::DecodeReply(payload, OpCode::kCreate, &hdr, &body_) || hdr.xid != 1) return false;
      bool measured = plan_->Measured(s.start_ns, now);
      auto* b = std::get_if<proto::CreateResponse>(&body_);
      Path(s, &expect_);
      if (measured && hdr.err != 0) stats_.Error(hdr.err);
      if (measured && hdr.err == 0 && (!b || b->path != expect_)) stats_.bad++;
      close_.header.xid = 2;
      proto::EncodeRequest(close_, &s.link.out);
      s.phase = Phase::kClose;
      return LinkFlush(ep_, s.link, &s);
    }
    case Phase::kClose: {
      if (!proto::DecodeReply(payload, OpCode::kCloseSession, &hdr, &body_) || hdr.xid != 2) return false;
      if (plan_->Measured(s.start_ns, now)) {
        stats_.ops++;
        stats_.latency.Record(now - s.start_ns);
        feed_.Record(now - s.start_ns);
        stats_.last_reply_ns = now;
      }
      s.phase = Phase::kDone;  // the loop closes the link and starts the next cycle
      return true;
    }
    case Phase::kDone:
      return true;  // nothing is expected after the closeSession reply
    case Phase::kIdle:
      return false;
  }
  return false;
}

void Churner::Run() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  create_.header.type = static_cast<int32_t>(OpCode::kCreate);
  auto& cr = create_.body.emplace<proto::CreateRequest>();
  cr.data = plan_->payload;
  cr.acl = OpenAcl();
  cr.flags = static_cast<int32_t>(proto::CreateMode::kEphemeral);
  close_.header.type = static_cast<int32_t>(OpCode::kCloseSession);
  for (auto& s : slots_) Start(*s, NowNs());
  epoll_event evs[64];
  int64_t deadline = -1;
  for (;;) {
    int64_t now = NowNs();
    feed_.Tick(now);
    bool busy = false;
    for (auto& s : slots_) busy |= s->phase != Phase::kIdle;
    if (!busy) break;
    if (!plan_->MayIssueNoConsume(now) && deadline < 0) deadline = now + 10'000'000'000;
    if (deadline > 0 && now > deadline) break;
    int n = epoll_wait(ep_, evs, 64, 20);
    now = NowNs();
    for (int i = 0; i < n; i++) {
      auto* s = static_cast<ChurnSlot*>(evs[i].data.ptr);
      if (s->link.fd < 0) continue;
      if ((evs[i].events & EPOLLOUT) && !LinkFlush(ep_, s->link, s)) Fail(*s);
      if (s->link.fd < 0 || !(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      bool ok = LinkRead(s->link);
      bool frames_ok = LinkFrames(s->link, 16, [&](std::string_view f) { return OnFrame(*s, f, now); });
      if (s->phase == Phase::kDone) {
        LinkClose(ep_, s->link);
        Start(*s, NowNs());
      } else if (!frames_ok || !ok) {
        Fail(*s);
      }
    }
  }
  feed_.Flush();
  for (auto& s : slots_) LinkClose(ep_, s->link);
  close(ep_);
}

}  // namespace

bool RunChurn(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
              std::string* error) {
  Plan plan;
  plan.workload = o.workload;
  plan.payload.assign(static_cast<size_t>(o.payload), 'x');
  if (!PrepareNodes(o, servers[0], plan.payload, &plan, error)) return false;
  int threads = std::min(o.threads, o.clients);
  std::vector<std::unique_ptr<Churner>> churners;
  for (int t = 0; t < threads; t++) churners.push_back(std::make_unique<Churner>(o, &plan, servers, progress));
  for (int i = 0; i < o.clients; i++) churners[static_cast<size_t>(i % threads)]->Add(i);
  int64_t start = NowNs();
  plan.measure_start = start + static_cast<int64_t>(o.warmup * 1e9);
  plan.measure_end = plan.measure_start + static_cast<int64_t>(o.seconds * 1e9);
  plan.ops_mode = o.ops > 0;
  plan.budget = o.ops;
  double cpu0 = CpuSeconds();
  {
    ProgressPrinter printer(progress, "churn");
    std::vector<std::thread> ts;
    for (auto& c : churners) ts.emplace_back([&c] { c->Run(); });
    for (auto& t : ts) t.join();
  }
  out->client_cpu_s = CpuSeconds() - cpu0;
  Stats all;
  for (auto& c : churners) all.Merge(c->stats());
  FillResult(all, plan, out);
  out->cycles = all.ops;
  out->leftover = CountChildren(o, servers[0], plan.parent, error);
  if (out->leftover < 0) return false;
  return true;
}

}  // namespace aviary::bench
