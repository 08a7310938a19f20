#include "zkformat/digest.h"

#include <algorithm>

#include "zkformat/checksum.h"

namespace aviary::zkformat {

namespace {

void PutBe(char* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

std::string_view ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void DigestTracker::AddOpPaths(const tree::DataTree& tree, int64_t session, const txn::Op& op) {
  if (auto* c = std::get_if<txn::CreateTxn>(&op.body)) {
    Add(c->path);
    Add(ParentOf(c->path));
  } else if (auto* d = std::get_if<txn::DeleteTxn>(&op.body)) {
    Add(d->path);
    Add(ParentOf(d->path));
  } else if (auto* s = std::get_if<txn::SetDataTxn>(&op.body)) {
    Add(s->path);
  } else if (auto* a = std::get_if<txn::SetAclTxn>(&op.body)) {
    Add(a->path);
  } else if (auto* cs = std::get_if<txn::CloseSessionTxn>(&op.body)) {
    std::vector<std::string> paths = tree.EphemeralsOf(session);
    paths.insert(paths.end(), cs->paths_to_delete.begin(), cs->paths_to_delete.end());
    for (const std::string& p : paths) {
      Add(p);
      Add(ParentOf(p));
    }
  }
}

void DigestTracker::Add(std::string_view path) {
  // Strings are reused across txns: no allocation per apply once warm.
  if (count_ < touched_.size()) {
    touched_[count_].assign(path);
  } else {
    touched_.emplace_back(path);
  }
  ++count_;
}

namespace {

void AddStat(Crc32& crc, const tree::StatPersisted& s) {
  char b[60];
  PutBe(b, static_cast<uint64_t>(s.czxid), 8);
  PutBe(b + 8, static_cast<uint64_t>(s.mzxid), 8);
  PutBe(b + 16, static_cast<uint64_t>(s.pzxid), 8);
  PutBe(b + 24, static_cast<uint64_t>(s.ctime), 8);
  PutBe(b + 32, static_cast<uint64_t>(s.mtime), 8);
  PutBe(b + 40, static_cast<uint32_t>(s.version), 4);
  PutBe(b + 44, static_cast<uint32_t>(s.cversion), 4);
  PutBe(b + 48, static_cast<uint32_t>(s.aversion), 4);
  PutBe(b + 52, static_cast<uint64_t>(s.ephemeral_owner), 8);
  crc.Update(std::string_view(b, sizeof b));
}

}  // namespace

uint64_t NodeDigest(std::string_view path, const tree::Node& n) {
  if (path.starts_with("/zookeeper/")) return 0;
  if (path == "/") path = "";
  Crc32 crc;
  crc.Update(path);
  crc.Update(n.data);
  AddStat(crc, n.persisted());
  return crc.value();
}

Crc32 NodeDigestHead(std::string_view path, std::string_view data) {
  Crc32 crc;
  if (path.starts_with("/zookeeper/")) return crc;  // NodeDigestFinish gives 0
  crc.Update(path == "/" ? std::string_view() : path);
  crc.Update(data);
  return crc;
}

uint64_t NodeDigestFinish(std::string_view path, Crc32 head, const tree::StatPersisted& s) {
  if (path.starts_with("/zookeeper/")) return 0;
  AddStat(head, s);
  return head.value();
}

int64_t TreeDigestOf(const tree::DataTree& tree) {
  uint64_t sum = 0;
  tree.ForEach([&](const std::string& path, const tree::Node& n) { sum += NodeDigest(path, n); });
  return static_cast<int64_t>(sum);
}

void DigestTracker::Reset(const tree::DataTree& tree) {
  sum_ = static_cast<uint64_t>(TreeDigestOf(tree));
  count_ = 0;
  same_node_ = nullptr;
  if (cache_) std::fill(cache_.get(), cache_.get() + kCacheSlots, Cached{});
}

static_assert(DigestTracker::kCacheSlots == size_t{1} << 12, "SlotOf's shift");

uint64_t DigestTracker::KnownDigest(std::string_view path, const tree::Node& n) {
  if (cache_) {
    const Cached& c = SlotOf(n);
    if (c.node == &n && c.mzxid == n.stat.mzxid() && c.pzxid == n.stat.pzxid() && c.aversion == n.stat.aversion()) {
      ++cache_hits_;
      return c.digest;
    }
  }
  return NodeDigest(path, n);
}

uint64_t DigestTracker::FreshDigest(std::string_view path, const tree::Node& n) {
  const uint64_t d = NodeDigest(path, n);
  if (!cache_) cache_ = std::make_unique<Cached[]>(kCacheSlots);
  SlotOf(n) = Cached{&n, n.stat.mzxid(), n.stat.pzxid(), n.stat.aversion(), static_cast<uint32_t>(d)};
  return d;
}

const tree::Node* DigestTracker::Touch(const tree::DataTree& tree, const std::string& path, const tree::Node* n) {
  if (n == nullptr) n = tree.Find(path);
  if (n != nullptr) sum_ -= KnownDigest(path, *n);
  return n;
}

void DigestTracker::Before(const tree::DataTree& tree, const txn::Txn& t, const tree::Node* node) {
  count_ = 0;
  if (t.type == proto::OpCode::kMulti) {
    for (const txn::Op& op : t.multi) AddOpPaths(tree, t.session_id, op);
  } else {
    AddOpPaths(tree, t.session_id, t.op);
  }
  if (count_ > 1) {
    const auto end = touched_.begin() + static_cast<std::ptrdiff_t>(count_);
    std::sort(touched_.begin(), end);
    count_ = static_cast<size_t>(std::unique(touched_.begin(), end) - touched_.begin());
  }
  // A lone setData / setACL neither creates nor deletes a node: the node
  // found now is the one After reads (its slot does not move).
  const bool same_node = t.type == proto::OpCode::kSetData || t.type == proto::OpCode::kSetAcl;
  same_node_ = nullptr;
  for (size_t i = 0; i < count_; ++i) {
    // A lone setData's node may come with the call (the apply's own lookup).
    const tree::Node* n = Touch(tree, touched_[i], same_node && count_ == 1 ? node : nullptr);
    if (same_node && count_ == 1) same_node_ = n;
  }
}

void DigestTracker::After(const tree::DataTree& tree) {
  if (same_node_ != nullptr) {
    sum_ += FreshDigest(touched_[0], *same_node_);
  } else {
    for (size_t i = 0; i < count_; ++i) {
      if (const tree::Node* n = tree.Find(touched_[i])) sum_ += FreshDigest(touched_[i], *n);
    }
  }
  same_node_ = nullptr;
  count_ = 0;
  constexpr size_t kKeptPaths = 64;  // a large closeSession's paths are not kept
  if (touched_.size() > kKeptPaths) touched_.resize(kKeptPaths);
}

}  // namespace aviary::zkformat
