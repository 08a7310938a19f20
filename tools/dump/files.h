// aviary-dump: small file helpers (copy with optional length cap, temporary
// directories, recursive removal, emptiness checks, fsync). Errors are
// returned as text naming the path. Single-threaded use; no global state.
#pragma once

#include <cstdint>
#include <string>

namespace aviary::dump {

// Copies `from` to `to` (created/truncated, mode 0644). max_bytes >= 0 caps
// the copy at that many bytes. fsyncs the new file. *copied = bytes written.
bool CopyFile(const std::string& from, const std::string& to, int64_t max_bytes, int64_t* copied, std::string* error);
// mkdtemp under $TMPDIR (or /tmp) with the given prefix.
bool MakeTempDir(const std::string& prefix, std::string* dir, std::string* error);
// rm -rf (best effort).
void RemoveTree(const std::string& path);
// true if `path` does not exist or is an empty directory.
bool IsMissingOrEmptyDir(const std::string& path);
bool IsDir(const std::string& path);
bool TruncateFile(const std::string& path, int64_t size, std::string* error);
bool WriteFileDurably(const std::string& path, const std::string& content, std::string* error);
bool ReadWholeFile(const std::string& path, std::string* out, std::string* error);
// CRC-32C of a whole file.
bool FileCrc(const std::string& path, uint32_t* crc, int64_t* size, std::string* error);
std::string BaseName(const std::string& path);

}  // namespace aviary::dump
