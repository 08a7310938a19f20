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

inline void ReadStatPersisted(proto::jute::Reader& r, StatPersisted* s) {
  s->czxid = r.ReadInt64();
  s->mzxid = r.ReadInt64();
  s->ctime = r.ReadInt64();
  s->mtime = r.ReadInt64();
  s->version = r.ReadInt32();
  s->cversion = r.ReadInt32();
  s->aversion = r.ReadInt32();
  s->ephemeral_owner = r.ReadInt64();
  s->pzxid = r.ReadInt64();
}

}  // namespace aviary::tree
