// One znode as the tree stores it, with ZooKeeper's persisted-stat meaning:
// `stat.cversion` counts child *creations* (ZooKeeper's StatPersisted); the
// client-visible Stat derives cversion = 2*cversion - numChildren and hides
// the ephemeralOwner of containers/TTL nodes (see ToStat). Plain value type.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "proto/records.h"
#include "tree/acl_cache.h"

namespace aviary::tree {

enum class NodeKind : int8_t { kPersistent, kEphemeral, kContainer, kTtl };

// Raw ephemeralOwner values ZooKeeper stores for containers and TTL nodes.
inline constexpr int64_t kContainerOwner = INT64_MIN;
inline constexpr int64_t kTtlOwnerMask = static_cast<int64_t>(0xff00000000000000ULL);
inline constexpr int64_t kMaxTtlMs = 0x000000ffffffffffLL;
inline constexpr int64_t TtlOwner(int64_t ttl_ms) { return kTtlOwnerMask | ttl_ms; }

struct StatPersisted {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;  // number of children created (not changes)
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;  // raw: session, kContainerOwner or TtlOwner()
  int64_t pzxid = 0;
};

struct Node {
  std::string data;
  AclCache::Ref acl = 0;
  StatPersisted stat;
  NodeKind kind = NodeKind::kPersistent;
  bool data_null = false;  // data was set from a null buffer
  int64_t ttl_ms = 0;      // kTtl only
  std::set<std::string> children;
};

// The Stat a client sees for `n` (DataNode.copyStat).
inline proto::Stat ToStat(const Node& n) {
  proto::Stat s;
  s.czxid = n.stat.czxid;
  s.mzxid = n.stat.mzxid;
  s.ctime = n.stat.ctime;
  s.mtime = n.stat.mtime;
  s.version = n.stat.version;
  s.aversion = n.stat.aversion;
  s.ephemeralOwner = n.kind == NodeKind::kEphemeral ? n.stat.ephemeral_owner : 0;
  s.dataLength = static_cast<int32_t>(n.data.size());
  s.numChildren = static_cast<int32_t>(n.children.size());
  s.cversion = n.stat.cversion * 2 - s.numChildren;
  s.pzxid = n.stat.pzxid;
  return s;
}

}  // namespace aviary::tree
