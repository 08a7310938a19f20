// Snapshot format 3 (docs/format/snapshot.md): round trip with and without
// zstd, every block's corruption found and named, truncation, hostile
// records inside valid blocks, the threaded reader, and files of formats 1
// and 2 (as the previous writer made them) still loading.
#include <gtest/gtest.h>

#include <random>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "storage/snapshot_block.h"
#include "storage/snapshot_reader.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::Workload;
using testing::WriteAll;

std::string Build(const tree::DataTree& t, int64_t zxid, const std::vector<SessionRecord>& sessions,
                  snapblock::Codec codec, size_t step = 500) {
  SnapshotBuilder b(zxid, sessions, codec);
  std::string file;
  while (!b.Step(t, step, &file)) {
  }
  file += b.Finish();
  return file;
}

std::string SnapPath(const std::string& dir, int64_t zxid) {
  std::string err;
  EnsureDir(VersionDir(dir), &err);
  return VersionDir(dir) + "/" + SnapshotName(zxid);
}

RecoveryResult RecoverInto(const std::string& dir, tree::DataTree* t) {
  RecoveryOptions o;
  o.snap_dir = dir;
  o.log_dir = dir;
  return Recover(o, t);
}

// A workload tree plus `extra` nodes of 100 bytes under /big (many blocks).
void Grow(Workload* w, int ops, int extra) {
  for (int i = 0; i < ops; ++i) w->RandomOp();
  w->Run(Workload::Req(proto::OpCode::kCreate, proto::CreateRequest{"/big", "", testing::OpenAcl(), 0, -1}));
  for (int i = 0; i < extra; ++i) {
    w->Run(Workload::Req(
        proto::OpCode::kCreate,
        proto::CreateRequest{"/big/n" + std::to_string(i), std::string(100, 'a' + i % 26), testing::OpenAcl(), 0, -1}));
  }
}

// File offsets of every block.
std::vector<size_t> BlockOffsets(const std::string& file, size_t sessions) {
  std::vector<size_t> at;
  size_t off = kSnapHeaderBytes + sessions * kSnapSessionBytes + 4;
  while (off < file.size() - kSnapTrailerV3Bytes) {
    at.push_back(off);
    off += snapblock::kHeaderBytes + bytes::GetU32(file.data() + off + 10);
  }
  return at;
}

class SnapshotFormat : public ::testing::TestWithParam<snapblock::Codec> {};

TEST_P(SnapshotFormat, RoundTripManyBlocks) {
  TempDir d;
  Workload w(11);
  Grow(&w, 300, 6000);
  const std::string file = Build(w.tree, w.zxid, w.SessionList(), GetParam());
  EXPECT_EQ(bytes::GetU32(file.data() + 8), kSnapVersion);
  EXPECT_GE(BlockOffsets(file, w.SessionList().size()).size(), 3u);
  WriteAll(SnapPath(d.path(), w.zxid), file);
  std::string err;
  EXPECT_TRUE(VerifySnapshotFile(SnapPath(d.path(), w.zxid), &err)) << err;
  tree::DataTree t;
  const RecoveryResult r = RecoverInto(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.nodes_loaded, w.tree.NodeCount());
  EXPECT_EQ(TreeDigest(t), TreeDigest(w.tree));
  EXPECT_EQ(t.ApproximateDataSize(), w.tree.ApproximateDataSize());
  EXPECT_EQ(r.sessions, w.SessionList());
}

TEST_P(SnapshotFormat, EveryCorruptBlockIsNamedWithItsOffset) {
  TempDir d;
  Workload w(12);
  Grow(&w, 100, 5000);
  const std::string good = Build(w.tree, w.zxid, w.SessionList(), GetParam());
  const std::vector<size_t> blocks = BlockOffsets(good, w.SessionList().size());
  ASSERT_GE(blocks.size(), 3u);
  const std::string path = SnapPath(d.path(), w.zxid);
  for (size_t i = 0; i < blocks.size(); ++i) {
    SCOPED_TRACE(i);
    std::string bad = good;
    bad[blocks[i] + snapblock::kHeaderBytes + 7] ^= 0x20;  // inside the stored bytes
    WriteAll(path, bad);
    std::string err;
    EXPECT_FALSE(VerifySnapshotFile(path, &err));
    EXPECT_NE(err.find(path), std::string::npos) << err;
    EXPECT_NE(err.find("block " + std::to_string(i) + " checksum"), std::string::npos) << err;
    EXPECT_NE(err.find("offset " + std::to_string(blocks[i])), std::string::npos) << err;
    // The loader checks each block too (threaded and not), whatever Verify said.
    for (bool threaded : {false, true}) {
      SnapshotReader reader;
      reader.set_threaded(threaded);
      ASSERT_TRUE(reader.Open(path, &err)) << err;
      SnapshotNode n;
      while (reader.Next(&n)) {
      }
      EXPECT_FALSE(reader.done());
      EXPECT_NE(reader.error().find("offset " + std::to_string(blocks[i])), std::string::npos) << reader.error();
    }
  }
}

TEST_P(SnapshotFormat, HeaderAndTrailerDamageAndTruncation) {
  TempDir d;
  Workload w(13);
  Grow(&w, 200, 3000);
  const std::string good = Build(w.tree, w.zxid, w.SessionList(), GetParam());
  const std::string path = SnapPath(d.path(), w.zxid);
  std::string err;
  for (size_t at : {size_t{17}, size_t{kSnapHeaderBytes + 1}, good.size() - 10, good.size() - 2}) {
    std::string bad = good;
    bad[at] ^= 1;
    WriteAll(path, bad);
    EXPECT_FALSE(VerifySnapshotFile(path, &err)) << at;
    EXPECT_NE(err.find(path), std::string::npos) << err;
  }
  const std::vector<size_t> blocks = BlockOffsets(good, w.SessionList().size());
  for (size_t cut : {good.size() - 1, good.size() - kSnapTrailerV3Bytes, blocks[1], blocks[1] + 30, size_t{20}}) {
    WriteAll(path, good.substr(0, cut));
    EXPECT_FALSE(VerifySnapshotFile(path, &err)) << cut;
    EXPECT_NE(err.find(path), std::string::npos) << err;
  }
  // A whole block removed and the trailer kept: the sequence breaks.
  const size_t gap = blocks[2] - blocks[1];
  WriteAll(path, good.substr(0, blocks[1]) + good.substr(blocks[2]));
  EXPECT_FALSE(VerifySnapshotFile(path, &err));
  EXPECT_NE(err.find("block 2 where 1 belongs"), std::string::npos) << err << " gap " << gap;
}

INSTANTIATE_TEST_SUITE_P(Codecs, SnapshotFormat, ::testing::Values(snapblock::Codec::kNone, snapblock::Codec::kZstd));

TEST(SnapshotFormat3, ZstdShrinksTheFile) {
  Workload w(14);
  Grow(&w, 50, 8000);
  const std::string raw = Build(w.tree, w.zxid, {}, snapblock::Codec::kNone);
  const std::string packed = Build(w.tree, w.zxid, {}, snapblock::Codec::kZstd);
  EXPECT_LT(packed.size() * 3, raw.size());
  // Paths share prefixes and ACLs are table indexes: smaller than the
  // 100-byte payload plus Stat (60 bytes) plus a full path and ACL per node.
  EXPECT_LT(raw.size(), 8000u * 200);
}

// Records inside a block whose CRC is right (a writer bug, or a crafted
// file) are still bounds-checked: an error, never a crash.
TEST(SnapshotFormat3, HostileRecordsInValidBlocks) {
  TempDir d;
  const std::string path = SnapPath(d.path(), 5);
  std::mt19937_64 rng(99);
  Workload w(15);
  Grow(&w, 50, 10);
  const std::string good = Build(w.tree, 5, {}, snapblock::Codec::kNone);
  const size_t first = BlockOffsets(good, 0)[0];
  const std::string raw = good.substr(first + snapblock::kHeaderBytes, bytes::GetU32(good.data() + first + 6));
  for (int round = 0; round < 300; ++round) {
    std::string mutated = raw;
    const size_t flips = 1 + rng() % 8;
    for (size_t k = 0; k < flips; ++k) mutated[rng() % mutated.size()] = static_cast<char>(rng());
    if (round % 3 == 0) mutated.resize(rng() % mutated.size());
    std::string file = good.substr(0, first);
    snapblock::Seal(mutated, round % 2 == 0 ? snapblock::Codec::kZstd : snapblock::Codec::kNone, 0, &file);
    file += good.substr(good.size() - kSnapTrailerV3Bytes);
    WriteAll(path, file);
    for (bool threaded : {false, true}) {
      SnapshotReader reader;
      reader.set_threaded(threaded);
      std::string err;
      if (!reader.Open(path, &err)) continue;
      SnapshotNode n;
      while (reader.Next(&n)) {
      }
      if (!reader.done()) {
        EXPECT_NE(reader.error().find(path), std::string::npos);
      }
    }
  }
}

TEST(SnapshotFormat3, OldFormatFilesStillLoad) {
  for (uint32_t version : {1u, 2u}) {
    SCOPED_TRACE(version);
    TempDir d;
    Workload w(16);
    Grow(&w, 400, 2000);
    const std::string path = SnapPath(d.path(), w.zxid);
    WriteAll(path, testing::BuildV2Snapshot(w.tree, w.zxid, w.SessionList(), version));
    std::string err;
    EXPECT_TRUE(VerifySnapshotFile(path, &err)) << err;
    tree::DataTree t;
    const RecoveryResult r = RecoverInto(d.path(), &t);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.snapshot_zxid, w.zxid);
    EXPECT_EQ(TreeDigest(t), TreeDigest(w.tree));
    EXPECT_EQ(r.sessions, w.SessionList());
    // And a damaged old file is still refused.
    std::string bad = ReadAll(path);
    bad[bad.size() / 2] ^= 1;
    WriteAll(path, bad);
    EXPECT_FALSE(VerifySnapshotFile(path, &err));
  }
}

TEST(SnapshotFormat3, HardwareCrcMatchesKnownValues) {
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xE3069283u);
  std::string big(100003, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + 3);
  // Incremental at odd split points equals one pass.
  const uint32_t whole = Crc32c(0, big.data(), big.size());
  EXPECT_EQ(Crc32c(Crc32c(0, big.data(), 13), big.data() + 13, big.size() - 13), whole);
  EXPECT_EQ(Crc32c(Crc32c(0, big.data(), 50001), big.data() + 50001, big.size() - 50001), whole);
}

}  // namespace
}  // namespace aviary::storage
