// ZooKeeper snapshots: the ones a real ZooKeeper 3.8 wrote (testdata/), our
// writer read back, streamed SNAP bodies, and hostile input.
#include "zkformat/snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture.h"
#include "proto/jute.h"
#include "storage/digest.h"
#include "txn/apply.h"
#include "zkformat/digest.h"
#include "zkformat/files.h"

namespace aviary::zkformat {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/zkformat-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ZkSnapshot, ZooKeepersSnapshotEqualsItsLogReplayed) {
  tree::DataTree snap;
  ZkSnapshot info;
  std::string error;
  ASSERT_TRUE(ReadZkSnapshotFile(testing::TestData("snapshot.23"), &snap, &info, &error)) << error;
  EXPECT_EQ(info.dbid, -1);
  EXPECT_FALSE(info.sessions.empty());  // the session left open
  ASSERT_TRUE(info.digest.has_value());
  EXPECT_EQ(info.digest->zxid, 0x23);
  EXPECT_EQ(info.digest->digest, TreeDigestOf(snap));

  tree::DataTree replayed;
  for (const ZkTxn& z : testing::FixtureTxns()) {
    if (z.txn.zxid <= 0x23) txn::Apply(replayed, z.txn);
  }
  EXPECT_EQ(storage::TreeDigest(snap), storage::TreeDigest(replayed));
  EXPECT_EQ(snap.NodeCount(), replayed.NodeCount());
  const tree::Node* nd = snap.Find("/nulldata");
  ASSERT_NE(nd, nullptr);
  EXPECT_TRUE(nd->data_null);
  const tree::Node* ttl = snap.Find("/ttl");
  ASSERT_NE(ttl, nullptr);
  EXPECT_EQ(ttl->kind, tree::NodeKind::kTtl);
  EXPECT_EQ(ttl->ttl_ms(), 3600000);
  EXPECT_EQ(snap.Containers().count("/cont2"), 1u);
}

TEST(ZkSnapshot, EmptySnapshotIsAFreshTree) {
  tree::DataTree snap, fresh;
  ZkSnapshot info;
  std::string error;
  ASSERT_TRUE(ReadZkSnapshotFile(testing::TestData("snapshot.0"), &snap, &info, &error)) << error;
  EXPECT_EQ(storage::TreeDigest(snap), storage::TreeDigest(fresh));
  ASSERT_TRUE(info.digest.has_value());
  EXPECT_EQ(info.digest->zxid, 0);  // ZooKeeper writes an empty digest at zxid 0
}

TEST(ZkSnapshot, WrittenFileReadsBackTheSameTree) {
  tree::DataTree snap;
  ZkSnapshot info;
  std::string error;
  ASSERT_TRUE(ReadZkSnapshotFile(testing::TestData("snapshot.23"), &snap, &info, &error)) << error;
  TempDir dir;
  ASSERT_TRUE(WriteZkSnapshotFile(dir.path(), 0x23, snap, info.sessions, &error)) << error;
  tree::DataTree back;
  ZkSnapshot info2;
  ASSERT_TRUE(ReadZkSnapshotFile(dir.path() + "/snapshot.23", &back, &info2, &error)) << error;
  EXPECT_EQ(storage::TreeDigest(back), storage::TreeDigest(snap));
  EXPECT_EQ(info2.sessions, info.sessions);
  ASSERT_TRUE(info2.digest.has_value());
  EXPECT_EQ(info2.digest->zxid, 0x23);
  EXPECT_EQ(info2.digest->digest, info.digest->digest);
  // Same tree, same bytes.
  TempDir dir2;
  ASSERT_TRUE(WriteZkSnapshotFile(dir2.path(), 0x23, back, info2.sessions, &error)) << error;
  EXPECT_EQ(Slurp(dir2.path() + "/snapshot.23"), Slurp(dir.path() + "/snapshot.23"));
}

TEST(ZkSnapshot, StreamedBodyByteByByteGivesTheSameTree) {
  std::string file = Slurp(testing::TestData("snapshot.23"));
  std::string body = file.substr(16);
  tree::DataTree whole, streamed;
  size_t used = 0;
  SnapshotLoader a(&whole);
  ASSERT_EQ(a.Feed(body, &used), SnapshotLoader::Status::kDone) << a.error();
  size_t body_bytes = used;
  SnapshotLoader b(&streamed);
  std::string pending;
  SnapshotLoader::Status st = SnapshotLoader::Status::kNeedMore;
  for (size_t i = 0; i < body_bytes && st == SnapshotLoader::Status::kNeedMore; ++i) {
    pending.push_back(body[i]);
    st = b.Feed(pending, &used);
    pending.erase(0, used);
  }
  ASSERT_EQ(st, SnapshotLoader::Status::kDone) << b.error();
  EXPECT_TRUE(pending.empty());
  EXPECT_EQ(storage::TreeDigest(whole), storage::TreeDigest(streamed));
  EXPECT_EQ(a.sessions(), b.sessions());
}

TEST(ZkSnapshot, EveryTruncationIsAnError) {
  std::string file = Slurp(testing::TestData("snapshot.23"));
  for (size_t n = 0; n < file.size(); ++n) {
    tree::DataTree t;
    ZkSnapshot info;
    std::string error;
    // Cutting exactly the digest section off leaves a valid pre-3.6 file.
    bool ok = ParseZkSnapshot(std::string_view(file).substr(0, n), "snapshot.23", &t, &info, &error);
    EXPECT_EQ(ok, n == file.size() - 33) << "length " << n;
    if (!ok) {
      EXPECT_FALSE(error.empty());
    }
  }
}

TEST(ZkSnapshot, HostileBodiesFailCleanly) {
  std::string body = Slurp(testing::TestData("snapshot.23")).substr(16);
  uint32_t seed = 99;
  for (int i = 0; i < 3000; ++i) {
    std::string b = body;
    for (int k = 0; k < 1 + i % 3; ++k) {
      seed = seed * 1103515245 + 12345;
      b[seed % b.size()] = static_cast<char>(seed >> 16);
    }
    tree::DataTree t;
    SnapshotLoader l(&t);
    size_t used = 0;
    SnapshotLoader::Status st = l.Feed(b, &used);
    if (st == SnapshotLoader::Status::kError) {
      EXPECT_FALSE(l.error().empty());
    }
  }
  // Huge counts and lengths are refused before any allocation.
  std::string huge("\x7f\xff\xff\xff", 4);  // 2^31-1 sessions, none present
  tree::DataTree t;
  SnapshotLoader l(&t);
  size_t used = 0;
  EXPECT_EQ(l.Feed(huge, &used), SnapshotLoader::Status::kNeedMore);
  std::string bad_acl = std::string(4, '\0') + std::string("\0\0\0\1", 4) + std::string(8, '\0') + "\x7f\xff\xff\xff";
  tree::DataTree t2;
  SnapshotLoader l2(&t2);
  EXPECT_EQ(l2.Feed(bad_acl, &used), SnapshotLoader::Status::kError);
}

TEST(ZkSnapshot, SnapSignatureFollowsTheBody) {
  std::string s;
  WriteSnapSignature(&s);
  EXPECT_EQ(s, std::string("\0\0\0\x0a", 4) + "BenWasHere");
  size_t used = 0;
  EXPECT_EQ(ReadSnapSignature(s + "rest", &used), SnapshotLoader::Status::kDone);
  EXPECT_EQ(used, 14u);
  EXPECT_EQ(ReadSnapSignature(s.substr(0, 9), &used), SnapshotLoader::Status::kNeedMore);
  EXPECT_EQ(ReadSnapSignature(std::string("\0\0\0\x0a", 4) + "BenWasTher", &used), SnapshotLoader::Status::kError);
  EXPECT_EQ(ReadSnapSignature(std::string("\x7f\0\0\0", 4), &used), SnapshotLoader::Status::kError);
}

// A learner's view of a SNAP: body + signature + the next packet's bytes,
// arriving in uneven pieces; the reader stops exactly after the signature.
TEST(ZkSnapshot, SnapSectionStopsAfterTheSignature) {
  tree::DataTree src;
  ZkSnapshot info;
  std::string error;
  ASSERT_TRUE(ReadZkSnapshotFile(testing::TestData("snapshot.23"), &src, &info, &error)) << error;
  std::string stream;
  ASSERT_TRUE(WriteSnapshotBody(src, info.sessions, [&](std::string_view b) {
    stream.append(b);
    return true;
  }));
  WriteSnapSignature(&stream);
  const size_t section_bytes = stream.size();
  stream += "NEXTPACKET";
  tree::DataTree dst;
  SnapSectionReader r(&dst);
  std::string pending;
  size_t fed = 0, total_consumed = 0;
  SnapshotLoader::Status st = SnapshotLoader::Status::kNeedMore;
  for (size_t step = 1; st == SnapshotLoader::Status::kNeedMore && fed < stream.size(); step = step % 97 + 13) {
    pending.append(stream.substr(fed, step));
    fed += std::min(step, stream.size() - fed);
    size_t used = 0;
    st = r.Feed(pending, &used);
    pending.erase(0, used);
    total_consumed += used;
  }
  ASSERT_EQ(st, SnapshotLoader::Status::kDone) << r.error();
  EXPECT_EQ(total_consumed, section_bytes);
  EXPECT_EQ(storage::TreeDigest(dst), storage::TreeDigest(src));
  EXPECT_EQ(r.loader().sessions(), info.sessions);

  tree::DataTree bad;
  SnapSectionReader nosig(&bad);
  size_t used = 0;
  std::string body = stream.substr(0, section_bytes - 14) + std::string("\0\0\0\x05hello", 9);
  EXPECT_EQ(nosig.Feed(body, &used), SnapshotLoader::Status::kError);
  EXPECT_NE(nosig.error().find("BenWasHere"), std::string::npos);
}

TEST(ZkSnapshot, NodeBeforeItsParentIsRefused) {
  std::string body;
  proto::jute::Writer w(&body);
  w.WriteInt32(0);  // sessions
  w.WriteInt32(0);  // ACLs
  auto node = [&](const std::string& path) {
    w.WriteString(path);
    w.WriteBuffer("");
    w.WriteInt64(-1);
    for (int i = 0; i < 4; ++i) w.WriteInt64(0);
    for (int i = 0; i < 3; ++i) w.WriteInt32(0);
    w.WriteInt64(0);
    w.WriteInt64(0);
  };
  node("");
  node("/a/b");
  w.WriteString("/");
  tree::DataTree t;
  SnapshotLoader l(&t);
  size_t used = 0;
  EXPECT_EQ(l.Feed(body, &used), SnapshotLoader::Status::kError);
  EXPECT_NE(l.error().find("parent"), std::string::npos) << l.error();
}

}  // namespace
}  // namespace aviary::zkformat

namespace aviary::zkformat {
namespace {

// A snapshot (from a leader's SNAP or a file) rebuilds the quota roots and
// recounts the stats nodes, as ZooKeeper's DataTree.deserialize does.
TEST(ZkSnapshot, LoadRecountsQuotaStats) {
  const proto::AclList open = {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}};
  tree::DataTree t;
  int64_t z = 0;
  for (const char* p : {"/q", "/q/a", "/zookeeper/quota/q"}) {
    ASSERT_EQ(t.CreateNode(p, "xy", open, tree::NodeKind::kPersistent, 0, 0, -1, ++z, 1), proto::Err::kOk);
  }
  ASSERT_EQ(t.CreateNode("/zookeeper/quota/q/zookeeper_limits", "count=5,bytes=-1", open, tree::NodeKind::kPersistent,
                         0, 0, -1, ++z, 1),
            proto::Err::kOk);
  ASSERT_EQ(t.CreateNode("/zookeeper/quota/q/zookeeper_stats", "", open, tree::NodeKind::kPersistent, 0, 0, -1, ++z, 1),
            proto::Err::kOk);
  // A client's write into the stats node (or a fuzzy copy of it).
  ASSERT_EQ(t.SetData("/zookeeper/quota/q/zookeeper_stats", "count=900,bytes=1", 1, ++z, 2), proto::Err::kOk);
  std::string body;
  ASSERT_TRUE(WriteSnapshotBody(t, {}, [&](std::string_view b) {
    body.append(b);
    return true;
  }));
  tree::DataTree loaded;
  SnapshotLoader loader(&loaded);
  size_t used = 0;
  ASSERT_EQ(loader.Feed(body, &used), SnapshotLoader::Status::kDone) << loader.error();
  EXPECT_EQ(loaded.Find("/zookeeper/quota/q/zookeeper_stats")->data, "count=2,bytes=4");
  EXPECT_TRUE(loaded.quotas().Contains("/q"));
  ASSERT_EQ(loaded.CreateNode("/q/b", "123", open, tree::NodeKind::kPersistent, 0, 0, -1, ++z, 3), proto::Err::kOk);
  EXPECT_EQ(loaded.Find("/zookeeper/quota/q/zookeeper_stats")->data, "count=3,bytes=7");
}

}  // namespace
}  // namespace aviary::zkformat
