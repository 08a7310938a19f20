// Snapshotter's forked child: a child that hangs is killed at its deadline
// and one that dies leaves no temporary file; either way the next snapshot
// starts and completes (AVIARY_FAILPOINT=snapshot_child_hang / _die).
#include "server/snapshotter.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// A forked snapshot reports what it cost the server: the fork's pause and
// the copy-on-write faults the server took while the child held its pages
// (here: 1 MiB written before the fork and again after it, while the child
// may still be running; once it has exited the first write to each page is
// still a fault, taking the page back).
TEST(Snapshotter, ForkedSnapshotReportsItsCost) {
  TempDir d;
  tree::DataTree t;
  FillTree(&t);
  Snapshotter s(d.path(), d.path(), 3, 60000);
  constexpr size_t kBytes = 1 << 20;
  void* m = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  ::madvise(m, kBytes, MADV_NOHUGEPAGE);
  auto* bytes = static_cast<volatile char*>(m);
  for (size_t i = 0; i < kBytes; i += 4096) bytes[i] = 1;
  ASSERT_TRUE(s.Fork(t, 5, {}));
  for (size_t i = 0; i < kBytes; i += 4096) bytes[i] = 2;
  ReapUntilIdle(s, 10000);
  ASSERT_FALSE(s.Busy());
  ::munmap(m, kBytes);
  const Snapshotter::ChildCost c = s.last_child();
  EXPECT_GT(c.fork_us, 0);
  EXPECT_GE(c.child_cpu_ms, 0);
  EXPECT_GE(c.server_minor_faults, static_cast<int64_t>(kBytes / 4096));
  std::string err;
  EXPECT_TRUE(storage::VerifySnapshotFile(storage::VersionDir(d.path()) + "/" + storage::SnapshotName(5), &err)) << err;
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

// Writes a fuzzy snapshot of `t` at `zxid` through `s` and waits for it.
void WriteFuzzy(Snapshotter& s, const tree::DataTree& t, int64_t zxid) {
  storage::SnapshotBuilder b(zxid, {}, storage::snapblock::Codec::kZstd, /*deferred_seal=*/true);
  s.Begin(zxid);
  for (bool done = false; !done;) {
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
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The I/O class of the thread named `name` (ioprio_get), -1 if none.
int IoClassOfThread(const std::string& name) {
  for (const auto& e : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(e.path() / "comm");
    std::string n;
    std::getline(comm, n);
    if (n != name) continue;
    const long prio = ::syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, std::stoi(e.path().filename()));
    return prio < 0 ? -1 : static_cast<int>(prio >> 13);
  }
  return -1;
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
  WriteFuzzy(s, t, 9);
  std::string err;
  EXPECT_TRUE(storage::VerifySnapshotFile(storage::VersionDir(d.path()) + "/" + storage::SnapshotName(9), &err)) << err;
}

// With bounded writeback in small ranges and the idle I/O class, the
// snapshot thread writes the same file as with the defaults (fuzzy path),
// the forked child writes a file that verifies and loads, and the snapshot
// thread's I/O class is idle (3).
TEST(Snapshotter, BoundedIdleWritebackWritesTheSameSnapshot) {
  tree::DataTree t;
  FillTree(&t);
  for (int i = 0; i < 2000; ++i) {
    std::string data(200, static_cast<char>('a' + i % 26));
    data += std::to_string(i * 7919);  // blocks that do not compress to nothing
    ASSERT_EQ(
        t.CreateNode("/m" + std::to_string(i), data, {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}},
                     tree::NodeKind::kPersistent, 0, 0, 100 + i, 100 + i, 1000, false),
        proto::Err::kOk);
  }
  TempDir plain, bounded;
  {
    Snapshotter s(plain.path(), plain.path(), 3);
    WriteFuzzy(s, t, 9);
  }
  const SnapshotIo io{.writeback = {.range_bytes = 4 << 10, .bounded = true}, .idle_io_class = true};
  Snapshotter s(bounded.path(), bounded.path(), 3, 600000, io);
  WriteFuzzy(s, t, 9);
  const std::string name = "/" + storage::SnapshotName(9);
  const std::string a = ReadFile(storage::VersionDir(plain.path()) + name);
  EXPECT_GT(a.size(), 8u << 10);  // more than two ranges
  EXPECT_EQ(a, ReadFile(storage::VersionDir(bounded.path()) + name));
  EXPECT_EQ(IoClassOfThread("av-snapshot"), 3);
  // The forked child with the same settings.
  ASSERT_TRUE(s.Fork(t, 10, {}));
  ReapUntilIdle(s, 10000);
  ASSERT_FALSE(s.Busy());
  std::string err;
  EXPECT_TRUE(storage::VerifySnapshotFile(storage::VersionDir(bounded.path()) + "/" + storage::SnapshotName(10), &err))
      << err;
  tree::DataTree loaded;
  storage::RecoveryOptions ro;
  ro.snap_dir = ro.log_dir = bounded.path();
  const storage::RecoveryResult r = storage::Recover(ro, &loaded);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot_zxid, 10);
  EXPECT_EQ(loaded.NodeCount(), t.NodeCount());
}

}  // namespace
}  // namespace aviary::server
