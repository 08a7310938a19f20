// DurableCommitter: "logged" and "committed" reported apart. Standalone, a
// txn is committed when its fsync returns (both advance together); with
// commit_on_log off (a follower) logged txns wait for CommitThrough.
#include "server/durable_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "log_test_util.h"

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
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 5; }));
  EXPECT_EQ(c.LoggedThrough(), 5);
  out.clear();
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].zxid, 5);
  c.Stop();
}

}  // namespace
}  // namespace aviary::server
