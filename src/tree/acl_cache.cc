#include "tree/acl_cache.h"

namespace aviary::tree {

std::string AclCache::KeyOf(const proto::AclList& acl) {
  std::string key;
  for (const proto::Acl& a : acl) {
    key += std::to_string(a.perms);
    key.push_back('\0');
    key += std::to_string(a.id.scheme.size());
    key.push_back(':');
    key += a.id.scheme;
    key += std::to_string(a.id.id.size());
    key.push_back(':');
    key += a.id.id;
  }
  return key;
}

AclCache::Ref AclCache::Acquire(const proto::AclList& acl) {
  if (const Entry* e = At(last_); e != nullptr && e->acl == acl) {
    ++by_ref_[last_]->count;
    return last_;
  }
  std::string key = KeyOf(acl);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    ++by_ref_[it->second]->count;
    return last_ = it->second;
  }
  if (by_ref_.empty()) by_ref_.emplace_back();  // ref 0 is never handed out
  const auto ref = static_cast<Ref>(by_ref_.size());
  by_ref_.emplace_back();
  by_key_.emplace(key, ref);
  by_ref_[ref] = std::make_unique<Entry>(Entry{acl, std::move(key), 1});
  return last_ = ref;
}

void AclCache::Release(Ref ref) {
  if (At(ref) == nullptr) return;
  std::unique_ptr<Entry>& e = by_ref_[ref];
  if (--e->count == 0) {
    by_key_.erase(e->key);
    e.reset();
    if (last_ == ref) last_ = 0;
  }
}

const proto::AclList& AclCache::Get(Ref ref) const {
  static const proto::AclList kEmpty;
  const Entry* e = At(ref);
  return e == nullptr ? kEmpty : e->acl;
}

uint64_t AclCache::RefCount(Ref ref) const {
  const Entry* e = At(ref);
  return e == nullptr ? 0 : e->count;
}

}  // namespace aviary::tree
