// On-disk layout shared by the WAL, snapshots, recovery and the dump tool:
// files live in <dir>/version-2/ as log.<zxid> and snapshot.<zxid>, the zxid
// written as 16 lowercase hex digits (ZooKeeper's unpadded names parse too,
// so that a ZooKeeper file is found and then rejected by its magic with a
// clear error). Also small POSIX helpers (mkdir -p, directory fsync).
// Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aviary::storage {

std::string VersionDir(const std::string& dir);  // dir + "/version-2"
std::string SegmentName(int64_t zxid);           // "log.00000000000000ff"
std::string SnapshotName(int64_t zxid);          // "snapshot.00000000000000ff"
// Accept "log.<1..16 hex digits>" / "snapshot.<1..16 hex>" exactly (no
// suffix such as ".tmp").
bool ParseSegmentName(std::string_view name, int64_t* zxid);
bool ParseSnapshotName(std::string_view name, int64_t* zxid);

struct FileEntry {
  int64_t zxid = 0;  // from the name
  std::string path;  // full path
  int64_t size = 0;  // bytes on disk (st_size)
};
// Files in VersionDir(dir), sorted by zxid ascending. Empty when the
// directory does not exist.
std::vector<FileEntry> ListSegments(const std::string& dir);
std::vector<FileEntry> ListSnapshots(const std::string& dir);

// mkdir -p; true if it exists afterwards.
bool EnsureDir(const std::string& path, std::string* error);
// open(O_DIRECTORY) + fsync, so that creates/renames/unlinks in it are durable.
bool FsyncDir(const std::string& path, std::string* error);
// Replaces `path` with `content` atomically and durably: writes
// <path>.tmp, fsyncs it, renames it over `path` and fsyncs the directory.
// After a crash the file holds either the old or the new content (a stale
// <path>.tmp may be left behind; readers ignore it).
bool WriteFileAtomic(const std::string& path, std::string_view content, std::string* error);
// Reads a whole small file (at most max_bytes). *missing (optional) is set
// when it does not exist (then false with *error set as well).
bool ReadSmallFile(const std::string& path, size_t max_bytes, std::string* out, bool* missing, std::string* error);
// "<what> <path>: <strerror(err)>"
std::string ErrnoText(const std::string& what, const std::string& path, int err);

}  // namespace aviary::storage
