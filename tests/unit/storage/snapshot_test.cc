#include "storage/snapshot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "storage/recovery.h"
#include "storage/wal.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::Workload;
using testing::WriteAll;

// Builds a snapshot in one go (no writes in between) and commits it.
void TakeSnapshot(const std::string& dir, const tree::DataTree& t, int64_t zxid, std::vector<SessionRecord> sessions,
                  size_t step = 1000) {
  SnapshotBuilder b(zxid, std::move(sessions));
  SnapshotFileWriter w;
  std::string err;
  ASSERT_TRUE(w.Begin(dir, zxid, &err)) << err;
  std::string chunk;
  bool done = false;
  while (!done) {
    chunk.clear();
    done = b.Step(t, step, &chunk);
    ASSERT_TRUE(w.Write(chunk, &err)) << err;
  }
  ASSERT_TRUE(w.Write(b.Finish(), &err)) << err;
  ASSERT_TRUE(w.Commit(&err)) << err;
}

RecoveryResult RecoverInto(const std::string& dir, tree::DataTree* t) {
  RecoveryOptions o;
  o.snap_dir = dir;
  o.log_dir = dir;
  return Recover(o, t);
}

// The writer starts writeback every range_bytes as it goes (bounded: and
// waits for the range before): chunks of any size across many of those
// ranges make exactly their concatenation, durable after Commit, and
// bytes_written() counts them, whatever the writeback settings.
void WriteChunksAndCheck(SnapshotWriteback wb) {
  TempDir d;
  SnapshotFileWriter w(wb);
  std::string err;
  ASSERT_TRUE(w.Begin(d.path(), 7, &err)) << err;
  std::string expect;
  for (int i = 0; expect.size() < (5u << 20) + 123; ++i) {
    // Chunks smaller and (every 9th) larger than a range.
    const size_t len = i % 9 == 8 ? (1u << 20) + 4321 : 37 * 1024 + static_cast<size_t>(i % 5) * 1000;
    std::string chunk(len, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(w.Write(chunk, &err)) << err;
    expect += chunk;
    ASSERT_EQ(w.bytes_written(), static_cast<int64_t>(expect.size()));
  }
  ASSERT_TRUE(w.Commit(&err)) << err;
  EXPECT_EQ(ReadAll(w.final_path()), expect);
  EXPECT_FALSE(std::filesystem::exists(w.final_path() + ".tmp"));
}

TEST(Snapshot, WriterKeepsEveryByteAcrossWritebackRanges) { WriteChunksAndCheck({}); }

TEST(Snapshot, BoundedWritebackKeepsEveryByte) {
  WriteChunksAndCheck({.range_bytes = 64 << 10, .bounded = true});
  WriteChunksAndCheck({.range_bytes = 1 << 20, .bounded = true});
  WriteChunksAndCheck({.range_bytes = 3 << 20, .bounded = true});
}

TEST(Snapshot, NoWritebackRangesKeepsEveryByte) { WriteChunksAndCheck({.range_bytes = 0, .bounded = true}); }

// A bounded writer's snapshot of a tree is the same file as the default
// writer's, and loads.
TEST(Snapshot, BoundedWritebackWritesTheSameSnapshot) {
  Workload w(11);
  for (int i = 0; i < 3000; ++i) w.RandomOp();
  std::string files[2];
  for (int k = 0; k < 2; ++k) {
    TempDir d;
    SnapshotBuilder b(w.zxid, w.SessionList(), snapblock::Codec::kNone);  // raw blocks: many ranges
    SnapshotFileWriter fw(k == 0 ? SnapshotWriteback{} : SnapshotWriteback{.range_bytes = 2 << 10, .bounded = true});
    std::string err;
    ASSERT_TRUE(fw.Begin(d.path(), w.zxid, &err)) << err;
    std::string chunk;
    for (bool done = false; !done;) {
      chunk.clear();
      done = b.Step(w.tree, 13, &chunk);
      ASSERT_TRUE(fw.Write(chunk, &err)) << err;
    }
    ASSERT_TRUE(fw.Write(b.Finish(), &err)) << err;
    ASSERT_TRUE(fw.Commit(&err)) << err;
    files[k] = ReadAll(fw.final_path());
    tree::DataTree t;
    const RecoveryResult r = RecoverInto(d.path(), &t);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(TreeDigest(t), TreeDigest(w.tree));
  }
  EXPECT_GT(files[0].size(), 8u << 10);  // several ranges
  EXPECT_EQ(files[0], files[1]);
}

TEST(Snapshot, RoundTripEqualsDigest) {
  TempDir d;
  Workload w(7);
  for (int i = 0; i < 400; ++i) w.RandomOp();
  TakeSnapshot(d.path(), w.tree, w.zxid, w.SessionList(), 7);
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot_zxid, w.zxid);
  EXPECT_EQ(r.last_zxid, w.zxid);
  EXPECT_EQ(r.nodes_loaded, w.tree.NodeCount());
  EXPECT_EQ(TreeDigest(t), TreeDigest(w.tree));
  EXPECT_EQ(t.NodeCount(), w.tree.NodeCount());
  EXPECT_EQ(t.EphemeralCount(), w.tree.EphemeralCount());
  EXPECT_EQ(t.Containers(), w.tree.Containers());
  EXPECT_EQ(t.Ttls(), w.tree.Ttls());
  EXPECT_EQ(t.ApproximateDataSize(), w.tree.ApproximateDataSize());
  EXPECT_EQ(t.SessionsWithEphemerals(), w.tree.SessionsWithEphemerals());
  EXPECT_EQ(r.sessions, w.SessionList());
  // The digest notices a one-byte difference.
  txn::Txn t2;
  t2.zxid = w.zxid + 1;
  t2.type = proto::OpCode::kSetData;
  t2.op = txn::Op{proto::OpCode::kSetData, txn::SetDataTxn{"/zookeeper", "x", 1, false}};
  txn::Apply(t, t2);
  EXPECT_NE(TreeDigest(t), TreeDigest(w.tree));
}

TEST(Snapshot, CorruptOrTruncatedIsRejected) {
  TempDir d;
  Workload w(3);
  for (int i = 0; i < 100; ++i) w.RandomOp();
  TakeSnapshot(d.path(), w.tree, w.zxid, {});
  const std::string path = ListSnapshots(d.path()).back().path;
  const std::string good = ReadAll(path);
  std::string err;
  EXPECT_TRUE(VerifySnapshotFile(path, &err)) << err;
  for (size_t at : {size_t{3}, size_t{40}, good.size() / 2, good.size() - 1}) {
    std::string bad = good;
    bad[at] ^= 1;
    WriteAll(path, bad);
    EXPECT_FALSE(VerifySnapshotFile(path, &err)) << at;
  }
  WriteAll(path, good.substr(0, good.size() - 10));
  EXPECT_FALSE(VerifySnapshotFile(path, &err));
  EXPECT_NE(err.find(path), std::string::npos);
}

// Fuzzy snapshot: writes (logged and applied) between every Step; recovery
// from snapshot + log must equal the live tree.
void FuzzyRound(uint64_t seed) {
  SCOPED_TRACE(seed);
  TempDir d;
  Wal wal(WalOptions{d.path(), false, 1 << 16});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  Workload w(seed);
  w.wal = &wal;
  const int before = static_cast<int>(w.Pick(300));
  for (int i = 0; i < before; ++i) w.RandomOp();
  if (w.Pick(2) == 0) {
    ASSERT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
  }
  SnapshotBuilder b(w.zxid, w.SessionList());
  w.building = &b;
  SnapshotFileWriter fw;
  ASSERT_TRUE(fw.Begin(d.path(), w.zxid, &err)) << err;
  std::string chunk;
  for (bool done = false; !done;) {
    chunk.clear();
    done = b.Step(w.tree, 1 + w.Pick(4), &chunk);
    ASSERT_TRUE(fw.Write(chunk, &err)) << err;
    const int ops = static_cast<int>(w.Pick(6));
    for (int i = 0; i < ops; ++i) w.RandomOp();
  }
  w.building = nullptr;
  ASSERT_TRUE(fw.Write(b.Finish(), &err));
  ASSERT_TRUE(fw.Commit(&err)) << err;
  const int after = static_cast<int>(w.Pick(50));
  for (int i = 0; i < after; ++i) w.RandomOp();
  ASSERT_TRUE(wal.Sync(&err)) << err;

  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot_zxid, b.zxid());
  EXPECT_EQ(r.last_zxid, w.zxid);
  ASSERT_EQ(TreeDigest(t), TreeDigest(w.tree));
  EXPECT_EQ(t.NodeCount(), w.tree.NodeCount());
  EXPECT_EQ(t.EphemeralCount(), w.tree.EphemeralCount());
  EXPECT_EQ(t.Containers(), w.tree.Containers());
  EXPECT_EQ(t.Ttls(), w.tree.Ttls());
  EXPECT_EQ(t.ApproximateDataSize(), w.tree.ApproximateDataSize());
  EXPECT_EQ(r.sessions, w.SessionList());
}

TEST(Snapshot, FuzzyRecoveryEqualsLiveTreeManySeeds) {
  const char* env = std::getenv("AVIARY_FUZZY_SEEDS");
  const uint64_t seeds = env != nullptr ? std::strtoull(env, nullptr, 10) : 300;
  for (uint64_t s = 1; s <= seeds; ++s) {
    FuzzyRound(s);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(Snapshot, FallsBackToOlderSnapshotWhenNewestCorrupt) {
  TempDir d;
  Wal wal(WalOptions{d.path(), false, 1 << 16});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  Workload w(11);
  w.wal = &wal;
  for (int i = 0; i < 200; ++i) w.RandomOp();
  TakeSnapshot(d.path(), w.tree, w.zxid, w.SessionList());
  const int64_t older = w.zxid;
  for (int i = 0; i < 200; ++i) w.RandomOp();
  TakeSnapshot(d.path(), w.tree, w.zxid, w.SessionList());
  for (int i = 0; i < 20; ++i) w.RandomOp();
  ASSERT_TRUE(wal.Sync(&err));
  const std::string newest = ListSnapshots(d.path()).back().path;
  std::string bytes = ReadAll(newest);
  bytes[bytes.size() / 2] ^= 0x10;
  WriteAll(newest, bytes);

  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot_zxid, older);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find(newest), std::string::npos) << r.warnings[0];
  EXPECT_EQ(TreeDigest(t), TreeDigest(w.tree));
  EXPECT_EQ(r.sessions, w.SessionList());
}

TEST(Snapshot, AllSnapshotsCorruptAndLogPurgedIsAnError) {
  TempDir d;
  Workload w(5);
  for (int i = 0; i < 50; ++i) w.RandomOp();
  TakeSnapshot(d.path(), w.tree, w.zxid, {});
  const std::string path = ListSnapshots(d.path()).back().path;
  std::string bytes = ReadAll(path);
  bytes[30] ^= 1;
  WriteAll(path, bytes);
  {
    Wal wal(WalOptions{d.path(), false, 4096});
    std::string err;
    ASSERT_TRUE(wal.Open(w.zxid + 1, &err));
    w.wal = &wal;
    for (int i = 0; i < 10; ++i) w.RandomOp();
    ASSERT_TRUE(wal.Sync(&err));
  }
  tree::DataTree t;
  RecoveryResult r = RecoverInto(d.path(), &t);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no valid snapshot"), std::string::npos) << r.error;
}

TEST(Snapshot, SessionsRecoveredFromSnapshotAndLog) {
  TempDir d;
  Wal wal(WalOptions{d.path(), false, 4096});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err));
  Workload w(1);
  w.wal = &wal;
  w.Commit(w.prep.PrepareCreateSession(0x11, 5000, ++w.zxid, ++w.now));
  w.Commit(w.prep.PrepareCreateSession(0x22, 6000, ++w.zxid, ++w.now));
  TakeSnapshot(d.path(), w.tree, w.zxid, w.SessionList());
  w.Commit(w.prep.PrepareCloseSession(0x11, ++w.zxid, ++w.now));
  w.Commit(w.prep.PrepareCreateSession(0x33, 7000, ++w.zxid, ++w.now));
  ASSERT_TRUE(wal.Sync(&err));
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.sessions, (std::vector<SessionRecord>{{0x22, 6000}, {0x33, 7000}}));
}

TEST(Purge, KeepsNewestSnapshotsAndNeededLogs) {
  TempDir d;
  Wal wal(WalOptions{d.path(), false, 4096});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err));
  Workload w(21);
  w.wal = &wal;
  std::vector<int64_t> snaps;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 30; ++i) w.RandomOp();
    ASSERT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
    for (int i = 0; i < 5; ++i) w.RandomOp();  // the snapshot starts mid-segment
    TakeSnapshot(d.path(), w.tree, w.zxid, w.SessionList());
    snaps.push_back(w.zxid);
  }
  for (int i = 0; i < 10; ++i) w.RandomOp();
  ASSERT_TRUE(wal.Sync(&err));
  const size_t segs_before = ListSegments(d.path()).size();
  Purge(d.path(), d.path(), 1);  // at least 3 are kept
  const std::vector<FileEntry> left = ListSnapshots(d.path());
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].zxid, snaps[3]);
  const std::vector<FileEntry> segs = ListSegments(d.path());
  EXPECT_LT(segs.size(), segs_before);
  EXPECT_LE(segs.front().zxid, snaps[3] + 1);
  // Recovery from the oldest kept snapshot still works: corrupt the two newest.
  for (size_t i = 1; i < 3; ++i) {
    std::string bytes = ReadAll(left[i].path);
    bytes[bytes.size() / 2] ^= 1;
    WriteAll(left[i].path, bytes);
  }
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot_zxid, snaps[3]);
  EXPECT_EQ(TreeDigest(t), TreeDigest(w.tree));
  // Invalid snapshots do not count towards `retain`: nothing more is purged.
  Purge(d.path(), d.path(), 3);
  EXPECT_EQ(ListSnapshots(d.path()).size(), 3u);
  EXPECT_EQ(ListSegments(d.path()).size(), segs.size());
}

TEST(Snapshot, LargeTreeRecoveryTime) {
  const char* env = std::getenv("AVIARY_SNAPSHOT_NODES");
  const int64_t count = env != nullptr ? std::strtoll(env, nullptr, 10) : 200000;
  TempDir d;
  tree::DataTree live;
  const proto::AclList acl = testing::OpenAcl();
  for (int64_t i = 0; i < 100; ++i) {
    ASSERT_EQ(live.CreateNode("/d" + std::to_string(i), "", acl, tree::NodeKind::kPersistent, 0, 0, -1, i + 1, 1000),
              proto::Err::kOk);
  }
  for (int64_t i = 0; i < count; ++i) {
    std::string value = "value-" + std::to_string(i);
    value.resize(100, '.');  // the benchmark's 100-byte payload
    live.CreateNode("/d" + std::to_string(i % 100) + "/n" + std::to_string(i), value, acl, tree::NodeKind::kPersistent,
                    0, 0, -1, 101 + i, 1000 + i);
  }
  const auto t0 = std::chrono::steady_clock::now();
  // AVIARY_SNAPSHOT_FORMAT=2: the previous format, as its writer made it.
  const char* format = std::getenv("AVIARY_SNAPSHOT_FORMAT");
  if (format != nullptr && std::string(format) == "2") {
    std::string err;
    ASSERT_TRUE(EnsureDir(VersionDir(d.path()), &err)) << err;
    WriteAll(VersionDir(d.path()) + "/" + SnapshotName(100 + count),
             testing::BuildV2Snapshot(live, 100 + count, {}, 2));
  } else {
    TakeSnapshot(d.path(), live, 100 + count, {}, 10000);
  }
  const auto t1 = std::chrono::steady_clock::now();
  tree::DataTree t;
  const auto cpu = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  };
  const long long cpu1 = cpu();
  const RecoveryResult r = RecoverInto(d.path(), &t);
  const auto t2 = std::chrono::steady_clock::now();
  const long long cpu_ms = cpu() - cpu1;
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(t.NodeCount(), live.NodeCount());
  EXPECT_EQ(TreeDigest(t), TreeDigest(live));
  const auto ms = [](auto a, auto b) { return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count(); };
  std::printf("[ snapshot ] %lld nodes, %lld bytes: write %lld ms, recover %lld ms (%lld ms CPU, all threads)\n",
              static_cast<long long>(live.NodeCount()), static_cast<long long>(ListSnapshots(d.path())[0].size),
              static_cast<long long>(ms(t0, t1)), static_cast<long long>(ms(t1, t2)), cpu_ms);
  EXPECT_LT(ms(t1, t2), 20000);
}

}  // namespace
}  // namespace aviary::storage
