// txn::Overlay recycles applied entries (no allocation per
// write once warm). Checked against a plain model over many rounds of Put,
// multi-style Begin/Rollback and Applied on a few long paths, so that a
// reused entry or a table slot still naming a recycled entry would show as a
// wrong answer (or under ASan as a use after free).
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "helpers.h"
#include "txn/overlay.h"

namespace aviary::txn {
namespace {

std::string LongPath(int i) { return "/recycled-parent-with-a-long-name/child-number-" + std::to_string(i); }

struct Model {
  struct Rec {
    int64_t zxid;
    bool exists;
    int32_t version;
  };
  std::vector<std::pair<std::string, Rec>> queue;  // oldest first
  std::optional<Rec> Newest(const std::string& path) const {
    for (auto it = queue.rbegin(); it != queue.rend(); ++it) {
      if (it->first == path) return it->second;
    }
    return std::nullopt;
  }
  void Applied(int64_t zxid) {
    while (!queue.empty() && queue.front().second.zxid <= zxid) queue.erase(queue.begin());
  }
};

TEST(OverlayRecycle, ManyRoundsMatchAModel) {
  tree::DataTree tree;
  Overlay ov(tree);
  Model model;
  uint64_t rng = 12345;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  int64_t zxid = 0;
  int64_t applied = 0;
  for (int round = 0; round < 3000; ++round) {
    // A write: one or two records (a create's node and parent), sometimes
    // a failed multi that is rolled back.
    ++zxid;
    const bool rollback = next() % 7 == 0;
    ov.Begin();
    const size_t mark = model.queue.size();
    const int records = 1 + static_cast<int>(next() % 2);
    for (int r = 0; r < records; ++r) {
      const std::string path = LongPath(static_cast<int>(next() % 5));
      NodeRec rec;
      rec.zxid = zxid;
      rec.exists = next() % 4 != 0;
      rec.stat.version = static_cast<int32_t>(round);
      ov.Put(path, rec);
      model.queue.push_back({path, {zxid, rec.exists, rec.stat.version}});
    }
    if (rollback) {
      ov.Rollback();
      model.queue.resize(mark);
    } else {
      ov.Commit();
    }
    // Apply a prefix now and then (several txns in flight otherwise).
    if (next() % 3 == 0) {
      applied = zxid - static_cast<int64_t>(next() % 3);
      ov.Applied(applied);
      model.Applied(applied);
    }
    ASSERT_EQ(ov.size(), model.queue.size()) << "round " << round;
    for (int i = 0; i < 5; ++i) {
      const std::optional<Model::Rec> want = model.Newest(LongPath(i));
      const std::optional<NodeRec> got = ov.Get(LongPath(i));
      if (!want || !want->exists) {
        EXPECT_FALSE(got.has_value()) << "round " << round << " path " << i;  // not in the tree either
        continue;
      }
      ASSERT_TRUE(got.has_value()) << "round " << round << " path " << i;
      EXPECT_EQ(got->zxid, want->zxid);
      EXPECT_EQ(got->stat.version, want->version);
    }
  }
  ov.Applied(zxid);
  EXPECT_EQ(ov.size(), 0u);
  EXPECT_FALSE(ov.Get(LongPath(0)).has_value());
}

// The same against the model with many paths in flight (the path table
// grows several times, and deletions shift probe runs back, wrapping
// around its end), and multis that put one path twice before a rollback.
TEST(OverlayRecycle, ManyPathsInFlightMatchAModel) {
  tree::DataTree tree;
  Overlay ov(tree);
  Model model;
  uint64_t rng = 777;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  constexpr int kPaths = 700;
  int64_t zxid = 0;
  for (int round = 0; round < 6000; ++round) {
    ++zxid;
    const bool rollback = next() % 5 == 0;
    ov.Begin();
    const size_t mark = model.queue.size();
    const int records = 1 + static_cast<int>(next() % 3);
    const std::string first = LongPath(static_cast<int>(next() % kPaths));
    for (int r = 0; r < records; ++r) {
      const std::string path = r != 1 ? first : LongPath(static_cast<int>(next() % kPaths));
      NodeRec rec;
      rec.zxid = zxid;
      rec.exists = next() % 4 != 0;
      rec.stat.version = static_cast<int32_t>(round * 4 + r);
      ov.Put(path, rec);
      model.queue.push_back({path, {zxid, rec.exists, rec.stat.version}});
    }
    if (rollback) {
      ov.Rollback();
      model.queue.resize(mark);
    } else {
      ov.Commit();
    }
    // Up to ~600 txns in flight: apply a stretch now and then.
    if (next() % 400 == 0 || model.queue.size() > 1200) {
      const int64_t applied = zxid - static_cast<int64_t>(next() % 300);
      ov.Applied(applied);
      model.Applied(applied);
    }
    ASSERT_EQ(ov.size(), model.queue.size()) << "round " << round;
    for (int k = 0; k < 8; ++k) {
      const int i = static_cast<int>(next() % kPaths);
      const std::optional<Model::Rec> want = model.Newest(LongPath(i));
      const std::optional<NodeRec> got = ov.Get(LongPath(i));
      if (!want || !want->exists) {
        ASSERT_FALSE(got.has_value()) << "round " << round << " path " << i;
        continue;
      }
      ASSERT_TRUE(got.has_value()) << "round " << round << " path " << i;
      ASSERT_EQ(got->zxid, want->zxid) << "round " << round << " path " << i;
      ASSERT_EQ(got->stat.version, want->version) << "round " << round << " path " << i;
    }
  }
  for (int i = 0; i < kPaths; ++i) {
    const std::optional<Model::Rec> want = model.Newest(LongPath(i));
    const std::optional<NodeRec> got = ov.Get(LongPath(i));
    ASSERT_EQ(got.has_value(), want && want->exists) << i;
    if (got) {
      EXPECT_EQ(got->stat.version, want->version) << i;
    }
  }
  ov.Applied(zxid);
  EXPECT_EQ(ov.size(), 0u);
  for (int i = 0; i < kPaths; ++i) EXPECT_FALSE(ov.Get(LongPath(i)).has_value()) << i;
}

TEST(OverlayRecycle, ClearForgetsRecycledEntries) {
  tree::DataTree tree;
  ASSERT_EQ(tree.CreateNode("/x", "tree", testing::Open(), tree::NodeKind::kPersistent, 0, 0, -1, 1, 1),
            proto::Err::kOk);
  Overlay ov(tree);
  NodeRec gone;
  gone.zxid = 2;
  ov.Put("/x", gone);  // a pending delete
  ov.Applied(2);
  ov.Clear();
  NodeRec rec;
  rec.zxid = 3;
  rec.exists = true;
  rec.stat.version = 9;
  ov.Put("/y", rec);
  ASSERT_TRUE(ov.Get("/x").has_value());  // the tree's again
  EXPECT_EQ(ov.Get("/x")->zxid, -1);
  ASSERT_TRUE(ov.Get("/y").has_value());
  EXPECT_EQ(ov.Get("/y")->stat.version, 9);
}

}  // namespace
}  // namespace aviary::txn
