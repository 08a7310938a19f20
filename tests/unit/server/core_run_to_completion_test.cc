// Core::Submit (run to completion): a network thread runs the core pass for
// its frames itself while the core thread sleeps with nothing to do, and
// hands them over otherwise (core thread busy, events already waiting, the
// option off, an ensemble member).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "proto/codec.h"
#include "server/committer.h"
#include "server/core.h"

namespace aviary::server {
namespace {

using namespace std::chrono_literals;

// Records which thread delivered what; thread-safe (the core thread and
// the submitting thread both deliver).
class ThreadOutbox final : public Outbox {
 public:
  struct Delivery {
    net::ConnId conn;
    std::thread::id thread;
    std::string bytes;
  };
  void Deliver(std::vector<net::ConnectionServer::Out>& batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& o : batch) {
      if (!o.bytes.empty()) got_.push_back(Delivery{o.conn, std::this_thread::get_id(), o.bytes});
    }
    batch.clear();
    cv_.notify_all();
  }
  void CloseNow(net::ConnId) override {}
  // Waits (2 s at most) until `n` deliveries with bytes were seen.
  std::vector<Delivery> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 2s, [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Delivery> got_;
};

CoreOptions Options(bool run_to_completion) {
  CoreOptions o;
  o.tick_ms = 2000;
  o.min_session_timeout_ms = 4000;
  o.max_session_timeout_ms = 40000;
  o.password_secret = 0x1234567887654321ull;
  o.run_to_completion = run_to_completion;
  return o;
}

std::vector<CoreEvent> Handshake(net::ConnId conn) {
  std::vector<CoreEvent> evs(2);
  evs[0].kind = CoreEvent::Kind::kOpened;
  evs[0].conn = conn;
  evs[0].text = "127.0.0.1:5000";
  evs[1].kind = CoreEvent::Kind::kConnect;
  evs[1].conn = conn;
  evs[1].connect.timeOut = 10000;
  evs[1].connect.passwd = std::string(16, '\0');
  return evs;
}

std::vector<CoreEvent> Create(net::ConnId conn, int32_t xid, const std::string& path) {
  std::vector<CoreEvent> evs(1);
  evs[0].kind = CoreEvent::Kind::kRequest;
  evs[0].conn = conn;
  evs[0].request.header = proto::RequestHeader{xid, static_cast<int32_t>(proto::OpCode::kCreate)};
  proto::CreateRequest c;
  c.path = path;
  c.data = "v";
  c.acl = {proto::Acl{0x1f, proto::Id{"world", "anyone"}}};
  evs[0].request.body = c;
  return evs;
}

std::vector<CoreEvent> GetData(net::ConnId conn, int32_t xid, const std::string& path) {
  std::vector<CoreEvent> evs(1);
  evs[0].kind = CoreEvent::Kind::kRequest;
  evs[0].conn = conn;
  evs[0].request.header = proto::RequestHeader{xid, static_cast<int32_t>(proto::OpCode::kGetData)};
  proto::GetDataRequest g;
  g.path = path;
  evs[0].request.body = g;
  return evs;
}

// The reply header's xid and err of a delivered reply (after the length prefix).
std::pair<int32_t, int32_t> XidErr(const std::string& bytes) {
  auto be32 = [&](size_t at) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]);
  };
  return {be32(4), be32(16)};
}

// A core thread that has gone to sleep: Submit handshakes until one pass
// ran inline (the thread may not have reached its wait yet); returns the
// connection of that one, or 0.
net::ConnId SubmitUntilInline(Core& core) {
  for (net::ConnId conn = 1000; conn < 1200; conn++) {
    std::this_thread::sleep_for(5ms);
    auto evs = Handshake(conn);
    int64_t before = core.inline_passes();
    core.Submit(evs);
    if (core.inline_passes() > before) return conn;
  }
  return 0;
}

TEST(CoreRunToCompletion, IdleCoreRunsThePassOnTheSubmittingThread) {
  LocalCommitter committer;
  ThreadOutbox out;
  Core core(Options(true), &committer, &out);
  std::thread core_thread([&] { core.Run(); });
  const net::ConnId conn = SubmitUntilInline(core);
  ASSERT_NE(conn, 0u);
  const size_t seen = out.WaitFor(conn - 1000 + 1).size();
  // The core sleeps again: a write runs (prepared, committed, applied and
  // answered) on this thread.
  std::this_thread::sleep_for(20ms);
  std::vector<CoreEvent> evs = Create(conn, 7, "/rtc");
  int64_t before = core.inline_passes();
  core.Submit(evs);
  EXPECT_EQ(core.inline_passes(), before + 1);
  auto got = out.WaitFor(seen + 1);
  core.RequestStop();
  core_thread.join();
  ASSERT_EQ(got.size(), seen + 1);
  EXPECT_EQ(got.back().conn, conn);
  EXPECT_EQ(got.back().thread, std::this_thread::get_id());
  EXPECT_EQ(XidErr(got.back().bytes), std::make_pair(7, 0));
  EXPECT_TRUE(core.tree().Find("/rtc") != nullptr);
}

// Submits the events `make` builds for an idle core's connection and expects
// the pass on the core thread (not inline), with `created` in the tree after.
template <typename Make>
void ExpectPassOnTheCoreThread(Make make, const char* created) {
  LocalCommitter committer;
  ThreadOutbox out;
  Core core(Options(true), &committer, &out);
  std::thread core_thread([&] { core.Run(); });
  const net::ConnId conn = SubmitUntilInline(core);
  ASSERT_NE(conn, 0u);
  const size_t seen = out.WaitFor(conn - 1000 + 1).size();
  std::this_thread::sleep_for(20ms);
  std::vector<CoreEvent> evs = make(conn);
  const int64_t before = core.inline_passes();
  core.Submit(evs);
  auto got = out.WaitFor(seen + 1);
  core.RequestStop();
  core_thread.join();
  EXPECT_EQ(core.inline_passes(), before);
  ASSERT_GE(got.size(), seen + 1);
  EXPECT_NE(got[seen].thread, std::this_thread::get_id());
  EXPECT_TRUE(core.tree().Find(created) != nullptr);
}

TEST(CoreRunToCompletion, SeveralRequestsGoToTheCoreThread) {
  // Frames of concurrent clients: the core thread groups their writes.
  ExpectPassOnTheCoreThread(
      [](net::ConnId conn) {
        std::vector<CoreEvent> evs = Create(conn, 1, "/a");
        evs.push_back(Create(conn, 2, "/b")[0]);
        return evs;
      },
      "/b");
}

TEST(CoreRunToCompletion, SeveralReadsRunOnTheSubmittingThread) {
  // Reads need no grouping: a pass of several (from one or more
  // connections) runs inline, its replies in order on this thread.
  LocalCommitter committer;
  ThreadOutbox out;
  Core core(Options(true), &committer, &out);
  std::thread core_thread([&] { core.Run(); });
  const net::ConnId conn = SubmitUntilInline(core);
  ASSERT_NE(conn, 0u);
  const size_t seen = out.WaitFor(conn - 1000 + 1).size();
  std::this_thread::sleep_for(20ms);
  std::vector<CoreEvent> evs = GetData(conn, 11, "/");
  evs.push_back(GetData(conn, 12, "/zookeeper")[0]);
  evs.push_back(GetData(conn, 13, "/missing")[0]);
  int64_t before = core.inline_passes();
  core.Submit(evs);
  EXPECT_EQ(core.inline_passes(), before + 1);
  auto got = out.WaitFor(seen + 1);
  core.RequestStop();
  core_thread.join();
  ASSERT_EQ(got.size(), seen + 1);  // one pass: the connection's three replies in one buffer
  EXPECT_EQ(got.back().thread, std::this_thread::get_id());
  EXPECT_EQ(XidErr(got.back().bytes), std::make_pair(11, 0));
}

TEST(CoreRunToCompletion, ReadsWithAWriteGoToTheCoreThread) {
  ExpectPassOnTheCoreThread(
      [](net::ConnId conn) {
        std::vector<CoreEvent> evs = GetData(conn, 1, "/");
        evs.push_back(Create(conn, 2, "/w")[0]);
        return evs;
      },
      "/w");
}

TEST(CoreRunToCompletion, OptionOffAlwaysHandsOverToTheCoreThread) {
  LocalCommitter committer;
  ThreadOutbox out;
  Core core(Options(false), &committer, &out);
  std::thread core_thread([&] { core.Run(); });
  std::this_thread::sleep_for(20ms);
  auto evs = Handshake(1);
  core.Submit(evs);
  auto got = out.WaitFor(1);
  core.RequestStop();
  core_thread.join();
  EXPECT_EQ(core.inline_passes(), 0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].thread, std::this_thread::get_id());
}

TEST(CoreRunToCompletion, NoInlinePassWhileTheCoreThreadIsNotWaiting) {
  // No core thread at all (not asleep in Run): the events go to the inbox,
  // behind anything already there, exactly as Post.
  LocalCommitter committer;
  ThreadOutbox out;
  Core core(Options(true), &committer, &out);
  auto first = Handshake(1);
  core.Post(first);
  auto second = Create(1, 1, "/x");
  core.Submit(second);
  EXPECT_EQ(core.inline_passes(), 0);
  std::vector<CoreEvent> inbox;
  core.TakeInbox(&inbox);
  ASSERT_EQ(inbox.size(), 3u);
  EXPECT_EQ(inbox[0].kind, CoreEvent::Kind::kOpened);
  EXPECT_EQ(inbox[1].kind, CoreEvent::Kind::kConnect);
  EXPECT_EQ(inbox[2].kind, CoreEvent::Kind::kRequest);
}

// A ThreadOutbox whose first delivery on `holder` (once armed) blocks until
// Release(): an inline pass held there keeps the core token.
class GateOutbox final : public Outbox {
 public:
  void Deliver(std::vector<net::ConnectionServer::Out>& batch) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (armed_ && std::this_thread::get_id() == holder_) {
        armed_ = false;
        in_gate_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
      }
    }
    inner_.Deliver(batch);
  }
  void CloseNow(net::ConnId) override {}
  void Arm(std::thread::id holder) {
    std::lock_guard<std::mutex> lock(mu_);
    holder_ = holder;
    armed_ = true;
  }
  bool WaitInGate() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 2s, [&] { return in_gate_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  ThreadOutbox& inner() { return inner_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread::id holder_;
  bool armed_ = false, in_gate_ = false, released_ = false;
  ThreadOutbox inner_;
};

// The xids (and errs) of every reply delivered to `conn`, in order (a
// delivery may hold several); *last_thread: the thread of the last one.
std::vector<std::pair<int32_t, int32_t>> RepliesOf(const std::vector<ThreadOutbox::Delivery>& got, net::ConnId conn,
                                                   std::thread::id* last_thread = nullptr) {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (const auto& d : got) {
    if (d.conn != conn) continue;
    for (size_t at = 0; at + 20 <= d.bytes.size();) {
      const std::string frame = d.bytes.substr(at);
      out.push_back(XidErr(frame));
      const auto* p = reinterpret_cast<const unsigned char*>(frame.data());
      at += 4 + ((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]);
    }
    if (last_thread != nullptr) *last_thread = d.thread;
  }
  return out;
}

// Waits (2 s at most) until `conn` got `n` replies; returns every delivery.
std::vector<ThreadOutbox::Delivery> WaitReplies(ThreadOutbox& out, net::ConnId conn, size_t n) {
  std::vector<ThreadOutbox::Delivery> got;
  for (int i = 0; i < 200; i++) {
    got = out.WaitFor(0);
    if (RepliesOf(got, conn).size() >= n) break;
    std::this_thread::sleep_for(10ms);
  }
  return got;
}

// Session 5000 connected and the core thread asleep; Hold() has another
// thread run an inline pass (a read of the first connection) that stops in
// the outbox's gate, holding the core token, while the test submits;
// Finish() lets it go and collects the deliveries until 5000 has 3 replies.
class HeldInlinePass {
 public:
  HeldInlinePass() : core_(Options(true), &committer_, &out_), core_thread_([this] { core_.Run(); }) {
    a_ = SubmitUntilInline(core_);
    if (a_ == 0) return;
    out_.inner().WaitFor(a_ - 1000 + 1);
    auto hs = Handshake(5000);
    core_.Submit(hs);
    seen_ = out_.inner().WaitFor(a_ - 1000 + 2).size();
    std::this_thread::sleep_for(20ms);  // the core thread sleeps again
  }
  ~HeldInlinePass() {
    if (holder_.joinable()) {
      out_.Release();
      holder_.join();
    }
    if (core_thread_.joinable()) {
      core_.RequestStop();
      core_thread_.join();
    }
  }
  Core& core() { return core_; }
  size_t seen() const { return seen_; }
  std::thread::id holder_id() const { return holder_id_; }
  // False when no inline pass could be held (the core thread was awake).
  bool Hold() {
    if (a_ == 0) return false;
    holder_ = std::thread([this] {
      holder_id_ = std::this_thread::get_id();
      out_.Arm(holder_id_);
      auto evs = GetData(a_, 21, "/");
      core_.Submit(evs);
    });
    return out_.WaitInGate();
  }
  std::vector<ThreadOutbox::Delivery> Finish() {
    out_.Release();
    holder_.join();
    auto got = WaitReplies(out_.inner(), 5000, 3);
    core_.RequestStop();
    core_thread_.join();
    return got;
  }

 private:
  LocalCommitter committer_;
  GateOutbox out_;
  Core core_;
  std::thread core_thread_;
  std::thread holder_;
  std::thread::id holder_id_;
  net::ConnId a_ = 0;
  size_t seen_ = 0;
};

TEST(CoreRunToCompletion, ReadsJoinAnInlinePassInsteadOfWakingTheCoreThread) {
  // While one thread's inline pass holds the token, another thread's reads
  // are run by that pass's thread after its own (no core thread wake-up).
  HeldInlinePass held;
  const int64_t before = held.core().inline_passes();
  ASSERT_TRUE(held.Hold()) << "the holder's pass did not run inline";
  auto evs = GetData(5000, 31, "/zookeeper");
  evs.push_back(GetData(5000, 32, "/missing")[0]);
  held.core().Submit(evs);  // the token is held: joins the inline pass
  EXPECT_EQ(held.core().joined_submits(), 1);
  EXPECT_TRUE(evs.empty());
  auto got = held.Finish();
  EXPECT_EQ(held.core().inline_passes(), before + 1);
  ASSERT_EQ(got.size(), held.seen() + 2);  // the holder's reply, then the joined pass's (one buffer)
  std::thread::id joined_by;
  auto replies = RepliesOf(got, 5000, &joined_by);
  ASSERT_EQ(replies.size(), 3u);  // the handshake's, then the two reads', in order
  EXPECT_EQ(replies[1], std::make_pair(31, 0));
  EXPECT_EQ(replies[2], std::make_pair(32, static_cast<int32_t>(proto::Err::kNoNode)));
  EXPECT_EQ(joined_by, held.holder_id());
}

TEST(CoreRunToCompletion, ReadsBehindAPostedWriteDoNotJoin) {
  // A write goes to the inbox (the core thread groups writes); a read of
  // the same connection that follows must not overtake it by joining the
  // inline pass: it goes behind the write, and sees it.
  HeldInlinePass held;
  ASSERT_TRUE(held.Hold()) << "the holder's pass did not run inline";
  auto write = Create(5000, 41, "/joined");
  held.core().Submit(write);  // a write: posted for the core thread
  auto read = GetData(5000, 42, "/joined");
  held.core().Submit(read);  // behind it: not joined
  EXPECT_EQ(held.core().joined_submits(), 0);
  auto got = held.Finish();
  auto replies = RepliesOf(got, 5000);
  ASSERT_EQ(replies.size(), 3u);  // the handshake's, then the write's and the read's, in order
  EXPECT_EQ(replies[1], std::make_pair(41, 0));
  EXPECT_EQ(replies[2], std::make_pair(42, 0));
}

TEST(CoreRunToCompletion, EnsembleMemberAlwaysHandsOver) {
  class NullForwarder final : public Forwarder {
   public:
    void Forward(ForwardedRequest) override {}
  };
  LocalCommitter committer;
  ThreadOutbox out;
  NullForwarder fwd;
  Core core(Options(true), &committer, &out);
  core.SetEnsembleHooks(&fwd, nullptr);
  std::thread core_thread([&] { core.Run(); });
  std::this_thread::sleep_for(20ms);
  for (net::ConnId c = 1; c <= 3; c++) {
    auto evs = Handshake(c);
    core.Submit(evs);
  }
  out.WaitFor(3);
  core.RequestStop();
  core_thread.join();
  EXPECT_EQ(core.inline_passes(), 0);
}

// A committer whose txns become committed on its own thread, a little after
// the pass that proposed them (as a storage thread's durable write): the
// thread then calls ApplyCommitsInline, or WakeForCommits when it declines.
class ThreadCommitter final : public Committer {
 public:
  ~ThreadCommitter() override { Stop(); }
  void Start(Core* core) {
    core_ = core;
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Propose(txn::Txn txn) override {
    std::lock_guard<std::mutex> lock(mu_);
    proposed_.push_back(std::move(txn));
  }
  bool EndOfPass(bool) override {
    cv_.notify_all();
    return false;
  }
  void TakeCommitted(std::vector<txn::Txn>* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : committed_) out->push_back(std::move(t));
    committed_.clear();
  }
  int64_t LoggedThrough() const override { return last_.load(); }
  int64_t CommittedThrough() const override { return last_.load(); }
  std::thread::id thread_id() const { return thread_.get_id(); }
  int inline_applies() const { return inline_applies_.load(); }
  int wakes() const { return wakes_.load(); }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !proposed_.empty(); });
      if (stop_) return;
      lock.unlock();
      std::this_thread::sleep_for(20ms);  // "the durable write": the core goes back to sleep meanwhile
      lock.lock();
      for (auto& t : proposed_) {
        last_ = t.zxid;
        committed_.push_back(std::move(t));
      }
      proposed_.clear();
      lock.unlock();
      if (core_->ApplyCommitsInline()) {
        inline_applies_++;
      } else {
        wakes_++;
        core_->WakeForCommits();
      }
      lock.lock();
    }
  }

  Core* core_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<txn::Txn> proposed_, committed_;
  std::atomic<int64_t> last_{0};
  std::atomic<int> inline_applies_{0}, wakes_{0};
  bool stop_ = false;
  std::thread thread_;
};

// A core running on its own thread with a ThreadCommitter, and a session
// (a createSession txn) being opened on connection 1.
struct CommitterAndCore {
  explicit CommitterAndCore(bool run_to_completion, int64_t spin_us = 0)
      : core(WithSpin(Options(run_to_completion), spin_us), &committer, &out) {
    committer.Start(&core);
    committer_thread = committer.thread_id();
    core_thread = std::thread([this] { core.Run(); });
    std::this_thread::sleep_for(20ms);  // the core thread asleep
    auto hs = Handshake(1);
    core.Post(hs);
  }
  ~CommitterAndCore() { Stop(); }
  static CoreOptions WithSpin(CoreOptions o, int64_t spin_us) {
    o.spin_us = spin_us;
    return o;
  }
  void Stop() {
    if (!core_thread.joinable()) return;
    core.RequestStop();
    core_thread.join();
    committer.Stop();
  }

  ThreadCommitter committer;
  ThreadOutbox out;
  Core core;
  std::thread::id committer_thread;
  std::thread core_thread;
};

TEST(CoreRunToCompletion, CoreThatPollsForInputAnswersEverythingInOrder) {
  // CoreOptions::spin_us: with writes in flight (the committer holds each
  // group 20 ms) the core thread polls before sleeping; requests posted
  // meanwhile and the commits are taken as with a plain sleep, each
  // session's replies in order, and a stop while polling ends Run.
  CommitterAndCore t(false, 5000);
  ASSERT_EQ(t.out.WaitFor(1).size(), 1u);
  // The (xid, err) of every reply delivered so far, in order.
  auto replies = [](const std::vector<ThreadOutbox::Delivery>& got) {
    std::vector<std::pair<int32_t, int32_t>> r;
    for (size_t d = 1; d < got.size(); ++d) {
      const std::string& b = got[d].bytes;
      for (size_t at = 0; at + 20 <= b.size();) {
        r.push_back(XidErr(b.substr(at)));
        const auto* p = reinterpret_cast<const unsigned char*>(b.data() + at);
        at += 4 + ((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]);
      }
    }
    return r;
  };
  std::vector<std::pair<int32_t, int32_t>> want;
  for (int i = 0; i < 5; ++i) {
    std::vector<CoreEvent> evs = Create(1, 10 + 2 * i, "/polled" + std::to_string(i));
    t.core.Post(evs);
    std::this_thread::sleep_for(1ms);  // the core polls (the create is in flight)
    std::vector<CoreEvent> read = GetData(1, 11 + 2 * i, "/polled" + std::to_string(i));
    t.core.Post(read);  // behind the write: answered after it, with its data
    want.emplace_back(10 + 2 * i, 0);
    want.emplace_back(11 + 2 * i, 0);
    std::vector<std::pair<int32_t, int32_t>> got;
    for (int tries = 0; tries < 100 && got.size() < want.size(); ++tries) {
      got = replies(t.out.WaitFor(2 + static_cast<size_t>(i)));
      if (got.size() < want.size()) std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(got, want) << "round " << i;
  }
  std::vector<CoreEvent> last = Create(1, 99, "/polled-last");
  t.core.Post(last);
  std::this_thread::sleep_for(1ms);
  const auto stop_at = std::chrono::steady_clock::now();
  t.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 1s);
}

TEST(CoreRunToCompletion, CommitsAreAppliedOnTheCommittersThreadWhenTheCoreSleeps) {
  CommitterAndCore t(true);
  ASSERT_EQ(t.out.WaitFor(1).size(), 1u);
  // A create's commit runs on the committer's thread once the core thread
  // is back asleep; on a loaded machine it may not be yet within the
  // committer's 20 ms, so a few creates are tried.
  bool inline_reply = false;
  size_t replies = 1;
  for (int i = 0; i < 10 && !inline_reply; ++i) {
    std::vector<CoreEvent> evs = Create(1, 7 + i, "/applied-inline" + std::to_string(i));
    t.core.Post(evs);
    auto got = t.out.WaitFor(++replies);
    if (got.size() != replies) {
      ADD_FAILURE() << "no reply to create " << i;
      break;
    }
    EXPECT_EQ(XidErr(got.back().bytes), std::make_pair(7 + i, 0));
    EXPECT_TRUE(t.core.tree().Find("/applied-inline" + std::to_string(i)) != nullptr);
    inline_reply = got.back().thread == t.committer_thread;
    if (!inline_reply) std::this_thread::sleep_for(50ms);
  }
  t.Stop();
  EXPECT_TRUE(inline_reply) << "no create was applied and answered on the committer's thread";
  EXPECT_GE(t.committer.inline_applies(), 1);
}

TEST(CoreRunToCompletion, ApplyCommitsInlineDeclinesWithoutRunToCompletion) {
  CommitterAndCore t(false);
  std::vector<CoreEvent> evs = Create(1, 7, "/on-core-thread");
  t.core.Post(evs);
  auto got = t.out.WaitFor(2);
  t.Stop();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(t.committer.inline_applies(), 0);
  EXPECT_GE(t.committer.wakes(), 1);
  EXPECT_NE(got[1].thread, t.committer_thread);
  EXPECT_TRUE(t.core.tree().Find("/on-core-thread") != nullptr);
}

}  // namespace
}  // namespace aviary::server
