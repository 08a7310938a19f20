// SnapStream (server/snap_stream.h): a leader's SNAP body for a tree of
// several MB comes out of the child's pipe in bounded pieces, parses back
// (SnapSectionReader, as an Aviary learner reads it) to exactly the tree and
// sessions at Start, whatever the core does to the tree afterwards; a
// stream dropped half-way leaves no child behind.
#include "server/snap_stream.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "storage/digest.h"
#include "zkformat/snapshot.h"

namespace aviary::server {
namespace {

proto::AclList Acl(int i) {
  proto::AclList a = {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}};
  if (i % 3 == 1) a.push_back(proto::Acl{proto::perms::kRead, proto::Id{"ip", "10.0.0." + std::to_string(i % 7)}});
  return a;
}

// ~10 MB: 40 parents x 50 children of 5 KiB, various ACLs, some ephemerals.
void Fill(tree::DataTree* t) {
  int64_t zxid = 1;
  for (int p = 0; p < 40; ++p) {
    const std::string parent = "/p" + std::to_string(p);
    ASSERT_EQ(t->CreateNode(parent, "", Acl(p), tree::NodeKind::kPersistent, 0, 0, -1, zxid++, 1000), proto::Err::kOk);
    for (int c = 0; c < 50; ++c) {
      const bool eph = c % 10 == 0;
      ASSERT_EQ(t->CreateNode(parent + "/c" + std::to_string(c), std::string(5120, static_cast<char>('a' + c % 26)),
                              Acl(c), eph ? tree::NodeKind::kEphemeral : tree::NodeKind::kPersistent, eph ? 0x77 : 0, 0,
                              -1, zxid++, 1000 + c),
                proto::Err::kOk);
    }
  }
}

struct Drained {
  SnapStream::Status status = SnapStream::Status::kMore;
  size_t bytes = 0;
  size_t largest_piece = 0;
  zkformat::SnapshotLoader::Status parsed = zkformat::SnapshotLoader::Status::kNeedMore;
  std::string error;
};

// Reads the stream as the consensus thread does (pieces of at most
// `piece` bytes) and parses it as a learner does.
Drained Drain(SnapStream& s, size_t piece, tree::DataTree* into, std::vector<storage::SessionRecord>* sessions) {
  Drained d;
  zkformat::SnapSectionReader reader(into);
  std::string pending;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (d.status == SnapStream::Status::kMore && std::chrono::steady_clock::now() < deadline) {
    std::string got;
    d.status = s.Read(piece, &got);
    d.largest_piece = std::max(d.largest_piece, got.size());
    d.bytes += got.size();
    if (got.empty() && d.status == SnapStream::Status::kMore) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    pending += got;
    size_t used = 0;
    if (d.parsed == zkformat::SnapshotLoader::Status::kNeedMore) {
      d.parsed = reader.Feed(pending, &used);
      pending.erase(0, used);
    }
  }
  d.error = reader.error();
  *sessions = reader.loader().sessions();
  return d;
}

TEST(SnapStream, LargeTreeStreamsInBoundedPiecesAndParsesBackExactly) {
  tree::DataTree live;
  Fill(&live);
  const uint64_t at_start = storage::TreeDigest(live);
  const std::vector<storage::SessionRecord> sessions = {{0x77, 6000}, {0x78, 9000}};
  std::string error;
  std::unique_ptr<SnapStream> s = SnapStream::Start(live, sessions, &error);
  ASSERT_NE(s, nullptr) << error;
  // The core goes on after the fork: the body is still the tree at Start.
  for (int c = 0; c < 50; ++c) live.SetData("/p0/c" + std::to_string(c), "changed", -1, 99999, 2000);
  ASSERT_EQ(live.CreateNode("/later", "", Acl(2), tree::NodeKind::kPersistent, 0, 0, -1, 100000, 2000),
            proto::Err::kOk);
  ASSERT_NE(storage::TreeDigest(live), at_start);

  tree::DataTree copy;
  std::vector<storage::SessionRecord> got_sessions;
  const size_t piece = 64 << 10;
  Drained d = Drain(*s, piece, &copy, &got_sessions);
  ASSERT_EQ(d.status, SnapStream::Status::kDone) << s->error();
  EXPECT_EQ(d.parsed, zkformat::SnapshotLoader::Status::kDone) << d.error;
  EXPECT_GT(d.bytes, size_t{10000000});
  EXPECT_EQ(static_cast<size_t>(s->bytes_read()), d.bytes);
  EXPECT_LE(d.largest_piece, piece);
  EXPECT_EQ(got_sessions, sessions);
  EXPECT_EQ(copy.NodeCount(), live.NodeCount() - 1);  // no /later
  EXPECT_EQ(storage::TreeDigest(copy), at_start);
  EXPECT_EQ(copy.Find("/p0/c1")->data, std::string(5120, 'b'));
  EXPECT_EQ(copy.AclOf(*copy.Find("/p3/c4")), Acl(4));
}

TEST(SnapStream, DroppedHalfWayLeavesNoChild) {
  tree::DataTree live;
  Fill(&live);
  std::string error;
  std::unique_ptr<SnapStream> s = SnapStream::Start(live, {}, &error);
  ASSERT_NE(s, nullptr) << error;
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got.size() < 4096 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(s->Read(4096, &got), SnapStream::Status::kMore);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GT(got.size(), 0u);
  s.reset();  // the learner went away: the child (blocked on the full pipe) is killed and reaped
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace aviary::server
