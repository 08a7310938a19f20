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
  std::string key = KeyOf(acl);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    ++by_ref_[it->second].count;
    return it->second;
  }
  const Ref ref = next_++;
  by_key_.emplace(key, ref);
  by_ref_.emplace(ref, Entry{acl, std::move(key), 1});
  return ref;
}

void AclCache::Release(Ref ref) {
  auto it = by_ref_.find(ref);
  if (it == by_ref_.end()) return;
  if (--it->second.count == 0) {
    by_key_.erase(it->second.key);
    by_ref_.erase(it);
  }
}

const proto::AclList& AclCache::Get(Ref ref) const {
  static const proto::AclList kEmpty;
  auto it = by_ref_.find(ref);
  return it == by_ref_.end() ? kEmpty : it->second.acl;
}

uint64_t AclCache::RefCount(Ref ref) const {
  auto it = by_ref_.find(ref);
  return it == by_ref_.end() ? 0 : it->second.count;
}

}  // namespace aviary::tree
