// Randomised comparison against a brute-force model of the ZooKeeper 3.9
// two-table rules (prefix matching instead of ancestor walks, no indexes),
// removal by WatcherType as DataTree.removeWatch / containsWatcher.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "watch/watch_manager.h"

namespace aviary::watch {
namespace {

using proto::EventType;
using proto::WatcherType;

enum Mode { kStd = 1, kPersist = 2, kRec = 4 };

struct Model {
  // (path, watcher) -> modes per table
  std::map<std::pair<std::string, int64_t>, int> data, child;

  static bool Under(const std::string& anc, const std::string& p) {
    if (anc == "/") return true;
    return p.size() > anc.size() && p.compare(0, anc.size(), anc) == 0 && p[anc.size()] == '/';
  }
  // One table's trigger: returns the watchers it fires.
  static std::set<int64_t> Fire(std::map<std::pair<std::string, int64_t>, int>& t, const std::string& p, EventType e) {
    std::set<int64_t> out;
    for (auto it = t.begin(); it != t.end();) {
      const auto& [path, w] = it->first;
      int& modes = it->second;
      bool exact = path == p;
      if (exact && (modes & (kStd | kPersist))) out.insert(w);
      if ((exact || Under(path, p)) && (modes & kRec) && e != EventType::kNodeChildrenChanged) out.insert(w);
      if (exact) modes &= ~kStd;
      it = modes == 0 ? t.erase(it) : std::next(it);
    }
    return out;
  }
  std::set<int64_t> Trigger(const std::string& p, EventType e) {
    std::set<int64_t> out;
    if (e != EventType::kNodeChildrenChanged) out = Fire(data, p, e);
    if (e == EventType::kNodeDeleted || e == EventType::kNodeChildrenChanged) {
      auto c = Fire(child, p, e);
      out.insert(c.begin(), c.end());
    }
    return out;
  }
  // Clears `modes` (all when 0) of (p, w) in t; true if anything changed.
  static bool Clear(std::map<std::pair<std::string, int64_t>, int>& t, const std::string& p, int64_t w, int modes,
                    bool dry) {
    auto it = t.find({p, w});
    if (it == t.end()) return false;
    int left = modes == 0 ? 0 : (it->second & ~modes);
    if (left == it->second) return false;
    if (!dry) {
      if (left == 0) {
        t.erase(it);
      } else {
        it->second = left;
      }
    }
    return true;
  }
  bool Remove(const std::string& p, WatcherType type, int64_t w, bool dry) {
    switch (type) {
      case WatcherType::kChildren:
        return Clear(child, p, w, kStd, dry);
      case WatcherType::kData:
        return Clear(data, p, w, kStd, dry);
      case WatcherType::kPersistent: {
        bool c = Clear(child, p, w, kPersist, dry);
        return Clear(data, p, w, kPersist, dry) || c;
      }
      case WatcherType::kPersistentRecursive:
        return Clear(data, p, w, kRec, dry);
      case WatcherType::kAny: {
        bool c = Clear(child, p, w, 0, dry);
        return Clear(data, p, w, 0, dry) || c;
      }
    }
    return false;
  }
  size_t Count() const { return data.size() + child.size(); }
  size_t Count(int64_t w) const {
    size_t n = 0;
    for (const auto& [k, v] : data) n += k.second == w;
    for (const auto& [k, v] : child) n += k.second == w;
    return n;
  }
};

TEST(Model, RandomOperationsAgree) {
  const std::vector<std::string> paths = {"/", "/a", "/a/b", "/a/b/c", "/ab", "/x", "/x/y"};
  const std::vector<EventType> events = {EventType::kNodeCreated, EventType::kNodeDeleted, EventType::kNodeDataChanged,
                                         EventType::kNodeChildrenChanged};
  std::mt19937 rng(12345);
  WatchManager m;
  Model ref;
  for (int step = 0; step < 20000; ++step) {
    const std::string& p = paths[rng() % paths.size()];
    int64_t w = static_cast<int64_t>(rng() % 4) + 1;
    switch (rng() % 9) {
      case 0:
        m.AddData(p, w);
        ref.data[{p, w}] |= kStd;
        break;
      case 1:
        m.AddChild(p, w);
        ref.child[{p, w}] |= kStd;
        break;
      case 2:
        m.AddPersistent(p, w, false);
        ref.data[{p, w}] |= kPersist;
        ref.child[{p, w}] |= kPersist;
        break;
      case 3:
        m.AddPersistent(p, w, true);
        ref.data[{p, w}] |= kRec;  // data table only (3.9)
        break;
      case 4:
      case 5:
      case 6: {
        EventType e = events[rng() % events.size()];
        std::vector<Fired> out;
        m.Trigger(p, e, &out);
        std::set<int64_t> got;
        for (const auto& f : out) {
          ASSERT_TRUE(got.insert(f.watcher).second) << "duplicate event, step " << step;
          ASSERT_EQ(f.path, p);
          ASSERT_EQ(f.type, e);
        }
        ASSERT_EQ(got, ref.Trigger(p, e)) << "step " << step;
        break;
      }
      case 7: {
        auto type = static_cast<WatcherType>(rng() % 5 + 1);
        bool dry = rng() % 2;
        ASSERT_EQ(m.Remove(p, type, w, dry), ref.Remove(p, type, w, dry)) << "step " << step;
        break;
      }
      case 8:
        if (rng() % 8 == 0) {
          m.RemoveAll(w);
          std::erase_if(ref.data, [w](const auto& kv) { return kv.first.second == w; });
          std::erase_if(ref.child, [w](const auto& kv) { return kv.first.second == w; });
        }
        break;
    }
    ASSERT_EQ(m.watch_count(), ref.Count()) << "step " << step;
    for (int64_t s = 1; s <= 4; ++s) ASSERT_EQ(m.SessionWatchCount(s), ref.Count(s)) << "step " << step;
  }
}

}  // namespace
}  // namespace aviary::watch
