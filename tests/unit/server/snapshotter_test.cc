// Snapshotter's forked child: a child that hangs is killed at its deadline
// and one that dies leaves no temporary file; either way the next snapshot
// starts and completes (AVIARY_FAILPOINT=snapshot_child_hang / _die).
#include "server/snapshotter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/layout.h"
#include "storage/recovery.h"
#include "storage/snapshot_reader.h"

namespace aviary::server {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/aviary_snapshotter_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Files(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  const std::string v = storage::VersionDir(dir);
  if (!fs::exists(v)) return out;
  for (const auto& e : fs::directory_iterator(v)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(name);
    }
  }
  return out;
}

void FillTree(tree::DataTree* t) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(t->CreateNode("/n" + std::to_string(i), std::string(100, 'x'),
                            {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}, tree::NodeKind::kPersistent,
                            0, 0, i + 1, i + 1, 1000, false),
              proto::Err::kOk);
  }
}

// Reaps until the child is gone or `limit_ms` passed; returns the elapsed ms.
int64_t ReapUntilIdle(Snapshotter& s, int64_t limit_ms) {
  const int64_t start = NowMs();
  while (s.Busy() && NowMs() - start < limit_ms) {
    s.Reap();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return NowMs() - start;
}

// The next snapshot after a failed child is written and verifies.
void NextSnapshotWorks(Snapshotter& s, const tree::DataTree& t, const std::string& dir, int64_t zxid) {
  ASSERT_TRUE(s.Fork(t, zxid, {}));
  ReapUntilIdle(s, 10000);
  ASSERT_FALSE(s.Busy());
  const std::string path = storage::VersionDir(dir) + "/" + storage::SnapshotName(zxid);
  std::string err;
  EXPECT_TRUE(storage::VerifySnapshotFile(path, &err)) << err;
  EXPECT_TRUE(Files(dir, ".tmp").empty());
}

TEST(Snapshotter, HungChildIsKilledAtItsDeadlineAndItsTmpRemoved) {
  TempDir d;
  tree::DataTree t;
  FillTree(&t);
  Snapshotter s(d.path(), d.path(), 3, /*child_timeout_ms=*/300);
  setenv("AVIARY_FAILPOINT", "snapshot_child_hang", 1);
  ASSERT_TRUE(s.Fork(t, 5, {}));
  unsetenv("AVIARY_FAILPOINT");
  // The child has begun its file and then hangs.
  const int64_t start = NowMs();
  while (Files(d.path(), ".tmp").empty() && NowMs() - start < 5000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(Files(d.path(), ".tmp").size(), 1u);
  EXPECT_TRUE(s.Busy());
  const int64_t waited = ReapUntilIdle(s, 5000);
  EXPECT_FALSE(s.Busy()) << "a hung snapshot child was never killed";
  EXPECT_LT(waited, 3000);
  EXPECT_TRUE(Files(d.path(), ".tmp").empty()) << "the killed child's temporary file is left behind";
  EXPECT_TRUE(storage::ListSnapshots(d.path()).empty());
  // The next child gets a deadline a loaded machine cannot miss (an ASan
  // child on a busy CI machine took more than 300 ms for 50 znodes).
  s.set_child_timeout_ms(60000);
  NextSnapshotWorks(s, t, d.path(), 6);
}

TEST(Snapshotter, DeadChildLeavesNoTmpAndNextSnapshotStarts) {
  TempDir d;
  tree::DataTree t;
  FillTree(&t);
  Snapshotter s(d.path(), d.path(), 3, 60000);
  setenv("AVIARY_FAILPOINT", "wal_sync_eio_after:9,snapshot_child_die", 1);
  ASSERT_TRUE(s.Fork(t, 5, {}));
  unsetenv("AVIARY_FAILPOINT");
  ReapUntilIdle(s, 5000);
  EXPECT_FALSE(s.Busy());
  EXPECT_TRUE(Files(d.path(), ".tmp").empty()) << "the dead child's temporary file is left behind";
  NextSnapshotWorks(s, t, d.path(), 6);
}

TEST(Snapshotter, StaleTmpRemovedAtStartup) {
  // What a server killed with -9 while its child wrote leaves behind.
  TempDir d;
  fs::create_directories(storage::VersionDir(d.path()));
  const std::string tmp = storage::VersionDir(d.path()) + "/" + storage::SnapshotName(5) + ".tmp";
  {
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("partial", f);
    std::fclose(f);
  }
  storage::RecoveryOptions o;
  o.snap_dir = o.log_dir = d.path();
  tree::DataTree fresh;
  const storage::RecoveryResult r = storage::Recover(o, &fresh);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(Files(d.path(), ".tmp").empty());
}

// The snapshot thread is named "av-snapshot" (top -H, perf), and a fuzzy
// snapshot handed to it block by block completes and verifies.
TEST(Snapshotter, NamedThreadWritesAFuzzySnapshot) {
  TempDir d;
  tree::DataTree t;
  FillTree(&t);
  Snapshotter s(d.path(), d.path(), 3);
  bool named = false;
  const int64_t start = NowMs();
  while (!named && NowMs() - start < 5000) {
    for (const auto& e : fs::directory_iterator("/proc/self/task")) {
      std::ifstream comm(e.path() / "comm");
      std::string name;
      std::getline(comm, name);
      named = named || name == "av-snapshot";
    }
    if (!named) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(named) << "no thread named av-snapshot";
  storage::SnapshotBuilder b(9, {}, storage::snapblock::Codec::kZstd, /*deferred_seal=*/true);
  s.Begin(9);
  bool done = false;
  while (!done) {
    std::string chunk;
    done = b.Step(t, 7, &chunk);
    if (!chunk.empty()) s.Write(std::move(chunk));
    for (storage::RawBlock& blk : b.TakeRawBlocks()) s.WriteBlock(std::move(blk));
  }
  std::string trailer = b.Finish();
  for (storage::RawBlock& blk : b.TakeRawBlocks()) s.WriteBlock(std::move(blk));
  s.Finish(std::move(trailer));
  const int64_t wait_start = NowMs();
  while (s.Busy() && NowMs() - wait_start < 10000) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_FALSE(s.Busy());
  std::string err;
  EXPECT_TRUE(storage::VerifySnapshotFile(storage::VersionDir(d.path()) + "/" + storage::SnapshotName(9), &err)) << err;
}

}  // namespace
}  // namespace aviary::server
