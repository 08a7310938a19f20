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

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

void AddOpPaths(const tree::DataTree& tree, int64_t session, const txn::Op& op, std::vector<std::string>* out) {
  if (auto* c = std::get_if<txn::CreateTxn>(&op.body)) {
    out->push_back(c->path);
    out->push_back(ParentOf(c->path));
  } else if (auto* d = std::get_if<txn::DeleteTxn>(&op.body)) {
    out->push_back(d->path);
    out->push_back(ParentOf(d->path));
  } else if (auto* s = std::get_if<txn::SetDataTxn>(&op.body)) {
    out->push_back(s->path);
  } else if (auto* a = std::get_if<txn::SetAclTxn>(&op.body)) {
    out->push_back(a->path);
  } else if (auto* cs = std::get_if<txn::CloseSessionTxn>(&op.body)) {
    std::vector<std::string> paths = tree.EphemeralsOf(session);
    paths.insert(paths.end(), cs->paths_to_delete.begin(), cs->paths_to_delete.end());
    for (const std::string& p : paths) {
      out->push_back(p);
      out->push_back(ParentOf(p));
    }
  }
}

}  // namespace

uint64_t NodeDigest(std::string_view path, const tree::Node& n) {
  if (path.starts_with("/zookeeper/")) return 0;
  if (path == "/") path = "";
  const tree::StatPersisted& s = n.stat;
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
  Crc32 crc;
  crc.Update(path);
  crc.Update(n.data);
  crc.Update(std::string_view(b, sizeof b));
  return crc.value();
}

int64_t TreeDigestOf(const tree::DataTree& tree) {
  uint64_t sum = 0;
  tree.ForEach([&](const std::string& path, const tree::Node& n) { sum += NodeDigest(path, n); });
  return static_cast<int64_t>(sum);
}

void DigestTracker::Reset(const tree::DataTree& tree) {
  sum_ = static_cast<uint64_t>(TreeDigestOf(tree));
  touched_.clear();
}

void DigestTracker::Touch(const tree::DataTree& tree, const std::string& path) {
  if (const tree::Node* n = tree.Find(path)) sum_ -= NodeDigest(path, *n);
}

void DigestTracker::Before(const tree::DataTree& tree, const txn::Txn& t) {
  touched_.clear();
  if (t.type == proto::OpCode::kMulti) {
    for (const txn::Op& op : t.multi) AddOpPaths(tree, t.session_id, op, &touched_);
  } else {
    AddOpPaths(tree, t.session_id, t.op, &touched_);
  }
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  for (const std::string& p : touched_) Touch(tree, p);
}

void DigestTracker::After(const tree::DataTree& tree) {
  for (const std::string& p : touched_) {
    if (const tree::Node* n = tree.Find(p)) sum_ += NodeDigest(p, *n);
  }
  touched_.clear();
}

}  // namespace aviary::zkformat
