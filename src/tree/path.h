// ZooKeeper path rules (PathUtils.validatePath) and path splitting helpers.
// Pure functions, thread-safe. Paths are the raw UTF-8 bytes from the wire;
// validation decodes them the way a Java server sees them (malformed UTF-8
// becomes U+FFFD, characters above U+FFFF become surrogates), so the same
// paths are rejected as by ZooKeeper 3.8.
#pragma once

#include <string_view>

#include "proto/codes.h"

namespace aviary::tree {

// kOk or kBadArguments. `sequential` validates `path + "1"` (the client-side
// check for a sequential create whose name may end in '/').
proto::Err ValidatePath(std::string_view path, bool sequential);

// Text before the last '/': "/a/b" -> "/a", "/a" -> "" (the root's alias).
// Precondition: path contains '/'.
std::string_view ParentOf(std::string_view path);

// Text after the last '/': "/a/b" -> "b".
std::string_view BaseName(std::string_view path);

// "" and "/" both name the root; everything else maps to itself.
inline std::string_view NormalizeRoot(std::string_view path) { return path.empty() ? std::string_view("/") : path; }

}  // namespace aviary::tree
