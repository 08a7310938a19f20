// Decoded reads' path strings recycled between the core and the I/O threads
// (server/path_pool.h): a read's path decodes into storage the core handed
// back, bounded on both sides, and the core keeps the paths of the reads it
// answers, at once or from a session queue behind a write.
#include "server/path_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core_harness.h"
#include "proto/codec.h"

namespace aviary::server::testing {
namespace {

using proto::OpCode;
using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;

// The payload of a request frame (the length prefix stripped), as the
// network hands it to Server::OnFrames.
std::string Payload(int32_t xid, OpCode op, proto::RequestBody body) {
  proto::Request req;
  req.header = proto::RequestHeader{xid, static_cast<int32_t>(op)};
  req.body = std::move(body);
  std::string frame;
  proto::EncodeRequest(req, &frame);
  return frame.substr(4);
}

const std::string kLongPath = "/bench-key-0000000123";  // past std::string's inline bytes

// (path, watch) of a {path, watch} read body.
std::pair<std::string, bool> PathWatch(const proto::Request& r) {
  if (auto* b = std::get_if<proto::GetDataRequest>(&r.body)) return {b->path, b->watch};
  if (auto* b = std::get_if<proto::ExistsRequest>(&r.body)) return {b->path, b->watch};
  if (auto* b = std::get_if<proto::GetChildrenRequest>(&r.body)) return {b->path, b->watch};
  ADD_FAILURE() << "not a {path, watch} body";
  return {};
}

TEST(PathPool, ReadDecodesIntoSeededStorage) {
  struct Case {
    OpCode op;
    proto::RequestBody body;
  };
  std::vector<Case> cases = {
      {OpCode::kGetData, proto::GetDataRequest{kLongPath, true}},
      {OpCode::kExists, proto::ExistsRequest{kLongPath, false}},
      {OpCode::kGetChildren, proto::GetChildrenRequest{kLongPath, true}},
      {OpCode::kGetChildren2, proto::GetChildrenRequest{kLongPath, false}},
  };
  for (auto& tc : cases) {
    std::vector<std::string> spares(1);
    spares[0].reserve(64);
    const char* storage = spares[0].data();
    const std::string payload = Payload(7, tc.op, tc.body);
    proto::Request req;
    PathPool::SeedPath(payload, &req, &spares);
    EXPECT_TRUE(spares.empty()) << static_cast<int>(tc.op);
    ASSERT_EQ(proto::DecodeRequest(payload, &req), proto::Err::kOk);
    proto::Request fresh;
    ASSERT_EQ(proto::DecodeRequest(payload, &fresh), proto::Err::kOk);
    EXPECT_EQ(req.header.xid, 7);
    EXPECT_EQ(req.body.index(), fresh.body.index()) << static_cast<int>(tc.op);
    EXPECT_EQ(PathWatch(req), PathWatch(fresh)) << static_cast<int>(tc.op);
    std::string* path = RecyclablePath(req);
    ASSERT_NE(path, nullptr);
    EXPECT_EQ(*path, kLongPath);
    EXPECT_EQ(path->data(), storage) << "decoded into the seeded storage, not a new allocation";
  }
}

// A setData decodes its path and its data into two spares (and a null
// buffer stays null); with one spare only its path is seeded.
TEST(PathPool, SetDataDecodesIntoSeededPathAndData) {
  const std::string value(100, 'v');  // past the inline bytes, as a bench's value
  for (const bool null_data : {false, true}) {
    std::vector<std::string> spares(3);
    for (auto& sp : spares) sp.reserve(128);
    const char* data_storage = spares[1].data();
    const char* path_storage = spares[2].data();
    const std::string payload =
        Payload(9, OpCode::kSetData, proto::SetDataRequest{kLongPath, null_data ? "" : value, 4, null_data});
    proto::Request req;
    PathPool::SeedPath(payload, &req, &spares);
    EXPECT_EQ(spares.size(), 1u);
    ASSERT_EQ(proto::DecodeRequest(payload, &req), proto::Err::kOk);
    const auto& b = std::get<proto::SetDataRequest>(req.body);
    EXPECT_EQ(b.path, kLongPath);
    EXPECT_EQ(b.version, 4);
    EXPECT_EQ(b.data_null, null_data);
    EXPECT_EQ(b.data, null_data ? "" : value);
    EXPECT_EQ(b.path.data(), path_storage);
    if (!null_data) {
      EXPECT_EQ(b.data.data(), data_storage);
    }
  }
  std::vector<std::string> one(1);
  one[0].reserve(64);
  proto::Request req;
  const std::string payload = Payload(10, OpCode::kSetData, proto::SetDataRequest{kLongPath, "w", -1, false});
  PathPool::SeedPath(payload, &req, &one);
  EXPECT_TRUE(one.empty());
  ASSERT_EQ(proto::DecodeRequest(payload, &req), proto::Err::kOk);
  EXPECT_EQ(std::get<proto::SetDataRequest>(req.body).data, "w");
  // Decoding a second set into the same body sets every field again.
  ASSERT_EQ(proto::DecodeRequest(Payload(11, OpCode::kSetData, proto::SetDataRequest{"/b", "", 7, true}), &req),
            proto::Err::kOk);
  const auto& b = std::get<proto::SetDataRequest>(req.body);
  EXPECT_EQ(req.header.xid, 11);
  EXPECT_EQ(b.path, "/b");
  EXPECT_EQ(b.data, "");
  EXPECT_TRUE(b.data_null);
  EXPECT_EQ(b.version, 7);
}

TEST(PathPool, OtherRequestsAreNotSeeded) {
  std::vector<std::string> spares(1);
  spares[0].reserve(64);
  for (const std::string& payload :
       {Payload(1, OpCode::kCreate, proto::CreateRequest{kLongPath, "v", {}, 0, -1}),
        Payload(2, OpCode::kPing, proto::Empty{}), Payload(3, OpCode::kSync, proto::SyncRequest{kLongPath}),
        std::string("\0\0\0\1", 4) /* no opcode */}) {
    proto::Request req;
    PathPool::SeedPath(payload, &req, &spares);
    EXPECT_EQ(spares.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<proto::Empty>(req.body));
  }
}

TEST(PathPool, DecodingIntoABodyOfTheSameTypeSetsEveryField) {
  proto::Request req;
  ASSERT_EQ(
      proto::DecodeRequest(Payload(1, OpCode::kGetData, proto::GetDataRequest{kLongPath + "/longer", true}), &req),
      proto::Err::kOk);
  ASSERT_EQ(proto::DecodeRequest(Payload(2, OpCode::kGetData, proto::GetDataRequest{"/a", false}), &req),
            proto::Err::kOk);
  EXPECT_EQ(req.header.xid, 2);
  ASSERT_TRUE(std::holds_alternative<proto::GetDataRequest>(req.body));
  EXPECT_EQ(PathWatch(req), std::make_pair(std::string("/a"), false));
  // A truncated one still fails (and its body is not used).
  std::string cut = Payload(3, OpCode::kGetData, proto::GetDataRequest{kLongPath, true});
  cut.resize(cut.size() - 3);
  EXPECT_EQ(proto::DecodeRequest(cut, &req), proto::Err::kMarshallingError);
  // Another type replaces the body.
  ASSERT_EQ(proto::DecodeRequest(Payload(4, OpCode::kExists, proto::ExistsRequest{"/b", true}), &req), proto::Err::kOk);
  ASSERT_TRUE(std::holds_alternative<proto::ExistsRequest>(req.body));
  EXPECT_EQ(PathWatch(req), std::make_pair(std::string("/b"), true));
}

TEST(PathPool, KeepsOnlyWhatIsWorthKeepingAndStaysBounded) {
  PathPool pool;
  std::string inline_only = "/a";  // std::string's own buffer: nothing to keep
  pool.Keep(inline_only);
  std::string huge(PathPool::kMaxCapacity + 1, 'x');
  pool.Keep(huge);
  EXPECT_EQ(pool.kept(), 0u);
  EXPECT_EQ(huge.size(), PathPool::kMaxCapacity + 1) << "left as it was";

  for (size_t i = 0; i < PathPool::kMaxKept + 10; ++i) {
    std::string s = kLongPath;
    pool.Keep(s);
  }
  EXPECT_EQ(pool.kept(), PathPool::kMaxKept);
  pool.Publish();
  EXPECT_EQ(pool.kept(), 0u);
  EXPECT_EQ(pool.pooled(), std::min(PathPool::kMaxKept, PathPool::kMaxPooled));
  for (int round = 0; round < 3; ++round) {  // a full pool frees what does not fit
    for (int i = 0; i < 10; ++i) {
      std::string s = kLongPath;
      pool.Keep(s);
    }
    pool.Publish();
    EXPECT_LE(pool.pooled(), PathPool::kMaxPooled);
  }

  std::vector<std::string> got;
  pool.Take(&got, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_GE(got[0].capacity(), kLongPath.size());
  const size_t left = pool.pooled();
  pool.Take(&got, left + 100);
  EXPECT_EQ(got.size(), 5 + left);
  EXPECT_EQ(pool.pooled(), 0u);
}

// Reads behind a write of their session run from the queue once it commits,
// in order, and their paths go to the pool with those of the reads answered
// at once; the queued requests count in Backlog() until then.
TEST(PathPool, CoreKeepsThePathsOfTheReadsItAnswers) {
  CoreHarness h(/*held=*/true);
  h.Handshake(1, kT0);
  h.Handshake(2, kT0);
  h.Send(1, 1, OpCode::kCreate, CreateBody(kLongPath, "v"));
  h.Run(kT0 + 1);
  h.held().Release();
  h.Run(kT0 + 2);
  h.Take(1);
  h.Take(2);
  const size_t before = h.core().path_pool().pooled();

  h.Send(1, 2, OpCode::kSetData, SetDataBody(kLongPath, "w"));
  for (int32_t xid = 3; xid < 8; ++xid) h.Send(1, xid, OpCode::kGetData, GetDataBody(kLongPath));
  h.Send(2, 1, OpCode::kExists, proto::ExistsRequest{kLongPath, false});  // answered at once
  h.Run(kT0 + 3);
  EXPECT_TRUE(h.Take(1).empty());
  ASSERT_EQ(h.Take(2).size(), 1u);
  EXPECT_EQ(h.core().Backlog(), 6) << "the write and the five reads behind it";
  EXPECT_EQ(h.core().path_pool().pooled(), before + 1) << "the exists answered at once";

  h.held().Release();
  h.Run(kT0 + 4);
  auto a = h.Take(1);
  ASSERT_EQ(a.size(), 6u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].hdr.xid, static_cast<int32_t>(i) + 2);
    EXPECT_EQ(a[i].hdr.err, 0);
  }
  for (size_t i = 1; i < a.size(); ++i) EXPECT_EQ(std::get<proto::GetDataResponse>(a[i].body).data, "w");
  EXPECT_EQ(h.core().Backlog(), 0);
  EXPECT_EQ(h.Credit(1), 8u) << "every frame handed back: 2 before, the write and its five reads now";
  EXPECT_EQ(h.core().path_pool().pooled(), before + 7) << "the five reads' paths and the set's (its data is inline)";

  // A committed set hands back its path and its data.
  h.Send(2, 2, OpCode::kSetData, SetDataBody(kLongPath, std::string(100, 'x')));
  h.Run(kT0 + 5);
  h.held().Release();
  h.Run(kT0 + 6);
  ASSERT_EQ(h.Take(2).size(), 1u);
  EXPECT_EQ(h.core().path_pool().pooled(), before + 9);
}

}  // namespace
}  // namespace aviary::server::testing
