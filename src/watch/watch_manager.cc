#include "watch/watch_manager.h"

#include <algorithm>
#include <charconv>

namespace aviary::watch {
namespace {

using proto::EventType;
using proto::WatcherType;

// Slot bits: the data table's three modes, then the child table's two
// (recursive watches live in the data table only, as in ZooKeeper 3.9).
constexpr uint8_t kDataStd = 1 << 0;
constexpr uint8_t kDataPersist = 1 << 1;
constexpr uint8_t kDataRec = 1 << 2;
constexpr uint8_t kChildStd = 1 << 3;
constexpr uint8_t kChildPersist = 1 << 4;
constexpr uint8_t kDataMask = kDataStd | kDataPersist | kDataRec;
constexpr uint8_t kChildMask = kChildStd | kChildPersist;
constexpr uint8_t kRecMask = kDataRec;

size_t Tables(uint8_t bits) { return ((bits & kDataMask) ? 1 : 0) + ((bits & kChildMask) ? 1 : 0); }

// The modes a removeWatches/checkWatches type names; 0 for unknown types.
uint8_t MaskFor(WatcherType type) {
  switch (type) {
    case WatcherType::kChildren:
      return kChildStd;
    case WatcherType::kData:
      return kDataStd;
    case WatcherType::kPersistent:
      return kDataPersist | kChildPersist;
    case WatcherType::kPersistentRecursive:
      return kDataRec;
    case WatcherType::kAny:
      return kDataMask | kChildMask;
  }
  return 0;
}

// Parent of an absolute path ("/a/b" -> "/a", "/a" -> "/"); empty for "/"
// and for strings that are not absolute paths.
std::string_view Parent(std::string_view p) {
  if (p.size() <= 1) return {};
  size_t pos = p.rfind('/');
  if (pos == std::string_view::npos) return {};
  return p.substr(0, pos == 0 ? 1 : pos);
}

void AppendHex(std::string* out, int64_t id) {
  char buf[17];
  auto res = std::to_chars(buf, buf + sizeof buf, static_cast<uint64_t>(id), 16);
  out->append("0x");
  out->append(buf, res.ptr);
}

bool HexOrder(int64_t a, int64_t b) { return static_cast<uint64_t>(a) < static_cast<uint64_t>(b); }

}  // namespace

WatchManager::WatchManager(WatchLimits limits) : limits_(limits) {}

bool WatchManager::AddData(std::string_view path, int64_t w) { return AddBits(path, w, kDataStd); }

bool WatchManager::AddChild(std::string_view path, int64_t w) { return AddBits(path, w, kChildStd); }

bool WatchManager::AddPersistent(std::string_view path, int64_t w, bool recursive) {
  return AddBits(path, w, recursive ? kDataRec : (kDataPersist | kChildPersist));
}

bool WatchManager::Fits(int64_t w, size_t entries, size_t path_bytes) const {
  auto ss = sessions_.find(w);
  const size_t have = ss == sessions_.end() ? 0 : ss->second.count;
  const size_t have_bytes = ss == sessions_.end() ? 0 : ss->second.path_bytes;
  if (limits_.max_watches != 0 && (entries > limits_.max_watches || have > limits_.max_watches - entries)) {
    return false;
  }
  if (limits_.max_path_bytes != 0 &&
      (path_bytes > limits_.max_path_bytes || have_bytes > limits_.max_path_bytes - path_bytes)) {
    return false;
  }
  return true;
}

bool WatchManager::AddBits(std::string_view path, int64_t w, uint8_t add) {
  auto pit = paths_.find(path);
  uint8_t old = 0;
  if (pit != paths_.end()) {
    auto sit = pit->second.slots.find(w);
    if (sit != pit->second.slots.end()) old = sit->second.bits;
  }
  uint8_t bits = old | add;
  if (bits == old) return true;
  if (!Fits(w, Tables(bits) - Tables(old), old == 0 ? path.size() : 0)) return false;
  if (pit == paths_.end()) pit = paths_.emplace(std::string(path), PathEntry{}).first;
  Node* node = &*pit;
  auto [sit, inserted] = node->second.slots.try_emplace(w, Slot{0, next_seq_});
  if (inserted) {
    ++next_seq_;
    SessionEntry& se = sessions_[w];
    se.paths.insert(node);
    se.path_bytes += node->first.size();
  }
  SetBits(node, w, bits);
  return true;
}

void WatchManager::SetBits(Node* node, int64_t w, uint8_t bits) {
  PathEntry& e = node->second;
  auto sit = e.slots.find(w);
  if (sit == e.slots.end()) return;
  uint8_t old = sit->second.bits;
  if (old == bits) return;
  auto ss = sessions_.find(w);
  watch_count_ += Tables(bits);
  watch_count_ -= Tables(old);
  if (ss != sessions_.end()) {
    ss->second.count += Tables(bits);
    ss->second.count -= Tables(old);
  }
  bool was_rec = (old & kRecMask) != 0;
  bool is_rec = (bits & kRecMask) != 0;
  if (is_rec && !was_rec) {
    e.recursive.insert(w);
    ++recursive_count_;
  } else if (was_rec && !is_rec) {
    e.recursive.erase(w);
    --recursive_count_;
  }
  if (bits != 0) {
    sit->second.bits = bits;
    return;
  }
  e.slots.erase(sit);
  if (ss != sessions_.end()) {
    ss->second.paths.erase(node);
    ss->second.path_bytes -= node->first.size();
    if (ss->second.paths.empty()) sessions_.erase(ss);
  }
  if (e.slots.empty()) paths_.erase(paths_.find(node->first));
}

void WatchManager::Collect(const PathEntry& e, int64_t w, uint8_t mask, std::vector<Candidate>* out) {
  auto it = e.slots.find(w);
  if (it != e.slots.end() && (it->second.bits & mask)) out->push_back({it->second.seq, w});
}

void WatchManager::Trigger(std::string_view path, EventType type, std::vector<Fired>* out) {
  const bool data =
      type == EventType::kNodeCreated || type == EventType::kNodeDataChanged || type == EventType::kNodeDeleted;
  const bool child = type == EventType::kNodeDeleted || type == EventType::kNodeChildrenChanged;
  if ((!data && !child) || paths_.empty()) return;
  // Recursive watches (data table) see every event but NodeChildrenChanged.
  const uint8_t rec = data ? kDataRec : 0;
  const uint8_t exact = (data ? kDataStd | kDataPersist : 0) | (child ? kChildStd | kChildPersist : 0) | rec;
  const uint8_t one_shot = (data ? kDataStd : 0) | (child ? kChildStd : 0);

  std::vector<Candidate> hits;
  std::vector<int64_t> consumed;
  Node* exact_node = nullptr;
  if (auto it = paths_.find(path); it != paths_.end()) {
    exact_node = &*it;
    for (const auto& [w, slot] : it->second.slots) {
      if (slot.bits & exact) hits.push_back({slot.seq, w});
      if (slot.bits & one_shot) consumed.push_back(w);
    }
  }
  const size_t exact_hits = hits.size();  // unique watchers: one slot each
  if (recursive_count_ != 0 && rec != 0) {
    for (std::string_view p = Parent(path); !p.empty(); p = Parent(p)) {
      auto it = paths_.find(p);
      if (it == paths_.end()) continue;
      for (int64_t w : it->second.recursive) Collect(it->second, w, rec, &hits);
    }
  }
  // Consume one-shot watches. The path entry can only disappear on the last
  // call, once every slot of it is gone.
  for (int64_t w : consumed) {
    uint8_t bits = exact_node->second.slots.at(w).bits;
    SetBits(exact_node, w, bits & static_cast<uint8_t>(~one_shot));
  }
  if (hits.empty()) return;
  std::sort(hits.begin(), hits.end(), [](const Candidate& a, const Candidate& b) { return a.seq < b.seq; });
  if (hits.size() == exact_hits) {
    for (const Candidate& c : hits) out->push_back(Fired{c.watcher, type, std::string(path)});
    return;
  }
  std::unordered_set<int64_t> seen;
  seen.reserve(hits.size());
  for (const Candidate& c : hits) {
    if (seen.insert(c.watcher).second) out->push_back(Fired{c.watcher, type, std::string(path)});
  }
}

bool WatchManager::Contains(std::string_view path, WatcherType type, int64_t w) const {
  uint8_t mask = MaskFor(type);
  auto pit = paths_.find(path);
  if (mask == 0 || pit == paths_.end()) return false;
  auto sit = pit->second.slots.find(w);
  return sit != pit->second.slots.end() && (sit->second.bits & mask) != 0;
}

bool WatchManager::Remove(std::string_view path, WatcherType type, int64_t w, bool dry_run,
                          std::vector<Fired>* /*removed_events*/) {
  if (!Contains(path, type, w)) return false;
  if (!dry_run) {
    Node* node = &*paths_.find(path);
    uint8_t bits = node->second.slots.at(w).bits;
    SetBits(node, w, bits & static_cast<uint8_t>(~MaskFor(type)));
  }
  return true;
}

void WatchManager::RemoveAll(int64_t w) {
  auto ss = sessions_.find(w);
  if (ss == sessions_.end()) return;
  std::vector<Node*> nodes(ss->second.paths.begin(), ss->second.paths.end());
  for (Node* node : nodes) SetBits(node, w, 0);
}

bool WatchManager::MayFireOnData(std::string_view path) const {
  if (paths_.empty()) return false;
  if (paths_.find(path) != paths_.end()) return true;
  if (recursive_count_ == 0) return false;
  for (std::string_view p = Parent(path); !p.empty(); p = Parent(p)) {
    auto it = paths_.find(p);
    if (it != paths_.end() && !it->second.recursive.empty()) return true;
  }
  return false;
}

size_t WatchManager::SessionWatchCount(int64_t w) const {
  auto ss = sessions_.find(w);
  return ss == sessions_.end() ? 0 : ss->second.count;
}

std::vector<std::string> WatchManager::PathsOf(int64_t w) const {
  std::vector<std::string> out;
  auto ss = sessions_.find(w);
  if (ss == sessions_.end()) return out;
  for (const Node* node : ss->second.paths) out.push_back(node->first);
  std::sort(out.begin(), out.end());
  return out;
}

std::string WatchManager::DumpByPath(const WatcherName& name) const {
  std::vector<const Node*> nodes;
  for (const Node& n : paths_) nodes.push_back(&n);
  std::sort(nodes.begin(), nodes.end(), [](const Node* a, const Node* b) { return a->first < b->first; });
  std::string out;
  std::vector<int64_t> ids;
  for (const Node* n : nodes) {
    ids.clear();
    for (const auto& [w, slot] : n->second.slots) {
      if (slot.bits & kDataMask) ids.push_back(name ? name(w) : w);
    }
    if (ids.empty()) continue;
    std::sort(ids.begin(), ids.end(), HexOrder);
    out.append(n->first).push_back('\n');
    for (int64_t w : ids) {
      out.push_back('\t');
      AppendHex(&out, w);
      out.push_back('\n');
    }
  }
  return out;
}

std::string WatchManager::DumpBySession(const WatcherName& name) const {
  std::vector<int64_t> ids;
  for (const auto& [w, s] : sessions_) ids.push_back(w);
  std::sort(ids.begin(), ids.end(), HexOrder);
  std::string out;
  std::vector<std::string_view> paths;
  for (int64_t w : ids) {
    paths.clear();
    for (const Node* n : sessions_.at(w).paths) {
      if (n->second.slots.at(w).bits & kDataMask) paths.push_back(n->first);
    }
    if (paths.empty()) continue;
    std::sort(paths.begin(), paths.end());
    AppendHex(&out, name ? name(w) : w);
    out.push_back('\n');
    for (std::string_view p : paths) {
      out.push_back('\t');
      out.append(p).push_back('\n');
    }
  }
  return out;
}

std::string WatchManager::DumpSummary() const {
  size_t sessions = 0;
  size_t paths = 0;
  size_t watches = 0;
  for (const auto& [w, s] : sessions_) {
    bool any = false;
    for (const Node* n : s.paths) {
      if (n->second.slots.at(w).bits & kDataMask) {
        any = true;
        ++watches;
      }
    }
    if (any) ++sessions;
  }
  for (const Node& n : paths_) {
    for (const auto& [w, slot] : n.second.slots) {
      if (slot.bits & kDataMask) {
        ++paths;
        break;
      }
    }
  }
  return std::to_string(sessions) + " connections watching " + std::to_string(paths) +
         " paths\nTotal watches:" + std::to_string(watches);
}

}  // namespace aviary::watch
