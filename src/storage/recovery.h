// Startup recovery and retention: load the newest valid snapshot, replay
// the WAL after it, repair a torn tail; Purge old files. Runs before the
// server starts (single-threaded, does file I/O). Readers for the dump tool
// are in layout.h (listing), wal_reader.h (segments) and snapshot_reader.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storage/digest.h"
#include "storage/layout.h"
#include "storage/snapshot.h"
#include "storage/snapshot_reader.h"
#include "storage/wal_reader.h"
#include "tree/data_tree.h"
#include "txn/state_machine.h"

namespace aviary::storage {

struct RecoveryOptions {
  std::string snap_dir;                            // dataDir
  std::string log_dir;                             // dataLogDir
  bool repair = false;                             // skip corrupt parts instead of failing (logged loudly)
  std::function<void(std::string_view)> progress;  // every 100k nodes / txns
};

struct RecoveryResult {
  bool ok = false;
  std::string error;                    // names file and byte offset on corruption
  int64_t last_zxid = 0;                // highest zxid now reflected in the tree
  int64_t snapshot_zxid = -1;           // -1: no snapshot used
  std::vector<SessionRecord> sessions;  // snapshot's + createSession - closeSession, sorted by id
  size_t nodes_loaded = 0, txns_replayed = 0;
  std::vector<std::string> warnings;  // e.g. torn tail truncated: file, offset, bytes
  // Owners of ephemerals that were not live sessions (ephemeral_owners.h):
  // the error when !repair; with repair they are in `sessions` (timeout 0).
  std::vector<int64_t> orphan_owners;
  // The loaded snapshot's swept paths by closeSession zxid (replayed with it).
  std::map<int64_t, std::vector<std::string>> swept;
};

// `sm` (its tree) must be freshly constructed. First completes a log
// truncation interrupted by a crash (a truncate.pending marker:
// wal_truncate.h). Loads the newest snapshot whose
// checksum verifies (falling back to older valid ones; if every snapshot is
// invalid and the logs do not start at zxid 1 that is an error unless
// repair), then replays every log record with zxid > snapshot zxid in order
// (txn::StateMachine::Apply in fuzzy mode; strict again afterwards, with
// the sessions and last zxid recovered). A torn tail in the LAST segment is truncated in place and
// reported in warnings; a bad record anywhere else is an error naming file
// + offset, unless repair (then: replay stops there, the segment is copied
// to <name>.corrupt and truncated, later segments are renamed
// <name>.discarded, warnings say so). zxids must be contiguous across
// records and segments (a jump to a higher epoch, zxid >> 32, is allowed).
// Leftover snapshot.*.tmp files are removed. Last, the recovered state must
// have no ephemeral whose owner is not a live session (CheckEphemeralOwners
// in ephemeral_owners.h: an error naming the paths unless repair).
RecoveryResult Recover(const RecoveryOptions& opts, txn::StateMachine* sm);
// The same into a bare tree (the sessions are only in the result).
RecoveryResult Recover(const RecoveryOptions& opts, tree::DataTree* tree);

// Keeps the newest `retain` snapshots (at least 3) and the log segments
// needed to replay from the oldest kept one; deletes older ones.
void Purge(const std::string& snap_dir, const std::string& log_dir, int retain);

}  // namespace aviary::storage
