// The log-range reader for DIFF (storage/log_range.h): exactly the txns in
// (from, to], across segments and epochs, whether `from` is covered, the
// oldest logged zxid, and errors instead of a silent short range.
#include "storage/log_range.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "storage/wal.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::TempDir;

constexpr int64_t kE1 = int64_t{1} << 32;

txn::Txn T(int64_t zxid) {
  txn::Txn t;
  t.zxid = zxid;
  t.time_ms = zxid;
  t.type = proto::OpCode::kSetData;
  t.op = txn::Op{proto::OpCode::kSetData, txn::SetDataTxn{"/n", "v" + std::to_string(zxid), 1, false}};
  return t;
}

// Writes the zxids of each group to its own segment.
void WriteLog(const std::string& dir, const std::vector<std::vector<int64_t>>& segments) {
  Wal wal(WalOptions{dir, false, 4096});
  std::string err;
  bool open = false;
  for (const auto& zxids : segments) {
    const int64_t name = zxids.front();
    ASSERT_TRUE(open ? wal.Roll(name, &err) : wal.Open(name, &err)) << err;
    open = true;
    for (int64_t z : zxids) ASSERT_TRUE(wal.Append(T(z), &err)) << err;
  }
  ASSERT_TRUE(wal.Sync(&err)) << err;
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t z = from; z <= to; ++z) v.push_back(z);
  return v;
}

struct Read {
  bool covers = false;
  std::vector<int64_t> zxids;
  std::string error;
};

Read ReadRange(const std::string& dir, int64_t from, int64_t to) {
  LogRangeReader r;
  Read out;
  std::string err;
  EXPECT_TRUE(r.Open(dir, from, to, &err)) << err;
  out.covers = r.covers_from();
  txn::Txn t;
  while (r.Next(&t)) {
    EXPECT_EQ(std::get<txn::SetDataTxn>(t.op.body).data, "v" + std::to_string(t.zxid));
    out.zxids.push_back(t.zxid);
  }
  out.error = r.error();
  return out;
}

class LogRangeTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteLog(d.path(), {Range(1, 10), Range(11, 20), Range(kE1 + 1, kE1 + 5)}); }
  TempDir d;
};

TEST_F(LogRangeTest, ReadsExactlyTheRangeAcrossSegmentsAndEpochs) {
  Read r = ReadRange(d.path(), 0, 20);
  EXPECT_TRUE(r.covers);  // the log starts at 1
  EXPECT_EQ(r.zxids, Range(1, 20));
  EXPECT_EQ(r.error, "");
  r = ReadRange(d.path(), 5, 12);
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(6, 12));
  r = ReadRange(d.path(), 10, 11);  // across a segment boundary
  EXPECT_EQ(r.zxids, Range(11, 11));
  r = ReadRange(d.path(), 18, kE1 + 3);  // into the next epoch
  EXPECT_TRUE(r.covers);
  std::vector<int64_t> want = Range(19, 20);
  for (int64_t z : Range(kE1 + 1, kE1 + 3)) want.push_back(z);
  EXPECT_EQ(r.zxids, want);
  r = ReadRange(d.path(), kE1 + 5, kE1 + 5);  // up to date: nothing to send
  EXPECT_TRUE(r.covers);
  EXPECT_TRUE(r.zxids.empty());
  EXPECT_EQ(r.error, "");
}

TEST_F(LogRangeTest, FromNotInTheLogIsNotCovered) {
  // A zxid of epoch 0 this log never had (a learner's uncommitted txn).
  Read r = ReadRange(d.path(), 25, kE1 + 5);
  EXPECT_FALSE(r.covers);
  // Beyond the log.
  r = ReadRange(d.path(), kE1 + 9, kE1 + 9);
  EXPECT_FALSE(r.covers);
  // A fresh learner and a log that starts with an epoch: SNAP.
  TempDir e;
  WriteLog(e.path(), {Range(kE1 + 1, kE1 + 3)});
  r = ReadRange(e.path(), 0, kE1 + 3);
  EXPECT_FALSE(r.covers);
  r = ReadRange(e.path(), kE1 + 1, kE1 + 3);
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(kE1 + 2, kE1 + 3));
}

TEST_F(LogRangeTest, PurgedSegmentsAreNotCovered) {
  const std::vector<FileEntry> segs = ListSegments(d.path());
  ASSERT_EQ(unlink(segs[0].path.c_str()), 0);
  int64_t oldest = 0;
  std::string err;
  ASSERT_TRUE(OldestLoggedZxid(d.path(), &oldest, &err)) << err;
  EXPECT_EQ(oldest, 11);
  EXPECT_FALSE(ReadRange(d.path(), 5, 20).covers);
  EXPECT_FALSE(ReadRange(d.path(), 9, 20).covers);
  Read r = ReadRange(d.path(), 10, 20);  // the log starts right after it
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(11, 20));
  r = ReadRange(d.path(), 11, 13);
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(12, 13));
}

// A learner that installed a SNAP at 20 on top of its old log (1..5) rolled
// to log.21: a DIFF from 20 skips the gap; from inside the gap it is not
// covered (SNAP).
TEST(LogRange, SegmentOpenedAfterASnapCoversItsPredecessor) {
  TempDir e;
  WriteLog(e.path(), {Range(1, 5), Range(21, 25)});
  Read r = ReadRange(e.path(), 20, 25);
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(21, 25));
  EXPECT_EQ(r.error, "");
  r = ReadRange(e.path(), 22, 24);
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(23, 24));
  LogRangeReader gap;
  std::string err;
  EXPECT_FALSE(gap.Open(e.path(), 10, 25, &err) && gap.covers_from());
}

// A member restarted at 1:9 opened log.<1:10>; the next txn it logged was
// the new leader's 2:1. A DIFF from 1:9 starts there.
TEST(LogRange, SegmentOpenedAtARestartCoversTheNextEpoch) {
  TempDir e;
  const int64_t e2 = int64_t{2} << 32;
  {
    Wal wal(WalOptions{e.path(), false, 4096});
    std::string err;
    ASSERT_TRUE(wal.Open(kE1 + 1, &err)) << err;
    for (int64_t z : Range(kE1 + 1, kE1 + 9)) ASSERT_TRUE(wal.Append(T(z), &err)) << err;
    ASSERT_TRUE(wal.Roll(kE1 + 10, &err)) << err;
    for (int64_t z : Range(e2 + 1, e2 + 4)) ASSERT_TRUE(wal.Append(T(z), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
  }
  Read r = ReadRange(e.path(), kE1 + 9, e2 + 4);
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(e2 + 1, e2 + 4));
  EXPECT_EQ(r.error, "");
  r = ReadRange(e.path(), kE1 + 5, e2 + 2);
  EXPECT_TRUE(r.covers);
  std::vector<int64_t> want = Range(kE1 + 6, kE1 + 9);
  for (int64_t z : Range(e2 + 1, e2 + 2)) want.push_back(z);
  EXPECT_EQ(r.zxids, want);
}

TEST_F(LogRangeTest, ShortLogAndGapsAreErrors) {
  Read r = ReadRange(d.path(), 15, kE1 + 8);
  EXPECT_EQ(r.zxids.size(), 10u);
  EXPECT_NE(r.error.find("the log ends at zxid " + std::to_string(kE1 + 5)), std::string::npos) << r.error;
  TempDir g;
  WriteLog(g.path(), {Range(1, 5), Range(8, 10)});
  r = ReadRange(g.path(), 2, 10);
  EXPECT_EQ(r.zxids, Range(3, 5));
  EXPECT_NE(r.error.find("zxid gap, 8 after 5"), std::string::npos) << r.error;
}

TEST_F(LogRangeTest, CorruptRecordInTheRangeIsAnError) {
  const std::vector<FileEntry> segs = ListSegments(d.path());
  std::string bytes = testing::ReadAll(segs[1].path);
  bytes[kWalHeaderBytes + 20] ^= 0x55;  // inside the first record of log.11
  testing::WriteAll(segs[1].path, bytes);
  Read r = ReadRange(d.path(), 5, 15);
  EXPECT_EQ(r.zxids, Range(6, 10));
  EXPECT_NE(r.error.find("log.000000000000000b"), std::string::npos) << r.error;
}

// A range never reads past `to`: a damaged record right after it (here the
// writer's next record, as a torn write would leave it) is no error, and
// inside the range it still is.
TEST_F(LogRangeTest, StopsAtToWithoutReadingTheRecordAfterIt) {
  const std::vector<FileEntry> segs = ListSegments(d.path());
  std::string bytes = testing::ReadAll(segs[1].path);
  bytes[kWalHeaderBytes + 20] ^= 0x55;  // inside the first record of log.11
  testing::WriteAll(segs[1].path, bytes);
  Read r = ReadRange(d.path(), 5, 10);
  EXPECT_EQ(r.zxids, Range(6, 10));
  EXPECT_EQ(r.error, "");
}

// The end of a segment's data is its zero length field: a range reader
// does not scan the (preallocated, 64 MiB in production) rest of the file,
// so bytes there do not stop it; the next segment's zxids must follow.
TEST_F(LogRangeTest, TrustsTheEndOfDataMarkerOfASegment) {
  const std::vector<FileEntry> segs = ListSegments(d.path());
  std::string bytes = testing::ReadAll(segs[0].path);
  // A closed segment is cut at its data's end; as if that cut had not
  // happened: an end-of-data marker, then stray bytes after it.
  bytes.append(64, '\0');
  bytes.back() = 0x7f;
  testing::WriteAll(segs[0].path, bytes);
  Read r = ReadRange(d.path(), 5, 15);
  EXPECT_EQ(r.zxids, Range(6, 15));
  EXPECT_EQ(r.error, "");
}

TEST(LogRange, OldestLoggedZxid) {
  TempDir d;
  int64_t oldest = 0;
  std::string err;
  ASSERT_TRUE(OldestLoggedZxid(d.path(), &oldest, &err)) << err;
  EXPECT_EQ(oldest, -1);
  {
    Wal wal(WalOptions{d.path(), false, 4096});
    ASSERT_TRUE(wal.Open(1, &err)) << err;  // an empty first segment
    ASSERT_TRUE(wal.Roll(kE1 + 1, &err)) << err;
    for (int64_t z : Range(kE1 + 1, kE1 + 4)) ASSERT_TRUE(wal.Append(T(z), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
  }
  ASSERT_TRUE(OldestLoggedZxid(d.path(), &oldest, &err)) << err;
  EXPECT_EQ(oldest, kE1 + 1);
}

// The leader reads committed txns while its writer keeps appending to the
// same, preallocated segment.
TEST(LogRange, ReadsTheSegmentBeingWritten) {
  TempDir d;
  Wal wal(WalOptions{d.path(), false, 1 << 20});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  for (int64_t z : Range(1, 50)) ASSERT_TRUE(wal.Append(T(z), &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;
  for (int64_t z : Range(51, 60)) ASSERT_TRUE(wal.Append(T(z), &err)) << err;  // not synced yet
  Read r = ReadRange(d.path(), 40, 50);
  EXPECT_TRUE(r.covers);
  EXPECT_EQ(r.zxids, Range(41, 50));
  EXPECT_EQ(r.error, "");
  LogRangeReader reader;
  ASSERT_TRUE(reader.Open(d.path(), 45, 50, &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;  // the writer goes on while the range is read
  for (int64_t z : Range(61, 70)) ASSERT_TRUE(wal.Append(T(z), &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;
  std::vector<int64_t> got;
  txn::Txn t;
  while (reader.Next(&t)) got.push_back(t.zxid);
  EXPECT_EQ(got, Range(46, 50));
  EXPECT_EQ(reader.error(), "");
}

}  // namespace
}  // namespace aviary::storage
