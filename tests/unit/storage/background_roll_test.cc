// WalOptions::background_roll (storage/segment_worker.h): a closed
// segment's preallocated tail is cut by the worker after the roll, not by
// the roll. What a crash can leave behind (closed segments whose tail was
// never cut) must recover and read back like any other log.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "storage/layout.h"
#include "storage/log_range.h"
#include "storage/recovery.h"
#include "storage/segment_worker.h"
#include "storage/wal.h"
#include "storage/wal_reader.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::FileSize;
using testing::RecoverInto;
using testing::TempDir;
using testing::WaitFor;

constexpr int64_t kStep = 1 << 20;

txn::Txn SetTxn(int64_t zxid) {
  txn::Txn t;
  t.zxid = zxid;
  t.time_ms = 100 + zxid;
  t.type = proto::OpCode::kCreate;
  t.op = txn::Op{proto::OpCode::kCreate,
                 txn::CreateTxn{"/n" + std::to_string(zxid), "value", testing::OpenAcl(), txn::NodeKind::kPersistent, 0,
                                0, static_cast<int32_t>(zxid), false}};
  return t;
}

WalOptions Background(const std::string& dir, int64_t delay_ms = 0) {
  WalOptions o{dir, true, kStep};
  o.background_roll = true;
  o.background_delay_ms = delay_ms;
  return o;
}

std::vector<int64_t> Zxids(const std::string& path) {
  SegmentReader r;
  std::string err;
  EXPECT_TRUE(r.Open(path, &err)) << err;
  std::vector<int64_t> out;
  SegmentRecord rec;
  while (r.Next(&rec)) out.push_back(rec.txn.zxid);
  EXPECT_EQ(r.end(), SegmentEnd::kClean) << path;
  return out;
}

TEST(BackgroundRoll, TheWorkerTrimsClosedSegmentsAfterTheRoll) {
  TempDir d;
  const std::string vdir = VersionDir(d.path());
  {
    Wal wal(Background(d.path()));
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    ASSERT_NE(wal.segment_worker(), nullptr);
    int64_t z = 1;
    for (int seg = 0; seg < 3; ++seg) {
      for (int i = 0; i < 5; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
      ASSERT_TRUE(wal.Sync(&err)) << err;
      ASSERT_TRUE(wal.Roll(z, &err)) << err;
      EXPECT_EQ(wal.segment_path(), vdir + "/" + SegmentName(z));
    }
    for (int i = 0; i < 3; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
    // The closed segments' tails are cut by the worker (delay 0 here).
    ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->trims_done() == 3; }));
    const std::vector<FileEntry> segs = ListSegments(d.path());
    ASSERT_EQ(segs.size(), 4u);
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
      EXPECT_LT(segs[i].size, 4096) << segs[i].path;  // cut to its data
      EXPECT_EQ(Zxids(segs[i].path).size(), 5u);
    }
    EXPECT_EQ(FileSize(segs[3].path), kStep);  // the open one keeps its preallocation
    EXPECT_EQ(Zxids(segs[3].path), (std::vector<int64_t>{16, 17, 18}));
  }
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 18);
}

TEST(BackgroundRoll, CloseRunsThePendingTrimsAtOnce) {
  TempDir d;
  Wal wal(Background(d.path(), /*delay_ms=*/60'000));  // nothing of the worker's runs on its own
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  ASSERT_TRUE(wal.Append(SetTxn(1), &err)) << err;
  ASSERT_TRUE(wal.Roll(2, &err)) << err;
  const std::string first = VersionDir(d.path()) + "/" + SegmentName(1);
  EXPECT_EQ(FileSize(first), kStep);  // the trim is still pending
  EXPECT_EQ(Zxids(first), (std::vector<int64_t>{1}));
  ASSERT_TRUE(wal.Append(SetTxn(2), &err)) << err;
  ASSERT_TRUE(wal.Close(&err)) << err;  // runs the pending trim at once
  EXPECT_EQ(wal.segment_worker()->trims_done(), 1);
  EXPECT_LT(FileSize(first), 4096);
  EXPECT_EQ(Zxids(first), (std::vector<int64_t>{1}));
  EXPECT_EQ(Zxids(VersionDir(d.path()) + "/" + SegmentName(2)), (std::vector<int64_t>{2}));
}

// A crash before the worker cut a closed segment's tail: segments with a
// zero tail of a whole step before later segments replay and range-read as
// trimmed ones do.
TEST(BackgroundRoll, UntrimmedClosedSegmentsRecoverAndRangeRead) {
  TempDir d;
  {
    Wal wal(Background(d.path(), /*delay_ms=*/60'000));
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    int64_t z = 1;
    for (int seg = 0; seg < 4; ++seg) {
      for (int i = 0; i < 3; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
      ASSERT_TRUE(wal.Roll(z, &err)) << err;
    }
    ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
    // "Crash": copy the files while the trims are pending.
    for (const FileEntry& f : ListSegments(d.path())) EXPECT_EQ(f.size, kStep) << f.path;
    std::filesystem::copy(VersionDir(d.path()), d.path() + "/crashed", std::filesystem::copy_options::recursive);
  }
  const std::string crashed = d.path() + "/crash";
  std::filesystem::create_directories(crashed);
  std::filesystem::rename(d.path() + "/crashed", VersionDir(crashed));
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(crashed, &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 13);
  EXPECT_TRUE(r.warnings.empty());
  for (int64_t z = 1; z <= 13; ++z) EXPECT_NE(t.Find("/n" + std::to_string(z)), nullptr) << z;
  LogRangeReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(crashed, 2, 13, &err)) << err;
  int64_t expect = 3;
  txn::Txn txn;
  while (reader.Next(&txn)) EXPECT_EQ(txn.zxid, expect++);
  EXPECT_EQ(expect, 14) << reader.error();
}

}  // namespace
}  // namespace aviary::storage
