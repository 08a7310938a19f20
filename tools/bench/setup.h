// Creates the nodes a benchmark run needs, through one blocking session:
// the root path (and its ancestors), then per workload: `keys` nodes holding
// `payload` bytes (get/set/exists/mixed/multi/sweep, reused across runs),
// fresh parents for create (`parents` of them) and create-delete, fresh
// victims for delete, a parent with `children` children (reused), a fresh
// node for watch, a fresh parent for churn. NodeExists is fine for reused
// nodes, so repeated runs pay for them once.
#pragma once

#include <string>
#include <vector>

#include "options.h"
#include "plan.h"

namespace aviary::bench {

// Fills plan->key_paths, create_prefixes and parent as the workload needs.
bool PrepareNodes(const Options& o, const Endpoint& ep, const std::string& payload, Plan* plan, std::string* error);

// Deletes every child of `path` (create-delete: a node whose delete was
// never sent when the run stopped). False with *error on failure.
bool DeleteChildren(const Options& o, const Endpoint& ep, const std::string& path, std::string* error);

// Number of children of `path` (-1 with *error on failure).
int64_t CountChildren(const Options& o, const Endpoint& ep, const std::string& path, std::string* error);

}  // namespace aviary::bench
