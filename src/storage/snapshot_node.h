// Internal: encoding of one snapshot node record body (docs/format/snapshot.md),
// shared by SnapshotBuilder and SnapshotReader. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "proto/records.h"
#include "tree/node.h"

namespace aviary::storage::snapnode {

// Appends the body (without tag and length).
void EncodeBody(const std::string& path, const tree::Node& n, const proto::AclList& acl, std::string* out);
// Parses a body; false unless it is exactly one valid body.
bool DecodeBody(std::string_view body, std::string* path, tree::Node* n, proto::AclList* acl);

}  // namespace aviary::storage::snapnode
