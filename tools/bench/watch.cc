// Watch fan-out: `watchers` sessions each hold a data watch (getData with
// watch=true) on one znode; one writer session changes it. Per change, the
// time from sending the setData until the last watcher got its
// NodeDataChanged (notify), and until each watcher got it (delivery). A
// watcher re-arms after every event; the next change is sent only when every
// watcher has been notified and re-armed (or after 5 s, counting the
// watchers not notified as missed). One thread, one epoll.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <memory>

#include "link.h"
#include "load.h"
#include "proto/codec.h"
#include "setup.h"
#include "wire.h"

namespace aviary::bench {

namespace {

using proto::OpCode;

constexpr int64_t kMissNs = 5'000'000'000;

struct Peer {
  Link link;
  bool writer = false;
  int32_t next_xid = 1;
  int32_t wait_xid = 0;  // the getData (watcher) or setData (writer) awaited; 0 none
  int64_t seen = 0;      // watcher: last change it was notified of
};

class WatchRun {
 public:
  WatchRun(const Options& o, const Plan& plan, Progress* progress, RunResult* out)
      : o_(o), plan_(plan), feed_(progress), out_(out) {}
  bool Open(const std::vector<Endpoint>& servers, std::string* error);
  void Loop();
  void Close();

 private:
  void Send(Peer& p, OpCode op);
  bool OnFrame(Peer& p, std::string_view payload, int64_t now);
  void OnEvent(Peer& p, int64_t now);
  void Kill(Peer& p);
  bool Settled() const { return pending_notify_ == 0 && pending_arm_ == 0 && writer_->wait_xid == 0; }

  const Options& o_;
  const Plan& plan_;
  ProgressFeed feed_;
  RunResult* out_;
  int ep_ = -1;
  std::vector<std::unique_ptr<Peer>> peers_;  // watchers, then the writer last
  Peer* writer_ = nullptr;
  proto::Request get_, set_;
  proto::ResponseBody body_;
  int64_t change_ = 0, sent_ns_ = 0;
  int64_t pending_notify_ = 0, pending_arm_ = 0;
};

bool WatchRun::Open(const std::vector<Endpoint>& servers, std::string* error) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  get_.header.type = static_cast<int32_t>(OpCode::kGetData);
  auto& g = get_.body.emplace<proto::GetDataRequest>();
  g.path = plan_.parent;
  g.watch = true;
  set_.header.type = static_cast<int32_t>(OpCode::kSetData);
  auto& s = set_.body.emplace<proto::SetDataRequest>();
  s.path = plan_.parent;
  s.data = plan_.payload;
  s.version = -1;
  for (int i = 0; i <= o_.watchers; i++) {
    auto p = std::make_unique<Peer>();
    p->writer = i == o_.watchers;
    p->link.fd = Dial(servers[p->writer ? 0 : static_cast<size_t>(i) % servers.size()], 10000, error);
    int64_t sid = 0;
    bool ok = p->link.fd >= 0 && Handshake(p->link.fd, o_.session_timeout_ms, &sid, error);
    if (p->link.fd >= 0 && !ok) close(p->link.fd);
    if (!ok) return false;
    LinkAdd(ep_, p->link, p.get());
    peers_.push_back(std::move(p));
  }
  writer_ = peers_.back().get();
  return true;
}

void WatchRun::Send(Peer& p, OpCode op) {
  proto::Request& r = op == OpCode::kSetData ? set_ : get_;
  r.header.xid = p.next_xid++;
  p.wait_xid = r.header.xid;
  proto::EncodeRequest(r, &p.link.out);
  if (!LinkFlush(ep_, p.link, &p)) Kill(p);
}

void WatchRun::Kill(Peer& p) {
  if (p.link.fd < 0) return;
  out_->lost_connections++;
  LinkClose(ep_, p.link);
  if (p.wait_xid != 0 && !p.writer) pending_arm_--;
  if (!p.writer && p.seen < change_ && pending_notify_ > 0) pending_notify_--, out_->missed++;
  p.wait_xid = 0;
}

void WatchRun::OnEvent(Peer& p, int64_t now) {
  auto* ev = std::get_if<proto::WatcherEvent>(&body_);
  if (!ev || ev->type != static_cast<int32_t>(proto::EventType::kNodeDataChanged) || ev->path != plan_.parent ||
      p.writer || p.seen >= change_) {
    out_->bad_replies++;  // an event nobody asked for, or a duplicate
    return;
  }
  p.seen = change_;
  out_->delivery.Record(now - sent_ns_);
  if (--pending_notify_ == 0) out_->notify.Record(now - sent_ns_);
  pending_arm_++;
  Send(p, OpCode::kGetData);
}

bool WatchRun::OnFrame(Peer& p, std::string_view payload, int64_t now) {
  proto::ReplyHeader hdr;
  OpCode op = p.writer ? OpCode::kSetData : OpCode::kGetData;
  if (!proto::DecodeReply(payload, op, &hdr, &body_)) return false;
  if (hdr.xid == -1) {
    OnEvent(p, now);
    return true;
  }
  if (p.wait_xid == 0 || hdr.xid != p.wait_xid) return false;
  p.wait_xid = 0;
  if (p.writer) {
    out_->ops++;
    out_->latency.Record(now - sent_ns_);
    feed_.Record(now - sent_ns_);
  } else {
    pending_arm_--;
  }
  if (hdr.err != 0) {
    out_->errors++;
    out_->error_codes[hdr.err]++;
  } else if (!p.writer) {
    auto* b = std::get_if<proto::GetDataResponse>(&body_);
    if (!b || b->data != plan_.payload) out_->bad_replies++;
  }
  return true;
}

void WatchRun::Loop() {
  for (size_t i = 0; i + 1 < peers_.size(); i++) {
    pending_arm_++;
    Send(*peers_[i], OpCode::kGetData);
  }
  int64_t start = NowNs(), last = start;
  sent_ns_ = start;  // the arming requests count against the miss timeout too
  int64_t end = start + static_cast<int64_t>(o_.seconds * 1e9);
  epoll_event evs[64];
  for (;;) {
    int64_t now = NowNs();
    feed_.Tick(now);
    if (writer_->link.fd < 0) break;
    if (Settled()) {
      last = change_ > 0 ? now : start;
      if (o_.changes > 0 ? change_ >= o_.changes : now >= end) break;
      change_++;
      pending_notify_ = 0;
      for (size_t i = 0; i + 1 < peers_.size(); i++) pending_notify_ += peers_[i]->link.fd >= 0;
      sent_ns_ = NowNs();
      Send(*writer_, OpCode::kSetData);
    } else if (now - sent_ns_ > kMissNs) {
      if (pending_arm_ > 0 || writer_->wait_xid != 0) break;  // a request went unanswered: give up
      out_->missed += pending_notify_;
      pending_notify_ = 0;
    }
    int n = epoll_wait(ep_, evs, 64, 10);
    now = NowNs();
    for (int i = 0; i < n; i++) {
      auto* p = static_cast<Peer*>(evs[i].data.ptr);
      if (p->link.fd < 0) continue;
      if ((evs[i].events & EPOLLOUT) && !LinkFlush(ep_, p->link, p)) Kill(*p);
      if (p->link.fd < 0 || !(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      bool ok = LinkRead(p->link);
      if (!LinkFrames(p->link, 16, [&](std::string_view f) { return OnFrame(*p, f, now); }) || !ok) Kill(*p);
    }
  }
  feed_.Flush();
  out_->elapsed_s = static_cast<double>(std::max<int64_t>(last - start, 1)) / 1e9;
  out_->ops_per_sec = static_cast<double>(out_->ops) / out_->elapsed_s;
  out_->watchers = o_.watchers;
}

void WatchRun::Close() {
  for (auto& p : peers_) {
    if (p->link.fd < 0) continue;
    epoll_ctl(ep_, EPOLL_CTL_DEL, p->link.fd, nullptr);
    fcntl(p->link.fd, F_SETFL, fcntl(p->link.fd, F_GETFL) & ~O_NONBLOCK);
    CloseSession(p->link.fd, p->next_xid);
    p->link.fd = -1;
  }
  if (ep_ >= 0) close(ep_);
}

}  // namespace

bool RunWatch(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
              std::string* error) {
  Plan plan;
  plan.workload = o.workload;
  plan.payload.assign(static_cast<size_t>(o.payload), 'x');
  if (!PrepareNodes(o, servers[0], plan.payload, &plan, error)) return false;
  WatchRun run(o, plan, progress, out);
  bool ok = run.Open(servers, error);
  double cpu0 = CpuSeconds();
  if (ok) {
    ProgressPrinter printer(progress, "watch");
    run.Loop();
  }
  out->client_cpu_s = CpuSeconds() - cpu0;
  run.Close();
  return ok;
}

}  // namespace aviary::bench
