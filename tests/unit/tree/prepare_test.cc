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

TEST(Prepare, CreateStatsAndTriggers) {
  Fixture f;
  Txn t = f.Prep(testing::CreateReq("/a", "hello"));
  ASSERT_EQ(t.type, OpCode::kCreate);
  EXPECT_EQ(t.zxid, 1);
  EXPECT_EQ(t.cxid, 7);
  EXPECT_EQ(t.session_id, 0x100);
  const auto& c = std::get<CreateTxn>(t.op.body);
  EXPECT_EQ(c.path, "/a");
  EXPECT_EQ(c.parent_cversion, 1);
  ApplyResult a = f.Commit(t);
  ASSERT_EQ(a.err, Err::kOk);
  ASSERT_EQ(a.results.size(), 1u);
  EXPECT_EQ(a.results[0].path, "/a");
  ASSERT_EQ(a.triggers.size(), 2u);
  EXPECT_EQ(a.triggers[0].path, "/a");
  EXPECT_EQ(a.triggers[0].type, proto::EventType::kNodeCreated);
  EXPECT_EQ(a.triggers[1].path, "/");
  EXPECT_EQ(a.triggers[1].type, proto::EventType::kNodeChildrenChanged);
  const proto::Stat s = f.StatOf("/a");
  EXPECT_EQ(s, (proto::Stat{1, 1, t.time_ms, t.time_ms, 0, 0, 0, 0, 5, 0, 1}));
  const proto::Stat root = f.StatOf("/");
  EXPECT_EQ(root.cversion, 0);  // 2*1 - 2 children
  EXPECT_EQ(root.pzxid, 1);
  EXPECT_EQ(root.numChildren, 2);
}

TEST(Prepare, SetDataSetAclDeleteStats) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a")), Err::kOk);
  ApplyResult a = f.Run(testing::SetDataReq("/a", "xyz", 0));
  ASSERT_EQ(a.err, Err::kOk);
  EXPECT_EQ(a.results[0].stat.version, 1);
  EXPECT_EQ(a.results[0].stat.mzxid, 2);
  EXPECT_EQ(a.results[0].stat.czxid, 1);
  EXPECT_EQ(a.results[0].stat.dataLength, 3);
  ASSERT_EQ(a.triggers.size(), 1u);
  EXPECT_EQ(a.triggers[0].type, proto::EventType::kNodeDataChanged);
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/a", "q", 0)), Err::kBadVersion);
  a = f.Run(testing::SetAclReq("/a", testing::Open(), 0));
  ASSERT_EQ(a.err, Err::kOk);
  EXPECT_EQ(a.results[0].stat.aversion, 1);
  EXPECT_TRUE(a.triggers.empty());
  EXPECT_EQ(f.RunErr(testing::SetAclReq("/a", testing::Open(), 0)), Err::kBadVersion);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/a", 5)), Err::kBadVersion);
  a = f.Run(testing::DeleteReq("/a", 1));
  ASSERT_EQ(a.err, Err::kOk);
  ASSERT_EQ(a.triggers.size(), 2u);
  EXPECT_EQ(a.triggers[0].type, proto::EventType::kNodeDeleted);
  EXPECT_EQ(a.triggers[1].type, proto::EventType::kNodeChildrenChanged);
  const proto::Stat root = f.StatOf("/");
  EXPECT_EQ(root.cversion, 1);  // create + delete
  EXPECT_EQ(root.pzxid, f.zxid);
  EXPECT_EQ(f.tree.Find("/a"), nullptr);
}

TEST(Prepare, ErrorsConsumeZxid) {
  Fixture f;
  Txn t = f.Prep(testing::DeleteReq("/missing"));
  EXPECT_EQ(t.type, OpCode::kError);
  EXPECT_EQ(t.zxid, 1);
  ApplyResult a = f.Commit(t);
  EXPECT_EQ(a.err, Err::kNoNode);
  EXPECT_EQ(f.Prep(testing::CreateReq("/b")).zxid, 2);
}

TEST(Prepare, CreateErrors) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a")), Err::kOk);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/a")), Err::kNodeExists);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/x/y")), Err::kNoNode);
  EXPECT_EQ(f.RunErr(testing::CreateReq("noslash")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::CreateReq("")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::CreateReq(std::string("/a\0b", 4))), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/a/")), Err::kBadArguments);  // parent ok, then path invalid
  EXPECT_EQ(f.RunErr(testing::CreateReq("/a//b")), Err::kNoNode);      // parent "/a/" missing first
  EXPECT_EQ(f.RunErr(testing::CreateReq("/a/.")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/b", "", 7)), Err::kBadArguments);  // bad flags
  EXPECT_EQ(f.RunErr(testing::CreateReq("/b", "", -1)), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/b", "", 0, OpCode::kCreate, {})), Err::kInvalidAcl);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/b", "", 0, OpCode::kCreate, {{perms::kAll, {"auth", ""}}})),
            Err::kInvalidAcl);
  // Data larger than jute.maxbuffer.
  Fixture small(PrepareOptions{16, false, ""});
  EXPECT_EQ(small.RunErr(testing::CreateReq("/big", std::string(17, 'x'))), Err::kBadArguments);
  EXPECT_EQ(small.RunErr(testing::CreateReq("/ok", std::string(16, 'x'))), Err::kOk);
  EXPECT_EQ(small.RunErr(testing::SetDataReq("/ok", std::string(17, 'x'))), Err::kBadArguments);
  // Ephemeral parent.
  ASSERT_EQ(f.RunErr(testing::CreateReq("/e", "", 1)), Err::kOk);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/e/c")), Err::kNoChildrenForEphemerals);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/e/c", "", 2)), Err::kNoChildrenForEphemerals);
}

TEST(Prepare, RootCreateIsNodeExists) {
  // "/" splits into parent "" (the root) and name "": PathUtils accepts "/",
  // then the node exists.
  Fixture f;
  EXPECT_EQ(f.RunErr(testing::CreateReq("/")), Err::kNodeExists);
}

TEST(Prepare, DeleteErrors) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/a/b")), Err::kOk);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/a")), Err::kNotEmpty);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/zookeeper")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/zookeeper/quota")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/zookeeper/config")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("nope")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/q/r")), Err::kNoNode);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/a/zz")), Err::kNoNode);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/a/b", 3)), Err::kBadVersion);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/a/b", 0)), Err::kOk);
}

TEST(Prepare, SetDataSetAclErrors) {
  Fixture f;
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/nope", "x")), Err::kNoNode);
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/bad/", "x")), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/zookeeper/config", "x")), Err::kNoAuth);
  EXPECT_EQ(f.RunErr(testing::SetAclReq("/nope", testing::Open())), Err::kNoNode);
  EXPECT_EQ(f.RunErr(testing::SetAclReq("/", {})), Err::kInvalidAcl);
  EXPECT_EQ(f.RunErr(testing::SetAclReq("/bad/", testing::Open())), Err::kBadArguments);
  // /zookeeper/config has aversion -1 and only READ: setACL needs ADMIN.
  EXPECT_EQ(f.RunErr(testing::SetAclReq("/zookeeper/config", testing::Open())), Err::kNoAuth);
  SessionCtx super = Ctx();
  super.is_super = true;
  EXPECT_EQ(f.RunErr(testing::SetAclReq("/zookeeper/config", testing::Open(), 0), super), Err::kBadVersion);
  ApplyResult a = f.Run(testing::SetAclReq("/zookeeper/config", testing::Open(), -1), super);
  ASSERT_EQ(a.err, Err::kOk);
  EXPECT_EQ(a.results[0].stat.aversion, 0);
}

TEST(Prepare, PermissionChecks) {
  Fixture f;
  const SessionCtx alice = [] {
    SessionCtx c = Ctx(0x200);
    c.ids.push_back({"digest", DigestId("alice", "pw")});
    return c;
  }();
  const SessionCtx bob = Ctx(0x300);
  // Only alice may do anything; everyone may read.
  const proto::AclList acl = {{perms::kAll, {"auth", ""}}, {perms::kRead, {"world", "anyone"}}};
  ASSERT_EQ(f.RunErr(testing::CreateReq("/p", "", 0, OpCode::kCreate, acl), alice), Err::kOk);
  EXPECT_EQ(f.tree.AclOf(*f.tree.Find("/p")),
            (proto::AclList{{perms::kAll, {"digest", DigestId("alice", "pw")}}, {perms::kRead, {"world", "anyone"}}}));
  EXPECT_EQ(f.RunErr(testing::CreateReq("/p/c"), bob), Err::kNoAuth);
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/p", "x"), bob), Err::kNoAuth);
  EXPECT_EQ(f.RunErr(testing::SetAclReq("/p", testing::Open()), bob), Err::kNoAuth);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/p/c"), alice), Err::kOk);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/p/c"), bob), Err::kNoAuth);  // DELETE on the parent
  // Delete needs DELETE on the parent only, not on the node.
  const proto::AclList none = {{perms::kRead, {"world", "anyone"}}};
  ASSERT_EQ(f.RunErr(testing::CreateReq("/open"), bob), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::CreateReq("/open/locked", "", 0, OpCode::kCreate, none), bob), Err::kOk);
  EXPECT_EQ(f.RunErr(testing::DeleteReq("/open/locked"), bob), Err::kOk);
  // ip ACL with CIDR.
  const proto::AclList net = {{perms::kAll, {"ip", "10.0.0.0/8"}}};
  ASSERT_EQ(f.RunErr(testing::CreateReq("/net", "", 0, OpCode::kCreate, net), bob), Err::kOk);
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/net", "x"), bob), Err::kNoAuth);
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/net", "x"), Ctx(0x400, "10.2.3.4")), Err::kOk);
}

TEST(Prepare, SequentialNamesUseParentCversion) {
  Fixture f;
  ASSERT_EQ(f.RunErr(testing::CreateReq("/s")), Err::kOk);
  ApplyResult a = f.Run(testing::CreateReq("/s/n-", "", 2));
  ASSERT_EQ(a.err, Err::kOk);
  EXPECT_EQ(a.results[0].path, "/s/n-0000000000");
  ASSERT_EQ(f.RunErr(testing::CreateReq("/s/plain")), Err::kOk);
  ASSERT_EQ(f.RunErr(testing::DeleteReq("/s/plain")), Err::kOk);  // deletes do not advance the counter
  a = f.Run(testing::CreateReq("/s/n-", "", 3));
  EXPECT_EQ(a.results[0].path, "/s/n-0000000002");
  a = f.Run(testing::CreateReq("/s/", "", 2));  // name may be empty before the suffix
  EXPECT_EQ(a.results[0].path, "/s/0000000003");
  EXPECT_EQ(f.StatOf("/s").cversion, 2 * 4 - 3);
}

TEST(Prepare, PendingOverlay) {
  Fixture f;
  const Txn t1 = f.Prep(testing::CreateReq("/a"));
  const Txn t2 = f.Prep(testing::CreateReq("/a/b"));  // parent only pending
  const Txn t3 = f.Prep(testing::CreateReq("/a"));    // already pending
  const Txn t4 = f.Prep(testing::CreateReq("/a/s-", "", 2));
  const Txn t5 = f.Prep(testing::DeleteReq("/a"));  // pending child
  const Txn t6 = f.Prep(testing::SetDataReq("/a", "v", 0));
  const Txn t7 = f.Prep(testing::SetDataReq("/a", "w", 0));  // version now 1
  ASSERT_EQ(t1.type, OpCode::kCreate);
  ASSERT_EQ(t2.type, OpCode::kCreate);
  EXPECT_EQ(testing::TxnErr(t3), Err::kNodeExists);
  EXPECT_EQ(std::get<CreateTxn>(t4.op.body).path, "/a/s-0000000001");
  EXPECT_EQ(testing::TxnErr(t5), Err::kNotEmpty);
  EXPECT_EQ(t6.type, OpCode::kSetData);
  EXPECT_EQ(testing::TxnErr(t7), Err::kBadVersion);
  EXPECT_GT(f.prep.PendingRecords(), 0u);
  for (const Txn* t : {&t1, &t2, &t3, &t4, &t5, &t6, &t7}) f.Commit(*t);
  EXPECT_EQ(f.prep.PendingRecords(), 0u);
  EXPECT_EQ(f.tree.Find("/a")->data, "v");
  EXPECT_NE(f.tree.Find("/a/s-0000000001"), nullptr);
  // Pending delete hides a node; pending create re-adds it.
  const Txn d = f.Prep(testing::DeleteReq("/a/b"));
  EXPECT_EQ(testing::TxnErr(f.Prep(testing::SetDataReq("/a/b", "x"))), Err::kNoNode);
  const Txn c = f.Prep(testing::CreateReq("/a/b", "again"));
  EXPECT_EQ(c.type, OpCode::kCreate);
  f.Commit(d);
  f.Commit(c);
  EXPECT_EQ(f.tree.Find("/a/b")->data, "again");
}

TEST(Prepare, AppliedDropsOnlyOlderRecords) {
  Fixture f;
  const Txn t1 = f.Prep(testing::CreateReq("/a"));
  const Txn t2 = f.Prep(testing::SetDataReq("/a", "x"));
  f.Commit(t1);  // t2's record for /a must survive
  EXPECT_EQ(testing::TxnErr(f.Prep(testing::SetDataReq("/a", "y", 0))), Err::kBadVersion);
  f.Commit(t2);
  EXPECT_EQ(f.RunErr(testing::SetDataReq("/a", "y", 1)), Err::kOk);
}

TEST(Prepare, ContainerAndTtlCreate) {
  Fixture off;
  EXPECT_EQ(off.RunErr(testing::CreateReq("/t", "", 5, OpCode::kCreateTtl, testing::Open(), 100)), Err::kUnimplemented);
  Fixture f(PrepareOptions{proto::kDefaultMaxBuffer, true, ""});
  ApplyResult a = f.Run(testing::CreateReq("/c", "", 4, OpCode::kCreateContainer));
  ASSERT_EQ(a.err, Err::kOk);
  EXPECT_EQ(f.tree.Find("/c")->kind, tree::NodeKind::kContainer);
  EXPECT_EQ(a.results[0].stat.ephemeralOwner, 0);
  a = f.Run(testing::CreateReq("/t", "", 5, OpCode::kCreateTtl, testing::Open(), 100));
  ASSERT_EQ(a.err, Err::kOk);
  EXPECT_EQ(f.tree.Find("/t")->kind, tree::NodeKind::kTtl);
  EXPECT_EQ(f.tree.Find("/t")->ttl_ms(), 100);
  a = f.Run(testing::CreateReq("/ts", "", 6, OpCode::kCreateTtl, testing::Open(), 100));
  EXPECT_EQ(a.results[0].path, "/ts0000000002");
  EXPECT_EQ(f.RunErr(testing::CreateReq("/t0", "", 5, OpCode::kCreateTtl, testing::Open(), 0)), Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/t1", "", 5, OpCode::kCreateTtl, testing::Open(), 1LL << 40)),
            Err::kBadArguments);
  EXPECT_EQ(f.RunErr(testing::CreateReq("/t2", "", 5, OpCode::kCreate)), Err::kBadArguments);  // no ttl
  EXPECT_EQ(f.RunErr(testing::CreateReq("/t3", "", 0, OpCode::kCreateTtl, testing::Open(), 5)), Err::kBadArguments);
  // Containers may take children; ephemerals below containers are fine.
  EXPECT_EQ(f.RunErr(testing::CreateReq("/c/e", "", 1)), Err::kOk);
}

TEST(Prepare, WrongBodyAndReadOpcode) {
  Fixture f;
  proto::Request r = testing::DeleteReq("/a");
  r.header.type = static_cast<int32_t>(OpCode::kSetData);
  EXPECT_EQ(f.RunErr(r), Err::kMarshallingError);
  r.header.type = static_cast<int32_t>(OpCode::kGetData);
  EXPECT_EQ(testing::TxnErr(f.Prep(r)), Err::kUnimplemented);
}

}  // namespace
}  // namespace aviary::txn

// Issue 6, item 1: every txn is bounded at prepare by what the log takes; an
// over-bound request becomes an error txn and leaves no pending change.
namespace aviary::txn {
namespace {

size_t TestOpBytes(const Op& op) {
  size_t n = 16;
  if (const auto* c = std::get_if<CreateTxn>(&op.body)) {
    n += c->path.size() + c->data.size();
    for (const auto& a : c->acl) n += a.id.scheme.size() + a.id.id.size();
  }
  return n;
}

PrepareOptions Bounded(int64_t max_ops_bytes) {
  PrepareOptions o;
  o.op_bytes = TestOpBytes;
  o.max_ops_bytes = max_ops_bytes;
  return o;
}

TEST(PrepareBound, AuthAclExpansionOverTheBoundIsBadArguments) {
  testing::Fixture f(Bounded(1000));
  SessionCtx big = testing::Ctx();
  big.ids.push_back(proto::Id{"digest", std::string(2000, 'u') + ":hash"});
  proto::AclList auth{proto::Acl{proto::perms::kAll, proto::Id{"auth", ""}}};
  const Txn t = f.Prep(testing::CreateReq("/a", "", 0, OpCode::kCreate, auth), big);
  EXPECT_EQ(t.type, OpCode::kError);
  EXPECT_EQ(std::get<ErrorTxn>(t.op.body).err, Err::kBadArguments);
  EXPECT_EQ(f.prep.PendingRecords(), 0u) << "a refused txn left changes behind";
  // The same path is still free for a request within the bound.
  EXPECT_EQ(f.Prep(testing::CreateReq("/a", "small")).type, OpCode::kCreate);
}

TEST(PrepareBound, MultiFailsAtTheOpThatCrossesTheBound) {
  testing::Fixture f(Bounded(1000));
  std::vector<proto::MultiOp> ops;
  for (int i = 0; i < 20; ++i) {
    ops.push_back(proto::MultiOp{OpCode::kCreate, proto::CreateRequest{"/m" + std::to_string(i), std::string(100, 'd'),
                                                                       testing::Open(), 0, -1}});
  }
  const Txn t = f.Prep(testing::MultiReq(ops));
  ASSERT_EQ(t.type, OpCode::kMulti);
  ASSERT_EQ(t.multi.size(), 20u);
  size_t failed = 0;
  while (failed < t.multi.size() && std::get<ErrorTxn>(t.multi[failed].body).err == Err::kOk) ++failed;
  ASSERT_LT(failed, 20u);
  EXPECT_GT(failed, 0u);
  EXPECT_EQ(std::get<ErrorTxn>(t.multi[failed].body).err, Err::kBadArguments);
  for (size_t i = failed + 1; i < t.multi.size(); ++i) {
    EXPECT_EQ(std::get<ErrorTxn>(t.multi[i].body).err, Err::kRuntimeInconsistency);
  }
  EXPECT_EQ(f.prep.PendingRecords(), 0u);
  // Within the bound, the same multi goes through.
  ops.resize(failed);
  EXPECT_EQ(FirstMultiError(f.Run(testing::MultiReq(ops))), Err::kOk);
}

TEST(PrepareBound, CloseSessionSizeDoesNotGrowWithEphemerals) {
  testing::Fixture f(Bounded(1 << 20));
  const SessionCtx s = testing::Ctx(0x42);
  f.Commit(f.prep.PrepareCreateSession(0x42, 30000, ++f.zxid, 5));
  const std::string parent = "/" + std::string(5000, 'p');
  ASSERT_EQ(f.RunErr(testing::CreateReq(parent)), Err::kOk);
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(f.RunErr(testing::CreateReq(parent + "/e" + std::to_string(i), "", 1), s), Err::kOk);
  const Txn close = f.prep.PrepareCloseSession(0x42, ++f.zxid, 9);
  EXPECT_TRUE(std::get<CloseSessionTxn>(close.op.body).paths_to_delete.empty());
  const ApplyResult a = f.Commit(close);
  EXPECT_EQ(a.triggers.size(), 100u);  // deleted + parent's children changed, per ephemeral
  EXPECT_TRUE(f.tree.EphemeralsOf(0x42).empty());
  EXPECT_EQ(f.StatOf(parent).numChildren, 0);
}

}  // namespace
}  // namespace aviary::txn
