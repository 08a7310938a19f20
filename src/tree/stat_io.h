// The jute encoding of a znode's StatPersisted (zookeeper.jute: czxid, mzxid,
// ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid), shared by
// Aviary's snapshot records (storage/snapshot_node.cc) and ZooKeeper's
// snapshot body (zkformat/snapshot.cc). Pure; header-only.
#pragma once

#include "proto/jute.h"
#include "tree/node.h"

namespace aviary::tree {

inline void WriteStatPersisted(proto::jute::Writer& w, const StatPersisted& s) {
  w.WriteInt64(s.czxid);
  w.WriteInt64(s.mzxid);
  w.WriteInt64(s.ctime);
  w.WriteInt64(s.mtime);
  w.WriteInt32(s.version);
  w.WriteInt32(s.cversion);
  w.WriteInt32(s.aversion);
  w.WriteInt64(s.ephemeral_owner);
  w.WriteInt64(s.pzxid);
}

}  // namespace aviary::tree
