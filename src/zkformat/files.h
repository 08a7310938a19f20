// ZooKeeper's data files (docs/format/zookeeper.md):
//  - snapshot.<hex zxid> (FileSnap, SnapStream CHECKED mode): FileHeader
//    {int magic "ZKSN", int version 2, long dbid -1}, the snapshot body
//    (snapshot.h), a seal {long Adler-32 of every byte before it, ustring
//    "/"}, then (3.6+, digest enabled) ZxidDigest {long zxid, int version,
//    long digest} and a second seal over every byte before it.
//  - log.<hex zxid> (FileTxnLog): FileHeader {"ZKLG", 2, dbid}, then per
//    txn {long Adler-32 of the txn bytes, int length, txn bytes
//    (txn_codec.h), byte 'B'}; a length of 0 (the preallocated zero tail)
//    or the end of the file ends the log.
// Files are read whole into memory (bounded by their size); every length
// inside is checked. Gzip/snappy snapshots (snapshot.<zxid>.gz/.snappy) are
// not read. Single-threaded; does file I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/snapshot.h"
#include "tree/data_tree.h"
#include "zkformat/snapshot.h"

namespace aviary::zkformat {

inline constexpr int32_t kSnapMagic = 0x5a4b534e;  // "ZKSN"
inline constexpr int32_t kLogMagic = 0x5a4b4c47;   // "ZKLG"
inline constexpr int32_t kFileVersion = 2;

// DataTree.ZxidDigest: the tree digest at `zxid` (0 = none recorded).
struct ZxidDigest {
  int64_t zxid = 0;
  int32_t version = 2;
  int64_t digest = 0;
};

struct ZkSnapshot {
  int64_t dbid = 0;
  std::vector<storage::SessionRecord> sessions;
  std::optional<ZxidDigest> digest;  // absent in pre-3.6 snapshots
  uint64_t nodes = 0;
};

// Loads `path` into `tree` (freshly constructed). false + *error (naming
// file and offset) on any malformation or checksum mismatch; the checksum
// is checked after the nodes are loaded, so on false `tree` holds a partial
// load and must be discarded.
bool ReadZkSnapshotFile(const std::string& path, tree::DataTree* tree, ZkSnapshot* out, std::string* error,
                        SnapshotLimits limits = {});

// The same over the file's bytes; `path` names it in messages.
bool ParseZkSnapshot(std::string_view bytes, const std::string& path, tree::DataTree* tree, ZkSnapshot* out,
                     std::string* error, SnapshotLimits limits = {});

// Writes `dir`/snapshot.<hex zxid> (dir = a version-2 directory, created
// if missing) for `tree` + `sessions`, with the digest section {zxid,
// 2, TreeDigestOf(tree)}: tmp file, fsync, rename, directory fsync.
bool WriteZkSnapshotFile(const std::string& dir, int64_t zxid, const tree::DataTree& tree,
                         const std::vector<storage::SessionRecord>& sessions, std::string* error);

struct ZkLogRecord {
  int64_t offset = 0;  // of the record's checksum field in the file
  std::string bytes;   // the txn bytes (txn_codec.h)
};

struct ZkLog {
  int64_t dbid = 0;
  std::vector<ZkLogRecord> records;
  // The data ended in a partial record (a crash while appending; ZooKeeper
  // stops reading there too): where and why. Empty when the log ends cleanly.
  std::string torn_tail;
};

// false + *error for a bad header or a record whose checksum mismatches.
bool ReadZkLogFile(const std::string& path, ZkLog* out, std::string* error, uint32_t max_record_bytes = 256u << 20);

bool ParseZkLog(std::string_view bytes, const std::string& path, ZkLog* out, std::string* error,
                uint32_t max_record_bytes = 256u << 20);

// Writes `dir`/log.<hex first_zxid> (dir = a version-2 directory) holding
// `txns` (each the bytes of one txn, txn_codec.h) as FileTxnLog writes
// them, without the preallocated tail; fsynced. For tests and tools that
// hand Aviary's history to a ZooKeeper server.
bool WriteZkLogFile(const std::string& dir, int64_t first_zxid, const std::vector<std::string>& txns,
                    std::string* error);

// "log.<hex>" / "snapshot.<hex>" as ZooKeeper names them (unpadded hex).
std::string ZkLogName(int64_t zxid);
std::string ZkSnapshotName(int64_t zxid);

}  // namespace aviary::zkformat
