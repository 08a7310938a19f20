// txn::Apply without watch triggers (the core's path while no watch is
// registered: StateMachine::SetWatchTriggers(false)) changes the tree and
// reports results exactly as with them, and collects no trigger.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "helpers.h"
#include "txn/state_machine.h"

namespace aviary::txn {
namespace {

using testing::CreateReq;
using testing::DeleteReq;
using testing::MCreate;
using testing::MDelete;
using testing::MSetData;
using testing::MultiReq;
using testing::SetDataReq;

std::vector<proto::Request> Writes() {
  return {CreateReq("/p", "x"),
          CreateReq("/p/c", "y", 0, proto::OpCode::kCreate2),
          CreateReq("/p/s-", "z", 2),
          SetDataReq("/p/c", "new data"),
          MultiReq({MCreate("/p/m"), MSetData("/p/m", "d"), MDelete("/p/c")}),
          DeleteReq("/p/m"),
          SetDataReq("/missing", "d")};
}

void ExpectSameTree(const tree::DataTree& a, const tree::DataTree& b) {
  std::vector<std::string> paths_a;
  a.ForEach([&](const std::string& path, const tree::Node& n) {
    paths_a.push_back(path);
    const tree::Node* m = b.Find(path);
    ASSERT_NE(m, nullptr) << path;
    EXPECT_EQ(n.persisted(), m->persisted()) << path;
    EXPECT_EQ(n.data.view(), m->data.view()) << path;
  });
  size_t count_b = 0;
  b.ForEach([&](const std::string&, const tree::Node&) { ++count_b; });
  EXPECT_EQ(paths_a.size(), count_b);
}

TEST(ApplyTriggers, WithoutTriggersTheTreeAndResultsAreTheSame) {
  testing::Fixture with;
  testing::Fixture without;
  size_t triggers = 0;
  for (const proto::Request& req : Writes()) {
    const Txn t = with.Prep(req);
    const Txn u = without.Prep(req);
    const ApplyResult a = Apply(with.tree, t);
    const ApplyResult b = Apply(without.tree, u, /*with_triggers=*/false);
    with.prep.Applied(t.zxid);
    without.prep.Applied(u.zxid);
    triggers += a.triggers.size();
    EXPECT_TRUE(b.triggers.empty());
    EXPECT_EQ(a.err, b.err);
    ASSERT_EQ(a.results.size(), b.results.size());
    for (size_t i = 0; i < a.results.size(); ++i) {
      EXPECT_EQ(a.results[i].type, b.results[i].type);
      EXPECT_EQ(a.results[i].err, b.results[i].err);
      EXPECT_EQ(a.results[i].path, b.results[i].path);
      EXPECT_EQ(a.results[i].stat, b.results[i].stat);
    }
  }
  EXPECT_GT(triggers, 8u);  // the writes above do fire events when asked
  ExpectSameTree(with.tree, without.tree);
  ExpectSameTree(without.tree, with.tree);
}

TEST(ApplyTriggers, StateMachineSwitchesTriggersPerApply) {
  StateMachine sm;
  Preparer prep(sm.tree(), PrepareOptions{});
  sm.SetWatchTriggers(false);
  Applied a = sm.Apply(prep.Prepare(CreateReq("/a", "1"), testing::Ctx(), 1, 10));
  prep.Applied(1);
  EXPECT_TRUE(a.result.triggers.empty());
  sm.SetWatchTriggers(true);
  Applied b = sm.Apply(prep.Prepare(SetDataReq("/a", "2"), testing::Ctx(), 2, 11));
  ASSERT_EQ(b.result.triggers.size(), 1u);
  EXPECT_EQ(b.result.triggers[0].path, "/a");
  EXPECT_EQ(b.result.triggers[0].type, proto::EventType::kNodeDataChanged);
  EXPECT_EQ(b.result.triggers[0].acl, testing::Open());
  EXPECT_EQ(sm.tree().Find("/a")->stat.version(), 1);
}

}  // namespace
}  // namespace aviary::txn
