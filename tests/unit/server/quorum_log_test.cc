// QuorumLog, the ensemble member's storage thread: fsync tokens come back
// in order and only once what was appended before them is durable; one
// fsync covers every append queued meanwhile (group commit), and appends
// wait for the fsync that follows them; Drain hands
// the Wal back to the caller with everything written (TRUNC, DIFF); Roll
// starts a new segment after what precedes it.
#include "server/quorum_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>

#include "log_test_util.h"
#include "storage/log_range.h"

namespace aviary::server {
namespace {

using logtest::WaitFor;

using Dir = logtest::TempDir;

txn::Txn Create(int64_t zxid) { return logtest::CreateTxnAt(zxid); }

// The zxids the log's files hold after `after`.
std::vector<int64_t> Logged(const std::string& dir, int64_t after, int64_t upto) {
  storage::LogRangeReader reader;
  std::string error;
  EXPECT_TRUE(reader.Open(dir, after, upto, &error)) << error;
  std::vector<int64_t> out;
  txn::Txn t;
  while (reader.Next(&t)) out.push_back(t.zxid);
  EXPECT_EQ(reader.error(), "");
  return out;
}

size_t Segments(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/version-2")) {
    n += e.path().filename().string().rfind("log.", 0) == 0;
  }
  return n;
}

struct Fixture {
  Dir dir;
  storage::Wal wal{storage::WalOptions{dir.path, true}};
  std::atomic<int> wakes{0};
  std::deque<txn::Txn> txns;  // the caller keeps each appended txn (QuorumLog::Append): outlives `log`
  QuorumLog log{&wal, [this] { ++wakes; }};
  Fixture() {
    std::string err;
    EXPECT_TRUE(wal.Open(1, &err)) << err;
  }
  uint64_t Append(int64_t zxid) {
    txns.push_back(Create(zxid));
    return log.Append(&txns.back());
  }
  std::vector<uint64_t> WaitTokens(size_t n) {
    std::vector<uint64_t> got;
    EXPECT_TRUE(WaitFor([&] {
      log.TakeSynced(&got);
      return got.size() >= n;
    }));
    return got;
  }
};

TEST(QuorumLog, TokensInOrderOnceTheirAppendsAreDurable) {
  Fixture f;
  f.log.Start();
  for (int64_t z = 1; z <= 3; ++z) f.Append(z);
  f.log.Fsync(1);
  f.Append(4);
  f.log.Fsync(2);
  EXPECT_EQ(f.WaitTokens(2), (std::vector<uint64_t>{1, 2}));
  EXPECT_GE(f.wakes.load(), 1);
  f.log.Drain();
  EXPECT_EQ(f.wal.synced_zxid(), 4);
  EXPECT_EQ(Logged(f.dir.path, 0, 4), (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST(QuorumLog, OneFsyncCoversEveryAppendQueuedMeanwhile) {
  Fixture f;
  for (int64_t z = 1; z <= 100; ++z) {  // queued before the thread runs: one batch
    f.Append(z);
    f.log.Fsync(static_cast<uint64_t>(z));
  }
  f.log.Start();
  std::vector<uint64_t> got = f.WaitTokens(100);
  ASSERT_EQ(got.size(), 100u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], i + 1);
  EXPECT_EQ(f.log.fsyncs(), 1);
  EXPECT_EQ(f.log.appends(), 100);
}

// An append alone does not start the thread (its fsync would cover only the
// first appends of a Ready): the fsync queued after them does, and one
// fsync covers them all.
TEST(QuorumLog, AppendsWaitForTheFsyncThatFollows) {
  Fixture f;
  f.log.Start();
  for (int64_t z = 1; z <= 20; ++z) {
    f.Append(z);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(f.log.appends(), 0);
  f.log.Fsync(1);
  EXPECT_EQ(f.WaitTokens(1), std::vector<uint64_t>{1});
  EXPECT_EQ(f.log.appends(), 20);
  EXPECT_EQ(f.log.fsyncs(), 1);
  EXPECT_EQ(f.wal.synced_zxid(), 20);
}

TEST(QuorumLog, DrainHandsTheWalBackWithEverythingWritten) {
  Fixture f;
  f.log.Start();
  for (int64_t z = 1; z <= 5; ++z) f.Append(z);  // no token: Drain still syncs
  f.log.Drain();
  EXPECT_EQ(f.wal.synced_zxid(), 5);
  std::string err;
  ASSERT_TRUE(f.wal.TruncateAfter(3, f.dir.path, &err)) << err;  // as TRUNC does, on the caller's thread
  f.Append(4);
  f.log.Fsync(7);
  EXPECT_EQ(f.WaitTokens(1), std::vector<uint64_t>{7});
  f.log.Drain();
  EXPECT_EQ(Logged(f.dir.path, 0, 4), (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST(QuorumLog, RollStartsASegmentAfterWhatPrecedes) {
  Fixture f;
  f.log.Start();
  f.log.Roll(1);  // empty segment: nothing to roll
  f.log.Drain();
  EXPECT_EQ(Segments(f.dir.path), 1u);
  f.Append(1);
  f.Append(2);
  f.log.Roll(3);
  f.Append(3);
  f.log.Fsync(1);
  EXPECT_EQ(f.WaitTokens(1), std::vector<uint64_t>{1});
  f.log.Drain();
  EXPECT_EQ(Segments(f.dir.path), 2u);
  EXPECT_EQ(Logged(f.dir.path, 0, 3), (std::vector<int64_t>{1, 2, 3}));
}

// Append takes the caller's txn, not a copy: appended() tells when the
// storage thread is done with it (it counts the Appends written, in order).
TEST(QuorumLog, AppendedCountsTheTxnsTheThreadNoLongerReads) {
  Fixture f;
  EXPECT_EQ(f.Append(1), 1u);
  EXPECT_EQ(f.Append(2), 2u);
  EXPECT_EQ(f.log.appended(), 0u);  // not started: nothing read yet
  f.log.Start();
  f.log.Fsync(1);
  EXPECT_EQ(f.WaitTokens(1), std::vector<uint64_t>{1});
  EXPECT_EQ(f.log.appended(), 2u);
  f.txns.front() = txn::Txn{};  // the caller may reuse them now
  EXPECT_EQ(f.Append(3), 3u);
  f.log.Drain();
  EXPECT_EQ(f.log.appended(), 3u);
  EXPECT_EQ(Logged(f.dir.path, 0, 3), (std::vector<int64_t>{1, 2, 3}));
}

TEST(QuorumLog, StopRunsWhatIsQueued) {
  Fixture f;
  f.log.Start();
  for (int64_t z = 1; z <= 50; ++z) f.Append(z);
  f.log.Fsync(1);
  f.log.Stop();
  std::vector<uint64_t> got;
  f.log.TakeSynced(&got);
  EXPECT_EQ(got, std::vector<uint64_t>{1});
  EXPECT_EQ(f.wal.synced_zxid(), 50);
}

}  // namespace
}  // namespace aviary::server
