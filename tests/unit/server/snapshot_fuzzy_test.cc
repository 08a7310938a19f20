// The core's fuzzy snapshot as the server takes it (aviary.forkSnapshots=
// false): SnapshotBuilder with deferred sealing walks the tree in slices
// bounded by nodes and time while writes are applied between them, and the
// Snapshotter's thread seals (zstd, CRC) and writes each block. Recovery
// from that file plus the log must give exactly the live tree (digest), a
// snapshot cut short by a stop or crash must leave the previous one in
// charge, and deferred sealing must write the very bytes of inline sealing.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "../storage/storage_util.h"
#include "server/snapshotter.h"
#include "storage/digest.h"
#include "storage/layout.h"

namespace aviary::server {
namespace {

using storage::testing::TempDir;
using storage::testing::Workload;

// Bulk nodes with 100-byte values, so that a snapshot spans many blocks.
void Preload(Workload& w, int parents, int children) {
  for (int p = 0; p < parents; ++p) {
    const std::string parent = "/bulk" + std::to_string(p);
    w.Run(Workload::Req(proto::OpCode::kCreate, proto::CreateRequest{parent, "", storage::testing::OpenAcl(), 0, -1}));
    for (int c = 0; c < children; ++c) {
      w.Run(Workload::Req(proto::OpCode::kCreate,
                          proto::CreateRequest{parent + "/n" + std::to_string(c), std::string(100, 'v'),
                                               storage::testing::OpenAcl(), 0, -1}));
    }
  }
}

// Deletes, sets and creates among the bulk nodes (where the walk is).
void BulkWrite(Workload& w, int parents, int children) {
  const std::string path =
      "/bulk" + std::to_string(w.Pick(parents)) + "/n" + std::to_string(w.Pick(static_cast<size_t>(children)));
  const size_t k = w.Pick(3);
  if (w.tree.Find(path) == nullptr) {
    w.Run(Workload::Req(proto::OpCode::kCreate, proto::CreateRequest{path, "new", storage::testing::OpenAcl(), 0, -1}));
  } else if (k == 0) {
    w.Run(Workload::Req(proto::OpCode::kDelete, proto::DeleteRequest{path, -1}));
  } else {
    w.Run(Workload::Req(proto::OpCode::kSetData, proto::SetDataRequest{path, std::string(50 + k, 's'), -1}));
  }
}

void WaitIdle(const Snapshotter& s) {
  for (int i = 0; i < 20000 && s.Busy(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_FALSE(s.Busy());
}

// Walks the tree as Core::StepSnapshot does, with `between` writes after
// each slice; stops early (returns false) after `stop_after` slices.
bool TakeFuzzy(Workload& w, Snapshotter& s, int stop_after, const std::function<void()>& between) {
  storage::SnapshotBuilder b(w.zxid, w.SessionList(), storage::snapblock::Codec::kZstd, /*deferred_seal=*/true);
  w.building = &b;
  s.Begin(w.zxid);
  bool done = false;
  for (int slice = 0; !done; ++slice) {
    if (slice == stop_after) {
      w.building = nullptr;
      return false;
    }
    std::string chunk;
    done = b.Step(w.tree, 1 + w.Pick(3000), &chunk, /*max_us=*/static_cast<int64_t>(w.Pick(3) * 200));
    if (!chunk.empty()) s.Write(std::move(chunk));
    for (storage::RawBlock& blk : b.TakeRawBlocks()) s.WriteBlock(std::move(blk));
    between();
  }
  w.building = nullptr;
  std::string trailer = b.Finish();
  for (storage::RawBlock& blk : b.TakeRawBlocks()) s.WriteBlock(std::move(blk));
  s.Finish(std::move(trailer));
  return true;
}

void ExpectRecoversLive(const std::string& dir, Workload& w, int64_t snapshot_zxid) {
  tree::DataTree t;
  storage::RecoveryOptions o;
  o.snap_dir = dir;
  o.log_dir = dir;
  const storage::RecoveryResult r = storage::Recover(o, &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.snapshot_zxid, snapshot_zxid);
  EXPECT_EQ(r.last_zxid, w.zxid);
  EXPECT_EQ(storage::TreeDigest(t), storage::TreeDigest(w.tree));
  EXPECT_EQ(t.NodeCount(), w.tree.NodeCount());
  EXPECT_EQ(t.ApproximateDataSize(), w.tree.ApproximateDataSize());
  EXPECT_EQ(r.sessions, w.SessionList());
}

TEST(SnapshotFuzzy, SlicesSealedOnTheSnapshotterThreadRecoverExactly) {
  constexpr int kParents = 6, kChildren = 3000;  // ~18k nodes, ~2.5 MB of records: about 10 blocks
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    TempDir d;
    storage::Wal wal(storage::WalOptions{d.path(), false, 1 << 20});
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    Workload w(seed);
    w.wal = &wal;
    Preload(w, kParents, kChildren);
    for (int i = 0; i < 50; ++i) w.RandomOp();
    ASSERT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
    const int64_t snap_zxid = w.zxid;
    Snapshotter s(d.path(), d.path(), 3);
    ASSERT_TRUE(TakeFuzzy(w, s, -1, [&] {
      for (size_t i = w.Pick(8); i > 0; --i) BulkWrite(w, kParents, kChildren);
      if (w.Pick(4) == 0) w.RandomOp();
    }));
    WaitIdle(s);
    for (int i = 0; i < 20; ++i) BulkWrite(w, kParents, kChildren);
    ASSERT_TRUE(wal.Sync(&err)) << err;
    ASSERT_EQ(storage::ListSnapshots(d.path()).size(), 1u);
    ExpectRecoversLive(d.path(), w, snap_zxid);
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(SnapshotFuzzy, SnapshotCutShortLeavesThePreviousOneInCharge) {
  constexpr int kParents = 4, kChildren = 3000;
  TempDir d;
  storage::Wal wal(storage::WalOptions{d.path(), false, 1 << 20});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  Workload w(11);
  w.wal = &wal;
  Preload(w, kParents, kChildren);
  ASSERT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
  const int64_t first = w.zxid;
  auto s = std::make_unique<Snapshotter>(d.path(), d.path(), 3);
  ASSERT_TRUE(TakeFuzzy(w, *s, -1, [&] { BulkWrite(w, kParents, kChildren); }));
  WaitIdle(*s);
  // A second snapshot stops half-way: the server stops (or dies) while it is
  // being written. Its blocks reached the file, its trailer never did.
  ASSERT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
  const std::string tmp = storage::VersionDir(d.path()) + "/" + storage::SnapshotName(w.zxid) + ".tmp";
  ASSERT_FALSE(TakeFuzzy(w, *s, 5, [&] { BulkWrite(w, kParents, kChildren); }));
  s.reset();  // stopped mid-snapshot: its thread removes the temporary file
  EXPECT_FALSE(std::filesystem::exists(tmp));
  // A crash instead leaves the .tmp with the blocks written so far.
  storage::testing::WriteAll(tmp,
                             storage::testing::ReadAll(storage::ListSnapshots(d.path()).back().path).substr(0, 5000));
  for (int i = 0; i < 30; ++i) BulkWrite(w, kParents, kChildren);
  ASSERT_TRUE(wal.Sync(&err)) << err;
  ExpectRecoversLive(d.path(), w, first);
  EXPECT_FALSE(std::filesystem::exists(tmp));  // recovery removed it
}

TEST(SnapshotFuzzy, DeferredSealingWritesTheBytesOfInlineSealing) {
  Workload w(5);
  Preload(w, 3, 4000);
  for (int i = 0; i < 100; ++i) w.RandomOp();
  std::string inline_bytes, deferred_bytes, chunk;
  storage::SnapshotBuilder a(w.zxid, w.SessionList());
  while (!a.Step(w.tree, 777, &inline_bytes)) {
  }
  inline_bytes += a.Finish();
  storage::SnapshotBuilder b(w.zxid, w.SessionList(), storage::snapblock::Codec::kZstd, true);
  size_t blocks = 0;
  auto seal = [&] {
    for (const storage::RawBlock& blk : b.TakeRawBlocks()) {
      EXPECT_EQ(blk.seq, blocks++);
      storage::snapblock::Seal(blk.records, storage::snapblock::Codec::kZstd, blk.seq, &deferred_bytes);
    }
  };
  for (bool done = false; !done; seal()) done = b.Step(w.tree, 777, &deferred_bytes);
  const std::string trailer = b.Finish();
  seal();
  deferred_bytes += trailer;
  EXPECT_GT(blocks, 3u);
  EXPECT_EQ(deferred_bytes, inline_bytes);
}

TEST(SnapshotFuzzy, SlicesAreBoundedByNodesAndByTime) {
  Workload w(9);
  Preload(w, 10, 10000);  // 100k nodes: far more than 1 ms of work
  const uint64_t total = w.tree.NodeCount();
  storage::SnapshotBuilder by_nodes(w.zxid, {}, storage::snapblock::Codec::kZstd, true);
  std::string chunk;
  ASSERT_FALSE(by_nodes.Step(w.tree, 100, &chunk));
  EXPECT_EQ(by_nodes.nodes_written(), 100u);
  ASSERT_FALSE(by_nodes.Step(w.tree, 250, &chunk));
  EXPECT_EQ(by_nodes.nodes_written(), 350u);

  storage::SnapshotBuilder by_time(w.zxid, {}, storage::snapblock::Codec::kZstd, true);
  int slices = 0;
  uint64_t before = 0;
  for (bool done = false; !done; ++slices) {
    done = by_time.Step(w.tree, SIZE_MAX, &chunk, /*max_us=*/1000);
    const uint64_t n = by_time.nodes_written() - before;
    before = by_time.nodes_written();
    // The clock is read every 32 nodes: each slice makes progress.
    if (!done) {
      EXPECT_GE(n, 32u);
    }
  }
  EXPECT_EQ(by_time.nodes_written(), total);
  EXPECT_GT(slices, 2) << "100k nodes cannot be walked in 1 ms; the time bound did not cut the walk";
}

}  // namespace
}  // namespace aviary::server
