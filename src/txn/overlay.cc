#include "txn/overlay.h"

#include <cstring>

#include "tree/path.h"
#include "tree/path_index.h"

namespace aviary::txn {

std::shared_ptr<const proto::AclList> Overlay::SharedAcl(const tree::Node& n) const {
  const proto::AclList& acl = tree_.AclOf(n);
  if (acls_.size() >= kMaxSharedAcls) acls_.clear();  // refs of deleted lists pile up otherwise
  auto& slot = acls_[n.acl];
  if (!slot || *slot != acl) slot = std::make_shared<const proto::AclList>(acl);
  return slot;
}

// 8 bytes a step (tree::PathHash's mixing, all 64 bits kept). Not keyed: a
// client choosing colliding paths only lengthens probe runs over its own
// writes in flight (bounded by the outstanding limits), and every probe
// compares the path.
uint64_t Overlay::PathHash64(std::string_view path) { return tree::PathHash64(path); }

const Overlay::Slot* Overlay::FindSlot(std::string_view path, uint64_t hash) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.entry == nullptr) return nullptr;
    if (s.hash == hash && s.entry->path == path) return &s;
  }
}

Overlay::Entry* Overlay::Link(Entry* e) {
  if ((linked_ + 1) * 2 > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = e->hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.entry == nullptr) {
      s = Slot{e->hash, e};
      ++linked_;
      return nullptr;
    }
    if (s.hash == e->hash && s.entry->path == e->path) {
      Entry* replaced = s.entry;
      s.entry = e;
      return replaced;
    }
  }
}

void Overlay::Unlink(const Entry* e) {
  if (slots_.empty()) return;
  const size_t mask = slots_.size() - 1;
  for (size_t i = e->hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.entry == nullptr) return;
    if (s.entry == e) {
      EraseAt(i);
      return;
    }
  }
}

// Linear probing's deletion without tombstones: later slots of the probe
// run move back into the hole unless their home lies cyclically in (hole, slot].
void Overlay::EraseAt(size_t i) {
  const size_t mask = slots_.size() - 1;
  for (size_t j = (i + 1) & mask; slots_[j].entry != nullptr; j = (j + 1) & mask) {
    const size_t home = slots_[j].hash & mask;
    const bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  --linked_;
}

void Overlay::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? kMinSlots : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.entry == nullptr) continue;
    size_t i = s.hash & mask;
    while (slots_[i].entry != nullptr) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

std::optional<NodeRec> Overlay::Get(std::string_view path) const {
  path = tree::NormalizeRoot(path);
  if (const Slot* s = FindSlot(path, PathHash64(path))) {
    if (!s->entry->rec.exists) return std::nullopt;
    return s->entry->rec;
  }
  const tree::Node* n = tree_.Find(path);
  if (n == nullptr) return std::nullopt;
  NodeRec r;
  r.exists = true;
  r.stat = n->persisted();
  r.kind = n->kind;
  r.child_count = static_cast<int32_t>(n->children().size());
  r.data_bytes = static_cast<int64_t>(n->data.size());
  r.acl = SharedAcl(*n);
  return r;
}

std::shared_ptr<Overlay::Entry> Overlay::NewEntry(std::string_view path, uint64_t hash, NodeRec&& rec) {
  if (free_entries_.empty()) return std::make_shared<Entry>(Entry{std::string(path), hash, std::move(rec)});
  std::shared_ptr<Entry> e = std::move(free_entries_.back());
  free_entries_.pop_back();
  e->path.assign(path);
  e->hash = hash;
  e->rec = std::move(rec);
  return e;
}

void Overlay::Put(std::string_view path, NodeRec rec) {
  path = tree::NormalizeRoot(path);
  std::shared_ptr<Entry> e = NewEntry(path, PathHash64(path), std::move(rec));
  Entry* replaced = Link(e.get());
  if (recording_) undo_.emplace_back(e.get(), replaced);
  queue_.push_back(std::move(e));
}

void Overlay::Begin() {
  recording_ = true;
  mark_ = queue_.size();
  undo_.clear();
}

void Overlay::Rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    Unlink(it->first);
    if (it->second != nullptr) Link(it->second);
  }
  queue_.resize(mark_);
  Commit();
}

void Overlay::Commit() {
  recording_ = false;
  undo_.clear();
}

void Overlay::Applied(int64_t zxid) {
  while (!queue_.empty() && queue_.front()->rec.zxid <= zxid) {
    std::shared_ptr<Entry> e = std::move(queue_.front());
    queue_.pop_front();
    Unlink(e.get());  // when it is still its path's newest
    // Only queue_ held it: reuse it.
    if (e.use_count() == 1 && free_entries_.size() < kMaxRecycled) {
      e->rec.acl.reset();
      free_entries_.push_back(std::move(e));
    }
  }
}

void Overlay::Clear() {
  queue_.clear();
  slots_.clear();
  linked_ = 0;
  free_entries_.clear();
  undo_.clear();
  acls_.clear();
  recording_ = false;
}

}  // namespace aviary::txn
