// Creates the nodes a benchmark run needs, through one blocking session:
// the root path (and its ancestors), then either a fresh parent for
// sequential creates or `keys` nodes holding `payload` bytes. Existing nodes
// are reused (NodeExists is fine), so repeated runs pay for this once.
#pragma once

#include <string>
#include <vector>

#include "options.h"

namespace aviary::bench {

// On success: for the create workload *create_prefix is "<parent>/n-";
// otherwise *key_paths lists the key nodes.
bool PrepareNodes(const Options& o, const Endpoint& ep, const std::string& payload, std::vector<std::string>* key_paths,
                  std::string* create_prefix, std::string* error);

}  // namespace aviary::bench
