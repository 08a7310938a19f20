// DurableCommitter: "logged" and "committed" reported apart. Standalone, a
// txn is committed when its fsync returns (both advance together); with
// commit_on_log off (a follower) logged txns wait for CommitThrough.
// Proposals are submitted at the end of the core's pass (EndOfPass): handed
// to the storage thread, or, while the log is idle and the core has nothing
// else to do, written and fsynced on the calling thread.
#include "server/durable_committer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "log_test_util.h"
#include "storage/layout.h"

namespace aviary::server {
namespace {

using logtest::WaitFor;

using Dir = logtest::TempDir;

txn::Txn Create(int64_t zxid) { return logtest::CreateTxnAt(zxid); }

TEST(DurableCommitter, StandaloneCommitsWhatItLogs) {
  Dir dir;
  std::atomic<int> wakes{0};
  DurableCommitter c(storage::WalOptions{dir.path, false}, [&] { ++wakes; });
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  for (int64_t z = 1; z <= 3; ++z) c.Propose(Create(z));
  c.EndOfPass(/*core_idle=*/false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 3; }));
  EXPECT_EQ(c.LoggedThrough(), 3);
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].zxid, 3);
  EXPECT_GE(wakes.load(), 1);
  c.Stop();
}

TEST(DurableCommitter, FollowerLogsAndAcksThenCommitsOnCommitThrough) {
  Dir dir;
  std::atomic<int> wakes{0};
  std::atomic<int64_t> acked{0};
  DurableCommitter c(storage::WalOptions{dir.path, false}, [&] { ++wakes; });
  c.set_commit_on_log(false);
  c.set_on_logged([&](int64_t z) { acked = z; });
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  for (int64_t z = 1; z <= 4; ++z) c.Propose(Create(z));
  c.EndOfPass(/*core_idle=*/true);  // a follower's log is always the storage thread's
  ASSERT_TRUE(WaitFor([&] { return c.LoggedThrough() == 4; }));
  EXPECT_EQ(acked.load(), 4);
  EXPECT_EQ(c.CommittedThrough(), 0);
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  EXPECT_TRUE(out.empty());  // logged, not committed
  EXPECT_EQ(wakes.load(), 0);

  c.CommitThrough(2);
  EXPECT_EQ(c.CommittedThrough(), 2);
  EXPECT_EQ(wakes.load(), 1);
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].zxid, 2);

  // A commit ahead of the log: txn 5 is committed once its fsync returns.
  c.CommitThrough(5);
  out.clear();
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 2u);  // 3 and 4
  c.Propose(Create(5));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 5; }));
  EXPECT_EQ(c.LoggedThrough(), 5);
  out.clear();
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].zxid, 5);
  c.Stop();
}

// Handed to the storage thread at the end of a busy pass: committed there,
// and the core is woken.
TEST(DurableCommitter, BusyPassGoesToTheStorageThread) {
  Dir dir;
  std::atomic<int> wakes{0};
  DurableCommitter c(storage::WalOptions{dir.path, false}, [&] { ++wakes; });
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  c.Propose(Create(1));
  c.Propose(Create(2));
  EXPECT_FALSE(c.EndOfPass(false));
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 2; }));
  EXPECT_TRUE(WaitFor([&] { return wakes.load() >= 1; }));
  c.Stop();
}

// An idle log and an idle core: the group is written and fsynced on the
// calling thread, committed when EndOfPass returns, without waking anyone.
TEST(DurableCommitter, IdleCoreWritesTheGroupItself) {
  Dir dir;
  std::atomic<int> wakes{0};
  DurableCommitter c(storage::WalOptions{dir.path, true}, [&] { ++wakes; });
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  for (int round = 0; round < 3; ++round) {
    c.Propose(Create(2 * round + 1));
    c.Propose(Create(2 * round + 2));
    c.EndOfPass(/*core_idle=*/true);
    EXPECT_EQ(c.LoggedThrough(), 2 * round + 2);
    EXPECT_EQ(c.CommittedThrough(), 2 * round + 2);
    std::vector<txn::Txn> out;
    c.TakeCommitted(&out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].zxid, 2 * round + 1);
    EXPECT_EQ(out[1].zxid, 2 * round + 2);
  }
  EXPECT_EQ(wakes.load(), 0);
  // A roll between groups, then a group handed to the storage thread: the
  // log stays one sequence.
  c.RequestRoll(7);
  c.Propose(Create(7));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 7; }));
  c.Propose(Create(8));
  c.EndOfPass(true);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 8; }));
  c.Stop();
  EXPECT_TRUE(std::filesystem::exists(storage::VersionDir(dir.path) + "/" + storage::SegmentName(7)));
}

// A failed fsync on the core's own group: nothing of it is committed, the
// stage is read-only, later proposals are dropped.
TEST(DurableCommitter, IdleCoreSyncFailureCommitsNothing) {
  Dir dir;
  setenv("AVIARY_FAILPOINT", "wal_sync_eio", 1);  // every Sync (not the segment header's)
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  unsetenv("AVIARY_FAILPOINT");
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  c.Propose(Create(1));
  c.EndOfPass(true);
  EXPECT_TRUE(c.ReadOnly());
  EXPECT_EQ(c.CommittedThrough(), 0);
  c.Propose(Create(2));
  c.EndOfPass(true);
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  EXPECT_TRUE(out.empty());
  c.Stop();
}

}  // namespace
}  // namespace aviary::server
