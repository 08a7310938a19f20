#include "idle_group.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "proto/codec.h"
#include "reply_check.h"

namespace aviary::bench {

using proto::OpCode;

IdleGroup::IdleGroup(const Options& o, const std::vector<SockAddr>& addrs, std::vector<int> indexes, int window,
                     Progress* progress)
    : o_(o), addrs_(addrs), window_(window), ep_(epoll_create1(EPOLL_CLOEXEC)), feed_(progress) {
  for (int i : indexes) {
    s_.push_back(std::make_unique<Session>());
    s_.back()->index = i;
    waiting_.push_back(s_.back().get());
  }
  proto::ConnectRequest req;
  req.timeOut = o_.session_timeout_ms;
  req.passwd.assign(16, '\0');
  proto::EncodeConnectRequest(req, &connect_frame_);
}

IdleGroup::~IdleGroup() {
  for (auto& s : s_) LinkClose(ep_, s->link);
  if (ep_ >= 0) close(ep_);
}

void IdleGroup::Run(int64_t open_deadline_ns, const std::atomic<bool>& stop) {
  Open(open_deadline_ns);
  feed_.Flush();
  opened_.store(true, std::memory_order_release);
  while (!stop.load(std::memory_order_relaxed)) Pump(100);
  CloseAll();
}

void IdleGroup::Open(int64_t deadline_ns) {
  const auto n = static_cast<int64_t>(s_.size());
  for (int64_t now = NowNs(); now < deadline_ns && established() + given_up_ < n; now = NowNs()) {
    while (handshaking_ < window_ && !waiting_.empty() && waiting_.front()->attempt_ns <= now) {
      Session* s = waiting_.front();
      waiting_.pop_front();
      StartAttempt(*s, now);
    }
    Pump(20);
  }
  if (established() < n) {
    error_ = "only " + std::to_string(established()) + " of " + std::to_string(n) + " sessions of a thread established";
    if (!last_failure_.empty()) error_ += " (last failure: " + last_failure_ + ")";
  }
}

void IdleGroup::StartAttempt(Session& s, int64_t now) {
  s.attempts++;
  if (s.attempts == 1) s.first_ns = now;
  s.attempt_ns = now;
  std::string error;
  s.link.fd = DialStart(addrs_[static_cast<size_t>(s.index) % addrs_.size()], s.index, &error);
  if (s.link.fd < 0) {
    Failed(s, now, error.c_str());
    return;
  }
  LinkAdd(ep_, s.link, &s);
  s.link.out = connect_frame_;
  s.state = State::kHandshake;
  handshaking_++;
  if (!LinkFlush(ep_, s.link, &s)) Failed(s, now, "connect failed");
}

void IdleGroup::Failed(Session& s, int64_t now, const char* why) {
  last_failure_ = why;
  LinkClose(ep_, s.link);
  State was = s.state;
  if (was == State::kHandshake) handshaking_--;
  if (was == State::kIdle) established_.fetch_sub(1, std::memory_order_relaxed);
  if (was == State::kClosing) closing_--;
  s.pings_out = 0;
  s.state = State::kClosed;
  if (was == State::kClosing || was == State::kClosed) return;
  if (opened()) {
    stats_.lost++;  // held sessions are not replaced: the measurement needs them all
    return;
  }
  if (s.attempts >= kAttempts) {
    given_up_++;
    return;
  }
  retries_++;
  s.state = State::kWaiting;
  s.attempt_ns = now + 100'000'000 * s.attempts;  // back off 0.1 s, 0.2 s, ...
  waiting_.push_back(&s);
}

bool IdleGroup::OnFrame(Session& s, std::string_view payload, int64_t now) {
  if (s.state == State::kHandshake) {
    proto::ConnectResponse rsp;
    if (!proto::DecodeConnectResponse(payload, &rsp) || rsp.timeOut <= 0) return false;
    s.state = State::kIdle;
    s.ping_every_ns = int64_t{rsp.timeOut} * 1'000'000 / 3;
    s.next_ping_ns = now + s.ping_every_ns;
    handshaking_--;
    established_.fetch_add(1, std::memory_order_relaxed);
    last_up_ns_ = now;
    stats_.latency.Record(now - s.first_ns);
    feed_.Record(now - s.first_ns);
    return true;
  }
  if (s.state == State::kClosed) return true;  // the rest after the closeSession reply
  ReplyHead hdr;
  if (!ParseReplyHead(payload, &hdr)) return false;
  if (hdr.xid == -2 && s.pings_out > 0) {
    s.pings_out--;
    return true;
  }
  if (s.state == State::kClosing && hdr.xid == 1) {
    s.state = State::kClosed;  // Pump closes the link
    closing_--;
    return true;
  }
  stats_.bad++;
  return hdr.xid == -1;  // a stray event is tolerated, anything else is not
}

void IdleGroup::Pump(int timeout_ms) {
  epoll_event evs[256];
  int n = epoll_wait(ep_, evs, 256, timeout_ms);
  int64_t now = NowNs();
  for (int i = 0; i < n; i++) {
    auto* s = static_cast<Session*>(evs[i].data.ptr);
    if (s->link.fd < 0) continue;
    if ((evs[i].events & EPOLLOUT) && !LinkFlush(ep_, s->link, s)) {
      Failed(*s, now, s->state == State::kHandshake ? "connect failed" : "write failed");
      continue;
    }
    if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
    bool read_ok = LinkRead(s->link);
    bool frames_ok = LinkFrames(s->link, 16, [&](std::string_view f) { return OnFrame(*s, f, now); });
    if (s->state == State::kClosed) {
      LinkClose(ep_, s->link);
    } else if (!frames_ok) {
      Failed(*s, now, "bad reply");
    } else if (!read_ok) {
      Failed(*s, now, s->state == State::kHandshake ? "connection lost during the handshake" : "connection lost");
    }
  }
  feed_.Tick(now);
  if (now >= next_scan_ns_) {
    next_scan_ns_ = now + 50'000'000;
    Expire(now);
    PingDue(now);  // also while the others are still being opened
  }
}

void IdleGroup::Expire(int64_t now) {
  if (opened()) return;
  for (auto& s : s_) {
    if (s->state == State::kHandshake && now - s->attempt_ns > kAttemptTimeoutNs) {
      Failed(*s, now, "handshake timed out");
    }
  }
}

void IdleGroup::PingDue(int64_t now) {
  for (auto& s : s_) {
    if (s->state != State::kIdle || now < s->next_ping_ns) continue;
    s->next_ping_ns = now + s->ping_every_ns;
    s->pings_out++;
    Send(*s, -2, OpCode::kPing);
  }
}

void IdleGroup::Send(Session& s, int32_t xid, OpCode op) {
  proto::Request r;
  r.header = {xid, static_cast<int32_t>(op)};
  proto::EncodeRequest(r, &s.link.out);
  if (!LinkFlush(ep_, s.link, &s)) Failed(s, NowNs(), "write failed");
}

void IdleGroup::CloseAll() {
  for (auto& s : s_) {
    if (s->state != State::kIdle) continue;
    s->state = State::kClosing;
    closing_++;
    Send(*s, 1, OpCode::kCloseSession);
  }
  int64_t deadline = NowNs() + 30'000'000'000;
  while (closing_ > 0 && NowNs() < deadline) Pump(100);
}

}  // namespace aviary::bench
