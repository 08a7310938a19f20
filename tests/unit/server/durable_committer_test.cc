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
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "log_test_util.h"
#include "server/latency_trace.h"
#include "storage/layout.h"
#include "storage/wal_reader.h"

namespace aviary::server {
namespace {

using logtest::WaitFor;

using Dir = logtest::TempDir;

txn::Txn Create(int64_t zxid) { return logtest::CreateTxnAt(zxid); }

// A txn of session `session` (the linger counts the sessions that write).
txn::Txn CreateBy(int64_t zxid, int64_t session) {
  txn::Txn t = logtest::CreateTxnAt(zxid);
  t.session_id = session;
  return t;
}

// Writes txns 1-3 from sessions 11, 12 and 13 as one group and waits until
// they are committed: three sessions have written recently (GroupLinger).
void WriteThreeSessions(DurableCommitter& c) {
  for (int64_t z = 1; z <= 3; ++z) c.Propose(CreateBy(z, 10 + z));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 3; }));
}

// Starts `c`, submits txns 1-2 as one group and, once the write hook says
// that group was taken (first_taken), txn 3 as the next.
void StartWithTwoGroups(DurableCommitter& c, const std::atomic<bool>& first_taken) {
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  c.Propose(Create(1));
  c.Propose(Create(2));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return first_taken.load(); }));
  c.Propose(Create(3));
  c.EndOfPass(false);
}

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

// Two groups in flight: what the log holds, read back (zxids in order, and
// where the data ends).
std::vector<int64_t> LoggedZxids(const std::string& dir, int64_t first) {
  storage::SegmentReader r;
  std::string err;
  EXPECT_TRUE(r.Open(storage::VersionDir(dir) + "/" + storage::SegmentName(first), &err)) << err;
  std::vector<int64_t> out;
  storage::SegmentRecord rec;
  while (r.Next(&rec)) out.push_back(rec.txn.zxid);
  EXPECT_EQ(r.end(), storage::SegmentEnd::kClean) << r.bad_reason();
  return out;
}

// Takes the committed txns (1..n in order, nothing else), stops `c`, and
// checks the log holds exactly 1..n.
void ExpectCommittedAndLogged(DurableCommitter& c, const std::string& dir, int64_t n) {
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), static_cast<size_t>(n));
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].zxid, static_cast<int64_t>(i) + 1);
  c.Stop();
  std::vector<int64_t> want;
  for (int64_t z = 1; z <= n; ++z) want.push_back(z);
  EXPECT_EQ(LoggedZxids(dir, 1), want);
}

// Early replies (set_early_reply_sink): each reply of ProposeWithReply goes
// to the sink once its txn is durable and before the txn is handed back
// (TakeCommitted has not returned it, CommittedThrough has reached it when
// the sink runs), one Out per
// connection per group, every connection's replies in zxid order; the txns
// come back marked replied, those proposed without one not. With one group
// in flight, two, and groups the core thread writes itself (core idle).
TEST(DurableCommitterEarly, RepliesGoOutDurableInOrderBeforeTheTxnsComeBack) {
  for (int mode = 0; mode < 3; ++mode) {
    Dir dir;
    DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
    if (mode == 1) c.set_max_groups_in_flight(2);
    std::map<uint64_t, int64_t> last;  // connection -> last zxid replied
    std::atomic<int> early_before{0}, outs{0}, not_first{0};
    std::atomic<int64_t> taken{0};  // the last zxid TakeCommitted handed back
    int64_t sent = 0;
    c.set_early_reply_sink([&](std::vector<net::ConnectionServer::Out>& batch) {
      std::set<uint64_t> conns;
      for (auto& o : batch) {
        if (!conns.insert(o.conn).second) ++not_first;  // two Outs for one connection
        ++outs;
        ASSERT_EQ(o.bytes.size() % 8, 0u);
        for (size_t at = 0; at < o.bytes.size(); at += 8) {
          int64_t z = 0;
          std::memcpy(&z, o.bytes.data() + at, 8);
          if (z <= taken.load()) ++early_before;
          if (z > c.CommittedThrough()) ++early_before;  // CommittedThrough moves first (Core::HoldSync)
          EXPECT_GT(z, last[o.conn]) << "connection " << o.conn;
          last[o.conn] = z;
          ++sent;
        }
      }
    });
    EXPECT_TRUE(c.early_replies());
    std::string err;
    ASSERT_TRUE(c.Start(1, &err)) << err;
    std::vector<txn::Txn> out;
    int64_t z = 0, with_reply = 0;
    for (int pass = 0; pass < 150; ++pass) {
      for (int i = 0; i < 1 + pass % 5; ++i) {
        ++z;
        if (z % 4 == 0) {
          c.Propose(Create(z));  // no reply
          continue;
        }
        EarlyReply r;
        r.conn = 1 + static_cast<uint64_t>(z % 3);
        r.size = 8;
        std::memcpy(r.bytes.data(), &z, 8);
        c.ProposeWithReply(Create(z), r);
        ++with_reply;
      }
      if (pass == 70) c.RequestRoll(z + 1);
      c.EndOfPass(/*core_idle=*/mode == 2);
      c.TakeCommitted(&out);
      if (!out.empty()) taken.store(out.back().zxid);
    }
    // CommittedThrough moves before the replies go out, the txns come back
    // after them.
    ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == z; }));
    ASSERT_TRUE(WaitFor([&] {
      c.TakeCommitted(&out);
      return out.size() >= static_cast<size_t>(z);
    }));
    c.Stop();
    ASSERT_EQ(out.size(), static_cast<size_t>(z)) << "mode " << mode;
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i].zxid, static_cast<int64_t>(i) + 1);
      EXPECT_EQ(out[i].replied, out[i].zxid % 4 != 0) << "zxid " << out[i].zxid;
    }
    EXPECT_EQ(sent, with_reply) << "mode " << mode;
    EXPECT_EQ(c.early_replies_sent(), with_reply);
    EXPECT_EQ(early_before.load(), 0) << "a reply went out after its txn was handed back";
    EXPECT_EQ(not_first.load(), 0);
    EXPECT_LT(outs.load(), with_reply) << "a group's replies to one connection share an Out";
  }
}

// The early replies are sent outside the log's lock: while the sink is busy
// with group 1 the core still submits the next group
// (EndOfPass returns) and the other storage thread (two groups in flight)
// makes it durable; its replies wait for group 1's to finish, and no txn
// comes back to the core before its replies went out.
TEST(DurableCommitterEarly, SendsOutsideTheLockInReleaseOrder) {
  for (int groups : {1, 2}) {
    Dir dir;
    DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
    c.set_max_groups_in_flight(groups);
    std::mutex m;
    std::condition_variable cv;
    bool go = false;
    std::vector<int64_t> sent;  // zxids, in the order the sink saw them
    std::atomic<int> calls{0};
    c.set_early_reply_sink([&](std::vector<net::ConnectionServer::Out>& batch) {
      std::unique_lock<std::mutex> lock(m);
      for (auto& o : batch) {
        for (size_t at = 0; at < o.bytes.size(); at += 8) {
          int64_t z = 0;
          std::memcpy(&z, o.bytes.data() + at, 8);
          sent.push_back(z);
        }
      }
      ++calls;
      cv.wait(lock, [&] { return go; });  // held until the test lets it go
    });
    std::string err;
    ASSERT_TRUE(c.Start(1, &err)) << err;
    auto propose = [&](int64_t z) {
      EarlyReply r;
      r.conn = 7;
      r.size = 8;
      std::memcpy(r.bytes.data(), &z, 8);
      c.ProposeWithReply(Create(z), r);
    };
    propose(1);
    c.EndOfPass(false);
    ASSERT_TRUE(WaitFor([&] { return calls.load() == 1; }));  // the sink holds group 1
    EXPECT_EQ(c.CommittedThrough(), 1);
    // The log's lock is free: the next group is submitted (EndOfPass
    // returns) and, with a second storage thread, made durable.
    propose(2);
    propose(3);
    c.EndOfPass(false);
    if (groups == 2) {
      ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 3; }));
    }
    std::vector<txn::Txn> out;
    c.TakeCommitted(&out);
    EXPECT_TRUE(out.empty()) << "txns came back before their replies were sent";
    {
      std::lock_guard<std::mutex> lock(m);
      EXPECT_EQ(sent, std::vector<int64_t>{1});
      go = true;
    }
    cv.notify_all();
    ASSERT_TRUE(WaitFor([&] {
      c.TakeCommitted(&out);
      return out.size() == 3;
    }));
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].zxid, static_cast<int64_t>(i) + 1);
      EXPECT_TRUE(out[i].replied);
    }
    c.Stop();
    std::lock_guard<std::mutex> lock(m);
    EXPECT_EQ(sent, (std::vector<int64_t>{1, 2, 3}));
  }
}

// Without a sink, or as a follower (commit_on_log off), nothing is sent
// early: the replies are dropped and the core answers as for any txn.
TEST(DurableCommitterEarly, OffWithoutASinkOrAsAFollower) {
  Dir dir;
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  EXPECT_FALSE(c.early_replies());
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  EarlyReply r;
  r.conn = 1;
  r.size = 8;
  c.ProposeWithReply(Create(1), r);
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 1; }));
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].replied);
  c.Stop();

  Dir dir2;
  DurableCommitter f(storage::WalOptions{dir2.path, true}, [] {});
  f.set_commit_on_log(false);
  f.set_early_reply_sink([](std::vector<net::ConnectionServer::Out>&) { ADD_FAILURE() << "a follower sent early"; });
  EXPECT_FALSE(f.early_replies());
}

// Many passes' groups through two storage threads: every txn committed
// once, in zxid order, and the log holds them all in order.
TEST(DurableCommitterInFlight, CommitsEverythingInOrder) {
  Dir dir;
  std::atomic<int> wakes{0};
  DurableCommitter c(storage::WalOptions{dir.path, true}, [&] { ++wakes; });
  c.set_max_groups_in_flight(2);
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  std::vector<txn::Txn> out;
  int64_t z = 0;
  for (int pass = 0; pass < 200; ++pass) {
    for (int i = 0; i < 1 + pass % 7; ++i) c.Propose(Create(++z));
    if (pass == 100) c.RequestRoll(z + 1);  // waits for the groups in flight
    c.EndOfPass(/*core_idle=*/false);
    c.TakeCommitted(&out);
  }
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == z; }));
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), static_cast<size_t>(z));
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i].zxid, static_cast<int64_t>(i) + 1);
  EXPECT_FALSE(c.ReadOnly());
  c.Stop();
  const int64_t roll_at = 1 + [] {
    int64_t n = 0;
    for (int pass = 0; pass <= 100; ++pass) n += 1 + pass % 7;
    return n;
  }();
  std::vector<int64_t> logged = LoggedZxids(dir.path, 1);
  const std::vector<int64_t> second = LoggedZxids(dir.path, roll_at);
  logged.insert(logged.end(), second.begin(), second.end());
  ASSERT_EQ(logged.size(), static_cast<size_t>(z));
  for (size_t i = 0; i < logged.size(); ++i) ASSERT_EQ(logged[i], static_cast<int64_t>(i) + 1);
}

// Group 2 becomes durable while group 1's write is held back: nothing of
// group 2 is committed before group 1 is durable, then both are, in order.
TEST(DurableCommitterInFlight, LaterGroupWaitsForTheEarlierOne) {
  Dir dir;
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  c.set_max_groups_in_flight(2);
  std::atomic<bool> first_taken{false}, second_written{false}, checked{false};
  std::atomic<int64_t> committed_meanwhile{-1};
  c.set_group_write_hook([&](int64_t seq, bool written) {
    if (seq == 1 && !written) {
      first_taken = true;
      // Held until group 2 is durable.
      if (WaitFor([&] { return second_written.load(); })) committed_meanwhile = c.CommittedThrough();
      checked = true;
    }
    if (seq == 2 && written) second_written = true;
  });
  ASSERT_NO_FATAL_FAILURE(StartWithTwoGroups(c, first_taken));
  ASSERT_TRUE(WaitFor([&] { return checked.load(); }));
  EXPECT_EQ(committed_meanwhile.load(), 0) << "group 2 committed before group 1 was durable";
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 3; }));
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].zxid, 1);
  EXPECT_EQ(out[2].zxid, 3);
  c.Stop();
  EXPECT_EQ(LoggedZxids(dir.path, 1), (std::vector<int64_t>{1, 2, 3}));
}

// Three groups in flight (AVIARY_WAL_GROUPS_IN_FLIGHT=3): groups 2 and 3
// are written while group 1's write is held back; nothing is committed
// before group 1 is durable, then all three are, in order; and many passes
// through three storage threads commit and log every txn once, in order.
TEST(DurableCommitterInFlight, ThreeGroupsReleaseInOrder) {
  Dir dir;
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  c.set_max_groups_in_flight(3);
  std::atomic<bool> first_taken{false}, second_taken{false}, third_written{false}, checked{false};
  std::atomic<int64_t> committed_meanwhile{-1};
  c.set_group_write_hook([&](int64_t seq, bool written) {
    if (seq == 1 && !written) {
      first_taken = true;
      if (WaitFor([&] { return third_written.load(); })) committed_meanwhile = c.CommittedThrough();
      checked = true;
    }
    if (seq == 2 && !written) second_taken = true;
    if (seq == 3 && written) third_written = true;
  });
  ASSERT_NO_FATAL_FAILURE(StartWithTwoGroups(c, first_taken));
  ASSERT_TRUE(WaitFor([&] { return second_taken.load(); }));
  c.Propose(Create(4));
  c.Propose(Create(5));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return checked.load(); }));
  EXPECT_EQ(committed_meanwhile.load(), 0) << "a later group committed before group 1 was durable";
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 5; }));
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 5u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].zxid, static_cast<int64_t>(i) + 1);
  c.Stop();
  EXPECT_EQ(LoggedZxids(dir.path, 1), (std::vector<int64_t>{1, 2, 3, 4, 5}));

  Dir dir2;
  DurableCommitter many(storage::WalOptions{dir2.path, true}, [] {});
  many.set_max_groups_in_flight(3);
  std::string err;
  ASSERT_TRUE(many.Start(1, &err)) << err;
  int64_t z = 0;
  out.clear();
  for (int pass = 0; pass < 300; ++pass) {
    for (int i = 0; i < 1 + pass % 5; ++i) many.Propose(Create(++z));
    many.EndOfPass(/*core_idle=*/false);
    many.TakeCommitted(&out);
  }
  ASSERT_TRUE(WaitFor([&] { return many.CommittedThrough() == z; }));
  many.TakeCommitted(&out);
  ASSERT_EQ(out.size(), static_cast<size_t>(z));
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i].zxid, static_cast<int64_t>(i) + 1);
  many.Stop();
  const std::vector<int64_t> logged = LoggedZxids(dir2.path, 1);
  ASSERT_EQ(logged.size(), static_cast<size_t>(z));
  for (size_t i = 0; i < logged.size(); ++i) ASSERT_EQ(logged[i], static_cast<int64_t>(i) + 1);
}

// The first of two groups in flight fails after the second became durable:
// nothing is committed, the stage is read-only, and the log is cut back to
// before group 1 - group 2's durable records are gone too, so they cannot
// replay (they were never acknowledged).
TEST(DurableCommitterInFlight, EarlierGroupFailsAfterTheLaterIsDurable) {
  Dir dir;
  setenv("AVIARY_FAILPOINT", "wal_group_eio_at:1", 1);
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  unsetenv("AVIARY_FAILPOINT");
  c.set_max_groups_in_flight(2);
  std::atomic<bool> first_taken{false}, second_written{false};
  c.set_group_write_hook([&](int64_t seq, bool written) {
    if (seq == 1 && !written) {
      first_taken = true;
      WaitFor([&] { return second_written.load(); });
    }
    if (seq == 2 && written) second_written = true;
  });
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  c.Propose(Create(1));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return first_taken.load(); }));
  c.Propose(Create(2));
  c.Propose(Create(3));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.ReadOnly(); }));
  EXPECT_TRUE(second_written.load());
  EXPECT_EQ(c.CommittedThrough(), 0);
  EXPECT_EQ(c.UnknownThrough(), 0);  // the cut back worked: nothing's outcome is unknown
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  EXPECT_TRUE(out.empty());
  c.Propose(Create(4));  // dropped
  c.EndOfPass(false);
  c.Stop();
  EXPECT_TRUE(LoggedZxids(dir.path, 1).empty());
}

// The second group fails first, then the first one becomes durable: the
// first is still committed (everything up to it is on disk), the second
// is not, and the log is cut back to the end of the first.
TEST(DurableCommitterInFlight, LaterGroupFailsEarlierStaysCommitted) {
  Dir dir;
  setenv("AVIARY_FAILPOINT", "wal_group_eio_at:2", 1);
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  unsetenv("AVIARY_FAILPOINT");
  c.set_max_groups_in_flight(2);
  std::atomic<bool> first_taken{false}, second_done{false};
  c.set_group_write_hook([&](int64_t seq, bool written) {
    if (seq == 1 && !written) {
      first_taken = true;
      WaitFor([&] { return second_done.load(); });  // group 2 fails first
    }
    if (seq == 2 && written) second_done = true;
  });
  ASSERT_NO_FATAL_FAILURE(StartWithTwoGroups(c, first_taken));
  ASSERT_TRUE(WaitFor([&] { return c.ReadOnly(); }));
  EXPECT_TRUE(second_done.load());
  // Group 1 is txns 1-2, or only 1 when a storage thread took the queue
  // between the two Proposes (a busy machine): either way it is committed
  // and nothing after it.
  const int64_t first_end = c.CommittedThrough();
  EXPECT_TRUE(first_end == 1 || first_end == 2) << first_end;
  EXPECT_EQ(c.UnknownThrough(), first_end);
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), static_cast<size_t>(first_end));
  EXPECT_EQ(out.back().zxid, first_end);
  c.Stop();
  std::vector<int64_t> logged;
  for (int64_t z = 1; z <= first_end; ++z) logged.push_back(z);
  EXPECT_EQ(LoggedZxids(dir.path, 1), logged);
}

// With a threshold, a group smaller than it waits for the group in flight;
// once enough txns wait, the next group starts beside it.
TEST(DurableCommitterInFlight, SmallGroupWaitsForTheOneInFlight) {
  Dir dir;
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  c.set_max_groups_in_flight(2);
  c.set_min_overlapped_group(3);
  std::atomic<bool> first_taken{false}, release{false}, second_started{false};
  c.set_group_write_hook([&](int64_t seq, bool written) {
    if (seq == 1 && !written) {
      first_taken = true;
      WaitFor([&] { return release.load(); });
    }
    if (seq == 2 && !written) second_started = true;
  });
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  c.Propose(Create(1));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return first_taken.load(); }));
  c.Propose(Create(2));
  c.EndOfPass(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(second_started.load()) << "a group of 1 started beside the one in flight";
  c.Propose(Create(3));
  c.Propose(Create(4));
  c.EndOfPass(false);
  EXPECT_TRUE(WaitFor([&] { return second_started.load(); }));  // 3 wait: it starts while group 1 is held
  EXPECT_EQ(c.CommittedThrough(), 0);
  release = true;
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 4; }));
  ExpectCommittedAndLogged(c, dir.path, 4);
}

// GroupLinger::Plan: when a small group may wait for more, and how long.
TEST(GroupLinger, LingersOnlyAfterASmallGroupWithOthersWriting) {
  // cap 1000 us, factor 2, min group 32: 4 written, 3 waiting, a 300 us
  // write, 5 sessions in them of 16 that wrote recently.
  EXPECT_EQ(GroupLinger::Plan(1000, 2, 32, 4, 3, 300, 5, 16), 600);
  EXPECT_EQ(GroupLinger::Plan(1000, 2, 32, 4, 3, 800, 5, 16), 1000) << "capped";
  EXPECT_EQ(GroupLinger::Plan(1000, 0, 32, 4, 3, 300, 5, 16), 1000) << "no bound by the write";
  EXPECT_EQ(GroupLinger::Plan(0, 2, 32, 4, 3, 300, 5, 16), 0) << "off";
  EXPECT_EQ(GroupLinger::Plan(1000, 2, 32, 4, 0, 300, 5, 16), 0) << "nothing waiting: a lone write";
  EXPECT_EQ(GroupLinger::Plan(1000, 2, 32, 32, 3, 300, 5, 16), 0) << "a large group: saturation";
  EXPECT_EQ(GroupLinger::Plan(1000, 2, 32, 8, 8, 300, 16, 16), 0) << "every writer is in them: a closed loop";
  EXPECT_EQ(GroupLinger::Plan(1000, 2, 32, 1, 1, 300, 1, 1), 0) << "one session pipelining its writes";
}

// The linger tests' setup: a committer with groups in flight whose first
// group written once armed (txn 4, session 11) is held until released, so
// that the txns proposed meanwhile wait: its write then returns with them
// waiting and the next group's linger is planned.
struct HeldWrite {
  Dir dir;
  std::atomic<bool> armed{false}, taken{false}, release{false};
  std::atomic<int64_t> held{0};                         // the seq of the group held
  std::atomic<int64_t> started{0};                      // the seq of the last group whose write started
  std::function<void(int64_t seq, bool written)> also;  // a test's own checks, called first
  // Last: it stops (its threads call the hook) before the rest goes.
  DurableCommitter c{storage::WalOptions{dir.path, true}, [] {}};

  HeldWrite(size_t min_group, int64_t linger_us) {
    c.set_max_groups_in_flight(2);
    c.set_min_overlapped_group(min_group);
    c.set_group_linger_us(linger_us, 0);
    c.set_group_write_hook([this](int64_t seq, bool written) {
      if (also) also(seq, written);
      if (!written) started = seq;
      if (!written && armed && held == 0) {
        held = seq;
        taken = true;
        WaitFor([&] { return release.load(); });
      }
    });
  }
  // Starts, writes txns 1-3 (sessions 11-13), holds txn 4's group and,
  // while it is held, proposes one txn (zxids 5, 6, ...) for each of
  // `sessions`; then releases it.
  void Run(const std::vector<int64_t>& sessions) {
    std::string err;
    ASSERT_TRUE(c.Start(1, &err)) << err;
    WriteThreeSessions(c);
    armed = true;
    c.Propose(CreateBy(4, 11));
    c.EndOfPass(false);
    ASSERT_TRUE(WaitFor([&] { return taken.load(); }));
    int64_t zxid = 5;
    for (int64_t session : sessions) c.Propose(CreateBy(zxid++, session));
    c.EndOfPass(false);
    release = true;
  }
};

// Linger (set_group_linger_us): a small group's write that returns with
// txns waiting, while other sessions write too, lets the next small group
// wait for more, up to the linger; a group that reaches
// min_overlapped_group starts at once.
TEST(DurableCommitterInFlight, LingeringGroupStartsOnceLargeEnough) {
  HeldWrite h(4, 60'000'000);  // a minute: only the group's size can start it here
  DurableCommitter& c = h.c;
  ASSERT_NO_FATAL_FAILURE(h.Run({12}));  // txn 5 arrives during group 2's write: a steady stream
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 4; }));
  c.Propose(CreateBy(6, 11));
  c.EndOfPass(true);  // an idle core does not write a lingering group itself either
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(h.started.load(), h.held.load()) << "a group of 2 did not linger";
  EXPECT_EQ(c.CommittedThrough(), 4);
  c.Propose(CreateBy(7, 12));
  c.Propose(CreateBy(8, 13));
  c.EndOfPass(false);  // 4 wait: the group starts now
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 8; }));
  EXPECT_EQ(h.started.load(), h.held.load() + 1);
  ExpectCommittedAndLogged(c, h.dir.path, 8);
}

// A lingering group starts as soon as each recent writer that had no txn
// in the group just written or the queue has sent one (in a closed loop:
// the sessions whose replies were on their way), long before the linger.
TEST(DurableCommitterInFlight, LingerEndsOnceTheOtherWritersSent) {
  HeldWrite h(32, 60'000'000);  // a minute: only the writers can end it here
  DurableCommitter& c = h.c;
  ASSERT_NO_FATAL_FAILURE(h.Run({12}));  // session 13 is the one missing
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 4; }));
  c.Propose(CreateBy(6, 11));  // not the missing writer: still lingering
  c.EndOfPass(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(h.started.load(), h.held.load()) << "the group did not linger";
  EXPECT_EQ(c.CommittedThrough(), 4);
  c.Propose(CreateBy(7, 13));  // the last recent writer: the group starts now
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 7; }, 10'000));
  EXPECT_EQ(h.started.load(), h.held.load() + 1) << "one group of 5, 6 and 7";
  ExpectCommittedAndLogged(c, h.dir.path, 7);
}

// When every session that wrote recently has a txn in the group just
// written or in the queue (a closed loop), the next group does not linger.
TEST(DurableCommitterInFlight, NoLingerWhenEveryWriterIsWaiting) {
  HeldWrite h(32, 60'000'000);
  // Sessions 11 (written), 12 and 13 (waiting): all three writers.
  ASSERT_NO_FATAL_FAILURE(h.Run({12, 13}));
  EXPECT_TRUE(WaitFor([&] { return h.c.CommittedThrough() == 6; }, 10'000));
  h.c.Stop();
  EXPECT_EQ(LoggedZxids(h.dir.path, 1), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

// A lingering group starts by itself once the linger since the previous
// write's end is over, and no sooner.
TEST(DurableCommitterInFlight, LingerEndsAfterItsTime) {
  constexpr int64_t kLingerUs = 200'000;
  std::atomic<int64_t> second_end_us{0}, third_start_us{0};  // before h: its hook uses them until it stops
  const auto now_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  HeldWrite h(32, kLingerUs);
  h.also = [&](int64_t seq, bool written) {
    if (seq == h.held && written) second_end_us = now_us();
    if (h.held != 0 && seq == h.held + 1 && !written) third_start_us = now_us();
  };
  ASSERT_NO_FATAL_FAILURE(h.Run({12}));
  ASSERT_TRUE(WaitFor([&] { return h.c.CommittedThrough() == 5; }));
  EXPECT_GE(third_start_us.load() - second_end_us.load(), kLingerUs - 1000);  // the clocks are read apart
  h.c.Stop();
  EXPECT_EQ(LoggedZxids(h.dir.path, 1), (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

// A write that returns with nothing waiting (a lone request) sets no
// linger: the next txn's group starts at once.
TEST(DurableCommitterInFlight, NoLingerAfterAWriteWithNothingWaiting) {
  Dir dir;
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  c.set_max_groups_in_flight(2);
  c.set_group_linger_us(60'000'000, 0);
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  WriteThreeSessions(c);
  c.Propose(CreateBy(4, 11));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 4; }));
  c.Propose(CreateBy(5, 12));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 5; }));
  c.Propose(CreateBy(6, 13));
  EXPECT_TRUE(c.EndOfPass(true));  // idle core, idle log: written inline
  EXPECT_EQ(c.CommittedThrough(), 6);
  c.Stop();
  EXPECT_EQ(LoggedZxids(dir.path, 1), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

// Stop does not wait out a linger: what is queued is written and the
// threads end.
TEST(DurableCommitterInFlight, StopDoesNotWaitOutALinger) {
  HeldWrite h(32, 60'000'000);
  ASSERT_NO_FATAL_FAILURE(h.Run({12}));
  ASSERT_TRUE(WaitFor([&] { return h.c.CommittedThrough() == 4; }));
  const auto t0 = std::chrono::steady_clock::now();
  h.c.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  EXPECT_EQ(h.c.CommittedThrough(), 5);
  EXPECT_EQ(LoggedZxids(h.dir.path, 1), (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

// set_overlap_after_us: a small group starts beside a write in flight
// once that write has run long enough (checked at EndOfPass), and still is
// committed only after it.
TEST(DurableCommitterInFlight, SmallGroupStartsBesideAStalledWrite) {
  Dir dir;
  DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
  c.set_max_groups_in_flight(2);
  c.set_min_overlapped_group(32);
  c.set_overlap_after_us(300'000);
  std::atomic<bool> first_taken{false}, release{false}, second_started{false};
  c.set_group_write_hook([&](int64_t seq, bool written) {
    if (seq == 1 && !written) {
      first_taken = true;
      WaitFor([&] { return release.load(); });
    }
    if (seq == 2 && !written) second_started = true;
  });
  std::string err;
  ASSERT_TRUE(c.Start(1, &err)) << err;
  const auto t0 = std::chrono::steady_clock::now();
  c.Propose(Create(1));
  c.EndOfPass(false);
  ASSERT_TRUE(WaitFor([&] { return first_taken.load(); }));
  c.Propose(Create(2));
  c.EndOfPass(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(250)) {
    EXPECT_FALSE(second_started.load()) << "a group of 1 started beside a young write";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c.Propose(Create(3));
  c.EndOfPass(false);  // group 1 has run > 300 ms: txns 2-3 start beside it
  ASSERT_TRUE(WaitFor([&] { return second_started.load(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(c.CommittedThrough(), 0);  // group 2 waits for group 1
  release = true;
  ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 3; }));
  std::vector<txn::Txn> out;
  c.TakeCommitted(&out);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].zxid, static_cast<int64_t>(i) + 1);
  c.Stop();
  EXPECT_EQ(LoggedZxids(dir.path, 1), (std::vector<int64_t>{1, 2, 3}));
}

// The latency trace's write split: every txn gets all its marks, on the
// core's own group and on the groups in flight, so its reply is split.
TEST(DurableCommitterTrace, EveryTxnGetsAllItsMarks) {
  for (const int in_flight : {1, 2}) {
    SCOPED_TRACE(in_flight);
    trace::ResetForTest(true);
    Dir dir;
    DurableCommitter c(storage::WalOptions{dir.path, true}, [] {});
    c.set_max_groups_in_flight(in_flight);
    std::string err;
    ASSERT_TRUE(c.Start(1, &err)) << err;
    const int64_t r = trace::NowUs();
    c.Propose(Create(1));
    c.EndOfPass(/*core_idle=*/true);  // the core's own group
    c.Propose(Create(2));
    c.Propose(Create(3));
    c.EndOfPass(/*core_idle=*/false);  // a storage thread's
    ASSERT_TRUE(WaitFor([&] { return c.CommittedThrough() == 3; }));
    std::vector<txn::Txn> out;
    c.TakeCommitted(&out);
    ASSERT_EQ(out.size(), 3u);
    for (int64_t z = 1; z <= 3; ++z) trace::WriteReplied(z, r, trace::NowUs());
    trace::WritesDelivered(trace::NowUs());
    EXPECT_EQ(trace::Count(trace::kWTotal), 3);
    EXPECT_EQ(trace::Count(trace::kWWrite), 3);
    c.Stop();
  }
  trace::ResetForTest(false);
}

}  // namespace
}  // namespace aviary::server
