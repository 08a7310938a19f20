// Deduplicated, reference-counted store of ACL lists (ZooKeeper's
// ReferenceCountedACLCache): many nodes share a handful of lists, so a node
// keeps a small reference and the list lives here once. Single-threaded,
// owned by DataTree. Invariant: every live Ref has refcount >= 1; a list
// whose last user is released is erased. Order inside a list matters
// (two orderings are two entries), as in ZooKeeper. A ref indexes a vector
// (Get, on every read's permission check, is one array access); a ref is
// never reused (a snapshot encoder keys ACLs by ref), a freed one costs 8 B.
// The list last acquired is compared first (a bulk load or a run of creates
// mostly repeats one ACL), before the keyed map.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/records.h"

namespace aviary::tree {

class AclCache {
 public:
  using Ref = uint32_t;  // 0 is never handed out

  // Returns the reference for `acl`, adding it or bumping its count.
  Ref Acquire(const proto::AclList& acl);
  // Drops one use of `ref`; unknown refs are ignored.
  void Release(Ref ref);
  // The list behind `ref`; an empty list for an unknown ref.
  const proto::AclList& Get(Ref ref) const;

  size_t size() const { return by_key_.size(); }
  uint64_t RefCount(Ref ref) const;

 private:
  struct Entry {
    proto::AclList acl;
    std::string key;
    uint64_t count = 0;
  };
  static std::string KeyOf(const proto::AclList& acl);
  const Entry* At(Ref ref) const { return ref < by_ref_.size() ? by_ref_[ref].get() : nullptr; }

  std::vector<std::unique_ptr<Entry>> by_ref_;  // [0] unused; nullptr = free
  std::unordered_map<std::string, Ref> by_key_;
  Ref last_ = 0;  // the ref last acquired (0 = none)
};

}  // namespace aviary::tree
