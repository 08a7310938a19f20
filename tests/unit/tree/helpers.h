// Shared builders for the tree/txn unit tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "proto/records.h"
#include "tree/data_tree.h"
#include "txn/apply.h"
#include "txn/prepare.h"
#include "txn/txn.h"

namespace aviary::txn::testing {

inline proto::AclList Open() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }

inline proto::Request CreateReq(const std::string& path, const std::string& data = "", int32_t flags = 0,
                                proto::OpCode op = proto::OpCode::kCreate, proto::AclList acl = Open(),
                                int64_t ttl = -1) {
  proto::Request r;
  r.header.xid = 7;
  r.header.type = static_cast<int32_t>(op);
  r.body = proto::CreateRequest{path, data, std::move(acl), flags, ttl};
  return r;
}
inline proto::Request DeleteReq(const std::string& path, int32_t version = -1) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(proto::OpCode::kDelete);
  r.body = proto::DeleteRequest{path, version};
  return r;
}
inline proto::Request SetDataReq(const std::string& path, const std::string& data, int32_t version = -1) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(proto::OpCode::kSetData);
  r.body = proto::SetDataRequest{path, data, version};
  return r;
}
inline proto::Request SetAclReq(const std::string& path, proto::AclList acl, int32_t version = -1) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(proto::OpCode::kSetAcl);
  r.body = proto::SetAclRequest{path, std::move(acl), version};
  return r;
}
inline proto::Request MultiReq(std::vector<proto::MultiOp> ops) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(proto::OpCode::kMulti);
  r.body = proto::MultiRequest{std::move(ops)};
  return r;
}
inline proto::MultiOp MCreate(const std::string& path, int32_t flags = 0) {
  return proto::MultiOp{proto::OpCode::kCreate, proto::CreateRequest{path, "", Open(), flags, -1}};
}
inline proto::MultiOp MDelete(const std::string& path, int32_t version = -1) {
  return proto::MultiOp{proto::OpCode::kDelete, proto::DeleteRequest{path, version}};
}
inline proto::MultiOp MSetData(const std::string& path, const std::string& d, int32_t version = -1) {
  return proto::MultiOp{proto::OpCode::kSetData, proto::SetDataRequest{path, d, version}};
}
inline proto::MultiOp MCheck(const std::string& path, int32_t version) {
  return proto::MultiOp{proto::OpCode::kCheck, proto::CheckVersionRequest{path, version}};
}

inline SessionCtx Ctx(int64_t session = 0x100, std::string ip = "127.0.0.1") {
  SessionCtx c;
  c.session_id = session;
  c.ids.push_back(proto::Id{"ip", std::move(ip)});
  return c;
}

inline proto::Err TxnErr(const Txn& t) {
  if (t.type != proto::OpCode::kError) return proto::Err::kOk;
  return std::get<ErrorTxn>(t.op.body).err;
}

// A tree plus a preparer with a running zxid; Run() prepares and applies.
struct Fixture {
  tree::DataTree tree;
  Preparer prep;
  int64_t zxid = 0;
  int64_t now = 1000;
  explicit Fixture(PrepareOptions o = {}) : prep(tree, std::move(o)) {}

  Txn Prep(const proto::Request& r, const SessionCtx& c = Ctx()) { return prep.Prepare(r, c, ++zxid, ++now); }
  ApplyResult Commit(const Txn& t) {
    ApplyResult a = Apply(tree, t);
    prep.Applied(t.zxid);
    return a;
  }
  ApplyResult Run(const proto::Request& r, const SessionCtx& c = Ctx()) { return Commit(Prep(r, c)); }
  proto::Err RunErr(const proto::Request& r, const SessionCtx& c = Ctx()) { return Run(r, c).err; }
  proto::Stat StatOf(const std::string& p) {
    const tree::Node* n = tree.Find(p);
    EXPECT_NE(n, nullptr) << p;
    return n ? tree::ToStat(*n) : proto::Stat{};
  }
};

}  // namespace aviary::txn::testing
