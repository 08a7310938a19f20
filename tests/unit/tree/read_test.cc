#include "txn/read.h"

#include <gtest/gtest.h>

#include "helpers.h"
#include "txn/acl.h"

namespace aviary::txn {
namespace {

using proto::Err;
using proto::OpCode;
using testing::Ctx;
using testing::Fixture;
namespace perms = proto::perms;

proto::Request Req(OpCode op, proto::RequestBody body) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(op);
  r.body = std::move(body);
  return r;
}

TEST(Read, ExistsGetDataChildren) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a", "data")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a/y")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a/x")), Err::kOk);
  ReadOutcome r = ProcessRead(f.tree, Req(OpCode::kExists, proto::ExistsRequest{"/a", false}), Ctx());
  ASSERT_EQ(r.err, Err::kOk);
  EXPECT_EQ(std::get<proto::StatResponse>(r.body).stat, f.StatOf("/a"));
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kExists, proto::ExistsRequest{"/nope", true}), Ctx()).err, Err::kNoNode);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kExists, proto::ExistsRequest{std::string("/a\0", 3), true}), Ctx()).err,
            Err::kBadArguments);
  r = ProcessRead(f.tree, Req(OpCode::kGetData, proto::GetDataRequest{"/a", false}), Ctx());
  ASSERT_EQ(r.err, Err::kOk);
  EXPECT_EQ(std::get<proto::GetDataResponse>(r.body).data, "data");
  EXPECT_EQ(std::get<proto::GetDataResponse>(r.body).stat.numChildren, 2);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetData, proto::GetDataRequest{"/b", false}), Ctx()).err, Err::kNoNode);
  r = ProcessRead(f.tree, Req(OpCode::kGetChildren, proto::GetChildrenRequest{"/a", false}), Ctx());
  EXPECT_EQ(std::get<proto::GetChildrenResponse>(r.body).children, (std::vector<std::string>{"x", "y"}));
  r = ProcessRead(f.tree, Req(OpCode::kGetChildren2, proto::GetChildrenRequest{"/", false}), Ctx());
  EXPECT_EQ(std::get<proto::GetChildren2Response>(r.body).children, (std::vector<std::string>{"a", "zookeeper"}));
  EXPECT_EQ(std::get<proto::GetChildren2Response>(r.body).stat, f.StatOf("/"));
  r = ProcessRead(f.tree, Req(OpCode::kGetAllChildrenNumber, proto::GetAllChildrenNumberRequest{"/"}), Ctx());
  EXPECT_EQ(std::get<proto::GetAllChildrenNumberResponse>(r.body).totalNumber, 6);
  r = ProcessRead(f.tree, Req(OpCode::kGetAllChildrenNumber, proto::GetAllChildrenNumberRequest{"/a"}), Ctx());
  EXPECT_EQ(std::get<proto::GetAllChildrenNumberResponse>(r.body).totalNumber, 2);
  EXPECT_EQ(
      ProcessRead(f.tree, Req(OpCode::kGetAllChildrenNumber, proto::GetAllChildrenNumberRequest{"/q"}), Ctx()).err,
      Err::kNoNode);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kSync, proto::SyncRequest{"/"}), Ctx()).err, Err::kUnimplemented);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetData, proto::SyncRequest{"/"}), Ctx()).err, Err::kMarshallingError);
}

TEST(Read, PermissionsAndAclMasking) {
  Fixture f;
  SessionCtx owner = Ctx(1);
  owner.ids.push_back({"digest", DigestId("u", "p")});
  const proto::AclList acl = {{perms::kAll, {"auth", ""}}, {perms::kRead, {"ip", "10.0.0.0/8"}}};
  ASSERT_EQ(f.RunErr(testing::CreateReq("/s", "secret", 0, OpCode::kCreate, acl), owner), Err::kOk);
  const SessionCtx outsider = Ctx(2, "192.168.1.1");
  const SessionCtx reader = Ctx(3, "10.1.1.1");
  // exists needs READ on an existing node (ZOOKEEPER-2590, 3.8.4 / 3.9.2),
  // nothing on a missing one.
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kExists, proto::ExistsRequest{"/s", false}), outsider).err, Err::kNoAuth);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kExists, proto::ExistsRequest{"/s", false}), reader).err, Err::kOk);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kExists, proto::ExistsRequest{"/s/none", false}), outsider).err,
            Err::kNoNode);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetData, proto::GetDataRequest{"/s", false}), outsider).err, Err::kNoAuth);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetChildren, proto::GetChildrenRequest{"/s", false}), outsider).err,
            Err::kNoAuth);
  EXPECT_EQ(
      ProcessRead(f.tree, Req(OpCode::kGetAllChildrenNumber, proto::GetAllChildrenNumberRequest{"/s"}), outsider).err,
      Err::kNoAuth);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetData, proto::GetDataRequest{"/s", false}), reader).err, Err::kOk);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetAcl, proto::GetAclRequest{"/s"}), outsider).err, Err::kNoAuth);
  // READ without ADMIN: digest ids masked.
  ReadOutcome r = ProcessRead(f.tree, Req(OpCode::kGetAcl, proto::GetAclRequest{"/s"}), reader);
  ASSERT_EQ(r.err, Err::kOk);
  const auto& masked = std::get<proto::GetAclResponse>(r.body);
  EXPECT_EQ(masked.acl[0].id.id, "u:x");
  EXPECT_EQ(masked.acl[1].id.id, "10.0.0.0/8");
  EXPECT_EQ(masked.stat, f.StatOf("/s"));
  r = ProcessRead(f.tree, Req(OpCode::kGetAcl, proto::GetAclRequest{"/s"}), owner);
  EXPECT_EQ(std::get<proto::GetAclResponse>(r.body).acl[0].id.id, DigestId("u", "p"));
  // ADMIN-only ACL: getACL allowed, getData not.
  ASSERT_EQ(f.RunErr(testing::CreateReq("/adm", "", 0, OpCode::kCreate, {{perms::kAdmin, {"world", "anyone"}}})),
            Err::kOk);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetAcl, proto::GetAclRequest{"/adm"}), outsider).err, Err::kOk);
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kGetData, proto::GetDataRequest{"/adm", false}), outsider).err,
            Err::kNoAuth);
  // /zookeeper/config is world-readable.
  r = ProcessRead(f.tree, Req(OpCode::kGetAcl, proto::GetAclRequest{"/zookeeper/config"}), outsider);
  EXPECT_EQ(std::get<proto::GetAclResponse>(r.body).stat.aversion, -1);
}

TEST(Read, GetEphemerals) {
  Fixture f;
  const SessionCtx s = Ctx(0x77);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/app")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/app/e1", "", 1), s), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/e2", "", 1), s), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/e3", "", 1), Ctx(0x78)), Err::kOk);
  auto get = [&](const std::string& prefix) {
    ReadOutcome r = ProcessRead(f.tree, Req(OpCode::kGetEphemerals, proto::GetEphemeralsRequest{prefix}), s);
    EXPECT_EQ(r.err, Err::kOk);
    return std::get<proto::GetEphemeralsResponse>(r.body).ephemerals;
  };
  EXPECT_EQ(get("/"), (std::vector<std::string>{"/app/e1", "/e2"}));
  EXPECT_EQ(get(""), (std::vector<std::string>{"/app/e1", "/e2"}));
  EXPECT_EQ(get(" / "), (std::vector<std::string>{"/app/e1", "/e2"}));
  EXPECT_EQ(get("/app"), (std::vector<std::string>{"/app/e1"}));
  EXPECT_EQ(get("/e"), (std::vector<std::string>{"/e2"}));
  EXPECT_TRUE(get("/zzz").empty());
}

TEST(Read, MultiRead) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a", "v")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a/k")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/locked", "", 0, OpCode::kCreate, {{perms::kWrite, {"world", "anyone"}}})),
            Err::kOk);
  proto::MultiRequest m;
  m.ops.push_back({OpCode::kGetData, proto::GetDataRequest{"/a", false}});
  m.ops.push_back({OpCode::kGetChildren, proto::GetChildrenRequest{"/a", false}});
  m.ops.push_back({OpCode::kGetData, proto::GetDataRequest{"/nope", false}});
  m.ops.push_back({OpCode::kGetChildren, proto::GetChildrenRequest{"/locked", false}});
  ReadOutcome r = ProcessRead(f.tree, Req(OpCode::kMultiRead, m), Ctx());
  ASSERT_EQ(r.err, Err::kOk);
  const auto& res = std::get<proto::MultiResponse>(r.body).results;
  ASSERT_EQ(res.size(), 4u);
  EXPECT_EQ(res[0].type, OpCode::kGetData);
  EXPECT_EQ(res[0].data, "v");
  EXPECT_EQ(res[0].stat, f.StatOf("/a"));
  EXPECT_EQ(res[1].type, OpCode::kGetChildren);
  EXPECT_EQ(res[1].children, std::vector<std::string>{"k"});
  EXPECT_EQ(res[2].type, OpCode::kError);
  EXPECT_EQ(res[2].err, static_cast<int32_t>(Err::kNoNode));
  EXPECT_EQ(res[3].err, static_cast<int32_t>(Err::kNoAuth));
  m.ops.push_back(testing::MCreate("/w"));
  EXPECT_EQ(ProcessRead(f.tree, Req(OpCode::kMultiRead, m), Ctx()).err, Err::kMarshallingError);
}

}  // namespace
}  // namespace aviary::txn

namespace aviary::txn {
namespace {

// ZooKeeper keeps null data apart from empty data: getData answers a null
// buffer for a node created or set with one (tests/diff 01_basic_crud).
TEST(Read, NullDataIsKeptApartFromEmptyData) {
  testing::Fixture f;
  proto::Request create = testing::CreateReq("/n");
  std::get<proto::CreateRequest>(create.body).data_null = true;
  ASSERT_EQ(f.RunErr(create), proto::Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/e")), proto::Err::kOk);
  auto get = [&](const char* path) {
    proto::Request r;
    r.header.type = static_cast<int32_t>(proto::OpCode::kGetData);
    r.body = proto::GetDataRequest{path, false};
    return std::get<proto::GetDataResponse>(ProcessRead(f.tree, r, testing::Ctx()).body);
  };
  EXPECT_TRUE(get("/n").data_null);
  EXPECT_FALSE(get("/e").data_null);
  proto::Request set = testing::SetDataReq("/e", "");
  std::get<proto::SetDataRequest>(set.body).data_null = true;
  ASSERT_EQ(f.RunErr(set), proto::Err::kOk);
  EXPECT_TRUE(get("/e").data_null);
  ASSERT_EQ(f.RunErr(testing::SetDataReq("/n", "x")), proto::Err::kOk);
  EXPECT_FALSE(get("/n").data_null);
  EXPECT_EQ(get("/n").data, "x");
}

}  // namespace
}  // namespace aviary::txn
