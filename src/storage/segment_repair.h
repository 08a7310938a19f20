// Internal file surgery for recovery and retention: truncate a segment
// (durably), cut the log at a point for repair, and purge old files.
// Single-threaded, file I/O only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/layout.h"

namespace aviary::storage {

// truncate(path, size) + fsync.
bool TruncateFile(const std::string& path, int64_t size, std::string* error);
// Repair: copies segs[i] to <path>.corrupt, truncates it at `offset`, and
// renames every later segment to <path>.discarded. Returns warning lines.
std::vector<std::string> CutLog(const std::vector<FileEntry>& segs, size_t i, int64_t offset);

}  // namespace aviary::storage
