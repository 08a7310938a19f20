// Session 10's create path (issue 10: creates while the tree grows):
// CreateNode's existence check through the index and the node it hands back,
// DataTree::PrefetchPath / PathIndex::Peek (hints only), the sequential
// suffix without snprintf, FixupAcl's duplicate removal in one pass, and
// ValidatePath's ASCII fast path against the decoding one.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "colliding_names.h"
#include "tree/data_tree.h"
#include "tree/path.h"
#include "txn/acl.h"
#include "txn/apply.h"
#include "txn/prepare.h"
#include "txn/state_machine.h"

namespace aviary::tree {
namespace {

using proto::Err;

proto::AclList Open() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }

Err Create(DataTree& t, const std::string& path, const std::string& data = "d", const Node** created = nullptr) {
  return t.CreateNode(path, data, Open(), NodeKind::kPersistent, 0, 0, -1, 7, 1000, false, created);
}

using test_util::CollidingNames;

TEST(CreatePath, CreateNodeHandsBackTheNewNode) {
  DataTree t;
  ASSERT_EQ(Create(t, "/p"), Err::kOk);
  const Node* n = nullptr;
  ASSERT_EQ(Create(t, "/p/a", "x", &n), Err::kOk);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n, t.Find("/p/a"));
  EXPECT_EQ(n->data, "x");
  EXPECT_EQ(n->stat.czxid(), 7);
  // A failed create leaves *created alone and changes nothing.
  const Node* again = nullptr;
  const int32_t cversion = t.Find("/p")->stat.cversion();
  EXPECT_EQ(Create(t, "/p/a", "y", &again), Err::kNodeExists);
  EXPECT_EQ(again, nullptr);
  EXPECT_EQ(t.Find("/p/a")->data, "x");
  EXPECT_EQ(t.Find("/p")->stat.cversion(), cversion);
  EXPECT_EQ(Create(t, "/missing/a", "y", &again), Err::kNoNode);
  EXPECT_EQ(again, nullptr);
}

// The existence check is an index probe verified by path: a sibling (or any
// node) with the same 32-bit hash is not "the node".
TEST(CreatePath, ExistsOnlyForTheSamePathUnderHashCollisions) {
  DataTree t;
  ASSERT_EQ(Create(t, "/p"), Err::kOk);
  const auto [a, b] = CollidingNames("/p");
  ASSERT_EQ(Create(t, "/p/" + a, "A"), Err::kOk);
  EXPECT_EQ(Create(t, "/p/" + b, "B"), Err::kOk);
  EXPECT_EQ(Create(t, "/p/" + a, "A2"), Err::kNodeExists);
  EXPECT_EQ(Create(t, "/p/" + b, "B2"), Err::kNodeExists);
  EXPECT_EQ(t.Find("/p")->children().size(), 2u);
  EXPECT_EQ(t.Find("/p")->stat.cversion(), 2);
  // The system nodes are in the index too.
  EXPECT_EQ(Create(t, "/zookeeper/quota"), Err::kNodeExists);
  EXPECT_EQ(Create(t, "/"), Err::kNodeExists);
}

TEST(CreatePath, PrefetchPathAndPeekAreHintsOnly) {
  DataTree t;
  ASSERT_EQ(Create(t, "/p"), Err::kOk);
  ASSERT_EQ(Create(t, "/p/a"), Err::kOk);
  for (const char* p : {"/", "", "/p", "/p/a", "/p/missing", "/zookeeper"}) {
    t.PrefetchPath(p, false);
    t.PrefetchPath(p, true);
  }
  EXPECT_EQ(t.NodeCount(), 6u);
  EXPECT_EQ(t.Find("/p/a")->data, "d");
  // The stat step: /p has a child (an extended stat, in the pool), /p/a is
  // pristine (compact: nothing to load); the node it read comes back.
  EXPECT_TRUE(t.Find("/p")->stat.extended());
  EXPECT_FALSE(t.Find("/p/a")->stat.extended());
  EXPECT_EQ(t.PrefetchStat("/p"), t.Find("/p"));
  EXPECT_EQ(t.PrefetchStat("/p/a"), t.Find("/p/a"));
  EXPECT_EQ(t.PrefetchStat("/"), t.Find("/"));
  EXPECT_EQ(t.PrefetchStat(""), t.Find("/"));
  EXPECT_EQ(t.PrefetchStat("/p/missing"), nullptr);
  EXPECT_EQ(t.Find("/p")->stat.cversion(), 1);

  NodePool pool;
  PathIndex idx;
  EXPECT_EQ(idx.Peek(pool, 5), nullptr);  // empty table
  Node* n = pool.Alloc();
  idx.Insert(5, pool.IdOf(n));
  EXPECT_EQ(idx.Peek(pool, 5), n);
  EXPECT_EQ(idx.Peek(pool, 6), nullptr);
}

TEST(CreatePath, PrefetchForApplyTakesEveryTxnKind) {
  DataTree t;
  ASSERT_EQ(Create(t, "/p"), Err::kOk);
  txn::Txn c;
  c.type = proto::OpCode::kCreate;
  c.op = txn::Op{proto::OpCode::kCreate, txn::CreateTxn{}};
  std::get<txn::CreateTxn>(c.op.body).path = "/p/x";
  txn::Txn s;
  s.type = proto::OpCode::kSetData;
  s.op = txn::Op{proto::OpCode::kSetData, txn::SetDataTxn{}};
  std::get<txn::SetDataTxn>(s.op.body).path = "/p";
  txn::Txn d;
  d.type = proto::OpCode::kDelete;
  d.op = txn::Op{proto::OpCode::kDelete, txn::DeleteTxn{"/p"}};
  txn::Txn m;
  m.type = proto::OpCode::kMulti;
  struct Seen : txn::ApplyObserver {
    std::vector<const Node*> nodes;
    void BeforeApply(const DataTree&, const txn::Txn&, const Node*) override {}
    void AfterApply(const DataTree&, const txn::Txn&) override {}
    void TreeChanged() override {}
    void Prefetch(const Node& n) const override { const_cast<Seen*>(this)->nodes.push_back(&n); }
  } seen;
  for (const txn::Txn* x : {&c, &s, &d, &m}) {
    txn::PrefetchForApply(t, *x, false);
    txn::PrefetchForApply(t, *x, true);
    txn::PrefetchStatForApply(t, *x);
    txn::PrefetchStatForApply(t, *x, &seen);
  }
  // The observer heard of the nodes that exist: create -> its parent /p
  // (the new node is not there yet); setData -> /p; delete -> /p, its parent "/".
  EXPECT_EQ(seen.nodes, (std::vector<const Node*>{t.Find("/p"), t.Find("/p"), t.Find("/p"), t.Find("/")}));
  EXPECT_EQ(t.Find("/p/x"), nullptr);
  EXPECT_NE(t.Find("/p"), nullptr);
}

TEST(CreatePath, SequenceSuffixIsJavasPercent010d) {
  const std::pair<int32_t, const char*> cases[] = {
      {0, "0000000000"},  {7, "0000000007"},   {123456789, "0123456789"},  {INT32_MAX, "2147483647"},
      {-1, "-000000001"}, {-42, "-000000042"}, {INT32_MIN, "-2147483648"}, {1000000000, "1000000000"},
  };
  for (const auto& [v, want] : cases) {
    std::string p = "/a/n-";
    txn::AppendSequenceSuffix(v, &p);
    EXPECT_EQ(p, std::string("/a/n-") + want) << v;
  }
}

TEST(CreatePath, FixupAclDropsLaterDuplicatesKeepingOrder) {
  txn::SessionCtx ctx;
  const proto::Acl world{proto::perms::kRead, proto::Id{"world", "anyone"}};
  const proto::Acl ip{proto::perms::kAll, proto::Id{"ip", "10.0.0.1"}};
  proto::AclList out;
  ASSERT_EQ(txn::FixupAcl({ip, world, ip, world, ip}, ctx, &out), Err::kOk);
  EXPECT_EQ(out, (proto::AclList{ip, world}));
  // A duplicate of an invalid entry is still refused.
  const proto::Acl bad{proto::perms::kAll, proto::Id{"ip", "1.2.3"}};
  EXPECT_EQ(txn::FixupAcl({world, bad, bad}, ctx, &out), Err::kInvalidAcl);
  EXPECT_EQ(txn::FixupAcl({}, ctx, &out), Err::kInvalidAcl);
}

// ASCII paths skip the UTF-8 decoding; both ways must agree on the rules.
TEST(CreatePath, ValidatePathAsciiAndDecodedAgree) {
  const std::pair<const char*, bool> cases[] = {
      {"/a/..", false},      {"/\xc3\xa9/..", false},  {"/a/..b", true},    {"/\xc3\xa9/..b", true},
      {"/a/./b", false},     {"/\xc3\xa9/./b", false}, {"/a/b\x7f", false}, {"/\xc3\xa9/b\x7f", false},
      {"/a/b\x01/c", false}, {"/\xc3\xa9//c", false},  {"/a.b/c.", true},   {"/\xc3\xa9.b/c.", true},
  };
  for (const auto& [p, ok] : cases) EXPECT_EQ(ValidatePath(p, false) == Err::kOk, ok) << p;
}

// Printable ASCII with no '.' and no "//" passes one scan; everything that
// scan turns away still gets the full rules.
TEST(CreatePath, ValidatePathPlainScanAndTheRulesAgree) {
  const std::pair<const char*, bool> cases[] = {
      {"/aviary-bench/keys-100/k123", true},
      {"/a b~{}!#$%&'()*+,:;<=>?@[]^_`|", true},
      {"/a//b", false},
      {"//a", false},
      {"/a/b", false},
      {"/a/", false},
      {"/ ", true},
      {"/a/b/", false},
      {"/a.", true},
      {"/a/.", false},
      {"/a/...", true},
      {"/a/..", false},
      {"/aÂ", false},  // U+0080: a control character once decoded
      {"/aÃ©", true},     // U+00E9
  };
  for (const auto& [p, ok] : cases) EXPECT_EQ(ValidatePath(p, false) == Err::kOk, ok) << p;
  // Every single byte after "/a/": only the plain scan's printable ones pass
  // without the rules' help; the rest must agree with them.
  for (int b = 1; b < 256; ++b) {
    std::string p = "/a/x";
    p += static_cast<char>(b);
    p += "y";
    const bool ok = (b >= 0x20 && b < 0x7F);  // '/' makes "/a/x/y", '.' "x.y": both fine
    EXPECT_EQ(ValidatePath(p, false) == Err::kOk, ok) << b;
  }
}

}  // namespace
}  // namespace aviary::tree
