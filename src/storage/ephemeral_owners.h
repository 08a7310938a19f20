// Recovery invariant: every ephemeral node's owner is a live session (a
// session is live from its createSession's apply to its closeSession's).
// An ephemeral whose owner is not live would never be deleted: no session
// can expire or close it, so a lock held through it stays held forever.
//
// CheckEphemeralOwners runs at the end of storage::Recover, over the
// recovered tree and session list. On a violation it fails recovery with an
// error naming the orphaned paths and their owners, unless opts.repair: then
// each missing owner is added to the recovered sessions with timeout_ms 0
// ("unknown"; the server gives it its minimum session timeout), so the
// ephemerals are deleted by that session's expiry, a logged closeSession
// txn like any other, and the repair is reported in warnings.
// Pure functions of their arguments (no I/O); single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/recovery.h"
#include "tree/data_tree.h"

namespace aviary::storage {

struct OrphanEphemerals {
  std::vector<int64_t> owners;     // sorted, unique
  std::vector<std::string> paths;  // sorted by owner, then path
  bool empty() const { return owners.empty(); }
};

// `sessions` need not be sorted.
OrphanEphemerals FindOrphanEphemerals(const tree::DataTree& tree, const std::vector<SessionRecord>& sessions);

// "3 ephemeral nodes owned by 2 sessions that are not live: /a (session
// 0x...), ..." listing at most max_paths paths.
std::string DescribeOrphans(const tree::DataTree& tree, const OrphanEphemerals& o, size_t max_paths = 10);

// See the header comment. r->sessions must be the final session list; on a
// violation sets r->orphan_owners; returns false (with r->error) unless repair.
bool CheckEphemeralOwners(const RecoveryOptions& opts, const tree::DataTree& tree, RecoveryResult* r);

}  // namespace aviary::storage
