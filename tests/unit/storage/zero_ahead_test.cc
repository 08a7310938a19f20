// WalOptions::zero_ahead_bytes (storage/segment_worker.h): a worker writes
// zeros over the open segment's fallocate()d blocks ahead of the log's end.
// The log's records written over them (by Sync and by groups in flight, on
// other threads) must read back and recover like any others; what a crash
// leaves (written zeros up to the preallocated size after the data, a torn
// record among them) must read as the end of the log; a roll, a rollback and
// a close must leave the segment alone (never written past its cut size).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "storage/layout.h"
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

constexpr int64_t kPrealloc = 8 << 20;

txn::Txn SetTxn(int64_t zxid, size_t payload = 5) {
  txn::Txn t;
  t.zxid = zxid;
  t.time_ms = 100 + zxid;
  t.type = proto::OpCode::kCreate;
  t.op = txn::Op{proto::OpCode::kCreate,
                 txn::CreateTxn{"/n" + std::to_string(zxid), std::string(payload, 'v'), testing::OpenAcl(),
                                txn::NodeKind::kPersistent, 0, 0, static_cast<int32_t>(zxid), false}};
  return t;
}

WalOptions ZeroAhead(const std::string& dir, int64_t ahead = 2 << 20, int64_t step = 256 << 10) {
  WalOptions o{dir, true, kPrealloc};
  o.zero_ahead_bytes = ahead;
  o.zero_step_bytes = step;
  return o;
}

std::vector<int64_t> Zxids(const std::string& path, SegmentEnd* end = nullptr) {
  SegmentReader r;
  std::string err;
  EXPECT_TRUE(r.Open(path, &err)) << err;
  std::vector<int64_t> out;
  SegmentRecord rec;
  while (r.Next(&rec)) out.push_back(rec.txn.zxid);
  if (end != nullptr) *end = r.end();
  return out;
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t z = from; z <= to; ++z) v.push_back(z);
  return v;
}

// Bytes of [from, to) that the file system reports as unwritten extents
// (FIEMAP); -1 when it cannot tell (no FIEMAP here).
int64_t UnwrittenBytes(const std::string& path, int64_t from, int64_t to) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  constexpr int kExtents = 256;
  std::vector<char> buf(sizeof(fiemap) + kExtents * sizeof(fiemap_extent));
  auto* fm = reinterpret_cast<fiemap*>(buf.data());
  fm->fm_start = static_cast<uint64_t>(from);
  fm->fm_length = static_cast<uint64_t>(to - from);
  fm->fm_flags = FIEMAP_FLAG_SYNC;
  fm->fm_extent_count = kExtents;
  const int rc = ioctl(fd, FS_IOC_FIEMAP, fm);
  close(fd);
  if (rc != 0) return -1;
  int64_t unwritten = 0;
  for (uint32_t i = 0; i < fm->fm_mapped_extents; ++i) {
    const fiemap_extent& e = fm->fm_extents[i];
    if ((e.fe_flags & FIEMAP_EXTENT_UNWRITTEN) == 0) continue;
    const int64_t a = std::max<int64_t>(from, static_cast<int64_t>(e.fe_logical));
    const int64_t b = std::min<int64_t>(to, static_cast<int64_t>(e.fe_logical + e.fe_length));
    if (b > a) unwritten += b - a;
  }
  return unwritten;
}

TEST(ZeroAhead, TheWorkerWritesZerosAheadOfTheLogsEnd) {
  TempDir d;
  Wal wal(ZeroAhead(d.path()));
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  ASSERT_NE(wal.segment_worker(), nullptr);
  for (int64_t z = 1; z <= 50; ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;
  const int64_t end = wal.segment_bytes();
  // Up to the log's end + 2 MiB, from 256 KiB (the guard) past it.
  ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->zeroed_to() >= end + (2 << 20); }));
  const int64_t zeroed = wal.segment_worker()->zeroed_to();
  EXPECT_LE(zeroed, kPrealloc);
  EXPECT_EQ(FileSize(wal.segment_path()), kPrealloc);  // never grown
  const std::string bytes = testing::ReadAll(wal.segment_path());
  EXPECT_TRUE(std::all_of(bytes.begin() + end, bytes.end(), [](char c) { return c == 0; }));
  const int64_t guard_end = (end + 4095) / 4096 * 4096 + (256 << 10);
  const int64_t unwritten = UnwrittenBytes(wal.segment_path(), guard_end, zeroed);
  if (unwritten < 0) GTEST_SKIP() << "no FIEMAP on this file system";
  EXPECT_EQ(unwritten, 0) << "zeroed blocks must be written, not unwritten extents";
  EXPECT_GT(UnwrittenBytes(wal.segment_path(), zeroed, kPrealloc), 0);  // the rest stays preallocated only
}

// Writes past the zeroed range (the log outruns the worker: 64 KiB steps,
// records of ~4 KiB synced in bursts) and over it, by Sync and by two groups
// in flight on two threads at once: every record reads back in order.
TEST(ZeroAhead, RecordsWrittenOverAndPastZeroedBlocksReadBack) {
  TempDir d;
  int64_t z = 1;
  {
    Wal wal(ZeroAhead(d.path(), 1 << 20, 64 << 10));
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    for (int round = 0; round < 70; ++round) {
      for (int i = 0; i < 20; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z, 4000), &err)) << err;
      ASSERT_TRUE(wal.Sync(&err)) << err;
      // Two groups taken back to back, written at once by two threads.
      Wal::Group g1, g2;
      for (int i = 0; i < 10; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z, 3000), &err)) << err;
      ASSERT_TRUE(wal.TakeGroup(&g1, &err)) << err;
      for (int i = 0; i < 10; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z, 3000), &err)) << err;
      ASSERT_TRUE(wal.TakeGroup(&g2, &err)) << err;
      bool ok1 = false, ok2 = false;
      std::string e1, e2;
      std::thread t1([&] { ok1 = wal.WriteGroup(g1, &e1); });
      std::thread t2([&] { ok2 = wal.WriteGroup(g2, &e2); });
      t1.join();
      t2.join();
      ASSERT_TRUE(ok1) << e1;
      ASSERT_TRUE(ok2) << e2;
      wal.GroupDurable(g1);
      wal.GroupDurable(g2);
      if (round % 8 == 7) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it catch up
    }
    EXPECT_GT(wal.segment_bytes(), kPrealloc);  // past the first preallocation step too
    EXPECT_GT(wal.segment_worker()->zero_steps(), 0);
    SegmentEnd end;
    EXPECT_EQ(Zxids(wal.segment_path(), &end), Range(1, z - 1));
    EXPECT_EQ(end, SegmentEnd::kClean);
    ASSERT_TRUE(wal.Close(&err)) << err;
  }
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, z - 1);
}

// A crash: the segment keeps its written zeros up to the preallocated size;
// they read as the end of the log. A record torn among them (its last bytes
// never written) is dropped and the log ends before it.
TEST(ZeroAhead, ZerosAndATornRecordAfterTheDataReadAsTheEnd) {
  TempDir d;
  std::string path;
  int64_t before_last = 0;
  {
    Wal wal(ZeroAhead(d.path()));
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    for (int64_t z = 1; z <= 30; ++z) ASSERT_TRUE(wal.Append(SetTxn(z, 1000), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
    before_last = wal.segment_bytes();
    ASSERT_TRUE(wal.Append(SetTxn(31, 1000), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
    ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->zeroed_to() >= (2 << 20); }));
    path = wal.segment_path();
    // "Crash": copy the segment as it is (no Close, no trim).
    std::filesystem::create_directories(d.path() + "/crash/version-2");
    std::filesystem::copy_file(path, d.path() + "/crash/version-2/" + std::filesystem::path(path).filename().string());
  }
  const std::string crashed = d.path() + "/crash";
  const std::string seg = VersionDir(crashed) + "/" + SegmentName(1);
  EXPECT_EQ(FileSize(seg), kPrealloc);
  {
    tree::DataTree t;
    const RecoveryResult r = RecoverInto(crashed, &t);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.last_zxid, 31);
  }
  // Tear record 31: its second half reads back as the zeros under it.
  std::string bytes = testing::ReadAll(seg);
  const int64_t end = static_cast<int64_t>(bytes.find_last_not_of('\0')) + 1;
  ASSERT_GT(end, before_last);
  std::fill(bytes.begin() + (before_last + end) / 2, bytes.begin() + end, '\0');
  testing::WriteAll(seg, bytes);
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(crashed, &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 30);
  EXPECT_EQ(t.Find("/n31"), nullptr);
  EXPECT_NE(t.Find("/n30"), nullptr);
}

// Roll (the closed segment cut by the background roll), Rollback and Close
// stop the worker on that segment: it is never written past its cut size.
TEST(ZeroAhead, CutSegmentsStayCut) {
  TempDir d;
  WalOptions o = ZeroAhead(d.path());
  o.background_roll = true;
  o.background_delay_ms = 0;
  Wal wal(o);
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  int64_t z = 1;
  for (int seg = 0; seg < 3; ++seg) {
    for (int i = 0; i < 20; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z, 500), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
    ASSERT_TRUE(wal.Roll(z, &err)) << err;  // right away: the worker may be zeroing the old one
  }
  ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->trims_done() == 3; }));
  ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->zeroed_to() >= (2 << 20); }));  // the open one
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::vector<FileEntry> segs = ListSegments(d.path());
  ASSERT_EQ(segs.size(), 4u);
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    EXPECT_LT(FileSize(segs[i].path), 64 << 10) << segs[i].path;
    EXPECT_EQ(Zxids(segs[i].path).size(), 20u);
  }
  // Rollback: append without a Sync, cut back to the last Sync.
  for (int i = 0; i < 5; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;
  const int64_t synced = wal.segment_bytes();
  ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
  ASSERT_TRUE(wal.Rollback(&err)) << err;
  const std::string open_seg = wal.segment_path();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(FileSize(open_seg), synced);
  SegmentEnd end;
  EXPECT_EQ(Zxids(open_seg, &end), Range(61, z - 1));
  EXPECT_EQ(end, SegmentEnd::kClean);
}

// Close (and a TRUNC, which closes and reopens) leave no zeros written later.
TEST(ZeroAhead, CloseStopsTheWorker) {
  TempDir d;
  std::string path;
  {
    Wal wal(ZeroAhead(d.path(), 4 << 20, 64 << 10));
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    for (int64_t z = 1; z <= 10; ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
    ASSERT_TRUE(wal.Close(&err)) << err;  // while the worker is still zeroing
    path = VersionDir(d.path()) + "/" + SegmentName(1);
    const int64_t size = FileSize(path);
    EXPECT_LT(size, 4096);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(FileSize(path), size);
  }
  EXPECT_EQ(Zxids(path), Range(1, 10));
}

// WalOptions::next_head_bytes: the worker prepares the next segment's head
// (written zeros, in a spare file) and a roll renames it to the new segment:
// from its first byte the new segment's blocks are written, not unwritten
// extents (zero-ahead alone leaves its first 256 KiB, the guard, unwritten).
// The spare is no segment (ListSegments, recovery), a Close removes it, and
// records written over the head read back and recover.
TEST(ZeroAhead, TheNextSegmentsHeadIsWrittenBeforeTheRoll) {
  TempDir d;
  WalOptions o = ZeroAhead(d.path());
  o.background_roll = true;
  o.background_delay_ms = 0;
  const std::string spare = VersionDir(d.path()) + "/" + SegmentWorker::kSpareName;
  int64_t z = 1;
  {
    Wal wal(o);
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->spares_made() >= 1; }));
    EXPECT_EQ(FileSize(spare), 1 << 20);
    for (int seg = 0; seg < 3; ++seg) {
      for (int i = 0; i < 20; ++i, ++z) ASSERT_TRUE(wal.Append(SetTxn(z, 500), &err)) << err;
      ASSERT_TRUE(wal.Sync(&err)) << err;
      ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->spares_made() >= seg + 1; }));
      ASSERT_TRUE(wal.Roll(z, &err)) << err;
      const std::string path = wal.segment_path();
      EXPECT_EQ(FileSize(path), kPrealloc);  // fallocate()d as before
      const int64_t unwritten = UnwrittenBytes(path, 0, 1 << 20);
      if (unwritten < 0) GTEST_SKIP() << "no FIEMAP on this file system";
      EXPECT_EQ(unwritten, 0) << "the new segment's head must be written blocks";
      EXPECT_GT(UnwrittenBytes(path, 4 << 20, kPrealloc), 0);  // the rest is preallocated only
      // The zero-ahead goes on from the head's end.
      ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->zeroed_to() >= (2 << 20); }));
    }
    for (int i = 0; i < 300; ++i, ++z) {  // ~150 KiB of records, each durable, over the head
      ASSERT_TRUE(wal.Append(SetTxn(z, 500), &err)) << err;
      ASSERT_TRUE(wal.Sync(&err)) << err;
    }
    EXPECT_EQ(Zxids(wal.segment_path()), Range(61, z - 1));
    EXPECT_EQ(ListSegments(d.path()).size(), 4u);  // the spare is not one
    ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->spares_made() >= 4; }));
    // A crash here: a copy of the directory with the spare in it recovers.
    std::filesystem::create_directories(d.path() + "/crash");
    std::filesystem::copy(VersionDir(d.path()), d.path() + "/crash/version-2");
    ASSERT_TRUE(wal.Close(&err)) << err;
    EXPECT_FALSE(std::filesystem::exists(spare));
  }
  for (const std::string& dir : {d.path(), d.path() + "/crash"}) {
    tree::DataTree t;
    const RecoveryResult r = RecoverInto(dir, &t);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.last_zxid, z - 1) << dir;
  }
}

// next_head_bytes = 0: a roll creates the segment as before (what the head
// test above guards against: the guard's blocks are unwritten extents).
TEST(ZeroAhead, WithoutASpareTheHeadIsUnwritten) {
  TempDir d;
  WalOptions o = ZeroAhead(d.path());
  o.next_head_bytes = 0;
  Wal wal(o);
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  for (int64_t z = 1; z <= 10; ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;
  ASSERT_TRUE(wal.Roll(11, &err)) << err;
  ASSERT_TRUE(WaitFor([&] { return wal.segment_worker()->zeroed_to() >= (2 << 20); }));
  EXPECT_FALSE(std::filesystem::exists(VersionDir(d.path()) + "/" + SegmentWorker::kSpareName));
  const int64_t unwritten = UnwrittenBytes(wal.segment_path(), 4096, 256 << 10);
  if (unwritten < 0) GTEST_SKIP() << "no FIEMAP on this file system";
  EXPECT_GT(unwritten, 0);
}

}  // namespace
}  // namespace aviary::storage
