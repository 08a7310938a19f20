// Order-independent 64-bit digest of a tree's content: every node's path,
// data (and null flag), ACL list, persisted stat, kind and TTL. Two trees
// with equal digests have (with overwhelming probability) equal content.
// For tests and backup verification; pure, reads the tree only.
#pragma once

#include <cstdint>

#include "tree/data_tree.h"

namespace aviary::storage {

uint64_t TreeDigest(const tree::DataTree& tree);

}  // namespace aviary::storage
