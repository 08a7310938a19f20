#include "storage/ephemeral_owners.h"

#include <fmt/core.h>

#include <algorithm>
#include <unordered_set>

#include "base/log.h"

namespace aviary::storage {

OrphanEphemerals FindOrphanEphemerals(const tree::DataTree& tree, const std::vector<SessionRecord>& sessions) {
  std::unordered_set<int64_t> live;
  for (const SessionRecord& s : sessions) live.insert(s.id);
  OrphanEphemerals out;
  for (int64_t owner : tree.SessionsWithEphemerals()) {  // sorted
    if (live.contains(owner)) continue;
    out.owners.push_back(owner);
    for (std::string& p : tree.EphemeralsOf(owner)) out.paths.push_back(std::move(p));
  }
  return out;
}

std::string DescribeOrphans(const tree::DataTree& tree, const OrphanEphemerals& o, size_t max_paths) {
  std::string s =
      fmt::format("{} ephemeral node(s) owned by {} session(s) that are not live:", o.paths.size(), o.owners.size());
  const size_t n = std::min(max_paths, o.paths.size());
  for (size_t i = 0; i < n; ++i) {
    const tree::Node* node = tree.Find(o.paths[i]);
    s += fmt::format("{} {} (session {:#x})", i == 0 ? "" : ",", o.paths[i],
                     node != nullptr ? node->ephemeral_owner() : 0);
  }
  if (n < o.paths.size()) s += fmt::format(", and {} more", o.paths.size() - n);
  return s;
}

bool CheckEphemeralOwners(const RecoveryOptions& opts, const tree::DataTree& tree, RecoveryResult* r) {
  const OrphanEphemerals o = FindOrphanEphemerals(tree, r->sessions);
  if (o.empty()) return true;
  r->orphan_owners = o.owners;
  const std::string what = DescribeOrphans(tree, o);
  if (!opts.repair) {
    r->error = "recovered state breaks an invariant: " + what +
               ". No session would ever delete them. Start with --repair to restore each owner as a session that "
               "expires after the minimum session timeout, deleting its ephemerals through a logged closeSession";
    return false;
  }
  AV_LOG(kError, "recovery REPAIR: {}; restoring their owners as sessions that expire at once", what);
  r->warnings.push_back("repair: " + what + "; their owners are restored as sessions that expire at once");
  for (int64_t owner : o.owners) r->sessions.push_back(SessionRecord{owner, 0});
  std::sort(r->sessions.begin(), r->sessions.end(),
            [](const SessionRecord& a, const SessionRecord& b) { return a.id < b.id; });
  return true;
}

}  // namespace aviary::storage
