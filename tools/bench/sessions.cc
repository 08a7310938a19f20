// Idle sessions: opens `clients` sessions (at most 256 handshakes in
// flight), reports the time to establish them all, prints
// {"event": "sessions_ready", ...} on stdout, then holds them: no requests,
// only a ping every third of each session's negotiated timeout, for `hold`
// seconds or (hold < 0) until stdin reaches EOF (pings start as soon as a
// session is up, also while the rest are being opened); then closes them all with
// closeSession. Raises RLIMIT_NOFILE to its hard limit first. One thread.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "link.h"
#include "load.h"
#include "plan.h"
#include "proto/codec.h"
#include "wire.h"

namespace aviary::bench {

namespace {

using proto::OpCode;

enum class State { kHandshake, kIdle, kClosing, kClosed };

struct Idle {
  Link link;
  State state = State::kHandshake;
  int64_t start_ns = 0;
  int64_t ping_every_ns = 0;
  int64_t next_ping_ns = 0;
  int pings_out = 0;
};

class SessionHold {
 public:
  SessionHold(const Options& o, RunResult* out, Progress* progress) : o_(o), out_(out), feed_(progress) {}
  ~SessionHold() {
    for (auto& s : s_) LinkClose(ep_, s->link);
    if (ep_ >= 0) close(ep_);
  }
  bool OpenAll(const std::vector<Endpoint>& servers, std::string* error);
  void Hold();
  void CloseAll();

 private:
  void Pump(int timeout_ms);
  void PingDue(int64_t now);
  bool OnFrame(Idle& s, std::string_view payload, int64_t now);
  // The connection died (or misbehaved) in state s.state.
  void Fail(Idle& s) {
    if (s.state == State::kHandshake) handshaking_--;
    if (s.state == State::kIdle) established_--;
    if (s.state == State::kClosing) closing_--;
    if (s.state != State::kClosing && s.state != State::kClosed) out_->lost_connections++;
    LinkClose(ep_, s.link);
    s.state = State::kClosed;
  }
  void SendHeader(Idle& s, int32_t xid, OpCode op) {
    proto::Request r;
    r.header = {xid, static_cast<int32_t>(op)};
    proto::EncodeRequest(r, &s.link.out);
    if (!LinkFlush(ep_, s.link, &s)) Fail(s);
  }

  const Options& o_;
  RunResult* out_;
  ProgressFeed feed_;
  int ep_ = epoll_create1(EPOLL_CLOEXEC);
  std::vector<std::unique_ptr<Idle>> s_;
  int64_t handshaking_ = 0, established_ = 0, closing_ = 0;
  bool stdin_open_ = true;
  int64_t next_ping_scan_ns_ = 0;
};

bool SessionHold::OnFrame(Idle& s, std::string_view payload, int64_t now) {
  if (s.state == State::kHandshake) {
    proto::ConnectResponse rsp;
    if (!proto::DecodeConnectResponse(payload, &rsp) || rsp.timeOut <= 0) return false;
    s.state = State::kIdle;
    s.ping_every_ns = int64_t{rsp.timeOut} * 1'000'000 / 3;
    s.next_ping_ns = now + s.ping_every_ns;
    handshaking_--;
    established_++;
    out_->latency.Record(now - s.start_ns);
    feed_.Record(now - s.start_ns);
    return true;
  }
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  OpCode op = s.state == State::kClosing ? OpCode::kCloseSession : OpCode::kPing;
  if (!proto::DecodeReply(payload, op, &hdr, &body)) return false;
  if (hdr.xid == -2 && s.pings_out > 0) {
    s.pings_out--;
    return true;
  }
  if (s.state == State::kClosing && hdr.xid == 1) {
    s.state = State::kClosed;  // Pump closes the link
    closing_--;
    return true;
  }
  out_->bad_replies++;
  return hdr.xid == -1;  // a stray event is tolerated, anything else is not
}

void SessionHold::Pump(int timeout_ms) {
  epoll_event evs[256];
  int n = epoll_wait(ep_, evs, 256, timeout_ms);
  int64_t now = NowNs();
  for (int i = 0; i < n; i++) {
    if (evs[i].data.ptr == nullptr) {  // stdin
      char buf[4096];
      ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        stdin_open_ = false;
        epoll_ctl(ep_, EPOLL_CTL_DEL, STDIN_FILENO, nullptr);
      }
      continue;
    }
    auto* s = static_cast<Idle*>(evs[i].data.ptr);
    if (s->link.fd < 0) continue;
    if ((evs[i].events & EPOLLOUT) && !LinkFlush(ep_, s->link, s)) Fail(*s);
    if (s->link.fd < 0 || !(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
    bool ok = LinkRead(s->link);
    bool frames_ok =
        LinkFrames(s->link, 16, [&](std::string_view f) { return s->state == State::kClosed || OnFrame(*s, f, now); });
    if (s->state == State::kClosed) {
      LinkClose(ep_, s->link);
    } else if (!frames_ok || !ok) {
      Fail(*s);
    }
  }
  feed_.Tick(now);
  PingDue(now);  // also while the others are still being opened
}

bool SessionHold::OpenAll(const std::vector<Endpoint>& servers, std::string* error) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  proto::ConnectRequest req;
  req.timeOut = o_.session_timeout_ms;
  req.passwd.assign(16, '\0');
  int64_t start = NowNs();
  for (int i = 0; i < o_.clients; i++) {
    while (handshaking_ >= 256) Pump(100);
    auto s = std::make_unique<Idle>();
    s->link.fd = Dial(servers[static_cast<size_t>(i) % servers.size()], 10000, error);
    if (s->link.fd < 0) {
      *error = "session " + std::to_string(i) + ": " + *error;
      return false;
    }
    s->start_ns = NowNs();
    LinkAdd(ep_, s->link, s.get());
    proto::EncodeConnectRequest(req, &s->link.out);
    handshaking_++;
    Idle& ref = *s;
    s_.push_back(std::move(s));
    if (!LinkFlush(ep_, ref.link, &ref)) Fail(ref);
  }
  int64_t deadline = NowNs() + 30'000'000'000;
  while (handshaking_ > 0 && NowNs() < deadline) Pump(100);
  feed_.Flush();
  out_->connect_s = static_cast<double>(NowNs() - start) / 1e9;
  out_->sessions = established_;
  out_->ops = established_;
  out_->elapsed_s = out_->connect_s;
  out_->ops_per_sec = static_cast<double>(established_) / std::max(out_->connect_s, 1e-9);
  if (established_ < o_.clients) {
    *error = "only " + std::to_string(established_) + " of " + std::to_string(o_.clients) + " sessions established";
    return false;
  }
  return true;
}

void SessionHold::Hold() {
  std::printf("{\"event\": \"sessions_ready\", \"sessions\": %lld, \"connect_s\": %.3f, \"pid\": %d}\n",
              static_cast<long long>(established_), out_->connect_s, static_cast<int>(getpid()));
  std::fflush(stdout);
  if (o_.hold_s < 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    // A regular file or /dev/null cannot be polled: it is at EOF already.
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0) stdin_open_ = false;
  }
  int64_t end = NowNs() + static_cast<int64_t>(std::max(o_.hold_s, 0.0) * 1e9);
  while (o_.hold_s < 0 ? stdin_open_ : NowNs() < end) Pump(100);
}

void SessionHold::PingDue(int64_t now) {
  if (now < next_ping_scan_ns_) return;
  next_ping_scan_ns_ = now + 50'000'000;
  for (auto& s : s_) {
    if (s->state != State::kIdle || now < s->next_ping_ns) continue;
    s->next_ping_ns = now + s->ping_every_ns;
    s->pings_out++;
    SendHeader(*s, -2, OpCode::kPing);
  }
}

void SessionHold::CloseAll() {
  for (auto& s : s_) {
    if (s->state != State::kIdle) continue;
    s->state = State::kClosing;
    closing_++;
    SendHeader(*s, 1, OpCode::kCloseSession);
  }
  int64_t deadline = NowNs() + 30'000'000'000;
  while (closing_ > 0 && NowNs() < deadline) Pump(100);
}

}  // namespace

bool RunSessions(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
                 std::string* error) {
  double cpu0 = CpuSeconds();
  SessionHold hold(o, out, progress);
  bool ok;
  {
    ProgressPrinter printer(progress, "sessions");
    ok = hold.OpenAll(servers, error);
  }
  if (ok) hold.Hold();
  hold.CloseAll();
  out->client_cpu_s = CpuSeconds() - cpu0;
  return ok;
}

}  // namespace aviary::bench
